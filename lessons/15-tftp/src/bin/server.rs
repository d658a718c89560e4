//! tftp-server: a read-only TFTP server: it sends the files of one folder to whoever asks
//! (RRQ), and nothing outside that folder.
//!
//! The listening port only takes requests. Each accepted RRQ gets a thread and a fresh
//! socket on a new port, the server's transfer ID for that download, which sends DATA
//! blocks one at a time and waits for each ACK, sending the block again when none comes
//! (`--timeout`), and giving up after `--retries`. Options: blksize and tsize (RFC
//! 2347-2349). WRQ (upload) is refused with ERROR 4, a missing file with ERROR 1, a name
//! that would leave the folder (`..`, `/etc/passwd`, a symlink pointing out) with ERROR 2.
//!
//! Run it:        cargo run -p tftp --bin tftp-server -- --root lessons/15-tftp/sample
//! Then, in another terminal:
//!                cargo run -p tftp --bin tftp-client -- 127.0.0.1:6969 hello.txt
//! You will see:  listening on 127.0.0.1:6969 / RRQ from 127.0.0.1:51234: "hello.txt" ... /
//!                sent "hello.txt" to 127.0.0.1:51234: 1300 bytes in 3 blocks ...
//! Try:           tftp -m binary 127.0.0.1 6969 -c get hello.txt   (Debian's tftp-hpa)

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use netkit::{banner, error_line, fail};
use tftp::packet::{
    self, ACCESS_VIOLATION, DEFAULT_BLKSIZE, FILE_NOT_FOUND, ILLEGAL_OPERATION, MAX_BLKSIZE,
    MIN_BLKSIZE, NOT_DEFINED, Packet, Request, UNKNOWN_TRANSFER_ID,
};

/// A read-only TFTP server for the files under one folder (RFC 1350, octet mode).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The folder to serve. Nothing outside it can be read.
    #[arg(long, value_name = "DIR")]
    root: PathBuf,
    /// Address to bind (0.0.0.0 lets other machines ask).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port for requests (TFTP's own is 69, which needs root; 0 asks the OS for a free one).
    #[arg(long, default_value_t = 6969)]
    port: u16,
    /// Seconds to wait for an ACK before sending the block again.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = seconds)]
    timeout: Duration,
    /// How many times to send a block again before giving up on the transfer.
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
}

/// What every transfer thread needs to know.
#[derive(Clone)]
struct Settings {
    host: String,
    timeout: Duration,
    retries: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The root, with every symlink in it resolved: names are checked against this.
    let root = match fs::canonicalize(&args.root) {
        Ok(root) if root.is_dir() => root,
        Ok(_) => {
            let not_dir = io::Error::new(io::ErrorKind::NotADirectory, "not a folder");
            return fail("root", args.root.display(), &not_dir);
        }
        Err(e) => return fail("root", args.root.display(), &e),
    };

    // socket(AF_INET, SOCK_DGRAM) + bind(): the port clients send their requests to.
    let socket = match UdpSocket::bind((args.host.as_str(), args.port)) {
        Ok(socket) => socket,
        Err(e) => return fail("bind", format_args!("{}:{}", args.host, args.port), &e),
    };
    let local = match socket.local_addr() {
        Ok(local) => local,
        Err(e) => return fail("bind", format_args!("{}:{}", args.host, args.port), &e),
    };
    if let Err(e) = banner(local) {
        return fail("print", "stdout", &e);
    }
    let settings = Settings {
        host: args.host.clone(),
        timeout: args.timeout,
        retries: args.retries,
    };

    // A request is small (RFC 2347 keeps it within 512 bytes); a longer datagram is cut
    // here, loses its last zero byte, and is refused as malformed.
    let mut buf = [0u8; 2048];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) => {
                eprintln!("{}", error_line("receive", local, &e));
                continue;
            }
        };
        // Whatever a peer sends, the answer is at most one packet, and then the next
        // request: a bad packet is reported, not the end of the server.
        let (code, why) = match Packet::parse(&buf[..n]) {
            Ok(Packet::Rrq(request)) => match open_in_root(&root, &request) {
                Ok((file, size)) => {
                    println!("{} from {peer}", Packet::Rrq(request.clone()));
                    let settings = settings.clone();
                    // A thread per transfer: a slow client doesn't hold up the others.
                    thread::spawn(move || {
                        let name = request.filename.clone();
                        match transfer(&settings, peer, file, size, &request) {
                            Ok(sent) => println!("sent {name:?} to {peer}: {sent}"),
                            Err(why) => eprintln!("transfer of {name:?} to {peer}: {why}"),
                        }
                    });
                    continue;
                }
                Err((code, why)) => (code, format!("{:?}: {why}", request.filename)),
            },
            Ok(Packet::Wrq(request)) => (
                ILLEGAL_OPERATION,
                format!(
                    "{:?}: this server is read-only (WRQ refused)",
                    request.filename
                ),
            ),
            // Never answer an ERROR with an ERROR: two programs could bounce them for ever.
            Ok(error @ Packet::Error { .. }) => {
                eprintln!("{error} from {peer} on the request port: ignored");
                continue;
            }
            Ok(other) => (
                ILLEGAL_OPERATION,
                format!("{other} on the request port: only RRQ and WRQ belong here"),
            ),
            Err(bad) => (ILLEGAL_OPERATION, format!("malformed packet: {bad}")),
        };
        eprintln!("refused {peer}: {why} (ERROR {code})");
        let error = Packet::Error { code, message: why };
        if let Err(e) = socket.send_to(&error.to_bytes(), peer) {
            eprintln!("{}", error_line("send", peer, &e));
        }
    }
}

/// Find the requested file inside the root and open it, or say which ERROR to answer.
/// Returns the open file and its size.
fn open_in_root(root: &Path, request: &Request) -> Result<(File, u64), (u16, String)> {
    if request.mode != "octet" {
        let why = format!(
            "mode {} is not supported, only octet (with tftp: `mode binary` or -m binary)",
            request.mode
        );
        return Err((ILLEGAL_OPERATION, why));
    }
    // Only plain names inside the root: `a/b.txt` yes; `/etc/passwd`, `../x`, `a/../../x` no.
    let name = Path::new(&request.filename);
    for part in name.components() {
        match part {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err((ACCESS_VIOLATION, "`..` may not leave the root".into()));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err((ACCESS_VIOLATION, "absolute paths are refused".into()));
            }
        }
    }
    // Resolve symlinks, then check again: a link may point anywhere.
    let path = match fs::canonicalize(root.join(name)) {
        Ok(path) => path,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err((FILE_NOT_FOUND, "file not found".into()));
        }
        Err(e) => return Err((ACCESS_VIOLATION, netkit::cause(&e))),
    };
    if !path.starts_with(root) {
        return Err((ACCESS_VIOLATION, "it leads outside the root".into()));
    }
    let file = File::open(&path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => (FILE_NOT_FOUND, "file not found".into()),
        _ => (ACCESS_VIOLATION, netkit::cause(&e)),
    })?;
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok((file, meta.len())),
        Ok(_) => Err((FILE_NOT_FOUND, "not a file".into())),
        Err(e) => Err((ACCESS_VIOLATION, netkit::cause(&e))),
    }
}

/// One download, on its own socket: options, then DATA blocks in lock-step. `Ok` says
/// what was sent; `Err` is the reason it ended early.
fn transfer(
    settings: &Settings,
    peer: SocketAddr,
    file: File,
    size: u64,
    request: &Request,
) -> Result<String, String> {
    // A new socket on a port the OS picks: the server's transfer ID. The listening port
    // stays free for the next request, and this socket hears only this transfer.
    let socket = UdpSocket::bind((settings.host.as_str(), 0))
        .map_err(|e| error_line("bind", format_args!("{}:0", settings.host), &e))?;
    let started = Instant::now();

    // Options (RFC 2347): answer the ones we know with an OACK and wait for ACK 0. A
    // block size we can't give is lowered to ours; nonsense is ignored, as the RFC says.
    let mut blksize = DEFAULT_BLKSIZE;
    let mut accepted = Vec::new();
    if let Some(Ok(asked)) = packet::option(&request.options, "blksize").map(str::parse::<usize>) {
        if asked >= MIN_BLKSIZE {
            blksize = asked.min(MAX_BLKSIZE);
            accepted.push(("blksize".to_string(), blksize.to_string()));
        }
    }
    if packet::option(&request.options, "tsize").is_some() {
        accepted.push(("tsize".to_string(), size.to_string()));
    }
    if !accepted.is_empty() {
        let oack = Packet::Oack { options: accepted };
        lock_step(&socket, peer, settings, &oack.to_bytes(), 0)?;
    }

    // The blocks: 1, 2, 3, ... (65535 is followed by 0, as tftpd-hpa does), each sent
    // once its predecessor is ACKed. The last one is shorter than blksize, 0 bytes
    // when the size is a multiple of it: that is how the client knows it's over.
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut data = vec![0u8; blksize];
    let mut block: u16 = 1;
    let mut blocks: u64 = 0;
    let mut bytes: u64 = 0;
    loop {
        let n = match read_block(&mut reader, &mut data) {
            Ok(n) => n,
            Err(e) => {
                let error = Packet::Error {
                    code: NOT_DEFINED,
                    message: "the server cannot read the file".into(),
                };
                let _ = socket.send_to(&error.to_bytes(), peer);
                return Err(error_line("read", &request.filename, &e));
            }
        };
        let packet = Packet::Data {
            block,
            data: &data[..n],
        };
        lock_step(&socket, peer, settings, &packet.to_bytes(), block)?;
        blocks += 1;
        bytes += n as u64;
        if n < blksize {
            return Ok(format!(
                "{bytes} bytes in {blocks} blocks of {blksize} in {:.3}s",
                started.elapsed().as_secs_f64()
            ));
        }
        block = block.wrapping_add(1);
    }
}

/// Send `packet` and wait for `ACK block`: the heart of TFTP. On a timeout send it again,
/// up to --retries times. Only the timer resends: a duplicate ACK (of the block before)
/// is ignored, never answered with the block again — answering it is the sorcerer's
/// apprentice bug, which doubles every packet from then on.
fn lock_step(
    socket: &UdpSocket,
    peer: SocketAddr,
    settings: &Settings,
    packet: &[u8],
    block: u16,
) -> Result<(), String> {
    let mut buf = [0u8; 1024];
    for _ in 0..=settings.retries {
        socket
            .send_to(packet, peer)
            .map_err(|e| error_line("send", peer, &e))?;
        let deadline = Instant::now() + settings.timeout;
        loop {
            // Wait only until this send's deadline, even if strangers keep writing.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket
                .set_read_timeout(Some(left))
                .map_err(|e| error_line("set timeout", peer, &e))?;
            let (n, from) = match socket.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if timed_out(&e) => break,
                Err(e) => return Err(error_line("receive", peer, &e)),
            };
            if from != peer {
                // Someone else wrote to this transfer's port. Tell them (unless it is an
                // ERROR: never answer one with another), and carry on.
                if matches!(Packet::parse(&buf[..n]), Ok(Packet::Error { .. })) {
                    eprintln!("ERROR from {from} on the transfer port of {peer}: ignored");
                } else {
                    eprintln!(
                        "packet from {from} on the transfer port of {peer}: answered ERROR 5"
                    );
                    let error = Packet::Error {
                        code: UNKNOWN_TRANSFER_ID,
                        message: "unknown transfer ID".into(),
                    };
                    let _ = socket.send_to(&error.to_bytes(), from);
                }
                continue;
            }
            match Packet::parse(&buf[..n]) {
                Ok(Packet::Ack { block: acked }) if acked == block => return Ok(()),
                // An old ACK (a duplicate, or one that crossed our resend): ignore it.
                Ok(Packet::Ack { .. }) => {}
                Ok(Packet::Error { code, message }) => {
                    return Err(format!(
                        "the client sent error {code} ({}): {message}",
                        packet::error_name(code)
                    ));
                }
                Ok(other) => {
                    let why = format!("{other} during a download");
                    let error = Packet::Error {
                        code: ILLEGAL_OPERATION,
                        message: why.clone(),
                    };
                    let _ = socket.send_to(&error.to_bytes(), peer);
                    return Err(why);
                }
                Err(bad) => {
                    let error = Packet::Error {
                        code: ILLEGAL_OPERATION,
                        message: bad.0.clone(),
                    };
                    let _ = socket.send_to(&error.to_bytes(), peer);
                    return Err(format!("malformed packet: {bad}"));
                }
            }
        }
    }
    // The client is gone, or the network ate everything: say so, to it and to us.
    let tries = settings.retries + 1;
    let error = Packet::Error {
        code: NOT_DEFINED,
        message: format!("timed out: no ACK {block} after {tries} tries"),
    };
    let _ = socket.send_to(&error.to_bytes(), peer);
    Err(format!(
        "no ACK {block} after {tries} tries, {}s apart: gave up",
        settings.timeout.as_secs_f64()
    ))
}

/// Fill `buf` from the file, unless the file ends first; returns how much was read.
/// (One `read` may return less than asked even before the end.)
fn read_block(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
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

/// Did recv_from give up because of the read timeout?
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// `--timeout`: a number of seconds above 0 (`2`, `0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>().map(Duration::try_from_secs_f64) {
        Ok(Ok(secs)) if !secs.is_zero() => Ok(secs),
        _ => Err(format!("{text:?} is not a number of seconds above 0")),
    }
}
