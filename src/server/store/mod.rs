//! Persistent state of the server behind one trait, with SQLite as the embedded default.
//!
//! The trait is synchronous; the server calls it through `spawn_blocking`. Every method that
//! acts for a user checks that the user takes part in the channel, so the HTTP and WebSocket
//! layers cannot forget to.

mod commit;
mod contacts;
mod history;
mod presence;
mod rows;
mod schema;
mod sqlite;
mod users;
mod voicemail;

pub use schema::SCHEMA_VERSION;

/// What became of a voice message handed to [`Store::add_voicemail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoicemailAdded {
    Added,
    /// A message was left for that call already.
    AlreadyLeft,
    /// The mailbox has no room for it.
    OverQuota,
}
pub use sqlite::SqliteStore;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::proto::Message;
use crate::proto::{
    CallLogEntry, Channel, Contact, ContactInput, Direction, MessagePage, PresenceSetting, Profile,
    ReadState, User, Voicemail,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("user `{0}` does not exist")]
    UserNotFound(String),
    #[error("user `{0}` exists already")]
    UserExists(String),
    #[error("the user name `{0}` is another user's")]
    UserNameTaken(String),
    #[error("no contact `{0}` in this address book")]
    ContactNotFound(String),
    #[error("the address book has a contact for `{0}` already")]
    ContactExists(String),
    #[error("the address book is full")]
    ContactsFull,
    #[error("channel `{0}` does not exist")]
    ChannelNotExists(String),
    #[error("no message `{0}` in this channel")]
    Anchor(String),
    #[error("storage failed: {0}")]
    Backend(String),
    #[error(
        "the database was written by a newer parla (schema version {found}; this one reads up to {supported})"
    )]
    SchemaTooNew { found: u32, supported: u32 },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where a history page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    Seq(u64),
    MessageId(String),
}

impl Anchor {
    /// Digits are a sequence number (one past the newest, `u64::MAX` at most, is fine: a
    /// numeric anchor need not name a message); anything else is a message id.
    pub fn parse(s: &str) -> Anchor {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            Anchor::Seq(s.parse::<u64>().unwrap_or(u64::MAX))
        } else {
            Anchor::MessageId(s.to_owned())
        }
    }
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub user: String,
    pub channel_id: String,
    pub client_id: String,
    pub text: String,
    pub now: DateTime<Utc>,
    /// The message announces this voice message.
    pub voicemail_id: Option<String>,
}

/// What [`Store::submit_message`] calls with the outcome.
pub type Done = Box<dyn FnOnce(StoreResult<Stored>) + Send>;

/// A message the store accepted.
#[derive(Debug, Clone)]
pub struct Stored {
    pub message: Message,
    /// False when the `client_id` had been used before and the earlier message is returned.
    pub inserted: bool,
    pub participants: Vec<String>,
}

pub trait Store: Send + Sync + 'static {
    fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;

    fn create_user(
        &self,
        user_id: &str,
        display_name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
    /// Deletes the user, their channel memberships, presence, address book and mailbox;
    /// returns false when
    /// there was none.
    /// Their direct channels stay with the other participant, detached from the pair: a
    /// new user created later with the same id starts new conversations and never sees
    /// the old ones.
    fn delete_user(&self, user_id: &str) -> StoreResult<bool>;
    fn get_user(&self, user_id: &str) -> StoreResult<Option<User>>;
    fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Replaces the user's profile and, when given, their display name; returns the user
    /// as kept. `UserNameTaken` when another user has that user name (case aside).
    fn set_profile(
        &self,
        user_id: &str,
        display_name: Option<&str>,
        profile: &Profile,
    ) -> StoreResult<User>;

    /// `owner`'s address book, in the order the contacts were added.
    fn contacts(&self, owner: &str) -> StoreResult<Vec<Contact>>;
    /// Adds a contact (fields checked already). `UserNotFound` when the user it points at
    /// does not exist, `ContactExists` when the book has them already, `ContactsFull`.
    fn add_contact(
        &self,
        owner: &str,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> StoreResult<Contact>;
    /// Replaces a contact's fields (the same errors, and `ContactNotFound`).
    fn update_contact(
        &self,
        owner: &str,
        contact_id: &str,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> StoreResult<Contact>;
    /// Removes a contact and returns it as it was (`ContactNotFound`).
    fn remove_contact(&self, owner: &str, contact_id: &str) -> StoreResult<Contact>;

    /// What every user who set something of their presence set.
    fn presence_settings(&self) -> StoreResult<Vec<(String, PresenceSetting)>>;
    /// Replaces what `user` set of their presence (`UserNotFound` for an unknown user).
    fn set_presence(&self, user: &str, setting: &PresenceSetting) -> StoreResult<()>;

    /// The direct channel between `user` and `other`, created when missing. The flag tells
    /// whether it was created now.
    fn open_direct_channel(
        &self,
        user: &str,
        other: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<(Channel, bool)>;
    fn create_group_channel(
        &self,
        user: &str,
        name: &str,
        others: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Channel>;
    /// Adds `member` to a call's group chat: a guest (who has no account) or the user an
    /// access link was made for; false when they were in it already.
    fn add_call_member(&self, channel_id: &str, member: &str) -> StoreResult<bool>;
    /// Deletes the channel and all its messages for good; returns its participants.
    fn remove_channel(&self, user: &str, channel_id: &str) -> StoreResult<Vec<String>>;
    /// The channel as `user` sees it (unread count and read mark are theirs).
    fn channel(&self, user: &str, channel_id: &str) -> StoreResult<Channel>;
    fn channels_for_user(&self, user: &str) -> StoreResult<Vec<Channel>>;
    /// Newest sequence number of every channel of the user.
    fn channel_cursors(&self, user: &str) -> StoreResult<BTreeMap<String, u64>>;

    fn insert_message(
        &self,
        user: &str,
        channel_id: &str,
        client_id: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Stored>;
    /// Queues a message for storing and returns at once. `done` is called with the
    /// outcome once the message is durable (or refused), in the order the messages were
    /// queued, on the store's own thread: it must not block.
    fn submit_message(&self, message: NewMessage, done: Done);
    /// A page of a channel's messages next to `anchor`, oldest first. With `search`, only
    /// messages whose text contains it (the letters A to Z compared without case).
    fn messages(
        &self,
        user: &str,
        channel_id: &str,
        anchor: Option<&Anchor>,
        direction: Direction,
        count: u32,
        search: Option<&str>,
    ) -> StoreResult<MessagePage>;
    fn mark_read(&self, user: &str, channel_id: &str, seq: u64) -> StoreResult<ReadState>;

    /// Records how a call ended for `user` (once per call); returns the stored entry.
    fn log_call(&self, user: &str, entry: &CallLogEntry) -> StoreResult<CallLogEntry>;
    /// Up to `count` of `user`'s calls older than `before`, newest first, and whether there
    /// are more.
    fn call_history(
        &self,
        user: &str,
        count: u32,
        before: Option<u64>,
        missed_only: bool,
    ) -> StoreResult<(Vec<CallLogEntry>, bool)>;
    /// Deletes the record of call `room_id`, or all of them; returns how many went.
    fn delete_call_log(&self, user: &str, room_id: Option<&str>) -> StoreResult<u64>;
    /// Marks the missed calls seen.
    fn mark_calls_seen(&self, user: &str) -> StoreResult<()>;
    /// Missed calls not marked seen.
    fn missed_unseen(&self, user: &str) -> StoreResult<u64>;

    /// The record of call `room_id` in `user`'s history.
    fn call_log_entry(&self, user: &str, room_id: &str) -> StoreResult<Option<CallLogEntry>>;

    /// Adds a voice message to `user`'s mailbox unless one was left for its call already
    /// or it would take the mailbox over `quota_bytes` (checked and added in one step, so
    /// that uploads at the same time cannot pass the quota together).
    fn add_voicemail(
        &self,
        user: &str,
        voicemail: &Voicemail,
        quota_bytes: u64,
    ) -> StoreResult<VoicemailAdded>;
    /// Notes the channel message that announced the voice message.
    fn set_voicemail_message(&self, voicemail_id: &str, message_id: &str) -> StoreResult<()>;
    /// `user`'s voice messages, newest first.
    fn voicemails(&self, user: &str) -> StoreResult<Vec<Voicemail>>;
    fn voicemail(&self, user: &str, voicemail_id: &str) -> StoreResult<Option<Voicemail>>;
    /// Marks one heard; false when `user` has no such message.
    fn mark_voicemail_heard(&self, user: &str, voicemail_id: &str) -> StoreResult<bool>;
    /// Deletes one; false when `user` has no such message.
    fn delete_voicemail(&self, user: &str, voicemail_id: &str) -> StoreResult<bool>;
    /// Messages, unheard messages and bytes in `user`'s mailbox.
    fn voicemail_counts(&self, user: &str) -> StoreResult<(u64, u64, u64)>;
    /// The id of every voice message stored (to match the files against).
    fn voicemail_ids(&self) -> StoreResult<Vec<String>>;
    /// Drops the records of these voice messages, whoever's (their files are gone);
    /// returns how many there were.
    fn forget_voicemails(&self, ids: &[String]) -> StoreResult<usize>;

    /// Writes a consistent copy of the whole store to `path` while it stays in use.
    fn backup_to(&self, path: &Path) -> StoreResult<()>;
}
