//! Network impairment for tests and benchmarks: drops and delays received datagrams the way
//! a bad network would, at the socket, before the WebRTC stack sees them
//! ([`super::net::Outage::impaired`]), so that RTCP counts the loss.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impairment {
    /// Share of packets dropped, in percent.
    pub loss_pct: f64,
    /// Each packet is delayed by `delay_ms` plus a uniformly random 0..=jitter_ms.
    pub delay_ms: f64,
    pub jitter_ms: f64,
    /// Bursts of loss (a Gilbert-Elliott channel) when `burst_enter_pct` is above zero: each
    /// packet enters the bad state with this probability and, once there, leaves it with
    /// `burst_leave_pct`; in the bad state everything is lost (on top of `loss_pct`).
    pub burst_enter_pct: f64,
    pub burst_leave_pct: f64,
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
    /// In the Gilbert-Elliott channel's bad state.
    bad: bool,
}

impl Impairer {
    pub fn new(config: Impairment) -> Self {
        Impairer {
            config,
            rng: rand::rngs::StdRng::seed_from_u64(config.seed),
            burst_until: None,
            bad: false,
        }
    }

    /// `None` drops the packet; otherwise the moment it may go on.
    pub fn release_at(&mut self, arrived: Instant) -> Option<Instant> {
        if self.config.burst_enter_pct > 0.0 {
            let p = if self.bad {
                100.0 - self.config.burst_leave_pct
            } else {
                self.config.burst_enter_pct
            };
            self.bad = self.rng.random::<f64>() * 100.0 < p;
            if self.bad {
                return None;
            }
        }
        if self.rng.random::<f64>() * 100.0 < self.config.loss_pct {
            return None;
        }
        let delay = self.config.delay_ms.max(0.0)
            + self.rng.random::<f64>() * self.config.jitter_ms.max(0.0);
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
    fn gilbert_elliott_loss_comes_in_bursts() {
        // Enter 2.5 %, leave 25 %: about 9 % lost, in bursts of four on average.
        let mut imp = Impairer::new(Impairment {
            burst_enter_pct: 2.5,
            burst_leave_pct: 25.0,
            delay_ms: 100.0,
            seed: 9,
            ..Default::default()
        });
        let t0 = Instant::now();
        let lost: Vec<bool> = (0..20_000).map(|_| imp.release_at(t0).is_none()).collect();
        let share = lost.iter().filter(|l| **l).count() as f64 / lost.len() as f64;
        let bursts = lost.windows(2).filter(|w| w[1] && !w[0]).count();
        let mean_burst = lost.iter().filter(|l| **l).count() as f64 / bursts as f64;
        assert!((0.07..0.11).contains(&share), "{share}");
        assert!((3.0..5.0).contains(&mean_burst), "{mean_burst}");
        // What gets through is delayed by the path's 100 ms.
        let through = (0..100).find_map(|_| imp.release_at(t0));
        assert_eq!(through, Some(t0 + Duration::from_millis(100)));
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
