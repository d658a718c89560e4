//! tcp-server-v1: the course's first TCP server: accept one client, read one message,
//! reply `----------ok----------`, close.
//!
//! The steps are the course's: socket, bind, listen(128), accept, recv(1024), send, then
//! close the client's socket and the listening socket. It serves exactly one client and
//! exits; tcp-server-v2 adds the loops.
//!
//! Run it:        cargo run -p tcp-server-v1
//! Then, in another terminal:
//!                cargo run -p tcp-client-v1     (press Enter twice, then type a message)
//! You will see:  listening on 127.0.0.1:7891 / waiting for a client... /
//!                client 127.0.0.1:51234 connected / received: hello
//! Try:           nc 127.0.0.1 7891   (type a line: the reply comes back, then the server closes)

use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, banner, host_port, say};

/// The course's first TCP server: one client, one message, one reply.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (0.0.0.0 lets other machines connect).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 asks the OS for a free one).
    #[arg(long, default_value_t = 7891)]
    port: u16,
    /// Give up on a client that sends nothing for SECS seconds.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = netkit::seconds)]
    idle_timeout: Duration,
}

/// The reply, byte for byte the course's.
const REPLY: &[u8] = b"----------ok----------";

fn main() -> ExitCode {
    // One place prints a failed step's line on stderr and picks the exit status.
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let addr = host_port(&args.host, args.port);
    // socket() + bind() + listen() in one call. bind claims the address so that clients
    // can find us; listen turns the socket into a passive one that only accepts. std
    // listens with a backlog of 128, the course's listen(128): up to that many clients
    // whose handshake the kernel has already completed can wait for accept().
    let listener = TcpListener::bind((args.host.as_str(), args.port)).at("bind", &addr)?;
    // getsockname(): with --port 0 the OS chose the port, and this is how we learn it.
    let local = listener.local_addr().at("bind", &addr)?;
    banner(local).at("print", "stdout")?;
    say!("waiting for a client...");

    // accept() blocks until a client has connected, then returns a NEW socket that talks
    // to that one client, and the client's address. The listening socket stays as it was.
    // exercise accept (let (client, peer): (TcpStream, SocketAddr)): accept one client
    let (client, peer) = listener.accept().at("accept", local)?;
    // exercise end
    say!("client {peer} connected");
    // v1 serves one client and then exits, so an error while talking to it ends the
    // program: one line on stderr, exit 1.
    serve(client, peer, args.idle_timeout)?;

    // close() the listening socket: from now on a client that connects is refused.
    // (The end of main would drop it too; the course closes it by hand.)
    drop(listener);
    Ok(())
}

/// Talk to one client: one read, print it, one reply.
fn serve(mut client: TcpStream, peer: SocketAddr, idle: Duration) -> Result<(), Failure> {
    // settimeout(): a client that connects and says nothing must not hold us for ever.
    client.set_read_timeout(Some(idle)).at("settimeout", peer)?;

    // recv(1024): ONE read of at most 1024 bytes. It returns as soon as some bytes are
    // there, so it may return fewer than the client sent: the rest may still be on its
    // way, or not fit. TCP carries a stream of bytes, not messages. Whatever this one
    // read did not take is never read.
    let mut buf = [0u8; 1024];
    // exercise recv (let n: usize): read once into buf; Interrupted reads again, a timeout fails
    let n = loop {
        match client.read(&mut buf) {
            // A signal came (Ctrl-C, or Ctrl-Z and `fg`): with a read timeout set, the
            // kernel does not restart the read by itself. Read again.
            Err(e) if e.kind() == Interrupted => continue,
            // The read timeout ran out: WouldBlock on Unix, TimedOut on Windows.
            Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => {
                let idle = idle.as_secs_f64();
                return Err(Failure::new(format!(
                    "receive {peer}: nothing within {idle} s (--idle-timeout)"
                )));
            }
            read => break read.at("receive", peer)?,
        }
    };
    // exercise end
    // 0 bytes means end of stream: the client closed its side without sending anything.
    if n == 0 {
        say!("client {peer} closed without sending anything");
        return Ok(());
    }
    // The course decodes UTF-8; bytes that are not valid UTF-8 are shown as U+FFFD, and
    // control characters escaped (`\x1b`, `\n`): a client cannot forge a line of ours.
    say!("received: {}", netkit::escaped_bytes(&buf[..n]));

    // send(): write_all keeps writing until the kernel has taken every byte.
    client.write_all(REPLY).at("send", peer)?;

    // close() the client's socket: after the reply, the client's next read returns 0.
    // (If the client sent more than we read, the kernel resets the connection instead.)
    drop(client);
    Ok(())
}
