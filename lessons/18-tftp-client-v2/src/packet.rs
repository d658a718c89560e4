//! The six TFTP packets, read and written by hand: RFC 1350's five (RRQ, WRQ, DATA, ACK,
//! ERROR), and the OACK of RFC 2347, with its options `blksize` (RFC 2348), `tsize` and
//! `timeout` (RFC 2349). Lesson 17's module, plus the options, and the requests a server
//! reads: this downloader uses it, and lesson 19's server too, so that the bytes are the
//! same whoever sends them.
//!
//! Every packet is one UDP datagram that starts with a 2-byte opcode. Numbers are
//! big-endian ("network byte order", the course's `!H`), text is a run of bytes ended by
//! a zero byte:
//!
//! ```text
//!  RRQ / WRQ   | 01 / 02 | filename | 0 | mode | 0 | opt1 | 0 | value1 | 0 | ...
//!  DATA        | 03 | block# (2 bytes) | 0 to blksize bytes of the file
//!  ACK         | 04 | block# (2 bytes) |
//!  ERROR       | 05 | error code (2 bytes) | message | 0 |
//!  OACK        | 06 | opt1 | 0 | value1 | 0 | ...          (RFC 2347)
//! ```
//!
//! [`Packet::parse`] checks one received datagram and says what is wrong with it if it is
//! not a packet; [`Packet::to_bytes`] builds the datagram to send. No sockets here: the
//! programs do every send and receive themselves, where you can see them.

use std::fmt;

use netkit::escaped;

/// RFC 1350's block size: a DATA packet shorter than this is the last one. (Options can
/// change it: RFC 2348.)
pub const DEFAULT_BLKSIZE: usize = 512;
/// The smallest and largest block sizes RFC 2348 allows (65464 = the largest UDP payload
/// over IPv4 on Ethernet with fragmentation, less TFTP's 4-byte header, as the RFC counts).
pub const MIN_BLKSIZE: usize = 8;
pub const MAX_BLKSIZE: usize = 65464;

/// The opcodes: the first two bytes of every packet.
pub const RRQ: u16 = 1;
pub const WRQ: u16 = 2;
pub const DATA: u16 = 3;
pub const ACK: u16 = 4;
pub const ERROR: u16 = 5;
pub const OACK: u16 = 6;

/// The error codes of RFC 1350 (0 to 7) and RFC 2347 (8).
pub const NOT_DEFINED: u16 = 0;
pub const FILE_NOT_FOUND: u16 = 1;
pub const ACCESS_VIOLATION: u16 = 2;
pub const DISK_FULL: u16 = 3;
pub const ILLEGAL_OPERATION: u16 = 4;
pub const UNKNOWN_TRANSFER_ID: u16 = 5;
pub const FILE_EXISTS: u16 = 6;
pub const NO_SUCH_USER: u16 = 7;
pub const OPTION_REFUSED: u16 = 8;

/// What an error code means, as the RFCs name it.
pub fn error_name(code: u16) -> &'static str {
    match code {
        NOT_DEFINED => "not defined",
        FILE_NOT_FOUND => "file not found",
        ACCESS_VIOLATION => "access violation",
        DISK_FULL => "disk full",
        ILLEGAL_OPERATION => "illegal TFTP operation",
        UNKNOWN_TRANSFER_ID => "unknown transfer ID",
        FILE_EXISTS => "file already exists",
        NO_SUCH_USER => "no such user",
        OPTION_REFUSED => "option negotiation refused",
        _ => "unknown error code",
    }
}

/// A read or write request: which file, how to send it, and the options asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub filename: String,
    /// `octet` (bytes as they are), `netascii` or `mail`, lower-cased.
    pub mode: String,
    /// RFC 2347's option name/value pairs, in the order they came.
    pub options: Vec<(String, String)>,
}

/// One TFTP packet. DATA borrows its bytes from the datagram it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    Rrq(Request),
    Wrq(Request),
    Data { block: u16, data: &'a [u8] },
    Ack { block: u16 },
    Error { code: u16, message: String },
    Oack { options: Vec<(String, String)> },
}

/// Why a datagram is not a TFTP packet, said so a person can fix the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn malformed<T>(why: impl Into<String>) -> Result<T, Malformed> {
    Err(Malformed(why.into()))
}

impl Packet<'static> {
    /// A read request for `filename` in octet mode (the bytes as they are), with these
    /// options (RFC 2347; none for RFC 1350).
    pub fn rrq(filename: &str, options: Vec<(String, String)>) -> Packet<'static> {
        Packet::Rrq(Request {
            filename: filename.to_string(),
            mode: "octet".to_string(),
            options,
        })
    }

    /// An ERROR packet: `Packet::error(UNKNOWN_TRANSFER_ID, "unknown transfer ID")`.
    pub fn error(code: u16, message: impl Into<String>) -> Packet<'static> {
        Packet::Error {
            code,
            message: message.into(),
        }
    }
}

impl<'a> Packet<'a> {
    /// Read one datagram as a packet. Nothing here trusts the sender: every length is
    /// checked against the bytes that actually arrived.
    pub fn parse(datagram: &'a [u8]) -> Result<Packet<'a>, Malformed> {
        let Some((opcode, body)) = take_u16(datagram) else {
            return malformed(format!(
                "too short: {} byte(s), not even a 2-byte opcode",
                datagram.len()
            ));
        };
        match opcode {
            RRQ => Ok(Packet::Rrq(request(body)?)),
            WRQ => Ok(Packet::Wrq(request(body)?)),
            DATA => match take_u16(body) {
                Some((block, data)) => Ok(Packet::Data { block, data }),
                None => malformed("DATA without a 2-byte block number"),
            },
            ACK => match take_u16(body) {
                Some((block, [])) => Ok(Packet::Ack { block }),
                Some(_) => malformed(format!("ACK of {} bytes, not 4", datagram.len())),
                None => malformed("ACK without a 2-byte block number"),
            },
            ERROR => match take_u16(body) {
                // Be lenient with the message of an ERROR: it only gets printed, and some
                // senders forget its zero byte. Stop at the first zero byte if there is one.
                Some((code, text)) => {
                    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
                    let message = String::from_utf8_lossy(&text[..end]).into_owned();
                    Ok(Packet::Error { code, message })
                }
                None => malformed("ERROR without a 2-byte error code"),
            },
            OACK => Ok(Packet::Oack {
                options: pairs(&strings(body, "OACK")?)?,
            }),
            other => malformed(format!("unknown opcode {other}")),
        }
    }

    /// The datagram for this packet.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Packet::Rrq(request) | Packet::Wrq(request) => {
                let opcode = if matches!(self, Packet::Rrq(_)) {
                    RRQ
                } else {
                    WRQ
                };
                out.extend_from_slice(&opcode.to_be_bytes());
                put_string(&mut out, &request.filename);
                put_string(&mut out, &request.mode);
                for (name, value) in &request.options {
                    put_string(&mut out, name);
                    put_string(&mut out, value);
                }
            }
            Packet::Data { block, data } => {
                out.reserve(4 + data.len());
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
                put_string(&mut out, message);
            }
            Packet::Oack { options } => {
                out.extend_from_slice(&OACK.to_be_bytes());
                for (name, value) in options {
                    put_string(&mut out, name);
                    put_string(&mut out, value);
                }
            }
        }
        out
    }
}

/// A short description, for logs and `--trace`: `DATA 3 (512 bytes)`, `ACK 3`, ...
impl fmt::Display for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Packet::Rrq(r) | Packet::Wrq(r) => {
                let kind = if matches!(self, Packet::Rrq(_)) {
                    "RRQ"
                } else {
                    "WRQ"
                };
                write!(
                    f,
                    "{kind} {} {}{}",
                    quoted(&r.filename),
                    r.mode,
                    shown(&r.options)
                )
            }
            Packet::Data { block, data } => write!(f, "DATA {block} ({} bytes)", data.len()),
            Packet::Ack { block } => write!(f, "ACK {block}"),
            Packet::Error { code, message } => write!(f, "ERROR {code} {}", quoted(message)),
            Packet::Oack { options } => write!(f, "OACK{}", shown(options)),
        }
    }
}

/// Options as ` blksize=512 tsize=0`.
fn shown(options: &[(String, String)]) -> String {
    options
        .iter()
        .map(|(name, value)| format!(" {}={}", escaped(name), escaped(value)))
        .collect()
}

/// Text a peer sent (a file name, an ERROR's message), in quotes and with its control
/// characters escaped: `"a\x1b[31m"`. A peer chooses these bytes, so printed raw they
/// could forge a line of our output or send the terminal commands.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", escaped(text))
}

/// The value of option `name`, if the list has it. Option names are case-insensitive.
pub fn option<'o>(options: &'o [(String, String)], name: &str) -> Option<&'o str> {
    options
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// The first two bytes as a big-endian number, and the rest.
fn take_u16(bytes: &[u8]) -> Option<(u16, &[u8])> {
    match bytes {
        [hi, lo, rest @ ..] => Some((u16::from_be_bytes([*hi, *lo]), rest)),
        _ => None,
    }
}

/// A string and the zero byte that ends it.
fn put_string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
    out.push(0);
}

/// Split a body made only of zero-terminated strings. The last byte must be a zero:
/// a string that runs off the end of the datagram is an error, not a guess.
fn strings<'b>(body: &'b [u8], what: &str) -> Result<Vec<&'b str>, Malformed> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let Some(body) = body.strip_suffix(&[0]) else {
        return malformed(format!(
            "{what}: the last string has no zero byte at its end"
        ));
    };
    body.split(|&b| b == 0)
        .map(|s| {
            std::str::from_utf8(s)
                .map_err(|_| Malformed(format!("{what}: a string that is not UTF-8 text")))
        })
        .collect()
}

/// RRQ and WRQ: filename, mode, then option name/value pairs.
fn request(body: &[u8]) -> Result<Request, Malformed> {
    let strings = strings(body, "request")?;
    let (filename, mode, options) = match strings.as_slice() {
        [filename, mode, options @ ..] => (*filename, *mode, options),
        [_] => return malformed("request: a file name but no mode"),
        [] => return malformed("request: no file name and no mode"),
    };
    if filename.is_empty() {
        return malformed("request: the file name is empty");
    }
    let mode = mode.to_ascii_lowercase();
    if !matches!(mode.as_str(), "octet" | "netascii" | "mail") {
        return malformed(format!(
            "request: unknown mode {} (RFC 1350 knows octet, netascii, mail)",
            quoted(&mode)
        ));
    }
    Ok(Request {
        filename: filename.to_string(),
        mode,
        options: pairs(options)?,
    })
}

/// Option names and values come in pairs.
fn pairs(strings: &[&str]) -> Result<Vec<(String, String)>, Malformed> {
    let chunks = strings.chunks_exact(2);
    if let [name] = chunks.remainder() {
        return malformed(format!("option {} has no value", quoted(name)));
    }
    Ok(chunks
        .map(|pair| (pair[0].to_string(), pair[1].to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rrq(filename: &str, options: &[(&str, &str)]) -> Packet<'static> {
        Packet::Rrq(Request {
            filename: filename.to_string(),
            mode: "octet".to_string(),
            options: options
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        })
    }

    #[test]
    fn the_bytes_of_each_packet() {
        assert_eq!(rrq("a.txt", &[]).to_bytes(), b"\x00\x01a.txt\x00octet\x00");
        assert_eq!(
            rrq("a", &[("blksize", "1024"), ("tsize", "0")]).to_bytes(),
            b"\x00\x01a\x00octet\x00blksize\x001024\x00tsize\x000\x00"
        );
        let data = Packet::Data {
            block: 258,
            data: b"hi",
        };
        assert_eq!(data.to_bytes(), b"\x00\x03\x01\x02hi");
        assert_eq!(Packet::Ack { block: 65535 }.to_bytes(), b"\x00\x04\xff\xff");
        let error = Packet::error(1, "File not found");
        assert_eq!(error.to_bytes(), b"\x00\x05\x00\x01File not found\x00");
        assert_eq!(Packet::rrq("a.txt", vec![]), rrq("a.txt", &[]));
        let oack = Packet::Oack {
            options: vec![("tsize".into(), "99".into())],
        };
        assert_eq!(oack.to_bytes(), b"\x00\x06tsize\x0099\x00");
    }

    #[test]
    fn every_packet_reads_back_as_itself() {
        let packets = [
            rrq("dir/file.bin", &[("blksize", "8192"), ("tsize", "0")]),
            Packet::Wrq(Request {
                filename: "up".into(),
                mode: "netascii".into(),
                options: vec![],
            }),
            Packet::Data {
                block: 7,
                data: &[0, 1, 2, 255],
            },
            Packet::Data {
                block: 0,
                data: &[],
            },
            Packet::Ack { block: 0 },
            Packet::Error {
                code: 5,
                message: "Unknown transfer ID".into(),
            },
            Packet::Oack {
                options: vec![("blksize".into(), "1428".into())],
            },
        ];
        for packet in packets {
            let bytes = packet.to_bytes();
            assert_eq!(Packet::parse(&bytes), Ok(packet));
        }
    }

    #[test]
    fn mode_and_option_names_are_case_insensitive() {
        let bytes = b"\x00\x01f\x00OCTET\x00BlkSize\x00600\x00";
        let Ok(Packet::Rrq(request)) = Packet::parse(bytes) else {
            panic!("an RRQ");
        };
        assert_eq!(request.mode, "octet");
        assert_eq!(option(&request.options, "blksize"), Some("600"));
        assert_eq!(option(&request.options, "tsize"), None);
    }

    #[test]
    fn an_error_message_without_its_zero_byte_is_still_read() {
        assert_eq!(
            Packet::parse(b"\x00\x05\x00\x02no"),
            Ok(Packet::Error {
                code: 2,
                message: "no".into()
            })
        );
    }

    #[test]
    fn bad_datagrams_say_what_is_wrong() {
        let cases: [(&[u8], &str); 11] = [
            (b"", "too short: 0 byte(s), not even a 2-byte opcode"),
            (b"\x00", "too short: 1 byte(s), not even a 2-byte opcode"),
            (b"\x00\x09abc", "unknown opcode 9"),
            (b"\x00\x00", "unknown opcode 0"),
            (
                b"\x00\x01file\x00octet",
                "request: the last string has no zero byte at its end",
            ),
            (
                b"\x00\x01file",
                "request: the last string has no zero byte at its end",
            ),
            (b"\x00\x01file\x00", "request: a file name but no mode"),
            (b"\x00\x01", "request: no file name and no mode"),
            (
                b"\x00\x01f\x00bogus\x00",
                "request: unknown mode \"bogus\" (RFC 1350 knows octet, netascii, mail)",
            ),
            (
                b"\x00\x01f\x00octet\x00tsize\x00",
                "option \"tsize\" has no value",
            ),
            (b"\x00\x04\x00\x01\x00", "ACK of 5 bytes, not 4"),
        ];
        for (bytes, why) in cases {
            assert_eq!(
                Packet::parse(bytes),
                Err(Malformed(why.into())),
                "{bytes:?}"
            );
        }
        assert_eq!(
            Packet::parse(b"\x00\x01\x00octet\x00"),
            Err(Malformed("request: the file name is empty".into()))
        );
        assert_eq!(
            Packet::parse(b"\x00\x03\x01"),
            Err(Malformed("DATA without a 2-byte block number".into()))
        );
        assert_eq!(
            Packet::parse(b"\x00\x01\xff\x00octet\x00"),
            Err(Malformed("request: a string that is not UTF-8 text".into()))
        );
    }

    #[test]
    fn packets_describe_themselves() {
        assert_eq!(
            rrq("a b", &[("tsize", "0")]).to_string(),
            "RRQ \"a b\" octet tsize=0"
        );
        let data = Packet::Data {
            block: 3,
            data: &[0; 276],
        };
        assert_eq!(data.to_string(), "DATA 3 (276 bytes)");
        assert_eq!(Packet::Ack { block: 3 }.to_string(), "ACK 3");
        assert_eq!(error_name(FILE_NOT_FOUND), "file not found");
    }

    #[test]
    fn text_from_a_peer_is_shown_escaped() {
        let error = Packet::Error {
            code: 0,
            message: "\x1b[31m\nforged".into(),
        };
        assert_eq!(error.to_string(), "ERROR 0 \"\\x1b[31m\\nforged\"");
        assert_eq!(
            rrq("a\rb", &[("x\x07", "\n")]).to_string(),
            "RRQ \"a\\rb\" octet x\\x07=\\n"
        );
        assert_eq!(
            Packet::parse(b"\x00\x01f\x00\x1b\x00"),
            Err(Malformed(
                "request: unknown mode \"\\x1b\" (RFC 1350 knows octet, netascii, mail)".into()
            ))
        );
    }
}
