//! The text of HTTP/1.1 that http-get-v2 writes and reads: the URL (typed, or from a
//! `Location` header), taken apart, the request, the response head (status line and
//! headers), how the body is framed, and the size line of each chunk of a chunked body.
//!
//! No sockets here. main.rs reads and writes; this file turns text into meaning and,
//! when the text makes none, says exactly what is wrong with it.

use std::fmt;

/// `http://HOST[:PORT][/PATH][?QUERY]`, taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Url {
    /// A name or an address; an IPv6 address without its brackets.
    pub host: String,
    pub port: u16,
    /// What goes into the request line: the path and the query, `/` at least.
    pub target: String,
}

impl Url {
    /// Take a URL apart. Only `http://`; the `#fragment` is dropped (it never goes to the
    /// server). Spaces and control characters are refused, not sent: they would end the
    /// request line early and let the rest of the URL be read as headers.
    pub fn parse(text: &str) -> Result<Url, String> {
        let rest = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
                return Err(format!(
                    "https:// needs TLS (encryption), which this lesson does not speak; fetch it with a TLS client, e.g. curl -O {text}"
                ));
            }
            _ => return Err("a URL starts with http://".into()),
        };
        if let Some(c) = rest.chars().find(|c| !c.is_ascii_graphic()) {
            let code = if c == ' ' { "%20" } else { "%XX" };
            let why = format!("'{c}' can't be sent in a request line; percent-encode it ({code})");
            return Err(why);
        }
        let rest = rest.split('#').next().unwrap_or_default();
        // The authority (host and port) runs to the first `/` or `?`; then the target.
        let (authority, target) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.ends_with(']') => match port.parse::<u16>() {
                Ok(n) if n > 0 && port.bytes().all(|b| b.is_ascii_digit()) => (host, n),
                _ => return Err(format!("port {port:?} should be a number from 1 to 65535")),
            },
            _ => (authority, 80), // HTTP's port
        };
        // [::1] is an IPv6 address, in brackets because it is full of colons.
        let host = host.trim_matches(['[', ']']).to_string();
        if host.is_empty() {
            return Err("no host name".into());
        }
        let target = format!("/{}", target.trim_start_matches('/')); // `/` at least
        Ok(Url { host, port, target })
    }

    /// The `Host` header's value: the name, and the port unless it is HTTP's 80.
    pub fn host_header(&self) -> String {
        match self.port {
            80 if self.host.contains(':') => format!("[{}]", self.host),
            80 => self.host.clone(),
            port => netkit::host_port(&self.host, port),
        }
    }

    /// Where a `Location` header points, seen from this URL. It may be absolute
    /// (`http://other/x`), start with `//` (same scheme, other host), start with `/`
    /// (same host, other path) or be relative to this URL's folder (`page2.html`). The
    /// result is taken apart as a typed URL is, with the same refusals.
    pub fn join(&self, location: &str) -> Result<Url, String> {
        let host = self.host_header();
        let absolute = if location.contains("://") {
            location.to_string()
        } else if let Some(rest) = location.strip_prefix("//") {
            format!("http://{rest}")
        } else if location.starts_with('/') {
            format!("http://{host}{location}")
        } else {
            let path = self.target.split('?').next().unwrap_or("/");
            let folder = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            format!("http://{host}{folder}{location}")
        };
        Url::parse(&absolute)
    }

    /// The name to save the body under: the last segment of the path (without the
    /// query), or `index.html` when that is empty (`/`, `/docs/`). It cannot contain a
    /// `/`, so the file lands in the current folder; `%20` and the like stay as they are.
    pub fn file_name(&self) -> String {
        let path = self.target.split('?').next().unwrap_or_default();
        match path.rsplit('/').next() {
            None | Some("" | "." | "..") => "index.html".to_string(),
            Some(last) => last.to_string(),
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.host_header(), self.target)
    }
}

/// The whole request, the course's: the request line, `Host` (HTTP/1.1 requires it: one
/// address may serve many sites), `Connection: close` (the server closes when the
/// response is complete, so "read until the server closes" finds the end), a blank line.
pub fn request(url: &Url) -> String {
    let host = url.host_header();
    format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        url.target
    )
}

/// The status line and headers of a response, the text before the blank line.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    /// `HTTP/1.1 404 Not Found` as it came.
    pub status_line: String,
    /// (name, value) in order; names as sent (compare them without case).
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// Take the head apart: `head` is everything before the first `\r\n\r\n`. Its first
    /// line is the status line, `HTTP/1.1 200 OK` (the version, a space, three digits, a
    /// space, a reason that may be empty); each line after it is `Name: value`.
    pub fn parse(head: &[u8]) -> Result<Head, String> {
        // Header text is ASCII in practice; anything else is shown, not trusted.
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_string();
        let shown = format!("status line {}", quoted(&status_line));
        let (version, rest) = status_line.split_once(' ').unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(format!("{shown}: not HTTP/1.x"));
        }
        let code = rest.split(' ').next().unwrap_or_default();
        let status = match code.parse::<u16>() {
            Ok(n) if code.len() == 3 && (100..=599).contains(&n) => n,
            _ => return Err(format!("{shown}: no status code")),
        };
        let mut headers = Vec::new();
        for line in lines {
            let shown = format!("header line {}", quoted(line));
            if line.starts_with([' ', '\t']) {
                return Err(format!(
                    "{shown} continues the one before it (obsolete line folding)"
                ));
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(format!("{shown} has no ':'"));
            };
            if name.is_empty() || name.contains(|c: char| c.is_whitespace()) {
                return Err(format!("{shown}: {} is not a header name", quoted(name)));
            }
            headers.push((name.to_string(), value.trim().to_string()));
        }
        Ok(Head {
            status,
            status_line,
            headers,
        })
    }

    /// `404 Not Found`: the status line without its version.
    pub fn status_text(&self) -> &str {
        self.status_line.split_once(' ').map_or("", |(_, s)| s)
    }

    /// Every value of header `name` (any case), in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name`.
    pub fn value<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.values(name).next()
    }

    /// Where the body ends. A server says so in one of three ways.
    pub fn framing(&self) -> Result<Framing, String> {
        // 1xx, 204 and 304 responses never have a body, whatever the headers say.
        if matches!(self.status, 100..=199 | 204 | 304) {
            return Ok(Framing::Length(0));
        }
        // Transfer-Encoding wins over Content-Length (RFC 9112, 6.3). We asked for no
        // compression, so the only coding we accept is chunked.
        let codings: Vec<String> = self
            .values("transfer-encoding")
            .flat_map(|v| v.split(','))
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        if !codings.is_empty() {
            if codings == ["chunked"] {
                return Ok(Framing::Chunked);
            }
            return Err(format!(
                "Transfer-Encoding: {} is not supported (only chunked)",
                netkit::escaped(&codings.join(", "))
            ));
        }
        // Content-Length: digits only. A repeated header must repeat the same number.
        let mut length: Option<u64> = None;
        for value in self.values("content-length").flat_map(|v| v.split(',')) {
            let value = value.trim();
            let n = match value.parse::<u64>() {
                Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(format!("Content-Length: {} is not a number", quoted(value))),
            };
            if length.is_some_and(|l| l != n) {
                return Err("two different Content-Length values".to_string());
            }
            length = Some(n);
        }
        Ok(match length {
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        })
    }
}

/// Text from the server, in quotes, its control characters escaped: it stays one line.
fn quoted(text: &str) -> String {
    format!("\"{}\"", netkit::escaped(text))
}

/// How the end of the body is known.
#[derive(Debug, PartialEq)]
pub enum Framing {
    /// `Content-Length: N`: exactly N bytes; fewer is a cut-off download.
    Length(u64),
    /// `Transfer-Encoding: chunked`: size line, bytes, size line, bytes, ..., size 0.
    Chunked,
    /// Neither: the body is everything until the server closes (HTTP/1.0's way, and
    /// http-get-v1's for every response).
    UntilClose,
}

/// The size in a chunk's first line (`1a3f`, `1a3f;name=value`), hex; `line` is without
/// its `\r\n`. Extensions after `;` are allowed and ignored, as RFC 9112 says.
pub fn chunk_size(line: &[u8]) -> Result<u64, String> {
    let shown = || netkit::py_bytes(line);
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(format!("chunk-size line {} has no hex size", shown()));
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let digit = u64::from(char::from(b).to_digit(16).unwrap_or(0));
        // A size that does not fit in 64 bits is a lie, not a big chunk.
        size = match size.checked_mul(16).and_then(|s| s.checked_add(digit)) {
            Some(s) => s,
            None => return Err(format!("chunk size in {} is too large", shown())),
        };
    }
    let rest = &line[digits..];
    let after_spaces = rest.iter().position(|b| !matches!(b, b' ' | b'\t'));
    match after_spaces.map(|i| rest[i]) {
        None | Some(b';') => Ok(size),
        Some(_) => Err(format!("chunk-size line {} is not hex", shown())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect(text)
    }

    fn why(text: &str) -> String {
        Url::parse(text).expect_err(text)
    }

    #[test]
    fn urls_come_apart() {
        let u = url("http://example.com");
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("example.com", 80, "/")
        );
        assert_eq!(u.host_header(), "example.com");
        let u = url("HTTP://127.0.0.1:8000/a/b.html?x=1#top");
        assert_eq!((u.host.as_str(), u.port), ("127.0.0.1", 8000));
        assert_eq!(u.target, "/a/b.html?x=1");
        assert_eq!(u.host_header(), "127.0.0.1:8000");
        assert_eq!(u.to_string(), "http://127.0.0.1:8000/a/b.html?x=1");
        let u = url("http://[::1]:8080?q");
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("::1", 8080, "/?q")
        );
        assert_eq!(u.host_header(), "[::1]:8080");
        assert_eq!(url("http://[::1]/").host_header(), "[::1]");
    }

    #[test]
    fn bad_urls_say_why() {
        assert!(why("https://example.com/").starts_with("https:// needs TLS"));
        assert!(why("example.com").contains("http://"));
        assert!(why("ftp://example.com/").contains("http://"));
        assert!(why("http:///x").contains("no host"));
        assert!(why("http://h:0/").contains("port"));
        assert!(why("http://h:99999/").contains("port"));
        assert!(why("http://h:+80/").contains("port"));
        assert!(why("http://h:/").contains("port"));
        assert!(why("http://a b/").contains("%20"));
        assert!(why("http://h/a\r\nX-Evil: 1").contains("percent-encode"));
        assert!(why("http://h/é").contains("percent-encode"));
    }

    #[test]
    fn file_names_come_from_the_last_segment() {
        assert_eq!(url("http://h/").file_name(), "index.html");
        assert_eq!(url("http://h/docs/").file_name(), "index.html");
        assert_eq!(url("http://h/a/big.bin?x=/y").file_name(), "big.bin");
        assert_eq!(url("http://h/a/..").file_name(), "index.html");
        assert_eq!(url("http://h/a%20b").file_name(), "a%20b");
    }

    #[test]
    fn the_request_is_the_course_s() {
        assert_eq!(
            request(&url("http://h:8000/x")),
            "GET /x HTTP/1.1\r\nHost: h:8000\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn locations_are_joined() {
        let base = url("http://h:81/docs/a.html?x");
        let joined = |location: &str| base.join(location).expect(location).to_string();
        assert_eq!(joined("/b"), "http://h:81/b");
        assert_eq!(joined("c.html"), "http://h:81/docs/c.html");
        assert_eq!(joined("//other/x"), "http://other/x");
        assert_eq!(joined("http://o:9/"), "http://o:9/");
        assert!(
            base.join("https://o/")
                .unwrap_err()
                .starts_with("https:// needs TLS")
        );
        assert!(base.join("/a b").unwrap_err().contains("%20"));
        assert!(
            base.join("/x\x1b[2J")
                .unwrap_err()
                .contains("percent-encode")
        );
        assert_eq!(url("http://h").join("x").expect("parses").target, "/x");
        assert_eq!(
            url("http://[::1]:8/a").join("b").expect("parses").host,
            "::1"
        );
    }

    #[test]
    fn heads_and_framing() {
        let head = Head::parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX:  y ").expect("parses");
        assert_eq!((head.status, head.status_text()), (200, "200 OK"));
        assert_eq!(head.value("content-length"), Some("5"));
        assert_eq!(head.value("x"), Some("y"));
        assert_eq!(head.framing(), Ok(Framing::Length(5)));
        let head = Head::parse(b"HTTP/1.0 404 Not Found").expect("parses");
        assert_eq!(head.status_text(), "404 Not Found");
        assert_eq!(head.framing(), Ok(Framing::UntilClose));
        let head =
            Head::parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 3")
                .expect("parses");
        assert_eq!(head.framing(), Ok(Framing::Chunked));
        let head = Head::parse(b"HTTP/1.1 204 No Content\r\nContent-Length: 9").expect("parses");
        assert_eq!(head.framing(), Ok(Framing::Length(0)));
        for (bad_head, says) in [
            (
                &b"HTTP/1.1 200 OK\r\nContent-Length: -1"[..],
                "not a number",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2",
                "two different",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked",
                "not supported",
            ),
        ] {
            let head = Head::parse(bad_head).expect("parses");
            assert!(head.framing().unwrap_err().contains(says), "{says}");
        }
        for (bad_head, says) in [
            (&b"SSH-2.0-OpenSSH"[..], "not HTTP"),
            (b"HTTP/1.1 OK", "no status code"),
            (b"HTTP/1.1 2000 OK", "no status code"),
            (b"HTTP/1.1 200 OK\r\nno colon", "no ':'"),
            (b"HTTP/1.1 200 OK\r\nA: b\r\n c", "folding"),
            (b"HTTP/1.1 200 OK\r\nBad Name: x", "not a header name"),
        ] {
            assert!(Head::parse(bad_head).unwrap_err().contains(says), "{says}");
        }
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"0"), Ok(0));
        assert_eq!(chunk_size(b"1a"), Ok(26));
        assert_eq!(chunk_size(b"FF;name=value"), Ok(255));
        assert_eq!(chunk_size(b"7 ; x"), Ok(7));
        assert_eq!(chunk_size(b"ffffffffffffffff"), Ok(u64::MAX));
        assert!(
            chunk_size(b"10000000000000000")
                .unwrap_err()
                .contains("too large")
        );
        assert!(chunk_size(b"").unwrap_err().contains("no hex size"));
        assert!(chunk_size(b"zz").unwrap_err().contains("no hex size"));
        assert!(chunk_size(b"12g").unwrap_err().contains("not hex"));
    }
}
