"""The course's TCP client, update 2 (网络编程(2) 2.2 客户端更新版本2), retold for Python 3:
argparse options and a try-except for each stage; each stage that fails prints one line
and exits 1. Ctrl-C or end of input closes.

Run it:  python3 lessons/05-tcp-client-v3/python/tcp_client_v3.py --port 2345
Options: --host (127.0.0.1), --port (2345), --file FILE (send its lines instead of
asking; the course declared --file and never used it), --timeout SECS (settimeout).
"""
import argparse
import socket
import sys


def port_number(text):
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("%s is not in 0..=65535" % text)
    return port


def seconds(text):
    secs = float(text)
    if not secs > 0:
        raise argparse.ArgumentTypeError("the timeout must be more than 0 seconds")
    return secs


def reason(error):
    return (error.strerror or str(error)).lower()


def fail(line):
    print(line, file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description="The course's TCP client, update 2, retold for Python 3.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=2345)
    parser.add_argument("--file", help="send each line of FILE instead of asking")
    parser.add_argument("--timeout", type=seconds, help="seconds to wait for a reply")
    args = parser.parse_args()

    lines = None
    if args.file:
        try:
            with open(args.file, "rb") as f:
                lines = iter(f.read().decode("utf-8", errors="replace").split("\n"))
        except OSError as e:
            fail("read %s: %s" % (args.file, reason(e)))

    # 1. Create the socket.
    try:
        tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as e:
        fail("socket: %s" % reason(e))

    # 2. Connect: a name that does not resolve is reported apart from other errors.
    try:
        tcp_client_socket.connect((args.host, args.port))
    except socket.gaierror as e:
        fail("resolve %s: %s" % (args.host, reason(e)))
    except OSError as e:
        fail("connect %s:%d: %s" % (args.host, args.port, reason(e)))
    peer = "%s:%d" % tcp_client_socket.getpeername()
    print("connected from %s:%d to %s" % (tcp_client_socket.getsockname() + (peer,)))
    tcp_client_socket.settimeout(args.timeout)

    try:
        while True:
            if lines is None:
                try:
                    send_data = input("message: ")
                except EOFError:
                    print()
                    break
            else:
                send_data = next(lines, None)
                if send_data is None:
                    break
                send_data = send_data.rstrip("\r")
            if not send_data:
                continue

            # 3. Send.
            try:
                tcp_client_socket.sendall(send_data.encode("utf-8"))
            except OSError as e:
                fail("send %s: %s" % (peer, reason(e)))
            print("sent %d bytes to %s" % (len(send_data.encode("utf-8")), peer))

            # 4. Receive.
            try:
                recv_data = tcp_client_socket.recv(1024)
            except socket.timeout:
                fail("receive %s: no reply within %g s (--timeout)" % (peer, args.timeout))
            except OSError as e:
                fail("receive %s: %s" % (peer, reason(e)))
            if not recv_data:
                print("server closed the connection")
                break
            print("received: %s" % recv_data.decode("utf-8", errors="replace"))
    except KeyboardInterrupt:
        print()
    # 5. Close the socket.
    tcp_client_socket.close()


if __name__ == "__main__":
    main()
