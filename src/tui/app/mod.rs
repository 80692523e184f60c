//! The interface's state and everything that changes it. Sans-IO: keys come in as
//! [`Action`]s (through the keymap) or text, session and call news as events, and what the
//! interface wants done goes out as [`Job`]s for the runtime to carry out. Rendering
//! (`ui`) is a pure function of this state.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;

mod calls;
mod chat;
mod control;
pub mod editor;
mod finder;
mod input;
mod job;
mod notices;
mod people;
mod presence;
mod voicemail;

pub use calls::reason_key;

pub use control::CtlPlan;
pub use finder::{parse_group, SearchState, SwitchItem, SwitchTarget};
pub use input::key_of;
pub use job::Job;
pub use presence::{Picker, ACTIVITIES};

use self::editor::Draft;
use super::i18n::Strings;
use super::keymap::{Keymap, Mode};
use crate::client::call::CallView;
use crate::client::session::ConnectionState;
use crate::client::Event;
use crate::media::stats::CallStats;
use crate::proto::{CallLogEntry, Channel, ChannelKind, Presence, PresenceStatus, UserEntry};

/// How many MOS samples the call bar's sparkline keeps.
const QUALITY_HISTORY: usize = 60;
/// How long a toast stays up, in ticks of the 250 ms clock.
const TOAST_TICKS: u32 = 16;
/// How many sent messages the composer's history keeps.
const HISTORY: usize = 200;
/// Recent calls kept for the Calls pane.
const RECENT_CALLS: usize = 50;
/// How many notices the notices window keeps.
const NOTICES: usize = 100;

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
    Help {
        scroll: u16,
        /// Only the rows whose keys or description hold this (typed while it is up).
        filter: String,
    },
    Incoming {
        room_id: String,
    },
    Dialpad {
        room_id: String,
        sent: String,
    },
    /// Quitting would end a call or drop a draft: asks first.
    ConfirmQuit {
        calls: usize,
        drafts: usize,
    },
    /// The quick switcher: any channel or person by name; or, to hand a call over, a
    /// person.
    Switcher {
        query: String,
        selected: usize,
        purpose: SwitchPurpose,
    },
    /// A new group channel: its name and members, typed as `name user user`.
    NewGroup {
        text: String,
    },
    /// Everything the user was told, newest first.
    Notices {
        scroll: u16,
    },
    /// The voice messages left for the user.
    Mailbox {
        selected: usize,
    },
    /// A call nobody answered, or one still ringing for someone offline (`ringing`):
    /// leave a voice message? Recording `since` then.
    LeaveVoicemail {
        room_id: String,
        who: String,
        ringing: bool,
        since: Option<DateTime<Utc>>,
    },
    /// What the user says of their presence.
    Presence(Picker),
    /// Searching the messages of a channel.
    Search {
        channel_id: String,
        query: String,
        state: SearchState,
        selected: usize,
    },
}

/// What the switcher picks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchPurpose {
    /// A channel or person to open.
    Open,
    /// Whom call `room_id` goes to: forwarded (it rings here) or transferred (it is up).
    HandOver { room_id: String, op: HandOver },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOver {
    Forward,
    Transfer,
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
    /// A page is on its way (the first, or an older one): no other is asked for meanwhile.
    pub loading: bool,
    /// The beginning of the channel is loaded.
    pub complete: bool,
    /// Messages from others that arrived while scrolled up (the "new below" mark).
    pub new_below: usize,
    /// The last message read when the channel was opened, if some were unread: the unread
    /// line goes after it.
    pub unread_after: Option<u64>,
    /// A message to show once it is loaded (a search match further back): older pages load
    /// one after another until it is.
    pub seek: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallRow {
    pub view: CallView,
    pub stats: Option<CallStats>,
    pub quality: VecDeque<f64>,
    pub muted: bool,
    pub dtmf_received: String,
}

/// Something the user was told (an error, a call that ended, ...), kept for the notices
/// window.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub at: DateTime<Utc>,
    /// In the interface's language.
    pub text: String,
    /// What the software said, untranslated (empty when there is nothing more).
    pub detail: String,
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
    /// How far the open channel's chat scrolls before its oldest loaded message reaches
    /// the top of the pane.
    pub chat_top: usize,
}

/// The interface's state. Only its own methods change it: inputs come in through the `on_*`
/// methods, and what they call for goes out as [`Job`]s.
pub struct App {
    strings: Strings,
    keymap: Keymap,
    me: String,
    connection: ConnectionState,
    /// A transient remark for the status line (session renewed, ...) and the ticks it
    /// stays.
    status_note: Option<(String, u32)>,
    /// When the next reconnection attempt is due, for the countdown.
    reconnect_at: Option<DateTime<Utc>>,
    audio: String,
    audio_notice: Option<String>,
    /// The same, untranslated, for `status`.
    audio_problem: Option<crate::ctl::status::AudioNotice>,
    channels: Vec<Channel>,
    users: Vec<UserEntry>,
    /// Presence news since the session (re)started, newer than the list the load that
    /// follows fetches: laid over it when it arrives.
    presence_news: HashMap<String, Presence>,
    calls: Vec<CallRow>,
    logs: HashMap<String, ChannelLog>,
    drafts: HashMap<String, Draft>,
    /// Messages sent from here, oldest first, for Up in the composer.
    history: Vec<String>,
    /// Where Up/Down is in `history`, and the draft to come back to.
    history_at: Option<(usize, Draft)>,
    /// What the last kill (`ctrl-k`, `ctrl-w`, ...) took, for `ctrl-y`.
    killed: String,
    /// The composer is in its normal mode (vim keymap).
    composer_normal: bool,
    /// The call history from the server, newest first (at most [`RECENT_CALLS`]).
    recent_calls: Vec<CallLogEntry>,
    /// Newest first.
    notices: VecDeque<Notice>,
    notices_unseen: usize,
    /// Missed calls not seen yet (the Calls pane not visited since).
    missed_unseen: u64,
    /// The voice messages waiting, as the server counts them.
    voicemail: crate::proto::VoicemailIndicator,
    /// The voice messages, as last fetched for the mailbox window.
    mailbox: Vec<crate::proto::Voicemail>,
    /// The voice message playing now.
    playing: Option<String>,
    current: Option<String>,
    focus: Pane,
    composing: bool,
    filtering: bool,
    filter: String,
    /// The list the filter applies to (Channels or People).
    filter_pane: Pane,
    selected: BTreeMap<&'static str, usize>,
    current_call: usize,
    modal: Option<Modal>,
    toasts: VecDeque<Toast>,
    areas: Areas,
    /// The channel open when `areas` was laid out.
    drawn_for: Option<String>,
    now: DateTime<Utc>,
    /// Away after this long without input (none: never); the last input; what the user had
    /// set before the interface set them away.
    away_after: Option<chrono::Duration>,
    /// The user's address book.
    contacts: Vec<crate::proto::Contact>,
    /// The People filter text last asked of the directory.
    directory_asked: Option<String>,
    /// When the user last did something (none yet: since the first tick).
    last_input: Option<DateTime<Utc>>,
    auto_away: Option<crate::proto::PresenceSetting>,
    /// Set whenever something visible changed; the runtime redraws and clears it.
    dirty: bool,
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
            audio_problem: None,
            channels: Vec::new(),
            users: Vec::new(),
            presence_news: HashMap::new(),
            calls: Vec::new(),
            logs: HashMap::new(),
            drafts: HashMap::new(),
            history: Vec::new(),
            history_at: None,
            killed: String::new(),
            composer_normal: false,
            recent_calls: Vec::new(),
            notices: VecDeque::new(),
            notices_unseen: 0,
            missed_unseen: 0,
            voicemail: crate::proto::VoicemailIndicator::default(),
            mailbox: Vec::new(),
            playing: None,
            current: None,
            focus: Pane::Channels,
            composing: false,
            filtering: false,
            filter: String::new(),
            filter_pane: Pane::Users,
            selected: BTreeMap::new(),
            current_call: 0,
            modal: None,
            toasts: VecDeque::new(),
            areas: Areas::default(),
            drawn_for: None,
            now: Utc::now(),
            away_after: None,
            last_input: None,
            contacts: Vec::new(),
            directory_asked: None,
            auto_away: None,
            dirty: true,
        }
    }

    /// The sound the calls use (`device` or `null`), as configured.
    #[must_use]
    pub fn with_audio(mut self, backend: &str) -> App {
        backend.clone_into(&mut self.audio);
        self
    }

    // ---- what the view reads ---------------------------------------------------------

    pub fn strings(&self) -> &Strings {
        &self.strings
    }

    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    /// The signed-in user.
    pub fn me(&self) -> &str {
        &self.me
    }

    pub fn connection(&self) -> &ConnectionState {
        &self.connection
    }

    /// A transient remark for the status line.
    pub fn status_note(&self) -> Option<&str> {
        self.status_note.as_ref().map(|(text, _)| text.as_str())
    }

    /// When the next reconnection attempt is due, for the countdown.
    pub fn reconnect_at(&self) -> Option<DateTime<Utc>> {
        self.reconnect_at
    }

    /// `device` or `null`.
    pub fn audio(&self) -> &str {
        &self.audio
    }

    /// Why calls are silent (untranslated), for `status`.
    pub fn audio_problem(&self) -> Option<&crate::ctl::status::AudioNotice> {
        self.audio_problem.as_ref()
    }

    /// Why calls are silent, when the sound card could not be used.
    pub fn audio_notice(&self) -> Option<&str> {
        self.audio_notice.as_deref()
    }

    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    pub fn calls(&self) -> &[CallRow] {
        &self.calls
    }

    /// The index in [`App::calls`] of the call the keys act on.
    pub fn current_call(&self) -> usize {
        self.current_call
    }

    pub fn log(&self, channel_id: &str) -> Option<&ChannelLog> {
        self.logs.get(channel_id)
    }

    /// What is written and not yet sent in a channel.
    pub fn draft(&self, channel_id: &str) -> Option<&str> {
        self.drafts
            .get(channel_id)
            .map(Draft::text)
            .filter(|t| !t.is_empty())
    }

    /// The open channel's draft with its cursor.
    pub fn composer(&self) -> Option<&Draft> {
        self.drafts.get(self.current.as_ref()?)
    }

    /// The composer is in its normal mode (vim keymap): keys move, they do not type.
    pub fn composer_normal(&self) -> bool {
        self.composer_normal
    }

    /// Errors and other news the user was told, newest first.
    pub fn notices(&self) -> &VecDeque<Notice> {
        &self.notices
    }

    /// Notices not seen in the notices window yet.
    pub fn notices_unseen(&self) -> usize {
        self.notices_unseen
    }

    /// Calls that rang here unanswered, newest first.
    /// Recent calls (the server's history), newest first.
    pub fn recent_calls(&self) -> &[CallLogEntry] {
        &self.recent_calls
    }

    /// Missed calls not seen yet: shown on the status line until the Calls pane is visited.
    pub fn missed_unseen(&self) -> u64 {
        self.missed_unseen
    }

    /// The voice messages waiting (`parla voicemail` plays them).
    pub fn voicemail(&self) -> &crate::proto::VoicemailIndicator {
        &self.voicemail
    }

    /// The mailbox as the server had it at start.
    pub fn on_voicemail_indicator(&mut self, indicator: crate::proto::VoicemailIndicator) {
        self.dirty = true;
        self.voicemail = indicator;
    }

    /// A window that takes every key (help, dialpad, the quit question) is up. The
    /// incoming-call window is not one: keys go on where they went.
    pub fn modal_takes_keys(&self) -> bool {
        !matches!(self.modal, None | Some(Modal::Incoming { .. }))
    }

    /// The channel shown.
    pub fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    pub fn focus(&self) -> Pane {
        self.focus
    }

    pub fn composing(&self) -> bool {
        self.composing
    }

    pub fn filtering(&self) -> bool {
        self.filtering
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The list the filter applies to.
    pub fn filter_pane(&self) -> Pane {
        self.filter_pane
    }

    /// The filter of `pane`, when it has one (being typed, or left in place).
    fn filter_of(&self, pane: Pane) -> Option<String> {
        (self.filter_pane == pane && !self.filter.is_empty()).then(|| self.filter.to_lowercase())
    }

    pub fn modal(&self) -> Option<&Modal> {
        self.modal.as_ref()
    }

    pub fn toasts(&self) -> &VecDeque<Toast> {
        &self.toasts
    }

    /// The time of the last tick.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    // ---- the screen ------------------------------------------------------------------

    /// Whether something visible changed since the last call; the runtime redraws then.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// The terminal changed size: everything is drawn again.
    pub fn on_resize(&mut self) {
        self.dirty = true;
    }

    /// Where the panes were drawn, for the mouse.
    pub fn on_drawn(&mut self, areas: Areas) {
        self.areas = areas;
        self.drawn_for.clone_from(&self.current);
    }

    // ---- lookups -------------------------------------------------------------------

    pub fn selection(&self, pane: Pane) -> usize {
        self.selected.get(pane_key(pane)).copied().unwrap_or(0)
    }

    fn select(&mut self, pane: Pane, index: usize) {
        self.selected.insert(pane_key(pane), index);
    }

    /// Users shown in the people pane: the filter applied, others than me, contacts first,
    /// then those online.
    pub fn visible_users(&self) -> Vec<&UserEntry> {
        let f = self.filter_of(Pane::Users).unwrap_or_default();
        let mut v: Vec<&UserEntry> = self
            .users
            .iter()
            .filter(|u| u.user_id != self.me)
            .filter(|u| self.person_matches(u, &f))
            .collect();
        v.sort_by(|a, b| {
            let key = |u: &UserEntry| {
                (
                    self.contact_of(&u.user_id).is_none(),
                    u.presence.status == PresenceStatus::Offline,
                )
            };
            (key(a), &a.user_id).cmp(&(key(b), &b.user_id))
        });
        v
    }

    /// Channels shown in the Channels pane: the filter applied (to the title or id),
    /// most recently active first.
    pub fn visible_channels(&self) -> Vec<&Channel> {
        let mut v = self.all_channels_by_activity();
        if let Some(f) = self.filter_of(Pane::Channels) {
            v.retain(|c| {
                self.channel_title(c).to_lowercase().contains(&f)
                    || c.channel_id.to_lowercase().contains(&f)
            });
        }
        v
    }

    /// Every channel, most recently active first.
    pub fn all_channels_by_activity(&self) -> Vec<&Channel> {
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
                .map_or_else(|| c.channel_id.clone(), |p| self.display_name(p)),
            ChannelKind::Group => c
                .name
                .clone()
                .map_or_else(|| c.channel_id.clone(), |n| format!("#{n}")),
        }
    }

    pub fn display_name(&self, user_id: &str) -> String {
        self.users
            .iter()
            .find(|u| u.user_id == user_id)
            .map_or_else(|| user_id.to_owned(), |u| u.display_name.clone())
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
        // The incoming-call window takes no keys: typing goes on where it went.
        match &self.modal {
            Some(Modal::Dialpad { .. }) => Mode::Dialpad,
            // Other windows take only their own keys besides global ones.
            Some(
                Modal::Help { .. }
                | Modal::ConfirmQuit { .. }
                | Modal::Switcher { .. }
                | Modal::Search { .. }
                | Modal::NewGroup { .. }
                | Modal::Notices { .. },
            ) => Mode::Global,
            _ if self.composing && self.composer_normal => Mode::ComposerNormal,
            _ if self.composing => Mode::Composer,
            _ if self.focus == Pane::Chat => Mode::Chat,
            _ => Mode::List,
        }
    }

    /// The session's view at start: who I am, channels and people.
    pub fn on_loaded(&mut self, me: String, channels: Vec<Channel>, users: Vec<UserEntry>) {
        self.me = me;
        self.channels = channels;
        self.users = users;
        // Someone who came online while the list was on its way is not shown offline.
        for (id, presence) in std::mem::take(&mut self.presence_news) {
            if let Some(u) = self.users.iter_mut().find(|u| u.user_id == id) {
                u.presence = presence;
            }
        }
        self.dirty = true;
    }

    /// One session event; returns what follows from it (bell, read marks, ...).
    pub fn on_event(&mut self, event: &Event) -> Vec<Job> {
        self.dirty = true;
        let mut out = Vec::new();
        match event {
            Event::Connection { state } => {
                self.reconnect_at = match state {
                    ConnectionState::Reconnecting { retry_in_ms, .. } => Some(
                        self.now
                            + chrono::Duration::milliseconds(
                                (*retry_in_ms).min(86_400_000).cast_signed(),
                            ),
                    ),
                    _ => None,
                };
                self.connection = state.clone();
            }
            Event::Ready { user_id, .. } => {
                self.me.clone_from(user_id);
                // The list loaded now is newer than what came before.
                self.presence_news.clear();
            }
            Event::TokenRefreshed { .. } => {
                self.status_note = Some((
                    self.strings.get("conn.token_refreshed").to_owned(),
                    TOAST_TICKS,
                ));
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
                self.presence_news
                    .insert(presence.user_id.clone(), presence.clone());
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
                        profile: crate::proto::Profile::default(),
                    }),
                }
            }
            Event::UserUpdated { user } => self.on_user_updated(user),
            Event::Contact { change, contact } => self.on_contact_change(*change, contact),
            Event::CallHistory {
                change,
                entry,
                room_id,
                missed_unseen,
            } => out.extend(self.on_call_history(
                *change,
                entry.as_ref(),
                room_id.as_deref(),
                *missed_unseen,
            )),
            Event::CallIncoming { call } => {
                let who = self.display_name(&call.caller);
                self.modal = Some(Modal::Incoming {
                    room_id: call.room_id.clone(),
                });
                self.toast(self.strings.fmt("toast.incoming", &[("who", &who)]));
                out.push(Job::Bell);
            }
            Event::Call { view } => self.on_call_view(view),
            Event::CallMoved { from_room, view } => self.on_call_moved(from_room, view),
            // The joined call is this side's current one, and talks again.
            Event::CallOperation {
                room_id,
                operation: crate::client::CallOperation::Join,
                stage: crate::client::OperationStage::Finished,
            } => out.extend(self.on_calls_joined(room_id)),
            Event::Voicemail {
                voicemail,
                indicator,
                ..
            } => {
                self.on_voicemail_indicator(indicator.clone());
                if let Some(v) = voicemail {
                    let who = self.display_name(&v.from);
                    self.toast(self.strings.fmt("toast.voicemail", &[("who", &who)]));
                    if !self.quiet() {
                        out.push(Job::Bell);
                    }
                }
                // An open mailbox stays current (a message left, heard or deleted
                // elsewhere).
                if matches!(self.modal, Some(Modal::Mailbox { .. })) {
                    out.push(Job::LoadMailbox);
                }
            }
            _ => {}
        }
        out
    }

    /// A channel just opened here (a direct channel created on request): shown at once.
    pub fn on_opened(&mut self, channel: Channel) -> Vec<Job> {
        let id = channel.channel_id.clone();
        if !self.channels.iter().any(|c| c.channel_id == id) {
            self.channels.push(channel);
        }
        self.open_channel(&id)
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
        for t in &mut self.toasts {
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
