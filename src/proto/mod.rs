//! Every type that crosses the wire between `parla serve` and its clients.
//!
//! REST bodies and WebSocket frames are plain serde structs so the protocol lives in one
//! place; `docs/protocol.md` describes them with examples and `docs/openapi.json` is
//! generated from the REST part. Field names are `snake_case`; WebSocket frames carry their
//! kind in a `type` field.

mod calls;
mod error;
mod frames;
mod links;
pub mod ogg;
mod people;
mod rest;
mod voicemail;

pub use calls::*;
pub use error::*;
pub use frames::*;
pub use links::*;
pub use people::*;
pub use rest::*;
pub use voicemail::*;

/// Version of the WebSocket frame schema, sent in `ready`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Longest message text accepted, in bytes of UTF-8.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Largest WebSocket frame or REST body the server reads, in bytes.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
/// Most messages one history request returns.
pub const MAX_PAGE: u32 = 500;
/// Default number of messages a history request returns.
pub const DEFAULT_PAGE: u32 = 50;
/// Access token lifetime bounds, in seconds.
pub const MIN_EXPIRES_IN: u64 = 360;
pub const MAX_EXPIRES_IN: u64 = 86_400;
pub const DEFAULT_EXPIRES_IN: u64 = 3600;
/// Longest user id, in bytes (its characters are ASCII).
pub const MAX_USER_ID_BYTES: usize = 64;
/// Longest display name or group name, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Most participants in one group channel.
pub const MAX_PARTICIPANTS: usize = 256;
/// Most parties in one call, the caller included (a full mesh of peer connections).
pub const MAX_CALL_PARTIES: usize = 4;
/// Most calls one device takes part in at once: one live, the others held.
pub const MAX_CALLS_PER_DEVICE: usize = 4;
/// Seconds a call rings before the server ends it with `timeout`.
pub const RING_TIMEOUT_S: u64 = 60;
/// Seconds a device in a call may stay disconnected from the server before it leaves the
/// call (`connection_lost`): long enough for the client's first two reconnection attempts.
pub const CALL_GRACE_S: u64 = 8;
/// Largest SDP or ICE candidate relayed, in bytes.
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;
/// Most users one WebSocket connection can follow with `subscribe_presence` (subscribing
/// to everyone counts as one).
pub const MAX_PRESENCE_SUBSCRIPTIONS: usize = 1000;
/// Shortest admin API key `parla serve` accepts, in characters.
pub const MIN_API_KEY_CHARS: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_snake_case() {
        let frame = ClientFrame::SendMessage {
            req_id: Some("r1".into()),
            channel_id: "ch_1".into(),
            client_id: Some("c1".into()),
            text: "hi".into(),
        };
        let json = serde_json::to_value(&frame).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type":"send_message","req_id":"r1","channel_id":"ch_1","client_id":"c1","text":"hi"})
        );
        let read = ServerFrame::Read {
            req_id: None,
            state: ReadState {
                channel_id: "ch_1".into(),
                read_seq: 3,
                unread_count: 0,
            },
        };
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            serde_json::json!({"type":"read","channel_id":"ch_1","read_seq":3,"unread_count":0})
        );
        assert_eq!(
            serde_json::to_value(ServerFrame::TokenExpired).unwrap(),
            serde_json::json!({"type":"token_expired"})
        );
    }

    #[test]
    fn parse_tells_unknown_type_from_malformed() {
        assert_eq!(
            parse_client_frame("{nope").unwrap_err().code,
            ErrorCode::MalformedRequest
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"dance"}"#).unwrap_err().code,
            ErrorCode::UnknownFrameType
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"send_message","text":5}"#)
                .unwrap_err()
                .code,
            ErrorCode::MalformedRequest
        );
        assert_eq!(
            parse_client_frame(r"[1,2]").unwrap_err().code,
            ErrorCode::MalformedRequest
        );
        assert!(matches!(
            parse_client_frame(r#"{"type":"ping"}"#).unwrap(),
            ClientFrame::Ping { req_id: None }
        ));
        assert_eq!(
            frame_req_id(r#"{"type":"x","req_id":"abc"}"#).as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_point_zero() {
        let read: MarkRead = serde_json::from_str(r#"{"seq": 24521.0}"#).unwrap();
        assert_eq!(read.seq, 24521);
        let creds: CredentialsRequest =
            serde_json::from_str(r#"{"user_id": "a", "expires_in": 3.6e3}"#).unwrap();
        assert_eq!(creds.expires_in, Some(3600));
        let none: CredentialsRequest =
            serde_json::from_str(r#"{"user_id": "a", "expires_in": null}"#).unwrap();
        assert_eq!(none.expires_in, None);
        for bad in [
            r#"{"seq": 1.5}"#,
            r#"{"seq": -1}"#,
            r#"{"seq": "1"}"#,
            r#"{"seq": 1e300}"#,
            r#"{"seq": 9223372036854775808}"#,
        ] {
            assert!(serde_json::from_str::<MarkRead>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_code_names_match_serde() {
        for code in [
            ErrorCode::ValidationError,
            ErrorCode::AccessTokenExpired,
            ErrorCode::ChannelNotExists,
            ErrorCode::MessageAnchorError,
            ErrorCode::MessageNotSaved,
            ErrorCode::UnknownFrameType,
            ErrorCode::RateLimited,
            ErrorCode::TooManySubscriptions,
            ErrorCode::ResumeInProgress,
            ErrorCode::MethodNotAllowed,
            ErrorCode::InternalServerError,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }
}
