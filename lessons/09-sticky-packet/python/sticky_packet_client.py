"""The sticky-packet client (黏包现象): the course's program, retold for Python 3, with its
steps and names: recv(2), then recv(1024), printed as print(len(ret), ret), print(ret2).

Run it:  python3 lessons/09-sticky-packet/python/sticky_packet_client.py
With a server: cargo run -p sticky-packet --bin sticky-packet-server   (first)
You will see:  2 b'he'  then  b'llo,world'

The course sleeps (time.sleep(0.1)) so that both of the server's sends have arrived before
the first recv. Here, as in the Rust client, we look instead: recv with MSG_PEEK shows
what is waiting in the receive buffer without taking it.
"""
import argparse
import select
import socket
import sys
import time

EXPECTED = 11  # b'hello,' + b'world'


def main():
    parser = argparse.ArgumentParser(description="Read 2 bytes, then up to 1024.")
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=int, default=9090, help="the server's port")
    parser.add_argument("--timeout", type=int, default=5, metavar="SECS",
                        help="how long to wait for the server's 11 bytes")
    args = parser.parse_args()

    sk = socket.socket()
    try:
        sk.connect((args.host, args.port))
    except OSError as e:
        print("connect %s:%d: %s" % (args.host, args.port, (e.strerror or str(e)).lower()),
              file=sys.stderr)
        sys.exit(1)
    peer = "%s:%d" % sk.getpeername()[:2]

    # The course: time.sleep(0.1). Instead: wait until all 11 bytes are in the buffer.
    sk.settimeout(args.timeout)
    # We send nothing: shutdown(SHUT_WR) says so. Once the server closes too, poll reports
    # a hang-up (POLLHUP), which MSG_PEEK cannot show while bytes are waiting.
    sk.shutdown(socket.SHUT_WR)
    hangup = select.poll()
    hangup.register(sk, 0)
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            waiting = sk.recv(EXPECTED, socket.MSG_PEEK)
        except socket.timeout:
            print("receive %s: nothing arrived within %d s" % (peer, args.timeout), file=sys.stderr)
            sys.exit(1)
        if len(waiting) == EXPECTED:
            break
        if not waiting:
            print("receive %s: the server closed after 0 of %d bytes" % (peer, EXPECTED),
                  file=sys.stderr)
            sys.exit(1)
        if time.monotonic() >= deadline:
            print("receive %s: only %d of %d bytes arrived within %d s: %r"
                  % (peer, len(waiting), EXPECTED, args.timeout, waiting), file=sys.stderr)
            sys.exit(1)
        if hangup.poll(1):  # wait a millisecond, or less if the server closes
            waiting = sk.recv(EXPECTED, socket.MSG_PEEK)
            if len(waiting) < EXPECTED:
                print("receive %s: the server closed after %d of %d bytes: %r"
                      % (peer, len(waiting), EXPECTED, waiting), file=sys.stderr)
                sys.exit(1)

    ret = sk.recv(2)
    print(len(ret), ret)
    ret2 = sk.recv(1024)
    print(ret2)
    sk.close()


if __name__ == "__main__":
    main()
