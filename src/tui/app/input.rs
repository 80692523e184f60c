//! Keys, pasted text and the mouse: what the user does, turned into state and jobs.

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Position;

use super::{App, Job, Modal, Pane, PANES};
use crate::proto::DeclineReason;
use crate::tui::keymap::{Action, Key, Mode};

impl App {
    /// A key press; returns what to do.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Job> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        self.dirty = true;
        let k = key_of(&key);
        let mode = self.mode();
        // Typing goes to the composer, the filter or the dialpad before any binding that
        // is not a control key.
        let plain_char = match key.code {
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                Some(c)
            }
            _ => None,
        };
        if let Some(Modal::Help { scroll }) = &mut self.modal {
            match key.code {
                KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
                KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                KeyCode::PageDown => *scroll = scroll.saturating_add(10),
                KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                KeyCode::Esc | KeyCode::Char('q') => self.modal = None,
                _ => {
                    if let Some(a) = self.keymap.action(Mode::Global, &k) {
                        if a == Action::Help || a == Action::Quit {
                            return self.on_action(a);
                        }
                    }
                }
            }
            return Vec::new();
        }
        if mode == Mode::Dialpad {
            if let Some(c) = plain_char.filter(|c| "0123456789*#ABCDabcd".contains(*c)) {
                return self.dialpad_digit(c.to_ascii_uppercase());
            }
        }
        if self.filtering && self.modal.is_none() {
            match key.code {
                KeyCode::Esc => {
                    self.filtering = false;
                    self.filter.clear();
                }
                KeyCode::Enter => self.filtering = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) if plain_char.is_some() => {
                    self.filter.push(c);
                    self.select(self.focus, 0);
                }
                _ => {
                    if let Some(a) = self.lookup(mode, &k) {
                        return self.on_action(a);
                    }
                }
            }
            return Vec::new();
        }
        // While writing, a printable key is text, even one bound elsewhere (`?`, `c`).
        let binding = if mode == Mode::Composer && plain_char.is_some() {
            self.keymap.action_in(mode, &k)
        } else {
            self.lookup(mode, &k)
        };
        if let Some(a) = binding {
            return self.on_action(a);
        }
        if mode == Mode::Composer {
            let draft = self.draft_mut();
            match key.code {
                KeyCode::Char(c)
                    if plain_char.is_some() || key.modifiers == KeyModifiers::SHIFT =>
                {
                    if let Some(d) = draft {
                        d.push(c);
                    }
                }
                KeyCode::Backspace => {
                    if let Some(d) = draft {
                        d.pop();
                    }
                }
                _ => {}
            }
        }
        Vec::new()
    }

    /// Text pasted into the terminal: into the composer when writing.
    pub fn on_paste(&mut self, text: &str) {
        if self.composing {
            if let Some(d) = self.draft_mut() {
                d.push_str(text);
            }
            self.dirty = true;
        }
    }

    pub(super) fn lookup(&self, mode: Mode, key: &Key) -> Option<Action> {
        self.keymap.action(mode, key)
    }

    pub(super) fn draft_mut(&mut self) -> Option<&mut String> {
        let id = self.current.clone()?;
        Some(self.drafts.entry(id).or_default())
    }

    pub fn on_action(&mut self, action: Action) -> Vec<Job> {
        self.dirty = true;
        let mut out = Vec::new();
        match action {
            Action::Quit => out.push(Job::Quit),
            Action::Help => {
                self.modal = match self.modal {
                    Some(Modal::Help { .. }) => None,
                    _ => Some(Modal::Help { scroll: 0 }),
                }
            }
            Action::FocusNext | Action::FocusPrevious => {
                self.composing = false;
                self.filtering = false;
                let i = PANES.iter().position(|p| *p == self.focus).unwrap_or(0);
                let n = PANES.len();
                let next = if action == Action::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.focus = PANES[next];
            }
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => out.extend(self.scroll_chat(10)),
            Action::PageDown => out.extend(self.scroll_chat(-10)),
            Action::Open => out.extend(self.open_selected()),
            Action::Filter => {
                if matches!(self.focus, Pane::Users | Pane::Channels) {
                    self.filtering = true;
                    self.filter.clear();
                }
            }
            Action::Compose => {
                if self.current.is_some() {
                    self.focus = Pane::Chat;
                    self.composing = true;
                }
            }
            Action::Send => out.extend(self.send_draft()),
            Action::Newline => {
                if let Some(d) = self.draft_mut() {
                    d.push('\n');
                }
            }
            Action::Cancel => match &self.modal {
                Some(Modal::Incoming { room_id }) => {
                    // Esc silences the ring tone; the call keeps ringing on screen.
                    out.push(Job::Ring {
                        room_id: room_id.clone(),
                        on: false,
                    });
                    self.modal = None;
                }
                Some(_) => self.modal = None,
                None => {
                    self.composing = false;
                    self.filtering = false;
                }
            },
            Action::Retry => out.extend(self.retry_failed()),
            Action::Dial => out.extend(self.dial_selected()),
            Action::Answer => out.extend(self.answer(None)),
            Action::Decline => out.extend(self.decline_ringing(DeclineReason::None)),
            Action::DeclineBusy => out.extend(self.decline_ringing(DeclineReason::DoNotDisturb)),
            Action::HangUp => {
                if let Some(c) = self.active_call() {
                    out.push(Job::Hangup {
                        room_id: c.view.call.room_id.clone(),
                    });
                }
            }
            Action::ToggleHold => {
                if let Some(c) = self.active_call() {
                    out.push(Job::Hold {
                        room_id: c.view.call.room_id.clone(),
                        on: !c.view.local_hold,
                    });
                }
            }
            Action::ToggleMute => {
                if let Some(c) = self.calls.get_mut(self.current_call) {
                    c.muted = !c.muted;
                    out.push(Job::Mute {
                        room_id: c.view.call.room_id.clone(),
                        on: c.muted,
                    });
                }
            }
            Action::Dialpad => {
                if let Some(c) = self.active_call() {
                    self.modal = Some(Modal::Dialpad {
                        room_id: c.view.call.room_id.clone(),
                        sent: String::new(),
                    });
                }
            }
            Action::SwitchCall => out.extend(self.switch_call()),
        }
        out
    }

    pub(super) fn list_len(&self, pane: Pane) -> usize {
        match pane {
            Pane::Channels => self.channels.len(),
            Pane::Users => self.visible_users().len(),
            Pane::Calls => self.calls.len(),
            Pane::Chat => 0,
        }
    }

    pub(super) fn move_selection(&mut self, delta: i64) {
        if self.focus == Pane::Chat {
            self.scroll_chat(-delta);
            return;
        }
        let len = self.list_len(self.focus);
        if len == 0 {
            return;
        }
        let next = step_index(self.selection(self.focus), delta, len - 1);
        self.select(self.focus, next);
        if self.focus == Pane::Calls {
            self.current_call = next;
        }
    }

    /// A mouse event: clicks select panes and items, the wheel scrolls.
    pub fn on_mouse(&mut self, m: MouseEvent) -> Vec<Job> {
        let at = Position::new(m.column, m.row);
        let areas = self.areas;
        let hit = [
            (areas.channels, Pane::Channels),
            (areas.users, Pane::Users),
            (areas.calls, Pane::Calls),
            (areas.chat, Pane::Chat),
        ]
        .into_iter()
        .find(|(r, _)| r.contains(at));
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.dirty = true;
                if areas.composer.contains(at) && self.current.is_some() {
                    self.focus = Pane::Chat;
                    self.composing = true;
                    return Vec::new();
                }
                let Some((rect, pane)) = hit else {
                    return Vec::new();
                };
                self.focus = pane;
                self.composing = false;
                // Lists draw one item per line inside a border.
                if pane != Pane::Chat && m.row > rect.y && m.row < rect.bottom().saturating_sub(1) {
                    let index = (m.row - rect.y - 1) as usize;
                    if index < self.list_len(pane) {
                        self.select(pane, index);
                        return self.open_selected();
                    }
                }
                Vec::new()
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let up = matches!(m.kind, MouseEventKind::ScrollUp);
                match hit.map(|(_, p)| p) {
                    Some(Pane::Chat) => self.scroll_chat(if up { 3 } else { -3 }),
                    Some(pane) => {
                        let before = self.focus;
                        self.focus = pane;
                        self.move_selection(if up { -1 } else { 1 });
                        self.focus = before;
                        self.dirty = true;
                        Vec::new()
                    }
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }
}

/// The keymap's name for a key event.
pub fn key_of(k: &KeyEvent) -> Key {
    let name = match k.code {
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::PageUp => "pageup".into(),
        KeyCode::PageDown => "pagedown".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::Delete => "delete".into(),
        KeyCode::Insert => "insert".into(),
        KeyCode::F(n) => format!("f{n}"),
        KeyCode::Char(' ') => "space".into(),
        KeyCode::Char(c) => c.to_string(),
        _ => String::new(),
    };
    let is_char = matches!(k.code, KeyCode::Char(c) if c != ' ');
    Key {
        ctrl: k.modifiers.contains(KeyModifiers::CONTROL),
        alt: k.modifiers.contains(KeyModifiers::ALT),
        // A shifted character is its own key (`?`, `A`); shift counts for named keys.
        shift: k.modifiers.contains(KeyModifiers::SHIFT) && !is_char && k.code != KeyCode::BackTab,
        name,
    }
}

/// `cur` moved by `delta`, kept within `0..=max`.
pub(super) fn step_index(cur: usize, delta: i64, max: usize) -> usize {
    let by = usize::try_from(delta.unsigned_abs()).unwrap_or(usize::MAX);
    let moved = if delta < 0 {
        cur.saturating_sub(by)
    } else {
        cur.saturating_add(by)
    };
    moved.min(max)
}
