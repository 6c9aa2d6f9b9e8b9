#!/usr/bin/python3
"""stream.py: a paced TCP byte stream with SHA-256 on both ends, for tests
that change a tunnel while data flows through it.

  stream.py recv PORT STATUS        accept one connection, read to EOF
  stream.py send HOST PORT STATUS --stop FILE [--rate B/s] [--max BYTES]
                                    send pseudo-random data until FILE
                                    exists (or --max bytes), then close

Both write STATUS (atomically, every 0.2 s and at the end) as
"BYTES SHA256 STATE", STATE being "running" or "done" (or "error: ...").
"""
import argparse
import hashlib
import os
import random
import socket
import sys
import time


def put(path, n, h, state):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %s %s\n" % (n, h.hexdigest(), state))
    os.replace(tmp, path)


def recv(args):
    h = hashlib.sha256()
    n = 0
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(1)
    put(args.status, 0, h, "listening")
    c, _ = ls.accept()
    last = 0
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
            now = time.monotonic()
            if now - last > 0.2:
                put(args.status, n, h, "running")
                last = now
    except OSError as e:
        put(args.status, n, h, "error: %s" % e)
        return 1
    put(args.status, n, h, "done")
    return 0


def send(args):
    h = hashlib.sha256()
    n = 0
    rng = random.Random(args.seed)
    block = rng.randbytes(1 << 20)
    try:
        s = socket.create_connection((args.host, args.port), timeout=60)
        s.settimeout(args.timeout)
        t0 = time.monotonic()
        last = 0
        chunk = 16384
        while not os.path.exists(args.stop) and (not args.max or n < args.max):
            if args.rate:
                ahead = n / args.rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(min(ahead, 0.1))
                    continue
            off = n % len(block)
            b = block[off:off + chunk]
            s.sendall(b)
            h.update(b)
            n += len(b)
            now = time.monotonic()
            if now - last > 0.2:
                put(args.status, n, h, "running")
                last = now
        s.shutdown(socket.SHUT_WR)
        s.settimeout(args.timeout)
        while s.recv(4096):
            pass
        s.close()
    except OSError as e:
        put(args.status, n, h, "error: %s" % e)
        return 1
    put(args.status, n, h, "done")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recv")
    r.add_argument("port", type=int)
    r.add_argument("status")
    r.add_argument("--bind", default="0.0.0.0")
    s = sub.add_parser("send")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("status")
    s.add_argument("--stop", required=True)
    s.add_argument("--rate", type=float, default=0)
    s.add_argument("--max", type=int, default=0)
    s.add_argument("--seed", default="stream")
    s.add_argument("--timeout", type=float, default=120)
    args = p.parse_args()
    return recv(args) if args.cmd == "recv" else send(args)


if __name__ == "__main__":
    sys.exit(main())
