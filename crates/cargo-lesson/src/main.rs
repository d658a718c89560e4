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
//!   cargo lesson start NAME                   your copy of a lesson in exercises/, its marked steps todo!()
//!   cargo lesson check NAME [--watch]         the lesson's own tests against your copy, and a failure's story
//!   cargo lesson hint NAME                    the next step to write
//!   cargo lesson exercises [--verify]         every exercise and where you are (--verify: CI's proof)
//!
//! NAME is a lesson's package (`tcp-client-v1`), its folder (`01-tcp-client-v1`), its
//! number (`1`) or one of its programs (`tcp-chat-server`). The alias lives in
//! .cargo/config.toml; crates/cargo-lesson/README.md describes the lesson metadata.
//!
//! Exit status: 0 all well; 1 a program failed, a check found problems or a transcript
//! differs; 2 bad usage (an unknown lesson, a bad option); 130 after Ctrl-C.

/// `println!` that ignores a closed stdout (`cargo lesson list | head`) instead of
/// panicking; [`print`] is its `print!`.
macro_rules! say {
    ($($arg:tt)*) => { crate::print(&format!("{}\n", format_args!($($arg)*))) };
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

use clap::{Parser, Subcommand};

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

#[derive(Parser)]
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

/// A failure with its exit status.
struct Fail(u8, String);

type Outcome = Result<u8, Fail>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(dispatch(&cli).unwrap_or_else(|Fail(code, message)| {
        let lesson = Style::detect(&cli.color).paint(out::RED, "lesson:");
        eprintln!("{lesson} {message}");
        code
    }))
}

/// `print!` that ignores a closed stdout.
fn print(text: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
}

struct World {
    root: PathBuf,
    lessons: Vec<Lesson>,
    style: Style,
}

fn dispatch(cli: &Cli) -> Outcome {
    let root = workspace_root();
    let (lessons_dir, root) = match &cli.lessons_dir {
        Some(dir) => (dir.clone(), dir.parent().map_or(root, Path::to_path_buf)),
        None => (root.join("lessons"), root),
    };
    let lessons = meta::discover(&lessons_dir).map_err(|e| Fail(2, e))?;
    let style = Style::detect(&cli.color);
    let world = World {
        root,
        lessons,
        style,
    };
    // The student's copies of the lessons.
    let copies = exercise::Workspace::new(&world.root, &cli.exercises_dir);
    let failed = |e: String| Fail(1, e);
    match &cli.command {
        Cmd::List => list(&world),
        Cmd::Run(args) => return run_command(cli, &world, args),
        Cmd::Diff { a, b, stat, all } => {
            let (a, b) = (written(&world, a)?, written(&world, b)?);
            print(&diff::diff(a, b, *all, *stat, world.style));
        }
        Cmd::Check {
            name: Some(name),
            watch,
            ..
        } => {
            return exercise::check(&copies, written(&world, name)?, *watch).map_err(failed);
        }
        Cmd::Check { no_readme, .. } => return check_command(&world, *no_readme),
        Cmd::Start { name } => exercise::start(&copies, written(&world, name)?).map_err(failed)?,
        Cmd::Hint { name } => exercise::hint(&copies, written(&world, name)?).map_err(failed)?,
        Cmd::Exercises { verify: false, .. } => {
            exercise::list(&copies, &world.lessons).map_err(failed)?;
        }
        Cmd::Exercises {
            verify: true,
            names,
        } => {
            let course = |l: &Lesson| {
                let section = l.meta.section.as_deref().unwrap_or_default();
                !section.starts_with("beyond the course")
            };
            let picked = chosen(&world, names)?;
            return exercise::verify(&world.root, &picked, &course).map_err(failed);
        }
        Cmd::ReadmeTable { write } | Cmd::InteropTable { write } => {
            let interop = matches!(cli.command, Cmd::InteropTable { .. });
            let (block, table) = &tables(&world)[usize::from(interop)];
            let path = world.root.join("README.md");
            if !write {
                print(table);
            } else {
                check::write_block(&path, block, table).map_err(failed)?;
                say!("wrote the {} into {}", block.name, path.display());
            }
        }
        Cmd::Transcripts { names, update } => return transcripts(cli, &world, names, *update),
        Cmd::Bench(args) => return bench::bench(cli, &world, args),
    }
    Ok(0)
}

/// The lessons `names` names, or all of them for none.
fn chosen<'a>(world: &'a World, names: &[String]) -> Result<Vec<&'a Lesson>, Fail> {
    match names.is_empty() {
        true => Ok(world.lessons.iter().collect()),
        false => names.iter().map(|n| written(world, n)).collect(),
    }
}

/// The workspace this program was built from; if it has moved since, the nearest folder
/// above the current one that has lessons/.
fn workspace_root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if built.join("lessons").is_dir() {
        return built.canonicalize().unwrap_or(built);
    }
    let here = std::env::current_dir().unwrap_or_default();
    let mut above = here.ancestors();
    let found = above.find(|d| d.join("lessons").is_dir() && d.join("Cargo.toml").is_file());
    found.map_or(built, Path::to_path_buf)
}

/// A lesson by name, or the exit-2 error a person needs.
fn written<'a>(world: &'a World, name: &str) -> Result<&'a Lesson, Fail> {
    names::find(name, &world.lessons).ok_or_else(|| {
        let close = names::close_names(name, &world.lessons).join(", ");
        let hint = (!close.is_empty()).then(|| format!("; did you mean {close}?"));
        let hint = hint.unwrap_or_default();
        let why = format!("no lesson named {name:?}{hint} (`cargo lesson list` shows them all)");
        Fail(2, why)
    })
}

fn list(world: &World) {
    let (style, lessons) = (world.style, &world.lessons);
    let width = lessons.iter().map(|l| l.package.len()).max().unwrap_or(0);
    let title = "The lessons, in the course's order (run one: cargo lesson run NAME)";
    say!("{}", style.paint(out::BOLD, title));
    for l in lessons {
        let (number, name) = (l.folder_number.unwrap_or(0), out::pad(&l.package, width));
        let first = format!("{number:02}  {name}  {}", l.binaries.join(", "));
        say!("{}", style.paint(out::BOLD, &first));
        let text = |t: &Option<String>| t.clone().unwrap_or_default();
        let (section, summary) = (text(&l.meta.section), text(&l.meta.summary));
        say!("    {section} — {summary}");
    }
    say!("{} lessons", lessons.len());
}

/// Where the programs are: --bin-dir, or next to this program.
fn bin_dir(cli: &Cli) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let here = || exe.parent().map(Path::to_path_buf).unwrap_or_default();
    cli.bin_dir.clone().unwrap_or_else(here)
}

/// `cargo build --bins` for the lessons whose programs these demos use, quietly.
fn build(cli: &Cli, world: &World, lessons: &[&Lesson]) -> Result<(), Fail> {
    if cli.no_build || cli.bin_dir.is_some() {
        return Ok(());
    }
    let mut packages: BTreeSet<&str> = lessons.iter().map(|l| l.package.as_str()).collect();
    let demos = lessons.iter().filter_map(|l| l.meta.demo.as_ref());
    let programs = demos.flat_map(|d| d.servers.iter().chain(&d.clients));
    for program in programs.filter(|p| !p.on_path) {
        let all = &world.lessons;
        let owner = all.iter().find(|l| l.binaries.contains(&program.bin));
        packages.extend(owner.map(|l| l.package.as_str()));
    }
    let packages = Vec::from_iter(packages).join(" -p ");
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(&world.root);
    command.args(["build", "--quiet", "--bins"]);
    if bin_dir(cli).ends_with("release") {
        command.arg("--release");
    }
    command.args(format!("-p {packages}").split(' '));
    let status = command.status();
    let status = status.map_err(|e| Fail(1, format!("cannot run cargo build: {e}")))?;
    let why = format!("cargo build -p {packages} failed (its errors are above)");
    status.success().then_some(()).ok_or(Fail(1, why))
}

fn seconds(value: f64, what: &str) -> Result<Duration, Fail> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| Fail(2, format!("{what}: {value} is not a number of seconds")))
}

/// What a demo's run gives: the runner's exit status and what it printed.
type Ran = Result<(i32, Printer), Fail>;

/// Run `lesson`'s demo as `args` say, after building its programs; `quiet` (for
/// `transcripts`, which has built them): without printing or colour.
fn demo_run(cli: &Cli, world: &World, lesson: &Lesson, args: &RunArgs, quiet: bool) -> Ran {
    let demo = lesson.meta.demo.as_ref().ok_or_else(|| {
        // The problems about the demo, if it names some; else all.
        let about = |p: &&String| p.contains("demo") || p.contains("metadata");
        let some = lesson.problems.iter().any(|p| about(&p));
        let shown = lesson.problems.iter().filter(|p| !some || about(p));
        let detail = Vec::from_iter(shown.map(String::as_str)).join("\n  ");
        let why = format!("lesson {} has no demo to run:\n  {detail}", lesson.package);
        Fail(1, why)
    })?;
    let mode = match (args.split, args.merge) {
        (Some(n), _) => Mode::Split(usize::try_from(n).unwrap_or(usize::MAX)),
        (None, true) => Mode::Merge,
        (None, false) => Mode::AsRead,
    };
    if demo.protocol == Protocol::Udp && mode != Mode::AsRead {
        let why = "--split and --merge re-cut a TCP byte stream; this lesson speaks UDP, where each datagram stays whole (use --wire alone)";
        return Err(Fail(2, why.into()));
    }
    let mut options = run::Options {
        bin_dir: bin_dir(cli),
        wire: args.wire || mode != Mode::AsRead || args.pcap.is_some(),
        mode,
        pcap: None,
        verbose: args.verbose,
        banner_timeout: seconds(args.banner_timeout, "--banner-timeout")?,
        grace: seconds(args.grace, "--grace")?,
        timeout: args.timeout.map(|t| seconds(t, "--timeout")).transpose()?,
    };
    if !quiet {
        build(cli, world, &[lesson])?;
    }
    run::ready(demo, &options.bin_dir).map_err(|e| Fail(1, e))?;
    run::catch_ctrl_c();
    if let Some(path) = &args.pcap {
        options.pcap = Some(pcap::Pcap::create(path, &lesson.package).map_err(|e| Fail(1, e))?);
    }
    let style = Style {
        on: world.style.on && !quiet,
    };
    let mut printer = Printer::new(style, quiet);
    let code = run::run(lesson, demo, &options, &mut printer);
    match options.pcap.as_ref().map(pcap::Pcap::finish) {
        Some(Ok(line)) => say!("{line}"),
        Some(Err(why)) => {
            eprintln!("lesson: {why}");
            return Ok((code.max(1), printer));
        }
        None => {}
    }
    Ok((code, printer))
}

/// Put `lines` into the README's transcript block of `command`; `write: false` only
/// checks that the block is there.
fn record(readme: &Path, command: &str, lines: &[String], write: bool) -> Result<(), Fail> {
    let text = fs::read_to_string(readme).unwrap_or_default();
    let fail = |why: String| Fail(1, format!("{}: {why}", readme.display()));
    let updated = transcript::replace(&text, command, lines).map_err(fail)?;
    if write {
        fs::write(readme, updated).map_err(|e| fail(format!("cannot write: {e}")))?;
    }
    Ok(())
}

fn run_command(cli: &Cli, world: &World, args: &RunArgs) -> Outcome {
    let lesson = written(world, &args.name)?;
    let readme = lesson.dir.join("README.md");
    // The command as a transcript marker names it.
    let wire = match (args.split, args.merge, args.wire) {
        (Some(n), _, _) => format!(" --wire --split {n}"),
        (None, true, _) => " --wire --merge".to_string(),
        (None, false, wire) => if wire { " --wire" } else { "" }.to_string(),
    };
    let command = format!("cargo lesson run {}{wire}", lesson.package);
    if args.record {
        record(&readme, &command, &[], false)?; // a missing block costs no run
    }
    let (code, printer) = demo_run(cli, world, lesson, args, false)?;
    if args.record && code != 0 {
        eprintln!("lesson: not recorded: the run did not succeed");
    } else if args.record {
        record(&readme, &command, &printer.lines, true)?;
        eprintln!("lesson: recorded the transcript in {}", readme.display());
    }
    Ok(u8::try_from(code).unwrap_or(1))
}

/// The top-level README's generated tables, each with what it should hold.
fn tables(world: &World) -> [(&'static check::Block, String); 2] {
    let lessons = &world.lessons;
    let interop = (&interop::TABLE, interop::table(lessons));
    [
        (&check::LESSON_TABLE, check::readme_table(lessons)),
        interop,
    ]
}

fn check_command(world: &World, no_readme: bool) -> Outcome {
    let mut problems = check::problems(&world.lessons);
    problems.extend(interop::problems(&world.lessons));
    let readme = world.root.join("README.md");
    for (block, table) in tables(world).iter().filter(|_| !no_readme) {
        problems.extend(check::block_problem(&readme, block, table));
    }
    if problems.is_empty() {
        let tables = ["; the README's tables match", ""][usize::from(no_readme)];
        let n = world.lessons.len();
        say!("check: {n} lessons ok (metadata complete and consistent{tables})");
        return Ok(0);
    }
    for problem in &problems {
        say!("check: {problem}");
    }
    say!("check: {} problem(s)", problems.len());
    Ok(1)
}

fn transcripts(cli: &Cli, world: &World, names: &[String], update: bool) -> Outcome {
    // Every block of the chosen lessons, parsed as the `run` command it names.
    let mut jobs = Vec::new();
    for lesson in chosen(world, names)? {
        let place = format!("lessons/{}/README.md", lesson.folder);
        let Ok(text) = fs::read_to_string(lesson.dir.join("README.md")) else {
            continue;
        };
        for block in transcript::blocks(&text).map_err(|e| Fail(1, format!("{place}: {e}")))? {
            let argv = ["run".to_string()].into_iter().chain(block.args.clone());
            let args = RunArgs::try_parse_from(argv).map_err(|e| {
                let (line, command, e) = (block.line, &block.command, e.to_string());
                let e = e.lines().next().unwrap_or_default();
                Fail(1, format!("{place}: line {line}: `{command}`: {e}"))
            })?;
            jobs.push((lesson, place.clone(), args, block));
        }
    }
    if jobs.is_empty() {
        say!("transcripts: no lesson README has a transcript block yet");
        return Ok(0);
    }
    build(cli, world, &Vec::from_iter(jobs.iter().map(|j| j.0)))?;
    let fail = world.style.paint(out::RED, "FAIL");
    let mut failures = 0;
    for (lesson, place, args, block) in &jobs {
        let (code, printer) = demo_run(cli, world, lesson, args, true)?;
        let (command, line, lines) = (&block.command, block.line, &printer.lines);
        let fresh = [vec![format!("$ {command}")], lines.clone()].concat();
        let compare = lesson.meta.demo.as_ref().map(|d| d.transcript);
        if code == 130 {
            return Ok(130);
        } else if code != 0 {
            let lines = lines.join("\n");
            say!("{fail} {place}: `{command}` failed (exit {code}):\n{lines}");
        } else if update {
            record(&lesson.dir.join("README.md"), command, lines, true)?;
            say!("recorded {place}: {command}");
            continue;
        } else if let Some(recorded) = &block.recorded {
            let diffs = transcript::compare(recorded, &fresh, compare.unwrap_or_default());
            if diffs.is_empty() {
                say!("ok   {place}: {command}");
                continue;
            }
            say!(
                "{fail} {place}: line {line}: the transcript of `{command}` no longer matches a fresh run (ports and timings aside); if the change is intended, run `{command} --record`"
            );
            print(&diffs.concat());
            say!("fresh run:\n{}", fresh.join("\n"));
        } else {
            say!("{fail} {place}: line {line}: not recorded yet; run `{command} --record`");
        }
        failures += 1;
    }
    let n = jobs.len();
    match failures {
        0 => say!("transcripts: {n} ok"),
        _ => say!("transcripts: {failures} of {n} differ or failed"),
    }
    Ok(u8::from(failures > 0))
}
