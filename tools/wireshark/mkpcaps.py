#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the dissector tests' captures and what tshark must print for them.

    mkpcaps.py OUTDIR [VECTORS]

VECTORS: the wire vectors to wrap (default: tests/vectors/wire-vectors-1.1.jsonl
if the repository has it, else ../shared/vectors/wire-vectors-1.1.jsonl beside
the repository, else the repository's 1.0 file tests/vectors/wire-vectors.jsonl,
from which the typed and layer-2 datagrams are made here). The datagrams go
into classic pcap files, Ethernet / IPv4 or IPv6 / UDP, IP-fragmented where a
1500-byte path would fragment them.

OUTDIR/cases: one case a line, "NAME|PCAP|OPTIONS|EXPECT": tshark is run on
PCAP with the -o OPTIONS (separated by ";") and `-Y crapvpn -T fields
-E occurrence=l` with the fields of FIELDS below, one line a frame, and must
print EXPECT's lines exactly.
"""
import json
import os
import struct
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from cvwire import ipv4, ipv6, l4_checksum, put16, seal, xor  # noqa: E402

FIELDS = ["frame.number", "crapvpn.type", "crapvpn.length", "ip.src",
          "ipv6.src", "eth.src", "icmp.type", "icmpv6.type",
          "crapvpn.decrypted"]
EXPERTS = ["no_key", "bad_key", "short", "bad_magic", "bad_length", "empty",
           "type_mismatch", "unknown_type", "not_ip", "inner_error"]
PORT = 1337
OTHER_PORT = 47011      # nothing else claims it: the heuristic must
BAD_PORT = 47020

U4 = ("198.51.100.1", "198.51.100.2")
U6 = ("2001:db8::1", "2001:db8::2")
UMAC = (bytes.fromhex("020000aa0001"), bytes.fromhex("020000aa0002"))


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def ip6_str(b):
    import ipaddress
    return str(ipaddress.IPv6Address(b))


def ip4_str(b):
    return ".".join(str(x) for x in b)


class Pcap:
    def __init__(self):
        self.frames = []
        self.ipid = 0x100

    def eth(self, etype, payload):
        self.frames.append(UMAC[1] + UMAC[0] + struct.pack("!H", etype) +
                           payload)

    def udp(self, v6, sport, dport, payload, mtu=1500):
        """Adds one UDP datagram; returns the number of its last frame."""
        src, dst = U6 if v6 else U4
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        seg = put16(udp, 6, l4_checksum(src, dst, 17, udp))
        self.ipid += 1
        if v6:
            if 40 + len(seg) <= mtu:
                self.eth(0x86dd, ipv6(src, dst, 17, seg))
            else:
                step = (mtu - 48) // 8 * 8
                for off in range(0, len(seg), step):
                    part = seg[off:off + step]
                    more = off + step < len(seg)
                    fh = struct.pack("!BBHI", 17, 0, off | more, self.ipid)
                    self.eth(0x86dd, ipv6(src, dst, 44, fh + part))
        else:
            step = len(seg) if 20 + len(seg) <= mtu else (mtu - 20) // 8 * 8
            for off in range(0, len(seg), step):
                part = seg[off:off + step]
                more = off + step < len(seg)
                self.eth(0x0800, ipv4(src, dst, 17, part, ident=self.ipid,
                                      flags=(more << 13) | (off // 8)))
        return len(self.frames)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
            for i, fr in enumerate(self.frames):
                f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr),
                                    len(fr)))
                f.write(fr)


def inner_fields(kind, plain):
    """What the inner packet puts in ip.src, ipv6.src, eth.src, icmp.type,
    icmpv6.type (None: nothing), for the dissector that gets it."""
    out = dict.fromkeys(["ip.src", "ipv6.src", "eth.src", "icmp.type",
                         "icmpv6.type"])
    if kind == "eth" and len(plain) < 14:
        return out
    if kind == "eth":
        out["eth.src"] = mac_str(plain[6:12])
        et, off = struct.unpack("!H", plain[12:14])[0], 14
        while et == 0x8100 and len(plain) >= off + 4:
            et, off = struct.unpack("!H", plain[off + 2:off + 4])[0], off + 4
        kind = {0x0800: "ip", 0x86dd: "ipv6"}.get(et)
        plain = plain[off:]
    if kind == "ip" and len(plain) >= 20 and plain[0] >> 4 == 4:
        out["ip.src"] = ip4_str(plain[12:16])
        ihl = (plain[0] & 15) * 4
        if plain[9] == 1 and len(plain) > ihl:
            out["icmp.type"] = str(plain[ihl])
    elif kind == "ipv6" and len(plain) >= 40 and plain[0] >> 4 == 6:
        out["ipv6.src"] = ip6_str(plain[8:24])
        if plain[6] == 58 and len(plain) > 40:
            out["icmpv6.type"] = str(plain[40])
    return out


def decode_kind(typ, plain, zero_is_eth=False):
    """The dissector the plugin hands the payload to, and its expert infos."""
    nib = plain[0] >> 4 if plain else None
    if typ in (0x0800, 0x86dd):
        want = 4 if typ == 0x0800 else 6
        k = {4: "ip", 6: "ipv6"}.get(nib, "ip" if want == 4 else "ipv6")
        return k, [] if nib == want else ["type_mismatch"]
    if typ == 0x6558:
        return ("eth", []) if len(plain) >= 14 else (None, ["type_mismatch"])
    if typ == 0 and zero_is_eth and len(plain) >= 14:
        return "eth", []
    ex = [] if typ == 0 else ["unknown_type"]
    k = {4: "ip", 6: "ipv6"}.get(nib)
    return (k, ex) if k else (None, ex + ["not_ip"])


class Case:
    def __init__(self, name, key, opts=""):
        self.name, self.key, self.opts = name, key, opts
        self.pcap = Pcap()
        self.lines = []

    def add(self, payload, v6, port, key=None, zero_is_eth=False,
            dissected=True, experts=None, mtu=1500):
        """Adds a datagram and the line tshark must print for it."""
        key = self.key if key is None else key
        last = self.pcap.udp(v6, port, port, payload, mtu)
        if not dissected:
            return
        f = dict.fromkeys(FIELDS, None)
        f.update({"frame.number": str(last)})
        f["ip.src"] = None if v6 else U4[0]
        f["ipv6.src"] = U6[0] if v6 else None
        f["eth.src"] = mac_str(UMAC[0])
        ex = []
        if len(payload) < 8:
            ex = ["short"]
        else:
            n, typ = struct.unpack("!HH", payload[4:8])
            f["crapvpn.type"] = "0x%04x" % typ
            f["crapvpn.length"] = str(n)
            ct = payload[8:]
            if payload[:4] != b"crap":
                ex.append("bad_magic")
            if n != len(ct):
                ex.append("bad_length")
            elif n == 0:
                ex.append("empty")
            if ct and payload[:4] == b"crap":
                if not key:
                    ex.append("no_key")
                elif key == "bad":
                    ex.append("bad_key")
                else:
                    plain = xor(key, ct)
                    f["crapvpn.decrypted"] = plain.hex()
                    kind, kex = decode_kind(typ, plain, zero_is_eth)
                    ex += kex
                    for k, v in inner_fields(kind, plain).items():
                        if v is not None:
                            f[k] = v
        if experts is not None:
            assert sorted(experts) == sorted(ex), (experts, ex)
        line = [f[k] or "" for k in FIELDS]
        line += ["1" if e in ex else "" for e in EXPERTS]
        self.lines.append("\t".join(line))

    def write(self, outdir, cases):
        pcap = os.path.join(outdir, self.name + ".pcap")
        exp = os.path.join(outdir, self.name + ".expect")
        self.pcap.write(pcap)
        with open(exp, "w") as f:
            f.write("".join(line + "\n" for line in self.lines))
        cases.write("%s|%s|%s|%s\n" % (self.name, pcap, self.opts, exp))


def key_opt(key, style):
    h = key.hex()
    if style == 1:
        h = ":".join(h[i:i + 2] for i in range(0, len(h), 2)).upper()
    elif style == 2:
        h = " ".join(h[i:i + 4] for i in range(0, len(h), 4))
    return "crapvpn.key:" + h


def load_vectors(path):
    vs = [json.loads(line) for line in open(path) if line.strip()]
    out = []
    for v in vs:
        v = dict(v)
        v.setdefault("mode", "l3")
        for k in ("key", "plaintext", "datagram", "sent"):
            if v.get(k) is not None:
                v[k] = bytes.fromhex(v[k])
        out.append(v)
    if any("sent" in v for v in vs):
        return out
    # 1.0 vectors: make the typed datagrams and layer-2 frames here.
    l2 = []
    for v in out:
        p = v.get("plaintext")
        if v["expect"] != "accept" or p is None:
            continue
        typ = {4: 0x0800, 6: 0x86dd}.get(p[0] >> 4)
        if v["datagram"][6:8] == b"\0\0" and typ:
            v["sent"] = seal(v["key"], p, typ)
        if len(p) <= 1500 and typ and len(l2) < 12:
            frame = (bytes.fromhex("020000000002020000000001") +
                     struct.pack("!H", typ) + p)
            l2.append({"name": "l2-" + v["name"], "mode": "l2",
                       "key": v["key"], "plaintext": frame,
                       "datagram": seal(v["key"], frame, 0),
                       "sent": seal(v["key"], frame, 0x6558),
                       "expect": "accept"})
    return out + l2


def main():
    outdir = sys.argv[1]
    if len(sys.argv) > 2:
        vpath = sys.argv[2]
    else:
        for vpath in (os.path.join(ROOT, "tests/vectors/wire-vectors-1.1.jsonl"),
                      os.path.join(ROOT, "../shared/vectors/wire-vectors-1.1.jsonl"),
                      os.path.join(ROOT, "tests/vectors/wire-vectors.jsonl")):
            if os.path.exists(vpath):
                break
    print("# vectors: %s" % os.path.normpath(vpath))
    vs = load_vectors(vpath)
    os.makedirs(outdir, exist_ok=True)
    cases = open(os.path.join(outdir, "cases"), "w")

    # Every accept vector, as received (datagram: type 0 from the userspace
    # version) and as the module sends it (sent: typed), over IPv4 and IPv6,
    # on port 1337 and on another port (the heuristic), one pcap per key.
    acc = [v for v in vs if v["expect"] == "accept" and v.get("plaintext")]
    keys = []
    for v in acc:
        if v["key"] not in keys:
            keys.append(v["key"])
    for i, key in enumerate(keys):
        c = Case("vectors-key%d-%dB" % (i, len(key)), key, key_opt(key, i % 3))
        for v in acc:
            if v["key"] != key:
                continue
            c.add(v["datagram"], False, PORT)
            c.add(v["datagram"], True, OTHER_PORT)
            if v.get("sent"):
                c.add(v["sent"], False, OTHER_PORT)
                c.add(v["sent"], True, PORT)
        c.write(outdir, cases)

    # Layer-2 datagrams of type 0 (a TAP build of the userspace version),
    # with the preference that decodes them as Ethernet.
    l2 = [v for v in acc if v["mode"] == "l2"]
    key = l2[0]["key"]
    c = Case("l2-type0-as-ethernet", key, key_opt(key, 0) +
             ";crapvpn.zero_is_ethernet:TRUE")
    for v in l2:
        if v["key"] == key:
            c.add(v["datagram"], False, PORT, zero_is_eth=True)
            c.add(v["datagram"], True, OTHER_PORT, zero_is_eth=True)
            c.add(v["sent"], True, PORT, zero_is_eth=True)
    c.write(outdir, cases)

    # Hand-made datagrams, with a key of our own.
    key = bytes.fromhex("c0ffee0123")
    p4 = next(v["plaintext"] for v in acc if v["mode"] == "l3" and
              v["plaintext"][0] >> 4 == 4 and v["plaintext"][9] == 1)
    p6 = next(v["plaintext"] for v in acc if v["mode"] == "l3" and
              v["plaintext"][0] >> 4 == 6 and len(v["plaintext"]) < 200)
    fr = next(v["plaintext"] for v in acc if v["mode"] == "l2" and
              v["plaintext"][12:14] == b"\x08\x00")
    good4 = seal(key, p4, 0x0800)
    bad = [  # payload, port, dissected, expert infos
        (b"crap\0", PORT, True, ["short"]),
        (b"crab" + good4[4:], PORT, True, ["bad_magic"]),
        (b"crab" + good4[4:], BAD_PORT, False, None),
        (seal(key, p4, 0x0800, len(p4) + 1), PORT, True, ["bad_length"]),
        (seal(key, p4, 0x0800, len(p4) - 1), PORT, True, ["bad_length"]),
        (seal(key, p4, 0x0800, len(p4) - 1), BAD_PORT, False, None),
        (seal(key, b"", 0), PORT, True, ["empty"]),
        (seal(key, p6, 0x0800), PORT, True, ["type_mismatch"]),
        (seal(key, p4, 0x86dd), OTHER_PORT, True, ["type_mismatch"]),
        (seal(key, p4, 0xffee), PORT, True, ["unknown_type"]),
        (seal(key, b"\x55" + p4[1:], 0), PORT, True, ["not_ip"]),
        (seal(key, fr[:10], 0x6558), PORT, True, ["type_mismatch"]),
        (seal(key, fr, 0x6558), OTHER_PORT, True, []),
        (seal(key, fr, 0x0800), PORT, True, ["type_mismatch"]),
        (seal(key, p6, 0), OTHER_PORT, True, []),
    ]

    def handmade(name, opts, k, port_for=None, v6=False):
        c = Case(name, k, opts)
        for payload, port, dissected, ex in bad:
            if k != key:
                ex = None   # no key: no_key comes on top
            if port_for is not None:
                dissected = port_for(port, payload)
                ex = None
            c.add(payload, v6, port, dissected=dissected, experts=ex)
        c.write(outdir, cases)

    handmade("handmade-v4", "crapvpn.key:c0:ff:ee:01:23", key)
    handmade("handmade-v6", "crapvpn.key:C0FFEE0123", key, v6=True)
    handmade("handmade-nokey", "", None)
    handmade("handmade-badkey", "crapvpn.key:c0ffee012", "bad")
    # Port preference changed: 1337 is released, BAD_PORT decodes anything.

    def heur(payload):
        return (len(payload) >= 8 and payload[:4] == b"crap" and
                struct.unpack("!H", payload[4:6])[0] == len(payload) - 8)
    handmade("handmade-port%d" % BAD_PORT, "crapvpn.key:c0ffee0123;"
             "crapvpn.port:%d" % BAD_PORT, key,
             port_for=lambda port, p: port == BAD_PORT or heur(p))

    # IP fragments: datagrams larger than the path, both underlays, MTU 576.
    c = Case("fragments", key, "crapvpn.key:c0ffee0123")
    big = next(v["plaintext"] for v in acc if v["mode"] == "l3" and
               len(v["plaintext"]) > 3000)
    for v6 in (False, True):
        c.add(seal(key, p4, 0), v6, PORT, mtu=576)
        c.add(seal(key, big, 0x0800), v6, PORT, mtu=576)
        c.add(seal(key, big, 0), v6, OTHER_PORT, mtu=1280)
        c.add(seal(key, fr, 0x6558), v6, OTHER_PORT, mtu=576)
    c.write(outdir, cases)
    cases.close()


if __name__ == "__main__":
    main()
