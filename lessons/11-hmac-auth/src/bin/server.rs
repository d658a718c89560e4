//! hmac-auth-server: let in only clients that know the shared key, without the key
//! ever crossing the network (the course's 验证客户端链接的合法性).
//!
//! For each client: send 32 fresh random bytes (the challenge); read the client's answer,
//! which must be the lowercase hex of HMAC-SHA256(key, challenge): 64 ASCII bytes; check it
//! in constant time; if it is right, read the client's message and print
//! `legal connection from ADDR: MESSAGE`, otherwise print `illegal connection from ADDR`
//! and the reason. Then close. Nothing is sent back: the course's client expects no verdict.
//! One client at a time, as the course's server: the next one waits in the listen backlog.
//! So each client gets `--handshake-timeout` seconds for the whole conversation, and a
//! client that says nothing, or trickles a byte now and then, is dropped at that deadline.
//!
//! Run it:        cargo run -p hmac-auth --bin hmac-auth-server -- --key secret
//! Then, in another terminal:
//!                cargo run -p hmac-auth --bin hmac-auth-client -- --key secret
//!                cargo run -p hmac-auth --bin hmac-auth-client -- --key wrong
//! You will see:  listening on 127.0.0.1:9000 / legal connection from 127.0.0.1:51234: upload /
//!                illegal connection from 127.0.0.1:51236 (wrong answer: ...)
//! Try:           nc 127.0.0.1 9000   (32 bytes of noise arrive; say nothing: dropped after 5 s)

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use hmac::{Hmac, KeyInit, Mac};
use netkit::{At, Failure, banner, host_port, say};
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::Sha256;

/// The server's side of the course's client check: a random challenge, an HMAC answer.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (0.0.0.0 lets other machines connect).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 asks the OS for a free one).
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// The shared secret. Without it, the environment variable HMAC_AUTH_KEY; without
    /// that, a demo key (with a warning). A key on the command line is visible to other
    /// users of the machine (ps); the environment variable is not.
    #[arg(long)]
    key: Option<String>,
    /// Seconds a client has for its answer and message, all reads together, before the
    /// server drops it and takes the next one (at most a day).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = netkit::seconds)]
    handshake_timeout: Duration,
}

/// HMAC with SHA-256: the course's `hmac.new(key, msg, 'sha256')`.
type HmacSha256 = Hmac<Sha256>;

/// How many random bytes a challenge has: the course's `os.urandom(32)`.
const CHALLENGE_LEN: usize = 32;
/// How long the answer is: SHA-256 gives 32 bytes, and hex writes each as 2 digits.
const ANSWER_LEN: usize = 64;
/// The most of the message we read: the course's `recv(1024)`.
const MESSAGE_MAX: usize = 1024;
/// Used when neither --key nor HMAC_AUTH_KEY gives a key. Everyone who can read this
/// file knows it, so it proves nothing; it only lets the demo run without setup.
const DEMO_KEY: &str = "hmac-auth demo key (not a secret)";

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let key = choose_key(args.key);
    let timeout = args.handshake_timeout;

    // socket() + bind() + listen(): the same as every server so far.
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .at("bind", host_port(&args.host, args.port))?;
    let local = listener
        .local_addr()
        .at("bind", host_port(&args.host, args.port))?;
    banner(local).at("print", "stdout")?;

    // One client at a time, as the course's server: accept, check, talk, close, and only
    // then the next one. A client that fails is reported and the server goes on.
    loop {
        let served = listener
            .accept()
            .at("accept", local)
            .and_then(|(stream, peer)| serve(stream, peer, &key, timeout));
        if let Err(failure) = served {
            eprintln!("{failure}");
        }
    }
}

/// The key: --key, else HMAC_AUTH_KEY (if set and not empty), else the demo key with a
/// warning on stderr.
fn choose_key(flag: Option<String>) -> Vec<u8> {
    if let Some(key) = flag {
        return key.into_bytes();
    }
    // Read by hand (clap's `env` feature is not enabled in this workspace). The bytes are
    // taken as they are, even if they are not UTF-8.
    if let Some(key) = std::env::var_os("HMAC_AUTH_KEY").filter(|k| !k.is_empty()) {
        return key.into_encoded_bytes();
    }
    eprintln!(
        "warning: no --key and no HMAC_AUTH_KEY: using the demo key {DEMO_KEY:?}, which \
         everyone who has this program knows; pass the same --key to server and client"
    );
    DEMO_KEY.as_bytes().to_vec()
}

/// One connection: challenge, answer, verdict, message. Prints the verdict.
fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    key: &[u8],
    timeout: Duration,
) -> Result<(), Failure> {
    // The deadline: one for the whole conversation, not one per read. A read timeout
    // alone restarts at every byte, so a client that sends one byte just inside it, again
    // and again, would hold the server (and everyone waiting behind it) for 64 times the
    // timeout. Each read below gets only the time that is left. (`timeout` is at most a
    // day: the sum cannot overflow.)
    let deadline = Instant::now() + timeout;

    // The challenge: 32 bytes from the operating system's random source (getrandom on
    // Linux), the course's os.urandom(32). Fresh for every connection, so an answer
    // recorded from one connection is worthless on the next: it answers another question.
    let mut challenge = [0u8; CHALLENGE_LEN];
    SysRng
        .try_fill_bytes(&mut challenge)
        .map_err(io::Error::other)
        .at("random challenge for", peer)?;
    // send(): write_all until the kernel has all 32 bytes.
    stream.write_all(&challenge).at("send challenge to", peer)?;

    // The answer: exactly 64 bytes, however the client's writes were split on the way.
    // read_exact keeps reading until the buffer is full. The buffer has a fixed size, so
    // a client that sends 5,000 bytes makes us read 64 of them and no more: nothing is
    // allocated according to what a client sends.
    let mut answer = [0u8; ANSWER_LEN];
    // exercise read-answer: fill answer by the deadline (read_exact_by); failing that, illegal
    if let Err(e) = read_exact_by(&mut stream, &mut answer, deadline) {
        // UnexpectedEof: the client closed before 64 bytes.
        let why = match e.kind() {
            io::ErrorKind::UnexpectedEof => String::from("closed before a full answer"),
            _ => why_no_bytes("answer", &e, timeout),
        };
        say!("illegal connection from {peer} ({why})");
        return Ok(()); // dropping the stream closes the connection
    }
    // exercise end

    // The answer is text: 64 hex digits. Turn it back into the 32 bytes it stands for.
    // Anything else (a `z`, a space, a newline) is a failed attempt, not an error.
    let mut digest = [0u8; ANSWER_LEN / 2];
    if hex::decode_to_slice(answer, &mut digest).is_err() {
        say!("illegal connection from {peer} (answer is not 64 hex digits)");
        return Ok(());
    }

    // What the answer should be: HMAC-SHA256(key, challenge). A client can compute this
    // only if it has the key; the key itself never crosses the network.
    // exercise hmac-check: HMAC-SHA256(key, challenge), compared with digest in constant time
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(&challenge);
    // verify_slice compares in constant time: it looks at every byte whether or not an
    // earlier one differed. `==` stops at the first difference, and how long it took
    // would tell an attacker how many leading bytes of a guess were right.
    if mac.verify_slice(&digest).is_err() {
        say!(
            "illegal connection from {peer} (wrong answer: not the HMAC of this challenge with our key)"
        );
        return Ok(());
    }
    // exercise end

    // Legal: now the client's message. One read of at most 1024 bytes, the course's
    // recv(1024): it returns whatever has arrived, which for a short message sent in one
    // write is all of it. (A long one could arrive in pieces; lesson 10 frames messages
    // for that.) 0 bytes means the client closed without a message.
    let mut message = [0u8; MESSAGE_MAX];
    let n = match read_by(&mut stream, &mut message, deadline) {
        Ok(n) => n,
        Err(e) => {
            // Still a legal client: say so, and why there is no message.
            say!("legal connection from {peer}: ");
            return Err(Failure::new(format!(
                "{peer}: {}",
                why_no_bytes("message", &e, timeout)
            )));
        }
    };
    // The message is the client's text: escaped, so that a `\n` in it cannot start a
    // line of our own (a forged `legal connection from ...`) or drive the terminal.
    say!(
        "legal connection from {peer}: {}",
        netkit::escaped_bytes(&message[..n])
    );
    // close(): the end of this function drops the stream. The client gets no verdict.
    Ok(())
}

/// One read, given only the time left until `deadline`: a read timeout of what is left,
/// so no read can end after the deadline. TimedOut once it has passed.
fn read_by(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::ErrorKind::TimedOut.into());
    }
    stream.set_read_timeout(Some(left))?;
    stream.read(buf)
}

/// read_exact, by `deadline`: read until `buf` is full, each read with the time that is
/// left (read_by). UnexpectedEof if the client closes first.
fn read_exact_by(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match read_by(stream, &mut buf[filled..], deadline) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Why a read on a client's socket failed, in words: the read timeout, or the OS's cause.
fn why_no_bytes(what: &str, e: &io::Error, timeout: Duration) -> String {
    match e.kind() {
        // The read timeout shows up as WouldBlock on Unix, TimedOut on Windows.
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            format!("no {what} within {}s", timeout.as_secs_f64())
        }
        _ => format!("receive {what}: {}", netkit::cause(e)),
    }
}
