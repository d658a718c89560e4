//! http-get: fetch a web page over a bare TCP socket, print the response head, save the
//! body to a file.
//!
//! The course's HTTP client (TCP编程 · 客户端) connects to port 80, sends a GET request as
//! plain text, reads 1024 bytes at a time until the server closes, splits the headers from
//! the body at the first blank line (`\r\n\r\n`) and writes the body to an .html file.
//! This program takes the same steps, and adds what a real download needs: the body's end
//! found the way the server announces it (Content-Length, or chunked), redirects, an exit
//! status for every failure, and never a half-written file. The HTTP text itself (the URL,
//! the request, the head, the chunk sizes) is in src/http.rs.
//!
//! Run it:        python3 -m http.server 8000 --bind 127.0.0.1        (in a folder with files)
//! Then, in another terminal:
//!                cargo run -p http-get -- http://127.0.0.1:8000/
//! You will see:  sent GET / HTTP/1.1 to 127.0.0.1:8000 / HTTP/1.0 200 OK / Server: ... /
//!                saved 1234 bytes to index.html (Content-Length: 1234)
//! Try:           cargo run -p http-get -- --follow http://127.0.0.1:8000/SOME-FOLDER
//!                cargo run -p http-get -- http://example.com/   (a real web site)

mod http;

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use netkit::{error_line, escaped, py_bytes, say};

use http::{Framing, Head, Url, UrlError};

/// The most a response head (status line and headers) may take. Real ones are a few
/// hundred bytes; without a limit, a server that never sends the blank line would fill
/// our memory.
const MAX_HEAD: usize = 64 * 1024;
/// The longest chunk-size line or trailer line.
const MAX_LINE: usize = 4096;
/// How many redirects --follow takes before it decides it is going round in circles.
const MAX_REDIRECTS: u32 = 5;
/// How much of the body is read from the socket, and written to the file, at a time.
const BUFFER: usize = 64 * 1024;

/// Fetch a web page over a bare TCP socket, print the response head, save the body.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The page: http://HOST[:PORT]/PATH (https:// is beyond this lesson).
    url: String,
    /// Save the body as FILE, replacing an older FILE (default: the last path segment of
    /// the URL typed here, index.html for /, and never over a file already there).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Follow redirects (a 3xx status with a Location header), up to 5.
    #[arg(long)]
    follow: bool,
    /// Give up when connecting, or waiting for the next bytes, takes longer than SECS.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// The temporary file being written, if any, so that Ctrl-C can remove it.
static PARTIAL: Mutex<Option<PathBuf>> = Mutex::new(None);

/// What one request came to.
enum Fetched {
    Saved,
    Redirect(String),
}

fn main() -> ExitCode {
    // clap prints the usage and exits 2 on a bad option (`--timeout soon`).
    let args = Args::parse();
    // A URL we can't fetch is bad usage too (exit 2), and is found before connecting.
    let mut url = match Url::parse(&args.url) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("{}", url_error("url", &args.url, e));
            return ExitCode::from(2);
        }
    };
    // The file's name comes from what the user typed: -o, or the URL on the command line
    // (as curl -O and wget do). Never from a redirect: the server must not choose which
    // of our files gets written (a redirect to /.bashrc would write ./.bashrc).
    let target = match &args.output {
        Some(path) => path.clone(),
        None => PathBuf::from(url.file_name()),
    };
    if let Err(why) = check_output(&target, args.output.is_some()) {
        match args.output {
            Some(_) => eprintln!("-o {}: {why}", target.display()),
            None => eprintln!("save {}: {why}", target.display()),
        }
        return ExitCode::from(2);
    }

    // Ctrl-C (or SIGTERM, SIGHUP) in the middle of a download: remove the temporary file,
    // then exit, so that no half-written file is left behind.
    let handler = ctrlc::set_handler(|| stop("interrupted: nothing saved"));
    if let Err(e) = handler {
        eprintln!("Ctrl-C handler: {e}");
        return ExitCode::from(1);
    }
    // Piped into `head`, which has seen enough: stop the same way.
    netkit::when_stdout_closes(|| stop("stopped: stdout was closed; no partial file is left"));

    let mut redirects = 0;
    loop {
        match fetch(&url, &target, &args) {
            Ok(Fetched::Saved) => return ExitCode::SUCCESS,
            Ok(Fetched::Redirect(location)) if !args.follow => {
                // The server answered, and its answer is "look elsewhere": that is a
                // normal end. The headers above show the Location; nothing is saved.
                // The Location is the server's text: escaped, so it stays one line.
                say!(
                    "not following the redirect to {} (add --follow)",
                    escaped(&location)
                );
                return ExitCode::SUCCESS;
            }
            Ok(Fetched::Redirect(location)) => {
                redirects += 1;
                url = match url.join(&location) {
                    Ok(next) if redirects <= MAX_REDIRECTS => next,
                    Ok(next) => {
                        eprintln!(
                            "redirect {next}: more than {MAX_REDIRECTS} redirects; giving up"
                        );
                        return ExitCode::from(1);
                    }
                    // The course's own run ended here: a 302 to an https:// address.
                    Err(e) => {
                        eprintln!("{}", url_error("redirect", &location, e));
                        return ExitCode::from(1);
                    }
                };
                say!("following the redirect to {url}");
            }
            Err(line) => {
                eprintln!("{line}");
                return ExitCode::from(1);
            }
        }
    }
}

/// Remove the temporary file, if a download is under way; say why we stop; exit 130.
fn stop(why: &str) {
    if let Some(path) = PARTIAL.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = fs::remove_file(path);
    }
    eprintln!("{why}");
    std::process::exit(130);
}

/// One request and its response, the body saved as `target`. Errors are the line to
/// print: `STAGE ADDR: cause`.
fn fetch(url: &Url, target: &Path, args: &Args) -> Result<Fetched, String> {
    // 1. The name to addresses (an ip address resolves to itself).
    let addrs = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| error_line("resolve", &url.host, &e))?;

    // 2. Connect: the course's socket() + connect((host, 80)). A name may have several
    //    addresses (IPv6 and IPv4); try them in turn.
    let mut last = io::Error::new(ErrorKind::NotFound, "the name has no address");
    let mut connected = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, args.timeout) {
            Ok(stream) => {
                connected = Some(stream);
                break;
            }
            Err(e) => last = e,
        }
    }
    let Some(mut stream) = connected else {
        return Err(error_line("connect", url.host_header(), &last));
    };
    let peer = match stream.peer_addr() {
        Ok(addr) => addr.to_string(),
        Err(_) => url.host_header(),
    };
    // settimeout(): no read and no write may wait longer than --timeout.
    let timeouts = stream
        .set_read_timeout(Some(args.timeout))
        .and_then(|()| stream.set_write_timeout(Some(args.timeout)));
    if let Err(e) = timeouts {
        return Err(error_line("settimeout", &peer, &e));
    }

    // 3. The request: a few lines of text, then a blank line. write_all is sendall().
    let request = http::request(url);
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Err(error_line("send", &peer, &e));
    }
    say!("sent GET {} HTTP/1.1 to {peer}", url.target);

    // 4. The response head: read until the blank line that ends it.
    let (head_bytes, body_start) = read_head(&mut stream, &peer, args.timeout)?;
    let head = Head::parse(&head_bytes).map_err(|why| format!("receive {peer}: {why}"))?;
    // The course prints the headers; so do we (control characters made visible).
    for line in String::from_utf8_lossy(&head_bytes).split("\r\n") {
        say!("{}", escaped(line));
    }
    say!();

    // 5. The status decides what the body is. (The reason phrase is the server's text.)
    let status = escaped(head.status_line.split_once(' ').map_or("", |(_, s)| s));
    match head.status {
        200..=299 => {}
        300..=399 => {
            return match head.value("location") {
                Some(location) => Ok(Fetched::Redirect(location.to_string())),
                None => Err(format!(
                    "receive {peer}: {status} without a Location header; nothing saved"
                )),
            };
        }
        400..=599 => {
            return Err(format!(
                "get {url}: the server answered {status}; nothing saved"
            ));
        }
        _ => {
            return Err(format!(
                "receive {peer}: {status} is an informational (1xx) response, which http-get does not handle"
            ));
        }
    }
    let framing = head
        .framing()
        .map_err(|why| format!("receive {peer}: {why}; nothing saved"))?;
    // Checked again: a file may have appeared since we started.
    check_output(target, args.output.is_some())
        .map_err(|why| format!("save {}: {why}", target.display()))?;

    // 6. The body: the bytes that came in with the head, then the rest of the stream.
    //    A BufReader lets us read a chunk-size line as a line and copy the data between
    //    them straight from its buffer.
    let from = BufReader::with_capacity(BUFFER, io::Cursor::new(body_start).chain(stream));
    let (bytes, how) = save(from, framing, target, &peer, args.timeout)?;
    say!("saved {bytes} bytes to {} ({how})", target.display());
    Ok(Fetched::Saved)
}

/// Read from the socket until the blank line (`\r\n\r\n`) that ends the head. Returns the
/// head without the blank line, and whatever came after it: the first bytes of the body
/// often arrive in the same read, and must not be lost.
fn read_head(
    stream: &mut TcpStream,
    peer: &str,
    timeout: Duration,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut received = Vec::new();
    let mut buf = [0u8; 1024]; // the course's recv(1024)
    let mut searched = 0; // the blank line is not in received[..searched]
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(receive_error(peer, &e, timeout)),
        };
        if n == 0 {
            // An empty read: the server closed its side.
            return Err(if received.is_empty() {
                format!("receive {peer}: the server closed the connection without sending a byte")
            } else {
                format!(
                    "receive {peer}: the connection closed after {} bytes, inside the response head",
                    received.len()
                )
            });
        }
        received.extend_from_slice(&buf[..n]);
        // Every HTTP response starts with `HTTP/`. Anything else (an SSH or SMTP server,
        // a TLS port) is told at once, instead of waiting for a blank line that won't come.
        let start = received.len().min(5);
        if received[..start] != b"HTTP/"[..start] {
            let shown = py_bytes(&received[..received.len().min(40)]);
            return Err(format!(
                "receive {peer}: not an HTTP response; it begins {shown}"
            ));
        }
        // The course's split at the first \r\n\r\n. Search the new bytes, and the three
        // before them: the four bytes may come in two reads.
        if let Some(at) = find(&received[searched..], b"\r\n\r\n") {
            let end = searched + at;
            let body_start = received.split_off(end + 4);
            received.truncate(end);
            return Ok((received, body_start));
        }
        searched = received.len().saturating_sub(3);
        if received.len() > MAX_HEAD {
            return Err(format!(
                "receive {peer}: the response head is over {MAX_HEAD} bytes and has not ended"
            ));
        }
    }
}

/// Write the body into a temporary file next to `target`, and rename it to `target` only
/// when the whole body has arrived. On any failure the temporary file is removed, so
/// there is either the complete file or none. Returns the size and how the end was known.
fn save(
    from: impl BufRead,
    framing: Framing,
    target: &Path,
    peer: &str,
    timeout: Duration,
) -> Result<(u64, String), String> {
    let name = target
        .file_name()
        .map_or_else(|| "body".into(), |n| n.to_string_lossy());
    let temp = target.with_file_name(format!(".{name}.{}.part", std::process::id()));
    // create_new: never write into a file someone else has open under that name.
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|e| error_line("save", temp.display(), &e))?;
    *PARTIAL.lock().unwrap_or_else(|e| e.into_inner()) = Some(temp.clone());
    let mut body = Body {
        from,
        to: BufWriter::with_capacity(BUFFER, file),
        peer,
        temp: &temp,
        timeout,
    };
    let result = body
        .read(framing)
        .and_then(|done| match body.to.flush() {
            Ok(()) => Ok(done),
            Err(e) => Err(error_line("save", temp.display(), &e)),
        })
        .and_then(|done| match fs::rename(&temp, target) {
            Ok(()) => Ok(done),
            Err(e) => Err(error_line("save", target.display(), &e)),
        });
    let mut partial = PARTIAL.lock().unwrap_or_else(|e| e.into_inner());
    *partial = None;
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|line| format!("{line}; nothing saved"))
}

/// A body on its way from the socket to the temporary file.
struct Body<'a, R> {
    from: R,
    to: BufWriter<File>,
    peer: &'a str,
    temp: &'a Path,
    timeout: Duration,
}

impl<R: BufRead> Body<'_, R> {
    /// Read the body the way the head said it is framed. Returns (bytes, how).
    fn read(&mut self, framing: Framing) -> Result<(u64, String), String> {
        let peer = self.peer;
        match framing {
            // Exactly `length` bytes. Fewer, and the download was cut off.
            Framing::Length(length) => {
                let got = self.copy(length)?;
                if got < length {
                    return Err(format!(
                        "receive {peer}: the body ended after {got} of {length} bytes (Content-Length)"
                    ));
                }
                Ok((length, format!("Content-Length: {length}")))
            }
            // No length given: everything until the server closes.
            Framing::UntilClose => {
                let got = self.copy(u64::MAX)?;
                Ok((got, "read until the server closed".to_string()))
            }
            Framing::Chunked => self.chunked(),
        }
    }

    /// Transfer-Encoding: chunked. Each chunk is its size in hex on a line of its own,
    /// then that many bytes, then `\r\n`. A chunk of size 0 ends the body; header lines
    /// (trailers) may follow it, then a blank line. The course's program would have
    /// saved the size lines into the page.
    fn chunked(&mut self) -> Result<(u64, String), String> {
        let peer = self.peer;
        let mut total: u64 = 0;
        let mut chunks: u64 = 0;
        loop {
            let Some(line) = self.line()? else {
                return Err(format!(
                    "receive {peer}: the chunked body ended after {chunks} chunks, before its last chunk (size 0)"
                ));
            };
            let size = http::chunk_size(&line).map_err(|why| format!("receive {peer}: {why}"))?;
            if size == 0 {
                break;
            }
            chunks += 1;
            // The size is only a claim: copy up to that many bytes as they come, never
            // reserve them.
            let got = self.copy(size)?;
            if got < size {
                return Err(format!(
                    "receive {peer}: the chunked body ended inside chunk {chunks}, after {got} of its {size} bytes"
                ));
            }
            total = total.saturating_add(size);
            match self.line()? {
                Some(end) if end.is_empty() => {}
                Some(more) => {
                    let shown = py_bytes(&more[..more.len().min(40)]);
                    return Err(format!(
                        "receive {peer}: chunk {chunks} ({size} bytes) is followed by {shown}, not \\r\\n"
                    ));
                }
                None => {
                    return Err(format!(
                        "receive {peer}: the chunked body ended after chunk {chunks}"
                    ));
                }
            }
        }
        // Trailers: shown, not used. The server may also close right after the last
        // chunk: every byte of the body is here by then, so that is accepted.
        let mut trailers = 0;
        while let Some(line) = self.line()? {
            if line.is_empty() {
                break;
            }
            trailers += line.len();
            if trailers > MAX_HEAD {
                return Err(format!(
                    "receive {peer}: the trailers are over {MAX_HEAD} bytes"
                ));
            }
            say!("trailer: {}", netkit::escaped_bytes(&line));
        }
        Ok((total, format!("chunked: {chunks} chunks")))
    }

    /// Copy up to `length` bytes from the socket to the file, as they arrive, straight
    /// out of the reader's buffer. Returns how many came: fewer if the stream ended.
    fn copy(&mut self, length: u64) -> Result<u64, String> {
        let mut left = length;
        while left > 0 {
            let data = match self.from.fill_buf() {
                Ok(data) => data,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(receive_error(self.peer, &e, self.timeout)),
            };
            if data.is_empty() {
                break; // the server closed: the caller decides whether that is too soon
            }
            let n = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            if let Err(e) = self.to.write_all(&data[..n]) {
                return Err(error_line("save", self.temp.display(), &e));
            }
            self.from.consume(n);
            left -= n as u64;
        }
        Ok(length - left)
    }

    /// One line ending in `\r\n`, without it; `None` if the stream ended before it
    /// began. At most MAX_LINE bytes: a line is never allowed to grow without end.
    fn line(&mut self) -> Result<Option<Vec<u8>>, String> {
        let peer = self.peer;
        let mut line = Vec::new();
        let limit = MAX_LINE as u64 + 2;
        if let Err(e) = (&mut self.from).take(limit).read_until(b'\n', &mut line) {
            return Err(receive_error(peer, &e, self.timeout));
        }
        if line.is_empty() {
            return Ok(None);
        }
        if line.ends_with(b"\r\n") {
            line.truncate(line.len() - 2);
            return Ok(Some(line));
        }
        let shown = py_bytes(&line[..line.len().min(40)]);
        Err(if line.len() as u64 >= limit {
            format!(
                "receive {peer}: a line of the chunked body is over {MAX_LINE} bytes: {shown}..."
            )
        } else if line.ends_with(b"\n") {
            format!("receive {peer}: the line {shown} ends in \\n, not \\r\\n")
        } else {
            format!("receive {peer}: the stream ended in the middle of the line {shown}")
        })
    }
}

/// Can the body be saved as `path`? A new file, or (with `replace`: the user named it
/// with -o) an ordinary file to replace. Not a folder, and not something like /dev/null:
/// the finished download is renamed over it.
fn check_output(path: &Path, replace: bool) -> Result<(), String> {
    if path.file_name().is_none() {
        return Err("that is not a file name".to_string());
    }
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err("is a folder; give a file name (-o FILE)".to_string()),
        Ok(meta) if !meta.is_file() => Err(
            "is not an ordinary file (http-get renames the finished download over FILE)"
                .to_string(),
        ),
        // A file the user did not name is never replaced (wget -nc, curl --no-clobber).
        Ok(_) if !replace => Err(format!(
            "is already there; http-get replaces a file only when -o names it (-o {})",
            path.display()
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(netkit::cause(&e)),
    }
}

/// The line for a receive error; a read that timed out says how long it waited.
fn receive_error(peer: &str, e: &io::Error, timeout: Duration) -> String {
    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
        format!(
            "receive {peer}: nothing arrived for {} s (--timeout)",
            timeout.as_secs_f64()
        )
    } else {
        error_line("receive", peer, e)
    }
}

/// The line for a URL that can't be fetched.
fn url_error(stage: &str, text: &str, e: UrlError) -> String {
    let text = escaped(text); // a URL with a line break must still make one line
    match e {
        UrlError::Tls => format!(
            "{stage} {text}: https:// needs TLS (encryption), which this lesson does not speak; fetch it with a TLS client, e.g. curl -O {text}"
        ),
        UrlError::Bad(why) => format!("{stage} {text}: {}", escaped(&why)),
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
