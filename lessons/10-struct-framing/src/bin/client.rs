//! struct-framing-client: read length-prefixed frames and print each message, one line
//! each. The course's 黏包的解决方案 (struct模块) receiver.
//!
//! New since sticky-packet: the reader no longer cuts the stream where a read happens to
//! end. Each frame says how long it is: read exactly 4 bytes, unpack the length
//! (`struct.unpack('<i', ...)`), check it, then read exactly that many bytes. However TCP
//! cuts the stream, every message comes out whole.
//!
//! Run it:        cargo run -p struct-framing --bin struct-framing-client
//! With a server: cargo run -p struct-framing --bin struct-framing-server   (in another terminal, first)
//! You will see:  each line typed into the server, printed here whole
//! Try:           printf '\005\000\000\000hello' | nc -N -l 127.0.0.1 9090   (as the server: one frame)
//!                printf '\373\377\377\377' | nc -N -l 127.0.0.1 9090        (length -5: refused)

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{error_line, fail, host_port};

/// Read length-prefixed frames and print each message on its own line.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9090)]
    port: u16,
    /// The longest message accepted, in bytes (at most 2147483647, the most a 4-byte
    /// signed length can say). A longer length is refused before its body is read.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(..=i64::from(i32::MAX)))]
    max_frame: u32,
    /// How long to wait for the server's next bytes, in seconds (at most a day). The
    /// server sends what a person types, so the default is generous.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// Buffer size for the socket and for stdout: many frames per system call.
const BUFFER: usize = 64 * 1024;

fn main() -> ExitCode {
    let Args {
        host,
        port,
        max_frame,
        timeout,
    } = Args::parse();
    let max_frame = max_frame as usize; // at most i32::MAX: fits

    // Look the name up first, so that an unknown host is not called a failed connect.
    let addrs: Vec<SocketAddr> = match (host.as_str(), port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return fail("resolve", &host, &e),
    };
    // socket() + connect(): see lesson 01.
    let stream = match TcpStream::connect(&addrs[..]) {
        Ok(stream) => stream,
        Err(e) => return fail("connect", host_port(&host, port), &e),
    };
    let peer = match stream.peer_addr() {
        Ok(peer) => peer,
        Err(e) => return fail("connect", host_port(&host, port), &e),
    };
    // settimeout(): a server that goes silent, between frames or inside one, is given up
    // on after --timeout instead of keeping us waiting for ever.
    if let Err(e) = stream.set_read_timeout(Some(timeout)) {
        return fail("settimeout", peer, &e);
    }
    let waited = format!("within {} s (--timeout)", timeout.as_secs_f64());

    // One read() system call per header and per body would be two calls a frame. The
    // BufReader asks the kernel for up to 64 KiB at a time and hands the frames out of
    // memory; it changes how often we call the kernel, not what we read.
    let mut reader = BufReader::with_capacity(BUFFER, stream);
    // println! locks stdout and, into a pipe, still makes one write() per line. Lock it
    // once, and buffer it: the lines go out 64 KiB at a time.
    let mut out = BufWriter::with_capacity(BUFFER, io::stdout().lock());
    // The message buffer, reused for every frame. It only grows after a length has
    // passed the checks below.
    let mut body = Vec::new();

    loop {
        // Before a read that may have to wait for the network, show what we have, so a
        // message typed into the server appears at once. While frames pour in, the buffer
        // is rarely empty and stdout is written in big pieces.
        if reader.buffer().is_empty() {
            if let Err(e) = out.flush() {
                return print_failed(&e);
            }
        }

        // The header: the course's `sk.recv(4)`, except that recv(4) may return 1, 2 or 3
        // bytes if that is all that has arrived. read_full waits for all 4.
        let mut header = [0u8; 4];
        let got = match read_full(&mut reader, &mut header) {
            Ok(got) => got,
            Err(e) if is_timeout(&e) => {
                return stop(out, format!("receive {peer}: no frame header {waited}"));
            }
            Err(e) => return stop(out, error_line("receive", peer, &e)),
        };
        if got == 0 {
            break; // the server closed between two frames: a clean end
        }
        if got < header.len() {
            let what = format!("stream ended after {got} of 4 header bytes");
            return stop(out, format!("receive {peer}: {what}"));
        }

        // struct.unpack('<i', header): signed 32-bit little-endian. Check the length
        // before reading the body: a peer must not be able to make us take 2 GiB with
        // four bytes.
        let len = i32::from_le_bytes(header);
        let Ok(len) = usize::try_from(len) else {
            let what = format!("frame header: length {len} is negative");
            return stop(out, format!("receive {peer}: {what}"));
        };
        if len > max_frame {
            let what = format!("frame header: length {len} is over --max-frame {max_frame}");
            return stop(out, format!("receive {peer}: {what}"));
        }

        // The body: the course's `sk.recv(num)`, which may return fewer than num bytes
        // (a read returns what has arrived so far, and a big message arrives in many
        // pieces). take(len) + read_to_end reads until all `len` are here, or the end.
        // The buffer grows as the bytes arrive, not ahead of them: a header that promises
        // 1 MiB and then nothing costs us nothing. (Any bytes read before an error are
        // kept in `body`, so the error line can say how many came.)
        body.clear();
        let read = reader.by_ref().take(len as u64).read_to_end(&mut body);
        let got = body.len();
        match read {
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {
                let what = format!("{got} of {len} body bytes, then nothing {waited}");
                return stop(out, format!("receive {peer}: {what}"));
            }
            Err(e) => return stop(out, error_line("receive", peer, &e)),
        }
        if got < len {
            let what = format!("stream ended after {got} of {len} body bytes");
            return stop(out, format!("receive {peer}: {what}"));
        }

        // One message, one line. Bytes that are not UTF-8 are shown as U+FFFD, and
        // control characters as escapes (`\x1b`, `\n`): the server's text can neither
        // start a line of its own nor send the terminal commands.
        if let Err(e) = writeln!(out, "{}", netkit::escaped_bytes(&body)) {
            return print_failed(&e);
        }
    }

    if let Err(e) = out.flush() {
        return print_failed(&e);
    }
    ExitCode::SUCCESS
}

/// Writing to stdout failed. Piped into `head`, which has quit (broken pipe): stop
/// quietly, as Ctrl-C would (130). Anything else (a full disk): one line, exit 1.
fn print_failed(e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::from(130);
    }
    fail("print", "stdout", e)
}

/// A read timeout shows up as WouldBlock on Unix and TimedOut on Windows.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Fill `buf` from `reader`, however many reads that takes: what std's `read_exact` does.
/// Returns how many bytes arrived, which is less than `buf.len()` only if the stream
/// ended first. (`read_exact` would say only "unexpected end of file"; we want the
/// error line to say how much of the frame came.)
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        // One read returns whatever has arrived, at least 1 byte; 0 means end of stream.
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Print the messages that did arrive whole, then the one error line; exit 1.
fn stop(mut out: impl Write, line: String) -> ExitCode {
    let _ = out.flush();
    eprintln!("{line}");
    ExitCode::from(1)
}
