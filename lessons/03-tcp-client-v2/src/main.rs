//! tcp-client-v2: a client that binds its own port, then talks in a loop until Ctrl-C.
//!
//! New since tcp-client-v1: before connecting it binds its own local port (5566, as the
//! course's client; the first argument picks another, `0` lets the OS choose); then it
//! loops: message, send, receive the reply, print it. Ctrl-C or end of input sends
//! `quit()` and closes. Run two at once to see why clients usually don't bind.
//!
//! It asks the server's ip and port, as the course's `input()` calls do. An empty answer
//! takes the default shown in brackets.
//!
//! Run it:        cargo run -p tcp-client-v2             (or `-- 0` to let the OS pick the port)
//! With a server: cargo run -p tcp-server-v2        (in another terminal, first)
//! You will see:  server ip [127.0.0.1]: / server port [2345]: / message: hi / received: ...
//! Try:           the same command in a third terminal: bind 0.0.0.0:5566: address already in use

use std::io::ErrorKind::{AddrInUse, Interrupted, TimedOut, WouldBlock};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use netkit::{At, Failure, host_port, prompt, say};
use socket2::{Domain, Socket, Type};

const DEFAULT_IP: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 2345;
const DEFAULT_LOCAL_PORT: u16 = 5566;
const USAGE: &str = "usage: tcp-client-v2 [LOCAL_PORT]   (default 5566; 0 lets the OS choose. \
                     Then it asks for the server's ip and port, and for messages)";
/// How long we wait for each reply. The course's recv() waits for ever; a server that
/// never answers would then hold us for ever too. (tcp-client-v3 makes it `--timeout`.)
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Our handle to the connection for stop(), which runs on another thread (Ctrl-C) or in
/// the middle of a print (stdout closed) while main is busy: try_clone gives it a second
/// descriptor of the same connection. Empty until we are connected.
static FOR_STOP: OnceLock<(TcpStream, SocketAddr)> = OnceLock::new();
/// Set by whoever says quit() first: Ctrl-C and end of input can come within one second.
static QUITTING: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    // Piped into `head`, and head has ended: stop as Ctrl-C does.
    netkit::when_stdout_closes(stop);
    // One place prints a failed step's line on stderr and picks the exit status.
    netkit::exit(run())
}

fn run() -> Result<(), Failure> {
    // The one argument: our own port. `tcp-client-v2 0` lets the OS choose one.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let local_port = match args.as_slice() {
        [] => DEFAULT_LOCAL_PORT,
        [flag] if flag == "--help" || flag == "-h" => {
            say!("{USAGE}");
            return Ok(());
        }
        [port] => port.parse().map_err(|_| {
            Failure::usage(format!(
                "local port: {port:?} is not a port number (0 to 65535)"
            ))
        })?,
        _ => return Err(Failure::usage(USAGE)),
    };

    // The course: socket(AF_INET, SOCK_STREAM), then bind(("", 5566)) before connect.
    // std's TcpStream::connect does socket() and connect() in one call, with no bind in
    // between, so socket2 gives us the three steps one by one.
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).at("socket", "AF_INET")?;
    // bind(): "" in the course is 0.0.0.0, every local address. We do NOT set
    // SO_REUSEADDR: a second copy of this client must fail here, which is the course's
    // point that clients usually should not bind. Even one copy, run again right after it
    // closed, finds the port taken for about a minute: the side that closes first keeps
    // the connection in TIME_WAIT, and it holds 5566 until then.
    // exercise bind: bind the socket to 0.0.0.0:local_port before connect; AddrInUse: suggest 0
    let local = SocketAddr::from((Ipv4Addr::UNSPECIFIED, local_port));
    socket.bind(&local.into()).map_err(|e| match e.kind() {
        AddrInUse => Failure::new(format!(
            "bind {local}: {} (another client holds that port, or held it until a moment ago: pass 0 to let the OS choose)",
            netkit::cause(&e)
        )),
        _ => Failure::new(netkit::error_line("bind", local, &e)),
    })?;
    // exercise end

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
    // Our socket is IPv4 (AF_INET, as the course's), so it needs an IPv4 address.
    let server = addrs.into_iter().find(SocketAddr::is_ipv4);
    let server = server.ok_or_else(|| Failure::new(format!("resolve {host}: no IPv4 address")))?;

    // connect(): the three-way handshake, from the port we bound. If nobody listens, this
    // is where we hear "refused". Then hand the socket to std as an ordinary TcpStream.
    socket
        .connect(&server.into())
        .at("connect", host_port(&host, port))?;
    let mut stream = TcpStream::from(socket);
    let peer = stream.peer_addr().at("connect", host_port(&host, port))?;
    // settimeout(): a reply that takes longer than REPLY_TIMEOUT is given up on.
    stream
        .set_read_timeout(Some(REPLY_TIMEOUT))
        .at("settimeout", peer)?;

    // The course catches KeyboardInterrupt around its loop. Here Ctrl-C runs stop() on
    // another thread while main is blocked reading stdin, so stop() gets its own handle
    // to the same socket (try_clone: a second descriptor, one connection).
    let clone = stream.try_clone().at("clone socket", peer)?;
    let _ = FOR_STOP.set((clone, peer)); // set once: this is the only place
    ctrlc::set_handler(stop).map_err(|e| Failure::new(format!("Ctrl-C handler: {e}")))?;

    loop {
        let Some(message) = prompt("message: ").at("read", "stdin")? else {
            say!(); // end of input (Ctrl-D): end the prompt's line
            break; // and leave the way Ctrl-C does
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
                    let waited = REPLY_TIMEOUT.as_secs();
                    return Err(Failure::new(format!(
                        "receive {peer}: no reply within {waited} s"
                    )));
                }
                read => break read.at("receive", peer)?,
            }
        };
        if n == 0 {
            // An empty read: the server closed its side. Nobody is left to say quit() to.
            say!("server closed the connection");
            return Ok(());
        }
        // What the server sent, its control characters escaped: it cannot forge our lines.
        say!("received: {}", netkit::escaped_bytes(&reply[..n]));
    }

    if QUITTING.swap(true, Ordering::SeqCst) {
        // Ctrl-C came first: stop() is saying quit() on its thread and ends the process.
        loop {
            thread::park();
        }
    }
    quit(&stream, peer)?;

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

/// Ctrl-C, or stdout closed: say quit() as the course's `except KeyboardInterrupt` does,
/// and end the whole process (main may be blocked reading stdin). Exiting closes every
/// descriptor, main's and the clone, and with the last one the connection closes.
fn stop() {
    let Some((stream, peer)) = FOR_STOP.get() else {
        std::process::exit(130); // not connected yet: nobody to say quit() to
    };
    if QUITTING.swap(true, Ordering::SeqCst) {
        return; // quit() is already on its way; whoever sends it ends the program
    }
    say!(); // after the ^C the terminal printed
    if let Err(failure) = quit(stream, *peer) {
        eprintln!("{failure}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

/// The course's quit path, for Ctrl-C and for end of input: tell the server we are
/// leaving with `quit()`. (`&TcpStream` reads and writes too, so main and the Ctrl-C
/// handler can both call this with their own handle.)
fn quit(mut stream: &TcpStream, peer: SocketAddr) -> Result<(), Failure> {
    stream.write_all(b"quit()").at("send", peer)?;
    say!("sent quit() to {peer}");
    // shutdown(Write) sends our FIN: "nothing more from me". The server still answers
    // quit() like any message; if we closed before that answer arrived, our kernel would
    // refuse it with a reset, and the server would see an error instead of a goodbye. So
    // wait, a second at most, for its answer (thrown away) and its close.
    stream.shutdown(Shutdown::Write).at("send", peer)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .at("settimeout", peer)?;
    let mut answer = [0u8; 1024];
    while let Ok(1..) = stream.read(&mut answer) {}
    Ok(())
}
