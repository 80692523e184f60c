//! Keys, pasted text and the mouse: what the user does, turned into state and jobs.

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Position;

use super::editor::Draft;
use super::{App, Job, Modal, Pane, PANES};
use crate::proto::DeclineReason;
use crate::tui::keymap::{Action, Key, Mode};

impl App {
    /// A key press; returns what to do.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Job> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let mut out = self.on_input();
        out.extend(self.key_jobs(key));
        out.extend(self.directory_jobs());
        out
    }

    fn key_jobs(&mut self, key: KeyEvent) -> Vec<Job> {
        self.dirty = true;
        let k = key_of(&key);
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
        if let Some(jobs) = self.on_window_key(&key, &k) {
            return jobs;
        }
        let mode = self.mode();
        if mode == Mode::Dialpad {
            if let Some(c) = plain_char.filter(|c| "0123456789*#ABCDabcd".contains(*c)) {
                return self.dialpad_digit(c.to_ascii_uppercase());
            }
        }
        if self.filtering && self.modal.is_none() {
            return self.on_filter_key(&key, &k, plain_char.is_some(), mode);
        }
        // The incoming-call window's own keys (esc: silence) apply only where they cannot
        // be typed: not in the composer, not in the filter.
        if matches!(self.modal, Some(Modal::Incoming { .. }))
            && matches!(mode, Mode::List | Mode::Chat)
        {
            if let Some(a) = self.keymap.action_in(Mode::Incoming, &k) {
                return self.on_action(a);
            }
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
            if let KeyCode::Char(c) = key.code {
                if plain_char.is_some() || key.modifiers == KeyModifiers::SHIFT {
                    self.edit(|d| d.insert_char(c));
                }
            }
        }
        Vec::new()
    }

    /// Keys for a window that takes them all (help, the quit question); `None` when no
    /// such window is up.
    fn on_window_key(&mut self, key: &KeyEvent, k: &Key) -> Option<Vec<Job>> {
        match &mut self.modal {
            Some(Modal::Help { scroll, filter }) => {
                match key.code {
                    KeyCode::Down => *scroll = scroll.saturating_add(1),
                    KeyCode::Up => *scroll = scroll.saturating_sub(1),
                    KeyCode::PageDown => *scroll = scroll.saturating_add(10),
                    KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                    KeyCode::Home => *scroll = 0,
                    // Esc clears the filter first, then closes.
                    KeyCode::Esc if !filter.is_empty() => {
                        filter.clear();
                        *scroll = 0;
                    }
                    KeyCode::Esc => self.modal = None,
                    KeyCode::Backspace => {
                        filter.pop();
                        *scroll = 0;
                    }
                    _ => {
                        let global = self.keymap.action(Mode::Global, k);
                        if matches!(global, Some(Action::Help | Action::Quit))
                            && (filter.is_empty() || global == Some(Action::Quit))
                        {
                            return global.map(|a| self.on_action(a));
                        }
                        // Typing filters the rows.
                        if let KeyCode::Char(c) = key.code {
                            if !key
                                .modifiers
                                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                            {
                                filter.push(c);
                                *scroll = 0;
                            }
                        }
                    }
                }
                Some(Vec::new())
            }
            Some(Modal::ConfirmQuit { .. }) => {
                // Yes: y, enter, or the quit key again. No: n, esc.
                let again = self.keymap.action(Mode::Global, k) == Some(Action::Quit);
                match key.code {
                    KeyCode::Char('y' | 'Y') | KeyCode::Enter => return Some(vec![Job::Quit]),
                    _ if again => return Some(vec![Job::Quit]),
                    KeyCode::Char('n' | 'N') | KeyCode::Esc => self.modal = None,
                    _ => {}
                }
                Some(Vec::new())
            }
            Some(Modal::Notices { scroll }) => {
                match key.code {
                    KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
                    KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                    KeyCode::PageDown => *scroll = scroll.saturating_add(10),
                    KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                    KeyCode::Esc | KeyCode::Char('q') => self.modal = None,
                    _ => {
                        if let Some(a) = self.keymap.action(Mode::Global, k) {
                            if matches!(a, Action::Notices | Action::Quit) {
                                self.modal = None;
                                return Some(if a == Action::Quit {
                                    self.on_action(a)
                                } else {
                                    Vec::new()
                                });
                            }
                        }
                    }
                }
                Some(Vec::new())
            }
            Some(Modal::Switcher { .. }) => Some(self.on_switcher_key(key)),
            Some(Modal::NewGroup { .. }) => Some(self.on_new_group_key(key)),
            Some(Modal::Search { .. }) => Some(self.on_search_key(key)),
            Some(Modal::Mailbox { .. }) => Some(self.on_mailbox_key(key)),
            Some(Modal::Presence(_)) => Some(self.on_presence_key(key)),
            Some(Modal::LeaveVoicemail { .. }) => Some(self.on_leave_voicemail_key(key)),
            _ => None,
        }
    }

    /// Keys while filtering a list: text goes into the filter.
    fn on_filter_key(&mut self, key: &KeyEvent, k: &Key, plain: bool, mode: Mode) -> Vec<Job> {
        match key.code {
            KeyCode::Esc => {
                self.filtering = false;
                self.filter.clear();
            }
            KeyCode::Enter => self.filtering = false,
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char(c) if plain => {
                self.filter.push(c);
                self.select(self.focus, 0);
            }
            _ => {
                if let Some(a) = self.lookup(mode, k) {
                    return self.on_action(a);
                }
            }
        }
        Vec::new()
    }

    /// Text pasted into the terminal: inserted as text, never taken as keys. Into the
    /// filter while filtering, else into the open conversation's composer (opened for it).
    pub fn on_paste(&mut self, text: &str) -> Vec<Job> {
        let mut out = self.on_input();
        self.paste(text);
        out.extend(self.directory_jobs());
        out
    }

    fn paste(&mut self, text: &str) {
        self.dirty = true;
        if self.paste_into_finder(text) || self.paste_into_picker(text) || self.modal_takes_keys() {
            return;
        }
        if self.filtering {
            let line = text.split(['\r', '\n']).next().unwrap_or_default();
            self.filter.push_str(line);
            self.select(self.focus, 0);
            return;
        }
        if self.current.is_some() {
            self.focus = Pane::Chat;
            self.composing = true;
            self.composer_normal = false;
            self.edit(|d| d.insert(text));
        }
    }

    pub(super) fn lookup(&self, mode: Mode, key: &Key) -> Option<Action> {
        self.keymap.action(mode, key)
    }

    /// Changes the open conversation's draft.
    pub(super) fn edit<R>(&mut self, change: impl FnOnce(&mut Draft) -> R) -> Option<R> {
        let id = self.current.clone()?;
        Some(change(self.drafts.entry(id).or_default()))
    }

    /// A kill: what went is kept for yanking back.
    fn kill(&mut self, change: impl FnOnce(&mut Draft) -> String) {
        if let Some(gone) = self.edit(change).filter(|g| !g.is_empty()) {
            self.killed = gone;
        }
    }

    /// Up from the composer's first line: the message sent before the one shown.
    fn history_back(&mut self) {
        let Some(id) = self.current.clone() else {
            return;
        };
        if self.history.is_empty() {
            return;
        }
        let draft = self.drafts.entry(id).or_default();
        let at = match &self.history_at {
            None => {
                self.history_at = Some((self.history.len() - 1, draft.clone()));
                self.history.len() - 1
            }
            Some((0, _)) => return,
            Some((i, saved)) => {
                let i = i - 1;
                self.history_at = Some((i, saved.clone()));
                i
            }
        };
        *draft = Draft::with_text(&self.history[at]);
    }

    /// Down from the composer's last line: the later message, then the draft again.
    fn history_forward(&mut self) {
        let Some(id) = self.current.clone() else {
            return;
        };
        let Some((i, saved)) = self.history_at.take() else {
            return;
        };
        let draft = self.drafts.entry(id).or_default();
        if i + 1 < self.history.len() {
            *draft = Draft::with_text(&self.history[i + 1]);
            self.history_at = Some((i + 1, saved));
        } else {
            *draft = saved;
        }
    }

    /// An editing action in the composer; false when `action` is not one.
    fn on_edit(&mut self, action: Action) -> bool {
        match action {
            Action::CursorLeft => {
                self.edit(Draft::left);
            }
            Action::CursorRight => {
                self.edit(Draft::right);
            }
            Action::WordLeft => {
                self.edit(Draft::word_left);
            }
            Action::WordRight => {
                self.edit(Draft::word_right);
            }
            Action::LineStart => {
                self.edit(Draft::line_start);
            }
            Action::LineEnd => {
                self.edit(Draft::line_end);
            }
            Action::DeleteBack => {
                self.edit(Draft::delete_back);
            }
            Action::DeleteForward => {
                self.edit(Draft::delete_forward);
            }
            Action::DeleteWordBack => self.kill(Draft::delete_word_back),
            Action::DeleteWordForward => self.kill(Draft::delete_word_forward),
            Action::KillLineStart => self.kill(Draft::kill_line_start),
            Action::KillLineEnd => self.kill(Draft::kill_line_end),
            Action::Yank => {
                let text = self.killed.clone();
                self.edit(|d| d.insert(&text));
            }
            Action::LineUp => {
                if self.edit(Draft::line_up) == Some(false) {
                    self.history_back();
                }
            }
            Action::LineDown => {
                if self.edit(Draft::line_down) == Some(false) {
                    self.history_forward();
                }
            }
            Action::NormalMode => self.composer_normal = true,
            Action::Insert | Action::Append | Action::InsertLineStart | Action::AppendLineEnd => {
                match action {
                    Action::Append => {
                        self.edit(Draft::right);
                    }
                    Action::InsertLineStart => {
                        self.edit(Draft::line_start);
                    }
                    Action::AppendLineEnd => {
                        self.edit(Draft::line_end);
                    }
                    _ => {}
                }
                if self.current.is_some() {
                    self.focus = Pane::Chat;
                    self.composing = true;
                    self.composer_normal = false;
                }
            }
            _ => return false,
        }
        true
    }

    /// Whether quitting now would end a call or drop a draft.
    fn quit_question(&self) -> Option<Modal> {
        let calls = self.calls.iter().filter(|c| !c.view.is_ended()).count();
        let drafts = self.drafts.values().filter(|d| !d.is_empty()).count();
        (calls > 0 || drafts > 0).then_some(Modal::ConfirmQuit { calls, drafts })
    }

    pub fn on_action(&mut self, action: Action) -> Vec<Job> {
        self.dirty = true;
        let mut out = Vec::new();
        if self.on_edit(action) {
            return out;
        }
        match action {
            Action::Quit => match self.quit_question() {
                Some(ask) => self.modal = Some(ask),
                None => out.push(Job::Quit),
            },
            Action::Help => {
                self.modal = match self.modal {
                    Some(Modal::Help { .. }) => None,
                    _ => Some(Modal::Help {
                        scroll: 0,
                        filter: String::new(),
                    }),
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
                out.extend(self.on_focus());
            }
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => out.extend(self.scroll_chat(10)),
            Action::PageDown => out.extend(self.scroll_chat(-10)),
            Action::ScrollTop => out.extend(self.scroll_chat(i64::MAX)),
            Action::ScrollBottom => out.extend(self.scroll_chat(i64::MIN)),
            Action::Open => out.extend(self.open_selected()),
            Action::Filter => {
                if matches!(self.focus, Pane::Users | Pane::Channels) {
                    self.filtering = true;
                    self.filter.clear();
                    self.filter_pane = self.focus;
                }
            }
            Action::Switcher => self.open_switcher(),
            Action::Notices => self.open_notices(),
            Action::NewGroup => {
                self.modal = Some(Modal::NewGroup {
                    text: String::new(),
                });
            }
            Action::Search => self.open_search(),
            Action::Compose if self.current.is_some() => {
                self.focus = Pane::Chat;
                self.composing = true;
                self.composer_normal = false;
            }
            Action::Send => out.extend(self.send_draft()),
            Action::Newline => {
                self.edit(|d| d.insert_char('\n'));
            }
            Action::Cancel => match &self.modal {
                Some(Modal::Dialpad { .. } | Modal::Help { .. } | Modal::ConfirmQuit { .. }) => {
                    self.modal = None;
                }
                _ => {
                    self.composing = false;
                    self.composer_normal = false;
                    self.filtering = false;
                }
            },
            Action::Silence => out.extend(self.silence()),
            Action::Retry => out.extend(self.retry_failed()),
            Action::Dial => out.extend(self.dial_selected()),
            Action::Answer => out.extend(self.answer(None)),
            Action::Ignore => out.extend(self.ignore_ringing()),
            Action::DeleteEntry => out.extend(self.delete_selected_call()),
            Action::ToggleContact => out.extend(self.toggle_contact()),
            Action::Forward => self.pick_hand_over(super::HandOver::Forward),
            Action::Transfer => self.pick_hand_over(super::HandOver::Transfer),
            Action::JoinCalls => out.extend(self.connect_calls(None, None, false)),
            Action::Voicemail => out.extend(self.open_mailbox()),
            Action::Presence => out.extend(self.open_presence_picker()),
            Action::MakeLink => out.extend(self.make_link()),
            Action::ConnectCalls => out.extend(self.connect_calls(None, None, true)),
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
                    let (room_id, on) = (c.view.call.room_id.clone(), !c.view.local_hold);
                    out.extend(self.set_hold(room_id, on));
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
            // Editing actions are taken above.
            _ => {}
        }
        out
    }

    /// The focus moved to a pane: visiting Calls marks the missed calls seen (on the
    /// server, for every device).
    pub(super) fn on_focus(&mut self) -> Vec<Job> {
        if self.focus == Pane::Calls && self.missed_unseen > 0 {
            self.missed_unseen = 0;
            return vec![Job::MarkCallsSeen];
        }
        Vec::new()
    }

    pub(super) fn list_len(&self, pane: Pane) -> usize {
        match pane {
            Pane::Channels => self.channels.len(),
            Pane::Users => self.visible_users().len(),
            Pane::Calls => self.calls.len() + self.recent_calls.len(),
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
        if self.focus == Pane::Calls && next < self.calls.len() {
            self.current_call = next;
        }
    }

    /// A mouse event: clicks select panes and items, the wheel scrolls.
    pub fn on_mouse(&mut self, m: MouseEvent) -> Vec<Job> {
        // Clicks and the wheel are the user at the terminal; a pointer passing over is not.
        let mut out = match m.kind {
            MouseEventKind::Down(_) | MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                self.on_input()
            }
            _ => Vec::new(),
        };
        out.extend(self.mouse_action(m));
        out
    }

    fn mouse_action(&mut self, m: MouseEvent) -> Vec<Job> {
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
                let mut out = self.on_focus();
                // Lists draw one item per line inside a border.
                if pane != Pane::Chat && m.row > rect.y && m.row < rect.bottom().saturating_sub(1) {
                    let index = (m.row - rect.y - 1) as usize;
                    if index < self.list_len(pane) {
                        self.select(pane, index);
                        out.extend(self.open_selected());
                    }
                }
                out
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
