//! tftp-client: the course's TFTP downloader: ask a TFTP server for a file (RRQ), write
//! each DATA block as it arrives, ACK it, and stop at the block that is shorter than the
//! others.
//!
//! TFTP runs on UDP, which loses packets and says nothing, so the protocol does the rest:
//! lock-step (one block in flight, each one ACKed), a timer (send the last packet again
//! when no answer comes), and transfer IDs (the server answers from a new port, and the
//! client talks only to that port from then on). Options (RFC 2347-2349): `--blksize N`
//! asks for bigger blocks, and the client always asks for `tsize`, the file's size.
//!
//! Run it:        cargo run -p tftp --bin tftp-server -- --root lessons/15-tftp/sample
//! Then, in another terminal:
//!                cargo run -p tftp --bin tftp-client -- 127.0.0.1:6969 hello.txt --trace
//! You will see:  → 127.0.0.1:6969  RRQ "hello.txt" octet tsize=0 / ← OACK tsize=1300 /
//!                → ACK 0 / ← DATA 1 (512 bytes) / → ACK 1 / ... / saved to hello.txt
//! Try:           a real server: in.tftpd (Debian's tftpd-hpa), see the README.

use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser, error::ErrorKind};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use netkit::{error_line, escaped, say};
use tftp::packet::{
    self, DEFAULT_BLKSIZE, ILLEGAL_OPERATION, MAX_BLKSIZE, MIN_BLKSIZE, NOT_DEFINED,
    OPTION_REFUSED, Packet, Request, UNKNOWN_TRANSFER_ID, quoted,
};

/// Download one file from a TFTP server (RFC 1350, octet mode).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server: HOST or HOST:PORT (TFTP's port is 69).
    server: String,
    /// The file to ask for, as the server names it.
    file: String,
    /// Where to save it (default: the last part of FILE, in the current folder).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Ask for blocks of N bytes instead of 512 (RFC 2348: 8 to 65464).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(8..=65464))]
    blksize: Option<u16>,
    /// Seconds to wait for an answer before sending the last packet again (at most a day).
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = netkit::seconds)]
    timeout: Duration,
    /// How many times to send a packet again before giving up.
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    /// Print every packet sent (→) and received (←).
    #[arg(long)]
    trace: bool,
}

/// TFTP's well-known port: where a server waits for requests.
const TFTP_PORT: u16 = 69;

fn main() -> ExitCode {
    let args = Args::parse();
    let server = match server_address(&args.server) {
        Ok(server) => server,
        Err(line) => {
            eprintln!("{line}");
            return ExitCode::from(1);
        }
    };
    // The file is saved under the last part of its name unless -o says otherwise.
    let output = match args.output.clone() {
        Some(output) => output,
        None => match Path::new(&args.file).file_name() {
            Some(name) => PathBuf::from(name),
            None => usage(format!(
                "{:?} has no file name to save under: use -o",
                args.file
            )),
        },
    };
    // Where the file goes is checked before we ask for it: a download that cannot be
    // saved must fail now, not after its last block.
    if output.is_dir() {
        usage(format!(
            "{} is a folder: give -o the name of the file to save",
            output.display()
        ));
    }

    // socket(AF_INET, SOCK_DGRAM), bound to any free port: that port is OUR transfer ID,
    // the number the server will send every packet of this transfer to.
    let any = match server {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let socket = match UdpSocket::bind(any) {
        Ok(socket) => socket,
        Err(e) => return netkit::fail("bind", any, &e),
    };
    // settimeout(): recv_from gives up after this long, and we send the last packet again.
    if let Err(e) = socket.set_read_timeout(Some(args.timeout)) {
        return netkit::fail("set timeout", any, &e);
    }

    // Write into a hidden temporary file next to the output, and give it its real name
    // only when the last block is in: a failed download leaves no half file behind.
    let temp = temporary_name(&output);
    let file = match OpenOptions::new().write(true).create_new(true).open(&temp) {
        Ok(file) => file,
        Err(e) => return netkit::fail("create", temp.display(), &e),
    };
    // Ctrl-C (or SIGTERM, SIGHUP) is a failed download too: take the temporary file away
    // before leaving. A closed stdout (`tftp-client ... | head -1`) stops us the same way.
    let cleanup = temp.clone();
    let _ = ctrlc::set_handler(move || stop(&cleanup));
    let cleanup = temp.clone();
    netkit::when_stdout_closes(move || stop(&cleanup));

    // A 64 KiB buffer between us and the disk: one write per 128 blocks of 512, not one each.
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let started = Instant::now();
    let result = download(&socket, server, &args, &mut out);
    let result = result.and_then(|got| match out.flush() {
        Ok(()) => Ok(got),
        Err(e) => Err(error_line("write", temp.display(), &e)),
    });
    let got = match result {
        Ok(got) => got,
        Err(line) => {
            drop(out);
            let _ = fs::remove_file(&temp);
            eprintln!("{line}");
            return ExitCode::from(1);
        }
    };
    drop(out);
    if let Err(e) = fs::rename(&temp, &output) {
        let _ = fs::remove_file(&temp);
        return netkit::fail("rename", output.display(), &e);
    }
    say!(
        "received {} bytes in {} blocks of {} in {:.3}s, saved to {}",
        got.bytes,
        got.blocks,
        got.blksize,
        started.elapsed().as_secs_f64(),
        output.display()
    );
    ExitCode::SUCCESS
}

/// Stop an unfinished download: remove its temporary file, exit as Ctrl-C does.
fn stop(temp: &Path) {
    let _ = fs::remove_file(temp);
    std::process::exit(130);
}

/// What a finished download counted.
struct Received {
    bytes: u64,
    blocks: u64,
    blksize: usize,
}

/// The whole conversation with the server: RRQ, then DATA/ACK in lock-step until the
/// short block. `Err` is the one line to print.
fn download(
    socket: &UdpSocket,
    server: SocketAddr,
    args: &Args,
    out: &mut impl Write,
) -> Result<Received, String> {
    // The options we ask for (RFC 2347): a block size if given, and always tsize=0,
    // "tell me the file's size" (RFC 2349), which the progress bar uses.
    let mut options = Vec::new();
    if let Some(n) = args.blksize {
        options.push(("blksize".to_string(), n.to_string()));
    }
    options.push(("tsize".to_string(), "0".to_string()));
    let requested = usize::from(args.blksize.unwrap_or(DEFAULT_BLKSIZE as u16));
    let rrq = Packet::Rrq(Request {
        filename: args.file.clone(),
        mode: "octet".to_string(),
        options,
    });
    say!(
        "asking {server} for {:?} (octet{})",
        args.file,
        match args.blksize {
            Some(n) => format!(", blksize {n}, tsize"),
            None => ", tsize".to_string(),
        }
    );

    // The transfer, as the state we keep between packets.
    let mut peer: Option<SocketAddr> = None; // the server's transfer ID, once it answered
    let mut blksize = DEFAULT_BLKSIZE; // 512 unless an OACK says otherwise
    let mut expected: u16 = 1; // the next block number; it wraps 65535 → 0, as tftpd-hpa does
    let mut received = Received {
        bytes: 0,
        blocks: 0,
        blksize,
    };
    let mut progress = None;
    // The last packet we sent: on a timeout, it goes out again.
    let mut last = rrq.to_bytes();
    let mut last_shown = rrq.to_string();
    send(socket, &last, server, args.trace, &last_shown)?;
    let mut tries = 1; // how many times `last` has been sent
    let mut deadline = Instant::now() + args.timeout;
    let mut timeout_now = args.timeout; // what the socket's read timeout is set to
    let mut interrupted = false; // did a packet that was not the answer come meanwhile?
    // Room for the largest UDP datagram: recv_from cuts a longer datagram to the buffer's
    // size, so a smaller buffer would hide how long an oversized DATA really was.
    let mut buf = vec![0u8; 65_536];

    loop {
        // Wait for the next datagram until the deadline of the last send. Usually that
        // is the whole --timeout, already set on the socket. After a packet that was not
        // the answer (a stranger's, a duplicate) only what is left of it: such packets
        // must not keep pushing our timeout away.
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = if interrupted { left } else { args.timeout };
        if wait != timeout_now && !wait.is_zero() {
            socket
                .set_read_timeout(Some(wait))
                .map_err(|e| error_line("set timeout", server, &e))?;
            timeout_now = wait;
        }
        let got = if wait.is_zero() {
            Err(io::Error::from(io::ErrorKind::WouldBlock))
        } else {
            socket.recv_from(&mut buf)
        };
        let (n, from) = match got {
            Ok(got) => got,
            Err(e) if timed_out(&e) => {
                // Nothing came: our packet or the answer was lost. Send ours again, up to
                // --retries times. Only the receiver's timer does this: resending on
                // anything else is the sorcerer's apprentice bug (see the README).
                let to = peer.unwrap_or(server);
                if tries > args.retries {
                    return Err(format!(
                        "receive {to}: no answer to {last_shown} after {tries} tries, {}s apart: giving up",
                        args.timeout.as_secs_f64()
                    ));
                }
                send(
                    socket,
                    &last,
                    to,
                    args.trace,
                    &format!("{last_shown} (again)"),
                )?;
                tries += 1;
                deadline = Instant::now() + args.timeout;
                interrupted = false;
                continue;
            }
            // A signal came (Ctrl-C): with a read timeout set, the kernel does not restart
            // recv_from, even under SA_RESTART. Wait again; the Ctrl-C handler ends us.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(error_line("receive", peer.unwrap_or(server), &e)),
        };
        let datagram = &buf[..n];

        // Who sent it? The first answer from the server's machine fixes its transfer ID
        // (in.tftpd answers from a new port, not 69). Anything from another port belongs
        // to some other conversation: tell its sender ERROR 5 and carry on.
        let from_peer = match peer {
            Some(tid) => from == tid,
            None => from.ip() == server.ip(),
        };
        if !from_peer {
            // Never answer an ERROR with an ERROR: two programs could bounce them for ever.
            if matches!(Packet::parse(datagram), Ok(Packet::Error { .. })) {
                eprintln!("ignored an ERROR from {from}, which is not this transfer's server");
            } else {
                eprintln!(
                    "ignored a packet from {from}, which is not this transfer's server (answered ERROR 5)"
                );
                let error = error_packet(UNKNOWN_TRANSFER_ID, "unknown transfer ID");
                send(
                    socket,
                    &error.to_bytes(),
                    from,
                    args.trace,
                    &error.to_string(),
                )?;
            }
            interrupted = true;
            continue;
        }
        let packet = match Packet::parse(datagram) {
            Ok(packet) => packet,
            Err(bad) => {
                let error = error_packet(ILLEGAL_OPERATION, &bad.0);
                let _ = socket.send_to(&error.to_bytes(), from);
                return Err(format!("receive {from}: malformed packet: {bad}"));
            }
        };
        if peer.is_none() {
            peer = Some(from);
            if !matches!(packet, Packet::Error { .. }) {
                say!("the server answers from {from}: its transfer ID for this download");
            }
        }
        if args.trace {
            say!("← {from}  {packet}");
        }

        match packet {
            // A second OACK means our ACK 0 was lost: ACK it again, without starting the
            // timer again (a server repeating its OACK for ever must not keep us for ever).
            Packet::Oack { .. } if received.blocks == 0 && progress.is_some() => {
                send(socket, &last, from, args.trace, "ACK 0 (again)")?;
                interrupted = true;
                continue;
            }
            // The server accepted some of our options (RFC 2347): it answers with OACK
            // instead of DATA 1, and waits for ACK 0.
            Packet::Oack { options } if received.blocks == 0 => {
                let (size, total) = match accepted(&options, requested) {
                    Ok(accepted) => accepted,
                    Err(why) => {
                        let error = error_packet(OPTION_REFUSED, &why);
                        let _ = socket.send_to(&error.to_bytes(), from);
                        return Err(format!("receive {from}: bad OACK: {why}"));
                    }
                };
                say!(
                    "OACK: blksize {size}{}",
                    total.map_or(String::new(), |t| format!(", tsize {t}"))
                );
                progress = Some(progress_bar(total));
                blksize = size;
                last = Packet::Ack { block: 0 }.to_bytes();
                last_shown = "ACK 0".to_string();
            }
            // The block we wait for: write it, ACK it. A block shorter than blksize
            // (0 bytes too, when the size is a multiple of blksize) is the last one.
            Packet::Data { block, data } if block == expected => {
                if received.blocks == 0 && progress.is_none() {
                    // DATA 1 without an OACK: the server ignored our options (RFC 1350
                    // servers do), so the blocks are 512 bytes and the size is unknown.
                    say!("no OACK: the server ignored the options, blksize {blksize}");
                    progress = Some(progress_bar(None));
                }
                if data.len() > blksize {
                    let why = format!(
                        "DATA {block} has {} bytes, over blksize {blksize}",
                        data.len()
                    );
                    let error = error_packet(ILLEGAL_OPERATION, &why);
                    let _ = socket.send_to(&error.to_bytes(), from);
                    return Err(format!("receive {from}: {why}"));
                }
                if let Err(e) = out.write_all(data) {
                    let error = error_packet(NOT_DEFINED, "the client cannot write the file");
                    let _ = socket.send_to(&error.to_bytes(), from);
                    return Err(error_line("write", args.output_name(), &e));
                }
                received.bytes += data.len() as u64;
                received.blocks += 1;
                received.blksize = blksize;
                if let Some(bar) = &progress {
                    bar.inc(data.len() as u64);
                }
                last = Packet::Ack { block }.to_bytes();
                last_shown = format!("ACK {block}");
                if data.len() < blksize {
                    // The last ACK goes out once. If it is lost the server sends the
                    // block again and, hearing nothing, gives up: we have the file.
                    send(socket, &last, from, args.trace, &last_shown)?;
                    if let Some(bar) = &progress {
                        bar.finish_and_clear();
                    }
                    return Ok(received);
                }
                expected = expected.wrapping_add(1);
            }
            // The block before the one we wait for: our ACK for it was lost (or is slow)
            // and the server sent the block again. ACK it again; don't write it twice.
            Packet::Data { block, .. }
                if received.blocks > 0 && block == expected.wrapping_sub(1) =>
            {
                let ack = Packet::Ack { block };
                send(
                    socket,
                    &ack.to_bytes(),
                    from,
                    args.trace,
                    &format!("{ack} (again)"),
                )?;
                interrupted = true;
                continue;
            }
            // Any other block number is an old copy from long ago: nothing to do.
            Packet::Data { .. } => {
                interrupted = true;
                continue;
            }
            Packet::Error { code, message } => {
                // The message is the server's text: escaped, so it stays on our one line.
                return Err(format!(
                    "server {from}: error {code} ({}): {}",
                    packet::error_name(code),
                    escaped(&message)
                ));
            }
            other => {
                let why = format!("unexpected {other}");
                let error = error_packet(ILLEGAL_OPERATION, &why);
                let _ = socket.send_to(&error.to_bytes(), from);
                return Err(format!("receive {from}: {why}"));
            }
        }
        // Lock-step: answer, and start the timer again for this new packet.
        send(socket, &last, from, args.trace, &last_shown)?;
        tries = 1;
        deadline = Instant::now() + args.timeout;
        interrupted = false;
    }
}

impl Args {
    /// The output's name for error lines (the temporary file gets renamed to it).
    fn output_name(&self) -> String {
        self.output
            .as_ref()
            .map_or_else(|| self.file.clone(), |o| o.display().to_string())
    }
}

/// sendto(): one packet, one datagram. With --trace, say so.
fn send(
    socket: &UdpSocket,
    bytes: &[u8],
    to: SocketAddr,
    trace: bool,
    shown: &str,
) -> Result<(), String> {
    if trace {
        say!("→ {to}  {shown}");
    }
    socket
        .send_to(bytes, to)
        .map(|_| ())
        .map_err(|e| error_line("send", to, &e))
}

fn error_packet(code: u16, message: &str) -> Packet<'static> {
    Packet::Error {
        code,
        message: message.to_string(),
    }
}

/// Check the server's OACK against what we asked: a block size no bigger than ours (RFC
/// 2348: the server may only lower it), and the file's size. Returns (blksize, tsize).
fn accepted(
    options: &[(String, String)],
    requested: usize,
) -> Result<(usize, Option<u64>), String> {
    for (name, _) in options {
        if !name.eq_ignore_ascii_case("blksize") && !name.eq_ignore_ascii_case("tsize") {
            return Err(format!("option {} was not asked for", quoted(name)));
        }
    }
    let blksize = match packet::option(options, "blksize") {
        None => DEFAULT_BLKSIZE,
        Some(value) => match value.parse::<usize>() {
            Ok(n) if (MIN_BLKSIZE..=requested.min(MAX_BLKSIZE)).contains(&n) => n,
            _ => return Err(format!("blksize {}, asked for {requested}", quoted(value))),
        },
    };
    let tsize = match packet::option(options, "tsize") {
        None => None,
        Some(value) => match value.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return Err(format!("tsize {} is not a number", quoted(value))),
        },
    };
    Ok((blksize, tsize))
}

/// A progress bar on stdout, only when stdout is a terminal (a pipe or a file gets the
/// plain lines alone). With tsize, a bar; without it, a byte count.
fn progress_bar(total: Option<u64>) -> ProgressBar {
    if !io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let target = ProgressDrawTarget::stdout();
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::with_draw_target(Some(total), target),
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ),
        None => (
            ProgressBar::with_draw_target(None, target),
            "{spinner} {bytes} {bytes_per_sec}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address, resolved to one address.
fn server_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::from((ip, TFTP_PORT)));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(port) => (host, port),
            Err(_) => usage(format!("{port:?} in {text:?} is not a port number")),
        },
        None => (text, TFTP_PORT),
    };
    let not_found = || io::Error::new(io::ErrorKind::NotFound, "no address found");
    (host, port)
        .to_socket_addrs()
        .and_then(|mut addrs| addrs.next().ok_or_else(not_found))
        .map_err(|e| error_line("resolve", host, &e))
}

/// `.NAME.PID.part` next to the output.
fn temporary_name(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map_or_else(|| "download".into(), |n| n.to_string_lossy());
    output.with_file_name(format!(".{name}.{}.part", std::process::id()))
}

/// Did recv_from give up because of the read timeout? (Unix says WouldBlock, Windows
/// says TimedOut.)
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Bad usage that clap could not see: its usage error, exit 2.
fn usage(message: String) -> ! {
    Args::command()
        .error(ErrorKind::ValueValidation, message)
        .exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let v4 = |s: &str| server_address(s).map(|a| a.to_string());
        assert_eq!(v4("127.0.0.1"), Ok("127.0.0.1:69".into()));
        assert_eq!(v4("127.0.0.1:6969"), Ok("127.0.0.1:6969".into()));
        assert_eq!(v4("[::1]:6969"), Ok("[::1]:6969".into()));
        assert_eq!(v4("::1"), Ok("[::1]:69".into()));
        assert_eq!(v4("[::1]"), Ok("[::1]:69".into()));
        assert_eq!(v4("localhost:7").map(|a| a.ends_with(":7")), Ok(true));
    }

    #[test]
    fn an_oack_may_lower_the_block_size_but_not_raise_it() {
        let o = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(accepted(&o(&[("tsize", "10")]), 8192), Ok((512, Some(10))));
        assert_eq!(accepted(&o(&[("BLKSIZE", "1024")]), 8192), Ok((1024, None)));
        assert!(accepted(&o(&[("blksize", "8193")]), 8192).is_err());
        assert!(accepted(&o(&[("blksize", "7")]), 8192).is_err());
        assert!(accepted(&o(&[("tsize", "x")]), 512).is_err());
        assert!(accepted(&o(&[("timeout", "1")]), 512).is_err());
    }
}
