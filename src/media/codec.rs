//! Opus at 48 kHz mono in 20 ms frames, with in-band FEC on: the codec parla calls use
//! (G.711 in [`super::g711`] for peers without it; [`super::coding`] picks between them).

/// Samples per second.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame.
pub const FRAME_SAMPLES: usize = 960;
/// Largest encoded frame we produce (Opus' own recommended ceiling).
pub const MAX_PACKET: usize = 1275;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("opus: {0}")]
    Opus(#[from] opus::Error),
    #[error("a frame must hold {FRAME_SAMPLES} samples, got {0}")]
    FrameSize(usize),
}

pub struct Encoder {
    inner: opus::Encoder,
    out: Vec<u8>,
}

impl Encoder {
    /// A VoIP encoder with in-band FEC tuned for `expected_loss_pct` packet loss.
    pub fn new(expected_loss_pct: i32) -> Result<Self, CodecError> {
        let mut inner =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)?;
        inner.set_inband_fec(true)?;
        inner.set_packet_loss_perc(expected_loss_pct.clamp(0, 100))?;
        Ok(Encoder {
            inner,
            out: vec![0; MAX_PACKET],
        })
    }

    /// Follows what the receiver reports: bitrate, in-band FEC and the loss to expect.
    pub fn apply(&mut self, s: &super::rate::SendSettings) -> Result<(), CodecError> {
        self.inner.set_bitrate(opus::Bitrate::Bits(s.bitrate))?;
        self.inner.set_inband_fec(s.fec)?;
        self.inner.set_packet_loss_perc(s.loss_pct.clamp(0, 100))?;
        Ok(())
    }

    /// Encodes one 20 ms frame; the returned slice is valid until the next call.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<&[u8], CodecError> {
        if pcm.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(pcm.len()));
        }
        let n = self.inner.encode(pcm, &mut self.out)?;
        Ok(&self.out[..n])
    }
}

pub struct Decoder {
    inner: opus::Decoder,
}

impl Decoder {
    pub fn new() -> Result<Self, CodecError> {
        Ok(Decoder {
            inner: opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)?,
        })
    }

    /// Decodes one packet into `pcm` (one frame long); returns the samples written.
    pub fn decode(&mut self, packet: &[u8], pcm: &mut [i16]) -> Result<usize, CodecError> {
        Ok(self.inner.decode(packet, pcm, false)?)
    }

    /// Conceals one lost frame: from the FEC data in `next` when given, else by PLC.
    pub fn conceal(&mut self, next: Option<&[u8]>, pcm: &mut [i16]) -> Result<usize, CodecError> {
        match next {
            Some(p) => Ok(self.inner.decode(p, pcm, true)?),
            None => Ok(self.inner.decode(&[], pcm, false)?),
        }
    }
}

#[cfg(test)]
// Test fixtures: exact values and free conversions.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    fn tone(freq: f32, frame: usize) -> Vec<i16> {
        (0..FRAME_SAMPLES)
            .map(|i| {
                let t = (frame * FRAME_SAMPLES + i) as f32 / SAMPLE_RATE as f32;
                ((t * freq * std::f32::consts::TAU).sin() * 12_000.0) as i16
            })
            .collect()
    }

    /// Zero crossings per second / 2 estimates the frequency of a clean tone.
    fn estimate_freq(pcm: &[i16]) -> f32 {
        let crossings = pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        crossings as f32 / 2.0 / (pcm.len() as f32 / SAMPLE_RATE as f32)
    }

    #[test]
    fn a_tone_survives_encode_and_decode() {
        let mut enc = Encoder::new(10).unwrap();
        let mut dec = Decoder::new().unwrap();
        let mut decoded = Vec::new();
        for f in 0..25 {
            let packet = enc.encode(&tone(440.0, f)).unwrap().to_vec();
            assert!(packet.len() < MAX_PACKET);
            let mut pcm = vec![0i16; FRAME_SAMPLES];
            let n = dec.decode(&packet, &mut pcm).unwrap();
            assert_eq!(n, FRAME_SAMPLES);
            decoded.extend_from_slice(&pcm);
        }
        // Skip the codec's start-up frames.
        let freq = estimate_freq(&decoded[FRAME_SAMPLES * 5..]);
        assert!((freq - 440.0).abs() < 15.0, "estimated {freq} Hz");
        let mut pcm = vec![0i16; FRAME_SAMPLES];
        assert_eq!(dec.conceal(None, &mut pcm).unwrap(), FRAME_SAMPLES);
    }

    #[test]
    fn wrong_frame_sizes_are_refused() {
        let mut enc = Encoder::new(0).unwrap();
        assert!(matches!(
            enc.encode(&[0; 100]),
            Err(CodecError::FrameSize(100))
        ));
        let mut dec = Decoder::new().unwrap();
        let mut pcm = vec![0i16; FRAME_SAMPLES];
        assert!(dec.decode(&[0xff, 0xff, 0xff], &mut pcm).is_err());
    }
}
