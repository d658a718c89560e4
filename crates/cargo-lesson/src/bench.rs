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
//! the medians. Figures are rates: higher is better. (The scripts are shell scripts: on
//! Windows, run this from a Unix-like shell such as WSL.)

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use lesson_runner::{Running, Scratch, in_ci, tail};

use crate::names;
use crate::out::{pad, width};
use crate::run::{self, CTRL_C, Sig};
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
/// What builds the programs the benchmarks run (`--examples` too: a load generator, lesson
/// 12's burst, is an example), without `--quiet`.
const BUILD: &str = "build --release --workspace --bins --examples";

/// One benchmark script: NAME of scripts/bench-NAME (the lesson's package), and the
/// lesson's number, for the order of the table (unknown lessons last).
struct Script {
    name: String,
    path: PathBuf,
    number: u32,
}

/// One line of `rows`. `target`: the least lesson/reference ratio that meets it; `None`:
/// only reported.
struct Row {
    id: String,
    what: String,
    unit: String,
    labels: [String; 2],
    target: Option<f64>,
}

/// What became of a row: each side's median; a tool `prepare` said is missing
/// (`python3 (Debian package python3)`); or why it failed (a wrong answer, no figure).
enum RowResult {
    Measured([f64; 2]),
    Missing(String),
    Failed(String),
}

/// A line of the table: `script/row`, or the script alone when it failed before its rows.
struct Line {
    name: String,
    row: Option<Row>,
    result: RowResult,
}

pub fn bench(cli: &Cli, world: &World, args: &BenchArgs) -> Outcome {
    let timeout = crate::seconds(args.timeout, "--timeout")?;
    let dir = args.scripts_dir.clone();
    let dir = dir.unwrap_or_else(|| world.root.join("scripts"));
    let chosen = choose(world, discover(&dir, world)?, &args.names, &dir)?;
    let bin_dir = cli.bin_dir.clone();
    let bin_dir = bin_dir.unwrap_or_else(|| release_dir(&world.root));
    if !cli.no_build && cli.bin_dir.is_none() {
        build(&world.root)?;
    }
    if !bin_dir.is_dir() {
        let why = format!(
            "not built: {} does not exist (build in release, or leave out --no-build)",
            bin_dir.display()
        );
        return Err(Fail(1, why));
    }
    run::catch_ctrl_c();
    let (rounds, warmup) = (args.rounds, args.warmup);
    let quick = match args.quick {
        true => " (--quick: tiny sizes, targets not checked)",
        false => "",
    };
    eprintln!(
        "bench: {rounds} round(s) after {warmup} warm-up(s) of each side, lesson and reference in turn{quick}"
    );
    let bench = Bench {
        root: &world.root,
        bin_dir: &bin_dir,
        args,
        timeout,
    };
    let before = Cpu::now();
    let mut lines: Vec<Line> = Vec::new();
    for script in &chosen {
        lines.extend(bench.script(script)?);
    }
    say!(
        "{rounds} round(s) after {warmup} warm-up(s), medians; lesson and reference runs alternate. {}; {}.",
        machine(),
        before.others_since()
    );
    say!("\n{}", table(&lines, args.quick));

    // What makes the command fail, each named.
    let mut failures = Vec::new();
    for Line { name, result, .. } in &lines {
        match result {
            RowResult::Failed(why) => failures.push(format!("{name}: {why}")),
            RowResult::Missing(tool) if in_ci() => failures.push(format!(
                "{name}: missing {tool} (under CI=true a missing tool is a failure: install it)"
            )),
            RowResult::Missing(tool) => eprintln!("bench: {name}: not measured: missing {tool}"),
            RowResult::Measured(_) => {}
        }
    }
    if failures.is_empty() {
        return Ok(0);
    }
    let (n, all) = (failures.len(), failures.join("\n  "));
    Err(Fail(1, format!("{n} benchmark row(s) failed:\n  {all}")))
}

/// The lesson's number of a script, for the order of the table (unknown ones last).
fn number(world: &World, name: &str) -> u32 {
    let lesson = names::find(name, &world.lessons);
    lesson.and_then(|l| l.folder_number).unwrap_or(u32::MAX)
}

/// Every scripts/bench-NAME (a NAME without a dot: bench-lib.sh is a library), in the
/// lessons' order.
fn discover(dir: &Path, world: &World) -> Result<Vec<Script>, Fail> {
    let entries = fs::read_dir(dir);
    let entries = entries.map_err(|e| Fail(1, format!("cannot read {}: {e}", dir.display())))?;
    let mut scripts = Vec::new();
    for (entry, file) in entries.flatten().map(|e| (e.path(), e.file_name())) {
        let name = file.to_string_lossy();
        let Some(name) = name.strip_prefix("bench-") else {
            continue;
        };
        if !name.is_empty() && !name.contains('.') && entry.is_file() {
            let number = number(world, name);
            let (name, path) = (name.to_string(), entry);
            scripts.push(Script { name, path, number });
        }
    }
    scripts.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    if scripts.is_empty() {
        let why = format!("no benchmarks: no bench-NAME scripts in {}", dir.display());
        return Err(Fail(1, why));
    }
    Ok(scripts)
}

/// The scripts the names ask for (all of them for none), each once, in the lessons' order.
fn choose(
    world: &World,
    mut all: Vec<Script>,
    wanted: &[String],
    dir: &Path,
) -> Result<Vec<Script>, Fail> {
    if wanted.is_empty() {
        return Ok(all);
    }
    let mut packages = Vec::new();
    for name in wanted {
        let has = |package: &str| all.iter().any(|s| s.name == package);
        // The script's own name first (a benchmark may come before its lesson's folder),
        // then whatever names a lesson.
        let package = match names::find(name, &world.lessons) {
            _ if has(name) => name.clone(),
            Some(lesson) => lesson.package.clone(),
            None => {
                let unknown = || Fail(2, format!("no benchmark named {name:?}"));
                return Err(written(world, name).err().unwrap_or_else(unknown));
            }
        };
        if !has(&package) {
            let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
            let script = dir.join(format!("bench-{package}"));
            let why = format!(
                "lesson {package} has no benchmark (no {}); the benchmarks are: {}",
                script.display(),
                names.join(", ")
            );
            return Err(Fail(2, why));
        }
        packages.push(package);
    }
    all.retain(|s| packages.contains(&s.name));
    Ok(all)
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

fn build(root: &Path) -> Result<(), Fail> {
    eprintln!("bench: building in release: cargo {BUILD}");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(BUILD.split(' '))
        .arg("--quiet");
    let status = command.status();
    let status = status.map_err(|e| Fail(1, format!("cannot run cargo build: {e}")))?;
    match status.success() {
        true => Ok(()),
        false => Err(Fail(
            1,
            "cargo build --release failed (its errors are above)".into(),
        )),
    }
}

/// "2 cores, linux 6.1.0": what the figures depend on.
fn machine() -> String {
    let cores = thread::available_parallelism().map_or(0, usize::from);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores, {} {}", std::env::consts::OS, kernel.trim())
}

/// CPU time so far, in Linux's clock ticks of 1/100 s: the whole machine's, and this
/// process's with its children's. What the machine spent beyond ours during the run is
/// other work competing with the benchmarks. (The load average can't tell: the
/// threaded-server benchmark alone runs a thousand threads.) Without /proc (macOS,
/// Windows) it is unknown.
struct Cpu {
    at: Instant,
    ticks: Option<(u64, u64)>,
}

impl Cpu {
    fn now() -> Cpu {
        let read = |path: &str| fs::read_to_string(path).ok();
        // `cpu  user nice system idle iowait irq softirq steal ...`: busy is all but idle
        // and iowait; steal is time the host gave to other virtual machines.
        let machine = read("/proc/stat").and_then(|stat| {
            let fields = stat.lines().next()?.split_whitespace().skip(1).take(8);
            let fields: Vec<u64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
            let [user, nice, system, _idle, _iowait, irq, softirq, steal] = fields[..] else {
                return None;
            };
            Some(user + nice + system + irq + softirq + steal)
        });
        // /proc/self/stat after `(name)`: utime, stime, cutime, cstime are fields 12-15.
        let ours = read("/proc/self/stat").and_then(|stat| {
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            let fields = fields.get(11..15)?.iter();
            fields.map(|f| f.parse::<u64>().ok()).sum::<Option<u64>>()
        });
        let at = Instant::now();
        let ticks = machine.zip(ours);
        Cpu { at, ticks }
    }

    /// "other programs used 4% of the CPU meanwhile".
    fn others_since(&self) -> String {
        let now = Cpu::now();
        let cores = thread::available_parallelism().map_or(1, usize::from) as f64;
        let elapsed = now.at.duration_since(self.at).as_secs_f64() * 100.0 * cores;
        match (self.ticks, now.ticks) {
            (Some((m0, o0)), Some((m1, o1))) if elapsed > 0.0 => {
                let others = m1.saturating_sub(m0).saturating_sub(o1.saturating_sub(o0));
                let share = 100.0 * others as f64 / elapsed;
                format!("other programs used {share:.0}% of the CPU meanwhile")
            }
            _ => "no /proc: how busy the machine was is unknown".to_string(),
        }
    }
}

/// What every call of a script shares.
struct Bench<'a> {
    root: &'a Path,
    bin_dir: &'a Path,
    args: &'a BenchArgs,
    timeout: Duration,
}

/// How a call of a script ended: the exit code, or why there is none (a signal, the
/// deadline); and what it printed.
struct Call {
    code: Result<i32, String>,
    stdout: String,
    stderr: String,
}

impl Call {
    /// "exit 1: the reason it gave", for messages.
    fn failure(&self) -> String {
        let how = self
            .code
            .as_ref()
            .map_or_else(String::clone, |c| format!("exit {c}"));
        format!("{how}: {}", tail(&self.stderr))
    }
}

impl Bench<'_> {
    /// Every row of one script: rows, prepare, then warm-ups and rounds per row.
    fn script(&self, script: &Script) -> Result<Vec<Line>, Fail> {
        let line = |row: Option<Row>, result: RowResult| {
            let id = row
                .as_ref()
                .map(|r| format!("/{}", r.id))
                .unwrap_or_default();
            let name = format!("{}{id}", script.name);
            Line { name, row, result }
        };
        let failed = |why: String| Ok(vec![line(None, RowResult::Failed(why))]);
        let listed = self.call(script, &["rows"], ROWS_TIMEOUT)?;
        if listed.code != Ok(0) {
            return failed(format!("`rows` failed: {}", listed.failure()));
        }
        let rows = match parse_rows(&listed.stdout) {
            Ok(rows) => rows,
            Err(why) => return failed(why),
        };
        let dir = Scratch::new(&format!("bench-{}", script.name));
        let dir_arg = dir.path().to_string_lossy().into_owned();
        let mut prepare = vec!["prepare", dir_arg.as_str()];
        if self.args.quick {
            prepare.push("--quick");
        }
        eprintln!("bench: {}: prepare", script.name);
        let prepared = self.call(script, &prepare, self.timeout)?;
        match prepared.code {
            Ok(0) => {}
            Ok(3) => {
                let tool = missing_tool(&prepared.stderr);
                let missing = |row| line(Some(row), RowResult::Missing(tool.clone()));
                return Ok(rows.into_iter().map(missing).collect());
            }
            _ => return failed(format!("`prepare` failed: {}", prepared.failure())),
        }
        let mut lines = Vec::new();
        for row in rows {
            let result = self.row(script, &dir_arg, &row)?;
            lines.push(line(Some(row), result));
        }
        Ok(lines)
    }

    /// One row: the warm-up pairs, then the measured ones, lesson first in each pair, and
    /// each side's median. The first wrong answer ends the row.
    fn row(&self, script: &Script, dir: &str, row: &Row) -> Result<RowResult, Fail> {
        let (warmup, rounds) = (self.args.warmup, self.args.rounds);
        let name = format!("{}/{}", script.name, row.id);
        let mut figures: [Vec<f64>; 2] = Default::default();
        for round in 0..warmup + rounds {
            let when = match round.checked_sub(warmup) {
                Some(counted) => format!("round {}/{rounds}", counted + 1),
                None => format!("warm-up {}/{warmup}", round + 1),
            };
            for (i, (side, label)) in SIDES.iter().zip(&row.labels).enumerate() {
                let call = self.call(script, &["once", dir, &row.id, side], self.timeout)?;
                let figure = match call.code {
                    Ok(0) => parse_figure(&call.stdout),
                    _ => Err(call.failure()),
                };
                let figure = match figure {
                    Ok(figure) => figure,
                    Err(why) => {
                        let why = format!("{side} ({label}): {why}");
                        eprintln!("bench: {name}  {when}  {side}: FAILED: {why}");
                        return Ok(RowResult::Failed(why));
                    }
                };
                eprintln!(
                    "bench: {name}  {when}  {side:9} {} {}",
                    amount(figure),
                    row.unit
                );
                if round >= warmup {
                    figures[i].push(figure);
                }
            }
        }
        Ok(RowResult::Measured(figures.map(median)))
    }

    /// Run the script with these arguments in its own process group, with BENCH_BIN_DIR
    /// set, and wait (at most `timeout`). Ctrl-C stops it and ends the command (130).
    fn call(&self, script: &Script, args: &[&str], timeout: Duration) -> Result<Call, Fail> {
        let mut command = Command::new(&script.path);
        command.args(args).current_dir(self.root);
        command.env("BENCH_BIN_DIR", self.bin_dir);
        // Its own process group: the servers it starts in the background are in it too,
        // so stopping the group leaves none behind.
        run::own_group(&mut command);
        let seen = CTRL_C.load(Ordering::SeqCst);
        let running = Running::spawn(command);
        let path = script.path.display();
        let mut running = running.map_err(|e| Fail(1, format!("{path}: {e}")))?;
        let deadline = Instant::now() + timeout;
        let code = loop {
            if let Some(status) = running.try_status().ok().flatten() {
                break status
                    .code()
                    .ok_or_else(|| run::describe(status, false, false));
            }
            let interrupted = CTRL_C.load(Ordering::SeqCst) > seen;
            if interrupted || Instant::now() >= deadline {
                // SIGTERM to the group (the script's trap stops its servers), SIGKILL
                // after the grace period.
                run::signal(&mut running, Sig::Term);
                let until = Instant::now() + GRACE;
                while Instant::now() < until && running.try_status().ok().flatten().is_none() {
                    thread::sleep(TICK);
                }
                run::signal(&mut running, Sig::Kill);
                if interrupted {
                    return Err(Fail(130, "interrupted (Ctrl-C)".into()));
                }
                break Err(format!("still running after {timeout:?}, stopped"));
            }
            // The exit has no descriptor to wait on; the output pipes close with it.
            if running.wait_output_closed(TICK) {
                thread::sleep(Duration::from_millis(1));
            }
        };
        // Anything the script left running (a server its trap missed) goes now.
        run::signal(&mut running, Sig::Kill);
        running.wait_output_closed(Duration::from_secs(1));
        let (stdout, stderr) = (running.stdout(), running.stderr());
        if self.args.verbose {
            stderr.lines().for_each(|line| eprintln!("    {line}"));
        }
        Ok(Call {
            code,
            stdout,
            stderr,
        })
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
        let at = format!("`rows` line {}", n + 1);
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [id, what, unit, lesson, reference, target] = fields[..] else {
            return Err(format!(
                "{at}: {} tab-separated fields, not 6 (ID, what, unit, lesson label, reference label, target): {line:?}",
                fields.len()
            ));
        };
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(format!("{at}: the ID {id:?} must be one word"));
        }
        let target = match target.parse::<f64>() {
            _ if target == "-" => None,
            Ok(t) if t.is_finite() && t > 0.0 => Some(t),
            _ => {
                let why = "is neither a positive number nor -";
                return Err(format!("{at}: the target {target:?} {why}"));
            }
        };
        let (id, what, unit) = (id.into(), what.into(), unit.into());
        let labels = [lesson.into(), reference.into()];
        rows.push(Row {
            id,
            what,
            unit,
            labels,
            target,
        });
    }
    match rows.is_empty() {
        true => Err("`rows` listed no rows".into()),
        false => Ok(rows),
    }
}

/// The figure: the last non-empty line of stdout, a number not below zero.
fn parse_figure(stdout: &str) -> Result<f64, String> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    let last = last.ok_or_else(|| "it printed no figure".to_string())?;
    match last.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!(
            "its last line should be the figure, a number: {last:?}"
        )),
    }
}

/// `python3 (Debian package python3)` out of prepare's `missing: ...` line.
fn missing_tool(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("missing:"));
    match line.map(str::trim).filter(|t| !t.is_empty()) {
        Some(tool) => tool.to_string(),
        None => format!(
            "a tool (prepare exit 3 without a `missing: TOOL` line: {})",
            tail(stderr)
        ),
    }
}

/// The middle value; for an even count, the mean of the two middle ones.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ => (values[(n - 1) / 2] + values[n / 2]) / 2.0,
    }
}

/// A figure as a person reads it: `3,330,488`, `812`, `45.3`, `0.87`.
fn amount(x: f64) -> String {
    if x < 1000.0 {
        return format!("{x:.*}", decimals(x, 100.0, 10.0));
    }
    let digits = format!("{x:.0}");
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// How many decimals to show: none from `none` up, one from `one` up, else two.
fn decimals(x: f64, none: f64, one: f64) -> usize {
    usize::from(x < none) + usize::from(x < one)
}

/// A ratio as `38.3×`.
fn times(x: f64) -> String {
    format!("{x:.*}×", decimals(x, 100.0, 1.0))
}

/// The markdown table, its columns padded so it reads in a terminal too.
fn table(lines: &[Line], quick: bool) -> String {
    let header = "benchmark|what|lesson median|reference median|ratio|target|met?";
    let mut cells: Vec<Vec<String>> = vec![header.split('|').map(String::from).collect()];
    for line in lines {
        let Some(row) = &line.row else {
            let mut failed = vec!["—".to_string(); 7];
            failed[0] = line.name.clone();
            failed[6] = "FAILED (see below)".into();
            cells.push(failed);
            continue;
        };
        let side = |i: usize, value: Option<f64>| match value {
            Some(v) => format!("{} {} ({})", amount(v), row.unit, row.labels[i]),
            None => format!("— ({})", row.labels[i]),
        };
        let target = row
            .target
            .map_or_else(|| "— (reported)".into(), |t| format!("≥ {t}×"));
        let (lesson, reference, ratio, met) = match &line.result {
            RowResult::Measured([l, r]) => {
                let ratio = (*r > 0.0).then(|| l / r);
                let met = match (row.target, ratio) {
                    (None, _) => "—",
                    (Some(_), _) if quick => "not checked (--quick)",
                    (Some(t), Some(x)) if x >= t => "yes",
                    (Some(_), _) => "NO",
                };
                let ratio = ratio.map_or_else(|| "—".into(), times);
                (side(0, Some(*l)), side(1, Some(*r)), ratio, met)
            }
            RowResult::Missing(tool) => (
                side(0, None),
                format!("missing: {tool}"),
                "—".into(),
                "not measured",
            ),
            RowResult::Failed(_) => (
                side(0, None),
                side(1, None),
                "—".into(),
                "FAILED (see below)",
            ),
        };
        let (name, what) = (line.name.clone(), row.what.clone());
        cells.push(vec![
            name,
            what,
            lesson,
            reference,
            ratio,
            target,
            met.into(),
        ]);
    }
    let column = |c: usize| cells.iter().map(|r| width(&r[c])).max().unwrap_or(0);
    let widths: Vec<usize> = (0..7).map(column).collect();
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
        assert_eq!(times(138.34), "138×");
        assert_eq!(times(38.34), "38.3×");
        assert_eq!(times(1.5), "1.5×");
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
