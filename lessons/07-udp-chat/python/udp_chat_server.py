"""The UDP chat's server (基于UDP协议的socket): the course's program, retold for Python 3,
with its steps, names (udp_server_sock, msg, addr, back_msg, BUFSIZE) and defaults.
Receive a message, type a reply, send it to the sender.

Run it:  python3 lessons/07-udp-chat/python/udp_chat_server.py
Then:    cargo run -p udp-chat --bin udp-chat-client   (or python/udp_chat_client.py)
Same options, output and bytes as the Rust lesson (--host, --port, 0 = any free port,
--encoding utf-8|gbk; gb2312, the course's spelling, is taken as gbk, its superset).
"""
import argparse
import errno
import socket
import sys

BUFSIZE = 1024


def fail(stage, addr, e):
    """One line naming the stage, the address and the cause, then exit 1 (as the Rust lesson)."""
    hint = ""
    if e.errno == errno.EADDRINUSE:
        hint = " (another program is using that port: stop it, or pass --port 0)"
    print("%s %s:%d: %s%s" % (stage, addr[0], addr[1], e.strerror.lower(), hint), file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description="The course's UDP chat server.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=9000, help="port (0 = any free port)")
    parser.add_argument("--encoding", choices=["utf-8", "gbk", "gb2312"], default="utf-8")
    args = parser.parse_args()
    if args.encoding == "gb2312":
        args.encoding = "gbk"

    udp_server_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp_server_sock.bind((args.host, args.port))
    except OSError as e:
        fail("bind", (args.host, args.port), e)
    print("listening on %s:%d" % udp_server_sock.getsockname(), flush=True)

    while True:
        msg, addr = udp_server_sock.recvfrom(BUFSIZE)
        print("message from %s:%d: %s" % (addr[0], addr[1], msg.decode(args.encoding, errors="replace")),
              flush=True)
        if len(msg) == BUFSIZE:
            print("(that datagram filled the whole %d-byte buffer: anything after byte %d was cut off and is lost)"
                  % (BUFSIZE, BUFSIZE), flush=True)
        try:
            back_msg = input("reply: ")
        except EOFError:
            break
        udp_server_sock.sendto(back_msg.encode(args.encoding, errors="xmlcharrefreplace"), addr)
    udp_server_sock.close()


if __name__ == "__main__":
    main()
