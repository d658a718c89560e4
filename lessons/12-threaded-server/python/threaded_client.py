"""The course's client for the thread-per-connection server, retold for Python 3: print
the welcome, send Alice, Bob and Jack (printing each reply), then `exit`.

Run it:  python3 lessons/12-threaded-server/python/threaded_client.py --port 9999
(--host and --port are added so tests can point it at any server; names given after the
options are sent instead of Alice, Bob and Jack, as the Rust client does.)
"""
import argparse
import socket


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=9999)
    parser.add_argument('names', nargs='*', default=['Alice', 'Bob', 'Jack'])
    args = parser.parse_args()

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Establish the connection:
    s.connect((args.host, args.port))
    # Receive the welcome message:
    print(s.recv(1024).decode('utf-8'))
    for data in [name.encode('utf-8') for name in args.names]:
        # Send data:
        s.send(data)
        print(s.recv(1024).decode('utf-8'))
    s.send(b'exit')
    s.close()


if __name__ == '__main__':
    main()
