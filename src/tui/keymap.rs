//! Key bindings as data: `keymaps/*.toml`, compiled in, with a user file merged on top.
//! Every binding carries a description, so the help overlay writes itself.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Everything a key can ask the interface to do. Input reaches state only as one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    FocusNext,
    FocusPrevious,
    Up,
    Down,
    PageUp,
    PageDown,
    Open,
    Filter,
    Compose,
    Send,
    Newline,
    Cancel,
    Retry,
    Dial,
    Answer,
    Decline,
    DeclineBusy,
    HangUp,
    ToggleHold,
    ToggleMute,
    Dialpad,
    SwitchCall,
    Silence,
    ScrollTop,
    ScrollBottom,
    CursorLeft,
    CursorRight,
    WordLeft,
    WordRight,
    LineStart,
    LineEnd,
    DeleteBack,
    DeleteForward,
    DeleteWordBack,
    DeleteWordForward,
    KillLineStart,
    KillLineEnd,
    Yank,
    LineUp,
    LineDown,
    NormalMode,
    Insert,
    Append,
    InsertLineStart,
    AppendLineEnd,
    Switcher,
    Search,
    Notices,
    NewGroup,
    Ignore,
    Forward,
    Transfer,
    JoinCalls,
    Voicemail,
    Presence,
    MakeLink,
    ConnectCalls,
    DeleteEntry,
    ToggleContact,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Global,
    List,
    Chat,
    Composer,
    /// The composer's normal mode (vim keymap): keys move and edit, they do not type.
    ComposerNormal,
    Incoming,
    Dialpad,
}

/// `as_str` (the name keymap files and strings use) and `ALL` for a plain enum.
macro_rules! named {
    ($ty:ident { $($variant:ident = $name:literal),* $(,)? }) => {
        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The name keymap files and string keys use.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)*
                }
            }
        }
    };
}

named!(Action {
    Quit = "quit",
    Help = "help",
    FocusNext = "focus_next",
    FocusPrevious = "focus_previous",
    Up = "up",
    Down = "down",
    PageUp = "page_up",
    PageDown = "page_down",
    Open = "open",
    Filter = "filter",
    Compose = "compose",
    Send = "send",
    Newline = "newline",
    Cancel = "cancel",
    Retry = "retry",
    Dial = "dial",
    Answer = "answer",
    Decline = "decline",
    DeclineBusy = "decline_busy",
    HangUp = "hang_up",
    ToggleHold = "toggle_hold",
    ToggleMute = "toggle_mute",
    Dialpad = "dialpad",
    SwitchCall = "switch_call",
    Silence = "silence",
    ScrollTop = "scroll_top",
    ScrollBottom = "scroll_bottom",
    CursorLeft = "cursor_left",
    CursorRight = "cursor_right",
    WordLeft = "word_left",
    WordRight = "word_right",
    LineStart = "line_start",
    LineEnd = "line_end",
    DeleteBack = "delete_back",
    DeleteForward = "delete_forward",
    DeleteWordBack = "delete_word_back",
    DeleteWordForward = "delete_word_forward",
    KillLineStart = "kill_line_start",
    KillLineEnd = "kill_line_end",
    Yank = "yank",
    LineUp = "line_up",
    LineDown = "line_down",
    NormalMode = "normal_mode",
    Insert = "insert",
    Append = "append",
    InsertLineStart = "insert_line_start",
    AppendLineEnd = "append_line_end",
    Switcher = "switcher",
    Search = "search",
    Notices = "notices",
    NewGroup = "new_group",
    Ignore = "ignore",
    Forward = "forward",
    Transfer = "transfer",
    JoinCalls = "join_calls",
    Voicemail = "voicemail",
    Presence = "presence",
    MakeLink = "make_link",
    ConnectCalls = "connect_calls",
    DeleteEntry = "delete_entry",
    ToggleContact = "toggle_contact",
});

named!(Mode {
    Global = "global",
    List = "list",
    Chat = "chat",
    Composer = "composer",
    ComposerNormal = "composer_normal",
    Incoming = "incoming",
    Dialpad = "dialpad",
});

/// A key with its modifiers, as written in keymap files (`ctrl-c`, `shift-enter`, `?`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
    /// A single character, or a named key (enter, esc, tab, backtab, up, f1, ...).
    pub name: String,
}

/// Keys with names rather than a character.
pub const NAMED: &[&str] = &[
    "enter",
    "esc",
    "tab",
    "backtab",
    "up",
    "down",
    "left",
    "right",
    "pageup",
    "pagedown",
    "home",
    "end",
    "backspace",
    "delete",
    "insert",
    "space",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "f6",
    "f7",
    "f8",
    "f9",
    "f10",
    "f11",
    "f12",
];

impl Key {
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut key = Key {
            ctrl: false,
            alt: false,
            shift: false,
            name: String::new(),
        };
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower.strip_prefix("ctrl-").filter(|r| !r.is_empty()) {
                key.ctrl = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("alt-").filter(|r| !r.is_empty()) {
                key.alt = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("shift-").filter(|r| !r.is_empty()) {
                key.shift = true;
                rest = &rest[rest.len() - r.len()..];
            } else {
                break;
            }
        }
        if rest.chars().count() == 1 {
            rest.clone_into(&mut key.name);
        } else if NAMED.contains(&rest.to_ascii_lowercase().as_str()) {
            key.name = rest.to_ascii_lowercase();
        } else {
            return Err(format!("`{text}` is not a key"));
        }
        Ok(key)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        f.write_str(&self.name)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keys: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    mode: Mode,
    on: Vec<String>,
    run: Action,
    desc: String,
}

/// One binding, for lookups and the help overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    pub desc: String,
}

/// One line of the help overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRow {
    pub mode: Mode,
    pub action: Action,
    pub keys: Vec<Key>,
    pub desc: String,
}

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    bindings: BTreeMap<(Mode, Key), Binding>,
}

pub const DEFAULT: &str = include_str!("../../keymaps/default.toml");
pub const VIM: &str = include_str!("../../keymaps/vim.toml");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}: {message}")]
pub struct KeymapError {
    pub source_name: String,
    pub message: String,
}

impl Keymap {
    /// Adds the bindings of one file over what is there.
    pub fn merge_str(&mut self, text: &str, source_name: &str) -> Result<(), KeymapError> {
        let err = |message: String| KeymapError {
            source_name: source_name.to_owned(),
            message,
        };
        // Parse everything first: a broken file changes nothing.
        let file: File = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut parsed = Vec::new();
        for entry in file.keys {
            if entry.desc.trim().is_empty() {
                return Err(err(format!(
                    "the binding for {:?} has no description",
                    entry.run
                )));
            }
            for k in &entry.on {
                let key = Key::parse(k).map_err(err)?;
                parsed.push((
                    (entry.mode, key),
                    Binding {
                        action: entry.run,
                        desc: entry.desc.clone(),
                    },
                ));
            }
        }
        self.bindings.extend(parsed);
        Ok(())
    }

    /// The built-in keymap `name` (`default` or `vim`, the latter on top of the default).
    pub fn builtin(name: &str) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        map.merge_str(DEFAULT, "keymaps/default.toml")?;
        match name {
            "default" => {}
            "vim" => map.merge_str(VIM, "keymaps/vim.toml")?,
            other => {
                return Err(KeymapError {
                    source_name: "config".into(),
                    message: format!("no built-in keymap `{other}` (default, vim)"),
                })
            }
        }
        Ok(map)
    }

    /// The built-in keymap with the user's file merged on top. A missing file is fine; a
    /// broken one is reported and the built-in bindings are kept.
    pub fn load(name: &str, user_file: Option<&Path>) -> (Keymap, Option<KeymapError>) {
        let (mut map, mut problem) = match Keymap::builtin(name) {
            Ok(m) => (m, None),
            Err(e) => (Keymap::builtin("default").unwrap_or_default(), Some(e)),
        };
        if let Some(path) = user_file {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    if let Err(e) = map.merge_str(&text, &path.display().to_string()) {
                        problem = Some(e);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    problem = Some(KeymapError {
                        source_name: path.display().to_string(),
                        message: e.to_string(),
                    });
                }
            }
        }
        (map, problem)
    }

    /// The action for a key in a mode; global bindings apply where the mode has none.
    pub fn action(&self, mode: Mode, key: &Key) -> Option<Action> {
        self.bindings
            .get(&(mode, key.clone()))
            .or_else(|| self.bindings.get(&(Mode::Global, key.clone())))
            .map(|b| b.action)
    }

    /// The action bound to a key in exactly this mode (no global fallback).
    pub fn action_in(&self, mode: Mode, key: &Key) -> Option<Action> {
        self.bindings.get(&(mode, key.clone())).map(|b| b.action)
    }

    /// The key to show for an action in a mode (or globally): the mode's own before a
    /// global one, a letter or chord before a function key, the shortest first. A global
    /// key the mode binds to something else does not count.
    pub fn key_for(&self, mode: Mode, action: Action) -> Option<&Key> {
        self.bindings
            .iter()
            .filter(|((m, k), b)| {
                b.action == action
                    && (*m == mode
                        // A global key counts unless the mode gives it another meaning.
                        || (*m == Mode::Global && self.action_in(mode, k).is_none()))
            })
            .min_by_key(|((m, k), _)| {
                (
                    *m != mode,
                    k.name.len() > 1 && k.name.starts_with('f'),
                    k.name.len(),
                )
            })
            .map(|((_, k), _)| k)
    }

    /// The help overlay's rows: one per mode and action, its keys together (letters and
    /// chords before function keys, shorter first), in the order of the modes and then
    /// of the actions (`tab` before `backtab`).
    pub fn help_rows(&self) -> Vec<HelpRow> {
        let mut rows: Vec<HelpRow> = Vec::new();
        for ((mode, key), b) in &self.bindings {
            match rows
                .iter_mut()
                .find(|r| r.mode == *mode && r.action == b.action && r.desc == b.desc)
            {
                Some(r) => r.keys.push(key.clone()),
                None => rows.push(HelpRow {
                    mode: *mode,
                    action: b.action,
                    keys: vec![key.clone()],
                    desc: b.desc.clone(),
                }),
            }
        }
        for r in &mut rows {
            r.keys.sort_by_key(|k| {
                (
                    k.name.len() > 1 && k.name.starts_with('f'),
                    k.to_string().len(),
                    k.to_string(),
                )
            });
        }
        rows.sort_by_key(|r| (r.mode, r.action));
        rows
    }

    /// Every binding, grouped by mode, for the help overlay.
    pub fn help(&self) -> Vec<(Mode, Key, Binding)> {
        self.bindings
            .iter()
            .map(|((m, k), b)| (*m, k.clone(), b.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names() {
        for a in Action::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        for m in Mode::ALL {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
    }

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn keys_parse_with_modifiers() {
        let k = key("ctrl-c");
        assert!(k.ctrl && !k.alt && k.name == "c");
        assert_eq!(key("shift-Enter").to_string(), "shift-enter");
        assert_eq!(key("?").name, "?");
        assert_eq!(key("-").name, "-");
        assert!(Key::parse("ctrl-").is_err());
        assert_eq!(key("ctrl--").name, "-");
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("enterr").is_err());
    }

    #[test]
    fn defaults_cover_every_action_with_descriptions() {
        let map = Keymap::builtin("default").unwrap();
        assert_eq!(map.action(Mode::List, &key("down")), Some(Action::Down));
        // Global bindings apply in every mode.
        assert_eq!(map.action(Mode::Chat, &key("ctrl-c")), Some(Action::Quit));
        assert_eq!(
            map.action(Mode::Composer, &key("enter")),
            Some(Action::Send)
        );
        let help = map.help();
        assert!(help.iter().all(|(_, _, b)| !b.desc.is_empty()));
        let bound: std::collections::BTreeSet<Action> =
            help.iter().map(|(_, _, b)| b.action).collect();
        for a in [
            Action::Quit,
            Action::Help,
            Action::Dial,
            Action::Answer,
            Action::Decline,
            Action::HangUp,
            Action::ToggleHold,
            Action::ToggleMute,
            Action::Dialpad,
            Action::SwitchCall,
            Action::Send,
            Action::Retry,
        ] {
            assert!(bound.contains(&a), "{a:?} has no key");
        }
        let vim = Keymap::builtin("vim").unwrap();
        assert_eq!(vim.action(Mode::List, &key("j")), Some(Action::Down));
        assert_eq!(
            vim.action(Mode::List, &key("down")),
            Some(Action::Down),
            "defaults kept"
        );
        assert!(Keymap::builtin("emacs").is_err());
    }

    #[test]
    fn a_user_file_overrides_single_bindings_and_a_broken_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keymap.toml");
        std::fs::write(
            &path,
            "[[keys]]\nmode = \"list\"\non = [\"x\"]\nrun = \"dial\"\ndesc = \"Call\"\n",
        )
        .unwrap();
        let (map, problem) = Keymap::load("default", Some(&path));
        assert!(problem.is_none());
        assert_eq!(map.action(Mode::List, &key("x")), Some(Action::Dial));
        assert_eq!(
            map.action(Mode::List, &key("c")),
            Some(Action::Dial),
            "others kept"
        );

        std::fs::write(
            &path,
            "[[keys]]\nmode = \"list\"\non = [\"x\"]\nrun = \"fly\"\ndesc = \"?\"\n",
        )
        .unwrap();
        let (map, problem) = Keymap::load("default", Some(&path));
        let problem = problem.unwrap();
        assert!(problem.to_string().contains("line 4"), "{problem}");
        assert!(problem.to_string().contains("keymap.toml"), "{problem}");
        assert_eq!(map.action(Mode::List, &key("x")), None);
        assert_eq!(map.action(Mode::List, &key("down")), Some(Action::Down));

        let (map, problem) = Keymap::load("default", Some(&dir.path().join("missing.toml")));
        assert!(problem.is_none());
        assert_eq!(map.action(Mode::Global, &key("f1")), Some(Action::Help));
    }
}
