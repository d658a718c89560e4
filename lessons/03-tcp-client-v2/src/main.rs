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

use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use netkit::{cause, error_line, fail, host_port, prompt, say};
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
    // The one argument: our own port. `tcp-client-v2 0` lets the OS choose one.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let local_port = match args.as_slice() {
        [] => DEFAULT_LOCAL_PORT,
        [help] if help == "--help" || help == "-h" => {
            say!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [port] => match port.trim().parse::<u16>() {
            Ok(port) => port,
            Err(_) => {
                eprintln!("local port: {port:?} is not a port number (0 to 65535)");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Piped into `head`, and head has ended: stop as Ctrl-C does.
    netkit::when_stdout_closes(stop);

    // The course: socket(AF_INET, SOCK_STREAM), then bind(("", 5566)) before connect.
    // std's TcpStream::connect does socket() and connect() in one call, with no bind in
    // between, so socket2 gives us the three steps one by one.
    let socket = match Socket::new(Domain::IPV4, Type::STREAM, None) {
        Ok(socket) => socket,
        Err(e) => return fail("socket", "AF_INET", &e),
    };
    // bind(): "" in the course is 0.0.0.0, every local address. We do NOT set
    // SO_REUSEADDR: a second copy of this client must fail here, which is the course's
    // point that clients usually should not bind. Even one copy, run again right after it
    // closed, finds the port taken for about a minute: the side that closes first keeps
    // the connection in TIME_WAIT, and it holds 5566 until then.
    let local = SocketAddr::from((Ipv4Addr::UNSPECIFIED, local_port));
    if let Err(e) = socket.bind(&local.into()) {
        if e.kind() == io::ErrorKind::AddrInUse {
            eprintln!(
                "bind {local}: {} (another client holds that port, or held it until a moment ago: pass 0 to let the OS choose)",
                cause(&e)
            );
            return ExitCode::from(1);
        }
        return fail("bind", local, &e);
    }

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
    // Our socket is IPv4 (AF_INET, as the course's), so it needs an IPv4 address.
    let Some(&server) = addrs.iter().find(|addr| addr.is_ipv4()) else {
        eprintln!("resolve {ip}: no IPv4 address");
        return ExitCode::from(1);
    };

    // connect(): the three-way handshake, from the port we bound. If nobody listens, this
    // is where we hear "refused". Then hand the socket to std as an ordinary TcpStream.
    if let Err(e) = socket.connect(&server.into()) {
        return fail("connect", host_port(&ip, port), &e);
    }
    let mut stream = TcpStream::from(socket);
    let peer = stream.peer_addr().unwrap_or(server);
    // settimeout(): a reply that takes longer than REPLY_TIMEOUT is given up on.
    if let Err(e) = stream.set_read_timeout(Some(REPLY_TIMEOUT)) {
        return fail("settimeout", peer, &e);
    }

    // The course catches KeyboardInterrupt around its loop. Here Ctrl-C runs stop() on
    // another thread while main is blocked reading stdin, so stop() gets its own handle
    // to the same socket (try_clone: a second descriptor, one connection).
    match stream.try_clone() {
        Ok(clone) => {
            let _ = FOR_STOP.set((clone, peer));
        }
        Err(e) => return fail("clone socket", peer, &e),
    }
    let handler = ctrlc::set_handler(stop);
    if let Err(e) = handler {
        return fail("Ctrl-C handler", peer, &io::Error::other(e));
    }

    loop {
        let message = match prompt("message: ") {
            Ok(Some(message)) => message,
            Ok(None) => {
                say!(); // end of input (Ctrl-D): end the prompt's line
                break; // and leave the way Ctrl-C does
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
                let waited = REPLY_TIMEOUT.as_secs();
                eprintln!("receive {peer}: no reply within {waited} s");
                return ExitCode::from(1);
            }
            Err(e) => return fail("receive", peer, &e),
        };
        if n == 0 {
            // An empty read: the server closed its side. Nobody is left to say quit() to.
            say!("server closed the connection");
            return ExitCode::SUCCESS;
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
    if let Err(e) = quit(&stream, peer) {
        return fail("send", peer, &e);
    }

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
    let code = match quit(stream, *peer) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}", error_line("send", peer, &e));
            1
        }
    };
    std::process::exit(code);
}

/// The course's quit path, for Ctrl-C and for end of input: tell the server we are
/// leaving with `quit()`. (`&TcpStream` reads and writes too, so main and the Ctrl-C
/// handler can both call this with their own handle.)
fn quit(mut stream: &TcpStream, peer: SocketAddr) -> io::Result<()> {
    stream.write_all(b"quit()")?;
    say!("sent quit() to {peer}");
    // shutdown(Write) sends our FIN: "nothing more from me". The server still answers
    // quit() like any message; if we closed before that answer arrived, our kernel would
    // refuse it with a reset, and the server would see an error instead of a goodbye. So
    // wait, a second at most, for its answer (thrown away) and its close.
    stream.shutdown(Shutdown::Write)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut answer = [0u8; 1024];
    while let Ok(1..) = stream.read(&mut answer) {}
    Ok(())
}
