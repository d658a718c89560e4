"""The course's client for the socketserver program, retold for Python 3: receive,
print, answer byebye.

Run it:  python3 lessons/14-socketserver/python/socketserver_client.py --port 9000
Added so tests can drive it: --host, --port, and --rounds (default 3): the course's
client loops for ever. It prints what it receives decoded, as the Rust client does (the
course prints the bytes: b'hello').
"""
import argparse
import socket


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=9000)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()

    sk = socket.socket()
    sk.connect((args.host, args.port))
    for _ in range(args.rounds):
        msg = sk.recv(1024)
        print('received: %s' % msg.decode('utf-8', 'replace'))
        sk.send(b'byebye')
        print('sent: byebye')
    # Send our FIN behind the last byebye before closing (see the Rust client).
    sk.shutdown(socket.SHUT_WR)
    sk.close()


if __name__ == '__main__':
    main()
