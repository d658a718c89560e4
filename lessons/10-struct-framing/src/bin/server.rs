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

use std::io::{self, BufRead, Write};
use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use netkit::{At, Failure, banner, host_port, say};

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

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let Args { host, port } = args;

    // socket() + bind() + listen(): see lesson 02.
    let listener = TcpListener::bind((host.as_str(), port)).at("bind", host_port(&host, port))?;
    let local = listener.local_addr().at("bind", host_port(&host, port))?;
    banner(local).at("print", "stdout")?;

    // One client gets the whole of stdin; then the server exits (stdin can be read once).
    let (mut conn, peer) = listener.accept().at("accept", local)?;
    // Nobody else will be served: stop listening, so a second client is refused at once
    // instead of waiting in the backlog for nothing.
    drop(listener);
    say!("client {peer} connected");

    let mut input = io::stdin().lock();
    let mut line = Vec::new();
    let mut frame: Vec<u8> = Vec::new();
    let mut frames: u64 = 0;
    loop {
        // The course's msg: one line of input, typed or piped in.
        line.clear();
        if input.read_until(b'\n', &mut line).at("read", "stdin")? == 0 {
            break; // end of input
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
            return Err(Failure::new(format!(
                "read stdin: line {} is {} bytes, more than a 4-byte signed length can say",
                frames + 1,
                line.len()
            )));
        };
        // The frame: the header, the length as 4 little-endian bytes (what
        // struct.pack('<i', n) makes, and what 'i' makes on x86 and ARM machines, which
        // are little-endian), then the body, exactly `len` bytes with nothing after them
        // to mark their end. The course's sender packs the length and sends it with the
        // message: one write_all, one send() for a short line.
        // exercise frame-send: the length as 4 little-endian bytes, then the line, in one write
        frame.clear();
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(&line);
        conn.write_all(&frame).at("send", peer)?;
        // exercise end
        frames += 1;
    }

    // End of input: close(). The client reads the last frames, then end of stream, which
    // it takes as "no more frames".
    drop(conn);
    let plural = if frames == 1 { "" } else { "s" };
    say!("sent {frames} frame{plural} to {peer}, then closed");
    Ok(())
}
