"""The course's HTTP client (TCP编程 · 客户端), retold for Python 3: GET a web page over
a bare TCP socket, print the response headers, write the body to an .html file.

The course's steps, comments, names and defaults are kept (it fetches www.sina.com.cn's
home page into sina.html); what is added is --host, --port, --path and --out, so that
tests can point it at a local server:

    python3 lessons/15-http-get-v1/python/http_get.py --host 127.0.0.1 --port 8000 --path / --out index.html

Like the course's, it reads until the server closes and splits at the first blank line,
and that is all: it trusts the server to send the body as it is. A server that answers
with Transfer-Encoding: chunked sends the body in pieces, each after its size in hex on
a line of its own, and this program saves those size lines into the page (so does
http-get-v1, which does the same steps; http-get-v2 decodes them).
"""
import argparse
# 导入socket库 (import the socket library):
import socket

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument('--host', default='www.sina.com.cn', help="the web server's name or address")
parser.add_argument('--port', type=int, default=80, help="the web server's port (80: the web's)")
parser.add_argument('--path', default='/', help='the page to ask for')
parser.add_argument('--out', default='sina.html', help='the file the body is written to')
args = parser.parse_args()
host = args.host if args.port == 80 else '%s:%d' % (args.host, args.port)

# 创建一个socket (create a socket): AF_INET is IPv4, SOCK_STREAM is TCP.
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# 建立连接 (connect): the address is a tuple, (host, port).
s.connect((args.host, args.port))
# 发送数据 (send): the request line, Host, Connection: close, and a blank line.
s.send(('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' % (args.path, host)).encode('ascii'))
# 接收数据 (receive):
buffer = []
while True:
    # 每次最多接收1k字节 (at most 1 KiB at a time):
    d = s.recv(1024)
    if d:
        buffer.append(d)
    else:
        break
data = b''.join(buffer)
# 关闭连接 (close the connection):
s.close()
header, html = data.split(b'\r\n\r\n', 1)
print(header.decode('utf-8'))
# 把接收的数据写入文件 (write the received data to a file):
with open(args.out, 'wb') as f:
    f.write(html)
