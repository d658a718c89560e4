//! tcp-vs-udp: send N numbered messages over UDP and then over TCP, and count what
//! arrived: the course's TCP与UDP的不同点, measured instead of read.
//!
//! Two roles in one program. `receive` listens on a port with BOTH a UDP socket and a TCP
//! listener. `send` connects over TCP (the control connection: it says how many messages
//! are coming and gets the receiver's counts back), sends the messages as UDP datagrams,
//! then sends the same messages down the TCP stream. The receiver counts, for each
//! protocol: how many arrived, duplicated, out of order, missing, and how long it took.
//!
//! On loopback nothing is lost either way. Across `scripts/lossy-lab` (two network
//! namespaces joined by a link that drops 10% of packets) UDP loses about a tenth of the
//! messages while TCP, retransmitting, delivers every one in order, only slower.
//!
//! Run it:        cargo run -p tcp-vs-udp -- receive
//! Then, in another terminal:
//!                cargo run -p tcp-vs-udp -- send
//! You will see:  UDP: 1000/1000 arrived, 0 duplicated, 0 out of order, 0 missing, ...
//!                TCP: 1000/1000 arrived, 0 duplicated, 0 out of order, 0 missing, ...
//! Try:           sudo scripts/lossy-lab            (the same across a lossy link)
//!                send --gap-us 0 --count 100000    (UDP loses even on loopback: no flow control)
//!
//! The conversation on the wire (all text, so `nc` can play either side):
//!
//! ```text
//! sender → receiver, TCP:  hello COUNT SIZE\n
//! receiver → sender, TCP:  ready\n                  (or error WHY\n, and it closes)
//! sender → receiver, UDP:  COUNT messages, then the end marker `end COUNT\n`, 3 times
//! receiver → sender, TCP:  udp ARRIVED DUPLICATED OUT_OF_ORDER MISSING GARBAGE MICROS\n
//! sender → receiver, TCP:  the same COUNT messages, then the sender shuts down its side
//! receiver → sender, TCP:  tcp ARRIVED DUPLICATED OUT_OF_ORDER MISSING GARBAGE MICROS\n
//! ```
//!
//! Message number 42 of size 8 is the 8 bytes `42.....\n`: the number in decimal, dots up
//! to SIZE-1 bytes, a newline. A UDP datagram keeps its boundaries by itself; in the TCP
//! byte stream the newline is what tells one message from the next (lesson 09).

mod receive;
mod send;

use std::io::{self, BufRead, BufReader};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

/// Send N numbered messages over UDP and over TCP, and count what arrived.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Listen on a port (UDP and TCP both), count what each run delivers, report it.
    Receive(receive::Options),
    /// Send N messages to a receiver over UDP, then over TCP, and print its counts.
    Send(send::Options),
}

fn main() -> ExitCode {
    netkit::exit(match Args::parse().role {
        Role::Receive(options) => receive::run(options),
        Role::Send(options) => send::run(options),
    })
}

/// The most messages one run may announce. The receiver keeps one flag per message, so
/// it checks a peer's COUNT against this before it allocates anything.
pub const MAX_COUNT: u64 = 1_000_000;

/// The largest UDP payload over IPv4: 65535 minus the IP header (20) and the UDP header
/// (8). A message must fit in one datagram.
pub const MAX_SIZE: usize = 65_507;

/// How long either side waits for the other on the TCP connection before giving up, in
/// seconds, unless `--timeout` says otherwise. TCP over a lossy link can stall for seconds
/// while it retransmits (each retry waits twice as long as the one before), so this is
/// generous.
pub const PEER_TIMEOUT: &str = "60";

/// Read one line from the TCP connection, up to and including its newline and at most
/// `limit` bytes, by `deadline`: one deadline for the whole line, not one per read, so a
/// peer that trickles a byte at a time cannot hold us longer. A line without its newline
/// means the peer closed (or went past `limit`); a deadline that passes is `TimedOut`.
pub fn read_line_by(
    reader: &mut BufReader<TcpStream>,
    limit: usize,
    deadline: Instant,
) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    while line.len() < limit && !line.ends_with(b"\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        // Each read may wait only for what is left of the deadline.
        reader.get_ref().set_read_timeout(Some(left))?;
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if timed_out(&e) => return Err(io::ErrorKind::TimedOut.into()),
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break; // the peer closed its side
        }
        let wanted = limit - line.len();
        let take = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1).min(wanted),
            None => available.len().min(wanted),
        };
        line.extend_from_slice(&available[..take]);
        reader.consume(take);
    }
    Ok(line)
}

/// Did a read give up because of its timeout? (EAGAIN on Unix, a timeout elsewhere.)
pub fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The smallest SIZE that holds every number below `count`, plus the newline.
pub fn min_size(count: u64) -> usize {
    count.saturating_sub(1).to_string().len() + 1
}

/// Message number `seq`, `size` bytes long: `42.....\n`.
pub fn message(seq: u64, size: usize) -> Vec<u8> {
    let mut bytes = seq.to_string().into_bytes();
    bytes.resize(size - 1, b'.');
    bytes.push(b'\n');
    bytes
}

/// The end of the UDP run: `end COUNT\n`. It can be lost like any datagram, so the
/// sender sends it three times and the receiver also stops when nothing comes for a while.
pub fn end_marker(count: u64) -> Vec<u8> {
    format!("end {count}\n").into_bytes()
}

/// The number in a message, if it is exactly what the sender makes: `size` bytes,
/// digits, dots, one newline at the end, and a number below `count`. Anything else a peer
/// sends is garbage: counted and shown, never a crash.
pub fn parse_message(bytes: &[u8], count: u64, size: usize) -> Option<u64> {
    let body = bytes.strip_suffix(b"\n")?;
    if bytes.len() != size {
        return None;
    }
    let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || body[digits..].iter().any(|&b| b != b'.') {
        return None;
    }
    // At most 20 ASCII digits fit a u64; longer (or too big) fails to parse: garbage.
    let seq: u64 = std::str::from_utf8(&body[..digits]).ok()?.parse().ok()?;
    (seq < count).then_some(seq)
}

/// What arrived of one run over one protocol, as the receiver counts it.
pub struct Tally {
    count: u64,
    /// One flag per message number: has it arrived yet?
    seen: Vec<bool>,
    arrived: u64,
    duplicated: u64,
    out_of_order: u64,
    garbage: u64,
    /// The highest number so far: a message below it arrived after a later one.
    highest: Option<u64>,
}

/// Where one message went in the [`Tally`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    InOrder,
    OutOfOrder,
    Duplicate,
    Garbage,
}

impl Tally {
    /// An empty tally for `count` messages (`count` ≤ [`MAX_COUNT`], checked by the caller).
    pub fn new(count: u64) -> Tally {
        Tally {
            count,
            seen: vec![false; usize::try_from(count).unwrap_or(0)],
            arrived: 0,
            duplicated: 0,
            out_of_order: 0,
            garbage: 0,
            highest: None,
        }
    }

    /// Count one message (or what claims to be one).
    pub fn record(&mut self, bytes: &[u8], size: usize) -> Counted {
        let Some(seq) = parse_message(bytes, self.count, size) else {
            self.garbage += 1;
            return Counted::Garbage;
        };
        let Some(flag) = usize::try_from(seq).ok().and_then(|i| self.seen.get_mut(i)) else {
            self.garbage += 1;
            return Counted::Garbage;
        };
        if *flag {
            self.duplicated += 1;
            return Counted::Duplicate;
        }
        *flag = true;
        self.arrived += 1;
        if self.highest.is_some_and(|high| seq < high) {
            self.out_of_order += 1;
            return Counted::OutOfOrder;
        }
        self.highest = Some(seq);
        Counted::InOrder
    }

    /// The finished counts; `took` is the time from the start to the last message.
    pub fn report(&self, took: Duration) -> Report {
        Report {
            arrived: self.arrived,
            duplicated: self.duplicated,
            out_of_order: self.out_of_order,
            missing: self.count - self.arrived,
            garbage: self.garbage,
            micros: u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        }
    }
}

/// The counts of one run over one protocol. The receiver prints it and sends it to the
/// sender as one line: `udp 903 0 11 97 0 250431` (the last figure in microseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    pub arrived: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub missing: u64,
    pub garbage: u64,
    pub micros: u64,
}

impl Report {
    /// `UDP: 903/1000 arrived, 0 duplicated, 11 out of order, 97 missing, 0 garbage, 0.250s`
    pub fn line(&self, protocol: &str, count: u64) -> String {
        format!(
            "{protocol}: {}/{count} arrived, {} duplicated, {} out of order, {} missing, {} garbage, {}",
            self.arrived,
            self.duplicated,
            self.out_of_order,
            self.missing,
            self.garbage,
            seconds(self.micros)
        )
    }

    /// The short half of the comparison: `903/1000 arrived, 11 out of order, 0.250s`.
    pub fn short(&self, count: u64) -> String {
        let mut text = format!("{}/{count} arrived", self.arrived);
        if self.out_of_order == 0 {
            text.push_str(", in order");
        } else {
            text.push_str(&format!(", {} out of order", self.out_of_order));
        }
        if self.duplicated > 0 {
            text.push_str(&format!(", {} duplicated", self.duplicated));
        }
        text.push_str(&format!(", {}", seconds(self.micros)));
        text
    }

    /// The line the receiver sends back: `udp 903 0 11 97 0 250431\n`.
    pub fn to_wire(&self, tag: &str) -> String {
        format!(
            "{tag} {} {} {} {} {} {}\n",
            self.arrived,
            self.duplicated,
            self.out_of_order,
            self.missing,
            self.garbage,
            self.micros
        )
    }

    /// Read such a line back (without its newline); `None` unless it is exactly `tag`
    /// and six numbers.
    pub fn from_wire(line: &str, tag: &str) -> Option<Report> {
        let mut words = line.split(' ');
        if words.next() != Some(tag) {
            return None;
        }
        let numbers: Vec<u64> = words.map(number).collect::<Option<_>>()?;
        let [arrived, duplicated, out_of_order, missing, garbage, micros] = numbers[..] else {
            return None;
        };
        Some(Report {
            arrived,
            duplicated,
            out_of_order,
            missing,
            garbage,
            micros,
        })
    }
}

/// A number on the wire: decimal digits only (no sign, no spaces) that fit in a u64.
pub fn number(word: &str) -> Option<u64> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse().ok()
}

/// Microseconds as seconds with three decimals: `0.250s`.
fn seconds(micros: u64) -> String {
    format!("{}.{:03}s", micros / 1_000_000, micros % 1_000_000 / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_numbered_padded_and_end_in_a_newline() {
        assert_eq!(message(42, 8), b"42.....\n");
        assert_eq!(message(7, 2), b"7\n");
        assert_eq!(min_size(1000), 4);
        assert_eq!(min_size(1), 2);
        assert_eq!(parse_message(b"42.....\n", 1000, 8), Some(42));
        assert_eq!(parse_message(b"42.....\n", 42, 8), None, "number too big");
        assert_eq!(parse_message(b"42....\n", 1000, 8), None, "wrong size");
        assert_eq!(parse_message(b"4x.....\n", 1000, 8), None);
        assert_eq!(parse_message(b"42......", 1000, 8), None, "no newline");
        assert_eq!(parse_message(b".......\n", 1000, 8), None, "no number");
        assert_eq!(
            parse_message(b"99999999999999999999999\n", u64::MAX, 24),
            None
        );
    }

    #[test]
    fn the_tally_counts_duplicates_reordering_and_garbage() {
        let mut tally = Tally::new(5);
        let got: Vec<Counted> = [0, 2, 1, 2, 4]
            .iter()
            .map(|&i| tally.record(&message(i, 4), 4))
            .collect();
        use Counted::*;
        assert_eq!(got, [InOrder, InOrder, OutOfOrder, Duplicate, InOrder]);
        assert_eq!(tally.record(b"junk", 4), Garbage);
        let report = tally.report(Duration::from_millis(1500));
        assert_eq!(
            report.line("UDP", 5),
            "UDP: 4/5 arrived, 1 duplicated, 1 out of order, 1 missing, 1 garbage, 1.500s"
        );
        assert_eq!(
            report.short(5),
            "4/5 arrived, 1 out of order, 1 duplicated, 1.500s"
        );
        let wire = report.to_wire("udp");
        assert_eq!(wire, "udp 4 1 1 1 1 1500000\n");
        assert_eq!(Report::from_wire(wire.trim_end(), "udp"), Some(report));
        assert_eq!(Report::from_wire(wire.trim_end(), "tcp"), None);
        assert_eq!(Report::from_wire("udp 1 2 3", "udp"), None);
        assert_eq!(Report::from_wire("udp 1 2 3 4 5 x", "udp"), None);
        assert_eq!(Report::from_wire("udp 1 2 3 4 5 +6", "udp"), None);
        assert_eq!(number("42"), Some(42));
        assert_eq!(number("+42"), None);
        assert_eq!(number(""), None);
        assert_eq!(number("18446744073709551616"), None, "over u64");
    }
}
