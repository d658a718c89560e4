//! struct-framing as a student runs it: the real server fed through stdin and the real
//! client on a port the OS picks, and raw test sockets that send exactly the bytes of each
//! bad frame. The course's Python sender and receiver are in tests/python.rs.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use lesson_runner::{Finished, PATIENCE, Running, connect, read_to_close};

const SERVER: &str = env!("CARGO_BIN_EXE_struct-framing-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_struct-framing-client");

/// The course's conversation: three messages, one of them Chinese.
const CONVERSATION: &str = "hello\nworld\n你好\n";
const MIB: usize = 1024 * 1024;

fn start_server() -> (Running, SocketAddr) {
    let server = Running::start(SERVER, &["--port", "0"]).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    (server, addr)
}

fn start_client(addr: SocketAddr, extra: &[&str]) -> Running {
    let port = addr.port().to_string();
    let mut args = vec!["--port", port.as_str()];
    args.extend_from_slice(extra);
    Running::start(CLIENT, &args).expect("start client")
}

/// Type `input` into a server whose client is already connecting, end its input, and
/// wait for both to finish. (The server reads stdin only once a client is connected, so
/// the client must be started first: a big input would fill the pipe otherwise.)
fn feed(mut server: Running, client: Running, input: &[u8]) -> (Finished, Finished) {
    server.write_stdin(input).expect("type into server");
    server.close_stdin();
    let client = client.finish(PATIENCE).expect("client ends");
    let server = server.finish(PATIENCE).expect("server ends");
    (server, client)
}

/// A raw test server: accept one client, send exactly `bytes`, close.
fn raw_server(bytes: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            conn.set_write_timeout(Some(PATIENCE)).expect("timeout");
            let _ = conn.write_all(&bytes);
        }
    });
    addr
}

/// One frame as the course packs it: struct.pack('<i', len(msg)) + msg.
fn frame(msg: &[u8]) -> Vec<u8> {
    let mut bytes = i32::try_from(msg.len())
        .expect("short message")
        .to_le_bytes()
        .to_vec();
    bytes.extend_from_slice(msg);
    bytes
}

/// Run the Rust client against a raw server sending `bytes`.
fn client_reading(bytes: Vec<u8>, extra: &[&str]) -> (SocketAddr, Finished) {
    let addr = raw_server(bytes);
    let done = start_client(addr, extra)
        .finish(PATIENCE)
        .expect("client ends");
    (addr, done)
}

fn assert_exit(done: &Finished, code: i32, stdout: &str, stderr: &str) {
    assert_eq!(done.code(), code, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, stdout);
    assert_eq!(done.stderr, stderr);
}

/// The server's client address, from its `client ADDR connected` line.
fn connected_client(server_stdout: &str) -> String {
    let line = server_stdout.lines().nth(1).expect("second line");
    line.strip_prefix("client ")
        .and_then(|rest| rest.strip_suffix(" connected"))
        .unwrap_or_else(|| panic!("not a `client ADDR connected` line: {line:?}"))
        .to_string()
}

#[test]
fn the_course_conversation() {
    let (server, addr) = start_server();
    let client = start_client(addr, &[]);
    let (server, client) = feed(server, client, CONVERSATION.as_bytes());
    assert_exit(&client, 0, CONVERSATION, "");
    assert_eq!(server.code(), 0, "{}", server.stderr);
    let peer = connected_client(&server.stdout);
    assert_eq!(
        server.stdout,
        format!(
            "listening on {addr}\nclient {peer} connected\nsent 3 frames to {peer}, then closed\n"
        )
    );
    assert_eq!(server.stderr, "");
}

#[test]
fn the_wire_holds_a_little_endian_length_before_each_message() {
    let (mut server, addr) = start_server();
    let mut stream = connect(addr).expect("connect");
    // An empty line is a frame of length 0; a Windows line end is not part of the message.
    server
        .write_stdin("hello\n\n你好\r\n".as_bytes())
        .expect("type");
    server.close_stdin();
    let mut want = vec![5, 0, 0, 0];
    want.extend_from_slice(b"hello");
    want.extend_from_slice(&[0, 0, 0, 0]);
    want.extend_from_slice(&[6, 0, 0, 0]);
    want.extend_from_slice("你好".as_bytes());
    assert_eq!(read_to_close(&mut stream).expect("read"), want);
    assert_eq!(server.finish(PATIENCE).expect("server ends").code(), 0);
}

#[test]
fn each_typed_line_reaches_the_client_at_once() {
    // Both sides buffer, and both send what they have before they wait: a line typed
    // into the server is printed by the client while the server still waits for more.
    let (mut server, addr) = start_server();
    let client = start_client(addr, &[]);
    server
        .wait_for_stdout(" connected\n", PATIENCE)
        .expect("server accepted");
    server.write_stdin("first\n").expect("type");
    client
        .wait_for_stdout("first\n", PATIENCE)
        .expect("first line shown before end of input");
    server.write_stdin("second\n").expect("type");
    client
        .wait_for_stdout("first\nsecond\n", PATIENCE)
        .expect("second line shown before end of input");
    let (_, client) = feed(server, client, b"");
    assert_exit(&client, 0, "first\nsecond\n", "");
}

#[test]
fn an_empty_line_is_an_empty_frame_and_prints_an_empty_line() {
    let (server, addr) = start_server();
    let client = start_client(addr, &[]);
    let (_, client) = feed(server, client, b"a\n\nb\n");
    assert_exit(&client, 0, "a\n\nb\n", "");
}

#[test]
fn a_message_of_exactly_1_mib_passes_the_default_limit() {
    let (server, addr) = start_server();
    let client = start_client(addr, &[]);
    let mut input = vec![b'x'; MIB];
    input.push(b'\n');
    let (server, client) = feed(server, client, &input);
    assert_eq!(client.code(), 0, "{}", client.stderr);
    assert_eq!(client.stdout.len(), MIB + 1);
    assert!(client.stdout.bytes().take(MIB).all(|b| b == b'x'));
    assert!(client.stdout.ends_with("x\n"));
    assert_eq!(server.code(), 0, "{}", server.stderr);
}

#[test]
fn one_byte_over_1_mib_is_refused() {
    let (server, addr) = start_server();
    let client = start_client(addr, &[]);
    let mut input = vec![b'x'; MIB + 1];
    input.push(b'\n');
    let (server, client) = feed(server, client, &input);
    assert_exit(
        &client,
        1,
        "",
        &format!("receive {addr}: frame header: length 1048577 is over --max-frame 1048576\n"),
    );
    // The client hung up in the middle: the server either got it all out first or
    // reports the broken connection in one line. No panic either way.
    assert!(matches!(server.code(), 0 | 1), "{server:?}");
    assert!(server.stderr.lines().count() <= 1, "{}", server.stderr);
}

#[test]
fn twenty_thousand_frames_arrive_whole_and_in_order() {
    let (server, addr) = start_server();
    let client = start_client(addr, &[]);
    let input: String = (0..20_000).map(|i| format!("frame {i}\n")).collect();
    let (server, client) = feed(server, client, input.as_bytes());
    assert_exit(&client, 0, &input, "");
    assert!(
        server.stdout.ends_with(", then closed\n") && server.stdout.contains("sent 20000 frames"),
        "{}",
        server.stdout
    );
}

#[test]
fn a_negative_length_is_refused() {
    let mut bytes = frame(b"ok");
    bytes.extend_from_slice(&(-5i32).to_le_bytes());
    let (addr, done) = client_reading(bytes, &[]);
    // The message before the bad frame is printed; then one line, exit 1.
    assert_exit(
        &done,
        1,
        "ok\n",
        &format!("receive {addr}: frame header: length -5 is negative\n"),
    );
}

#[test]
fn a_length_over_the_limit_is_refused_before_reading_the_body() {
    // No body follows: the client must not wait for (or allocate) 2 MB.
    let (addr, done) = client_reading(2_000_000i32.to_le_bytes().to_vec(), &[]);
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: frame header: length 2000000 is over --max-frame 1048576\n"),
    );
}

#[test]
fn the_largest_length_a_header_can_say_is_refused_at_once() {
    let (addr, done) = client_reading(i32::MAX.to_le_bytes().to_vec(), &[]);
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: frame header: length 2147483647 is over --max-frame 1048576\n"),
    );
}

#[test]
fn max_frame_sets_the_limit() {
    let mut bytes = frame(b"ten bytes!");
    bytes.extend(frame(b"eleven byte"));
    let (addr, done) = client_reading(bytes, &["--max-frame", "10"]);
    assert_exit(
        &done,
        1,
        "ten bytes!\n",
        &format!("receive {addr}: frame header: length 11 is over --max-frame 10\n"),
    );
}

#[test]
fn a_stream_that_ends_inside_a_header_is_refused() {
    let mut bytes = frame(b"ok");
    bytes.extend_from_slice(&[5, 0]);
    let (addr, done) = client_reading(bytes, &[]);
    assert_exit(
        &done,
        1,
        "ok\n",
        &format!("receive {addr}: stream ended after 2 of 4 header bytes\n"),
    );
}

#[test]
fn a_stream_that_ends_inside_a_body_is_refused() {
    let mut bytes = 10i32.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"abc");
    let (addr, done) = client_reading(bytes, &[]);
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: stream ended after 3 of 10 body bytes\n"),
    );
}

#[test]
fn a_server_that_closes_between_frames_is_a_clean_end() {
    let (_, done) = client_reading(Vec::new(), &[]);
    assert_exit(&done, 0, "", "");
    let (_, done) = client_reading(frame(b"one"), &[]);
    assert_exit(&done, 0, "one\n", "");
}

#[test]
fn frames_cut_into_one_byte_pieces_still_arrive_whole() {
    // What `cargo lesson run struct-framing --wire --split 1` does: every byte its own
    // write (Nagle off, so they leave one by one). The reads come back short; the frames
    // don't: a client that trusted one read per header or body would fail here.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    let client = start_client(addr, &[]);
    let (mut conn, _) = listener.accept().expect("accept");
    conn.set_nodelay(true).expect("nodelay");
    let mut bytes = frame(b"hello");
    bytes.extend(frame("黏包".as_bytes()));
    bytes.extend(frame(b""));
    for byte in bytes {
        if conn.write_all(&[byte]).is_err() {
            break; // the client gave up: its output below says why
        }
        // A pause so each byte arrives on its own and the client's reads really come
        // back short (nothing waits on it; the output below is what is checked).
        thread::sleep(Duration::from_millis(3));
    }
    drop(conn);
    assert_exit(
        &client.finish(PATIENCE).expect("client ends"),
        0,
        "hello\n黏包\n\n",
        "",
    );
}

#[test]
fn chinese_text_goes_through_whole() {
    let text = "黏包的解决方案：先发长度，再发数据\n你好，世界\n";
    let (server, addr) = start_server();
    let client = start_client(addr, &[]);
    let (_, client) = feed(server, client, text.as_bytes());
    assert_exit(&client, 0, text, "");
}

#[test]
fn invalid_utf8_is_printed_lossily() {
    let (_, done) = client_reading(frame(&[0xff, 0xfe, b'a']), &[]);
    assert_exit(&done, 0, "\u{fffd}\u{fffd}a\n", "");
}

#[test]
fn the_server_sends_stdin_bytes_as_they_are() {
    // Not UTF-8: the server does not judge, it frames the bytes.
    let (mut server, addr) = start_server();
    let mut stream = connect(addr).expect("connect");
    server.write_stdin([0xff, 0xfe, b'\n']).expect("type");
    server.close_stdin();
    assert_eq!(
        read_to_close(&mut stream).expect("read"),
        [2, 0, 0, 0, 0xff, 0xfe]
    );
    assert_eq!(server.finish(PATIENCE).expect("server ends").code(), 0);
}

#[test]
fn the_server_serves_one_client_and_refuses_the_next() {
    let (server, addr) = start_server();
    let _first = connect(addr).expect("connect");
    // The server closes its listening socket right after accepting, before it prints
    // this line: from then on, nobody else can connect.
    server
        .wait_for_stdout(" connected\n", PATIENCE)
        .expect("server accepted");
    let second = TcpStream::connect(addr).expect_err("a second client must be refused");
    assert_eq!(second.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let port = taken.local_addr().expect("local addr").port();
    let done = Running::start(SERVER, &["--port", &port.to_string()])
        .expect("start server")
        .finish(PATIENCE)
        .expect("server ends");
    assert_exit(
        &done,
        1,
        "",
        &lesson_runner::port_in_use_line(format!("127.0.0.1:{port}")),
    );
}

#[test]
fn connection_refused_is_one_line_and_exit_1() {
    // A port where nothing listens, held for the whole test so nobody else can listen there.
    let refused = lesson_runner::refused_port().expect("hold a port");
    let addr = refused.addr;
    let done = start_client(addr, &[]).finish(PATIENCE).expect("ends");
    assert_exit(
        &done,
        1,
        "",
        &format!("connect {addr}: connection refused\n"),
    );
}

#[test]
fn a_max_frame_that_is_not_a_number_is_a_usage_error() {
    let done = Running::start(CLIENT, &["--max-frame", "big"])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 2, "{done:?}");
}
