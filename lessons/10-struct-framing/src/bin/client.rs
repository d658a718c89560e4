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

use std::io::{self, BufReader, Read};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, error_line, host_port, say};

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

fn main() -> ExitCode {
    // Piped into `head`, which has quit: stop as Ctrl-C would (130), without a panic.
    netkit::when_stdout_closes(|| std::process::exit(130));
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let Args {
        host,
        port,
        max_frame,
        timeout,
    } = args;
    let max_frame = max_frame as usize; // at most i32::MAX: fits

    // Look the name up first, so that an unknown host is not called a failed connect.
    let addrs: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .at("resolve", &host)?
        .collect();
    // socket() + connect(): see lesson 01.
    let stream = TcpStream::connect(&addrs[..]).at("connect", host_port(&host, port))?;
    let peer = stream.peer_addr().at("connect", host_port(&host, port))?;
    // settimeout(): a server that goes silent, between frames or inside one, is given up
    // on after --timeout instead of keeping us waiting for ever.
    stream
        .set_read_timeout(Some(timeout))
        .at("settimeout", peer)?;
    let waited = format!("within {} s (--timeout)", timeout.as_secs_f64());
    let failed = |what: String| Failure::new(format!("receive {peer}: {what}"));

    // The message buffer, reused for every frame. It only grows after a length has
    // passed the checks below.
    let mut body = Vec::new();
    // The reads go through a buffer: one recv takes whatever has arrived (often several
    // frames), and the 4-byte and N-byte reads below are then served from memory. It
    // changes nothing about where a frame ends: only the length header says that.
    let mut incoming = BufReader::with_capacity(64 * 1024, &stream);
    loop {
        // exercise frame-header (let len: usize): read 4 bytes exactly, unpack the length, check it
        // The header: the course's `sk.recv(4)`, except that recv(4) may return 1, 2 or 3
        // bytes if that is all that has arrived. read_full waits for all 4.
        let mut header = [0u8; 4];
        let got = read_full(&mut incoming, &mut header)
            .map_err(|e| receive_failed(peer, &e, format!("no frame header {waited}")))?;
        if got == 0 {
            return Ok(()); // the server closed between two frames: a clean end
        }
        if got < header.len() {
            return Err(failed(format!(
                "stream ended after {got} of 4 header bytes"
            )));
        }

        // struct.unpack('<i', header): signed 32-bit little-endian. Check the length
        // before reading the body: a peer must not be able to make us take 2 GiB with
        // four bytes.
        let len = i32::from_le_bytes(header);
        let Ok(len) = usize::try_from(len) else {
            return Err(failed(format!("frame header: length {len} is negative")));
        };
        if len > max_frame {
            let what = format!("frame header: length {len} is over --max-frame {max_frame}");
            return Err(failed(what));
        }
        // exercise end

        // exercise frame-body: read exactly len bytes into body, however many reads it takes
        // The body: the course's `sk.recv(num)`, which may return fewer than num bytes
        // (a read returns what has arrived so far, and a big message arrives in many
        // pieces). take(len) + read_to_end reads until all `len` are here, or the end.
        // The buffer grows as the bytes arrive, not ahead of them: a header that promises
        // 1 MiB and then nothing costs us nothing. (Any bytes read before an error are
        // kept in `body`, so the error line can say how many came.)
        body.clear();
        let read = (&mut incoming).take(len as u64).read_to_end(&mut body);
        let got = body.len();
        read.map_err(|e| {
            receive_failed(
                peer,
                &e,
                format!("{got} of {len} body bytes, then nothing {waited}"),
            )
        })?;
        if got < len {
            return Err(failed(format!(
                "stream ended after {got} of {len} body bytes"
            )));
        }
        // exercise end

        // One message, one line. Bytes that are not UTF-8 are shown as U+FFFD, and
        // control characters as escapes (`\x1b`, `\n`): the server's text can neither
        // start a line of its own nor send the terminal commands.
        say!("{}", netkit::escaped_bytes(&body));
    }
}

/// A read that failed: the read timeout (WouldBlock on Unix, TimedOut on Windows) is
/// `silent`; anything else, the cause the OS gives.
fn receive_failed(peer: SocketAddr, e: &io::Error, silent: String) -> Failure {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            Failure::new(format!("receive {peer}: {silent}"))
        }
        _ => Failure::new(error_line("receive", peer, e)),
    }
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
