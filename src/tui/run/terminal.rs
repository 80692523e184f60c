//! The interface in a real terminal: raw mode and the alternate screen (restored on the
//! way out, a panic included), keys read on a thread, standard error kept off the screen.

use std::io::Write;
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::{io_error, start_client, Input, Look, Runtime};
use crate::settings;
use crate::tui::cast::CastWriter;
use crate::tui::{Launch, TuiError};

/// Puts the terminal into the interface's mode and back, also when a panic unwinds.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> std::io::Result<TerminalGuard> {
        use ratatui::crossterm::{event, execute, terminal};
        terminal::enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            event::EnableMouseCapture,
            event::EnableBracketedPaste
        )?;
        // Where the terminal speaks the kitty keyboard protocol, keys come unambiguous:
        // shift-enter is not enter, esc is not the start of alt-something.
        if matches!(terminal::supports_keyboard_enhancement(), Ok(true)) {
            execute!(
                std::io::stdout(),
                event::PushKeyboardEnhancementFlags(
                    event::KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES
                )
            )?;
            KEYBOARD_PUSHED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        Ok(guard)
    }
}

/// The kitty keyboard flags were pushed and must be popped on the way out.
static KEYBOARD_PUSHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn restore_terminal() {
    use ratatui::crossterm::{cursor, event, execute, terminal};
    if KEYBOARD_PUSHED.swap(false, std::sync::atomic::Ordering::SeqCst) {
        let _ = execute!(std::io::stdout(), event::PopKeyboardEnhancementFlags);
    }
    let _ = execute!(
        std::io::stdout(),
        event::DisableBracketedPaste,
        event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Reads terminal input on a thread of its own (reading blocks) until the loop goes away.
fn read_terminal(tx: mpsc::UnboundedSender<Input>) {
    std::thread::spawn(move || {
        use ratatui::crossterm::event;
        while !tx.is_closed() {
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(Input::Term(ev)).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                },
                Ok(false) => {}
                Err(_) => break,
            }
        }
    });
}

/// While the interface owns the terminal, whatever writes to standard error (C libraries
/// such as ALSA print there) goes to the log file instead; restored on drop.
struct StderrToLog {
    saved: Option<std::os::fd::OwnedFd>,
}

impl StderrToLog {
    fn redirect() -> StderrToLog {
        let dir = settings::log_dir();
        let file = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("stderr.log"))
        });
        let Ok(file) = file else {
            return StderrToLog { saved: None };
        };
        StderrToLog {
            saved: crate::sys::redirect_stderr(&file),
        }
    }
}

impl Drop for StderrToLog {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            crate::sys::restore_stderr(saved);
        }
    }
}

/// `parla` with no subcommand: the interface in this terminal.
pub async fn interactive(launch: &Launch) -> Result<(), TuiError> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return Err(TuiError::Usage(
            "the interface needs a terminal; for scripts use the subcommands (see `parla --help`)"
                .into(),
        ));
    }
    let file = settings::load_file(&launch.settings)?;
    let look = Look::from_config(&launch.settings, &file);
    let (client, events) = start_client(&launch.settings)?;
    let mut rt = Runtime::new(look, client.clone(), events, &file.audio.bind);
    let _ = rt.serve_ctl(crate::ctl::default_socket_path()).await;
    let result = in_terminal(&mut rt, launch.record_cast.as_deref()).await;
    client.shutdown().await;
    result
}

/// Runs a prepared interface in this terminal until the user quits.
pub async fn in_terminal(rt: &mut Runtime, cast: Option<&std::path::Path>) -> Result<(), TuiError> {
    let (width, height) =
        ratatui::crossterm::terminal::size().map_err(|e| io_error("no terminal size", e))?;
    let guard = TerminalGuard::enter().map_err(|e| io_error("cannot set up the terminal", e))?;
    let stderr = StderrToLog::redirect();
    let writer: Box<dyn Write + Send> = match cast {
        Some(path) => {
            let writer = CastWriter::create(path, std::io::stdout(), width, height, "parla")
                .map_err(|e| io_error(&format!("cannot write {}", path.display()), e))?;
            rt.cast = Some(writer.handle());
            Box::new(writer)
        }
        None => Box::new(std::io::stdout()),
    };
    let mut terminal = Terminal::new(CrosstermBackend::new(writer))
        .map_err(|e| io_error("cannot start drawing", e))?;
    let _ = terminal.clear();
    let (tx, mut rx) = mpsc::unbounded_channel();
    read_terminal(tx);
    let result = rt.run(&mut terminal, &mut rx, None).await;
    let _ = terminal.flush();
    drop(terminal);
    drop(stderr);
    drop(guard);
    result.map_err(TuiError::Io)
}
