//! socketserver-client: the course's client for the socketserver program. It receives,
//! prints, and answers `byebye`, for `--rounds` rounds, then closes.
//!
//! New in this lesson: nothing the earlier clients did not do. (The course's client loops
//! for ever; `--rounds`, default 3, lets it end, so the server can be seen noticing.)
//!
//! Run it:        cargo run -p socketserver --bin socketserver-server      (first)
//! Then, in another terminal:
//!                cargo run -p socketserver --bin socketserver-client
//! You will see:  received: hello / sent: byebye   (three times)
//! Try:           two or three at once: the server's output interleaves them.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, host_port, say};

/// The course's socketserver client: receive, print, answer byebye.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server's host name or ip address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// How many hellos to answer before closing (the course's client never stops).
    #[arg(long, value_name = "N", default_value_t = 3)]
    rounds: u32,
    /// How long to wait for each hello, in seconds (at most a day).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = netkit::seconds)]
    timeout: Duration,
}

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // Piped into `head`, which has quit: stop as Ctrl-C would (130), without a panic.
    netkit::when_stdout_closes(|| std::process::exit(130));

    // sk.connect(('127.0.0.1', 9000))
    let addrs: Vec<SocketAddr> = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .at("resolve", &args.host)?
        .collect();
    let mut sk = TcpStream::connect(&addrs[..]).at("connect", host_port(&args.host, args.port))?;
    // connect() succeeded, so there was an address.
    let peer = sk.peer_addr().unwrap_or(addrs[0]);
    // settimeout(): a server that goes silent is given up on after --timeout, instead of
    // keeping us waiting for ever.
    sk.set_read_timeout(Some(args.timeout))
        .at("settimeout", peer)?;
    sk.set_write_timeout(Some(args.timeout))
        .at("settimeout", peer)?;

    let mut buf = [0u8; 1024];
    for _ in 0..args.rounds {
        // msg = sk.recv(1024); print(msg)
        let n = match sk.read(&mut buf) {
            Ok(0) => {
                let closed = format!("receive {peer}: the server closed the connection");
                return Err(Failure::new(closed));
            }
            Ok(n) => n,
            // The read timeout: WouldBlock on Unix, TimedOut on Windows.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let secs = args.timeout.as_secs_f64();
                let silent = format!("receive {peer}: no hello within {secs} s (--timeout)");
                return Err(Failure::new(silent));
            }
            Err(e) => return Err(e).at("receive", peer),
        };
        // The server's text, with control characters escaped.
        say!("received: {}", netkit::escaped_bytes(&buf[..n]));

        // sk.send(b'byebye')
        sk.write_all(b"byebye").at("send", peer)?;
        say!("sent: byebye");
    }

    // Close. shutdown(Write) first sends our FIN behind the last byebye, so the server's
    // next read sees the end of the stream. (It has already sent its next hello, which we
    // will not read. Closing a socket with unread data makes the kernel send a reset
    // instead of a FIN; sent after the FIN it is harmless, but without the FIN the server
    // would see "connection reset" instead of a clean end.)
    sk.shutdown(Shutdown::Write).at("shutdown", peer)?;
    drop(sk);
    Ok(())
}
