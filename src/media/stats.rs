//! Call quality figures: what the audio loops counted, what the connection measured, and an
//! estimated MOS.

use serde::Serialize;

/// A snapshot of one call's media, on demand or periodically.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallStats {
    /// Round-trip time of the media path (ICE consent checks), when measured.
    pub rtt_ms: Option<f64>,
    /// Packets lost on the way, in percent.
    pub loss_pct: f64,
    /// Frames the listener lost all the same (neither redundancy nor FEC could rebuild
    /// them, so they were concealed), in percent; the MOS estimate uses this.
    pub concealed_pct: f64,
    /// Interarrival jitter of received packets.
    pub jitter_ms: f64,
    /// Current jitter-buffer target delay.
    pub jitter_buffer_ms: f64,
    pub send_kbps: f64,
    pub recv_kbps: f64,
    /// Level of the audio sent and played, in dB relative to full scale.
    pub send_level_dbfs: f64,
    pub recv_level_dbfs: f64,
    /// Estimated mean opinion score, 1 (bad) to 4.5 (excellent); none until audio came.
    pub mos: Option<f64>,
    pub frames_sent: u64,
    pub packets_received: u64,
    pub frames_played: u64,
    /// Frames of concealment played in place of a lost packet.
    pub frames_concealed: u64,
    /// Frames of concealment played because the buffer ran dry (the packet was late; the
    /// buffer grows by a frame): playout underruns.
    pub frames_expanded: u64,
    /// Frames dropped to bring the delay down after a burst far beyond the target.
    pub frames_skipped: u64,
    /// Frames already stale when playout started (a burst at set-up, when the connection's
    /// keys came late): discarded before anything played, so not counted against the score.
    pub frames_discarded: u64,
    /// Playout time added by stretching decoded audio and by concealment while a late
    /// packet was awaited, in milliseconds: the steps by which the delay grew.
    pub playout_stretched_ms: f64,
    /// Playout time removed by compressing decoded audio and by skipped frames: the steps
    /// by which the delay shrank.
    pub playout_compressed_ms: f64,
    /// Concealment played in place of lost packets, in milliseconds.
    pub playout_concealed_ms: f64,
    /// Received packets thrown away because the call did not take them in time.
    pub packets_dropped: u64,
    /// Frames rebuilt from the redundant copy in the next packet.
    pub frames_recovered: u64,
    /// Sound card dropouts: microphone audio lost because the call did not take it in
    /// time, and speaker periods with nothing to play.
    pub device_overruns: u64,
    pub device_underruns: u64,
    /// How this side sends now (bitrate, FEC, redundancy), set by the other side's
    /// receiver reports; none before the first report.
    pub sending: Option<super::rate::SendSettings>,
    /// The candidate pair media flows over (a `relay` end means through TURN), and the
    /// local candidates gathered by type.
    pub route: Option<Route>,
    pub candidates: std::collections::BTreeMap<String, u32>,
}

/// One end of the media path: an ICE candidate's type (`host`, `srflx`, `prflx`, `relay`),
/// address and transport, and for a relayed local candidate how the TURN server is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_protocol: Option<String>,
}

/// The candidate pair media flows over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub local: Candidate,
    pub remote: Candidate,
}

/// What ICE found: the round trip of the pair in use, the pair, and the local candidates
/// gathered by type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transport {
    pub rtt_ms: Option<f64>,
    pub route: Option<Route>,
    pub gathered: std::collections::BTreeMap<String, u32>,
}

/// dBFS of an RMS level of 16-bit samples (-96 for silence).
pub fn dbfs(rms: f64) -> f64 {
    if rms < 1.0 {
        -96.0
    } else {
        20.0 * (rms / 32768.0).log10()
    }
}

/// The share of the audio played that was not what was sent, in percent, as the MOS
/// estimate counts it: concealment (of lost packets and while waiting for late ones) and
/// skipped frames in full, time-stretching of real audio (a pitch period repeated or taken
/// out, the sound kept) at a quarter.
pub fn impaired_pct(p: &super::playout::PlayoutStats) -> f64 {
    let total = p.played_ms + p.concealed_ms + p.underrun_ms;
    if total <= 0.0 {
        return 0.0;
    }
    let impaired =
        p.concealed_ms + p.underrun_ms + p.skipped_ms + 0.25 * (p.stretched_ms + p.compressed_ms);
    (impaired / total * 100.0).clamp(0.0, 100.0)
}

/// Mean opinion score from the E-model (ITU-T G.107, simplified): one-way delay and packet
/// loss lower the transmission rating R, which maps to MOS. A codec with concealment is
/// assumed (Bpl = 20).
pub fn mos(one_way_delay_ms: f64, loss_pct: f64) -> f64 {
    let d = one_way_delay_ms.max(0.0);
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let ppl = loss_pct.clamp(0.0, 100.0);
    let ie_eff = 95.0 * ppl / (ppl + 20.0);
    let r = (93.2 - id - ie_eff).clamp(0.0, 100.0);
    let m = 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7.0e-6;
    m.clamp(1.0, 4.5)
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn mos_falls_with_loss_and_delay() {
        let clean = mos(20.0, 0.0);
        assert!(clean > 4.3, "{clean}");
        assert!(mos(20.0, 5.0) < clean);
        assert!(mos(20.0, 10.0) < mos(20.0, 5.0));
        assert!(mos(400.0, 0.0) < 3.6);
        assert!(mos(20.0, 100.0) <= 1.1);
    }

    #[test]
    fn steps_of_the_playout_count_against_the_score() {
        let clean = super::super::playout::PlayoutStats {
            played_ms: 10_000.0,
            ..Default::default()
        };
        assert_eq!(impaired_pct(&clean), 0.0);
        let stepping = super::super::playout::PlayoutStats {
            underrun_ms: 200.0,
            compressed_ms: 200.0,
            ..clean.clone()
        };
        let pct = impaired_pct(&stepping);
        assert!((pct - 250.0 / 10_200.0 * 100.0).abs() < 1e-9, "{pct}");
        assert!(mos(30.0, pct) < mos(30.0, impaired_pct(&clean)));
        assert_eq!(impaired_pct(&Default::default()), 0.0);
    }

    #[test]
    fn dbfs_scale() {
        assert_eq!(dbfs(0.0), -96.0);
        assert!((dbfs(32768.0)).abs() < 1e-9);
        assert!((dbfs(3276.8) + 20.0).abs() < 1e-9);
    }
}
