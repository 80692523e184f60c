//! The async runtime a client process runs on.
//!
//! One worker thread. A client carries a call or a few, and every stage of a call's audio
//! path (the peer connection's driver, the RTP reader, the sender) is a task that wakes
//! some 50 times a second per direction; on a runtime with a worker per core each wake-up
//! can land on another worker, which parks and unparks threads for every packet. Measured
//! on a 2-core machine (`make bench`, `calls`): one call side used 2.0–2.8 % of a core on two
//! workers and 1.2–1.4 % on one, with mouth-to-ear latency unchanged idle and under load.
//! The audio device and the playout clock run on threads of their own, not here. The server
//! (`parla serve`) keeps tokio's default of a worker per core.

/// A runtime for a client process: one worker thread, timers and I/O enabled.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}
