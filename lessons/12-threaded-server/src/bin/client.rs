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
use netkit::{fail, host_port, say};

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
    let args = Args::parse();
    // Piped into `head`, which has quit: stop as Ctrl-C would (130), without a panic.
    netkit::when_stdout_closes(|| std::process::exit(130));

    // A name longer than the server's read would reach it as two messages and get two
    // replies, and from then on every reply would belong to the wrong name. The course's
    // one-read-one-message framing can't carry it (lesson 10 fixes that); refuse it here.
    if let Some(long) = args.names.iter().find(|name| name.len() > SERVER_READ) {
        eprintln!(
            "a name of {} bytes is longer than the server reads at once ({SERVER_READ})",
            long.len()
        );
        return ExitCode::from(2);
    }

    let addrs: Vec<SocketAddr> = match (args.host.as_str(), args.port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return fail("resolve", &args.host, &e),
    };
    let mut stream = match TcpStream::connect(&addrs[..]) {
        Ok(stream) => stream,
        Err(e) => return fail("connect", host_port(&args.host, args.port), &e),
    };
    let peer = stream.peer_addr().unwrap_or(addrs[0]);
    // settimeout(): a server that goes silent (before its welcome, or after it) is given
    // up on after --timeout, instead of keeping us waiting for ever.
    let timeouts = stream
        .set_read_timeout(Some(args.timeout))
        .and_then(|()| stream.set_write_timeout(Some(args.timeout)));
    if let Err(e) = timeouts {
        return fail("settimeout", peer, &e);
    }
    let waited = format!("within {} s (--timeout)", args.timeout.as_secs_f64());

    // The server speaks first: print(s.recv(1024).decode('utf-8')).
    let mut buf = [0u8; 1024];
    let welcome = match receive(&mut stream, &mut buf, peer, "welcome", &waited) {
        Ok(welcome) => welcome,
        Err(code) => return code,
    };
    // A server with all its --max-clients busy says so instead, and closes.
    if welcome.trim_end() == "server busy" {
        eprintln!("welcome {peer}: server busy (it has as many clients as it takes; try later)");
        return ExitCode::from(1);
    }
    // The server's text, with control characters escaped: it cannot start a line of its
    // own on our screen or drive the terminal.
    say!("{}", netkit::escaped(&welcome));

    for name in &args.names {
        // send(), then wait for this name's reply before sending the next one. Waiting is
        // what keeps one read = one message true on the server's side.
        if let Err(e) = stream.write_all(name.as_bytes()) {
            return fail("send", peer, &e);
        }
        match receive(
            &mut stream,
            &mut buf,
            peer,
            &format!("reply to {name}"),
            &waited,
        ) {
            Ok(reply) => say!("{}", netkit::escaped(&reply)),
            Err(code) => return code,
        }
    }

    // `exit` ends the conversation; the server closes its socket and its thread ends.
    if let Err(e) = stream.write_all(b"exit") {
        return fail("send", peer, &e);
    }
    // close()
    drop(stream);
    ExitCode::SUCCESS
}

/// recv(1024), as text. An empty read (the server closed) is an error here: we were still
/// waiting for something (`what`, named if the timeout runs out). `Err` is the exit code,
/// after the error line is printed.
fn receive(
    stream: &mut TcpStream,
    buf: &mut [u8],
    peer: SocketAddr,
    what: &str,
    waited: &str,
) -> Result<String, ExitCode> {
    match stream.read(buf) {
        Ok(0) => {
            eprintln!("receive {peer}: the server closed the connection");
            Err(ExitCode::from(1))
        }
        Ok(n) => Ok(String::from_utf8_lossy(&buf[..n]).into_owned()),
        // The read timeout: WouldBlock on Unix, TimedOut on Windows.
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            eprintln!("receive {peer}: no {what} {waited}");
            Err(ExitCode::from(1))
        }
        Err(e) => Err(fail("receive", peer, &e)),
    }
}
