//! tftp-server: a read-only TFTP server: it sends the files of one folder to whoever asks
//! (RRQ), and nothing outside that folder.
//!
//! The listening port only takes requests. Each accepted RRQ gets a thread and a fresh
//! socket on a new port, the server's transfer ID for that download, which sends DATA
//! blocks one at a time and waits for each ACK, sending the block again when none comes
//! (`--timeout`), and giving up after `--retries`. Options: blksize and tsize (RFC
//! 2347-2349; others, `timeout` too, are ignored, as RFC 2347 allows). WRQ (upload) is refused with ERROR 4, a missing file with ERROR 1, a name
//! that would leave the folder (`..`, `/etc/passwd`, a symlink pointing out) or that is
//! not a regular file (a folder, a FIFO) with ERROR 2, and a request beyond
//! `--max-transfers` with ERROR 0 `server busy`.
//!
//! Run it:        cargo run -p tftp-server -- --root lessons/19-tftp-server/sample
//! Then, in another terminal:
//!                cargo run -p tftp-client-v2 -- --port 6969 hello.txt
//! You will see:  listening on 127.0.0.1:6969 / RRQ "hello.txt" octet ... from 127.0.0.1:51234
//!                / sent "hello.txt" to 127.0.0.1:51234: 1257 bytes in 3 blocks of 512 ...
//! Try:           tftp -m binary 127.0.0.1 6969 -c get hello.txt   (Debian's tftp-hpa)

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use netkit::{At, Failure, banner, error_line, escaped, host_port, say};
use tftp_client_v2::packet::{
    self, ACCESS_VIOLATION, DEFAULT_BLKSIZE, FILE_NOT_FOUND, ILLEGAL_OPERATION, MAX_BLKSIZE,
    MIN_BLKSIZE, NOT_DEFINED, Packet, Request, UNKNOWN_TRANSFER_ID, quoted,
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
    /// Seconds to wait for an ACK before sending the block again (at most a day).
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = netkit::seconds)]
    timeout: Duration,
    /// How many times to send a block again before giving up on the transfer.
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    /// How many transfers may run at once (a thread and a socket each); more get ERROR 0
    /// `server busy`.
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..))]
    max_transfers: u16,
}

/// What every transfer thread needs to know.
#[derive(Clone)]
struct Settings {
    host: String,
    timeout: Duration,
    retries: u32,
}

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // The root, with every symlink in it resolved: names are checked against this.
    let root = fs::canonicalize(&args.root).at("root", args.root.display())?;
    if !root.is_dir() {
        let not_dir = io::Error::new(io::ErrorKind::NotADirectory, "not a folder");
        return Err(not_dir).at("root", args.root.display());
    }

    // socket(AF_INET, SOCK_DGRAM) + bind(): the port clients send their requests to.
    let address = host_port(&args.host, args.port);
    let socket = UdpSocket::bind((args.host.as_str(), args.port)).at("bind", &address)?;
    let local = socket.local_addr().at("bind", &address)?;
    banner(local).at("print", "stdout")?;
    let settings = Settings {
        host: args.host.clone(),
        timeout: args.timeout,
        retries: args.retries,
    };
    // How many transfers are running: each holds a thread and a socket, so there is a cap.
    let running = Arc::new(AtomicUsize::new(0));

    // A request is small (RFC 2347 keeps it within 512 bytes); a longer datagram is cut
    // here, loses its last zero byte, and is refused as malformed.
    let mut buf = [0u8; 2048];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            // A failed receive is no reason to stop serving: report it and go on. (On
            // Windows this is also where an ICMP "port unreachable" for an ERROR we sent
            // to a client that has gone shows up, as "connection reset".)
            Err(e) => {
                eprintln!("{}", error_line("receive", local, &e));
                continue;
            }
        };
        // Whatever a peer sends, the answer is at most one packet, and then the next
        // request: a bad packet is reported, not the end of the server.
        let (code, why) = match Packet::parse(&buf[..n]) {
            Ok(Packet::Rrq(request)) => match find_in_root(&root, &request) {
                Ok(_) if running.load(Ordering::SeqCst) >= usize::from(args.max_transfers) => {
                    (NOT_DEFINED, "server busy: try again later".to_string())
                }
                Ok(path) => {
                    say!("{} from {peer}", Packet::Rrq(request.clone()));
                    let name = quoted(&request.filename);
                    let settings = settings.clone();
                    let slot = Slot::take(&running);
                    // A thread per transfer: a slow client doesn't hold up the others. The
                    // file is opened there too: an open can block (a FIFO waits for a
                    // writer), and this thread must go on taking requests.
                    let spawned = thread::Builder::new().spawn(move || {
                        let result = transfer(&settings, peer, &path, &request);
                        drop(slot); // the transfer is over: its slot is free again
                        match result {
                            Ok(sent) => say!("sent {name} to {peer}: {sent}"),
                            Err(failure) => eprintln!("transfer of {name} to {peer}: {failure}"),
                        }
                    });
                    // No thread (out of memory, or of threads): this request is refused,
                    // the server goes on. (The closure, and its slot, are dropped.)
                    match spawned {
                        Ok(_) => continue,
                        Err(e) => (
                            NOT_DEFINED,
                            format!("no thread for the transfer: {}", netkit::cause(&e)),
                        ),
                    }
                }
                Err((code, why)) => (code, format!("{}: {why}", quoted(&request.filename))),
            },
            Ok(Packet::Wrq(request)) => (
                ILLEGAL_OPERATION,
                format!(
                    "{}: this server is read-only (WRQ refused)",
                    quoted(&request.filename)
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
        if let Err(e) = socket.send_to(&Packet::error(code, why).to_bytes(), peer) {
            eprintln!("{}", error_line("send", peer, &e));
        }
    }
}

/// One of the --max-transfers places, held by a transfer's thread; dropping it frees it.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(running: &Arc<AtomicUsize>) -> Slot {
        running.fetch_add(1, Ordering::SeqCst);
        Slot(Arc::clone(running))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Find the requested file inside the root, or say which ERROR to answer. Only looks at
/// names and metadata (nothing here can block on the file): the transfer opens it.
fn find_in_root(root: &Path, request: &Request) -> Result<PathBuf, (u16, String)> {
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
    // What is it? Only a regular file is sent: opening a FIFO would wait for a writer,
    // and a device could be endless.
    match fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => Err((ACCESS_VIOLATION, "not a regular file".into())),
        Err(e) => Err((ACCESS_VIOLATION, netkit::cause(&e))),
    }
}

/// Open the file found by [`find_in_root`] and check it again (it may have been replaced
/// since). Returns the open file and its size, or the ERROR to answer.
fn open_file(path: &Path) -> Result<(File, u64), (u16, String)> {
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => (FILE_NOT_FOUND, "file not found".into()),
        _ => (ACCESS_VIOLATION, netkit::cause(&e)),
    })?;
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok((file, meta.len())),
        Ok(_) => Err((ACCESS_VIOLATION, "not a regular file".into())),
        Err(e) => Err((ACCESS_VIOLATION, netkit::cause(&e))),
    }
}

/// One download, on its own socket: options, then DATA blocks in lock-step. `Ok` says
/// what was sent; `Err` is the reason it ended early.
fn transfer(
    settings: &Settings,
    peer: SocketAddr,
    path: &Path,
    request: &Request,
) -> Result<String, Failure> {
    // A new socket on a port the OS picks: the server's transfer ID. The listening port
    // stays free for the next request, and this socket hears only this transfer.
    let socket =
        UdpSocket::bind((settings.host.as_str(), 0)).at("bind", host_port(&settings.host, 0))?;
    let started = Instant::now();
    let (file, size) = open_file(path).map_err(|(code, why)| {
        let message = format!("{}: {why}", quoted(&request.filename));
        let line = format!("{why} (ERROR {code})");
        refuse(&socket, peer, code, &message, line)
    })?;

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
        let n = read_block(&mut reader, &mut data).map_err(|e| {
            let line = error_line("read", quoted(&request.filename), &e);
            refuse(
                &socket,
                peer,
                NOT_DEFINED,
                "the server cannot read the file",
                line,
            )
        })?;
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
) -> Result<(), Failure> {
    let mut buf = [0u8; 1024];
    for _ in 0..=settings.retries {
        socket.send_to(packet, peer).at("send", peer)?;
        let deadline = Instant::now() + settings.timeout;
        loop {
            // Wait only until this send's deadline, even if strangers keep writing.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket
                .set_read_timeout(Some(left))
                .at("set timeout", peer)?;
            let (n, from) = match socket.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if timed_out(&e) => break,
                // Windows only: an ICMP "port unreachable" for a datagram sent earlier (our
                // ERROR 5 to a stranger who has gone, or a DATA to a client that quit)
                // fails the next recv_from with "connection reset" (WSAECONNRESET; Linux
                // says nothing to an unconnected socket). Nothing arrived: wait on, as after
                // silence, so the retries decide.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    eprintln!(
                        "receive {peer}: connection reset: a datagram met a closed port; going on"
                    );
                    continue;
                }
                Err(e) => return Err(e).at("receive", peer),
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
                    let error = Packet::error(UNKNOWN_TRANSFER_ID, "unknown transfer ID");
                    let _ = socket.send_to(&error.to_bytes(), from);
                }
                continue;
            }
            match Packet::parse(&buf[..n]) {
                Ok(Packet::Ack { block: acked }) if acked == block => return Ok(()),
                // An old ACK (a duplicate, or one that crossed our resend): ignore it.
                Ok(Packet::Ack { .. }) => {}
                Ok(Packet::Error { code, message }) => {
                    let name = packet::error_name(code);
                    let line = format!(
                        "the client sent error {code} ({name}): {}",
                        escaped(&message)
                    );
                    return Err(Failure::new(line));
                }
                Ok(other) => {
                    let why = format!("{other} during a download");
                    return Err(refuse(socket, peer, ILLEGAL_OPERATION, &why, why.clone()));
                }
                Err(bad) => {
                    let line = format!("malformed packet: {bad}");
                    return Err(refuse(socket, peer, ILLEGAL_OPERATION, &bad.0, line));
                }
            }
        }
    }
    // The client is gone, or the network ate everything: say so, to it and to us.
    let tries = settings.retries + 1;
    let why = format!("timed out: no ACK {block} after {tries} tries");
    let secs = settings.timeout.as_secs_f64();
    let line = format!("no ACK {block} after {tries} tries, {secs}s apart: gave up");
    Err(refuse(socket, peer, NOT_DEFINED, &why, line))
}

/// End a transfer early: tell the client why with an ERROR packet (if that is lost, its
/// timer ends its side), and return the line the server prints.
fn refuse(socket: &UdpSocket, peer: SocketAddr, code: u16, why: &str, line: String) -> Failure {
    let _ = socket.send_to(&Packet::error(code, why).to_bytes(), peer);
    Failure::new(line)
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
