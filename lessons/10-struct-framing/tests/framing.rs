//! struct-framing as a student runs it: the real server fed through stdin and the real
//! client on a port the OS picks, and raw test sockets that send exactly the bytes of each
//! bad frame. The course's Python sender and receiver are in tests/python.rs.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{Finished, PATIENCE, Running, connect, read_to_close, run_with_stdout_closed};

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

/// A raw test server: accept one client, send exactly `bytes`, then say nothing more,
/// with the connection open, until the returned sender is dropped.
fn raw_server_then_silent(bytes: Vec<u8>) -> (SocketAddr, mpsc::Sender<()>) {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind test listener");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            conn.set_write_timeout(Some(PATIENCE)).expect("timeout");
            let _ = conn.write_all(&bytes);
            let _ = done_rx.recv_timeout(PATIENCE);
        }
    });
    (addr, done_tx)
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
    // Nothing sits in a buffer: a line typed into the server is sent as one frame at
    // once, and printed by the client while the server still waits for more.
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
fn a_header_promising_2_gib_then_nothing_costs_no_memory() {
    // Step 1: the header says 2147483647 bytes (allowed by --max-frame); step 2: the
    // server closes. The client must say so at once, having reserved nothing: it runs
    // under a 1 GiB address-space limit (ulimit -v), so a buffer of the promised size
    // would fail to allocate (and abort the program) before one body byte came.
    let addr = raw_server(i32::MAX.to_le_bytes().to_vec());
    let port = addr.port().to_string();
    let mut limited = Command::new("sh");
    limited.args(["-c", "ulimit -v 1048576 && exec \"$0\" \"$@\"", CLIENT]);
    limited.args(["--port", &port, "--max-frame", "2147483647"]);
    let started = Instant::now();
    let done = Running::spawn(limited)
        .expect("start client")
        .finish(Duration::from_secs(5))
        .expect("the client ends at once");
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: stream ended after 0 of 2147483647 body bytes\n"),
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn max_frame_is_at_most_what_a_header_can_say() {
    // A 4-byte signed length says at most 2147483647: a larger --max-frame is a typo.
    for huge in ["2147483648", "3000000000", "18446744073709551616"] {
        let done = Running::start(CLIENT, &["--max-frame", huge])
            .expect("start client")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "--max-frame {huge}: {done:?}");
    }
}

#[test]
fn a_silent_server_is_one_line_after_the_timeout() {
    let (addr, done_tx) = raw_server_then_silent(frame(b"ok"));
    let done = start_client(addr, &["--timeout", "1"])
        .finish(PATIENCE)
        .expect("client ends");
    drop(done_tx);
    assert_exit(
        &done,
        1,
        "ok\n",
        &format!("receive {addr}: no frame header within 1 s (--timeout)\n"),
    );
}

#[test]
fn a_server_silent_inside_a_body_is_one_line_after_the_timeout() {
    let mut bytes = 10i32.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"abc");
    let (addr, done_tx) = raw_server_then_silent(bytes);
    let done = start_client(addr, &["--timeout", "1"])
        .finish(PATIENCE)
        .expect("client ends");
    drop(done_tx);
    assert_exit(
        &done,
        1,
        "",
        &format!("receive {addr}: 3 of 10 body bytes, then nothing within 1 s (--timeout)\n"),
    );
}

#[test]
fn huge_and_infinite_timeouts_are_usage_errors() {
    for huge in ["18446744073709551615", "1e19", "inf", "0"] {
        let done = Running::start(CLIENT, &["--timeout", huge])
            .expect("start client")
            .finish(PATIENCE)
            .expect("client ends");
        assert_eq!(done.code(), 2, "--timeout {huge}: {done:?}");
    }
    let done = Running::start(CLIENT, &["--timeout", "inf"])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert!(done.stderr.contains("at most"), "{}", done.stderr);
}

#[test]
fn control_characters_from_the_server_are_shown_escaped() {
    // A message that tries to colour the terminal and to start a line of its own.
    let forged = "legal connection from 127.0.0.1:1: upload";
    let message = format!("red\x1b[31m\n{forged}");
    let (_, done) = client_reading(frame(message.as_bytes()), &[]);
    assert_exit(&done, 0, &format!("red\\x1b[31m\\n{forged}\n"), "");
    assert!(
        done.stdout.lines().all(|line| line != forged),
        "{}",
        done.stdout
    );
}

#[test]
fn an_unknown_host_is_a_resolve_error_not_a_connect_error() {
    let done = Running::start(CLIENT, &["--host", "no-such-host.invalid"])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(
        done.stderr.starts_with("resolve no-such-host.invalid: "),
        "{}",
        done.stderr
    );
}

#[test]
fn an_ipv6_address_is_written_with_brackets() {
    let refused = lesson_runner::refused_port().expect("hold a port");
    let port = refused.addr.port().to_string();
    let done = Running::start(CLIENT, &["--host", "::1", "--port", &port])
        .expect("start client")
        .finish(PATIENCE)
        .expect("client ends");
    assert_eq!(done.code(), 1, "{done:?}");
    assert!(
        done.stderr.starts_with(&format!("connect [::1]:{port}: ")),
        "{}",
        done.stderr
    );
}

#[test]
fn a_closed_stdout_stops_the_client_as_ctrl_c_would() {
    // As `struct-framing-client | head -n 0`: no panic, no error line, Ctrl-C's 130.
    let (mut server, addr) = start_server();
    server.write_stdin(CONVERSATION).expect("type into server");
    server.close_stdin();
    let port = addr.port().to_string();
    let (code, stderr) =
        run_with_stdout_closed(CLIENT, &["--port", &port]).expect("run the client");
    assert_eq!(code, Some(130), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn the_server_goes_on_when_its_stdout_is_closed() {
    // As `struct-framing-server --port 0 | head -1`: after the banner nobody reads its
    // stdout. It must still send every frame and end as usual (exit 0), not panic on
    // its `client ... connected` or `sent ...` line.
    let mut command = Command::new(SERVER);
    command.args(["--port", "0"]);
    let mut server = Running::spawn_head(command, 1).expect("start server");
    let addr = server.wait_for_banner(PATIENCE).expect("banner");
    let client = start_client(addr, &[]);
    // The first frame reaches the client after the server's `connected` line closed the
    // pipe; the server's last line (`sent ...`) comes after end of input.
    server.write_stdin("hello\n").expect("type into server");
    client
        .wait_for_stdout("hello\n", PATIENCE)
        .expect("the first line arrives");
    let (server, client) = feed(server, client, b"world\n");
    assert_exit(&client, 0, "hello\nworld\n", "");
    assert_eq!(server.code(), 0, "{}", server.stderr);
    assert!(!server.stderr.contains("panicked"), "{}", server.stderr);
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
