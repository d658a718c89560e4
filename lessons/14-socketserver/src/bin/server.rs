//! socketserver-server: the course's socketserver program. A handler that says `hello` and
//! prints what comes back, served by a `ThreadingTcpServer` with a thread per connection.
//!
//! New in this lesson: the server type in `src/lib.rs`, the Rust face of Python's
//! `socketserver.ThreadingTCPServer`. This file only says what to do with one connection
//! (the handler, the course's `handle()`); the listen(5), the accept loop and the thread
//! per connection that lesson 12 wrote in its `main` are now inside the server type.
//!
//! Run it:        cargo run -p socketserver --bin socketserver-server
//! Then, in another terminal (or two at once):
//!                cargo run -p socketserver --bin socketserver-client
//! You will see:  client 127.0.0.1:51234 connected / received from 127.0.0.1:51234: byebye
//!                (three times) / client 127.0.0.1:51234 closed the connection
//! Try:           nc 127.0.0.1 9000   (each line you type is printed; a hello comes back)

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, banner, host_port, say};
use socketserver::{Handler, ThreadingTcpServer};

/// The course's socketserver program: say hello to every client, print what it answers.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (0.0.0.0 lets other machines connect).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 asks the OS for a free one).
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// Seconds a client may say nothing before it is closed (at most a day).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = netkit::seconds)]
    idle_timeout: Duration,
}

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // ThreadingTCPServer((host, port), MyServer): socket, bind, listen(5).
    let handler = MyServer {
        idle: args.idle_timeout,
    };
    let server = ThreadingTcpServer::bind((args.host.as_str(), args.port), handler)
        .at("bind", host_port(&args.host, args.port))?;
    let local = server.server_address().at("getsockname", &args.host)?;
    banner(local).at("print", "stdout")?;

    // server.serve_forever(): accept, and a thread running MyServer::handle per client.
    server.serve_forever().at("serve", local)
}

/// The course's `class MyServer(socketserver.BaseRequestHandler)`, with the idle
/// timeout that a `StreamRequestHandler` would have as its `timeout` attribute.
struct MyServer {
    idle: Duration,
}

impl Handler for MyServer {
    /// `timeout = 60`: a client that says nothing for this long is closed, so it cannot
    /// keep its thread for ever.
    fn timeout(&self) -> Option<Duration> {
        Some(self.idle)
    }

    /// The course's `handle()`: send hello, receive, print; again and again. `stream` is
    /// Python's `self.request`, `peer` its `self.client_address`.
    fn handle(&self, mut stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
        say!("client {peer} connected");
        let mut buf = [0u8; 1024];
        loop {
            stream.write_all(b"hello")?;
            // recv(1024). As in the course, one read is one message: it holds because the
            // client answers each hello once, and then waits. (Lesson 10 shows the real
            // fix for TCP's lack of message boundaries.)
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                // The timeout: WouldBlock on Unix, TimedOut on Windows.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    say!(
                        "client {peer} said nothing for {} s: closed",
                        self.idle.as_secs_f64()
                    );
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            // The course's loop has no way out: when the client goes, recv() returns b'',
            // it prints b'', sends hello again, and that send fails (broken pipe); the
            // exception ends the thread and socketserver prints a traceback. An empty read
            // means the client closed, so here the handler ends cleanly: the stream is
            // dropped (closed), and the thread finishes.
            // exercise read-until-0: an empty read means the client closed: say so, end handle
            if n == 0 {
                say!("client {peer} closed the connection");
                return Ok(());
            }
            // exercise end
            // The client's text, escaped: a `\n` in it cannot start a line of our own.
            say!("received from {peer}: {}", netkit::escaped_bytes(&buf[..n]));
        }
    }
}
