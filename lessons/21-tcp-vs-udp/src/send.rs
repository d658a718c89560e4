//! The `send` role: say hello over TCP, send the messages as UDP datagrams, then down the
//! TCP stream, and print what the receiver counted each time.

use std::io::{self, BufReader, BufWriter, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use clap::CommandFactory;
use clap::error::ErrorKind;
use netkit::{At, Failure, escaped, host_port, py_bytes, say};

use crate::{
    MAX_COUNT, MAX_SIZE, PEER_TIMEOUT, Report, end_marker, message, min_size, read_line_by,
};

#[derive(clap::Args)]
pub struct Options {
    /// The receiver's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The receiver's port (the same number for UDP and TCP).
    #[arg(long, default_value_t = 9100)]
    port: u16,
    /// How many messages to send over each protocol.
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=MAX_COUNT))]
    count: u64,
    /// Bytes in each message, the newline included.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Pause after each UDP datagram, in microseconds (at most a second). UDP has no flow
    /// control: a sender faster than its receiver loses datagrams in the receiver's
    /// buffer, even on loopback. 0 sends as fast as it can.
    #[arg(long, default_value_t = 50, value_name = "MICROS",
          value_parser = clap::value_parser!(u64).range(..=1_000_000))]
    gap_us: u64,
    /// Seconds to wait for the receiver: to connect, and for each of its answers (`ready`,
    /// the two reports).
    #[arg(long, value_name = "SECS", default_value = PEER_TIMEOUT,
          value_parser = netkit::seconds)]
    timeout: Duration,
}

/// How many times the end marker is sent: one copy may be lost, three rarely all are.
const MARKER_COPIES: usize = 3;

/// The longest line we read from the receiver (`udp ...` with six numbers is well under).
const LINE_LIMIT: usize = 200;

pub fn run(options: Options) -> Result<(), Failure> {
    // Piped into `head`, which has stopped reading: stop, as Ctrl-C would.
    netkit::when_stdout_closes(|| std::process::exit(130));
    let smallest = min_size(options.count);
    if !(smallest..=MAX_SIZE).contains(&options.size) {
        // A usage error like clap's own: message, usage, exit 2.
        crate::Args::command()
            .error(
                ErrorKind::ValueValidation,
                format!(
                    "--size must be {smallest} to {MAX_SIZE} for --count {} (the largest \
                     number and a newline must fit; a UDP datagram holds at most {MAX_SIZE} bytes)",
                    options.count
                ),
            )
            .exit();
    }
    talk(&options)
}

/// The whole conversation with the receiver.
fn talk(options: &Options) -> Result<(), Failure> {
    let Options {
        host,
        port,
        count,
        size,
        gap_us,
        timeout,
    } = options;
    let (count, size, timeout) = (*count, *size, *timeout);
    let addr = resolve(host, *port).at("resolve", host_port(host, *port))?;

    // The control connection: TCP, so the hello and the reports are never lost.
    let conn = TcpStream::connect_timeout(&addr, timeout).at("connect", addr)?;
    conn.set_write_timeout(Some(timeout)).at("send", addr)?;
    let mut reader = BufReader::new(conn.try_clone().at("receive", addr)?);
    say!("sending {count} messages of {size} bytes to {addr}: over UDP, then over TCP");

    let mut writer = &conn;
    let hello = format!("hello {count} {size}\n");
    writer.write_all(hello.as_bytes()).at("send", addr)?;
    let ready = read_line(&mut reader, addr, timeout, "`ready`")?;
    if ready != "ready" {
        let line = format!(
            "receive {addr}: expected `ready`, got \"{}\"",
            escaped(&ready)
        );
        return Err(Failure::new(line));
    }

    // UDP: a socket of our own (no bind needed, the OS picks a port at the first
    // send_to), one datagram per message, no connection, no acknowledgement.
    let local: SocketAddr = if addr.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let udp = UdpSocket::bind(local).at("bind", local)?;
    let gap = Duration::from_micros(*gap_us);
    // exercise udp-send: send_to each message(seq, size) to addr as one datagram, gap apart
    for seq in 0..count {
        udp.send_to(&message(seq, size), addr).at("send", addr)?;
        if !gap.is_zero() {
            thread::sleep(gap);
        }
    }
    // exercise end
    // The end marker is a datagram too, so it can be lost: send a few copies. (The
    // receiver also gives up after a while without datagrams.)
    for _ in 0..MARKER_COPIES {
        udp.send_to(&end_marker(count), addr).at("send", addr)?;
    }
    let udp_report = read_report(&mut reader, addr, timeout, "udp")?;
    say!("{}", udp_report.line("UDP", count));

    // TCP: the same messages down the byte stream. The newline at the end of each one is
    // what lets the receiver cut the stream back into messages. A BufWriter hands the
    // kernel many messages per send(); TCP cuts the stream its own way anyway.
    let mut out = BufWriter::new(&conn);
    for seq in 0..count {
        out.write_all(&message(seq, size)).at("send", addr)?;
    }
    out.flush().at("send", addr)?;
    drop(out);
    // shutdown(SHUT_WR): "no more messages". The receiver's read returns 0 once it has
    // everything; our side stays open for reading its report.
    conn.shutdown(Shutdown::Write).at("send", addr)?;
    let tcp_report = read_report(&mut reader, addr, timeout, "tcp")?;
    say!("{}", tcp_report.line("TCP", count));

    say!(
        "UDP: {} · TCP: {}",
        udp_report.short(count),
        tcp_report.short(count)
    );
    Ok(())
}

/// The first address `host:port` names (a name may have several; one is enough here).
fn resolve(host: &str, port: u16) -> io::Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the name has no address"))
}

/// One line from the receiver (`what` it should be), without its newline, within
/// `timeout`. `error WHY` becomes our error.
fn read_line(
    reader: &mut BufReader<TcpStream>,
    addr: SocketAddr,
    timeout: Duration,
    what: &str,
) -> Result<String, Failure> {
    let broken = |why: String| Failure::new(format!("receive {addr}: {why}"));
    let line = match read_line_by(reader, LINE_LIMIT, Instant::now() + timeout) {
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            let secs = timeout.as_secs_f64();
            return Err(broken(format!("no {what} came within {secs}s")));
        }
        read => read.at("receive", addr)?,
    };
    if line.is_empty() {
        return Err(broken("the receiver closed the connection".into()));
    }
    let text = line.strip_suffix(b"\n");
    let Some(text) = text.and_then(|l| std::str::from_utf8(l).ok()) else {
        return Err(broken(format!("not a line of text: {}", py_bytes(&line))));
    };
    // The receiver's words are printed escaped: they cannot colour our terminal, nor
    // start a line of their own.
    if let Some(why) = text.strip_prefix("error ") {
        return Err(broken(format!("the receiver says: {}", escaped(why))));
    }
    Ok(text.to_string())
}

/// The receiver's `udp ...` or `tcp ...` line.
fn read_report(
    reader: &mut BufReader<TcpStream>,
    addr: SocketAddr,
    timeout: Duration,
    tag: &str,
) -> Result<Report, Failure> {
    let line = read_line(reader, addr, timeout, &format!("`{tag}` report"))?;
    Report::from_wire(&line, tag).ok_or_else(|| {
        let line = escaped(&line);
        Failure::new(format!(
            "receive {addr}: expected a `{tag} ...` report, got \"{line}\""
        ))
    })
}
