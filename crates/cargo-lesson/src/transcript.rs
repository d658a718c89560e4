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
//! in an `IP:PORT`, wherever else it appears too) replaced by `PORT`; and the lines are
//! compared side by side (`[server]`, `[client 1]`, ...), because how the sides
//! interleave varies from run to run.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
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
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(command) = begin_command(lines[i]) else {
            i += 1;
            continue;
        };
        let line = i + 1;
        let Some(rest) = command.strip_prefix("cargo lesson run ") else {
            return Err(format!(
                "line {line}: a transcript marker should read `<!-- transcript: cargo lesson run NAME -->`"
            ));
        };
        let args: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
        let end = lines[i + 1..]
            .iter()
            .position(|l| l.trim() == END)
            .map(|p| p + i + 1)
            .ok_or_else(|| format!("line {line}: transcript marker without `{END}`"))?;
        let inside = &lines[i + 1..end];
        let fence_open = inside
            .iter()
            .position(|l| l.trim_start().starts_with("```"));
        let fence_close = inside
            .iter()
            .rposition(|l| l.trim_start().starts_with("```"));
        let recorded = match (fence_open, fence_close) {
            (Some(a), Some(b)) if b > a => {
                Some(inside[a + 1..b].iter().map(|l| (*l).to_string()).collect())
            }
            _ => None,
        };
        found.push(Block {
            command: command.to_string(),
            args,
            recorded,
            line,
        });
        i = end + 1;
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
    let mut replaced = false;
    let mut skipping = false;
    for line in readme.lines() {
        if skipping {
            if line.trim() == END {
                skipping = false;
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if !replaced && begin_command(line) == Some(command) {
            out.push_str("```text\n");
            out.push_str(&format!("$ {command}\n"));
            for l in lines {
                out.push_str(l.trim_end());
                out.push('\n');
            }
            out.push_str("```\n");
            replaced = true;
            skipping = true;
        }
    }
    if !replaced {
        return Err(format!(
            "no transcript block for `{command}`; add these two lines where it belongs, then record again:\n{BEGIN} {command} -->\n{END}"
        ));
    }
    if skipping {
        return Err(format!(
            "the transcript block for `{command}` has no `{END}`"
        ));
    }
    Ok(out)
}

/// Normalise lines for comparison: (side, text) pairs.
pub fn normalise(lines: &[String]) -> Vec<(String, String)> {
    let mut ports = BTreeSet::new();
    let stripped: Vec<String> = lines
        .iter()
        .map(|l| mask_hex(&mask_http_dates(strip_stamp(l))))
        .collect();
    for line in &stripped {
        mask_addresses(line, &mut ports);
    }
    // Only ports the OS hands out are replaced where they stand alone: not `:0` (`--bind
    // 127.0.0.1:0`), nor the well-known ones, which would take `exit 0` or `2 b'he'` along.
    ports.retain(|p| p.parse::<u16>().is_ok_and(|p| p >= 1024));
    stripped
        .iter()
        .map(|line| {
            let text = mask_addresses(line, &mut BTreeSet::new());
            let text = mask_durations(&text);
            let text = mask_numbers(&text, &ports);
            let (side, text) = split_side(&text);
            (side, text.trim_end().to_string())
        })
        .collect()
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
            for texts in sides.values_mut() {
                texts.sort();
            }
        }
        sides
    };
    let (old, new) = (group(recorded), group(fresh));
    let sides: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut diffs = Vec::new();
    for side in sides {
        let a = old.get(side).map(|v| v.join("\n")).unwrap_or_default();
        let b = new.get(side).map(|v| v.join("\n")).unwrap_or_default();
        if a != b {
            let name = if side.is_empty() {
                "runner"
            } else {
                side.as_str()
            };
            let (a, b) = (format!("{a}\n"), format!("{b}\n"));
            let diff = similar::TextDiff::from_lines(&a, &b)
                .unified_diff()
                .header(
                    &format!("recorded [{name}]"),
                    &format!("fresh run [{name}]"),
                )
                .to_string();
            diffs.push(diff);
        }
    }
    diffs
}

/// `[+0.123s] rest` → `rest`.
fn strip_stamp(line: &str) -> &str {
    let Some(rest) = line.strip_prefix("[+") else {
        return line;
    };
    match rest.find("s] ") {
        Some(close)
            if rest[..close]
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.') =>
        {
            &rest[close + 3..]
        }
        _ => line,
    }
}

/// HTTP dates (`Mon, 30 Nov 2026 02:46:03 GMT`, in a web server's `Date` and
/// `Last-Modified` headers) → `<date>`: they change from run to run.
fn mask_http_dates(line: &str) -> String {
    // A = a letter, 0 = a digit, anything else stands for itself.
    const SHAPE: &[u8] = b"Aaa, 00 Aaa 0000 00:00:00 GMT";
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= SHAPE.len()
            && SHAPE.iter().zip(&bytes[i..]).all(|(&s, &b)| match s {
                b'A' | b'a' => b.is_ascii_alphabetic(),
                b'0' => b.is_ascii_digit(),
                _ => s == b,
            });
        if fits {
            out.push_str("<date>");
            i += SHAPE.len();
            continue;
        }
        // One character as it is (the shape is ASCII, so `i` stays on a boundary).
        let len = line[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&line[i..i + len]);
        i += len;
    }
    out
}

/// Runs of 16 or more hex digits (a random challenge, a digest) → `<hex>`.
fn mask_hex(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let hex = word.len() >= 16
            && word.bytes().all(|b| b.is_ascii_hexdigit())
            && word.bytes().any(|b| b.is_ascii_digit());
        out.push_str(if hex { "<hex>" } else { word.as_str() });
        word.clear();
    };
    for c in line.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `[client 1] text` → ("client 1", "text"); other lines belong to the runner ("").
/// An empty line a program printed is recorded as `[client 1]` (the README keeps no
/// trailing space): ("client 1", "").
fn split_side(line: &str) -> (String, String) {
    if let Some(rest) = line.strip_prefix('[') {
        if let Some(close) = rest.find("] ") {
            return (rest[..close].to_string(), rest[close + 2..].to_string());
        }
        if let Some(side) = rest.strip_suffix(']')
            && !side.contains(['[', ']'])
        {
            return (side.to_string(), String::new());
        }
    }
    (String::new(), line.to_string())
}

fn is_addr_char(c: char) -> bool {
    c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']')
}

/// Replace the port of every `IP:PORT` in `line` with `PORT`, collecting the ports.
fn mask_addresses(line: &str, ports: &mut BTreeSet<String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String, ports: &mut BTreeSet<String>| {
        let trimmed = run.trim_end_matches(['.', ':']);
        let tail = &run[trimmed.len()..];
        match trimmed.parse::<SocketAddr>() {
            Ok(addr) => {
                ports.insert(addr.port().to_string());
                let ip = &trimmed[..trimmed.rfind(':').unwrap_or(trimmed.len())];
                out.push_str(ip);
                out.push_str(":PORT");
                out.push_str(tail);
            }
            Err(_) => out.push_str(run),
        }
        run.clear();
    };
    for c in line.chars() {
        if is_addr_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out, ports);
            out.push(c);
        }
    }
    flush(&mut run, &mut out, ports);
    out
}

/// Replace whole numbers that are known ports with `PORT`.
fn mask_numbers(line: &str, ports: &BTreeSet<String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut digits = String::new();
    for c in line.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            if ports.contains(&digits) {
                out.push_str("PORT");
            } else {
                out.push_str(&digits);
            }
            digits.clear();
        }
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// `0.215s` → `Ns`, `12.5ms` → `Nms`: timings vary from run to run.
fn mask_durations(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_number =
            chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if starts_number {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let mut k = j;
            if k + 1 < chars.len() && chars[k] == '.' && chars[k + 1].is_ascii_digit() {
                k += 1;
                while k < chars.len() && chars[k].is_ascii_digit() {
                    k += 1;
                }
            }
            let unit_end = |unit: &str| {
                let u: Vec<char> = unit.chars().collect();
                let end = k + u.len();
                (end <= chars.len()
                    && chars[k..end] == u[..]
                    && chars.get(end).is_none_or(|c| !c.is_ascii_alphanumeric()))
                .then_some(end)
            };
            if k > j {
                if let Some(end) = unit_end("ms") {
                    out.push_str("Nms");
                    i = end;
                    continue;
                }
                if let Some(end) = unit_end("s") {
                    out.push_str("Ns");
                    i = end;
                    continue;
                }
            }
            out.extend(&chars[i..k]);
            i = k;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn normalising_drops_timings_and_ports() {
        let got = normalise(&lines(
            "[+0.002s] [server] listening on 127.0.0.1:40123\n\
             [+0.010s] [client 1] $ printf '127.0.0.1\\n40123\\nhi\\n' | tcp-client-v1\n\
             [+0.020s] [server] client 127.0.0.1:51514 connected\n\
             [+0.300s] done in 0.300s\n\
             [+0.300s] [wire 1] client [::1]:5000 connected.",
        ));
        let want: Vec<(String, String)> = [
            ("server", "listening on 127.0.0.1:PORT"),
            (
                "client 1",
                "$ printf '127.0.0.1\\nPORT\\nhi\\n' | tcp-client-v1",
            ),
            ("server", "client 127.0.0.1:PORT connected"),
            ("", "done in Ns"),
            ("wire 1", "client [::1]:PORT connected."),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn an_empty_program_line_stays_on_its_side() {
        // Printed as `[client 1] `, recorded without the trailing space.
        let recorded = lines("[+0.1s] [client 1] a\n[+0.1s] [client 1]\n[+0.2s] [client 1] b");
        let fresh = vec![
            "[+0.1s] [client 1] a".to_string(),
            "[+0.1s] [client 1] ".to_string(),
            "[+0.2s] [client 1] b".to_string(),
        ];
        assert!(compare(&recorded, &fresh, Compare::PerSide).is_empty());
        let without = lines("[+0.1s] [client 1] a\n[+0.2s] [client 1] b");
        assert!(!compare(&without, &fresh, Compare::PerSide).is_empty());
    }

    #[test]
    fn http_dates_are_masked() {
        assert_eq!(
            mask_http_dates("[client 1] Date: Mon, 30 Nov 2026 02:46:03 GMT"),
            "[client 1] Date: <date>"
        );
        assert_eq!(
            mask_http_dates("é Sun, 06 Nov 1994 08:49:37 GMTx, 1 Nov 1994"),
            "é <date>x, 1 Nov 1994"
        );
        let a = lines("[client 1] Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT");
        let b = lines("[client 1] Last-Modified: Wed, 02 Dec 2026 11:11:11 GMT");
        assert!(compare(&a, &b, Compare::PerSide).is_empty());
    }

    #[test]
    fn random_hex_is_masked() {
        let got = normalise(&lines(
            "[client 1] challenge: 3cca5cb4c1b5d3c884789d3d41752281 (deadbeefdeadbeefx)",
        ));
        assert_eq!(got[0].1, "challenge: <hex> (deadbeefdeadbeefx)");
    }

    #[test]
    fn port_zero_does_not_take_other_zeros_along() {
        let got = normalise(&lines(
            "[server] $ x --bind 127.0.0.1:0\n[+0.276s] done in 0.276s\n  client 1  x  exit 0",
        ));
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "$ x --bind 127.0.0.1:PORT",
                "done in Ns",
                "  client 1  x  exit 0"
            ]
        );
    }

    #[test]
    fn small_numbers_and_words_stay() {
        let got = normalise(&lines(
            "[client 1] sent 13 bytes to 127.0.0.1:7891, 2 b'he' in 12.5ms",
        ));
        assert_eq!(got[0].1, "sent 13 bytes to 127.0.0.1:PORT, 2 b'he' in Nms");
    }

    #[test]
    fn sides_may_interleave_differently_but_not_change() {
        let a = lines("[+0.1s] [server] one\n[+0.2s] [client 1] x\n[+0.3s] [server] two");
        let b = lines("[+0.1s] [client 1] x\n[+0.2s] [server] one\n[+0.3s] [server] two");
        assert!(compare(&a, &b, Compare::PerSide).is_empty());
        let c = lines("[server] two\n[client 1] x\n[server] one");
        let diffs = compare(&a, &c, Compare::PerSide);
        assert_eq!(diffs.len(), 1);
        assert!(diffs[0].contains("recorded [server]"), "{}", diffs[0]);
        assert!(compare(&a, &c, Compare::Unordered).is_empty());
    }

    #[test]
    fn blocks_are_found_and_replaced() {
        let readme =
            "intro\n<!-- transcript: cargo lesson run x --wire -->\n<!-- /transcript -->\nend\n";
        let found = blocks(readme).expect("blocks");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].args, ["x", "--wire"]);
        assert!(found[0].recorded.is_none());
        let written = replace(
            readme,
            "cargo lesson run x --wire",
            &lines("[+0.001s] a\nb  "),
        )
        .expect("replace");
        assert_eq!(
            written,
            "intro\n<!-- transcript: cargo lesson run x --wire -->\n```text\n$ cargo lesson run x --wire\n[+0.001s] a\nb\n```\n<!-- /transcript -->\nend\n"
        );
        let again = blocks(&written).expect("blocks");
        assert_eq!(
            again[0].recorded.as_deref(),
            Some(&lines("$ cargo lesson run x --wire\n[+0.001s] a\nb")[..])
        );
        // Recording again replaces, it doesn't add.
        assert_eq!(
            replace(
                &written,
                "cargo lesson run x --wire",
                &lines("[+0.001s] a\nb")
            )
            .expect("again"),
            written
        );
        assert!(replace(readme, "cargo lesson run y", &[]).is_err());
        assert!(blocks("<!-- transcript: cargo lesson run x -->\n").is_err());
    }
}
