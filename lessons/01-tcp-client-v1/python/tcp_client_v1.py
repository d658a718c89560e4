"""The course's first TCP client (网络编程(2) 2.2 TCP客户端 · 原始版本), retold for Python 3:
create a socket, connect to the server, send one message, close. Nothing is read back.

Run it:  python3 lessons/01-tcp-client-v1/python/tcp_client_v1.py
(An empty answer takes the default shown in brackets, as the Rust lesson does.)

For scripts, --host and --port answer the first two questions in advance, so only the
message is asked:
         python3 lessons/01-tcp-client-v1/python/tcp_client_v1.py --port 7891
"""
import argparse
import socket


def main():
    parser = argparse.ArgumentParser(description="The course's first TCP client, retold for Python 3.")
    parser.add_argument("--host", help="the server's ip (else asked, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="the server's port (else asked, default 7891)")
    args = parser.parse_args()

    # 1. Create the TCP socket.
    tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    # 2. The server's ip and port.
    server_ip = args.host or input("server ip [127.0.0.1]: ").strip() or "127.0.0.1"
    server_port = args.port
    if server_port is None:
        server_port = int(input("server port [7891]: ").strip() or "7891")

    # 3. Connect to the server.
    tcp_client_socket.connect((server_ip, server_port))

    # 4. Ask for the data to send, and send it as UTF-8.
    send_data = input("message: ")
    tcp_client_socket.send(send_data.encode("utf-8"))
    print("sent %d bytes to %s:%d" % ((len(send_data.encode("utf-8")),)
                                      + tcp_client_socket.getpeername()[:2]))

    # 5. Close the socket.
    tcp_client_socket.close()


if __name__ == "__main__":
    try:
        main()
    except EOFError:
        pass  # end of input (Ctrl-D) at a question: stop there, as the Rust client does
