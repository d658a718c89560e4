"""The course's first TCP server (网络编程(2) 2.3 TCP服务端), retold for Python 3: accept
one client, read one message, reply, close.

Run it:  python3 lessons/02-tcp-server-v1/python/tcp_server_v1.py
Then:    cargo run -p tcp-client-v1      (or python3 lessons/01-tcp-client-v1/python/tcp_client_v1.py)
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
    parser = argparse.ArgumentParser(description="The course's first TCP server, retold for Python 3.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7891, help="port (0 = any free port)")
    args = parser.parse_args()

    # 1. Create the TCP socket.
    tcp_server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    # 2. Bind the local address, so that clients can find us.
    try:
        tcp_server_socket.bind((args.host, args.port))
    except OSError as e:
        fail("bind", (args.host, args.port), e)

    # 3. listen: the socket becomes passive, it only accepts connections.
    tcp_server_socket.listen(128)
    print("listening on %s:%d" % tcp_server_socket.getsockname(), flush=True)
    print("waiting for a client...", flush=True)

    # 4. accept: wait for a client; a new socket serves that client.
    new_client_socket, client_addr = tcp_server_socket.accept()
    print("client %s:%d connected" % client_addr, flush=True)

    # 5. Receive what the client sent, at most 1024 bytes.
    try:
        recv_data = new_client_socket.recv(1024)
    except OSError as e:
        fail("receive", client_addr, e)
    if recv_data:
        print("received: %s" % recv_data.decode("utf-8", errors="replace"), flush=True)
        # 6. Send the reply.
        try:
            new_client_socket.sendall(b"----------ok----------")
        except OSError as e:
            fail("send", client_addr, e)
    else:
        print("client %s:%d closed without sending anything" % client_addr, flush=True)

    # 7. Close the client's socket, then the listening socket.
    new_client_socket.close()
    tcp_server_socket.close()


if __name__ == "__main__":
    main()
