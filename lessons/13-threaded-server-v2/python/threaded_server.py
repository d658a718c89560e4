"""The course's thread-per-connection server (TCP编程 · 服务器), retold for Python 3:
a new thread for every client; it sends Welcome, then for each message waits a second
and replies Hello, NAME!; `exit` or an empty recv ends that client.

This is lesson 12's copy, plus --backlog (the course's listen(5) is the default): the
reference that scripts/bench-threaded-server-v2 runs with --work-ms 0 --backlog 1024
against threaded-server-v2. It has no --max-clients and no idle timeout.

Run it:  python3 lessons/13-threaded-server-v2/python/threaded_server.py --backlog 1024
Added so tests can drive it: --host, --port (0 = any free one), --work-ms (the course's
time.sleep(1) is --work-ms 1000, the default) and --backlog. It prints `listening on
ADDR` first, like the Rust server.
"""
import argparse
import socket
import threading
import time


def tcplink(sock, addr, work):
    print('Accept new connection from %s:%s...' % addr, flush=True)
    sock.send(b'Welcome')
    while True:
        data = sock.recv(1024)
        # The course's time.sleep(1), standing for real work; skipped for --work-ms 0, so
        # that a test measures the server, not a sleep.
        if work:
            time.sleep(work)
        if not data or data == b'exit':
            break
        # The course decodes with 'utf-8' alone, and bytes that are not UTF-8 end its
        # thread with a UnicodeDecodeError; 'replace' shows them as U+FFFD, as Rust does.
        sock.send(('Hello, %s!' % data.decode('utf-8', 'replace')).encode('utf-8'))
    sock.close()
    print('Connection from %s:%s closed.' % addr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=9999)
    parser.add_argument('--work-ms', type=int, default=1000)
    parser.add_argument('--backlog', type=int, default=5)
    args = parser.parse_args()

    # Create a socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # (Added: a restarted server can bind again at once, as the Rust server can.)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Listen on the port (the course's backlog is 5):
    s.bind((args.host, args.port))
    s.listen(args.backlog)
    print('listening on %s:%d' % s.getsockname()[:2], flush=True)
    while True:
        # Accept a new connection:
        sock, addr = s.accept()
        # Create a new thread to handle the TCP connection:
        t = threading.Thread(target=tcplink, args=(sock, addr, args.work_ms / 1000))
        t.start()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
