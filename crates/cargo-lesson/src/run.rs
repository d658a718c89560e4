//! `cargo lesson run NAME`: start a lesson's servers, wait for their banners, start its
//! clients with their scripted input, print every line labelled by side with the time
//! since the start, stop everything when the demo is over, and report each exit status.
//!
//! Every child runs in its own process group, so stopping it (SIGINT, then SIGKILL after
//! a grace period) also reaches anything it started. Ctrl-C on the runner stops every
//! child the same way before the runner exits: no orphans. Windows has no SIGINT to send
//! one program: there a child is stopped by closing its stdin and killing it.

use std::fs;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{Running, Stream, tail};

use crate::meta::{Cwd, Demo, Expect, Lesson, Program, Protocol, Stop, substitute};
use crate::out::{Event, Kind, Printer, Sink, printf_text, shell_word};
use crate::relay::{self, Mode, Relay};

/// How many times Ctrl-C (SIGINT, SIGTERM or SIGHUP) has reached the runner.
pub static CTRL_C: AtomicUsize = AtomicUsize::new(0);

/// Install the handler that counts Ctrl-C presses; the run loop reacts to the count.
pub fn catch_ctrl_c() {
    // If a handler is already installed (a second run in the same process), keep it.
    let _ = ctrlc::set_handler(|| {
        CTRL_C.fetch_add(1, Ordering::SeqCst);
    });
    adopt_orphans();
}

/// Adopt the orphans: on Linux the runner becomes the "child subreaper" for everything
/// its children start, so a grandchild left behind when a child is stopped is adopted by
/// the runner (and reaped in [`Run::finish`]) instead of by init, which in a container
/// may never reap it.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// Reap adopted orphans until none is left (at most `patience`).
#[cfg(unix)]
fn reap_orphans(patience: Duration) {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    let until = Instant::now() + patience;
    loop {
        match waitpid(None::<nix::unistd::Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < until => thread::sleep(TICK),
            Ok(WaitStatus::StillAlive) | Err(_) => return, // Err: no children left
            Ok(_) => {}
        }
    }
}

/// Windows adopts no orphans: a child's children are killed with it or not at all.
#[cfg(not(unix))]
fn reap_orphans(_patience: Duration) {}

/// How a child is stopped: Ctrl-C, the polite `kill PID`, or no choice.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    Int,
    Term,
    Kill,
}

/// Start `command` in its own process group (Unix), so a signal to the group reaches
/// whatever it starts, and a Ctrl-C in the terminal reaches only the runner, which then
/// stops everyone in order. (Windows: the child shares the console, as from a shell.)
pub fn own_group(command: &mut Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    #[cfg(not(unix))]
    let _ = command;
}

/// Send `sig` to the process group `running` leads (it is its own group, [`own_group`]).
#[cfg(unix)]
pub fn signal(running: &mut Running, sig: Sig) {
    use nix::sys::signal::{Signal, killpg};
    let group = nix::unistd::Pid::from_raw(i32::try_from(running.pid()).unwrap_or(i32::MAX));
    let signal = match sig {
        Sig::Int => Signal::SIGINT,
        Sig::Term => Signal::SIGTERM,
        Sig::Kill => Signal::SIGKILL,
    };
    let _ = killpg(group, signal);
}

/// Windows has no Ctrl-C to send to one program (it goes to a whole console): every stop
/// there closes the program's stdin (a program reading it sees its end) and kills it.
#[cfg(not(unix))]
pub fn signal(running: &mut Running, _sig: Sig) {
    running.close_stdin();
    let _ = running.kill();
}

/// How often the run loop looks at its children.
const TICK: Duration = Duration::from_millis(10);
/// After the clients are done, the servers' output must be quiet this long before they
/// are stopped, so their last lines ("client ... disconnected") are not cut off.
const SETTLE: Duration = Duration::from_millis(250);
/// How long to wait for the demo's expected lines once the output has gone quiet.
const EXPECT_QUIET: Duration = Duration::from_secs(1);
/// Lines are printed this long after they arrive, sorted, so that lines read by
/// different threads at nearly the same moment come out in the order they happened.
const REORDER: Duration = Duration::from_millis(30);

pub struct Options {
    pub bin_dir: PathBuf,
    pub wire: bool,
    pub mode: Mode,
    /// `--pcap FILE`: where the relays also write what they see.
    pub pcap: Option<crate::pcap::Pcap>,
    pub verbose: bool,
    pub banner_timeout: Duration,
    pub grace: Duration,
    pub timeout: Option<Duration>,
}

struct Child {
    label: String,
    bin: String,
    server: bool,
    expected_exit: i32,
    stop: Stop,
    running: Running,
    seen: usize,
    status: Option<ExitStatus>,
    interrupted: bool,
    killed: bool,
    first_stdout: Option<String>,
    /// Lines of its `stdin` not typed yet, each with the moment it is due (`pause_ms`).
    typing: Vec<(Instant, String)>,
    /// Close its stdin once `typing` is done (`close_stdin`).
    close_after_typing: bool,
}

impl Child {
    fn name(&self) -> String {
        format!("{} ({})", self.label, self.bin)
    }

    /// Type the lines that are due; when all are typed, close stdin if the demo says so.
    fn type_due(&mut self) {
        let now = Instant::now();
        while self.typing.first().is_some_and(|(due, _)| *due <= now) {
            let (_, line) = self.typing.remove(0);
            // A program that already ended can't be typed into; its exit is reported.
            let _ = self.running.write_stdin(line);
        }
        if self.typing.is_empty() && self.close_after_typing {
            self.running.close_stdin();
            self.close_after_typing = false;
        }
    }
}

enum Abort {
    Interrupted,
    Failed(String),
}

struct Run<'a> {
    opts: &'a Options,
    /// Where the programs start unless they ask for the scratch folder: the workspace
    /// (the folder that holds `lessons/`), so a demo's relative paths mean the same
    /// wherever `cargo lesson` was started (the tests run in crates/lesson-runner).
    workdir: PathBuf,
    /// The run's scratch folder (`cwd = "scratch"`), made when a program first asks for
    /// it, removed at the end.
    scratch: Option<PathBuf>,
    printer: &'a mut Printer,
    children: Vec<Child>,
    sink: Sink,
    relays: Vec<Relay>,
    deadline: Instant,
    last_output: Instant,
    ctrl_c_seen: usize,
    stopping: bool,
    program_lines: Vec<(String, String)>,
    /// Lines collected but not printed yet.
    pending: Vec<Event>,
}

/// Run the demo of `lesson`; returns the runner's exit status (0 all well, 1 a program
/// failed or the demo did not show what it should, 130 interrupted).
pub fn run(lesson: &Lesson, demo: &Demo, opts: &Options, printer: &mut Printer) -> i32 {
    let title = lesson.meta.title.as_deref().unwrap_or("");
    let number = lesson.folder_number.unwrap_or(0);
    printer.plain(
        &format!("lesson {number:02} · {} · {title}", lesson.package),
        crate::out::BOLD,
    );
    if let Some(section) = &lesson.meta.section {
        printer.plain(&format!("course: {section}"), crate::out::DIM);
    }
    if opts.wire {
        let how = match opts.mode {
            Mode::AsRead => "each piece as the relay read it".to_string(),
            Mode::Split(n) => format!(
                "the relay re-cuts the stream into {}-byte writes, one at a time",
                n
            ),
            Mode::Merge => "the relay holds pieces back and forwards them together".to_string(),
        };
        printer.plain(
            &format!("wire: a relay sits in front of each server; {how}"),
            crate::out::DIM,
        );
    }
    printer.start = Instant::now();
    let start = printer.start;
    let mut run = Run {
        opts,
        workdir: lesson
            .dir
            .parent()
            .and_then(Path::parent)
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        scratch: None,
        printer,
        children: Vec::new(),
        sink: Sink::default(),
        relays: Vec::new(),
        deadline: start + opts.timeout.unwrap_or(demo.timeout),
        last_output: start,
        ctrl_c_seen: CTRL_C.load(Ordering::SeqCst),
        stopping: false,
        program_lines: Vec::new(),
        pending: Vec::new(),
    };
    let result = run.demo(demo);
    let code = match result {
        Ok(()) => run.check_expect(&demo.expect),
        Err(abort) => {
            let code = match &abort {
                Abort::Interrupted => {
                    run.note(
                        Kind::Problem,
                        "interrupted (Ctrl-C): stopping every program",
                    );
                    130
                }
                Abort::Failed(why) => {
                    run.note(Kind::Problem, why);
                    if run.children.iter().any(|c| c.status.is_none()) {
                        run.note(Kind::Problem, "stopping the others");
                    }
                    1
                }
            };
            run.stopping = true;
            let all: Vec<usize> = (0..run.children.len()).collect();
            run.stop(&all);
            code
        }
    };
    run.finish(start, code)
}

impl Run<'_> {
    fn demo(&mut self, demo: &Demo) -> Result<(), Abort> {
        let mut addrs: Vec<SocketAddr> = Vec::new();
        let mut free = FreePorts::default();
        let numbers = Arc::new(AtomicUsize::new(0));

        for (i, spec) in demo.servers.iter().enumerate() {
            let label = if demo.servers.len() == 1 {
                "server".to_string()
            } else {
                format!("server {}", i + 1)
            };
            let k = self.start(spec, label, true, &addrs, &mut free)?;
            let banner = self.wait_banner(k)?;
            let reach = if self.opts.wire {
                let relay = match demo.protocol {
                    Protocol::Tcp => relay::tcp(
                        banner,
                        self.opts.mode,
                        self.sink.clone(),
                        Arc::clone(&numbers),
                        self.opts.pcap.clone(),
                    ),
                    Protocol::Udp => relay::udp(
                        banner,
                        self.sink.clone(),
                        Arc::clone(&numbers),
                        self.opts.pcap.clone(),
                    ),
                };
                let relay = relay.map_err(|e| {
                    Abort::Failed(format!(
                        "cannot start the wire relay: {}",
                        netkit::cause(&e)
                    ))
                })?;
                let addr = relay.addr;
                let proto = match demo.protocol {
                    Protocol::Tcp => "TCP",
                    Protocol::Udp => "UDP",
                };
                self.sink.push(
                    "wire",
                    format!(
                        "{proto} relay on {addr} in front of {} at {banner}",
                        self.children[k].label
                    ),
                );
                self.relays.push(relay);
                addr
            } else {
                banner
            };
            addrs.push(reach);
        }

        let mut started_clients = 0;
        for spec in &demo.clients {
            if spec.after_previous {
                let all_done = |r: &Run| {
                    r.children
                        .iter()
                        .filter(|c| !c.server)
                        .all(|c| c.status.is_some())
                };
                if !self.wait_for(self.deadline, all_done)? {
                    return Err(self.timed_out());
                }
            }
            for _ in 0..spec.count {
                started_clients += 1;
                self.start(
                    spec,
                    format!("client {started_clients}"),
                    false,
                    &addrs,
                    &mut free,
                )?;
            }
        }

        let clients_done = |r: &Run| {
            r.children
                .iter()
                .filter(|c| !c.server)
                .all(|c| c.status.is_some())
        };
        if !self.wait_for(self.deadline, clients_done)? {
            return Err(self.timed_out());
        }
        // Servers that end by themselves (stop = "exit"): wait for them.
        let exits_done = |r: &Run| {
            r.children
                .iter()
                .filter(|c| c.server && c.stop == Stop::Exit)
                .all(|c| c.status.is_some())
        };
        if !self.wait_for(self.deadline, exits_done)? {
            return Err(self.timed_out());
        }
        // Give the servers time to print what the demo should show, then a moment of
        // quiet, so nothing they print about the last client is cut off.
        let expect = demo.expect.clone();
        self.wait_for(self.deadline, |r| {
            r.missing(&expect).is_empty() || r.last_output.elapsed() >= EXPECT_QUIET
        })?;
        self.wait_for(self.deadline, |r| r.last_output.elapsed() >= SETTLE)?;
        self.stopping = true;
        let servers: Vec<usize> = (0..self.children.len())
            .filter(|&i| self.children[i].server)
            .collect();
        self.stop(&servers);
        Ok(())
    }

    /// Start one program; returns its index in `children`.
    fn start(
        &mut self,
        spec: &Program,
        label: String,
        server: bool,
        addrs: &[SocketAddr],
        free: &mut FreePorts,
    ) -> Result<usize, Abort> {
        let texts: Vec<&str> = spec
            .args
            .iter()
            .map(String::as_str)
            .chain(spec.stdin.as_deref())
            .collect();
        free.pick(&texts);
        let free: &FreePorts = free;
        let value = |name: &str| -> Option<String> { placeholder(name, addrs, free) };
        let split_args = match self.opts.mode {
            Mode::Split(_) => spec.split_args.as_slice(),
            Mode::AsRead | Mode::Merge => &[],
        };
        let args: Vec<String> = (spec.args.iter().map(|a| substitute(a, value)))
            .chain(split_args.iter().cloned())
            .collect();
        let stdin = spec.stdin.as_ref().map(|s| substitute(s, value));
        // A program of the workspace is where cargo built it; an installed one (python3)
        // is found on PATH, as a shell would.
        let path = if spec.on_path {
            PathBuf::from(&spec.bin)
        } else {
            self.opts.bin_dir.join(&spec.bin)
        };
        let mut command = Command::new(&path);
        command.args(&args);
        let place = match spec.cwd {
            Cwd::Workspace => {
                command.current_dir(&self.workdir);
                None
            }
            Cwd::Scratch => {
                command.current_dir(self.scratch_dir()?);
                Some("(in a scratch folder)".to_string())
            }
        };
        own_group(&mut command);
        // The start line's time is taken before the program can print anything, so it
        // sorts before the program's first line.
        let started = Instant::now();
        let running = Running::spawn(command).map_err(|e| {
            Abort::Failed(format!(
                "cannot start {label} ({}): {}",
                path.display(),
                netkit::cause(&e)
            ))
        })?;
        // The input as a line of shell would type it: `printf '...' |`, and with
        // `pause_ms` each line on its own: `(printf 'a\n'; sleep 1; printf 'b\n') |`.
        let pause = Duration::from_millis(spec.pause_ms);
        let lines: Vec<&str> = match &stdin {
            Some(text) if !pause.is_zero() => text.split_inclusive('\n').collect(),
            Some(text) => vec![text],
            None => Vec::new(),
        };
        let mut shown = String::from("$ ");
        if !lines.is_empty() {
            let sleep = format!("; sleep {}; ", pause.as_secs_f64());
            let typed: Vec<String> = lines.iter().map(|line| printf_text(line)).collect();
            match typed.len() {
                1 => shown.push_str(&typed[0]),
                _ => shown.push_str(&format!("({})", typed.join(&sleep))),
            }
            shown.push_str(" | ");
        }
        shown.push_str(&spec.bin);
        for arg in &args {
            shown.push(' ');
            shown.push_str(&shell_word(arg));
        }
        if let Some(place) = place {
            shown.push_str("   ");
            shown.push_str(&place);
        }
        if self.opts.verbose {
            shown.push_str(&format!("   (pid {})", running.pid()));
        }
        self.pending.push(Event {
            at: started,
            label: label.clone(),
            kind: Kind::Note,
            text: shown,
        });
        let mut child = Child {
            label,
            bin: spec.bin.clone(),
            server,
            expected_exit: spec.exit,
            stop: spec.stop,
            running,
            seen: 0,
            status: None,
            interrupted: false,
            killed: false,
            first_stdout: None,
            // Line k of stdin is due `pause_ms` × k after the start (all at once without
            // it); tick() types the later ones. Without `stdin` nobody types: stdin stays
            // open, as a terminal's would.
            typing: (lines.iter().zip(0u32..))
                .map(|(line, k)| (started + pause * k, line.to_string()))
                .collect(),
            close_after_typing: stdin.is_some() && spec.close_stdin,
        };
        child.type_due();
        self.children.push(child);
        Ok(self.children.len() - 1)
    }

    /// The run's scratch folder, made the first time a program asks for it.
    fn scratch_dir(&mut self) -> Result<PathBuf, Abort> {
        if let Some(dir) = &self.scratch {
            return Ok(dir.clone());
        }
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lesson-run-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| {
            Abort::Failed(format!(
                "cannot make a scratch folder {}: {}",
                dir.display(),
                netkit::cause(&e)
            ))
        })?;
        self.scratch = Some(dir.clone());
        Ok(dir)
    }

    fn wait_banner(&mut self, k: usize) -> Result<SocketAddr, Abort> {
        let until = (Instant::now() + self.opts.banner_timeout).min(self.deadline);
        let seen = self.wait_for(until, |r| {
            r.children[k].first_stdout.is_some() || r.children[k].status.is_some()
        });
        let child = &self.children[k];
        let name = child.name();
        let banner = child
            .first_stdout
            .as_deref()
            .and_then(|line| line.strip_prefix("listening on "))
            .and_then(|addr| addr.trim().parse::<SocketAddr>().ok());
        match (seen, banner) {
            (Err(abort), _) => Err(abort),
            (Ok(_), Some(addr)) => Ok(addr),
            (Ok(_), None) => {
                let stderr = tail(&child.running.stderr());
                let why = match (&child.first_stdout, child.status) {
                    (Some(first), _) => format!(
                        "{name}: the first line should be `listening on ADDR`, was {first:?}; stderr: {stderr}"
                    ),
                    (None, Some(status)) => format!(
                        "{name} ended ({}) before printing `listening on ADDR`; stderr: {stderr}",
                        describe(status, false, false)
                    ),
                    (None, None) => format!(
                        "{name} printed no `listening on ADDR` line within {:.1}s; stderr: {stderr}",
                        self.opts.banner_timeout.as_secs_f64()
                    ),
                };
                Err(Abort::Failed(why))
            }
        }
    }

    fn timed_out(&self) -> Abort {
        // Name what keeps the demo from ending: the clients, or else the servers.
        let clients_running = self
            .children
            .iter()
            .any(|c| !c.server && c.status.is_none());
        let still: Vec<String> = self
            .children
            .iter()
            .filter(|c| c.status.is_none() && (!c.server || !clients_running))
            .map(Child::name)
            .collect();
        let limit = self.deadline.saturating_duration_since(self.printer.start);
        Abort::Failed(format!(
            "the demo did not end within {:.0}s; still running: {}",
            limit.as_secs_f64(),
            still.join(", ")
        ))
    }

    /// Tick until `done` or `until`; Ok(false) if `until` came first.
    fn wait_for(&mut self, until: Instant, done: impl Fn(&Run) -> bool) -> Result<bool, Abort> {
        loop {
            self.tick()?;
            if done(self) {
                return Ok(true);
            }
            if Instant::now() >= until {
                return Ok(false);
            }
            thread::sleep(TICK);
        }
    }

    /// Print what arrived, notice programs that ended, and react to Ctrl-C.
    fn tick(&mut self) -> Result<(), Abort> {
        self.pump();
        for child in self.children.iter_mut().filter(|c| c.status.is_none()) {
            child.type_due();
        }
        let mut ended = Vec::new();
        for (i, child) in self.children.iter_mut().enumerate() {
            if child.status.is_some() {
                continue;
            }
            if let Ok(Some(status)) = child.running.try_status() {
                child.status = Some(status);
                ended.push(i);
            }
        }
        if !ended.is_empty() {
            for &i in &ended {
                // Its last lines may still be in the pipe; show them before judging.
                self.children[i]
                    .running
                    .wait_output_closed(Duration::from_millis(500));
            }
            self.pump();
        }
        if CTRL_C.load(Ordering::SeqCst) > self.ctrl_c_seen {
            self.ctrl_c_seen = CTRL_C.load(Ordering::SeqCst);
            return Err(Abort::Interrupted);
        }
        if self.stopping {
            return Ok(());
        }
        for i in ended {
            let child = &self.children[i];
            let Some(status) = child.status else { continue };
            if status.code() != Some(child.expected_exit) {
                let side = if child.server {
                    "the server"
                } else {
                    "a client"
                };
                return Err(Abort::Failed(format!(
                    "{} failed: {} ({side} should end with exit {}); stderr: {}",
                    child.name(),
                    describe(status, false, false),
                    child.expected_exit,
                    tail(&child.running.stderr())
                )));
            }
        }
        if Instant::now() >= self.deadline {
            return Err(self.timed_out());
        }
        Ok(())
    }

    /// Collect every new line, from the programs and the relays, and print those that
    /// arrived more than [`REORDER`] ago, in the order they arrived.
    fn pump(&mut self) {
        self.collect();
        self.print_pending(false);
    }

    fn collect(&mut self) {
        let mut batch = self.sink.take();
        for child in &mut self.children {
            for line in child.running.lines_from(child.seen) {
                child.seen += 1;
                if line.stream == Stream::Stdout && child.first_stdout.is_none() {
                    child.first_stdout = Some(line.text.clone());
                }
                self.program_lines
                    .push((child.label.clone(), line.text.clone()));
                batch.push(Event {
                    at: line.at,
                    label: child.label.clone(),
                    kind: match line.stream {
                        Stream::Stdout => Kind::Stdout,
                        Stream::Stderr => Kind::Stderr,
                    },
                    text: line.text,
                });
            }
        }
        for event in &batch {
            self.last_output = self.last_output.max(event.at);
        }
        self.pending.extend(batch);
    }

    /// Print the pending lines (all of them, or those old enough that nothing earlier
    /// can still be on its way).
    fn print_pending(&mut self, all: bool) {
        self.pending.sort_by_key(|e| e.at);
        let cut = if all {
            self.pending.len()
        } else {
            let before = Instant::now().checked_sub(REORDER);
            self.pending
                .iter()
                .position(|e| before.is_none_or(|b| e.at > b))
                .unwrap_or(self.pending.len())
        };
        for event in self.pending.drain(..cut) {
            self.printer.event(&event);
        }
    }

    /// A runner message, after everything that came before it.
    fn note(&mut self, kind: Kind, text: &str) {
        self.collect();
        self.print_pending(true);
        self.printer.note(kind, text);
    }

    /// Stop these children: SIGINT to each one's process group, then SIGKILL to any
    /// still there after the grace period (or at once on a second Ctrl-C).
    fn stop(&mut self, which: &[usize]) {
        let mut signalled = Vec::new();
        for &i in which {
            let child = &mut self.children[i];
            if child.status.is_none() {
                signal(&mut child.running, Sig::Int);
                child.interrupted = true;
                signalled.push(i);
            }
        }
        if cfg!(windows) && !signalled.is_empty() {
            let note =
                "Windows has no Ctrl-C to send to one program: closing its stdin and killing it";
            self.note(Kind::Note, note);
        }
        let until = Instant::now() + self.opts.grace;
        let gone = |r: &Run| signalled.iter().all(|&i| r.children[i].status.is_some());
        // A second Ctrl-C (an Err here) means: don't wait, kill now.
        let _ = self.wait_for(until, gone);
        for &i in &signalled {
            let child = &mut self.children[i];
            if child.status.is_none() {
                signal(&mut child.running, Sig::Kill);
                child.killed = true;
            }
        }
        let until = Instant::now() + Duration::from_secs(5);
        let _ = self.wait_for(until, gone);
    }

    /// The expected lines not shown, each matched to its own line (longest first, so
    /// "legal connection" can't take the line "illegal connection" needs).
    fn missing(&self, expect: &[Expect]) -> Vec<Expect> {
        let mut order: Vec<&Expect> = expect.iter().collect();
        order.sort_by_key(|e| std::cmp::Reverse(e.text.len()));
        let mut used = vec![false; self.program_lines.len()];
        let mut missing = Vec::new();
        for e in order {
            let found = self
                .program_lines
                .iter()
                .enumerate()
                .position(|(i, (label, text))| {
                    !used[i] && text.contains(&e.text) && side_matches(e.side.as_deref(), label)
                });
            match found {
                Some(i) => used[i] = true,
                None => missing.push(e.clone()),
            }
        }
        missing
    }

    fn check_expect(&mut self, expect: &[Expect]) -> i32 {
        let missing = self.missing(expect);
        if missing.is_empty() {
            return 0;
        }
        let shown: Vec<String> = missing
            .iter()
            .map(|e| match &e.side {
                Some(side) => format!("{:?} ({side})", e.text),
                None => format!("{:?}", e.text),
            })
            .collect();
        if self.opts.wire && self.opts.mode != Mode::AsRead {
            self.note(
                Kind::Note,
                &format!(
                    "with the stream re-cut by the relay, the demo no longer shows: {}",
                    shown.join(", ")
                ),
            );
            0
        } else {
            self.note(
                Kind::Problem,
                &format!("the demo did not show: {}", shown.join(", ")),
            );
            1
        }
    }

    fn finish(mut self, start: Instant, code: i32) -> i32 {
        // Anything still alive in a child's process group (a grandchild) goes too.
        for child in &mut self.children {
            signal(&mut child.running, Sig::Kill);
        }
        if self.children.iter().all(|c| c.status.is_some()) {
            reap_orphans(Duration::from_secs(2));
        }
        if let Some(dir) = self.scratch.take() {
            let _ = fs::remove_dir_all(dir);
        }
        if self.opts.wire {
            // The relays' last lines (`closed`) follow the programs' ends closely.
            let until = Instant::now() + Duration::from_millis(500);
            let _ = self.wait_for(until, |r| {
                r.last_output.elapsed() >= Duration::from_millis(100)
            });
        }
        self.relays.clear();
        self.collect();
        self.print_pending(true);
        let elapsed = start.elapsed().as_secs_f64();
        let headline = match code {
            0 => format!("done in {elapsed:.3}s"),
            130 => format!("interrupted after {elapsed:.3}s"),
            _ => format!("failed after {elapsed:.3}s"),
        };
        self.note(
            if code == 0 { Kind::Note } else { Kind::Problem },
            &headline,
        );
        let width = self
            .children
            .iter()
            .map(|c| c.label.len())
            .max()
            .unwrap_or(0);
        let bin_width = self.children.iter().map(|c| c.bin.len()).max().unwrap_or(0);
        for child in &self.children {
            let status = match child.status {
                Some(status) => {
                    let mut text = describe(status, child.interrupted, child.killed);
                    if !child.interrupted
                        && !child.killed
                        && status.code() != Some(child.expected_exit)
                    {
                        text.push_str(&format!(" (expected {})", child.expected_exit));
                    }
                    text
                }
                None => "still running".to_string(),
            };
            let line = format!(
                "  {:width$}  {:bin_width$}  {status}",
                child.label, child.bin
            );
            self.printer.plain(line.trim_end(), "");
        }
        code
    }
}

/// `client 1` matches side `client 1`, and side `client` (any client).
fn side_matches(side: Option<&str>, label: &str) -> bool {
    match side {
        None => true,
        Some(side) => {
            label == side
                || label
                    .strip_prefix(side)
                    .is_some_and(|rest| rest.starts_with(' '))
        }
    }
}

/// `exit 0`, `stopped by Ctrl-C (SIGINT)`, `killed (SIGKILL) after it ignored SIGINT`,
/// `killed by SIGSEGV`; on Windows `stopped (killed: Windows has no Ctrl-C to send)`.
pub fn describe(status: ExitStatus, interrupted: bool, killed: bool) -> String {
    if cfg!(windows) && interrupted {
        return "stopped (killed: Windows has no Ctrl-C to send)".to_string();
    }
    if let Some(code) = status.code() {
        if interrupted && !killed {
            return format!("exit {code} after Ctrl-C (SIGINT)");
        }
        return format!("exit {code}");
    }
    #[cfg(unix)]
    {
        use nix::sys::signal::Signal;
        let signal = std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0);
        let name = Signal::try_from(signal)
            .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_string());
        if killed && signal == Signal::SIGKILL as i32 {
            "killed (SIGKILL): it did not stop after Ctrl-C (SIGINT)".to_string()
        } else if interrupted && signal == Signal::SIGINT as i32 {
            "stopped by Ctrl-C (SIGINT)".to_string()
        } else {
            format!("killed by {name}")
        }
    }
    #[cfg(not(unix))]
    "ended without an exit code".to_string()
}

/// Ports the runner picks for `{free_udp_port}` / `{free_tcp_port}`: free when asked
/// (the OS gave them out and they were released), the same value for the whole run.
#[derive(Default)]
struct FreePorts {
    udp: Option<u16>,
    tcp: Option<u16>,
}

fn placeholder(name: &str, addrs: &[SocketAddr], free: &FreePorts) -> Option<String> {
    match name {
        "free_udp_port" => return free.udp.map(|p| p.to_string()),
        "free_tcp_port" => return free.tcp.map(|p| p.to_string()),
        _ => {}
    }
    for base in ["host", "port", "addr"] {
        if let Some(rest) = name.strip_prefix(base) {
            let n: usize = if rest.is_empty() {
                1
            } else {
                rest.parse().ok()?
            };
            let addr = addrs.get(n.checked_sub(1)?)?;
            return Some(match base {
                "host" => addr.ip().to_string(),
                "port" => addr.port().to_string(),
                _ => addr.to_string(),
            });
        }
    }
    None
}

impl FreePorts {
    /// Pick the free ports the texts mention (before substituting them).
    fn pick(&mut self, texts: &[&str]) {
        let wants = |name: &str| texts.iter().any(|t| t.contains(name));
        if self.udp.is_none() && wants("{free_udp_port}") {
            self.udp = UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .map(|a| a.port())
                .ok();
        }
        if self.tcp.is_none() && wants("{free_tcp_port}") {
            self.tcp = TcpListener::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .map(|a| a.port())
                .ok();
        }
    }
}

/// Find the program files a demo needs; a missing one is an error naming what to build.
/// (Installed programs, `program = "..."`, are [`missing_installed`]'s.)
pub fn missing_programs(demo: &Demo, bin_dir: &Path) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    for program in demo.servers.iter().chain(&demo.clients) {
        let exe = format!("{}{}", program.bin, std::env::consts::EXE_SUFFIX);
        if !program.on_path && !bin_dir.join(exe).is_file() && !missing.contains(&program.bin) {
            missing.push(program.bin.clone());
        }
    }
    missing
}

/// The installed programs (`program = "python3"`) a demo needs that are not on PATH.
pub fn missing_installed(demo: &Demo) -> Vec<String> {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    let mut missing: Vec<String> = Vec::new();
    for program in demo.servers.iter().chain(&demo.clients) {
        let exe = format!("{}{}", program.bin, std::env::consts::EXE_SUFFIX);
        let found = std::env::split_paths(&paths).any(|dir| dir.join(&exe).is_file());
        if program.on_path && !found && !missing.contains(&program.bin) {
            missing.push(program.bin.clone());
        }
    }
    missing
}
