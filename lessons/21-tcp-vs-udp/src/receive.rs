//! The `receive` role: one port, two sockets. A TCP listener takes the control connection
//! of each run (and, later in the run, the TCP messages); a UDP socket bound to the same
//! port number takes the datagrams. Runs are served one after another, until Ctrl-C.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use netkit::{At, Failure, banner, host_port, py_bytes, say};

use crate::{
    Counted, MAX_COUNT, MAX_SIZE, PEER_TIMEOUT, Report, Tally, end_marker, min_size, number,
    read_line_by, timed_out,
};

#[derive(clap::Args)]
pub struct Options {
    /// Address to listen on (0.0.0.0 lets other machines send to us).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port for both the UDP socket and the TCP listener (0 asks the OS for a free one).
    #[arg(long, default_value_t = 9100)]
    port: u16,
    /// End the UDP part of a run after this many milliseconds without a datagram (for
    /// when every copy of the end marker is lost, or the sender is gone). At most a day.
    #[arg(long, default_value_t = 3000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    idle_ms: u64,
    /// Seconds a sender has for its whole hello line, and may then be silent over TCP;
    /// a sender slower than that is dropped, and the next one served.
    #[arg(long, value_name = "SECS", default_value = PEER_TIMEOUT,
          value_parser = netkit::seconds)]
    timeout: Duration,
}

/// After the end marker, keep listening this long for datagrams that a reordering link
/// delivers after it.
const LINGER: Duration = Duration::from_millis(200);

/// The longest `hello COUNT SIZE\n` we read; a peer sending more is not speaking our protocol.
const HELLO_LIMIT: usize = 64;

/// How many garbage messages per run are shown on stderr (all are counted).
const GARBAGE_SHOWN: u64 = 3;

pub fn run(options: Options) -> Result<(), Failure> {
    let Options {
        host,
        port,
        idle_ms,
        timeout,
    } = options;
    let idle = Duration::from_millis(idle_ms);

    let addr = host_port(&host, port);
    let (listener, udp) = bind_both(&host, port).at("bind", &addr)?;
    let local = listener.local_addr().at("bind", &addr)?;
    banner(local).at("print", "stdout")?;

    // One run at a time: the UDP socket is shared, so two senders at once would mix
    // their datagrams. A second sender waits in the listen backlog until this run ends.
    loop {
        let (conn, peer) = match listener.accept().at("accept", local) {
            Ok(accepted) => accepted,
            Err(failure) => {
                eprintln!("{failure}");
                continue;
            }
        };
        // A run that goes wrong is reported; the receiver goes on with the next one.
        if let Err(failure) = serve(conn, peer, &udp, idle, timeout) {
            eprintln!("{failure}");
        }
    }
}

/// The TCP listener and the UDP socket on the same port number. TCP and UDP ports are
/// separate spaces, so both can be bound; with --port 0 the OS picks the TCP port and
/// that number may already be taken for UDP by another program: then pick again.
fn bind_both(host: &str, port: u16) -> io::Result<(TcpListener, UdpSocket)> {
    let mut tries = 0;
    loop {
        let listener = TcpListener::bind((host, port))?;
        match UdpSocket::bind(listener.local_addr()?) {
            Ok(udp) => return Ok((listener, udp)),
            Err(e) if port == 0 && e.kind() == io::ErrorKind::AddrInUse && tries < 10 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// One run, from `hello` to the TCP report. An error comes back as the line to print.
fn serve(
    conn: TcpStream,
    peer: SocketAddr,
    udp: &UdpSocket,
    idle: Duration,
    timeout: Duration,
) -> Result<(), Failure> {
    conn.set_write_timeout(Some(timeout)).at("send", peer)?;
    // One BufReader for the whole run: the hello line and the TCP messages after it come
    // down the same byte stream, and whatever it has read ahead must stay in one buffer.
    let mut reader = BufReader::new(conn.try_clone().at("receive", peer)?);
    let mut writer = conn;

    // hello COUNT SIZE, within one deadline: runs are served one at a time, so a sender
    // that says nothing (or a byte now and then) would hold up everyone behind it.
    let hello = match read_line_by(&mut reader, HELLO_LIMIT, Instant::now() + timeout) {
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            Err(format!("no hello within {}s", timeout.as_secs_f64()))
        }
        read => parse_hello(&read.at("receive", peer)?),
    };
    let (count, size) = match hello {
        Ok(run) => run,
        Err(why) => {
            // Tell the sender why (it may not be listening: ignore a failure here).
            let _ = writer.write_all(format!("error {why}\n").as_bytes());
            return Err(Failure::new(format!("hello {peer}: {why}")));
        }
    };
    say!("run from {peer}: {count} messages of {size} bytes");

    // Datagrams left in the socket from an earlier run (the extra end markers, stragglers)
    // would be counted in this one: throw them away before saying ready.
    let stale = drain(udp).at("receive", peer)?;
    if stale > 0 {
        let plural = if stale == 1 { "" } else { "s" };
        say!("(threw away {stale} datagram{plural} left over from before this run)");
    }
    writer.write_all(b"ready\n").at("send", peer)?;

    let (udp_report, ending) = receive_udp(udp, count, size, idle).at("receive", peer)?;
    say!("{}, {ending}", udp_report.line("UDP", count));
    let summary = udp_report.to_wire("udp");
    writer.write_all(summary.as_bytes()).at("send", peer)?;

    // The TCP messages: the sender may take long (TCP retransmitting over a lossy link),
    // but a sender silent for the whole --timeout is gone, and its run is dropped.
    let socket = reader.get_ref();
    socket.set_read_timeout(Some(timeout)).at("receive", peer)?;
    let tcp_report = match receive_tcp(&mut reader, peer, count, size) {
        Err(e) if timed_out(&e) => {
            let secs = timeout.as_secs_f64();
            let line =
                format!("receive {peer}: nothing came over TCP for {secs}s: the run is dropped");
            return Err(Failure::new(line));
        }
        received => received.at("receive", peer)?,
    };
    say!("{}", tcp_report.line("TCP", count));
    let summary = tcp_report.to_wire("tcp");
    writer.write_all(summary.as_bytes()).at("send", peer)?;
    // Dropping `writer` and `reader` closes the connection: the run is over.
    Ok(())
}

/// `hello COUNT SIZE\n` → (COUNT, SIZE), checked against the limits before anything is
/// allocated for them.
fn parse_hello(line: &[u8]) -> Result<(u64, usize), String> {
    if line.is_empty() {
        return Err(String::from("the connection closed before a hello"));
    }
    let text = line
        .strip_suffix(b"\n")
        .and_then(|l| std::str::from_utf8(l).ok());
    let words: Vec<&str> = text.map(|t| t.split(' ').collect()).unwrap_or_default();
    let numbers = match words[..] {
        ["hello", count, size] => number(count).zip(number(size)),
        _ => None,
    };
    let Some((count, size)) = numbers else {
        return Err(format!("expected `hello COUNT SIZE`, got {}", shown(line)));
    };
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(format!("COUNT must be 1 to {MAX_COUNT}, not {count}"));
    }
    let smallest = min_size(count);
    match usize::try_from(size) {
        Ok(size) if (smallest..=MAX_SIZE).contains(&size) => Ok((count, size)),
        _ => Err(format!(
            "SIZE must be {smallest} to {MAX_SIZE} for {count} messages, not {size}"
        )),
    }
}

/// Read and forget every datagram waiting in the socket; returns how many there were.
fn drain(udp: &UdpSocket) -> io::Result<u64> {
    let mut buf = [0u8; 1];
    let mut thrown = 0;
    udp.set_nonblocking(true)?;
    let result = loop {
        // A datagram longer than the buffer is cut to fit and the rest dropped: fine here.
        match udp.recv_from(&mut buf) {
            Ok(_) => thrown += 1,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(thrown),
            Err(e) => break Err(e),
        }
    };
    udp.set_nonblocking(false)?;
    result
}

/// The UDP part of a run: count datagrams until the end marker (and a short linger after
/// it), or until nothing has come for `idle`. Returns the report and how it ended.
fn receive_udp(
    udp: &UdpSocket,
    count: u64,
    size: usize,
    idle: Duration,
) -> io::Result<(Report, String)> {
    let marker = end_marker(count);
    let mut tally = Tally::new(count);
    // The largest datagram there is: recv_from cuts a longer one to the buffer's size and
    // drops the rest, which would make a wrong-size message look right.
    let mut buf = vec![0u8; 65_536];
    let started = Instant::now();
    let mut last = Duration::ZERO;
    let mut marker_seen = false;
    let mut garbage_shown = 0;
    // Each recv_from waits at most this long; it is reset by every datagram.
    udp.set_read_timeout(Some(idle))?;
    loop {
        // exercise recv-from (let (n, from): (usize, SocketAddr)): recv_from into buf; timeout: break
        let (n, from) = match udp.recv_from(&mut buf) {
            Ok(got) => got,
            // Nothing came in time: the run is over (EAGAIN on Unix, a timeout elsewhere).
            Err(e) if timed_out(&e) => break,
            Err(e) => return Err(e),
        };
        // exercise end
        let datagram = &buf[..n];
        if datagram == marker {
            // The sender is done. Its other copies, and any datagram overtaken by the
            // marker on the way, come within the linger; then we stop.
            marker_seen = true;
            udp.set_read_timeout(Some(LINGER))?;
            continue;
        }
        match tally.record(datagram, size) {
            Counted::Garbage => {
                if garbage_shown < GARBAGE_SHOWN {
                    eprintln!("garbage from {from} over UDP: {}", shown(datagram));
                    garbage_shown += 1;
                }
            }
            _ => last = started.elapsed(),
        }
    }
    let ending = if marker_seen {
        String::from("then the end marker")
    } else {
        format!(
            "then nothing for {}.{:03}s (no end marker came)",
            idle.as_secs(),
            idle.subsec_millis()
        )
    };
    Ok((tally.report(last), ending))
}

/// The TCP part of a run: messages are lines (the newline is the frame boundary in the
/// byte stream) until the sender shuts down its side.
fn receive_tcp(
    reader: &mut BufReader<TcpStream>,
    peer: SocketAddr,
    count: u64,
    size: usize,
) -> io::Result<Report> {
    let mut tally = Tally::new(count);
    let mut line = Vec::with_capacity(size);
    let started = Instant::now();
    let mut last = Duration::ZERO;
    let mut garbage_shown = 0;
    loop {
        // One message: up to and including its newline, but never more than SIZE bytes,
        // so a peer that never sends a newline cannot make us buffer without end.
        // exercise read-line (let n: usize): one line into line, at most size bytes; stop at 0
        line.clear();
        let n = reader
            .by_ref()
            .take(size as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            break; // end of stream: the sender has sent everything
        }
        // exercise end
        if n == size && !line.ends_with(b"\n") {
            // Longer than any message: garbage; skip to the end of that line.
            skip_line(reader, size)?;
        }
        match tally.record(&line, size) {
            Counted::Garbage => {
                if garbage_shown < GARBAGE_SHOWN {
                    eprintln!("garbage from {peer} over TCP: {}", shown(&line));
                    garbage_shown += 1;
                }
            }
            _ => last = started.elapsed(),
        }
    }
    Ok(tally.report(last))
}

/// Read and forget the rest of an over-long line, SIZE bytes at a time.
fn skip_line(reader: &mut BufReader<TcpStream>, size: usize) -> io::Result<()> {
    let mut piece = Vec::with_capacity(size);
    loop {
        piece.clear();
        let n = reader
            .by_ref()
            .take(size as u64)
            .read_until(b'\n', &mut piece)?;
        if n == 0 || piece.ends_with(b"\n") {
            return Ok(());
        }
    }
}

/// Bytes from a peer as Python shows them, cut to 40 so a flood stays readable.
fn shown(bytes: &[u8]) -> String {
    match bytes.get(..40) {
        Some(start) if bytes.len() > 40 => format!("{}...", py_bytes(start)),
        _ => py_bytes(bytes),
    }
}
