//! What parla reads from session descriptions beside the WebRTC stack: the audio section's
//! direction and whether it was rejected, the payload types of the formats in use, the ICE
//! user fragment (which changes on a restart).

/// The direction of an audio section, as its writer says it (RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// The writer will send audio.
    #[must_use]
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// The writer will receive audio.
    #[must_use]
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The direction of an answer, by one who wants `self`, to an offer of `offered`: send
    /// only what the offerer receives, receive only what it sends (RFC 3264 §6.1).
    #[must_use]
    pub fn answer(self, offered: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && offered.receives(),
            self.receives() && offered.sends(),
        )
    }

    /// The SDP attribute's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// Whether the audio section of an SDP is rejected (port 0): the answerer has no codec in
/// common with the offer. (A description with no audio section at all is not one parla can
/// use either; one that does not parse is an error of its own.)
pub fn audio_rejected(sdp: &str) -> bool {
    sdp.lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))
        .is_some_and(|rest| rest.split_whitespace().next() == Some("0"))
}

/// Whether an SDP has an audio section.
pub fn has_audio(sdp: &str) -> bool {
    sdp.lines().any(|l| l.trim().starts_with("m=audio "))
}

/// The direction of the audio section of an SDP (`sendrecv` when it names none), or
/// `inactive` when the section is rejected (port 0) or missing.
pub fn audio_direction(sdp: &str) -> Direction {
    let mut in_audio = false;
    let mut found = None;
    let mut seen_audio = false;
    for line in sdp.lines() {
        let line = line.trim();
        if let Some(m) = line.strip_prefix("m=") {
            if seen_audio {
                break;
            }
            in_audio = m.starts_with("audio");
            if in_audio {
                seen_audio = true;
                if m.split_whitespace().nth(1) == Some("0") {
                    return Direction::Inactive;
                }
            }
        } else if in_audio {
            found = match line {
                "a=sendrecv" => Some(Direction::SendRecv),
                "a=sendonly" => Some(Direction::SendOnly),
                "a=recvonly" => Some(Direction::RecvOnly),
                "a=inactive" => Some(Direction::Inactive),
                _ => found,
            };
        }
    }
    if seen_audio {
        found.unwrap_or_default()
    } else {
        Direction::Inactive
    }
}

/// `PT` of `a=rtpmap:PT telephone-event/48000` in the audio section of an SDP.
pub fn telephone_event_pt(sdp: &str) -> Option<u8> {
    rtpmap_pt(sdp, &["telephone-event/48000", "telephone-event/48000/1"])
}

/// `PT` of `a=rtpmap:PT telephone-event/8000`: what SIP gateways offer beside their
/// narrowband codecs, and browsers beside Opus.
pub fn telephone_event_8k_pt(sdp: &str) -> Option<u8> {
    rtpmap_pt(sdp, &["telephone-event/8000", "telephone-event/8000/1"])
}

/// The payload types of the audio formats both sides use, as a description lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Formats {
    pub opus: Option<u8>,
    pub pcmu: Option<u8>,
    pub pcma: Option<u8>,
    pub red: Option<u8>,
    pub events: EventTypes,
}

impl Formats {
    /// Whether `pt` is one of these formats.
    #[must_use]
    pub fn knows(&self, pt: u8) -> bool {
        self.opus == Some(pt)
            || self.pcmu == Some(pt)
            || self.pcma == Some(pt)
            || self.red == Some(pt)
            || self.events.matches(pt)
    }

    /// The codec to send with: Opus when both sides have it, else G.711 (μ-law first).
    #[must_use]
    pub fn codec(&self) -> Option<crate::media::coding::CallCodec> {
        use crate::media::coding::CallCodec;
        use crate::media::g711::Law;
        if self.opus.is_some() {
            Some(CallCodec::Opus)
        } else if self.pcmu.is_some() {
            Some(CallCodec::G711(Law::Mu))
        } else if self.pcma.is_some() {
            Some(CallCodec::G711(Law::A))
        } else {
            None
        }
    }

    /// The codec packets of payload type `pt` carry.
    #[must_use]
    pub fn codec_of(&self, pt: u8) -> Option<crate::media::coding::CallCodec> {
        use crate::media::coding::CallCodec;
        use crate::media::g711::Law;
        if self.opus == Some(pt) {
            Some(CallCodec::Opus)
        } else if self.pcmu == Some(pt) {
            Some(CallCodec::G711(Law::Mu))
        } else if self.pcma == Some(pt) {
            Some(CallCodec::G711(Law::A))
        } else {
            None
        }
    }

    /// The payload type of a codec.
    #[must_use]
    pub fn pt_of(&self, codec: crate::media::coding::CallCodec) -> Option<u8> {
        use crate::media::coding::CallCodec;
        use crate::media::g711::Law;
        match codec {
            CallCodec::Opus => self.opus,
            CallCodec::G711(Law::Mu) => self.pcmu,
            CallCodec::G711(Law::A) => self.pcma,
        }
    }

    #[must_use]
    pub fn of(sdp: &str) -> Self {
        Formats {
            opus: rtpmap_pt(sdp, &["opus/48000/2"]),
            pcmu: rtpmap_pt(sdp, &["pcmu/8000", "pcmu/8000/1"]),
            pcma: rtpmap_pt(sdp, &["pcma/8000", "pcma/8000/1"]),
            red: red_pt(sdp),
            events: EventTypes::of(sdp),
        }
    }
}

/// The payload types telephone-events can arrive with, and the one (with its clock rate)
/// they go out with: the 48 kHz one, which matches Opus' clock, when the other side has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventTypes {
    pub wide: Option<u8>,
    pub narrow: Option<u8>,
}

impl EventTypes {
    #[must_use]
    pub fn of(sdp: &str) -> Self {
        EventTypes {
            wide: telephone_event_pt(sdp),
            narrow: telephone_event_8k_pt(sdp),
        }
    }

    /// Whether `pt` is a telephone-event.
    #[must_use]
    pub fn matches(&self, pt: u8) -> bool {
        self.wide == Some(pt) || self.narrow == Some(pt)
    }

    /// The payload type to send with and its clock rate, beside Opus.
    #[must_use]
    pub fn sending(&self) -> Option<(u8, u32)> {
        self.sending_at(48_000)
    }

    /// The payload type to send with beside audio at `clock_rate`: the one at the same
    /// rate when there is one (RFC 4733 §2.1), else the other.
    #[must_use]
    pub fn sending_at(&self, clock_rate: u32) -> Option<(u8, u32)> {
        let wide = self.wide.map(|pt| (pt, 48_000));
        let narrow = self.narrow.map(|pt| (pt, 8_000));
        if clock_rate == 8_000 {
            narrow.or(wide)
        } else {
            wide.or(narrow)
        }
    }
}

/// The payload type the audio section of an SDP maps to one of `codecs` (lower case).
fn rtpmap_pt(sdp: &str, codecs: &[&str]) -> Option<u8> {
    let mut in_audio = false;
    for line in sdp.lines() {
        let line = line.trim();
        if line.starts_with("m=") {
            in_audio = line.starts_with("m=audio");
        } else if in_audio {
            if let Some((pt, codec)) = line
                .strip_prefix("a=rtpmap:")
                .and_then(|rest| rest.split_once(' '))
            {
                if codecs.contains(&codec.to_ascii_lowercase().as_str()) {
                    return pt.parse().ok();
                }
            }
        }
    }
    None
}

/// The first `a=ice-ufrag` of an SDP: it changes when the sender restarts ICE.
pub fn ice_ufrag(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|l| l.trim().strip_prefix("a=ice-ufrag:"))
        .map(str::to_owned)
}

/// `PT` of `a=rtpmap:PT red/48000/2` in the audio section of an SDP.
pub fn red_pt(sdp: &str) -> Option<u8> {
    rtpmap_pt(sdp, &["red/48000/2", "red/48000"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telephone_event_payload_type_is_read_from_the_sdp() {
        let sdp = "m=audio 9 UDP/TLS/RTP/SAVPF 111 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/48000\r\n";
        assert_eq!(telephone_event_pt(sdp), Some(101));
        assert_eq!(
            telephone_event_pt("m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"),
            None
        );
    }

    #[test]
    fn red_is_found_in_the_audio_section() {
        let sdp = "m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n";
        assert_eq!(red_pt(sdp), Some(63));
        assert_eq!(
            red_pt("m=audio 9 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"),
            None
        );
    }

    #[test]
    fn the_ice_ufrag_is_read_from_the_sdp() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:AbCd\r\na=ice-pwd:x\r\n";
        assert_eq!(ice_ufrag(sdp).as_deref(), Some("AbCd"));
        assert_eq!(ice_ufrag("v=0\r\n"), None);
    }

    #[test]
    fn the_direction_is_read_from_the_audio_section() {
        let base = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n";
        for d in [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ] {
            assert_eq!(audio_direction(&format!("{base}a={}\r\n", d.as_str())), d);
        }
        assert_eq!(audio_direction(base), Direction::SendRecv);
        assert_eq!(
            audio_direction(
                "m=video 9 RTP/AVP 96\r\na=inactive\r\nm=audio 9 RTP/AVP 111\r\na=sendrecv\r\n"
            ),
            Direction::SendRecv
        );
        assert_eq!(
            audio_direction("v=0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=sendrecv\r\n"),
            Direction::Inactive,
            "a rejected section carries nothing"
        );
    }

    #[test]
    fn answers_follow_the_offered_direction() {
        use Direction::*;
        for (offered, answered) in [
            (SendRecv, SendRecv),
            (SendOnly, RecvOnly),
            (RecvOnly, SendOnly),
            (Inactive, Inactive),
        ] {
            assert_eq!(SendRecv.answer(offered), answered, "{offered:?}");
        }
        assert_eq!(
            SendOnly.answer(SendRecv),
            SendOnly,
            "a holder answers sendonly"
        );
        assert_eq!(SendOnly.answer(SendOnly), Inactive, "both hold");
    }
}
