"""The course's socketserver program (socketserver模块), retold for Python 3: a handler
class whose handle() sends hello and prints what comes back, served by
ThreadingTCPServer, which runs each connection on a thread of its own.

Run it:  python3 lessons/14-socketserver/python/socketserver_server.py --port 9000
Added so tests can drive it: --host and --port (0 = any free one), the `listening on ADDR`
line the Rust server prints too, and the same output lines. Also: the course's handle()
has no way out of its loop; once the client has gone it prints b'', sends hello again,
and dies on BrokenPipeError (socketserver prints the traceback). This one stops when
recv() returns b'', as the Rust handler does.
"""
import argparse
import socketserver


class MyServer(socketserver.BaseRequestHandler):
    def handle(self):
        peer = '%s:%d' % self.client_address[:2]
        print('client %s connected' % peer, flush=True)
        while True:
            self.request.send(b'hello')
            msg = self.request.recv(1024)
            if not msg:
                print('client %s closed the connection' % peer, flush=True)
                break
            print('received from %s: %s' % (peer, msg.decode('utf-8', 'replace')), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=9000)
    args = parser.parse_args()

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer((args.host, args.port), MyServer)
    print('listening on %s:%d' % server.server_address[:2], flush=True)
    server.serve_forever()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
