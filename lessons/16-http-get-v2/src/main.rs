//! http-get-v2: fetch a web page over a bare TCP socket, print the response's headers,
//! save its body to a file, knowing where the body really ends.
//!
//! http-get-v1 is the course's client: it reads until the server closes and saves
//! whatever follows the first blank line. New here, what a real download needs: the
//! head is read first (up to the blank line), and then it decides. The status line:
//! 2xx is the page, 3xx a redirect (`--follow` takes it, at most 5 times; the file is
//! still named after the URL typed), 4xx and 5xx an error. The headers: the body is
//! exactly `Content-Length` bytes, or `Transfer-Encoding: chunked` pieces (decoded,
//! trailers shown), or, with neither, everything until the server closes. The body is
//! streamed into the file as it comes, not held in memory; a body shorter than the head
//! promised is an error, and no file. The HTTP text (the URL, the request, the head,
//! the chunk sizes) is in src/http.rs.
//!
//! Run it:        python3 -m http.server 8000 --bind 127.0.0.1        (in a folder with files)
//! Then, in another terminal:
//!                cargo run -p http-get-v2 -- http://127.0.0.1:8000/
//! You will see:  sent GET / HTTP/1.1 to 127.0.0.1:8000 / HTTP/1.0 200 OK / Server: ... /
//!                saved 1234 bytes to index.html (Content-Length: 1234)
//! Try:           cargo run -p http-get-v2 -- --follow http://127.0.0.1:8000/SOME-FOLDER
//!                cargo run -p http-get-v2 -- http://example.com/   (a real web site)

mod http;

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, escaped, py_bytes, say};

use http::{Framing, Head, Url};

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
    /// the URL, index.html for /, and never over a file already there).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Follow redirects (a 3xx status with a Location header), up to 5.
    #[arg(long)]
    follow: bool,
    /// Give up when the server sends nothing for SECS.
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
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // A URL we can't fetch is bad usage too (exit 2), and is found before connecting.
    let mut url = Url::parse(&args.url)
        .map_err(|why| Failure::usage(format!("url {}: {}", escaped(&args.url), escaped(&why))))?;
    // The file's name comes from what the user typed, -o or the URL (as curl -O and wget
    // do), never from the server: it must not choose which of our files gets written.
    // Not from a redirect either: a redirect to /.bashrc would write ./.bashrc.
    let target = args.output.clone().unwrap_or(url.file_name().into());
    check_output(&target, args.output.is_some())?;
    // Ctrl-C (or SIGTERM, SIGHUP), or piped into `head` that has seen enough: remove the
    // temporary file, if there is one, and exit: no half-written file is left behind.
    ctrlc::set_handler(|| stop("interrupted: nothing saved"))
        .map_err(|e| Failure::new(format!("Ctrl-C handler: {e}")))?;
    netkit::when_stdout_closes(|| stop("stopped: stdout was closed; no partial file is left"));
    let mut redirects = 0;
    loop {
        let location = match fetch(&url, &target, &args)? {
            Fetched::Saved => return Ok(()),
            Fetched::Redirect(location) => location,
        };
        // The server answered, and its answer is "look elsewhere": without --follow, a
        // normal end. The headers above show the Location; nothing is saved.
        if !args.follow {
            say!(
                "not following the redirect to {} (add --follow)",
                escaped(&location)
            );
            return Ok(());
        }
        // The course's own run ended here: a 302 to an https:// address.
        url = url.join(&location).map_err(|why| {
            Failure::new(format!(
                "redirect {}: {}",
                escaped(&location),
                escaped(&why)
            ))
        })?;
        redirects += 1;
        if redirects > MAX_REDIRECTS {
            let why = format!("more than {MAX_REDIRECTS} redirects; giving up");
            return Err(Failure::new(format!("redirect {url}: {why}")));
        }
        say!("following the redirect to {url}");
    }
}

/// One request and its response, the body saved as `target`.
fn fetch(url: &Url, target: &Path, args: &Args) -> Result<Fetched, Failure> {
    // 1. The name to its addresses first, so "no such host" and "nobody listening" are
    //    told apart (an ip address resolves to itself). Then socket() + connect((host,
    //    80)): a name may have several addresses (IPv6 and IPv4); connect tries each.
    let addr = netkit::host_port(&url.host, url.port);
    let found = (url.host.as_str(), url.port).to_socket_addrs();
    let addrs: Vec<SocketAddr> = found.at("resolve", &url.host)?.collect();
    let mut stream = TcpStream::connect(&addrs[..]).at("connect", &addr)?;
    // settimeout(): no recv may wait longer than --timeout.
    let timeout = args.timeout;
    stream
        .set_read_timeout(Some(timeout))
        .at("settimeout", &addr)?;

    // 2. Send the request: a few lines of text, then a blank line. write_all is sendall().
    let request = http::request(url);
    stream.write_all(request.as_bytes()).at("send", &addr)?;
    say!("sent GET {} HTTP/1.1 to {addr}", url.target);

    // 3. Receive the head: recv(1024) until the blank line that ends it. Not until the
    //    server closes: the head says where the body ends.
    let (header, body_start) = read_head(&mut stream, &addr, timeout)?;
    let head =
        Head::parse(&header).map_err(|why| Failure::new(format!("receive {addr}: {why}")))?;
    // Print the headers, as the course does (control characters made visible).
    for line in String::from_utf8_lossy(&header).split("\r\n") {
        say!("{}", escaped(line));
    }
    say!();

    // 4. The status line decides what the body is. (The reason phrase is the server's.)
    let status = escaped(head.status_text());
    match head.status {
        200..=299 => {}
        300..=399 => {
            return match head.value("location") {
                Some(location) => Ok(Fetched::Redirect(location.to_string())),
                None => Err(Failure::new(format!(
                    "receive {addr}: {status} without a Location header; nothing saved"
                ))),
            };
        }
        400..=599 => {
            let why = format!("the server answered {status}; nothing saved");
            return Err(Failure::new(format!("get {url}: {why}")));
        }
        _ => {
            let why = format!(
                "{status} is an informational (1xx) response, which http-get-v2 does not handle"
            );
            return Err(Failure::new(format!("receive {addr}: {why}")));
        }
    }
    let framing = head
        .framing()
        .map_err(|why| Failure::new(format!("receive {addr}: {why}; nothing saved")))?;

    // 5. The body: the bytes that came with the head, then the rest of the stream, as
    //    the head framed it. A BufReader lets us read a chunk-size line as a line and copy
    //    the data between them straight from its buffer.
    let from = BufReader::with_capacity(BUFFER, io::Cursor::new(body_start).chain(stream));
    let (bytes, how) = save(from, framing, target, &addr, timeout)?;
    say!("saved {bytes} bytes to {} ({how})", target.display());
    Ok(Fetched::Saved)
}

/// Remove the temporary file, if one is being written; say why we stop; exit 130.
fn stop(why: &str) {
    if let Some(path) = PARTIAL.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = fs::remove_file(path);
    }
    eprintln!("{why}");
    std::process::exit(130);
}

/// recv(1024) until the blank line (`\r\n\r\n`) that ends the head. Returns the head
/// without the blank line, and whatever came after it: the first bytes of the body often
/// arrive in the same read, and must not be lost.
fn read_head(
    stream: &mut TcpStream,
    addr: &str,
    timeout: Duration,
) -> Result<(Vec<u8>, Vec<u8>), Failure> {
    let mut received = Vec::new();
    let mut buf = [0u8; 1024]; // the course's recv(1024)
    loop {
        let n = match stream.read(&mut buf) {
            // A signal (Ctrl-C) cut the wait short: its handler is ending the program.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            result => result.map_err(|e| receive_error(addr, &e, timeout))?,
        };
        if n == 0 {
            // An empty read: the server closed its side before the head was complete.
            return Err(Failure::new(match received.len() {
                0 => format!(
                    "receive {addr}: the server closed the connection without sending a byte"
                ),
                n => format!(
                    "receive {addr}: the connection closed after {n} bytes, inside the response head"
                ),
            }));
        }
        received.extend_from_slice(&buf[..n]);
        // Every HTTP response starts with `HTTP/`. Anything else (an SSH or SMTP server,
        // a TLS port) is told at once, instead of waiting for a blank line that won't come.
        let start = received.len().min(5);
        if received[..start] != b"HTTP/"[..start] {
            let shown = py_bytes(&received[..received.len().min(40)]);
            return Err(Failure::new(format!(
                "receive {addr}: not an HTTP response; it begins {shown}"
            )));
        }
        // The course's split at the first \r\n\r\n.
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let body_start = received.split_off(end + 4);
            received.truncate(end);
            return Ok((received, body_start));
        }
        if received.len() > MAX_HEAD {
            let why = format!("the response head is over {MAX_HEAD} bytes and has not ended");
            return Err(Failure::new(format!("receive {addr}: {why}")));
        }
    }
}

/// Write the body into a temporary file next to `target`, and rename it to `target` when
/// it is all there: the rename is one step, so there is either the complete file or
/// none (an older `target` stays as it was until then). On a failure the temporary file
/// is removed. Returns the size and how the end was known.
fn save(
    from: impl BufRead,
    framing: Framing,
    target: &Path,
    addr: &str,
    timeout: Duration,
) -> Result<(u64, String), Failure> {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let temp = target.with_file_name(format!(".{name}.{}.part", std::process::id()));
    // create_new: never write into a file someone else has open under that name.
    let file = OpenOptions::new().write(true).create_new(true).open(&temp);
    let file = file.at("save", temp.display())?;
    *PARTIAL.lock().unwrap_or_else(|e| e.into_inner()) = Some(temp.clone());
    let mut body = Body {
        from,
        to: BufWriter::with_capacity(BUFFER, file),
        addr,
        temp: &temp,
        timeout,
    };
    let result = body
        .read(framing)
        .and_then(|done| body.to.flush().at("save", temp.display()).map(|()| done))
        .and_then(|done| {
            fs::rename(&temp, target)
                .at("save", target.display())
                .map(|()| done)
        });
    // Holding the lock, so that a Ctrl-C now waits until the file is renamed or removed.
    let mut partial = PARTIAL.lock().unwrap_or_else(|e| e.into_inner());
    *partial = None;
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|failure| Failure::new(format!("{failure}; nothing saved")))
}

/// A body on its way from the socket to the temporary file.
struct Body<'a, R> {
    from: R,
    to: BufWriter<File>,
    addr: &'a str,
    temp: &'a Path,
    timeout: Duration,
}

impl<R: BufRead> Body<'_, R> {
    /// Read the body the way the head said it is framed. Returns (bytes, how).
    fn read(&mut self, framing: Framing) -> Result<(u64, String), Failure> {
        match framing {
            // Exactly `length` bytes. Fewer, and the download was cut off.
            Framing::Length(length) => {
                let got = self.copy(length)?;
                if got < length {
                    let why =
                        format!("the body ended after {got} of {length} bytes (Content-Length)");
                    return Err(self.fail(why));
                }
                Ok((length, format!("Content-Length: {length}")))
            }
            // No length given: everything until the server closes, as v1 reads every body.
            Framing::UntilClose => {
                let got = self.copy(u64::MAX)?;
                Ok((got, "read until the server closed".to_string()))
            }
            Framing::Chunked => self.chunked(),
        }
    }

    /// Transfer-Encoding: chunked. Each chunk is its size in hex on a line of its own,
    /// then that many bytes, then `\r\n`. A chunk of size 0 ends the body; header lines
    /// (trailers) may follow it, then a blank line. The course's program (and v1) would
    /// have saved the size lines into the page.
    fn chunked(&mut self) -> Result<(u64, String), Failure> {
        let mut total: u64 = 0;
        let mut chunks: u64 = 0;
        loop {
            let Some(line) = self.line()? else {
                let why = format!(
                    "the chunked body ended after {chunks} chunks, before its last chunk (size 0)"
                );
                return Err(self.fail(why));
            };
            let size = http::chunk_size(&line).map_err(|why| self.fail(why))?;
            if size == 0 {
                break;
            }
            chunks += 1;
            // The size is only a claim: copy up to that many bytes as they come, never
            // reserve them.
            let got = self.copy(size)?;
            if got < size {
                let why = format!(
                    "the chunked body ended inside chunk {chunks}, after {got} of its {size} bytes"
                );
                return Err(self.fail(why));
            }
            total = total.saturating_add(size);
            match self.line()? {
                Some(end) if end.is_empty() => {}
                Some(more) => {
                    let shown = py_bytes(&more[..more.len().min(40)]);
                    let why =
                        format!("chunk {chunks} ({size} bytes) is followed by {shown}, not \\r\\n");
                    return Err(self.fail(why));
                }
                None => {
                    let why = format!("the chunked body ended after chunk {chunks}");
                    return Err(self.fail(why));
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
                return Err(self.fail(format!("the trailers are over {MAX_HEAD} bytes")));
            }
            say!("trailer: {}", netkit::escaped_bytes(&line));
        }
        Ok((total, format!("chunked: {chunks} chunks")))
    }

    /// Copy up to `length` bytes from the socket to the file, as they arrive, straight
    /// out of the reader's buffer. Returns how many came: fewer if the stream ended.
    fn copy(&mut self, length: u64) -> Result<u64, Failure> {
        let mut left = length;
        while left > 0 {
            let data = match self.from.fill_buf() {
                Ok(data) => data,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(receive_error(self.addr, &e, self.timeout)),
            };
            if data.is_empty() {
                break; // the server closed: the caller decides whether that is too soon
            }
            let n = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            self.to
                .write_all(&data[..n])
                .at("save", self.temp.display())?;
            self.from.consume(n);
            left -= n as u64;
        }
        Ok(length - left)
    }

    /// One line ending in `\r\n`, without it; `None` if the stream ended before it
    /// began. At most MAX_LINE bytes: a line is never allowed to grow without end.
    fn line(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        let mut line = Vec::new();
        let limit = MAX_LINE as u64 + 2;
        let read = (&mut self.from).take(limit).read_until(b'\n', &mut line);
        read.map_err(|e| receive_error(self.addr, &e, self.timeout))?;
        if line.is_empty() {
            return Ok(None);
        }
        if line.ends_with(b"\r\n") {
            line.truncate(line.len() - 2);
            return Ok(Some(line));
        }
        let shown = py_bytes(&line[..line.len().min(40)]);
        Err(self.fail(if line.len() as u64 >= limit {
            format!("a line of the chunked body is over {MAX_LINE} bytes: {shown}...")
        } else if line.ends_with(b"\n") {
            format!("the line {shown} ends in \\n, not \\r\\n")
        } else {
            format!("the stream ended in the middle of the line {shown}")
        }))
    }

    /// The failure for what the server sent: `receive ADDR: why`.
    fn fail(&self, why: String) -> Failure {
        Failure::new(format!("receive {}: {why}", self.addr))
    }
}

/// The failure for a recv that failed; one that timed out says how long it waited.
fn receive_error(addr: &str, e: &io::Error, timeout: Duration) -> Failure {
    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
        let secs = timeout.as_secs_f64();
        let why = format!("nothing arrived for {secs} s (--timeout)");
        return Failure::new(format!("receive {addr}: {why}"));
    }
    Failure::new(netkit::error_line("receive", addr, e))
}

/// Can the body be saved as `path`? A new file, or (with `named`: the user named it with
/// -o) an ordinary file to replace. Not a folder, and not something like /dev/null: the
/// finished download is renamed over it. Bad usage (exit 2) if not.
fn check_output(path: &Path, named: bool) -> Result<(), Failure> {
    let why = match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => "is a folder; give a file name (-o FILE)",
        Ok(meta) if !meta.is_file() => {
            "is not an ordinary file (the finished download is renamed over FILE)"
        }
        // A file the user did not name is never replaced (wget -nc, curl --no-clobber).
        Ok(_) if !named => "is already there; a file is replaced only when -o names it",
        _ => return Ok(()), // not there yet (or named with -o): saving will tell
    };
    let stage = if named { "-o" } else { "save" };
    Err(Failure::usage(format!("{stage} {}: {why}", path.display())))
}
