//! The text of HTTP/1.1 that http-get writes and reads: the URL, the request, the
//! response head (status line and headers), how the body is framed, and the size line of
//! each chunk of a chunked body.
//!
//! No sockets here. main.rs reads and writes; this file turns text into meaning and,
//! when the text makes none, says exactly what is wrong with it.

use std::fmt;
use std::net::Ipv6Addr;

/// Why a URL (typed, or from a `Location` header) can't be fetched.
#[derive(Debug, PartialEq)]
pub enum UrlError {
    /// `https://`: the page is behind TLS, which this lesson does not speak.
    Tls,
    /// Anything else, with the reason.
    Bad(String),
}

fn bad<T>(why: impl Into<String>) -> Result<T, UrlError> {
    Err(UrlError::Bad(why.into()))
}

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
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        let Some((scheme, rest)) = text.split_once("://") else {
            return bad("a URL starts with http://");
        };
        if scheme.eq_ignore_ascii_case("https") {
            return Err(UrlError::Tls);
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return bad(format!("{scheme}:// is not HTTP; only http:// URLs"));
        }
        check_characters(rest)?;
        let rest = rest.split('#').next().unwrap_or_default();
        // The authority (host and port) runs to the first `/` or `?`.
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(end);
        let target = match target {
            "" => "/".to_string(),
            t if t.starts_with('?') => format!("/{t}"),
            t => t.to_string(),
        };
        if authority.contains('@') {
            return bad("user names and passwords (user@host) are not supported");
        }
        let (host, port) = split_host_port(authority)?;
        Ok(Url { host, port, target })
    }

    /// The `Host` header's value: the name, and the port unless it is HTTP's 80.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host) // an IPv6 address
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Where a `Location` header points, seen from this URL. It may be absolute
    /// (`http://other/x`), start with `//` (same scheme, other host), start with `/`
    /// (same host, other path) or be relative to this URL's folder (`page2.html`).
    pub fn join(&self, location: &str) -> Result<Url, UrlError> {
        if location.contains("://") {
            return Url::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("http://{rest}"));
        }
        check_characters(location)?;
        let location = location.split('#').next().unwrap_or_default();
        let target = if location.starts_with('/') {
            location.to_string()
        } else {
            let path = self.target.split('?').next().unwrap_or("/");
            let folder = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            format!("{folder}{location}")
        };
        Ok(Url {
            host: self.host.clone(),
            port: self.port,
            target: if target.is_empty() {
                "/".to_string()
            } else {
                target
            },
        })
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

/// Printable ASCII only: no spaces, no control characters, nothing beyond ASCII.
fn check_characters(text: &str) -> Result<(), UrlError> {
    match text.chars().find(|c| !c.is_ascii_graphic()) {
        None => Ok(()),
        Some(c) if c.is_ascii() => bad(format!(
            "'{}' can't be sent in a request line; percent-encode it ({})",
            netkit::escaped(&c.to_string()),
            if c == ' ' { "%20" } else { "%XX" }
        )),
        Some(c) => bad(format!(
            "'{}' is not ASCII; percent-encode its UTF-8 bytes (%XX)",
            netkit::escaped(&c.to_string())
        )),
    }
}

/// `example.com`, `example.com:8080`, `[::1]:8080` → (host, port).
fn split_host_port(authority: &str) -> Result<(String, u16), UrlError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        // An IPv6 address is written in brackets, because it is full of colons.
        let Some((v6, after)) = rest.split_once(']') else {
            return bad("an IPv6 address needs its closing ]");
        };
        if v6.parse::<Ipv6Addr>().is_err() {
            return bad(format!("[{v6}] is not an IPv6 address"));
        }
        match after {
            "" => (v6, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (v6, Some(port)),
                None => return bad(format!("unexpected {after:?} after ]")),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return bad("no host name");
    }
    let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if !authority.starts_with('[') && !host.chars().all(name_char) {
        return bad(format!("{host:?} is not a host name"));
    }
    let port = match port {
        None => 80, // HTTP's port
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return bad(format!("port {p:?} should be a number from 1 to 65535")),
        },
    };
    Ok((host.to_string(), port))
}

/// The whole request. HTTP/1.1 needs a `Host` line (one address may serve many
/// sites); `Connection: close` asks the server to close when the response is complete,
/// so "read until the stream ends" works; the blank line (`\r\n\r\n`) ends the request.
pub fn request(url: &Url) -> String {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: http-get/{} (a socket-programming lesson)\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.target,
        url.host_header(),
        env!("CARGO_PKG_VERSION")
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
    /// Take the head apart: `head` is everything before the first `\r\n\r\n`.
    pub fn parse(head: &[u8]) -> Result<Head, String> {
        // Header text is ASCII in practice; anything else is shown, not trusted.
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_string();
        // HTTP/1.1 200 OK: version, a space, three digits, a space, a reason (may be empty).
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let code = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(format!(
                "status line {}: not HTTP/1.x",
                quoted(&status_line)
            ));
        }
        let status = match code.parse::<u16>() {
            Ok(n) if code.len() == 3 && (100..=599).contains(&n) => n,
            _ => {
                let shown = quoted(&status_line);
                return Err(format!("status line {shown}: no status code"));
            }
        };
        let mut headers = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                return Err(format!(
                    "header line {} continues the one before it (obsolete line folding)",
                    quoted(line)
                ));
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(format!("header line {} has no ':'", quoted(line)));
            };
            if name.is_empty() || name.contains(|c: char| c.is_whitespace()) {
                return Err(format!(
                    "header line {}: {} is not a header name",
                    quoted(line),
                    quoted(name)
                ));
            }
            headers.push((name.to_string(), value.trim().to_string()));
        }
        Ok(Head {
            status,
            status_line,
            headers,
        })
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
    /// Neither: the body is everything until the server closes (HTTP/1.0's way).
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
        match Url::parse(text) {
            Err(UrlError::Bad(why)) => why,
            other => panic!("{text}: expected a bad URL, got {other:?}"),
        }
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
    }

    #[test]
    fn bad_urls_say_why() {
        assert_eq!(Url::parse("https://example.com/"), Err(UrlError::Tls));
        assert!(why("example.com").contains("http://"));
        assert!(why("ftp://example.com/").contains("only http://"));
        assert!(why("http:///x").contains("no host"));
        assert!(why("http://h:0/").contains("port"));
        assert!(why("http://h:99999/").contains("port"));
        assert!(why("http://h:+80/").contains("port"));
        assert!(why("http://h:/").contains("port"));
        assert!(why("http://a b/").contains("%20"));
        assert!(why("http://h/a\r\nX-Evil: 1").contains("percent-encode"));
        assert!(why("http://h/é").contains("not ASCII"));
        assert!(why("http://u:p@h/").contains("user"));
        assert!(why("http://[::1/").contains("]"));
        assert!(why("http://[zz]/").contains("IPv6"));
        assert!(why("http://h%41/").contains("host name"));
        assert!(why("http://a:b:80/").contains("host name"));
    }

    #[test]
    fn locations_are_joined() {
        let base = url("http://h:81/docs/a.html?x");
        assert_eq!(
            base.join("/b").expect("parses").to_string(),
            "http://h:81/b"
        );
        assert_eq!(
            base.join("c.html").expect("parses").to_string(),
            "http://h:81/docs/c.html"
        );
        assert_eq!(
            base.join("//other/x").expect("parses").to_string(),
            "http://other/x"
        );
        assert_eq!(
            base.join("http://o:9/").expect("parses").to_string(),
            "http://o:9/"
        );
        assert_eq!(base.join("https://o/"), Err(UrlError::Tls));
        assert!(base.join("/a b").is_err());
        assert_eq!(url("http://h").join("x").expect("parses").target, "/x");
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
    fn the_request_is_the_course_s_plus_two_lines() {
        let text = request(&url("http://h:8000/x"));
        assert!(text.starts_with("GET /x HTTP/1.1\r\nHost: h:8000\r\nUser-Agent: http-get/"));
        assert!(text.ends_with("\r\nConnection: close\r\n\r\n"));
    }

    #[test]
    fn heads_and_framing() {
        let head = Head::parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX:  y ").expect("parses");
        assert_eq!(head.status, 200);
        assert_eq!(head.value("content-length"), Some("5"));
        assert_eq!(head.value("x"), Some("y"));
        assert_eq!(head.framing(), Ok(Framing::Length(5)));
        let head = Head::parse(b"HTTP/1.0 404 Not Found").expect("parses");
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
