//! threaded-server: the course's thread-per-connection server. Every client gets a thread
//! of its own, so a slow conversation no longer makes the others wait.
//!
//! New in this lesson: `thread::spawn` after each `accept`, a client count that all those
//! threads share (an `AtomicUsize`), a listen backlog we choose ourselves (`--backlog`,
//! via socket2, because std always asks for 128), a limit on threads
//! (`--max-clients`: one client too many gets `server busy` and is closed), and an idle
//! timeout (`--idle-timeout`) that drops a client that says nothing, freeing its slot.
//! The conversation is the course's: `Welcome`, then `Hello, NAME!` for each NAME after
//! `--work-ms` of pretend work (the course's `time.sleep(1)`), until `exit`.
//!
//! Run it:        cargo run -p threaded-server --bin threaded-server
//! Then, in two or three other terminals at once:
//!                cargo run -p threaded-server --bin threaded-client
//! You will see:  client 127.0.0.1:51234 connected (1 connected) / ... (3 connected) /
//!                client 127.0.0.1:51234 disconnected (2 connected); each client takes
//!                about 3 s, and three at once take about 3 s too, not 9.
//! Try:           nc 127.0.0.1 9999   (type a name; nc sends the newline too, so the reply
//!                is `Hello, Alice` + newline + `!`). And `--max-clients 1` with two clients.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use clap::Parser;
use netkit::{banner, error_line, fail, host_port, say};
use socket2::{Domain, Protocol, Socket, Type};

/// The course's thread-per-connection server: Welcome, Hello, NAME!, exit.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (0.0.0.0 lets other machines connect).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 asks the OS for a free one).
    #[arg(long, default_value_t = 9999)]
    port: u16,
    /// Pretend work before each reply, in milliseconds (the course's time.sleep(1)); at
    /// most a day.
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(..=86_400_000))]
    work_ms: u64,
    /// How many finished handshakes the kernel may queue for accept() (listen's backlog).
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(i32).range(1..))]
    backlog: i32,
    /// Clients served at once; one more gets `server busy` and is closed.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_clients: u64,
    /// Seconds a client may say nothing (or read nothing) before it is dropped and its
    /// slot freed (at most a day).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = netkit::seconds)]
    idle_timeout: Duration,
}

/// How many clients are connected right now. Every client's thread changes it when its
/// client leaves, possibly at the same moment as another: an atomic counter makes each
/// change one indivisible step, so none is lost. (A plain `usize` could not even be
/// shared between threads; Rust would refuse to compile it.)
static CONNECTED: AtomicUsize = AtomicUsize::new(0);

/// What a client over the limit gets, before we close its connection.
const BUSY: &[u8] = b"server busy\n";

fn main() -> ExitCode {
    let args = Args::parse();
    let work = Duration::from_millis(args.work_ms);
    let idle = args.idle_timeout;
    let max_clients = usize::try_from(args.max_clients).unwrap_or(usize::MAX);

    let addrs: Vec<SocketAddr> = match (args.host.as_str(), args.port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return fail("resolve", &args.host, &e),
    };
    let listener = match listen(&addrs, args.backlog) {
        Ok(listener) => listener,
        Err(e) => return fail("bind", host_port(&args.host, args.port), &e),
    };
    let local = match listener.local_addr() {
        Ok(local) => local,
        Err(e) => return fail("getsockname", &args.host, &e),
    };
    if let Err(e) = banner(local) {
        return fail("print", "stdout", &e);
    }

    // The main thread does nothing but accept. Each client's conversation runs on a
    // thread of its own, so accept() is back waiting for the next client at once, while
    // earlier clients are still in their time.sleep().
    loop {
        let (mut client, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                // Running out of file descriptors (EMFILE) lands here, for example. That
                // is no reason to stop serving the clients we have. But it will fail
                // again at once until a client leaves: wait a little, so that the loop
                // doesn't spin and flood stderr.
                eprintln!("{}", error_line("accept", local, &e));
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };

        // The limit. Only this thread ever adds to CONNECTED, so between this check and
        // the fetch_add below nobody else can push it over: threads only subtract.
        let now = CONNECTED.load(Ordering::SeqCst);
        if now >= max_clients {
            // One line, then close (drop). A thread per client means a client too many
            // would cost a thread too many; past the limit, saying no is cheaper. The
            // socket was just accepted, so its send buffer is empty: this write can't block.
            if let Err(e) = client.write_all(BUSY) {
                eprintln!("{}", error_line("send", peer, &e));
            }
            say!(
                "client {peer} refused: server busy ({now} connected, --max-clients {max_clients})"
            );
            continue;
        }
        let now = CONNECTED.fetch_add(1, Ordering::SeqCst) + 1;
        say!("client {peer} connected ({now} connected)");

        // thread::spawn, the course's threading.Thread(target=tcplink, args=(sock, addr)).
        // `move` hands the client's socket to the new thread: from here on only that
        // thread can use it, and it closes it when it is done.
        let spawned = thread::Builder::new().spawn(move || {
            let result = tcplink(client, peer, work, idle);
            // fetch_sub returns the value before the change.
            let now = CONNECTED.fetch_sub(1, Ordering::SeqCst) - 1;
            // An error with one client (it reset the connection, say) is that client's
            // problem: report it; the other threads and the accept loop go on.
            if let Err(line) = result {
                eprintln!("{line}");
            }
            say!("client {peer} disconnected ({now} connected)");
        });
        if let Err(e) = spawned {
            // The system would not give us another thread (out of memory, or the limit on
            // threads per user). The closure, and the socket in it, is dropped: closed.
            CONNECTED.fetch_sub(1, Ordering::SeqCst);
            eprintln!("{}", error_line("spawn a thread for", peer, &e));
        }
    }
}

/// socket() + setsockopt(SO_REUSEADDR) + bind() + listen(backlog), each call written out.
///
/// std's `TcpListener::bind` does all four in one, but always with a backlog of 128. The
/// backlog is the length of the accept queue: connections whose three-way handshake the
/// kernel has already finished, waiting for our accept(). When it is full the kernel
/// ignores new handshakes, and those clients wait for their own retransmission timers
/// (1 s, 3 s, 7 s, ...). Linux caps the number at net.core.somaxconn (4096 nowadays).
fn listen(addrs: &[SocketAddr], backlog: i32) -> io::Result<TcpListener> {
    let mut last_error = io::Error::new(io::ErrorKind::InvalidInput, "no address to bind");
    // A host name may resolve to several addresses (127.0.0.1 and ::1): take the first
    // one that works, as std does.
    for &addr in addrs {
        let attempt = || -> io::Result<TcpListener> {
            let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
            // As std does on Unix: a restarted server can bind again at once, even while
            // its old connections linger in TIME_WAIT (lesson 06).
            socket.set_reuse_address(true)?;
            socket.bind(&addr.into())?;
            // The course's sk.listen(5); ours is --backlog.
            socket.listen(backlog)?;
            // From here on it is an ordinary std listener.
            Ok(TcpListener::from(socket))
        };
        match attempt() {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// One client's conversation, on its own thread (the course's `tcplink`). `Err` is the
/// line to print.
fn tcplink(
    mut sock: TcpStream,
    peer: SocketAddr,
    work: Duration,
    idle: Duration,
) -> Result<(), String> {
    // The idle timeout: a read that waits longer than `idle` for the next name (or a
    // write that waits that long for a client that reads nothing) fails, and the client
    // is dropped. Without it an idle client would keep its --max-clients slot for ever,
    // and enough of them would turn everybody else away with `server busy`.
    sock.set_read_timeout(Some(idle))
        .and_then(|()| sock.set_write_timeout(Some(idle)))
        .map_err(|e| error_line("settimeout", peer, &e))?;
    sock.write_all(b"Welcome")
        .map_err(|e| error_line("send", peer, &e))?;

    let mut buf = [0u8; 1024];
    loop {
        // recv(1024). As in the course, one read is taken to be one message: that holds
        // because the client sends one name and then waits for the reply. TCP carries a
        // stream of bytes, not messages; lesson 10 (struct-framing) shows the real fix.
        let n = match sock.read(&mut buf) {
            Ok(n) => n,
            // The read timeout: WouldBlock on Unix, TimedOut on Windows.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                say!("client {peer} idle for {} s: dropped", idle.as_secs_f64());
                break;
            }
            Err(e) => return Err(error_line("receive", peer, &e)),
        };
        // 0 bytes: the client closed its side (left without `exit`, or vanished).
        if n == 0 || &buf[..n] == b"exit" {
            break;
        }
        // The work a real server would do, here only a sleep. Only this thread sleeps:
        // the other clients' threads carry on. (The course sleeps before it checks for
        // `exit`, so there `exit` costs a second too; here only a name does.)
        if !work.is_zero() {
            thread::sleep(work);
        }
        let name = String::from_utf8_lossy(&buf[..n]);
        sock.write_all(format!("Hello, {name}!").as_bytes())
            .map_err(|e| error_line("send", peer, &e))?;
    }
    // close(): dropping the socket closes it. The listener and the other clients' sockets
    // are untouched.
    drop(sock);
    Ok(())
}
