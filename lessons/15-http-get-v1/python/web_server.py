"""Python's own web server (the standard library's http.server), started the way this
workspace starts servers: `--host`, `--port` (0 = a free one), and `listening on ADDR` as
the first line. `cargo lesson run http-get-v1` (and http-get-v2's) uses it as the web server
the client fetches from; the tests use `python3 -m http.server` itself. It is not part of
the course: it is the peer the course's client meets, a real web server.

Run it:  python3 lessons/15-http-get-v1/python/web_server.py --root lessons/15-http-get-v1/site
Then:    cargo run -p http-get-v1 -- http://127.0.0.1:8000/hello.html

It is `python3 -m http.server --bind 127.0.0.1 8000 --directory DIR` with three changes,
all to what it prints, none to what it sends but one word:
- the first line is `listening on 127.0.0.1:8000` instead of `Serving HTTP on ...`;
- each request is logged on stdout as `client ADDR: "GET / HTTP/1.1" 200 -`, without the
  time stamp http.server puts in its stderr log;
- the Server header says `Python/3` instead of the full version (`Python/3.11.7`), so
  that the lesson's recorded transcript is the same on every machine.
"""
import argparse
import functools
import http.server


class Handler(http.server.SimpleHTTPRequestHandler):
    sys_version = 'Python/3'

    def log_message(self, format, *args):
        print('client %s:%d: %s' % (self.client_address[:2] + (format % args,)), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1', help='the address to listen on')
    parser.add_argument('--port', type=int, default=8000, help='the port (0: any free one)')
    parser.add_argument('--root', default='.', help='the folder to serve')
    args = parser.parse_args()

    handler = functools.partial(Handler, directory=args.root)
    with http.server.ThreadingHTTPServer((args.host, args.port), handler) as server:
        print('listening on %s:%d' % server.server_address[:2], flush=True)
        server.serve_forever()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
