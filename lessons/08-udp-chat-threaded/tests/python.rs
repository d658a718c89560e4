//! Rust ↔ Python: a Rust instance chats with the course's Python program (both are peers:
//! each binds its port and sends to the other's), in UTF-8 and in the course's gb2312,
//! through a tap that records every datagram. Without python3 these print a notice and
//! pass; under CI=true they fail.

use std::net::{SocketAddr, UdpSocket};

use lesson_runner::{PATIENCE, Running, Toward, UdpTap, python_command};

const CHAT: &str = env!("CARGO_BIN_EXE_udp-chat-threaded");
const PYTHON_CHAT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/udp_chat_threaded.py");

/// 你好 in GBK (and gb2312): two bytes a character.
const NIHAO_GBK: [u8; 4] = [0xC4, 0xE3, 0xBA, 0xC3];

/// An address where nothing is bound: the OS hands out a free port, we let it go. (Some
/// other program could take it in the moment before we use it; that race is tiny.)
fn free_addr() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind test socket");
    socket.local_addr().expect("local addr")
}

/// End of input stops the sender and the program: exit 0, nothing on stderr.
fn end(chat: Running) -> String {
    let done = chat.finish(PATIENCE).expect("udp-chat-threaded ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stderr, "");
    done.stdout
}

/// The Rust instance (`rust` is its --encoding) and the Python one (`python`) chat through
/// a tap: the Rust one says `hello`, the Python one answers `你好`, the Rust one sends
/// `还在吗?` and `still there?` in a row. Checks what each printed and every datagram;
/// `on_wire` is how `你好` and `还在吗?` look there.
fn chat(rust: &str, python: &str, on_wire: [&[u8]; 2]) {
    let greeting = "你好";
    // The Python instance binds a port known in advance, so the tap can send to it; it
    // sends to the tap's back socket, the Rust instance to its front one.
    let python_addr = free_addr();
    let tap = UdpTap::start(python_addr).expect("start tap");
    let Some(mut command) = python_command(PYTHON_CHAT) else {
        return;
    };
    let peer = tap.back_addr().to_string();
    command.args([
        "--bind",
        &python_addr.to_string(),
        "--peer",
        &peer,
        "--encoding",
        python,
    ]);
    let mut py = Running::spawn(command).expect("start python");
    assert_eq!(
        py.wait_for_banner(PATIENCE).expect("python banner"),
        python_addr
    );
    let peer = tap.addr().to_string();
    let args = ["--bind", "127.0.0.1:0", "--peer", &peer, "--encoding", rust];
    let mut rs = Running::start(CHAT, &args).expect("start udp-chat-threaded");
    let rust_addr = rs.wait_for_banner(PATIENCE).expect("banner");

    // Each side sees the other at the tap's address that faces it.
    let (rust_seen, python_seen) = (tap.back_addr(), tap.addr());
    rs.write_stdin("hello\n").expect("type into rust");
    py.wait_for_stdout(&format!(">> {rust_seen}: hello\n"), PATIENCE)
        .expect("python prints rust's line");
    py.write_stdin(format!("{greeting}\n"))
        .expect("type into python");
    rs.wait_for_stdout(&format!(">> {python_seen}: {greeting}\n"), PATIENCE)
        .expect("rust prints python's line");
    // Nobody takes turns: the Rust side sends twice in a row and Python prints both.
    rs.write_stdin("还在吗?\nstill there?\n")
        .expect("type into rust");
    py.wait_for_stdout(&format!(">> {rust_seen}: still there?\n"), PATIENCE)
        .expect("python prints both");

    assert_eq!(
        tap.datagrams(4, PATIENCE).expect("four datagrams"),
        [
            (Toward::Server, b"hello".to_vec()),
            (Toward::Client, on_wire[0].to_vec()),
            (Toward::Server, on_wire[1].to_vec()),
            (Toward::Server, b"still there?".to_vec()),
        ]
    );
    assert_eq!(
        end(rs),
        format!("listening on {rust_addr}\n>> {python_seen}: {greeting}\n")
    );
    assert_eq!(
        end(py),
        format!(
            "listening on {python_addr}\n>> {rust_seen}: hello\n>> {rust_seen}: 还在吗?\n\
             >> {rust_seen}: still there?\n"
        )
    );
}

#[test]
fn rust_peer_python_peer_chat_both_ways() {
    chat("utf-8", "utf-8", ["你好".as_bytes(), "还在吗?".as_bytes()]);
}

#[test]
fn rust_peer_python_peer_in_gb2312_like_the_course() {
    // The Rust side says gbk, the course's program gb2312: the same bytes.
    // 还 在 吗 are two bytes each in GBK too; the question mark stays ASCII.
    chat(
        "gbk",
        "gb2312",
        [&NIHAO_GBK, &[0xBB, 0xB9, 0xD4, 0xDA, 0xC2, 0xF0, b'?']],
    );
}
