#!/usr/bin/python3
"""cvsend.py: CrapVPN datagrams for the bad-input test (tests/net/40-badinput.sh).

  cvsend.py send HOST PORT HEX...
      Sends each HEX ("-": empty) as one UDP datagram to HOST PORT.
  cvsend.py valid KEYHEX [SEED]
      Prints the hex of one well-formed datagram (an IPv4 packet inside).
  cvsend.py csum SRC HOST PORT --key HEX --outer good|zero|bad
                 --inner good|bad --inner-src A --inner-dst B --inner-port P
                 [--proto udp|tcp] TEXT
      Sends, from a raw socket bound to SRC, one datagram whose outer UDP
      checksum is right, zero or wrong, carrying an IPv4 UDP packet A -> B:P
      with TEXT as payload and an inner UDP checksum right or wrong (with
      --proto tcp: a TCP SYN A -> B:P, its checksum right or wrong).
  cvsend.py flows HOST PORT --key HEX --inner-src A --inner-dst B
                 --inner-port P --count N
      Sends N datagrams from one UDP socket, so with one outer 5-tuple;
      the i-th carries an IPv4 UDP packet from A:P+i to B:P+i.
  cvsend.py listen ADDR PORT OUT --until TEXT --seconds S
      Writes the payload of every UDP datagram to ADDR:PORT as one line of
      OUT until TEXT arrives or S seconds pass (exit status 1 then).
  cvsend.py fuzz HOST PORT --key HEX --count N --seed S --summary FILE
      Sends N random and mutated datagrams and writes, as JSON, how many of
      each the wire format's receive rules must drop, and why: short, magic,
      length, empty, not_ip (version nibble not 4 or 6), ip (a version
      nibble of 4 or 6 and at least a minimal IP header: reaches the stack),
      ip_short (nibble 4 or 6 but shorter than a minimal IPv4 / IPv6
      header: the module may drop it as not IP or pass it to the stack).
"""
import argparse
import json
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "lib"))
from cvwire import (BAD_LENGTH, BAD_MAGIC, HDR, NOT_IP,  # noqa: E402
                    TYPE_ETHER, family, ipv4, ipv6, l4_checksum, put16, seal,
                    unseal)

# The fuzz summary's names of the verdicts (hostile.c's too).
SUMMARY = {BAD_MAGIC: "magic", BAD_LENGTH: "length", None: "ip"}


def classify(d, key):
    """The receive rules of wire-format.md, at a layer-3 device; "ip_short":
    IP version 4 or 6, but shorter than its minimal header."""
    verdict, payload = unseal(key, d)
    if verdict == NOT_IP and payload[0] >> 4 in (4, 6):
        return "ip_short"
    return SUMMARY.get(verdict, verdict)


def inner_packet(rng, size):
    """A well-formed IPv4 or IPv6 packet of SIZE bytes to an address that
    is not local to the receiver (TEST-NET-2 / ULA), so the stack drops it."""
    if size >= 40 and rng.random() < 0.5:
        return ipv6("fd00:99::1", "fd00:99::2", 59, rng.randbytes(size - 40))
    size = max(size, 20)
    ident = rng.randrange(65536)
    return ipv4("198.18.0.1", "198.18.0.2", 253, rng.randbytes(size - 20),
                ident)


def valid(rng, key, maxlen=2000):
    return seal(key, inner_packet(rng, rng.randint(20, maxlen - HDR)))


def mutate(rng, key):
    """One random or mutated datagram, at most 2000 bytes."""
    r = rng.random()
    if r < 0.20:		# random bytes, random length
        return rng.randbytes(rng.randint(0, 2000))
    if r < 0.32:		# well formed
        return valid(rng, key)
    if r < 0.52:		# bit flips anywhere (header or ciphertext)
        d = bytearray(valid(rng, key))
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(d) if rng.random() < 0.5 else min(len(d), 12))
            d[i] ^= 1 << rng.randrange(8)
        return bytes(d)
    if r < 0.62:		# truncated
        d = valid(rng, key)
        return d[:rng.randrange(len(d))]
    if r < 0.72:		# wrong length field
        d = valid(rng, key)
        n = len(d) - HDR
        bad = rng.choice([0, n - 1, n + 1, 65535, rng.randrange(65536)])
        if bad == n:
            bad = n + 1
        return put16(d, 4, bad & 0xffff)
    if r < 0.77:		# trailing garbage
        d = valid(rng, key, 1900)
        return d + rng.randbytes(rng.randint(1, 100))
    if r < 0.79:		# header only, length 0, type random
        return b"crap\0\0" + rng.randbytes(2)
    if r < 0.80:		# well formed, but typed as a frame
        return put16(valid(rng, key), 6, TYPE_ETHER)
    if r < 0.90:		# right header, random ciphertext, often tiny
        n = rng.randint(1, 44) if rng.random() < 0.3 else rng.randint(1, 1992)
        return seal(key, rng.randbytes(n),
                    int.from_bytes(rng.randbytes(2), "big"))
    if r < 0.95:		# right header, not IP once decrypted
        inner = bytearray(rng.randbytes(rng.randint(1, 1992)))
        inner[0] = rng.choice([0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15]) << 4 | rng.randrange(16)
        return seal(key, bytes(inner))
    # shorter than the header, often a prefix of one
    d = valid(rng, key) if rng.random() < 0.7 else rng.randbytes(8)
    return d[:rng.randrange(HDR)]


def with_check(seg, at, good, check):
    """SEG with the checksum at offset AT: GOOD, "zero" or a wrong one."""
    value = {"good": good, "zero": 0, "bad": good ^ 0x0101 or 0x0202}[check]
    return put16(seg, at, value)


def udp_datagram(src, dst, sport, dport, payload, check):
    """A UDP header and PAYLOAD; CHECK: "good", "zero" or "bad"."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return with_check(udp, 6, l4_checksum(src, dst, socket.IPPROTO_UDP, udp),
                      check)


def tcp_syn(src, dst, sport, dport, check):
    """A TCP SYN; CHECK: "good" or "bad"."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02,
                      65535, 0, 0)
    return with_check(tcp, 16, l4_checksum(src, dst, socket.IPPROTO_TCP, tcp),
                      check)


def cmd_csum(args):
    if args.proto == "tcp":
        seg = tcp_syn(args.inner_src, args.inner_dst, 40001,
                      args.inner_port, args.inner)
    else:
        seg = udp_datagram(args.inner_src, args.inner_dst, 40001,
                           args.inner_port, args.text.encode(), args.inner)
    inner = ipv4(args.inner_src, args.inner_dst,
                 getattr(socket, "IPPROTO_" + args.proto.upper()), seg)
    outer = udp_datagram(args.src, args.host, 40000, args.port,
                         seal(bytes.fromhex(args.key), inner), args.outer)
    # A raw socket of protocol UDP: the kernel writes the IP header and
    # leaves the UDP header, checksum and all, as given.
    s = socket.socket(family(args.host), socket.SOCK_RAW,
                      socket.IPPROTO_UDP)
    s.bind((args.src, 0))
    s.sendto(outer, (args.host, 0))
    return 0


def cmd_flows(args):
    key = bytes.fromhex(args.key)
    s = socket.socket(family(args.host), socket.SOCK_DGRAM)
    for i in range(args.count):
        port = args.inner_port + i
        udp = udp_datagram(args.inner_src, args.inner_dst, port, port,
                           b"flow %d" % i, "good")
        inner = ipv4(args.inner_src, args.inner_dst, socket.IPPROTO_UDP, udp)
        s.sendto(seal(key, inner), (args.host, args.port))
    return 0


def cmd_listen(args):
    s = socket.socket(family(args.addr), socket.SOCK_DGRAM)
    s.bind((args.addr, args.port))
    deadline = time.monotonic() + args.seconds
    with open(args.out, "w") as out:
        while time.monotonic() < deadline:
            s.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                text = s.recv(65535).decode(errors="replace")
            except socket.timeout:
                break
            out.write(text + "\n")
            out.flush()
            if text == args.until:
                return 0
    return 1


def sender(host, port):
    fam = family(host)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, 10, 0)	# IP_MTU_DISCOVER: DONT
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    return s, (host, port)


def cmd_send(args):
    s, to = sender(args.host, args.port)
    for h in args.hex:
        s.sendto(b"" if h == "-" else bytes.fromhex(h), to)
    return 0


def cmd_valid(args):
    print(valid(random.Random(args.seed), bytes.fromhex(args.key), 200).hex())
    return 0


def cmd_fuzz(args):
    key = bytes.fromhex(args.key)
    rng = random.Random(args.seed)
    s, to = sender(args.host, args.port)
    counts = dict.fromkeys(["short", "magic", "length", "empty", "mode", "not_ip",
                            "ip", "ip_short"], 0)
    sent = 0
    nbytes = 0
    t0 = time.monotonic()
    for _ in range(args.count):
        d = mutate(rng, key)
        assert len(d) <= 2000
        counts[classify(d, key)] += 1
        s.sendto(d, to)
        sent += 1
        nbytes += len(d)
    counts["sent"] = sent
    counts["bytes"] = nbytes
    counts["seconds"] = round(time.monotonic() - t0, 2)
    with open(args.summary, "w") as f:
        json.dump(counts, f, sort_keys=True)
        f.write("\n")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("hex", nargs="+")
    va = sub.add_parser("valid")
    va.add_argument("key")
    va.add_argument("seed", nargs="?", default="valid")
    c = sub.add_parser("csum")
    c.add_argument("src")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--key", required=True)
    c.add_argument("--outer", choices=["good", "zero", "bad"], required=True)
    c.add_argument("--inner", choices=["good", "bad"], required=True)
    c.add_argument("--inner-src", required=True)
    c.add_argument("--inner-dst", required=True)
    c.add_argument("--inner-port", type=int, required=True)
    c.add_argument("--proto", choices=["udp", "tcp"], default="udp")
    c.add_argument("text")
    fl = sub.add_parser("flows")
    fl.add_argument("host")
    fl.add_argument("port", type=int)
    fl.add_argument("--key", required=True)
    fl.add_argument("--inner-src", required=True)
    fl.add_argument("--inner-dst", required=True)
    fl.add_argument("--inner-port", type=int, required=True)
    fl.add_argument("--count", type=int, required=True)
    li = sub.add_parser("listen")
    li.add_argument("addr")
    li.add_argument("port", type=int)
    li.add_argument("out")
    li.add_argument("--until", required=True)
    li.add_argument("--seconds", type=float, default=60)
    f = sub.add_parser("fuzz")
    f.add_argument("host")
    f.add_argument("port", type=int)
    f.add_argument("--key", required=True)
    f.add_argument("--count", type=int, default=10000)
    f.add_argument("--seed", default="crapvpn")
    f.add_argument("--summary", required=True)
    args = p.parse_args()
    return {"send": cmd_send, "valid": cmd_valid,
            "csum": cmd_csum, "flows": cmd_flows, "listen": cmd_listen,
            "fuzz": cmd_fuzz}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
