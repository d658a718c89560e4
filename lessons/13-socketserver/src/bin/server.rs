//! socketserver-server: the course's socketserver program. A handler that says `hello` and
//! prints what comes back, served by a `ThreadingTcpServer` with a thread per connection.
//!
//! New in this lesson: the server type in `src/lib.rs`, the Rust face of Python's
//! `socketserver.ThreadingTCPServer`. This file only says what to do with one connection
//! (the handler, the course's `handle()`); the accept loop and the thread per connection
//! that lesson 12 wrote by hand are now inside `serve_forever()`, where lib.rs shows them.
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

use clap::Parser;
use netkit::{banner, fail};
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
}

/// The course's `class MyServer(socketserver.BaseRequestHandler)`.
struct MyServer;

impl Handler for MyServer {
    /// The course's `handle()`: send hello, receive, print; again and again. `stream` is
    /// Python's `self.request`, `peer` its `self.client_address`.
    fn handle(&self, mut stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
        println!("client {peer} connected");
        let mut buf = [0u8; 1024];
        loop {
            stream.write_all(b"hello")?;
            // recv(1024). As in the course, one read is one message: it holds because the
            // client answers each hello once, and then waits. (Lesson 10 shows the real
            // fix for TCP's lack of message boundaries.)
            let n = stream.read(&mut buf)?;
            // The course's loop has no way out: when the client goes, recv() returns b'',
            // it prints b'', sends hello again, and that send fails (broken pipe); the
            // exception ends the thread and socketserver prints a traceback. An empty read
            // means the client closed, so here the handler ends cleanly: the stream is
            // dropped (closed), and the thread finishes.
            if n == 0 {
                println!("client {peer} closed the connection");
                return Ok(());
            }
            println!(
                "received from {peer}: {}",
                String::from_utf8_lossy(&buf[..n])
            );
        }
    }
}

fn main() -> ExitCode {
    let Args { host, port } = Args::parse();

    // ThreadingTCPServer((host, port), MyServer): socket, bind, listen.
    let server = match ThreadingTcpServer::bind((host.as_str(), port), MyServer) {
        Ok(server) => server,
        Err(e) => return fail("bind", format_args!("{host}:{port}"), &e),
    };
    let local = match server.server_address() {
        Ok(local) => local,
        Err(e) => return fail("getsockname", &host, &e),
    };
    if let Err(e) = banner(local) {
        return fail("print", "stdout", &e);
    }

    // server.serve_forever(): accept, and a thread running MyServer::handle per client.
    match server.serve_forever() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("serve", local, &e),
    }
}
