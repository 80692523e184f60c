//! Finding and making things: the quick switcher (any channel or person by name), message
//! search in the open conversation (served by the server's `search` on the messages route),
//! and a new group channel.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::chat::row_of;
use super::input::step_index;
use super::{App, Job, MessageRow, Modal, SwitchPurpose};
use crate::proto::{ChannelKind, Message, ParticipantState};

/// Where a switcher entry leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchTarget {
    Channel(String),
    /// A person without a direct channel yet: opening creates it.
    User(String),
}

/// One entry of the quick switcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchItem {
    pub label: String,
    pub target: SwitchTarget,
}

/// What a search window shows.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchState {
    /// Being typed; Enter searches.
    Typing,
    /// Asked; the answer is on its way.
    Searching,
    /// The matches, newest first.
    Results(Vec<MessageRow>),
    /// The search could not be made: why, in the interface's language (Enter tries again).
    Failed(String),
}

/// The key a text field takes: a character typed, a character removed, or neither.
enum FieldKey {
    Typed(char),
    Erased,
    Other,
}

fn field_key(key: &KeyEvent) -> FieldKey {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            FieldKey::Typed(c)
        }
        KeyCode::Backspace => FieldKey::Erased,
        _ => FieldKey::Other,
    }
}

/// A move through a list: Up/Down, ctrl-p/ctrl-n.
fn list_move(key: &KeyEvent) -> Option<i64> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Up => Some(-1),
        KeyCode::Down => Some(1),
        KeyCode::Char('p') if ctrl => Some(-1),
        KeyCode::Char('n') if ctrl => Some(1),
        KeyCode::PageUp => Some(-10),
        KeyCode::PageDown => Some(10),
        _ => None,
    }
}

impl App {
    /// Every channel and every person without a direct channel, matching `query` (in the
    /// name or the id, without case), channels by recent activity first.
    pub fn switcher_items(&self, query: &str) -> Vec<SwitchItem> {
        let q = query.to_lowercase();
        let matches = |label: &str, id: &str| {
            q.is_empty() || label.to_lowercase().contains(&q) || id.to_lowercase().contains(&q)
        };
        let mut items: Vec<SwitchItem> = self
            .all_channels_by_activity()
            .into_iter()
            .map(|c| (self.channel_title(c), c.channel_id.clone()))
            .filter(|(label, id)| matches(label, id))
            .map(|(label, id)| SwitchItem {
                label,
                target: SwitchTarget::Channel(id),
            })
            .collect();
        for u in &self.users {
            let has_direct = self
                .channels
                .iter()
                .any(|c| c.kind == ChannelKind::Direct && c.participants.contains(&u.user_id));
            if u.user_id != self.me && !has_direct && matches(&u.display_name, &u.user_id) {
                items.push(SwitchItem {
                    label: u.display_name.clone(),
                    target: SwitchTarget::User(u.user_id.clone()),
                });
            }
        }
        items
    }

    pub(super) fn open_switcher(&mut self) {
        self.open_switcher_for(SwitchPurpose::Open);
    }

    pub(super) fn open_switcher_for(&mut self, purpose: SwitchPurpose) {
        self.modal = Some(Modal::Switcher {
            query: String::new(),
            selected: 0,
            purpose,
        });
    }

    /// What the switcher lists for `purpose`: channels and people to open, or the people
    /// a call can go to (not you, not those in it).
    pub fn switcher_items_for(&self, purpose: &SwitchPurpose, query: &str) -> Vec<SwitchItem> {
        let SwitchPurpose::HandOver { room_id, .. } = purpose else {
            return self.switcher_items(query);
        };
        let q = query.to_lowercase();
        let call = self.calls.iter().find(|c| c.view.call.room_id == *room_id);
        let in_call = |u: &str| {
            call.is_some_and(|c| {
                c.view.call.participant(u).is_some_and(|p| {
                    matches!(
                        p.state,
                        ParticipantState::Calling
                            | ParticipantState::Joined
                            | ParticipantState::Ringing
                    )
                })
            })
        };
        self.users
            .iter()
            .filter(|u| u.user_id != self.me && !in_call(&u.user_id))
            .filter(|u| {
                q.is_empty()
                    || u.display_name.to_lowercase().contains(&q)
                    || u.user_id.to_lowercase().contains(&q)
            })
            .map(|u| SwitchItem {
                label: u.display_name.clone(),
                target: SwitchTarget::User(u.user_id.clone()),
            })
            .collect()
    }

    pub(super) fn open_search(&mut self) {
        if let Some(channel_id) = self.current.clone() {
            self.modal = Some(Modal::Search {
                channel_id,
                query: String::new(),
                state: SearchState::Typing,
                selected: 0,
            });
        }
    }

    /// A key while the switcher is up.
    pub(super) fn on_switcher_key(&mut self, key: &KeyEvent) -> Vec<Job> {
        let Some(Modal::Switcher { query, purpose, .. }) = &self.modal else {
            return Vec::new();
        };
        let n = self.switcher_items_for(purpose, query).len();
        let Some(Modal::Switcher {
            query,
            selected,
            purpose,
        }) = &mut self.modal
        else {
            return Vec::new();
        };
        if let Some(delta) = list_move(key) {
            *selected = step_index(*selected, delta, n.saturating_sub(1));
            return Vec::new();
        }
        match (key.code, field_key(key)) {
            (KeyCode::Esc, _) => self.modal = None,
            (KeyCode::Enter, _) => {
                let (query, selected, purpose) = (query.clone(), *selected, purpose.clone());
                self.modal = None;
                let item = self
                    .switcher_items_for(&purpose, &query)
                    .into_iter()
                    .nth(selected);
                return match (item.map(|i| i.target), purpose) {
                    (Some(SwitchTarget::User(to)), SwitchPurpose::HandOver { room_id, op }) => {
                        self.hand_over(room_id, op, to)
                    }
                    (Some(SwitchTarget::Channel(id)), _) => self.open_channel(&id),
                    (Some(SwitchTarget::User(user_id)), _) => vec![Job::OpenDirect { user_id }],
                    (None, _) => Vec::new(),
                };
            }
            (_, FieldKey::Typed(c)) => {
                query.push(c);
                *selected = 0;
            }
            (_, FieldKey::Erased) => {
                query.pop();
                *selected = 0;
            }
            _ => {}
        }
        Vec::new()
    }

    /// A key while the search window is up.
    pub(super) fn on_search_key(&mut self, key: &KeyEvent) -> Vec<Job> {
        let Some(Modal::Search {
            channel_id,
            query,
            state,
            selected,
        }) = &mut self.modal
        else {
            return Vec::new();
        };
        if let (Some(delta), SearchState::Results(rows)) = (list_move(key), &*state) {
            *selected = step_index(*selected, delta, rows.len().saturating_sub(1));
            return Vec::new();
        }
        match (key.code, field_key(key)) {
            (KeyCode::Esc, _) => self.modal = None,
            (KeyCode::Enter, _) => match state {
                SearchState::Results(rows) => {
                    let seq = rows.get(*selected).and_then(|r| r.seq);
                    let channel_id = channel_id.clone();
                    self.modal = None;
                    if let Some(seq) = seq {
                        return self.jump_to(&channel_id, seq);
                    }
                }
                _ if !query.trim().is_empty() => {
                    *state = SearchState::Searching;
                    return vec![Job::Search {
                        channel_id: channel_id.clone(),
                        query: query.clone(),
                    }];
                }
                _ => {}
            },
            (_, FieldKey::Typed(c)) => {
                query.push(c);
                *state = SearchState::Typing;
                *selected = 0;
            }
            (_, FieldKey::Erased) => {
                query.pop();
                *state = SearchState::Typing;
                *selected = 0;
            }
            _ => {}
        }
        Vec::new()
    }

    /// A key while the new-group prompt is up: `name user user`, Enter creates it.
    pub(super) fn on_new_group_key(&mut self, key: &KeyEvent) -> Vec<Job> {
        let Some(Modal::NewGroup { text }) = &mut self.modal else {
            return Vec::new();
        };
        match (key.code, field_key(key)) {
            (KeyCode::Esc, _) => self.modal = None,
            (KeyCode::Enter, _) => {
                if let Some((name, members)) = parse_group(text) {
                    self.modal = None;
                    return vec![Job::CreateGroup { name, members }];
                }
            }
            (_, FieldKey::Typed(c)) => text.push(c),
            (_, FieldKey::Erased) => {
                text.pop();
            }
            _ => {}
        }
        Vec::new()
    }

    /// Pasted text while the switcher or the search window is up: into its query (the
    /// first line).
    pub(super) fn paste_into_finder(&mut self, text: &str) -> bool {
        let line = text.split(['\r', '\n']).next().unwrap_or_default();
        match &mut self.modal {
            Some(Modal::Switcher {
                query, selected, ..
            }) => {
                query.push_str(line);
                *selected = 0;
                true
            }
            Some(Modal::Search {
                query,
                state,
                selected,
                ..
            }) => {
                query.push_str(line);
                *state = SearchState::Typing;
                *selected = 0;
                true
            }
            Some(Modal::NewGroup { text }) => {
                text.push_str(line);
                true
            }
            _ => false,
        }
    }

    /// The server's matches for a search (oldest first, as pages come).
    pub fn on_search_results(&mut self, channel_id: &str, query: &str, messages: &[Message]) {
        self.dirty = true;
        let me = self.me.clone();
        if let Some(Modal::Search {
            channel_id: c,
            query: q,
            state,
            selected,
        }) = &mut self.modal
        {
            if c == channel_id && q == query && *state == SearchState::Searching {
                *state =
                    SearchState::Results(messages.iter().rev().map(|m| row_of(m, &me)).collect());
                *selected = 0;
            }
        }
    }

    /// The search could not be made: the window says why (and the notices keep it).
    pub fn on_search_failed(&mut self, code: &str, detail: &str) {
        self.on_failure("search", code, detail);
        let why = self
            .notices
            .front()
            .map(|n| n.text.clone())
            .unwrap_or_default();
        if let Some(Modal::Search { state, .. }) = &mut self.modal {
            *state = SearchState::Failed(why);
        }
    }

    /// Shows message `seq` of a channel: scrolled to when it is loaded, else older pages
    /// load until it is (see [`ChannelLog::seek`]).
    fn jump_to(&mut self, channel_id: &str, seq: u64) -> Vec<Job> {
        let Some(log) = self.logs.get_mut(channel_id) else {
            return Vec::new();
        };
        log.seek = Some(seq);
        let jobs = super::chat::seek(channel_id, log);
        if log.seek.is_some() {
            let text = self.strings.get("search.loading").to_owned();
            self.toast(text);
        }
        jobs
    }
}

/// `name user user` (a leading `#` on the name, `@` and commas around users allowed): the
/// name and at least one member, or nothing.
#[must_use]
pub fn parse_group(text: &str) -> Option<(String, Vec<String>)> {
    let mut words = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty());
    let name = words.next()?.trim_start_matches('#').to_owned();
    let members: Vec<String> = words
        .map(|w| w.trim_start_matches('@').to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    (!name.is_empty() && !members.is_empty()).then_some((name, members))
}
