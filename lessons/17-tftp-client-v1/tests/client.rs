//! tftp-client-v1 against a real TFTP server, in.tftpd from Debian's tftpd-hpa, and
//! against a test socket that plays the server packet by packet to make the rare cases
//! happen on purpose: a stranger's packet, a duplicate block, silence, an ERROR, garbage.

mod common;

use std::fs;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use lesson_runner::{Finished, PATIENCE, Running};

/// Download `name` from `addr` with our client into `dir`, saved as `out`.
fn download(dir: &Scratch, addr: SocketAddr, name: &str, out: &str, extra: &[&str]) -> Finished {
    let mut args = server_args(addr);
    args.extend([name.to_string(), "-o".into(), out.into()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    client(dir.path(), &args)
}

fn read(dir: &Scratch, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).expect("the downloaded file")
}

/// The client's summary line for a successful download.
fn received(bytes: usize, blocks: usize, blksize: usize) -> String {
    format!("received {bytes} bytes in {blocks} blocks of {blksize} in ")
}

#[test]
fn a_multi_mb_file_from_in_tftpd_with_512_byte_blocks() {
    let root = Scratch::new("root");
    let want = file(&root, "big.bin", contents(3_000_123, 1));
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &[]) else {
        return;
    };
    let here = Scratch::new("out");
    let done = download(&here, addr, "big.bin", "copy.bin", &[]);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(&read(&here, "copy.bin"), &want, "copy.bin");
    // in.tftpd answers from a new port: its transfer ID.
    assert!(
        done.stdout.contains("the server answers from 127.0.0.1:")
            && !done.stdout.contains(&format!("from {addr}:")),
        "{}",
        done.stdout
    );
    // 3000123 = 5859 full blocks of 512 and one of 315.
    assert!(
        done.stdout.contains(&received(3_000_123, 5860, 512)),
        "{}",
        done.stdout
    );
    assert_eq!(here.names(), ["copy.bin"], "no temporary file left");
}

#[test]
fn a_missing_file_on_in_tftpd_is_error_1_and_leaves_no_file() {
    let root = Scratch::new("root");
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &[]) else {
        return;
    };
    let here = Scratch::new("out");
    let done = download(&here, addr, "no-such-file", "copy.bin", &[]);
    assert_eq!(done.code(), 1, "stdout: {}", done.stdout);
    // in.tftpd answers from its transfer port, not the one we asked.
    let line = done.stderr.trim_end();
    assert!(
        line.starts_with("server 127.0.0.1:")
            && line.ends_with(": error 1 (file not found): File not found")
            && !line.contains(&format!(":{}:", addr.port())),
        "{line}"
    );
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
    assert_eq!(
        here.names(),
        Vec::<String>::new(),
        "no file, no temporary file"
    );
}

#[test]
fn a_size_that_is_a_multiple_of_512_ends_with_an_empty_block() {
    let root = Scratch::new("root");
    let want = file(&root, "exact.bin", contents(512 * 2048, 3));
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &[]) else {
        return;
    };
    let here = Scratch::new("out");
    let done = download(&here, addr, "exact.bin", "copy.bin", &["--trace"]);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(&read(&here, "copy.bin"), &want, "copy.bin");
    // 2048 full blocks, then block 2049 with nothing in it says "that was all".
    assert!(
        done.stdout.contains("  DATA 2048 (512 bytes)\n"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("  DATA 2049 (0 bytes)\n"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("  ACK 2049\n"), "{}", done.stdout);
    assert!(
        done.stdout.contains(&received(512 * 2048, 2049, 512)),
        "{}",
        done.stdout
    );
}

/// A block number is 16 bits: at 512 bytes a block, block 65535 ends at 32 MiB. After it
/// tftpd-hpa goes on with block 0, 1, ...: 33.6 MB here, 65601 blocks. (The one slow test:
/// 65601 round trips.)
#[test]
fn more_than_65535_blocks_wrap_the_block_number_to_0() {
    let size = (65_535 + 65) * 512 + 77;
    let root = Scratch::new("root");
    let want = file(&root, "huge.bin", contents(size, 4));
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &[]) else {
        return;
    };
    let here = Scratch::new("out");
    let done = download(&here, addr, "huge.bin", "copy.bin", &[]);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(&read(&here, "copy.bin"), &want, "copy.bin");
    assert!(
        done.stdout.contains(&received(size, 65_601, 512)),
        "{}",
        done.stdout
    );
}

// ---- a test socket as the server -------------------------------------------------------

/// A fake server: `listen` gets the request; `tid` is "the server's" transfer socket.
struct Fake {
    client: Running,
    listen: UdpSocket,
    tid: UdpSocket,
    /// The client's address, learnt from its RRQ.
    peer: SocketAddr,
    rrq: Vec<u8>,
    dir: Scratch,
}

/// Start our client against a fake server and take its RRQ.
fn fake(extra: &[&str]) -> Fake {
    fake_with(extra, None)
}

/// The same, with the client's stdout read as `| head -n LINES` reads it.
fn fake_with(extra: &[&str], head: Option<usize>) -> Fake {
    let listen = test_socket();
    let dir = Scratch::new("out");
    let mut command = Command::new(CLIENT);
    command
        .args(server_args(listen.local_addr().expect("addr")))
        .args(["f", "-o", "copy.bin"])
        .args(extra)
        .current_dir(dir.path());
    let client = match head {
        Some(lines) => Running::spawn_head(command, lines),
        None => Running::spawn(command),
    }
    .expect("start tftp-client-v1");
    let (rrq, peer) = receive(&listen);
    Fake {
        client,
        listen,
        tid: test_socket(),
        peer,
        rrq,
        dir,
    }
}

impl Fake {
    /// Send from the transfer socket.
    fn send(&self, packet: &[u8]) {
        self.tid
            .send_to(packet, self.peer)
            .expect("send to the client");
    }

    /// The next packet the client sends to the transfer socket.
    fn expect(&self, want: &[u8]) {
        let (got, from) = receive(&self.tid);
        assert_eq!(from, self.peer);
        assert_eq!(got, want);
    }

    fn finish(self) -> (Finished, Scratch) {
        let done = self.client.finish(PATIENCE).expect("client ends");
        (done, self.dir)
    }
}

#[test]
fn the_request_is_rrq_octet() {
    let f = fake(&["--timeout", "5"]);
    assert_eq!(f.rrq, b"\x00\x01f\x00octet\x00");
    assert_eq!(f.rrq, rrq("f", &[]));
    f.send(&error(1, "not here"));
    let (done, _) = f.finish();
    assert_eq!(done.code(), 1);
}

#[test]
fn a_packet_from_a_stranger_port_gets_error_5_and_the_transfer_goes_on() {
    let f = fake(&["--timeout", "5"]);
    let (first, second) = (contents(512, 7), contents(100, 8));
    f.send(&data(1, &first));
    f.expect(&ack(1));
    // Someone else, from another port, sends an ERROR (not answered: no ERROR
    // ping-pong), then the next block.
    let stranger = test_socket();
    stranger
        .send_to(&error(0, "stop"), f.peer)
        .expect("stranger sends");
    stranger
        .send_to(&data(2, b"not yours"), f.peer)
        .expect("stranger sends");
    let (answer, from) = receive(&stranger);
    assert_eq!(from, f.peer);
    assert_eq!(error_code(&answer), 5, "{answer:?}");
    assert_eq!(error_message(&answer), "unknown transfer ID");
    // The real server's block 2 is the one written.
    f.send(&data(2, &second));
    f.expect(&ack(2));
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(read(&dir, "copy.bin"), [first, second].concat());
    let stranger_addr = stranger.local_addr().expect("addr");
    assert_eq!(
        done.stderr,
        format!(
            "ignored an ERROR from {stranger_addr}, which is not this transfer's server\n\
             ignored a packet from {stranger_addr}, which is not this transfer's server (answered ERROR 5)\n"
        )
    );
}

#[test]
fn a_duplicate_data_block_is_acked_again_and_written_once() {
    let f = fake(&["--timeout", "5"]);
    let (first, second) = (contents(512, 9), contents(3, 10));
    f.send(&data(1, &first));
    f.expect(&ack(1));
    // As if our ACK 1 had been lost: the server sends block 1 again.
    f.send(&data(1, &first));
    f.expect(&ack(1));
    f.send(&data(2, &second));
    f.expect(&ack(2));
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(read(&dir, "copy.bin"), [first, second].concat());
    assert!(
        done.stdout.contains(&received(515, 2, 512)),
        "{}",
        done.stdout
    );
}

#[test]
fn silence_after_the_request_means_retries_then_a_clear_line() {
    let f = fake(&["--timeout", "0.1", "--retries", "3"]);
    // The first RRQ came; three more, the same, one per timeout.
    for _ in 0..3 {
        let (again, from) = receive(&f.listen);
        assert_eq!((again, from), (f.rrq.clone(), f.peer));
    }
    let listen = f.listen.local_addr().expect("addr");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!(
            "receive {listen}: no answer to RRQ \"f\" octet after 4 tries, 0.1s apart: giving up\n"
        )
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn silence_in_the_middle_resends_the_ack_then_gives_up_and_leaves_no_file() {
    let f = fake(&["--timeout", "0.1", "--retries", "2"]);
    f.send(&data(1, &contents(512, 14)));
    for _ in 0..3 {
        f.expect(&ack(1));
    }
    let tid = f.tid.local_addr().expect("addr");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("receive {tid}: no answer to ACK 1 after 3 tries, 0.1s apart: giving up\n")
    );
    assert_eq!(dir.names(), Vec::<String>::new(), "no half file");
}

#[test]
fn an_error_packet_ends_the_download_with_its_code_and_message() {
    let f = fake(&["--timeout", "5"]);
    f.send(&data(1, &contents(512, 15)));
    f.expect(&ack(1));
    f.send(&error(3, "Disk full or allocation exceeded"));
    let tid = f.tid.local_addr().expect("addr");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("server {tid}: error 3 (disk full): Disk full or allocation exceeded\n")
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn a_malformed_packet_from_the_server_is_answered_with_error_4() {
    let f = fake(&["--timeout", "5"]);
    f.send(&[0, 9, 1, 2, 3]);
    let (answer, _) = receive(&f.tid);
    assert_eq!(error_code(&answer), 4);
    // The ERROR says to the server what our line says to us.
    assert_eq!(error_message(&answer), "malformed packet: unknown opcode 9");
    let tid = f.tid.local_addr().expect("addr");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("receive {tid}: malformed packet: unknown opcode 9\n")
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn a_data_block_longer_than_the_block_size_is_refused() {
    let f = fake(&["--timeout", "5"]);
    f.send(&data(1, &contents(513, 16)));
    let (answer, _) = receive(&f.tid);
    assert_eq!(error_code(&answer), 4);
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    assert!(
        done.stderr
            .ends_with(": DATA 1 has 513 bytes, over blksize 512\n"),
        "{}",
        done.stderr
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn bad_usage_is_exit_2() {
    let here = Scratch::new("out");
    for args in [
        vec![],
        vec!["--port", "9"],
        vec!["--port", "9", "f", "--blksize", "8192"], // options are lesson 18's
        vec!["--port", "9", "f", "--timeout", "0"],
        vec!["--port", "http", "f"],
        vec!["--port", "65536", "f"],
        vec!["--port", "9", "a/.."],
    ] {
        let done = client(here.path(), &args);
        assert_eq!(done.code(), 2, "{args:?}: {}", done.stderr);
        assert!(
            done.stderr.starts_with("error: "),
            "{args:?}: {}",
            done.stderr
        );
    }
    assert_eq!(here.names(), Vec::<String>::new());
}

#[test]
fn ctrl_c_in_the_middle_leaves_no_file() {
    let f = fake(&["--timeout", "5"]);
    f.send(&data(1, &contents(512, 17)));
    f.expect(&ack(1));
    // The temporary file exists now, holding block 1 (or about to).
    assert_eq!(f.dir.names().len(), 1, "{:?}", f.dir.names());
    f.client.interrupt().expect("SIGINT");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 130);
    assert_eq!(dir.names(), Vec::<String>::new(), "no half file");
}

#[cfg(unix)]
#[test]
fn sigterm_in_the_middle_leaves_no_file() {
    // `kill PID`, as a service manager stops a program: the same cleanup as Ctrl-C.
    let f = fake(&["--timeout", "5"]);
    f.send(&data(1, &contents(512, 18)));
    f.expect(&ack(1));
    assert_eq!(f.dir.names().len(), 1, "{:?}", f.dir.names());
    f.client.terminate().expect("SIGTERM");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 130, "{done:?}");
    assert_eq!(dir.names(), Vec::<String>::new(), "no half file");
}

#[test]
fn a_closed_stdout_stops_the_download_as_ctrl_c_does() {
    // `tftp-client ... | head -1`: after the first line nobody reads stdout. The client
    // must stop as on Ctrl-C (exit 130, no .part file), not panic (exit 101).
    let mut f = fake_with(&["--timeout", "5", "--trace"], Some(1));
    f.tid
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    // Full blocks, one after another: with --trace each one is two more lines, and soon
    // one of them finds stdout closed.
    let block = contents(512, 19);
    let started = Instant::now();
    let mut next: u16 = 1;
    let mut buf = [0u8; 1024];
    while f.client.try_status().expect("status").is_none() {
        assert!(
            started.elapsed() < PATIENCE,
            "the client is still downloading"
        );
        f.send(&data(next, &block));
        if let Ok((n, _)) = f.tid.recv_from(&mut buf) {
            if buf[..n] == ack(next) {
                next = next.wrapping_add(1);
            }
        }
    }
    let (done, dir) = f.finish();
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 130, "{done:?}");
    assert_eq!(dir.names(), Vec::<String>::new(), "no half file");
}

#[test]
fn a_timeout_out_of_range_is_a_usage_error() {
    // 1e19 seconds once got as far as `Instant + Duration` and panicked there.
    let here = Scratch::new("out");
    for timeout in ["1e19", "inf", "18446744073709551615", "86401"] {
        let done = client(here.path(), &["--port", "9", "f", "--timeout", timeout]);
        assert_eq!(done.code(), 2, "{timeout}: {}", done.stderr);
        assert!(
            done.stderr.contains("at most"),
            "{timeout}: {}",
            done.stderr
        );
    }
    assert_eq!(here.names(), Vec::<String>::new());
}

#[test]
fn the_servers_error_message_is_shown_escaped_on_one_line() {
    // A server could otherwise colour our terminal, or start a line that looks like ours.
    let f = fake(&["--timeout", "5"]);
    f.send(&error(1, "\x1b[31m\nforged"));
    let tid = f.tid.local_addr().expect("addr");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("server {tid}: error 1 (file not found): \\x1b[31m\\nforged\n")
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn an_oversized_data_packet_is_reported_with_its_real_size() {
    // 65,000 bytes, not "513": the client's buffer holds any datagram whole.
    let f = fake(&["--timeout", "5"]);
    f.send(&data(1, &contents(65_000, 20)));
    let (answer, _) = receive(&f.tid);
    assert_eq!(error_code(&answer), 4);
    let tid = f.tid.local_addr().expect("addr");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("receive {tid}: DATA 1 has 65000 bytes, over blksize 512\n")
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn an_output_that_cannot_be_saved_fails_before_any_request() {
    let server = test_socket();
    let port = server.local_addr().expect("addr").port().to_string();
    let addr = ["--port", port.as_str()];
    let here = Scratch::new("out");
    fs::create_dir(here.join("folder")).expect("mkdir");
    // -o naming a folder: a usage error.
    let done = client(here.path(), &[&addr[..], &["f", "-o", "folder"]].concat());
    assert_eq!(done.code(), 2, "{}", done.stderr);
    assert!(
        done.stderr
            .contains("folder is a folder: give -o the name of the file to save"),
        "{}",
        done.stderr
    );
    // FILE's own name is a folder here: the same.
    let done = client(here.path(), &[&addr[..], &["dir/folder"]].concat());
    assert_eq!(done.code(), 2, "{}", done.stderr);
    // -o in a folder that does not exist: the temporary file cannot be made.
    let done = client(
        here.path(),
        &[&addr[..], &["f", "-o", "missing/f"]].concat(),
    );
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert!(
        done.stderr.starts_with("create missing/.f.")
            && done.stderr.ends_with(".part: no such file or directory\n"),
        "{}",
        done.stderr
    );
    // The clients have ended: an RRQ any of them sent would be waiting here now.
    server.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 1024];
    let got = server.recv_from(&mut buf).map(|(n, _)| buf[..n].to_vec());
    assert_eq!(
        got.map_err(|e| e.kind()),
        Err(io::ErrorKind::WouldBlock),
        "no request was sent"
    );
    assert_eq!(here.names(), ["folder"]);
}

#[test]
fn an_oack_nobody_asked_for_is_refused_with_error_4() {
    // A server answers with an OACK only a request that has options (RFC 2347), and this
    // client asks for none: options are lesson 18's.
    let f = fake(&["--timeout", "5"]);
    f.send(&oack(&[("tsize", "10")]));
    let (answer, _) = receive(&f.tid);
    assert_eq!(error_code(&answer), 4, "{answer:?}");
    assert_eq!(
        error_message(&answer),
        "malformed packet: opcode 6, which a downloader never receives"
    );
    let tid = f.tid.local_addr().expect("addr");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("receive {tid}: malformed packet: opcode 6, which a downloader never receives\n")
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}
