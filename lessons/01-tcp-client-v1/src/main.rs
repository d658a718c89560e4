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

use netkit::{At, Failure, host_port, prompt, say};

const DEFAULT_IP: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 7891;
const USAGE: &str = "usage: tcp-client-v1   (no options: it asks for the server's ip and port, \
                     then for one message to send)";

fn main() -> ExitCode {
    // Piped into `head`, and head has ended: stop as Ctrl-C would (128 + SIGINT).
    netkit::when_stdout_closes(|| std::process::exit(130));
    // One place prints a failed step's line on stderr and picks the exit status.
    netkit::exit(run())
}

fn run() -> Result<(), Failure> {
    // No options: the questions are the interface, as the course's input() calls are. But
    // `--help` must not be mistaken for nothing: say how to use it.
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag] if flag == "--help" || flag == "-h" => {
            say!("{USAGE}");
            return Ok(());
        }
        _ => return Err(Failure::usage(USAGE)),
    }

    // The course: server_ip = input(...); server_port = int(input(...))
    let Some(host) = ask("server ip", DEFAULT_IP)? else {
        return Ok(()); // end of input: nothing to do
    };
    let Some(port) = ask("server port", &DEFAULT_PORT.to_string())? else {
        return Ok(());
    };
    let port: u16 = port.parse().map_err(|_| {
        Failure::usage(format!(
            "server port: {port:?} is not a port number (0 to 65535)"
        ))
    })?;

    // Turn the name into addresses first, so "no such host" and "nobody listening" are
    // told apart. An ip address resolves to itself.
    let addrs: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .at("resolve", &host)?
        .collect();

    // socket() + connect() in one call: the kernel picks our own port, and the three-way
    // handshake happens here. If nobody listens, this is where we hear "refused".
    // exercise connect (let mut stream: TcpStream): connect to addrs (stage connect, at host:port)
    let mut stream = TcpStream::connect(&addrs[..]).at("connect", host_port(&host, port))?;
    // exercise end
    let peer = stream.peer_addr().at("connect", host_port(&host, port))?;

    let Some(message) = prompt("message: ").at("read", "stdin")? else {
        return Ok(()); // end of input: close without sending
    };

    // send(): the text as UTF-8 bytes. write_all keeps writing until every byte is
    // handed to the kernel (Python's send() may send only part; sendall() wouldn't).
    // exercise send: write_all the message's bytes to the stream, then say how many were sent
    stream.write_all(message.as_bytes()).at("send", peer)?;
    say!("sent {} bytes to {peer}", message.len());
    // exercise end

    // close(): dropping the stream closes the socket; the server's recv() then returns
    // what we sent, and after that an empty result.
    drop(stream);
    Ok(())
}

/// Ask a question with a default: `server ip [127.0.0.1]: `. `None` at end of input.
fn ask(question: &str, default: &str) -> Result<Option<String>, Failure> {
    let answer = prompt(&format!("{question} [{default}]: ")).at("read", "stdin")?;
    Ok(answer.map(|a| match a.trim() {
        "" => default.to_string(),
        typed => typed.to_string(),
    }))
}
