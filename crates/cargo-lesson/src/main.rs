//! lesson: run a whole lesson in one terminal, and the tools an instructor reaches for.
//!
//!   cargo lesson list                         the lessons in teaching order
//!   cargo lesson run NAME                     server(s) and client(s) together, labelled by side
//!   cargo lesson run NAME --wire [--split N | --merge]
//!                                             ... with a relay that shows the bytes on the wire
//!   cargo lesson run NAME --wire --pcap FILE  ... and writes them to FILE, a capture for Wireshark
//!   cargo lesson run NAME --record            ... and write the transcript into the lesson's README
//!   cargo lesson diff A B [--stat]            what lesson B changes in lesson A's sources
//!   cargo lesson check                        metadata complete and consistent, README tables current
//!   cargo lesson readme-table [--write]       the top-level README's lesson table
//!   cargo lesson interop-table [--write]      ... and its table of what is proven against Python
//!   cargo lesson transcripts [NAME...]        every README transcript still matches a fresh run
//!   cargo lesson bench [NAME...] [--quick]    the benchmarks (scripts/bench-*) in release: one table
//!
//! NAME is a lesson's package (`tcp-client-v1`), its folder (`01-tcp-client-v1`), its
//! number (`1`) or one of its programs (`tcp-chat-server`). The alias lives in
//! .cargo/config.toml; crates/cargo-lesson/README.md describes the lesson metadata.
//!
//! Exit status: 0 all well; 1 a program failed, a check found problems or a transcript
//! differs; 2 bad usage (an unknown lesson, a bad option); 130 after Ctrl-C.

/// `println!` that ignores a closed stdout (`cargo lesson list | head`) instead of
/// panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `print!`, the same way.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod bench;
mod check;
mod diff;
mod exercise;
mod interop;
mod meta;
mod names;
mod out;
mod pcap;
mod relay;
mod run;
mod transcript;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use meta::{Lesson, Protocol};
use out::{Printer, Style};
use relay::Mode;

/// Run a lesson's server and clients together; list, check and diff the lessons.
#[derive(Parser)]
#[command(name = "cargo lesson", version, about)]
struct Cli {
    /// The folder that holds the lessons (default: lessons/ of this workspace).
    #[arg(long, global = true, value_name = "DIR")]
    lessons_dir: Option<PathBuf>,
    /// Where the lessons' programs are (default: next to this program, where cargo builds
    /// them). Implies --no-build.
    #[arg(long, global = true, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Don't run `cargo build` first; use the programs as they are.
    #[arg(long, global = true)]
    no_build: bool,
    /// Where your copies of the lessons go (`cargo lesson start`), beside lessons/.
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        default_value = "exercises",
        hide = true
    )]
    exercises_dir: String,
    /// Colour: auto (only on a terminal, never under NO_COLOR), always or never.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The lessons in teaching order: number, package, programs, course section, summary.
    List,
    /// Run a lesson's demo: its server(s) and client(s) together in this terminal.
    Run(RunArgs),
    /// A unified diff of two lessons' sources (paths relative to each lesson).
    Diff {
        /// The earlier lesson (package, folder or number).
        a: String,
        /// The later lesson.
        b: String,
        /// Only how many lines changed in each file.
        #[arg(long)]
        stat: bool,
        /// Compare tests/ and python/ too, not only src/.
        #[arg(long)]
        all: bool,
    },
    /// With NAME: run lesson NAME's own tests against your copy of it (exercises/NN-name)
    /// and tell the story of the first check that fails. Without: check every lesson's
    /// metadata (numbers, names, demos, transcripts), and the README's lesson table and
    /// interop table against the metadata and the tests.
    Check {
        /// The lesson whose exercises to check (package, folder or number).
        name: Option<String>,
        /// With NAME: check again each time a file of your copy is saved.
        #[arg(long, requires = "name")]
        watch: bool,
        /// Skip the top-level README's tables.
        #[arg(long)]
        no_readme: bool,
    },
    /// Make your own copy of a lesson in exercises/NN-name, its marked steps left for you
    /// to write (todo!() with a hint).
    Start {
        /// The lesson (package, folder or number).
        name: String,
    },
    /// The next step to write in your copy of a lesson, and its hint.
    Hint {
        /// The lesson (package, folder or number).
        name: String,
    },
    /// Every exercise of every lesson, and which ones you have passed.
    Exercises {
        /// For CI: every copy builds as generated, and each step left as todo!() fails
        /// the lesson's tests.
        #[arg(long)]
        verify: bool,
        /// With --verify: only these lessons.
        #[arg(requires = "verify")]
        names: Vec<String>,
    },
    /// Print the top-level README's lesson table, generated from the lessons' metadata.
    ReadmeTable {
        /// Write it into README.md between the `<!-- lessons:begin -->` and
        /// `<!-- lessons:end -->` lines instead of printing it.
        #[arg(long)]
        write: bool,
    },
    /// Print the top-level README's table of the directions each lesson proves against the
    /// course's Python, generated from the test names in each lesson's tests/python.rs.
    InteropTable {
        /// Write it into README.md between the `<!-- interop:begin -->` and
        /// `<!-- interop:end -->` lines instead of printing it.
        #[arg(long)]
        write: bool,
    },
    /// Build in release and run the benchmarks (scripts/bench-*): one table of medians,
    /// each lesson next to its reference (the course's Python, a standard tool).
    Bench(bench::BenchArgs),
    /// Run every lesson that has a transcript in its README and compare.
    Transcripts {
        /// Only these lessons.
        names: Vec<String>,
        /// Record the fresh runs instead of comparing.
        #[arg(long)]
        update: bool,
    },
}

#[derive(Args, Clone)]
struct RunArgs {
    /// The lesson: package (tcp-client-v1), folder (01-tcp-client-v1), number or program.
    name: String,
    /// Put a relay between the clients and each server that shows every piece of bytes.
    #[arg(long)]
    wire: bool,
    /// With the relay: re-cut the stream into N-byte writes, sent one at a time (TCP).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    split: Option<u64>,
    /// With the relay: hold writes that come close together and forward them as one (TCP).
    #[arg(long, conflicts_with = "split")]
    merge: bool,
    /// With the relay: write what it saw to FILE, a capture Wireshark opens (implies --wire).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Write this run's transcript into the lesson's README (its transcript block).
    #[arg(long)]
    record: bool,
    /// Show each program's process id.
    #[arg(long, short)]
    verbose: bool,
    /// How long a server may take to print `listening on ADDR`.
    #[arg(long, value_name = "SECS", default_value = "10")]
    banner_timeout: f64,
    /// How long a stopped program gets between Ctrl-C (SIGINT) and SIGKILL.
    #[arg(long, value_name = "SECS", default_value = "2")]
    grace: f64,
    /// The longest the whole demo may take (default: the demo's timeout_secs, or 30).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
}

impl RunArgs {
    /// The command as a transcript marker names it.
    fn command(&self) -> String {
        let mut command = format!("cargo lesson run {}", self.name);
        if self.wire && self.split.is_none() && !self.merge {
            command.push_str(" --wire");
        }
        if let Some(n) = self.split {
            command.push_str(&format!(" --wire --split {n}"));
        }
        if self.merge {
            command.push_str(" --wire --merge");
        }
        command
    }

    fn mode(&self) -> Mode {
        match (self.split, self.merge) {
            (Some(n), _) => Mode::Split(usize::try_from(n).unwrap_or(usize::MAX)),
            (None, true) => Mode::Merge,
            (None, false) => Mode::AsRead,
        }
    }
}

/// A failure with its exit status.
struct Fail(u8, String);

type Outcome = Result<u8, Fail>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(Fail(code, message)) => {
            let style = Style::detect(&cli.color);
            eprintln!("{} {message}", style.paint(out::RED, "lesson:"));
            ExitCode::from(code)
        }
    }
}

struct World {
    root: PathBuf,
    lessons: Vec<Lesson>,
    style: Style,
}

fn dispatch(cli: &Cli) -> Outcome {
    let root = workspace_root();
    let lessons_dir = cli
        .lessons_dir
        .clone()
        .unwrap_or_else(|| root.join("lessons"));
    let root = if cli.lessons_dir.is_some() {
        lessons_dir
            .parent()
            .map_or_else(|| root.clone(), Path::to_path_buf)
    } else {
        root
    };
    let lessons = meta::discover(&lessons_dir).map_err(|e| Fail(2, e))?;
    let world = World {
        root,
        lessons,
        style: Style::detect(&cli.color),
    };
    match &cli.command {
        Cmd::List => {
            list(&world);
            Ok(0)
        }
        Cmd::Run(args) => run_command(cli, &world, args),
        Cmd::Diff { a, b, stat, all } => {
            let a = written(&world, a)?;
            let b = written(&world, b)?;
            say_raw!("{}", diff::diff(a, b, *all, *stat, world.style));
            Ok(0)
        }
        Cmd::Check {
            name: Some(name),
            watch,
            ..
        } => {
            let lesson = written(&world, name)?;
            exercise::check(&exercises(cli, &world), lesson, *watch).map_err(|e| Fail(1, e))
        }
        Cmd::Check { no_readme, .. } => check_command(&world, *no_readme),
        Cmd::Start { name } => {
            let lesson = written(&world, name)?;
            exercise::start(&exercises(cli, &world), lesson).map_err(|e| Fail(1, e))?;
            Ok(0)
        }
        Cmd::Hint { name } => {
            let lesson = written(&world, name)?;
            exercise::hint(&exercises(cli, &world), lesson).map_err(|e| Fail(1, e))?;
            Ok(0)
        }
        Cmd::Exercises { verify: false, .. } => {
            exercise::list(&exercises(cli, &world), &world.lessons).map_err(|e| Fail(1, e))?;
            Ok(0)
        }
        Cmd::Exercises {
            verify: true,
            names,
        } => {
            let course = |l: &Lesson| {
                let section = l.meta.section.as_deref().unwrap_or_default();
                !section.starts_with("beyond the course")
            };
            let picked: Vec<&Lesson> = if names.is_empty() {
                world.lessons.iter().collect()
            } else {
                let found: Result<Vec<_>, _> = names.iter().map(|n| written(&world, n)).collect();
                found?
            };
            exercise::verify(&world.root, &picked, &course).map_err(|e| Fail(1, e))
        }
        Cmd::ReadmeTable { write } => {
            let table = check::readme_table(&world.lessons);
            if *write {
                let path = world.root.join("README.md");
                check::write_block(&path, &check::LESSON_TABLE, &table).map_err(|e| Fail(1, e))?;
                say!("wrote the lesson table into {}", path.display());
            } else {
                say_raw!("{table}");
            }
            Ok(0)
        }
        Cmd::InteropTable { write } => {
            let table = interop::table(&world.lessons);
            if *write {
                let path = world.root.join("README.md");
                check::write_block(&path, &interop::TABLE, &table).map_err(|e| Fail(1, e))?;
                say!("wrote the interop table into {}", path.display());
            } else {
                say_raw!("{table}");
            }
            Ok(0)
        }
        Cmd::Transcripts { names, update } => transcripts(cli, &world, names, *update),
        Cmd::Bench(args) => bench::bench(cli, &world, args),
    }
}

/// The student's copies of the lessons.
fn exercises(cli: &Cli, world: &World) -> exercise::Workspace {
    exercise::Workspace::new(&world.root, &cli.exercises_dir)
}

/// The workspace this program was built from; if it has moved since, the nearest folder
/// above the current one that has lessons/.
fn workspace_root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if built.join("lessons").is_dir() {
        return built.canonicalize().unwrap_or(built);
    }
    let mut dir = std::env::current_dir().unwrap_or_default();
    loop {
        if dir.join("lessons").is_dir() && dir.join("Cargo.toml").is_file() {
            return dir;
        }
        if !dir.pop() {
            return built;
        }
    }
}

/// A lesson by name, or the exit-2 error a person needs.
fn written<'a>(world: &'a World, name: &str) -> Result<&'a Lesson, Fail> {
    names::find(name, &world.lessons).ok_or_else(|| {
        let close = names::close_names(name, &world.lessons);
        let hint = if close.is_empty() {
            String::new()
        } else {
            format!("; did you mean {}?", close.join(", "))
        };
        Fail(
            2,
            format!("no lesson named {name:?}{hint} (`cargo lesson list` shows them all)"),
        )
    })
}

fn list(world: &World) {
    let style = world.style;
    let width = world
        .lessons
        .iter()
        .map(|l| l.package.len())
        .max()
        .unwrap_or(0);
    say!(
        "{}",
        style.paint(
            out::BOLD,
            "The lessons, in the course's order (run one: cargo lesson run NAME)"
        )
    );
    for l in &world.lessons {
        let number = l.folder_number.unwrap_or(0);
        let name = out::pad(&l.package, width);
        let first = format!("{number:02}  {name}  {}", l.binaries.join(", "));
        say!("{}", style.paint(out::BOLD, &first));
        let text = |t: &Option<String>| t.clone().unwrap_or_default();
        say!("    {} — {}", text(&l.meta.section), text(&l.meta.summary));
    }
    say!("{} lessons", world.lessons.len());
}

/// Where the programs are, and whether to build them.
fn bin_dir(cli: &Cli) -> PathBuf {
    cli.bin_dir.clone().unwrap_or_else(|| {
        let mut dir = std::env::current_exe().unwrap_or_default();
        dir.pop();
        dir
    })
}

/// `cargo build --bins` for the lessons whose programs these demos use, quietly.
fn build(cli: &Cli, world: &World, lessons: &[&Lesson]) -> Result<(), Fail> {
    if cli.no_build || cli.bin_dir.is_some() {
        return Ok(());
    }
    let mut packages = BTreeSet::new();
    for lesson in lessons {
        packages.insert(lesson.package.clone());
        if let Some(demo) = &lesson.meta.demo {
            for program in demo
                .servers
                .iter()
                .chain(&demo.clients)
                .filter(|p| !p.on_path)
            {
                if let Some(owner) = world
                    .lessons
                    .iter()
                    .find(|l| l.binaries.contains(&program.bin))
                {
                    packages.insert(owner.package.clone());
                }
            }
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&world.root)
        .args(["build", "--quiet", "--bins"]);
    if bin_dir(cli).ends_with("release") {
        command.arg("--release");
    }
    for package in &packages {
        command.args(["-p", package]);
    }
    let status = command
        .status()
        .map_err(|e| Fail(1, format!("cannot run cargo build: {e}")))?;
    if !status.success() {
        let list: Vec<&str> = packages.iter().map(String::as_str).collect();
        return Err(Fail(
            1,
            format!(
                "cargo build -p {} failed (its errors are above)",
                list.join(" -p ")
            ),
        ));
    }
    Ok(())
}

fn seconds(value: f64, what: &str) -> Result<Duration, Fail> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| Fail(2, format!("{what}: {value} is not a number of seconds")))
}

fn options(cli: &Cli, args: &RunArgs, protocol: Protocol) -> Result<run::Options, Fail> {
    let mode = args.mode();
    if protocol == Protocol::Udp && mode != Mode::AsRead {
        return Err(Fail(
            2,
            "--split and --merge re-cut a TCP byte stream; this lesson speaks UDP, where each datagram stays whole (use --wire alone)".into(),
        ));
    }
    Ok(run::Options {
        bin_dir: bin_dir(cli),
        wire: args.wire || mode != Mode::AsRead || args.pcap.is_some(),
        mode,
        pcap: None,
        verbose: args.verbose,
        banner_timeout: seconds(args.banner_timeout, "--banner-timeout")?,
        grace: seconds(args.grace, "--grace")?,
        timeout: args.timeout.map(|t| seconds(t, "--timeout")).transpose()?,
    })
}

fn demo_of(lesson: &Lesson) -> Result<&meta::Demo, Fail> {
    lesson.meta.demo.as_ref().ok_or_else(|| {
        let problems: Vec<&String> = lesson
            .problems
            .iter()
            .filter(|p| p.contains("demo") || p.contains("metadata"))
            .collect();
        let detail = if problems.is_empty() {
            lesson.problems.join("\n  ")
        } else {
            problems
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        };
        Fail(
            1,
            format!("lesson {} has no demo to run:\n  {detail}", lesson.package),
        )
    })
}

fn ready(cli: &Cli, demo: &meta::Demo) -> Result<(), Fail> {
    let installed = run::missing_installed(demo);
    if !installed.is_empty() {
        return Err(Fail(
            1,
            format!(
                "not installed: {} (the demo starts it; it is not on PATH)",
                installed.join(", ")
            ),
        ));
    }
    let dir = bin_dir(cli);
    let missing = run::missing_programs(demo, &dir);
    if missing.is_empty() {
        return Ok(());
    }
    Err(Fail(
        1,
        format!(
            "not built: {} (looked in {}; build the workspace, or leave out --no-build)",
            missing.join(", "),
            dir.display()
        ),
    ))
}

fn run_command(cli: &Cli, world: &World, args: &RunArgs) -> Outcome {
    let lesson = written(world, &args.name)?;
    let demo = demo_of(lesson)?;
    let mut options = options(cli, args, demo.protocol)?;
    let readme = lesson.dir.join("README.md");
    let command = RunArgs {
        name: lesson.package.clone(),
        ..args.clone()
    }
    .command();
    if args.record {
        // Find the block before running, so a missing block costs no run.
        let text = fs::read_to_string(&readme).unwrap_or_default();
        transcript::replace(&text, &command, &[])
            .map_err(|e| Fail(1, format!("{}: {e}", readme.display())))?;
    }
    build(cli, world, &[lesson])?;
    ready(cli, demo)?;
    run::catch_ctrl_c();
    let mut printer = Printer::new(world.style, false);
    if let Some(path) = &args.pcap {
        let pcap = pcap::Pcap::create(path, &lesson.package).map_err(|why| Fail(1, why))?;
        options.pcap = Some(pcap);
    }
    let mut code = run::run(lesson, demo, &options, &mut printer);
    match options.pcap.as_ref().map(pcap::Pcap::finish) {
        Some(Ok(line)) => say!("{line}"),
        Some(Err(why)) => {
            eprintln!("lesson: {why}");
            code = code.max(1);
        }
        None => {}
    }
    if args.record {
        if code != 0 {
            eprintln!("lesson: not recorded: the run did not succeed");
        } else {
            let text = fs::read_to_string(&readme).unwrap_or_default();
            let updated = transcript::replace(&text, &command, &printer.lines)
                .map_err(|e| Fail(1, format!("{}: {e}", readme.display())))?;
            fs::write(&readme, updated)
                .map_err(|e| Fail(1, format!("cannot write {}: {e}", readme.display())))?;
            eprintln!("lesson: recorded the transcript in {}", readme.display());
        }
    }
    Ok(u8::try_from(code).unwrap_or(1))
}

fn check_command(world: &World, no_readme: bool) -> Outcome {
    let mut problems = check::problems(&world.lessons);
    problems.extend(interop::problems(&world.lessons));
    if !no_readme {
        let table = check::readme_table(&world.lessons);
        let readme = world.root.join("README.md");
        problems.extend(check::block_problem(&readme, &check::LESSON_TABLE, &table));
        let interop = interop::table(&world.lessons);
        problems.extend(check::block_problem(&readme, &interop::TABLE, &interop));
    }
    if problems.is_empty() {
        say!(
            "check: {} lessons ok (metadata complete and consistent{})",
            world.lessons.len(),
            if no_readme {
                ""
            } else {
                "; the README's tables match"
            }
        );
        return Ok(0);
    }
    for problem in &problems {
        say!("check: {problem}");
    }
    say!("check: {} problem(s)", problems.len());
    Ok(1)
}

fn transcripts(cli: &Cli, world: &World, names: &[String], update: bool) -> Outcome {
    let chosen: Vec<&Lesson> = if names.is_empty() {
        world.lessons.iter().collect()
    } else {
        names
            .iter()
            .map(|n| written(world, n))
            .collect::<Result<_, _>>()?
    };
    // Every block of the chosen lessons, parsed as the `run` command it names.
    let mut jobs: Vec<(&Lesson, RunArgs, transcript::Block)> = Vec::new();
    for lesson in &chosen {
        let Ok(text) = fs::read_to_string(lesson.dir.join("README.md")) else {
            continue;
        };
        let blocks = transcript::blocks(&text)
            .map_err(|e| Fail(1, format!("lessons/{}/README.md: {e}", lesson.folder)))?;
        for block in blocks {
            let argv = ["lesson", "run"]
                .into_iter()
                .map(str::to_string)
                .chain(block.args.iter().cloned());
            let parsed = Cli::try_parse_from(argv).map_err(|e| {
                Fail(
                    1,
                    format!(
                        "lessons/{}/README.md: line {}: `{}`: {}",
                        lesson.folder,
                        block.line,
                        block.command,
                        e.to_string().lines().next().unwrap_or_default()
                    ),
                )
            })?;
            let Cmd::Run(args) = parsed.command else {
                continue;
            };
            jobs.push((lesson, args, block));
        }
    }
    if jobs.is_empty() {
        say!("transcripts: no lesson README has a transcript block yet");
        return Ok(0);
    }
    let lessons: Vec<&Lesson> = jobs.iter().map(|j| j.0).collect();
    build(cli, world, &lessons)?;
    run::catch_ctrl_c();
    let mut failures = 0;
    for (lesson, args, block) in &jobs {
        let place = format!("lessons/{}/README.md", lesson.folder);
        let demo = demo_of(lesson)?;
        let options = options(cli, args, demo.protocol)?;
        ready(cli, demo)?;
        let mut printer = Printer::new(Style { on: false }, true);
        let code = run::run(lesson, demo, &options, &mut printer);
        if code == 130 {
            return Ok(130);
        }
        let mut fresh = vec![format!("$ {}", block.command)];
        fresh.extend(printer.lines.iter().cloned());
        if code != 0 {
            failures += 1;
            say!(
                "{} {place}: `{}` failed (exit {code}):\n{}",
                world.style.paint(out::RED, "FAIL"),
                block.command,
                printer.lines.join("\n")
            );
            continue;
        }
        if update {
            let text = fs::read_to_string(lesson.dir.join("README.md")).unwrap_or_default();
            let updated = transcript::replace(&text, &block.command, &printer.lines)
                .map_err(|e| Fail(1, format!("{place}: {e}")))?;
            fs::write(lesson.dir.join("README.md"), updated)
                .map_err(|e| Fail(1, format!("cannot write {place}: {e}")))?;
            say!("recorded {place}: {}", block.command);
            continue;
        }
        let Some(recorded) = &block.recorded else {
            failures += 1;
            say!(
                "{} {place}: line {}: not recorded yet; run `{} --record`",
                world.style.paint(out::RED, "FAIL"),
                block.line,
                block.command
            );
            continue;
        };
        let diffs = transcript::compare(recorded, &fresh, demo.transcript);
        if diffs.is_empty() {
            say!("ok   {place}: {}", block.command);
        } else {
            failures += 1;
            say!(
                "{} {place}: line {}: the transcript of `{}` no longer matches a fresh run (ports and timings aside); if the change is intended, run `{} --record`",
                world.style.paint(out::RED, "FAIL"),
                block.line,
                block.command,
                block.command
            );
            for diff in diffs {
                say_raw!("{diff}");
            }
            say!("fresh run:\n{}", fresh.join("\n"));
        }
    }
    if failures > 0 {
        say!("transcripts: {failures} of {} differ or failed", jobs.len());
        Ok(1)
    } else {
        say!("transcripts: {} ok", jobs.len());
        Ok(0)
    }
}
