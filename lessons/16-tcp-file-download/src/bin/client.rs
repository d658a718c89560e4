//! tcp-file-download-client: download one file from tcp-file-download-server, and keep it
//! only if it arrived whole and unchanged. The course's tcp下载文件 client.
//!
//! It sends the file name as one frame (lesson 10's 4-byte signed little-endian length,
//! then UTF-8), reads the status byte, and then either the server's error message or the
//! size (u64 little-endian), the SHA-256 (32 bytes) and the bytes. The bytes go into a
//! temporary file next to the output; only when their count and their SHA-256 match what
//! the server announced is it renamed to the output name. A cut stream, a wrong digest, a
//! server silent for --timeout, Ctrl-C or a closed stdout leaves nothing behind (and an
//! older file of that name untouched).
//!
//! Run it:        cargo run -p tcp-file-download --bin tcp-file-download-client -- welcome.txt -o /tmp
//! With a server: cargo run -p tcp-file-download --bin tcp-file-download-server -- --root lessons/16-tcp-file-download/files
//! You will see:  receiving "welcome.txt": 376 bytes, SHA-256 affea7e3... /
//!                saved /tmp/welcome.txt (376 bytes, SHA-256 verified)
//! Try:           ../Cargo.toml, /etc/passwd, or a name that is not there: one line, exit 1

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use netkit::{error_line, fail, host_port, say};
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

/// Buffer for the bytes: big enough that a 200 MB file takes few system calls.
const BUFFER: usize = 256 * 1024;

fn main() -> ExitCode {
    let Args {
        host,
        port,
        name,
        output,
        timeout,
    } = Args::parse();

    // Where the file will go, decided before we connect: a mistake here is the user's
    // (exit 2), and the server need not be bothered.
    let out = match output_path(&name, output) {
        Ok(out) => out,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(2);
        }
    };

    // The name to addresses first, so that a name that does not exist is told apart
    // from a server that is not there. Then socket() + connect(): see lesson 01.
    let addr = host_port(&host, port);
    let addrs: Vec<SocketAddr> = match (host.as_str(), port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return fail("resolve", addr, &e),
    };
    let mut conn = match TcpStream::connect(&addrs[..]) {
        Ok(conn) => conn,
        Err(e) => return fail("connect", addr, &e),
    };
    let peer = match conn.peer_addr() {
        Ok(peer) => peer,
        Err(e) => return fail("connect", addr, &e),
    };
    // settimeout(): a server that goes silent (before answering, or in the middle of the
    // file) is given up on after --timeout, instead of keeping us, and the partial file,
    // waiting for ever.
    let timeouts = conn
        .set_read_timeout(Some(timeout))
        .and_then(|()| conn.set_write_timeout(Some(timeout)));
    if let Err(e) = timeouts {
        return fail("settimeout", peer, &e);
    }

    // 1. The request: the name as one frame, header and body in one write.
    let Ok(len) = i32::try_from(name.len()) else {
        eprintln!("error: the name is longer than a 4-byte signed length can say");
        return ExitCode::from(2);
    };
    let mut request = len.to_le_bytes().to_vec(); // struct.pack('<i', len(name))
    request.extend_from_slice(name.as_bytes());
    if let Err(e) = conn.write_all(&request) {
        return fail("send", peer, &e);
    }

    // 2. The answer starts with the status byte.
    let mut status = [0u8; 1];
    match read_full(&mut conn, &mut status) {
        Ok(1) => {}
        Ok(_) => {
            return stop(format!(
                "receive {peer}: the server closed without answering"
            ));
        }
        Err(e) => return stop(receive_error(peer, "the answer", &e, timeout)),
    }
    match status[0] {
        OK => {}
        REFUSED => {
            // The server said no, and why, as one frame.
            return match read_message(&mut conn, peer, timeout) {
                Ok(why) => stop(format!(
                    "download {peer}: the server refused {name:?}: {why}"
                )),
                Err(line) => stop(line),
            };
        }
        other => return stop(format!("receive {peer}: unknown status byte {other}")),
    }

    // 3. What the file will be: its size (u64 little-endian) and its SHA-256.
    let mut header = [0u8; 8 + 32];
    match read_full(&mut conn, &mut header) {
        Ok(40) => {}
        Ok(got) => {
            return stop(format!(
                "receive {peer}: stream ended after {got} of 40 header bytes (size, SHA-256)"
            ));
        }
        Err(e) => return stop(receive_error(peer, "the size and SHA-256", &e, timeout)),
    }
    let (size_bytes, digest) = header.split_at(8);
    let mut size = [0u8; 8];
    size.copy_from_slice(size_bytes);
    let size = u64::from_le_bytes(size);

    // 4. The bytes, into a temporary file next to the output (the same folder, so the
    //    rename at the end is one atomic step on one file system).
    let mut partial = match Partial::create(&out) {
        Ok(partial) => partial,
        Err(line) => return stop(line),
    };
    // Ctrl-C (or SIGTERM, SIGHUP) would end the process in the middle of a write, and the
    // partial file would stay. The handler runs on a thread of its own: it removes the
    // file, then exits. (It can't tell which signal came: the message fits all three.)
    let temp = partial.path.clone();
    let _ =
        ctrlc::set_handler(move || interrupted(&temp, "interrupted by a signal: nothing saved"));
    // Piped into `head`, which has seen enough: stop the same way.
    let temp = partial.path.clone();
    netkit::when_stdout_closes(move || {
        interrupted(&temp, "stopped: stdout was closed; no partial file is left");
    });
    say!("receiving {name:?}: {size} bytes, SHA-256 {}", hex(digest));

    // A progress bar, but only for a person watching: into a pipe or a log it would be
    // noise. (indicatif also redraws at most ~20 times a second, whatever the speed.)
    let bar = if io::stdout().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stdout());
        if let Ok(style) =
            ProgressStyle::with_template("[{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        ProgressBar::hidden()
    };

    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUFFER];
    let mut received: u64 = 0;
    while received < size {
        // Ask for no more than is still due: what comes after the file is not ours.
        let want = usize::try_from(size - received).map_or(BUFFER, |left| left.min(BUFFER));
        let n = match conn.read(&mut buf[..want]) {
            Ok(0) => {
                bar.abandon();
                return stop(format!(
                    "receive {peer}: stream ended after {received} of {size} bytes; nothing saved"
                ));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.abandon();
                let what = format!("the file, after {received} of {size} bytes");
                let line = receive_error(peer, &what, &e, timeout);
                return stop(format!("{line}; nothing saved"));
            }
        };
        hasher.update(&buf[..n]);
        if let Err(e) = partial.file.write_all(&buf[..n]) {
            bar.abandon();
            let line = error_line("write", partial.path.display(), &e);
            return stop(format!("{line}; nothing saved"));
        }
        received += n as u64;
        bar.set_position(received);
    }
    bar.finish_and_clear();

    // 5. All `size` bytes are here. Are they the bytes the server hashed?
    let got: [u8; 32] = hasher.finalize().into();
    if got[..] != *digest {
        return stop(format!(
            "verify {peer}: SHA-256 mismatch (the server announced {}, the bytes received hash to {}); nothing saved",
            hex(digest),
            hex(&got)
        ));
    }

    // 6. Only now does the file get its name. rename() replaces an older file of that name
    //    in one step: anyone opening it sees the old file or the new one, never half.
    if let Err(line) = partial.keep(&out) {
        return stop(line);
    }
    say!("saved {} ({size} bytes, SHA-256 verified)", out.display());
    ExitCode::SUCCESS
}

/// Where to save `name`: `output` if it is a file name; inside `output` if it is a folder;
/// else the name's last part in the current folder. `Err` is a usage error.
fn output_path(name: &str, output: Option<PathBuf>) -> Result<PathBuf, String> {
    let own_name = Path::new(name).file_name();
    let needs_own_name =
        || own_name.ok_or_else(|| format!("{name:?} has no file name to save under: give -o OUT"));
    match output {
        Some(dir) if dir.is_dir() => Ok(dir.join(needs_own_name()?)),
        Some(file) => Ok(file),
        None => Ok(PathBuf::from(needs_own_name()?)),
    }
}

/// A temporary file that removes itself when dropped, unless [`Partial::keep`] has given
/// it its final name. Every early `return` in `main` drops it: no partial file survives.
struct Partial {
    path: PathBuf,
    file: File,
    kept: bool,
}

impl Partial {
    /// `.NAME.PID.part` in the output's folder: hidden, and named for this process, so two
    /// downloads of the same file at once don't write into each other's file.
    fn create(out: &Path) -> Result<Partial, String> {
        let folder = match out.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        let own_name = out.file_name().unwrap_or_default().to_string_lossy();
        let path = folder.join(format!(".{own_name}.{}.part", std::process::id()));
        // create_new: fail rather than write into a file that is already there.
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => Ok(Partial {
                path,
                file,
                kept: false,
            }),
            Err(e) => Err(error_line("create", path.display(), &e)),
        }
    }

    /// Close the file and rename it to `out`.
    fn keep(mut self, out: &Path) -> Result<(), String> {
        if let Err(e) = self.file.flush() {
            return Err(format!(
                "{}; nothing saved",
                error_line("write", self.path.display(), &e)
            ));
        }
        match fs::rename(&self.path, out) {
            Ok(()) => {
                self.kept = true;
                Ok(())
            }
            Err(e) => Err(format!(
                "{}; nothing saved",
                error_line("save", out.display(), &e)
            )),
        }
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Read the error message frame: a 4-byte signed little-endian length, checked before
/// anything is allocated, then that many bytes of UTF-8.
fn read_message(
    conn: &mut TcpStream,
    peer: SocketAddr,
    timeout: Duration,
) -> Result<String, String> {
    let what = "the refusal's message";
    let mut header = [0u8; 4];
    let got = read_full(conn, &mut header).map_err(|e| receive_error(peer, what, &e, timeout))?;
    if got < 4 {
        return Err(format!(
            "receive {peer}: stream ended after {got} of 4 header bytes"
        ));
    }
    let len = i32::from_le_bytes(header);
    let Ok(len) = usize::try_from(len) else {
        return Err(format!(
            "receive {peer}: frame header: length {len} is negative"
        ));
    };
    if len > MAX_MESSAGE {
        return Err(format!(
            "receive {peer}: frame header: length {len} is over the {MAX_MESSAGE}-byte limit for a message"
        ));
    }
    let mut message = vec![0u8; len];
    let got = read_full(conn, &mut message).map_err(|e| receive_error(peer, what, &e, timeout))?;
    if got < len {
        return Err(format!(
            "receive {peer}: stream ended after {got} of {len} message bytes"
        ));
    }
    // Text from the network, on its way to a terminal: invalid UTF-8 shown as �, and
    // control characters escaped, so a server can't send escape sequences to our screen
    // or start a line of its own.
    Ok(netkit::escaped_bytes(&message))
}

/// The line for a read that failed while waiting for `what`: a timeout says how long it
/// waited, and for what.
fn receive_error(peer: SocketAddr, what: &str, e: &io::Error, timeout: Duration) -> String {
    if matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        format!(
            "receive {peer}: nothing arrived for {} s while waiting for {what} (--timeout)",
            timeout.as_secs_f64()
        )
    } else {
        error_line("receive", peer, e)
    }
}

/// Remove the partial file, say why we stop, exit 130: Ctrl-C's way out.
fn interrupted(temp: &Path, why: &str) {
    let _ = fs::remove_file(temp);
    eprintln!("{why}");
    std::process::exit(130);
}

/// Fill `buf` from `reader`, however many reads that takes (lesson 10's `read_full`).
/// Returns how many bytes arrived: fewer than `buf.len()` only if the stream ended first.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Bytes as lowercase hex: how a SHA-256 is usually shown (`sha256sum` prints the same).
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Print the one error line; exit 1.
fn stop(line: String) -> ExitCode {
    eprintln!("{line}");
    ExitCode::from(1)
}
