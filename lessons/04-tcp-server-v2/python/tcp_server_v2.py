"""The course's updated TCP server (网络编程(2) 2.3 服务器更新版本), retold for Python 3:
clients one after another, many messages each, until Ctrl-C.

Run it:  python3 lessons/04-tcp-server-v2/python/tcp_server_v2.py
Then:    cargo run -p tcp-client-v3 -- --port 2345      (or: nc 127.0.0.1 2345)
Same options, output and bytes as the Rust lesson (--host, --port, 0 = any free port).
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
    parser = argparse.ArgumentParser(description="The course's updated TCP server, retold for Python 3.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=2345, help="port (0 = any free port)")
    args = parser.parse_args()

    # 1. Create the TCP socket.
    tcp_server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    # 2. Bind the local address.
    try:
        tcp_server_socket.bind((args.host, args.port))
    except OSError as e:
        fail("bind", (args.host, args.port), e)

    # 3. listen: the socket becomes passive.
    tcp_server_socket.listen(128)
    print("listening on %s:%d" % tcp_server_socket.getsockname(), flush=True)

    try:
        while True:
            # 4. accept the next client (the others wait in the backlog).
            print("waiting for a client...", flush=True)
            new_client_socket, client_addr = tcp_server_socket.accept()
            print("client %s:%d connected" % client_addr, flush=True)
            try:
                while True:
                    # 5. Receive; an empty result means the client closed.
                    stage = "receive"
                    recv_data = new_client_socket.recv(1024)
                    if not recv_data:
                        print("client %s:%d disconnected" % client_addr, flush=True)
                        break
                    print("received: %s" % recv_data.decode("utf-8", errors="replace"), flush=True)
                    # 6. Reply: "ok, received".
                    stage = "send"
                    new_client_socket.sendall(b"----------ok, received----------")
            except OSError as e:
                # One client's trouble (a reset, say): report it, serve the next one.
                print("%s %s:%d: %s" % (stage, client_addr[0], client_addr[1], e.strerror.lower()),
                      file=sys.stderr, flush=True)
            # 7. Close this client's socket; back to accept.
            new_client_socket.close()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    # 8. Ctrl-C: close the listening socket.
    tcp_server_socket.close()


if __name__ == "__main__":
    main()
