//! Audio for calls: sources and sinks, the Opus codec, the jitter buffer, the WebRTC peer
//! connection, and the engine that moves frames between them.

pub mod audio;
pub mod codec;
pub mod coding;
pub mod device;
pub mod dscp;
pub mod dtmf;
pub mod engine;
pub mod g711;
pub mod impair;
pub mod jitter;
pub mod mix;
pub mod net;
pub mod pcm;
pub mod peer;
pub mod playout;
pub mod rate;
pub mod red;
pub mod sdp;
pub mod stats;
pub mod stretch;
pub mod tones;
pub mod voicemail;
