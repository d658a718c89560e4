//! struct-framing-server: send each line of stdin to one client as a frame: a 4-byte
//! length, then the message. The course's 黏包的解决方案 (struct模块) sender.
//!
//! New since sticky-packet: the receiver can no longer tell where a message ends, so the
//! sender says it first. Each frame is `struct.pack('<i', len(msg)) + msg`: a signed 32-bit
//! little-endian length, then exactly that many bytes. The server accepts one client, sends
//! it every line typed (or piped in), and at end of input closes and exits.
//!
//! Run it:        cargo run -p struct-framing --bin struct-framing-server
//! Then, in another terminal:
//!                cargo run -p struct-framing --bin struct-framing-client
//!                (then type lines into the server; Ctrl-D ends it)
//! You will see:  each line you type printed whole by the client, one line each
//! Try:           seq 100000 | cargo run -p struct-framing --bin struct-framing-server
//!                nc 127.0.0.1 9090 | xxd | head   (as the client: the length before each line)

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use netkit::{banner, fail, host_port, say};

/// Send each line of stdin as a length-prefixed frame to one client.
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

/// Buffer size for stdin and for the socket: many frames per system call.
const BUFFER: usize = 64 * 1024;

fn main() -> ExitCode {
    let Args { host, port } = Args::parse();

    // socket() + bind() + listen(): see lesson 02.
    let listener = match TcpListener::bind((host.as_str(), port)) {
        Ok(listener) => listener,
        Err(e) => return fail("bind", host_port(&host, port), &e),
    };
    let local = match listener.local_addr() {
        Ok(local) => local,
        Err(e) => return fail("bind", host_port(&host, port), &e),
    };
    if let Err(e) = banner(local) {
        return fail("print", "stdout", &e);
    }

    // One client gets the whole of stdin; then the server exits (stdin can be read once).
    let (client, peer) = match listener.accept() {
        Ok(accepted) => accepted,
        Err(e) => return fail("accept", local, &e),
    };
    // Nobody else will be served: stop listening, so a second client is refused at once
    // instead of waiting in the backlog for nothing.
    drop(listener);
    say!("client {peer} connected");

    // Each write_all on a bare TcpStream is one send() system call: two per frame (header,
    // body), a million lines = two million calls. A BufWriter collects the frames in
    // memory and hands the kernel 64 KiB at a time. The bytes are the same; only the
    // pieces differ, and TCP cuts the stream its own way anyway: the frames are what the
    // receiver goes by. Stdin gets the same treatment from a BufReader.
    let mut conn = BufWriter::with_capacity(BUFFER, client);
    let mut input = BufReader::with_capacity(BUFFER, io::stdin().lock());
    let mut line = Vec::new();
    let mut frames: u64 = 0;
    loop {
        // Before we may have to wait for more input (a person typing), send what is
        // buffered, so each typed line reaches the client at once. When stdin is a file,
        // the buffer is rarely empty and the frames go out in big pieces.
        if input.buffer().is_empty() {
            if let Err(e) = conn.flush() {
                return fail("send", peer, &e);
            }
        }
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break, // end of input
            Ok(_) => {}
            Err(e) => return fail("read", "stdin", &e),
        }
        // The line without its line end (`\n`, or `\r\n` from a Windows file). The bytes
        // are sent as they are: the client decides how to show them.
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        // The course's struct.pack('i', len(msg)): 4 bytes, a signed 32-bit integer. So a
        // message can be at most 2147483647 bytes (the course notes this range limit).
        let Ok(len) = i32::try_from(line.len()) else {
            eprintln!(
                "read stdin: line {} is {} bytes, more than a 4-byte signed length can say",
                frames + 1,
                line.len()
            );
            return ExitCode::from(1);
        };
        // The header: the length as 4 little-endian bytes, what struct.pack('<i', n)
        // makes (and what 'i' makes on x86 and ARM machines, which are little-endian).
        if let Err(e) = conn.write_all(&len.to_le_bytes()) {
            return fail("send", peer, &e);
        }
        // The body: exactly `len` bytes, nothing after it to mark its end.
        if let Err(e) = conn.write_all(&line) {
            return fail("send", peer, &e);
        }
        frames += 1;
    }

    // End of input: push out the last frames, then close(). The client reads them, then
    // end of stream, which it takes as "no more frames".
    if let Err(e) = conn.flush() {
        return fail("send", peer, &e);
    }
    drop(conn);
    let plural = if frames == 1 { "" } else { "s" };
    say!("sent {frames} frame{plural} to {peer}, then closed");
    ExitCode::SUCCESS
}
