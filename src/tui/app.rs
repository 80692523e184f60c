//! The interface's state and everything that changes it. Sans-IO: keys come in as
//! [`Action`]s (through the keymap) or text, session and call news as events, and what the
//! interface wants done goes out as [`Command`]s for the runtime to carry out. Rendering
//! (`ui`) is a pure function of this state.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::i18n::Strings;
use super::keymap::{Action, Key, Keymap, Mode};
use crate::client::call::{CallState, CallView};
use crate::client::session::ConnectionState;
use crate::client::Event;
use crate::media::stats::CallStats;
use crate::proto::{
    Channel, ChannelKind, DeclineReason, Message, Presence, PresenceStatus, UserEntry,
};

/// How many MOS samples the call bar's sparkline keeps.
const QUALITY_HISTORY: usize = 60;
/// How long a toast stays up, in ticks of the 250 ms clock.
const TOAST_TICKS: u32 = 16;

/// What the interface asks the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send a message (queued by the session, retried with the same client id).
    Send {
        channel_id: String,
        text: String,
    },
    /// Send a failed message again.
    Retry {
        channel_id: String,
        text: String,
    },
    /// Load the newest history of a channel and mark it read.
    OpenChannel {
        channel_id: String,
    },
    /// Load messages older than `before_seq`.
    LoadOlder {
        channel_id: String,
        before_seq: u64,
    },
    /// Open (or create) the direct channel with a user.
    OpenDirect {
        user_id: String,
    },
    MarkRead {
        channel_id: String,
        seq: u64,
    },
    Dial {
        users: Vec<String>,
    },
    Answer {
        room_id: String,
    },
    Decline {
        room_id: String,
        reason: DeclineReason,
    },
    Hangup {
        room_id: String,
    },
    Hold {
        room_id: String,
        on: bool,
    },
    Mute {
        room_id: String,
        on: bool,
    },
    Dtmf {
        room_id: String,
        digits: String,
    },
    /// Play or stop the ring tone of an incoming call.
    Ring {
        room_id: String,
        on: bool,
    },
    /// Ring the terminal bell.
    Bell,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Channels,
    Users,
    Calls,
    Chat,
}

const PANES: [Pane; 4] = [Pane::Channels, Pane::Users, Pane::Calls, Pane::Chat];

#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Help { scroll: u16 },
    Incoming { room_id: String },
    Dialpad { room_id: String, sent: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Pending,
    Sent,
    Failed { code: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    pub seq: Option<u64>,
    pub client_id: String,
    pub sender: String,
    pub text: String,
    pub at: DateTime<Utc>,
    pub delivery: Delivery,
}

/// One channel's messages as far as loaded: oldest first, virtualised when drawn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelLog {
    pub rows: Vec<MessageRow>,
    /// Rows scrolled up from the newest.
    pub scroll: usize,
    pub loaded: bool,
    /// The beginning of the channel is loaded.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallRow {
    pub view: CallView,
    pub stats: Option<CallStats>,
    pub quality: VecDeque<f64>,
    pub muted: bool,
    pub dtmf_received: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub ticks_left: u32,
}

/// The mouse-sensitive parts of the screen, as last laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub channels: Rect,
    pub users: Rect,
    pub calls: Rect,
    pub chat: Rect,
    pub composer: Rect,
}

pub struct App {
    pub strings: Strings,
    pub keymap: Keymap,
    pub me: String,
    pub connection: ConnectionState,
    /// A transient remark for the status line (session renewed, ...) and the ticks it
    /// stays.
    pub status_note: Option<(String, u32)>,
    /// When the next reconnection attempt is due, for the countdown.
    pub reconnect_at: Option<DateTime<Utc>>,
    pub audio: String,
    pub audio_notice: Option<String>,
    pub channels: Vec<Channel>,
    pub users: Vec<UserEntry>,
    pub calls: Vec<CallRow>,
    pub logs: HashMap<String, ChannelLog>,
    pub drafts: HashMap<String, String>,
    pub current: Option<String>,
    pub focus: Pane,
    pub composing: bool,
    pub filtering: bool,
    pub filter: String,
    pub selected: BTreeMap<&'static str, usize>,
    pub current_call: usize,
    pub modal: Option<Modal>,
    pub toasts: VecDeque<Toast>,
    pub areas: Areas,
    pub now: DateTime<Utc>,
    /// Set whenever something visible changed; the runtime redraws and clears it.
    pub dirty: bool,
}

fn pane_key(p: Pane) -> &'static str {
    match p {
        Pane::Channels => "channels",
        Pane::Users => "users",
        Pane::Calls => "calls",
        Pane::Chat => "chat",
    }
}

impl App {
    pub fn new(strings: Strings, keymap: Keymap) -> App {
        App {
            strings,
            keymap,
            me: String::new(),
            connection: ConnectionState::Connecting,
            status_note: None,
            reconnect_at: None,
            audio: "null".into(),
            audio_notice: None,
            channels: Vec::new(),
            users: Vec::new(),
            calls: Vec::new(),
            logs: HashMap::new(),
            drafts: HashMap::new(),
            current: None,
            focus: Pane::Channels,
            composing: false,
            filtering: false,
            filter: String::new(),
            selected: BTreeMap::new(),
            current_call: 0,
            modal: None,
            toasts: VecDeque::new(),
            areas: Areas::default(),
            now: Utc::now(),
            dirty: true,
        }
    }

    // ---- lookups -------------------------------------------------------------------

    pub fn selection(&self, pane: Pane) -> usize {
        self.selected.get(pane_key(pane)).copied().unwrap_or(0)
    }

    fn select(&mut self, pane: Pane, index: usize) {
        self.selected.insert(pane_key(pane), index);
    }

    /// Users shown in the people pane: the filter applied, others than me, online first.
    pub fn visible_users(&self) -> Vec<&UserEntry> {
        let f = self.filter.to_lowercase();
        let mut v: Vec<&UserEntry> = self
            .users
            .iter()
            .filter(|u| u.user_id != self.me)
            .filter(|u| {
                f.is_empty()
                    || u.user_id.to_lowercase().contains(&f)
                    || u.display_name.to_lowercase().contains(&f)
            })
            .collect();
        v.sort_by(|a, b| {
            let offline = |u: &UserEntry| u.presence.status == PresenceStatus::Offline;
            (offline(a), &a.user_id).cmp(&(offline(b), &b.user_id))
        });
        v
    }

    /// Channels, most recently active first.
    pub fn visible_channels(&self) -> Vec<&Channel> {
        let mut v: Vec<&Channel> = self.channels.iter().collect();
        v.sort_by(|a, b| {
            let at = |c: &Channel| {
                c.last_message
                    .as_ref()
                    .map_or(c.created_at, |m| m.created_at)
            };
            at(b).cmp(&at(a)).then(a.channel_id.cmp(&b.channel_id))
        });
        v
    }

    /// How a channel is called: the other person for a direct channel, else its name.
    pub fn channel_title(&self, c: &Channel) -> String {
        match c.kind {
            ChannelKind::Direct => c
                .participants
                .iter()
                .find(|p| **p != self.me)
                .map(|p| self.display_name(p))
                .unwrap_or_else(|| c.channel_id.clone()),
            ChannelKind::Group => c
                .name
                .clone()
                .map(|n| format!("#{n}"))
                .unwrap_or_else(|| c.channel_id.clone()),
        }
    }

    pub fn display_name(&self, user_id: &str) -> String {
        self.users
            .iter()
            .find(|u| u.user_id == user_id)
            .map(|u| u.display_name.clone())
            .unwrap_or_else(|| user_id.to_owned())
    }

    pub fn presence_of(&self, user_id: &str) -> Option<&Presence> {
        self.users
            .iter()
            .find(|u| u.user_id == user_id)
            .map(|u| &u.presence)
    }

    pub fn current_channel(&self) -> Option<&Channel> {
        let id = self.current.as_ref()?;
        self.channels.iter().find(|c| &c.channel_id == id)
    }

    /// The call the call bar shows and the call keys act on.
    pub fn active_call(&self) -> Option<&CallRow> {
        self.calls.get(self.current_call)
    }

    /// The other parties of a call, for display.
    pub fn call_peers(&self, view: &CallView) -> String {
        let names: Vec<String> = view
            .call
            .participants
            .iter()
            .filter(|p| p.user_id != view.me)
            .map(|p| self.display_name(&p.user_id))
            .collect();
        names.join(", ")
    }

    pub fn mode(&self) -> Mode {
        match &self.modal {
            Some(Modal::Incoming { .. }) => Mode::Incoming,
            Some(Modal::Dialpad { .. }) => Mode::Dialpad,
            // Help takes only its own keys (scrolling, closing) besides global ones.
            Some(Modal::Help { .. }) => Mode::Global,
            None if self.composing => Mode::Composer,
            None if self.focus == Pane::Chat => Mode::Chat,
            None => Mode::List,
        }
    }

    // ---- input ---------------------------------------------------------------------

    /// A key press; returns what to do.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
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

    fn lookup(&self, mode: Mode, key: &Key) -> Option<Action> {
        self.keymap.action(mode, key)
    }

    fn draft_mut(&mut self) -> Option<&mut String> {
        let id = self.current.clone()?;
        Some(self.drafts.entry(id).or_default())
    }

    pub fn on_action(&mut self, action: Action) -> Vec<Command> {
        self.dirty = true;
        let mut out = Vec::new();
        match action {
            Action::Quit => out.push(Command::Quit),
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
                    out.push(Command::Ring {
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
                    out.push(Command::Hangup {
                        room_id: c.view.call.room_id.clone(),
                    });
                }
            }
            Action::ToggleHold => {
                if let Some(c) = self.active_call() {
                    out.push(Command::Hold {
                        room_id: c.view.call.room_id.clone(),
                        on: !c.view.local_hold,
                    });
                }
            }
            Action::ToggleMute => {
                if let Some(c) = self.calls.get_mut(self.current_call) {
                    c.muted = !c.muted;
                    out.push(Command::Mute {
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

    fn list_len(&self, pane: Pane) -> usize {
        match pane {
            Pane::Channels => self.channels.len(),
            Pane::Users => self.visible_users().len(),
            Pane::Calls => self.calls.len(),
            Pane::Chat => 0,
        }
    }

    fn move_selection(&mut self, delta: i64) {
        if self.focus == Pane::Chat {
            self.scroll_chat(-delta);
            return;
        }
        let len = self.list_len(self.focus);
        if len == 0 {
            return;
        }
        let cur = self.selection(self.focus) as i64;
        let next = (cur + delta).clamp(0, len as i64 - 1) as usize;
        self.select(self.focus, next);
        if self.focus == Pane::Calls {
            self.current_call = next;
        }
    }

    /// Scrolls the chat by `lines` (positive: back in time); asks for older messages when
    /// the top is reached.
    fn scroll_chat(&mut self, lines: i64) -> Vec<Command> {
        let Some(id) = self.current.clone() else {
            return Vec::new();
        };
        let Some(log) = self.logs.get_mut(&id) else {
            return Vec::new();
        };
        let max = log.rows.len().saturating_sub(1);
        log.scroll = (log.scroll as i64 + lines).clamp(0, max as i64) as usize;
        if log.scroll + 20 >= log.rows.len() && !log.complete {
            if let Some(seq) = log.rows.first().and_then(|r| r.seq) {
                return vec![Command::LoadOlder {
                    channel_id: id,
                    before_seq: seq,
                }];
            }
        }
        Vec::new()
    }

    fn open_selected(&mut self) -> Vec<Command> {
        match self.focus {
            Pane::Channels => {
                let id = self
                    .visible_channels()
                    .get(self.selection(Pane::Channels))
                    .map(|c| c.channel_id.clone());
                match id {
                    Some(id) => self.open_channel(&id),
                    None => Vec::new(),
                }
            }
            Pane::Users => {
                let user = self
                    .visible_users()
                    .get(self.selection(Pane::Users))
                    .map(|u| u.user_id.clone());
                self.filtering = false;
                match user {
                    Some(user_id) => {
                        // An existing direct channel opens at once; else it is created.
                        let existing = self
                            .channels
                            .iter()
                            .find(|c| {
                                c.kind == ChannelKind::Direct && c.participants.contains(&user_id)
                            })
                            .map(|c| c.channel_id.clone());
                        match existing {
                            Some(id) => self.open_channel(&id),
                            None => vec![Command::OpenDirect { user_id }],
                        }
                    }
                    None => Vec::new(),
                }
            }
            Pane::Calls => {
                self.current_call = self
                    .selection(Pane::Calls)
                    .min(self.calls.len().saturating_sub(1));
                Vec::new()
            }
            Pane::Chat => Vec::new(),
        }
    }

    /// Shows a channel; loads it the first time.
    pub fn open_channel(&mut self, channel_id: &str) -> Vec<Command> {
        self.dirty = true;
        self.current = Some(channel_id.to_owned());
        self.focus = Pane::Chat;
        if let Some(i) = self
            .visible_channels()
            .iter()
            .position(|c| c.channel_id == channel_id)
        {
            self.select(Pane::Channels, i);
        }
        let log = self.logs.entry(channel_id.to_owned()).or_default();
        log.scroll = 0;
        let mut out = Vec::new();
        if !log.loaded {
            out.push(Command::OpenChannel {
                channel_id: channel_id.to_owned(),
            });
        } else {
            out.extend(self.mark_read_current());
        }
        out
    }

    fn mark_read_current(&mut self) -> Vec<Command> {
        let Some(id) = self.current.clone() else {
            return Vec::new();
        };
        let Some(ch) = self.channels.iter_mut().find(|c| c.channel_id == id) else {
            return Vec::new();
        };
        if ch.unread_count == 0 && ch.read_seq >= ch.last_seq {
            return Vec::new();
        }
        ch.unread_count = 0;
        ch.read_seq = ch.last_seq;
        vec![Command::MarkRead {
            channel_id: id,
            seq: ch.last_seq,
        }]
    }

    fn send_draft(&mut self) -> Vec<Command> {
        let Some(id) = self.current.clone() else {
            return Vec::new();
        };
        let text = self.drafts.remove(&id).unwrap_or_default();
        let text = text.trim_end_matches('\n').to_owned();
        if text.trim().is_empty() {
            return Vec::new();
        }
        vec![Command::Send {
            channel_id: id,
            text,
        }]
    }

    /// The runtime queued a message: show it as pending.
    pub fn on_queued(&mut self, channel_id: &str, client_id: &str, text: &str) {
        self.dirty = true;
        let me = self.me.clone();
        let log = self.logs.entry(channel_id.to_owned()).or_default();
        log.rows.push(MessageRow {
            seq: None,
            client_id: client_id.to_owned(),
            sender: me,
            text: text.to_owned(),
            at: self.now,
            delivery: Delivery::Pending,
        });
        log.scroll = 0;
    }

    fn retry_failed(&mut self) -> Vec<Command> {
        let Some(id) = self.current.clone() else {
            return Vec::new();
        };
        let Some(log) = self.logs.get_mut(&id) else {
            return Vec::new();
        };
        let Some(i) = log
            .rows
            .iter()
            .rposition(|r| matches!(r.delivery, Delivery::Failed { .. }))
        else {
            return Vec::new();
        };
        let row = log.rows.remove(i);
        vec![Command::Retry {
            channel_id: id,
            text: row.text,
        }]
    }

    fn dial_selected(&mut self) -> Vec<Command> {
        let user = match self.focus {
            Pane::Users => self
                .visible_users()
                .get(self.selection(Pane::Users))
                .map(|u| u.user_id.clone()),
            Pane::Channels | Pane::Chat => {
                let ch = if self.focus == Pane::Chat {
                    self.current_channel()
                } else {
                    self.visible_channels()
                        .get(self.selection(Pane::Channels))
                        .copied()
                };
                ch.filter(|c| c.kind == ChannelKind::Direct)
                    .and_then(|c| c.participants.iter().find(|p| **p != self.me).cloned())
            }
            Pane::Calls => None,
        };
        match user {
            Some(u) => vec![Command::Dial { users: vec![u] }],
            None => Vec::new(),
        }
    }

    fn ringing_room(&self) -> Option<String> {
        if let Some(Modal::Incoming { room_id }) = &self.modal {
            return Some(room_id.clone());
        }
        self.calls
            .iter()
            .find(|c| c.view.state == CallState::Ringing)
            .map(|c| c.view.call.room_id.clone())
    }

    /// Answers call `room_id`, or the one ringing; a call in progress is held.
    pub fn answer(&mut self, room_id: Option<String>) -> Vec<Command> {
        let Some(room_id) = room_id.or_else(|| self.ringing_room()) else {
            return Vec::new();
        };
        self.modal = None;
        let mut out = Vec::new();
        // Taking a second call holds the one in progress.
        for c in &self.calls {
            if c.view.call.room_id != room_id
                && matches!(c.view.state, CallState::Connected)
                && !c.view.local_hold
            {
                out.push(Command::Hold {
                    room_id: c.view.call.room_id.clone(),
                    on: true,
                });
            }
        }
        if let Some(i) = self
            .calls
            .iter()
            .position(|c| c.view.call.room_id == room_id)
        {
            self.current_call = i;
        }
        out.push(Command::Answer { room_id });
        out
    }

    fn decline_ringing(&mut self, reason: DeclineReason) -> Vec<Command> {
        let Some(room_id) = self.ringing_room() else {
            return Vec::new();
        };
        self.modal = None;
        vec![Command::Decline { room_id, reason }]
    }

    fn switch_call(&mut self) -> Vec<Command> {
        if self.calls.len() < 2 {
            return Vec::new();
        }
        let next = (self.current_call + 1) % self.calls.len();
        let mut out = Vec::new();
        if let Some(c) = self.active_call() {
            if !c.view.local_hold && !c.view.is_ended() {
                out.push(Command::Hold {
                    room_id: c.view.call.room_id.clone(),
                    on: true,
                });
            }
        }
        self.current_call = next;
        self.select(Pane::Calls, next);
        if let Some(c) = self.active_call() {
            if c.view.local_hold {
                out.push(Command::Hold {
                    room_id: c.view.call.room_id.clone(),
                    on: false,
                });
            }
        }
        out
    }

    fn dialpad_digit(&mut self, digit: char) -> Vec<Command> {
        if let Some(Modal::Dialpad { room_id, sent }) = &mut self.modal {
            sent.push(digit);
            return vec![Command::Dtmf {
                room_id: room_id.clone(),
                digits: digit.to_string(),
            }];
        }
        Vec::new()
    }

    /// A mouse event: clicks select panes and items, the wheel scrolls.
    pub fn on_mouse(&mut self, m: MouseEvent) -> Vec<Command> {
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

    // ---- news from the session and the calls ----------------------------------------

    /// The session's view at start: who I am, channels and people.
    pub fn on_loaded(&mut self, me: String, channels: Vec<Channel>, users: Vec<UserEntry>) {
        self.me = me;
        self.channels = channels;
        self.users = users;
        self.dirty = true;
    }

    /// A page of history (oldest first) for a channel: `older` when it goes before what is
    /// there.
    pub fn on_history(
        &mut self,
        channel_id: &str,
        messages: Vec<Message>,
        complete: bool,
    ) -> Vec<Command> {
        self.dirty = true;
        let me = self.me.clone();
        let log = self.logs.entry(channel_id.to_owned()).or_default();
        let known: std::collections::HashSet<u64> = log.rows.iter().filter_map(|r| r.seq).collect();
        let mut older: Vec<MessageRow> = messages
            .into_iter()
            .filter(|m| !known.contains(&m.seq))
            .map(|m| row_of(&m, &me))
            .collect();
        let first_known = log.rows.iter().filter_map(|r| r.seq).min();
        if first_known.is_some_and(|f| older.iter().all(|r| r.seq.is_some_and(|s| s < f))) {
            older.append(&mut log.rows);
            log.rows = older;
        } else {
            log.rows.extend(older);
            log.rows.sort_by_key(|r| r.seq.unwrap_or(u64::MAX));
        }
        log.loaded = true;
        log.complete = complete;
        if self.current.as_deref() == Some(channel_id) {
            self.mark_read_current()
        } else {
            Vec::new()
        }
    }

    /// One session event; returns what follows from it (bell, read marks, ...).
    pub fn on_event(&mut self, event: &Event) -> Vec<Command> {
        self.dirty = true;
        let mut out = Vec::new();
        match event {
            Event::Connection { state } => {
                self.reconnect_at = match state {
                    ConnectionState::Reconnecting { retry_in_ms, .. } => {
                        Some(self.now + chrono::Duration::milliseconds(*retry_in_ms as i64))
                    }
                    _ => None,
                };
                self.connection = state.clone();
            }
            Event::Ready { user_id, .. } => self.me.clone_from(user_id),
            Event::TokenRefreshed { .. } => {
                self.status_note = Some((
                    self.strings.get("conn.token_refreshed").to_owned(),
                    TOAST_TICKS,
                ))
            }
            Event::Message { message } | Event::MessageSent { message } => {
                out.extend(self.on_message(message));
            }
            Event::MessageFailed {
                client_id,
                channel_id,
                code,
                ..
            } => {
                if let Some(row) = self
                    .logs
                    .get_mut(channel_id)
                    .and_then(|l| l.rows.iter_mut().find(|r| &r.client_id == client_id))
                {
                    row.delivery = Delivery::Failed { code: code.clone() };
                }
            }
            Event::ChannelAdded { channel }
                if !self
                    .channels
                    .iter()
                    .any(|c| c.channel_id == channel.channel_id) =>
            {
                self.channels.push(channel.clone());
            }
            Event::ChannelRemoved { channel_id } => {
                self.channels.retain(|c| &c.channel_id != channel_id);
                self.logs.remove(channel_id);
                if self.current.as_ref() == Some(channel_id) {
                    self.current = None;
                    self.composing = false;
                }
            }
            Event::Read { state } => {
                if let Some(c) = self
                    .channels
                    .iter_mut()
                    .find(|c| c.channel_id == state.channel_id)
                {
                    c.read_seq = state.read_seq;
                    c.unread_count = state.unread_count;
                }
            }
            Event::Presence { presence } => {
                match self
                    .users
                    .iter_mut()
                    .find(|u| u.user_id == presence.user_id)
                {
                    Some(u) => u.presence = presence.clone(),
                    None => self.users.push(UserEntry {
                        user_id: presence.user_id.clone(),
                        display_name: presence.user_id.clone(),
                        presence: presence.clone(),
                    }),
                }
            }
            Event::CallIncoming { call } => {
                let who = self.display_name(&call.caller);
                self.modal = Some(Modal::Incoming {
                    room_id: call.room_id.clone(),
                });
                self.toast(self.strings.fmt("toast.incoming", &[("who", &who)]));
                out.push(Command::Bell);
            }
            Event::Call { view } => self.on_call_view(view),
            _ => {}
        }
        out
    }

    fn on_message(&mut self, message: &Message) -> Vec<Command> {
        let me = self.me.clone();
        let mine = message.sender == me;
        let open_here = self.current.as_deref() == Some(message.channel_id.as_str());
        let log = self.logs.entry(message.channel_id.clone()).or_default();
        match log.rows.iter_mut().find(|r| {
            r.seq == Some(message.seq) || (r.seq.is_none() && r.client_id == message.client_id)
        }) {
            Some(row) => *row = row_of(message, &me),
            None => {
                let row = row_of(message, &me);
                // Sorted by sequence number; our pending messages stay at the end.
                let pos = log
                    .rows
                    .iter()
                    .position(|r| r.seq.is_none_or(|s| s > message.seq))
                    .unwrap_or(log.rows.len());
                log.rows.insert(pos, row);
                if log.scroll > 0 {
                    log.scroll += 1;
                }
            }
        }
        let mut out = Vec::new();
        if let Some(c) = self
            .channels
            .iter_mut()
            .find(|c| c.channel_id == message.channel_id)
        {
            if message.seq > c.last_seq {
                c.last_seq = message.seq;
                c.last_message = Some(message.clone());
                if !mine {
                    c.unread_count += 1;
                }
            }
        }
        if !mine {
            if open_here {
                out.extend(self.mark_read_current());
            } else {
                let who = self.display_name(&message.sender);
                let text: String = message.text.chars().take(60).collect();
                self.toast(
                    self.strings
                        .fmt("toast.message", &[("who", &who), ("text", &text)]),
                );
                out.push(Command::Bell);
            }
        }
        out
    }

    fn on_call_view(&mut self, view: &CallView) {
        let room = view.call.room_id.clone();
        match self.calls.iter_mut().find(|c| c.view.call.room_id == room) {
            Some(row) => row.view = view.clone(),
            None => {
                if view.is_ended() {
                    return;
                }
                self.calls.push(CallRow {
                    view: view.clone(),
                    stats: None,
                    quality: VecDeque::new(),
                    muted: false,
                    dtmf_received: String::new(),
                });
                // A call placed here becomes the current one.
                if view.state == CallState::Dialing {
                    self.current_call = self.calls.len() - 1;
                }
            }
        }
        if view.state != CallState::Ringing
            && matches!(&self.modal, Some(Modal::Incoming { room_id }) if *room_id == room)
        {
            self.modal = None;
        }
        if view.is_ended() {
            if let CallState::Ended { reason } = view.state {
                let who = self.call_peers(view);
                let reason_text = self.strings.get(&reason_key(reason)).to_owned();
                if reason_is_timeout(view) {
                    self.toast(self.strings.fmt("toast.missed", &[("who", &who)]));
                } else {
                    self.toast(
                        self.strings
                            .fmt("call.ended", &[("who", &who), ("reason", &reason_text)]),
                    );
                }
            }
            if matches!(&self.modal, Some(Modal::Dialpad { room_id, .. }) if *room_id == room) {
                self.modal = None;
            }
            self.calls.retain(|c| c.view.call.room_id != room);
            if self.current_call >= self.calls.len() {
                self.current_call = self.calls.len().saturating_sub(1);
            }
        }
    }

    /// Fresh statistics of a call (every second or so).
    pub fn on_call_stats(&mut self, room_id: &str, stats: CallStats) {
        if let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.view.call.room_id == room_id)
        {
            c.quality.push_back(stats.mos);
            while c.quality.len() > QUALITY_HISTORY {
                c.quality.pop_front();
            }
            c.stats = Some(stats);
            self.dirty = true;
        }
    }

    pub fn on_call_dtmf(&mut self, room_id: &str, digit: char) {
        if let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.view.call.room_id == room_id)
        {
            c.dtmf_received.push(digit);
            self.dirty = true;
        }
    }

    /// A failure the user should see (a call that could not be placed, ...).
    pub fn on_error(&mut self, message: &str) {
        self.toast(self.strings.fmt("toast.error", &[("message", message)]));
    }

    pub fn toast(&mut self, text: String) {
        self.toasts.push_back(Toast {
            text,
            ticks_left: TOAST_TICKS,
        });
        while self.toasts.len() > 3 {
            self.toasts.pop_front();
        }
        self.dirty = true;
    }

    /// The 250 ms clock: timers, toasts.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.now = now;
        if let Some((_, ticks)) = &mut self.status_note {
            *ticks = ticks.saturating_sub(1);
            if *ticks == 0 {
                self.status_note = None;
                self.dirty = true;
            }
        }
        if self.reconnect_at.is_some() {
            self.dirty = true;
        }
        for t in self.toasts.iter_mut() {
            t.ticks_left = t.ticks_left.saturating_sub(1);
        }
        let before = self.toasts.len();
        self.toasts.retain(|t| t.ticks_left > 0);
        // A running call's timer changes every second.
        if before != self.toasts.len() || !self.calls.is_empty() {
            self.dirty = true;
        }
    }
}

/// An incoming call that rang out unanswered.
fn reason_is_timeout(view: &CallView) -> bool {
    view.state
        == CallState::Ended {
            reason: crate::proto::EndReason::Timeout,
        }
        && view.direction == crate::client::call::Direction::Incoming
}

fn row_of(m: &Message, _me: &str) -> MessageRow {
    MessageRow {
        seq: Some(m.seq),
        client_id: m.client_id.clone(),
        sender: m.sender.clone(),
        text: m.text.clone(),
        at: m.created_at,
        delivery: Delivery::Sent,
    }
}

pub fn reason_key(reason: crate::proto::EndReason) -> String {
    let word = serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("reason.{word}")
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
