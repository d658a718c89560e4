//! lesson-runner: start lesson programs as real processes and talk to them.
//!
//! Every lesson's tests (and the `lesson` command) use this harness:
//!
//! - [`Running::start`] spawns a program with piped stdin, stdout and stderr. Two threads
//!   copy its output into memory as it arrives, so nothing blocks and nothing is lost.
//! - [`Running::wait_for_banner`] waits, with a deadline, for the `listening on ADDR` line
//!   every server prints first, and returns the address.
//! - [`Running::wait_for_stdout`] waits for a piece of text to appear.
//! - [`Running::interrupt`] sends SIGINT, as Ctrl-C in a terminal does (Unix only: a test
//!   that needs it says so with `#[cfg(unix)]`).
//! - [`Running::finish`] closes stdin and waits, with a deadline, for the exit status and
//!   everything printed.
//! - Dropping a [`Running`] kills and reaps the child, so a failing test never leaves a
//!   server behind.
//!
//! - [`TcpTap`] and [`UdpTap`] sit between two programs and record every byte that
//!   passes, so a test can assert on the wire as well as on what each side printed. They
//!   record the events of [`relay`], the relay that `cargo lesson run --wire` prints.
//! - [`python3`] and [`python_command`] find the course's Python for the interop tests
//!   (a notice and a skip without it; a failure under `CI=true`).
//! - [`refused_port`] holds a port where every connect is refused; [`port_in_use_line`]
//!   is the contract's one line for a taken port; [`Scratch`] is a test's own folder,
//!   removed when dropped.
//!
//! No sleeps: every wait is on a condition (bytes arrived, the process ended), bounded by
//! a deadline so a hang fails instead of freezing CI.
//!
//! The `lesson` command (crates/cargo-lesson) is built on the same harness. This crate
//! needs only `socket2` and `netkit`, and on Unix `nix` (signals).

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// A step of the story (see [`tell_story`]), written as `println!` is.
macro_rules! story {
    ($($arg:tt)*) => {
        $crate::tell_story(format_args!($($arg)*))
    };
}

pub mod relay;
mod tap;
pub use tap::{Datagrams, Relayed, TcpTap, Toward, UdpTap};

/// How long tests wait for something that should take milliseconds, before failing.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Which output stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line a child printed, with the time it arrived (the `lesson` command labels
/// and timestamps these). A last line without a newline is kept too.
#[derive(Clone, Debug)]
pub struct Line {
    pub at: Instant,
    pub stream: Stream,
    pub text: String,
}

/// What the reader threads collected: each stream's bytes (indexed by `Stream as usize`),
/// the lines of both in arrival order, each stream's unfinished line, and how many
/// streams are still open.
#[derive(Default)]
struct Captured {
    bytes: [Vec<u8>; 2],
    lines: Vec<Line>,
    partial: [Vec<u8>; 2],
    open: usize,
}

impl Captured {
    fn text(&self, stream: Stream) -> String {
        String::from_utf8_lossy(&self.bytes[stream as usize]).into_owned()
    }

    /// Take what `stream` delivered: its bytes, and each line as it ends. Nothing means
    /// the stream has closed (its unfinished line is a line too).
    fn add(&mut self, stream: Stream, bytes: &[u8]) {
        let (at, i) = (Instant::now(), stream as usize);
        self.bytes[i].extend_from_slice(bytes);
        for &byte in bytes {
            match byte {
                b'\n' => self.end_line(at, stream),
                _ => self.partial[i].push(byte),
            }
        }
        if bytes.is_empty() && !self.partial[i].is_empty() {
            self.end_line(at, stream);
        }
        self.open -= usize::from(bytes.is_empty());
    }

    fn end_line(&mut self, at: Instant, stream: Stream) {
        let raw = std::mem::take(&mut self.partial[stream as usize]);
        let raw = raw.strip_suffix(b"\r").unwrap_or(&raw);
        let text = String::from_utf8_lossy(raw).into_owned();
        self.lines.push(Line { at, stream, text });
    }
}

/// A value that threads change and a test waits on: the output a program printed, what a
/// tap saw.
#[derive(Default)]
struct Watched<T> {
    value: Mutex<T>,
    changed: Condvar,
}

impl<T> Watched<T> {
    fn lock(&self) -> MutexGuard<'_, T> {
        // No thread panics while holding the lock, but don't turn a poisoned lock into a
        // second panic either.
        self.value.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Change the value, and wake whoever waits on it.
    fn change(&self, change: impl FnOnce(&mut T)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }

    /// Wait until `done` says yes about the value, or `timeout` passes; then the value,
    /// whatever `done` says about it.
    fn wait(&self, timeout: Duration, mut done: impl FnMut(&T) -> bool) -> MutexGuard<'_, T> {
        let waited = self
            .changed
            .wait_timeout_while(self.lock(), timeout, |v| !done(v));
        waited.unwrap_or_else(|e| e.into_inner()).0
    }
}

/// A started program. Killed and reaped when dropped.
pub struct Running {
    name: String,
    child: Child,
    captured: Arc<Watched<Captured>>,
}

/// What a program left behind when it ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The exit code, or -1 if a signal ended the program.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }
}

impl Running {
    /// Start `program` with `args`; stdin, stdout and stderr are pipes.
    pub fn start<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, args: &[S]) -> io::Result<Running> {
        let mut command = Command::new(program);
        command.args(args);
        Running::spawn(command)
    }

    /// Start a prepared [`Command`] (to set the environment or the working directory).
    /// Its stdin, stdout and stderr are replaced with pipes.
    pub fn spawn(command: Command) -> io::Result<Running> {
        Running::spawn_with(command, None)
    }

    /// Start a program whose stdout is read the way `program | head -n LINES` reads it:
    /// after `lines` lines the pipe is closed, and the program's next print finds its
    /// stdout closed (EPIPE). What it printed before that is in [`Running::stdout`].
    pub fn spawn_head(command: Command, lines: usize) -> io::Result<Running> {
        Running::spawn_with(command, Some(lines))
    }

    fn spawn_with(mut command: Command, head: Option<usize>) -> io::Result<Running> {
        let program = Path::new(command.get_program());
        let name = program.file_name().unwrap_or(program.as_os_str());
        let name = name.to_string_lossy().into_owned();
        let args: Vec<_> = command.get_args().map(OsStr::to_string_lossy).collect();
        let args = args.join(" ");
        command.stdin(Stdio::piped());
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let cannot = |e: io::Error| io::Error::new(e.kind(), format!("cannot start {name}: {e}"));
        let mut child = command.spawn().map_err(cannot)?;
        let captured = Arc::new(Watched::default());
        // head 0: nobody reads, the program's first print finds its stdout closed.
        let stdout = child.stdout.take().filter(|_| head != Some(0));
        copy_output(stdout, Stream::Stdout, &captured, head);
        copy_output(child.stderr.take(), Stream::Stderr, &captured, None);
        story!("started {name} {args}");
        Ok(Running {
            name,
            child,
            captured,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Type into the program: write bytes to its stdin.
    pub fn write_stdin(&mut self, data: impl AsRef<[u8]>) -> io::Result<()> {
        let Some(stdin) = self.child.stdin.as_mut() else {
            let why = format!("stdin of {} is already closed", self.name);
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, why));
        };
        story!("typed into {}: {}", self.name, shown(data.as_ref()));
        stdin.write_all(data.as_ref())?;
        stdin.flush()
    }

    /// Close stdin: the program sees end of input (Ctrl-D).
    pub fn close_stdin(&mut self) {
        if self.child.stdin.take().is_some() {
            story!("closed {}'s stdin (end of input)", self.name);
        }
    }

    /// Everything printed on stdout so far (invalid UTF-8 shown lossily).
    pub fn stdout(&self) -> String {
        self.captured.lock().text(Stream::Stdout)
    }

    /// Everything printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.captured.lock().text(Stream::Stderr)
    }

    /// Lines printed so far, from line number `from` on (both streams, in arrival order).
    pub fn lines_from(&self, from: usize) -> Vec<Line> {
        let captured = self.captured.lock();
        captured.lines.get(from..).unwrap_or_default().to_vec()
    }

    /// Wait until `ready` says yes about what was captured, or `timeout` passes, or both
    /// streams have closed. Returns whether `ready` said yes.
    fn wait_until(&self, timeout: Duration, ready: impl Fn(&Captured) -> bool) -> bool {
        ready(&self.captured.wait(timeout, |c| c.open == 0 || ready(c)))
    }

    /// Wait for the first stdout line to be `listening on ADDR` and return ADDR.
    pub fn wait_for_banner(&self, timeout: Duration) -> io::Result<SocketAddr> {
        let got_line = self.wait_until(timeout, |c| c.bytes[0].contains(&b'\n'));
        let stdout = self.stdout();
        let first = stdout.lines().next().unwrap_or("");
        let banner = first.strip_prefix("listening on ");
        if let Some(addr) = banner.and_then(|a| a.trim().parse().ok()) {
            story!("{} is listening on {addr}", self.name);
            return Ok(addr);
        }
        // Something is wrong. A program that is failing usually says why on stderr and
        // exits: give it a moment so the message can name the cause.
        self.wait_output_closed(Duration::from_millis(500));
        let (name, stderr) = (&self.name, tail(&self.stderr()));
        let why = match got_line {
            true => format!("{name}'s first line should be `listening on ADDR`, was {first:?}"),
            false => format!("{name} printed no `listening on ADDR` line within {timeout:?}"),
        };
        let kind = [io::ErrorKind::TimedOut, io::ErrorKind::InvalidData][usize::from(got_line)];
        story!("expected {name}'s banner, got: {why}");
        Err(io::Error::new(kind, format!("{why}; stderr: {stderr}")))
    }

    /// Wait until stdout contains `needle`; returns all of stdout so far.
    pub fn wait_for_stdout(&self, needle: &str, timeout: Duration) -> io::Result<String> {
        self.wait_for(Stream::Stdout, needle, timeout)
    }

    /// Wait until stderr contains `needle`; returns all of stderr so far.
    pub fn wait_for_stderr(&self, needle: &str, timeout: Duration) -> io::Result<String> {
        self.wait_for(Stream::Stderr, needle, timeout)
    }

    fn wait_for(&self, stream: Stream, needle: &str, timeout: Duration) -> io::Result<String> {
        let name = &self.name;
        let found = self.wait_until(timeout, |c| c.text(stream).contains(needle));
        let text = self.captured.lock().text(stream);
        if found {
            story!("{name} printed {needle:?} on {stream:?}");
            return Ok(text);
        }
        let came = tail(&text);
        story!("expected {name} to print {needle:?} on {stream:?}; came: {came}");
        let printed = self.printed();
        let why =
            format!("{name} did not print {needle:?} on {stream:?} within {timeout:?}{printed}");
        Err(io::Error::new(io::ErrorKind::TimedOut, why))
    }

    /// Both streams, for an error message.
    fn printed(&self) -> String {
        let (out, err) = (self.stdout(), self.stderr());
        format!("\n--- stdout:\n{out}\n--- stderr:\n{err}")
    }

    /// Send SIGINT, as Ctrl-C in a terminal does. Windows has no SIGINT to send to one
    /// process (Ctrl-C goes to a whole console): there this says so, and a test that
    /// needs it says so with `#[cfg(unix)]`.
    pub fn interrupt(&self) -> io::Result<()> {
        story!("pressed Ctrl-C (SIGINT) for {}", self.name);
        #[cfg(unix)]
        return self.signal(nix::sys::signal::Signal::SIGINT);
        #[cfg(not(unix))]
        let why = "no SIGINT on this system: the test needs #[cfg(unix)]";
        #[cfg(not(unix))]
        Err(io::Error::new(io::ErrorKind::Unsupported, why))
    }

    /// Send SIGTERM, as `kill PID` does (a service manager stopping the program).
    #[cfg(unix)]
    pub fn terminate(&self) -> io::Result<()> {
        self.signal(nix::sys::signal::Signal::SIGTERM)
    }

    #[cfg(unix)]
    fn signal(&self, signal: nix::sys::signal::Signal) -> io::Result<()> {
        let pid = i32::try_from(self.child.id()).map_err(io::Error::other)?;
        let pid = nix::unistd::Pid::from_raw(pid);
        nix::sys::signal::kill(pid, signal).map_err(io::Error::from)
    }

    /// Kill the program now (SIGKILL on Unix, TerminateProcess on Windows).
    pub fn kill(&mut self) -> io::Result<()> {
        self.child.kill()
    }

    /// Have both output streams closed (the program, and anything it started that shares
    /// its stdout and stderr, has ended or closed them)?
    pub fn output_closed(&self) -> bool {
        self.captured.lock().open == 0
    }

    /// Wait, at most `timeout`, until both output streams have closed, so that every line
    /// the program printed is in [`Running::lines_from`]. Returns whether they closed.
    pub fn wait_output_closed(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |c| c.open == 0)
    }

    /// Has the program ended? Returns its status if so, without waiting.
    pub fn try_status(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Close stdin, wait for the program to end (at most `timeout`) and for its output
    /// streams to close, and return what it printed. A program still running at the
    /// deadline is killed and an error says so, with what it printed.
    pub fn finish(mut self, timeout: Duration) -> io::Result<Finished> {
        self.close_stdin();
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.try_status()? {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let (name, printed) = (&self.name, self.printed());
                let why = format!("{name} was still running after {timeout:?}{printed}");
                return Err(io::Error::new(io::ErrorKind::TimedOut, why));
            }
            // The exit itself has no file descriptor to wait on. The output pipes usually
            // close at the same moment, so wait on them; then poll the status briefly.
            if self.wait_output_closed(Duration::from_millis(20)) {
                thread::sleep(Duration::from_millis(1));
            }
        };
        // A grandchild could keep the pipes open; don't wait for it forever.
        let rest = deadline.saturating_duration_since(Instant::now());
        self.wait_output_closed(rest.max(Duration::from_secs(1)));
        // Exit code 101 is how a Rust program ends on a panic (a todo!() among them).
        let panicked = (status.code() == Some(101)).then_some(" (it panicked)");
        story!("{} ended: {status}{}", self.name, panicked.unwrap_or(""));
        Ok(Finished {
            status,
            stdout: self.stdout(),
            stderr: self.stderr(),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Once the program has been waited for, `Child` keeps its status: this kills
        // nothing else (a pid can be reused), and the wait returns at once.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `program` with a stdout that nobody reads any more, as after `| head` has quit:
/// the reading end of its stdout pipe is closed before the program starts, so its first
/// line already fails (EPIPE). Waits (at most [`PATIENCE`]) for it to end, and returns its
/// exit code (`None` if a signal ended it) and everything it printed on stderr. Killed if
/// it does not end by then. (Use [`Running::spawn_head`] to let lines through first.)
pub fn run_with_stdout_closed<S: AsRef<OsStr>>(
    program: impl AsRef<OsStr>,
    args: &[S],
) -> io::Result<(Option<i32>, String)> {
    let mut command = Command::new(program);
    command.args(args);
    let finished = Running::spawn_head(command, 0)?.finish(PATIENCE)?;
    Ok((finished.status.code(), finished.stderr))
}

/// The last few lines of `text`, for error messages.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let shown = lines[lines.len().saturating_sub(5)..].join(" | ");
    match shown.is_empty() {
        true => "(nothing)".into(),
        false => shown,
    }
}

/// Copy one output stream (if there is one) into `captured` until it ends, or (`head`)
/// until that many lines have come, when the pipe is closed as `head -n` closes it.
fn copy_output(
    from: Option<impl Read + Send + 'static>,
    stream: Stream,
    captured: &Arc<Watched<Captured>>,
    head: Option<usize>,
) {
    let Some(mut from) = from else { return };
    captured.lock().open += 1;
    let captured = Arc::clone(captured);
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut lines = 0;
        loop {
            let got = from.read(&mut buf).unwrap_or(0);
            // Once enough lines have come, one more read (what the program wrote while
            // `head` was still reading: those writes succeeded), and then the pipe closes.
            let enough = head.is_some_and(|head| lines >= head);
            let n = if enough { 0 } else { got };
            captured.change(|c| c.add(stream, &buf[..n]));
            if n == 0 {
                return;
            }
            lines += buf[..n].iter().filter(|&&byte| byte == b'\n').count();
        }
    });
}

/// A binary of another package in this workspace, built next to the running test
/// (`target/debug/NAME`). `cargo test --workspace` builds every binary before it runs any
/// test; for one package's tests alone, build the workspace first.
pub fn workspace_bin(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().unwrap_or_default();
    dir.pop(); // the test binary's own name
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A folder of one test's own under the system's temporary folder, removed when dropped:
/// where a download is saved, or the root a server serves. Mode 755 on Unix, so that a
/// peer running as another user (in.tftpd serves as `nobody`) can read what it holds.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("lesson-test-{}-{n}-{label}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a scratch folder");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(&path, mode).expect("chmod 755");
        }
        Scratch(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path in the folder (nothing is created).
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }

    /// A subfolder, created.
    pub fn dir(&self, name: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(&path).expect("create a folder");
        path
    }

    /// The names in the folder, sorted: to see that a failure left nothing behind.
    pub fn names(&self) -> Vec<String> {
        let entries = std::fs::read_dir(&self.0).expect("read the scratch folder");
        let name = |e: io::Result<std::fs::DirEntry>| e.expect("entry").file_name();
        let mut names: Vec<String> = entries.map(|e| name(e).to_string_lossy().into()).collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The one line every server prints on stderr when its port is taken (LESSONS.md: the
/// address, and what to do), before it exits 1. Spelled out here rather than taken from
/// netkit, so that a test notices when a program says something else.
pub fn port_in_use_line(addr: impl std::fmt::Display) -> String {
    format!(
        "bind {addr}: address already in use \
         (another program is using that port: stop it, or pass --port 0)\n"
    )
}

/// A port on 127.0.0.1 where every TCP connect is refused, for as long as this lives.
pub struct RefusedPort {
    _socket: socket2::Socket,
    pub addr: SocketAddr,
}

/// An address where a connect is refused ("connection refused"): a socket bound there but
/// not listening holds the port, so no other test can take it meanwhile, as could happen
/// to a port that was only freed. Keep the returned value alive while the test connects.
pub fn refused_port() -> io::Result<RefusedPort> {
    use socket2::{Domain, Socket, Type};
    // No SO_REUSEADDR: nothing else may bind this port while we hold it.
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    let addr = socket.local_addr()?.as_socket();
    let addr = addr.expect("an IPv4 socket has an IPv4 address");
    Ok(RefusedPort {
        _socket: socket,
        addr,
    })
}

/// Connect a test socket, with read and write timeouts so a silent peer fails the test
/// instead of hanging it.
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, PATIENCE)?;
    story!("connected to {addr}");
    stream.set_read_timeout(Some(PATIENCE))?;
    stream.set_write_timeout(Some(PATIENCE))?;
    Ok(stream)
}

/// Read from `stream` until `len` bytes have arrived or the peer closes; returns what
/// arrived. Fails on the socket's read timeout.
pub fn read_at_least(stream: &mut impl Read, len: usize) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < len {
        let n = match stream.read(&mut buf) {
            // A signal arrived during the read (with a read timeout set, the kernel does
            // not restart it): read again, as read_exact and read_to_end do.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Ok(0) => break,
            other => other?,
        };
        got.extend_from_slice(&buf[..n]);
    }
    story!("read {} bytes: {}", got.len(), shown(&got));
    Ok(got)
}

/// Read until the peer closes; returns everything. Fails on the socket's read timeout.
pub fn read_to_close(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    stream.read_to_end(&mut got)?;
    let n = got.len();
    story!("read {n} bytes until the peer closed: {}", shown(&got));
    Ok(got)
}

/// At most 200 bytes as `b'...'`, and how many more there are: for the story, and for
/// the lines of `cargo lesson run --wire`.
pub fn shown(bytes: &[u8]) -> String {
    let head = netkit::py_bytes(&bytes[..bytes.len().min(200)]);
    match bytes.len().saturating_sub(200) {
        0 => head,
        more => format!("{head}… ({more} more bytes)"),
    }
}

/// With `LESSON_STORY` set (`cargo lesson check` sets it), each step a test takes through
/// the harness is printed on the test's stdout, which the test runner shows only for a
/// test that fails: the story of what it started, typed, waited for and got.
fn tell_story(step: std::fmt::Arguments<'_>) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("LESSON_STORY").is_some()) {
        println!("  > {step}");
    }
}

/// Is this run under CI (`CI=true`)? There, a missing peer program is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Find a peer program (`python3`, `nc`, `in.tftpd`, ...) on PATH (`NAME.exe` too on
/// Windows). When it is missing: under CI, panic (the test fails); elsewhere, print a
/// notice and return `None` so the test can skip.
pub fn peer_program(name: &str) -> Option<PathBuf> {
    let exe = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let paths = std::env::var_os("PATH").unwrap_or_default();
    let mut found = std::env::split_paths(&paths).flat_map(|d| [d.join(name), d.join(&exe)]);
    let found = found.find(|path| path.is_file());
    if found.is_none() && in_ci() {
        panic!("{name} is not installed, and under CI=true a test may not skip for it");
    } else if found.is_none() {
        eprintln!("skipping: {name} is not installed");
    }
    found
}

/// `python3`, for the tests that run a lesson against the course's Python program.
pub fn python3() -> Option<PathBuf> {
    peer_program("python3")
}

/// A command that runs one of the course's Python programs (`script`, with `python3`), or
/// `None` when python3 is missing (see [`peer_program`]: a notice outside CI, a failure
/// under it). Its stdin, stdout and stderr are UTF-8 whatever the locale, like the Rust
/// programs'. Add the arguments, then start it with [`Running::spawn`].
pub fn python_command(script: impl AsRef<Path>) -> Option<Command> {
    let mut command = Command::new(python3()?);
    command.arg(script.as_ref());
    command.env("PYTHONIOENCODING", "utf-8");
    Some(command)
}
