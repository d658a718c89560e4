//! What the tcp-vs-udp tests share: starting a receiver (Rust or Python) and a sender,
//! reading the report lines, and a raw test peer that speaks the conversation byte by
//! byte, bad messages included.

#![allow(dead_code)] // each test file uses a different part of this

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use lesson_runner::{Finished, PATIENCE, Running, connect, read_to_close};

pub const BIN: &str = env!("CARGO_BIN_EXE_tcp-vs-udp");
pub const PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/tcp_vs_udp.py");

/// A receiver started by `command` (which ends in `receive`), on a free port.
pub fn start_receiver_with(mut command: Command, extra: &[&str]) -> (Running, SocketAddr) {
    command.args(["--port", "0"]).args(extra);
    let receiver = Running::spawn(command).expect("start receiver");
    let addr = receiver.wait_for_banner(PATIENCE).expect("banner");
    (receiver, addr)
}

/// The Rust receiver on a free port.
pub fn start_receiver(extra: &[&str]) -> (Running, SocketAddr) {
    let mut command = Command::new(BIN);
    command.arg("receive");
    start_receiver_with(command, extra)
}

/// Run a sender (`command` ends in `send`) against `addr` until it ends.
pub fn send_with(mut command: Command, addr: SocketAddr, extra: &[&str]) -> Finished {
    command
        .args(["--host", &addr.ip().to_string()])
        .args(["--port", &addr.port().to_string()])
        .args(extra);
    Running::spawn(command)
        .expect("start sender")
        .finish(PATIENCE * 3)
        .expect("sender ends")
}

/// The Rust sender.
pub fn send(addr: SocketAddr, extra: &[&str]) -> Finished {
    let mut command = Command::new(BIN);
    command.arg("send");
    send_with(command, addr, extra)
}

/// `python3 python/tcp_vs_udp.py ROLE`, or `None` (skip; a failure under CI).
pub fn python(role: &str) -> Option<Command> {
    let mut command = Command::new(lesson_runner::python3()?);
    command.arg(PYTHON).arg(role);
    Some(command)
}

/// Timings change from run to run: `0.173s` becomes `T`.
pub fn masked(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            line.split(' ')
                .map(|word| {
                    let (core, rest) = match word.strip_suffix(',') {
                        Some(core) => (core, ","),
                        None => (word, ""),
                    };
                    let is_time = core.strip_suffix('s').is_some_and(|n| {
                        n.split_once('.').is_some_and(|(a, b)| {
                            !a.is_empty()
                                && a.bytes().all(|c| c.is_ascii_digit())
                                && b.len() == 3
                                && b.bytes().all(|c| c.is_ascii_digit())
                        })
                    });
                    if is_time {
                        format!("T{rest}")
                    } else {
                        word.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a sender prints for a run in which everything arrived (times masked).
pub fn all_arrived(addr: SocketAddr, count: u64, size: usize) -> String {
    format!(
        "sending {count} messages of {size} bytes to {addr}: over UDP, then over TCP\n\
         UDP: {count}/{count} arrived, 0 duplicated, 0 out of order, 0 missing, 0 garbage, T\n\
         TCP: {count}/{count} arrived, 0 duplicated, 0 out of order, 0 missing, 0 garbage, T\n\
         UDP: {count}/{count} arrived, in order, T · TCP: {count}/{count} arrived, in order, T\n"
    )
}

/// The figures of one report line: `UDP: 903/1000 arrived, 0 duplicated, 11 out of
/// order, 97 missing, 0 garbage, 0.250s` → [903, 1000, 0, 11, 97, 0].
pub fn figures(output: &str, protocol: &str) -> [u64; 6] {
    let prefix = format!("{protocol}: ");
    let line = output
        .lines()
        .find(|l| l.starts_with(&prefix) && l.contains(" garbage, "))
        .unwrap_or_else(|| panic!("no {protocol} report in:\n{output}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().expect("a number"))
        .collect();
    // arrived, count, duplicated, out of order, missing, garbage, then the time's digits
    numbers[..6].try_into().expect("six figures")
}

/// A test socket for datagrams, with a read timeout.
pub fn udp_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind test socket");
    socket
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    socket
}

/// One message as the sender makes it: `42.....\n`.
pub fn message(seq: u64, size: usize) -> Vec<u8> {
    let mut bytes = seq.to_string().into_bytes();
    bytes.resize(size - 1, b'.');
    bytes.push(b'\n');
    bytes
}

/// Read one `\n`-ended line from a test stream, byte by byte (so nothing after it is
/// taken), without the newline.
pub fn read_line(stream: &mut impl Read) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stream.read(&mut byte).expect("read a line") == 1 {
        if byte[0] == b'\n' {
            return String::from_utf8(line).expect("text");
        }
        line.push(byte[0]);
    }
    panic!("stream ended inside a line: {line:?}")
}

/// The last figure of a report line is the time in microseconds: replace it with `T`.
pub fn without_time(line: &str) -> String {
    match line.rsplit_once(' ') {
        Some((head, micros)) if micros.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{head} T")
        }
        _ => line.to_string(),
    }
}

/// Be the sender, byte by byte, and send everything a bad or odd peer might: duplicates,
/// reordering, garbage datagrams, a number out of range, a message of the wrong size, a
/// line longer than any message. Checks the counts the receiver sends back and prints.
pub fn the_wire_conversation_with_bad_messages(receiver: &Running, addr: SocketAddr) {
    let size = 8;
    let mut conn = connect(addr).expect("connect");
    conn.write_all(b"hello 5 8\n").expect("hello");
    assert_eq!(read_line(&mut conn), "ready");

    let udp = udp_socket();
    let local = udp.local_addr().expect("local addr");
    let datagrams: Vec<Vec<u8>> = vec![
        message(0, size),
        message(2, size),
        message(1, size), // arrived after 2: out of order
        message(2, size), // a second copy: duplicated
        b"hello?".to_vec(),
        message(7, size), // no message 7 in a run of 5: garbage
        message(3, 9),    // the wrong size: garbage
        b"end 5\n".to_vec(),
        b"end 5\n".to_vec(),
    ];
    for datagram in &datagrams {
        udp.send_to(datagram, addr).expect("send datagram");
    }
    // arrived 0, 1, 2; one duplicate; one out of order; 3 and 4 missing; 3 garbage.
    assert_eq!(without_time(&read_line(&mut conn)), "udp 3 1 1 2 3 T");

    // TCP: lines. 0 and 1, a line of the right length that is not a message, a line
    // longer than any message (garbage, and the rest of it skipped), then 4.
    conn.write_all(&message(0, size)).expect("send");
    conn.write_all(&message(1, size)).expect("send");
    conn.write_all(b"garbage\n").expect("send");
    conn.write_all(b"0123456789abcdefghij\n").expect("send");
    conn.write_all(&message(4, size)).expect("send");
    conn.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(without_time(&read_line(&mut conn)), "tcp 3 0 0 2 2 T");
    assert_eq!(
        read_to_close(&mut conn).expect("close"),
        b"",
        "nothing after the report"
    );

    let out = receiver
        .wait_for_stdout("TCP: 3/5", PATIENCE)
        .expect("receiver's TCP report");
    let peer = conn.local_addr().expect("local addr");
    assert_eq!(
        masked(&out),
        format!(
            "listening on {addr}\n\
             run from {peer}: 5 messages of 8 bytes\n\
             UDP: 3/5 arrived, 1 duplicated, 1 out of order, 2 missing, 3 garbage, T, then the end marker\n\
             TCP: 3/5 arrived, 0 duplicated, 0 out of order, 2 missing, 2 garbage, T\n"
        )
    );
    let err = receiver
        .wait_for_stderr("over TCP: b'01234567'", PATIENCE)
        .expect("receiver's garbage lines");
    assert_eq!(
        err,
        format!(
            "garbage from {local} over UDP: b'hello?'\n\
             garbage from {local} over UDP: b'7......\\n'\n\
             garbage from {local} over UDP: b'3.......\\n'\n\
             garbage from {peer} over TCP: b'garbage\\n'\n\
             garbage from {peer} over TCP: b'01234567'\n"
        )
    );
}

/// Bad hellos: each gets `error WHY` and the connection closed; the receiver says so on
/// stderr and goes on.
pub fn bad_hellos_are_answered_and_the_receiver_goes_on(receiver: &Running, addr: SocketAddr) {
    let cases: [(&[u8], &str); 8] = [
        (b"hello 0 64\n", "COUNT must be 1 to 1000000, not 0"),
        (
            b"hello 1000001 64\n",
            "COUNT must be 1 to 1000000, not 1000001",
        ),
        (
            b"hello 1000 3\n",
            "SIZE must be 4 to 65507 for 1000 messages, not 3",
        ),
        (
            b"hello 10 70000\n",
            "SIZE must be 2 to 65507 for 10 messages, not 70000",
        ),
        (
            b"GET / HTTP/1.1\r\n",
            "expected `hello COUNT SIZE`, got b'GET / HTTP/1.1\\r\\n'",
        ),
        (
            b"hello +5 64\n",
            "expected `hello COUNT SIZE`, got b'hello +5 64\\n'",
        ),
        (
            b"hello 99999999999999999999 64\n",
            "expected `hello COUNT SIZE`, got b'hello 99999999999999999999 64\\n'",
        ),
        (b"", "the connection closed before a hello"),
    ];
    for (hello, why) in cases {
        let mut conn = connect(addr).expect("connect");
        conn.write_all(hello).expect("hello");
        conn.shutdown(Shutdown::Write).expect("shutdown");
        // Only our sending side is shut: the answer can still come back.
        let answer = read_to_close(&mut conn).expect("answer");
        assert_eq!(String::from_utf8_lossy(&answer), format!("error {why}\n"));
        let peer = conn.local_addr().expect("local addr");
        receiver
            .wait_for_stderr(&format!("hello {peer}: {why}\n"), PATIENCE)
            .expect("the receiver reports the bad hello");
    }
}

/// With the receiver's `--timeout 0.5`: a sender that says nothing, one that trickles a
/// byte every 100 ms (each read would come in time; the whole hello does not), and one
/// silent in the TCP part are each dropped, with a line saying so. Runs are served one at
/// a time, so until then each of them held up everyone else.
pub fn slow_senders_are_dropped(receiver: &Running, addr: SocketAddr) {
    // Silent: told why, and closed.
    let mut silent = connect(addr).expect("connect");
    let answer = read_to_close(&mut silent).expect("the receiver closes");
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "error no hello within 0.5s\n"
    );
    let peer = silent.local_addr().expect("local addr");
    receiver
        .wait_for_stderr(&format!("hello {peer}: no hello within 0.5s\n"), PATIENCE)
        .expect("the receiver reports the silent sender");

    // Trickling: 40 spaces, 100 ms apart (4 s), never a whole line.
    let trickle = connect(addr).expect("connect");
    let peer = trickle.local_addr().expect("local addr");
    let all_sent = Arc::new(AtomicBool::new(false));
    let sent = Arc::clone(&all_sent);
    let writer = thread::spawn(move || {
        let mut trickle = trickle;
        for _ in 0..40 {
            if trickle.write_all(b" ").is_err() {
                return; // the receiver has closed: that's the point
            }
            thread::sleep(Duration::from_millis(100));
        }
        sent.store(true, Ordering::SeqCst);
    });
    receiver
        .wait_for_stderr(&format!("hello {peer}: no hello within 0.5s\n"), PATIENCE)
        .expect("the receiver drops the trickling sender");
    assert!(
        !all_sent.load(Ordering::SeqCst),
        "the trickle was over before the receiver gave up on it"
    );
    writer.join().expect("trickling thread");

    // Silent after the UDP report: the TCP part gets nothing.
    let mut conn = connect(addr).expect("connect");
    conn.write_all(b"hello 3 4\n").expect("hello");
    assert_eq!(read_line(&mut conn), "ready");
    let udp = udp_socket();
    udp.send_to(b"end 3\n", addr).expect("send the end marker");
    assert_eq!(without_time(&read_line(&mut conn)), "udp 0 0 0 3 0 T");
    let rest = read_to_close(&mut conn).expect("the receiver closes");
    assert_eq!(rest, b"", "no TCP report for a run that was dropped");
    let peer = conn.local_addr().expect("local addr");
    receiver
        .wait_for_stderr(
            &format!("receive {peer}: nothing came over TCP for 0.5s: the run is dropped\n"),
            PATIENCE,
        )
        .expect("the receiver reports the dropped run");
}
