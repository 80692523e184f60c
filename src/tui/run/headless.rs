//! The interface drawn off screen, driven by a scripted tour (`parla demo --script`, CI
//! recordings).

use std::io::Write;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::sync::mpsc;

use super::{io_error, Input, Runtime};
use crate::tui::cast::CastWriter;
use crate::tui::TuiError;

/// Plays a scripted tour in an interface drawn off screen (`cols` x `rows`), recording it
/// when `cast` is given. Fails when an `expect` step does not see its text in time.
pub async fn headless(
    rt: &mut Runtime,
    script: crate::tui::script::Script,
    cols: u16,
    rows: u16,
    cast: Option<&std::path::Path>,
) -> Result<(), TuiError> {
    let writer: Box<dyn Write + Send> = match cast {
        Some(path) => Box::new(
            CastWriter::create(path, std::io::sink(), cols, rows, "parla demo")
                .map_err(|e| io_error(&format!("cannot write {}", path.display()), e))?,
        ),
        None => Box::new(std::io::sink()),
    };
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(writer),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, cols, rows)),
        },
    )
    .map_err(|e| io_error("cannot start drawing", e))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (screens_tx, mut screens) = tokio::sync::watch::channel(String::new());
    let player = tokio::spawn(async move {
        use crate::tui::script::{Player, PlayerStep};
        let mut player = Player::new(script);
        loop {
            let screen = screens.borrow_and_update().clone();
            let step = player.next(&screen, std::time::Instant::now());
            for name in player.take_snapshots() {
                tracing::info!(snapshot = %name, %screen, "tour");
            }
            match step {
                PlayerStep::Press(key) => {
                    if tx.send(Input::Term(TermEvent::Key(key))).is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
                PlayerStep::Sleep(d) => {
                    // Wake early when the screen changes (an `expect` may be met).
                    let _ = tokio::time::timeout(d, screens.changed()).await;
                }
                PlayerStep::Done => {
                    let _ = tx.send(Input::Done(None));
                    return;
                }
                PlayerStep::Failed(m) => {
                    let _ = tx.send(Input::Done(Some(m)));
                    return;
                }
            }
        }
    });
    let result = rt.run(&mut terminal, &mut rx, Some(screens_tx)).await;
    player.abort();
    let _ = terminal.flush();
    if result.is_err() {
        tracing::warn!(screen = %rt.screen, "the tour stopped here");
    }
    result.map_err(TuiError::Script)
}
