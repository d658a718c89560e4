#!/usr/bin/env python3
"""The course's TFTP downloader (TFTP文件下载器), retold for Python 3, with --host/--port.

The course's steps, in its order and with its names (udpSocket, cmd_buf, p_num, recvData,
cmdTuple, ackBuf): send a read request (RRQ) for the file in octet mode to port 69;
create the local file at the first block; write each DATA block as it arrives and ACK
it; a block shorter than 512 bytes (a datagram shorter than 516) is the last one; an
ERROR packet ends the download. What the course leaves out, kept here only where a
download would otherwise break, as lesson 17's tftp-client-v1 does: the server answers
from a new port (its transfer ID) and every ACK goes there; a timeout sends the last
packet again (--retries times); a duplicate block is ACKed again but written once; the
file is written under a temporary name and renamed only when it is complete.

    python3 tftp_download.py --host 127.0.0.1 --port 6969 hello.txt
"""

import argparse
import os
import socket
import struct
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=int, default=69, help="the server's port (69)")
    parser.add_argument("file", nargs="?", default="test.jpg", help="the file to ask for")
    parser.add_argument("-o", "--output", help="where to save it (default: its name)")
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds before sending again")
    parser.add_argument("--retries", type=int, default=5, help="how many times to send again")
    args = parser.parse_args()
    output = args.output or os.path.basename(args.file)
    if not output:
        parser.error("%r has no file name to save under: use -o" % args.file)

    # 1. Create the UDP socket (创建udp套接字).
    udpSocket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udpSocket.settimeout(args.timeout)  # not in the course: a lost packet would hang it

    # 2. Build the read request (构造下载请求数据): opcode 1, the file name, 0, "octet", 0.
    name = args.file.encode()
    cmd_buf = struct.pack("!H%dsb5sb" % len(name), 1, name, 0, b"octet", 0)

    # 3. Send it to the server's port (发送下载文件请求数据到指定服务器).
    sendAddr = (args.host, args.port)
    udpSocket.sendto(cmd_buf, sendAddr)
    print("asking %s:%d for %r (octet)" % (args.host, args.port, args.file))

    temp = os.path.join(os.path.dirname(output) or ".",
                        ".%s.%d.part" % (os.path.basename(output), os.getpid()))
    p_num = 0  # the last block written
    recvFile = None
    peer = None  # the server's transfer ID, once it has answered
    last = cmd_buf  # what a timeout sends again
    tries = 1
    total = 0
    try:
        while True:
            # 4. Receive (接收数据), and look at the first 4 bytes: opcode, block number.
            try:
                recvData, recvAddr = udpSocket.recvfrom(1024)
            except socket.timeout:
                if tries > args.retries:
                    raise Failure("receive %s:%d: no answer after %d tries, %gs apart: giving up"
                                  % ((peer or sendAddr) + (tries, args.timeout)))
                udpSocket.sendto(last, peer or sendAddr)
                tries += 1
                continue
            if peer is None and recvAddr[0] == socket.gethostbyname(args.host):
                peer = recvAddr
            if recvAddr != peer:
                # Not our server's transfer ID: ERROR 5 to the sender, and carry on.
                udpSocket.sendto(struct.pack("!HH", 5, 5) + b"unknown transfer ID\0", recvAddr)
                continue
            recvDataLen = len(recvData)
            if recvDataLen < 4:
                raise Failure("receive %s:%d: malformed packet" % recvAddr)
            cmdTuple = struct.unpack("!HH", recvData[:4])
            cmd = cmdTuple[0]
            currentPackNum = cmdTuple[1]

            if cmd == 3:  # 5. A DATA packet (是否为数据包)?
                # The first block creates the file (第一次接收到数据,那么就创建文件).
                if currentPackNum == 1 and recvFile is None:
                    recvFile = open(temp, "wb")
                # The next block is written; a duplicate is not (包编号是否和上次相等).
                if (p_num + 1) % 65536 == currentPackNum:
                    recvFile.write(recvData[4:])
                    total += recvDataLen - 4
                    p_num = currentPackNum  # 65535 is followed by 0
                # ACK the last block written: a duplicate gets its ACK again.
                ackBuf = struct.pack("!HH", 4, p_num)
                udpSocket.sendto(ackBuf, recvAddr)
                last, tries = ackBuf, 1
                # Shorter than 516 bytes: the last block (数据小于516则下载完成).
                if currentPackNum == p_num and recvDataLen < 516:
                    break
            elif cmd == 5:  # 6. An ERROR packet (是否为错误应答)?
                message = recvData[4:].split(b"\0")[0].decode("utf-8", "replace")
                raise Failure("server %s:%d: error %d: %s" % (recvAddr + (currentPackNum, message)))
            else:
                raise Failure("receive %s:%d: unexpected opcode %d" % (recvAddr + (cmd,)))
    except Failure as failure:
        if recvFile is not None:
            recvFile.close()
            os.remove(temp)
        print(failure, file=sys.stderr)
        sys.exit(1)
    # 7. Close the file and the socket (关闭).
    recvFile.close()
    udpSocket.close()
    os.replace(temp, output)
    print("received %d bytes, saved to %s" % (total, output))


class Failure(Exception):
    pass


if __name__ == "__main__":
    main()
