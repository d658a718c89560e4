//! `cargo lesson run NAME --pcap FILE`: what the wire relay saw, written as a capture file
//! that Wireshark and tshark open (the classic libpcap format, raw IP packets).
//!
//! The relay sees bytes, not packets, so the headers are made up, but consistent: a TCP
//! connection starts with a three-way handshake, sequence and acknowledgement numbers
//! advance with the bytes, an end of stream is a FIN (and its ACK), a reset an RST; each UDP
//! datagram is one packet with its ports. etherparse builds the headers and computes their
//! checksums; the file's own header and records are a few fixed fields. The addresses are the client's and the server's as
//! the relay saw them, so the capture reads as the client talking to the server directly;
//! each piece is one segment, as the relay read it (one over [`MAX_SEGMENT`] bytes, several).
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
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::UNIX_EPOCH;

use etherparse::{PacketBuilder, TcpHeader};
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
/// TCP's flags, as the bits of the header's flags byte.
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
    /// The file's name, as the lines say it.
    path: String,
    /// The lesson's entry in [`WELL_KNOWN`], if it has one.
    well_known: Option<&'static (&'static str, u16, &'static str)>,
    packets: usize,
    /// The next sequence number each side of a TCP connection sends: client, server.
    seq: HashMap<usize, [u32; 2]>,
    /// The first write that failed.
    failed: Option<io::Error>,
}

impl Pcap {
    /// Create `path` and write the file header; `package` is the lesson (see [`WELL_KNOWN`]).
    pub fn create(path: &Path, package: &str) -> Result<Pcap, String> {
        let shown = path.display().to_string();
        let cannot = |e: io::Error| format!("cannot write {shown}: {}", netkit::cause(&e));
        let mut out = BufWriter::new(File::create(path).map_err(cannot)?);
        // The magic number (times in microseconds), version 2.4, time zone and accuracy
        // (UTC, unknown), the snap length and the link type; little-endian, as the magic says.
        let header = [0xa1b2_c3d4, 0x0004_0002, 0, 0, SNAPLEN, LINKTYPE_RAW];
        out.write_all(&header.map(u32::to_le_bytes).concat())
            .map_err(cannot)?;
        Ok(Pcap(Arc::new(Mutex::new(Capture {
            out,
            path: shown,
            well_known: WELL_KNOWN.iter().find(|w| w.0 == package),
            packets: 0,
            seq: HashMap::new(),
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
        match capture.well_known {
            Some((_, port, _)) if server == listening => server.set_port(*port),
            _ => {}
        }
        let ends = [event.client, server];
        if tcp {
            capture.tcp(event, ends);
        } else if let What::Data(toward, data) = &event.what {
            let (from, to) = way(*toward);
            capture.packet(ends[from], ends[to], None, data);
        }
    }

    /// Flush the file: the line that says what was written, or why it could not be.
    pub fn finish(&self) -> Result<String, String> {
        let mut capture = self.lock();
        let failed = capture
            .failed
            .take()
            .map_or_else(|| capture.out.flush(), Err);
        let path = &capture.path;
        failed.map_err(|e| format!("cannot write {path}: {}", netkit::cause(&e)))?;
        let mut line = format!("wrote {} packets to {path}", capture.packets);
        if let Some((_, port, protocol)) = capture.well_known {
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
        let segments: Vec<(Toward, u8, &[u8])> = match &event.what {
            What::Connected { .. } => vec![
                (Toward::Server, SYN, &[]),
                (Toward::Client, SYN | ACK, &[]),
                (Toward::Server, ACK, &[]),
            ],
            What::Data(toward, data) => (data.chunks(MAX_SEGMENT))
                .map(|piece| (*toward, PSH | ACK, piece))
                .collect(),
            What::End(toward) => vec![(*toward, FIN | ACK, &[]), (toward.back(), ACK, &[])],
            What::Reset(toward, _) => vec![(*toward, RST | ACK, &[])],
            What::Closed => {
                self.seq.remove(&event.conn);
                return;
            }
            What::Merged(..) | What::NewPort(_) | What::Failure(_) => return,
        };
        // Made-up initial sequence numbers, different for each connection.
        let first = (event.conn as u32).wrapping_mul(0x0100_0000);
        for (toward, flags, data) in segments {
            let (from, to) = way(toward);
            let seqs = (self.seq.entry(event.conn)).or_insert([first, first ^ 0x8000_0000]);
            let mut tcp = TcpHeader::new(ends[from].port(), ends[to].port(), seqs[from], 65_535);
            [tcp.fin, tcp.syn, tcp.rst, tcp.psh, tcp.ack] =
                [FIN, SYN, RST, PSH, ACK].map(|flag| flags & flag != 0);
            if tcp.ack {
                tcp.acknowledgment_number = seqs[to];
            }
            // What this side sends next: SYN and FIN count as a byte each.
            seqs[from] = seqs[from].wrapping_add(data.len() as u32 + u32::from(tcp.syn || tcp.fin));
            self.packet(ends[from], ends[to], Some(tcp), data);
        }
    }

    /// Write one IP packet from `from` to `to` with the time now: a UDP datagram, or a TCP
    /// segment with `tcp`'s header (the builder fills in the lengths and checksums). A
    /// failure is kept for `finish`.
    fn packet(&mut self, from: SocketAddr, to: SocketAddr, tcp: Option<TcpHeader>, data: &[u8]) {
        let ip = match (from.ip(), to.ip()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
            (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
            // The relay listens on the server's family, so its clients come on it too.
            _ => return,
        };
        let mut packet = Vec::new();
        let built = match tcp {
            Some(tcp) => ip.tcp_header(tcp).write(&mut packet, data),
            None => ip.udp(from.port(), to.port()).write(&mut packet, data),
        };
        let now = UNIX_EPOCH.elapsed().unwrap_or_default();
        // A record: the time (seconds, microseconds), the length kept and the length seen.
        let len = packet.len() as u32;
        let record = [now.as_secs() as u32, now.subsec_micros(), len, len];
        let written = built.map_err(io::Error::other).and_then(|()| {
            self.out.write_all(&record.map(u32::to_le_bytes).concat())?;
            self.out.write_all(&packet)
        });
        match written {
            Ok(()) => self.packets += 1,
            Err(e) => _ = self.failed.get_or_insert(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetHeaders, PacketHeaders, TransportHeader};

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
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        assert_eq!((word(0), word(20)), (0xa1b2_c3d4, LINKTYPE_RAW));
        let (mut at, mut seen) = (24, Vec::new());
        while at < bytes.len() {
            let len = word(at + 8) as usize;
            let ip = &bytes[at + 16..at + 16 + len];
            at += 16 + len;
            let packet = PacketHeaders::from_ip_slice(ip).expect("an IP packet");
            let (Some(NetHeaders::Ipv4(ip, _)), Some(TransportHeader::Tcp(tcp))) =
                (packet.net, packet.transport)
            else {
                panic!("not TCP over IPv4 at byte {at}");
            };
            let data = packet.payload.slice();
            assert_eq!(ip.header_checksum, ip.calc_header_checksum(), "IP checksum");
            let sum = tcp.calc_checksum_ipv4(&ip, data).expect("a TCP checksum");
            assert_eq!(tcp.checksum, sum, "TCP checksum");
            let ports = (tcp.source_port, tcp.destination_port);
            let numbers = (tcp.sequence_number, tcp.acknowledgment_number);
            seen.push((ports, numbers, tcp.to_bytes()[13], data.len()));
        }
        let (c, s) = (0x0100_0000, 0x8100_0000);
        assert_eq!(
            seen,
            [
                ((40000, 80), (c, 0), SYN, 0),
                ((80, 40000), (s, c + 1), SYN | ACK, 0),
                ((40000, 80), (c + 1, s + 1), ACK, 0),
                ((40000, 80), (c + 1, s + 1), PSH | ACK, 18),
                ((40000, 80), (c + 19, s + 1), FIN | ACK, 0),
                ((80, 40000), (s + 1, c + 20), ACK, 0),
                ((80, 40000), (s + 1, c + 20), PSH | ACK, 19),
                ((80, 40000), (s + 20, c + 20), FIN | ACK, 0),
                ((40000, 80), (c + 20, s + 21), ACK, 0),
            ]
        );
    }
}
