//! Voice messages as audio: recording one (20 ms frames of 48 kHz mono into Opus in Ogg,
//! up to the length limit) and playing one back (Ogg Opus into 48 kHz mono samples).

use super::audio::AudioSource;
use super::codec::{CodecError, Decoder, FRAME_SAMPLES, SAMPLE_RATE};
use crate::proto::ogg::{self, OggError, OggOpusWriter};

/// 48 kHz samples in one 20 ms packet.
const FRAME_PER_PACKET: u32 = 960;

/// Bitrate of recorded messages: clear speech, and two minutes stay well inside the size
/// limit.
pub const BITRATE: i32 = 32_000;

#[derive(Debug, thiserror::Error)]
pub enum VoicemailAudioError {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("not a voice message: {0}")]
    Format(#[from] OggError),
}

/// Records a voice message a frame at a time.
pub struct Recorder {
    encoder: opus::Encoder,
    writer: OggOpusWriter,
    out: Vec<u8>,
    frames: u64,
    max_frames: u64,
}

impl Recorder {
    /// A message of at most `max_ms` milliseconds.
    pub fn new(max_ms: u64) -> Result<Self, VoicemailAudioError> {
        let mut encoder =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
                .map_err(CodecError::from)?;
        encoder
            .set_bitrate(opus::Bitrate::Bits(BITRATE))
            .map_err(CodecError::from)?;
        Ok(Recorder {
            encoder,
            writer: OggOpusWriter::new(rand::random(), 1, SAMPLE_RATE),
            out: vec![0; super::codec::MAX_PACKET],
            frames: 0,
            max_frames: max_ms / 20,
        })
    }

    /// Adds a frame; false once the message is at its length limit (the frame is not
    /// taken).
    pub fn push(&mut self, frame: &[i16]) -> Result<bool, VoicemailAudioError> {
        if self.frames >= self.max_frames {
            return Ok(false);
        }
        if frame.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(frame.len()).into());
        }
        let n = self
            .encoder
            .encode(frame, &mut self.out)
            .map_err(CodecError::from)?;
        self.writer.push(&self.out[..n], FRAME_PER_PACKET);
        self.frames += 1;
        Ok(true)
    }

    /// Milliseconds recorded so far.
    pub fn duration_ms(&self) -> u64 {
        self.frames * 20
    }

    /// The message as an Ogg Opus file.
    pub fn finish(self) -> Vec<u8> {
        self.writer.finish()
    }
}

/// A recorded message: the file, how long it lasts, and whether the source went on past
/// the length limit (the rest was left out).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub ogg: Vec<u8>,
    pub duration_ms: u64,
    pub truncated: bool,
}

/// Records what `source` gives until it ends or the length limit.
pub fn record(source: &mut dyn AudioSource, max_ms: u64) -> Result<Recorded, VoicemailAudioError> {
    let mut r = Recorder::new(max_ms)?;
    let mut frame = vec![0i16; FRAME_SAMPLES];
    let mut truncated = false;
    while source.next_frame(&mut frame) {
        if !r.push(&frame)? {
            truncated = true;
            break;
        }
    }
    let duration_ms = r.duration_ms();
    Ok(Recorded {
        ogg: r.finish(),
        duration_ms,
        truncated,
    })
}

/// Decodes a message to 48 kHz mono samples (the encoder's look-ahead dropped).
pub fn decode(bytes: &[u8]) -> Result<Vec<i16>, VoicemailAudioError> {
    let file = ogg::parse(bytes)?;
    let mut decoder = Decoder::new()?;
    // A packet decodes to at most 120 ms.
    let mut frame = vec![0i16; SAMPLE_RATE as usize / 1000 * 120];
    let mut pcm = Vec::new();
    for p in &file.packets {
        let n = decoder.decode(p, &mut frame)?;
        pcm.extend_from_slice(&frame[..n]);
    }
    let skip = usize::from(file.pre_skip).min(pcm.len());
    pcm.drain(..skip);
    pcm.truncate(usize::try_from(file.samples).unwrap_or(usize::MAX));
    Ok(pcm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::audio::Tone;

    /// A tone for so many frames.
    struct Frames(Tone, u32);

    impl AudioSource for Frames {
        fn next_frame(&mut self, out: &mut [i16]) -> bool {
            if self.1 == 0 {
                return false;
            }
            self.1 -= 1;
            self.0.next_frame(out)
        }
    }

    #[test]
    fn a_tone_recorded_plays_back_as_the_tone() {
        let rec = record(&mut Frames(Tone::new(440.0), 150), 120_000).unwrap();
        assert_eq!((rec.duration_ms, rec.truncated), (3000, false));
        // 32 kbit/s: about 12 kB for 3 s.
        assert!(rec.ogg.len() < 16_000, "{}", rec.ogg.len());
        let pcm = decode(&rec.ogg).unwrap();
        assert_eq!(pcm.len(), 3 * 48_000 - usize::from(ogg::PRE_SKIP));
        let crossings = pcm[4800..]
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        let hz = crossings as f64 / 2.0 / ((pcm.len() - 4800) as f64 / 48_000.0);
        assert!((hz - 440.0).abs() < 5.0, "{hz}");
    }

    #[test]
    fn recording_stops_at_the_limit() {
        let rec = record(&mut Tone::new(300.0), 1000).unwrap();
        assert_eq!((rec.duration_ms, rec.truncated), (1000, true));
        assert_eq!(ogg::parse(&rec.ogg).unwrap().duration_ms(), 1000);
    }
}
