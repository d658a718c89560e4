//! `cargo lesson run NAME --pcap FILE`: what the wire relay saw, written as a capture file
//! that Wireshark and tshark open (the classic libpcap format, raw IP packets).
//!
//! The relay sees bytes, not packets, so the headers are made up, but consistent: a TCP
//! connection starts with a three-way handshake, sequence and acknowledgement numbers
//! advance with the bytes, an end of stream is a FIN (and its ACK), a reset an RST; each UDP
//! datagram is one packet with its ports. Checksums are computed. The addresses are the
//! client's and the server's as the relay saw them, so the capture reads as the client
//! talking to the server directly; each piece is one segment, as the relay read it.
//!
//! A dissector finds its protocol by the server's port, and a lesson's server listens
//! on a port of the OS's choosing; so for the lessons in [`WELL_KNOWN`] the server's
//! listening port is written as the protocol's well-known port (TFTP 69, HTTP 80), and
//! `tshark -r FILE` shows their packets dissected without `-d` options. (A TFTP server's
//! other ports, its transfer IDs, keep their numbers: the dissector follows them from the
//! request.)

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use lesson_runner::relay::{Event, Toward, What};

/// The lessons whose protocol a dissector knows by its port: package, port, protocol.
/// (The lessons' metadata says only "tcp" or "udp".)
pub const WELL_KNOWN: [(&str, u16, &str); 5] = [
    ("http-get-v1", 80, "HTTP"),
    ("http-get-v2", 80, "HTTP"),
    ("tftp-client-v1", 69, "TFTP"),
    ("tftp-client-v2", 69, "TFTP"),
    ("tftp-server", 69, "TFTP"),
];

/// The file header's link type: raw IP, each packet an IPv4 or IPv6 header first.
const LINKTYPE_RAW: u32 = 101;
/// The longest packet the file says it keeps.
const SNAPLEN: u32 = 262_144;
/// A longer piece of a TCP stream is written as several segments (an IP packet's length
/// must fit 16 bits).
const MAX_SEGMENT: usize = 65_000;
/// TCP's flags.
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// A capture being written; clones write to the same file.
#[derive(Clone)]
pub struct Pcap(Arc<Mutex<Capture>>);

struct Capture {
    out: BufWriter<File>,
    path: PathBuf,
    well_known: Option<(u16, &'static str)>,
    packets: usize,
    /// The next sequence number each side of a TCP connection sends: client, server.
    seq: HashMap<usize, [u32; 2]>,
    /// The IPv4 identification field, one more each packet.
    id: u16,
    /// The first write that failed.
    failed: Option<io::Error>,
}

impl Pcap {
    /// Create `path` and write the file header; `package` is the lesson (see [`WELL_KNOWN`]).
    pub fn create(path: &Path, package: &str) -> Result<Pcap, String> {
        let cannot =
            |e: io::Error| format!("cannot write {}: {}", path.display(), netkit::cause(&e));
        let mut out = BufWriter::new(File::create(path).map_err(cannot)?);
        let mut header = Vec::with_capacity(24);
        header.extend(0xa1b2_c3d4u32.to_le_bytes()); // the magic number: microseconds
        header.extend(2u16.to_le_bytes()); // version 2.4
        header.extend(4u16.to_le_bytes());
        header.extend([0; 8]); // time zone and accuracy: UTC, unknown
        header.extend(SNAPLEN.to_le_bytes());
        header.extend(LINKTYPE_RAW.to_le_bytes());
        out.write_all(&header).map_err(cannot)?;
        let well_known = WELL_KNOWN
            .iter()
            .find(|w| w.0 == package)
            .map(|w| (w.1, w.2));
        Ok(Pcap(Arc::new(Mutex::new(Capture {
            out,
            path: path.to_path_buf(),
            well_known,
            packets: 0,
            seq: HashMap::new(),
            id: 0,
            failed: None,
        }))))
    }

    fn lock(&self) -> MutexGuard<'_, Capture> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Write the packets for one event of the relay in front of `listening`.
    pub fn record(&self, event: &Event, listening: SocketAddr, tcp: bool) {
        let mut capture = self.lock();
        let mut server = event.server;
        if let Some((port, _)) = capture.well_known {
            if server == listening {
                server.set_port(port);
            }
        }
        let ends = [event.client, server];
        if tcp {
            capture.tcp(event, ends);
        } else if let What::Data(toward, data) = &event.what {
            let (from, to) = way(*toward);
            capture.udp(ends[from], ends[to], data);
        }
    }

    /// Flush the file: the line that says what was written, or why it could not be.
    pub fn finish(&self) -> Result<String, String> {
        let mut capture = self.lock();
        let path = capture.path.display().to_string();
        let failed = capture
            .failed
            .take()
            .map_or_else(|| capture.out.flush(), Err);
        failed.map_err(|e| format!("cannot write {path}: {}", netkit::cause(&e)))?;
        let mut line = format!("wrote {} packets to {path}", capture.packets);
        if let Some((port, protocol)) = capture.well_known {
            line.push_str(&format!(
                "; the server's port shows as {port}, the port {protocol}'s dissector knows"
            ));
        }
        Ok(line)
    }
}

/// The indexes of the sender and the receiver in `[client, server]`.
fn way(toward: Toward) -> (usize, usize) {
    match toward {
        Toward::Server => (0, 1),
        Toward::Client => (1, 0),
    }
}

impl Capture {
    fn tcp(&mut self, event: &Event, ends: [SocketAddr; 2]) {
        // Made-up initial sequence numbers, different for each connection.
        let first = (event.conn as u32).wrapping_mul(0x0100_0000);
        let segment = |capture: &mut Capture, toward, flags, data: &[u8]| {
            let (from, to) = way(toward);
            let seqs = (capture.seq.entry(event.conn)).or_insert([first, first ^ 0x8000_0000]);
            let (s, a) = (seqs[from], seqs[to]);
            let advance = data.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
            seqs[from] = s.wrapping_add(advance);
            let ack = if flags & ACK != 0 { a } else { 0 };
            capture.segment(ends[from], ends[to], s, ack, flags, data);
        };
        match &event.what {
            What::Connected { .. } => {
                segment(self, Toward::Server, SYN, &[]);
                segment(self, Toward::Client, SYN | ACK, &[]);
                segment(self, Toward::Server, ACK, &[]);
            }
            What::Data(toward, data) => {
                for piece in data.chunks(MAX_SEGMENT) {
                    segment(self, *toward, PSH | ACK, piece);
                }
            }
            What::End(toward) => {
                segment(self, *toward, FIN | ACK, &[]);
                segment(self, toward.back(), ACK, &[]);
            }
            What::Reset(toward, _) => segment(self, *toward, RST | ACK, &[]),
            What::Closed => {
                self.seq.remove(&event.conn);
            }
            What::Merged(..) | What::NewPort(_) | What::Failure(_) => {}
        }
    }

    fn segment(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
        data: &[u8],
    ) {
        let mut tcp = Vec::with_capacity(20 + data.len());
        tcp.extend(from.port().to_be_bytes());
        tcp.extend(to.port().to_be_bytes());
        tcp.extend(seq.to_be_bytes());
        tcp.extend(ack.to_be_bytes());
        tcp.extend([5 << 4, flags]); // a 20-byte header, no options
        tcp.extend(65_535u16.to_be_bytes()); // the window
        tcp.extend([0, 0, 0, 0]); // checksum (below), urgent pointer
        tcp.extend_from_slice(data);
        self.packet(from.ip(), to.ip(), 6, tcp, 16);
    }

    fn udp(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let mut udp = Vec::with_capacity(8 + data.len());
        udp.extend(from.port().to_be_bytes());
        udp.extend(to.port().to_be_bytes());
        udp.extend(((8 + data.len()) as u16).to_be_bytes());
        udp.extend([0, 0]); // checksum (below)
        udp.extend_from_slice(data);
        self.packet(from.ip(), to.ip(), 17, udp, 6);
    }

    /// Put an IP header before `transport` (protocol `proto`, its checksum at byte
    /// `at`), fill in the checksums, and write the packet with the time now.
    fn packet(&mut self, from: IpAddr, to: IpAddr, proto: u8, mut transport: Vec<u8>, at: usize) {
        let length = transport.len();
        let mut packet = Vec::with_capacity(40 + length);
        let pseudo: Vec<u8> = match (from, to) {
            (IpAddr::V4(from), IpAddr::V4(to)) => {
                self.id = self.id.wrapping_add(1);
                packet.extend([0x45, 0]);
                packet.extend(((20 + length) as u16).to_be_bytes());
                packet.extend(self.id.to_be_bytes());
                packet.extend([0x40, 0, 64, proto, 0, 0]); // don't fragment, TTL 64
                packet.extend(from.octets());
                packet.extend(to.octets());
                let sum = checksum(&[&packet]);
                packet[10..12].copy_from_slice(&sum.to_be_bytes());
                [
                    &from.octets()[..],
                    &to.octets(),
                    &[0, proto],
                    &(length as u16).to_be_bytes(),
                ]
                .concat()
            }
            _ => {
                let v6 = |ip: IpAddr| match ip {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                    IpAddr::V6(v6) => v6,
                };
                let (from, to) = (v6(from), v6(to));
                packet.extend([0x60, 0, 0, 0]);
                packet.extend((length as u16).to_be_bytes());
                packet.extend([proto, 64]); // next header, hop limit
                packet.extend(from.octets());
                packet.extend(to.octets());
                [
                    &from.octets()[..],
                    &to.octets(),
                    &(length as u32).to_be_bytes(),
                    &[0, 0, 0, proto],
                ]
                .concat()
            }
        };
        let sum = match checksum(&[&pseudo, &transport]) {
            0 if proto == 17 => 0xffff, // 0 would mean "no checksum" in UDP
            sum => sum,
        };
        transport[at..at + 2].copy_from_slice(&sum.to_be_bytes());
        packet.extend(transport);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut record = Vec::with_capacity(16 + packet.len());
        record.extend((now.as_secs() as u32).to_le_bytes());
        record.extend(now.subsec_micros().to_le_bytes());
        record.extend((packet.len() as u32).to_le_bytes());
        record.extend((packet.len() as u32).to_le_bytes());
        record.extend(packet);
        match self.out.write_all(&record) {
            Ok(()) => self.packets += 1,
            Err(e) => {
                self.failed.get_or_insert(e);
            }
        }
    }
}

/// The Internet checksum (RFC 1071) of the bytes of `parts` one after the other (every
/// part but the last of even length).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        for pair in part.chunks(2) {
            sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_of_rfc_1071s_example() {
        // RFC 1071's example words sum to 0xddf2; the checksum is its complement.
        assert_eq!(
            checksum(&[&[0x00, 0x01, 0xf2, 0x03], &[0xf4, 0xf5, 0xf6, 0xf7]]),
            !0xddf2
        );
    }

    #[test]
    fn a_connection_is_a_handshake_data_and_fins_with_advancing_numbers() {
        let path = std::env::temp_dir().join(format!("pcap-test-{}.pcap", std::process::id()));
        let pcap = Pcap::create(&path, "http-get-v1").expect("create");
        let client: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let server: SocketAddr = "127.0.0.1:41000".parse().expect("addr");
        let event = |what| Event {
            conn: 1,
            client,
            server,
            what,
        };
        for what in [
            What::Connected { via: client },
            What::Data(Toward::Server, b"GET / HTTP/1.0\r\n\r\n".to_vec()),
            What::End(Toward::Server),
            What::Data(Toward::Client, b"HTTP/1.0 200 OK\r\n\r\n".to_vec()),
            What::End(Toward::Client),
            What::Closed,
        ] {
            pcap.record(&event(what), server, true);
        }
        let line = pcap.finish().expect("finish");
        assert!(line.starts_with("wrote 9 packets to "), "{line}");
        assert!(line.ends_with("the server's port shows as 80, the port HTTP's dissector knows"));
        let bytes = std::fs::read(&path).expect("read");
        let _ = std::fs::remove_file(&path);
        // Walk the records: each packet's TCP ports, sequence, acknowledgement and flags.
        let mut at = 24;
        let mut seen = Vec::new();
        while at < bytes.len() {
            let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4")) as usize;
            let ip = &bytes[at + 16..at + 16 + len];
            assert_eq!(checksum(&[&ip[..20]]), 0, "the IP header's checksum holds");
            let tcp = &ip[20..];
            let word = |i: usize| u32::from_be_bytes(tcp[i..i + 4].try_into().expect("4"));
            let port = |i: usize| u16::from_be_bytes([tcp[i], tcp[i + 1]]);
            seen.push((port(0), port(2), word(4), word(8), tcp[13], tcp.len() - 20));
            at += 16 + len;
        }
        let (c, s) = (0x0100_0000, 0x8100_0000);
        assert_eq!(
            seen,
            [
                (40000, 80, c, 0, SYN, 0),
                (80, 40000, s, c + 1, SYN | ACK, 0),
                (40000, 80, c + 1, s + 1, ACK, 0),
                (40000, 80, c + 1, s + 1, PSH | ACK, 18),
                (40000, 80, c + 19, s + 1, FIN | ACK, 0),
                (80, 40000, s + 1, c + 20, ACK, 0),
                (80, 40000, s + 1, c + 20, PSH | ACK, 19),
                (80, 40000, s + 20, c + 20, FIN | ACK, 0),
                (40000, 80, c + 20, s + 21, ACK, 0),
            ]
        );
    }
}
