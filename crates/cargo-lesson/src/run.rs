//! `cargo lesson run NAME`: start a lesson's servers, wait for their banners, start its
//! clients with their scripted input, print every line labelled by side with the time
//! since the start, stop everything when the demo is over, and report each exit status.
//!
//! Every child runs in its own process group, so stopping it (SIGINT, then SIGKILL after
//! a grace period) also reaches anything it started. Ctrl-C on the runner stops every
//! child the same way before the runner exits: no orphans. Windows has no SIGINT to send
//! one program: there a child is stopped by closing its stdin and killing it.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use lesson_runner::{Running, Scratch, Stream, tail};

use crate::meta::{Cwd, Demo, Expect, Lesson, Program, Protocol, Stop, substitute};
use crate::out::{BOLD, DIM, Event, Kind, Printer, Sink, printf_text, shell_word};
use crate::relay::{self, Mode, Relay};

/// How many times Ctrl-C (SIGINT, SIGTERM or SIGHUP) has reached the runner.
pub static CTRL_C: AtomicUsize = AtomicUsize::new(0);

/// Install the handler that counts Ctrl-C presses (the run loop reacts to the count; a
/// handler already installed stays). On Linux the runner also becomes the "child
/// subreaper": a grandchild left behind when a child is stopped is adopted by the runner
/// (and reaped in [`Run::finish`]) instead of by init, which in a container may never reap it.
pub fn catch_ctrl_c() {
    let _ = ctrlc::set_handler(|| _ = CTRL_C.fetch_add(1, Ordering::SeqCst));
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

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
    let signal = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGKILL][sig as usize];
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
    spec: Program,
    server: bool,
    running: Running,
    /// How many of its lines have been printed.
    seen: usize,
    status: Option<ExitStatus>,
    interrupted: bool,
    killed: bool,
    /// Lines of its `stdin` not typed yet, each with the moment it is due (`pause_ms`);
    /// `None`: close stdin then (`close_stdin`).
    typing: Vec<(Instant, Option<String>)>,
}

impl Child {
    fn name(&self) -> String {
        format!("{} ({})", self.label, self.spec.bin)
    }
}

struct Run<'a> {
    opts: &'a Options,
    /// Where the programs start unless they ask for the scratch folder: the workspace
    /// (the folder that holds `lessons/`), so a demo's relative paths mean the same
    /// wherever `cargo lesson` was started (the tests run in crates/lesson-runner).
    workdir: PathBuf,
    /// The run's scratch folder (`cwd = "scratch"`), made when a program first asks for
    /// it, removed at the end.
    scratch: Option<Scratch>,
    /// The placeholders' values: `{addr}`, `{port2}`, ... once the servers are up;
    /// `{free_udp_port}` and `{free_tcp_port}`, ports the OS gave out and that were
    /// released, the same for the whole run.
    vars: HashMap<String, String>,
    printer: &'a mut Printer,
    children: Vec<Child>,
    sink: Sink,
    relays: Vec<Relay>,
    deadline: Instant,
    last_output: Instant,
    ctrl_c_seen: usize,
    /// Ctrl-C reached the runner: the run ends with 130.
    interrupted: bool,
    stopping: bool,
    /// Lines collected but not printed yet.
    pending: Vec<Event>,
}

/// Run the demo of `lesson`; returns the runner's exit status (0 all well, 1 a program
/// failed or the demo did not show what it should, 130 interrupted).
pub fn run(lesson: &Lesson, demo: &Demo, opts: &Options, printer: &mut Printer) -> i32 {
    let (title, number) = (lesson.meta.title.as_deref(), lesson.folder_number);
    let head = format!("lesson {:02} · {} · ", number.unwrap_or(0), lesson.package);
    printer.plain(&(head + title.unwrap_or("")), BOLD);
    if let Some(section) = &lesson.meta.section {
        printer.plain(&format!("course: {section}"), DIM);
    }
    if opts.wire {
        let how = match opts.mode {
            Mode::AsRead => "each piece as the relay read it".to_string(),
            Mode::Split(n) => {
                format!("the relay re-cuts the stream into {n}-byte writes, one at a time")
            }
            Mode::Merge => "the relay holds pieces back and forwards them together".to_string(),
        };
        let wire = format!("wire: a relay sits in front of each server; {how}");
        printer.plain(&wire, DIM);
    }
    let udp = UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr());
    let tcp = TcpListener::bind("127.0.0.1:0").and_then(|s| s.local_addr());
    let free = [("free_udp_port", udp), ("free_tcp_port", tcp)].into_iter();
    let vars = free.filter_map(|(name, addr)| Some((name.into(), addr.ok()?.port().to_string())));
    printer.start = Instant::now();
    let start = printer.start;
    let workdir = lesson.dir.parent().and_then(Path::parent);
    let mut run = Run {
        opts,
        workdir: workdir.map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        scratch: None,
        vars: vars.collect(),
        printer,
        children: Vec::new(),
        sink: Sink::default(),
        relays: Vec::new(),
        deadline: start + opts.timeout.unwrap_or(demo.timeout),
        last_output: start,
        ctrl_c_seen: CTRL_C.load(Ordering::SeqCst),
        interrupted: false,
        stopping: false,
        pending: Vec::new(),
    };
    if let Err(why) = run.demo(demo) {
        run.note(Kind::Problem, &why);
        let code = if run.interrupted { 130 } else { 1 };
        if code == 1 && run.children.iter().any(|c| c.status.is_none()) {
            run.note(Kind::Problem, "stopping the others");
        }
        run.stop(|_| true);
        return run.finish(code);
    }
    let code = run.check_expect(&demo.expect);
    run.finish(code)
}

impl Run<'_> {
    fn demo(&mut self, demo: &Demo) -> Result<(), String> {
        let numbers = Arc::new(AtomicUsize::new(0));
        for (i, spec) in demo.servers.iter().enumerate() {
            let label = match demo.servers.len() {
                1 => "server".to_string(),
                _ => format!("server {}", i + 1),
            };
            let k = self.start(spec, label, true)?;
            let mut reach = self.wait_banner(k)?;
            if self.opts.wire {
                let (mode, numbers) = (self.opts.mode, Arc::clone(&numbers));
                let tcp = demo.protocol == Protocol::Tcp;
                let (sink, pcap) = (self.sink.clone(), self.opts.pcap.clone());
                let report = relay::report(reach, tcp.then_some(mode), sink, pcap);
                let (relay, proto) = match tcp {
                    true => (relay::tcp(reach, mode, numbers, report), "TCP"),
                    false => (relay::udp(reach, numbers, report), "UDP"),
                };
                let relay = relay.map_err(|e| netkit::cause(&e));
                let relay = relay.map_err(|e| format!("cannot start the wire relay: {e}"))?;
                let (server, addr) = (&self.children[k].label, relay.addr);
                let line = format!("{proto} relay on {addr} in front of {server} at {reach}");
                self.sink.push("wire", line);
                reach = relay.addr;
                self.relays.push(relay);
            }
            // `{addr2}` is the second server's address (or its relay's); `{addr}` the first's.
            let suffixes = [(i + 1).to_string(), String::new()];
            for n in &suffixes[..2 - usize::from(i > 0)] {
                let (host, port) = (reach.ip().to_string(), reach.port().to_string());
                let values = [("host", host), ("port", port), ("addr", reach.to_string())];
                self.vars
                    .extend(values.map(|(name, value)| (format!("{name}{n}"), value)));
            }
        }
        let mut n = 0;
        for spec in &demo.clients {
            if spec.after_previous {
                self.wait_ended(|c| !c.server)?;
            }
            for _ in 0..spec.count {
                n += 1;
                self.start(spec, format!("client {n}"), false)?;
            }
        }
        self.wait_ended(|c| !c.server)?;
        // Servers that end by themselves (stop = "exit"): wait for them.
        self.wait_ended(|c| c.server && c.spec.stop == Stop::Exit)?;
        // Give the servers time to print what the demo should show, then a moment of
        // quiet, so nothing they print about the last client is cut off.
        self.wait_for(self.deadline, |r| {
            r.missing(&demo.expect).is_empty() || r.last_output.elapsed() >= EXPECT_QUIET
        })?;
        self.wait_for(self.deadline, |r| r.last_output.elapsed() >= SETTLE)?;
        self.stop(|c| c.server);
        Ok(())
    }

    /// Wait until the children `which` picks have ended; at the deadline, fail.
    fn wait_ended(&mut self, which: impl Fn(&Child) -> bool) -> Result<(), String> {
        let ended = |r: &Run| (r.children.iter().filter(|c| which(c))).all(|c| c.status.is_some());
        match self.wait_for(self.deadline, ended)? {
            true => Ok(()),
            false => Err(self.timed_out()),
        }
    }

    /// Start one program; returns its index in `children`.
    fn start(&mut self, spec: &Program, label: String, server: bool) -> Result<usize, String> {
        let value = |name: &str| self.vars.get(name).cloned();
        let split = matches!(self.opts.mode, Mode::Split(_));
        let split_args = spec.split_args.iter().filter(|_| split).cloned();
        let args: Vec<String> = (spec.args.iter().map(|a| substitute(a, value)))
            .chain(split_args)
            .collect();
        let stdin = spec.stdin.as_ref().map(|s| substitute(s, value));
        // A program of the workspace is where cargo built it; an installed one (python3)
        // is found on PATH, as a shell would.
        let path = match spec.on_path {
            true => PathBuf::from(&spec.bin),
            false => self.opts.bin_dir.join(&spec.bin),
        };
        let mut command = Command::new(&path);
        let scratch = || Scratch::new("run");
        command.args(&args).current_dir(match spec.cwd {
            Cwd::Workspace => self.workdir.as_path(),
            Cwd::Scratch => self.scratch.get_or_insert_with(scratch).path(),
        });
        own_group(&mut command);
        // The start line's time is taken before the program can print anything, so it
        // sorts before the program's first line.
        let started = Instant::now();
        let running = Running::spawn(command).map_err(|e| netkit::cause(&e));
        let running =
            running.map_err(|e| format!("cannot start {label} ({}): {e}", path.display()))?;
        // The input as a line of shell would type it: `printf '...' |`, and with
        // `pause_ms` each line on its own: `(printf 'a\n'; sleep 1; printf 'b\n') |`.
        let pause = Duration::from_millis(spec.pause_ms);
        let lines: Vec<&str> = match &stdin {
            Some(text) if !pause.is_zero() => text.split_inclusive('\n').collect(),
            Some(text) => vec![text],
            None => Vec::new(),
        };
        let typed: Vec<String> = lines.iter().map(|line| printf_text(line)).collect();
        let sleep = format!("; sleep {}; ", pause.as_secs_f64());
        let input = match typed.len() {
            0 => String::new(),
            1 => format!("{} | ", typed[0]),
            _ => format!("({}) | ", typed.join(&sleep)),
        };
        let words = args.iter().map(|a| shell_word(a));
        let line: Vec<String> = std::iter::once(spec.bin.clone()).chain(words).collect();
        let place = (spec.cwd == Cwd::Scratch).then_some("   (in a scratch folder)");
        let pid = (self.opts.verbose).then(|| format!("   (pid {})", running.pid()));
        let (line, place, pid) = (line.join(" "), place.unwrap_or(""), pid.unwrap_or_default());
        let text = format!("$ {input}{line}{place}{pid}");
        self.pending.push(Event {
            at: started,
            label: label.clone(),
            kind: Kind::Note,
            text,
        });
        // Line k of stdin is due `pause_ms` × k after the start (all at once without it);
        // tick() types the later ones. Without `stdin` nobody types: stdin stays open, as a
        // terminal's would.
        let mut typing: Vec<(Instant, Option<String>)> = (lines.iter().zip(0u32..))
            .map(|(line, k)| (started + pause * k, Some(line.to_string())))
            .collect();
        if stdin.is_some() && spec.close_stdin {
            typing.push((typing.last().map_or(started, |t| t.0), None));
        }
        self.children.push(Child {
            label,
            spec: spec.clone(),
            server,
            running,
            seen: 0,
            status: None,
            interrupted: false,
            killed: false,
            typing,
        });
        self.type_due();
        Ok(self.children.len() - 1)
    }

    /// The first line child `k` printed on stdout.
    fn first_line(&self, k: usize) -> Option<String> {
        let lines = self.children[k].running.lines_from(0);
        let first = lines.into_iter().find(|l| l.stream == Stream::Stdout);
        first.map(|line| line.text)
    }

    fn wait_banner(&mut self, k: usize) -> Result<SocketAddr, String> {
        let until = (Instant::now() + self.opts.banner_timeout).min(self.deadline);
        self.wait_for(until, |r| {
            r.first_line(k).is_some() || r.children[k].status.is_some()
        })?;
        let (first, child) = (self.first_line(k), &self.children[k]);
        let banner = first
            .as_deref()
            .and_then(|l| l.strip_prefix("listening on "));
        if let Some(Ok(addr)) = banner.map(|a| a.trim().parse()) {
            return Ok(addr);
        }
        let (name, stderr) = (child.name(), tail(&child.running.stderr()));
        let why = match (first, child.status) {
            (Some(first), _) => {
                format!(": the first line should be `listening on ADDR`, was {first:?}")
            }
            (None, Some(status)) => {
                let status = describe(status, false, false);
                format!(" ended ({status}) before printing `listening on ADDR`")
            }
            (None, None) => {
                let secs = self.opts.banner_timeout.as_secs_f64();
                format!(" printed no `listening on ADDR` line within {secs:.1}s")
            }
        };
        Err(format!("{name}{why}; stderr: {stderr}"))
    }

    fn timed_out(&self) -> String {
        // Name what keeps the demo from ending: the clients, or else the servers.
        let children = &self.children;
        let clients_running = children.iter().any(|c| !c.server && c.status.is_none());
        let still = (children.iter())
            .filter(|c| c.status.is_none() && (!c.server || !clients_running))
            .map(Child::name);
        let still = still.collect::<Vec<_>>().join(", ");
        let limit = self.deadline.saturating_duration_since(self.printer.start);
        let limit = limit.as_secs_f64();
        format!("the demo did not end within {limit:.0}s; still running: {still}")
    }

    /// Tick until `done` or `until`; Ok(false) if `until` came first.
    fn wait_for(&mut self, until: Instant, done: impl Fn(&Run) -> bool) -> Result<bool, String> {
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

    /// Type the lines that are due; a program that already ended can't be typed into
    /// (its exit is reported).
    fn type_due(&mut self) {
        for child in self.children.iter_mut().filter(|c| c.status.is_none()) {
            while (child.typing.first()).is_some_and(|(due, _)| *due <= Instant::now()) {
                match child.typing.remove(0).1 {
                    Some(line) => drop(child.running.write_stdin(line)),
                    None => child.running.close_stdin(),
                }
            }
        }
    }

    /// Print what arrived, notice programs that ended, and react to Ctrl-C.
    fn tick(&mut self) -> Result<(), String> {
        self.pump(false);
        self.type_due();
        let (mut ended, mut failure) = (false, None);
        for c in self.children.iter_mut().filter(|c| c.status.is_none()) {
            c.status = c.running.try_status().ok().flatten();
            let Some(status) = c.status else { continue };
            // Its last lines may still be in the pipe; show them before judging.
            c.running.wait_output_closed(Duration::from_millis(500));
            ended = true;
            let (name, exit) = (c.name(), c.spec.exit);
            if status.code() != Some(exit) && failure.is_none() {
                let side = if c.server { "the server" } else { "a client" };
                let (how, stderr) = (describe(status, false, false), c.running.stderr());
                let stderr = tail(&stderr);
                let why = format!("{name} failed: {how} ({side} should end with exit {exit})");
                failure = Some(format!("{why}; stderr: {stderr}"));
            }
        }
        if ended {
            self.pump(false);
        }
        let presses = CTRL_C.load(Ordering::SeqCst);
        if presses > self.ctrl_c_seen {
            self.ctrl_c_seen = presses;
            self.interrupted = true;
            return Err("interrupted (Ctrl-C): stopping every program".into());
        }
        match failure {
            _ if self.stopping => Ok(()),
            Some(why) => Err(why),
            None if Instant::now() >= self.deadline => Err(self.timed_out()),
            None => Ok(()),
        }
    }

    /// Collect every new line, from the programs and the relays, and print those that
    /// arrived more than [`REORDER`] ago (`all`: every one), in the order they arrived.
    fn pump(&mut self, all: bool) {
        self.pending.extend(self.sink.take());
        for child in &mut self.children {
            for line in child.running.lines_from(child.seen) {
                child.seen += 1;
                self.pending.push(Event {
                    at: line.at,
                    label: child.label.clone(),
                    kind: [Kind::Stdout, Kind::Stderr][line.stream as usize],
                    text: line.text,
                });
            }
        }
        self.pending.sort_by_key(|e| e.at);
        let last = self.pending.last().map(|e| e.at);
        self.last_output = self.last_output.max(last.unwrap_or(self.last_output));
        let before = Instant::now().checked_sub(REORDER);
        let cut = (self.pending.iter()).position(|e| !all && before.is_none_or(|b| e.at > b));
        for event in self.pending.drain(..cut.unwrap_or(self.pending.len())) {
            self.printer.event(&event);
        }
    }

    /// A runner message, after everything that came before it.
    fn note(&mut self, kind: Kind, text: &str) {
        self.pump(true);
        self.printer.note(kind, text);
    }

    /// Stop the children `which` picks: SIGINT to each one's process group, then SIGKILL
    /// to any still there after the grace period (or at once on a second Ctrl-C).
    fn stop(&mut self, which: impl Fn(&Child) -> bool) {
        self.stopping = true;
        let mut signalled = Vec::new();
        for (i, child) in self.children.iter_mut().enumerate() {
            if child.status.is_none() && which(child) {
                signal(&mut child.running, Sig::Int);
                child.interrupted = true;
                signalled.push(i);
            }
        }
        if cfg!(windows) && !signalled.is_empty() {
            let why =
                "Windows has no Ctrl-C to send to one program: closing its stdin and killing it";
            self.note(Kind::Note, why);
        }
        let gone = |r: &Run| signalled.iter().all(|&i| r.children[i].status.is_some());
        // A second Ctrl-C (an Err here) means: don't wait, kill now.
        let _ = self.wait_for(Instant::now() + self.opts.grace, gone);
        for &i in &signalled {
            let child = &mut self.children[i];
            if child.status.is_none() {
                signal(&mut child.running, Sig::Kill);
                child.killed = true;
            }
        }
        let _ = self.wait_for(Instant::now() + Duration::from_secs(5), gone);
    }

    /// The expected lines not shown, each matched to its own line (longest first, so
    /// "legal connection" can't take the line "illegal connection" needs).
    fn missing(&self, expect: &[Expect]) -> Vec<String> {
        let mut lines = Vec::new();
        for c in &self.children {
            let texts = c.running.lines_from(0).into_iter().map(|l| l.text);
            lines.extend(texts.map(|text| (&c.label, text)));
        }
        let mut order: Vec<&Expect> = expect.iter().collect();
        order.sort_by_key(|e| std::cmp::Reverse(e.text.len()));
        let mut missing = Vec::new();
        for e in order {
            // Side `client 1` is that client's; side `client` any client's.
            let side = e.side.as_ref();
            let mine = |l: &str| side.is_none_or(|s| l == s || l.starts_with(&format!("{s} ")));
            let found = lines
                .iter()
                .position(|(l, text)| text.contains(&e.text) && mine(l));
            match (found, side) {
                (Some(i), _) => _ = lines.remove(i),
                (None, Some(side)) => missing.push(format!("{:?} ({side})", e.text)),
                (None, None) => missing.push(format!("{:?}", e.text)),
            }
        }
        missing
    }

    fn check_expect(&mut self, expect: &[Expect]) -> i32 {
        let missing = self.missing(expect).join(", ");
        if missing.is_empty() {
            0
        } else if self.opts.mode != Mode::AsRead {
            let why = "with the stream re-cut by the relay, the demo no longer shows";
            self.note(Kind::Note, &format!("{why}: {missing}"));
            0
        } else {
            self.note(Kind::Problem, &format!("the demo did not show: {missing}"));
            1
        }
    }

    fn finish(mut self, code: i32) -> i32 {
        // Anything still alive in a child's process group (a grandchild) goes too.
        for child in &mut self.children {
            signal(&mut child.running, Sig::Kill);
        }
        // Reap the adopted orphans ([`catch_ctrl_c`]) until none is left (at most 2s).
        #[cfg(unix)]
        if self.children.iter().all(|c| c.status.is_some()) {
            use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
            let until = Instant::now() + Duration::from_secs(2);
            loop {
                match waitpid(None::<nix::unistd::Pid>, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) if Instant::now() < until => thread::sleep(TICK),
                    Ok(WaitStatus::StillAlive) | Err(_) => break, // Err: no children left
                    Ok(_) => {}
                }
            }
        }
        self.scratch = None;
        if self.opts.wire {
            // The relays' last lines (`closed`) follow the programs' ends closely.
            let until = Instant::now() + Duration::from_millis(500);
            let quiet = |r: &Run| r.last_output.elapsed() >= Duration::from_millis(100);
            let _ = self.wait_for(until, quiet);
        }
        self.relays.clear();
        let elapsed = self.printer.start.elapsed().as_secs_f64();
        let (kind, what) = match code {
            0 => (Kind::Note, "done in"),
            130 => (Kind::Problem, "interrupted after"),
            _ => (Kind::Problem, "failed after"),
        };
        self.note(kind, &format!("{what} {elapsed:.3}s"));
        let width = |f: fn(&Child) -> usize| self.children.iter().map(f).max().unwrap_or(0);
        let (width, bin_width) = (width(|c| c.label.len()), width(|c| c.spec.bin.len()));
        for c in &self.children {
            let (interrupted, killed, exit) = (c.interrupted, c.killed, c.spec.exit);
            let status = match c.status {
                None => "still running".to_string(),
                Some(s) if interrupted || s.code() == Some(exit) => {
                    describe(s, interrupted, killed)
                }
                Some(s) => format!("{} (expected {exit})", describe(s, false, false)),
            };
            let line = format!("  {:width$}  {:bin_width$}  {status}", c.label, c.spec.bin);
            self.printer.plain(line.trim_end(), "");
        }
        code
    }
}

/// `exit 0`, `stopped by Ctrl-C (SIGINT)`, `killed (SIGKILL) after it ignored SIGINT`,
/// `killed by SIGSEGV`; on Windows `stopped (killed: Windows has no Ctrl-C to send)`.
pub fn describe(status: ExitStatus, interrupted: bool, killed: bool) -> String {
    match status.code() {
        _ if cfg!(windows) && interrupted => {
            return "stopped (killed: Windows has no Ctrl-C to send)".into();
        }
        Some(code) if interrupted && !killed => {
            return format!("exit {code} after Ctrl-C (SIGINT)");
        }
        Some(code) => return format!("exit {code}"),
        None => {}
    }
    #[cfg(unix)]
    {
        use nix::sys::signal::Signal;
        let signal = std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0);
        match Signal::try_from(signal) {
            Ok(Signal::SIGKILL) if killed => {
                "killed (SIGKILL): it did not stop after Ctrl-C (SIGINT)".into()
            }
            Ok(Signal::SIGINT) if interrupted => "stopped by Ctrl-C (SIGINT)".into(),
            Ok(s) => format!("killed by {}", s.as_str()),
            Err(_) => format!("killed by signal {signal}"),
        }
    }
    #[cfg(not(unix))]
    "ended without an exit code".to_string()
}

/// Whether the programs a demo needs are there: the error names what to build or install.
pub fn ready(demo: &Demo, bin_dir: &Path) -> Result<(), String> {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    // The programs not found: [installed ones, built ones].
    let mut missing: [Vec<&str>; 2] = Default::default();
    for program in demo.servers.iter().chain(&demo.clients) {
        let exe = format!("{}{}", program.bin, std::env::consts::EXE_SUFFIX);
        let found = match program.on_path {
            true => std::env::split_paths(&paths).any(|d| d.join(&exe).is_file()),
            false => bin_dir.join(&exe).is_file(),
        };
        let list = &mut missing[usize::from(!program.on_path)];
        if !found && !list.contains(&program.bin.as_str()) {
            list.push(&program.bin);
        }
    }
    let dir = bin_dir.display();
    match missing.map(|names| names.join(", ")) {
        [installed, _] if !installed.is_empty() => Err(format!(
            "not installed: {installed} (the demo starts it; it is not on PATH)"
        )),
        [_, built] if !built.is_empty() => Err(format!(
            "not built: {built} (looked in {dir}; build the workspace, or leave out --no-build)"
        )),
        _ => Ok(()),
    }
}
