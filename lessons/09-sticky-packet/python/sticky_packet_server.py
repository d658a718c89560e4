"""The sticky-packet server (黏包现象): the course's program, retold for Python 3, with its
steps and names: send b'hello,' and b'world' back to back, close.

Run it:  python3 lessons/09-sticky-packet/python/sticky_packet_server.py
Then:    cargo run -p sticky-packet --bin sticky-packet-client
         (or python3 lessons/09-sticky-packet/python/sticky_packet_client.py)
Same options, output and bytes as the Rust lesson (--host, --port, 0 = any free port).
Like the Rust server it serves clients one after another, until Ctrl-C.
"""
import argparse
import errno
import socket
import sys


def fail(stage, addr, e):
    """One line naming the stage, the address and the cause, then exit 1 (as the Rust lesson)."""
    hint = ""
    if e.errno == errno.EADDRINUSE:
        hint = " (another program is using that port: stop it, or pass --port 0)"
    print("%s %s:%d: %s%s" % (stage, addr[0], addr[1], e.strerror.lower(), hint), file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description="Send b'hello,' then b'world' to each client.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9090, help="port (0 = any free port)")
    args = parser.parse_args()

    sk = socket.socket()
    # This server closes each connection first, which leaves the port in TIME_WAIT for a
    # minute; SO_REUSEADDR lets the next run bind it at once (Rust's std sets it on Unix
    # listeners; lesson 06 explains it).
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sk.bind((args.host, args.port))
    except OSError as e:
        fail("bind", (args.host, args.port), e)
    sk.listen()
    print("listening on %s:%d" % sk.getsockname(), flush=True)

    try:
        while True:
            conn, addr = sk.accept()
            try:
                conn.send(b"hello,")
                conn.send(b"world")
            except OSError as e:
                print("send %s:%d: %s" % (addr[0], addr[1], (e.strerror or str(e)).lower()),
                      file=sys.stderr, flush=True)
            else:
                print("%s:%d: wrote %r then %r, closed" % (addr[0], addr[1], b"hello,", b"world"),
                      flush=True)
            conn.close()
    except KeyboardInterrupt:
        pass
    finally:
        sk.close()


if __name__ == "__main__":
    main()
