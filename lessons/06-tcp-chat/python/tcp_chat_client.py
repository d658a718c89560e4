"""The TCP chat's client (网络编程 · 基于TCP协议的socket): the course's program, retold for
Python 3, with its steps, names (sk, msg, ret) and defaults; --host/--port are added so
that tests can script it.

Waits for the server's message, prints it, answers; a message of exactly `q` from either
side ends the chat. End of input (Ctrl-D) works like `q`.

Run it:  python3 lessons/06-tcp-chat/python/tcp_chat_client.py --port 9000
"""
import argparse
import socket


def ask(label):
    """input(label), asked again on an empty line: send(b'') sends nothing, and then
    both sides would wait for each other."""
    while True:
        msg = input(label)
        if msg:
            return msg


def main():
    parser = argparse.ArgumentParser(description="The course's TCP chat, client side.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()

    sk = socket.socket()
    sk.connect((args.host, args.port))
    print("connected to %s:%d" % sk.getpeername()[:2], flush=True)
    while True:
        ret = sk.recv(1024)  # one recv is taken to be one message, as in the course
        if not ret:
            print("server closed the connection", flush=True)
            break
        if ret == b"q":
            print("chat over: server sent q", flush=True)
            break
        print("server: " + ret.decode("utf-8", "replace"), flush=True)
        try:
            msg = ask("client> ")
        except EOFError:
            print(flush=True)
            sk.send(b"q")
            print("end of input: sent q, closing", flush=True)
            break
        sk.send(msg.encode("utf-8"))
        if msg == "q":
            print("chat over: you sent q", flush=True)
            break
    sk.close()


if __name__ == "__main__":
    main()
