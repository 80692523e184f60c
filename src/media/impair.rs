//! Network impairment for tests and benchmarks: drops and delays received datagrams the way
//! a bad network would, at the socket, before the WebRTC stack sees them
//! ([`super::net::Outage::impaired`]), so that RTCP counts the loss.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impairment {
    /// Share of packets dropped, in percent.
    pub loss_pct: f64,
    /// Each packet is delayed by a uniformly random 0..=jitter_ms.
    pub jitter_ms: f64,
    /// When above zero, what arrives is handed on in bursts, the way a reader that was
    /// descheduled finds it: a burst opens with the first datagram held and everything that
    /// arrives in the next `burst_ms` goes on together when it closes.
    pub burst_ms: f64,
    pub seed: u64,
}

/// Decides, packet by packet, whether to drop it and how long to hold it back.
pub struct Impairer {
    config: Impairment,
    rng: rand::rngs::StdRng,
    /// When the open burst closes.
    burst_until: Option<Instant>,
}

impl Impairer {
    pub fn new(config: Impairment) -> Self {
        Impairer {
            config,
            rng: rand::rngs::StdRng::seed_from_u64(config.seed),
            burst_until: None,
        }
    }

    /// `None` drops the packet; otherwise the moment it may go on.
    pub fn release_at(&mut self, arrived: Instant) -> Option<Instant> {
        if self.rng.random::<f64>() * 100.0 < self.config.loss_pct {
            return None;
        }
        let delay = self.rng.random::<f64>() * self.config.jitter_ms.max(0.0);
        let release = arrived + Duration::from_secs_f64(delay / 1000.0);
        if self.config.burst_ms <= 0.0 {
            return Some(release);
        }
        let close = match self.burst_until {
            Some(close) if release < close => close,
            _ => release + Duration::from_secs_f64(self.config.burst_ms / 1000.0),
        };
        self.burst_until = Some(close);
        Some(close)
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
            ..Default::default()
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

    #[test]
    fn bursts_hand_on_together_what_arrives_within_the_window() {
        let mut imp = Impairer::new(Impairment {
            burst_ms: 100.0,
            ..Default::default()
        });
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let first = imp.release_at(ms(0));
        assert_eq!(first, Some(ms(100)));
        assert_eq!(imp.release_at(ms(40)), first);
        assert_eq!(imp.release_at(ms(99)), first);
        // The next datagram opens the next burst.
        assert_eq!(imp.release_at(ms(130)), Some(ms(230)));
    }
}
