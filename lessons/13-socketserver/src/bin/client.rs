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
use netkit::{fail, host_port, say};

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
    let args = Args::parse();
    // Piped into `head`, which has quit: stop as Ctrl-C would (130), without a panic.
    netkit::when_stdout_closes(|| std::process::exit(130));

    let addrs: Vec<SocketAddr> = match (args.host.as_str(), args.port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return fail("resolve", &args.host, &e),
    };
    let mut stream = match TcpStream::connect(&addrs[..]) {
        Ok(stream) => stream,
        Err(e) => return fail("connect", host_port(&args.host, args.port), &e),
    };
    let peer = stream.peer_addr().unwrap_or(addrs[0]);
    // settimeout(): a server that goes silent is given up on after --timeout, instead of
    // keeping us waiting for ever.
    let timeouts = stream
        .set_read_timeout(Some(args.timeout))
        .and_then(|()| stream.set_write_timeout(Some(args.timeout)));
    if let Err(e) = timeouts {
        return fail("settimeout", peer, &e);
    }

    let mut buf = [0u8; 1024];
    for _ in 0..args.rounds {
        // msg = sk.recv(1024); print(msg)
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            // The read timeout: WouldBlock on Unix, TimedOut on Windows.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let secs = args.timeout.as_secs_f64();
                eprintln!("receive {peer}: no hello within {secs} s (--timeout)");
                return ExitCode::from(1);
            }
            Err(e) => return fail("receive", peer, &e),
        };
        if n == 0 {
            eprintln!("receive {peer}: the server closed the connection");
            return ExitCode::from(1);
        }
        // The server's text, with control characters escaped.
        say!("received: {}", netkit::escaped_bytes(&buf[..n]));

        // sk.send(b'byebye')
        if let Err(e) = stream.write_all(b"byebye") {
            return fail("send", peer, &e);
        }
        say!("sent: byebye");
    }

    // Close. shutdown(Write) first sends our FIN behind the last byebye, so the server's
    // next read sees the end of the stream. (It has already sent its next hello, which we
    // will not read. Closing a socket with unread data makes the kernel send a reset
    // instead of a FIN; sent after the FIN it is harmless, but without the FIN the server
    // would see "connection reset" instead of a clean end.)
    if let Err(e) = stream.shutdown(Shutdown::Write) {
        return fail("shutdown", peer, &e);
    }
    drop(stream);
    ExitCode::SUCCESS
}
