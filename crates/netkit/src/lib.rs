//! netkit: the small things every lesson needs and no lesson teaches.
//!
//! - [`prompt`] mirrors Python's `input("...")`: print a prompt, read one line.
//! - [`banner`] prints the `listening on ADDR` line every server starts with.
//! - [`py_bytes`] shows bytes the way Python prints them: `b'he'`.
//! - [`error_line`] and [`fail`] turn an I/O error into the one-line message a
//!   client prints before it exits with status 1.
//!
//! Every socket call stays in the lessons themselves, where students read them.

use std::fmt::Write as _;
use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

/// Python's `input(label)`: print `label` (no newline), flush, read one line from stdin.
///
/// Returns `Ok(None)` at end of input (Ctrl-D, or the end of a piped file), which is how
/// the lessons' quit paths are reached when stdin is a script. The line comes back without
/// its `\n` (or `\r\n`). Bytes that are not UTF-8 are replaced, never a crash.
pub fn prompt(label: &str) -> io::Result<Option<String>> {
    let mut out = io::stdout().lock();
    out.write_all(label.as_bytes())?;
    out.flush()?;
    drop(out);
    read_line(&mut io::stdin().lock())
}

/// Read one line from any reader, the way [`prompt`] does.
pub fn read_line(input: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut raw = Vec::new();
    if input.read_until(b'\n', &mut raw)? == 0 {
        return Ok(None);
    }
    if raw.last() == Some(&b'\n') {
        raw.pop();
        if raw.last() == Some(&b'\r') {
            raw.pop();
        }
    }
    Ok(Some(String::from_utf8_lossy(&raw).into_owned()))
}

/// Print `listening on ADDR` on stdout and flush it, so whoever started the server (a
/// student, a test, `cargo lesson run`) knows the port before the first `accept`.
pub fn banner(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}

/// Show bytes the way Python's `print(data)` shows a `bytes` object: `b'hello\n'`.
///
/// Printable ASCII stays as it is, `\t \n \r \\` get their escapes, everything else is
/// `\xNN`. Like Python, the quotes are `'` unless the bytes hold a `'` and no `"`.
pub fn py_bytes(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut shown = String::with_capacity(data.len() + 3);
    shown.push('b');
    shown.push(quote as char);
    for &byte in data {
        match byte {
            b'\t' => shown.push_str("\\t"),
            b'\n' => shown.push_str("\\n"),
            b'\r' => shown.push_str("\\r"),
            b'\\' => shown.push_str("\\\\"),
            _ if byte == quote => {
                shown.push('\\');
                shown.push(byte as char);
            }
            0x20..=0x7e => shown.push(byte as char),
            _ => {
                let _ = write!(shown, "\\x{byte:02x}");
            }
        }
    }
    shown.push(quote as char);
    shown
}

/// The cause of an I/O error in lower case, without Rust's `(os error N)` suffix:
/// `connection refused`, `address already in use`, `timed out`.
pub fn cause(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::from("unknown error"),
    }
}

/// The one line a program prints when a stage fails: `connect 127.0.0.1:2345: connection
/// refused`. A port that is already taken also says what to do about it.
pub fn error_line(stage: &str, addr: impl std::fmt::Display, err: &io::Error) -> String {
    let mut line = format!("{stage} {addr}: {}", cause(err));
    if err.kind() == io::ErrorKind::AddrInUse {
        line.push_str(" (another program is using that port: stop it, or pass --port 0)");
    }
    line
}

/// Print [`error_line`] on stderr and return exit status 1, for `return fail(...)` in a
/// `main` that returns `ExitCode`.
pub fn fail(stage: &str, addr: impl std::fmt::Display, err: &io::Error) -> ExitCode {
    eprintln!("{}", error_line(stage, addr, err));
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_bytes_matches_python_repr() {
        assert_eq!(py_bytes(b"he"), "b'he'");
        assert_eq!(py_bytes(b"llo,world"), "b'llo,world'");
        assert_eq!(py_bytes(b""), "b''");
        assert_eq!(py_bytes(b"a\tb\r\n"), "b'a\\tb\\r\\n'");
        assert_eq!(py_bytes(b"\\"), "b'\\\\'");
        assert_eq!(py_bytes(&[0, 0x7f, 0xff]), "b'\\x00\\x7f\\xff'");
        // Python: repr(b"it's") == 'b"it\'s"' and repr(b"'\"") == 'b\'\\\'"\''
        assert_eq!(py_bytes(b"it's"), "b\"it's\"");
        assert_eq!(py_bytes(b"'\""), "b'\\'\"'");
        assert_eq!(py_bytes("你".as_bytes()), "b'\\xe4\\xbd\\xa0'");
    }

    #[test]
    fn read_line_strips_newlines_and_sees_end_of_input() {
        let mut input = io::Cursor::new(b"one\r\ntwo\nthree".to_vec());
        assert_eq!(read_line(&mut input).unwrap().as_deref(), Some("one"));
        assert_eq!(read_line(&mut input).unwrap().as_deref(), Some("two"));
        assert_eq!(read_line(&mut input).unwrap().as_deref(), Some("three"));
        assert_eq!(read_line(&mut input).unwrap(), None);
    }

    #[test]
    fn read_line_is_lossy_on_bad_utf8() {
        let mut input = io::Cursor::new(b"\xff\xfeok\n".to_vec());
        assert_eq!(
            read_line(&mut input).unwrap().as_deref(),
            Some("\u{fffd}\u{fffd}ok")
        );
    }

    #[test]
    fn error_lines_name_stage_address_and_cause() {
        let refused = io::Error::from_raw_os_error(111); // ECONNREFUSED on Linux
        assert_eq!(
            error_line("connect", "127.0.0.1:2345", &refused),
            "connect 127.0.0.1:2345: connection refused"
        );
        let in_use = io::Error::from_raw_os_error(98); // EADDRINUSE on Linux
        let line = error_line("bind", "127.0.0.1:7891", &in_use);
        assert!(line.starts_with("bind 127.0.0.1:7891: address already in use"));
        assert!(line.contains("--port 0"));
        let custom = io::Error::other("Peer sent nonsense");
        assert_eq!(
            error_line("read", "x:1", &custom),
            "read x:1: peer sent nonsense"
        );
    }
}
