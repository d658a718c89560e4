//! What the `lesson` command knows about a lesson: its folder, the binaries of its package,
//! and its `[package.metadata.lesson]`, the one place a lesson's number, title, course
//! section, summary and demo are written. serde reads the metadata into the structs below;
//! `deny_unknown_fields` makes a misspelt key (`stdn`) an error that names its line.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A lesson folder `lessons/NN-name/` as it is on disk.
#[derive(Debug, Default)]
pub struct Lesson {
    pub dir: PathBuf,
    /// `01-tcp-client-v1`
    pub folder: String,
    /// The `NN` of the folder name, if it has one.
    pub folder_number: Option<u32>,
    /// `[package] name`.
    pub package: String,
    /// The binaries Cargo builds for this package, as Cargo names them.
    pub binaries: Vec<String>,
    /// `[package.metadata.lesson]`; all `None` if it could not be read.
    pub meta: Meta,
    /// Everything wrong with the folder's Cargo.toml and metadata.
    pub problems: Vec<String>,
}

/// `[package.metadata.lesson]`. Every field is required (a missing one is reported by
/// [`read_manifest`]); they are `Option`s so that a lesson missing one still shows the rest.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub number: Option<u32>,
    pub title: Option<String>,
    pub section: Option<String>,
    pub summary: Option<String>,
    pub demo: Option<Demo>,
}

/// `[package.metadata.lesson.demo]`: what `cargo lesson run` starts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Demo {
    pub protocol: Protocol,
    pub servers: Vec<Program>,
    pub clients: Vec<Program>,
    #[serde(deserialize_with = "expect_lines")]
    pub expect: Vec<Expect>,
    #[serde(rename = "timeout_secs", default = "thirty_seconds")]
    #[serde(deserialize_with = "seconds")]
    pub timeout: Duration,
    pub transcript: Compare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

/// How a recorded transcript is compared with a fresh run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    /// Each side's lines, in order (the sides may interleave differently).
    #[default]
    PerSide,
    /// Each side's lines in any order (for lessons whose threads print in varying order).
    Unordered,
}

/// How a server is stopped once the clients are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stop {
    /// Ctrl-C (SIGINT), then SIGKILL if it is still there after the grace period.
    #[default]
    Interrupt,
    /// The server ends by itself (for example after its one client); wait for it.
    Exit,
}

/// Where a demo program starts (its current folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cwd {
    /// The workspace (the folder that holds `lessons/`), wherever `cargo lesson` was
    /// started: a demo's paths are relative to it (`lessons/15-http-get-v1/site`).
    #[default]
    Workspace,
    /// A fresh empty folder made for this run and removed after it, shared by every
    /// program of the run that asks for one: for programs that save files.
    Scratch,
}

/// One server or client entry of the demo (crates/cargo-lesson/README.md has every key).
/// Keys left out take their type's default, except `close_stdin` (true) and `count` (1).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Program {
    /// A program that a lesson of the workspace builds (`bin = "..."`), or, when
    /// `on_path`, one installed on the machine and found on PATH (`program = "python3"`).
    pub bin: String,
    program: Option<String>,
    #[serde(skip)]
    pub on_path: bool,
    pub cwd: Cwd,
    pub args: Vec<String>,
    /// Appended to `args` when the relay re-cuts the stream (`--wire --split N`).
    pub split_args: Vec<String>,
    pub stdin: Option<String>,
    /// Milliseconds to wait before each line of `stdin` after the first (a person typing).
    pub pause_ms: u64,
    #[serde(default = "yes")]
    pub close_stdin: bool,
    #[serde(default = "one")]
    pub count: u32,
    pub after_previous: bool,
    pub exit: i32,
    pub stop: Stop,
}

/// A line the demo must show: `text` somewhere in one line of `side`'s output (any side
/// if `side` is `None`; `client` means any client).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub text: String,
    pub side: Option<String>,
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_secs)
}

/// `expect = ["text", { text = "...", side = "client 1" }]`: a plain string is any side.
fn expect_lines<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Expect>, D::Error> {
    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "a string, or { text = \"...\", side = \"client 1\" }"
    )]
    enum Entry {
        Text(String),
        Full(Expect),
    }
    let entries = Vec::<Entry>::deserialize(d)?;
    let expect = entries.into_iter().map(|entry| match entry {
        Entry::Text(text) => Expect { text, side: None },
        Entry::Full(expect) => expect,
    });
    Ok(expect.collect())
}

/// What the command reads of a Cargo.toml: `[package]` and `[[bin]]`, and the package's
/// metadata as `M`: [`Meta`], or by default plain TOML (to read the rest whatever the
/// metadata says, and see which of its keys are there).
#[derive(Deserialize)]
struct Manifest<M = toml::Value> {
    package: Package<M>,
    #[serde(default)]
    bin: Vec<Bin>,
}

#[derive(Deserialize)]
struct Package<M> {
    name: String,
    #[serde(default = "yes")]
    autobins: bool,
    metadata: Option<Metadata<M>>,
}

#[derive(Deserialize)]
struct Metadata<M> {
    lesson: Option<M>,
}

#[derive(Deserialize)]
struct Bin {
    name: String,
    path: Option<String>,
}

/// The keys of `[package.metadata.lesson]`, all required.
const KEYS: [&str; 5] = ["number", "title", "section", "summary", "demo"];

/// Every lesson folder under `lessons_dir`, in folder order (the lessons' numbers).
pub fn discover(lessons_dir: &Path) -> Result<Vec<Lesson>, String> {
    let entries = fs::read_dir(lessons_dir);
    let entries = entries.map_err(|e| format!("cannot read {}: {e}", lessons_dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    dirs.retain(|p| p.is_dir());
    dirs.sort();
    Ok(dirs.into_iter().map(read_lesson).collect())
}

/// Read one lesson folder. Problems are collected in `Lesson::problems`.
fn read_lesson(dir: PathBuf) -> Lesson {
    let folder = dir.file_name().unwrap_or_default().to_string_lossy();
    let nn = folder.split_once('-').map_or("", |(nn, _)| nn);
    let two_digits = nn.len() == 2 && nn.bytes().all(|b| b.is_ascii_digit());
    let folder_number = nn.parse().ok().filter(|_| two_digits);
    let folder = folder.into_owned();
    let mut problems = Vec::new();
    if folder_number.is_none() {
        problems.push(format!(
            "lessons/{folder}: the folder name should be NN-name"
        ));
    }
    let mut lesson = Lesson {
        dir,
        folder,
        folder_number,
        problems,
        ..Lesson::default()
    };
    read_manifest(&mut lesson);
    lesson
}

/// Fill in the package's name, its binaries and its metadata from the lesson's Cargo.toml;
/// what is wrong with them goes to `problems`.
fn read_manifest(lesson: &mut Lesson) {
    let place = format!("lessons/{}/Cargo.toml", lesson.folder);
    let problems = &mut lesson.problems;
    let Ok(text) = fs::read_to_string(lesson.dir.join("Cargo.toml")) else {
        return problems.push(format!("{place}: cannot read it"));
    };
    // A serde error names its place by an offset in the text: say which line.
    let problem = |e: toml::de::Error| {
        let start = e.span().map_or(0, |s| s.start);
        let line = text[..start].matches('\n').count() + 1;
        format!("{place}: line {line}: {}", e.message().trim_end())
    };
    let manifest = match toml::from_str::<Manifest>(&text) {
        Ok(manifest) => manifest,
        Err(e) => return problems.push(problem(e)),
    };
    lesson.binaries = binaries(&lesson.dir, &manifest);
    lesson.package = manifest.package.name;
    let Some(given) = manifest.package.metadata.and_then(|m| m.lesson) else {
        let keys = KEYS.join(", ");
        return problems.push(format!("{place}: no [package.metadata.lesson] ({keys})"));
    };
    let mut meta = match toml::from_str::<Manifest<Meta>>(&text) {
        Ok(m) => m
            .package
            .metadata
            .and_then(|m| m.lesson)
            .unwrap_or_default(),
        Err(e) => return problems.push(problem(e)),
    };
    for key in KEYS.iter().filter(|&key| given.get(key).is_none()) {
        problems.push(format!("{place}: [package.metadata.lesson] has no {key}"));
    }
    let demo_problems = meta.demo.as_mut().map(|d| finish_demo(d, &place));
    if let Some(demo_problems) = demo_problems.filter(|p| !p.is_empty()) {
        problems.extend(demo_problems);
        meta.demo = None;
    }
    lesson.meta = meta;
}

/// What serde can't say: each program is a `bin` or a `program`, and its placeholders
/// are ones that have a value when it starts.
fn finish_demo(demo: &mut Demo, place: &str) -> Vec<String> {
    const NO_BIN: &str = "bin is missing (a program of the workspace; or program = \"NAME\" for one installed on PATH)";
    const BOTH: &str =
        "give bin (a program of the workspace) or program (one installed on PATH), not both";
    const KNOWN: &str = "known: {host} {port} {addr}, {host2}... for a second server, {free_udp_port}, {free_tcp_port}";
    let mut problems = Vec::new();
    let servers = demo.servers.len();
    let servers_first = demo
        .servers
        .iter_mut()
        .enumerate()
        .map(|(i, p)| ("servers", i, i, p));
    let clients = demo.clients.iter_mut().enumerate();
    let entries = servers_first.chain(clients.map(|(i, p)| ("clients", i, servers, p)));
    for (list, i, before, p) in entries {
        let at = format!("{place}: demo.{list}[{i}]");
        match (p.bin.is_empty(), p.program.take()) {
            (true, Some(program)) => (p.bin, p.on_path) = (program, true),
            (true, None) => problems.push(format!("{at}: {NO_BIN}")),
            (false, Some(_)) => problems.push(format!("{at}: {BOTH}")),
            (false, None) => {}
        }
        let why = match before {
            0 => "no server is started before this program".to_string(),
            n => format!("{n} server(s) are started before this program"),
        };
        for name in p.args.iter().chain(&p.stdin).flat_map(|t| placeholders(t)) {
            if !placeholder_known(name, before) {
                let why = format!("{at}: unknown placeholder {{{name}}} ({why}; {KNOWN})");
                problems.push(why);
            }
        }
    }
    problems
}

/// The binaries Cargo builds for a package: its `[[bin]]` entries, then (unless
/// `autobins = false`) those Cargo finds by itself that no entry claims: src/main.rs,
/// src/bin/NAME.rs and src/bin/NAME/main.rs.
fn binaries(dir: &Path, manifest: &Manifest) -> Vec<String> {
    let (package, bins) = (&manifest.package, &manifest.bin);
    let mut names: Vec<String> = bins.iter().map(|b| b.name.clone()).collect();
    let path = |b: &Bin| b.path.clone().unwrap_or(format!("src/bin/{}.rs", b.name));
    let claimed: Vec<PathBuf> = bins.iter().map(|b| dir.join(path(b))).collect();
    let found = |e: fs::DirEntry| {
        let p = e.path();
        let name = p.file_stem().unwrap_or_default().to_string_lossy().into();
        (name, if p.is_dir() { p.join("main.rs") } else { p })
    };
    let in_bin = fs::read_dir(dir.join("src/bin")).into_iter().flatten();
    let mut found: Vec<(String, PathBuf)> = in_bin.flatten().map(found).collect();
    found.sort();
    found.insert(0, (package.name.clone(), dir.join("src/main.rs")));
    for (name, file) in found.into_iter().filter(|_| package.autobins) {
        let rust = file.extension().is_some_and(|e| e == "rs") && file.is_file();
        if rust && !claimed.contains(&file) && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The names that may appear in `{...}` in args and stdin, given how many servers are
/// already started: `{host}`, `{port}`, `{addr}` (the first server), `{host2}`... (the
/// second), `{free_udp_port}`, `{free_tcp_port}`.
fn placeholder_known(name: &str, servers: usize) -> bool {
    let prefixes = ["host", "port", "addr"];
    let server = prefixes.iter().find_map(|b| name.strip_prefix(b));
    match server {
        _ if name == "free_udp_port" || name == "free_tcp_port" => true,
        Some("") => servers >= 1,
        Some(n) => !n.starts_with('0') && n.parse().is_ok_and(|n: usize| n <= servers),
        None => false,
    }
}

/// The `{name}` placeholders in `text` (lowercase letters, digits and `_` between braces).
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    let name = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
    let after_braces = text.split('{').skip(1).filter_map(|s| s.split_once('}'));
    after_braces
        .map(|(n, _)| n)
        .filter(move |n| !n.is_empty() && n.bytes().all(name))
}

/// Replace each `{name}` with `value(name)`; a name `value` doesn't know stays as it is
/// (the metadata check has already rejected unknown names).
pub fn substitute(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    placeholders(text).fold(text.to_string(), |out, name| match value(name) {
        Some(v) => out.replace(&format!("{{{name}}}"), &v),
        None => out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_read() {
        let mut meta: Meta = toml::from_str(
            r#"number = 1
title = "t"
section = "s"
summary = "u"
[demo]
protocol = "udp"
timeout_secs = 5
transcript = "unordered"
servers = [{ bin = "s", args = ["--port", "0"], stdin = "hi\n", stop = "exit", exit = 3 }]
clients = [
  { bin = "c", args = ["--port", "{port}"], count = 2, pause_ms = 500, split_args = ["x"] },
  { program = "python3", stdin = "{host}\n", after_previous = true, close_stdin = false, cwd = "scratch" },
]
expect = ["he", { text = "llo", side = "client 1" }]
"#,
        )
        .expect("valid metadata");
        let mut d = meta.demo.take().expect("a demo");
        assert_eq!(finish_demo(&mut d, "x"), Vec::<String>::new());
        assert_eq!(d.protocol, Protocol::Udp);
        assert_eq!(d.timeout, Duration::from_secs(5));
        assert_eq!(d.transcript, Compare::Unordered);
        assert_eq!((d.servers[0].stop, d.servers[0].exit), (Stop::Exit, 3));
        assert_eq!((d.clients[0].count, d.clients[0].pause_ms), (2, 500));
        // Left out: close_stdin is true and count 1; the rest their type's default.
        let s = &d.servers[0];
        assert!(s.close_stdin && s.count == 1 && !s.after_previous && s.cwd == Cwd::Workspace);
        let c = &d.clients[1];
        assert!(c.after_previous && !c.close_stdin && c.on_path && c.cwd == Cwd::Scratch);
        assert_eq!(c.bin, "python3");
        assert_eq!(d.expect[1].side.as_deref(), Some("client 1"));
    }

    #[test]
    fn substitution_replaces_known_names_only() {
        let v = |name: &str| match name {
            "host" => Some("127.0.0.1".to_string()),
            "port" => Some("4000".to_string()),
            _ => None,
        };
        let text = "{host}\n{port}\n{x} {} {port}";
        assert_eq!(substitute(text, v), "127.0.0.1\n4000\n{x} {} 4000");
        let names: Vec<&str> = placeholders("a {host} {not it} {port2}").collect();
        assert_eq!(names, ["host", "port2"]);
        assert!(placeholder_known("addr2", 2) && placeholder_known("host", 1));
        assert!(!placeholder_known("addr2", 1) && !placeholder_known("port02", 3));
        assert!(!placeholder_known("port", 0) && placeholder_known("free_udp_port", 0));
    }
}
