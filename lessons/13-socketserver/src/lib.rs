//! socketserver: a small `ThreadingTcpServer`, the piece of Python's `socketserver` module
//! that the course uses, written out so that you can see what it does.
//!
//! In Python you write a class with a `handle()` method and hand it to
//! `socketserver.ThreadingTCPServer((host, port), MyServer)`; `serve_forever()` then
//! accepts connections for ever and runs `handle()` for each one on a thread of its own.
//! The accept loop and the threads are hidden inside the module. Here they are the ~60
//! lines below:
//!
//! | Python                                   | here                                      |
//! |------------------------------------------|-------------------------------------------|
//! | `class MyServer(BaseRequestHandler)`     | a type that implements [`Handler`]        |
//! | `def handle(self)`                       | [`Handler::handle`]                       |
//! | `StreamRequestHandler.timeout`           | [`Handler::timeout`]                      |
//! | `self.request`, `self.client_address`    | its `stream` and `peer` arguments         |
//! | `ThreadingTCPServer((host, port), MyServer)` | [`ThreadingTcpServer::bind`]          |
//! | `server.server_address`                  | [`ThreadingTcpServer::server_address`]    |
//! | `server.serve_forever()`                 | [`ThreadingTcpServer::serve_forever`]     |
//! | `ThreadingMixIn.process_request`         | the `thread::spawn` in `serve_forever`    |
//! | (nothing: Python has no limit)           | [`ThreadingTcpServer::set_max_clients`]   |
//! | `handle_error` (prints the traceback)    | the `eprintln!` when `handle` returns `Err`|
//! | `shutdown_request` (closes the socket)   | `handle` owns the stream; it closes when dropped |

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use netkit::error_line;

/// What to do with one connection: Python's `BaseRequestHandler.handle`.
///
/// `Send + Sync + 'static` because the one handler is shared by every connection's
/// thread, at the same time, for as long as the server runs. Python makes a new handler
/// object per connection instead; anything per-connection here lives in `handle`'s own
/// variables, which each thread has to itself.
pub trait Handler: Send + Sync + 'static {
    /// Talk to one client. The stream is closed when `handle` returns (it is dropped).
    /// An `Err` is reported by the server, which goes on serving the others.
    fn handle(&self, stream: TcpStream, peer: SocketAddr) -> io::Result<()>;

    /// How long a read or a write on the stream may wait before it fails (WouldBlock or
    /// TimedOut): Python's `StreamRequestHandler.timeout`. `None`, the default, waits
    /// for ever, and a client that says nothing then keeps its thread for ever.
    fn timeout(&self) -> Option<Duration> {
        None
    }
}

/// Python's `socketserver.ThreadingTCPServer`: a listening socket, and a handler that
/// every connection runs on a thread of its own.
pub struct ThreadingTcpServer<H: Handler> {
    listener: TcpListener,
    // Arc: each connection's thread gets its own counted reference to the one handler,
    // and the handler lives until the last of them is done.
    handler: Arc<H>,
    // How many connections are being handled now, and the most we take at once: every
    // connection costs a thread.
    connected: Arc<AtomicUsize>,
    max_clients: usize,
}

impl<H: Handler> ThreadingTcpServer<H> {
    /// socket() + bind() + listen(), as `ThreadingTCPServer((host, port), Handler)` does
    /// in its constructor (with `allow_reuse_address`, which std sets on Unix anyway).
    pub fn bind(addr: impl ToSocketAddrs, handler: H) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        Ok(ThreadingTcpServer {
            listener,
            handler: Arc::new(handler),
            connected: Arc::new(AtomicUsize::new(0)),
            max_clients: usize::MAX,
        })
    }

    /// Handle at most `max` connections at once; one more is closed at once. (Python's
    /// ThreadingTCPServer has no such limit: a thousand clients cost a thousand threads.)
    pub fn set_max_clients(&mut self, max: usize) {
        self.max_clients = max;
    }

    /// The address we listen on (with port 0, the port the OS chose): Python's
    /// `server.server_address`.
    pub fn server_address(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accept connections for ever; run the handler for each on a new thread. Python's
    /// `serve_forever()` with `ThreadingMixIn`. It returns only if it cannot go on.
    pub fn serve_forever(&self) -> io::Result<()> {
        let local = self.server_address()?;
        loop {
            // accept() waits for the next client and returns its own socket.
            let (stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) => {
                    // One failed accept (the client gave up already, or we are out of
                    // file descriptors) is no reason to stop serving. Out of descriptors,
                    // it fails again at once: a short pause keeps the loop from spinning.
                    eprintln!("{}", error_line("accept", local, &e));
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            // The limit. Only this loop adds to the count (the threads only subtract), so
            // nobody can push it over between the check and the add.
            let now = self.connected.load(Ordering::SeqCst);
            if now >= self.max_clients {
                eprintln!("refused {peer}: {now} clients connected, the most this server takes");
                continue; // dropping the stream closes it
            }
            // StreamRequestHandler.setup: the handler's timeout on the socket, both ways.
            let timeout = self.handler.timeout();
            let timed = stream
                .set_read_timeout(timeout)
                .and_then(|()| stream.set_write_timeout(timeout));
            if let Err(e) = timed {
                eprintln!("{}", error_line("settimeout for", peer, &e));
                continue;
            }
            // ThreadingMixIn.process_request: a new thread per connection, so that this
            // loop is back in accept() at once. Without the mixin (plain TCPServer),
            // Python calls the handler right here and the next client waits.
            let handler = Arc::clone(&self.handler);
            let connected = Arc::clone(&self.connected);
            connected.fetch_add(1, Ordering::SeqCst);
            let spawned = thread::Builder::new().spawn(move || {
                // handle_error: report, and let the other connections be.
                if let Err(e) = handler.handle(stream, peer) {
                    eprintln!("{}", error_line("request from", peer, &e));
                }
                connected.fetch_sub(1, Ordering::SeqCst); // the slot is free again
            });
            if let Err(e) = spawned {
                self.connected.fetch_sub(1, Ordering::SeqCst);
                // No thread to be had: the closure, and the stream in it, is dropped,
                // which closes the connection. The server goes on.
                eprintln!("{}", error_line("spawn a thread for", peer, &e));
            }
        }
    }
}
