//! Audio for calls. The codec lives here now; devices, the jitter buffer and the
//! peer connection join it as calls arrive.

pub mod codec;
