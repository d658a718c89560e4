"""The UDP chat's client (基于UDP协议的socket): the course's program, retold for Python 3,
with its steps, names (ip_port, msg, back_msg, BUFSIZE) and defaults. Type a message,
send it, print the reply and who sent it.

Run it:  python3 lessons/07-udp-chat/python/udp_chat_client.py
With:    cargo run -p udp-chat --bin udp-chat-server     (or python/udp_chat_server.py)
Same options, output and bytes as the Rust lesson (--host, --port, --encoding utf-8|gbk,
--timeout SECS, --connect). gb2312, the course's spelling, is taken as gbk (its superset).
"""
import argparse
import socket
import sys

BUFSIZE = 1024


def main():
    parser = argparse.ArgumentParser(description="The course's UDP chat client.")
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=int, default=9000, help="the server's port")
    parser.add_argument("--encoding", choices=["utf-8", "gbk", "gb2312"], default="utf-8")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECS",
                        help="give up when no reply came within SECS seconds")
    parser.add_argument("--connect", action="store_true",
                        help="connect() the UDP socket, so that 'port unreachable' is reported")
    args = parser.parse_args()
    if args.encoding == "gb2312":
        args.encoding = "gbk"

    ip_port = (args.host, args.port)
    udp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp_client_socket.settimeout(args.timeout)
    if args.connect:
        # Sends nothing: the kernel records the peer, and reports an ICMP "port
        # unreachable" for our datagrams on this socket (the next recv fails).
        udp_client_socket.connect(ip_port)
    while True:
        try:
            msg = input("message: ")
        except EOFError:
            break
        udp_client_socket.sendto(msg.encode(args.encoding, errors="xmlcharrefreplace"), ip_port)
        try:
            back_msg, addr = udp_client_socket.recvfrom(BUFSIZE)
        except socket.timeout:
            print("no reply from %s:%d within %g s" % (args.host, args.port, args.timeout), file=sys.stderr)
            sys.exit(1)
        except OSError as e:
            print("receive %s:%d: %s" % (args.host, args.port, (e.strerror or str(e)).lower()),
                  file=sys.stderr)
            sys.exit(1)
        print("reply from %s:%d: %s" % (addr[0], addr[1], back_msg.decode(args.encoding, errors="replace")),
              flush=True)
        if len(back_msg) == BUFSIZE:
            print("(that datagram filled the whole %d-byte buffer: anything after byte %d was cut off and is lost)"
                  % (BUFSIZE, BUFSIZE), flush=True)
    udp_client_socket.close()


if __name__ == "__main__":
    main()
