//! tcp-client-v1: the course's first TCP client: connect, send one message, close.
//!
//! It asks three questions, as the course's `input()` calls do: the server's ip, its port
//! and the message. An empty answer takes the default shown in brackets.
//!
//! Run it:        cargo run -p tcp-client-v1
//! With a server: cargo run -p tcp-server-v1        (in another terminal, first)
//! You will see:  server ip [127.0.0.1]: / server port [7891]: / message: hi / sent 2 bytes to 127.0.0.1:7891
//! Try:           nc -l 127.0.0.1 7891               (as the server; it prints what you send)

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;

use netkit::{fail, host_port, prompt, say};

const DEFAULT_IP: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 7891;
const USAGE: &str = "usage: tcp-client-v1   (no options: it asks for the server's ip and port, \
                     then for one message to send)";

fn main() -> ExitCode {
    // No options: the questions are the interface, as the course's input() calls are. But
    // `--help` must not be mistaken for nothing: say how to use it.
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--help" | "-h") => {
            say!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(_) => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    // Piped into `head`, and head has ended: stop as Ctrl-C would (128 + SIGINT).
    netkit::when_stdout_closes(|| std::process::exit(130));

    // The course: server_ip = input(...); server_port = int(input(...))
    let ip = match ask("server ip", DEFAULT_IP) {
        Ok(Some(ip)) => ip,
        Ok(None) => return ExitCode::SUCCESS, // end of input: nothing to do
        Err(e) => return fail("read", "stdin", &e),
    };
    let port = match ask("server port", &DEFAULT_PORT.to_string()) {
        Ok(Some(port)) => port,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return fail("read", "stdin", &e),
    };
    let Ok(port) = port.trim().parse::<u16>() else {
        eprintln!("server port: {port:?} is not a port number (0 to 65535)");
        return ExitCode::from(2);
    };

    // Turn the name into addresses first, so "no such host" and "nobody listening" are
    // told apart. An ip address resolves to itself.
    let addrs: Vec<SocketAddr> = match (ip.as_str(), port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return fail("resolve", &ip, &e),
    };

    // socket() + connect() in one call: the kernel picks our own port, and the three-way
    // handshake happens here. If nobody listens, this is where we hear "refused".
    let mut stream = match TcpStream::connect(&addrs[..]) {
        Ok(stream) => stream,
        Err(e) => return fail("connect", host_port(&ip, port), &e),
    };
    let peer = stream.peer_addr().unwrap_or(addrs[0]);

    let message = match prompt("message: ") {
        Ok(Some(message)) => message,
        Ok(None) => return ExitCode::SUCCESS, // end of input: close without sending
        Err(e) => return fail("read", "stdin", &e),
    };

    // send(): the text as UTF-8 bytes. write_all keeps writing until every byte is
    // handed to the kernel (Python's send() may send only part; sendall() wouldn't).
    if let Err(e) = stream.write_all(message.as_bytes()) {
        return fail("send", peer, &e);
    }
    say!("sent {} bytes to {peer}", message.len());

    // close(): dropping the stream closes the socket; the server's recv() then returns
    // what we sent, and after that an empty result.
    drop(stream);
    ExitCode::SUCCESS
}

/// Ask a question with a default: `server ip [127.0.0.1]: `. `None` at end of input.
fn ask(question: &str, default: &str) -> std::io::Result<Option<String>> {
    let answer = prompt(&format!("{question} [{default}]: "))?;
    Ok(answer.map(|a| {
        if a.trim().is_empty() {
            default.to_string()
        } else {
            a.trim().to_string()
        }
    }))
}
