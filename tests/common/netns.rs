//! Hosts of a test's own, in network namespaces it creates and removes (`ip netns`, veth
//! pairs; root only): two end hosts, `a` (10.13.1.2) and `b` (10.13.2.2), each on a veth
//! to a middle namespace, `r` (10.13.1.1 and 10.13.2.1). Nothing touches the machine's own
//! interfaces.
//!
//! The middle namespace is either a router whose forwarding passes through an impairment
//! (`tests/peers/impair_router.py` on a TUN device: loss, bursts, delay, jitter with
//! reordering, a rate cap; what `tc netem` does, for kernels built without it), a NAT
//! (nftables), or no router at all: `a` and `b` then reach nothing but `r` itself, where a
//! TURN server can listen on both sides.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// The end hosts' and the middle's addresses.
pub const A: &str = "10.13.1.2";
pub const B: &str = "10.13.2.2";
pub const R_A: &str = "10.13.1.1";
pub const R_B: &str = "10.13.2.1";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// What the middle namespace does with packets between `a` and `b`.
pub enum Middle<'a> {
    /// Forwards through the impairment router with these arguments (see its `--help`).
    Impaired(&'a [&'a str]),
    /// Forwards nothing: `a` and `b` can only reach `r`.
    Isolated,
    /// A NAT router, as a home router is: what `a` sends out towards `b` leaves with the
    /// router's own address (10.13.2.1) and a port of its choosing; `b` reaches `a` only
    /// with replies to that (nftables masquerade, connection tracking).
    Nat,
}

pub struct Hosts {
    pub a: String,
    pub r: String,
    pub b: String,
    router: Option<Child>,
}

/// Whether this machine can make network namespaces (root, `ip` present).
pub fn available() -> bool {
    Command::new("ip")
        .args(["netns", "list"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && unsafe_free_is_root()
}

fn unsafe_free_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
            .unwrap_or(false)
    })
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sysctl(ns: &str, settings: &[&str]) {
    let mut args = vec!["netns", "exec", ns, "sysctl", "-qw"];
    args.extend_from_slice(settings);
    ip(&args);
}

impl Hosts {
    pub fn new(middle: &Middle<'_>) -> Hosts {
        let tag = format!(
            "p{}x{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let (a, r, b) = (format!("{tag}a"), format!("{tag}r"), format!("{tag}b"));
        let hosts = Hosts {
            a: a.clone(),
            r: r.clone(),
            b: b.clone(),
            router: None,
        };
        for n in [&a, &r, &b] {
            ip(&["netns", "add", n]);
            ip(&["-n", n, "link", "set", "lo", "up"]);
        }
        let (a0, a1, b0, b1) = (
            format!("{tag}a0"),
            format!("{tag}a1"),
            format!("{tag}b0"),
            format!("{tag}b1"),
        );
        ip(&[
            "link", "add", &a0, "netns", &a, "type", "veth", "peer", "name", &a1, "netns", &r,
        ]);
        ip(&[
            "link", "add", &b0, "netns", &b, "type", "veth", "peer", "name", &b1, "netns", &r,
        ]);
        for (ns, dev, addr, via) in [(&a, &a0, A, R_A), (&b, &b0, B, R_B)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "route", "add", "default", "via", via]);
        }
        for (dev, addr) in [(&a1, R_A), (&b1, R_B)] {
            ip(&["-n", &r, "addr", "add", &format!("{addr}/24"), "dev", dev]);
            ip(&["-n", &r, "link", "set", dev, "up"]);
        }
        let mut hosts = hosts;
        match middle {
            Middle::Isolated => sysctl(&r, &["net.ipv4.ip_forward=0"]),
            Middle::Nat => {
                sysctl(&r, &["net.ipv4.ip_forward=1"]);
                let rules = format!(
                    "table ip nat {{\n  chain post {{\n    type nat hook postrouting priority 100;\n    \
                     oifname \"{b1}\" masquerade\n  }}\n}}\n\
                     table ip filter {{\n  chain forward {{\n    \
                     type filter hook forward priority 0; policy drop;\n    \
                     iifname \"{a1}\" accept\n    ct state established,related accept\n  }}\n}}\n"
                );
                nft(&r, &rules);
            }
            Middle::Impaired(args) => {
                sysctl(
                    &r,
                    &[
                        "net.ipv4.ip_forward=1",
                        "net.ipv4.conf.all.rp_filter=0",
                        "net.ipv4.conf.default.rp_filter=0",
                    ],
                );
                // Everything that comes in on either veth goes to the TUN device; what the
                // router writes back into it is forwarded by the main table.
                ip(&["-n", &r, "tuntap", "add", "dev", "imp0", "mode", "tun"]);
                ip(&["-n", &r, "link", "set", "imp0", "up"]);
                sysctl(&r, &["net.ipv4.conf.imp0.rp_filter=0"]);
                ip(&[
                    "-n", &r, "route", "add", "default", "dev", "imp0", "table", "100",
                ]);
                ip(&["-n", &r, "rule", "add", "iif", &a1, "lookup", "100"]);
                ip(&["-n", &r, "rule", "add", "iif", &b1, "lookup", "100"]);
                let script =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/impair_router.py");
                let mut child = Command::new("ip")
                    .args(["netns", "exec", &r, "python3"])
                    .arg(script)
                    .arg("imp0")
                    .args(*args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("the impairment router");
                // Ready once it has printed its first line.
                let mut line = String::new();
                let out = child.stdout.take().expect("router stdout");
                std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line)
                    .expect("router ready");
                assert!(line.contains("ready"), "router: {line}");
                hosts.router = Some(child);
            }
        }
        hosts
    }

    /// Nothing leaves hosts `a` and `b` over UDP (their own loopback aside): what they
    /// reach, they reach over TCP.
    pub fn block_udp(&self) {
        let rules = "table inet parla_block {\n  chain out {\n    \
                     type filter hook output priority 0; policy accept;\n    \
                     oifname \"lo\" accept\n    meta l4proto udp drop\n  }\n}\n";
        nft(&self.a, rules);
        nft(&self.b, rules);
    }

    /// A command to run inside namespace `ns`.
    pub fn exec(ns: &str, program: &str) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("ip");
        c.args(["netns", "exec", ns, program]).kill_on_drop(true);
        c
    }
}

/// Loads nftables `rules` in namespace `ns`.
fn nft(ns: &str, rules: &str) {
    let mut nft = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("nft");
    if let Some(mut stdin) = nft.stdin.take() {
        std::io::Write::write_all(&mut stdin, rules.as_bytes()).expect("nft rules");
    }
    assert!(nft.wait().is_ok_and(|s| s.success()), "nft: {rules}");
}

impl Drop for Hosts {
    fn drop(&mut self) {
        if let Some(mut r) = self.router.take() {
            let _ = r.kill();
            let _ = r.wait();
        }
        // Removing a namespace removes its veth ends and the TUN device with it.
        for n in [&self.a, &self.r, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}
