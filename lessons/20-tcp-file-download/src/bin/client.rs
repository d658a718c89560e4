//! tcp-file-download-client: download one file from tcp-file-download-server, and keep it
//! only if it arrived whole and unchanged. The course's tcp下载文件 client — send the
//! file's name, receive its bytes, save them — with a check before the file is kept.
//!
//! It sends the file name as one frame (lesson 10's 4-byte signed little-endian length,
//! then UTF-8), reads the status byte, and then either the server's error message or the
//! size (u64 little-endian), the SHA-256 (32 bytes) and the bytes. The bytes go into a
//! temporary file next to the output, hashed as they are written; only when their count
//! and their SHA-256 match what the server announced is it renamed to the output name. A
//! cut stream, a wrong digest, a server silent for --timeout, Ctrl-C or a closed stdout
//! leaves nothing behind (and an older file of that name untouched).
//!
//! Run it:        cargo run -p tcp-file-download --bin tcp-file-download-client -- welcome.txt -o target
//! With a server: cargo run -p tcp-file-download --bin tcp-file-download-server -- --root lessons/20-tcp-file-download/files
//! You will see:  receiving "welcome.txt": 376 bytes, SHA-256 cdc80aa2... /
//!                saved target/welcome.txt (376 bytes, SHA-256 verified)
//! Try:           ../Cargo.toml, /etc/passwd, or a name that is not there: one line, exit 1

use std::fs::{self, File};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, cause, escaped_bytes, host_port, say};
use sha2::{Digest, Sha256};

/// Download one file from a tcp-file-download server; keep it only if it checks out.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9001)]
    port: u16,
    /// The file to download, relative to the server's root (`notes/a.txt`).
    name: String,
    /// Where to save it: a file name, or a folder to save it in under its own name.
    /// Default: its own name, in the current folder.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Give up when the server sends nothing for SECS (at the answer, the header or in
    /// the middle of the file).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// The status byte: what follows it.
const OK: u8 = 0; // size, digest, bytes
const REFUSED: u8 = 1; // an error message, as one frame

/// The longest error message we accept from a server; a longer length is refused before
/// anything is allocated for it (lesson 10).
const MAX_MESSAGE: usize = 4096;

/// One read from the socket, hashed and written: 1 MiB, so that a 200 MB file takes few
/// system calls.
const BUFFER: usize = 1024 * 1024;

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let (host, port, name) = (args.host.as_str(), args.port, &args.name);
    // Where the file will go, decided before we connect: a mistake here is the user's.
    // `-o FILE`: there; `-o FOLDER`: in it, under the name's last part; no -o: that last
    // part, in the current folder.
    let why = format!("error: {name:?} has no file name to save under: give -o OUT");
    let own_name = Path::new(name).file_name().ok_or(Failure::usage(why));
    let out = match args.output {
        Some(file) if !file.is_dir() => file,
        Some(dir) => dir.join(own_name?),
        None => PathBuf::from(own_name?),
    };

    // 1. socket() + connect(), the name resolved first: a name that does not exist is
    //    told apart from a server that is not there.
    let addr = host_port(host, port);
    let addrs = (host, port).to_socket_addrs().at("resolve", &addr)?;
    let mut conn = TcpStream::connect(addrs.as_slice()).at("connect", &addr)?;
    // settimeout(): a server gone silent (before answering, or in the middle of the file)
    // is given up on, instead of keeping us, and the partial file, waiting for ever.
    let (timeout, secs) = (Some(args.timeout), args.timeout.as_secs_f64());
    conn.set_read_timeout(timeout).at("settimeout", &addr)?;
    conn.set_write_timeout(timeout).at("settimeout", &addr)?;

    // 2. send(): the name as one frame, its length and the name in one write.
    let len = i32::try_from(name.len()).expect("a command-line argument is under 2 GiB");
    let request = [&len.to_le_bytes()[..], name.as_bytes()].concat(); // struct.pack('<i', n)
    conn.write_all(&request).at("send", &addr)?;

    // 3. recv(): the status byte, then the refusal's reason, or the size and the SHA-256.
    //    A read that fails says what it was waiting for, and a timeout for how long; a
    //    read that must fill its buffer (`exact`) fails when the stream ends first.
    let broken = |why: &str| Failure::new(format!("receive {addr}: {why}"));
    let lost = |e: io::Error, what: &str| {
        if !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            return broken(&cause(&e));
        }
        let why = format!("nothing arrived for {secs} s while waiting for {what} (--timeout)");
        broken(&why)
    };
    let recv = |buf: &mut [u8], what: &str| read_full(&conn, buf).map_err(|e| lost(e, what));
    let exact = |buf: &mut [u8], what: &str, unit: &str| -> Result<(), Failure> {
        let (got, want) = (recv(buf, what)?, buf.len());
        let why = format!("stream ended after {got} of {want} {unit}");
        if got < want {
            return Err(broken(&why));
        }
        Ok(())
    };
    let mut status = [0u8; 1];
    if recv(&mut status, "the answer")? == 0 {
        return Err(broken("the server closed without answering"));
    }
    match status[0] {
        OK => {}
        REFUSED => {
            // The reason, one frame: its length is checked before anything is allocated
            // for it. Shown escaped (invalid UTF-8 as �, control characters as \x1b, \n):
            // a server can neither drive our terminal nor start a line of its own.
            let mut len = [0u8; 4];
            exact(&mut len, "the refusal's message", "header bytes")?;
            let len = i32::from_le_bytes(len);
            let Some(len) = usize::try_from(len).ok().filter(|&len| len <= MAX_MESSAGE) else {
                let why = match len {
                    ..0 => "is negative".to_string(),
                    _ => format!("is over the {MAX_MESSAGE}-byte limit for a message"),
                };
                return Err(broken(&format!("frame header: length {len} {why}")));
            };
            let mut message = vec![0u8; len];
            exact(&mut message, "the refusal's message", "message bytes")?;
            let why = format!("the server refused {name:?}: {}", escaped_bytes(&message));
            return Err(Failure::new(format!("download {addr}: {why}")));
        }
        other => return Err(broken(&format!("unknown status byte {other}"))),
    }
    let mut header = [0u8; 8 + 32];
    let (what, unit) = ("the size and SHA-256", "header bytes (size, SHA-256)");
    exact(&mut header, what, unit)?;
    let (size, digest) = header.split_at(8);
    let size = u64::from_le_bytes(size.try_into().expect("split at 8"));

    // 4. The bytes go into a temporary file next to the output (the same folder, so the
    //    rename at the end is one step on one file system): `.NAME.PID.part`, hidden, and
    //    named for this process, so that two downloads of one file can't mix. Ctrl-C (or
    //    SIGTERM, SIGHUP) and a closed stdout (piped into `head`) end the program without
    //    coming back here: their handlers remove the file themselves.
    let own_name = out.file_name().unwrap_or_default().to_string_lossy();
    let temp = out.with_file_name(format!(".{own_name}.{}.part", std::process::id()));
    let mut file = File::create_new(&temp).at("create", temp.display())?; // none already there
    let (t, u) = (temp.clone(), temp.clone()); // each handler keeps a copy
    let _ = ctrlc::set_handler(move || interrupted(&t, "interrupted by a signal: nothing saved"));
    netkit::when_stdout_closes(move || {
        interrupted(&u, "stopped: stdout was closed; no partial file is left")
    });
    say!("receiving {name:?}: {size} bytes, SHA-256 {}", hex(digest));
    //    Each read takes what has come, up to 1 MiB; take(size): never more than is still
    //    due (what comes after the file is not ours). Each piece is hashed and written
    //    before the next read; then the SHA-256 of it all must be the one announced.
    let mut receive = || {
        let (mut hasher, mut buf, mut received) = (Sha256::new(), vec![0u8; BUFFER], 0);
        // exercise receive-hash: read at most size bytes; hash and write each piece as it comes
        let mut body = (&conn).take(size);
        while received < size {
            let n = match body.read(&mut buf) {
                Ok(0) => {
                    let why = format!("stream ended after {received} of {size} bytes");
                    return Err(broken(&why));
                }
                Ok(n) => n,
                // A signal (Ctrl-C) interrupted the read: its handler is ending the program.
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    let what = format!("the file, after {received} of {size} bytes");
                    return Err(lost(e, &what));
                }
            };
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).at("write", temp.display())?;
            received += n as u64;
        }
        // exercise end
        let (announced, got) = (hex(digest), hex(&hasher.finalize()));
        if got != announced {
            let why = format!("the server announced {announced}, the bytes received hash to {got}");
            let line = format!("verify {addr}: SHA-256 mismatch ({why})");
            return Err(Failure::new(line));
        }
        Ok(())
    };

    // 5. Only a file whole and unchanged gets its name. rename() replaces an older file of
    //    that name in one step: whoever opens it sees the old file or the new, never half.
    //    Every failure since the temporary file was made comes back here, which removes it.
    let saved = receive().and_then(|()| fs::rename(&temp, &out).at("save", out.display()));
    if let Err(failure) = saved {
        let _ = fs::remove_file(&temp);
        return Err(Failure::new(format!("{failure}; nothing saved")));
    }
    say!("saved {} ({size} bytes, SHA-256 verified)", out.display());
    Ok(())
}

/// Fill `buf` from `conn`, however many reads that takes (lesson 10's `read_full`).
/// Returns how many bytes came: fewer only if the stream ended first.
fn read_full(mut conn: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match conn.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Remove the partial file, say why we stop, exit 130: Ctrl-C's way out.
fn interrupted(temp: &Path, why: &str) {
    let _ = fs::remove_file(temp);
    eprintln!("{why}");
    std::process::exit(130);
}

/// Bytes as lowercase hex: how a SHA-256 is usually shown (`sha256sum` prints the same).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
