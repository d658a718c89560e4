//! sticky-packet-client: wait until the server's two writes are both here, then read 2
//! bytes and then up to 1024. The course's 黏包现象 client.
//!
//! The server wrote `hello,` and then `world`: two messages. This client reads `he`, then
//! `llo,world`: TCP delivered the bytes, in order, and nothing else. Where one write ended
//! is not part of the stream, so the reads cut it wherever their sizes say.
//!
//! The course's client sleeps (`time.sleep(0.1)`) so that both writes have arrived before it
//! reads. A sleep is a guess; this client looks instead: `peek` shows what is waiting in
//! the receive buffer without taking it, and we go on once all 11 bytes are there.
//!
//! Run it:        cargo run -p sticky-packet --bin sticky-packet-client
//! With a server: cargo run -p sticky-packet --bin sticky-packet-server   (in another terminal, first)
//! You will see:  2 b'he' / b'llo,world'
//! Try:           printf 'hello,world' | nc -N -l 127.0.0.1 9090   (as the server: one write, same output)
//! And:           cargo lesson run sticky-packet --wire --split 1   (adds --no-wait: other pieces)

use std::io::Read;
use std::net::TcpStream;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use netkit::{fail, py_bytes};

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
    /// How long to wait for the server's 11 bytes, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Read at once, without waiting for all 11 bytes: the reads then return whatever
    /// has arrived, as they would for a client without the course's sleep.
    #[arg(long)]
    no_wait: bool,
}

/// `hello,` + `world`: what the server writes, and what we wait for before reading.
const EXPECTED: usize = 11;

fn main() -> ExitCode {
    let Args {
        host,
        port,
        timeout,
        no_wait,
    } = Args::parse();

    // socket() + connect(): see lesson 01.
    let mut stream = match TcpStream::connect((host.as_str(), port)) {
        Ok(stream) => stream,
        Err(e) => return fail("connect", format_args!("{host}:{port}"), &e),
    };
    let peer = match stream.peer_addr() {
        Ok(peer) => peer,
        Err(e) => return fail("connect", format_args!("{host}:{port}"), &e),
    };

    // The course's time.sleep(0.1), done properly: wait until both writes are here.
    let timeout = Duration::from_secs(timeout);
    let waited = if no_wait {
        // No waiting: only the read timeout, so a silent server can't hang us.
        stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| netkit::cause(&e))
    } else {
        wait_for_bytes(&stream, EXPECTED, timeout)
    };
    if let Err(line) = waited {
        eprintln!("receive {peer}: {line}");
        return ExitCode::from(1);
    }

    // recv(2): one read of at most 2 bytes. 11 bytes are waiting; we get the first 2.
    let mut first = [0u8; 2];
    let n = match stream.read(&mut first) {
        Ok(n) => n,
        Err(e) => return fail("receive", peer, &e),
    };
    // The course prints len(data) and data: 2 b'he'
    println!("{} {}", n, py_bytes(&first[..n]));

    // recv(1024): one read of at most 1024 bytes. It takes everything that is left, the
    // rest of `hello,` and all of `world` alike: the reader cannot tell them apart.
    let mut rest = [0u8; 1024];
    let n = match stream.read(&mut rest) {
        Ok(n) => n,
        Err(e) => return fail("receive", peer, &e),
    };
    println!("{}", py_bytes(&rest[..n]));

    // close(): dropping the stream closes the socket.
    drop(stream);
    ExitCode::SUCCESS
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
    let deadline = Instant::now() + timeout;
    let mut look = vec![0u8; want];
    loop {
        // peek = recv(..., MSG_PEEK): copy what is in the receive buffer into `look`,
        // and leave it there for the reads that follow.
        let n = match stream.peek(&mut look) {
            Ok(n) => n,
            Err(e) if is_timeout(&e) => {
                return Err(format!("nothing arrived within {} s", timeout.as_secs()));
            }
            Err(e) => return Err(netkit::cause(&e)),
        };
        if n == want {
            return Ok(());
        }
        // peek returns 0 only when the buffer is empty and the server has closed.
        if n == 0 {
            return Err(format!("the server closed after 0 of {want} bytes"));
        }
        // Some bytes, not all. (peek cannot tell "the rest is on its way" from "the server
        // closed after these": both look the same until the deadline.)
        if Instant::now() >= deadline {
            return Err(format!(
                "only {n} of {want} bytes arrived within {} s: {}",
                timeout.as_secs(),
                py_bytes(&look[..n])
            ));
        }
        // peek can wait for "something", not for "more than I already have", so look
        // again in a moment. The condition above, not this pause, decides when we go on.
        thread::sleep(Duration::from_millis(1));
    }
}

/// A read timeout shows up as WouldBlock on Unix and TimedOut on Windows.
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
