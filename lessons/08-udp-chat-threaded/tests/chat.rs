//! udp-chat-threaded as a student runs it: two real instances with crossed --bind/--peer,
//! or one instance whose peer is a raw test UDP socket that asserts bytes. Ports: 0 where
//! the program may choose; where a port must be known before a program starts, one the OS
//! just handed out and we let go. (The course's Python program as the other instance is in
//! tests/python.rs.)

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use lesson_runner::{PATIENCE, Running};

const CHAT: &str = env!("CARGO_BIN_EXE_udp-chat-threaded");

/// 你好 in GBK (and gb2312): two bytes a character.
const NIHAO_GBK: [u8; 4] = [0xC4, 0xE3, 0xBA, 0xC3];

/// Start an instance and wait for its `listening on ADDR`.
fn start(bind: &str, peer: SocketAddr, extra: &[&str]) -> (Running, SocketAddr) {
    let peer = peer.to_string();
    let mut args = vec!["--bind", bind, "--peer", &peer];
    args.extend_from_slice(extra);
    let chat = Running::start(CHAT, &args).expect("start udp-chat-threaded");
    let addr = chat.wait_for_banner(PATIENCE).expect("banner");
    (chat, addr)
}

/// A raw UDP socket to be the peer; a hang fails instead of freezing.
fn test_socket() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind test socket");
    socket
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    let addr = socket.local_addr().expect("local addr");
    (socket, addr)
}

/// Receive one datagram on a test socket: its bytes and who sent it.
fn receive(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 4096];
    let (n, from) = socket.recv_from(&mut buf).expect("a datagram");
    (buf[..n].to_vec(), from)
}

/// An address where nothing is bound: the OS hands out a free port, we let it go. (Some
/// other program could take it in the moment before we use it; that race is tiny.)
fn free_addr() -> SocketAddr {
    let (socket, addr) = test_socket();
    drop(socket);
    addr
}

/// End of input stops the sender and the program: exit 0, nothing on stderr.
fn end(chat: Running) -> String {
    let done = chat.finish(PATIENCE).expect("udp-chat-threaded ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stderr, "");
    done.stdout
}

/// The course's chat, both ways and in Chinese, between instance `a` (already started,
/// its peer is `b_addr`) and `b`, a second instance bound to `b_addr`.
fn chat_between(a: Running, a_addr: SocketAddr, b: Running, b_addr: SocketAddr) {
    let (mut a, mut b) = (a, b);
    a.write_stdin("hello\n").expect("type into a");
    b.wait_for_stdout(&format!(">> {a_addr}: hello\n"), PATIENCE)
        .expect("b prints a's line");
    b.write_stdin("你好\n").expect("type into b");
    a.wait_for_stdout(&format!(">> {b_addr}: 你好\n"), PATIENCE)
        .expect("a prints b's line");
    // Nobody takes turns: a can send twice in a row and b prints both.
    a.write_stdin("还在吗?\nstill there?\n")
        .expect("type into a");
    b.wait_for_stdout(&format!(">> {a_addr}: still there?\n"), PATIENCE)
        .expect("b prints both");

    assert_eq!(
        end(a),
        format!("listening on {a_addr}\n>> {b_addr}: 你好\n")
    );
    assert_eq!(
        end(b),
        format!(
            "listening on {b_addr}\n>> {a_addr}: hello\n>> {a_addr}: 还在吗?\n>> {a_addr}: still there?\n"
        )
    );
}

#[test]
fn two_instances_with_crossed_addresses_chat() {
    let b_addr = free_addr();
    let (a, a_addr) = start("127.0.0.1:0", b_addr, &[]);
    let (b, b_seen) = start(&b_addr.to_string(), a_addr, &[]);
    assert_eq!(b_seen, b_addr);
    chat_between(a, a_addr, b, b_addr);
}

#[test]
fn lines_go_to_the_peer_and_datagrams_are_printed_as_they_come() {
    let (socket, me) = test_socket();
    let (mut chat, addr) = start("127.0.0.1:0", me, &[]);
    // Three datagrams while the program's user types nothing: the receiving thread
    // prints each one at once.
    for message in ["one", "two", "three"] {
        socket.send_to(message.as_bytes(), addr).expect("send");
    }
    chat.wait_for_stdout(&format!(">> {me}: three\n"), PATIENCE)
        .expect("all three printed");
    // Each typed line is one datagram, from the bound address, without its newline.
    chat.write_stdin("hi\nhow are you?\n").expect("type");
    assert_eq!(receive(&socket), (b"hi".to_vec(), addr));
    assert_eq!(receive(&socket), (b"how are you?".to_vec(), addr));
    assert_eq!(
        end(chat),
        format!("listening on {addr}\n>> {me}: one\n>> {me}: two\n>> {me}: three\n")
    );
}

#[test]
fn gbk_reads_and_writes_gb2312_bytes() {
    let (socket, me) = test_socket();
    let (mut chat, addr) = start("127.0.0.1:0", me, &["--encoding", "gbk"]);
    socket.send_to(&NIHAO_GBK, addr).expect("send");
    chat.wait_for_stdout(&format!(">> {me}: 你好\n"), PATIENCE)
        .expect("decoded as GBK");
    // Typed as 你好 (UTF-8 on stdin), sent as the 4 GBK bytes.
    chat.write_stdin("你好\n").expect("type");
    assert_eq!(receive(&socket), (NIHAO_GBK.to_vec(), addr));
    assert_eq!(end(chat), format!("listening on {addr}\n>> {me}: 你好\n"));
}

#[test]
fn undecodable_bytes_are_shown_lossily() {
    let (socket, me) = test_socket();
    let (utf8, utf8_addr) = start("127.0.0.1:0", me, &[]);
    // `gb2312`, the course's spelling, is accepted for gbk.
    let (gbk, gbk_addr) = start("127.0.0.1:0", me, &["--encoding", "gb2312"]);
    socket
        .send_to(&[0xff, 0xfe, b'a'], utf8_addr)
        .expect("send");
    socket.send_to(&[0xff, b'a'], gbk_addr).expect("send");
    utf8.wait_for_stdout(&format!(">> {me}: \u{fffd}\u{fffd}a\n"), PATIENCE)
        .expect("utf-8 lossy");
    gbk.wait_for_stdout(&format!(">> {me}: \u{fffd}a\n"), PATIENCE)
        .expect("gbk lossy");
    end(utf8);
    end(gbk);
}

#[test]
fn a_datagram_over_1024_bytes_is_cut() {
    let (socket, me) = test_socket();
    let (chat, addr) = start("127.0.0.1:0", me, &[]);
    let big: Vec<u8> = (0..2000u32).map(|i| b'0' + (i % 10) as u8).collect();
    socket.send_to(&big, addr).expect("send 2000 bytes");
    socket.send_to(b"next", addr).expect("send");
    chat.wait_for_stdout(&format!(">> {me}: next\n"), PATIENCE)
        .expect("the next datagram");
    let first_1024 = String::from_utf8(big[..1024].to_vec()).expect("ascii");
    assert_eq!(
        end(chat),
        format!(
            "listening on {addr}\n>> {me}: {first_1024}\n(that datagram filled the whole \
             1024-byte buffer: anything after byte 1024 was cut off and is lost)\n>> {me}: next\n"
        )
    );
}

#[test]
fn end_of_input_at_once_ends_the_program() {
    let (socket, me) = test_socket();
    let (chat, addr) = start("127.0.0.1:0", me, &[]);
    assert_eq!(end(chat), format!("listening on {addr}\n"));
    // Nothing was sent. The program is gone, so a datagram would be here already.
    socket.set_nonblocking(true).expect("nonblocking");
    assert!(socket.recv_from(&mut [0u8; 16]).is_err());
}

#[test]
fn a_bad_encoding_is_a_usage_error() {
    let done = Running::start(CHAT, &["--encoding", "latin-1"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 2);
    assert_eq!(done.stdout, "");
    assert!(
        done.stderr
            .starts_with("error: invalid value 'latin-1' for '--encoding <ENCODING>'\n"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let (_taken, addr) = test_socket();
    let done = Running::start(CHAT, &["--bind", &addr.to_string()])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert_eq!(
        done.stderr,
        format!(
            "bind {addr}: address already in use \
             (another program is using that port: stop it, or pass --bind 127.0.0.1:0)\n"
        )
    );
}

#[test]
fn a_peer_that_is_not_an_address_is_one_line_and_exit_1() {
    let done = Running::start(CHAT, &["--bind", "127.0.0.1:0", "--peer", "nowhere"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert!(
        done.stderr.starts_with("resolve nowhere: "),
        "{}",
        done.stderr
    );
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}

/// `udp-chat-threaded | head -1`: after the banner stdout is closed. What arrives can no
/// longer be shown: the program stops as Ctrl-C stops it (exit 130), without a panic.
#[test]
fn a_closed_stdout_stops_it_as_ctrl_c_does() {
    let (socket, me) = test_socket();
    let mut command = std::process::Command::new(CHAT);
    command.args(["--bind", "127.0.0.1:0", "--peer", &me.to_string()]);
    let run = Running::spawn_head(command, 1).expect("start udp-chat-threaded");
    let addr = run.wait_for_banner(PATIENCE).expect("banner");
    // Send until a line it prints finds stdout closed and it ends (each wait ends early
    // when it does).
    for n in 0..50 {
        socket
            .send_to(format!("message {n}").as_bytes(), addr)
            .expect("send");
        if run.wait_output_closed(Duration::from_millis(100)) {
            break;
        }
    }
    // stdin stays open: end of input is not what ends it.
    assert!(run.output_closed(), "still running: {}", run.stderr());
    let done = run.finish(PATIENCE).expect("it ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 130, "{done:?}");
}

/// Anyone may send to our port: a datagram that tries to forge a line of our output is
/// shown with its control characters escaped.
#[test]
fn control_characters_from_the_peer_are_escaped() {
    let (socket, me) = test_socket();
    let (chat, addr) = start("127.0.0.1:0", me, &[]);
    socket
        .send_to(b"hi\x1b[31m\nlegal connection", addr)
        .expect("send");
    chat.wait_for_stdout(
        &format!(">> {me}: hi\\x1b[31m\\nlegal connection\n"),
        PATIENCE,
    )
    .expect("shown escaped");
    let stdout = end(chat);
    assert!(!stdout.lines().any(|l| l == "legal connection"), "{stdout}");
}
