"""The course's HTTP client (TCP编程 · 客户端): GET a web page over a bare TCP socket,
print the response headers, write the body to an .html file.

Run it:  python3 lessons/14-http-get/python/http_get.py --host 127.0.0.1 --port 8000 --path /
Options added so tests can script it: --host, --port (80, HTTP's port, by default), --path
(/ by default) and --out (the file the body goes to, index.html by default).

This is the course's program as it is, on purpose: it reads until the server closes and
splits at the first blank line, and that is all. It trusts the server to send the body
as it is. A server that answers with Transfer-Encoding: chunked sends the body in pieces,
each after its size in hex on a line of its own, and this program saves those size lines
into the page. lessons/14-http-get (the Rust http-get) decodes them.
"""
import argparse
import socket
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1', help="the web server's name or address")
    parser.add_argument('--port', type=int, default=80, help="the web server's port")
    parser.add_argument('--path', default='/', help='the page to ask for')
    parser.add_argument('--out', default='index.html', help='the file the body goes to')
    args = parser.parse_args()

    # Create a socket and connect: AF_INET is IPv4, SOCK_STREAM is TCP.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect((args.host, args.port))
    except OSError as e:
        print('connect %s:%d: %s' % (args.host, args.port, (e.strerror or str(e)).lower()),
              file=sys.stderr)
        sys.exit(1)

    # Send the request: the request line, Host, Connection: close, and a blank line.
    host = args.host if args.port == 80 else '%s:%d' % (args.host, args.port)
    request = 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' % (args.path, host)
    s.send(request.encode('ascii'))

    # Receive: 1 KiB at a time, until recv() returns nothing (the server closed).
    buffer = []
    while True:
        d = s.recv(1024)
        if d:
            buffer.append(d)
        else:
            break
    data = b''.join(buffer)
    s.close()

    # The headers and the body are separated by the first blank line.
    if b'\r\n\r\n' not in data:
        print('receive %s: no blank line after the headers (%d bytes)' % (host, len(data)),
              file=sys.stderr)
        sys.exit(1)
    header, html = data.split(b'\r\n\r\n', 1)
    print(header.decode('utf-8', errors='replace'))

    # Write the body to a file.
    with open(args.out, 'wb') as f:
        f.write(html)


if __name__ == '__main__':
    main()
