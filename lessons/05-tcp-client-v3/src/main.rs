//! tcp-client-v3: a client with command-line options and a clear error for each stage.
//!
//! New since tcp-client-v2: options instead of questions (`--host`, `--port`, and `--file`
//! to send the lines of a file; the course's argparse, here clap); `--timeout` for the
//! reply (the course's settimeout); one error line for each stage, as the course's four
//! try-except blocks: resolve, connect, send, receive. As in the course's update 2, no
//! bind any more (the OS picks our port, so copies never collide; it prints it once
//! connected) and no quit(): Ctrl-C or end of input just closes the connection.
//!
//! Run it:        cargo run -p tcp-client-v3               (or `-- --port 2345 --timeout 5`)
//! With a server: cargo run -p tcp-server-v2        (in another terminal, first)
//! You will see:  connected from 127.0.0.1:51234 to 127.0.0.1:2345 / message: hi / received: ...
//! Try:           cargo run -p tcp-client-v3 -- --host no-such-host.invalid   (the resolve error)

use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, host_port, prompt, say};

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
    // Piped into `head`, and head has ended: stop as Ctrl-C does.
    netkit::when_stdout_closes(stop);
    // One place prints a failed step's line on stderr and picks the exit status.
    netkit::exit(run())
}

fn run() -> Result<(), Failure> {
    // The course: argparse. clap prints the usage and exits 2 on a bad option or value
    // (`--port seven`, `--port 70000`, `--timeout 0`).
    let Args {
        host,
        port,
        file,
        timeout,
    } = Args::parse();
    // --file: read it before connecting, so a missing file costs no connection.
    let mut file_lines = file.as_deref().map(read_lines).transpose()?;

    // Turn the name into addresses first, so "no such host" and "nobody listening" are
    // told apart. An ip address resolves to itself.
    let addrs: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .at("resolve", &host)?
        .collect();

    // socket() + connect() in one call: no bind, so the kernel picks our own port, and
    // the three-way handshake happens here. If nobody listens, this is where we hear
    // "refused". (The course's first try-except guards socket() alone; here it cannot
    // fail apart from connect.)
    // exercise connect (let mut stream: TcpStream): connect to addrs (stage connect, at host:port)
    let mut stream = TcpStream::connect(&addrs[..]).at("connect", host_port(&host, port))?;
    // exercise end
    let peer = stream.peer_addr().at("connect", host_port(&host, port))?;
    // getsockname(): the address the OS chose for our end of the connection.
    let local = stream.local_addr().at("getsockname", peer)?;
    say!("connected from {local} to {peer}");
    // settimeout(): how long one recv() may wait (v2's fixed 10 s, now an option).
    stream
        .set_read_timeout(Some(timeout))
        .at("settimeout", peer)?;

    // Ctrl-C: the course's client just closes the socket, with no quit(). Exiting does
    // that: every descriptor closes, and the server's recv() returns an empty result.
    ctrlc::set_handler(stop).map_err(|e| Failure::new(format!("Ctrl-C handler: {e}")))?;

    loop {
        let Some(message) = next_message(&mut file_lines).at("read", "stdin")? else {
            if file_lines.is_none() {
                say!(); // end of input (Ctrl-D): end the prompt's line
            }
            break; // and close, as Ctrl-C does
        };
        if message.is_empty() {
            continue; // send(b"") sends nothing, and no reply would ever come
        }

        // send(): the text as UTF-8 bytes. write_all keeps writing until every byte is
        // handed to the kernel (Python's send() may send only part; sendall() wouldn't).
        // exercise send: write_all the message's bytes to the stream, then say how many were sent
        stream.write_all(message.as_bytes()).at("send", peer)?;
        say!("sent {} bytes to {peer}", message.len());
        // exercise end

        // recv(1024): one read, at most 1024 bytes; it waits until something arrives.
        // A reply longer than that, or one that arrives in pieces, shows up in parts.
        let mut reply = [0u8; 1024];
        let n = loop {
            match stream.read(&mut reply) {
                // A signal came (Ctrl-C: its handler is ending us), or Ctrl-Z and `fg`.
                // With a read timeout set, the kernel does not restart the read: again.
                Err(e) if e.kind() == Interrupted => continue,
                // The read timeout ran out: WouldBlock on Unix, TimedOut on Windows.
                Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => {
                    let waited = timeout.as_secs_f64();
                    return Err(Failure::new(format!(
                        "receive {peer}: no reply within {waited} s (--timeout)"
                    )));
                }
                read => break read.at("receive", peer)?,
            }
        };
        if n == 0 {
            // An empty read: the server closed its side.
            say!("server closed the connection");
            return Ok(());
        }
        // What the server sent, its control characters escaped: it cannot forge our lines.
        say!("received: {}", netkit::escaped_bytes(&reply[..n]));
    }

    // close(): dropping the stream closes the socket; the server's recv() then returns
    // what we sent, and after that an empty result.
    drop(stream);
    Ok(())
}

/// The next message: the next line of --file, or else a typed one (the course's input()).
/// `None` when the file or the input ends.
fn next_message(
    file_lines: &mut Option<std::vec::IntoIter<String>>,
) -> std::io::Result<Option<String>> {
    match file_lines {
        Some(lines) => Ok(lines.next()),
        None => prompt("message: "),
    }
}

/// Ctrl-C, or stdout closed: end the program, which closes the connection.
fn stop() {
    say!(); // after the ^C the terminal printed
    std::process::exit(0);
}

/// The lines of --file, without their line ends. Bytes that are not UTF-8 are replaced.
fn read_lines(path: &Path) -> Result<std::vec::IntoIter<String>, Failure> {
    let bytes = std::fs::read(path).at("read", path.display())?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<String> = text.lines().map(String::from).collect();
    Ok(lines.into_iter())
}
