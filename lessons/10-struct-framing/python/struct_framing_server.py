"""The struct-framing sender (黏包的解决方案 · struct模块): the course's program, retold for
Python 3, with its steps and names: each line of stdin becomes a frame, the length
packed with struct.pack('<i', len(msg)) and sent with the message to one client; end of
input closes.

Run it:  python3 lessons/10-struct-framing/python/struct_framing_server.py
Then:    cargo run -p struct-framing --bin struct-framing-client
         (or python3 lessons/10-struct-framing/python/struct_framing_client.py)
Same options, output and bytes as the Rust lesson (--host, --port, 0 = any free port).
"""
import argparse
import errno
import socket
import struct
import sys


def fail(stage, addr, e):
    """One line naming the stage, the address and the cause, then exit 1 (as the Rust lesson)."""
    hint = ""
    if e.errno == errno.EADDRINUSE:
        hint = " (another program is using that port: stop it, or pass --port 0)"
    cause = (e.strerror or str(e)).lower()
    print("%s %s:%d: %s%s" % (stage, addr[0], addr[1], cause, hint), file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description="Send each line of stdin as a frame.")
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

    conn, addr = sk.accept()
    print("client %s:%d connected" % addr, flush=True)
    sk.close()

    frames = 0
    for line in iter(sys.stdin.buffer.readline, b""):
        msg = line[:-1] if line.endswith(b"\n") else line
        if msg.endswith(b"\r"):
            msg = msg[:-1]
        try:
            # The course: struct.pack('i', len(msg)), sent with the message. 'i' is native
            # byte order, which is little-endian on the machines students use; '<i' says
            # so on every machine.
            conn.sendall(struct.pack("<i", len(msg)) + msg)
        except struct.error:
            print("read stdin: line %d is %d bytes, more than a 4-byte signed length can say"
                  % (frames + 1, len(msg)), file=sys.stderr)
            sys.exit(1)
        except OSError as e:
            fail("send", addr, e)
        frames += 1
    conn.close()
    plural = "" if frames == 1 else "s"
    print("sent %d frame%s to %s:%d, then closed" % (frames, plural, addr[0], addr[1]), flush=True)


if __name__ == "__main__":
    main()
