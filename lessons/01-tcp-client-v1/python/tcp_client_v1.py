"""The course's first TCP client: ask for the server, connect, send one message, close.

Run it:  python3 lessons/01-tcp-client-v1/python/tcp_client_v1.py
(An empty answer takes the default shown in brackets, as the Rust lesson does.)
"""
import socket


def main():
    tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server_ip = input("server ip [127.0.0.1]: ").strip() or "127.0.0.1"
    server_port = int(input("server port [7891]: ").strip() or "7891")
    tcp_client_socket.connect((server_ip, server_port))
    send_data = input("message: ")
    tcp_client_socket.send(send_data.encode("utf-8"))
    print("sent %d bytes to %s:%d" % (len(send_data.encode("utf-8")), server_ip, server_port))
    tcp_client_socket.close()


if __name__ == "__main__":
    main()
