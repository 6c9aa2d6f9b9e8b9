#!/usr/bin/env python3
"""Write the wire vectors, wire-vectors.jsonl (1.0) and
wire-vectors-1.1.jsonl beside this script.

usage: make-vectors.py [--check] [DIR]

The datagrams are sealed by the tests' wire module (tests/lib/cvwire.py),
which the tests' userspace peer (tests/userspace/crapvpn-userspace.py)
sends with, the inner packets come from a seeded PRNG, so two runs write
the same bytes. The cases, their names
and their drop reasons are those of the vectors in ../shared/vectors/.
Version 1.1 adds to each vector its device `mode` (l3 or l2) and to each
accept vector `sent`, the datagram crapvpn sends for the plaintext: the
same bytes with the payload's EtherType in bytes 6-7 (the userspace peer,
in `datagram`, writes zeros there, as the published version does).
--check: write nothing; exit 1 if a file in DIR differs from what would be
written.
"""
import json
import os
import random
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from cvwire import (TYPE_ETHER as ETH_ETHER, TYPE_IPV4 as ETH_IPV4,  # noqa: E402
                    TYPE_IPV6 as ETH_IPV6, checksum, ethertype, ipv4, ipv6,
                    l4_checksum, put16, seal)

SEED = 0x63726170
KEY_LENGTHS = (1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 32, 33, 64, 255, 256, 1024)
# Documentation addresses (RFC 5737, RFC 3849) that are local to no
# namespace of the tests, so that no test's stack takes these for its own.
SRC4, DST4 = "203.0.113.10", "203.0.113.20"
SRC6, DST6 = "2001:db8:cafe::10", "2001:db8:cafe::20"
TCP, UDP, ICMP, ICMP6, EXPERIMENTAL = 6, 17, 1, 58, 253

# The drop reasons, word for word as in the 1.0 vectors: the tests map
# them to verdicts by their opening words.
SHORT = ("shorter than the 8-byte header (the reference receiver raises "
         "struct.error and dies)")
MAGIC = "magic is not 'crap'"
NOT_IP = ("inner packet's version nibble is neither 4 nor 6 (TUN rejects "
          "it; the reference receiver dies on the write error)")


def ip4(proto, seg, at=None):
    """An IPv4 packet; the checksum of SEG at offset AT (pseudo-header
    for TCP and UDP, none for ICMP)."""
    if at is not None:
        seg = put16(seg, at, checksum(seg) if proto == ICMP else
                    l4_checksum(SRC4, DST4, proto, seg))
    return ipv4(SRC4, DST4, proto, seg, ident=0x1234)


def ip6(nh, seg, at):
    """An IPv6 packet; the checksum of SEG (with its pseudo-header) at AT."""
    return ipv6(SRC6, DST6, nh, put16(seg, at, l4_checksum(SRC6, DST6, nh, seg)))


def udp(rnd, size):
    return struct.pack("!HHHH", 40000, 9, size, 0) + rnd.randbytes(size - 8)


def packets(rnd):
    """The six inner packets of the accept vectors, by name."""
    echo = struct.pack("!BBHHH", 8, 0, 0, 0xBEEF, 1) + rnd.randbytes(56)
    echo6 = struct.pack("!BBHHH", 128, 0, 0, 0xBEEF, 1) + rnd.randbytes(56)
    tcp = (struct.pack("!HHIIBBHHH", 443, 51000, rnd.getrandbits(32),
                       rnd.getrandbits(32), 5 << 4, 0x18, 501, 0, 0) +
           rnd.randbytes(1460))
    return {
        "ipv4-icmp-echo-84": ip4(ICMP, echo, 2),
        "ipv4-tcp-like-1500": ip4(TCP, tcp, 16),
        "ipv4-min-20": ip4(EXPERIMENTAL, b""),
        "ipv6-icmp6-104": ip6(ICMP6, echo6, 2),
        "ipv6-max-1500": ip6(UDP, udp(rnd, 1460), 6),
        "ipv4-big-9000": ip4(UDP, udp(rnd, 8980), 6),
    }


MAC1, MAC2 = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def frames(pkts):
    """The five Ethernet frames of the layer-2 accept vectors, by name."""
    arp = (struct.pack("!HHBBH", 1, ETH_IPV4, 6, 4, 1) + MAC1 +
           socket.inet_aton(SRC4) + bytes(6) + socket.inet_aton(DST4))

    def eth(etype, payload, dst=MAC2):
        return dst + MAC1 + struct.pack("!H", etype) + payload
    return {
        "l2-arp-request-42": eth(0x0806, arp, dst=b"\xff" * 6),
        "l2-ipv4-icmp-98": eth(ETH_IPV4, pkts["ipv4-icmp-echo-84"]),
        "l2-ipv6-118": eth(ETH_IPV6, pkts["ipv6-icmp6-104"]),
        "l2-vlan-ipv4-102": eth(0x8100, struct.pack("!HH", 42, ETH_IPV4) +
                                pkts["ipv4-icmp-echo-84"]),
        "l2-ipv4-1514": eth(ETH_IPV4, pkts["ipv4-tcp-like-1500"]),
    }


def typed(datagram, etype):
    return put16(datagram, 6, etype)


def vector(name, key, datagram, plaintext=None, reason=None):
    v = {"name": name, "key": key.hex(),
         "plaintext": plaintext.hex() if plaintext is not None else None,
         "datagram": datagram.hex(),
         "expect": "accept" if reason is None else "drop"}
    if reason is not None:
        v["reason"] = reason
    return v


def drops(rnd, key, pt):
    """The drop vectors, made from PT (an inner packet) sealed with KEY."""
    dg = seal(key, pt)
    n = len(pt)
    # A wrong key that makes the right one decrypt to no IP version.
    while True:
        wrong = seal(rnd.randbytes(len(key)), pt)
        if (wrong[8] ^ key[0]) >> 4 not in (4, 6):
            break
    return [
        ("empty-datagram", b"", SHORT),
        ("short-4", dg[:4], SHORT),
        ("short-7", dg[:7], SHORT),
        ("bad-magic", b"CRAP" + dg[4:], MAGIC),
        ("bad-magic-1bit", bytes([dg[0] ^ 1]) + dg[1:], MAGIC),
        ("length-too-big", put16(dg, 4, n + 1),
         "length field larger than the ciphertext"),
        ("length-too-small", put16(dg, 4, n - 1),
         "length field smaller than the ciphertext"),
        ("truncated-ciphertext", dg[:-1],
         "ciphertext shorter than the length field"),
        ("trailing-garbage", dg + b"\0",
         "ciphertext longer than the length field"),
        ("header-only-zero-length", b"crap\0\0\0\0",
         "empty inner packet (the reference receiver writes nothing)"),
        ("inner-not-ip", seal(key, bytes(40)), NOT_IP),
        ("inner-wrong-key", wrong,
         "decrypted with the right key this is not an IP packet"),
    ]


def make_11(v10, pkts, keys):
    """The 1.1 vectors: the 1.0 ones for a layer-3 device, each accept
    vector with what crapvpn sends, then the layer-2 ones."""
    out = []

    def add(v, mode, sent=True):
        v = dict(v, mode=mode)
        if v["expect"] == "accept" and sent:
            pt = bytes.fromhex(v["plaintext"])
            v["sent"] = typed(bytes.fromhex(v["datagram"]),
                              ethertype(pt, mode)).hex()
        out.append({k: v[k] for k in ("name", "mode", "key", "plaintext",
                                      "datagram", "sent", "expect", "reason")
                    if k in v})
    drops = [v for v in v10 if v["expect"] == "drop"]
    for v in v10:
        if v["expect"] == "accept":
            # Typed datagrams from others (0xffee, 0x0800) are only opened.
            add(v, "l3", sent=not v["name"].startswith("reserved"))
    key, fr = keys[4], frames(pkts)
    echo = pkts["ipv4-icmp-echo-84"]
    dg4 = seal(key, echo)
    add(vector("ethertype-ipv4-accepted", key, typed(dg4, ETH_IPV4), echo),
        "l3", sent=False)
    for n in (1, 4, 33, 256):
        for name, frame in fr.items():
            add(vector(f"{name}/key{n}", keys[n],
                       seal(keys[n], frame), frame), "l2")
    for v in drops:
        add(v, "l3")
    dg6 = seal(key, pkts["ipv6-icmp6-104"])
    frame = seal(key, fr["l2-ipv4-icmp-98"])
    add(vector("l3-device-gets-ethernet", key, typed(frame, ETH_ETHER),
               reason="bytes 6-7 say Ethernet (0x6558), the device is "
               "layer 3"), "l3")
    add(vector("l2-device-gets-ipv4", key, typed(dg4, ETH_IPV4),
               reason="bytes 6-7 say IPv4, the device is layer 2"), "l2")
    add(vector("l2-device-gets-ipv6", key, typed(dg6, ETH_IPV6),
               reason="bytes 6-7 say IPv6, the device is layer 2"), "l2")
    short = seal(key, fr["l2-ipv4-icmp-98"][:13])
    add(vector("l2-frame-too-short-13", key, typed(short, ETH_ETHER),
               reason="shorter than an Ethernet header (14 bytes)"), "l2")
    return out


def make():
    """The 1.0 and the 1.1 vectors, as {file name: bytes}."""
    rnd = random.Random(SEED)
    pkts = packets(rnd)
    keys = {n: rnd.randbytes(n) for n in KEY_LENGTHS}
    out = []
    for n, key in keys.items():
        for name, pt in pkts.items():
            out.append(vector(f"{name}/key{n}", key, seal(key, pt), pt))
    key, echo = keys[4], pkts["ipv4-icmp-echo-84"]
    dg = seal(key, echo)
    out.append(vector("reserved-bytes-nonzero-accepted", key,
                      typed(dg, 0xFFEE), echo))
    for name, datagram, reason in drops(rnd, key, echo):
        out.append(vector(name, key, datagram, reason=reason))

    def lines(vs):
        return "".join(json.dumps(v) + "\n" for v in vs).encode()
    return {"wire-vectors.jsonl": lines(out),
            "wire-vectors-1.1.jsonl": lines(make_11(out, pkts, keys))}


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    where = args[0] if args else HERE
    bad = 0
    for name, data in make().items():
        path = os.path.join(where, name)
        if not check:
            with open(path, "wb") as f:
                f.write(data)
            print(f"{len(data.splitlines())} vectors in {path}")
            continue
        try:
            with open(path, "rb") as f:
                same = f.read() == data
        except OSError as e:
            print(f"make-vectors.py --check: {e}", file=sys.stderr)
            same = False
        if not same:
            print(f"make-vectors.py --check: {path} is not what this script "
                  "writes; run tests/vectors/make-vectors.py", file=sys.stderr)
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
