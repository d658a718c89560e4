//! tcp-file-download-server: hand out the files under one folder over TCP, one file per
//! connection, a thread per client. The course's tcp下载文件 server — receive the file's
//! name, open the file, send its bytes — with a protocol that can say "no" and a digest
//! the client can check.
//!
//! The protocol (the README draws the bytes): the client sends the file name as one frame
//! (lesson 10's 4-byte signed little-endian length, then UTF-8). The server answers one
//! status byte, then either (status 0) the size as a u64 little-endian, the SHA-256 of the
//! file (32 bytes) and the file's bytes, or (status 1) an error message as one frame.
//! Then it closes the connection.
//!
//! New in this lesson: a name from the network becomes a path only after checks (no `..`,
//! no absolute path, no symlink out of --root); its length is checked before anything is
//! allocated for it, and the whole request has one deadline (--timeout). The file is read
//! once to hash it (the digest goes out before the bytes), then sent with `io::copy`.
//!
//! Run it:        cargo run -p tcp-file-download --bin tcp-file-download-server -- --root lessons/20-tcp-file-download/files
//! Then, in another terminal:
//!                cargo run -p tcp-file-download --bin tcp-file-download-client -- welcome.txt -o target
//! You will see:  127.0.0.1:51234 asks for "welcome.txt" / sent "welcome.txt" to 127.0.0.1:51234: 376 bytes
//! Try:           the client with ../Cargo.toml or /etc/passwd (refused), or a name that is not there

use std::fs::{self, File};
use std::io::{self, BufReader, ErrorKind, Read, Seek, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use netkit::{At, Failure, banner, cause, escaped, host_port, py_bytes, say};
use sha2::{Digest, Sha256};

/// Serve the files under --root: one file per connection, a thread per client.
#[derive(Parser, Clone)]
#[command(version, about)]
struct Args {
    /// Address to listen on (0.0.0.0 lets other machines connect).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 asks the OS for a free one).
    #[arg(long, default_value_t = 9001)]
    port: u16,
    /// The folder whose files are served. Nothing outside it can be downloaded.
    #[arg(long, value_name = "DIR")]
    root: PathBuf,
    /// A client has SECS to send its whole request, and no write to it may wait longer.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// The status byte: what follows it.
const OK: u8 = 0; // size, digest, bytes
const REFUSED: u8 = 1; // an error message, as one frame

/// The longest file name accepted, in bytes: the longest path Linux accepts.
const MAX_NAME: usize = 4096;

/// Each read of the file and each write to the socket: 1 MiB, about 190 of each for 200 MB.
const BUFFER: usize = 1024 * 1024;

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(mut args: Args) -> Result<(), Failure> {
    // The root must be a folder we can read. From here on it is the root as the kernel
    // sees it (absolute, no `..`, no symlinks): every file served must resolve under it.
    let given = args.root.display().to_string();
    fs::read_dir(&args.root).at("root", &given)?;
    args.root = fs::canonicalize(&args.root).at("root", &given)?;

    // 1. socket() + bind() + listen(): see lesson 02.
    let addr = host_port(&args.host, args.port);
    let listener = TcpListener::bind((args.host.as_str(), args.port)).at("bind", &addr)?;
    banner(listener.local_addr().at("bind", &addr)?).at("print", "stdout")?;
    say!("serving the files under {given}");
    loop {
        // 2. accept(): a socket of its own for each client. An error (out of file
        //    descriptors, say) is no reason to stop; wait a little, so it can't spin.
        let accepted = listener.accept().at("accept", &addr);
        let Ok((conn, peer)) = accepted.inspect_err(|failure| eprintln!("{failure}")) else {
            thread::sleep(Duration::from_millis(100));
            continue;
        };
        // 3. A thread per client (lesson 12): a 200 MB download doesn't make the next
        //    client wait. One client's trouble is reported, and ends only its thread.
        let args = args.clone();
        let spawned = thread::Builder::new()
            .spawn(move || serve(conn, peer, &args).map_err(|failure| eprintln!("{failure}")));
        if let Err(failure) = spawned.at("spawn a thread for", peer) {
            eprintln!("{failure}");
        }
    }
}

/// One download, start to end: the request, the checks, the header, the bytes.
fn serve(mut conn: TcpStream, peer: SocketAddr, args: &Args) -> Result<(), Failure> {
    // A client that stops reading is dropped after --timeout instead of holding its thread.
    let timeout = Some(args.timeout);
    conn.set_write_timeout(timeout).at("configure", peer)?;

    // 1. recv(): the file's name, as one frame. One deadline for the whole request, not one
    //    per read: a client sending a byte now and then must not keep its thread for ever.
    //    (No overflow: --timeout is at most a day.)
    let (deadline, secs) = (Instant::now() + args.timeout, args.timeout.as_secs_f64());
    let recv = |buf: &mut [u8], what: &str| {
        let why = match read_full(&conn, buf, deadline) {
            Ok(got) if got == buf.len() => return Ok(()),
            Ok(got) => format!("stream ended after {got} of {} {what} bytes", buf.len()),
            // A read that waited out its timeout fails with WouldBlock (EAGAIN).
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                format!("no whole request within {secs} s (--timeout); closed")
            }
            Err(e) => cause(&e),
        };
        Err(Failure::new(format!("receive {peer}: {why}")))
    };
    let mut header = [0u8; 4];
    recv(&mut header, "header")?;
    // Four bytes from a stranger decide how much memory we reserve: 7f ff ff ff asks for
    // 2 GiB. Check first, and refuse without reading what follows.
    let len = i32::from_le_bytes(header);
    let Some(len) = usize::try_from(len).ok().filter(|&len| len <= MAX_NAME) else {
        let why = match len {
            ..0 => "is negative".to_string(),
            _ => format!("is over the {MAX_NAME}-byte limit"),
        };
        let why = format!("frame header: length {len} {why}");
        return Err(refuse(&conn, peer, None, &why));
    };
    let mut raw = vec![0u8; len]; // allocated only now, and at most MAX_NAME bytes
    recv(&mut raw, "name")?;
    // A name is text: other bytes are shown as Python shows them (b'\xff'), and text
    // escaped, in quotes, so that a name holding `\n` or an escape sequence can neither
    // forge a line of our report nor drive the terminal.
    let shown = std::str::from_utf8(&raw)
        .map_or_else(|_| py_bytes(&raw), |name| format!("\"{}\"", escaped(name)));
    say!("{peer} asks for {shown}");

    // 2. open() the file, only if the name stays inside the root, and read it once for
    //    its size and SHA-256: they go out before its first byte.
    let (mut file, size, digest) =
        open(&args.root, &raw).map_err(|why| refuse(&conn, peer, Some(&shown), &why))?;

    // 3. send(): the header, 41 bytes in one write: status, size (u64 little-endian, the
    //    byte order of the name's length; 64 bits, as files over 4 GiB exist), digest.
    // exercise send-file: status OK, size and digest in one write; then io::copy size bytes
    let header = [&[OK][..], &size.to_le_bytes(), &digest].concat();
    conn.write_all(&header).at("send", peer)?;

    // 4. send(): the bytes, from the start of the same open file, with io::copy: read,
    //    write, until the end. take(size): exactly the bytes announced, even if the file
    //    grew (if it changed, the client's check fails). The BufReader makes each read and
    //    write 1 MiB, where io::copy's own buffer is 8 KiB. (io::copy lets the kernel copy
    //    between some descriptors on Linux, but not from a file into a socket: a page of
    //    the file changed after sendfile() could still change bytes queued in the socket,
    //    and io::copy promises the bytes as read.)
    file.rewind().at("read", &shown)?;
    let mut file = BufReader::with_capacity(BUFFER, file.take(size));
    let sent = io::copy(&mut file, &mut conn).at("send", peer)?;
    if sent < size {
        // The file shrank since we hashed it: closing is the honest answer, and the
        // client sees a stream cut short.
        let why = format!("{shown} shrank while being sent ({sent} of {size} bytes)");
        return Err(Failure::new(format!("send {peer}: {why}; closed")));
    }
    // exercise end
    // 5. Dropping `conn` closes the connection: after the last byte, end of stream.
    say!("sent {shown} to {peer}: {size} bytes");
    Ok(())
}

/// Fill `buf` from `conn` by `deadline`, however many reads that takes (lesson 10's
/// `read_full`). Returns how many bytes came: fewer only if the stream ended first.
fn read_full(mut conn: &TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        // Each read may wait only for what is left of the deadline.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        conn.set_read_timeout(Some(left))?;
        match conn.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The file `raw` names under `root`, opened, with its size and SHA-256; or why not. A
/// name from the network could walk out of the root (`../../etc/shadow`, `/etc/passwd`):
/// first check its own parts, then where it really leads once the kernel has resolved
/// every symlink (canonicalize): still under the (canonical) root.
fn open(root: &Path, raw: &[u8]) -> Result<(File, u64, [u8; 32]), String> {
    let name = std::str::from_utf8(raw).map_err(|_| "file name is not UTF-8")?;
    if name.is_empty() {
        return Err("empty file name".into());
    }
    // exercise path-check (let real: PathBuf): no `..` nor absolute parts; canonical, under root
    for part in Path::new(name).components() {
        match part {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err("`..` is not allowed".into()),
            _ => return Err("absolute paths are not allowed".into()),
        }
    }
    let real = fs::canonicalize(root.join(name)).map_err(|e| match e.kind() {
        ErrorKind::NotFound => "no such file".into(),
        _ => cause(&e),
    })?;
    // starts_with compares whole parts: /srv/files-old does not start with /srv/files.
    if !real.starts_with(root) {
        return Err("leads out of the root (a symlink)".into());
    }
    // exercise end
    // Only regular files: a folder has no bytes, and a FIFO or a device may never end.
    if !real.is_file() {
        return Err("not a regular file".into());
    }
    let cannot = |what: &str, e: io::Error| format!("cannot {what}: {}", cause(&e));
    let mut file = File::open(real).map_err(|e| cannot("open", e))?;
    let (mut hasher, mut size, mut buf) = (Sha256::new(), 0, vec![0u8; BUFFER]);
    loop {
        let n = file.read(&mut buf).map_err(|e| cannot("read", e))?;
        if n == 0 {
            return Ok((file, size, hasher.finalize().into()));
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
}

/// Say no: status byte 1, then `why` as one frame: a short text of ours, never the peer's
/// own bytes sent back. Returns the line the server reports, naming what was asked for
/// (`asked`) if the request got that far.
fn refuse(mut conn: &TcpStream, peer: SocketAddr, asked: Option<&str>, why: &str) -> Failure {
    let len = i32::try_from(why.len()).expect("our reasons are short");
    let answer = [&[REFUSED][..], &len.to_le_bytes(), why.as_bytes()].concat();
    let _ = conn.write_all(&answer); // the client may be gone: the report says no more
    // Close gently. The client may still be sending (a name over MAX_NAME that we never
    // read), and closing a socket with unread bytes makes the kernel send a reset (RST)
    // and drop what of our answer it has not sent yet. So: end our side (the client reads
    // our answer, then end of stream), read away what still comes (64 KiB or 1 s at
    // most), and only then close.
    let _ = conn.shutdown(Shutdown::Write);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = io::copy(&mut conn.take(64 * 1024), &mut io::sink());
    let asked = asked.map_or(String::new(), |asked| format!("{asked} to "));
    Failure::new(format!("refused {asked}{peer}: {why}"))
}
