//! tcp-server-v2: the course's updated TCP server: serve clients one after another, each
//! for as many messages as it sends, until Ctrl-C.
//!
//! New since tcp-server-v1: the accept loop (after one client leaves, wait for the next),
//! the inner receive loop that ends when `read` returns 0 (the client closed its side),
//! an error on one connection is reported and the server goes on, and Ctrl-C stops it.
//!
//! Run it:        cargo run -p tcp-server-v2
//! Then, in another terminal:
//!                cargo run -p tcp-client-v3 -- --port 2345
//! You will see:  client 127.0.0.1:51234 connected / received: hi / client ... disconnected
//! Try:           nc 127.0.0.1 2345   (type lines; each gets the ok reply. Start a second nc
//!                at the same time: it connects, but waits until the first one quits)

use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, banner, host_port, say};

/// The course's updated TCP server: clients one after another, until Ctrl-C.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (0.0.0.0 lets other machines connect).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 asks the OS for a free one).
    #[arg(long, default_value_t = 2345)]
    port: u16,
    /// Give up on a client that sends nothing for SECS seconds, and serve the next one.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = netkit::seconds)]
    idle_timeout: Duration,
}

/// The reply to every message ("ok, received successfully", as the course's reply says).
const REPLY: &[u8] = b"----------ok, received----------";

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

    // Ctrl-C, the course's KeyboardInterrupt. The handler runs on a thread of its own
    // (the ctrlc crate starts it), because main is blocked inside accept() or read() and
    // cannot notice anything. It says so and exits; the exit closes every socket the
    // process holds, the listening socket included, so nothing more is accepted.
    ctrlc::set_handler(|| {
        say!("stopping");
        std::process::exit(0);
    })
    .map_err(|e| Failure::new(format!("Ctrl-C handler: {e}")))?;

    // One client at a time. While we talk to one, the kernel still completes the
    // handshake of the next: its connect() succeeds and it waits in the backlog until we
    // come back to accept().
    loop {
        say!("waiting for a client...");

        // accept() blocks until a client has connected, then returns a NEW socket that
        // talks to that one client, and the client's address. The listening socket stays.
        // exercise accept-loop: accept the next client, serve it; print a failure and go on
        let (client, peer) = match listener.accept().at("accept", local) {
            Ok(accepted) => accepted,
            Err(failure) => {
                eprintln!("{failure}");
                continue;
            }
        };
        say!("client {peer} connected");
        // An error with one client (it reset the connection, say) is that client's
        // problem: report it and go back to accept() for the next one.
        if let Err(failure) = serve(client, peer, args.idle_timeout) {
            eprintln!("{failure}");
        }
        // exercise end
    }
}

/// Talk to one client until it closes: read, print, reply.
fn serve(mut client: TcpStream, peer: SocketAddr, idle: Duration) -> Result<(), Failure> {
    // settimeout(): while we wait for this client, the next ones wait in the backlog. One
    // that goes quiet (or stops reading our replies) is dropped after `idle`.
    client.set_read_timeout(Some(idle)).at("settimeout", peer)?;
    client
        .set_write_timeout(Some(idle))
        .at("settimeout", peer)?;

    // recv(1024): each read takes at most 1024 bytes. It returns as soon as some bytes are
    // there, so one read is not one message: two quick messages may come as one read,
    // a long one as several. TCP carries a stream of bytes (lesson 09 shows it).
    let mut buf = [0u8; 1024];
    loop {
        // exercise read-until-0 (let n: usize): read into buf (again on Interrupted); 0 ends the loop
        let n = match client.read(&mut buf) {
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
            read => read.at("receive", peer)?,
        };
        // 0 bytes means end of stream: the client closed its side. (The course: an empty
        // recv() result ends the inner loop.)
        if n == 0 {
            say!("client {peer} disconnected");
            break;
        }
        // exercise end
        // The course decodes UTF-8; bytes that are not valid UTF-8 are shown as U+FFFD, and
        // control characters escaped (`\x1b`, `\n`): a client cannot forge a line of ours.
        say!("received: {}", netkit::escaped_bytes(&buf[..n]));

        // send(): write_all keeps writing until the kernel has taken every byte.
        client.write_all(REPLY).at("send", peer)?;
    }

    // close() the client's socket; the caller goes back to accept().
    drop(client);
    Ok(())
}
