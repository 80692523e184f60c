//! Opus in Ogg (RFC 7845), the format of voice messages: written by the client that records
//! one, checked by the server that stores it, read by the client that plays it.
//!
//! One logical stream: an `OpusHead` page, an `OpusTags` page, then audio pages of up to a
//! second of 20 ms packets each, the last marked end of stream. Granule positions count
//! 48 kHz samples, pre-skip included.

/// Samples at 48 kHz the player drops at the start: the encoder's look-ahead (6.5 ms),
/// written in `OpusHead`.
pub const PRE_SKIP: u16 = 312;
/// Packets per audio page (a second of 20 ms packets).
const PACKETS_PER_PAGE: usize = 50;
const CAPTURE: &[u8; 4] = b"OggS";
const CONTINUED: u8 = 0x01;
const BEGIN: u8 = 0x02;
const END: u8 = 0x04;
const HEADER_BYTES: usize = 27;

/// Why bytes are not a voice message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OggError {
    #[error("not an Ogg file (no `OggS` page at byte {0})")]
    NotOgg(usize),
    #[error("page {0} is cut short")]
    Truncated(u32),
    #[error("page {0} is damaged (its checksum does not match)")]
    Checksum(u32),
    #[error("the file holds more than one stream, or its pages are out of order")]
    Stream,
    #[error("not Opus: {0}")]
    NotOpus(&'static str),
    #[error("the stream does not end (no end-of-stream page): the file is incomplete")]
    NoEnd,
}

/// CRC-32 of Ogg pages: polynomial 0x04c11db7, not reflected, starting at 0.
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut r = u32::try_from(i).unwrap_or(0) << 24;
            for _ in 0..8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04c1_1db7
                } else {
                    r << 1
                };
            }
            *slot = r;
        }
        t
    });
    data.iter().fold(0u32, |crc, b| {
        (crc << 8) ^ table[usize::from(((crc >> 24) as u8) ^ b)]
    })
}

/// Writes an Opus stream into Ogg pages.
pub struct OggOpusWriter {
    out: Vec<u8>,
    serial: u32,
    page: u32,
    channels: u8,
    /// Packets of the page being filled, and the granule position after them.
    pending: Vec<Vec<u8>>,
    granule: u64,
}

impl OggOpusWriter {
    /// A stream of `channels` (1 or 2) channels, recorded at `input_rate` Hz.
    #[must_use]
    pub fn new(serial: u32, channels: u8, input_rate: u32) -> Self {
        let mut w = OggOpusWriter {
            out: Vec::new(),
            serial,
            page: 0,
            channels,
            pending: Vec::new(),
            granule: u64::from(PRE_SKIP),
        };
        let mut head = b"OpusHead".to_vec();
        head.push(1);
        head.push(w.channels);
        head.extend_from_slice(&PRE_SKIP.to_le_bytes());
        head.extend_from_slice(&input_rate.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes());
        head.push(0);
        w.write_page(&[head], 0, BEGIN);
        let vendor = concat!("parla ", env!("CARGO_PKG_VERSION"));
        let mut tags = b"OpusTags".to_vec();
        tags.extend_from_slice(&u32::try_from(vendor.len()).unwrap_or(0).to_le_bytes());
        tags.extend_from_slice(vendor.as_bytes());
        tags.extend_from_slice(&0u32.to_le_bytes());
        w.write_page(&[tags], 0, 0);
        w
    }

    /// Adds one Opus packet that decodes to `samples` samples at 48 kHz.
    pub fn push(&mut self, packet: &[u8], samples: u32) {
        let segments: usize = self.pending.iter().map(|p| p.len() / 255 + 1).sum();
        if self.pending.len() >= PACKETS_PER_PAGE || segments + packet.len() / 255 + 1 > 255 {
            self.flush(0);
        }
        self.pending.push(packet.to_vec());
        self.granule += u64::from(samples);
    }

    /// The whole file, its last page marked end of stream.
    #[must_use]
    pub fn finish(mut self) -> Vec<u8> {
        self.flush(END);
        self.out
    }

    fn flush(&mut self, flags: u8) {
        let packets = std::mem::take(&mut self.pending);
        self.write_page(&packets, self.granule, flags);
    }

    fn write_page(&mut self, packets: &[Vec<u8>], granule: u64, flags: u8) {
        let start = self.out.len();
        self.out.extend_from_slice(CAPTURE);
        self.out.push(0);
        self.out.push(flags);
        self.out.extend_from_slice(&granule.to_le_bytes());
        self.out.extend_from_slice(&self.serial.to_le_bytes());
        self.out.extend_from_slice(&self.page.to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
        // `push` keeps a page within 255 segments.
        let mut lacing = Vec::new();
        for p in packets {
            lacing.extend(std::iter::repeat_n(255u8, p.len() / 255));
            lacing.push(u8::try_from(p.len() % 255).unwrap_or(0));
        }
        self.out.push(u8::try_from(lacing.len()).unwrap_or(u8::MAX));
        self.out.extend_from_slice(&lacing);
        for p in packets {
            self.out.extend_from_slice(p);
        }
        let crc = crc32(&self.out[start..]);
        self.out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
        self.page += 1;
    }
}

/// A voice message read back: its header and its audio packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OggOpus {
    pub channels: u8,
    pub pre_skip: u16,
    pub input_rate: u32,
    /// The Opus packets, in order.
    pub packets: Vec<Vec<u8>>,
    /// Playing time: the last granule position less the pre-skip, in 48 kHz samples.
    pub samples: u64,
}

impl OggOpus {
    #[must_use]
    pub fn duration_ms(&self) -> u64 {
        self.samples / 48
    }
}

/// Reads and checks an Ogg Opus file: every page's checksum, one stream, the Opus headers,
/// and an end-of-stream page (a file cut short is refused).
pub fn parse(bytes: &[u8]) -> Result<OggOpus, OggError> {
    let mut at = 0;
    let mut serial = None;
    let mut expected_page = 0u32;
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut partial: Option<Vec<u8>> = None;
    let mut granule = 0u64;
    let mut ended = false;
    while at < bytes.len() {
        if ended {
            return Err(OggError::Stream);
        }
        if bytes.get(at..at + 4).is_some_and(|c| c != CAPTURE) {
            return Err(OggError::NotOgg(at));
        }
        let header = bytes
            .get(at..at + HEADER_BYTES)
            .ok_or(OggError::Truncated(expected_page))?;
        if &header[..4] != CAPTURE || header[4] != 0 {
            return Err(OggError::NotOgg(at));
        }
        let flags = header[5];
        let page_granule = u64::from_le_bytes(header[6..14].try_into().unwrap_or_default());
        let page_serial = u32::from_le_bytes(header[14..18].try_into().unwrap_or_default());
        let page_no = u32::from_le_bytes(header[18..22].try_into().unwrap_or_default());
        let crc = u32::from_le_bytes(header[22..26].try_into().unwrap_or_default());
        let n = usize::from(header[26]);
        let lacing = bytes
            .get(at + HEADER_BYTES..at + HEADER_BYTES + n)
            .ok_or(OggError::Truncated(page_no))?;
        let body_len: usize = lacing.iter().map(|l| usize::from(*l)).sum();
        let end = at + HEADER_BYTES + n + body_len;
        let page = bytes.get(at..end).ok_or(OggError::Truncated(page_no))?;
        let mut zeroed = page.to_vec();
        zeroed[22..26].fill(0);
        if crc32(&zeroed) != crc {
            return Err(OggError::Checksum(page_no));
        }
        if *serial.get_or_insert(page_serial) != page_serial
            || page_no != expected_page
            || (page_no == 0) != (flags & BEGIN != 0)
            || (flags & CONTINUED != 0) != partial.is_some()
        {
            return Err(OggError::Stream);
        }
        expected_page += 1;
        let mut body = &page[HEADER_BYTES + n..];
        let mut packet = partial.take().unwrap_or_default();
        for l in lacing {
            let (piece, rest) = body.split_at(usize::from(*l));
            packet.extend_from_slice(piece);
            body = rest;
            if *l < 255 {
                packets.push(std::mem::take(&mut packet));
            }
        }
        if lacing.last() == Some(&255) {
            partial = Some(packet);
        }
        if page_granule != u64::MAX {
            if page_granule < granule {
                return Err(OggError::Stream);
            }
            granule = page_granule;
        }
        ended = flags & END != 0;
        at = end;
    }
    if !ended || partial.is_some() {
        return Err(OggError::NoEnd);
    }
    let mut packets = packets.into_iter();
    let head = packets.next().ok_or(OggError::NotOpus("no OpusHead"))?;
    if head.len() < 19 || &head[..8] != b"OpusHead" {
        return Err(OggError::NotOpus("the first packet is not OpusHead"));
    }
    if head[8] >> 4 != 0 {
        return Err(OggError::NotOpus(
            "an OpusHead version this reader does not know",
        ));
    }
    let channels = head[9];
    if !(1..=2).contains(&channels) || head[18] != 0 {
        return Err(OggError::NotOpus("only mono and stereo streams are taken"));
    }
    let pre_skip = u16::from_le_bytes([head[10], head[11]]);
    let input_rate = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
    let tags = packets.next().ok_or(OggError::NotOpus("no OpusTags"))?;
    if !tags.starts_with(b"OpusTags") {
        return Err(OggError::NotOpus("the second packet is not OpusTags"));
    }
    let packets: Vec<Vec<u8>> = packets.collect();
    if packets.iter().any(Vec::is_empty) {
        return Err(OggError::NotOpus("an empty audio packet"));
    }
    Ok(OggOpus {
        channels,
        pre_skip,
        input_rate,
        packets,
        samples: granule.saturating_sub(u64::from(pre_skip)),
    })
}

#[cfg(test)]
// Test fixtures: small values.
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    fn file(frames: usize) -> Vec<u8> {
        let mut w = OggOpusWriter::new(7, 1, 48_000);
        for i in 0..frames {
            // A packet over 255 bytes now and then: lacing of several segments.
            let len = if i % 10 == 0 { 300 } else { 60 + i % 7 };
            w.push(&vec![(i % 251) as u8 + 1; len], 960);
        }
        w.finish()
    }

    #[test]
    fn what_is_written_reads_back() {
        let bytes = file(130);
        let o = parse(&bytes).unwrap();
        assert_eq!(
            (o.channels, o.pre_skip, o.input_rate),
            (1, PRE_SKIP, 48_000)
        );
        assert_eq!(o.packets.len(), 130);
        assert_eq!(o.packets[10].len(), 300);
        assert_eq!(o.packets[11], vec![12; 60 + 11 % 7]);
        assert_eq!(o.duration_ms(), 2600);
        // Three audio pages of up to 50 packets, after the two header pages.
        assert_eq!(bytes.windows(4).filter(|w| w == b"OggS").count(), 5);
    }

    #[test]
    fn the_checksum_is_the_one_of_ogg() {
        // The CRC of "123456789" under Ogg's parameters (CRC-32/MPEG-2 without inversion).
        assert_eq!(crc32(b"123456789"), 0x89a1_897f);
    }

    #[test]
    fn damaged_cut_and_foreign_files_are_refused() {
        let bytes = file(60);
        assert!(matches!(
            parse(&bytes[..bytes.len() - 10]),
            Err(OggError::Truncated(_))
        ));
        // Cut at a page boundary: no end of stream.
        let second_audio_page = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| w == b"OggS")
            .map(|(i, _)| i)
            .nth(3)
            .unwrap();
        assert_eq!(parse(&bytes[..second_audio_page]), Err(OggError::NoEnd));
        let mut flipped = bytes.clone();
        flipped[200] ^= 0x40;
        assert!(matches!(parse(&flipped), Err(OggError::Checksum(_))));
        assert_eq!(parse(b"RIFF....WAVEfmt "), Err(OggError::NotOgg(0)));
        assert!(parse(b"").is_err());
        // Two files back to back: two streams.
        let mut twice = bytes.clone();
        twice.extend_from_slice(&bytes);
        assert_eq!(parse(&twice), Err(OggError::Stream));
    }

    #[test]
    fn a_stream_that_is_not_opus_is_refused() {
        let mut w = OggOpusWriter::new(1, 1, 48_000);
        w.push(b"x", 960);
        let mut bytes = w.finish();
        // Make the first packet "OpusHeaX" and fix the checksum.
        let at = HEADER_BYTES + 1 + 7;
        bytes[at] = b'X';
        let first_len = HEADER_BYTES + 1 + 19;
        bytes[22..26].fill(0);
        let crc = crc32(&bytes[..first_len]);
        bytes[22..26].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(parse(&bytes), Err(OggError::NotOpus(_))));
    }
}
