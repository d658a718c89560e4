//! Printing: colour only for a person at a terminal, labelled and timestamped lines, and
//! a copy of every line for `--record`.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard};
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
        let on = match choice {
            "always" => true,
            "never" => false,
            _ => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Style { on }
    }

    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.on && !text.is_empty() && !code.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// What kind of line an [`Event`] is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Stdout,
    Stderr,
    Wire,
    /// The runner's own messages.
    Note,
    /// The runner's messages about something that went wrong.
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

/// Where the wire relays put their lines; the run loop prints them in time order with
/// the programs' own lines.
#[derive(Clone, Default)]
pub struct Sink(Arc<Mutex<Vec<Event>>>);

impl Sink {
    pub fn push(&self, label: impl Into<String>, text: impl Into<String>) {
        self.lock().push(Event {
            at: Instant::now(),
            label: label.into(),
            kind: Kind::Wire,
            text: text.into(),
        });
    }

    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Event>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Prints lines as `[+0.123s] [client 1] text` and keeps a plain copy when recording.
pub struct Printer {
    pub style: Style,
    pub start: Instant,
    /// Print nothing (the `transcripts` command only compares).
    pub quiet: bool,
    /// Every line printed, without colour.
    pub lines: Vec<String>,
}

impl Printer {
    pub fn new(style: Style, quiet: bool) -> Printer {
        Printer {
            style,
            start: Instant::now(),
            quiet,
            lines: Vec::new(),
        }
    }

    /// A line without a timestamp (the header).
    pub fn plain(&mut self, text: &str, code: &str) {
        self.emit(text.to_string(), self.style.paint(code, text));
    }

    /// A runner message, timestamped now.
    pub fn note(&mut self, kind: Kind, text: &str) {
        self.event(&Event {
            at: Instant::now(),
            label: String::new(),
            kind,
            text: text.to_string(),
        });
    }

    pub fn event(&mut self, event: &Event) {
        let elapsed = event.at.saturating_duration_since(self.start).as_secs_f64();
        let stamp = format!("[+{elapsed:.3}s]");
        let label = if event.label.is_empty() {
            String::new()
        } else if event.kind == Kind::Stderr {
            format!("[{} stderr]", event.label)
        } else {
            format!("[{}]", event.label)
        };
        let plain = if label.is_empty() {
            format!("{stamp} {}", event.text)
        } else {
            format!("{stamp} {label} {}", event.text)
        };
        let label_colour = match event.kind {
            Kind::Wire => DIM,
            Kind::Stderr => RED,
            _ => side_colour(&event.label),
        };
        let text = match event.kind {
            Kind::Stderr | Kind::Problem => self.style.paint(RED, &event.text),
            Kind::Wire => self.style.paint(YELLOW, &event.text),
            Kind::Note => self.style.paint(BOLD, &event.text),
            Kind::Stdout => event.text.clone(),
        };
        let coloured = if label.is_empty() {
            format!("{} {text}", self.style.paint(DIM, &stamp))
        } else {
            format!(
                "{} {} {text}",
                self.style.paint(DIM, &stamp),
                self.style.paint(label_colour, &label)
            )
        };
        self.emit(plain, coloured);
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

/// Each side keeps one colour: servers cyan, clients in turn green, magenta, blue.
fn side_colour(label: &str) -> &'static str {
    if label.starts_with("server") {
        return CYAN;
    }
    let n: usize = label
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    [GREEN, MAGENTA, BLUE][(n + 2) % 3]
}

/// How many terminal columns `text` takes: the CJK characters the course's section
/// names use take two.
pub fn width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            let c = c as u32;
            let wide = (0x1100..=0x115F).contains(&c)
                || (0x2E80..=0xA4CF).contains(&c)
                || (0xAC00..=0xD7A3).contains(&c)
                || (0xF900..=0xFAFF).contains(&c)
                || (0xFE30..=0xFE4F).contains(&c)
                || (0xFF00..=0xFF60).contains(&c)
                || (0xFFE0..=0xFFE6).contains(&c);
            if wide { 2 } else { 1 }
        })
        .sum()
}

/// `text` padded with spaces to `columns` terminal columns.
pub fn pad(text: &str, columns: usize) -> String {
    let mut padded = text.to_string();
    padded.push_str(&" ".repeat(columns.saturating_sub(width(text))));
    padded
}

/// A word as a shell would need it quoted to be pasted back.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%[]".contains(c) || !c.is_ascii());
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
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
        let at = p.start;
        p.event(&Event {
            at,
            label: "client 2".into(),
            kind: Kind::Stderr,
            text: "boom".into(),
        });
        assert_eq!(p.lines, ["[+0.000s] [client 2 stderr] boom"]);
    }
}
