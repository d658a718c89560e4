#!/usr/bin/env python3
"""The course's TFTP downloader (TFTP文件下载器), with --host/--port options.

Send a read request (RRQ) for FILE in octet mode, write each DATA block to the file as it
arrives, ACK it, and stop at the block that is shorter than 512 bytes. The server answers
from a new port, its transfer ID: every ACK goes there. On a timeout the last packet goes
out again (--retries times). An ERROR packet ends the download with exit status 1; the
file is written under a temporary name and renamed only when it is complete.

    python3 tftp_download.py --host 127.0.0.1 --port 6969 hello.txt
"""

import argparse
import os
import socket
import struct
import sys

BLOCK = 512  # RFC 1350's block size: a shorter DATA is the last one


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=int, default=69, help="the server's port (69)")
    parser.add_argument("file", help="the file to ask for")
    parser.add_argument("-o", "--output", help="where to save it (default: its name)")
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds before sending again")
    parser.add_argument("--retries", type=int, default=5, help="how many times to send again")
    args = parser.parse_args()
    output = args.output or os.path.basename(args.file)
    if not output:
        parser.error("%r has no file name to save under: use -o" % args.file)

    server = (args.host, args.port)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(args.timeout)

    # RRQ: opcode 1, the file name, a zero byte, the mode, a zero byte.
    last = struct.pack("!H", 1) + args.file.encode() + b"\0" + b"octet\0"
    udp.sendto(last, server)
    print("asking %s:%d for %r (octet)" % (args.host, args.port, args.file))

    temp = os.path.join(os.path.dirname(output) or ".",
                        ".%s.%d.part" % (os.path.basename(output), os.getpid()))
    peer = None  # the server's transfer ID, once it has answered
    expected = 1
    total = 0
    tries = 1
    with open(temp, "wb") as f:
        try:
            while True:
                try:
                    data, addr = udp.recvfrom(BLOCK + 4)
                except socket.timeout:
                    if tries > args.retries:
                        raise Failure("receive %s:%d: no answer after %d tries, %gs apart: giving up"
                                      % ((peer or server) + (tries, args.timeout)))
                    udp.sendto(last, peer or server)
                    tries += 1
                    continue
                if peer is None and addr[0] == socket.gethostbyname(args.host):
                    peer = addr
                if addr != peer:
                    # Not our server's transfer ID: ERROR 5 to the sender, and carry on.
                    udp.sendto(struct.pack("!HH", 5, 5) + b"unknown transfer ID\0", addr)
                    continue
                if len(data) < 4:
                    raise Failure("receive %s:%d: malformed packet" % addr)
                opcode, number = struct.unpack("!HH", data[:4])
                if opcode == 5:
                    message = data[4:].split(b"\0")[0].decode("utf-8", "replace")
                    raise Failure("server %s:%d: error %d: %s" % (addr + (number, message)))
                if opcode != 3:
                    raise Failure("receive %s:%d: unexpected opcode %d" % (addr + (opcode,)))
                if number == expected:
                    f.write(data[4:])  # write each block as it arrives
                    total += len(data) - 4
                    expected = (expected + 1) % 65536  # 65535 is followed by 0
                elif number != (expected - 1) % 65536:
                    continue  # an old copy from long ago: nothing to do
                # ACK this block (again, if it was a duplicate: our ACK was lost).
                last = struct.pack("!HH", 4, number)
                udp.sendto(last, addr)
                tries = 1
                if number == (expected - 1) % 65536 and len(data) - 4 < BLOCK:
                    break  # the short block: the file is complete
        except Failure as failure:
            f.close()
            os.remove(temp)
            print(failure, file=sys.stderr)
            sys.exit(1)
    os.replace(temp, output)
    print("received %d bytes, saved to %s" % (total, output))


class Failure(Exception):
    pass


if __name__ == "__main__":
    main()
