"""The struct-framing receiver (黏包的解决方案 · struct模块): the course's program, retold
for Python 3, with its steps and names: read a 4-byte length (struct.unpack), then that
many bytes; print each message on its own line.

Run it:  python3 lessons/10-struct-framing/python/struct_framing_client.py
With a server: cargo run -p struct-framing --bin struct-framing-server   (first)
Same output and error lines for bad frames as the Rust lesson (--host, --port, --max-frame;
not the Rust client's --timeout).

The course reads with sk.recv(4) and sk.recv(num). recv(n) returns what has arrived, up
to n bytes, so for a big message (or an unlucky moment) it returns less than asked.
recv_exactly keeps reading until all n bytes are here, as Rust's read_exact does.
"""
import argparse
import socket
import struct
import sys


def recv_exactly(sk, n):
    """Read until n bytes have arrived, or the stream ends (then fewer come back)."""
    data = bytearray()
    while len(data) < n:
        chunk = sk.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def stop(line):
    """Print the messages that arrived whole, then one error line; exit 1."""
    sys.stdout.flush()
    print(line, file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description="Print each length-prefixed message.")
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=int, default=9090, help="the server's port")
    parser.add_argument("--max-frame", type=int, default=1024 * 1024, metavar="BYTES",
                        help="the longest message accepted, in bytes")
    args = parser.parse_args()

    sk = socket.socket()
    try:
        sk.connect((args.host, args.port))
    except OSError as e:
        stop("connect %s:%d: %s" % (args.host, args.port, (e.strerror or str(e)).lower()))
    peer = "%s:%d" % sk.getpeername()[:2]

    while True:
        try:
            header = recv_exactly(sk, 4)  # the course: sk.recv(4)
            if not header:
                break  # the server closed between two frames: a clean end
            if len(header) < 4:
                stop("receive %s: stream ended after %d of 4 header bytes" % (peer, len(header)))
            num = struct.unpack("<i", header)[0]  # the course: struct.unpack('i', ...)[0]
            if num < 0:
                stop("receive %s: frame header: length %d is negative" % (peer, num))
            if num > args.max_frame:
                stop("receive %s: frame header: length %d is over --max-frame %d"
                     % (peer, num, args.max_frame))
            msg = recv_exactly(sk, num)  # the course: sk.recv(num)
        except OSError as e:
            stop("receive %s: %s" % (peer, (e.strerror or str(e)).lower()))
        if len(msg) < num:
            stop("receive %s: stream ended after %d of %d body bytes" % (peer, len(msg), num))
        print(msg.decode("utf-8", errors="replace"))
    sk.close()


if __name__ == "__main__":
    main()
