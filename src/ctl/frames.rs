//! The control socket's frames, one type each, with the schema version in one place:
//! requests ([`CtlRequest`] inside a [`RequestLine`]), responses ([`Response`]) and events
//! ([`CtlEvent`] inside an [`EventLine`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::call::CallState;
use crate::client::Event;
use crate::media::peer::MediaState;
use crate::media::stats::CallStats;
use crate::proto::EndReason;

/// The version of the wire format; every frame carries it in `v`.
pub const SCHEMA_VERSION: u32 = 1;

/// A request, as it travels (with `cmd` as the tag; `v` and `id` sit beside it).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum CtlRequest {
    /// The instance's state.
    Status,
    /// Stream the instance's events (handled by the server, never sent as a [`CtlCall`]).
    Events,
    /// Call one to three users.
    Dial {
        users: Vec<String>,
    },
    /// Answer the ringing call, or the one named.
    Answer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Decline the ringing call, or the one named (reason: none, error, do_not_disturb,
    /// no_answer).
    Decline {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Hang up the current call, or the one named.
    Hangup {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Put the current call (or the one named) on hold.
    Hold {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Take the current call (or the one named) off hold.
    Resume {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Stop the ringing call (or the one named) ringing here; the caller is not told.
    Ignore {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Have the ringing call (or the one named) ring for `to` instead.
    Forward {
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Hand the current call (or the one named) over to `to`: it is held first, `to`
    /// rings, and this side leaves it.
    Transfer {
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
    },
    /// Join the current call (or `room_id`) with another call of this user's
    /// (`with_room`, or the other one) into one: both are held first, and the joined call
    /// is resumed.
    Join {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        with_room: Option<String>,
    },
    /// Connect the other parties of the current call (or `room_id`) and of another call
    /// (`with_room`, or the other one) with each other, a consultative transfer: both are
    /// held first, and this side leaves both.
    Connect {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        with_room: Option<String>,
    },
    /// Make an access link to the current call (or `room_id`): for guests, or for
    /// `for_user` only. The answer is the link (`url` to hand out).
    Link {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_user: Option<String>,
    },
    Mute,
    Unmute,
    /// Send DTMF digits in the current call.
    Dtmf {
        digits: String,
    },
    /// Send a chat message to a user, a channel id or `#group`.
    Send {
        target: String,
        text: String,
    },
    /// Set this user's own presence: availability (available, away, busy,
    /// do_not_disturb), an optional activity and note; the whole setting is replaced.
    Presence {
        availability: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        activity: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

/// The command names, once: `cmd` of each request and the list of known commands.
macro_rules! command_names {
    ($($variant:ident = $name:literal),* $(,)?) => {
        impl CtlRequest {
            /// Every command name, as `cmd` spells it.
            pub const COMMANDS: &'static [&'static str] = &[$($name),*];

            /// The command name, as `cmd` spells it.
            #[must_use]
            pub fn name(&self) -> &'static str {
                match self {
                    $(CtlRequest::$variant { .. } => $name,)*
                }
            }
        }
    };
}

command_names! {
    Status = "status",
    Events = "events",
    Dial = "dial",
    Answer = "answer",
    Decline = "decline",
    Hangup = "hangup",
    Hold = "hold",
    Resume = "resume",
    Ignore = "ignore",
    Forward = "forward",
    Transfer = "transfer",
    Join = "join",
    Connect = "connect",
    Link = "link",
    Mute = "mute",
    Unmute = "unmute",
    Dtmf = "dtmf",
    Send = "send",
    Presence = "presence",
}

/// A request as it travels: `{"v":1,"id":...,"cmd":...,...}`.
#[derive(Debug, Serialize)]
pub struct RequestLine<'a> {
    pub v: u32,
    pub id: &'a str,
    #[serde(flatten)]
    pub request: &'a CtlRequest,
}

impl<'a> RequestLine<'a> {
    #[must_use]
    pub fn new(id: &'a str, request: &'a CtlRequest) -> Self {
        RequestLine {
            v: SCHEMA_VERSION,
            id,
            request,
        }
    }
}

/// A request refused or failed, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtlFailure {
    pub code: String,
    pub message: String,
}

impl CtlFailure {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        CtlFailure {
            code: code.into(),
            message: message.into(),
        }
    }

    pub(super) fn malformed(message: impl Into<String>) -> Self {
        Self::new("malformed_request", message)
    }

    pub(super) fn instance_gone() -> Self {
        Self::new(
            "instance_error",
            "the instance gave up the request without answering it",
        )
    }
}

impl std::fmt::Display for CtlFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// The answer to one request: `{"v":1,"id":...,"ok":true,"result":...}` or
/// `{"v":1,"id":...,"ok":false,"error":{"code":...,"message":...}}`. `id` is the request's,
/// `null` when it could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub v: u32,
    #[serde(default)]
    pub id: Value,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CtlFailure>,
}

impl Response {
    #[must_use]
    pub fn new(id: Value, outcome: Result<Value, CtlFailure>) -> Self {
        let (ok, result, error) = match outcome {
            Ok(result) => (true, Some(result), None),
            Err(failure) => (false, None, Some(failure)),
        };
        Response {
            v: SCHEMA_VERSION,
            id,
            ok,
            result,
            error,
        }
    }

    /// The result, or the failure the instance reported.
    pub fn into_outcome(self) -> Result<Value, CtlFailure> {
        match (self.ok, self.error) {
            (true, _) => Ok(self.result.unwrap_or(Value::Null)),
            (false, Some(failure)) => Err(failure),
            (false, None) => Err(CtlFailure::new(
                "instance_error",
                "the instance refused the request",
            )),
        }
    }
}

/// What an instance publishes to `events` subscribers. Every event is an object tagged
/// `event`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum CtlEvent {
    /// One of the session's events (chat, presence, connection, calls).
    Session(Box<Event>),
    /// One of the instance's own.
    Instance(Box<InstanceEvent>),
}

/// The events an instance adds to the session's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum InstanceEvent {
    /// A call's state changed (`parla call` and `parla answer`).
    CallState { room_id: String, state: CallState },
    /// A call's media connection changed state.
    MediaState { room_id: String, state: MediaState },
    /// A call's statistics, every `--stats-every` seconds.
    CallStats { room_id: String, stats: CallStats },
    /// A DTMF digit arrived.
    Dtmf { room_id: String, digit: char },
    /// Something the user should know (the sound card is missing, say).
    Notice { message: String },
    /// A call ended: what it was.
    CallSummary(CallSummary),
    /// This subscriber read too slowly and missed `missed` events.
    Lagged { missed: u64 },
}

impl From<InstanceEvent> for CtlEvent {
    fn from(e: InstanceEvent) -> Self {
        CtlEvent::Instance(Box::new(e))
    }
}

impl From<Event> for CtlEvent {
    fn from(e: Event) -> Self {
        CtlEvent::Session(Box::new(e))
    }
}

/// One call, once it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallSummary {
    pub room_id: String,
    pub answered: bool,
    pub end_reason: Option<EndReason>,
    pub duration_s: f64,
    pub dtmf_received: String,
    /// How the digits of `--dtmf` went out: `rfc4733` or `inband`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtmf_sent_as: Option<&'static str>,
    pub stats: Option<CallStats>,
}

/// An event as it travels: `{"v":1,"event":{...}}`.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    pub v: u32,
    pub event: CtlEvent,
}

impl EventLine {
    #[must_use]
    pub fn new(event: CtlEvent) -> Self {
        EventLine {
            v: SCHEMA_VERSION,
            event,
        }
    }
}

/// Reads one request line: its id (`null` when it has none or cannot be read) and the
/// request, or what is wrong with it.
/// Reads one request line: its id (`null` when it has none or cannot be read) and the
/// request, or what is wrong with it.
pub(super) fn parse_line(bytes: &[u8]) -> Result<(Value, CtlRequest), (Value, CtlFailure)> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        (
            Value::Null,
            CtlFailure::malformed(format!("the request is not valid JSON: {e}")),
        )
    })?;
    let Value::Object(fields) = &value else {
        return Err((
            Value::Null,
            CtlFailure::malformed("a request is a JSON object"),
        ));
    };
    let id = fields.get("id").cloned().unwrap_or(Value::Null);
    match fields.get("v") {
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(v) => {
            return Err((
                id,
                CtlFailure::new(
                    "unsupported_version",
                    format!(
                    "schema version {v} is not supported (this instance speaks {SCHEMA_VERSION})"
                ),
                ),
            ))
        }
        None => {
            return Err((
                id,
                CtlFailure::malformed(format!(
                    "the request has no `v` (the schema version, {SCHEMA_VERSION})"
                )),
            ))
        }
    }
    let Some(cmd) = fields.get("cmd") else {
        return Err((id, CtlFailure::malformed("the request has no `cmd`")));
    };
    let Some(cmd) = cmd.as_str() else {
        return Err((id, CtlFailure::malformed("`cmd` must be a string")));
    };
    if !CtlRequest::COMMANDS.contains(&cmd) {
        let mut shown: String = cmd.chars().take(64).collect();
        if shown.len() < cmd.len() {
            shown.push('…');
        }
        return Err((
            id,
            CtlFailure::new(
                "unknown_command",
                format!(
                    "unknown command `{shown}` (known: {})",
                    CtlRequest::COMMANDS.join(", ")
                ),
            ),
        ));
    }
    match CtlRequest::deserialize(&value) {
        Ok(request) => Ok((id, request)),
        Err(e) => Err((
            id,
            CtlFailure::malformed(format!("bad arguments for `{cmd}`: {e}")),
        )),
    }
}

#[cfg(test)]
// Fixtures compare exact values.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<(Value, CtlRequest), (Value, CtlFailure)> {
        parse_line(text.as_bytes())
    }

    fn code(text: &str) -> (Value, String) {
        match parse(text) {
            Ok(r) => panic!("{text} parsed as {r:?}"),
            Err((id, f)) => (id, f.code),
        }
    }

    fn line<T: Serialize>(frame: &T) -> String {
        serde_json::to_string(frame).unwrap()
    }

    #[test]
    fn ctl_requests_parse_with_their_arguments() {
        let cases = [
            (r#"{"v":1,"id":"a","cmd":"status"}"#, CtlRequest::Status),
            (r#"{"v":1,"id":"a","cmd":"events"}"#, CtlRequest::Events),
            (
                r#"{"v":1,"id":"a","cmd":"dial","users":["bob","carol"]}"#,
                CtlRequest::Dial {
                    users: vec!["bob".into(), "carol".into()],
                },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"answer"}"#,
                CtlRequest::Answer { room_id: None },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"decline","room_id":"r1","reason":"no_answer"}"#,
                CtlRequest::Decline {
                    room_id: Some("r1".into()),
                    reason: Some("no_answer".into()),
                },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"hangup","room_id":null}"#,
                CtlRequest::Hangup { room_id: None },
            ),
            (r#"{"v":1,"cmd":"mute"}"#, CtlRequest::Mute),
            (
                r#"{"v":1,"id":"a","cmd":"dtmf","digits":"12#"}"#,
                CtlRequest::Dtmf {
                    digits: "12#".into(),
                },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"send","target":"bob","text":"hi"}"#,
                CtlRequest::Send {
                    target: "bob".into(),
                    text: "hi".into(),
                },
            ),
            (
                r#"{"v":1,"id":"a","cmd":"presence","availability":"away","note":"back at 3"}"#,
                CtlRequest::Presence {
                    availability: "away".into(),
                    activity: None,
                    note: Some("back at 3".into()),
                },
            ),
        ];
        for (text, want) in cases {
            let (_, got) = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(got, want, "{text}");
            assert!(CtlRequest::COMMANDS.contains(&got.name()));
            // The name is the tag the request travels with.
            assert_eq!(serde_json::to_value(&got).unwrap()["cmd"], got.name());
        }
        assert_eq!(parse(r#"{"v":1,"id":"x","cmd":"status"}"#).unwrap().0, "x");
        assert_eq!(parse(r#"{"v":1,"cmd":"status"}"#).unwrap().0, Value::Null);
    }

    #[test]
    fn ctl_requests_round_trip_through_their_encoding() {
        for request in [
            CtlRequest::Status,
            CtlRequest::Hold { room_id: None },
            CtlRequest::Decline {
                room_id: None,
                reason: Some("none".into()),
            },
            CtlRequest::Send {
                target: "#ops".into(),
                text: "line\nbreak \"quoted\"".into(),
            },
        ] {
            let text = serde_json::to_string(&RequestLine::new("id-1", &request)).unwrap();
            assert!(!text.contains('\n'));
            let (id, back) = parse(&text).unwrap();
            assert_eq!(id, "id-1");
            assert_eq!(back, request);
        }
    }

    #[test]
    fn ctl_bad_lines_get_stable_codes() {
        assert_eq!(code("not json"), (Value::Null, "malformed_request".into()));
        assert_eq!(code("[1,2]"), (Value::Null, "malformed_request".into()));
        assert_eq!(
            code(r#"{"v":1,"id":"a"}"#),
            (json!("a"), "malformed_request".into())
        );
        assert_eq!(code(r#"{"v":1,"id":"a","cmd":7}"#).1, "malformed_request");
        assert_eq!(code(r#"{"id":"a","cmd":"status"}"#).1, "malformed_request");
        assert_eq!(
            code(r#"{"v":2,"id":"a","cmd":"status"}"#),
            (json!("a"), "unsupported_version".into())
        );
        assert_eq!(code(r#"{"v":"1","cmd":"status"}"#).1, "unsupported_version");
        assert_eq!(
            code(r#"{"v":1,"id":"a","cmd":"reboot"}"#),
            (json!("a"), "unknown_command".into())
        );
        assert_eq!(code(r#"{"v":1,"cmd":"dial"}"#).1, "malformed_request");
        assert_eq!(
            code(r#"{"v":1,"cmd":"dtmf","digits":5}"#).1,
            "malformed_request"
        );
    }

    #[test]
    fn ctl_frames_keep_their_json() {
        insta::assert_snapshot!(
            line(&RequestLine::new("7", &CtlRequest::Dtmf { digits: "1#".into() })),
            @r#"{"v":1,"id":"7","cmd":"dtmf","digits":"1#"}"#
        );
        insta::assert_snapshot!(
            line(&RequestLine::new("8", &CtlRequest::Hangup { room_id: None })),
            @r#"{"v":1,"id":"8","cmd":"hangup"}"#
        );
        insta::assert_snapshot!(
            line(&Response::new(json!("1"), Ok(json!({"room_id": "r1"})))),
            @r#"{"v":1,"id":"1","ok":true,"result":{"room_id":"r1"}}"#
        );
        insta::assert_snapshot!(
            line(&Response::new(Value::Null, Err(CtlFailure::new("no_call", "none")))),
            @r#"{"v":1,"id":null,"ok":false,"error":{"code":"no_call","message":"none"}}"#
        );
        let events = [
            InstanceEvent::Dtmf {
                room_id: "r1".into(),
                digit: '5',
            },
            InstanceEvent::Lagged { missed: 3 },
            InstanceEvent::MediaState {
                room_id: "r1".into(),
                state: MediaState::Connected,
            },
            InstanceEvent::CallState {
                room_id: "r1".into(),
                state: CallState::OnHold {
                    local: true,
                    remote: false,
                },
            },
            InstanceEvent::Notice {
                message: "no sound card".into(),
            },
            InstanceEvent::CallSummary(CallSummary {
                room_id: "r1".into(),
                answered: true,
                end_reason: Some(EndReason::HangUp),
                duration_s: 1.5,
                dtmf_received: "12".into(),
                dtmf_sent_as: Some("rfc4733"),
                stats: None,
            }),
        ];
        let text: Vec<String> = events
            .into_iter()
            .map(|e| line(&EventLine::new(e.into())))
            .collect();
        insta::assert_snapshot!(text.join("\n"), @r#"
        {"v":1,"event":{"event":"dtmf","room_id":"r1","digit":"5"}}
        {"v":1,"event":{"event":"lagged","missed":3}}
        {"v":1,"event":{"event":"media_state","room_id":"r1","state":"connected"}}
        {"v":1,"event":{"event":"call_state","room_id":"r1","state":{"state":"on_hold","local":true,"remote":false}}}
        {"v":1,"event":{"event":"notice","message":"no sound card"}}
        {"v":1,"event":{"event":"call_summary","room_id":"r1","answered":true,"end_reason":"hang_up","duration_s":1.5,"dtmf_received":"12","dtmf_sent_as":"rfc4733","stats":null}}
        "#);
        // A session event keeps its own tag.
        let resumed = CtlEvent::from(Event::Resumed { replayed: 2 });
        insta::assert_snapshot!(
            line(&EventLine::new(resumed)),
            @r#"{"v":1,"event":{"event":"resumed","replayed":2}}"#
        );
    }

    #[test]
    fn ctl_responses_read_back_into_outcomes() {
        let ok: Response =
            serde_json::from_str(r#"{"v":1,"id":"1","ok":true,"result":{"a":1}}"#).unwrap();
        assert_eq!(ok.into_outcome(), Ok(json!({"a": 1})));
        let failed: Response = serde_json::from_str(
            r#"{"v":1,"id":null,"ok":false,"error":{"code":"no_call","message":"none"}}"#,
        )
        .unwrap();
        assert_eq!(
            failed.into_outcome(),
            Err(CtlFailure::new("no_call", "none"))
        );
        let bare: Response = serde_json::from_str(r#"{"v":1,"ok":false}"#).unwrap();
        assert_eq!(bare.into_outcome().unwrap_err().code, "instance_error");
    }
}
