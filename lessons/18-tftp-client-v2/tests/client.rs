//! What tftp-client-v2 adds to v1, options (RFC 2347-2349) and the progress bar, against
//! a real TFTP server, in.tftpd from Debian's tftpd-hpa, and against a test socket that
//! plays the server packet by packet: an OACK, a lost ACK 0, an OACK that asks too much,
//! a server that ignores options. (What v1 does, v2 does the same: lesson 17's tests.)

mod common;

use std::fs;
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
fn in_tftpd_answers_tsize_and_timeout_with_an_oack() {
    let root = Scratch::new("root");
    let want = file(&root, "big.bin", contents(3_000_123, 1));
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &[]) else {
        return;
    };
    let here = Scratch::new("out");
    let done = download(&here, addr, "big.bin", "copy.bin", &["--timeout", "2"]);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(&read(&here, "copy.bin"), &want, "copy.bin");
    assert!(
        done.stdout.starts_with(&format!(
            "asking {addr} for \"big.bin\" (octet, tsize 0, timeout 2)\n"
        )),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("OACK: blksize 512, tsize 3000123\n"),
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
    // stdout is a pipe here, not a terminal: the plain lines, and no progress bar drawn.
    assert!(
        !done.stdout.contains('\r') && !done.stdout.contains('\x1b'),
        "{:?}",
        done.stdout
    );
}

#[test]
fn in_tftpd_echoes_the_timeout_we_ask_for() {
    let root = Scratch::new("root");
    let want = file(&root, "t.bin", contents(1000, 3));
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &[]) else {
        return;
    };
    let here = Scratch::new("out");
    // 0.3 s is our own timer; the server is asked for whole seconds: 1.
    let done = download(
        &here,
        addr,
        "t.bin",
        "copy.bin",
        &["--timeout", "0.3", "--trace"],
    );
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(&read(&here, "copy.bin"), &want, "copy.bin");
    assert!(
        done.stdout
            .contains("  RRQ \"t.bin\" octet tsize=0 timeout=1\n"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("  OACK tsize=1000 timeout=1\n"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("  ACK 0\n"), "{}", done.stdout);
}

#[test]
fn a_multi_mb_file_from_in_tftpd_with_blksize_8192() {
    let root = Scratch::new("root");
    let want = file(&root, "big.bin", contents(4_000_000, 2));
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &[]) else {
        return;
    };
    let here = Scratch::new("out");
    let done = download(&here, addr, "big.bin", "copy.bin", &["--blksize", "8192"]);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(&read(&here, "copy.bin"), &want, "copy.bin");
    assert!(
        done.stdout.contains("OACK: blksize 8192, tsize 4000000\n"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains(&received(4_000_000, 489, 8192)),
        "{}",
        done.stdout
    );
}

#[test]
fn in_tftpd_refusing_the_options_means_512_byte_blocks_and_no_size() {
    let root = Scratch::new("root");
    let want = file(&root, "f.bin", contents(100_000, 5));
    let refuse = [
        "--refuse", "blksize", "--refuse", "tsize", "--refuse", "timeout",
    ];
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &refuse) else {
        return;
    };
    let here = Scratch::new("out");
    let done = download(&here, addr, "f.bin", "copy.bin", &["--blksize", "8192"]);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(&read(&here, "copy.bin"), &want, "copy.bin");
    assert!(
        done.stdout
            .contains("no OACK: the server ignored the options, blksize 512\n"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains(&received(100_000, 196, 512)),
        "{}",
        done.stdout
    );
}

#[test]
fn in_tftpd_may_lower_the_block_size_we_ask_for() {
    let root = Scratch::new("root");
    let want = file(&root, "f.bin", contents(100_000, 6));
    let Some((_daemon, addr)) = start_in_tftpd(root.path(), &["--blocksize", "1428"]) else {
        return;
    };
    let here = Scratch::new("out");
    let done = download(&here, addr, "f.bin", "copy.bin", &["--blksize", "8192"]);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_same_bytes(&read(&here, "copy.bin"), &want, "copy.bin");
    assert!(
        done.stdout.contains("OACK: blksize 1428, tsize 100000\n"),
        "{}",
        done.stdout
    );
}

// ---- a test socket as the server -------------------------------------------------------

/// A fake server: `_listen` gets the request; `tid` is "the server's" transfer socket.
struct Fake {
    client: Running,
    _listen: UdpSocket,
    tid: UdpSocket,
    /// The client's address, learnt from its RRQ.
    peer: SocketAddr,
    rrq: Vec<u8>,
    dir: Scratch,
}

/// Start our client against a fake server and take its RRQ.
fn fake(extra: &[&str]) -> Fake {
    let listen = test_socket();
    let dir = Scratch::new("out");
    let mut command = Command::new(CLIENT);
    command
        .args(server_args(listen.local_addr().expect("addr")))
        .args(["f", "-o", "copy.bin"])
        .args(extra)
        .current_dir(dir.path());
    let client = Running::spawn(command).expect("start tftp-client-v2");
    let (rrq, peer) = receive(&listen);
    Fake {
        client,
        _listen: listen,
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
fn the_request_is_rrq_octet_with_the_options() {
    let plain = fake(&["--timeout", "5"]);
    assert_eq!(plain.rrq, rrq("f", &[("tsize", "0"), ("timeout", "5")]));
    assert_eq!(
        plain.rrq,
        b"\x00\x01f\x00octet\x00tsize\x000\x00timeout\x005\x00"
    );
    plain.send(&error(1, "not here"));
    let (done, _) = plain.finish();
    assert_eq!(done.code(), 1);
    let f = fake(&["--blksize", "8192", "--timeout", "5"]);
    let options = [("blksize", "8192"), ("tsize", "0"), ("timeout", "5")];
    assert_eq!(f.rrq, rrq("f", &options));
    // RFC 2349's timeout is whole seconds, 1 to 255: ours is rounded up, then capped.
    for (ours, asked) in [("0.1", "1"), ("1.5", "2"), ("300", "255")] {
        let f = fake(&["--timeout", ours]);
        assert_eq!(
            f.rrq,
            rrq("f", &[("tsize", "0"), ("timeout", asked)]),
            "{ours}"
        );
    }
}

#[test]
fn a_server_that_ignores_the_options_gets_512_byte_blocks() {
    let f = fake(&["--blksize", "8192", "--timeout", "5"]);
    let block = contents(512, 11);
    // 512 bytes is not "short" any more, although we asked for 8192: without an OACK
    // the block size is RFC 1350's.
    f.send(&data(1, &block));
    f.expect(&ack(1));
    f.send(&data(2, b""));
    f.expect(&ack(2));
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(read(&dir, "copy.bin"), block);
    assert!(
        done.stdout
            .contains("no OACK: the server ignored the options, blksize 512\n"),
        "{}",
        done.stdout
    );
}

#[test]
fn an_oack_sets_the_block_size_and_is_answered_with_ack_0() {
    let f = fake(&["--blksize", "1024", "--timeout", "5"]);
    f.send(&oack(&[("blksize", "1024"), ("tsize", "1500")]));
    f.expect(&ack(0));
    // Our ACK 0 "got lost": the OACK comes again, and is ACKed again.
    f.send(&oack(&[("blksize", "1024"), ("tsize", "1500")]));
    f.expect(&ack(0));
    let (first, second) = (contents(1024, 12), contents(476, 13));
    f.send(&data(1, &first));
    f.expect(&ack(1));
    f.send(&data(2, &second));
    f.expect(&ack(2));
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(read(&dir, "copy.bin"), [first, second].concat());
    assert!(
        done.stdout.contains("OACK: blksize 1024, tsize 1500\n"),
        "{}",
        done.stdout
    );
}

#[test]
fn an_oack_with_a_bigger_block_than_asked_is_refused_with_error_8() {
    let f = fake(&["--blksize", "8192", "--timeout", "5"]);
    f.send(&oack(&[("blksize", "9000")]));
    let (answer, _) = receive(&f.tid);
    assert_eq!(error_code(&answer), 8, "{answer:?}");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1);
    let port = f_port(&done);
    assert_eq!(
        done.stderr,
        format!("receive 127.0.0.1:{port}: bad OACK: blksize \"9000\", asked for 8192\n")
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}

#[test]
fn an_oack_with_another_timeout_or_an_option_not_asked_for_is_refused_with_error_8() {
    let cases = [
        (oack(&[("timeout", "3")]), "timeout \"3\", asked for 2"),
        (
            oack(&[("windowsize", "4")]),
            "option \"windowsize\" was not asked for",
        ),
        (oack(&[("tsize", "x")]), "tsize \"x\" is not a number"),
    ];
    for (answer, why) in cases {
        let f = fake(&["--timeout", "2"]);
        f.send(&answer);
        let (error, _) = receive(&f.tid);
        assert_eq!(error_code(&error), 8, "{why}: {error:?}");
        assert_eq!(error_message(&error), why);
        let tid = f.tid.local_addr().expect("addr");
        let (done, dir) = f.finish();
        assert_eq!(done.code(), 1, "{why}");
        assert_eq!(done.stderr, format!("receive {tid}: bad OACK: {why}\n"));
        assert_eq!(dir.names(), Vec::<String>::new());
    }
}

/// The server's port as the client's error line names it.
fn f_port(done: &Finished) -> u16 {
    done.stderr
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no address in {:?}", done.stderr))
}

#[test]
fn a_block_size_out_of_range_is_exit_2() {
    let here = Scratch::new("out");
    for args in [
        vec!["--port", "9", "f", "--blksize", "7"],
        vec!["--port", "9", "f", "--blksize", "65465"],
        vec!["--port", "9", "f", "--blksize", "big"],
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
fn a_server_repeating_its_oack_cannot_keep_the_client_for_ever() {
    // Each OACK is answered with ACK 0 again, but only the client's own timer counts:
    // after --retries resends of ACK 0 without DATA 1 it gives up.
    let mut f = fake(&["--blksize", "1024", "--timeout", "0.2", "--retries", "2"]);
    f.tid
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let again = oack(&[("blksize", "1024")]);
    f.send(&again);
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    while f.client.try_status().expect("status").is_none() {
        assert!(
            started.elapsed() < PATIENCE,
            "the client still answers OACKs after {PATIENCE:?}"
        );
        if f.tid.recv_from(&mut buf).is_ok() {
            f.send(&again);
        }
    }
    let tid = f.tid.local_addr().expect("addr");
    let (done, dir) = f.finish();
    assert_eq!(done.code(), 1, "{done:?}");
    assert_eq!(
        done.stderr,
        format!("receive {tid}: no answer to ACK 0 after 3 tries, 0.2s apart: giving up\n")
    );
    assert_eq!(dir.names(), Vec::<String>::new());
}
