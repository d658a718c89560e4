//! tftp-client-v1: the course's TFTP downloader: ask a TFTP server for a file (RRQ), write
//! each DATA block as it arrives, ACK it, and stop at the block that is shorter than 512
//! bytes.
//!
//! TFTP runs on UDP, which loses packets and says nothing, so the protocol (RFC 1350) does
//! the rest: lock-step (one block in flight, each one ACKed), a timer (send the last
//! packet again when no answer comes), and transfer IDs (the server answers from a new
//! port, and the client talks only to that port from then on).
//!
//! Run it:        cargo run -p tftp-server -- --root lessons/19-tftp-server/sample
//! Then, in another terminal:
//!                cargo run -p tftp-client-v1 -- --port 6969 hello.txt --trace
//! You will see:  → 127.0.0.1:6969  RRQ "hello.txt" octet / ← 127.0.0.1:41770  DATA 1
//!                (512 bytes) / → ACK 1 / ... / received 1257 bytes ..., saved to hello.txt
//! Try:           a real server: in.tftpd (Debian's tftpd-hpa), see the README.

use std::fs::{self, File};
use std::io::ErrorKind::{ConnectionReset, Interrupted, TimedOut, WouldBlock};
use std::io::{BufWriter, Write};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use netkit::{At, Failure, escaped, host_port, say};
use tftp_client_v1::packet::{
    DEFAULT_BLKSIZE, ILLEGAL_OPERATION, Packet, UNKNOWN_TRANSFER_ID, error_name,
};

/// Download one file from a TFTP server (RFC 1350, octet mode).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port: TFTP's is 69 (lesson 19's tftp-server takes 6969).
    #[arg(long, default_value_t = 69)]
    port: u16,
    /// The file to ask for, as the server names it.
    file: String,
    /// Where to save it (default: the last part of FILE, in the current folder).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
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

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // The server's address: its name resolved. Our socket is IPv4 (AF_INET, as the
    // course's), so it needs an IPv4 address.
    let addr = host_port(&args.host, args.port);
    let found = (args.host.as_str(), args.port).to_socket_addrs();
    let server = found.at("resolve", &addr)?.find(SocketAddr::is_ipv4);
    let server = server.ok_or_else(|| Failure::new(format!("resolve {addr}: no IPv4 address")))?;
    // Where the file goes: -o, or the last part of FILE. Checked before we ask for it: a
    // download that cannot be saved must fail now, not after its last block. (A bad one
    // is a usage error, exit 2, with a line that begins as clap's own do.)
    let name = Path::new(&args.file).file_name().map(PathBuf::from);
    let Some(output) = args.output.clone().or(name) else {
        let why = "has no file name to save under: use -o";
        return Err(Failure::usage(format!("error: {:?} {why}", args.file)));
    };
    if output.is_dir() {
        let why = "is a folder: give -o the name of the file to save";
        return Err(Failure::usage(format!("error: {} {why}", output.display())));
    }

    // The local file gets a hidden temporary name beside the output, and its real name
    // only when the last block is in: a failed download leaves no half file. Ctrl-C (or
    // SIGTERM, SIGHUP) and a closed stdout (`... | head -1`) are failed downloads too:
    // they take it away before leaving.
    let name = output.file_name().unwrap_or_default().to_string_lossy();
    let temp = output.with_file_name(format!(".{name}.{}.part", std::process::id()));
    let (on_ctrl_c, on_closed_stdout) = (temp.clone(), temp.clone());
    ctrlc::set_handler(move || stop(&on_ctrl_c)).expect("the only Ctrl-C handler, set once");
    netkit::when_stdout_closes(move || stop(&on_closed_stdout));

    // 1.-6. The download; 7. the file closed (dropped), and given its real name.
    let started = Instant::now();
    let result = download(server, &args, &temp).and_then(|got| {
        let renamed = fs::rename(&temp, &output).map(|()| got);
        renamed.at("rename", output.display())
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    let (bytes, blocks) = result?;
    let secs = started.elapsed().as_secs_f64();
    let saved = output.display();
    say!("received {bytes} bytes in {blocks} blocks of 512 in {secs:.3}s, saved to {saved}");
    Ok(())
}

/// Stop an unfinished download: remove its temporary file, exit as Ctrl-C does.
fn stop(temp: &Path) {
    let _ = fs::remove_file(temp);
    std::process::exit(130);
}

/// The conversation, steps 1 to 6: the socket, the read request, then each DATA block
/// written into `temp` as it arrives and ACKed, until the short block. Returns how many
/// bytes and blocks came.
fn download(server: SocketAddr, args: &Args, temp: &Path) -> Result<(u64, u64), Failure> {
    // 1. Create the UDP socket: socket(AF_INET, SOCK_DGRAM), bound to any free port. That
    //    port is OUR transfer ID, the number the server sends every packet of this
    //    download to.
    let any = "0.0.0.0:0";
    let socket = UdpSocket::bind(any).at("bind", any)?;
    // settimeout(): recv_from gives up after --timeout, and the timer can send again.
    socket
        .set_read_timeout(Some(args.timeout))
        .at("set timeout", any)?;
    // The local file. The course creates it at the first block; we do it before asking,
    // so that a file that cannot be made fails at once. A buffer between it and us: one
    // write per 16 blocks of 512, not one each.
    let mut file = BufWriter::new(File::create_new(temp).at("create", temp.display())?);

    // 2. Build the read request (RRQ): opcode 1, the file name, 0, the mode "octet" (the
    //    bytes as they are), 0.
    say!("asking {server} for {:?} (octet)", args.file);
    let mut last = Packet::rrq(&args.file); // what the timer sends again
    let mut peer = None; // the server's transfer ID, once it has answered
    let mut block: u16 = 1; // the block we wait for; 65535 is followed by 0, as in tftpd-hpa
    let (mut bytes, mut blocks) = (0, 0);
    // How many times `last` has gone out, and until when we wait for its answer.
    let (mut sent, mut deadline) = (0, Instant::now());
    // Room for the largest datagram: recv_from cuts a longer one to the buffer's size, so
    // a smaller buffer would hide how long an oversized DATA really was.
    let mut buf = vec![0u8; 65_536];
    loop {
        // 3. Send `last`: the RRQ to the server's port (69), an ACK to its transfer ID.
        //    Then the timer: no answer by the deadline, send it again, up to --retries
        //    times. Only the timer resends: resending on anything else is the sorcerer's
        //    apprentice bug (see the README).
        let to = peer.unwrap_or(server);
        // exercise resend-timer: send last at once, and again each time the deadline passes
        if sent == 0 || Instant::now() >= deadline {
            if sent > args.retries {
                let secs = args.timeout.as_secs_f64();
                let line = format!("receive {to}: no answer to {last} after {sent} tries");
                return Err(Failure::new(format!("{line}, {secs}s apart: giving up")));
            }
            send(&socket, &last, to, args.trace)?;
            (sent, deadline) = (sent + 1, Instant::now() + args.timeout);
        }
        // exercise end
        // 4. Receive. Nothing within --timeout (Unix says WouldBlock, Windows TimedOut), or
        //    a signal that cut the wait short (Ctrl-C: its handler ends us): back to 3.
        //    Packets that are not the answer don't push the deadline away.
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), WouldBlock | TimedOut | Interrupted) => continue,
            // Windows only: an ICMP "port unreachable" for a datagram we sent earlier (to a
            // server that isn't running, or our ERROR 5 to a stranger who has gone) fails
            // the next recv_from with "connection reset" (WSAECONNRESET; Linux says nothing
            // to an unconnected socket). Nothing arrived: say so, and back to 3.
            Err(e) if e.kind() == ConnectionReset => {
                eprintln!("receive {to}: connection reset: a datagram met a closed port; going on");
                continue;
            }
            Err(e) => return Err(e).at("receive", to),
        };
        // The first answer from the server's machine fixes its transfer ID: in.tftpd
        // answers from a new port, not 69.
        if peer.is_none() && from.ip() == server.ip() {
            peer = Some(from);
            say!("the server answers from {from}: its transfer ID for this download");
        }
        // A packet from another port belongs to some other conversation: tell its sender
        // ERROR 5 and carry on. Never an ERROR to an ERROR: two programs could bounce
        // them for ever.
        let answer = Packet::parse(&buf[..n]);
        if peer != Some(from) {
            let not_ours = format!("from {from}, which is not this transfer's server");
            if let Ok(Packet::Error { .. }) = answer {
                eprintln!("ignored an ERROR {not_ours}");
            } else {
                eprintln!("ignored a packet {not_ours} (answered ERROR 5)");
                let error = Packet::error(UNKNOWN_TRANSFER_ID, "unknown transfer ID");
                send(&socket, &error, from, args.trace)?;
            }
            continue;
        }
        let malformed = |bad| refuse(&socket, from, &format!("malformed packet: {bad}"));
        let answer = answer.map_err(malformed)?;
        if args.trace {
            say!("← {from}  {answer}");
        }
        match answer {
            // 5. The DATA block we wait for: write it as it arrives (the course's f.write),
            //    then ACK it.
            Packet::Data { block: got, data } if got == block => {
                if data.len() > DEFAULT_BLKSIZE {
                    let why = format!("DATA {block} has {} bytes, over blksize 512", data.len());
                    return Err(refuse(&socket, from, &why));
                }
                // exercise data-ack: write the block, ACK it; a block under 512 is the last
                file.write_all(data).at("write", temp.display())?;
                (bytes, blocks) = (bytes + data.len() as u64, blocks + 1);
                last = Packet::Ack { block };
                // A block shorter than 512 bytes (0 bytes too, when the size is a multiple
                // of 512) is the last one. Its ACK goes out once: if it is lost, the server
                // sends the block again and, hearing nothing, gives up; we have the file.
                if data.len() < DEFAULT_BLKSIZE {
                    file.flush().at("write", temp.display())?; // the file complete, then its ACK
                    send(&socket, &last, from, args.trace)?;
                    return Ok((bytes, blocks));
                }
                (block, sent) = (block.wrapping_add(1), 0); // back to 3, to send the ACK
                // exercise end
            }
            // The block our last ACK was for: that ACK was lost (or is slow), and the
            // server sent the block again. ACK it again; don't write it twice.
            Packet::Data { block: got, .. } if last == (Packet::Ack { block: got }) => {
                send(&socket, &last, from, args.trace)?;
            }
            // Any other block number is an old copy from long ago: nothing to do.
            Packet::Data { .. } => {}
            // 6. An ERROR packet ends the download. Its message is the server's text:
            //    escaped, so it stays on our one line.
            Packet::Error { code, message } => {
                let (name, message) = (error_name(code), escaped(&message));
                let line = format!("server {from}: error {code} ({name}): {message}");
                return Err(Failure::new(line));
            }
            other => return Err(refuse(&socket, from, &format!("unexpected {other}"))),
        }
    }
}

/// sendto(): one packet, one datagram. With --trace, say so.
fn send(socket: &UdpSocket, packet: &Packet, to: SocketAddr, trace: bool) -> Result<(), Failure> {
    if trace {
        say!("→ {to}  {packet}");
    }
    socket.send_to(&packet.to_bytes(), to).at("send", to)?;
    Ok(())
}

/// Give up on the download: tell the server why with ERROR 4 (if that is lost, the
/// server's timer ends its side), and return the line we print.
fn refuse(socket: &UdpSocket, to: SocketAddr, why: &str) -> Failure {
    let _ = socket.send_to(&Packet::error(ILLEGAL_OPERATION, why).to_bytes(), to);
    Failure::new(format!("receive {to}: {why}"))
}
