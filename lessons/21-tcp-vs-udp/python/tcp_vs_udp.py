"""The course's comparison TCP与UDP的不同点 retold for Python 3 as a measurement: the
course states in words that TCP delivers everything, in order, once, and UDP may lose and
reorder; this program sends N numbered messages over UDP, then over TCP, and counts what
arrived. The course has no program for this section: this one is the Python twin of lesson
21's `tcp-vs-udp`, with the same two roles, options, output and bytes, so either side can
be Rust and the other Python.

Run it:  python3 lessons/21-tcp-vs-udp/python/tcp_vs_udp.py receive
Then:    python3 lessons/21-tcp-vs-udp/python/tcp_vs_udp.py send
         (or cargo run -p tcp-vs-udp -- send)

The conversation (text lines; see the lesson's README):
  sender -> receiver, TCP:  hello COUNT SIZE
  receiver -> sender, TCP:  ready                  (or: error WHY, and it closes)
  sender -> receiver, UDP:  COUNT messages, then `end COUNT` three times
  receiver -> sender, TCP:  udp ARRIVED DUPLICATED OUT_OF_ORDER MISSING GARBAGE MICROS
  sender -> receiver, TCP:  the same COUNT messages, then shutdown(SHUT_WR)
  receiver -> sender, TCP:  tcp ARRIVED DUPLICATED OUT_OF_ORDER MISSING GARBAGE MICROS
Message 42 of size 8 is b'42.....\\n': the number, dots up to SIZE-1 bytes, a newline.
"""
import argparse
import errno
import socket
import sys
import time

MAX_COUNT = 1000000
MAX_SIZE = 65507          # the largest UDP payload over IPv4
PEER_TIMEOUT = 60.0       # --timeout: TCP over a lossy link can stall for seconds while it retransmits
MAX_SECONDS = 86400       # the longest --timeout: a day
LINGER = 0.2              # after the end marker, wait this long for stragglers
HELLO_LIMIT = 64
LINE_LIMIT = 200
GARBAGE_SHOWN = 3
MARKER_COPIES = 3


def min_size(count):
    return len(str(count - 1)) + 1


def message(seq, size):
    text = str(seq).encode()
    return text + b"." * (size - 1 - len(text)) + b"\n"


def end_marker(count):
    return b"end %d\n" % count


def parse_message(data, count, size):
    """The number in a message that is exactly what the sender makes, else None."""
    if len(data) != size or not data.endswith(b"\n"):
        return None
    body = data[:-1]
    digits = len(body) - len(body.lstrip(b"0123456789"))
    if digits == 0 or body[digits:].strip(b".") != b"":
        return None
    seq = int(body[:digits])
    return seq if seq < count else None


def number(word):
    """A number on the wire: ASCII digits only, fitting in 64 bits (as in Rust), else None."""
    if not word or not all(48 <= b <= 57 for b in word):
        return None
    value = int(word)
    return value if value < 2 ** 64 else None


def shown(data):
    """Bytes as Python shows them, cut to 40."""
    return repr(data[:40]) + "..." if len(data) > 40 else repr(data)


def seconds(micros):
    return "%d.%03ds" % (micros // 1000000, micros % 1000000 // 1000)


def escaped(text):
    """Text from the peer with its control characters shown as escapes (\\x1b, \\n, ...),
    as the Rust side's netkit::escaped: the peer can't colour our terminal or forge a line."""
    out = []
    for c in text:
        code = ord(c)
        if c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif code < 0x20 or 0x7f <= code < 0xa0:
            out.append("\\x%02x" % code)
        elif code in (0x2028, 0x2029) or 0x202a <= code <= 0x202e or 0x2066 <= code <= 0x2069:
            out.append("\\u{%x}" % code)
        else:
            out.append(c)
    return "".join(out)


def read_line_by(conn, stream, limit, deadline):
    """One line (up to its newline, at most `limit` bytes) by `deadline`: one deadline for
    the whole line, not one per read, so a peer trickling a byte at a time can't hold us.
    Raises socket.timeout when the deadline passes."""
    line = b""
    while len(line) < limit and not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        conn.settimeout(left)
        available = stream.peek(1)    # what is buffered, or one recv
        if not available:
            break                     # the peer closed its side
        end = available.find(b"\n")
        take = min(len(available) if end < 0 else end + 1, limit - len(line))
        line += stream.read(take)
    return line


class Tally:
    """What arrived of one run over one protocol."""

    def __init__(self, count):
        self.count = count
        self.seen = bytearray(count)
        self.arrived = self.duplicated = self.out_of_order = self.garbage = 0
        self.highest = None

    def record(self, data, size):
        seq = parse_message(data, self.count, size)
        if seq is None:
            self.garbage += 1
            return "garbage"
        if self.seen[seq]:
            self.duplicated += 1
            return "duplicate"
        self.seen[seq] = 1
        self.arrived += 1
        if self.highest is not None and seq < self.highest:
            self.out_of_order += 1
            return "out of order"
        self.highest = seq
        return "in order"

    def report(self, took):
        return [self.arrived, self.duplicated, self.out_of_order,
                self.count - self.arrived, self.garbage, int(took * 1000000)]


def report_line(protocol, count, r):
    return "%s: %d/%d arrived, %d duplicated, %d out of order, %d missing, %d garbage, %s" % (
        protocol, r[0], count, r[1], r[2], r[3], r[4], seconds(r[5]))


def short(count, r):
    text = "%d/%d arrived" % (r[0], count)
    text += ", in order" if r[2] == 0 else ", %d out of order" % r[2]
    if r[1]:
        text += ", %d duplicated" % r[1]
    return text + ", " + seconds(r[5])


def to_wire(tag, r):
    return ("%s %d %d %d %d %d %d\n" % ((tag,) + tuple(r))).encode()


def addr_text(addr):
    host = addr[0]
    return "[%s]:%d" % (host, addr[1]) if ":" in host else "%s:%d" % (host, addr[1])


def cause(e):
    return (e.strerror or str(e)).lower() if isinstance(e, OSError) else str(e)


def fail(stage, addr, e):
    """One line naming the stage, the address and the cause, then exit 1 (as the Rust lesson)."""
    hint = ""
    if getattr(e, "errno", None) == errno.EADDRINUSE:
        hint = " (another program is using that port: stop it, or pass --port 0)"
    print("%s %s: %s%s" % (stage, addr, cause(e), hint), file=sys.stderr, flush=True)
    sys.exit(1)


# ---- receive ----------------------------------------------------------------------------

def bind_both(host, port):
    """A TCP listener and a UDP socket on the same port number (TCP and UDP ports are
    separate spaces). With port 0 the OS picks; if that number is taken for UDP, pick again."""
    for _ in range(10):
        family = socket.getaddrinfo(host, port)[0][0]
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen()
        udp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            udp.bind(listener.getsockname()[:2])
            return listener, udp
        except OSError as e:
            listener.close()
            if port != 0 or e.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, "Address already in use")


def parse_hello(line):
    if not line:
        raise ValueError("the connection closed before a hello")
    words = line[:-1].split(b" ") if line.endswith(b"\n") else []
    count, size = (number(words[1]), number(words[2])) if len(words) == 3 else (None, None)
    if words[:1] != [b"hello"] or count is None or size is None:
        raise ValueError("expected `hello COUNT SIZE`, got %s" % shown(line))
    if not 1 <= count <= MAX_COUNT:
        raise ValueError("COUNT must be 1 to %d, not %d" % (MAX_COUNT, count))
    smallest = min_size(count)
    if not smallest <= size <= MAX_SIZE:
        raise ValueError("SIZE must be %d to %d for %d messages, not %d"
                         % (smallest, MAX_SIZE, count, size))
    return count, size


def drain(udp):
    thrown = 0
    udp.setblocking(False)
    try:
        while True:
            udp.recvfrom(1)
            thrown += 1
    except BlockingIOError:
        pass
    finally:
        udp.setblocking(True)
    return thrown


def receive_udp(udp, count, size, idle):
    marker = end_marker(count)
    tally = Tally(count)
    started = time.monotonic()
    last = 0.0
    marker_seen = False
    garbage_shown = 0
    udp.settimeout(idle)
    while True:
        try:
            data, sender = udp.recvfrom(65536)
        except socket.timeout:
            break
        if data == marker:
            marker_seen = True
            udp.settimeout(LINGER)
            continue
        if tally.record(data, size) == "garbage":
            if garbage_shown < GARBAGE_SHOWN:
                print("garbage from %s over UDP: %s" % (addr_text(sender), shown(data)),
                      file=sys.stderr, flush=True)
                garbage_shown += 1
        else:
            last = time.monotonic() - started
    if marker_seen:
        ending = "then the end marker"
    else:
        ending = "then nothing for %s (no end marker came)" % seconds(int(idle * 1000000))
    return tally.report(last), ending


def receive_tcp(stream, peer, count, size):
    tally = Tally(count)
    started = time.monotonic()
    last = 0.0
    garbage_shown = 0
    while True:
        line = stream.readline(size)   # up to the newline, never more than SIZE bytes
        if not line:
            break                      # the sender shut down its side
        if len(line) == size and not line.endswith(b"\n"):
            piece = line               # longer than any message: skip the rest of it
            while piece and not piece.endswith(b"\n"):
                piece = stream.readline(size)
        if tally.record(line, size) == "garbage":
            if garbage_shown < GARBAGE_SHOWN:
                print("garbage from %s over TCP: %s" % (peer, shown(line)),
                      file=sys.stderr, flush=True)
                garbage_shown += 1
        else:
            last = time.monotonic() - started
    return tally.report(last)


def serve(conn, peer, udp, idle, timeout):
    stream = conn.makefile("rb")
    stage = "receive"
    try:
        try:
            # The whole hello within one deadline: runs are served one at a time.
            try:
                line = read_line_by(conn, stream, HELLO_LIMIT, time.monotonic() + timeout)
            except socket.timeout:
                raise ValueError("no hello within %gs" % timeout)
            count, size = parse_hello(line)
        except ValueError as why:
            try:
                conn.sendall(b"error %s\n" % str(why).encode())
            except OSError:
                pass
            print("hello %s: %s" % (peer, why), file=sys.stderr, flush=True)
            return
        conn.settimeout(timeout)
        print("run from %s: %d messages of %d bytes" % (peer, count, size), flush=True)
        stale = drain(udp)
        if stale:
            print("(threw away %d datagram%s left over from before this run)"
                  % (stale, "" if stale == 1 else "s"), flush=True)
        stage = "send"
        conn.sendall(b"ready\n")
        stage = "receive"
        udp_report, ending = receive_udp(udp, count, size, idle)
        print("%s, %s" % (report_line("UDP", count, udp_report), ending), flush=True)
        stage = "send"
        conn.sendall(to_wire("udp", udp_report))
        stage = "receive"
        conn.settimeout(timeout)       # silent that long in the TCP part: the run is dropped
        try:
            tcp_report = receive_tcp(stream, peer, count, size)
        except socket.timeout:
            print("receive %s: nothing came over TCP for %gs: the run is dropped" % (peer, timeout),
                  file=sys.stderr, flush=True)
            return
        print(report_line("TCP", count, tcp_report), flush=True)
        stage = "send"
        conn.sendall(to_wire("tcp", tcp_report))
    except OSError as e:
        print("%s %s: %s" % (stage, peer, cause(e) if not isinstance(e, socket.timeout)
                             else "timed out"), file=sys.stderr, flush=True)
    finally:
        stream.close()
        conn.close()


def receive(args):
    try:
        listener, udp = bind_both(args.host, args.port)
    except OSError as e:
        fail("bind", addr_text((args.host, args.port)), e)
    print("listening on %s" % addr_text(listener.getsockname()), flush=True)
    try:
        while True:
            conn, addr = listener.accept()
            serve(conn, addr_text(addr), udp, args.idle_ms / 1000.0, args.timeout)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        udp.close()


# ---- send -------------------------------------------------------------------------------

def read_line(conn, stream, addr, timeout, what):
    try:
        line = read_line_by(conn, stream, LINE_LIMIT, time.monotonic() + timeout)
    except socket.timeout:
        print("receive %s: no %s came within %gs" % (addr, what, timeout), file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        fail("receive", addr, e)
    if not line:
        print("receive %s: the receiver closed the connection" % addr, file=sys.stderr)
        sys.exit(1)
    try:
        text = line[:-1].decode("utf-8") if line.endswith(b"\n") else None
    except UnicodeDecodeError:
        text = None
    if text is None:
        print("receive %s: not a line of text: %r" % (addr, line), file=sys.stderr)
        sys.exit(1)
    if text.startswith("error "):
        print("receive %s: the receiver says: %s" % (addr, escaped(text[6:])), file=sys.stderr)
        sys.exit(1)
    return text


def read_report(conn, stream, addr, timeout, tag):
    line = read_line(conn, stream, addr, timeout, "`%s` report" % tag)
    words = line.split(" ")
    figures = [number(w.encode()) for w in words[1:]]
    if len(words) == 7 and words[0] == tag and None not in figures:
        return figures
    print('receive %s: expected a `%s ...` report, got "%s"' % (addr, tag, escaped(line)),
          file=sys.stderr)
    sys.exit(1)


def send(args):
    count, size = args.count, args.size
    if not 1 <= count <= MAX_COUNT:
        print("error: --count must be 1 to %d" % MAX_COUNT, file=sys.stderr)
        sys.exit(2)
    smallest = min_size(count)
    if not smallest <= size <= MAX_SIZE:
        print("error: --size must be %d to %d for --count %d" % (smallest, MAX_SIZE, count),
              file=sys.stderr)
        sys.exit(2)
    target = addr_text((args.host, args.port))
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(args.host, args.port,
                                                       type=socket.SOCK_STREAM)[0]
    except OSError as e:
        fail("resolve", target, e)
    addr = addr_text(sockaddr)

    # The control connection: TCP, so the hello and the reports are never lost.
    conn = socket.socket(family, socket.SOCK_STREAM)
    conn.settimeout(args.timeout)
    try:
        conn.connect(sockaddr)
    except socket.timeout:
        print("connect %s: connection timed out" % addr, file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        fail("connect", addr, e)
    stream = conn.makefile("rb")
    print("sending %d messages of %d bytes to %s: over UDP, then over TCP"
          % (count, size, addr), flush=True)
    try:
        conn.sendall(b"hello %d %d\n" % (count, size))
    except OSError as e:
        fail("send", addr, e)
    ready = read_line(conn, stream, addr, args.timeout, "`ready`")
    if ready != "ready":
        print('receive %s: expected `ready`, got "%s"' % (addr, escaped(ready)), file=sys.stderr)
        sys.exit(1)

    # UDP: one datagram per message, no connection, no acknowledgement.
    udp = socket.socket(family, socket.SOCK_DGRAM)
    gap = args.gap_us / 1000000.0
    try:
        for seq in range(count):
            udp.sendto(message(seq, size), sockaddr)
            if gap:
                time.sleep(gap)
        for _ in range(MARKER_COPIES):
            udp.sendto(end_marker(count), sockaddr)
    except OSError as e:
        fail("send", addr, e)
    udp_report = read_report(conn, stream, addr, args.timeout, "udp")
    print(report_line("UDP", count, udp_report), flush=True)

    # TCP: the same messages down the byte stream; the newline is the frame boundary.
    try:
        conn.settimeout(args.timeout)
        conn.sendall(b"".join(message(seq, size) for seq in range(count)))
        conn.shutdown(socket.SHUT_WR)
    except OSError as e:
        fail("send", addr, e)
    tcp_report = read_report(conn, stream, addr, args.timeout, "tcp")
    print(report_line("TCP", count, tcp_report), flush=True)
    print("UDP: %s · TCP: %s" % (short(count, udp_report), short(count, tcp_report)), flush=True)
    conn.close()


def main():
    parser = argparse.ArgumentParser(description="Send N numbered messages over UDP and "
                                     "over TCP, and count what arrived.")
    roles = parser.add_subparsers(dest="role", required=True)
    r = roles.add_parser("receive", help="listen (UDP and TCP), count, report")
    r.add_argument("--host", default="127.0.0.1", help="address to listen on")
    r.add_argument("--port", type=int, default=9100, help="port (0 = any free port)")
    r.add_argument("--idle-ms", type=int, default=3000,
                   help="end the UDP part after this long without a datagram")
    r.add_argument("--timeout", type=float, default=PEER_TIMEOUT,
                   help="seconds for a sender's whole hello, and of silence over TCP")
    s = roles.add_parser("send", help="send N messages over UDP, then TCP")
    s.add_argument("--host", default="127.0.0.1", help="the receiver's address")
    s.add_argument("--port", type=int, default=9100, help="the receiver's port")
    s.add_argument("--count", type=int, default=1000, help="messages over each protocol")
    s.add_argument("--size", type=int, default=64, help="bytes per message, newline included")
    s.add_argument("--gap-us", type=int, default=50, help="pause after each UDP datagram")
    s.add_argument("--timeout", type=float, default=PEER_TIMEOUT,
                   help="seconds to wait for the receiver's each answer")
    args = parser.parse_args()
    if not args.timeout > 0:      # also NaN
        parser.error("--timeout must be more than 0 seconds")
    if args.timeout > MAX_SECONDS:
        parser.error("--timeout must be at most %d seconds (a day)" % MAX_SECONDS)
    if args.role == "receive":
        if not 1 <= args.idle_ms <= MAX_SECONDS * 1000:
            parser.error("--idle-ms must be 1 to %d" % (MAX_SECONDS * 1000))
        receive(args)
    else:
        if not 0 <= args.gap_us <= 1000000:
            parser.error("--gap-us must be 0 to 1000000")
        send(args)


if __name__ == "__main__":
    main()
