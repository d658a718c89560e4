"""The client check's client (验证客户端链接的合法性): the course's program, retold for
Python 3, with its steps and names (secret_key, msg, digest).

Connect, read the 32-byte challenge, answer with hmac.new(key, challenge,
'sha256').hexdigest() (64 ASCII bytes), send the message, close. The server sends no
verdict, so this client cannot know whether it was let in: the server prints that.

Run it:  python3 lessons/11-hmac-auth/python/hmac_auth_client.py --key secret
With:    cargo run -p hmac-auth --bin hmac-auth-server -- --key secret   (first)
Same options, output and bytes as the Rust lesson.
"""
import argparse
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


def main():
    parser = argparse.ArgumentParser(description="The course's client check, client side.")
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=int, default=9000, help="the server's port")
    parser.add_argument("--key", help="the shared secret (else HMAC_AUTH_KEY)")
    parser.add_argument("--message", default="upload", help="what to send after the answer")
    args = parser.parse_args()
    secret_key = choose_key(args.key)
    addr = "%s:%d" % (args.host, args.port)

    sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sk.connect((args.host, args.port))
    except OSError as e:
        print("connect %s: %s" % (addr, e.strerror.lower()), file=sys.stderr)
        sys.exit(1)
    # recv may return part of the challenge: read until all 32 bytes are here.
    msg = b""
    while len(msg) < 32:
        chunk = sk.recv(32 - len(msg))
        if not chunk:
            print("receive challenge from %s: the server closed before sending 32 bytes"
                  % addr, file=sys.stderr)
            sys.exit(1)
        msg += chunk
    print("challenge: %s" % msg.hex(), flush=True)
    digest = hmac.new(secret_key, msg, "sha256").hexdigest()
    sk.sendall(digest.encode("ascii"))
    print("answer: %s" % digest, flush=True)
    sk.sendall(args.message.encode("utf-8"))
    print("sent: %s" % args.message, flush=True)
    sk.close()


if __name__ == "__main__":
    main()
