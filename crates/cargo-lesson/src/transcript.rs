//! Transcripts that stay true: a lesson's README holds the output of a real
//! `cargo lesson run`, between two markers:
//!
//! ````markdown
//! <!-- transcript: cargo lesson run tcp-client-v1 -->
//! ```text
//! $ cargo lesson run tcp-client-v1
//! ...
//! ```
//! <!-- /transcript -->
//! ````
//!
//! `cargo lesson run NAME --record` writes it; `cargo lesson transcripts` runs every
//! lesson that has one and fails when a fresh run no longer matches. Before comparing,
//! both are normalised: timestamps and durations dropped, ports (every port that appears
//! in an `IP:PORT`, wherever else it appears too) replaced by `PORT`, HTTP dates and
//! random hex masked; and the lines are compared side by side (`[server]`, `[client 1]`,
//! ...), because how the sides interleave varies from run to run.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use crate::meta::Compare;

pub const BEGIN: &str = "<!-- transcript:";
pub const END: &str = "<!-- /transcript -->";

/// One transcript block of a README.
#[derive(Debug)]
pub struct Block {
    /// `cargo lesson run tcp-client-v1 --wire`
    pub command: String,
    /// The words after `cargo lesson run`.
    pub args: Vec<String>,
    /// The recorded lines inside the fence (without the fence), `None` if not recorded.
    pub recorded: Option<Vec<String>>,
    /// The 1-based line of the begin marker, for messages.
    pub line: usize,
}

/// Find the blocks of a README. A begin marker without its end marker, or one whose
/// command is not `cargo lesson run ...`, is an error naming the line.
pub fn blocks(readme: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = readme.lines().collect();
    let (mut found, mut i) = (Vec::new(), 0);
    while i < lines.len() {
        let (line, begin) = (i + 1, begin_command(lines[i]));
        i += 1;
        let Some(command) = begin else { continue };
        let Some(rest) = command.strip_prefix("cargo lesson run ") else {
            let want = "<!-- transcript: cargo lesson run NAME -->";
            return Err(format!(
                "line {line}: a transcript marker should read `{want}`"
            ));
        };
        let end = lines[i..].iter().position(|l| l.trim() == END);
        let end = end.ok_or_else(|| format!("line {line}: transcript marker without `{END}`"))?;
        let inside = &lines[i..i + end];
        let fence = |l: &&str| l.trim_start().starts_with("```");
        let a = inside.iter().position(fence);
        let recorded = a.zip(inside.iter().rposition(fence)).filter(|(a, b)| b > a);
        let recorded = recorded.map(|(a, b)| inside[a + 1..b].iter().map(|l| l.to_string()));
        let (command, recorded) = (command.to_string(), recorded.map(Iterator::collect));
        let args = rest.split_whitespace().map(str::to_string).collect();
        found.push(Block {
            command,
            args,
            recorded,
            line,
        });
        i += end + 1;
    }
    Ok(found)
}

fn begin_command(line: &str) -> Option<&str> {
    let inner = line.trim().strip_prefix(BEGIN)?.strip_suffix("-->")?;
    Some(inner.trim())
}

/// The README with the block for `command` filled with `lines`.
pub fn replace(readme: &str, command: &str, lines: &[String]) -> Result<String, String> {
    let mut out = String::with_capacity(readme.len());
    let (mut replaced, mut skipping) = (false, false);
    for line in readme.lines() {
        if skipping && line.trim() != END {
            continue;
        }
        skipping = false;
        out.extend([line, "\n"]);
        if !replaced && begin_command(line) == Some(command) {
            out.push_str(&format!("```text\n$ {command}\n"));
            lines.iter().for_each(|l| out.extend([l.trim_end(), "\n"]));
            out.push_str("```\n");
            (replaced, skipping) = (true, true);
        }
    }
    match (replaced, skipping) {
        (false, _) => Err(format!(
            "no transcript block for `{command}`; add these two lines where it belongs, then record again:\n{BEGIN} {command} -->\n{END}"
        )),
        (_, true) => Err(format!(
            "the transcript block for `{command}` has no `{END}`"
        )),
        _ => Ok(out),
    }
}

/// Normalise lines for comparison: (side, text) pairs.
pub fn normalise(lines: &[String]) -> Vec<(String, String)> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut ports = BTreeSet::new();
    let lines: Vec<String> = (lines.iter())
        .map(|l| runs(&mask_http_dates(strip_stamp(l)), word, mask_hex))
        .map(|l| mask_addresses(&l, &mut ports))
        .collect();
    // Only ports the OS hands out are replaced where they stand alone: not `:0` (`--bind
    // 127.0.0.1:0`), nor the well-known ones, which would take `exit 0` or `2 b'he'` along.
    ports.retain(|p| p.parse::<u16>().is_ok_and(|p| p >= 1024));
    let port = |n: &str| if ports.contains(n) { "PORT" } else { n }.to_string();
    let timing = |c: char| c.is_alphanumeric() || c == '.';
    let normal = |line: &String| {
        let line = runs(line, timing, mask_duration);
        let line = runs(&line, |c| c.is_ascii_digit(), port);
        let (side, text) = split_side(&line);
        (side, text.trim_end().to_string())
    };
    lines.iter().map(normal).collect()
}

/// Differences between a recorded and a fresh transcript, one unified diff per side that
/// differs; empty when they match.
pub fn compare(recorded: &[String], fresh: &[String], mode: Compare) -> Vec<String> {
    let group = |lines: &[String]| {
        let mut sides: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (side, text) in normalise(lines) {
            sides.entry(side).or_default().push(text);
        }
        if mode == Compare::Unordered {
            sides.values_mut().for_each(|texts| texts.sort());
        }
        sides
    };
    let (old, new) = (group(recorded), group(fresh));
    let text = |sides: &BTreeMap<String, Vec<String>>, side: &str| {
        sides.get(side).map_or_else(String::new, |v| v.join("\n")) + "\n"
    };
    let sides: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut diffs = Vec::new();
    for side in sides {
        let (a, b) = (text(&old, side), text(&new, side));
        if a != b {
            let name = if side.is_empty() { "runner" } else { side };
            let (from, to) = (format!("recorded [{name}]"), format!("fresh run [{name}]"));
            let diff = similar::TextDiff::from_lines(&a, &b);
            diffs.push(diff.unified_diff().header(&from, &to).to_string());
        }
    }
    diffs
}

/// `line` with every longest run of characters of `class` replaced by `f(run)`.
fn runs(line: &str, class: impl Fn(char) -> bool, mut f: impl FnMut(&str) -> String) -> String {
    let (mut out, mut rest) = (String::with_capacity(line.len()), line);
    while !rest.is_empty() {
        let start = rest.find(&class).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c| !class(c)).unwrap_or(rest.len());
        if end > 0 {
            out.push_str(&f(&rest[..end]));
        }
        rest = &rest[end..];
    }
    out
}

/// `[+0.123s] rest` → `rest`.
fn strip_stamp(line: &str) -> &str {
    let stamp = line.strip_prefix("[+").and_then(|r| r.split_once("s] "));
    match stamp {
        Some((time, rest)) if time.bytes().all(|b| b.is_ascii_digit() || b == b'.') => rest,
        _ => line,
    }
}

/// HTTP dates (`Mon, 30 Nov 2026 02:46:03 GMT`, in a web server's `Date` and
/// `Last-Modified` headers) → `<date>`: they change from run to run.
fn mask_http_dates(line: &str) -> String {
    // A = a letter, 0 = a digit, anything else stands for itself.
    const SHAPE: &str = "Aaa, 00 Aaa 0000 00:00:00 GMT";
    let fits = |text: &str| {
        text.bytes().zip(SHAPE.bytes()).all(|(b, s)| match s {
            b'A' | b'a' => b.is_ascii_alphabetic(),
            b'0' => b.is_ascii_digit(),
            _ => b == s,
        })
    };
    let (mut out, mut rest) = (String::with_capacity(line.len()), line);
    while let Some(c) = rest.chars().next() {
        let date = rest.get(..SHAPE.len()).is_some_and(fits);
        let len = if date { SHAPE.len() } else { c.len_utf8() };
        out.push_str(if date { "<date>" } else { &rest[..len] });
        rest = &rest[len..];
    }
    out
}

/// A word (letters, digits, `_`) of 16 or more hex digits, one of them a digit (a random
/// challenge, a digest) → `<hex>`.
fn mask_hex(word: &str) -> String {
    let hex = word.len() >= 16 && word.bytes().all(|b| b.is_ascii_hexdigit());
    let hex = hex && word.bytes().any(|b| b.is_ascii_digit());
    if hex { "<hex>" } else { word }.to_string()
}

/// Replace the port of every `IP:PORT` in `line` with `PORT` (a `.` or `:` after it ends
/// the sentence), collecting the ports.
fn mask_addresses(line: &str, ports: &mut BTreeSet<String>) -> String {
    let class = |c: char| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']');
    runs(line, class, |run| {
        let addr = run.trim_end_matches(['.', ':']);
        let (Ok(parsed), Some((ip, _))) = (addr.parse::<SocketAddr>(), addr.rsplit_once(':'))
        else {
            return run.to_string();
        };
        ports.insert(parsed.port().to_string());
        format!("{ip}:PORT{}", &run[addr.len()..])
    })
}

/// `0.215s` → `Ns`, `12.5ms` → `Nms` (a number with a decimal point, then the unit, in a
/// run of letters, digits and dots): timings vary from run to run.
fn mask_duration(run: &str) -> String {
    let bare = run.trim_end_matches('.');
    let number = bare.trim_end_matches(char::is_alphabetic);
    let unit = &bare[number.len()..];
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let decimal = number
        .split_once('.')
        .is_some_and(|(a, b)| digits(a) && digits(b));
    match unit {
        "s" | "ms" if decimal => format!("N{unit}{}", &run[bare.len()..]),
        _ => run.to_string(),
    }
}

/// `[client 1] text` → ("client 1", "text"); other lines belong to the runner ("").
/// An empty line a program printed is recorded as `[client 1]` (the README keeps no
/// trailing space): ("client 1", "").
fn split_side(line: &str) -> (String, String) {
    let rest = line.strip_prefix('[');
    if let Some((side, text)) = rest.and_then(|rest| rest.split_once("] ")) {
        return (side.to_string(), text.to_string());
    }
    match rest.and_then(|rest| rest.strip_suffix(']')) {
        Some(side) if !side.contains(['[', ']']) => (side.to_string(), String::new()),
        _ => (String::new(), line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn normalising_drops_timings_ports_dates_and_hex() {
        let got = normalise(&lines(
            "[+0.002s] [server] listening on 127.0.0.1:40123\n\
             [+0.010s] [client 1] $ printf '127.0.0.1\\n40123\\nhi\\n' | tcp-client-v1\n\
             [+0.300s] done in 0.300s\n\
             [+0.300s] [wire 1] client [::1]:5000 connected.",
        ));
        let want = [
            ("server", "listening on 127.0.0.1:PORT"),
            (
                "client 1",
                "$ printf '127.0.0.1\\nPORT\\nhi\\n' | tcp-client-v1",
            ),
            ("", "done in Ns"),
            ("wire 1", "client [::1]:PORT connected."),
        ];
        let want: Vec<(String, String)> = want.map(|(a, b)| (a.into(), b.into())).into();
        assert_eq!(got, want);
        // Each case alone, `line ⇒ its text normalised`. Port 0 doesn't take other zeros
        // along, nor small numbers and words.
        let cases = "\
[client 1] Date: Mon, 30 Nov 2026 02:46:03 GMT ⇒ Date: <date>
é Sun, 06 Nov 1994 08:49:37 GMTx, 1 Nov 1994 ⇒ é <date>x, 1 Nov 1994
[client 1] challenge: 3cca5cb4c1b5d3c884789d3d41752281 (deadbeefdeadbeefx) ⇒ challenge: <hex> (deadbeefdeadbeefx)
[server] $ x --bind 127.0.0.1:0 ⇒ $ x --bind 127.0.0.1:PORT
  client 1  x  exit 0 ⇒   client 1  x  exit 0
[client 1] sent 13 bytes to 127.0.0.1:7891, 2 b'he' in 12.5ms (v1.5s, 1.2.3s) ⇒ sent 13 bytes to 127.0.0.1:PORT, 2 b'he' in Nms (v1.5s, 1.2.3s)";
        let cases = cases.lines().map(|c| c.split_once(" ⇒ ").expect(c));
        for (line, want) in cases {
            assert_eq!(normalise(&lines(line))[0].1, want, "{line}");
        }
    }

    #[test]
    fn sides_are_compared_apart() {
        let diffs = |a: &str, b: &str, mode| compare(&lines(a), &lines(b), mode);
        let same = |a: &str, b: &str| diffs(a, b, Compare::PerSide).is_empty();
        // An empty program line, printed as `[client 1] `, is recorded without the space.
        let fresh = "[+0.1s] [client 1] a\n[+0.1s] [client 1] \n[+0.2s] [client 1] b";
        assert!(same(
            "[client 1] a\n[client 1]\n[+0.2s] [client 1] b",
            fresh
        ));
        assert!(!same("[+0.1s] [client 1] a\n[+0.2s] [client 1] b", fresh));
        let a = "[client 1] Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT";
        assert!(same(
            a,
            "[client 1] Last-Modified: Wed, 02 Dec 2026 11:11:11 GMT"
        ));
        // Sides may interleave differently, but not change (unless unordered).
        let a = "[+0.1s] [server] one\n[+0.2s] [client 1] x\n[+0.3s] [server] two";
        assert!(same(
            a,
            "[+0.1s] [client 1] x\n[+0.2s] [server] one\n[server] two"
        ));
        let c = "[server] two\n[client 1] x\n[server] one";
        let found = diffs(a, c, Compare::PerSide);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("recorded [server]"), "{}", found[0]);
        assert!(diffs(a, c, Compare::Unordered).is_empty());
    }

    #[test]
    fn blocks_are_found_and_replaced() {
        let readme =
            "intro\n<!-- transcript: cargo lesson run x --wire -->\n<!-- /transcript -->\nend\n";
        let found = blocks(readme).expect("blocks");
        assert_eq!(found.len(), 1);
        assert_eq!((&found[0].args, found[0].line), (&lines("x\n--wire"), 2));
        assert!(found[0].recorded.is_none());
        let command = "cargo lesson run x --wire";
        let written = replace(readme, command, &lines("[+0.001s] a\nb  ")).expect("replace");
        assert_eq!(
            written,
            "intro\n<!-- transcript: cargo lesson run x --wire -->\n```text\n$ cargo lesson run x --wire\n[+0.001s] a\nb\n```\n<!-- /transcript -->\nend\n"
        );
        let again = blocks(&written).expect("blocks");
        let want = lines("$ cargo lesson run x --wire\n[+0.001s] a\nb");
        assert_eq!(again[0].recorded.as_deref(), Some(&want[..]));
        // Recording again replaces, it doesn't add.
        let twice = replace(&written, command, &lines("[+0.001s] a\nb")).expect("again");
        assert_eq!(twice, written);
        assert!(replace(readme, "cargo lesson run y", &[]).is_err());
        assert!(blocks("<!-- transcript: cargo lesson run x -->\n").is_err());
    }
}
