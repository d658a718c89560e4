//! What the `lesson` command knows about the lessons: the catalog (the plan, in
//! `catalog.toml`) and each written lesson's own `[package.metadata.lesson]`.
//!
//! Parsing never stops at the first problem: every problem is collected with the place it
//! was found (`lessons/04-tcp-server-v2/Cargo.toml: demo.clients[0]: unknown key "stdn"`),
//! so `cargo lesson check` can list them all and `cargo lesson run` can refuse a broken
//! demo with a message that says where to look.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

/// The plan, compiled in: every lesson of the course, written or not.
const CATALOG: &str = include_str!("../catalog.toml");

/// One row of the catalog.
#[derive(Clone, Debug)]
pub struct Planned {
    pub number: u32,
    pub package: String,
    pub binaries: Vec<String>,
    pub section: String,
    pub summary: String,
}

/// The catalog, in teaching order. It is compiled into the program, so a broken catalog
/// is a bug in this crate (a unit test parses it); it panics with the reason.
pub fn catalog() -> Vec<Planned> {
    parse_catalog(CATALOG)
        .unwrap_or_else(|problems| panic!("catalog.toml is broken: {}", problems.join("; ")))
}

fn parse_catalog(text: &str) -> Result<Vec<Planned>, Vec<String>> {
    let mut problems = Vec::new();
    let table: Table = text
        .parse()
        .map_err(|e| vec![format!("catalog.toml: {e}")])?;
    let mut planned = Vec::new();
    let mut fields = Fields::new(&table, "catalog.toml", &mut problems);
    let rows = fields.tables("lesson");
    fields.finish();
    for (i, row) in rows.iter().enumerate() {
        let mut f = Fields::new(row, format!("catalog.toml: lesson[{i}]"), &mut problems);
        let number = f.required_int("number");
        let package = f.required_str("package");
        let binaries = f.str_list("binaries");
        let section = f.required_str("section");
        let summary = f.required_str("summary");
        f.finish();
        if let (Some(number), Some(package), Some(section), Some(summary)) =
            (number, package, section, summary)
        {
            planned.push(Planned {
                number,
                package,
                binaries,
                section,
                summary,
            });
        }
    }
    for (i, p) in planned.iter().enumerate() {
        if p.number as usize != i + 1 {
            problems.push(format!(
                "catalog.toml: lesson {} ({}) is in place {}: keep the numbers 1, 2, 3, ...",
                p.number,
                p.package,
                i + 1
            ));
        }
    }
    if problems.is_empty() {
        Ok(planned)
    } else {
        Err(problems)
    }
}

/// A lesson folder `lessons/NN-name/` as it is on disk.
#[derive(Debug)]
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
    /// `[package.metadata.lesson]`, as far as it could be read.
    pub meta: Meta,
    /// Everything wrong with the folder's Cargo.toml and metadata.
    pub problems: Vec<String>,
}

/// `[package.metadata.lesson]`.
#[derive(Debug, Default)]
pub struct Meta {
    pub number: Option<u32>,
    pub title: Option<String>,
    pub section: Option<String>,
    pub summary: Option<String>,
    pub demo: Option<Demo>,
}

/// `[package.metadata.lesson.demo]`: what `cargo lesson run` starts.
#[derive(Debug, Clone)]
pub struct Demo {
    pub protocol: Protocol,
    pub servers: Vec<Program>,
    pub clients: Vec<Program>,
    pub expect: Vec<Expect>,
    pub timeout: Duration,
    pub transcript: Compare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

/// How a recorded transcript is compared with a fresh run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Each side's lines, in order (the sides may interleave differently).
    PerSide,
    /// Each side's lines in any order (for lessons whose threads print in varying order).
    Unordered,
}

/// How a server is stopped once the clients are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C (SIGINT), then SIGKILL if it is still there after the grace period.
    Interrupt,
    /// The server ends by itself (for example after its one client); wait for it.
    Exit,
}

/// Where a demo program starts (its current folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cwd {
    /// The workspace (the folder that holds `lessons/`), wherever `cargo lesson` was
    /// started: a demo's paths are relative to it (`lessons/15-http-get-v1/site`).
    Workspace,
    /// A fresh empty folder made for this run and removed after it, shared by every
    /// program of the run that asks for one: for programs that save files.
    Scratch,
}

/// One server or client entry of the demo.
#[derive(Debug, Clone)]
pub struct Program {
    /// The program: one that a lesson of the workspace builds (`bin = "..."`), or, when
    /// `on_path`, one installed on the machine and found on PATH (`program = "python3"`).
    pub bin: String,
    pub on_path: bool,
    pub cwd: Cwd,
    pub args: Vec<String>,
    /// Appended to `args` when the relay re-cuts the stream (`--wire --split N`).
    pub split_args: Vec<String>,
    pub stdin: Option<String>,
    pub close_stdin: bool,
    pub count: u32,
    pub after_previous: bool,
    pub exit: i32,
    pub stop: Stop,
}

/// A line the demo must show: `text` somewhere in one line of `side`'s output (any side
/// if `side` is `None`; `client` means any client).
#[derive(Debug, Clone)]
pub struct Expect {
    pub text: String,
    pub side: Option<String>,
}

/// Find every lesson folder under `lessons_dir`, in folder order.
pub fn discover(lessons_dir: &Path) -> Result<Vec<Lesson>, String> {
    let entries = fs::read_dir(lessons_dir)
        .map_err(|e| format!("cannot read {}: {e}", lessons_dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs.into_iter().map(|dir| read_lesson(&dir)).collect())
}

/// Read one lesson folder. Problems are collected in `Lesson::problems`.
pub fn read_lesson(dir: &Path) -> Lesson {
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder_number = folder
        .split_once('-')
        .filter(|(nn, _)| nn.len() == 2 && nn.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|(nn, _)| nn.parse().ok());
    let place = format!("lessons/{folder}/Cargo.toml");
    let mut lesson = Lesson {
        dir: dir.to_path_buf(),
        folder: folder.clone(),
        folder_number,
        package: String::new(),
        binaries: Vec::new(),
        meta: Meta::default(),
        problems: Vec::new(),
    };
    if folder_number.is_none() {
        lesson.problems.push(format!(
            "lessons/{folder}: the folder name should be NN-name"
        ));
    }
    let text = match fs::read_to_string(dir.join("Cargo.toml")) {
        Ok(text) => text,
        Err(e) => {
            lesson.problems.push(format!("{place}: cannot read: {e}"));
            return lesson;
        }
    };
    let manifest: Table = match text.parse() {
        Ok(table) => table,
        Err(e) => {
            lesson
                .problems
                .push(format!("{place}: not valid TOML: {e}"));
            return lesson;
        }
    };
    let package = manifest.get("package").and_then(Value::as_table);
    lesson.package = package
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if lesson.package.is_empty() {
        lesson.problems.push(format!("{place}: no [package] name"));
    }
    lesson.binaries = binaries(dir, &manifest, &lesson.package);
    let meta_table = package
        .and_then(|p| p.get("metadata"))
        .and_then(Value::as_table)
        .and_then(|m| m.get("lesson"));
    match meta_table {
        None => lesson.problems.push(format!(
            "{place}: no [package.metadata.lesson] (number, title, section, summary, demo)"
        )),
        Some(Value::Table(table)) => {
            lesson.meta = parse_meta(table, &place, &mut lesson.problems);
        }
        Some(_) => lesson.problems.push(format!(
            "{place}: package.metadata.lesson should be a table"
        )),
    }
    lesson
}

/// The binaries Cargo builds for a package: its `[[bin]]` entries, plus the ones Cargo
/// finds by itself (src/main.rs, src/bin/NAME.rs, src/bin/NAME/main.rs) unless
/// `autobins = false` or a `[[bin]]` entry already claims that file.
fn binaries(dir: &Path, manifest: &Table, package: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut claimed = BTreeSet::new();
    if let Some(bins) = manifest.get("bin").and_then(Value::as_array) {
        for bin in bins.iter().filter_map(Value::as_table) {
            if let Some(name) = bin.get("name").and_then(Value::as_str) {
                names.push(name.to_string());
                let path = bin.get("path").and_then(Value::as_str).map_or_else(
                    || format!("src/bin/{name}.rs"),
                    |p| p.trim_start_matches("./").to_string(),
                );
                claimed.insert(path);
            }
        }
    }
    let autobins = manifest
        .get("package")
        .and_then(|p| p.get("autobins"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if !autobins {
        return names;
    }
    let mut found = Vec::new();
    if dir.join("src/main.rs").is_file() && !claimed.contains("src/main.rs") {
        found.push(package.to_string());
    }
    if let Ok(entries) = fs::read_dir(dir.join("src/bin")) {
        let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            let (relative, is_bin) = if path.is_dir() {
                (
                    format!("src/bin/{stem}/main.rs"),
                    path.join("main.rs").is_file(),
                )
            } else {
                (
                    format!("src/bin/{stem}.rs"),
                    path.extension().is_some_and(|e| e == "rs"),
                )
            };
            if is_bin && !claimed.contains(&relative) && !names.contains(&stem) {
                found.push(stem);
            }
        }
    }
    names.extend(found);
    names
}

fn parse_meta(table: &Table, place: &str, problems: &mut Vec<String>) -> Meta {
    let mut f = Fields::new(table, place.to_string(), problems);
    let number = f.required_int("number");
    let title = f.required_str("title");
    let section = f.required_str("section");
    let summary = f.required_str("summary");
    let demo = f.table("demo");
    f.finish();
    let demo = match demo {
        Some(demo) => parse_demo(demo, &format!("{place}: demo"), problems),
        None => {
            problems.push(format!(
                "{place}: no [package.metadata.lesson.demo] (which servers and clients `cargo lesson run` starts)"
            ));
            None
        }
    };
    Meta {
        number,
        title,
        section,
        summary,
        demo,
    }
}

/// Parse `[package.metadata.lesson.demo]`; `None` if it has problems (they are pushed).
pub fn parse_demo(table: &Table, place: &str, problems: &mut Vec<String>) -> Option<Demo> {
    let before = problems.len();
    let mut f = Fields::new(table, place.to_string(), problems);
    let protocol = match f.str("protocol").as_deref() {
        None | Some("tcp") => Protocol::Tcp,
        Some("udp") => Protocol::Udp,
        Some(other) => {
            f.problem(format!("protocol is {other:?}; use \"tcp\" or \"udp\""));
            Protocol::Tcp
        }
    };
    let servers = f.tables("servers");
    let clients = f.tables("clients");
    let expect = f.value("expect");
    let timeout = f.int("timeout_secs").unwrap_or(30);
    let transcript = match f.str("transcript").as_deref() {
        None | Some("per-side") => Compare::PerSide,
        Some("unordered") => Compare::Unordered,
        Some(other) => {
            f.problem(format!(
                "transcript is {other:?}; use \"per-side\" (the default) or \"unordered\""
            ));
            Compare::PerSide
        }
    };
    f.finish();

    let servers: Vec<Program> = servers
        .iter()
        .enumerate()
        .filter_map(|(i, t)| parse_program(t, &format!("{place}.servers[{i}]"), true, problems))
        .collect();
    let clients: Vec<Program> = clients
        .iter()
        .enumerate()
        .filter_map(|(i, t)| parse_program(t, &format!("{place}.clients[{i}]"), false, problems))
        .collect();
    if servers.is_empty() && clients.is_empty() {
        problems.push(format!(
            "{place}: no servers and no clients: nothing to run"
        ));
    }
    if let Some(first) = clients.first()
        && first.after_previous
    {
        problems.push(format!(
            "{place}.clients[0]: after_previous needs a client before it"
        ));
    }

    // Placeholders: a server may use the addresses of the servers started before it; a
    // client may use every server's.
    for (i, server) in servers.iter().enumerate() {
        check_placeholders(server, i, &format!("{place}.servers[{i}]"), problems);
    }
    for (i, client) in clients.iter().enumerate() {
        check_placeholders(
            client,
            servers.len(),
            &format!("{place}.clients[{i}]"),
            problems,
        );
    }

    let expect = match expect {
        None => Vec::new(),
        Some(value) => parse_expect(value, &format!("{place}.expect"), problems),
    };
    if problems.len() > before {
        return None;
    }
    Some(Demo {
        protocol,
        servers,
        clients,
        expect,
        timeout: Duration::from_secs(u64::from(timeout.max(1))),
        transcript,
    })
}

fn parse_program(
    table: &Table,
    place: &str,
    server: bool,
    problems: &mut Vec<String>,
) -> Option<Program> {
    let mut f = Fields::new(table, place.to_string(), problems);
    // `bin`: a program of the workspace; `program`: one installed on PATH. One of them.
    let (bin, on_path) = match (f.str("bin"), f.str("program")) {
        (Some(bin), None) => (Some(bin), false),
        (None, Some(program)) => (Some(program), true),
        (Some(_), Some(_)) => {
            f.problem(
                "give bin (a program of the workspace) or program (one installed on PATH), not both"
                    .into(),
            );
            (None, false)
        }
        (None, None) => {
            if !f.table.contains_key("bin") && !f.table.contains_key("program") {
                f.problem(
                    "bin is missing (a program of the workspace; or program = \"NAME\" for one installed on PATH)"
                        .into(),
                );
            }
            (None, false)
        }
    };
    let bin = match bin {
        Some(name) if name.trim().is_empty() => {
            f.problem(format!(
                "{} is empty",
                if on_path { "program" } else { "bin" }
            ));
            None
        }
        other => other,
    };
    let cwd = match f.str("cwd").as_deref() {
        None | Some("workspace") => Cwd::Workspace,
        Some("scratch") => Cwd::Scratch,
        Some(other) => {
            f.problem(format!(
                "cwd is {other:?}; use \"workspace\" (the default) or \"scratch\" (a fresh folder for the run)"
            ));
            Cwd::Workspace
        }
    };
    let args = f.str_list("args");
    let split_args = f.str_list("split_args");
    let stdin = f.str("stdin");
    let close_stdin = f.bool("close_stdin").unwrap_or(true);
    let exit = f.int("exit").unwrap_or(0);
    let (count, after_previous, stop) = if server {
        let stop = match f.str("stop").as_deref() {
            None | Some("interrupt") => Stop::Interrupt,
            Some("exit") => Stop::Exit,
            Some(other) => {
                f.problem(format!(
                    "stop is {other:?}; use \"interrupt\" (the default) or \"exit\""
                ));
                Stop::Interrupt
            }
        };
        (1, false, stop)
    } else {
        let count = f.int("count").unwrap_or(1);
        if count == 0 {
            f.problem("count is 0; a client entry starts at least one copy".into());
        }
        let after = f.bool("after_previous").unwrap_or(false);
        (count, after, Stop::Interrupt)
    };
    f.finish();
    let exit = i32::try_from(exit).unwrap_or(i32::MAX);
    Some(Program {
        bin: bin?,
        on_path,
        cwd,
        args,
        split_args,
        stdin,
        close_stdin,
        count,
        after_previous,
        exit,
        stop,
    })
}

fn parse_expect(value: &Value, place: &str, problems: &mut Vec<String>) -> Vec<Expect> {
    let Some(items) = value.as_array() else {
        problems.push(format!("{place}: should be a list of strings"));
        return Vec::new();
    };
    let mut expect = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(text) => expect.push(Expect {
                text: text.clone(),
                side: None,
            }),
            Value::Table(t) => {
                let mut f = Fields::new(t, format!("{place}[{i}]"), problems);
                let text = f.required_str("text");
                let side = f.str("side");
                f.finish();
                if let Some(text) = text {
                    expect.push(Expect { text, side });
                }
            }
            _ => problems.push(format!(
                "{place}[{i}]: should be a string or {{ text = \"...\", side = \"client 1\" }}"
            )),
        }
    }
    expect
}

/// The names that may appear in `{...}` in args and stdin, given how many servers are
/// already started.
pub fn placeholder_known(name: &str, servers: usize) -> bool {
    if matches!(name, "free_udp_port" | "free_tcp_port") {
        return true;
    }
    for base in ["host", "port", "addr"] {
        if let Some(rest) = name.strip_prefix(base) {
            let n = if rest.is_empty() {
                1
            } else {
                match rest.parse::<usize>() {
                    Ok(n) if n >= 1 && !rest.starts_with('0') => n,
                    _ => return false,
                }
            };
            return n <= servers;
        }
    }
    false
}

fn check_placeholders(p: &Program, servers: usize, place: &str, problems: &mut Vec<String>) {
    let texts = p.args.iter().chain(p.stdin.iter());
    for text in texts {
        for name in placeholders(text) {
            if !placeholder_known(&name, servers) {
                let why = if servers == 0 {
                    "no server is started before this program".to_string()
                } else {
                    format!("{servers} server(s) are started before this program")
                };
                problems.push(format!(
                    "{place}: unknown placeholder {{{name}}} ({why}; known: {{host}} {{port}} {{addr}}, {{host2}}... for a second server, {{free_udp_port}}, {{free_tcp_port}})"
                ));
            }
        }
    }
}

/// The `{name}` placeholders in `text` (lowercase letters, digits and `_` between braces).
pub fn placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                found.push(after[..close].to_string());
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

/// Replace each `{name}` with `value(name)`; a name `value` doesn't know stays as it is
/// (the metadata check has already rejected unknown names).
pub fn substitute(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            let name = &after[..close];
            value(name).map(|v| (v, close))
        }) {
            Some((v, close)) => {
                out.push_str(&v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reads the fields of one table, remembering which keys were used so that a misspelt
/// key (`stdn`) is reported instead of silently ignored.
struct Fields<'a, 'p> {
    table: &'a Table,
    place: String,
    problems: &'p mut Vec<String>,
    used: Vec<&'static str>,
}

impl<'a, 'p> Fields<'a, 'p> {
    fn new(table: &'a Table, place: impl Into<String>, problems: &'p mut Vec<String>) -> Self {
        Fields {
            table,
            place: place.into(),
            problems,
            used: Vec::new(),
        }
    }

    fn problem(&mut self, what: String) {
        self.problems.push(format!("{}: {what}", self.place));
    }

    fn value(&mut self, key: &'static str) -> Option<&'a Value> {
        self.used.push(key);
        self.table.get(key)
    }

    fn str(&mut self, key: &'static str) -> Option<String> {
        match self.value(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.problem(format!("{key} should be a string, is {}", other.type_str()));
                None
            }
        }
    }

    fn required_str(&mut self, key: &'static str) -> Option<String> {
        let found = self.table.contains_key(key);
        match self.str(key) {
            Some(s) if s.trim().is_empty() => {
                self.problem(format!("{key} is empty"));
                None
            }
            Some(s) => Some(s),
            None => {
                if !found {
                    self.problem(format!("{key} is missing"));
                }
                None
            }
        }
    }

    fn int(&mut self, key: &'static str) -> Option<u32> {
        match self.value(key)? {
            Value::Integer(n) => match u32::try_from(*n) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.problem(format!("{key} is {n}; it should be 0 or more"));
                    None
                }
            },
            other => {
                self.problem(format!("{key} should be a number, is {}", other.type_str()));
                None
            }
        }
    }

    fn required_int(&mut self, key: &'static str) -> Option<u32> {
        let found = self.table.contains_key(key);
        let n = self.int(key);
        if !found {
            self.problem(format!("{key} is missing"));
        }
        n
    }

    fn bool(&mut self, key: &'static str) -> Option<bool> {
        match self.value(key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.problem(format!(
                    "{key} should be true or false, is {}",
                    other.type_str()
                ));
                None
            }
        }
    }

    fn str_list(&mut self, key: &'static str) -> Vec<String> {
        let Some(value) = self.value(key) else {
            return Vec::new();
        };
        match value.as_array() {
            Some(items) if items.iter().all(Value::is_str) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => {
                self.problem(format!("{key} should be a list of strings"));
                Vec::new()
            }
        }
    }

    fn table(&mut self, key: &'static str) -> Option<&'a Table> {
        match self.value(key)? {
            Value::Table(t) => Some(t),
            other => {
                self.problem(format!("{key} should be a table, is {}", other.type_str()));
                None
            }
        }
    }

    fn tables(&mut self, key: &'static str) -> Vec<&'a Table> {
        let Some(value) = self.value(key) else {
            return Vec::new();
        };
        match value.as_array() {
            Some(items) if items.iter().all(Value::is_table) => {
                items.iter().filter_map(Value::as_table).collect()
            }
            _ => {
                self.problem(format!(
                    "{key} should be a list of tables ({key} = [{{ bin = \"...\" }}])"
                ));
                Vec::new()
            }
        }
    }

    fn finish(self) {
        let mut unknown: Vec<&String> = self
            .table
            .keys()
            .filter(|k| !self.used.contains(&k.as_str()))
            .collect();
        unknown.sort();
        for key in unknown {
            let close = self
                .used
                .iter()
                .filter(|known| crate::names::distance(key, known) <= 2)
                .map(|k| format!(" (did you mean {k:?}?)"))
                .next()
                .unwrap_or_default();
            self.problems.push(format!(
                "{}: unknown key {key:?}{close}; known keys: {}",
                self.place,
                self.used.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(text: &str) -> Result<Demo, Vec<String>> {
        let table: Table = text.parse().expect("test TOML");
        let mut problems = Vec::new();
        match parse_demo(&table, "demo", &mut problems) {
            Some(demo) if problems.is_empty() => Ok(demo),
            _ => Err(problems),
        }
    }

    #[test]
    fn the_catalog_parses_and_has_the_21_lessons() {
        let catalog = catalog();
        assert_eq!(catalog.len(), 21);
        assert_eq!(catalog[0].package, "tcp-client-v1");
        assert_eq!(catalog[18].binaries, ["tftp-server"]);
        assert_eq!(catalog[20].package, "tcp-vs-udp");
        assert_eq!(
            catalog[8].binaries,
            ["sticky-packet-server", "sticky-packet-client"]
        );
    }

    #[test]
    fn a_full_demo_parses() {
        let d = demo(
            r#"
            protocol = "udp"
            timeout_secs = 5
            transcript = "unordered"
            servers = [{ bin = "s", args = ["--port", "0"], stdin = "hi\n", stop = "exit", exit = 3 }]
            clients = [
              { bin = "c", args = ["--port", "{port}"], count = 2 },
              { bin = "c", stdin = "{host}\n", after_previous = true, exit = 1, close_stdin = false },
            ]
            expect = ["he", { text = "llo", side = "client 1" }]
            "#,
        )
        .expect("valid demo");
        assert_eq!(d.protocol, Protocol::Udp);
        assert_eq!(d.timeout, Duration::from_secs(5));
        assert_eq!(d.transcript, Compare::Unordered);
        assert_eq!(d.servers[0].stop, Stop::Exit);
        assert_eq!(d.servers[0].exit, 3);
        assert_eq!(d.clients[0].count, 2);
        assert!(d.clients[1].after_previous);
        assert!(!d.clients[1].close_stdin);
        assert_eq!(d.expect[1].side.as_deref(), Some("client 1"));
    }

    #[test]
    fn typos_and_bad_placeholders_are_reported_with_their_place() {
        let problems = demo(
            r#"
            servers = [{ bin = "s", args = ["{port}"] }]
            clients = [{ bin = "c", stdn = "x", args = ["{port2}", "{hots}"] }]
            protocol = "sctp"
            "#,
        )
        .expect_err("invalid demo");
        let all = problems.join("\n");
        assert!(all.contains("demo: protocol is \"sctp\""), "{all}");
        assert!(
            all.contains("demo.clients[0]: unknown key \"stdn\" (did you mean \"stdin\"?)"),
            "{all}"
        );
        assert!(
            all.contains("demo.servers[0]: unknown placeholder {port}"),
            "{all}"
        );
        assert!(all.contains("unknown placeholder {port2}"), "{all}");
        assert!(all.contains("unknown placeholder {hots}"), "{all}");
    }

    #[test]
    fn installed_programs_and_working_folders() {
        let d = demo(
            r#"
            servers = [{ program = "python3", args = ["python/web_server.py"], cwd = "workspace" }]
            clients = [{ bin = "http-get", cwd = "scratch" }, { bin = "c" }]
            "#,
        )
        .expect("valid demo");
        assert!(d.servers[0].on_path);
        assert_eq!(d.servers[0].bin, "python3");
        assert_eq!(d.servers[0].cwd, Cwd::Workspace);
        assert!(!d.clients[0].on_path);
        assert_eq!(d.clients[0].cwd, Cwd::Scratch);
        assert_eq!(d.clients[1].cwd, Cwd::Workspace);
        let problems = demo(
            r#"
            servers = [{ bin = "s", program = "python3" }, { cwd = "home", program = "" }]
            clients = [{ args = ["x"] }]
            "#,
        )
        .expect_err("invalid demo");
        let all = problems.join("\n");
        assert!(all.contains("demo.servers[0]: give bin (a program of the workspace) or program (one installed on PATH), not both"), "{all}");
        assert!(all.contains("demo.servers[1]: cwd is \"home\""), "{all}");
        assert!(all.contains("demo.servers[1]: program is empty"), "{all}");
        assert!(all.contains("demo.clients[0]: bin is missing"), "{all}");
    }

    #[test]
    fn substitution_replaces_known_names_only() {
        let v = |name: &str| match name {
            "host" => Some("127.0.0.1".to_string()),
            "port" => Some("4000".to_string()),
            _ => None,
        };
        assert_eq!(
            substitute("{host}\n{port}\n{x} {}", v),
            "127.0.0.1\n4000\n{x} {}"
        );
        assert_eq!(placeholders("a {host} {not it} {port2}"), ["host", "port2"]);
        assert!(placeholder_known("addr2", 2));
        assert!(!placeholder_known("addr2", 1));
        assert!(!placeholder_known("port02", 3));
    }
}
