//! Network impairment for tests and benchmarks: drops and delays received datagrams the way
//! a bad network would, at the socket, before the WebRTC stack sees them
//! ([`super::net::Outage::impaired`]), so that RTCP counts the loss.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impairment {
    /// Share of packets dropped, in percent.
    pub loss_pct: f64,
    /// Each packet is delayed by a uniformly random 0..=jitter_ms.
    pub jitter_ms: f64,
    pub seed: u64,
}

/// Decides, packet by packet, whether to drop it and how long to hold it back.
pub struct Impairer {
    config: Impairment,
    rng: rand::rngs::StdRng,
}

impl Impairer {
    pub fn new(config: Impairment) -> Self {
        Impairer {
            config,
            rng: rand::rngs::StdRng::seed_from_u64(config.seed),
        }
    }

    /// `None` drops the packet; otherwise the moment it may go on.
    pub fn release_at(&mut self, arrived: Instant) -> Option<Instant> {
        if self.rng.random::<f64>() * 100.0 < self.config.loss_pct {
            return None;
        }
        let delay = self.rng.random::<f64>() * self.config.jitter_ms.max(0.0);
        Some(arrived + Duration::from_secs_f64(delay / 1000.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_about_the_configured_share_and_delays_within_bounds() {
        let mut imp = Impairer::new(Impairment {
            loss_pct: 10.0,
            jitter_ms: 40.0,
            seed: 7,
        });
        let t0 = Instant::now();
        let mut dropped = 0;
        for _ in 0..10_000 {
            match imp.release_at(t0) {
                None => dropped += 1,
                Some(t) => assert!(t - t0 <= Duration::from_millis(40)),
            }
        }
        assert!((800..1200).contains(&dropped), "{dropped}");
    }
}
