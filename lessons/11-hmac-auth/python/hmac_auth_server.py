"""The client check's server (验证客户端链接的合法性): the course's program, retold for
Python 3, with its steps and names (secret_key, conn_auth, msg, digest).

For each client: send os.urandom(32), read the 64-hex-digit answer, compare it with
hmac.new(key, challenge, 'sha256').hexdigest() using hmac.compare_digest, then print
`legal connection from ADDR: MESSAGE` or `illegal connection from ADDR (why)` and close.
One client at a time, as the course's server (and the Rust one).

Run it:  python3 lessons/11-hmac-auth/python/hmac_auth_server.py --key secret
Then:    cargo run -p hmac-auth --bin hmac-auth-client -- --key secret
Same options, output and bytes as the Rust lesson (--host, --port, 0 = any free port;
--key, else HMAC_AUTH_KEY, else the demo key with a warning).
"""
import argparse
import errno
import hmac
import os
import socket
import sys

DEMO_KEY = "hmac-auth demo key (not a secret)"


def choose_key(flag):
    if flag is not None:
        return flag.encode("utf-8")
    if os.environ.get("HMAC_AUTH_KEY"):
        return os.environ["HMAC_AUTH_KEY"].encode("utf-8", "surrogateescape")
    print('warning: no --key and no HMAC_AUTH_KEY: using the demo key "%s", which '
          "everyone who has this program knows; pass the same --key to server and client"
          % DEMO_KEY, file=sys.stderr, flush=True)
    return DEMO_KEY.encode("utf-8")


def fail(stage, addr, e):
    """One line naming the stage, the address and the cause, then exit 1 (as the Rust lesson)."""
    hint = ""
    if e.errno == errno.EADDRINUSE:
        hint = " (another program is using that port: stop it, or pass --port 0)"
    print("%s %s:%d: %s%s" % (stage, addr[0], addr[1], e.strerror.lower(), hint), file=sys.stderr)
    sys.exit(1)


def conn_auth(conn, key, timeout):
    """Challenge the client. Returns None if it answered right, else why not."""
    msg = os.urandom(32)
    conn.sendall(msg)
    digest = hmac.new(key, msg, "sha256").hexdigest().encode("ascii")
    # recv may return part of the answer: read until all 64 bytes are here, and no more
    # (what follows them is the client's message).
    answer = b""
    try:
        while len(answer) < len(digest):
            chunk = conn.recv(len(digest) - len(answer))
            if not chunk:
                return "closed before a full answer"
            answer += chunk
    except socket.timeout:
        return "no answer within %ds" % timeout
    if not all(c in b"0123456789abcdefABCDEF" for c in answer):
        return "answer is not 64 hex digits"
    if not hmac.compare_digest(answer.lower(), digest):
        return "wrong answer: not the HMAC of this challenge with our key"
    return None


def main():
    parser = argparse.ArgumentParser(description="The course's client check, server side.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9000, help="port (0 = any free port)")
    parser.add_argument("--key", help="the shared secret (else HMAC_AUTH_KEY)")
    parser.add_argument("--handshake-timeout", type=int, default=5, metavar="SECS")
    args = parser.parse_args()
    secret_key = choose_key(args.key)

    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sk.bind((args.host, args.port))
    except OSError as e:
        fail("bind", (args.host, args.port), e)
    sk.listen(128)
    print("listening on %s:%d" % sk.getsockname(), flush=True)

    while True:
        conn, addr = sk.accept()
        peer = "%s:%d" % addr
        conn.settimeout(args.handshake_timeout)
        try:
            why = conn_auth(conn, secret_key, args.handshake_timeout)
            if why is None:
                try:
                    data = conn.recv(1024)
                except socket.timeout:
                    data = b""
                print("legal connection from %s: %s"
                      % (peer, data.decode("utf-8", errors="replace")), flush=True)
            else:
                print("illegal connection from %s (%s)" % (peer, why), flush=True)
        except OSError as e:
            print("%s: %s" % (peer, e), file=sys.stderr, flush=True)
        conn.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
