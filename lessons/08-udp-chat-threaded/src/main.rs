//! udp-chat-threaded: the course's two-thread UDP chat: one socket, one thread sending what
//! you type to the peer, one thread printing whatever arrives.
//!
//! New since udp-chat: nobody waits for anybody. In udp-chat each side alternates (send,
//! then block in recv_from until the reply), so a second message cannot arrive before you
//! answer. Here a receiving thread sits in `recv_from` while the sending thread sits in
//! the keyboard read, both on the SAME socket: a UDP socket may be read by one thread and
//! written by another at the same time. Both sides are the same program: each binds its
//! own port (`--bind`) and sends to the other's (`--peer`).
//!
//! Run it:        cargo run -p udp-chat-threaded -- --bind 127.0.0.1:8888 --peer 127.0.0.1:8080
//! Then, in another terminal:
//!                cargo run -p udp-chat-threaded -- --bind 127.0.0.1:8080 --peer 127.0.0.1:8888
//! You will see:  listening on 127.0.0.1:8888; type a line in one terminal and the other
//!                prints `>> 127.0.0.1:8888: hello`, whenever it arrives
//! Try:           nc -u -p 8080 127.0.0.1 8888   (as the peer: lines go both ways)
//!                --encoding gbk, to talk to the course's gb2312 program

use std::borrow::Cow;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::thread;

use clap::{Parser, ValueEnum};
use netkit::{At, Failure, banner, cause, error_line, read_line, say};

/// The course's two-thread UDP chat: one socket, a sending and a receiving thread.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Our own address: the port the peer sends to (port 0 asks the OS for a free one).
    #[arg(long, default_value = "127.0.0.1:8888")]
    bind: String,
    /// The peer's address: where each line you type is sent.
    #[arg(long, default_value = "127.0.0.1:8080")]
    peer: String,
    /// How text becomes bytes: utf-8, or gbk (the course's chat uses gb2312).
    #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
    encoding: Encoding,
}

/// The course's `recvfrom(1024)`: the most one datagram can give us.
const BUFFER: usize = 1024;

fn main() -> ExitCode {
    // Piped into `head`, and head has ended: what arrives can no longer be shown, so stop
    // as Ctrl-C would (128 + SIGINT).
    netkit::when_stdout_closes(|| std::process::exit(130));
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let Args {
        bind,
        peer,
        encoding,
    } = args;

    // The course asks for the peer's ip and port with input(); here they are options.
    // Resolve once: every send_to names this address again.
    let peer = peer
        .to_socket_addrs()
        .at("resolve", &peer)?
        .next()
        .ok_or_else(|| Failure::new(format!("resolve {peer}: no address found")))?;

    // socket(AF_INET, SOCK_DGRAM) + bind(("", 8888)): our own port, so the peer has
    // somewhere to send to. Both sides of this chat bind; neither is "the server".
    let socket = UdpSocket::bind(bind.as_str()).map_err(|e| bind_failed(&bind, &e))?;
    // getsockname(): with port 0 the OS chose the port, and this is how we learn it.
    let local = socket.local_addr().at("bind", &bind)?;
    banner(local).at("print", "stdout")?;

    // A second handle to the SAME socket (dup() of its file descriptor): one for each
    // thread. Closing one handle does not close the socket; the kernel closes it when the
    // last handle goes. (An Arc<UdpSocket> would do as well: send_to and recv_from take
    // &self, because the kernel, not Rust, keeps the socket's state.)
    // exercise threads (let sender: thread::JoinHandle<Result<(), Failure>>): try_clone, spawn both
    let receiving = socket.try_clone().at("clone socket", local)?;

    // The course: tr = Thread(target=recvData); ts = Thread(target=sendData); start both.
    // (thread::Builder, not thread::spawn: starting a thread can fail, when the machine
    // is out of memory or threads, and that is an error line, not a panic.)
    thread::Builder::new()
        .spawn(move || receive_forever(&receiving, local, encoding))
        .at("start thread", local)?;
    let sender = thread::Builder::new()
        .spawn(move || send_lines(&socket, peer, encoding))
        .at("start thread", local)?;
    // exercise end

    // The course joins both threads. We join only the sender: the receiver never ends on
    // its own (recv_from waits for ever), so at end of input we return from main, which
    // ends the process, the receiving thread and the socket with it.
    sender.join().expect("send_lines has nothing that panics")
}

/// The line for a failed bind. A port in use says what to do, in this program's terms
/// (`--bind`, not `--port`).
fn bind_failed(bind: &str, e: &io::Error) -> Failure {
    if e.kind() == io::ErrorKind::AddrInUse {
        let cause = cause(e);
        let hint = "another program is using that port: stop it, or pass --bind 127.0.0.1:0";
        return Failure::new(format!("bind {bind}: {cause} ({hint})"));
    }
    Failure::new(error_line("bind", bind, e))
}

/// The course's recvData(): print each datagram as `>> ADDR: text`, for ever.
fn receive_forever(socket: &UdpSocket, local: SocketAddr, encoding: Encoding) {
    let mut buf = [0u8; BUFFER];
    loop {
        // recv_from blocks this thread only; the sending thread goes on reading the
        // keyboard meanwhile. Each call returns one whole datagram (or, if it was longer
        // than 1024 bytes, its first 1024: the rest is lost) and who sent it: anyone may
        // send to our port, not only --peer.
        // exercise recv-from (let (n, from): (usize, SocketAddr)): recv_from into buf
        let (n, from) = match socket.recv_from(&mut buf).at("receive", local) {
            Ok(received) => received,
            // One failed receive is no reason to stop listening: report it and go on. (On
            // Windows a datagram we sent to a port where nobody listens comes back here:
            // an ICMP "port unreachable" fails the next recv_from with "connection reset".)
            Err(failure) => {
                eprintln!("{failure}");
                continue;
            }
        };
        // exercise end
        // Control characters escaped (`\x1b`, `\n`): anyone can send to our port, and
        // nobody may forge a line of our output.
        let text = netkit::escaped(&encoding.decode(&buf[..n]));
        say!(">> {from}: {text}");
        if n == buf.len() {
            say!(
                "(that datagram filled the whole {BUFFER}-byte buffer: anything after byte {BUFFER} was cut off and is lost)"
            );
        }
    }
}

/// The course's sendData(): each line typed becomes one datagram to the peer. Returns at
/// end of input; `Err` only if stdin itself fails.
fn send_lines(socket: &UdpSocket, peer: SocketAddr, encoding: Encoding) -> Result<(), Failure> {
    let mut stdin = io::stdin().lock();
    // No `<<` prompt as the course's input("<<") has: the receiving thread prints at any
    // moment, so a prompt would end up in the middle of its lines.
    while let Some(line) = read_line(&mut stdin).at("read", "stdin")? {
        // sendto(data, (destIp, destPort)): nobody has to be listening, so success only
        // means the datagram left. A failure is reported and we go on with the next line.
        if let Err(failure) = socket
            .send_to(&encoding.encode(&line), peer)
            .at("send", peer)
        {
            eprintln!("{failure}");
        }
    }
    Ok(())
}

/// How text becomes bytes on the wire: `--encoding utf-8` (the default) or `gbk`.
///
/// A socket carries bytes, never text: both sides must pick the same encoding. The
/// course's chat uses gb2312 (to talk to a Windows tool); GBK is its superset, so every
/// gb2312 message is valid GBK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Encoding {
    /// UTF-8: 3 bytes for each Chinese character.
    #[value(name = "utf-8")]
    Utf8,
    /// GBK (the course writes gb2312, its subset): 2 bytes for each Chinese character.
    #[value(name = "gbk", alias = "gb2312")]
    Gbk,
}

impl Encoding {
    /// The bytes to send for `text`. What GBK cannot encode (an emoji) goes as `&#128512;`.
    fn encode(self, text: &str) -> Cow<'_, [u8]> {
        match self {
            Encoding::Utf8 => Cow::Borrowed(text.as_bytes()),
            Encoding::Gbk => encoding_rs::GBK.encode(text).0,
        }
    }

    /// The text in `bytes`; invalid bytes become U+FFFD (�), never a crash.
    fn decode(self, bytes: &[u8]) -> Cow<'_, str> {
        match self {
            Encoding::Utf8 => String::from_utf8_lossy(bytes),
            Encoding::Gbk => encoding_rs::GBK.decode_without_bom_handling(bytes).0,
        }
    }
}
