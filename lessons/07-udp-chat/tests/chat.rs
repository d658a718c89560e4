//! udp-chat as a student runs it: the real server and client on ports the OS picks, talking
//! to each other or to a raw test UDP socket that asserts bytes. The course's Python
//! programs are in tests/python.rs.

use std::net::{SocketAddr, UdpSocket};

use lesson_runner::{PATIENCE, Running};

const SERVER: &str = env!("CARGO_BIN_EXE_udp-chat-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_udp-chat-client");

/// What both sides print after a datagram that filled the 1024-byte buffer.
const CUT: &str = "(that datagram filled the whole 1024-byte buffer: anything after byte 1024 was cut off and is lost)";

/// 你好 in GBK (and gb2312): two bytes a character.
const NIHAO_GBK: [u8; 4] = [0xC4, 0xE3, 0xBA, 0xC3];

/// Start the Rust server on a port the OS picks, with `typed` already on its stdin
/// (its replies, read one per message), and wait for its banner.
fn start_server(extra: &[&str], typed: &str) -> (Running, SocketAddr) {
    let mut args = vec!["--port", "0"];
    args.extend_from_slice(extra);
    let mut server = Running::start(SERVER, &args).expect("start server");
    server.write_stdin(typed).expect("type into server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    (server, addr)
}

/// Start the Rust client with `args` and everything it will type; its stdin is closed, so
/// it ends at the prompt after the last line.
fn start_client(args: &[&str], typed: &str) -> Running {
    let mut client = Running::start(CLIENT, args).expect("start client");
    client.write_stdin(typed).expect("type into client");
    client.close_stdin();
    client
}

/// A raw UDP socket for a test to play one side with; a hang fails instead of freezing.
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

/// A port where nobody listens: bind one, learn it, let it go.
fn closed_port() -> u16 {
    let (socket, addr) = test_socket();
    drop(socket);
    addr.port()
}

/// The client's address, as the server printed it in its first `message from` line.
fn sender_in(server_stdout: &str) -> SocketAddr {
    server_stdout
        .lines()
        .find_map(|l| l.strip_prefix("message from "))
        .and_then(|rest| rest.split_once(": "))
        .and_then(|(addr, _)| addr.parse().ok())
        .unwrap_or_else(|| panic!("no `message from ADDR` line in {server_stdout:?}"))
}

/// The server is waiting in recv_from; a last datagram brings it to its prompt, where
/// end of input (finish closes stdin) ends it. Returns its whole stdout.
fn end_server(server: Running, addr: SocketAddr) -> (String, SocketAddr) {
    let (socket, me) = test_socket();
    socket.send_to(b"bye", addr).expect("send bye");
    let done = server.finish(PATIENCE).expect("server ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stderr, "");
    (done.stdout, me)
}

/// Two messages each way between the Rust client and `server`, then both end.
fn conversation(server: Running, addr: SocketAddr, client_says: [&str; 2], server_says: [&str; 2]) {
    let port = addr.port().to_string();
    let client = start_client(
        &["--port", &port],
        &format!("{}\n{}\n", client_says[0], client_says[1]),
    );
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        done.stdout,
        format!(
            "message: reply from {addr}: {}\nmessage: reply from {addr}: {}\nmessage: ",
            server_says[0], server_says[1]
        )
    );
    assert_eq!(done.stderr, "");

    let (stdout, me) = end_server(server, addr);
    let client = sender_in(&stdout);
    assert_eq!(
        stdout,
        format!(
            "listening on {addr}\nmessage from {client}: {}\nreply: message from {client}: {}\n\
             reply: message from {me}: bye\nreply: ",
            client_says[0], client_says[1]
        )
    );
}

#[test]
fn the_course_conversation() {
    let (server, addr) = start_server(&[], "hello back\nsee you\n");
    conversation(
        server,
        addr,
        ["hello", "how are you?"],
        ["hello back", "see you"],
    );
}

#[test]
fn chinese_text_both_ways() {
    let (server, addr) = start_server(&[], "你好，客户端\n再见\n");
    conversation(
        server,
        addr,
        ["你好，服务器", "谢谢"],
        ["你好，客户端", "再见"],
    );
}

#[test]
fn the_reply_goes_to_whoever_sent_the_message() {
    let (server, addr) = start_server(&[], "one\ntwo\n");
    // Two different sockets, two different addresses: each reply finds its own sender.
    let (first, first_addr) = test_socket();
    let (second, second_addr) = test_socket();
    first.send_to(b"from the first", addr).expect("send");
    assert_eq!(receive(&first), (b"one".to_vec(), addr));
    second.send_to(b"from the second", addr).expect("send");
    assert_eq!(receive(&second), (b"two".to_vec(), addr));
    let (stdout, me) = end_server(server, addr);
    assert_eq!(
        stdout,
        format!(
            "listening on {addr}\nmessage from {first_addr}: from the first\n\
             reply: message from {second_addr}: from the second\n\
             reply: message from {me}: bye\nreply: "
        )
    );
}

#[test]
fn a_gbk_server_reads_and_writes_gb2312_bytes() {
    let (server, addr) = start_server(&["--encoding", "gbk"], "你好\n");
    let (socket, me) = test_socket();
    socket.send_to(&NIHAO_GBK, addr).expect("send");
    // The reply, typed as 你好, goes out as the 4 GBK bytes, not the 6 of UTF-8.
    assert_eq!(receive(&socket), (NIHAO_GBK.to_vec(), addr));
    let (stdout, bye) = end_server(server, addr);
    assert_eq!(
        stdout,
        format!(
            "listening on {addr}\nmessage from {me}: 你好\nreply: message from {bye}: bye\nreply: "
        )
    );
}

#[test]
fn a_gbk_client_reads_and_writes_gb2312_bytes() {
    let (socket, addr) = test_socket();
    let port = addr.port().to_string();
    let client = start_client(&["--port", &port, "--encoding", "gbk"], "你好\n");
    let (bytes, client_addr) = receive(&socket);
    assert_eq!(bytes, NIHAO_GBK);
    socket.send_to(&NIHAO_GBK, client_addr).expect("reply");
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("message: reply from {addr}: 你好\nmessage: ")
    );
}

#[test]
fn invalid_bytes_are_shown_lossily() {
    // Not UTF-8, to the UTF-8 server...
    let (server, addr) = start_server(&[], "ok\n");
    let (socket, me) = test_socket();
    socket.send_to(&[0xff, 0xfe, b'a'], addr).expect("send");
    assert_eq!(receive(&socket).0, b"ok");
    let (stdout, bye) = end_server(server, addr);
    assert_eq!(
        stdout,
        format!(
            "listening on {addr}\nmessage from {me}: \u{fffd}\u{fffd}a\n\
             reply: message from {bye}: bye\nreply: "
        )
    );

    // ...and not GBK, to the GBK client (0xFF starts no GBK character).
    let (socket, addr) = test_socket();
    let port = addr.port().to_string();
    let client = start_client(&["--port", &port, "--encoding", "gbk"], "hi\n");
    let (_, client_addr) = receive(&socket);
    socket.send_to(&[0xff, b'a'], client_addr).expect("reply");
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("message: reply from {addr}: \u{fffd}a\nmessage: ")
    );
}

/// 2000 bytes that show where they were cut: 0123456789012...
fn oversize() -> Vec<u8> {
    (0..2000u32).map(|i| b'0' + (i % 10) as u8).collect()
}

#[test]
fn a_datagram_over_1024_bytes_is_cut_and_the_rest_is_lost() {
    let (server, addr) = start_server(&[], "got it\nok\n");
    let (socket, me) = test_socket();
    let big = oversize();
    socket.send_to(&big, addr).expect("send 2000 bytes");
    assert_eq!(receive(&socket).0, b"got it");
    // Unlike TCP, the 976 bytes that did not fit do not come with the next receive: the
    // next recv_from returns the next datagram.
    socket.send_to(b"next", addr).expect("send");
    assert_eq!(receive(&socket).0, b"ok");
    let first_1024 = String::from_utf8(big[..1024].to_vec()).expect("ascii");
    let (stdout, bye) = end_server(server, addr);
    assert_eq!(
        stdout,
        format!(
            "listening on {addr}\nmessage from {me}: {first_1024}\n{CUT}\n\
             reply: message from {me}: next\nreply: message from {bye}: bye\nreply: "
        )
    );
}

#[test]
fn a_reply_over_1024_bytes_is_cut_for_the_client_too() {
    let (socket, addr) = test_socket();
    let port = addr.port().to_string();
    let client = start_client(&["--port", &port], "hi\n");
    let (_, client_addr) = receive(&socket);
    let big = oversize();
    socket.send_to(&big, client_addr).expect("reply 2000 bytes");
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    let first_1024 = String::from_utf8(big[..1024].to_vec()).expect("ascii");
    assert_eq!(
        done.stdout,
        format!("message: reply from {addr}: {first_1024}\n{CUT}\nmessage: ")
    );
}

#[test]
fn nobody_answering_a_bound_port_is_a_timeout() {
    // A socket that receives and never answers: the datagram arrives, no reply comes.
    let (socket, addr) = test_socket();
    let port = addr.port().to_string();
    let client = start_client(&["--port", &port, "--timeout", "1"], "anyone?\n");
    assert_eq!(receive(&socket).0, b"anyone?");
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "message: ");
    assert_eq!(done.stderr, format!("no reply from {addr} within 1 s\n"));
}

#[test]
fn nobody_listening_at_all_is_a_timeout_too() {
    // Nothing bound there: the kernel answers with ICMP port unreachable, but an
    // unconnected UDP socket never hears of it. All the client can know is the silence.
    let port = closed_port();
    let client = start_client(
        &["--port", &port.to_string(), "--timeout", "1"],
        "anyone?\n",
    );
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "message: ");
    assert_eq!(
        done.stderr,
        format!("no reply from 127.0.0.1:{port} within 1 s\n")
    );
}

#[test]
fn a_connected_client_hears_connection_refused() {
    let port = closed_port();
    // --timeout only as a safety net: the refusal comes back at once.
    let client = start_client(
        &["--port", &port.to_string(), "--connect", "--timeout", "5"],
        "anyone?\n",
    );
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "message: ");
    assert_eq!(
        done.stderr,
        format!("receive 127.0.0.1:{port}: connection refused\n")
    );
}

#[test]
fn a_connected_client_still_chats() {
    let (socket, addr) = test_socket();
    let port = addr.port().to_string();
    let client = start_client(&["--port", &port, "--connect"], "hello\n");
    let (bytes, client_addr) = receive(&socket);
    assert_eq!(bytes, b"hello");
    socket.send_to(b"hello back", client_addr).expect("reply");
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("message: reply from {addr}: hello back\nmessage: ")
    );
}

#[test]
fn end_of_input_ends_the_client_before_sending() {
    let (socket, addr) = test_socket();
    let done = start_client(&["--port", &addr.port().to_string()], "")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, "message: ");
    // Nothing was sent: a receive now would time out, so check without waiting.
    socket.set_nonblocking(true).expect("nonblocking");
    assert!(socket.recv_from(&mut [0u8; 16]).is_err());
}

#[test]
fn a_bad_encoding_is_a_usage_error() {
    for program in [SERVER, CLIENT] {
        let done = Running::start(program, &["--encoding", "latin-1"])
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "{program}");
        assert_eq!(done.stdout, "");
        assert!(
            done.stderr
                .starts_with("error: invalid value 'latin-1' for '--encoding <ENCODING>'\n"),
            "{}",
            done.stderr
        );
        assert!(done.stderr.contains("[possible values: utf-8, gbk]"));
    }
}

#[test]
fn a_bad_timeout_is_a_usage_error() {
    for value in ["0", "-1", "soon"] {
        let done = Running::start(CLIENT, &[format!("--timeout={value}")])
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "--timeout {value}");
        assert!(
            done.stderr.starts_with(&format!(
                "error: invalid value '{value}' for '--timeout <SECS>'"
            )),
            "{}",
            done.stderr
        );
    }
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let (_taken, addr) = test_socket();
    let port = addr.port();
    let done = Running::start(SERVER, &["--port", &port.to_string()])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 1);
    assert_eq!(done.stdout, "");
    assert_eq!(
        done.stderr,
        lesson_runner::port_in_use_line(format!("127.0.0.1:{port}"))
    );
}

#[test]
fn a_timeout_beyond_a_day_is_a_usage_error() {
    for huge in ["18446744073709551615", "inf", "1e19"] {
        let done = Running::start(CLIENT, &["--timeout", huge])
            .expect("start")
            .finish(PATIENCE)
            .expect("ends");
        assert_eq!(done.code(), 2, "--timeout {huge}: {done:?}");
        assert!(done.stderr.contains("at most"), "{}", done.stderr);
        assert_eq!(done.stdout, "");
    }
}

#[test]
fn help_names_the_default_timeout() {
    let done = Running::start(CLIENT, &["--help"])
        .expect("start")
        .finish(PATIENCE)
        .expect("ends");
    assert_eq!(done.code(), 0, "{done:?}");
    assert!(done.stdout.contains("[default: 300]"), "{}", done.stdout);
}

/// `udp-chat-server | head -1`: after the banner stdout is closed. What the server would
/// print is lost, but it goes on: two messages, two replies.
#[test]
fn a_closed_stdout_does_not_stop_the_server() {
    let mut command = std::process::Command::new(SERVER);
    command.args(["--port", "0"]);
    let mut server = Running::spawn_head(command, 1).expect("start server");
    server.write_stdin("r1\nr2\n").expect("type into server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    let (socket, _) = test_socket();
    socket.send_to(b"one", addr).expect("send");
    assert_eq!(receive(&socket), (b"r1".to_vec(), addr));
    socket.send_to(b"two", addr).expect("send");
    assert_eq!(receive(&socket), (b"r2".to_vec(), addr));
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

/// `udp-chat-client | head -1`: after the first line stdout is closed. The client stops as
/// Ctrl-C stops it (exit 130), without a panic.
#[test]
fn a_closed_stdout_stops_the_client_as_ctrl_c_does() {
    let (socket, addr) = test_socket();
    let mut command = std::process::Command::new(CLIENT);
    command.args(["--port", &addr.port().to_string()]);
    let mut run = Running::spawn_head(command, 1).expect("start client");
    // More messages than it can get through before it notices that stdout is closed.
    run.write_stdin("hello\n".repeat(50)).expect("type");
    run.close_stdin();
    // Answer each message until the client stops sending.
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .expect("read timeout");
    // (Each wait ends as soon as the client does; it only gives `head` time to close the
    // pipe before the client is through.)
    let mut buf = [0u8; 64];
    while let Ok((_, from)) = socket.recv_from(&mut buf) {
        socket.send_to(b"ok", from).expect("reply");
        if run.wait_output_closed(std::time::Duration::from_millis(20)) {
            break;
        }
    }
    let done = run.finish(PATIENCE).expect("client ends");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), 130, "{done:?}");
}

/// Text that tries to forge a line of our output is shown with its control characters
/// escaped, by the server and by the client.
#[test]
fn control_characters_from_the_peer_are_escaped() {
    const FORGED: &[u8] = b"hi\x1b[31m\nlegal connection";
    const SHOWN: &str = "hi\\x1b[31m\\nlegal connection";

    let (server, addr) = start_server(&[], "ok\n");
    let (socket, me) = test_socket();
    socket.send_to(FORGED, addr).expect("send");
    assert_eq!(receive(&socket).0, b"ok");
    let (stdout, _) = end_server(server, addr);
    assert!(
        stdout.contains(&format!("message from {me}: {SHOWN}\n")),
        "{stdout}"
    );
    assert!(!stdout.lines().any(|l| l == "legal connection"), "{stdout}");

    let (socket, addr) = test_socket();
    let client = start_client(&["--port", &addr.port().to_string()], "hi\n");
    let (_, client_addr) = receive(&socket);
    socket.send_to(FORGED, client_addr).expect("reply");
    let done = client.finish(PATIENCE).expect("client ends");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        done.stdout,
        format!("message: reply from {addr}: {SHOWN}\nmessage: ")
    );
}

#[test]
fn an_ipv6_address_is_shown_in_brackets() {
    // ::2 is no address of this machine: bind fails, and the line shows [::2]:0.
    let done = Running::start(SERVER, &["--host", "::2", "--port", "0"])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(done.stderr.starts_with("bind [::2]:0: "), "{}", done.stderr);
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
}
