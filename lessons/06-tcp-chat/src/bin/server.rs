//! tcp-chat-server: the course's turn-taking chat, server side. The server speaks first.
//!
//! New in this lesson: a conversation instead of one reply. The server types a line and
//! sends it, waits for the client's line and prints it, types again, and so on. A message
//! of exactly `q` from either side ends the chat, and the server goes back to `accept` for
//! the next client. And SO_REUSEADDR, which lets a restarted server bind its port at once.
//!
//! Run it:        cargo run -p tcp-chat --bin tcp-chat-server
//! Then, in another terminal:
//!                cargo run -p tcp-chat --bin tcp-chat-client
//! You will see:  client 127.0.0.1:51234 connected / server> hello / client: hi / server> q
//! Try:           nc 127.0.0.1 9000   (as the client; your lines arrive with their newline,
//!                so `q` + Enter is not `q`: type q, then Ctrl-D instead of Enter)

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, banner, host_port, prompt, say};

/// The course's TCP chat, server side: the server speaks first, `q` ends the chat.
#[derive(Parser)]
struct Args {
    /// Address to listen on (0.0.0.0 lets other machines connect).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 lets the OS choose a free one).
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// Give up on a client whose answer takes longer than SECS seconds, and take the next
    /// one. (A person types that answer: the default is generous.)
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = netkit::seconds)]
    idle_timeout: Duration,
}

/// What the server does after a chat.
enum Next {
    /// The chat is over (someone sent `q`, or the client went away): accept the next client.
    Accept,
    /// Our stdin ended, or failed: stop the server, with this result.
    Stop(Result<(), Failure>),
}

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // socket() + setsockopt(SO_REUSEADDR) + bind() + listen(128), all in one call.
    //
    // SO_REUSEADDR: the course sets it before bind. The side that closes a connection
    // first keeps it in TIME_WAIT for a minute, and a chat server usually is that side
    // (it sent `q` and closed, or you stopped it with Ctrl-C mid-chat). Without the
    // option the kernel refuses to bind the port again meanwhile, and a restarted Python
    // server dies with `OSError: [Errno 98] Address already in use`. Rust's std already
    // sets SO_REUSEADDR on every TcpListener on Unix, so there is no line to write here.
    // (It does not let two servers listen on one port at once: that is still "address
    // already in use".)
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .at("bind", host_port(&args.host, args.port))?;
    let local = listener.local_addr().at("getsockname", &args.host)?;
    banner(local).at("print", "stdout")?;

    // One client at a time, like the course's `while True: conn, addr = sk.accept()`.
    // A second client that connects meanwhile waits in the listen backlog.
    loop {
        let (conn, addr) = match listener.accept().at("accept", local) {
            Ok(accepted) => accepted,
            Err(failure) => {
                eprintln!("{failure}");
                continue;
            }
        };
        say!("client {addr} connected");
        // chat() owns the connection: when it returns, `conn` is dropped, which closes
        // the socket (the course's conn.close()). The listening socket stays open.
        match chat(conn, addr, args.idle_timeout) {
            Ok(Next::Accept) => {}
            Ok(Next::Stop(result)) => return result,
            // Something went wrong with this client: say so, and take the next one.
            Err(failure) => eprintln!("{failure}"),
        }
    }
}

/// Talk with one client, turn by turn, the server first.
fn chat(mut conn: TcpStream, addr: SocketAddr, idle: Duration) -> Result<Next, Failure> {
    // settimeout(): a client that never answers would keep every other client waiting in
    // the backlog. After `idle` without its message we give up on it.
    conn.set_read_timeout(Some(idle)).at("settimeout", addr)?;
    let mut buf = [0u8; 1024];
    loop {
        // Our turn. We read stdin only now, so lines typed ahead (or a whole script piped
        // in) are used one per turn, and the next client gets the lines after this chat.
        let line = match your_turn("server> ") {
            Ok(Some(line)) => line,
            // End of input (Ctrl-D, or the end of a piped script): do what typing `q`
            // does, so the client is not left waiting, then stop the server.
            Ok(None) => {
                say!();
                conn.write_all(b"q").at("send", addr)?;
                say!("end of input: sent q to {addr}, stopping");
                return Ok(Next::Stop(Ok(())));
            }
            Err(e) => return Ok(Next::Stop(Err(e).at("read", "stdin"))),
        };

        // send(): the line as UTF-8. write_all keeps going until the kernel has every byte.
        // exercise send-turn: send the line; if it is q, the chat is over: accept the next
        conn.write_all(line.as_bytes()).at("send", addr)?;
        // Whoever types `q` sends it first, so the other side learns the chat is over,
        // and then closes.
        if line == "q" {
            say!("chat with {addr} over: you sent q");
            return Ok(Next::Accept);
        }
        // exercise end

        // Their turn: recv(1024). As in the course, one read is taken to be one whole
        // message. That holds here only by luck: the turns keep each side to one small
        // message at a time, and on a quiet machine it arrives in one piece. TCP delivers
        // a stream of bytes, not messages; lesson 09 (sticky-packet) shows a read getting
        // part of a message or two at once, and lesson 10 (struct-framing) fixes it.
        // exercise recv-turn (let message: &[u8]): recv into buf; 0 bytes or q ends the chat
        let n = recv(&mut conn, &mut buf, addr, idle)?;
        // A read of 0 bytes means the client closed its side without saying `q`.
        if n == 0 {
            say!("client {addr} closed the connection without q");
            return Ok(Next::Accept);
        }
        let message = &buf[..n];
        if message == b"q" {
            say!("chat with {addr} over: client sent q");
            return Ok(Next::Accept);
        }
        // exercise end
        // Text that is not valid UTF-8 is shown with U+FFFD in place of the bad bytes, and
        // control characters escaped (`\x1b`, `\n`): the client cannot forge our lines.
        say!("client: {}", netkit::escaped_bytes(message));
    }
}

/// One read, the course's `conn.recv(1024)`; a client silent for `idle` is a failure.
fn recv(
    conn: &mut TcpStream,
    buf: &mut [u8],
    addr: SocketAddr,
    idle: Duration,
) -> Result<usize, Failure> {
    loop {
        match conn.read(buf) {
            // Ctrl-Z and `fg`: with a read timeout set, the kernel does not restart the
            // read by itself. Read again.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // The read timeout ran out: WouldBlock on Unix, TimedOut on Windows.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let secs = idle.as_secs_f64();
                return Err(Failure::new(format!(
                    "recv {addr}: no message within {secs} s (--idle-timeout), closing"
                )));
            }
            read => return read.at("recv", addr),
        }
    }
}

/// Prompt until a non-empty line is typed; `None` at end of input.
///
/// An empty line would be sent as zero bytes, and zero bytes never arrive: the other side
/// would go on waiting for our message while we wait for its reply. So we ask again.
fn your_turn(label: &str) -> io::Result<Option<String>> {
    loop {
        match prompt(label)? {
            Some(line) if line.is_empty() => continue,
            other => return Ok(other),
        }
    }
}
