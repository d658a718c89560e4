//! Rust ↔ Python: the Rust receiver with the Python sender, the Python receiver with the
//! Rust sender, and the Python receiver against the same raw test peer as the Rust one
//! (the same counts, the same lines). Skipped with a notice when python3 is missing (a
//! failure under CI=true).

mod common;

use common::*;
use lesson_runner::PATIENCE;

#[test]
fn rust_receive_python_send_every_message_arrives() {
    let Some(sender) = python("send") else { return };
    let (receiver, addr) = start_receiver(&[]);
    let done = send_with(sender, addr, &["--count", "200"]);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(masked(&done.stdout), all_arrived(addr, 200, 64));
    assert_eq!(done.stderr, "");
    let out = receiver
        .wait_for_stdout("TCP: 200/200", PATIENCE)
        .expect("receiver's report");
    assert!(out.contains("run from 127.0.0.1:"), "{out}");
    assert!(out.contains(", then the end marker\n"), "{out}");
}

#[test]
fn python_receive_rust_send_every_message_arrives() {
    let Some(receiver) = python("receive") else {
        return;
    };
    let (receiver, addr) = start_receiver_with(receiver, &[]);
    for (count, size) in [(200, 64), (7, 1500)] {
        let done = send(
            addr,
            &["--count", &count.to_string(), "--size", &size.to_string()],
        );
        assert_eq!(done.code(), 0, "{}", done.stderr);
        assert_eq!(masked(&done.stdout), all_arrived(addr, count, size));
    }
    let out = receiver
        .wait_for_stdout("TCP: 7/7", PATIENCE)
        .expect("receiver's report");
    assert_eq!(out.matches(", then the end marker\n").count(), 2, "{out}");
}

#[test]
fn python_receive_raw_peer_counts_bad_messages_as_rust_does() {
    let Some(receiver) = python("receive") else {
        return;
    };
    let (receiver, addr) = start_receiver_with(receiver, &[]);
    the_wire_conversation_with_bad_messages(&receiver, addr);
}

#[test]
fn python_receive_raw_peer_bad_hellos_are_answered_as_rust_does() {
    let Some(receiver) = python("receive") else {
        return;
    };
    let (receiver, addr) = start_receiver_with(receiver, &[]);
    bad_hellos_are_answered_and_the_receiver_goes_on(&receiver, addr);
}

#[test]
fn python_send_to_nothing_listening_is_the_same_line_as_rust() {
    let Some(sender) = python("send") else { return };
    // A port where nothing listens, held for the whole test so nobody else can listen there.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    let python = send_with(sender, addr, &[]);
    let rust = send(addr, &[]);
    assert_eq!(python.code(), 1);
    assert_eq!(rust.code(), 1);
    assert_eq!(
        python.stderr,
        format!("connect {addr}: connection refused\n")
    );
    assert_eq!(python.stderr, rust.stderr);
}

#[test]
fn python_receive_drops_slow_senders_as_rust_does() {
    let Some(receiver) = python("receive") else {
        return;
    };
    let (receiver, addr) = start_receiver_with(receiver, &["--timeout", "0.5", "--idle-ms", "300"]);
    slow_senders_are_dropped(&receiver, addr);
    let done = send(addr, &["--count", "10"]);
    assert_eq!(masked(&done.stdout), all_arrived(addr, 10, 64));
}
