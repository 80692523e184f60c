//! Newline-delimited JSON: a cancel-safe line reader with a length limit, and a writer.

use std::io;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub(super) enum Line {
    Data(Vec<u8>),
    TooLong,
}

/// Reads newline-terminated lines of at most `max` bytes. `next_line` is cancel safe: its
/// only await point is a read, and a partial line stays in the buffer.
pub(super) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no newline.
    scanned: usize,
    max: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub(super) fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            scanned: 0,
            max,
            eof: false,
        }
    }

    /// The next line without its `\n` (or `\r\n`); `None` at the end of the stream.
    pub(super) async fn next_line(&mut self) -> io::Result<Option<Line>> {
        loop {
            if let Some(at) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + at;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                self.scanned = 0;
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > self.max {
                    return Ok(Some(Line::TooLong));
                }
                return Ok(Some(Line::Data(line)));
            }
            self.scanned = self.buf.len();
            if self.buf.len() > self.max {
                self.buf.clear();
                self.scanned = 0;
                return Ok(Some(Line::TooLong));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                self.scanned = 0;
                return Ok(Some(Line::Data(std::mem::take(&mut self.buf))));
            }
            self.buf.reserve(8192);
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                self.eof = true;
            }
        }
    }
}

/// Writes `frame` as one line of JSON.
pub(super) async fn write_line<W: AsyncWrite + Unpin, T: Serialize>(
    w: &mut W,
    frame: &T,
) -> io::Result<()> {
    let mut text = serde_json::to_string(frame).map_err(io::Error::other)?;
    text.push('\n');
    w.write_all(text.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ctl_line_reader_splits_limits_and_ends() {
        let data: &[u8] = b"one\r\ntwo\n\nlast";
        let mut r = LineReader::new(data, 16);
        let mut got = Vec::new();
        while let Some(line) = r.next_line().await.unwrap() {
            match line {
                Line::Data(d) => got.push(String::from_utf8(d).unwrap()),
                Line::TooLong => got.push("<too long>".into()),
            }
        }
        assert_eq!(got, ["one", "two", "", "last"]);

        let long = [b'x'; 40];
        let mut r = LineReader::new(&long[..], 16);
        assert!(matches!(r.next_line().await.unwrap(), Some(Line::TooLong)));
    }
}
