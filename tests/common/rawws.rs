//! A WebSocket client written out by hand (RFC 6455 framing over a plain TCP socket), for
//! sending what a well-behaved library refuses to send: frames over the size limit, text
//! that is not UTF-8, and for seeing exactly which close frame comes back.

// Test code: fixtures convert numbers freely; scenarios read top to bottom.
#![allow(
    clippy::cast_possible_truncation,
    clippy::decimal_bitwise_operands,
    clippy::match_wild_err_arm
)]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::WAIT;

pub const TEXT: u8 = 0x1;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;

pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// What came back when a connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// A close frame with this code.
    Close(u16),
    /// The socket ended without a close frame (what a browser reports as 1006).
    Dropped,
}

impl RawWs {
    /// Opens `/v1/ws` on `server` (`http://host:port`) with `token`.
    pub async fn connect(server: &str, token: &str) -> RawWs {
        let host = server.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).await.expect("tcp connect");
        let req = format!(
            "GET /v1/ws?access_token={token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let end = loop {
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(WAIT, stream.read(&mut chunk))
                .await
                .expect("no handshake answer")
                .unwrap();
            assert!(n > 0, "closed during the handshake");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "no upgrade: {head}");
        let rest = buf[end..].to_vec();
        let mut ws = RawWs { stream, buf: rest };
        let ready = ws.next_json().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        ws
    }

    /// Writes one frame (FIN set, masked as a client must).
    pub async fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        let mut frame = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            frame.push(0x80 | len as u8);
        } else if u16::try_from(len).is_ok() {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        // The server may close before taking it all; that is what some tests look for.
        let _ = self.stream.write_all(&frame).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.send_frame(TEXT, text.as_bytes()).await;
    }

    async fn fill(&mut self, want: usize) -> bool {
        while self.buf.len() < want {
            let mut chunk = vec![0u8; 64 * 1024];
            let n = match tokio::time::timeout(WAIT, self.stream.read(&mut chunk)).await {
                Ok(Ok(n)) => n,
                Ok(Err(_)) => 0,
                Err(_) => panic!("nothing from the server in time"),
            };
            if n == 0 {
                return false;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        true
    }

    /// The next frame from the server, `None` when the socket ended.
    pub async fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        if !self.fill(2).await {
            return None;
        }
        let opcode = self.buf[0] & 0x0f;
        let (len, head) = match self.buf[1] & 0x7f {
            126 => {
                if !self.fill(4).await {
                    return None;
                }
                (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
            }
            127 => {
                if !self.fill(10).await {
                    return None;
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&self.buf[2..10]);
                (u64::from_be_bytes(b) as usize, 10)
            }
            n => (n as usize, 2),
        };
        if !self.fill(head + len).await {
            return None;
        }
        let payload = self.buf[head..head + len].to_vec();
        self.buf.drain(..head + len);
        Some((opcode, payload))
    }

    /// The next JSON frame that is not a presence update.
    pub async fn next_json(&mut self) -> serde_json::Value {
        loop {
            match self.read_frame().await {
                Some((TEXT, payload)) => {
                    let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
                    if v["type"] != "presence" {
                        return v;
                    }
                }
                Some((CLOSE, p)) => panic!("closed while a frame was expected: {p:?}"),
                Some(_) => {}
                None => panic!("the socket ended while a frame was expected"),
            }
        }
    }

    /// Reads until the connection ends; how it ended.
    pub async fn ending(&mut self) -> Ending {
        loop {
            match self.read_frame().await {
                Some((CLOSE, payload)) => {
                    let code = payload
                        .get(..2)
                        .map_or(1005, |b| u16::from_be_bytes([b[0], b[1]]));
                    return Ending::Close(code);
                }
                Some(_) => {}
                None => return Ending::Dropped,
            }
        }
    }
}
