//! `cargo lesson bench [NAME...]`: every benchmark of the workspace, one table.
//!
//! A benchmark is a script `scripts/bench-NAME` (NAME: the lesson's package) that keeps a
//! small contract (crates/cargo-lesson/README.md, "Benchmarks"):
//!
//! - `rows`: one tab-separated line per comparison: ID, what, unit, the lesson's label,
//!   the reference's label, the target (the least lesson/reference ratio, or `-`);
//! - `prepare DIR [--quick]`: make the fixtures in the empty folder DIR; exit 3 with
//!   `missing: TOOL (Debian package PKG)` when a reference tool is not installed;
//! - `once DIR ID lesson|reference`: one measured run of one side; it checks the answer
//!   (a wrong one is exit 1) and prints the figure, a rate, as its last line.
//!
//! This command builds the workspace in release once, and for each script: prepares a
//! fresh temporary folder (removed afterwards), runs the warm-ups, then the measured
//! rounds, lesson and reference in turn (A B A B ...) so that a machine that slows down
//! or speeds up during the run affects both sides alike, and prints one markdown table of
//! the medians. Figures are rates: higher is better.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use lesson_runner::{Running, in_ci, tail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::names;
use crate::out::{pad, width};
use crate::run::{self, CTRL_C};
use crate::{Cli, Fail, Outcome, World, written};

#[derive(Args)]
pub struct BenchArgs {
    /// Only these benchmarks: a lesson (package, folder, number or program) with a
    /// scripts/bench-PACKAGE. Default: every scripts/bench-* there is.
    names: Vec<String>,
    /// Tiny sizes, for a smoke run that takes seconds; the targets are not checked.
    #[arg(long)]
    quick: bool,
    /// Measured runs of each side of each row; the table shows their median.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Runs of each side before the measured ones, not counted (they fill caches and
    /// wake the CPU up).
    #[arg(long, value_name = "N", default_value_t = 1)]
    warmup: u32,
    /// The folder of the bench-NAME scripts (default: scripts/ beside the lessons folder).
    #[arg(long, value_name = "DIR")]
    scripts_dir: Option<PathBuf>,
    /// The longest one call of a script may take before it is stopped (a failure).
    #[arg(long, value_name = "SECS", default_value = "600")]
    timeout: f64,
    /// Show what each call of a script says on stderr (timings, connect times, memory).
    #[arg(long, short)]
    verbose: bool,
}

/// How often a running script is looked at (for its end, Ctrl-C and the deadline).
const TICK: Duration = Duration::from_millis(10);
/// Between SIGTERM to a script's process group and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// `rows` only prints: it gets this long.
const ROWS_TIMEOUT: Duration = Duration::from_secs(30);
/// The two sides of a row, in the order every round runs them.
const SIDES: [&str; 2] = ["lesson", "reference"];

/// One benchmark script.
struct Script {
    /// NAME of scripts/bench-NAME: the lesson's package.
    name: String,
    path: PathBuf,
    /// The lesson's number, for the order of the table (unknown lessons last).
    number: u32,
}

/// One line of `rows`.
struct Row {
    id: String,
    what: String,
    unit: String,
    labels: [String; 2],
    /// The least lesson/reference ratio that meets the target; `None`: only reported.
    target: Option<f64>,
}

/// What became of a row.
enum RowResult {
    /// Each side's medians.
    Measured([f64; 2]),
    /// `prepare` said a tool is missing: `python3 (Debian package python3)`.
    Missing(String),
    /// A wrong answer, a crash, no figure: the reason.
    Failed(String),
}

/// A line of the table, ready to print.
struct Line {
    benchmark: String,
    row: Option<Row>,
    result: RowResult,
}

pub fn bench(cli: &Cli, world: &World, args: &BenchArgs) -> Outcome {
    let timeout = crate::seconds(args.timeout, "--timeout")?;
    let scripts_dir = args
        .scripts_dir
        .clone()
        .unwrap_or_else(|| world.root.join("scripts"));
    let all = discover(&scripts_dir, world)?;
    let chosen = choose(world, &all, &args.names, &scripts_dir)?;

    let bin_dir = match &cli.bin_dir {
        Some(dir) => dir.clone(),
        None => release_dir(&world.root),
    };
    if !cli.no_build && cli.bin_dir.is_none() {
        build(&world.root)?;
    }
    if !bin_dir.is_dir() {
        return Err(Fail(
            1,
            format!(
                "not built: {} does not exist (build in release, or leave out --no-build)",
                bin_dir.display()
            ),
        ));
    }
    run::catch_ctrl_c();
    let bench = Bench {
        root: &world.root,
        bin_dir: &bin_dir,
        quick: args.quick,
        timeout,
        verbose: args.verbose,
    };
    eprintln!(
        "bench: {} round(s) after {} warm-up(s) of each side, lesson and reference in turn{}",
        args.rounds,
        args.warmup,
        if args.quick {
            " (--quick: tiny sizes, targets not checked)"
        } else {
            ""
        }
    );

    let before = Cpu::now();
    let mut lines: Vec<Line> = Vec::new();
    for script in &chosen {
        lines.extend(bench.script(script, args.warmup, args.rounds)?);
    }

    say!(
        "{} round(s) after {} warm-up(s), medians; lesson and reference runs alternate. {}; {}.",
        args.rounds,
        args.warmup,
        machine(),
        before.others_since()
    );
    say!("");
    say!("{}", table(&lines, args.quick));

    // What makes the command fail, each named.
    let mut failures = Vec::new();
    for line in &lines {
        let name = match &line.row {
            Some(row) => format!("{}/{}", line.benchmark, row.id),
            None => line.benchmark.clone(),
        };
        match &line.result {
            RowResult::Failed(why) => failures.push(format!("{name}: {why}")),
            RowResult::Missing(tool) if in_ci() => failures.push(format!(
                "{name}: missing {tool} (under CI=true a missing tool is a failure: install it)"
            )),
            RowResult::Missing(tool) => {
                eprintln!("bench: {name}: not measured: missing {tool}");
            }
            RowResult::Measured(_) => {}
        }
    }
    if failures.is_empty() {
        return Ok(0);
    }
    Err(Fail(
        1,
        format!(
            "{} benchmark row(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        ),
    ))
}

/// Every scripts/bench-NAME (a NAME without a dot: bench-lib.sh is a library), in the
/// lessons' order.
fn discover(dir: &Path, world: &World) -> Result<Vec<Script>, Fail> {
    let entries =
        fs::read_dir(dir).map_err(|e| Fail(1, format!("cannot read {}: {e}", dir.display())))?;
    let mut scripts: Vec<Script> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            let name = file.strip_prefix("bench-")?;
            if name.is_empty() || name.contains('.') || !entry.path().is_file() {
                return None;
            }
            let lesson = names::find(name, &world.lessons);
            let number = lesson.and_then(|l| l.folder_number).unwrap_or(u32::MAX);
            Some(Script {
                name: name.to_string(),
                path: entry.path(),
                number,
            })
        })
        .collect();
    scripts.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    if scripts.is_empty() {
        return Err(Fail(
            1,
            format!("no benchmarks: no bench-NAME scripts in {}", dir.display()),
        ));
    }
    Ok(scripts)
}

/// The scripts the names ask for (all of them for none), each once, in the lessons' order.
fn choose<'a>(
    world: &World,
    all: &'a [Script],
    wanted: &[String],
    dir: &Path,
) -> Result<Vec<&'a Script>, Fail> {
    if wanted.is_empty() {
        return Ok(all.iter().collect());
    }
    let have = || {
        all.iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut chosen: Vec<&Script> = Vec::new();
    for name in wanted {
        // The script's own name first (a benchmark may come before its lesson's folder),
        // then whatever names a lesson.
        let package = match names::find(name, &world.lessons) {
            _ if all.iter().any(|s| s.name == *name) => name.clone(),
            Some(lesson) => lesson.package.clone(),
            None => {
                return Err(written(world, name)
                    .err()
                    .unwrap_or_else(|| Fail(2, format!("no benchmark named {name:?}"))));
            }
        };
        let Some(script) = all.iter().find(|s| s.name == package) else {
            return Err(Fail(
                2,
                format!(
                    "lesson {package} has no benchmark (no {}); the benchmarks are: {}",
                    dir.join(format!("bench-{package}")).display(),
                    have()
                ),
            ));
        };
        if !chosen.iter().any(|s| s.name == script.name) {
            chosen.push(script);
        }
    }
    chosen.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    Ok(chosen)
}

/// Where `cargo build --release` puts the programs: $CARGO_TARGET_DIR/release, else
/// release/ beside the folder this program runs from (target/debug/lesson), else
/// target/release of the workspace.
fn release_dir(root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return root.join(dir).join("release");
    }
    let exe = std::env::current_exe().unwrap_or_default();
    match exe.parent() {
        Some(dir) if dir.ends_with("debug") || dir.ends_with("release") => {
            dir.with_file_name("release")
        }
        _ => root.join("target/release"),
    }
}

/// The command that builds what the benchmarks run. `--examples` too: a load generator
/// (lesson 12's burst) is an example, not one of the lesson's programs.
const BUILD: [&str; 6] = [
    "build",
    "--release",
    "--workspace",
    "--bins",
    "--examples",
    "--quiet",
];

fn build(root: &Path) -> Result<(), Fail> {
    eprintln!(
        "bench: building in release: cargo {}",
        BUILD[..BUILD.len() - 1].join(" ")
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(BUILD)
        .status()
        .map_err(|e| Fail(1, format!("cannot run cargo build: {e}")))?;
    if !status.success() {
        return Err(Fail(
            1,
            "cargo build --release failed (its errors are above)".into(),
        ));
    }
    Ok(())
}

/// "2 cores, linux 6.1.0": what the figures depend on.
fn machine() -> String {
    let cores = thread::available_parallelism().map_or(0, usize::from);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores, {} {}", std::env::consts::OS, kernel.trim())
}

/// CPU time so far: the whole machine's, and this process's with its children's (Linux
/// counts both in clock ticks of 1/100 s). What the machine spent beyond ours during the
/// run is other work competing with the benchmarks. (The load average can't tell: the
/// threaded-server benchmark alone runs a thousand threads.)
struct Cpu {
    at: Instant,
    machine: Option<u64>,
    ours: Option<u64>,
}

impl Cpu {
    fn now() -> Cpu {
        // `cpu  user nice system idle iowait irq softirq steal ...`: busy is all but idle
        // and iowait; steal is time the host gave to other virtual machines.
        let machine = fs::read_to_string("/proc/stat").ok().and_then(|stat| {
            let fields: Vec<u64> = stat
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .take(8)
                .map(|f| f.parse().ok())
                .collect::<Option<_>>()?;
            let [user, nice, system, _idle, _iowait, irq, softirq, steal] = fields[..] else {
                return None;
            };
            Some(user + nice + system + irq + softirq + steal)
        });
        // /proc/self/stat after `(name)`: utime, stime, cutime, cstime are fields 12-15.
        let ours = fs::read_to_string("/proc/self/stat").ok().and_then(|stat| {
            let after = &stat[stat.rfind(')')? + 1..];
            let fields: Vec<&str> = after.split_whitespace().collect();
            fields
                .get(11..15)?
                .iter()
                .map(|f| f.parse::<u64>().ok())
                .sum::<Option<u64>>()
        });
        Cpu {
            at: Instant::now(),
            machine,
            ours,
        }
    }

    /// "other programs used 4% of the CPU meanwhile".
    fn others_since(&self) -> String {
        let now = Cpu::now();
        let cores = thread::available_parallelism().map_or(1, usize::from) as f64;
        let elapsed = now.at.duration_since(self.at).as_secs_f64() * 100.0 * cores;
        match (self.machine, now.machine, self.ours, now.ours) {
            (Some(m0), Some(m1), Some(o0), Some(o1)) if elapsed > 0.0 => {
                let others = m1.saturating_sub(m0).saturating_sub(o1.saturating_sub(o0));
                format!(
                    "other programs used {:.0}% of the CPU meanwhile",
                    100.0 * others as f64 / elapsed
                )
            }
            _ => "no /proc: how busy the machine was is unknown".to_string(),
        }
    }
}

/// What every call of a script shares.
struct Bench<'a> {
    root: &'a Path,
    bin_dir: &'a Path,
    quick: bool,
    timeout: Duration,
    verbose: bool,
}

/// How a call of a script ended.
struct Call {
    /// The exit code, or why there is none (a signal, the deadline).
    code: Result<i32, String>,
    stdout: String,
    stderr: String,
}

impl Call {
    /// "exit 1: the reason it gave", for messages.
    fn failure(&self) -> String {
        let how = match &self.code {
            Ok(code) => format!("exit {code}"),
            Err(why) => why.clone(),
        };
        format!("{how}: {}", tail(&self.stderr))
    }
}

/// A temporary folder, removed when dropped (also after a failure or Ctrl-C).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

impl Bench<'_> {
    /// Every row of one script: rows, prepare, then warm-ups and rounds per row.
    fn script(&self, script: &Script, warmup: u32, rounds: u32) -> Result<Vec<Line>, Fail> {
        let line = |row: Option<Row>, result: RowResult| Line {
            benchmark: script.name.clone(),
            row,
            result,
        };
        let listed = self.call(script, &["rows"], ROWS_TIMEOUT)?;
        if listed.code != Ok(0) {
            let why = format!("`rows` failed: {}", listed.failure());
            return Ok(vec![line(None, RowResult::Failed(why))]);
        }
        let rows = match parse_rows(&listed.stdout) {
            Ok(rows) => rows,
            Err(why) => return Ok(vec![line(None, RowResult::Failed(why))]),
        };

        let dir = TempDir(std::env::temp_dir().join(format!(
            "lesson-bench-{}-{}",
            std::process::id(),
            script.name
        )));
        let _ = fs::remove_dir_all(&dir.0);
        fs::create_dir_all(&dir.0)
            .map_err(|e| Fail(1, format!("cannot create {}: {e}", dir.0.display())))?;
        let dir_arg = dir.0.to_string_lossy().into_owned();
        let mut prepare = vec!["prepare", dir_arg.as_str()];
        if self.quick {
            prepare.push("--quick");
        }
        eprintln!("bench: {}: prepare", script.name);
        let prepared = self.call(script, &prepare, self.timeout)?;
        match prepared.code {
            Ok(0) => {}
            Ok(3) => {
                let tool = missing_tool(&prepared.stderr);
                return Ok(rows
                    .into_iter()
                    .map(|row| line(Some(row), RowResult::Missing(tool.clone())))
                    .collect());
            }
            _ => {
                let why = format!("`prepare` failed: {}", prepared.failure());
                return Ok(vec![line(None, RowResult::Failed(why))]);
            }
        }

        let mut lines = Vec::new();
        for row in rows {
            let result = self.row(script, &dir_arg, &row, warmup, rounds)?;
            lines.push(line(Some(row), result));
        }
        Ok(lines)
    }

    /// One row: `warmup` unmeasured pairs, then `rounds` measured ones, lesson first in
    /// each pair, and each side's median. The first wrong answer ends the row.
    fn row(
        &self,
        script: &Script,
        dir: &str,
        row: &Row,
        warmup: u32,
        rounds: u32,
    ) -> Result<RowResult, Fail> {
        let name = format!("{}/{}", script.name, row.id);
        let mut figures: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for round in 0..warmup + rounds {
            let counted = round >= warmup;
            let when = if counted {
                format!("round {}/{rounds}", round - warmup + 1)
            } else {
                format!("warm-up {}/{warmup}", round + 1)
            };
            for (side, label) in SIDES.iter().zip(&row.labels) {
                let call = self.call(script, &["once", dir, &row.id, side], self.timeout)?;
                let figure = match call.code {
                    Ok(0) => parse_figure(&call.stdout),
                    _ => Err(call.failure()),
                }
                .map_err(|why| format!("{side} ({label}): {why}"));
                let figure = match figure {
                    Ok(figure) => figure,
                    Err(why) => {
                        eprintln!("bench: {name}  {when}  {side}: FAILED: {why}");
                        return Ok(RowResult::Failed(why));
                    }
                };
                eprintln!(
                    "bench: {name}  {when}  {side:9} {} {}",
                    amount(figure),
                    row.unit
                );
                if counted {
                    figures[usize::from(*side == "reference")].push(figure);
                }
            }
        }
        let [lesson, reference] = figures;
        Ok(RowResult::Measured([median(lesson), median(reference)]))
    }

    /// Run the script with these arguments in its own process group, with BENCH_BIN_DIR
    /// set, and wait (at most `timeout`). Ctrl-C stops it and ends the command (130).
    fn call(&self, script: &Script, args: &[&str], timeout: Duration) -> Result<Call, Fail> {
        let mut command = Command::new(&script.path);
        command
            .args(args)
            .current_dir(self.root)
            .env("BENCH_BIN_DIR", self.bin_dir)
            // Its own process group: the servers it starts in the background are in it
            // too, so stopping the group leaves none behind.
            .process_group(0);
        let seen = CTRL_C.load(Ordering::SeqCst);
        let mut running = Running::spawn(command)
            .map_err(|e| Fail(1, format!("{}: {e}", script.path.display())))?;
        let group = Pid::from_raw(i32::try_from(running.pid()).unwrap_or(i32::MAX));
        let deadline = Instant::now() + timeout;
        let code = loop {
            if let Some(status) = running.try_status().ok().flatten() {
                break describe(status);
            }
            if CTRL_C.load(Ordering::SeqCst) > seen {
                stop(&mut running, group);
                return Err(Fail(130, "interrupted (Ctrl-C)".into()));
            }
            if Instant::now() >= deadline {
                stop(&mut running, group);
                break Err(format!("still running after {timeout:?}, stopped"));
            }
            // The exit has no descriptor to wait on; the output pipes close with it.
            if running.wait_output_closed(TICK) {
                thread::sleep(Duration::from_millis(1));
            }
        };
        // Anything the script left running (a server its trap missed) goes now.
        let _ = killpg(group, Signal::SIGKILL);
        running.wait_output_closed(Duration::from_secs(1));
        if self.verbose {
            for line in running.stderr().lines() {
                eprintln!("    {line}");
            }
        }
        Ok(Call {
            code,
            stdout: running.stdout(),
            stderr: running.stderr(),
        })
    }
}

/// SIGTERM to the script's group (its trap stops its servers), SIGKILL after the grace.
fn stop(running: &mut Running, group: Pid) {
    let _ = killpg(group, Signal::SIGTERM);
    let until = Instant::now() + GRACE;
    while Instant::now() < until {
        if running.try_status().ok().flatten().is_some() {
            break;
        }
        thread::sleep(TICK);
    }
    let _ = killpg(group, Signal::SIGKILL);
}

fn describe(status: ExitStatus) -> Result<i32, String> {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ok(code),
        (None, Some(signal)) => Err(format!("killed by signal {signal}")),
        (None, None) => Err("ended without an exit status".into()),
    }
}

/// The rows a script lists: six tab-separated fields per line.
fn parse_rows(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [id, what, unit, lesson, reference, target] = fields[..] else {
            return Err(format!(
                "`rows` line {}: {} tab-separated fields, not 6 (ID, what, unit, lesson label, reference label, target): {line:?}",
                n + 1,
                fields.len()
            ));
        };
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(format!(
                "`rows` line {}: the ID {id:?} must be one word",
                n + 1
            ));
        }
        let target = match target {
            "-" => None,
            number => match number.parse::<f64>() {
                Ok(t) if t.is_finite() && t > 0.0 => Some(t),
                _ => {
                    return Err(format!(
                        "`rows` line {}: the target {number:?} is neither a positive number nor -",
                        n + 1
                    ));
                }
            },
        };
        rows.push(Row {
            id: id.into(),
            what: what.into(),
            unit: unit.into(),
            labels: [lesson.into(), reference.into()],
            target,
        });
    }
    if rows.is_empty() {
        return Err("`rows` listed no rows".into());
    }
    Ok(rows)
}

/// The figure: the last non-empty line of stdout, a number not below zero.
fn parse_figure(stdout: &str) -> Result<f64, String> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    match last.map(|l| (l, l.trim().parse::<f64>())) {
        Some((_, Ok(x))) if x.is_finite() && x >= 0.0 => Ok(x),
        Some((line, _)) => Err(format!(
            "its last line should be the figure, a number: {line:?}"
        )),
        None => Err("it printed no figure".into()),
    }
}

/// `python3 (Debian package python3)` out of prepare's `missing: ...` line.
fn missing_tool(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("missing:"))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| {
            format!(
                "a tool (prepare exit 3 without a `missing: TOOL` line: {})",
                tail(stderr)
            )
        })
}

/// The middle value; for an even count, the mean of the two middle ones.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// A figure as a person reads it: `3,330,488`, `812`, `45.3`, `0.87`.
fn amount(x: f64) -> String {
    if x >= 1000.0 {
        let digits = format!("{x:.0}");
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        grouped
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A ratio as `38.3×`.
fn times(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 1.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

/// The markdown table, its columns padded so it reads in a terminal too.
fn table(lines: &[Line], quick: bool) -> String {
    let mut cells: Vec<[String; 7]> = vec![[
        "benchmark".into(),
        "what".into(),
        "lesson median".into(),
        "reference median".into(),
        "ratio".into(),
        "target".into(),
        "met?".into(),
    ]];
    for line in lines {
        let Some(row) = &line.row else {
            cells.push([
                line.benchmark.clone(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "FAILED (see below)".into(),
            ]);
            continue;
        };
        let target = row
            .target
            .map_or_else(|| "— (reported)".into(), |t| format!("≥ {t}×"));
        let side = |value: f64, label: &str| format!("{} {} ({label})", amount(value), row.unit);
        let (lesson, reference, ratio, met) = match &line.result {
            RowResult::Measured([l, r]) => {
                let ratio = (*r > 0.0).then(|| l / r);
                let met = match (row.target, ratio) {
                    (None, _) => "—".to_string(),
                    (Some(_), _) if quick => "not checked (--quick)".to_string(),
                    (Some(t), Some(x)) if x >= t => "yes".to_string(),
                    (Some(_), _) => "NO".to_string(),
                };
                (
                    side(*l, &row.labels[0]),
                    side(*r, &row.labels[1]),
                    ratio.map_or_else(|| "—".into(), times),
                    met,
                )
            }
            RowResult::Missing(tool) => (
                format!("— ({})", row.labels[0]),
                format!("missing: {tool}"),
                "—".into(),
                "not measured".into(),
            ),
            RowResult::Failed(_) => (
                format!("— ({})", row.labels[0]),
                format!("— ({})", row.labels[1]),
                "—".into(),
                "FAILED (see below)".into(),
            ),
        };
        cells.push([
            format!("{}/{}", line.benchmark, row.id),
            row.what.clone(),
            lesson,
            reference,
            ratio,
            target,
            met,
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| cells.iter().map(|r| width(&r[c])).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for (i, row) in cells.iter().enumerate() {
        let padded: Vec<String> = row.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        text.push_str(&format!("| {} |\n", padded.join(" | ")));
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            text.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        }
    }
    text.pop();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_amounts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(amount(3_330_488.4), "3,330,488");
        assert_eq!(amount(1000.0), "1,000");
        assert_eq!(amount(812.3), "812");
        assert_eq!(amount(45.26), "45.3");
        assert_eq!(amount(0.871), "0.87");
        assert_eq!(times(38.34), "38.3×");
        assert_eq!(times(0.8), "0.80×");
    }

    #[test]
    fn rows_need_six_fields_and_a_target() {
        let rows = parse_rows("frames\tframes through a pipe\tframes/s\tRust\tPython\t5\n")
            .expect("one good row");
        assert_eq!(rows[0].target, Some(5.0));
        assert_eq!(rows[0].labels, ["Rust", "Python"]);
        assert!(parse_rows("a\tb\tc\n").is_err());
        assert!(parse_rows("a\tb\tc\td\te\tlots\n").is_err());
        assert!(parse_rows("").is_err());
        let reported = parse_rows("x\tw\tMB/s\tRust\tloopback\t-").expect("a reported row");
        assert_eq!(reported[0].target, None);
    }

    #[test]
    fn the_figure_is_the_last_line() {
        assert_eq!(parse_figure("checking...\n123.5\n\n"), Ok(123.5));
        assert!(parse_figure("").is_err());
        assert!(parse_figure("12 frames/s\n").is_err());
        assert!(parse_figure("-1\n").is_err());
        assert_eq!(
            missing_tool("x\nmissing: tftp (Debian package tftp-hpa)\n"),
            "tftp (Debian package tftp-hpa)"
        );
    }
}
