"""The two-thread UDP chat (网络编程-Python 实现多线程聊天): the course's program, retold for
Python 3, with its steps (bind 8888, send to 8080, a receiving and a sending thread, tr
and ts, on one socket) and its names (recvData and sendData, written recv_data and
send_data). One thread sends what you type to the peer, the other prints whatever
arrives.

Run it:  python3 lessons/08-udp-chat-threaded/python/udp_chat_threaded.py --bind 127.0.0.1:8888 --peer 127.0.0.1:8080
Then:    cargo run -p udp-chat-threaded -- --bind 127.0.0.1:8080 --peer 127.0.0.1:8888
Same options, output and bytes as the Rust lesson (--bind, --peer, --encoding utf-8|gbk;
the course encodes with gb2312, a subset of gbk; --encoding gb2312 is taken as gbk).
"""
import argparse
import errno
import socket
import sys
from threading import Thread

udp_socket = None
dest_addr = None
encoding = "utf-8"


def recv_data():
    while True:
        recv_info = udp_socket.recvfrom(1024)
        print(">> %s:%d: %s" % (recv_info[1][0], recv_info[1][1],
                                recv_info[0].decode(encoding, errors="replace")), flush=True)
        if len(recv_info[0]) == 1024:
            print("(that datagram filled the whole 1024-byte buffer: anything after byte 1024 was cut off and is lost)",
                  flush=True)


def send_data():
    while True:
        try:
            send_info = input()
        except EOFError:
            return
        udp_socket.sendto(send_info.encode(encoding, errors="xmlcharrefreplace"), dest_addr)


def host_port(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def main():
    global udp_socket, dest_addr, encoding
    parser = argparse.ArgumentParser(description="The course's two-thread UDP chat.")
    parser.add_argument("--bind", type=host_port, default="127.0.0.1:8888", help="our own HOST:PORT")
    parser.add_argument("--peer", type=host_port, default="127.0.0.1:8080", help="the peer's HOST:PORT")
    parser.add_argument("--encoding", choices=["utf-8", "gbk", "gb2312"], default="utf-8")
    args = parser.parse_args()
    dest_addr = args.peer
    encoding = "gbk" if args.encoding == "gb2312" else args.encoding

    udp_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp_socket.bind(args.bind)
    except OSError as e:
        hint = ""
        if e.errno == errno.EADDRINUSE:
            hint = " (another program is using that port: stop it, or pass --bind 127.0.0.1:0)"
        print("bind %s:%d: %s%s" % (args.bind[0], args.bind[1], e.strerror.lower(), hint), file=sys.stderr)
        sys.exit(1)
    print("listening on %s:%d" % udp_socket.getsockname(), flush=True)

    # The receiving thread is a daemon: at end of input the sender returns, and the
    # program ends without waiting for recvfrom, which would wait for ever.
    tr = Thread(target=recv_data, daemon=True)
    ts = Thread(target=send_data)
    tr.start()
    ts.start()
    ts.join()


if __name__ == "__main__":
    main()
