//! udp-chat-client: the course's UDP chat client: type a message, send it to the server,
//! wait for the reply and print it with the address it came from.
//!
//! No connect, no handshake: each `send_to` names the server's address, and `recv_from`
//! says who answered. UDP never tells you whether anyone is listening, so the client
//! waits for a reply only so long: 300 s by default (a person types it); `--timeout 2`
//! gives up after 2 seconds. `--connect` connects the socket first, so that an "ICMP port
//! unreachable" from a closed port reaches us as `connection refused` (see the README).
//!
//! Run it:        cargo run -p udp-chat --bin udp-chat-client
//! With a server: cargo run -p udp-chat --bin udp-chat-server     (in another terminal, first)
//! You will see:  message: hello / reply from 127.0.0.1:9000: hi / message: ...
//! Try:           no server, with --timeout 2:  no reply from 127.0.0.1:9000 within 2 s
//!                no server, with --connect:    receive 127.0.0.1:9000: connection refused

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, prompt, say};
use udp_chat::Encoding;

/// The course's UDP chat client: send_to the server, recv_from its reply.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// How text becomes bytes: utf-8, or gbk (the course's gb2312 chapter).
    #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
    encoding: Encoding,
    /// Give up when no reply came within SECS seconds. (A person types the reply: the
    /// default is generous.)
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = netkit::seconds)]
    timeout: Duration,
    /// connect() the UDP socket to the server, so that "port unreachable" is reported.
    #[arg(long)]
    connect: bool,
}

/// The course's `recvfrom(1024)`: the most one datagram can give us.
const BUFFER: usize = 1024;

fn main() -> ExitCode {
    // Piped into `head`, and head has ended: stop as Ctrl-C would (128 + SIGINT).
    netkit::when_stdout_closes(|| std::process::exit(130));
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let Args {
        host,
        port,
        encoding,
        timeout,
        connect,
    } = args;

    // Turn the name into an address once: every send_to names it again.
    let server = (host.as_str(), port)
        .to_socket_addrs()
        .at("resolve", &host)?
        .next()
        .ok_or_else(|| Failure::new(format!("resolve {host}: no address found")))?;

    // socket(AF_INET, SOCK_DGRAM). Python's first sendto() on a fresh socket quietly binds
    // it to 0.0.0.0 and a port the OS picks; std makes us say so. Port 0 = any free port:
    // the server learns it from its recv_from and replies there.
    let any = match server {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let socket = UdpSocket::bind(any).at("bind", any)?;

    // settimeout(): from now on recv_from gives up after this long. Without it, a client
    // whose server is gone (or whose datagram was lost) waits for ever: nothing in UDP
    // will ever tell it.
    socket
        .set_read_timeout(Some(timeout))
        .at("set timeout", any)?;

    // connect() on a UDP socket sends nothing over the network: it records the peer in
    // the kernel. After it, the kernel delivers to us only datagrams from that address,
    // and, the point of the flag, an ICMP "port unreachable" that comes back for one of
    // our datagrams is reported on this socket: the next recv (or send) fails with
    // ECONNREFUSED. An unconnected socket can send to anyone, so the kernel does not pin
    // such an error on it (see the README).
    if connect {
        socket.connect(server).at("connect", server)?;
    }

    let mut buf = [0u8; BUFFER];
    loop {
        // The course: msg = input('请输入消息,回车发送: '). End of input ends the client.
        let Some(message) = prompt("message: ").at("read", "stdin")? else {
            return Ok(());
        };

        // sendto(msg, ip_port): one call, one datagram, addressed each time. Success only
        // means the kernel sent it: nobody has to be listening. (A connected socket uses
        // send(): it already knows where to.)
        // exercise send-to: send_to the encoded message to server (send() when --connect)
        let bytes = encoding.encode(&message);
        if connect {
            socket.send(&bytes).at("send", server)?;
        } else {
            socket.send_to(&bytes, server).at("send", server)?;
        }
        // exercise end

        // recvfrom(1024): wait for one datagram. It comes with the address it was sent
        // from: UDP lets anyone send to our port, so that address is how we know who
        // answered.
        let (n, from) = receive(&socket, &mut buf, server, timeout)?;
        // Control characters escaped (`\x1b`, `\n`): a sender cannot forge a line of ours.
        let text = netkit::escaped(&encoding.decode(&buf[..n]));
        say!("reply from {from}: {text}");
        if n == buf.len() {
            // std's recv_from cannot tell a datagram of exactly 1024 bytes from a longer
            // one it cut (Linux would say so in recvmsg's MSG_TRUNC flag; see the README).
            say!(
                "(that datagram filled the whole {BUFFER}-byte buffer: anything after byte {BUFFER} was cut off and is lost)"
            );
        }
    }
}

/// recv_from, for at most `timeout`: the reply and who sent it.
fn receive(
    socket: &UdpSocket,
    buf: &mut [u8],
    server: SocketAddr,
    timeout: Duration,
) -> Result<(usize, SocketAddr), Failure> {
    let connected = socket.peer_addr().is_ok();
    loop {
        match socket.recv_from(buf) {
            // Ctrl-Z and `fg`: with a read timeout set, the kernel does not restart
            // recv_from by itself. Wait again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The read timeout ran out: WouldBlock on Unix, TimedOut on Windows.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let secs = timeout.as_secs_f64();
                return Err(Failure::new(format!(
                    "no reply from {server} within {secs} s"
                )));
            }
            // Windows only: without --connect too, an ICMP "port unreachable" for our
            // datagram (nobody at the server's port) fails recv_from with "connection
            // reset" (WSAECONNRESET). Linux tells only a connected socket, as "connection
            // refused", which ends us below. Unconnected: say so and wait on, as Linux
            // does, until the timeout.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !connected => {
                eprintln!(
                    "receive {server}: connection reset: our datagram met a closed port; still waiting"
                );
                continue;
            }
            received => return received.at("receive", server),
        }
    }
}
