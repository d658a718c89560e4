//! sticky-packet-server: write `hello,` and then `world` to each client, back to back, and
//! close. The course's 黏包现象 server.
//!
//! Two `send` calls with nothing between them. The client (sticky-packet-client) reads 2
//! bytes and then up to 1024, and gets `he` and `llo,world`: the boundary between the two
//! writes did not survive the trip. Clients are served one after another, until Ctrl-C, so
//! you can run the client as often as you like.
//!
//! Run it:        cargo run -p sticky-packet --bin sticky-packet-server
//! Then, in another terminal:
//!                cargo run -p sticky-packet --bin sticky-packet-client
//! You will see:  listening on 127.0.0.1:9090 / 127.0.0.1:51234: wrote b'hello,' then b'world', closed
//!                (and on the client: 2 b'he' / b'llo,world')
//! Try:           nc 127.0.0.1 9090      (prints hello,world: one piece, no boundary)

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;

use clap::Parser;
use netkit::{At, Failure, banner, host_port, py_bytes, say};

/// Write `hello,` then `world` to each client, and close.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (0.0.0.0 lets other machines connect).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 asks the OS for a free one).
    #[arg(long, default_value_t = 9090)]
    port: u16,
}

/// The course's two messages, byte for byte.
const FIRST: &[u8] = b"hello,";
const SECOND: &[u8] = b"world";

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let Args { host, port } = args;

    // socket() + bind() + listen(): see lesson 02.
    let listener = TcpListener::bind((host.as_str(), port)).at("bind", host_port(&host, port))?;
    let local = listener.local_addr().at("bind", host_port(&host, port))?;
    banner(local).at("print", "stdout")?;

    // Serve clients one after another (lesson 04's accept loop). A client that fails is
    // reported and the server goes on with the next one.
    loop {
        let served = listener
            .accept()
            .at("accept", local)
            .and_then(|(client, peer)| serve(client, peer));
        if let Err(failure) = served {
            eprintln!("{failure}");
        }
    }
}

/// The course's two sends, then close.
fn serve(mut client: TcpStream, peer: SocketAddr) -> Result<(), Failure> {
    // Two writes, nothing between them. Each write_all only copies the bytes into the
    // kernel's send buffer and returns; the kernel decides when to put them on the wire and
    // in how many segments. With Nagle's algorithm on (the default: no set_nodelay), the
    // second small write is held back while the first is unacknowledged, so both usually
    // leave together. And even if they leave as two segments, they land in the client's
    // receive buffer one after the other, with nothing to say where the first one ended.
    // exercise two-writes: write hello, and then world, in two write_all calls back to back
    client.write_all(FIRST).at("send", peer)?;
    client.write_all(SECOND).at("send", peer)?;
    // exercise end

    // close(): the client reads the bytes that are already on their way, then end of
    // stream. (The client sends nothing, so closing never throws unread bytes away.)
    drop(client);
    say!(
        "{peer}: wrote {} then {}, closed",
        py_bytes(FIRST),
        py_bytes(SECOND)
    );
    Ok(())
}
