//! Scripted tours for `parla demo --script`: keys with delays, played into the interface.
//!
//! A tour is a text file with one step per line. Blank lines and lines starting with `#`
//! are ignored (there are no comments at the end of a line: `#` is a key, and `type`
//! types it). The steps:
//!
//! | step                     | what it does                                                |
//! |--------------------------|-------------------------------------------------------------|
//! | `key <KEY> [<KEY> ...]`  | presses keys, written as in keymaps: `tab`, `ctrl-d`, `?`    |
//! | `type <text>`            | types the rest of the line literally, one key per character |
//! | `wait <ms>`              | pauses                                                      |
//! | `expect <text>`          | waits until the screen shows the text, up to the timeout    |
//! | `expect-timeout <ms>`    | sets that timeout (default 10000)                           |
//! | `pace <ms>`              | the pause after every key press (default 80)                |
//! | `snapshot <name>`        | marks a point of interest (the runner may log or mark it)   |
//! | `quit`                   | ends the tour (so does the end of the file)                 |
//!
//! Times are milliseconds, written as a whole number (`500` or `500ms`). Key names are
//! those of [`Key::parse`]: a single character, or enter, esc, tab, backtab, up, down,
//! left, right, pageup, pagedown, home, end, backspace, delete, insert, space, f1-f12, with
//! optional `ctrl-`, `alt-` and `shift-` prefixes.
//!
//! ```text
//! # Wait for the server, then say hello in the first channel.
//! expect-timeout 15000
//! pace 100
//! expect Connected
//! key enter
//! key i
//! type Hello, world!
//! key enter esc
//! wait 1000
//! snapshot sent
//! key ctrl-c
//! ```
//!
//! [`parse`] reads a tour, [`Player`] plays it without doing any input or output itself:
//! it is given the screen's text and the time, and says which key to press next or how
//! long to sleep.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::Key;

/// One step of a tour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Press these keys, in order.
    Keys(Vec<Key>),
    /// Type this text, one key press per character.
    Type(String),
    /// Pause.
    Wait(Duration),
    /// Wait until the screen shows this text.
    Expect(String),
    /// How long later `expect` steps wait.
    ExpectTimeout(Duration),
    /// The pause after every key press from here on.
    Pace(Duration),
    /// A point of interest.
    Snapshot(String),
    /// The end of the tour.
    Quit,
}

/// A parsed tour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub steps: Vec<Step>,
    /// The 1-based line each step was written on, for messages (parallel to `steps`; a
    /// script built by hand may leave it empty).
    pub lines: Vec<usize>,
}

/// A tour that could not be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The file, for [`load`].
    pub path: Option<PathBuf>,
    /// The 1-based line; 0 when the file itself could not be read.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScriptError {}

pub const DEFAULT_EXPECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_PACE: Duration = Duration::from_millis(80);
/// How often a waiting `expect` looks at the screen again.
pub const EXPECT_POLL: Duration = Duration::from_millis(50);

/// Parses a tour.
pub fn parse(text: &str) -> Result<Script, ScriptError> {
    let mut script = Script::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |message: String| ScriptError {
            path: None,
            line,
            message,
        };
        let content = raw.trim_start();
        if content.trim_end().is_empty() || content.starts_with('#') {
            continue;
        }
        let (word, rest) = match content.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r),
            None => (content, ""),
        };
        let arg = rest.trim();
        let step = match word {
            "key" | "keys" => {
                if arg.is_empty() {
                    return Err(err("`key` needs at least one key".into()));
                }
                let keys = arg
                    .split_whitespace()
                    .map(Key::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(err)?;
                Step::Keys(keys)
            }
            // The rest of the line after one space, literally.
            "type" => {
                if rest.is_empty() {
                    return Err(err("`type` needs text to type".into()));
                }
                Step::Type(rest.to_owned())
            }
            "wait" => Step::Wait(millis(word, arg).map_err(err)?),
            "expect" => Step::Expect(text_arg(word, arg).map_err(err)?),
            "expect-timeout" => Step::ExpectTimeout(millis(word, arg).map_err(err)?),
            "pace" => Step::Pace(millis(word, arg).map_err(err)?),
            "snapshot" => Step::Snapshot(text_arg(word, arg).map_err(err)?),
            "quit" => {
                if !arg.is_empty() {
                    return Err(err(format!("`quit` takes nothing, not `{arg}`")));
                }
                Step::Quit
            }
            other => {
                return Err(err(format!(
                    "unknown step `{other}` (key, type, wait, expect, expect-timeout, pace, \
                     snapshot, quit)"
                )))
            }
        };
        script.steps.push(step);
        script.lines.push(line);
    }
    Ok(script)
}

fn millis(word: &str, arg: &str) -> Result<Duration, String> {
    let digits = arg.strip_suffix("ms").unwrap_or(arg).trim_end();
    digits
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| {
            if arg.is_empty() {
                format!("`{word}` needs a time in milliseconds")
            } else {
                format!("`{word}` needs a time in milliseconds, not `{arg}`")
            }
        })
}

fn text_arg(word: &str, arg: &str) -> Result<String, String> {
    if arg.is_empty() {
        Err(format!("`{word}` needs text"))
    } else {
        Ok(arg.to_owned())
    }
}

/// Reads and parses a tour file.
pub fn load(path: &Path) -> Result<Script, ScriptError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScriptError {
        path: Some(path.to_owned()),
        line: 0,
        message: e.to_string(),
    })?;
    parse(&text).map_err(|e| ScriptError {
        path: Some(path.to_owned()),
        ..e
    })
}

/// The key event the terminal would deliver for a keymap key.
pub fn key_event(key: &Key) -> KeyEvent {
    let mut modifiers = KeyModifiers::NONE;
    if key.ctrl {
        modifiers |= KeyModifiers::CONTROL;
    }
    if key.alt {
        modifiers |= KeyModifiers::ALT;
    }
    if key.shift {
        modifiers |= KeyModifiers::SHIFT;
    }
    let mut chars = key.name.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => {
            // Terminals report a shifted letter as the capital, with shift.
            if key.shift && c.is_lowercase() {
                let mut upper = c.to_uppercase();
                match (upper.next(), upper.next()) {
                    (Some(u), None) => KeyCode::Char(u),
                    _ => KeyCode::Char(c),
                }
            } else {
                if c.is_uppercase() {
                    modifiers |= KeyModifiers::SHIFT;
                }
                KeyCode::Char(c)
            }
        }
        _ => match key.name.to_ascii_lowercase().as_str() {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => {
                modifiers |= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            "space" => KeyCode::Char(' '),
            name => match name.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                Some(n @ 1..=12) => KeyCode::F(n),
                _ => KeyCode::Null,
            },
        },
    };
    KeyEvent::new(code, modifiers)
}

/// The key event for one typed character.
fn char_event(c: char) -> KeyEvent {
    match c {
        '\t' => KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE),
        c => key_event(&Key {
            ctrl: false,
            alt: false,
            shift: false,
            name: c.to_string(),
        }),
    }
}

/// What the runner should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayerStep {
    /// Deliver this key to the interface (then draw, and ask again).
    Press(KeyEvent),
    /// Nothing to do for this long (or until the screen changes, for an `expect`).
    Sleep(Duration),
    /// The tour is over.
    Done,
    /// An `expect` timed out; the message says which text, and on which line.
    Failed(String),
}

/// Plays a [`Script`]: sans-IO, the runner passes in the screen's text and the time.
#[derive(Debug, Clone)]
pub struct Player {
    script: Script,
    /// The next step to start.
    index: usize,
    /// Presses left of the current `key` or `type` step.
    queue: VecDeque<KeyEvent>,
    pace: Duration,
    expect_timeout: Duration,
    /// Nothing happens before this (a press's pace, or a `wait`).
    resume_at: Option<Instant>,
    /// When the current `expect` started looking.
    expect_since: Option<Instant>,
    /// Snapshots passed and not yet taken by the runner.
    snapshots: Vec<String>,
    /// Set once the tour is over; returned from then on.
    finished: Option<PlayerStep>,
}

impl Player {
    pub fn new(script: Script) -> Player {
        Player {
            script,
            index: 0,
            queue: VecDeque::new(),
            pace: DEFAULT_PACE,
            expect_timeout: DEFAULT_EXPECT_TIMEOUT,
            resume_at: None,
            expect_since: None,
            snapshots: Vec::new(),
            finished: None,
        }
    }

    /// What to do now, given what the screen shows.
    pub fn next(&mut self, screen_text: &str, now: Instant) -> PlayerStep {
        loop {
            if let Some(done) = &self.finished {
                return done.clone();
            }
            if let Some(at) = self.resume_at {
                if now < at {
                    return PlayerStep::Sleep(at - now);
                }
                self.resume_at = None;
            }
            if let Some(event) = self.queue.pop_front() {
                if !self.pace.is_zero() {
                    self.resume_at = Some(now + self.pace);
                }
                return PlayerStep::Press(event);
            }
            let Some(step) = self.script.steps.get(self.index) else {
                self.finished = Some(PlayerStep::Done);
                continue;
            };
            match step {
                Step::Keys(keys) => self.queue.extend(keys.iter().map(key_event)),
                Step::Type(text) => self.queue.extend(text.chars().map(char_event)),
                Step::Wait(d) => {
                    if !d.is_zero() {
                        self.resume_at = Some(now + *d);
                    }
                }
                Step::Expect(text) => {
                    let since = *self.expect_since.get_or_insert(now);
                    if !screen_text.contains(text.as_str()) {
                        let waited = now.saturating_duration_since(since);
                        if waited >= self.expect_timeout {
                            let message = format!(
                                "{}`{text}` did not appear on the screen within {} ms",
                                self.line_prefix(self.index),
                                self.expect_timeout.as_millis()
                            );
                            self.finished = Some(PlayerStep::Failed(message));
                            continue;
                        }
                        return PlayerStep::Sleep(
                            EXPECT_POLL.min(self.expect_timeout.saturating_sub(waited)),
                        );
                    }
                    self.expect_since = None;
                }
                Step::ExpectTimeout(d) => self.expect_timeout = *d,
                Step::Pace(d) => self.pace = *d,
                Step::Snapshot(name) => self.snapshots.push(name.clone()),
                Step::Quit => {
                    self.finished = Some(PlayerStep::Done);
                    continue;
                }
            }
            self.index += 1;
        }
    }

    /// The names of the `snapshot` steps passed since the last call, in order.
    pub fn take_snapshots(&mut self) -> Vec<String> {
        std::mem::take(&mut self.snapshots)
    }

    /// The line of the step being played (or last played), when known.
    pub fn line(&self) -> Option<usize> {
        let i = self.index.min(self.script.steps.len().saturating_sub(1));
        self.script.lines.get(i).copied()
    }

    /// Whether the tour is over (done or failed).
    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }

    fn line_prefix(&self, index: usize) -> String {
        match self.script.lines.get(index) {
            Some(line) => format!("line {line}: "),
            None => String::new(),
        }
    }
}

/// The tour `parla demo --script` plays by default (shipped as `scripts/demo.tour`): chat
/// with the chat bot, call the echo bot, use the dialpad, hold and hang up, show the help.
pub const DEMO_TOUR: &str = include_str!("../../scripts/demo.tour");

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn press(code: KeyCode, modifiers: KeyModifiers) -> PlayerStep {
        PlayerStep::Press(KeyEvent::new(code, modifiers))
    }

    fn ch(c: char) -> PlayerStep {
        press(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn every_step_kind_parses() {
        let text = "\
# a comment
   # an indented comment

key tab ctrl-d ?  a
keys enter
type Hello, world! # not a comment
wait 250
wait 40ms
expect Connected to server
expect-timeout 5000
pace 0
snapshot first call
quit
";
        let script = parse(text).unwrap();
        assert_eq!(
            script.steps,
            [
                Step::Keys(vec![key("tab"), key("ctrl-d"), key("?"), key("a")]),
                Step::Keys(vec![key("enter")]),
                Step::Type("Hello, world! # not a comment".into()),
                Step::Wait(ms(250)),
                Step::Wait(ms(40)),
                Step::Expect("Connected to server".into()),
                Step::ExpectTimeout(ms(5000)),
                Step::Pace(ms(0)),
                Step::Snapshot("first call".into()),
                Step::Quit,
            ]
        );
        assert_eq!(script.lines, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        // `type` keeps inner and trailing spaces; CRLF line ends are fine.
        let script = parse("type  two  spaces \r\nquit\r\n").unwrap();
        assert_eq!(
            script.steps,
            [Step::Type(" two  spaces ".into()), Step::Quit]
        );
        assert_eq!(parse("").unwrap(), Script::default());
    }

    #[test]
    fn errors_name_the_line() {
        let err = |text: &str| parse(text).unwrap_err();
        let e = err("key tab\n\nkye tab\n");
        assert_eq!(e.line, 3);
        assert!(
            e.to_string().starts_with("line 3: unknown step `kye`"),
            "{e}"
        );
        let e = err("# tour\nkey tab enterr\n");
        assert_eq!(e.to_string(), "line 2: `enterr` is not a key");
        let e = err("key hyper-x");
        assert_eq!(e.to_string(), "line 1: `hyper-x` is not a key");
        assert!(err("key").to_string().contains("at least one key"));
        assert_eq!(
            err("wait soon").to_string(),
            "line 1: `wait` needs a time in milliseconds, not `soon`"
        );
        assert_eq!(
            err("\n\npace").to_string(),
            "line 3: `pace` needs a time in milliseconds"
        );
        assert!(err("expect-timeout -5").to_string().starts_with("line 1: "));
        assert!(err("type").to_string().contains("`type` needs text"));
        assert!(err("type ").to_string().contains("`type` needs text"));
        assert!(err("expect   ").to_string().contains("`expect` needs text"));
        assert!(err("snapshot")
            .to_string()
            .contains("`snapshot` needs text"));
        assert!(err("quit now").to_string().contains("`quit` takes nothing"));
        assert!(err("Key tab").to_string().contains("unknown step `Key`"));
    }

    #[test]
    fn load_reports_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tour.txt");
        std::fs::write(&path, "key tab\nwiat 5\n").unwrap();
        let e = load(&path).unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.path.as_deref(), Some(path.as_path()));
        assert!(e
            .to_string()
            .contains("tour.txt: line 2: unknown step `wiat`"));
        std::fs::write(&path, "key tab\n").unwrap();
        assert_eq!(load(&path).unwrap().steps, [Step::Keys(vec![key("tab")])]);
        let e = load(&dir.path().join("missing.tour")).unwrap_err();
        assert_eq!(e.line, 0);
        assert!(e
            .to_string()
            .starts_with(&format!("{}: ", dir.path().join("missing.tour").display())));
    }

    #[test]
    fn keys_become_the_events_a_terminal_sends() {
        let ev = |s: &str| key_event(&key(s));
        let none = KeyModifiers::NONE;
        assert_eq!(ev("enter"), KeyEvent::new(KeyCode::Enter, none));
        assert_eq!(ev("esc"), KeyEvent::new(KeyCode::Esc, none));
        assert_eq!(ev("tab"), KeyEvent::new(KeyCode::Tab, none));
        assert_eq!(
            ev("backtab"),
            KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)
        );
        for (name, code) in [
            ("up", KeyCode::Up),
            ("down", KeyCode::Down),
            ("left", KeyCode::Left),
            ("right", KeyCode::Right),
            ("pageup", KeyCode::PageUp),
            ("pagedown", KeyCode::PageDown),
            ("home", KeyCode::Home),
            ("end", KeyCode::End),
            ("backspace", KeyCode::Backspace),
            ("delete", KeyCode::Delete),
            ("insert", KeyCode::Insert),
            ("space", KeyCode::Char(' ')),
            ("f1", KeyCode::F(1)),
            ("f12", KeyCode::F(12)),
        ] {
            assert_eq!(ev(name), KeyEvent::new(code, none), "{name}");
        }
        assert_eq!(ev("a"), KeyEvent::new(KeyCode::Char('a'), none));
        assert_eq!(ev("?"), KeyEvent::new(KeyCode::Char('?'), none));
        assert_eq!(ev("1"), KeyEvent::new(KeyCode::Char('1'), none));
        assert_eq!(
            ev("A"),
            KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT)
        );
        assert_eq!(
            ev("shift-a"),
            KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT)
        );
        assert_eq!(
            ev("ctrl-d"),
            KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
        );
        assert_eq!(
            ev("alt-h"),
            KeyEvent::new(KeyCode::Char('h'), KeyModifiers::ALT)
        );
        assert_eq!(
            ev("ctrl-alt-delete"),
            KeyEvent::new(KeyCode::Delete, KeyModifiers::CONTROL | KeyModifiers::ALT)
        );
        assert_eq!(
            ev("shift-enter"),
            KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT)
        );
        assert_eq!(
            ev("alt-enter"),
            KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)
        );
        // A hand-made key with no such name does nothing.
        let odd = Key {
            ctrl: false,
            alt: false,
            shift: false,
            name: "f13".into(),
        };
        assert_eq!(key_event(&odd).code, KeyCode::Null);
    }

    #[test]
    fn the_interface_reads_the_events_back_as_the_same_keys() {
        let chords = [
            "a",
            "A",
            "?",
            "/",
            "#",
            "-",
            "ctrl-c",
            "ctrl-d",
            "alt-d",
            "alt-h",
            "alt-e",
            "shift-enter",
            "alt-enter",
            "ctrl-alt-x",
            "shift-up",
        ];
        for name in crate::tui::keymap::NAMED.iter().chain(chords.iter()) {
            let k = key(name);
            assert_eq!(super::super::app::key_of(&key_event(&k)), k, "{name}");
        }
    }

    #[test]
    fn keys_and_typing_press_with_the_pace_between() {
        let t0 = Instant::now();
        let script = parse("pace 100\nkey tab ctrl-d\ntype hI ?\n").unwrap();
        let mut p = Player::new(script);
        assert_eq!(p.next("", t0), press(KeyCode::Tab, KeyModifiers::NONE));
        assert_eq!(p.next("", t0), PlayerStep::Sleep(ms(100)));
        assert_eq!(p.next("", t0 + ms(30)), PlayerStep::Sleep(ms(70)));
        assert_eq!(
            p.next("", t0 + ms(100)),
            press(KeyCode::Char('d'), KeyModifiers::CONTROL)
        );
        let mut t = t0 + ms(200);
        let mut typed = Vec::new();
        loop {
            match p.next("", t) {
                PlayerStep::Press(e) => typed.push(e),
                PlayerStep::Sleep(d) => {
                    assert_eq!(d, ms(100));
                    t += d;
                }
                PlayerStep::Done => break,
                other @ PlayerStep::Failed(_) => panic!("{other:?}"),
            }
        }
        assert_eq!(
            typed,
            [
                KeyEvent::new(KeyCode::Char('h'), KeyModifiers::NONE),
                KeyEvent::new(KeyCode::Char('I'), KeyModifiers::SHIFT),
                KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE),
                KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE),
            ]
        );
        // Over is over.
        assert_eq!(p.next("", t + ms(1000)), PlayerStep::Done);
        assert!(p.is_finished());
    }

    #[test]
    fn the_default_pace_applies_and_zero_pace_presses_at_once() {
        let t0 = Instant::now();
        let mut p = Player::new(parse("key a b").unwrap());
        assert_eq!(p.next("", t0), ch('a'));
        assert_eq!(p.next("", t0), PlayerStep::Sleep(DEFAULT_PACE));
        let mut p = Player::new(parse("pace 0\ntype ab\nkey esc").unwrap());
        assert_eq!(p.next("", t0), ch('a'));
        assert_eq!(p.next("", t0), ch('b'));
        assert_eq!(p.next("", t0), press(KeyCode::Esc, KeyModifiers::NONE));
        assert_eq!(p.next("", t0), PlayerStep::Done);
    }

    #[test]
    fn wait_sleeps_then_goes_on() {
        let t0 = Instant::now();
        let mut p = Player::new(parse("pace 0\nwait 500\nkey x\nwait 0\nkey y").unwrap());
        assert_eq!(p.next("", t0), PlayerStep::Sleep(ms(500)));
        assert_eq!(p.next("", t0 + ms(200)), PlayerStep::Sleep(ms(300)));
        // Waking late is fine.
        assert_eq!(p.next("", t0 + ms(900)), ch('x'));
        assert_eq!(p.next("", t0 + ms(900)), ch('y'));
        assert_eq!(p.next("", t0 + ms(900)), PlayerStep::Done);
    }

    #[test]
    fn expect_polls_until_the_text_shows() {
        let t0 = Instant::now();
        let mut p = Player::new(parse("pace 0\nexpect Connected\nkey q").unwrap());
        assert_eq!(p.next("Connecting…", t0), PlayerStep::Sleep(EXPECT_POLL));
        assert_eq!(
            p.next("Connecting…", t0 + ms(50)),
            PlayerStep::Sleep(EXPECT_POLL)
        );
        assert_eq!(p.next("│ Connected │", t0 + ms(120)), ch('q'));
        assert_eq!(p.next("", t0 + ms(120)), PlayerStep::Done);
    }

    #[test]
    fn expect_fails_after_its_timeout_naming_text_and_line() {
        let t0 = Instant::now();
        let text = "pace 0\nexpect-timeout 200\n\n# wait for the timer\nexpect 00:0\nkey q\n";
        let mut p = Player::new(parse(text).unwrap());
        assert_eq!(p.next("", t0), PlayerStep::Sleep(ms(50)));
        assert_eq!(p.next("", t0 + ms(180)), PlayerStep::Sleep(ms(20)));
        assert_eq!(p.line(), Some(5));
        let failed = p.next("ringing", t0 + ms(200));
        let PlayerStep::Failed(message) = &failed else {
            panic!("{failed:?}")
        };
        assert_eq!(
            message,
            "line 5: `00:0` did not appear on the screen within 200 ms"
        );
        // The key after it is never pressed.
        assert_eq!(p.next("00:01", t0 + ms(300)), failed);
        assert!(p.is_finished());
    }

    #[test]
    fn each_expect_gets_its_own_timeout() {
        let t0 = Instant::now();
        let text = "pace 0\nexpect-timeout 100\nexpect one\nexpect two\n";
        let mut p = Player::new(parse(text).unwrap());
        assert_eq!(p.next("", t0), PlayerStep::Sleep(ms(50)));
        // `one` shows late in its window; `two` then has a full 100 ms of its own.
        assert_eq!(p.next("one", t0 + ms(90)), PlayerStep::Sleep(ms(50)));
        assert_eq!(p.next("one", t0 + ms(180)), PlayerStep::Sleep(ms(10)));
        assert_eq!(p.next("one two", t0 + ms(185)), PlayerStep::Done);
    }

    #[test]
    fn snapshots_are_handed_to_the_runner_and_quit_ends_early() {
        let t0 = Instant::now();
        let text = "pace 0\nsnapshot start\nkey a\nsnapshot after a\nquit\nkey b\n";
        let mut p = Player::new(parse(text).unwrap());
        assert_eq!(p.next("", t0), ch('a'));
        assert_eq!(p.take_snapshots(), ["start"]);
        assert_eq!(p.next("", t0), PlayerStep::Done);
        assert_eq!(p.take_snapshots(), ["after a"]);
        assert!(p.take_snapshots().is_empty());
        // A hand-built script without line numbers still plays and reports.
        let mut p = Player::new(Script {
            steps: vec![Step::ExpectTimeout(ms(0)), Step::Expect("x".into())],
            lines: Vec::new(),
        });
        assert_eq!(
            p.next("", t0),
            PlayerStep::Failed("`x` did not appear on the screen within 0 ms".into())
        );
        assert_eq!(
            Player::new(Script::default()).next("", t0),
            PlayerStep::Done
        );
    }

    #[test]
    fn the_demo_tour_parses_and_plays_to_the_end() {
        let script = parse(DEMO_TOUR).unwrap();
        let keys: Vec<String> = script
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Keys(k) => Some(
                    k.iter()
                        .map(std::string::ToString::to_string)
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .flatten()
            .collect();
        for k in [
            "tab", "/", "enter", "i", "esc", "c", "alt-d", "alt-h", "alt-e", "alt-a", "?",
        ] {
            assert!(keys.iter().any(|x| x == k), "the tour never presses {k}");
        }
        let expects: Vec<&str> = script
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Expect(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert!(expects.contains(&"Connected") && expects.contains(&"00:0"));
        assert!(expects.len() >= 10, "{expects:?}");
        assert_eq!(script.steps.last(), Some(&Step::Quit));

        // With a screen that shows everything, it plays through without failing.
        let screen = expects.join(" ");
        let screen = screen.as_str();
        let mut p = Player::new(script.clone());
        let mut t = Instant::now();
        let mut presses = 0;
        loop {
            match p.next(screen, t) {
                PlayerStep::Press(_) => presses += 1,
                PlayerStep::Sleep(d) => t += d,
                PlayerStep::Done => break,
                PlayerStep::Failed(m) => panic!("{m}"),
            }
        }
        assert!(presses > 40, "{presses}");
    }
}
