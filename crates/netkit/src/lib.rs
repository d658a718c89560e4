//! netkit: the small things every lesson needs and no lesson teaches.
//!
//! - [`prompt`] mirrors Python's `input("...")`: print a prompt, read one line.
//! - [`banner`] prints the `listening on ADDR` line every server starts with.
//! - [`py_bytes`] shows bytes the way Python prints them: `b'he'`.
//! - [`error_line`] and [`fail`] turn an I/O error into the one-line message a
//!   client prints before it exits with status 1; [`host_port`] writes `host:port` the
//!   way an address is written (`[::1]:7891`).
//! - [`escaped`] shows text that came from a peer with its control characters escaped,
//!   so a peer can neither forge a line of our output nor drive the terminal.
//! - [`say!`] is `println!` for a program whose stdout may be closed (piped into
//!   `head`): a server's line is lost and it goes on; a client stops the way it does on
//!   Ctrl-C ([`when_stdout_closes`]).
//! - [`seconds`] reads a `--timeout` value: a number of seconds, within range.
//! - [`At::at`] gives a failed step its stage and address (`connect(addr).at("connect",
//!   addr)?`), as a [`Failure`]: the one line to print and the exit status; [`exit`] is
//!   the one place in a `main` that prints it.
//!
//! Every socket call stays in the lessons themselves, where students read them.

use std::fmt::Write as _;
use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Python's `input(label)`: print `label` (no newline), flush, read one line from stdin.
///
/// Returns `Ok(None)` at end of input (Ctrl-D, or the end of a piped file), which is how
/// the lessons' quit paths are reached when stdin is a script. The line comes back without
/// its `\n` (or `\r\n`). Bytes that are not UTF-8 are replaced, never a crash.
///
/// A closed stdout does not stop the reading: the prompt is lost, as [`say!`]'s lines are
/// (and a client that asked for it stops, see [`when_stdout_closes`]).
pub fn prompt(label: &str) -> io::Result<Option<String>> {
    let mut out = io::stdout().lock();
    let shown = out.write_all(label.as_bytes()).and_then(|()| out.flush());
    drop(out);
    if shown.is_err() {
        stdout_closed();
    }
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

/// Text that came from a peer, ready to print: control characters (ESC, BEL, CR, LF,
/// TAB, DEL, ...) and the Unicode characters that move lines or reorder text (U+2028,
/// U+2029, the bidirectional overrides) are shown as escapes (`\x1b`, `\n`, `\u{202e}`),
/// so a peer can neither start a line of our output nor send the terminal commands.
/// Everything else, Chinese included, is shown as it is.
pub fn escaped(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            _ if c.is_control() && (c as u32) < 0x100 => {
                let _ = write!(shown, "\\x{:02x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                let _ = write!(shown, "\\u{{{:x}}}", c as u32);
            }
            _ => shown.push(c),
        }
    }
    shown
}

/// [`escaped`] for bytes: UTF-8 is decoded (bytes that are not valid show as U+FFFD),
/// then escaped.
pub fn escaped_bytes(bytes: &[u8]) -> String {
    escaped(&String::from_utf8_lossy(bytes))
}

/// `host:port` as an address is written: an IPv6 literal gets brackets (`[::1]:7891`),
/// so the port can be told from the address.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The longest timeout a program takes from the command line: a day. Longer ones are a
/// typing mistake, and a deadline that far away would overflow the clock's arithmetic.
pub const MAX_SECONDS: u64 = 86_400;

/// Read a `--timeout` value for clap (`value_parser = netkit::seconds`): a number of
/// seconds such as `2` or `0.5`, more than 0 and at most [`MAX_SECONDS`]. Anything else
/// is a usage error (exit 2) that says what is wrong.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(String::from("must be more than 0 seconds"));
    }
    if secs > MAX_SECONDS as f64 {
        return Err(format!("must be at most {MAX_SECONDS} seconds (a day)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// What a client does when its stdout closes: set once, with the same steps as its
/// Ctrl-C handler (remove a partial file, exit). A program that sets nothing, a server,
/// goes on: what it would have printed is lost.
static ON_STDOUT_CLOSED: OnceLock<Box<dyn Fn() + Send + Sync>> = OnceLock::new();
static STDOUT_IS_CLOSED: AtomicBool = AtomicBool::new(false);

/// Stop with `stop` (it should exit) when a line can no longer be printed on stdout: the
/// program was piped into `head`, and `head` has ended. Call it once, at the start.
pub fn when_stdout_closes(stop: impl Fn() + Send + Sync + 'static) {
    let _ = ON_STDOUT_CLOSED.set(Box::new(stop));
}

/// Printing on stdout failed: the first time, run what [`when_stdout_closes`] set.
fn stdout_closed() {
    if STDOUT_IS_CLOSED.swap(true, Ordering::SeqCst) {
        return; // said once already
    }
    if let Some(stop) = ON_STDOUT_CLOSED.get() {
        stop();
    }
}

/// The work of [`say!`]: print one line and flush it; a failure is [`stdout_closed`].
#[doc(hidden)]
pub fn say_line(args: std::fmt::Arguments<'_>) {
    if STDOUT_IS_CLOSED.load(Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout().lock();
    let printed = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    drop(out);
    if printed.is_err() {
        stdout_closed();
    }
}

/// `println!` that never panics: when stdout is closed (the program was piped into
/// `head`), the line is lost and the program goes on, or stops if it asked to with
/// [`when_stdout_closes`]. (`println!` panics there: "failed printing to stdout".)
#[macro_export]
macro_rules! say {
    () => {
        $crate::say_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::say_line(format_args!($($arg)*))
    };
}

/// A step that failed: the one line a program prints for it on stderr (`connect
/// 127.0.0.1:2345: connection refused`), and the exit status it then ends with (1 for a
/// network or I/O error, 2 for bad usage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub line: String,
    pub code: u8,
}

impl Failure {
    /// A failure with its own line, exit status 1.
    pub fn new(line: impl Into<String>) -> Failure {
        Failure {
            line: line.into(),
            code: 1,
        }
    }

    /// Bad usage (an option that cannot work), exit status 2.
    pub fn usage(line: impl Into<String>) -> Failure {
        Failure {
            line: line.into(),
            code: 2,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

/// `.at(stage, addr)`: turn an I/O error into the [`Failure`] that names where it
/// happened, so that each socket step stays one line with `?`:
///
/// ```
/// use netkit::At;
/// # fn demo() -> Result<(), netkit::Failure> {
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").at("bind", "127.0.0.1:0")?;
/// # drop(listener); Ok(()) }
/// ```
pub trait At<T> {
    fn at(self, stage: &str, addr: impl std::fmt::Display) -> Result<T, Failure>;
}

impl<T> At<T> for io::Result<T> {
    fn at(self, stage: &str, addr: impl std::fmt::Display) -> Result<T, Failure> {
        self.map_err(|e| Failure::new(error_line(stage, addr, &e)))
    }
}

/// The end of a `main`: `Ok` is exit status 0; a [`Failure`] prints its line on stderr
/// and ends with its status. `fn main() -> ExitCode { netkit::exit(run()) }`
pub fn exit(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.line);
            ExitCode::from(failure.code)
        }
    }
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
    fn escaped_shows_control_characters_and_keeps_the_rest() {
        assert_eq!(escaped("hi"), "hi");
        assert_eq!(escaped("你好"), "你好");
        assert_eq!(escaped("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(escaped("500 Bad\x1b[31m"), "500 Bad\\x1b[31m");
        assert_eq!(escaped("\x07\x7f\u{85}"), "\\x07\\x7f\\x85");
        assert_eq!(escaped("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(escaped_bytes(b"ok\xff\n"), "ok\u{fffd}\\n");
    }

    #[test]
    fn at_names_the_stage_and_the_address() {
        let refused: io::Result<()> = Err(io::Error::from_raw_os_error(111));
        let failure = refused.at("connect", "127.0.0.1:2345").unwrap_err();
        assert_eq!(failure.line, "connect 127.0.0.1:2345: connection refused");
        assert_eq!(failure.code, 1);
        assert_eq!(Failure::usage("bad").code, 2);
        assert_eq!(exit(Ok(())), ExitCode::SUCCESS);
        assert_eq!(exit(Err(Failure::usage("-o: a folder"))), ExitCode::from(2));
    }

    #[test]
    fn host_port_brackets_ipv6() {
        assert_eq!(host_port("127.0.0.1", 7891), "127.0.0.1:7891");
        assert_eq!(host_port("::1", 7891), "[::1]:7891");
        assert_eq!(host_port("[::1]", 7891), "[::1]:7891");
        assert_eq!(host_port("example.com", 80), "example.com:80");
    }

    #[test]
    fn seconds_takes_a_range() {
        assert_eq!(seconds("2"), Ok(Duration::from_secs(2)));
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("86400"), Ok(Duration::from_secs(86_400)));
        assert!(seconds("0").unwrap_err().contains("more than 0"));
        assert!(seconds("-1").unwrap_err().contains("more than 0"));
        assert!(seconds("NaN").unwrap_err().contains("more than 0"));
        assert!(seconds("inf").unwrap_err().contains("at most"));
        assert!(seconds("1e19").unwrap_err().contains("at most"));
        assert!(
            seconds("18446744073709551615")
                .unwrap_err()
                .contains("at most")
        );
        assert!(seconds("seven").unwrap_err().contains("not a number"));
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
