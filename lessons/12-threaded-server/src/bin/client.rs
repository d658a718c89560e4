//! threaded-client: the course's client for the thread-per-connection server. It reads the
//! welcome, sends each name and prints each reply, then says `exit`.
//!
//! New in this lesson: nothing on the client side that earlier clients did not do; the
//! point is to start several at once and watch the server serve them side by side.
//!
//! Run it:        cargo run -p threaded-server --bin threaded-server      (first)
//! Then, in another terminal:
//!                cargo run -p threaded-server --bin threaded-client
//! You will see:  Welcome / Hello, Alice! / Hello, Bob! / Hello, Jack!   (a second apart)
//! Try:           three at once, and time them:
//!                for i in 1 2 3; do cargo run -q -p threaded-server --bin threaded-client & done; time wait

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clap::builder::NonEmptyStringValueParser;
use netkit::{At, Failure, host_port, say};

/// The course's client for the thread-per-connection server.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server's host name or ip address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9999)]
    port: u16,
    /// The names to send, one message each.
    #[arg(value_name = "NAME", default_values_t = ["Alice".to_string(), "Bob".to_string(), "Jack".to_string()],
          value_parser = NonEmptyStringValueParser::new())]
    names: Vec<String>,
    /// How long to wait for the welcome and for each reply, in seconds (at most a day).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// The server reads at most this much at a time (its recv(1024)).
const SERVER_READ: usize = 1024;

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // Piped into `head`, which has quit: stop as Ctrl-C would (130), without a panic.
    netkit::when_stdout_closes(|| std::process::exit(130));

    // A name longer than the server's read would reach it as two messages and get two
    // replies, and from then on every reply would belong to the wrong name. The course's
    // one-read-one-message framing can't carry it (lesson 10 fixes that); refuse it here.
    if let Some(long) = args.names.iter().find(|name| name.len() > SERVER_READ) {
        return Err(Failure::usage(format!(
            "a name of {} bytes is longer than the server reads at once ({SERVER_READ})",
            long.len()
        )));
    }

    // s.connect(('127.0.0.1', 9999))
    let addrs: Vec<SocketAddr> = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .at("resolve", &args.host)?
        .collect();
    let mut s = TcpStream::connect(&addrs[..]).at("connect", host_port(&args.host, args.port))?;
    // connect() succeeded, so there was an address.
    let peer = s.peer_addr().unwrap_or(addrs[0]);
    // settimeout(): a server that goes silent (before its welcome, or after it) is given
    // up on after --timeout, instead of keeping us waiting for ever.
    s.set_read_timeout(Some(args.timeout))
        .at("settimeout", peer)?;
    s.set_write_timeout(Some(args.timeout))
        .at("settimeout", peer)?;

    // The server speaks first: print(s.recv(1024).decode('utf-8')). Its text is shown
    // with control characters escaped: it cannot start a line of its own on our screen
    // or drive the terminal.
    let mut buf = [0u8; 1024];
    let welcome = receive(&mut s, &mut buf, peer, "welcome", args.timeout)?;
    say!("{}", netkit::escaped(&welcome));

    for name in &args.names {
        // s.send(data), then wait for this name's reply before sending the next one.
        // Waiting is what keeps one read = one message true on the server's side.
        s.write_all(name.as_bytes()).at("send", peer)?;
        let what = format!("reply to {name}");
        let reply = receive(&mut s, &mut buf, peer, &what, args.timeout)?;
        say!("{}", netkit::escaped(&reply));
    }

    // s.send(b'exit'): the server closes its socket and its thread ends.
    s.write_all(b"exit").at("send", peer)?;
    // s.close()
    drop(s);
    Ok(())
}

/// recv(1024), as text. An empty read (the server closed) is an error here: we were still
/// waiting for something (`what`, named if the timeout runs out).
fn receive(
    s: &mut TcpStream,
    buf: &mut [u8],
    peer: SocketAddr,
    what: &str,
    timeout: Duration,
) -> Result<String, Failure> {
    match s.read(buf) {
        Ok(0) => Err(Failure::new(format!(
            "receive {peer}: the server closed the connection"
        ))),
        Ok(n) => Ok(String::from_utf8_lossy(&buf[..n]).into_owned()),
        // The read timeout: WouldBlock on Unix, TimedOut on Windows.
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            let secs = timeout.as_secs_f64();
            Err(Failure::new(format!(
                "receive {peer}: no {what} within {secs} s (--timeout)"
            )))
        }
        Err(e) => Err(e).at("receive", peer),
    }
}
