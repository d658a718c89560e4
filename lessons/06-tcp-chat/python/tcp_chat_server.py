"""The TCP chat's server (网络编程 · 基于TCP协议的socket): the course's program, retold for
Python 3, with its steps, names (sk, conn, addr, msg, ret) and defaults (port 9000,
SO_REUSEADDR); --host/--port are added so that tests can script it.

The server speaks first; turns alternate; a message of exactly `q` from either side ends
the chat, and the server waits for the next client. End of input (Ctrl-D) works like `q`
and then stops the server.

Run it:  python3 lessons/06-tcp-chat/python/tcp_chat_server.py --port 9000
Without SO_REUSEADDR (to see why the course sets it: stop the server with Ctrl-C in the
middle of a chat, then start it again at once):
         python3 lessons/06-tcp-chat/python/tcp_chat_server.py --no-reuseaddr
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


def chat(conn, who):
    """Talk with one client, the server first. True means: stop the server."""
    while True:
        try:
            msg = ask("server> ")
        except EOFError:
            print(flush=True)
            conn.send(b"q")
            print("end of input: sent q to %s, stopping" % who, flush=True)
            return True
        conn.send(msg.encode("utf-8"))
        if msg == "q":
            print("chat with %s over: you sent q" % who, flush=True)
            return False
        ret = conn.recv(1024)  # one recv is taken to be one message, as in the course
        if not ret:
            print("client %s closed the connection without q" % who, flush=True)
            return False
        if ret == b"q":
            print("chat with %s over: client sent q" % who, flush=True)
            return False
        print("client: " + ret.decode("utf-8", "replace"), flush=True)


def main():
    parser = argparse.ArgumentParser(description="The course's TCP chat, server side.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--no-reuseaddr", action="store_true",
                        help="do not set SO_REUSEADDR (a restart right after a chat then fails)")
    args = parser.parse_args()

    sk = socket.socket()
    if not args.no_reuseaddr:
        # The course's line. Without it, restarting the server while its last connection
        # is in TIME_WAIT fails: OSError: [Errno 98] Address already in use
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sk.bind((args.host, args.port))
    sk.listen()
    print("listening on %s:%d" % sk.getsockname()[:2], flush=True)
    while True:
        conn, addr = sk.accept()
        who = "%s:%d" % addr[:2]
        print("client %s connected" % who, flush=True)
        stop = chat(conn, who)
        conn.close()
        if stop:
            break
    sk.close()


if __name__ == "__main__":
    main()
