//! threaded-server: the course's thread-per-connection server. Every client gets a thread
//! of its own, so a slow conversation no longer makes the others wait.
//!
//! New in this lesson: `thread::Builder::spawn` after each `accept`, and a client count
//! that all those threads share (an `AtomicUsize`). The listening socket is the course's:
//! `listen(5)`, written out with socket2 because std's `TcpListener::bind` always asks for
//! 128. The conversation is the course's too: `Welcome`, then `Hello, NAME!` for each NAME
//! after `--work-ms` of pretend work (the course's `time.sleep(1)`), until `exit`.
//!
//! Run it:        cargo run -p threaded-server --bin threaded-server
//! Then, in two or three other terminals at once:
//!                cargo run -p threaded-server --bin threaded-client
//! You will see:  client 127.0.0.1:51234 connected (1 connected) / ... (3 connected) /
//!                client 127.0.0.1:51234 disconnected (2 connected); each client takes
//!                about 3 s, and three at once take about 3 s too, not 9.
//! Try:           nc 127.0.0.1 9999   (type a name; nc sends the newline too, so the reply
//!                is `Hello, Alice` + newline + `!`).

use std::io::{Read, Write};
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
}

/// The course's `s.listen(5)`: how many connections the kernel may hold, handshake done,
/// waiting for our accept(). Plenty for three clients; see the README for a thousand.
const BACKLOG: i32 = 5;

/// How many clients are connected right now. Every client's thread changes it when its
/// client leaves, possibly at the same moment as another: an atomic counter makes each
/// change one indivisible step, so none is lost. (A plain `usize` could not even be
/// shared between threads; Rust would refuse to compile it.)
static CONNECTED: AtomicUsize = AtomicUsize::new(0);

fn main() -> ExitCode {
    netkit::exit(run(Args::parse()))
}

fn run(args: Args) -> Result<(), Failure> {
    let work = Duration::from_millis(args.work_ms);
    let at = host_port(&args.host, args.port);

    // s = socket.socket(AF_INET, SOCK_STREAM); s.bind(...); s.listen(5). std's
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
    // exercise listen-5: bind the socket to addr, then listen with the course's backlog, BACKLOG
    socket.bind(&addr.into()).at("bind", &at)?;
    socket.listen(BACKLOG).at("listen", &at)?;
    // exercise end
    let listener = TcpListener::from(socket);
    let local = listener.local_addr().at("getsockname", &at)?;
    banner(local).at("print", "stdout")?;

    // The main thread does nothing but accept. Each client's conversation runs on a
    // thread of its own, so accept() is back waiting for the next client at once, while
    // earlier clients are still in their time.sleep().
    loop {
        let (sock, peer) = match listener.accept() {
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
        // exercise thread-per-client: spawn a thread that runs tcplink, then counts the client out
        let spawned = thread::Builder::new().spawn(move || {
            // An error with one client (it reset the connection, say) is that client's
            // problem: report it; the other threads and the accept loop go on.
            if let Err(failure) = tcplink(sock, peer, work) {
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
        // exercise end
    }
}

/// One client's conversation, on its own thread: the course's `tcplink(sock, addr)`.
fn tcplink(mut sock: TcpStream, peer: SocketAddr, work: Duration) -> Result<(), Failure> {
    sock.write_all(b"Welcome").at("send", peer)?;
    let mut buf = [0u8; 1024];
    loop {
        // recv(1024). As in the course, one read is taken to be one message: that holds
        // because the client sends one name and then waits for the reply. TCP carries a
        // stream of bytes, not messages; lesson 10 (struct-framing) shows the real fix.
        let n = sock.read(&mut buf).at("receive", peer)?;
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
