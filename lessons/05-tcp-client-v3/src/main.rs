//! tcp-client-v3: a client with command-line options and a clear error for each stage.
//!
//! New since tcp-client-v2: options instead of questions (`--host`, `--port`, and `--file`
//! to send the lines of a file; the course's argparse, here clap); one error line for each
//! stage, as the course's four try-except blocks: resolve, connect, send, receive;
//! `--timeout` for the reply (the course's settimeout); it prints its own address once
//! connected (getsockname). No bind any more: the OS picks our port, so copies never
//! collide. Ctrl-C or end of input just closes the connection, as the course's client does.
//!
//! Run it:        cargo run -p tcp-client-v3               (or `-- --port 2345 --timeout 5`)
//! With a server: cargo run -p tcp-server-v2        (in another terminal, first)
//! You will see:  connected from 127.0.0.1:51234 to 127.0.0.1:2345 / message: hi / received: ...
//! Try:           cargo run -p tcp-client-v3 -- --host no-such-host.invalid   (the resolve error)

use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{fail, host_port, prompt, say};

const DEFAULT_IP: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 2345;

/// Talk to a TCP server: send each message, print each reply.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's name or ip address.
    #[arg(long, default_value = DEFAULT_IP)]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Send each line of FILE instead of asking for messages.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Give up when a reply takes longer than SECS seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = netkit::seconds)]
    timeout: Duration,
}

fn main() -> ExitCode {
    // The course: argparse. clap prints the usage and exits 2 on a bad option or value
    // (`--port seven`, `--port 70000`).
    let args = Args::parse();
    // Piped into `head`, and head has ended: stop as Ctrl-C does.
    netkit::when_stdout_closes(stop);

    // --file: read it before connecting, so a missing file costs no connection.
    let mut file_lines = match &args.file {
        Some(path) => match read_lines(path) {
            Ok(lines) => Some(lines.into_iter()),
            Err(e) => return fail("read", path.display(), &e),
        },
        None => None,
    };

    // Turn the name into addresses first, so "no such host" and "nobody listening" are
    // told apart. An ip address resolves to itself.
    let addrs: Vec<SocketAddr> = match (args.host.as_str(), args.port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return fail("resolve", &args.host, &e),
    };

    // socket() + connect() in one call: no bind, so the kernel picks our own port, and
    // the three-way handshake happens here. If nobody listens, this is where we hear
    // "refused". (The course's first try-except guards socket() alone; here it cannot
    // fail apart from connect.)
    let mut stream = match TcpStream::connect(&addrs[..]) {
        Ok(stream) => stream,
        Err(e) => return fail("connect", host_port(&args.host, args.port), &e),
    };
    let peer = stream.peer_addr().unwrap_or(addrs[0]);
    // getsockname(): the address the OS chose for our end of the connection.
    match stream.local_addr() {
        Ok(local) => say!("connected from {local} to {peer}"),
        Err(e) => return fail("getsockname", peer, &e),
    }

    // settimeout(): how long one recv() may wait (v2's fixed 10 s, now an option).
    if let Err(e) = stream.set_read_timeout(Some(args.timeout)) {
        return fail("settimeout", peer, &e);
    }

    // Ctrl-C: the course's client just closes the socket, with no quit(). Exiting does
    // that: every descriptor closes, and the server's recv() returns an empty result.
    let handler = ctrlc::set_handler(stop);
    if let Err(e) = handler {
        return fail("Ctrl-C handler", peer, &io::Error::other(e));
    }

    loop {
        let message = match next_message(&mut file_lines) {
            Ok(Some(message)) => message,
            Ok(None) => {
                if file_lines.is_none() {
                    say!(); // end of input (Ctrl-D): end the prompt's line
                }
                break; // and close, as Ctrl-C does
            }
            Err(e) => return fail("read", "stdin", &e),
        };
        if message.is_empty() {
            continue; // send(b"") sends nothing, and no reply would ever come
        }

        // send(): the text as UTF-8 bytes. write_all keeps writing until every byte is
        // handed to the kernel (Python's send() may send only part; sendall() wouldn't).
        if let Err(e) = stream.write_all(message.as_bytes()) {
            return fail("send", peer, &e);
        }
        say!("sent {} bytes to {peer}", message.len());

        // recv(1024): one read, at most 1024 bytes; it waits until something arrives.
        // A reply longer than that, or one that arrives in pieces, shows up in parts.
        let mut reply = [0u8; 1024];
        let read = loop {
            match stream.read(&mut reply) {
                // A signal came (Ctrl-C: its handler is ending us), or Ctrl-Z and `fg`.
                // With a read timeout set, the kernel does not restart the read: again.
                Err(e) if e.kind() == Interrupted => continue,
                read => break read,
            }
        };
        let n = match read {
            Ok(n) => n,
            // The read timeout ran out: WouldBlock on Unix, TimedOut on Windows.
            Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => {
                let waited = args.timeout.as_secs_f64();
                eprintln!("receive {peer}: no reply within {waited} s (--timeout)");
                return ExitCode::from(1);
            }
            Err(e) => return fail("receive", peer, &e),
        };
        if n == 0 {
            // An empty read: the server closed its side.
            say!("server closed the connection");
            return ExitCode::SUCCESS;
        }
        // What the server sent, its control characters escaped: it cannot forge our lines.
        say!("received: {}", netkit::escaped_bytes(&reply[..n]));
    }

    // close(): dropping the stream closes the socket; the server's recv() then returns
    // what we sent, and after that an empty result.
    drop(stream);
    ExitCode::SUCCESS
}

/// Ctrl-C, or stdout closed: end the program, which closes the connection.
fn stop() {
    say!(); // after the ^C the terminal printed
    std::process::exit(0);
}

/// The next message: the next line of --file, or else a typed one (the course's input()).
/// `None` when the file or the input ends.
fn next_message(file_lines: &mut Option<std::vec::IntoIter<String>>) -> io::Result<Option<String>> {
    match file_lines {
        Some(lines) => Ok(lines.next()),
        None => prompt("message: "),
    }
}

/// The lines of a file, without their line ends. Bytes that are not UTF-8 are replaced.
fn read_lines(path: &Path) -> io::Result<Vec<String>> {
    let bytes = std::fs::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.lines().map(String::from).collect())
}
