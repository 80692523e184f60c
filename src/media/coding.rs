//! The codec a call's audio uses, Opus or G.711, behind one encoder and one decoder that
//! take and give 48 kHz frames whatever the codec.

use super::codec::{CodecError, Decoder, Encoder, FRAME_SAMPLES, SAMPLE_RATE};
use super::g711::{G711Decoder, G711Encoder, Law, NARROW_SAMPLES};

/// The codec a call's audio goes out (or comes in) with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallCodec {
    Opus,
    G711(Law),
}

impl CallCodec {
    /// RTP clock units per 20 ms frame.
    #[must_use]
    pub fn frame_units(self) -> u32 {
        match self {
            CallCodec::Opus => 960,
            CallCodec::G711(_) => 160,
        }
    }

    /// The RTP clock rate.
    #[must_use]
    pub fn clock_rate(self) -> u32 {
        match self {
            CallCodec::Opus => SAMPLE_RATE,
            CallCodec::G711(_) => 8_000,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CallCodec::Opus => "opus",
            CallCodec::G711(law) => law.name(),
        }
    }
}

/// An encoder of whichever codec the call uses.
pub enum AnyEncoder {
    Opus(Encoder),
    G711(G711Encoder),
}

impl AnyEncoder {
    pub fn new(codec: CallCodec, expected_loss_pct: i32) -> Result<Self, CodecError> {
        Ok(match codec {
            CallCodec::Opus => AnyEncoder::Opus(Encoder::new(expected_loss_pct)?),
            CallCodec::G711(law) => AnyEncoder::G711(G711Encoder::new(law)),
        })
    }

    /// Follows the receiver's reports (G.711 has nothing to adjust).
    pub fn apply(&mut self, s: &super::rate::SendSettings) -> Result<(), CodecError> {
        match self {
            AnyEncoder::Opus(e) => e.apply(s),
            AnyEncoder::G711(_) => Ok(()),
        }
    }

    /// Encodes one 20 ms frame of 48 kHz audio.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<&[u8], CodecError> {
        if pcm.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(pcm.len()));
        }
        match self {
            AnyEncoder::Opus(e) => e.encode(pcm),
            AnyEncoder::G711(e) => Ok(e.encode(pcm)),
        }
    }
}

/// A decoder of whichever codec the call's packets come in.
pub enum AnyDecoder {
    Opus(Decoder),
    G711(G711Decoder),
}

impl AnyDecoder {
    pub fn new(codec: CallCodec) -> Result<Self, CodecError> {
        Ok(match codec {
            CallCodec::Opus => AnyDecoder::Opus(Decoder::new()?),
            CallCodec::G711(law) => AnyDecoder::G711(G711Decoder::new(law)),
        })
    }

    /// Decodes one packet into a 48 kHz frame; returns the samples written.
    pub fn decode(&mut self, packet: &[u8], pcm: &mut [i16]) -> Result<usize, CodecError> {
        match self {
            AnyDecoder::Opus(d) => d.decode(packet, pcm),
            AnyDecoder::G711(d) => Ok(d.decode(&packet[..packet.len().min(NARROW_SAMPLES)], pcm)),
        }
    }

    /// Conceals one lost frame (from Opus FEC in `next` where it can).
    pub fn conceal(&mut self, next: Option<&[u8]>, pcm: &mut [i16]) -> Result<usize, CodecError> {
        match self {
            AnyDecoder::Opus(d) => d.conceal(next, pcm),
            AnyDecoder::G711(d) => Ok(d.conceal(pcm)),
        }
    }
}
