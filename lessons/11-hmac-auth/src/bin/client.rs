//! hmac-auth-client: prove to the server that we know the shared key, without sending it
//! (the course's 验证客户端链接的合法性, the client's side).
//!
//! Connect; read the server's 32-byte challenge; answer with the lowercase hex of
//! HMAC-SHA256(key, challenge) (64 ASCII bytes); send the message; close. The server says
//! nothing back, as in the course, so this client cannot know whether it was let in: the
//! verdict is printed by the server only.
//!
//! Run it:        cargo run -p hmac-auth --bin hmac-auth-client -- --key secret
//! With a server: cargo run -p hmac-auth --bin hmac-auth-server -- --key secret   (first)
//! You will see:  challenge: 5f1c...(64 hex digits) / answer: 9a0e... / sent: upload
//! Try:           --key wrong (the server prints `illegal connection`), --message "hi there"

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hmac::{Hmac, KeyInit, Mac};
use netkit::{At, Failure, host_port, say};
use sha2::Sha256;

/// The client's side of the course's check: answer the challenge, then send a message.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// The shared secret. Without it, the environment variable HMAC_AUTH_KEY; without
    /// that, a demo key (with a warning).
    #[arg(long)]
    key: Option<String>,
    /// What to send once the challenge is answered.
    #[arg(long, default_value = "upload")]
    message: String,
    /// How long to wait for the server's challenge, in seconds (at most a day).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = netkit::seconds)]
    timeout: Duration,
}

/// HMAC with SHA-256: the course's `hmac.new(key, msg, 'sha256')`.
type HmacSha256 = Hmac<Sha256>;

/// How many bytes the server's challenge has: the course's `os.urandom(32)`.
const CHALLENGE_LEN: usize = 32;
/// The same demo key as the server's, so the two work together without setup.
const DEMO_KEY: &str = "hmac-auth demo key (not a secret)";

fn main() -> ExitCode {
    // Piped into `head`, which has quit: stop as Ctrl-C would (130), without a panic.
    netkit::when_stdout_closes(|| std::process::exit(130));
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let Args {
        host,
        port,
        key,
        message,
        timeout,
    } = args;
    let key = choose_key(key);
    let addr = host_port(&host, port);

    // Look the name up first, so that an unknown host is not called a failed connect.
    let addrs: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .at("resolve", &host)?
        .collect();
    // socket() + connect().
    let mut stream = TcpStream::connect(&addrs[..]).at("connect", &addr)?;
    // settimeout(): a server that never sends its challenge (or stops reading) is given
    // up on after --timeout, instead of keeping us waiting for ever.
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .at("settimeout", &addr)?;

    // The challenge: exactly 32 bytes. read_exact keeps reading until all have come, as
    // TCP may deliver them in pieces. A server that closes before sending them all is not
    // the server we expect: one line, exit 1.
    let mut challenge = [0u8; CHALLENGE_LEN];
    stream
        .read_exact(&mut challenge)
        .map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                io::Error::new(e.kind(), "the server closed before sending 32 bytes")
            }
            // The read timeout: WouldBlock on Unix, TimedOut on Windows.
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                let secs = timeout.as_secs_f64();
                io::Error::new(
                    e.kind(),
                    format!("no challenge within {secs} s (--timeout)"),
                )
            }
            _ => e,
        })
        .at("receive challenge from", &addr)?;
    say!("challenge: {}", hex::encode(challenge));

    // The answer: HMAC-SHA256 of the challenge under our key, as lowercase hex, which is
    // what Python's hmac.new(key, challenge, 'sha256').hexdigest() gives. Only someone
    // with the key can compute it; the key itself is never sent.
    // exercise answer: send the lowercase hex of HMAC-SHA256(key, challenge), then print it
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes keys of any length");
    mac.update(&challenge);
    let answer = hex::encode(mac.finalize().into_bytes());
    // send() the 64 hex digits. The server reads exactly 64 bytes, so it does not matter
    // whether TCP delivers them together with the message that follows.
    stream
        .write_all(answer.as_bytes())
        .at("send answer to", &addr)?;
    say!("answer: {answer}");
    // exercise end

    // Then the message. A server that rejected us has closed by now or soon will; we
    // cannot tell, because it sends no verdict (the course's server doesn't either).
    stream
        .write_all(message.as_bytes())
        .at("send message to", &addr)?;
    say!("sent: {message}");

    // close(): the server's read of the message ends here if it had not already.
    drop(stream);
    Ok(())
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
