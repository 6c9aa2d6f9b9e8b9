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


class Status:
    """The bytes so far and their SHA-256, written to a STATUS file."""

    def __init__(self, path):
        self.path, self.n, self.h, self.last = path, 0, hashlib.sha256(), 0

    def put(self, state):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %s %s\n" % (self.n, self.h.hexdigest(), state))
        os.replace(tmp, self.path)

    def add(self, b):
        """Counts B; says "running" at most every 0.2 s."""
        self.h.update(b)
        self.n += len(b)
        now = time.monotonic()
        if now - self.last > 0.2:
            self.put("running")
            self.last = now


def recv(args):
    st = Status(args.status)
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(1)
    st.put("listening")
    c, _ = ls.accept()
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            st.add(b)
    except OSError as e:
        st.put("error: %s" % e)
        return 1
    st.put("done")
    return 0


def send(args):
    st = Status(args.status)
    rng = random.Random(args.seed)
    block = rng.randbytes(1 << 20)
    try:
        s = socket.create_connection((args.host, args.port), timeout=60)
        s.settimeout(args.timeout)
        t0 = time.monotonic()
        chunk = 16384
        while not os.path.exists(args.stop) and \
                (not args.max or st.n < args.max):
            if args.rate:
                ahead = st.n / args.rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(min(ahead, 0.1))
                    continue
            off = st.n % len(block)
            b = block[off:off + chunk]
            s.sendall(b)
            st.add(b)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(args.timeout)
        while s.recv(4096):
            pass
        s.close()
    except OSError as e:
        st.put("error: %s" % e)
        return 1
    st.put("done")
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
