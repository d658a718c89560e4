"""The course's TCP client, update 1 (网络编程(2) 2.2 客户端更新版本1), retold for Python 3:
bind our own port, then talk in a loop; Ctrl-C (or end of input) sends quit() and closes.

Run it:  python3 lessons/03-tcp-client-v2/python/tcp_client_v2.py [LOCAL_PORT]
LOCAL_PORT is 5566 as in the course; 0 lets the OS choose. An empty answer takes the
default shown in brackets, as the Rust lesson does.

For scripts, --host and --port answer the first two questions in advance:
         python3 lessons/03-tcp-client-v2/python/tcp_client_v2.py 0 --port 2345
"""
import argparse
import socket


def main():
    parser = argparse.ArgumentParser(description="The course's TCP client, update 1, retold for Python 3.")
    parser.add_argument("local_port", nargs="?", type=int, default=5566,
                        help="our own port (default 5566; 0 lets the OS choose)")
    parser.add_argument("--host", help="the server's ip (else asked, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="the server's port (else asked, default 2345)")
    args = parser.parse_args()

    # 1. Create the TCP socket.
    tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    # 2. Bind our own port. Clients usually don't; the course does, to show the port it gets.
    tcp_client_socket.bind(("", args.local_port))

    # 3. The server's ip and port.
    try:
        server_ip = args.host or input("server ip [127.0.0.1]: ").strip() or "127.0.0.1"
        server_port = args.port
        if server_port is None:
            server_port = int(input("server port [2345]: ").strip() or "2345")
    except EOFError:
        return  # end of input before we know the server: nothing to do, as the Rust client

    # 4. Connect to the server.
    tcp_client_socket.connect((server_ip, server_port))
    peer = "%s:%d" % tcp_client_socket.getpeername()

    # 5. Send and receive in a loop, until Ctrl-C.
    while True:
        try:
            send_data = input("message: ")
            if not send_data:
                continue
            tcp_client_socket.sendall(send_data.encode("utf-8"))
            print("sent %d bytes to %s" % (len(send_data.encode("utf-8")), peer))
            recv_data = tcp_client_socket.recv(1024)
            if not recv_data:
                print("server closed the connection")
                break
            print("received: %s" % recv_data.decode("utf-8", errors="replace"))
        except (KeyboardInterrupt, EOFError):
            print()
            tcp_client_socket.send("quit()".encode("utf-8"))
            print("sent quit() to %s" % peer)
            # Not in the course: send our FIN, then read the server's answer to quit()
            # and its close (a second at most), so the answer never meets a closed
            # socket and the server sees a goodbye, not a reset. As the Rust client does.
            tcp_client_socket.shutdown(socket.SHUT_WR)
            tcp_client_socket.settimeout(1)
            try:
                while tcp_client_socket.recv(1024):
                    pass
            except OSError:
                pass
            break

    # 6. Close the socket.
    tcp_client_socket.close()


if __name__ == "__main__":
    main()
