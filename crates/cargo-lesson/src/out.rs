//! Printing: colour only for a person at a terminal, labelled and timestamped lines, and
//! a copy of every line for `--record`.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Whether to colour the output: `--color always|never|auto`. `auto` colours only when
/// stdout is a terminal and `NO_COLOR` is unset or empty (<https://no-color.org>).
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub on: bool,
}

pub const RED: &str = "31";
pub const GREEN: &str = "32";
pub const YELLOW: &str = "33";
pub const BLUE: &str = "34";
pub const MAGENTA: &str = "35";
pub const CYAN: &str = "36";
pub const DIM: &str = "2";
pub const BOLD: &str = "1";

impl Style {
    pub fn detect(choice: &str) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let on = choice == "always" || choice != "never" && io::stdout().is_terminal() && !no_color;
        Style { on }
    }

    pub fn paint(&self, code: &str, text: &str) -> String {
        match self.on && !text.is_empty() && !code.is_empty() {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text.to_string(),
        }
    }
}

/// What kind of line an [`Event`] is, for its colour: a program's stdout or stderr, the
/// wire relay's, the runner's own messages, and those about something that went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Stdout,
    Stderr,
    Wire,
    Note,
    Problem,
}

/// One line to show: who said it, when, and what.
#[derive(Clone, Debug)]
pub struct Event {
    pub at: Instant,
    pub label: String,
    pub kind: Kind,
    pub text: String,
}

impl Event {
    pub fn now(label: String, kind: Kind, text: String) -> Event {
        let at = Instant::now();
        Event {
            at,
            label,
            kind,
            text,
        }
    }
}

/// Where the wire relays put their lines; the run loop prints them in time order with
/// the programs' own lines.
#[derive(Clone, Default)]
pub struct Sink(Arc<Mutex<Vec<Event>>>);

impl Sink {
    pub fn push(&self, label: impl Into<String>, text: impl Into<String>) {
        let event = Event::now(label.into(), Kind::Wire, text.into());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(event);
    }

    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Prints lines as `[+0.123s] [client 1] text` and keeps a plain copy when recording.
/// `quiet`: print nothing (the `transcripts` command only compares); `lines`: every line
/// printed, without colour.
pub struct Printer {
    pub style: Style,
    pub start: Instant,
    pub quiet: bool,
    pub lines: Vec<String>,
}

impl Printer {
    pub fn new(style: Style, quiet: bool) -> Printer {
        let (start, lines) = (Instant::now(), Vec::new());
        Printer {
            style,
            start,
            quiet,
            lines,
        }
    }

    /// A line without a timestamp (the header).
    pub fn plain(&mut self, text: &str, code: &str) {
        self.emit(text.to_string(), self.style.paint(code, text));
    }

    /// A runner message, timestamped now.
    pub fn note(&mut self, kind: Kind, text: &str) {
        self.event(&Event::now(String::new(), kind, text.to_string()));
    }

    pub fn event(&mut self, event: &Event) {
        let elapsed = event.at.saturating_duration_since(self.start).as_secs_f64();
        let stamp = format!("[+{elapsed:.3}s]");
        let label = match (event.label.as_str(), event.kind) {
            ("", _) => String::new(),
            (label, Kind::Stderr) => format!("[{label} stderr]"),
            (label, _) => format!("[{label}]"),
        };
        // Each side keeps one colour: servers cyan, clients in turn green, magenta, blue.
        let client = event.label.rsplit(' ').next().and_then(|n| n.parse().ok());
        let side = match event.label.starts_with("server") {
            true => CYAN,
            false => [GREEN, MAGENTA, BLUE][(client.unwrap_or(1) + 2) % 3],
        };
        let (label_colour, text_colour) = match event.kind {
            Kind::Wire => (DIM, YELLOW),
            Kind::Stderr => (RED, RED),
            Kind::Problem => (side, RED),
            Kind::Note => (side, BOLD),
            Kind::Stdout => (side, ""),
        };
        let mut parts = vec![(stamp.as_str(), DIM)];
        if !label.is_empty() {
            parts.push((&label, label_colour));
        }
        parts.push((&event.text, text_colour));
        let plain: Vec<&str> = parts.iter().map(|part| part.0).collect();
        let coloured: Vec<String> = parts.iter().map(|(t, c)| self.style.paint(c, t)).collect();
        self.emit(plain.join(" "), coloured.join(" "));
    }

    fn emit(&mut self, plain: String, coloured: String) {
        if !self.quiet {
            let mut out = io::stdout().lock();
            // A closed pipe (`| head`) must not stop the run half-way: the children still
            // have to be stopped. Ignore write errors.
            let _ = writeln!(out, "{coloured}");
            let _ = out.flush();
        }
        self.lines.push(plain);
    }
}

/// How many terminal columns `text` takes: the CJK characters the course's section
/// names use take two.
pub fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `text` padded with spaces to `columns` terminal columns.
pub fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}

/// A word as a shell would need it quoted to be pasted back.
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@,+%[]".contains(c) || !c.is_ascii();
    match !word.is_empty() && word.chars().all(plain) {
        true => word.to_string(),
        false => format!("'{}'", word.replace('\'', r"'\''")),
    }
}

/// Typed input as a `printf` format a student can paste: `printf 'hi\nbye\n'`.
pub fn printf_text(text: &str) -> String {
    let mut shown = String::new();
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\t' => shown.push_str("\\t"),
            '\r' => shown.push_str("\\r"),
            '\\' => shown.push_str("\\\\"),
            '%' => shown.push_str("%%"),
            '\'' => shown.push_str(r"'\''"),
            c => shown.push(c),
        }
    }
    format!("printf '{shown}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cjk_twice() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("黏包现象"), 8);
        assert_eq!(pad("黏包", 6), "黏包  ");
    }

    #[test]
    fn shell_words_and_printf() {
        assert_eq!(shell_word("--port"), "--port");
        assert_eq!(shell_word("127.0.0.1:80"), "127.0.0.1:80");
        assert_eq!(shell_word("let me in"), "'let me in'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(printf_text("a\n你好\n50%\n"), r"printf 'a\n你好\n50%%\n'");
    }

    #[test]
    fn plain_lines_carry_timestamp_and_label() {
        let mut p = Printer::new(Style { on: true }, true);
        for (label, kind, text) in [
            ("client 2", Kind::Stderr, "boom"),
            ("client 1", Kind::Stdout, ""),
            ("", Kind::Note, "done"),
        ] {
            p.event(&Event {
                at: p.start,
                ..Event::now(label.into(), kind, text.into())
            });
        }
        let want = [
            "[+0.000s] [client 2 stderr] boom",
            "[+0.000s] [client 1] ",
            "[+0.000s] done",
        ];
        assert_eq!(p.lines, want);
    }
}
