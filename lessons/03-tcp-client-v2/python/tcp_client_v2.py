"""The course's TCP client, update 1: bind our own port, then talk in a loop.

Run it:  python3 lessons/03-tcp-client-v2/python/tcp_client_v2.py [LOCAL_PORT]
LOCAL_PORT is 5566 as in the course; 0 lets the OS choose. An empty answer takes the
default shown in brackets, as the Rust lesson does. Ctrl-C (or end of input) sends
quit() and closes.
"""
import socket
import sys


def main():
    local_port = int(sys.argv[1]) if len(sys.argv) > 1 else 5566
    tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Clients usually don't bind; the course does, to show the port it gets.
    tcp_client_socket.bind(("", local_port))
    server_ip = input("server ip [127.0.0.1]: ").strip() or "127.0.0.1"
    server_port = int(input("server port [2345]: ").strip() or "2345")
    tcp_client_socket.connect((server_ip, server_port))
    peer = "%s:%d" % tcp_client_socket.getpeername()
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
    tcp_client_socket.close()


if __name__ == "__main__":
    main()
