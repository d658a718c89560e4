//! sticky-packet-client: wait until the server's two writes are both here, then read 2
//! bytes and then up to 1024. The course's 黏包现象 client.
//!
//! The server wrote `hello,` and then `world`: two messages. This client reads `he`, then
//! `llo,world`: TCP delivered the bytes, in order, and nothing else. Where one write ended
//! is not part of the stream, so the reads cut it wherever their sizes say.
//!
//! The course's client sleeps (`time.sleep(0.1)`) so that both writes have arrived before it
//! reads. A sleep is a guess; this client looks instead: `peek` shows what is waiting in
//! the receive buffer without taking it, and we go on once all 11 bytes are there (or
//! say so at once if the server closed before sending them all).
//!
//! Run it:        cargo run -p sticky-packet --bin sticky-packet-client
//! With a server: cargo run -p sticky-packet --bin sticky-packet-server   (in another terminal, first)
//! You will see:  2 b'he' / b'llo,world'
//! Try:           printf 'hello,world' | nc -N -l 127.0.0.1 9090   (as the server: one write, same output)
//! Or:            printf 'he' | nc -N -l 127.0.0.1 9090   (a server that closes early: said at once)

use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use netkit::{At, Failure, host_port, py_bytes, say};

/// Read 2 bytes, then up to 1024, from the sticky-packet server.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9090)]
    port: u16,
    /// How long to wait for the server's 11 bytes, in seconds (at most a day).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// `hello,` + `world`: what the server writes, and what we wait for before reading.
const EXPECTED: usize = 11;

fn main() -> ExitCode {
    // Piped into `head`, which has quit: stop as Ctrl-C would (130), without a panic.
    netkit::when_stdout_closes(|| std::process::exit(130));
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let Args {
        host,
        port,
        timeout,
    } = args;

    // Look the name up first, so that an unknown host is not called a failed connect.
    let addrs: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .at("resolve", &host)?
        .collect();
    // socket() + connect(): see lesson 01.
    let mut stream = TcpStream::connect(&addrs[..]).at("connect", host_port(&host, port))?;
    let peer = stream.peer_addr().at("connect", host_port(&host, port))?;

    // The course's time.sleep(0.1), done properly: wait until both writes are here.
    wait_for_bytes(&stream, EXPECTED, timeout)
        .map_err(|why| Failure::new(format!("receive {peer}: {why}")))?;

    // exercise read-2: one read into a 2-byte buffer; print how many came, and them as b'..'
    // recv(2): one read of at most 2 bytes. 11 bytes are waiting; we get the first 2.
    let mut first = [0u8; 2];
    let n = stream.read(&mut first).at("receive", peer)?;
    // The course prints len(data) and data: 2 b'he'
    say!("{} {}", n, py_bytes(&first[..n]));
    // exercise end

    // recv(1024): one read of at most 1024 bytes. It takes everything that is left, the
    // rest of `hello,` and all of `world` alike: the reader cannot tell them apart.
    // exercise read-rest: one read of at most 1024 bytes; print what came as b'..'
    let mut rest = [0u8; 1024];
    let n = stream.read(&mut rest).at("receive", peer)?;
    say!("{}", py_bytes(&rest[..n]));
    // exercise end

    // close(): dropping the stream closes the socket.
    drop(stream);
    Ok(())
}

/// Wait until `want` bytes are waiting in the receive buffer, without taking them.
/// `Err` is the reason, for the error line.
fn wait_for_bytes(stream: &TcpStream, want: usize, timeout: Duration) -> Result<(), String> {
    // peek blocks only while the receive buffer is empty: the read timeout bounds that
    // wait. Once some bytes are there, peek returns at once, so the deadline below bounds
    // the rest.
    if let Err(e) = stream.set_read_timeout(Some(timeout)) {
        return Err(netkit::cause(&e));
    }
    // We send nothing (the course's client never does): say so with shutdown(Write),
    // which sends our FIN now. Once both sides have closed, the socket is "hung up", and
    // poll below can see the server's close even while its bytes are still waiting.
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        return Err(netkit::cause(&e));
    }
    let deadline = Instant::now() + timeout; // timeout is at most a day: no overflow
    let secs = timeout.as_secs_f64();
    let mut look = vec![0u8; want];
    loop {
        // peek = recv(..., MSG_PEEK): copy what is in the receive buffer into `look`,
        // and leave it there for the reads that follow.
        let n = match stream.peek(&mut look) {
            Ok(n) => n,
            Err(e) if is_timeout(&e) => return Err(format!("nothing arrived within {secs} s")),
            Err(e) => return Err(netkit::cause(&e)),
        };
        if n == want {
            return Ok(());
        }
        // peek returns 0 only when the buffer is empty and the server has closed.
        if n == 0 {
            return Err(format!("the server closed after 0 of {want} bytes"));
        }
        // Some bytes, not all. peek cannot tell "the rest is on its way" from "the server
        // closed after these": it shows the same bytes either way.
        if Instant::now() >= deadline {
            return Err(format!(
                "only {n} of {want} bytes arrived within {secs} s: {}",
                py_bytes(&look[..n])
            ));
        }
        // peek can wait for "something", not for "more than I already have", so look
        // again in a millisecond. poll waits that millisecond, and returns early with
        // POLLHUP (always reported, never asked for) if the server closes meanwhile.
        if closed_within_a_millisecond(stream) {
            // Closed: what is in the buffer now is all there will ever be.
            match stream.peek(&mut look) {
                Ok(n) if n < want => {
                    let got = py_bytes(&look[..n]);
                    return Err(format!(
                        "the server closed after {n} of {want} bytes: {got}"
                    ));
                }
                Ok(_) => {} // the rest came with the close: the next peek sees it
                Err(e) => return Err(netkit::cause(&e)),
            }
        }
    }
}

/// A read timeout shows up as WouldBlock on Unix and TimedOut on Windows.
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Wait a millisecond; true if the server closed meanwhile. poll returns early with
/// POLLHUP (always reported, never asked for) once both sides have closed.
#[cfg(unix)]
fn closed_within_a_millisecond(stream: &TcpStream) -> bool {
    use nix::poll::{PollFd, PollFlags, poll};
    use std::os::fd::AsFd;
    let mut hung_up = [PollFd::new(stream.as_fd(), PollFlags::empty())];
    poll(&mut hung_up, 1u8).is_ok_and(|ready| ready > 0)
}

/// Elsewhere (Windows), no poll here: pause a millisecond; an early close shows at the
/// deadline, as "only N of 11 bytes".
#[cfg(not(unix))]
fn closed_within_a_millisecond(_stream: &TcpStream) -> bool {
    std::thread::sleep(Duration::from_millis(1));
    false
}
