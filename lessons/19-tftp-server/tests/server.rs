//! tftp-server against a real TFTP client, `tftp` from Debian's tftp-hpa, against lesson
//! 18's client, and against a test socket that sends exact bytes: names that try to leave
//! the root, uploads, garbage, strangers, silence.

mod common;

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::symlink;
use std::process::Command;

use common::*;
use lesson_runner::{PATIENCE, Running};

#[test]
fn tftp_hpa_downloads_a_file_byte_identical() {
    let Some(tftp) = tftp_hpa() else { return };
    let root = Scratch::new("root");
    let want = file(&root, "big.bin", contents(2_000_000, 21));
    let (server, addr) = start_server(root.path(), &[]);
    let here = Scratch::new("out");
    let done = tftp_hpa_get(&tftp, here.path(), addr, "big.bin", "copy.bin");
    assert_eq!(done.code(), 0, "{} {}", done.stdout, done.stderr);
    let got = fs::read(here.join("copy.bin")).expect("tftp's file");
    assert_same_bytes(&got, &want, "copy.bin");
    // tftp-hpa asks without options: 512-byte blocks, 3906 full and one of 128.
    let out = server
        .wait_for_stdout("sent \"big.bin\"", PATIENCE)
        .expect("the server's summary");
    assert!(
        out.contains("\nRRQ \"big.bin\" octet from 127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.contains(": 2000000 bytes in 3907 blocks of 512 in "),
        "{out}"
    );
}

/// tftp-hpa prints the server's ERROR as `Error code N: message`.
fn tftp_hpa_error(name: &str, code: u16, message: &str) {
    let Some(tftp) = tftp_hpa() else { return };
    let root = Scratch::new("root");
    file(&root, "inside.txt", b"inside".to_vec());
    let (_server, addr) = start_server(root.path(), &[]);
    let here = Scratch::new("out");
    let done = tftp_hpa_get(&tftp, here.path(), addr, name, "copy.bin");
    let said = format!("{}{}", done.stdout, done.stderr);
    assert!(
        said.contains(&format!("Error code {code}: {message}")),
        "{name}: {said}"
    );
}

#[test]
fn tftp_hpa_is_refused_a_dot_dot_name_with_error_2() {
    tftp_hpa_error(
        "../inside.txt",
        2,
        "\"../inside.txt\": `..` may not leave the root",
    );
}

#[test]
fn tftp_hpa_is_refused_an_absolute_path_with_error_2() {
    tftp_hpa_error(
        "/etc/passwd",
        2,
        "\"/etc/passwd\": absolute paths are refused",
    );
}

#[test]
fn tftp_hpa_gets_error_1_for_a_missing_file() {
    tftp_hpa_error("nothing.txt", 1, "\"nothing.txt\": file not found");
}

#[test]
fn tftp_hpa_put_is_refused_with_error_4() {
    let Some(tftp) = tftp_hpa() else { return };
    let root = Scratch::new("root");
    let (server, addr) = start_server(root.path(), &[]);
    let here = Scratch::new("out");
    file(&here, "up.txt", b"upload me".to_vec());
    let mut command = std::process::Command::new(&tftp);
    command
        .args(["-m", "binary", "127.0.0.1", &addr.port().to_string()])
        .args(["-c", "put", "up.txt", "up.txt"])
        .current_dir(here.path());
    let done = lesson_runner::Running::spawn(command)
        .expect("start tftp")
        .finish(PATIENCE)
        .expect("tftp ends");
    let said = format!("{}{}", done.stdout, done.stderr);
    assert!(
        said.contains("Error code 4: \"up.txt\": this server is read-only (WRQ refused)"),
        "{said}"
    );
    server
        .wait_for_stderr("(WRQ refused) (ERROR 4)", PATIENCE)
        .expect("the server reports it");
    assert_eq!(root.names(), Vec::<String>::new(), "nothing was written");
}

/// Send one request from a test socket and return the ERROR that comes back.
fn refusal(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String) {
    let socket = test_socket();
    socket.send_to(request, addr).expect("send the request");
    let (answer, _) = receive(&socket);
    (error_code(&answer), error_message(&answer))
}

#[test]
#[cfg(unix)] // makes symlinks, which Windows allows only with extra rights
fn names_that_leave_the_root_are_refused_with_error_2() {
    let base = Scratch::new("base");
    fs::create_dir(base.join("root")).expect("mkdir root");
    fs::create_dir(base.join("root/sub")).expect("mkdir sub");
    fs::write(base.join("secret.txt"), "outside the root").expect("write");
    fs::write(base.join("root/sub/ok.txt"), "fine").expect("write");
    symlink(base.join("secret.txt"), base.join("root/out-link")).expect("symlink out");
    symlink("/etc", base.join("root/etc-link")).expect("symlink to /etc");
    symlink("sub/ok.txt", base.join("root/in-link")).expect("symlink inside");
    let (server, addr) = start_server(&base.join("root"), &[]);

    let refused = [
        ("../secret.txt", "`..` may not leave the root"),
        ("sub/../../secret.txt", "`..` may not leave the root"),
        ("/etc/passwd", "absolute paths are refused"),
        ("out-link", "it leads outside the root"),
        ("etc-link/passwd", "it leads outside the root"),
    ];
    for (name, why) in refused {
        assert_eq!(
            refusal(addr, &rrq(name, &[])),
            (2, format!("{name:?}: {why}")),
            "{name}"
        );
    }
    // A missing file is ERROR 1; a link that stays inside the root is served.
    assert_eq!(
        refusal(addr, &rrq("sub/nothing", &[])),
        (1, "\"sub/nothing\": file not found".to_string())
    );
    let socket = test_socket();
    socket.send_to(&rrq("in-link", &[]), addr).expect("send");
    let (answer, tid) = receive(&socket);
    assert_eq!(answer, data(1, b"fine"));
    socket.send_to(&ack(1), tid).expect("ack");
    let err = server
        .wait_for_stderr(
            "\"etc-link/passwd\": it leads outside the root (ERROR 2)",
            PATIENCE,
        )
        .expect("reports");
    assert!(err.contains("refused 127.0.0.1:"), "{err}");
}

#[test]
fn a_write_request_and_a_netascii_request_are_refused_with_error_4() {
    let root = Scratch::new("root");
    file(&root, "a.txt", b"a".to_vec());
    let (_server, addr) = start_server(root.path(), &[]);
    let mut wrq = rrq("a.txt", &[]);
    wrq[1] = 2;
    assert_eq!(
        refusal(addr, &wrq),
        (
            4,
            "\"a.txt\": this server is read-only (WRQ refused)".to_string()
        )
    );
    let netascii = b"\x00\x01a.txt\x00netascii\x00";
    assert_eq!(
        refusal(addr, netascii),
        (
            4,
            "\"a.txt\": mode netascii is not supported, only octet (with tftp: `mode binary` or -m binary)"
                .to_string()
        )
    );
    assert_eq!(root.names(), ["a.txt"]);
}

#[test]
fn malformed_packets_are_reported_and_the_server_keeps_serving() {
    let root = Scratch::new("root");
    let want = file(&root, "a.bin", contents(700, 22));
    let (server, addr) = start_server(root.path(), &[]);
    let cases: [(&[u8], &str); 6] = [
        (
            b"\x01",
            "malformed packet: too short: 1 byte(s), not even a 2-byte opcode",
        ),
        (b"\x00\x07hello\x00", "malformed packet: unknown opcode 7"),
        (
            b"\x00\x01a.bin\x00octet",
            "malformed packet: request: the last string has no zero byte at its end",
        ),
        (
            b"\x00\x01a.bin",
            "malformed packet: request: the last string has no zero byte at its end",
        ),
        (
            b"\x00\x01a.bin\x00bogus\x00",
            "malformed packet: request: unknown mode \"bogus\" (RFC 1350 knows octet, netascii, mail)",
        ),
        (
            b"\x00\x04\x00\x01",
            "ACK 1 on the request port: only RRQ and WRQ belong here",
        ),
    ];
    for (bytes, why) in cases {
        assert_eq!(refusal(addr, bytes), (4, why.to_string()), "{bytes:?}");
        server
            .wait_for_stderr(&format!("{why} (ERROR 4)\n"), PATIENCE)
            .expect("the server reports it");
    }
    // An empty datagram, and an ERROR (never answered: no ERROR ping-pong).
    let socket = test_socket();
    socket.send_to(b"", addr).expect("send nothing");
    let (answer, _) = receive(&socket);
    assert_eq!(error_code(&answer), 4);
    socket
        .send_to(&error(0, "hi"), addr)
        .expect("send an error");
    server
        .wait_for_stderr("ERROR 0 \"hi\" from 127.0.0.1:", PATIENCE)
        .expect("reported");
    // Still serving.
    socket.send_to(&rrq("a.bin", &[]), addr).expect("send");
    let (first, tid) = receive(&socket);
    assert_eq!(first, data(1, &want[..512]));
    socket.send_to(&ack(1), tid).expect("ack 1");
    assert_eq!(receive(&socket), (data(2, &want[512..]), tid));
    socket.send_to(&ack(2), tid).expect("ack 2");
    server
        .wait_for_stdout("sent \"a.bin\"", PATIENCE)
        .expect("served");
}

#[test]
fn each_transfer_has_its_own_port_and_they_run_at_once() {
    let root = Scratch::new("root");
    let want = file(&root, "two.bin", contents(1024 + 10, 23));
    let (_server, addr) = start_server(root.path(), &[]);
    let (a, b) = (test_socket(), test_socket());
    a.send_to(&rrq("two.bin", &[]), addr).expect("send");
    b.send_to(&rrq("two.bin", &[]), addr).expect("send");
    let (a1, a_tid) = receive(&a);
    let (b1, b_tid) = receive(&b);
    assert_eq!(a1, data(1, &want[..512]));
    assert_eq!(b1, data(1, &want[..512]));
    assert_ne!(a_tid, addr, "a transfer does not use the request port");
    assert_ne!(a_tid, b_tid, "each transfer has its own port");
    // Interleaved: both progress, neither waits for the other to finish.
    for (block, range) in [(2u16, 512..1024), (3, 1024..1034)] {
        a.send_to(&ack(block - 1), a_tid).expect("ack");
        b.send_to(&ack(block - 1), b_tid).expect("ack");
        assert_eq!(receive(&a), (data(block, &want[range.clone()]), a_tid));
        assert_eq!(receive(&b), (data(block, &want[range]), b_tid));
    }
    a.send_to(&ack(3), a_tid).expect("ack");
    b.send_to(&ack(3), b_tid).expect("ack");
}

#[test]
fn options_are_answered_with_an_oack() {
    let root = Scratch::new("root");
    let want = file(&root, "o.bin", contents(1500, 24));
    let (_server, addr) = start_server(root.path(), &[]);
    let socket = test_socket();
    socket
        .send_to(&rrq("o.bin", &[("blksize", "1024"), ("tsize", "0")]), addr)
        .expect("send");
    let (answer, tid) = receive(&socket);
    assert_eq!(answer, oack(&[("blksize", "1024"), ("tsize", "1500")]));
    socket.send_to(&ack(0), tid).expect("ack 0");
    assert_eq!(receive(&socket), (data(1, &want[..1024]), tid));
    socket.send_to(&ack(1), tid).expect("ack 1");
    assert_eq!(receive(&socket), (data(2, &want[1024..]), tid));
    socket.send_to(&ack(2), tid).expect("ack 2");

    // Too big a block is lowered to 65464; nonsense is ignored; no options: no OACK.
    for (options, want_answer) in [
        (vec![("BLKSIZE", "100000")], oack(&[("blksize", "65464")])),
        (
            vec![("blksize", "abc"), ("tsize", "0")],
            oack(&[("tsize", "1500")]),
        ),
        (vec![("blksize", "7")], data(1, &want[..512])),
        (vec![], data(1, &want[..512])),
    ] {
        let socket = test_socket();
        socket.send_to(&rrq("o.bin", &options), addr).expect("send");
        let (answer, tid) = receive(&socket);
        assert_eq!(answer, want_answer, "{options:?}");
        socket.send_to(&error(0, "enough"), tid).expect("stop");
    }
}

#[test]
fn a_size_that_is_a_multiple_of_the_block_size_ends_with_an_empty_block() {
    let root = Scratch::new("root");
    let want = file(&root, "1k.bin", contents(1024, 25));
    let (_server, addr) = start_server(root.path(), &[]);
    let socket = test_socket();
    socket.send_to(&rrq("1k.bin", &[]), addr).expect("send");
    let (first, tid) = receive(&socket);
    assert_eq!(first, data(1, &want[..512]));
    socket.send_to(&ack(1), tid).expect("ack");
    assert_eq!(receive(&socket), (data(2, &want[512..]), tid));
    socket.send_to(&ack(2), tid).expect("ack");
    assert_eq!(receive(&socket), (data(3, b""), tid));
    socket.send_to(&ack(3), tid).expect("ack");
}

#[test]
fn a_stranger_on_the_transfer_port_gets_error_5_and_the_transfer_goes_on() {
    let root = Scratch::new("root");
    let want = file(&root, "s.bin", contents(600, 26));
    let (server, addr) = start_server(root.path(), &[]);
    let socket = test_socket();
    socket.send_to(&rrq("s.bin", &[]), addr).expect("send");
    let (first, tid) = receive(&socket);
    assert_eq!(first, data(1, &want[..512]));
    let stranger = test_socket();
    stranger.send_to(&ack(1), tid).expect("stranger acks");
    let (answer, from) = receive(&stranger);
    assert_eq!((error_code(&answer), from), (5, tid));
    assert_eq!(error_message(&answer), "unknown transfer ID");
    // The stranger's ACK 1 did not count: the real client's does.
    socket.send_to(&ack(1), tid).expect("ack");
    assert_eq!(receive(&socket), (data(2, &want[512..]), tid));
    socket.send_to(&ack(2), tid).expect("ack");
    server
        .wait_for_stdout("sent \"s.bin\"", PATIENCE)
        .expect("the transfer finished");
    // stdout and stderr are read apart: wait for the stderr line itself.
    let stranger_addr = stranger.local_addr().expect("addr");
    let line = format!("packet from {stranger_addr} on the transfer port of ");
    server
        .wait_for_stderr(&line, PATIENCE)
        .expect("the stranger reported");
}

/// The sorcerer's apprentice: a duplicate ACK must not make the server send the next
/// block again, or every block from then on travels twice.
#[test]
fn a_duplicate_ack_is_not_answered_with_a_second_copy() {
    let root = Scratch::new("root");
    let want = file(&root, "d.bin", contents(1100, 27));
    let (_server, addr) = start_server(root.path(), &["--timeout", "5"]);
    let socket = test_socket();
    socket.send_to(&rrq("d.bin", &[]), addr).expect("send");
    let (_, tid) = receive(&socket);
    socket.send_to(&ack(1), tid).expect("ack 1");
    socket.send_to(&ack(1), tid).expect("ack 1 again");
    assert_eq!(receive(&socket), (data(2, &want[512..1024]), tid));
    socket.send_to(&ack(2), tid).expect("ack 2");
    // Had the second ACK 1 been answered, a second DATA 2 would come before DATA 3.
    assert_eq!(receive(&socket), (data(3, &want[1024..]), tid));
    socket.send_to(&ack(3), tid).expect("ack 3");
}

#[test]
fn a_silent_client_gets_the_block_again_then_the_server_gives_up() {
    let root = Scratch::new("root");
    let want = file(&root, "g.bin", contents(600, 28));
    let (server, addr) = start_server(root.path(), &["--timeout", "0.1", "--retries", "2"]);
    let socket = test_socket();
    socket.send_to(&rrq("g.bin", &[]), addr).expect("send");
    // Once, and twice more on the timer.
    for _ in 0..3 {
        assert_eq!(receive(&socket).0, data(1, &want[..512]));
    }
    let (last, _) = receive(&socket);
    assert_eq!(error_code(&last), 0);
    assert_eq!(error_message(&last), "timed out: no ACK 1 after 3 tries");
    let err = server
        .wait_for_stderr("gave up\n", PATIENCE)
        .expect("the server reports it");
    assert!(
        err.contains(": no ACK 1 after 3 tries, 0.1s apart: gave up\n"),
        "{err}"
    );
    // And it still serves.
    socket.send_to(&rrq("g.bin", &[]), addr).expect("send");
    assert_eq!(receive(&socket).0, data(1, &want[..512]));
}

#[test]
fn our_client_and_server_agree_at_every_block_size() {
    let Some(ours) = our_client() else { return };
    let root = Scratch::new("root");
    let want = file(&root, "r.bin", contents(200_000, 29));
    let (_server, addr) = start_server(root.path(), &[]);
    let here = Scratch::new("out");
    for blksize in [None, Some("8"), Some("1428"), Some("65464")] {
        let mut args = vec!["r.bin", "-o", "copy.bin"];
        if let Some(n) = blksize {
            args.extend(["--blksize", n]);
        }
        let done = client(&ours, here.path(), addr, &args);
        assert_eq!(done.code(), 0, "{blksize:?}: {}", done.stderr);
        let got = fs::read(here.join("copy.bin")).expect("file");
        assert_same_bytes(&got, &want, "copy.bin");
    }
}

#[test]
fn a_port_in_use_and_a_missing_root_are_one_line_and_exit_1() {
    let root = Scratch::new("root");
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let root_arg = root.path().to_str().expect("utf-8");
    let done = lesson_runner::Running::start(SERVER, &["--root", root_arg, "--port", &port])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        lesson_runner::port_in_use_line(format!("127.0.0.1:{port}"))
    );
    let missing = root.join("nope");
    let missing = missing.to_str().expect("utf-8");
    let done = lesson_runner::Running::start(SERVER, &["--root", missing, "--port", "0"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("root {missing}: no such file or directory\n")
    );
    assert_eq!(done.stdout, "");
}

/// The server side of the block-number wrap, with a real client: tftp-hpa asks for
/// 512-byte blocks, so a file of more than 65535 blocks is over 32 MiB.
#[test]
fn tftp_hpa_gets_more_than_65535_blocks_from_our_server() {
    let Some(tftp) = tftp_hpa() else { return };
    let size = (65_535 + 3) * 512 + 1;
    let root = Scratch::new("root");
    let want = file(&root, "huge.bin", contents(size, 30));
    let (server, addr) = start_server(root.path(), &[]);
    let here = Scratch::new("out");
    let done = tftp_hpa_get(&tftp, here.path(), addr, "huge.bin", "copy.bin");
    assert_eq!(done.code(), 0, "{} {}", done.stdout, done.stderr);
    let got = fs::read(here.join("copy.bin")).expect("tftp's file");
    assert_same_bytes(&got, &want, "copy.bin");
    let out = server
        .wait_for_stdout("sent \"huge.bin\"", PATIENCE)
        .expect("summary");
    assert!(
        out.contains(&format!(": {size} bytes in 65539 blocks of 512 in ")),
        "{out}"
    );
}

#[test]
fn a_closed_stdout_does_not_stop_the_server() {
    // `tftp-server ... | head -1`: the banner is read, then nobody reads stdout. What the
    // server would print is lost; it must go on serving, the second client too.
    let Some(ours) = our_client() else { return };
    let root = Scratch::new("root");
    let want = file(&root, "h.bin", contents(1500, 31));
    let mut command = Command::new(SERVER);
    command.args([
        "--root",
        root.path().to_str().expect("utf-8"),
        "--port",
        "0",
    ]);
    let mut server = Running::spawn_head(command, 1).expect("start tftp-server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    let here = Scratch::new("out");
    for round in 1..=3 {
        let done = client(&ours, here.path(), addr, &["h.bin", "-o", "copy.bin"]);
        assert_eq!(done.code(), 0, "download {round}: {}", done.stderr);
        let got = fs::read(here.join("copy.bin")).expect("file");
        assert_same_bytes(&got, &want, "copy.bin");
    }
    assert!(
        server.try_status().expect("status").is_none(),
        "{}",
        server.stderr()
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

#[test]
fn a_timeout_out_of_range_is_a_usage_error() {
    // 1e19 seconds once reached `Instant + Duration` in every transfer thread.
    let root = Scratch::new("root");
    let root_arg = root.path().to_str().expect("utf-8");
    for timeout in ["1e19", "inf", "18446744073709551615"] {
        let args = ["--root", root_arg, "--port", "0", "--timeout", timeout];
        let done = Running::start(SERVER, &args)
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "{timeout}: {}", done.stderr);
        assert!(
            done.stderr.contains("at most"),
            "{timeout}: {}",
            done.stderr
        );
        assert_eq!(done.stdout, "");
    }
}

#[test]
fn beyond_max_transfers_a_request_gets_server_busy_and_a_freed_slot_serves_again() {
    let root = Scratch::new("root");
    let want = file(&root, "m.bin", contents(100, 32));
    let (server, addr) = start_server(root.path(), &["--max-transfers", "1", "--timeout", "5"]);
    // The first transfer holds the only slot while its DATA 1 waits for an ACK.
    let first = test_socket();
    first.send_to(&rrq("m.bin", &[]), addr).expect("send");
    let (block, tid) = receive(&first);
    assert_eq!(block, data(1, &want));
    // A second request meanwhile: ERROR 0, server busy.
    let second = test_socket();
    assert_eq!(
        refusal(addr, &rrq("m.bin", &[])),
        (0, "server busy: try again later".to_string())
    );
    // The first ends (its last block ACKed): the slot is free, and a request is served.
    first.send_to(&ack(1), tid).expect("ack 1");
    server
        .wait_for_stdout("sent \"m.bin\"", PATIENCE)
        .expect("the first transfer ends");
    second.send_to(&rrq("m.bin", &[]), addr).expect("send");
    let (block, tid) = receive(&second);
    assert_eq!(block, data(1, &want));
    second.send_to(&ack(1), tid).expect("ack 1");
    server
        .wait_for_stderr("server busy: try again later (ERROR 0)\n", PATIENCE)
        .expect("the refusal is reported");
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_root_is_refused_and_holds_up_nobody() {
    // Opening a FIFO waits for a writer: done on the request thread, it stopped the
    // whole server. It is not a regular file, so it is refused without being opened.
    let root = Scratch::new("root");
    let want = file(&root, "after.txt", b"still here".to_vec());
    let made = Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let (_server, addr) = start_server(root.path(), &[]);
    assert_eq!(
        refusal(addr, &rrq("pipe", &[])),
        (2, "\"pipe\": not a regular file".to_string())
    );
    // A folder is not one either.
    fs::create_dir(root.join("sub")).expect("mkdir");
    assert_eq!(
        refusal(addr, &rrq("sub", &[])),
        (2, "\"sub\": not a regular file".to_string())
    );
    let socket = test_socket();
    socket.send_to(&rrq("after.txt", &[]), addr).expect("send");
    let (answer, tid) = receive(&socket);
    assert_eq!(answer, data(1, &want));
    socket.send_to(&ack(1), tid).expect("ack");
}

#[test]
fn what_a_client_sends_is_shown_escaped_on_one_line() {
    let root = Scratch::new("root");
    let want = file(&root, "e.bin", contents(600, 33));
    let (server, addr) = start_server(root.path(), &[]);
    // A file name with an escape sequence and a newline: refused, and shown escaped in
    // the ERROR and in the server's own line.
    let forged = "\x1b[31m\nforged";
    assert_eq!(
        refusal(addr, &rrq(forged, &[])),
        (1, "\"\\x1b[31m\\nforged\": file not found".to_string())
    );
    let err = server
        .wait_for_stderr("file not found (ERROR 1)\n", PATIENCE)
        .expect("the refusal");
    assert!(
        err.contains(": \"\\x1b[31m\\nforged\": file not found (ERROR 1)\n"),
        "{err}"
    );
    // An ERROR from the client in the middle of a transfer: its message escaped too.
    let socket = test_socket();
    socket.send_to(&rrq("e.bin", &[]), addr).expect("send");
    let (first, tid) = receive(&socket);
    assert_eq!(first, data(1, &want[..512]));
    socket.send_to(&error(0, forged), tid).expect("error");
    // stderr is unbuffered: a line may come in pieces, so wait for its end.
    let err = server
        .wait_for_stderr("forged\n", PATIENCE)
        .expect("the transfer's end");
    let peer = socket.local_addr().expect("addr");
    assert!(
        err.contains(&format!(
            "transfer of \"e.bin\" to {peer}: the client sent error 0 (not defined): \\x1b[31m\\nforged\n"
        )),
        "{err}"
    );
    assert!(!err.contains('\x1b'), "{err:?}");
}

#[test]
fn an_ipv6_host_is_written_with_brackets() {
    // ::2 is no address of this machine: the bind fails, and the line shows [::2]:0.
    let root = Scratch::new("root");
    let root_arg = root.path().to_str().expect("utf-8");
    let done = Running::start(
        SERVER,
        &["--root", root_arg, "--host", "::2", "--port", "0"],
    )
    .expect("start")
    .finish(PATIENCE)
    .expect("ends");
    assert_eq!(done.code(), 1);
    assert!(done.stderr.starts_with("bind [::2]:0: "), "{}", done.stderr);
}
