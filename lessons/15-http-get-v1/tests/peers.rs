//! http-get-v1 against raw test peers: servers in the test process that answer exactly
//! the bytes each case needs — the request checked byte for byte, a response cut in odd
//! places, bodies the head says nothing true about, a server that closes at once or
//! before its blank line, one that goes silent, Ctrl-C and SIGTERM in the middle, a
//! stdout that closes (`| head`), a file already there, and escape sequences in the
//! server's text. Every failure must print one line, exit 1, and leave no file behind.

mod common;

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{
    Scratch, answering, chunked, http_get, http_get_command, noise, peer, response, start_http_get,
    wait_for_close, write_in_odd_pieces,
};
use lesson_runner::{PATIENCE, Running};

#[test]
fn the_request_is_the_course_s_get_host_and_connection_close() {
    let scratch = Scratch::new("request");
    let (addr, requests) = answering(
        1,
        response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", b"hi"),
    );
    let url = format!("http://{addr}/a/b.txt?q=1#frag");
    let out = http_get(scratch.path(), &[&url]);
    assert_eq!(out.code(), 0, "{out:?}");
    let request = requests.recv_timeout(PATIENCE).expect("the request");
    let expected =
        format!("GET /a/b.txt?q=1 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(&request), expected);
    // Saved under the last segment of the path, without the query.
    assert_eq!(fs::read(scratch.join("b.txt")).expect("b.txt"), b"hi");
    assert_eq!(scratch.names(), ["b.txt"]);
    assert!(
        out.stdout
            .contains(&format!("sent GET /a/b.txt?q=1 HTTP/1.1 to {addr}\n"))
    );
    assert!(
        out.stdout
            .contains("\nHTTP/1.1 200 OK\nContent-Length: 2\n\nsaved 2 bytes to b.txt (read until the server closed)\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_body_is_everything_after_the_first_blank_line_until_the_server_closes() {
    // The head and the first bytes of the body in tiny writes, so the blank line itself
    // is cut across reads; a body with blank lines of its own, which stay in it.
    let scratch = Scratch::new("until-close");
    let mut body = b"first\r\n\r\nsecond\r\n\r\n".to_vec();
    body.extend(noise(100_000));
    let wire = response("HTTP/1.0 200 OK\r\nServer: test\r\n\r\n", &body);
    let (addr, _) = peer(1, move |conn| {
        write_in_odd_pieces(conn, &wire[..300]);
        let _ = conn.write_all(&wire[300..]);
    });
    let out = http_get(scratch.path(), &[&format!("http://{addr}/")]);
    assert_eq!(out.code(), 0, "{out:?}");
    assert!(fs::read(scratch.join("index.html")).expect("index.html") == body);
    assert!(out.stdout.contains("HTTP/1.0 200 OK\nServer: test\n\n"));
    assert!(out.stdout.contains(&format!(
        "saved {} bytes to index.html (read until the server closed)",
        body.len()
    )));
    assert_eq!(scratch.names(), ["index.html"]);
}

#[test]
fn the_head_is_printed_not_obeyed() {
    // The course's program, and v1, believe only the server closing: what the head says
    // about the body (its status, its length, its encoding) does not change what is
    // saved. http-get-v2 reads all three.
    let scratch = Scratch::new("trusting");
    let page = b"<p>hello, chunked world</p>\n";
    let wire = chunked(page, &[12, page.len() - 12], "");
    let (addr, _) = answering(
        1,
        response(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            &wire,
        ),
    );
    let out = http_get(
        scratch.path(),
        &["-o", "chunked.html", &format!("http://{addr}/")],
    );
    assert_eq!(out.code(), 0, "{out:?}");
    let saved = fs::read(scratch.join("chunked.html")).expect("chunked.html");
    assert_eq!(saved, wire, "the size lines are saved into the page");
    // A Content-Length shorter than the body, on a 404: all of it is saved, exit 0.
    let (addr, _) = answering(
        1,
        response(
            "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n",
            b"not here",
        ),
    );
    let out = http_get(scratch.path(), &[&format!("http://{addr}/missing.html")]);
    assert_eq!(out.code(), 0, "{out:?}");
    assert!(out.stdout.contains("HTTP/1.1 404 Not Found\n"));
    assert_eq!(
        fs::read(scratch.join("missing.html")).expect("missing.html"),
        b"not here"
    );
}

/// Runs http-get-v1 against a peer that sends `bytes` (then closes, or with `hold`,
/// keeps the connection open until http-get-v1 closes it); returns stderr after checking
/// exit 1, a single error line, and that no file (not even a temporary one) is left.
fn fails_cleanly(name: &str, bytes: Vec<u8>, hold: bool, args: &[&str]) -> String {
    let scratch = Scratch::new(name);
    let (addr, _) = peer(1, move |conn| {
        let _ = conn.write_all(&bytes);
        if hold {
            wait_for_close(conn);
        }
    });
    let started = Instant::now();
    let url = format!("http://{addr}/");
    let mut all = vec!["-o", "page.html", url.as_str()];
    all.extend_from_slice(args);
    let out = http_get(scratch.path(), &all);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered at once, not at a timeout"
    );
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "one error line: {:?}",
        out.stderr
    );
    assert!(
        out.stderr.starts_with(&format!("receive {addr}: ")),
        "names the stage and the address: {:?}",
        out.stderr
    );
    assert_eq!(scratch.names(), Vec::<String>::new(), "nothing left behind");
    out.stderr
}

#[test]
fn a_server_that_closes_before_the_blank_line() {
    let err = fails_cleanly("closes", Vec::new(), false, &[]);
    assert!(
        err.contains("the connection closed after 0 bytes, before the head's blank line"),
        "{err}"
    );
    let err = fails_cleanly(
        "closes-in-head",
        b"HTTP/1.1 200 OK\r\nContent-".to_vec(),
        false,
        &[],
    );
    assert!(
        err.contains("the connection closed after 25 bytes, before the head's blank line"),
        "{err}"
    );
}

#[test]
fn a_silent_server_meets_the_timeout() {
    let scratch = Scratch::new("silent");
    let (addr, _) = peer(1, wait_for_close);
    let out = http_get(
        scratch.path(),
        &["--timeout", "0.3", &format!("http://{addr}/")],
    );
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        format!("receive {addr}: nothing arrived for 0.3 s (--timeout)")
    );
    assert_eq!(scratch.names(), Vec::<String>::new());
}

#[test]
fn a_server_that_stalls_after_the_head_meets_the_timeout() {
    let err = fails_cleanly(
        "stall",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec(),
        true,
        &["--timeout", "0.3"],
    );
    assert!(
        err.ends_with(": nothing arrived for 0.3 s (--timeout)\n"),
        "{err}"
    );
}

#[test]
fn a_failed_download_keeps_the_old_file_as_it_was() {
    let scratch = Scratch::new("keep-old");
    fs::write(scratch.join("page.html"), "the old page").expect("old file");
    let (addr, _) = peer(1, |conn| {
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\n\r\nnew");
        wait_for_close(conn);
    });
    let url = format!("http://{addr}/");
    let out = http_get(
        scratch.path(),
        &["--timeout", "0.3", "-o", "page.html", &url],
    );
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        fs::read_to_string(scratch.join("page.html")).expect("page"),
        "the old page"
    );
    assert_eq!(scratch.names(), ["page.html"]);
    // And a good download replaces it.
    let (addr, _) = answering(1, response("HTTP/1.1 200 OK\r\n\r\n", b"new"));
    let out = http_get(
        scratch.path(),
        &["-o", "page.html", &format!("http://{addr}/")],
    );
    assert_eq!(out.code(), 0, "{out:?}");
    assert_eq!(
        fs::read_to_string(scratch.join("page.html")).expect("page"),
        "new"
    );
}

/// Start http-get-v1 against a server that sends a head and the first 1000 bytes of a
/// body and then waits; returns once those bytes are on their way.
fn mid_download(scratch: &Scratch) -> Running {
    let (sent, bytes_out) = mpsc::channel();
    let (addr, _) = peer(1, move |conn| {
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
        let _ = conn.write_all(&[b'x'; 1000]);
        let _ = sent.send(());
        wait_for_close(conn);
    });
    let client = start_http_get(
        scratch.path(),
        &["-o", "big.bin", &format!("http://{addr}/")],
    );
    bytes_out
        .recv_timeout(PATIENCE)
        .expect("the server sent the start of the body");
    client
}

#[test]
fn ctrl_c_in_the_middle_of_a_download_leaves_no_file() {
    let scratch = Scratch::new("ctrl-c");
    let client = mid_download(&scratch);
    client.interrupt().expect("Ctrl-C");
    let out = client.finish(PATIENCE).expect("http-get-v1 ends");
    assert_eq!(out.code(), 130, "{out:?}");
    assert_eq!(out.stderr.trim(), "interrupted: nothing saved");
    assert_eq!(scratch.names(), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn sigterm_in_the_middle_of_a_download_leaves_no_file() {
    // `kill PID`, or a service manager stopping us: the same clean end as Ctrl-C (ctrlc's
    // termination feature, declared in the workspace's Cargo.toml).
    let scratch = Scratch::new("sigterm");
    let client = mid_download(&scratch);
    client.terminate().expect("SIGTERM");
    let out = client.finish(PATIENCE).expect("http-get-v1 ends");
    assert_eq!(out.code(), 130, "{out:?}");
    assert_eq!(out.stderr.trim(), "interrupted: nothing saved");
    assert_eq!(scratch.names(), Vec::<String>::new());
}

#[test]
fn a_closed_stdout_stops_the_download_and_leaves_no_file() {
    // `http-get-v1 URL | head -n 2`: head takes the `sent` line and the status line, and
    // closes the pipe. The headers come next: 12 lines of 4000 control bytes, 16 KB each
    // once escaped, more than a pipe holds, so printing them finds stdout closed.
    let scratch = Scratch::new("closed-stdout");
    let mut wire = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..12 {
        wire.extend_from_slice(format!("X-Pad-{i}: ").as_bytes());
        wire.extend(std::iter::repeat_n(1u8, 4000));
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"\r\nthe page");
    let (addr, _) = answering(1, wire);
    let url = format!("http://{addr}/");
    let command = http_get_command(scratch.path(), &["-o", "page.html", &url]);
    let out = Running::spawn_head(command, 2)
        .expect("start http-get-v1 | head -n 2")
        .finish(PATIENCE)
        .expect("http-get-v1 ends");
    assert_eq!(out.code(), 130, "stops as Ctrl-C does: {out:?}");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        out.stderr.trim(),
        "stopped: stdout was closed; no partial file is left"
    );
    assert_eq!(scratch.names(), Vec::<String>::new(), "no partial file");
}

#[test]
fn a_timeout_out_of_range_is_a_usage_error() {
    let scratch = Scratch::new("timeout-range");
    for value in ["1e19", "inf", "18446744073709551615"] {
        let out = http_get(scratch.path(), &["--timeout", value, "http://127.0.0.1:1/"]);
        assert_eq!(out.code(), 2, "--timeout {value}: {out:?}");
        assert!(out.stderr.contains("at most"), "{value}: {}", out.stderr);
    }
    assert_eq!(scratch.names(), Vec::<String>::new());
}

#[test]
fn a_file_already_there_is_replaced_only_with_o() {
    let scratch = Scratch::new("no-clobber");
    fs::write(scratch.join("page.html"), "mine").expect("page.html");
    let (addr, requests) = answering(1, response("HTTP/1.1 200 OK\r\n\r\n", b"new"));
    let url = format!("http://{addr}/page.html");
    let out = http_get(scratch.path(), &[&url]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "save page.html: is already there; a file is replaced only when -o names it"
    );
    assert!(requests.try_recv().is_err(), "refused before connecting");
    assert_eq!(
        fs::read_to_string(scratch.join("page.html")).expect("page"),
        "mine"
    );
    // Named with -o, it is replaced.
    let out = http_get(scratch.path(), &["-o", "page.html", &url]);
    assert_eq!(out.code(), 0, "{out:?}");
    assert_eq!(
        fs::read_to_string(scratch.join("page.html")).expect("page"),
        "new"
    );
}

#[test]
fn text_from_the_server_is_escaped_in_every_line() {
    // A status line and a header with escape sequences and line breaks of their own.
    let scratch = Scratch::new("escaped");
    let (addr, _) = answering(
        1,
        response(
            "HTTP/1.1 200 Bad\x1b[31m\nSECOND LINE\r\nX-Evil: \x1b[2J\x07\rFAKE\r\n\r\n",
            b"ok",
        ),
    );
    let out = http_get(scratch.path(), &[&format!("http://{addr}/")]);
    assert_eq!(out.code(), 0, "{out:?}");
    assert!(
        !out.stdout.contains('\x1b') && !out.stdout.contains('\x07'),
        "an escape character reached the screen: {out:?}"
    );
    assert!(
        out.stdout.contains(
            "\nHTTP/1.1 200 Bad\\x1b[31m\\nSECOND LINE\nX-Evil: \\x1b[2J\\x07\\rFAKE\n\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn https_and_bad_urls_are_usage_errors() {
    let scratch = Scratch::new("bad-urls");
    let out = http_get(scratch.path(), &["https://example.com/"]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "url https://example.com/: https:// needs TLS (encryption), which this lesson does not speak; fetch it with a TLS client, e.g. curl -O https://example.com/"
    );
    for (url, says) in [
        ("example.com/page", "a URL starts with http://"),
        ("ftp://example.com/", "a URL starts with http://"),
        ("http:///page", "no host name"),
        (
            "http://127.0.0.1:99999/",
            "port \"99999\" should be a number from 1 to 65535",
        ),
        ("http://127.0.0.1/a b", "percent-encode it (%20)"),
        (
            "http://127.0.0.1/\r\nX-Injected: 1",
            "'\\r' can't be sent in a request line",
        ),
    ] {
        let out = http_get(scratch.path(), &[url]);
        assert_eq!(out.code(), 2, "{url}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{url}: {:?}", out.stderr);
        let shown = url.replace('\r', "\\r").replace('\n', "\\n");
        assert!(
            out.stderr.starts_with(&format!("url {shown}: ")),
            "{url}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(says), "{url}: {}", out.stderr);
    }
    let out = http_get(scratch.path(), &[]);
    assert_eq!(out.code(), 2, "no URL: {out:?}");
    assert_eq!(scratch.names(), Vec::<String>::new());
}

#[test]
fn nobody_listening_and_bad_output_paths() {
    let scratch = Scratch::new("refused");
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }; // closed again: nobody listens there now
    let url = format!("http://127.0.0.1:{port}/");
    let out = http_get(scratch.path(), &[&url]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        format!("connect 127.0.0.1:{port}: connection refused")
    );
    // A name with no address fails before any connection is tried (RFC 6761's .invalid).
    let out = http_get(scratch.path(), &["http://no-such-host.invalid/"]);
    assert_eq!(out.code(), 1, "{out:?}");
    let line = out.stderr.trim();
    assert!(line.starts_with("resolve no-such-host.invalid: "), "{line}");
    // Checked before connecting, so these are usage errors even with nobody listening.
    fs::create_dir(scratch.join("folder")).expect("folder");
    let out = http_get(scratch.path(), &["-o", "folder", &url]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "-o folder: is a folder; give a file name (-o FILE)"
    );
    let out = http_get(scratch.path(), &["-o", "/dev/null", &url]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(
        out.stderr.contains("is not an ordinary file"),
        "{}",
        out.stderr
    );
    assert_eq!(scratch.names(), ["folder"]);
}
