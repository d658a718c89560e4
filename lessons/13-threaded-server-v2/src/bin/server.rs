//! threaded-server-v2: lesson 12's thread-per-connection server, ready for a burst of
//! clients. The conversation is the same: `Welcome`, `Hello, NAME!`, `exit`.
//!
//! New since threaded-server (lesson 12): a listen backlog we choose (`--backlog`,
//! default 1024: with the course's `listen(5)`, a burst of clients loses some), a limit
//! on threads (`--max-clients`: one client too many gets `server busy` and is closed),
//! and an idle timeout (`--idle-timeout`) that drops a client that says nothing, freeing
//! its slot.
//!
//! Run it:        cargo run -p threaded-server-v2 -- --max-clients 2
//! Then, in three other terminals at once:
//!                cargo run -p threaded-server --bin threaded-client
//! You will see:  client 127.0.0.1:51234 connected (1 connected) / ... (2 connected) /
//!                client 127.0.0.1:51240 refused: server busy (2 connected, --max-clients 2)
//! Try:           scripts/bench-threaded-server-v2: 1,000 clients at once, none lost.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use clap::Parser;
use netkit::{At, Failure, banner, error_line, host_port, say};
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
    /// How many finished handshakes the kernel may queue for accept() (listen's backlog;
    /// the course's is 5).
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
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let work = Duration::from_millis(args.work_ms);
    let idle = args.idle_timeout;
    let max_clients = usize::try_from(args.max_clients).unwrap_or(usize::MAX);
    let at = host_port(&args.host, args.port);

    // s = socket.socket(AF_INET, SOCK_STREAM); s.bind(...); s.listen(backlog). std's
    // TcpListener::bind does all of it in one call, but with its own backlog (128), so
    // the steps are written out with socket2, and then it is an ordinary std listener.
    let addr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .at("resolve", &args.host)?
        .next()
        .ok_or_else(|| Failure::new(format!("resolve {}: no address", args.host)))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .at("socket", &at)?;
    // As std does on Unix: a restarted server can bind again at once, even while its old
    // connections linger in TIME_WAIT (lesson 06).
    #[cfg(unix)]
    socket.set_reuse_address(true).at("setsockopt", &at)?;
    socket.bind(&addr.into()).at("bind", &at)?;
    // The backlog is the length of the accept queue: connections whose three-way
    // handshake the kernel has already finished, waiting for our accept(). When it is
    // full, the kernel ignores new handshakes, and those clients wait for their own
    // retransmission timers (1 s, 3 s, 7 s, ...), or are lost. Linux caps the number at
    // net.core.somaxconn (4096 nowadays).
    socket.listen(args.backlog).at("listen", &at)?;
    let listener = TcpListener::from(socket);
    let local = listener.local_addr().at("getsockname", &at)?;
    banner(local).at("print", "stdout")?;

    // The main thread does nothing but accept. Each client's conversation runs on a
    // thread of its own, so accept() is back waiting for the next client at once, while
    // earlier clients are still in their time.sleep().
    loop {
        let (mut sock, peer) = match listener.accept() {
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
            if let Err(e) = sock.write_all(BUSY) {
                eprintln!("{}", error_line("send", peer, &e));
            }
            say!(
                "client {peer} refused: server busy ({now} connected, --max-clients {max_clients})"
            );
            continue;
        }
        // The count and its line as one step: stdout is held while both happen (say!
        // may take it again: the lock is the thread's), so the lines keep the counts'
        // order even when clients come and go at the same moment.
        let stdout = std::io::stdout().lock();
        let now = CONNECTED.fetch_add(1, Ordering::SeqCst) + 1;
        say!("client {peer} connected ({now} connected)");
        drop(stdout);

        // The course's threading.Thread(target=tcplink, args=(sock, addr)).start().
        // `move` hands the client's socket to the new thread: from here on only that
        // thread can use it, and it closes it when it is done.
        let spawned = thread::Builder::new().spawn(move || {
            // An error with one client (it reset the connection, say) is that client's
            // problem: report it; the other threads and the accept loop go on.
            if let Err(failure) = tcplink(sock, peer, work, idle) {
                eprintln!("{failure}");
            }
            // fetch_sub returns the value before the change.
            let _stdout = std::io::stdout().lock(); // the count and its line, as above
            let now = CONNECTED.fetch_sub(1, Ordering::SeqCst) - 1;
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

/// One client's conversation, on its own thread: the course's `tcplink(sock, addr)`.
fn tcplink(
    mut sock: TcpStream,
    peer: SocketAddr,
    work: Duration,
    idle: Duration,
) -> Result<(), Failure> {
    // The idle timeout: a read that waits longer than `idle` for the next name (or a
    // write that waits that long for a client that reads nothing) fails, and the client
    // is dropped. Without it an idle client would keep its --max-clients slot for ever,
    // and enough of them would turn everybody else away with `server busy`.
    sock.set_read_timeout(Some(idle)).at("settimeout", peer)?;
    sock.set_write_timeout(Some(idle)).at("settimeout", peer)?;
    sock.write_all(b"Welcome").at("send", peer)?;
    let mut buf = [0u8; 1024];
    loop {
        // recv(1024). As in the course, one read is taken to be one message: that holds
        // because the client sends one name and then waits for the reply. TCP carries a
        // stream of bytes, not messages; lesson 10 (struct-framing) shows the real fix.
        let n = match sock.read(&mut buf) {
            Ok(n) => n,
            // The read timeout: WouldBlock on Unix, TimedOut on Windows.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                say!("client {peer} idle for {} s: dropped", idle.as_secs_f64());
                break;
            }
            Err(e) => return Err(e).at("receive", peer),
        };
        // 0 bytes: the client closed its side (left without `exit`, or vanished).
        if n == 0 || &buf[..n] == b"exit" {
            break;
        }
        // time.sleep(1): the work a real server would do. Only this thread sleeps: the
        // other clients' threads carry on. (The course sleeps before it checks for
        // `exit`, so there `exit` costs a second too; here only a name does.)
        thread::sleep(work);
        let name = String::from_utf8_lossy(&buf[..n]);
        sock.write_all(format!("Hello, {name}!").as_bytes())
            .at("send", peer)?;
    }
    // sock.close(): dropping the socket closes it. The listener and the other clients'
    // sockets are untouched.
    drop(sock);
    Ok(())
}
