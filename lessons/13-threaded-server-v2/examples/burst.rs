//! burst: the load generator behind scripts/bench-threaded-server-v2 (not part of the lesson's
//! programs; read it if you like).
//!
//! It starts one thread per client, and holds them all at a barrier so that they connect
//! in the same instant. Each one connects, reads `Welcome`, and reports how long that
//! took. Then, all together again, each runs `--rounds` round trips (send a name, read
//! `Hello, NAME!`) and says `exit`. It prints, for the server it was pointed at:
//!
//! - the time until every client had its welcome, and how many were stalled (slower than
//!   `--stall-ms`; a full accept queue shows up here) or failed;
//! - the server's threads and memory while all clients were connected (`--server-pid`);
//! - round trips per second over all clients;
//! - one `RESULT` line for the script to read.
//!
//! It exits 1 if any client failed or stalled.
//!
//! Run it:        cargo run --release -p threaded-server-v2 -- --port 9999 --work-ms 0
//! Then:          cargo run --release -p threaded-server-v2 --example burst -- --addr 127.0.0.1:9999
//! Or against lesson 12's listen(5), to see what it loses:
//!                cargo run --release -p threaded-server --bin threaded-server -- --work-ms 0

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

/// Open many clients at once against a threaded-server and time them.
#[derive(Parser)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:9999")]
    addr: SocketAddr,
    /// How many clients connect at once.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Round trips per client after all are connected.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// A client whose welcome takes longer than this counts as stalled.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    stall_ms: u64,
    /// Give up on a connect or a read after this many seconds (a failure).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// The server's process id: its threads and memory are read from /proc.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// What to call the server in the output.
    #[arg(long, default_value = "server")]
    label: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let timeout = Duration::from_secs(args.timeout.max(1));
    let stall = Duration::from_millis(args.stall_ms);
    let label = &args.label;
    let n = args.clients.max(1);

    if let Some(pid) = args.server_pid {
        println!("{label}: idle: {}", server_memory(pid));
    }

    let start = Arc::new(Barrier::new(n + 1));
    let go = Arc::new(Barrier::new(n + 1));
    let (connected_tx, connected_rx) = mpsc::channel::<Result<Duration, String>>();
    let mut threads = Vec::with_capacity(n);
    for i in 0..n {
        let (start, go, connected_tx) = (Arc::clone(&start), Arc::clone(&go), connected_tx.clone());
        let (addr, rounds) = (args.addr, args.rounds);
        let spawned = thread::Builder::new().stack_size(128 * 1024).spawn(
            move || -> Result<usize, String> {
                start.wait();
                let begun = Instant::now();
                let stream = welcome(addr, timeout).map_err(|e| format!("client {i}: {e}"));
                let _ = connected_tx.send(
                    stream
                        .as_ref()
                        .map(|_| begun.elapsed())
                        .map_err(Clone::clone),
                );
                go.wait();
                // A client that never got its welcome was counted above; nothing more to do.
                let Ok(mut stream) = stream else { return Ok(0) };
                let name = format!("client{i}");
                let want = format!("Hello, {name}!");
                for round in 0..rounds {
                    round_trip(&mut stream, &name, &want)
                        .map_err(|e| format!("client {i}, round {round}: {e}"))?;
                }
                stream
                    .write_all(b"exit")
                    .map_err(|e| format!("client {i}: exit: {e}"))?;
                Ok(rounds)
            },
        );
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(e) => {
                eprintln!("burst: cannot start client thread {i}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    drop(connected_tx);

    // Everyone is waiting at the barrier: let them all go at once.
    start.wait();
    let burst_began = Instant::now();
    let mut slowest = Duration::ZERO;
    let (mut ok, mut stalled, mut failed) = (0usize, 0usize, 0usize);
    let mut first_errors = Vec::new();
    for result in connected_rx.iter().take(n) {
        match result {
            Ok(took) => {
                ok += 1;
                slowest = slowest.max(took);
                if took > stall {
                    stalled += 1;
                }
            }
            Err(e) => {
                failed += 1;
                if first_errors.len() < 5 {
                    first_errors.push(e);
                }
            }
        }
    }
    let waited = burst_began.elapsed();
    // Each client timed itself from the moment the barrier let them all go, so the
    // slowest one is the time until all were connected.
    println!(
        "{label}: {ok} of {n} clients connected and had their welcome, the last after {:.3} s; \
         {stalled} stalled (over {} ms); {failed} failed",
        slowest.as_secs_f64(),
        stall.as_millis(),
    );
    if failed > 0 {
        println!(
            "{label}: (the failed ones were given up after {:.0} s)",
            waited.as_secs_f64()
        );
    }
    if let Some(pid) = args.server_pid {
        println!(
            "{label}: with {ok} clients connected: {}",
            server_memory(pid)
        );
    }

    // All connected (or failed): now the round trips, all clients at once.
    go.wait();
    let rounds_began = Instant::now();
    let mut trips = 0usize;
    let mut round_failures = 0usize;
    for handle in threads {
        match handle.join() {
            Ok(Ok(done)) => trips += done,
            Ok(Err(e)) => {
                round_failures += 1;
                if first_errors.len() < 10 {
                    first_errors.push(e);
                }
            }
            Err(_) => round_failures += 1,
        }
    }
    let took = rounds_began.elapsed().as_secs_f64();
    let rate = trips as f64 / took.max(1e-9);
    println!(
        "{label}: {trips} round trips in {took:.3} s: {rate:.0} round trips/s \
         ({round_failures} clients failed)"
    );
    for e in &first_errors {
        println!("{label}: failure: {e}");
    }
    // One line for scripts.
    println!(
        "RESULT label={label} clients={n} connect_s={:.3} connected={ok} stalled={stalled} \
         failed={} round_trips={trips} rate={rate:.0}",
        slowest.as_secs_f64(),
        failed + round_failures,
    );
    if stalled + failed + round_failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Connect and read the 7 bytes of `Welcome`. `Err` says which step failed.
fn welcome(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    let timeouts = stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)));
    timeouts.map_err(|e| format!("set timeouts: {e}"))?;
    match read_exactly(&mut stream, 7) {
        Ok(got) if got == b"Welcome" => Ok(stream),
        Ok(got) => Err(format!(
            "expected Welcome, got {:?}",
            String::from_utf8_lossy(&got)
        )),
        // A read timeout is WouldBlock on Unix ("resource temporarily unavailable").
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(format!(
                "connected, but no welcome within {} s",
                timeout.as_secs()
            ))
        }
        Err(e) => Err(format!("welcome: {e}")),
    }
}

/// Send the name, read its reply.
fn round_trip(stream: &mut TcpStream, name: &str, want: &str) -> io::Result<()> {
    stream.write_all(name.as_bytes())?;
    let got = read_exactly(stream, want.len())?;
    if got != want.as_bytes() {
        return Err(io::Error::other(format!(
            "expected {want:?}, got {:?}",
            String::from_utf8_lossy(&got)
        )));
    }
    Ok(())
}

/// Read `len` bytes; the peer closing first is an error.
fn read_exactly(stream: &mut TcpStream, len: usize) -> io::Result<Vec<u8>> {
    let mut got = vec![0u8; len];
    stream.read_exact(&mut got)?;
    Ok(got)
}

/// `N threads, RSS X MiB, virtual Y MiB` from /proc/PID/status (Linux), or why not.
fn server_memory(pid: u32) -> String {
    let status = match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => status,
        Err(e) => return format!("no /proc/{pid}/status ({e})"),
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|rest| rest.trim().to_string())
            .unwrap_or_else(|| String::from("?"))
    };
    let mib = |name: &str| -> f64 {
        let kib: f64 = field(name)
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap_or(f64::NAN);
        kib / 1024.0
    };
    // RSS: memory really in use. Virtual: address space reserved, mostly thread stacks
    // that are never touched.
    format!(
        "{} threads, RSS {:.1} MiB, virtual {:.0} MiB",
        field("Threads:"),
        mib("VmRSS:"),
        mib("VmSize:")
    )
}
