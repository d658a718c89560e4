//! udp-chat-server: the course's UDP chat server: receive a message, type a reply, send it
//! back to whoever sent the message.
//!
//! There is no connection: no listen, no accept. The socket is bound to a port so clients
//! can find it; each `recv_from` returns one datagram and the address it came from, and
//! the reply goes to that address with `send_to`. One socket talks to every client.
//!
//! Run it:        cargo run -p udp-chat --bin udp-chat-server
//! Then, in another terminal:
//!                cargo run -p udp-chat --bin udp-chat-client
//! You will see:  listening on 127.0.0.1:9000 / message from 127.0.0.1:51234: hello /
//!                reply: (type one; it goes back to 127.0.0.1:51234)
//! Try:           nc -u 127.0.0.1 9000   (type a line; the reply you type comes back to nc)

use std::net::UdpSocket;
use std::process::ExitCode;

use clap::Parser;
use netkit::{At, Failure, banner, host_port, prompt, say};
use udp_chat::Encoding;

/// The course's UDP chat server: recv_from, print, type a reply, send_to the sender.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to bind (0.0.0.0 lets other machines send to us).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to bind (0 asks the OS for a free one).
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// How text becomes bytes: utf-8, or gbk (the course's gb2312 chapter).
    #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
    encoding: Encoding,
}

/// The course's `recvfrom(1024)`: the most one datagram can give us.
const BUFFER: usize = 1024;

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let Args {
        host,
        port,
        encoding,
    } = args;

    // socket(AF_INET, SOCK_DGRAM) + bind() in one call. bind claims the port so that
    // clients know where to send. That is all the setup UDP needs: no listen(), because
    // there are no connections to wait for.
    let socket = UdpSocket::bind((host.as_str(), port)).at("bind", host_port(&host, port))?;
    // getsockname(): with --port 0 the OS chose the port, and this is how we learn it.
    let local = socket.local_addr().at("bind", host_port(&host, port))?;
    banner(local).at("print", "stdout")?;

    let mut buf = [0u8; BUFFER];
    loop {
        // recvfrom(1024): wait for ONE datagram and learn who sent it. Unlike TCP's recv,
        // a datagram is never split or merged: we get all of it, or, if it is longer than
        // the buffer, its first 1024 bytes, and the kernel throws the rest away.
        // 0 bytes is not "closed" here either: it is an empty datagram (UDP has nothing
        // to close).
        // exercise recv-from (let (n, peer): (usize, std::net::SocketAddr)): recv_from into buf
        let (n, peer) = match socket.recv_from(&mut buf).at("receive", local) {
            Ok(received) => received,
            // One bad datagram is not the end of the server: report it, keep serving. (On
            // Windows a reply we sent to a client that has gone comes back here too: an
            // ICMP "port unreachable" fails the next recv_from with "connection reset".)
            Err(failure) => {
                eprintln!("{failure}");
                continue;
            }
        };
        // exercise end
        // Control characters escaped (`\x1b`, `\n`): a sender cannot forge a line of ours.
        let text = netkit::escaped(&encoding.decode(&buf[..n]));
        say!("message from {peer}: {text}");
        if n == buf.len() {
            // std's recv_from cannot tell a datagram of exactly 1024 bytes from a longer
            // one it cut (Linux would say so in recvmsg's MSG_TRUNC flag; see the README).
            say!(
                "(that datagram filled the whole {BUFFER}-byte buffer: anything after byte {BUFFER} was cut off and is lost)"
            );
        }

        // The course: back_msg = input('回复消息: '). End of input ends the server.
        let Some(reply) = prompt("reply: ").at("read", "stdin")? else {
            return Ok(());
        };
        // sendto(reply, addr): the address recv_from gave us is the only thing that ties
        // this reply to that message. One send_to is one datagram: it goes out whole or
        // not at all. Success means the kernel sent it, not that anyone received it: UDP
        // has no acknowledgements. A failure concerns this one sender: report it, go on.
        // exercise send-back: send_to the encoded reply to peer; a failure is printed, not fatal
        if let Err(failure) = socket
            .send_to(&encoding.encode(&reply), peer)
            .at("send", peer)
        {
            eprintln!("{failure}");
        }
        // exercise end
    }
}
