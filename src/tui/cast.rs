//! Recording the interface as an asciicast v2 file.
//!
//! [`CastWriter`] sits between the ratatui backend and the terminal (or [`std::io::sink`]
//! when there is no terminal): everything written passes through to the inner writer and is
//! kept, and every `flush` turns what was kept into one output event of the cast file.
//! The file is [asciicast v2](https://docs.asciinema.org/manual/asciicast/v2/): a JSON header
//! line, then one JSON array per event:
//!
//! ```text
//! {"version":2,"width":100,"height":30,"timestamp":1700000000,"env":{"TERM":"xterm-256color"},"title":"parla"}
//! [0.0125,"o","\u001b[2J..."]
//! [1.5,"r","120x40"]
//! [2.25,"m","connected"]
//! ```
//!
//! [`read_cast`] reads such a file back, for tests and tools.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The seconds since the recording started, as a cast's event times.
pub type Clock = Box<dyn FnMut() -> f64 + Send>;

/// A writer that passes output through to `inner` and records it, flush by flush, as the
/// output events of an asciicast v2 file.
///
/// Once the writer is inside a ratatui backend (whose `writer_mut` is unstable), reach the
/// recording through a [`CastHandle`] taken beforehand with [`CastWriter::handle`].
pub struct CastWriter<W: Write> {
    inner: W,
    recorder: CastHandle,
}

/// A handle on a recording, shared with its [`CastWriter`]: for resize events, markers
/// and flushing the file while the writer belongs to a terminal backend.
#[derive(Clone)]
pub struct CastHandle(Arc<Mutex<Recorder>>);

struct Recorder {
    file: Box<dyn Write + Send>,
    /// Bytes written since the last event.
    pending: Vec<u8>,
    clock: Clock,
    /// The time of the last event: event times never go backwards.
    last: f64,
}

impl<W: Write> CastWriter<W> {
    /// Creates the cast file at `path` (replacing one that is there), writes its header, and
    /// times events from now.
    pub fn create(path: &Path, inner: W, width: u16, height: u16, title: &str) -> io::Result<Self> {
        let start = Instant::now();
        Self::with_clock(
            path,
            inner,
            width,
            height,
            title,
            Box::new(move || start.elapsed().as_secs_f64()),
        )
    }

    /// As [`CastWriter::create`], with the event times taken from `clock`.
    pub fn with_clock(
        path: &Path,
        inner: W,
        width: u16,
        height: u16,
        title: &str,
        clock: Clock,
    ) -> io::Result<Self> {
        let file = File::create(path)?;
        Self::recording_to(
            Box::new(BufWriter::new(file)),
            inner,
            width,
            height,
            title,
            clock,
        )
    }

    /// Records into any writer instead of a file.
    pub fn recording_to(
        out: Box<dyn Write + Send>,
        inner: W,
        width: u16,
        height: u16,
        title: &str,
        clock: Clock,
    ) -> io::Result<Self> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = serde_json::json!({
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": timestamp,
            "env": { "TERM": "xterm-256color" },
            "title": title,
        });
        let mut recorder = Recorder {
            file: out,
            pending: Vec::new(),
            clock,
            last: 0.0,
        };
        recorder.write_line(&header)?;
        Ok(CastWriter {
            inner,
            recorder: CastHandle(Arc::new(Mutex::new(recorder))),
        })
    }

    /// A handle on the recording, usable after the writer is given away.
    pub fn handle(&self) -> CastHandle {
        self.recorder.clone()
    }

    /// The writer output passes through to.
    pub fn inner(&self) -> &W {
        &self.inner
    }

    /// The writer output passes through to, mutably (writes to it are not recorded).
    pub fn inner_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Records a change of the terminal size (a `"r"` event), after any pending output.
    pub fn resize(&mut self, width: u16, height: u16) -> io::Result<()> {
        self.recorder.resize(width, height)
    }

    /// Records a marker (a `"m"` event, a chapter in players), after any pending output.
    pub fn marker(&mut self, label: &str) -> io::Result<()> {
        self.recorder.marker(label)
    }

    /// Records pending output and flushes the cast file. The writer stays usable (an
    /// incomplete character at the end stays pending, to be completed by later output).
    pub fn finish(&mut self) -> io::Result<()> {
        self.recorder.finish()
    }
}

impl CastHandle {
    fn lock(&self) -> MutexGuard<'_, Recorder> {
        // A panic elsewhere while recording leaves nothing half-done that matters here.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a change of the terminal size (a `"r"` event), after any pending output.
    pub fn resize(&self, width: u16, height: u16) -> io::Result<()> {
        let mut r = self.lock();
        r.record_pending()?;
        r.event("r", &format!("{width}x{height}"))
    }

    /// Records a marker (a `"m"` event, a chapter in players), after any pending output.
    pub fn marker(&self, label: &str) -> io::Result<()> {
        let mut r = self.lock();
        r.record_pending()?;
        r.event("m", label)
    }

    /// Records pending output and flushes the cast file.
    pub fn finish(&self) -> io::Result<()> {
        let mut r = self.lock();
        r.record_pending()?;
        r.file.flush()
    }
}

impl Recorder {
    fn now(&mut self) -> f64 {
        let t = (self.clock)();
        let t = if t.is_finite() { t } else { self.last };
        // Microseconds are plenty, and keep the file short.
        let t = ((t * 1e6).round() / 1e6).max(self.last);
        self.last = t;
        t
    }

    fn event(&mut self, code: &str, data: &str) -> io::Result<()> {
        let t = self.now();
        let line = serde_json::json!([t, code, data]);
        self.write_line(&line)
    }

    fn write_line(&mut self, value: &serde_json::Value) -> io::Result<()> {
        let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }

    /// Turns the pending bytes into one output event, keeping an incomplete UTF-8 sequence
    /// at the end for the next one. Invalid bytes become U+FFFD.
    fn record_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (text, tail) = decode(&self.pending);
        let tail = tail.to_vec();
        self.pending = tail;
        if text.is_empty() {
            return Ok(());
        }
        self.event("o", &text)
    }
}

/// Decodes as much of `bytes` as is complete: the text, and an incomplete sequence at the
/// end (at most three bytes) that may be completed by later bytes.
fn decode(bytes: &[u8]) -> (String, &[u8]) {
    let mut text = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                text.push_str(s);
                return (text, &[]);
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // `valid` is valid UTF-8 by the error's own account.
                text.push_str(&String::from_utf8_lossy(valid));
                match e.error_len() {
                    None => return (text, after),
                    Some(n) => {
                        text.push('\u{FFFD}');
                        rest = after.get(n..).unwrap_or_default();
                    }
                }
            }
        }
    }
}

impl<W: Write> Write for CastWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.recorder
            .lock()
            .pending
            .extend_from_slice(buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Each drawn frame reaches the file at once: a crash keeps the recording so far.
        {
            let mut r = self.recorder.lock();
            r.record_pending()?;
            r.file.flush()?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for CastWriter<W> {
    fn drop(&mut self) {
        // Best effort: errors have nowhere to go here. An incomplete character at the very
        // end will never be completed.
        let mut r = self.recorder.lock();
        let _ = r.record_pending();
        if !r.pending.is_empty() {
            r.pending.clear();
            let _ = r.event("o", "\u{FFFD}");
        }
        let _ = r.file.flush();
    }
}

/// A cast file read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Cast {
    pub width: u16,
    pub height: u16,
    /// Time in seconds, event code (`o`, `r`, `m`, ...), data.
    pub events: Vec<(f64, String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum CastError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("line {line}: {message}")]
    Parse { line: usize, message: String },
}

/// Reads an asciicast v2 file.
pub fn read_cast(path: &Path) -> Result<Cast, CastError> {
    let text = std::fs::read_to_string(path).map_err(|source| CastError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_cast(&text)
}

/// Parses the text of an asciicast v2 file. Blank lines are skipped.
pub fn parse_cast(text: &str) -> Result<Cast, CastError> {
    let bad = |line: usize, message: String| CastError::Parse { line, message };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((n, header)) = lines.next() else {
        return Err(bad(1, "no header: the file is empty".into()));
    };
    let header: serde_json::Value =
        serde_json::from_str(header).map_err(|e| bad(n, format!("bad header: {e}")))?;
    let version = header.get("version").and_then(serde_json::Value::as_u64);
    if version != Some(2) {
        return Err(bad(
            n,
            format!(
                "bad header: version {} (only asciicast version 2 is read)",
                header
                    .get("version")
                    .map_or("missing".into(), std::string::ToString::to_string)
            ),
        ));
    }
    let size = |field: &str| {
        header
            .get(field)
            .and_then(serde_json::Value::as_u64)
            .and_then(|v| u16::try_from(v).ok())
            .ok_or_else(|| bad(n, format!("bad header: `{field}` is not a terminal size")))
    };
    let width = size("width")?;
    let height = size("height")?;

    let mut events = Vec::new();
    for (n, line) in lines {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(n, format!("bad event: {e}")))?;
        let event = match value.as_array().map(Vec::as_slice) {
            Some([t, code, data]) => match (t.as_f64(), code.as_str(), data.as_str()) {
                (Some(t), Some(code), Some(data)) if t >= 0.0 => {
                    Some((t, code.to_owned(), data.to_owned()))
                }
                _ => None,
            },
            _ => None,
        };
        let event = event.ok_or_else(|| {
            bad(
                n,
                "bad event: expected [time, \"code\", \"data\"]".to_owned(),
            )
        })?;
        events.push(event);
    }
    Ok(Cast {
        width,
        height,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::widgets::Paragraph;
    use ratatui::{Terminal, TerminalOptions, Viewport};

    /// A clock that advances by `step` seconds each time it is read.
    fn ticking(step: f64) -> Clock {
        let mut t = 0.0;
        Box::new(move || {
            t += step;
            t
        })
    }

    /// A writer the test can look into after the cast writer is done with it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn ratatui_frames_replay_to_the_screens_that_were_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tour.cast");
        let terminal_side = Shared::default();
        let writer = CastWriter::with_clock(
            &path,
            terminal_side.clone(),
            40,
            10,
            "parla test",
            ticking(0.25),
        )
        .unwrap();
        let recording = writer.handle();
        let mut terminal = Terminal::with_options(
            CrosstermBackend::new(writer),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 40, 10)),
            },
        )
        .unwrap();
        terminal
            .draw(|f| f.render_widget(Paragraph::new("hello parla"), f.area()))
            .unwrap();
        terminal
            .draw(|f| f.render_widget(Paragraph::new("call connected"), f.area()))
            .unwrap();
        recording.resize(50, 12).unwrap();
        recording.marker("done").unwrap();
        recording.finish().unwrap();

        let cast = read_cast(&path).unwrap();
        assert_eq!((cast.width, cast.height), (40, 10));
        let times: Vec<f64> = cast.events.iter().map(|e| e.0).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        assert!(times[0] > 0.0);

        let mut parser = vt100::Parser::new(10, 40, 0);
        let mut seen_hello = false;
        let mut recorded = String::new();
        for (_, code, data) in cast.events.iter().filter(|e| e.1 == "o") {
            assert_eq!(code, "o");
            parser.process(data.as_bytes());
            recorded.push_str(data);
            seen_hello |= parser.screen().contents().contains("hello parla");
        }
        assert!(seen_hello, "no screen showed the first frame");
        let last = parser.screen().contents();
        assert!(last.contains("call connected"), "{last}");
        assert!(!last.contains("hello parla"), "{last}");
        // The terminal got exactly what was recorded.
        assert_eq!(terminal_side.text(), recorded);

        let tail: Vec<(&str, &str)> = cast
            .events
            .iter()
            .rev()
            .take(2)
            .map(|e| (e.1.as_str(), e.2.as_str()))
            .collect();
        assert_eq!(tail, [("m", "done"), ("r", "50x12")]);

        // The header is what players expect.
        let text = std::fs::read_to_string(&path).unwrap();
        let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(header["version"], 2);
        assert_eq!(header["env"]["TERM"], "xterm-256color");
        assert_eq!(header["title"], "parla test");
        assert!(header["timestamp"].as_u64().unwrap() > 1_600_000_000);
    }

    #[test]
    fn a_character_split_across_flushes_is_recorded_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("utf8.cast");
        let mut w = CastWriter::with_clock(&path, io::sink(), 20, 5, "", ticking(0.5)).unwrap();
        let bytes = "héllo".as_bytes();
        // "h" and the first byte of "é".
        w.write_all(&bytes[..2]).unwrap();
        w.flush().unwrap();
        w.write_all(&bytes[2..]).unwrap();
        w.flush().unwrap();
        // Nothing pending: no empty event.
        w.flush().unwrap();
        // Invalid bytes do not stop the recording.
        w.write_all(b"a\xffb").unwrap();
        w.flush().unwrap();
        // A character cut off at the very end: kept by `finish`, replaced on drop.
        w.write_all(&"é".as_bytes()[..1]).unwrap();
        w.finish().unwrap();
        assert_eq!(read_cast(&path).unwrap().events.len(), 3);
        drop(w);
        let cast = read_cast(&path).unwrap();
        let out: Vec<&str> = cast.events.iter().map(|e| e.2.as_str()).collect();
        assert_eq!(out, ["h", "éllo", "a\u{FFFD}b", "\u{FFFD}"]);
        assert!(cast.events.iter().all(|e| e.1 == "o"));
        assert_eq!(out.concat().replace('\u{FFFD}', ""), "hélloab");
    }

    #[test]
    fn decode_keeps_only_an_incomplete_tail() {
        assert_eq!(decode(b"abc"), ("abc".to_owned(), &b""[..]));
        let euro = "€".as_bytes();
        assert_eq!(decode(&euro[..2]), (String::new(), &euro[..2]));
        let mut mixed = b"x\xc0y".to_vec();
        mixed.extend_from_slice(&euro[..1]);
        assert_eq!(decode(&mixed), ("x\u{FFFD}y".to_owned(), &euro[..1]));
    }

    #[test]
    fn a_drop_records_what_is_pending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drop.cast");
        {
            let mut w =
                CastWriter::with_clock(&path, io::sink(), 20, 5, "t", ticking(1.0)).unwrap();
            w.write_all(b"unflushed").unwrap();
        }
        let cast = read_cast(&path).unwrap();
        assert_eq!(cast.events, [(1.0, "o".to_owned(), "unflushed".to_owned())]);
    }

    #[test]
    fn each_flushed_frame_is_on_disk_while_recording_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.cast");
        let mut w = CastWriter::with_clock(&path, io::sink(), 20, 5, "t", ticking(1.0)).unwrap();
        w.write_all(b"first frame").unwrap();
        w.flush().unwrap();
        // Read while the writer is alive (a crash now would keep this much).
        let cast = read_cast(&path).unwrap();
        assert_eq!(
            cast.events,
            [(1.0, "o".to_owned(), "first frame".to_owned())]
        );
        w.write_all(b"second").unwrap();
        w.flush().unwrap();
        assert_eq!(read_cast(&path).unwrap().events.len(), 2);
    }

    #[test]
    fn a_clock_going_backwards_or_nan_does_not_break_the_order() {
        let times = Arc::new(Mutex::new(vec![f64::NAN, 0.5, 2.0, 1.0].into_iter()));
        let source = times.clone();
        let clock: Clock = Box::new(move || source.lock().unwrap().next().unwrap_or(3.0));
        let out = Shared::default();
        let mut w =
            CastWriter::recording_to(Box::new(out.clone()), io::sink(), 20, 5, "t", clock).unwrap();
        for s in ["a", "b", "c", "d"] {
            w.write_all(s.as_bytes()).unwrap();
            w.flush().unwrap();
        }
        w.finish().unwrap();
        let cast = parse_cast(&out.text()).unwrap();
        let t: Vec<f64> = cast.events.iter().map(|e| e.0).collect();
        assert_eq!(t, [0.0, 0.5, 2.0, 2.0]);
    }

    #[test]
    fn broken_cast_files_give_line_numbers() {
        let err = |text: &str| parse_cast(text).unwrap_err().to_string();
        let header = r#"{"version": 2, "width": 80, "height": 24}"#;
        assert!(err("").starts_with("line 1: "), "{}", err(""));
        assert!(err("not json").starts_with("line 1: bad header"));
        let e = err(r#"{"version": 1, "width": 80, "height": 24}"#);
        assert!(e.starts_with("line 1: ") && e.contains("version 1"), "{e}");
        let e = err(r#"{"version": 2, "width": 80}"#);
        assert!(e.contains("`height`"), "{e}");
        let e = err(&format!("{header}\n[0.5, \"o\", \"x\"]\n\n[1.0, \"o\"]\n"));
        assert!(e.starts_with("line 4: bad event"), "{e}");
        let e = err(&format!("{header}\n[0.5, \"o\", \"x\"\n"));
        assert!(e.starts_with("line 2: bad event"), "{e}");
        let e = err(&format!("{header}\n[\"0.5\", \"o\", \"x\"]\n"));
        assert!(e.starts_with("line 2: "), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.cast");
        std::fs::write(&path, format!("{header}\n[0.1, \"o\", \"ok\"]\n{{}}\n")).unwrap();
        let e = read_cast(&path).unwrap_err();
        assert!(matches!(e, CastError::Parse { line: 3, .. }), "{e}");
        let e = read_cast(&dir.path().join("missing.cast")).unwrap_err();
        assert!(matches!(e, CastError::Io { .. }), "{e}");
        assert!(e.to_string().contains("missing.cast"), "{e}");

        let ok = parse_cast(&format!("{header}\n[0.1, \"o\", \"ok\"]\n")).unwrap();
        assert_eq!((ok.width, ok.height), (80, 24));
        assert_eq!(ok.events, [(0.1, "o".to_owned(), "ok".to_owned())]);
    }
}
