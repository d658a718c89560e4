//! The text of HTTP/1.1 that http-get-v1 writes: the URL typed on the command line,
//! taken apart, and the request.
//!
//! No sockets here. main.rs reads and writes; this file turns text into meaning and,
//! when the text makes none, says exactly what is wrong with it.

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
}
