//! What the interface asks the runtime to do: the output of [`super::App`].

use crate::proto::DeclineReason;

/// What the interface asks the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// Send a message (queued by the session, retried with the same client id).
    Send {
        channel_id: String,
        text: String,
    },
    /// Send a message to a user, a channel id or `#group` (found first).
    SendTo {
        target: String,
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
    /// Stop a ringing call ringing here; the caller is not told.
    Ignore {
        room_id: String,
    },
    /// Have a ringing call ring for `to` instead.
    Forward {
        room_id: String,
        to: String,
    },
    /// Make an access link to call `room_id` (for guests, or for `for_user` only).
    MakeLink {
        room_id: String,
        for_user: Option<String>,
    },
    /// Replace what the user says of their presence.
    SetPresence {
        setting: crate::proto::PresenceSetting,
    },
    /// Ask the directory for people matching the People filter.
    SearchDirectory {
        text: String,
    },
    /// Put a user in the address book.
    AddContact {
        user_id: String,
    },
    /// Take a contact out of the address book.
    RemoveContact {
        contact_id: String,
    },
    /// Fetch the voice messages for the mailbox window.
    LoadMailbox,
    /// Play a voice message through the audio backend, then mark it heard.
    PlayVoicemail {
        voicemail_id: String,
    },
    StopPlayback,
    DeleteVoicemail {
        voicemail_id: String,
    },
    /// Record a voice message for `who` after the unanswered call `room_id`.
    RecordVoicemail {
        room_id: String,
        who: String,
    },
    /// Stop recording, and send the message or drop it.
    FinishRecording {
        send: bool,
    },
    /// Hand a held call over to `to` (waits for holds on their way).
    Transfer {
        room_id: String,
        to: String,
    },
    /// Join two held calls into `room_id`, or with `transfer` connect their other
    /// parties with each other and leave both (waits for holds on their way).
    ConnectCalls {
        room_id: String,
        with_room: String,
        transfer: bool,
    },
    Hold {
        room_id: String,
        on: bool,
    },
    /// Mark the missed calls seen on the server.
    MarkCallsSeen,
    /// Delete a call from the server's call history.
    DeleteCallLog {
        room_id: String,
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
    /// Create a group channel (and open it).
    CreateGroup {
        name: String,
        members: Vec<String>,
    },
    /// Search a channel's messages for text.
    Search {
        channel_id: String,
        query: String,
    },
    /// Ring the terminal bell.
    Bell,
    Quit,
}
