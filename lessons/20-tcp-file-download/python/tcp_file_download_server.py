"""The course's tcp下载文件 server (TCP file download), retold for Python 3: receive the
name of a file, open it, send its contents to the client; a thread per client.

The course's steps and names are kept (send_file_2_client, new_client_socket,
client_addr, file_name), with what the Rust lesson adds, byte for byte: the name comes as
one frame, struct.pack('<i', len(name)) + name (UTF-8, as in the struct-framing lesson);
the answer is a status byte, then either (0) the size as struct.pack('<Q', size), the
SHA-256 (32 bytes) and the file's bytes, or (1) an error message as one frame. Names
that would leave --root (`..`, absolute paths, symlinks out of it) are refused, and so is
a name frame longer than 4096 bytes; a client has --timeout seconds for its whole request.

Run it:  python3 lessons/20-tcp-file-download/python/tcp_file_download_server.py --root lessons/20-tcp-file-download/files
Then:    cargo run -p tcp-file-download --bin tcp-file-download-client -- welcome.txt -o target
The same options (--host, --port, 0 = any free port), output and bytes as the Rust lesson.
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
MAX_NAME = 4096  # the longest file name accepted, in bytes
BUFFER = 1024 * 1024


class Refused(Exception):
    """Refuse the request: tell the client why (a status byte 1 and a message frame)."""


class Lost(Exception):
    """The connection failed; the message is the whole line to report."""


def cause(e):
    return (e.strerror or str(e)).lower()


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


def recv_exactly(sock, n, deadline, what, peer, timeout):
    """Read exactly n bytes by `deadline` (time.monotonic()): each recv waits only for what
    is left of it, so a client sending a byte now and then can't hold its thread."""
    data = bytearray()
    while len(data) < n:
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise socket.timeout("timed out")
            sock.settimeout(left)
            chunk = sock.recv(min(n - len(data), BUFFER))
        except socket.timeout:
            raise Lost("receive %s: no whole request within %g s (--timeout); closed" % (peer, timeout))
        if not chunk:
            raise Lost("receive %s: stream ended after %d of %d %s bytes" % (peer, len(data), n, what))
        data += chunk
    return bytes(data)


def resolve(root, name):
    """The path of the file `name` names under `root` (already real), or Refused."""
    if not name:
        raise Refused("empty file name")
    if name.startswith("/"):
        raise Refused("absolute paths are not allowed")
    if ".." in name.split("/"):
        raise Refused("`..` is not allowed")
    if "\0" in name:
        raise Refused("file name contained an unexpected NUL byte")  # Rust's words for it
    path = os.path.join(root, name)
    real = os.path.realpath(path)  # every symlink resolved, as Rust's canonicalize
    if not os.path.lexists(path) or not os.path.exists(real):
        raise Refused("no such file")
    if os.path.commonpath([root, real]) != root:
        raise Refused("leads out of the root (a symlink)")
    if not os.path.isfile(real):
        raise Refused("not a regular file")
    return real


def refuse(new_client_socket, why):
    """Status 1 and `why` as one frame; then end our side and read away what the client
    still sends (64 KiB, 1 s at most) before closing, so it gets our answer, not a reset."""
    message = why.encode("utf-8")
    try:
        new_client_socket.sendall(bytes([REFUSED]) + struct.pack("<i", len(message)) + message)
        new_client_socket.shutdown(socket.SHUT_WR)
        new_client_socket.settimeout(1)
        left = 64 * 1024
        while left > 0:
            chunk = new_client_socket.recv(4096)
            if not chunk:
                break
            left -= len(chunk)
    except OSError:
        pass


def send_file_2_client(new_client_socket, client_addr, root, timeout):
    """Serve one download; returns the line to print, or raises Lost with the line to report."""
    peer = "%s:%d" % client_addr[:2]
    shown = None
    try:
        # 1. Receive the name of the file the client wants: one frame, one deadline.
        deadline = time.monotonic() + timeout
        header = recv_exactly(new_client_socket, 4, deadline, "header", peer, timeout)
        (length,) = struct.unpack("<i", header)
        if length < 0:
            raise Refused("frame header: length %d is negative" % length)
        if length > MAX_NAME:
            raise Refused("frame header: length %d is over the %d-byte limit" % (length, MAX_NAME))
        raw = recv_exactly(new_client_socket, length, deadline, "name", peer, timeout)
        new_client_socket.settimeout(timeout)  # no send to the client may wait longer
        try:
            file_name = raw.decode("utf-8")
            shown = '"%s"' % escaped(file_name)
        except UnicodeDecodeError:
            file_name = None
            shown = repr(raw)  # b'\xff\xfe...': a stranger's bytes, escaped
        print("%s asks for %s" % (peer, shown), flush=True)
        if file_name is None:
            raise Refused("file name is not UTF-8")
        # 2. Open the file (only inside the root), and read it once for its size and SHA-256.
        try:
            f = open(resolve(root, file_name), "rb")
        except OSError as e:
            raise Refused("cannot open: %s" % cause(e))
        with f:
            sha, size = hashlib.sha256(), 0
            try:
                for chunk in iter(lambda: f.read(BUFFER), b""):
                    sha.update(chunk)
                    size += len(chunk)
            except OSError as e:
                raise Refused("cannot read: %s" % cause(e))
            # 3. Send the file's data to the client: the header, then the bytes.
            new_client_socket.sendall(bytes([OK]) + struct.pack("<Q", size) + sha.digest())
            f.seek(0)
            sent = 0
            while sent < size:
                chunk = f.read(min(BUFFER, size - sent))
                if not chunk:
                    raise Lost("send %s: %s shrank while being sent (%d of %d bytes); closed"
                               % (peer, shown, sent, size))
                new_client_socket.sendall(chunk)
                sent += len(chunk)
        return "sent %s to %s: %d bytes" % (shown, peer, size)
    except Refused as why:
        refuse(new_client_socket, str(why))
        raise Lost(("refused %s to %s: %s" % (shown, peer, why)) if shown else
                   ("refused %s: %s" % (peer, why)))
    except OSError as e:
        raise Lost("send %s: %s" % (peer, cause(e)))


def handle(new_client_socket, client_addr, root, timeout):
    try:
        print(send_file_2_client(new_client_socket, client_addr, root, timeout), flush=True)
    except Lost as line:
        print(line, file=sys.stderr, flush=True)
    finally:
        # 4. Close the client's socket: after the last byte, end of stream.
        new_client_socket.close()


def main():
    parser = argparse.ArgumentParser(description="Serve the files under --root.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9001, help="port (0 = any free port)")
    parser.add_argument("--root", required=True, metavar="DIR", help="the folder to serve")
    parser.add_argument("--timeout", type=float, default=30, metavar="SECS",
                        help="a client has SECS to send its whole request")
    args = parser.parse_args()
    if not 0 < args.timeout <= 86400:
        parser.error("--timeout: must be more than 0 and at most 86400 seconds (a day)")
    if not os.path.exists(args.root):
        print("root %s: no such file or directory" % args.root, file=sys.stderr)
        sys.exit(1)
    root = os.path.realpath(args.root)
    if not os.path.isdir(root):
        print("root %s: not a directory" % args.root, file=sys.stderr)
        sys.exit(1)

    # 1. Create the socket (SO_REUSEADDR, as Rust's TcpListener::bind sets it on Unix).
    tcp_server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp_server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # 2. Bind the local address.
    try:
        tcp_server_socket.bind((args.host, args.port))
    except OSError as e:
        hint = " (another program is using that port: stop it, or pass --port 0)" \
            if e.errno == errno.EADDRINUSE else ""
        print("bind %s:%d: %s%s" % (args.host, args.port, cause(e), hint), file=sys.stderr)
        sys.exit(1)
    # 3. Listen: the socket turns from active to passive.
    tcp_server_socket.listen(128)
    print("listening on %s:%d" % tcp_server_socket.getsockname()[:2], flush=True)
    print("serving the files under %s" % args.root, flush=True)
    try:
        while True:
            # 4. Wait for a client to connect: a new socket for this client.
            new_client_socket, client_addr = tcp_server_socket.accept()
            # 5. Serve it (send_file_2_client) on a thread of its own, so a big download
            #    doesn't make the next client wait.
            threading.Thread(target=handle, args=(new_client_socket, client_addr, root, args.timeout),
                             daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        # 6. Close the listening socket.
        tcp_server_socket.close()


if __name__ == "__main__":
    main()
