//! What the user says of their presence: the status picker (availability, activity, note),
//! away after a while without input and back with the next key, and notifications kept
//! quiet while the user is not to be disturbed.

use chrono::Duration;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Job, Modal};
use crate::client::session::ConnectionState;
use crate::proto::{Activity, Availability, PresenceSetting, PresenceStatus, MAX_NOTE_CHARS};

/// The activities the picker steps through with ←/→, none first.
pub const ACTIVITIES: [Option<Activity>; 7] = [
    None,
    Some(Activity::Meeting),
    Some(Activity::Lunch),
    Some(Activity::Travelling),
    Some(Activity::Vacation),
    Some(Activity::OnThePhone),
    Some(Activity::Other),
];

/// The picker's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picker {
    /// Index into [`Availability::ALL`].
    pub selected: usize,
    /// Index into [`ACTIVITIES`].
    pub activity: usize,
    pub note: String,
}

impl Picker {
    pub fn setting(&self) -> PresenceSetting {
        let note = self.note.trim();
        PresenceSetting {
            availability: Availability::ALL
                .get(self.selected)
                .copied()
                .unwrap_or_default(),
            activity: ACTIVITIES.get(self.activity).copied().flatten(),
            note: (!note.is_empty()).then(|| note.to_owned()),
        }
    }
}

impl App {
    /// What the user set of their presence, as the server last told (available when it
    /// told nothing yet). `on_the_phone` while in a call is the server's, not theirs.
    pub fn own_setting(&self) -> PresenceSetting {
        self.presence_of(&self.me)
            .map(|p| PresenceSetting {
                availability: p.availability,
                activity: p
                    .activity
                    .filter(|a| p.status != PresenceStatus::Busy || *a != Activity::OnThePhone),
                note: p.note.clone(),
            })
            .unwrap_or_default()
    }

    /// Whether notifications keep quiet: the user is not to be disturbed.
    pub fn quiet(&self) -> bool {
        self.own_setting().availability == Availability::DoNotDisturb
    }

    /// Away after this long without a key (none: never).
    pub fn set_away_after(&mut self, after: Option<std::time::Duration>) {
        self.away_after = after.and_then(|d| Duration::from_std(d).ok());
    }

    pub(super) fn open_presence_picker(&mut self) -> Vec<Job> {
        let own = self.own_setting();
        self.modal = Some(Modal::Presence(Picker {
            selected: Availability::ALL
                .iter()
                .position(|a| *a == own.availability)
                .unwrap_or(0),
            activity: ACTIVITIES
                .iter()
                .position(|a| *a == own.activity)
                .unwrap_or(0),
            note: own.note.unwrap_or_default(),
        }));
        Vec::new()
    }

    pub(super) fn on_presence_key(&mut self, key: &KeyEvent) -> Vec<Job> {
        let Some(Modal::Presence(picker)) = &mut self.modal else {
            return Vec::new();
        };
        let step = |at: usize, by: i64, len: usize| {
            let len = i64::try_from(len).unwrap_or(1);
            usize::try_from((i64::try_from(at).unwrap_or(0) + by).rem_euclid(len)).unwrap_or(0)
        };
        match key.code {
            KeyCode::Esc => self.modal = None,
            KeyCode::Up => picker.selected = step(picker.selected, -1, Availability::ALL.len()),
            KeyCode::Down => picker.selected = step(picker.selected, 1, Availability::ALL.len()),
            KeyCode::Left | KeyCode::BackTab => {
                picker.activity = step(picker.activity, -1, ACTIVITIES.len());
            }
            KeyCode::Right | KeyCode::Tab => {
                picker.activity = step(picker.activity, 1, ACTIVITIES.len());
            }
            KeyCode::Backspace => {
                picker.note.pop();
            }
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                    && !c.is_control()
                    && picker.note.chars().count() < MAX_NOTE_CHARS =>
            {
                picker.note.push(c);
            }
            KeyCode::Enter => {
                let setting = picker.setting();
                self.modal = None;
                // Set by hand: the next key does not put back what was there before away.
                self.auto_away = None;
                return vec![Job::SetPresence { setting }];
            }
            _ => {}
        }
        Vec::new()
    }

    /// Text pasted into the picker goes into the note, on one line.
    pub(super) fn paste_into_picker(&mut self, text: &str) -> bool {
        let Some(Modal::Presence(picker)) = &mut self.modal else {
            return false;
        };
        for c in text.chars().map(|c| if c.is_control() { ' ' } else { c }) {
            if picker.note.chars().count() >= MAX_NOTE_CHARS {
                break;
            }
            picker.note.push(c);
        }
        true
    }

    /// The user did something: they are back if the interface had set them away.
    pub(super) fn on_input(&mut self) -> Vec<Job> {
        self.last_input = Some(self.now);
        match self.auto_away.take() {
            // Unless they set something else meanwhile (elsewhere).
            Some(before) if self.own_setting().availability == Availability::Away => {
                self.assume_own(&before);
                vec![Job::SetPresence { setting: before }]
            }
            _ => Vec::new(),
        }
    }

    /// After the clock moved: away once nothing was typed for the configured time, if the
    /// user was available.
    pub fn idle_jobs(&mut self) -> Vec<Job> {
        let Some(after) = self.away_after else {
            return Vec::new();
        };
        let since = *self.last_input.get_or_insert(self.now);
        if self.auto_away.is_some()
            || self.connection != ConnectionState::Connected
            || self.now - since < after
        {
            return Vec::new();
        }
        let own = self.own_setting();
        if own.availability != Availability::Available || self.presence_of(&self.me).is_none() {
            return Vec::new();
        }
        let setting = PresenceSetting {
            availability: Availability::Away,
            ..own.clone()
        };
        self.auto_away = Some(own);
        self.assume_own(&setting);
        vec![Job::SetPresence { setting }]
    }

    /// Shows `setting` as the user's own at once, before the server confirms it (its
    /// `presence` frame, or the next one if the request fails, puts things right).
    fn assume_own(&mut self, setting: &PresenceSetting) {
        let me = self.me.clone();
        if let Some(u) = self.users.iter_mut().find(|u| u.user_id == me) {
            u.presence.availability = setting.availability;
            u.presence.note.clone_from(&setting.note);
            if u.presence.status != PresenceStatus::Busy || setting.activity.is_some() {
                u.presence.activity = setting.activity;
            }
            self.dirty = true;
        }
    }
}
