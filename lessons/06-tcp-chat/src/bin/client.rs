//! tcp-chat-client: the course's turn-taking chat, client side. The server speaks first.
//!
//! New in this lesson: a conversation. The client waits for the server's message, prints
//! it, types an answer and sends it, then waits again. A message of exactly `q` from
//! either side ends the chat.
//!
//! Run it:        cargo run -p tcp-chat --bin tcp-chat-server      (first)
//! Then, in another terminal:
//!                cargo run -p tcp-chat --bin tcp-chat-client
//! You will see:  connected to 127.0.0.1:9000 / server: hello / client> hi / chat over: server sent q
//! Try:           nc -l 127.0.0.1 9000   (as the server; what you type arrives with its
//!                newline, so type q and then Ctrl-D instead of Enter to end the chat)

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, host_port, prompt, say};

/// The course's TCP chat, client side: wait for the server, answer, `q` ends the chat.
#[derive(Parser)]
struct Args {
    /// The server's host name or ip address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// Give up when the server's message takes longer than SECS seconds. (A person types
    /// it: the default is generous.)
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = netkit::seconds)]
    timeout: Duration,
}

fn main() -> ExitCode {
    // Piped into `head`, and head has ended: stop as Ctrl-C would (128 + SIGINT).
    netkit::when_stdout_closes(|| std::process::exit(130));
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // Turn the name into addresses first, so "no such host" and "nobody listening" are
    // told apart. An ip address resolves to itself.
    let addrs: Vec<SocketAddr> = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .at("resolve", &args.host)?
        .collect();

    // socket() + connect(): no bind, the kernel picks our own port.
    let mut stream =
        TcpStream::connect(&addrs[..]).at("connect", host_port(&args.host, args.port))?;
    let peer = stream
        .peer_addr()
        .at("connect", host_port(&args.host, args.port))?;
    say!("connected to {peer}");
    // settimeout(): a server that never takes its turn must not hold us for ever.
    stream
        .set_read_timeout(Some(args.timeout))
        .at("settimeout", peer)?;

    let mut buf = [0u8; 1024];
    loop {
        // The server's turn comes first: recv(1024). As in the course, one read is taken
        // to be one whole message; that holds only by luck (small messages, one at a
        // time). TCP is a byte stream: lesson 09 (sticky-packet) shows a read getting part
        // of a message or two at once, and lesson 10 (struct-framing) fixes it.
        // exercise server-turn (let message: &[u8]): recv the server's message; 0 bytes or q ends
        let n = recv(&mut stream, &mut buf, peer, args.timeout)?;
        // A read of 0 bytes means the server closed the connection without saying `q`.
        if n == 0 {
            say!("server closed the connection");
            return Ok(());
        }
        let message = &buf[..n];
        if message == b"q" {
            say!("chat over: server sent q");
            return Ok(());
        }
        // exercise end
        // Text that is not valid UTF-8 is shown with U+FFFD in place of the bad bytes, and
        // control characters escaped (`\x1b`, `\n`): the server cannot forge our lines.
        say!("server: {}", netkit::escaped_bytes(message));

        // Our turn.
        let Some(line) = your_turn("client> ").at("read", "stdin")? else {
            // End of input (Ctrl-D, or the end of a piped script): do what typing `q`
            // does, so the server is not left waiting for us.
            say!();
            stream.write_all(b"q").at("send", peer)?;
            say!("end of input: sent q, closing");
            return Ok(());
        };
        // send(): the line as UTF-8. write_all keeps going until the kernel has every byte.
        stream.write_all(line.as_bytes()).at("send", peer)?;
        // Whoever types `q` sends it first, then closes: returning drops `stream`, which
        // closes the socket (the course's sk.close()).
        if line == "q" {
            say!("chat over: you sent q");
            return Ok(());
        }
    }
}

/// One read, the course's `sk.recv(1024)`; a server silent for `timeout` is a failure.
fn recv(
    stream: &mut TcpStream,
    buf: &mut [u8],
    peer: SocketAddr,
    timeout: Duration,
) -> Result<usize, Failure> {
    loop {
        match stream.read(buf) {
            // Ctrl-Z and `fg`: with a read timeout set, the kernel does not restart the
            // read by itself. Read again.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // The read timeout ran out: WouldBlock on Unix, TimedOut on Windows.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let secs = timeout.as_secs_f64();
                return Err(Failure::new(format!(
                    "recv {peer}: no message within {secs} s (--timeout)"
                )));
            }
            read => return read.at("recv", peer),
        }
    }
}

/// Prompt until a non-empty line is typed; `None` at end of input.
///
/// An empty line would be sent as zero bytes, and zero bytes never arrive: the server
/// would go on waiting for our message while we wait for its reply. So we ask again.
fn your_turn(label: &str) -> io::Result<Option<String>> {
    loop {
        match prompt(label)? {
            Some(line) if line.is_empty() => continue,
            other => return Ok(other),
        }
    }
}
