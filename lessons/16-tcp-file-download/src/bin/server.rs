//! tcp-file-download-server: hand out the files under one folder over TCP, a thread per
//! client. The course's tcp下载文件 server, with a protocol that can say "no" and a digest
//! the client can check.
//!
//! The protocol (the README draws the bytes): the client sends the file name as one frame
//! (lesson 10's 4-byte signed little-endian length, then UTF-8). The server answers one
//! status byte, then either (status 0) the size as a u64 little-endian, the SHA-256 of the
//! file (32 bytes) and the file's bytes, or (status 1) an error message as one frame.
//! Then it closes the connection: one file per connection.
//!
//! New in this lesson: a name that came from the network is turned into a path only after
//! checks (no `..`, no absolute path, no symlink that leads out of --root); the name's
//! length is checked before anything is allocated for it, and the whole request has one
//! deadline (--timeout), however slowly it comes; and the file is read twice, once to
//! hash it and once to send it, because the digest goes out before the bytes.
//!
//! Run it:        cargo run -p tcp-file-download --bin tcp-file-download-server -- --root lessons/16-tcp-file-download/files
//! Then, in another terminal:
//!                cargo run -p tcp-file-download --bin tcp-file-download-client -- welcome.txt -o /tmp
//! You will see:  127.0.0.1:51234 asks for "welcome.txt" / sent "welcome.txt" to 127.0.0.1:51234: 376 bytes
//! Try:           the client with ../Cargo.toml or /etc/passwd (refused), or a name that is not there

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use netkit::{banner, error_line, fail, py_bytes, say};
use sha2::{Digest, Sha256};

/// Serve the files under --root: one file per connection, a thread per client.
#[derive(Parser)]
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
    /// The longest file name accepted, in bytes (4096 is the longest path Linux accepts;
    /// at most 65536). A longer length is refused before anything is allocated for it.
    #[arg(long, value_name = "BYTES", default_value_t = 4096,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=65_536))]
    max_name: usize,
    /// A client has SECS to send its whole request, and no write to it may wait longer.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// The status byte: what follows it.
const OK: u8 = 0; // size, digest, bytes
const REFUSED: u8 = 1; // an error message, as one frame

/// Buffer for reading the file: big enough that a 200 MB file takes few system calls.
const BUFFER: usize = 256 * 1024;

fn main() -> ExitCode {
    let Args {
        host,
        port,
        root,
        max_name,
        timeout,
    } = Args::parse();

    // The root as the kernel sees it: absolute, no `..`, no symlinks. Every file we serve
    // must resolve to a path under this one.
    let real_root = match fs::canonicalize(&root) {
        Ok(real) if real.is_dir() => real,
        Ok(_) => {
            eprintln!("root {}: not a directory", root.display());
            return ExitCode::from(1);
        }
        Err(e) => return fail("root", root.display(), &e),
    };

    // socket() + bind() + listen(): see lesson 02.
    let listener = match TcpListener::bind((host.as_str(), port)) {
        Ok(listener) => listener,
        Err(e) => return fail("bind", format_args!("{host}:{port}"), &e),
    };
    let local = match listener.local_addr() {
        Ok(local) => local,
        Err(e) => return fail("bind", format_args!("{host}:{port}"), &e),
    };
    if let Err(e) = banner(local) {
        return fail("print", "stdout", &e);
    }
    // say!, not println!: piped into `head`, the server's lines are lost once head has
    // ended, and it goes on serving (println! would panic, and end a client's thread).
    say!("serving the files under {}", root.display());

    // Every thread reads the root; an Arc shares one copy instead of cloning it each time.
    let real_root = Arc::new(real_root);
    loop {
        let (conn, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, for example: no reason to stop serving. Wait a
                // little so the loop doesn't spin on an error that will repeat at once.
                eprintln!("{}", error_line("accept", local, &e));
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        // A thread per client (lesson 12): a 200 MB download doesn't make the next
        // client wait for it.
        let real_root = Arc::clone(&real_root);
        let spawned = thread::Builder::new().spawn(move || {
            // One client's trouble is reported, and only ends that client's thread.
            match serve(conn, peer, &real_root, max_name, timeout) {
                Ok(line) => say!("{line}"),
                Err(line) => eprintln!("{line}"),
            }
        });
        if let Err(e) = spawned {
            eprintln!("{}", error_line("spawn a thread for", peer, &e));
        }
    }
}

/// One download, start to end. `Ok` is the line to print when it went well; `Err` the
/// line that says what went wrong (the client has been told, if it could be).
fn serve(
    mut conn: TcpStream,
    peer: SocketAddr,
    root: &Path,
    max_name: usize,
    timeout: Duration,
) -> Result<String, String> {
    // A client that stops reading is dropped after --timeout, instead of holding its
    // thread for ever. (Reads get their deadline in read_name.)
    conn.set_write_timeout(Some(timeout))
        .map_err(|e| error_line("configure", peer, &e))?;

    // 1. The request: one frame, the file name.
    let raw = read_name(&mut conn, peer, max_name, timeout)?;
    // A name is text. Bytes that are not UTF-8 are refused, and shown escaped (b'\xff')
    // in our report: never print raw bytes from a peer into a terminal.
    let name = match String::from_utf8(raw) {
        Ok(name) => name,
        Err(e) => {
            let shown = py_bytes(e.as_bytes());
            return Err(refuse(
                &mut conn,
                peer,
                Some(&shown),
                "file name is not UTF-8",
            ));
        }
    };
    // In quotes, its control characters escaped, for the same reason: a name holding
    // `\n` must not forge a line of our report.
    let shown = format!("\"{}\"", netkit::escaped(&name));
    say!("{peer} asks for {shown}");

    // 2. From name to file, only if it stays inside the root.
    let path = match resolve(root, &name) {
        Ok(path) => path,
        Err(why) => return Err(refuse(&mut conn, peer, Some(&shown), &why)),
    };
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(e) => {
            let why = format!("cannot open: {}", netkit::cause(&e));
            return Err(refuse(&mut conn, peer, Some(&shown), &why));
        }
    };

    // 3. First read: the size and the SHA-256. They go out before the bytes, so we must
    //    know them before we send the first byte.
    let (size, digest) = match hash(&mut file) {
        Ok(found) => found,
        Err(e) => {
            let why = format!("cannot read: {}", netkit::cause(&e));
            return Err(refuse(&mut conn, peer, Some(&shown), &why));
        }
    };

    // 4. The answer's header, 41 bytes in one write: status, size, digest.
    let mut header = Vec::with_capacity(1 + 8 + 32);
    header.push(OK);
    // u64 little-endian, the byte order of the name frame's length: one order for every
    // number in this protocol. 64 bits, because files of more than 4 GiB exist.
    header.extend_from_slice(&size.to_le_bytes());
    header.extend_from_slice(&digest);
    conn.write_all(&header)
        .map_err(|e| error_line("send", peer, &e))?;

    // 5. Second read: the bytes themselves, from the start of the same open file. We send
    //    exactly `size` bytes, whatever happens to the file meanwhile: the client counts on
    //    it. (If the file was changed in place, the client's digest check catches it.)
    file.seek(SeekFrom::Start(0))
        .map_err(|e| error_line("read", path.display(), &e))?;
    let mut buf = vec![0u8; BUFFER];
    let mut sent: u64 = 0;
    while sent < size {
        let want = usize::try_from(size - sent).map_or(BUFFER, |left| left.min(BUFFER));
        let n = match file.read(&mut buf[..want]) {
            // The file shrank since we hashed it. We can't send what isn't there; closing
            // now is the honest answer: the client sees a stream cut short.
            Ok(0) => {
                return Err(format!(
                    "send {peer}: {shown} shrank while being sent ({sent} of {size} bytes); closed"
                ));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(error_line("read", path.display(), &e)),
        };
        // write_all: one write may take only part of the buffer when the socket's send
        // buffer is full (the client reads slower than we read the disk).
        conn.write_all(&buf[..n])
            .map_err(|e| error_line("send", peer, &e))?;
        sent += n as u64;
    }
    // 6. Dropping `conn` closes the connection: after the last byte, end of stream.
    Ok(format!("sent {shown} to {peer}: {size} bytes"))
}

/// Read the request frame: 4 bytes of length (signed, little-endian, as lesson 10), checked
/// against `max_name` *before* a buffer is made for it, then exactly that many bytes, all
/// within `timeout`.
fn read_name(
    conn: &mut TcpStream,
    peer: SocketAddr,
    max_name: usize,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    // One deadline for the whole request, not one per read: a client that sends a byte
    // now and then, or nothing at all, must not keep its thread for ever.
    let deadline = Instant::now()
        .checked_add(timeout)
        .expect("--timeout is at most a day");
    let failed = |e: io::Error| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => format!(
            "receive {peer}: no whole request within {} s (--timeout); closed",
            timeout.as_secs_f64()
        ),
        _ => error_line("receive", peer, &e),
    };
    let mut header = [0u8; 4];
    let got = read_full(conn, &mut header, deadline).map_err(&failed)?;
    if got < header.len() {
        return Err(format!(
            "receive {peer}: stream ended after {got} of 4 header bytes"
        ));
    }
    // Four bytes from a stranger decide how much memory we would reserve: 7f ff ff ff
    // asks for 2 GiB. Check first; refuse without reading what follows.
    let len = i32::from_le_bytes(header);
    let Ok(len) = usize::try_from(len) else {
        let why = format!("frame header: length {len} is negative");
        return Err(refuse(conn, peer, None, &why));
    };
    if len > max_name {
        let why = format!("frame header: length {len} is over --max-name {max_name}");
        return Err(refuse(conn, peer, None, &why));
    }
    let mut name = vec![0u8; len]; // allocated only now, and at most --max-name bytes
    let got = read_full(conn, &mut name, deadline).map_err(&failed)?;
    if got < len {
        return Err(format!(
            "receive {peer}: stream ended after {got} of {len} name bytes"
        ));
    }
    Ok(name)
}

/// The path of the file `name` names under `root`, or why there is none.
///
/// A file name from the network is an attack surface: `../../etc/shadow` or
/// `/etc/passwd` would walk out of the root if we simply joined it on. Two checks:
/// the name's own parts (no `..`, not absolute), and then, because a symlink inside the
/// root may point anywhere, where the path really leads once the kernel resolves every
/// symlink (canonicalize) — it must still be under the (canonical) root.
fn resolve(root: &Path, name: &str) -> Result<PathBuf, String> {
    if name.is_empty() {
        return Err("empty file name".to_string());
    }
    if name.contains('\0') {
        return Err("file names cannot hold a NUL byte".to_string());
    }
    for part in Path::new(name).components() {
        match part {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err("`..` is not allowed".to_string()),
            Component::RootDir | Component::Prefix(_) => {
                return Err("absolute paths are not allowed".to_string());
            }
        }
    }
    let real = match fs::canonicalize(root.join(name)) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err("no such file".to_string()),
        Err(e) => return Err(netkit::cause(&e)),
    };
    // starts_with compares whole components: /srv/files-old does not start with /srv/files.
    if !real.starts_with(root) {
        return Err("leads out of the root (a symlink)".to_string());
    }
    // Only regular files: a directory has no bytes to send, and reading a FIFO or a device
    // could block or never end.
    match fs::metadata(&real) {
        Ok(meta) if meta.is_file() => Ok(real),
        Ok(_) => Err("not a regular file".to_string()),
        Err(e) => Err(netkit::cause(&e)),
    }
}

/// Read the whole file once: its size in bytes and its SHA-256.
///
/// Why read the file twice (here, then again to send it), rather than once? The protocol
/// puts the digest *before* the bytes, so the client knows what to expect. The price is a
/// second read; for a file that fits in memory the kernel's page cache serves the second
/// one, so it costs little. The other design puts the digest *after* the bytes (hash
/// while sending, one read); both are fine. Keeping the whole file in memory is not: a
/// thread per client times a large file would run the machine out of memory.
fn hash(file: &mut File) -> io::Result<(u64, [u8; 32])> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUFFER];
    let mut size: u64 = 0;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((size, hasher.finalize().into()))
}

/// Say no: status byte 1, then `why` as one frame (4-byte signed little-endian length,
/// then the UTF-8 text). Returns the line the server reports, naming what was asked for
/// (`asked`) if the request got that far. The client knows what it asked for, so only
/// `why` goes to it: a short text of ours, never the peer's own bytes sent back.
fn refuse(conn: &mut TcpStream, peer: SocketAddr, asked: Option<&str>, why: &str) -> String {
    let report = match asked {
        Some(asked) => format!("refused {asked} to {peer}: {why}"),
        None => format!("refused {peer}: {why}"),
    };
    let Ok(len) = i32::try_from(why.len()) else {
        return format!("{report} (too long a message to send)");
    };
    let mut answer = vec![REFUSED];
    answer.extend_from_slice(&len.to_le_bytes());
    answer.extend_from_slice(why.as_bytes());
    if let Err(e) = conn.write_all(&answer) {
        return format!("{report} (could not tell it: {})", netkit::cause(&e));
    }
    linger(conn);
    report
}

/// Close gently after a refusal. The client may still be sending: a name longer than
/// --max-name is on its way, and we never read it. Closing a socket with unread bytes
/// makes the kernel answer with a reset (RST) instead of a normal end (FIN), and throw
/// away whatever of our answer it has not sent yet; the client would see "connection
/// reset" instead of our reason. So: end our side first (the client reads our answer,
/// then end of stream), read and throw away what still comes, up to 64 KiB or 1 second,
/// and only then close.
fn linger(conn: &mut TcpStream) {
    let _ = conn.shutdown(Shutdown::Write);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let mut sink = [0u8; 4096];
    let mut left: usize = 64 * 1024;
    while left > 0 {
        match conn.read(&mut sink) {
            Ok(0) | Err(_) => break, // the client closed too (or took too long)
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// Fill `buf` from `conn`, however many reads that takes (lesson 10's `read_full`), by
/// `deadline`. Returns how many bytes arrived: fewer than `buf.len()` only if the stream
/// ended first.
fn read_full(conn: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        // Each read may wait only for what is left of the deadline.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        conn.set_read_timeout(Some(left))?;
        match conn.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
