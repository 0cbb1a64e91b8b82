//! The state store's log format: a header, then framed records. Pure bytes in, bytes out; the
//! store does the IO.
//!
//! ```text
//! header:  b"LAEMULOG"  version: u32 LE
//! record:  length: u32 LE  crc32(payload): u32 LE  payload: `length` bytes
//! ```
//!
//! Records are only ever appended, so a crash can leave a *torn tail*: the last record cut
//! short, or written as zeros (a file extended before its data reached the disk), or with a
//! checksum that does not match. That record was never synced, so no answer depended on it:
//! [`scan`] reports it and the store drops it. Anything else that does not read (a bad
//! checksum with more data after it, an impossible length, another format or version) is
//! [`Corrupt`]: the store refuses to start rather than load part of the state.

use std::fmt;

/// The first bytes of every log file.
pub(crate) const MAGIC: &[u8; 8] = b"LAEMULOG";
/// The version of the format this code writes and reads.
pub(crate) const VERSION: u32 = 1;
/// The header's length: magic and version.
pub(crate) const HEADER_LEN: usize = 12;
/// The longest record accepted. Records are a few hundred bytes; a longer length field is
/// damage, not a record.
pub(crate) const MAX_RECORD: usize = 16 << 20;
const FRAME_HEAD: usize = 8;

/// The header of a new log file.
pub(crate) fn header() -> [u8; HEADER_LEN] {
    let mut h = [0; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// The record checksum: CRC-32/IEEE (the one of zlib, gzip and PNG), which is what every log
/// ever written holds, so it must never change.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Appends one framed record to `out`. The caller keeps payloads under [`MAX_RECORD`].
pub(crate) fn frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// A torn tail: the bytes from `offset` to the end are an incomplete last record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Torn {
    /// Where the torn record starts; the log is good up to here.
    pub(crate) offset: usize,
    /// How many bytes it had.
    pub(crate) bytes: usize,
    /// Why it does not count.
    pub(crate) why: &'static str,
}

/// Damage that is not a torn tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Corrupt {
    /// The byte offset of the record (or header) that does not read.
    pub(crate) offset: usize,
    /// What is wrong with it.
    pub(crate) why: String,
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte offset {}: {}", self.offset, self.why)
    }
}

/// What a log holds.
#[derive(Debug, Default)]
pub(crate) struct Scan<'a> {
    /// Each good record's offset and payload, in order.
    pub(crate) records: Vec<(usize, &'a [u8])>,
    /// How many bytes are good: the header and the good records.
    pub(crate) good_len: usize,
    /// The torn last record, if any.
    pub(crate) torn: Option<Torn>,
}

/// Reads a log: its records, and whether its tail is torn.
///
/// # Errors
/// [`Corrupt`] for anything but a torn tail.
pub(crate) fn scan(bytes: &[u8]) -> Result<Scan<'_>, Corrupt> {
    let header = header();
    if bytes.len() < HEADER_LEN {
        // A header cut short: the file was being created.
        if header.starts_with(bytes) || bytes.iter().all(|&b| b == 0) {
            return Ok(Scan {
                records: Vec::new(),
                good_len: 0,
                torn: (!bytes.is_empty()).then_some(Torn {
                    offset: 0,
                    bytes: bytes.len(),
                    why: "the header is incomplete",
                }),
            });
        }
        return Err(Corrupt {
            offset: 0,
            why: "not a state log (bad header)".into(),
        });
    }
    if bytes[..8] != *MAGIC {
        return Err(Corrupt {
            offset: 0,
            why: "not a state log (bad header)".into(),
        });
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != VERSION {
        return Err(Corrupt {
            offset: 8,
            why: format!("log format version {version} is not supported (expected {VERSION})"),
        });
    }
    let mut records = Vec::new();
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let torn = |why: &'static str| Torn {
            offset: at,
            bytes: rest.len(),
            why,
        };
        let zeros = || rest.iter().all(|&b| b == 0);
        if rest.len() < FRAME_HEAD {
            return Ok(Scan {
                records,
                good_len: at,
                torn: Some(torn("the record's length and checksum are incomplete")),
            });
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len == 0 || len > MAX_RECORD {
            if zeros() {
                return Ok(Scan {
                    records,
                    good_len: at,
                    torn: Some(torn("the tail is zeros")),
                });
            }
            return Err(Corrupt {
                offset: at,
                why: format!("impossible record length {len}"),
            });
        }
        let Some(payload) = rest.get(FRAME_HEAD..FRAME_HEAD + len) else {
            return Ok(Scan {
                records,
                good_len: at,
                torn: Some(torn("the record is incomplete")),
            });
        };
        if crc32(payload) != crc {
            let end = at + FRAME_HEAD + len;
            if end == bytes.len() || bytes[end..].iter().all(|&b| b == 0) {
                return Ok(Scan {
                    records,
                    good_len: at,
                    torn: Some(torn("the last record's checksum does not match")),
                });
            }
            return Err(Corrupt {
                offset: at,
                why: format!(
                    "checksum mismatch, with {} more bytes after the record",
                    bytes.len() - end
                ),
            });
        }
        records.push((at, payload));
        at += FRAME_HEAD + len;
    }
    Ok(Scan {
        records,
        good_len: at,
        torn: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(payloads: &[&[u8]]) -> Vec<u8> {
        let mut bytes = header().to_vec();
        for p in payloads {
            frame(p, &mut bytes);
        }
        bytes
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// The bytes a record is framed in, fixed: a log written before is read the same.
    #[test]
    fn a_record_is_framed_as_length_crc32_ieee_and_payload() {
        let mut out = Vec::new();
        frame(b"123456789", &mut out);
        let mut expected = vec![9, 0, 0, 0, 0x26, 0x39, 0xF4, 0xCB];
        expected.extend_from_slice(b"123456789");
        assert_eq!(out, expected);
        assert_eq!(
            header(),
            [b'L', b'A', b'E', b'M', b'U', b'L', b'O', b'G', 1, 0, 0, 0]
        );
    }

    #[test]
    fn records_read_back_in_order() {
        let bytes = log(&[b"one", b"two", b"three"]);
        let scan = scan(&bytes).unwrap();
        let payloads: Vec<&[u8]> = scan.records.iter().map(|(_, p)| *p).collect();
        assert_eq!(payloads, [&b"one"[..], b"two", b"three"]);
        assert_eq!(scan.good_len, bytes.len());
        assert_eq!(scan.torn, None);
        assert_eq!(scan.records[1].0, HEADER_LEN + 8 + 3);
    }

    #[test]
    fn a_cut_anywhere_in_the_last_record_is_a_torn_tail() {
        let bytes = log(&[b"first record", b"second record"]);
        let last = HEADER_LEN + 8 + 12;
        for cut in last + 1..bytes.len() {
            let scan = scan(&bytes[..cut]).unwrap();
            assert_eq!(scan.records.len(), 1, "cut at {cut}");
            assert_eq!(scan.good_len, last, "cut at {cut}");
            let torn = scan.torn.unwrap();
            assert_eq!((torn.offset, torn.bytes), (last, cut - last));
        }
        let scan = scan(&bytes[..last]).unwrap();
        assert_eq!((scan.records.len(), scan.torn), (1, None));
    }

    #[test]
    fn a_zeroed_or_garbled_last_record_is_torn() {
        let mut bytes = log(&[b"first record", b"second record"]);
        let last = HEADER_LEN + 8 + 12;
        let end = bytes.len();
        bytes[end - 1] ^= 1;
        assert_eq!(scan(&bytes).unwrap().torn.unwrap().offset, last);
        bytes.truncate(last);
        bytes.extend_from_slice(&[0; 40]);
        let scan = scan(&bytes).unwrap();
        assert_eq!((scan.records.len(), scan.good_len), (1, last));
    }

    #[test]
    fn a_garbled_last_record_followed_by_zeros_is_torn() {
        let mut bytes = log(&[b"first record", b"second record"]);
        let last = HEADER_LEN + 8 + 12;
        let end = bytes.len();
        bytes[end - 1] ^= 1;
        bytes.extend_from_slice(&[0; 16]);
        let scan = scan(&bytes).unwrap();
        assert_eq!((scan.records.len(), scan.good_len), (1, last));
        assert_eq!(scan.torn.unwrap().bytes, end + 16 - last);
    }

    #[test]
    fn a_length_up_to_the_longest_record_is_a_record_and_past_it_damage() {
        let frame_head = |len: usize| {
            let mut bytes = header().to_vec();
            bytes.extend_from_slice(&u32::try_from(len).unwrap().to_le_bytes());
            bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
            bytes
        };
        // The longest record, cut short: a torn tail.
        let torn = scan(&frame_head(MAX_RECORD)).unwrap().torn.unwrap();
        assert_eq!((torn.offset, torn.bytes), (HEADER_LEN, 10));
        let err = scan(&frame_head(MAX_RECORD + 1)).unwrap_err();
        assert_eq!(err.offset, HEADER_LEN);
    }

    #[test]
    fn damage_before_the_last_record_is_corruption_at_its_offset() {
        let mut bytes = log(&[b"first record", b"second record"]);
        bytes[HEADER_LEN + 8 + 2] ^= 0x20;
        let err = scan(&bytes).unwrap_err();
        assert_eq!(err.offset, HEADER_LEN);
        assert!(err.why.contains("checksum"), "{err}");

        let mut bytes = log(&[b"first record", b"second record"]);
        bytes[HEADER_LEN + 3] = 0x7f;
        assert_eq!(scan(&bytes).unwrap_err().offset, HEADER_LEN);
    }

    #[test]
    fn other_formats_and_versions_are_refused() {
        assert_eq!(scan(b"{\"version\":1}").unwrap_err().offset, 0);
        let mut bytes = log(&[b"x"]);
        bytes[8] = 2;
        let err = scan(&bytes).unwrap_err();
        assert!(err.why.contains("version 2"), "{err}");
        // An empty file or a header cut short is a log being created.
        assert!(scan(b"").unwrap().torn.is_none());
        assert_eq!(scan(&header()[..5]).unwrap().torn.unwrap().bytes, 5);
    }

    #[test]
    fn a_short_file_is_a_header_being_created_only_if_it_could_become_one() {
        // Zeros: the file was extended before the header reached the disk.
        let scan_zeros = scan(&[0; 7]).unwrap();
        assert_eq!(
            (scan_zeros.good_len, scan_zeros.torn.unwrap().bytes),
            (0, 7)
        );
        // Anything else that short is not a log.
        assert_eq!(scan(b"{}").unwrap_err().offset, 0);
        assert_eq!(scan(b"LAEX").unwrap_err().offset, 0);
    }
}
