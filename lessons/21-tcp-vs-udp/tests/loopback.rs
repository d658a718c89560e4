//! tcp-vs-udp on loopback, as a student runs it: the real receiver on a port the OS picks,
//! the real sender, and a raw test peer for everything a bad peer can send.

mod common;

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, UdpSocket};
use std::process::Command;
use std::thread;

use common::*;
use lesson_runner::{PATIENCE, Running, connect};

#[test]
fn on_loopback_every_message_arrives_both_ways() {
    // 200 datagrams fit in the receiver's socket buffer even if it is not scheduled for a
    // while, so on loopback none can be lost: the counts are exact.
    let (receiver, addr) = start_receiver(&[]);
    let done = send(addr, &["--count", "200"]);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(masked(&done.stdout), all_arrived(addr, 200, 64));
    assert_eq!(done.stderr, "");
    let out = receiver
        .wait_for_stdout("TCP: 200/200", PATIENCE)
        .expect("receiver's report");
    let run = out.lines().nth(1).expect("a run line");
    assert!(
        run.starts_with("run from 127.0.0.1:") && run.ends_with(": 200 messages of 64 bytes"),
        "{run}"
    );
    assert!(
        out.contains("UDP: 200/200 arrived, 0 duplicated, 0 out of order, 0 missing, 0 garbage, ")
            && out.contains("s, then the end marker\n"),
        "{out}"
    );
}

#[test]
fn the_receiver_serves_runs_one_after_another() {
    let (receiver, addr) = start_receiver(&[]);
    for (count, size) in [("3", "2000"), ("50", "3")] {
        let done = send(addr, &["--count", count, "--size", size]);
        assert_eq!(done.code(), 0, "{}", done.stderr);
        let (count, size) = (count.parse().expect("n"), size.parse().expect("n"));
        assert_eq!(masked(&done.stdout), all_arrived(addr, count, size));
    }
    let out = receiver.stdout();
    assert_eq!(out.matches("run from ").count(), 2, "{out}");
    assert_eq!(receiver.stderr(), "");
}

#[test]
fn the_conversation_on_the_wire_with_duplicates_reordering_and_garbage() {
    let (receiver, addr) = start_receiver(&[]);
    the_wire_conversation_with_bad_messages(&receiver, addr);
    // After all that, the receiver still serves a normal run.
    let done = send(addr, &["--count", "10"]);
    assert_eq!(masked(&done.stdout), all_arrived(addr, 10, 64));
}

#[test]
fn bad_hellos_get_an_error_line_and_the_receiver_goes_on() {
    let (receiver, addr) = start_receiver(&[]);
    bad_hellos_are_answered_and_the_receiver_goes_on(&receiver, addr);
    let done = send(addr, &["--count", "10"]);
    assert_eq!(masked(&done.stdout), all_arrived(addr, 10, 64));
}

#[test]
fn without_an_end_marker_the_udp_run_ends_after_the_idle_time() {
    // Every copy of the end marker lost: the receiver stops after --idle-ms of silence.
    let (receiver, addr) = start_receiver(&["--idle-ms", "300"]);
    let mut conn = connect(addr).expect("connect");
    conn.write_all(b"hello 3 4\n").expect("hello");
    assert_eq!(read_line(&mut conn), "ready");
    let udp = udp_socket();
    for seq in [0, 2] {
        udp.send_to(&message(seq, 4), addr).expect("send");
    }
    assert_eq!(without_time(&read_line(&mut conn)), "udp 2 0 0 1 0 T");
    receiver
        .wait_for_stdout(", then nothing for 0.300s (no end marker came)\n", PATIENCE)
        .expect("the receiver says how the UDP run ended");
    // Then the TCP part: nothing sent, so all 3 are missing.
    conn.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(without_time(&read_line(&mut conn)), "tcp 0 0 0 3 0 T");
}

#[test]
fn datagrams_left_from_before_a_run_are_thrown_away() {
    let (receiver, addr) = start_receiver(&[]);
    let udp = udp_socket();
    udp.send_to(&message(0, 64), addr).expect("send");
    udp.send_to(b"end 10\n", addr).expect("send");
    let done = send(addr, &["--count", "10"]);
    assert_eq!(masked(&done.stdout), all_arrived(addr, 10, 64));
    let out = receiver.stdout();
    assert!(
        out.contains("(threw away 2 datagrams left over from before this run)\n"),
        "{out}"
    );
}

#[test]
fn send_to_nothing_listening_is_one_line_and_exit_1() {
    // A port where nothing listens, held for the whole test so nobody else can listen there.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    let done = send(addr, &[]);
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert_eq!(done.stderr, format!("connect {addr}: connection refused\n"));
}

#[test]
fn a_receiver_that_refuses_the_run_is_reported_by_send() {
    // A fake receiver answering the hello with an error line, as a receiver with other
    // limits would.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let fake = thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let hello = read_line(&mut conn);
        conn.write_all(b"error too many messages\n")
            .expect("answer");
        hello
    });
    let done = send(addr, &["--count", "7"]);
    assert_eq!(fake.join().expect("fake receiver"), "hello 7 64");
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("receive {addr}: the receiver says: too many messages\n")
    );
}

#[test]
fn a_receiver_that_closes_or_talks_nonsense_is_one_line_and_exit_1() {
    let cases: [(&[u8], &str); 3] = [
        (b"", "the receiver closed the connection"),
        (b"ready?\n", "expected `ready`, got \"ready?\""),
        (
            b"ready\nudp 1 2 three\n",
            "expected a `udp ...` report, got \"udp 1 2 three\"",
        ),
    ];
    for (answer, why) in cases {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let fake = thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
            read_line(&mut conn);
            conn.write_all(answer).expect("answer");
            if !answer.is_empty() {
                // Keep the connection until the sender has read everything and gone.
                let _ = lesson_runner::read_to_close(&mut conn);
            }
        });
        let done = send(addr, &["--count", "3", "--gap-us", "0"]);
        fake.join().expect("fake receiver");
        assert_eq!(done.code(), 1, "{done:?}");
        assert_eq!(done.stderr, format!("receive {addr}: {why}\n"));
    }
}

#[test]
fn a_port_taken_for_udp_is_one_line_and_exit_1() {
    // TCP and UDP ports are separate: the TCP bind works, the UDP one does not.
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind test socket");
    let port = taken.local_addr().expect("addr").port();
    let done = Running::start(BIN, &["receive", "--port", &port.to_string()])
        .expect("start receiver")
        .finish(PATIENCE)
        .expect("receiver ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert_eq!(
        done.stderr,
        lesson_runner::port_in_use_line(format!("127.0.0.1:{port}"))
    );
}

#[test]
fn bad_usage_exits_2() {
    let cases: [&[&str]; 8] = [
        &[],
        &["listen"],
        &["send", "--count", "0"],
        &["send", "--count", "1000001"],
        &["send", "--size", "1"],
        &["send", "--count", "1000", "--size", "3"],
        &["send", "--size", "65508"],
        &["receive", "--idle-ms", "0"],
    ];
    for args in cases {
        let done = Running::start(BIN, args)
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "{args:?}: {done:?}");
        assert_eq!(done.stdout, "", "{args:?}");
        let said = done.stderr.contains("error:") || done.stderr.contains("Usage:");
        assert!(said, "{args:?}: {}", done.stderr);
    }
    let done = Running::start(BIN, &["send", "--count", "1000", "--size", "3"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert!(
        done.stderr
            .contains("--size must be 4 to 65507 for --count 1000"),
        "{}",
        done.stderr
    );
}

#[test]
fn an_ipv6_receiver_works_too() {
    let Ok(probe) = UdpSocket::bind("[::1]:0") else {
        eprintln!("skipping: no IPv6 loopback here");
        return;
    };
    drop(probe);
    let (_receiver, addr) = start_receiver(&["--host", "::1"]);
    assert_eq!(
        addr,
        SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], addr.port()))
    );
    let done = send(addr, &["--count", "20"]);
    assert_eq!(masked(&done.stdout), all_arrived(addr, 20, 64));
}

#[test]
fn slow_senders_are_dropped_and_the_next_one_is_served() {
    let (receiver, addr) = start_receiver(&["--timeout", "0.5", "--idle-ms", "300"]);
    slow_senders_are_dropped(&receiver, addr);
    let done = send(addr, &["--count", "10"]);
    assert_eq!(masked(&done.stdout), all_arrived(addr, 10, 64));
}

/// A fake receiver: answers the hello with `answer`, then keeps the connection open
/// without a word until the sender goes.
fn fake_receiver(answer: &'static [u8]) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let fake = thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_read_timeout(Some(PATIENCE)).expect("timeout");
        read_line(&mut conn);
        conn.write_all(answer).expect("answer");
        let _ = lesson_runner::read_to_close(&mut conn);
    });
    (addr, fake)
}

#[test]
fn a_silent_receiver_is_reported_by_send_after_its_timeout() {
    // Not `resource temporarily unavailable` after 60 s: what did not come, and when.
    for (answer, what) in [(&b""[..], "`ready`"), (b"ready\n", "`udp` report")] {
        let (addr, fake) = fake_receiver(answer);
        let done = send(addr, &["--count", "3", "--gap-us", "0", "--timeout", "0.5"]);
        assert_eq!(done.code(), 1, "{done:?}");
        assert_eq!(
            done.stderr,
            format!("receive {addr}: no {what} came within 0.5s\n")
        );
        fake.join().expect("fake receiver");
    }
}

#[test]
fn what_the_receiver_says_is_shown_escaped() {
    // A receiver could otherwise colour the terminal, or write over our line with \r.
    let cases: [(&[u8], &str); 2] = [
        (
            b"error \x1b[31mbad\rforged\n",
            "the receiver says: \\x1b[31mbad\\rforged",
        ),
        (b"ready\x1b[2J\n", "expected `ready`, got \"ready\\x1b[2J\""),
    ];
    for (answer, why) in cases {
        let (addr, fake) = fake_receiver(answer);
        let done = send(addr, &["--count", "3", "--timeout", "5"]);
        assert_eq!(done.code(), 1, "{done:?}");
        assert_eq!(done.stderr, format!("receive {addr}: {why}\n"));
        fake.join().expect("fake receiver");
    }
}

#[test]
fn a_closed_stdout_does_not_stop_the_receiver() {
    // `tcp-vs-udp receive | head -1`: the banner is read, then nobody reads. The lines
    // are lost; the runs go on, one after another.
    let mut command = Command::new(BIN);
    command.args(["receive", "--port", "0"]);
    let mut receiver = Running::spawn_head(command, 1).expect("start receiver");
    let addr = receiver.wait_for_banner(PATIENCE).expect("banner");
    for round in 1..=2 {
        let done = send(addr, &["--count", "10"]);
        assert_eq!(done.code(), 0, "run {round}: {}", done.stderr);
        assert_eq!(masked(&done.stdout), all_arrived(addr, 10, 64));
    }
    assert!(
        receiver.try_status().expect("status").is_none(),
        "{}",
        receiver.stderr()
    );
}

#[test]
fn a_closed_stdout_stops_the_sender_without_a_panic() {
    // `tcp-vs-udp send | head -n 0`: the sender stops as Ctrl-C stops it (130), no
    // backtrace. (Its first line closes the pipe; the next comes after the UDP part.)
    let (_receiver, addr) = start_receiver(&[]);
    let mut command = Command::new(BIN);
    command
        .args(["send", "--port", &addr.port().to_string()])
        .args(["--count", "10"]);
    let done = Running::spawn_head(command, 0)
        .expect("start sender")
        .finish(PATIENCE)
        .expect("sender ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 130, "{done:?}");
}

#[test]
fn durations_out_of_range_are_usage_errors() {
    let cases: [(&[&str], &str); 6] = [
        (&["send", "--timeout", "1e19"], "at most"),
        (&["send", "--timeout", "inf"], "at most"),
        (&["receive", "--timeout", "1e19"], "at most"),
        (&["receive", "--timeout", "18446744073709551615"], "at most"),
        (&["receive", "--idle-ms", "86400001"], "86400001"),
        (&["send", "--gap-us", "1000001"], "1000001"),
    ];
    for (args, said) in cases {
        let done = Running::start(BIN, args)
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "{args:?}: {done:?}");
        assert!(done.stderr.contains(said), "{args:?}: {}", done.stderr);
    }
}

#[test]
fn an_ipv6_host_is_written_with_brackets() {
    // ::2 is no address of this machine: the bind fails, and the line shows [::2]:0.
    let done = Running::start(BIN, &["receive", "--host", "::2", "--port", "0"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 1);
    assert!(done.stderr.starts_with("bind [::2]:0: "), "{}", done.stderr);
}
