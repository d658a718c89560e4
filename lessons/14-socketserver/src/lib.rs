//! socketserver: a small `ThreadingTcpServer`, the piece of Python's `socketserver` module
//! that the course uses, written out so that you can see what it does.
//!
//! In Python you write a class with a `handle()` method and hand it to
//! `socketserver.ThreadingTCPServer((host, port), MyServer)`; `serve_forever()` then
//! accepts connections for ever and runs `handle()` for each one on a thread of its own.
//! The accept loop and the threads are hidden inside the module. Here they are lesson
//! 12's, moved into the type below:
//!
//! | Python                                   | here                                      |
//! |------------------------------------------|-------------------------------------------|
//! | `class MyServer(BaseRequestHandler)`     | a type that implements [`Handler`]        |
//! | `def handle(self)`                       | [`Handler::handle`]                       |
//! | `StreamRequestHandler.timeout`           | [`Handler::timeout`]                      |
//! | `self.request`, `self.client_address`    | its `stream` and `peer` arguments         |
//! | `ThreadingTCPServer((host, port), MyServer)` | [`ThreadingTcpServer::bind`]          |
//! | `request_queue_size = 5`                 | [`REQUEST_QUEUE_SIZE`], `listen`'s backlog |
//! | `server.server_address`                  | [`ThreadingTcpServer::server_address`]    |
//! | `server.serve_forever()`                 | [`ThreadingTcpServer::serve_forever`]     |
//! | `ThreadingMixIn.process_request`         | the `spawn` in `serve_forever`            |
//! | `handle_error` (prints the traceback)    | the `eprintln!` when `handle` returns `Err`|
//! | `shutdown_request` (closes the socket)   | `handle` owns the stream; it closes when dropped |

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use netkit::error_line;
use socket2::{Domain, Protocol, Socket, Type};

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

/// Python's `TCPServer.request_queue_size`: the backlog it passes to `listen()`, the
/// course's `listen(5)` of lesson 12. (std's `TcpListener::bind` would use 128.)
pub const REQUEST_QUEUE_SIZE: i32 = 5;

/// Python's `socketserver.ThreadingTCPServer`: a listening socket, and a handler that
/// every connection runs on a thread of its own.
pub struct ThreadingTcpServer<H: Handler> {
    listener: TcpListener,
    // Arc: each connection's thread gets its own counted reference to the one handler,
    // and the handler lives until the last of them is done.
    handler: Arc<H>,
}

impl<H: Handler> ThreadingTcpServer<H> {
    /// socket() + bind() + listen(5), as `ThreadingTCPServer((host, port), Handler)` does
    /// in its constructor: lesson 12's steps (with `allow_reuse_address`, as std on Unix).
    pub fn bind(addr: impl ToSocketAddrs, handler: H) -> io::Result<Self> {
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind"))?;
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        #[cfg(unix)]
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(REQUEST_QUEUE_SIZE)?;
        Ok(ThreadingTcpServer {
            listener: TcpListener::from(socket),
            handler: Arc::new(handler),
        })
    }

    /// The address we listen on (with port 0, the port the OS chose): Python's
    /// `server.server_address`.
    pub fn server_address(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accept connections for ever; run the handler for each on a new thread. Python's
    /// `serve_forever()` with `ThreadingMixIn`: lesson 12's accept loop. It returns only
    /// if it cannot go on.
    pub fn serve_forever(&self) -> io::Result<()> {
        let local = self.server_address()?;
        loop {
            let (stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Running out of file descriptors (EMFILE) lands here, for example.
                    // That is no reason to stop serving the clients we have. But it will
                    // fail again at once until a client leaves: wait a little, so that
                    // the loop doesn't spin and flood stderr.
                    eprintln!("{}", error_line("accept", local, &e));
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            // StreamRequestHandler.setup: the handler's timeout on the socket, both ways.
            let timeout = self.handler.timeout();
            let timed = stream
                .set_read_timeout(timeout)
                .and_then(|()| stream.set_write_timeout(timeout));
            if let Err(e) = timed {
                eprintln!("{}", error_line("settimeout for", peer, &e));
                continue;
            }

            // ThreadingMixIn.process_request: lesson 12's thread per connection, so that
            // this loop is back in accept() at once. Without the mixin (plain TCPServer),
            // Python calls the handler right here and the next client waits.
            // exercise process-request: a thread per connection, running the shared handler
            let handler = Arc::clone(&self.handler);
            let spawned = thread::Builder::new().spawn(move || {
                // handle_error: report, and let the other connections be.
                if let Err(e) = handler.handle(stream, peer) {
                    eprintln!("{}", error_line("request from", peer, &e));
                }
            });
            if let Err(e) = spawned {
                // The system would not give us another thread (out of memory, or the
                // limit on threads per user). The closure, and the stream in it, is
                // dropped: closed.
                eprintln!("{}", error_line("spawn a thread for", peer, &e));
            }
            // exercise end
        }
    }
}
