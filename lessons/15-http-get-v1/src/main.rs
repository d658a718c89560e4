//! http-get-v1: fetch a web page over a bare TCP socket, print the response's headers,
//! save its body to a file.
//!
//! The course's HTTP client (TCP编程 · 客户端), step for step: connect to the web server's
//! port 80, send a GET request as a few lines of text, read 1024 bytes at a time until
//! the server closes, split the headers from the body at the first blank line
//! (`\r\n\r\n`), print the headers, write the body to a file. Kept from the workspace's
//! contract: a one-line error naming the stage and the address, a timeout for a silent
//! server, the server's text printed escaped, and never a half-written file. The URL
//! typed, taken apart, and the request's text are in src/http.rs.
//!
//! Like the course's, it trusts the server: whatever comes before the server closes is
//! the response, and whatever follows the blank line is the page, whatever the status
//! line says. http-get-v2 reads the head, and finds where the body really ends.
//!
//! Run it:        python3 -m http.server 8000 --bind 127.0.0.1        (in a folder with files)
//! Then, in another terminal:
//!                cargo run -p http-get-v1 -- http://127.0.0.1:8000/
//! You will see:  sent GET / HTTP/1.1 to 127.0.0.1:8000 / HTTP/1.0 200 OK / Server: ... /
//!                saved 1234 bytes to index.html (read until the server closed)
//! Try:           cargo run -p http-get-v1 -- http://example.com/   (a real web site)

mod http;

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, escaped, say};

use http::Url;

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
    /// Give up when the server sends nothing for SECS.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// The temporary file being written, if any, so that Ctrl-C can remove it.
static PARTIAL: Mutex<Option<PathBuf>> = Mutex::new(None);

fn main() -> ExitCode {
    // clap prints the usage and exits 2 on a bad option (`--timeout soon`).
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    // A URL we can't fetch is bad usage too (exit 2), and is found before connecting.
    let url = Url::parse(&args.url)
        .map_err(|why| Failure::usage(format!("url {}: {}", escaped(&args.url), escaped(&why))))?;
    // The file's name comes from what the user typed, -o or the URL (as curl -O and wget
    // do), never from the server: it must not choose which of our files gets written.
    let target = args.output.clone().unwrap_or(url.file_name().into());
    check_output(&target, args.output.is_some())?;
    // Ctrl-C (or SIGTERM, SIGHUP), or piped into `head` that has seen enough: remove the
    // temporary file, if there is one, and exit: no half-written file is left behind.
    ctrlc::set_handler(|| stop("interrupted: nothing saved"))
        .map_err(|e| Failure::new(format!("Ctrl-C handler: {e}")))?;
    netkit::when_stdout_closes(|| stop("stopped: stdout was closed; no partial file is left"));
    fetch(&url, &target, &args)
}

/// One request and its response, the body saved as `target`.
fn fetch(url: &Url, target: &Path, args: &Args) -> Result<(), Failure> {
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

    // 3. Receive: recv(1024) until it returns nothing. With `Connection: close`, the
    //    server closing its side is the end of the response.
    // exercise read-until-0 (let data: Vec<u8>): recv(1024) into data until a read returns 0
    let mut data = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = match stream.read(&mut buf) {
            // A signal (Ctrl-C) cut the wait short: its handler is ending the program.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let secs = timeout.as_secs_f64();
                let why = format!("nothing arrived for {secs} s (--timeout)");
                return Err(Failure::new(format!("receive {addr}: {why}")));
            }
            result => result.at("receive", &addr)?,
        };
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    // exercise end

    // 4. The headers and the body are split at the first blank line, \r\n\r\n.
    // exercise split-head (let (header, html): (&[u8], &[u8])): split data at the first \r\n\r\n
    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
        let n = data.len();
        let why = format!("the connection closed after {n} bytes, before the head's blank line");
        return Err(Failure::new(format!("receive {addr}: {why}")));
    };
    let (header, html) = (&data[..end], &data[end + 4..]);
    // exercise end
    // Print the headers, as the course does (control characters made visible).
    for line in String::from_utf8_lossy(header).split("\r\n") {
        say!("{}", escaped(line));
    }
    say!();
    // 5. Write the body to the file.
    save(html, target)?;
    let (bytes, name) = (html.len(), target.display());
    say!("saved {bytes} bytes to {name} (read until the server closed)");
    Ok(())
}

/// Remove the temporary file, if one is being written; say why we stop; exit 130.
fn stop(why: &str) {
    if let Some(path) = PARTIAL.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = fs::remove_file(path);
    }
    eprintln!("{why}");
    std::process::exit(130);
}

/// Write `body` into a temporary file next to `target`, and rename it to `target` when
/// it is all there: the rename is one step, so there is either the complete file or
/// none (an older `target` stays as it was until then). On a failure the temporary file
/// is removed.
fn save(body: &[u8], target: &Path) -> Result<(), Failure> {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let temp = target.with_file_name(format!(".{name}.{}.part", std::process::id()));
    // create_new: never write into a file someone else has open under that name.
    let file = OpenOptions::new().write(true).create_new(true).open(&temp);
    let mut file = file.at("save", temp.display())?;
    *PARTIAL.lock().unwrap_or_else(|e| e.into_inner()) = Some(temp.clone());
    let result = file
        .write_all(body)
        .at("save", temp.display())
        .and_then(|()| fs::rename(&temp, target).at("save", target.display()));
    // Holding the lock, so that a Ctrl-C now waits until the file is renamed or removed.
    let mut partial = PARTIAL.lock().unwrap_or_else(|e| e.into_inner());
    *partial = None;
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|failure| Failure::new(format!("{failure}; nothing saved")))
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
