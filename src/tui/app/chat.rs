//! Channels and their messages: opening, scrolling back, writing, sending, read marks.

use super::input::step_index;
use super::{App, Delivery, Job, MessageRow, Pane, HISTORY};
use crate::proto::{ChannelKind, Message};

impl App {
    /// Scrolls the chat by `lines` (positive: back in time); asks for older messages when
    /// the top is reached.
    pub(super) fn scroll_chat(&mut self, lines: i64) -> Vec<Job> {
        let Some(id) = self.current.clone() else {
            return Vec::new();
        };
        // The view stops where the oldest message reaches the top of the pane (as last
        // drawn), not with it alone over a blank pane.
        let top = (self.drawn_for.as_deref() == Some(id.as_str())).then_some(self.areas.chat_top);
        let Some(log) = self.logs.get_mut(&id) else {
            return Vec::new();
        };
        let max = log.rows.len().saturating_sub(1);
        let max = top.map_or(max, |t| t.min(max));
        log.scroll = step_index(log.scroll, lines, max);
        if log.scroll == 0 {
            log.new_below = 0;
        }
        // One page at a time: more presses at the top wait for the page on its way.
        if (log.scroll + 20 >= log.rows.len() || log.scroll == max)
            && !log.complete
            && !log.loading
            && lines > 0
        {
            if let Some(seq) = log.rows.first().and_then(|r| r.seq) {
                log.loading = true;
                return vec![Job::LoadOlder {
                    channel_id: id,
                    before_seq: seq,
                }];
            }
        }
        Vec::new()
    }

    pub(super) fn open_selected(&mut self) -> Vec<Job> {
        match self.focus {
            Pane::Channels => {
                let id = self
                    .visible_channels()
                    .get(self.selection(Pane::Channels))
                    .map(|c| c.channel_id.clone());
                self.filtering = false;
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
                            None => vec![Job::OpenDirect { user_id }],
                        }
                    }
                    None => Vec::new(),
                }
            }
            Pane::Calls => self.open_call_row(),
            Pane::Chat => Vec::new(),
        }
    }

    /// Shows a channel; loads it the first time.
    pub fn open_channel(&mut self, channel_id: &str) -> Vec<Job> {
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
        // Where you left off: the unread line goes above the first message not read.
        let unread_after = self
            .channels
            .iter()
            .find(|c| c.channel_id == channel_id)
            .filter(|c| c.unread_count > 0)
            .map(|c| c.read_seq);
        self.history_at = None;
        let log = self.logs.entry(channel_id.to_owned()).or_default();
        log.scroll = 0;
        log.new_below = 0;
        log.unread_after = unread_after;
        let mut out = Vec::new();
        if log.loaded {
            out.extend(self.mark_read_current());
        } else if !log.loading {
            log.loading = true;
            out.push(Job::OpenChannel {
                channel_id: channel_id.to_owned(),
            });
        }
        out
    }

    pub(super) fn mark_read_current(&mut self) -> Vec<Job> {
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
        vec![Job::MarkRead {
            channel_id: id,
            seq: ch.last_seq,
        }]
    }

    pub(super) fn send_draft(&mut self) -> Vec<Job> {
        let Some(id) = self.current.clone() else {
            return Vec::new();
        };
        let text = self
            .drafts
            .get_mut(&id)
            .map(super::editor::Draft::take)
            .unwrap_or_default();
        let text = text.trim_end_matches('\n').to_owned();
        if text.trim().is_empty() {
            return Vec::new();
        }
        self.history_at = None;
        self.drafts.remove(&id);
        if self.history.last() != Some(&text) {
            self.history.push(text.clone());
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
        vec![Job::Send {
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

    pub(super) fn retry_failed(&mut self) -> Vec<Job> {
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
        vec![Job::Retry {
            channel_id: id,
            text: row.text,
        }]
    }

    /// A page of history (oldest first) for a channel: `older` when it goes before what is
    /// there.
    pub fn on_history(
        &mut self,
        channel_id: &str,
        messages: Vec<Message>,
        complete: bool,
    ) -> Vec<Job> {
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
        log.loading = false;
        log.complete = complete;
        let mut jobs = seek(channel_id, log);
        if self.current.as_deref() == Some(channel_id) {
            jobs.extend(self.mark_read_current());
        }
        jobs
    }

    pub(super) fn on_message(&mut self, message: &Message) -> Vec<Job> {
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
                // Scrolled up: the view stays put, and the mark below counts what came.
                if log.scroll > 0 {
                    log.scroll += 1;
                    if !mine {
                        log.new_below += 1;
                    }
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
                // Not to be disturbed: the toast, without the bell.
                if !self.quiet() {
                    out.push(Job::Bell);
                }
            }
        }
        out
    }

    /// A page of history could not be loaded: scrolling back asks again.
    pub fn on_history_failed(&mut self, channel_id: &str, code: &str, detail: &str) {
        if let Some(log) = self.logs.get_mut(channel_id) {
            log.loading = false;
        }
        self.on_failure("history", code, detail);
    }
}

pub(super) fn row_of(m: &Message, _me: &str) -> MessageRow {
    MessageRow {
        seq: Some(m.seq),
        client_id: m.client_id.clone(),
        sender: m.sender.clone(),
        text: m.text.clone(),
        at: m.created_at,
        delivery: Delivery::Sent,
    }
}

/// Goes on towards the message `log` seeks: scrolls to it once loaded, else asks for the
/// page before the oldest loaded (unless one is on its way, or the start is loaded).
pub(super) fn seek(channel_id: &str, log: &mut super::ChannelLog) -> Vec<Job> {
    let Some(seq) = log.seek else {
        return Vec::new();
    };
    if let Some(i) = log.rows.iter().position(|r| r.seq == Some(seq)) {
        log.scroll = log.rows.len() - 1 - i;
        log.seek = None;
        return Vec::new();
    }
    let oldest = log.rows.iter().filter_map(|r| r.seq).min();
    match oldest {
        Some(before_seq) if !log.complete && before_seq > seq => {
            if log.loading {
                return Vec::new();
            }
            log.loading = true;
            vec![Job::LoadOlder {
                channel_id: channel_id.to_owned(),
                before_seq,
            }]
        }
        // Not in the history (deleted, or newer than what is loaded and never seen).
        _ => {
            log.seek = None;
            Vec::new()
        }
    }
}
