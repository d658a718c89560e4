"""The course's tcp下载文件 client (TCP file download), retold for Python 3: connect to the
server, send the name of the file to download, receive its data, save it to a file.

The course's steps and names are kept (tcp_socket, download_file_name, recv_data), with
what the Rust lesson adds, byte for byte: the name goes as one frame,
struct.pack('<i', len(name)) + name; the answer is a status byte, then either the
server's error message (a frame) or the size (struct '<Q'), the SHA-256 (32 bytes) and
the bytes. The bytes go into a temporary file next to the output, hashed as they come;
only if their count and SHA-256 match is it renamed (os.replace) to the output name. A
cut stream, a wrong digest, a server silent for --timeout, Ctrl-C (or SIGTERM, SIGHUP)
leaves nothing behind. The options replace the course's input() prompts.

Run it:  python3 lessons/20-tcp-file-download/python/tcp_file_download_client.py welcome.txt -o target
With a server: cargo run -p tcp-file-download --bin tcp-file-download-server -- --root lessons/20-tcp-file-download/files
The same options (--host, --port, NAME, -o OUT, --timeout SECS), output and error lines as
the Rust lesson.
"""
import argparse
import hashlib
import os
import signal
import socket
import struct
import sys

OK = 0
REFUSED = 1
MAX_MESSAGE = 4096
BUFFER = 1024 * 1024


def stop(line):
    """One error line, exit 1."""
    print(line, file=sys.stderr)
    sys.exit(1)


def cause(e):
    return (e.strerror or str(e)).lower()


def show_name(name):
    """A name in double quotes with control characters escaped, as Rust's {:?} does."""
    out = '"'
    for ch in name:
        if ch in '"\\':
            out += "\\" + ch
        elif ch in "\n\r\t":
            out += {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch]
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out += "\\u{%x}" % ord(ch)
        else:
            out += ch
    return out + '"'


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


def recv_exactly(tcp_socket, n, peer, timeout, what):
    """Read until n bytes have arrived, or the stream ends (then fewer come back)."""
    data = bytearray()
    while len(data) < n:
        try:
            recv_data = tcp_socket.recv(min(n - len(data), BUFFER))
        except OSError as e:
            stop(receive_error(peer, what, e, timeout))
        if not recv_data:
            break
        data += recv_data
    return bytes(data)


def output_path(name, output):
    """Where to save: OUT, inside OUT if it is a folder, else the name's last part here."""
    own = os.path.basename(name.rstrip("/"))
    if own in ("", ".", ".."):
        own = None
    if output is not None and not os.path.isdir(output):
        return output
    if own is None:
        print("error: %s has no file name to save under: give -o OUT" % show_name(name),
              file=sys.stderr)
        sys.exit(2)
    return os.path.join(output, own) if output is not None else own


def receive_error(peer, what, e, timeout):
    """The line for a failed read; a timeout says how long it waited, and for what."""
    if isinstance(e, socket.timeout):
        return ("receive %s: nothing arrived for %g s while waiting for %s (--timeout)"
                % (peer, timeout, what))
    return "receive %s: %s" % (peer, cause(e))


def read_message(tcp_socket, peer, timeout):
    """The refusal's message frame, its length checked before anything is read for it."""
    what = "the refusal's message"
    header = recv_exactly(tcp_socket, 4, peer, timeout, what)
    if len(header) < 4:
        stop("receive %s: stream ended after %d of 4 header bytes" % (peer, len(header)))
    (length,) = struct.unpack("<i", header)
    if length < 0:
        stop("receive %s: frame header: length %d is negative" % (peer, length))
    if length > MAX_MESSAGE:
        stop("receive %s: frame header: length %d is over the %d-byte limit for a message"
             % (peer, length, MAX_MESSAGE))
    message = recv_exactly(tcp_socket, length, peer, timeout, what)
    if len(message) < length:
        stop("receive %s: stream ended after %d of %d message bytes" % (peer, len(message), length))
    return escaped(message.decode("utf-8", errors="replace"))


def main():
    parser = argparse.ArgumentParser(description="Download one file; keep it only if it checks out.")
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=int, default=9001, help="the server's port")
    parser.add_argument("name", metavar="NAME", help="the file to download, relative to the server's root")
    parser.add_argument("-o", "--output", metavar="OUT", help="a file name, or a folder to save it in")
    parser.add_argument("--timeout", type=float, default=30, metavar="SECS",
                        help="give up when the server sends nothing for SECS")
    args = parser.parse_args()
    if not 0 < args.timeout <= 86400:
        parser.error("--timeout: must be more than 0 and at most 86400 seconds (a day)")
    download_file_name = args.name
    out = output_path(download_file_name, args.output)
    peer = "%s:%d" % (args.host, args.port)
    if ":" in args.host:
        peer = "[%s]:%d" % (args.host, args.port)

    # 1. Create the socket, for the address the server's name resolves to (resolved
    #    first, so that a name with no address is told apart from a server not there).
    try:
        family, _, _, _, dest_addr = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        stop("resolve %s: %s" % (peer, cause(e)))
    tcp_socket = socket.socket(family, socket.SOCK_STREAM)
    # 2. Connect to the server.
    try:
        tcp_socket.connect(dest_addr)
    except OSError as e:
        stop("connect %s: %s" % (peer, cause(e)))
    tcp_socket.settimeout(args.timeout)  # a silent server is given up on, not waited for for ever

    # 3. Send the name of the file to download, as one frame.
    try:
        raw = download_file_name.encode("utf-8")
        tcp_socket.sendall(struct.pack("<i", len(raw)) + raw)
    except OSError as e:
        stop("send %s: %s" % (peer, cause(e)))

    # 4. Receive the answer: the status byte, then the refusal's reason, or size and SHA-256.
    status = recv_exactly(tcp_socket, 1, peer, args.timeout, "the answer")
    if not status:
        stop("receive %s: the server closed without answering" % peer)
    if status[0] == REFUSED:
        why = read_message(tcp_socket, peer, args.timeout)
        stop("download %s: the server refused %s: %s" % (peer, show_name(download_file_name), why))
    if status[0] != OK:
        stop("receive %s: unknown status byte %d" % (peer, status[0]))
    header = recv_exactly(tcp_socket, 40, peer, args.timeout, "the size and SHA-256")
    if len(header) < 40:
        stop("receive %s: stream ended after %d of 40 header bytes (size, SHA-256)"
             % (peer, len(header)))
    (size,) = struct.unpack("<Q", header[:8])
    digest = header[8:]

    # 5. Receive the file's data and save it: into a temporary file, renamed once checked.
    folder = os.path.dirname(out) or "."
    temp = os.path.join(folder, ".%s.%d.part" % (os.path.basename(out), os.getpid()))
    try:
        f = open(temp, "xb")  # x: fail rather than write into a file already there
    except OSError as e:
        stop("create %s: %s" % (temp, cause(e)))
    # SIGTERM and SIGHUP end the download the way Ctrl-C does: the partial file removed.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, signal.default_int_handler)
    print("receiving %s: %d bytes, SHA-256 %s" % (show_name(download_file_name), size, digest.hex()),
          flush=True)
    kept = False
    try:
        sha = hashlib.sha256()
        received = 0
        with f:
            while received < size:
                try:
                    recv_data = tcp_socket.recv(min(BUFFER, size - received))
                except OSError as e:
                    what = "the file, after %d of %d bytes" % (received, size)
                    stop("%s; nothing saved" % receive_error(peer, what, e, args.timeout))
                if not recv_data:
                    stop("receive %s: stream ended after %d of %d bytes; nothing saved"
                         % (peer, received, size))
                sha.update(recv_data)
                try:
                    f.write(recv_data)
                except OSError as e:
                    stop("write %s: %s; nothing saved" % (temp, cause(e)))
                received += len(recv_data)
        if sha.digest() != digest:
            stop("verify %s: SHA-256 mismatch (the server announced %s, the bytes received "
                 "hash to %s); nothing saved" % (peer, digest.hex(), sha.hexdigest()))
        try:
            os.replace(temp, out)  # rename: the old file or the new one, never half
        except OSError as e:
            stop("save %s: %s; nothing saved" % (out, cause(e)))
        kept = True
    except KeyboardInterrupt:
        print("interrupted by a signal: nothing saved", file=sys.stderr)
        sys.exit(130)
    finally:
        if not kept:
            try:
                os.remove(temp)
            except OSError:
                pass
    # 6. Close the socket.
    tcp_socket.close()
    print("saved %s (%d bytes, SHA-256 verified)" % (out, size))


if __name__ == "__main__":
    main()
