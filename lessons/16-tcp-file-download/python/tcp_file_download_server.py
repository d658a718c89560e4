"""The course's tcp下载文件 server, rewritten to the lesson's protocol: hand out the files
under --root, a thread per client, one file per connection.

The request is the file name as one frame: struct.pack('<i', len(name)) + name (UTF-8),
as in the struct-framing lesson. The answer is a status byte, then either (0) the size as
struct.pack('<Q', size), the SHA-256 (32 bytes) and the file's bytes, or (1) an error
message as one frame. Names that would leave the root (`..`, absolute paths, symlinks
out of it) are refused, and so is a name frame longer than --max-name.

Run it:  python3 lessons/16-tcp-file-download/python/tcp_file_download_server.py --root lessons/16-tcp-file-download/files
Then:    cargo run -p tcp-file-download --bin tcp-file-download-client -- welcome.txt -o /tmp
Same options, output and bytes as the Rust lesson (--host, --port, 0 = any free port).
"""
import argparse
import errno
import hashlib
import os
import socket
import struct
import sys
import threading
import time

OK = 0
REFUSED = 1
BUFFER = 256 * 1024


class Refused(Exception):
    """Refuse the request: tell the client why (a status byte 1 and a message frame)."""


class Lost(Exception):
    """The connection failed; the message is the whole line to report."""


def fail(stage, addr, e):
    """One line naming the stage, the address and the cause, then exit 1 (as the Rust lesson)."""
    hint = ""
    if e.errno == errno.EADDRINUSE:
        hint = " (another program is using that port: stop it, or pass --port 0)"
    cause = (e.strerror or str(e)).lower()
    print("%s %s:%d: %s%s" % (stage, addr[0], addr[1], cause, hint), file=sys.stderr)
    sys.exit(1)


def show_bytes(raw):
    """Bytes the way Python prints them, b'\\xff\\xfeok': a stranger's bytes, escaped."""
    return repr(raw)


def escaped(text):
    """Text from a peer with its control characters escaped (\\x1b, \\n, \\u{202e}), as
    the Rust lesson's netkit::escaped does: it can't forge a line or drive the terminal."""
    out = ""
    for ch in text:
        n = ord(ch)
        if ch in "\n\r\t":
            out += {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch]
        elif n < 0x20 or 0x7F <= n < 0xA0:
            out += "\\x%02x" % n
        elif n in (0x2028, 0x2029) or 0x202A <= n <= 0x202E or 0x2066 <= n <= 0x2069:
            out += "\\u{%x}" % n
        else:
            out += ch
    return out


def show_name(name):
    """A name in double quotes, escaped."""
    return '"' + escaped(name) + '"'


def recv_exactly(conn, n, deadline):
    """Read until n bytes have arrived, or the stream ends (then fewer come back), by
    `deadline` (time.monotonic()), or socket.timeout."""
    data = bytearray()
    while len(data) < n:
        left = deadline - time.monotonic()  # each read waits only for what is left
        if left <= 0:
            raise socket.timeout("timed out")
        conn.settimeout(left)
        chunk = conn.recv(min(n - len(data), BUFFER))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def read_name(conn, peer, max_name, timeout):
    """The request frame: a 4-byte length checked before anything is read for it; the
    whole frame within one deadline, so a trickling client can't hold its thread."""
    deadline = time.monotonic() + timeout
    header = recv_exactly(conn, 4, deadline)
    if len(header) < 4:
        raise Lost("receive %s: stream ended after %d of 4 header bytes" % (peer, len(header)))
    (length,) = struct.unpack("<i", header)
    if length < 0:
        raise Refused("frame header: length %d is negative" % length)
    if length > max_name:
        raise Refused("frame header: length %d is over --max-name %d" % (length, max_name))
    raw = recv_exactly(conn, length, deadline)
    if len(raw) < length:
        raise Lost("receive %s: stream ended after %d of %d name bytes" % (peer, len(raw), length))
    return raw


def resolve(root, name):
    """The path of the file `name` names under `root` (already real), or Refused."""
    if not name:
        raise Refused("empty file name")
    if "\0" in name:
        raise Refused("file names cannot hold a NUL byte")
    if name.startswith("/"):
        raise Refused("absolute paths are not allowed")
    if ".." in name.split("/"):
        raise Refused("`..` is not allowed")
    path = os.path.join(root, name)
    if not os.path.lexists(path):
        raise Refused("no such file")
    real = os.path.realpath(path)  # every symlink resolved, as Rust's canonicalize
    if not os.path.exists(real):
        raise Refused("no such file")
    if os.path.commonpath([root, real]) != root:
        raise Refused("leads out of the root (a symlink)")
    if not os.path.isfile(real):
        raise Refused("not a regular file")
    return real


def file_digest(f):
    """First read: the size and the SHA-256, which go out before the bytes."""
    sha = hashlib.sha256()
    size = 0
    while True:
        chunk = f.read(BUFFER)
        if not chunk:
            break
        sha.update(chunk)
        size += len(chunk)
    return size, sha.digest()


def linger(conn):
    """After a refusal: end our side, read away what the client still sends (64 KiB at
    most, 1 second at most), then close, so the client gets our answer and not a reset."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(1)
        left = 64 * 1024
        while left > 0:
            chunk = conn.recv(4096)
            if not chunk:
                break
            left -= len(chunk)
    except OSError:
        pass


def serve(conn, peer, root, max_name, timeout):
    """One download; returns the line to print, or raises with the line to report."""
    shown = None
    try:
        try:
            raw = read_name(conn, peer, max_name, timeout)
        except socket.timeout:
            raise Lost("receive %s: no whole request within %g s (--timeout); closed"
                       % (peer, timeout))
        conn.settimeout(timeout)  # no write to the client may wait longer
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = show_bytes(raw)
            raise Refused("file name is not UTF-8")
        shown = show_name(name)
        print("%s asks for %s" % (peer, shown), flush=True)
        path = resolve(root, name)
        try:
            f = open(path, "rb")
        except OSError as e:
            raise Refused("cannot open: %s" % (e.strerror or str(e)).lower())
        with f:
            try:
                size, digest = file_digest(f)
            except OSError as e:
                raise Refused("cannot read: %s" % (e.strerror or str(e)).lower())
            conn.sendall(bytes([OK]) + struct.pack("<Q", size) + digest)
            f.seek(0)
            sent = 0
            while sent < size:
                chunk = f.read(min(BUFFER, size - sent))
                if not chunk:
                    raise Lost("send %s: %s shrank while being sent (%d of %d bytes); closed"
                               % (peer, shown, sent, size))
                conn.sendall(chunk)
                sent += len(chunk)
        return "sent %s to %s: %d bytes" % (shown, peer, size)
    except Refused as why:
        report = ("refused %s to %s: %s" % (shown, peer, why)) if shown else \
            ("refused %s: %s" % (peer, why))
        message = str(why).encode("utf-8")
        try:
            conn.sendall(bytes([REFUSED]) + struct.pack("<i", len(message)) + message)
        except OSError as e:
            raise Lost("%s (could not tell it: %s)" % (report, (e.strerror or str(e)).lower()))
        linger(conn)
        raise Lost(report)
    except OSError as e:
        raise Lost("send %s: %s" % (peer, (e.strerror or str(e)).lower()))


def handle(conn, addr, root, max_name, timeout):
    peer = "%s:%d" % addr[:2]
    try:
        print(serve(conn, peer, root, max_name, timeout), flush=True)
    except Lost as line:
        print(line, file=sys.stderr, flush=True)
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description="Serve the files under --root.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9001, help="port (0 = any free port)")
    parser.add_argument("--root", required=True, metavar="DIR", help="the folder to serve")
    parser.add_argument("--max-name", type=int, default=4096, metavar="BYTES",
                        help="the longest file name accepted, in bytes (at most 65536)")
    parser.add_argument("--timeout", type=float, default=30, metavar="SECS",
                        help="a client has SECS to send its whole request")
    args = parser.parse_args()
    if not 0 <= args.max_name <= 65536:
        parser.error("--max-name: %d is not in 0..=65536" % args.max_name)
    if not 0 < args.timeout <= 86400:
        parser.error("--timeout: must be more than 0 and at most 86400 seconds (a day)")

    if not os.path.exists(args.root):
        print("root %s: no such file or directory" % args.root, file=sys.stderr)
        sys.exit(1)
    root = os.path.realpath(args.root)
    if not os.path.isdir(root):
        print("root %s: not a directory" % args.root, file=sys.stderr)
        sys.exit(1)

    sk = socket.socket()
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sk.bind((args.host, args.port))
    except OSError as e:
        fail("bind", (args.host, args.port), e)
    sk.listen(128)
    print("listening on %s:%d" % sk.getsockname()[:2], flush=True)
    print("serving the files under %s" % args.root, flush=True)

    try:
        while True:
            conn, addr = sk.accept()
            # The course's threading.Thread(target=..., args=(conn, addr)): a thread per
            # client, so a big download doesn't make the next client wait.
            threading.Thread(target=handle, args=(conn, addr, root, args.max_name, args.timeout),
                             daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        sk.close()


if __name__ == "__main__":
    main()
