#!/usr/bin/env python3
"""Traffic for netns-test.sh, with nothing but python3 (no ping, no nc).

  ping ADDR [COUNT]              ICMP echo over IPv4, exit 1 if none answered
  serve ADDR PORT                accept one TCP connection, print "BYTES SHA256"
  send ADDR PORT BYTES           send BYTES of seeded random data, print same
  garbage ADDR PORT VECTORS      send every drop vector's datagram over UDP
"""
import hashlib
import json
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cvwire import checksum  # noqa: E402


def ping(addr, count="3"):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.settimeout(2)
    ident, got = os.getpid() & 0xFFFF, 0
    for seq in range(int(count)):
        payload = b"crapvpn-ping" + bytes(44)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        hdr = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq)
        start = time.monotonic()
        sock.sendto(hdr + payload, (addr, 0))
        try:
            while True:
                pkt, src = sock.recvfrom(2048)
                icmp = pkt[(pkt[0] & 0xF) * 4:]
                if src[0] == addr and icmp[0] == 0 and \
                        struct.unpack("!HH", icmp[4:8]) == (ident, seq):
                    got += 1
                    print(f"reply from {addr} seq={seq} "
                          f"{(time.monotonic() - start) * 1000:.1f} ms")
                    break
        except socket.timeout:
            print(f"no reply from {addr} seq={seq}")
    return 0 if got else 1


def serve(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(1)
    conn, _ = ls.accept()
    h, n = hashlib.sha256(), 0
    while chunk := conn.recv(1 << 16):
        h.update(chunk)
        n += len(chunk)
    print(n, h.hexdigest())
    return 0


def send(addr, port, nbytes):
    data = random.Random(1337).randbytes(int(nbytes))
    for _ in range(50):  # the server may still be starting
        try:
            s = socket.create_connection((addr, int(port)), timeout=60)
            break
        except ConnectionRefusedError:
            time.sleep(0.1)
    else:
        sys.exit(f"no server at {addr}:{port}")
    start = time.monotonic()
    with s:
        s.sendall(data)
    secs = time.monotonic() - start
    print(len(data), hashlib.sha256(data).hexdigest())
    print(f"{len(data) * 8 / secs / 1e6:.1f} Mbit/s", file=sys.stderr)
    return 0


def garbage(addr, port, vectors):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    n = 0
    with open(vectors) as f:
        for line in f:
            if line.strip() and (v := json.loads(line))["expect"] == "drop":
                sock.sendto(bytes.fromhex(v["datagram"]), (addr, int(port)))
                n += 1
    print(f"sent {n} drop vectors")
    return 0


if __name__ == "__main__":
    cmd = {"ping": ping, "serve": serve, "send": send, "garbage": garbage}
    sys.exit(cmd[sys.argv[1]](*sys.argv[2:]))
