//! The real `parla serve` binary as a child process: for kills, signals, resource limits
//! and memory readings that an in-process server cannot give.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{API_KEY, WAIT};

pub struct ServeProcess {
    pub child: Child,
    pub url: String,
}

/// How to start the server.
pub struct Serve {
    pub listen: String,
    pub data: PathBuf,
    pub home: PathBuf,
    pub args: Vec<String>,
    /// Largest file the server may write, in KiB (`ulimit -f`), to make a disk "full".
    pub file_size_limit_kib: Option<u64>,
}

impl Serve {
    pub fn new(data: &Path, home: &Path) -> Self {
        Serve {
            listen: "127.0.0.1:0".into(),
            data: data.to_owned(),
            home: home.to_owned(),
            args: Vec::new(),
            file_size_limit_kib: None,
        }
    }

    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn listen(mut self, addr: impl Into<String>) -> Self {
        self.listen = addr.into();
        self
    }

    pub async fn spawn(self) -> ServeProcess {
        let bin = env!("CARGO_BIN_EXE_parla");
        let mut cmd = match self.file_size_limit_kib {
            // SIGXFSZ would kill the server; ignored, the write fails with EFBIG instead,
            // which is what a full disk looks like to SQLite.
            Some(kib) => {
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.args(["serve", "--listen", &self.listen, "--data"])
            .arg(&self.data)
            .args(["--api-key", API_KEY])
            .args(&self.args)
            // Keep the server's log file out of the real home directory.
            .env("XDG_DATA_HOME", &self.home)
            .env("HOME", &self.home)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("cannot start parla serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("parla serve: listening on ") {
                    return url.to_owned();
                }
            }
            panic!("parla serve ended without saying where it listens");
        })
        .await
        .expect("parla serve did not start in time");
        // Keep reading so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServeProcess { child, url }
    }
}

/// `parla serve` on a free port with `data` as its data directory.
pub async fn spawn_serve(listen: &str, data: &Path, home: &Path) -> ServeProcess {
    Serve::new(data, home).listen(listen).spawn().await
}

impl ServeProcess {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server has exited")
    }

    /// Resident memory, from `/proc`, in KiB.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .expect("no VmRSS for the server")
    }

    /// Sends SIGINT, as Ctrl-C in its terminal would.
    pub fn interrupt(&self) {
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -INT failed");
    }

    /// Waits for the process to end by itself; its exit status.
    pub async fn wait_exit(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the server did not exit in time")
            .expect("wait failed")
    }
}
