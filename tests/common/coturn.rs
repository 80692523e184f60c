//! coturn (Debian's `turnserver`) as the tests and benchmarks run it: the command-line
//! arguments of its two modes (a TURN server with the REST shared secret `parla serve
//! --turn-secret` hands out credentials for, and a STUN-only server), and the STUN binding
//! request that tells when it is up. Plain `std`, so that a benchmark can take it by path.

use std::path::Path;

/// How one coturn runs.
pub struct Coturn<'a> {
    pub port: u16,
    /// Addresses it listens on; the first is where relays are allocated.
    pub listen: &'a [&'a str],
    /// TURN with this shared secret; `None` for a STUN-only server.
    pub secret: Option<&'a str>,
    /// The UDP ports relays are allocated from (coturn's own default range when `None`).
    pub relay_ports: Option<(u16, u16)>,
    /// Where its pid file and user database go (a temporary directory of the caller's).
    pub dir: &'a Path,
}

impl Coturn<'_> {
    /// The arguments to `turnserver`: no TLS, DTLS or CLI, log to stdout, peers on loopback
    /// allowed (what tests have; never in production).
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "-n".into(),
            format!("--listening-port={}", self.port),
            "--no-tls".into(),
            "--no-dtls".into(),
            "--no-cli".into(),
            "--log-file=stdout".into(),
            "--simple-log".into(),
            format!("--pidfile={}", self.dir.join("turn.pid").display()),
        ];
        for ip in self.listen {
            a.push(format!("--listening-ip={ip}"));
        }
        match self.secret {
            None => a.push("--stun-only".into()),
            Some(secret) => {
                if let Some(ip) = self.listen.first() {
                    a.push(format!("--relay-ip={ip}"));
                }
                a.extend([
                    "--use-auth-secret".into(),
                    format!("--static-auth-secret={secret}"),
                    "--realm=parla.test".into(),
                    "--fingerprint".into(),
                    "--allow-loopback-peers".into(),
                    format!("--userdb={}", self.dir.join("turndb").display()),
                ]);
                if let Some((lo, hi)) = self.relay_ports {
                    a.push(format!("--min-port={lo}"));
                    a.push(format!("--max-port={hi}"));
                }
            }
        }
        a
    }
}

/// A relay port range of `n` ports that depends on `port`, so that servers started side
/// by side (tests run in parallel) do not allocate from the same ports.
pub fn relay_ports(port: u16, n: u16) -> (u16, u16) {
    let lo = 40_000 + (port % 20_000);
    (lo, lo + n)
}

/// A STUN binding request (RFC 5389 header, a fixed transaction id).
pub fn binding_request() -> Vec<u8> {
    let mut req = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    req.extend_from_slice(b"parla-probe!");
    req
}

/// Whether `reply` is a STUN binding success response.
pub fn is_binding_response(reply: &[u8]) -> bool {
    reply.len() >= 20 && reply[0] == 0x01 && reply[1] == 0x01
}
