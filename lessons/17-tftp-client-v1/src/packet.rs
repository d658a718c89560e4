//! The TFTP packets a downloader sends and receives, read and written by hand (RFC 1350):
//! it sends a read request (RRQ) and ACKs, and receives DATA and ERROR. (Lesson 18's
//! module adds the options of RFC 2347-2349; lesson 19's server reads requests too.)
//!
//! Every packet is one UDP datagram that starts with a 2-byte opcode. Numbers are
//! big-endian ("network byte order", the course's `!H`), text is a run of bytes ended by
//! a zero byte:
//!
//! ```text
//!  RRQ     | 01 | filename | 0 | mode | 0 |
//!  DATA    | 03 | block# (2 bytes) | 0 to 512 bytes of the file
//!  ACK     | 04 | block# (2 bytes) |
//!  ERROR   | 05 | error code (2 bytes) | message | 0 |
//! ```
//!
//! [`Packet::parse`] checks one received datagram and says what is wrong with it if it is
//! not a packet; [`Packet::to_bytes`] builds the datagram to send. No sockets here: the
//! program does every send and receive itself, where you can see it.

use std::fmt;

use netkit::escaped;

/// RFC 1350's block size: a DATA packet shorter than this is the last one.
pub const DEFAULT_BLKSIZE: usize = 512;

/// The opcodes: the first two bytes of every packet.
pub const RRQ: u16 = 1;
pub const DATA: u16 = 3;
pub const ACK: u16 = 4;
pub const ERROR: u16 = 5;

/// The error codes a downloader sends (RFC 1350 has 0 to 7; [`error_name`] names them).
pub const ILLEGAL_OPERATION: u16 = 4;
pub const UNKNOWN_TRANSFER_ID: u16 = 5;

/// What an error code means, as RFC 1350 names it.
pub fn error_name(code: u16) -> &'static str {
    const NAMES: [&str; 8] = [
        "not defined",
        "file not found",
        "access violation",
        "disk full",
        "illegal TFTP operation",
        "unknown transfer ID",
        "file already exists",
        "no such user",
    ];
    NAMES
        .get(usize::from(code))
        .copied()
        .unwrap_or("unknown error code")
}

/// One TFTP packet. DATA borrows its bytes from the datagram it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A read request, in octet mode: the file's bytes as they are.
    Rrq {
        filename: String,
    },
    Data {
        block: u16,
        data: &'a [u8],
    },
    Ack {
        block: u16,
    },
    Error {
        code: u16,
        message: String,
    },
}

/// Why a datagram is not a packet a downloader can take, said so a person can fix the
/// sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Packet<'static> {
    /// A read request for `filename` in octet mode.
    pub fn rrq(filename: &str) -> Packet<'static> {
        let filename = filename.to_string();
        Packet::Rrq { filename }
    }

    /// An ERROR packet: `Packet::error(UNKNOWN_TRANSFER_ID, "unknown transfer ID")`.
    pub fn error(code: u16, message: impl Into<String>) -> Packet<'static> {
        let message = message.into();
        Packet::Error { code, message }
    }
}

impl<'a> Packet<'a> {
    /// Read one datagram as a packet. Nothing here trusts the sender: every length is
    /// checked against the bytes that actually arrived.
    pub fn parse(datagram: &'a [u8]) -> Result<Packet<'a>, Malformed> {
        let bad = |why: String| Err(Malformed(why));
        let Some((opcode, body)) = take_u16(datagram) else {
            let n = datagram.len();
            return bad(format!("too short: {n} byte(s), not even a 2-byte opcode"));
        };
        match (opcode, take_u16(body)) {
            (DATA, Some((block, data))) => Ok(Packet::Data { block, data }),
            (DATA, None) => bad("DATA without a 2-byte block number".into()),
            (ACK, Some((block, []))) => Ok(Packet::Ack { block }),
            (ACK, Some(_)) => bad(format!("ACK of {} bytes, not 4", datagram.len())),
            (ACK, None) => bad("ACK without a 2-byte block number".into()),
            // Be lenient with the message of an ERROR: it only gets printed, and some
            // senders forget its zero byte. Stop at the first zero byte if there is one.
            (ERROR, Some((code, text))) => {
                let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
                let message = String::from_utf8_lossy(&text[..end]).into_owned();
                Ok(Packet::Error { code, message })
            }
            (ERROR, None) => bad("ERROR without a 2-byte error code".into()),
            // A request, or the OACK of RFC 2347 (an answer to options we never ask for).
            (1 | 2 | 6, _) => bad(format!(
                "opcode {opcode}, which a downloader never receives"
            )),
            (other, _) => bad(format!("unknown opcode {other}")),
        }
    }

    /// The datagram for this packet.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Packet::Rrq { filename } => {
                out.extend_from_slice(&RRQ.to_be_bytes());
                for text in [filename.as_str(), "octet"] {
                    out.extend_from_slice(text.as_bytes());
                    out.push(0);
                }
            }
            Packet::Data { block, data } => {
                out.extend_from_slice(&DATA.to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
                out.extend_from_slice(data);
            }
            Packet::Ack { block } => {
                out.extend_from_slice(&ACK.to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
            }
            Packet::Error { code, message } => {
                out.extend_from_slice(&ERROR.to_be_bytes());
                out.extend_from_slice(&code.to_be_bytes());
                out.extend_from_slice(message.as_bytes());
                out.push(0);
            }
        }
        out
    }
}

/// A short description, for `--trace`: `DATA 3 (512 bytes)`, `ACK 3`, ... Text a peer sent
/// (an ERROR's message) is escaped: printed raw, it could forge a line of our output.
impl fmt::Display for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Packet::Rrq { filename } => write!(f, "RRQ \"{}\" octet", escaped(filename)),
            Packet::Data { block, data } => write!(f, "DATA {block} ({} bytes)", data.len()),
            Packet::Ack { block } => write!(f, "ACK {block}"),
            Packet::Error { code, message } => write!(f, "ERROR {code} \"{}\"", escaped(message)),
        }
    }
}

/// The first two bytes as a big-endian number, and the rest.
fn take_u16(bytes: &[u8]) -> Option<(u16, &[u8])> {
    match bytes {
        [hi, lo, rest @ ..] => Some((u16::from_be_bytes([*hi, *lo]), rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_of_each_packet_and_back() {
        assert_eq!(
            Packet::rrq("a.txt").to_bytes(),
            b"\x00\x01a.txt\x00octet\x00"
        );
        let data = Packet::Data {
            block: 258,
            data: b"hi",
        };
        assert_eq!(data.to_bytes(), b"\x00\x03\x01\x02hi");
        assert_eq!(Packet::Ack { block: 65535 }.to_bytes(), b"\x00\x04\xff\xff");
        let error = Packet::error(1, "File not found");
        assert_eq!(error.to_bytes(), b"\x00\x05\x00\x01File not found\x00");
        let last = Packet::Data {
            block: 0,
            data: &[],
        };
        for packet in [data, last, Packet::Ack { block: 0 }, error] {
            assert_eq!(Packet::parse(&packet.to_bytes()), Ok(packet.clone()));
        }
    }

    #[test]
    fn an_error_message_without_its_zero_byte_is_still_read() {
        let error = Packet::Error {
            code: 2,
            message: "no".into(),
        };
        assert_eq!(Packet::parse(b"\x00\x05\x00\x02no"), Ok(error));
    }

    #[test]
    fn bad_datagrams_say_what_is_wrong() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "too short: 0 byte(s), not even a 2-byte opcode"),
            (b"\x00", "too short: 1 byte(s), not even a 2-byte opcode"),
            (b"\x00\x09abc", "unknown opcode 9"),
            (b"\x00\x00", "unknown opcode 0"),
            (
                b"\x00\x01f\x00octet\x00",
                "opcode 1, which a downloader never receives",
            ),
            (
                b"\x00\x06tsize\x0010\x00",
                "opcode 6, which a downloader never receives",
            ),
            (b"\x00\x04\x00\x01\x00", "ACK of 5 bytes, not 4"),
            (b"\x00\x03\x01", "DATA without a 2-byte block number"),
            (b"\x00\x05\x01", "ERROR without a 2-byte error code"),
        ];
        for (bytes, why) in cases {
            assert_eq!(
                Packet::parse(bytes),
                Err(Malformed(why.into())),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn packets_describe_themselves_with_peer_text_escaped() {
        assert_eq!(Packet::rrq("a b").to_string(), "RRQ \"a b\" octet");
        let data = Packet::Data {
            block: 3,
            data: &[0; 276],
        };
        assert_eq!(data.to_string(), "DATA 3 (276 bytes)");
        assert_eq!(Packet::Ack { block: 3 }.to_string(), "ACK 3");
        let error = Packet::error(0, "\x1b[31m\nforged");
        assert_eq!(error.to_string(), "ERROR 0 \"\\x1b[31m\\nforged\"");
        assert_eq!(error_name(1), "file not found");
        assert_eq!(error_name(9), "unknown error code");
    }
}
