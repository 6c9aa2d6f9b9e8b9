#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check tcpdump captures of CrapVPN traffic against the wire format.

An oracle independent of the module for the in-VM tests
(tests/net/20-transfer.sh, tests/net/30-interop.sh): it parses classic pcap
files itself (no tshark, no scapy; tshark takes many seconds to start under
TCG) and seals datagrams with the tests' wire module (tests/lib/cvwire.py)
after shared/wire-format.md:

    datagram = "crap" | be16 len(ciphertext) | be16 type | packet XOR key

where type is the inner packet's EtherType (0x0800, 0x86DD) when crapvpn
sends it and 00 00 when the userspace version does.

Subcommands (each prints a summary and "BAD: ..." lines, and exits 1 when a
check fails):

  wire PCAP... --port P --key HEX --outer A,B --inner ADDRS [--min N]
      An underlay capture (may be truncated with -s): every UDP datagram of
      port P between the outer addresses must start with "crap", carry a
      length field equal to the UDP payload length - 8 (from the UDP header,
      so truncation does not matter) and the inner packet's EtherType (crapvpn
      sends every datagram of such a capture); the captured
      ciphertext prefix, XORed with the key, must begin an IPv4/IPv6 header
      whose length agrees with the length field and whose addresses are inner
      addresses. At least N datagrams from each outer address.

  plain PCAP... --inner ADDRS [--stream SERVER:PORT=FILE:OFFSET ...] [--min N]
      A capture on the tunnel device: every packet is a bare IP packet (link
      type RAW, version 4/6, IP length = packet length, inner addresses, no
      "crap" magic). For each --stream, the TCP payload bytes captured in
      segments sent to SERVER:PORT must equal FILE at OFFSET + (seq - ISN - 1):
      the plaintext really is the transferred data. At least N segments with
      payload matched per stream.

  match INNER_PCAP[,INNER_PCAP...] OUTER_PCAP --key HEX --port P
        --map INNER=OUTER,... [--min-echo SRC=N ...]
      Byte-exact check (captures with full snaplen): for every ICMP/ICMPv6
      packet of the inner captures, sent by inner address INNER, the outer
      capture must hold a UDP datagram from OUTER:P whose payload is exactly
      "crap" + be16(len) + type + (packet XOR key), type the EtherType, or
      00 00 from the --untyped outer addresses (IPv4 fragments of the
      outer datagram are reassembled); and every outer datagram that decrypts
      to an ICMP packet must show up in an inner capture. --min-echo requires
      at least N echo requests from inner source SRC.
"""

import argparse
import ipaddress
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "lib"))
from cvwire import HDR, MAGIC, ethertype, seal, xor  # noqa: E402

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


def read_pcap(path):
    """Yields (linktype, caplen-data, orig_len) for every record."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            raise SystemExit(f"{path}: not a pcap file (too short)")
        magic = hdr[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            end = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            end = ">"
        else:
            raise SystemExit(f"{path}: not a classic pcap file")
        linktype = struct.unpack(end + "I", hdr[20:24])[0] & 0x0FFFFFFF
        rec = struct.Struct(end + "IIII")
        while True:
            r = f.read(16)
            if len(r) < 16:
                return
            _, _, incl, orig = rec.unpack(r)
            data = f.read(incl)
            if len(data) < incl:
                return  # truncated last record (tcpdump killed)
            yield linktype, data, orig


def l3(linktype, data):
    """Strips the link layer: returns the IP packet bytes or None."""
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return data
    if linktype == LINKTYPE_ETHERNET:
        off, etype = 14, data[12:14]
        while etype in (b"\x81\x00", b"\x88\xa8"):
            etype, off = data[off + 2:off + 4], off + 4
        return data[off:] if etype in (b"\x08\x00", b"\x86\xdd") else None
    if linktype == LINKTYPE_LINUX_SLL:
        return data[16:] if data[14:16] in (b"\x08\x00", b"\x86\xdd") else None
    if linktype == LINKTYPE_LINUX_SLL2:
        return data[20:] if data[0:2] in (b"\x08\x00", b"\x86\xdd") else None
    raise SystemExit(f"unsupported link type {linktype}")


class IP:
    """The fields we need of an IPv4/IPv6 header (no IPv6 extension
    headers except a fragment header)."""

    def __init__(self, p):
        self.raw = p
        self.version = p[0] >> 4
        self.ok = False
        if self.version == 4 and len(p) >= 20:
            ihl = (p[0] & 15) * 4
            self.hlen = ihl
            self.total = struct.unpack(">H", p[2:4])[0]
            self.ident = struct.unpack(">H", p[4:6])[0]
            frag = struct.unpack(">H", p[6:8])[0]
            self.mf = bool(frag & 0x2000)
            self.fragoff = (frag & 0x1FFF) * 8
            self.proto = p[9]
            self.src = ipaddress.ip_address(p[12:16])
            self.dst = ipaddress.ip_address(p[16:20])
            self.ok = ihl >= 20
        elif self.version == 6 and len(p) >= 40:
            self.hlen = 40
            self.total = 40 + struct.unpack(">H", p[4:6])[0]
            self.proto = p[6]
            self.src = ipaddress.ip_address(p[8:24])
            self.dst = ipaddress.ip_address(p[24:40])
            self.mf, self.fragoff, self.ident = False, 0, None
            if self.proto == 44 and len(p) >= 48:  # fragment header
                self.proto = p[40]
                fo = struct.unpack(">H", p[42:44])[0]
                self.fragoff, self.mf = fo & 0xFFF8, bool(fo & 1)
                self.ident = struct.unpack(">I", p[44:48])[0]
                self.hlen = 48
            self.ok = True

    @property
    def fragment(self):
        return self.mf or self.fragoff > 0

    @property
    def l4(self):
        return self.raw[self.hlen:]


def addrs(text):
    return {ipaddress.ip_address(a) for a in text.split(",") if a}


def allowed(addr, inner):
    """An inner address, or what IPv6 sends on its own over any link
    (link-local, multicast, unspecified: MLD, router solicitations)."""
    return (addr in inner or addr.is_link_local or addr.is_multicast or
            addr.is_unspecified)


class Report:
    def __init__(self):
        self.bad = 0

    def fail(self, msg):
        self.bad += 1
        if self.bad <= 20:
            print("BAD: " + msg)

    def done(self):
        if self.bad > 20:
            print(f"BAD: ... {self.bad - 20} more")
        return 1 if self.bad else 0


# ---- wire ----------------------------------------------------------------

def udp_packets(path, whole=False):
    """(record number, IP) of every IPv4/IPv6 packet carrying UDP (or a
    fragment of it) in PATH; WHOLE: the capture must not be truncated."""
    for n, (lt, data, orig) in enumerate(read_pcap(path), 1):
        if whole and len(data) != orig:
            raise SystemExit(f"{path}: truncated capture; use -s 0")
        p = l3(lt, data)
        if p is None:
            continue
        ip = IP(p)
        if ip.ok and ip.proto == 17:
            yield n, ip


def check_inner_prefix(rep, where, plain, length, inner):
    """The decrypted prefix of a datagram: an IP header that agrees with the
    length field and carries inner addresses."""
    v = plain[0] >> 4
    if v == 4 and len(plain) >= 20:
        total = struct.unpack(">H", plain[2:4])[0]
        if total != length:
            rep.fail(f"{where}: inner IPv4 total length {total} != length field {length}")
        for a in (plain[12:16], plain[16:20]):
            if not allowed(ipaddress.ip_address(a), inner):
                rep.fail(f"{where}: inner IPv4 address {ipaddress.ip_address(a)} is not an inner address")
    elif v == 6 and len(plain) >= 8:
        total = 40 + struct.unpack(">H", plain[4:6])[0]
        if total != length:
            rep.fail(f"{where}: inner IPv6 length {total} != length field {length}")
        for lo in (8, 24):
            if len(plain) >= lo + 16 and not allowed(ipaddress.ip_address(plain[lo:lo + 16]), inner):
                rep.fail(f"{where}: inner IPv6 address {ipaddress.ip_address(plain[lo:lo + 16])} is not an inner address")
    elif v not in (4, 6):
        rep.fail(f"{where}: decrypted first byte {plain[0]:#04x} is not IPv4/IPv6")
    return v


def cmd_wire(a):
    rep = Report()
    key = bytes.fromhex(a.key)
    outer, inner = addrs(a.outer), addrs(a.inner)
    per_src = {o: 0 for o in outer}
    versions = {4: 0, 6: 0}
    maxlen = 0
    total = 0
    packets = ((path, n, ip) for path in a.pcap
               for n, ip in udp_packets(path))
    for path, n, ip in packets:
        where = f"{path} packet {n}"
        if ip.fragoff:
            continue  # a later fragment: the header is in the first one
        u = ip.l4
        if len(u) < 8:
            rep.fail(f"{where}: UDP header truncated")
            continue
        sport, dport, ulen = struct.unpack(">HHH", u[:6])
        if a.port not in (sport, dport):
            continue
        total += 1
        if sport != a.port or dport != a.port:
            rep.fail(f"{where}: ports {sport}->{dport}, want {a.port}->{a.port}")
        if ip.src not in outer or ip.dst not in outer or ip.src == ip.dst:
            rep.fail(f"{where}: outer {ip.src} -> {ip.dst} not between {a.outer}")
            continue
        if not ip.fragment and ulen != ip.total - ip.hlen:
            rep.fail(f"{where}: UDP length {ulen} != IP payload {ip.total - ip.hlen}")
        per_src[ip.src] += 1
        payload = u[8:]
        plen = ulen - 8
        if len(payload) < HDR:
            rep.fail(f"{where}: only {len(payload)} payload bytes captured")
            continue
        if payload[:4] != MAGIC:
            rep.fail(f"{where}: magic {payload[:4]!r}, want b'crap'")
            continue
        length = struct.unpack(">H", payload[4:6])[0]
        if length != plen - HDR:
            rep.fail(f"{where}: length field {length} != UDP payload {plen} - 8")
        if length == 0:
            rep.fail(f"{where}: empty datagram")
            continue
        maxlen = max(maxlen, length)
        plain = xor(key, payload[HDR:HDR + length])
        v = check_inner_prefix(rep, where, plain, length, inner)
        typ = ethertype(plain)
        if typ and payload[6:8] != typ.to_bytes(2, "big"):
            rep.fail(f"{where}: bytes 6-7 {payload[6:8].hex()} before an "
                     f"IPv{v} packet, want {typ:04x}")
        if v in versions:
            versions[v] += 1
    print(f"wire {' '.join(a.pcap)}: {total} datagrams on port {a.port}; from " +
          ", ".join(f"{s}: {c}" for s, c in sorted(per_src.items(), key=str)) +
          f"; inner IPv4 {versions[4]}, IPv6 {versions[6]}; largest inner {maxlen}")
    for s, c in per_src.items():
        if c < a.min:
            rep.fail(f"only {c} datagrams from {s}, want >= {a.min}")
    if a.min_len and maxlen < a.min_len:
        rep.fail(f"largest inner packet {maxlen} < {a.min_len}")
    return rep.done()


# ---- plain ---------------------------------------------------------------

def cmd_plain(a):
    rep = Report()
    inner = addrs(a.inner)
    streams = []
    for s in a.stream or []:
        srv, src = s.split("=", 1)
        host, port = srv.rsplit(":", 1)
        path, off = src.rsplit(":", 1)
        streams.append({"server": ipaddress.ip_address(host.strip("[]")),
                        "port": int(port), "file": open(path, "rb"),
                        "base": int(off), "isn": {}, "ok": 0, "bytes": 0,
                        "name": srv})
    total = 0
    ver = {4: 0, 6: 0}
    packets = ((path, n, pkt) for path in a.pcap
               for n, pkt in enumerate(read_pcap(path), 1))
    for path, n, (lt, data, orig) in packets:
        where = f"{path} packet {n}"
        total += 1
        if lt not in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
            rep.fail(f"{where}: link type {lt}, want RAW (bare IP)")
            continue
        if data[:4] == MAGIC:
            rep.fail(f"{where}: starts with the 'crap' magic: not plain")
            continue
        ip = IP(data)
        if not ip.ok:
            rep.fail(f"{where}: not an IPv4/IPv6 packet (first byte {data[:1].hex()})")
            continue
        ver[ip.version] += 1
        if ip.total != orig:
            rep.fail(f"{where}: IP length {ip.total} != packet length {orig}")
        for x in (ip.src, ip.dst):
            if not allowed(x, inner):
                rep.fail(f"{where}: address {x} is not an inner address")
        if ip.proto != 6 or ip.fragment:
            continue
        t = ip.l4
        if len(t) < 20:
            continue
        sport, dport, seq = struct.unpack(">HHI", t[:8])
        flags = t[13]
        doff = (t[12] >> 4) * 4
        for st in streams:
            if ip.dst != st["server"] or dport != st["port"]:
                continue
            conn = (ip.src, sport)
            if flags & 0x02:  # SYN
                st["isn"][conn] = seq
                continue
            paylen = ip.total - ip.hlen - doff
            got = t[doff:]
            if paylen <= 0 or not got:
                continue
            if conn not in st["isn"]:
                continue  # connection began before the capture
            off = (seq - st["isn"][conn] - 1) & 0xFFFFFFFF
            st["file"].seek(st["base"] + off)
            want = st["file"].read(len(got))
            if got != want:
                rep.fail(f"{where}: payload at stream offset {off} to {st['name']} "
                         f"differs from the file: {got[:16].hex()} != {want[:16].hex()}")
            else:
                st["ok"] += 1
                st["bytes"] += len(got)
    print(f"plain {' '.join(a.pcap)}: {total} packets (IPv4 {ver[4]}, IPv6 {ver[6]})" +
          "".join(f"; {st['name']}: {st['ok']} segments match the file "
                  f"({st['bytes']} captured payload bytes)" for st in streams))
    if total < a.min:
        rep.fail(f"only {total} packets, want >= {a.min}")
    for st in streams:
        if not st["isn"]:
            rep.fail(f"no SYN to {st['name']} captured")
        if st["ok"] < a.min_segments:
            rep.fail(f"only {st['ok']} matching segments to {st['name']}, want >= {a.min_segments}")
    return rep.done()


# ---- match ---------------------------------------------------------------

def is_icmp(ip):
    return ip.proto in (1, 58)


def echo_type(ip):
    """'request', 'reply' or None for the first fragment of an echo."""
    if ip.fragoff or len(ip.l4) < 1:
        return None
    t = ip.l4[0]
    if (ip.proto, t) in ((1, 8), (58, 128)):
        return "request"
    if (ip.proto, t) in ((1, 0), (58, 129)):
        return "reply"
    return None


def outer_datagrams(path, port):
    """Full UDP payloads (IPv4 fragments reassembled) of port @port, as
    (outer src, outer dst, payload)."""
    out = []
    frags = {}
    for _, ip in udp_packets(path, whole=True):
        body = ip.raw[ip.hlen:ip.total]
        if ip.fragment:
            k = (ip.src, ip.dst, ip.ident)
            fr = frags.setdefault(k, {"parts": {}, "end": None})
            fr["parts"][ip.fragoff] = body
            if not ip.mf:
                fr["end"] = ip.fragoff + len(body)
            if fr["end"] is None:
                continue
            buf, pos = b"", 0
            while pos in fr["parts"] and pos < fr["end"]:
                buf += fr["parts"][pos]
                pos += len(fr["parts"][pos])
            if pos != fr["end"]:
                continue
            del frags[k]
            body = buf
            frag = True
        else:
            frag = False
        sport, dport, ulen = struct.unpack(">HHH", body[:6])
        if port not in (sport, dport):
            continue
        out.append((ip.src, ip.dst, body[8:ulen], frag))
    return out


def cmd_match(a):
    rep = Report()
    key = bytes.fromhex(a.key)
    cmap = {}
    for m in a.map.split(","):
        i, o = m.split("=")
        cmap[ipaddress.ip_address(i)] = ipaddress.ip_address(o)
    untyped = addrs(a.untyped or "")
    outs = outer_datagrams(a.outer, a.port)
    index = {}
    for src, dst, payload, frag in outs:
        index.setdefault((src, payload), []).append(frag)
    seen_plain = set()
    counts = {}
    example = {}
    for path in a.inner.split(","):
        for n, (lt, data, orig) in enumerate(read_pcap(path), 1):
            if len(data) != orig:
                raise SystemExit(f"{path}: truncated capture; use -s 0")
            ip = IP(data)
            if not ip.ok or not is_icmp(ip) or ip.src not in cmap:
                continue
            seen_plain.add(data)
            osrc = cmap[ip.src]
            want = seal(key, data,
                        ethertype(data) if osrc not in untyped else 0)
            kind = echo_type(ip) or "other"
            c = counts.setdefault(str(ip.src), {})
            if (osrc, want) in index:
                c[kind] = c.get(kind, 0) + 1
                if any(index[(osrc, want)]):
                    c["fragmented"] = c.get("fragmented", 0) + 1
                if kind == "request" and str(ip.src) not in example:
                    example[str(ip.src)] = (data, want)
            else:
                c["missing"] = c.get("missing", 0) + 1
                near = [p for s, d, p, f in outs if s == osrc and len(p) == len(want)]
                rep.fail(f"{path} packet {n} ({ip.src} -> {ip.dst}, {kind}, {len(data)} bytes): "
                         f"no datagram from {osrc} equals 'crap'+len+0000+XOR "
                         f"({len(near)} of that size; want {want[:24].hex()}...)")
    # The other way round: every ICMP datagram is a packet seen inside.
    extra = 0
    for src, dst, payload, frag in outs:
        if len(payload) <= HDR or payload[:4] != MAGIC:
            rep.fail(f"datagram {src} -> {dst} without a valid header: {payload[:16].hex()}")
            continue
        plain = xor(key, payload[HDR:])
        ip = IP(plain)
        if ip.ok and is_icmp(ip) and ip.src in cmap and plain not in seen_plain:
            extra += 1
            rep.fail(f"datagram {src} -> {dst} decrypts to an ICMP packet "
                     f"{ip.src} -> {ip.dst} seen in no inner capture")
    for src, c in sorted(counts.items()):
        print(f"match: inner {src} (outer {cmap[ipaddress.ip_address(src)]}): " +
              ", ".join(f"{k} {v}" for k, v in sorted(c.items())) +
              " byte-exact datagrams")
    for src, (data, want) in sorted(example.items()):
        print(f"match: e.g. echo request from {src}: packet {data[:20].hex()}...")
        print(f"match:   datagram {want[:28].hex()}...")
    print(f"match: {len(outs)} datagrams in {a.outer}, {extra} unexplained ICMP ones")
    for m in a.min_echo or []:
        src, need = m.split("=")
        got = counts.get(src, {}).get("request", 0)
        if got < int(need):
            rep.fail(f"only {got} byte-exact echo requests from {src}, want >= {need}")
    if a.min_frag:
        src, need = a.min_frag.split("=")
        got = counts.get(src, {}).get("fragmented", 0)
        if got < int(need):
            rep.fail(f"only {got} fragmented datagrams carrying ICMP from {src}, want >= {need}")
    return rep.done()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wire")
    w.add_argument("pcap", nargs="+")
    w.add_argument("--port", type=int, default=1337)
    w.add_argument("--key", required=True)
    w.add_argument("--outer", required=True)
    w.add_argument("--inner", required=True)
    w.add_argument("--min", type=int, default=1)
    w.add_argument("--min-len", type=int, default=0,
                   help="the largest inner packet must be at least this long")
    p = sub.add_parser("plain")
    p.add_argument("pcap", nargs="+")
    p.add_argument("--inner", required=True)
    p.add_argument("--stream", action="append")
    p.add_argument("--min", type=int, default=1)
    p.add_argument("--min-segments", type=int, default=1)
    m = sub.add_parser("match")
    m.add_argument("inner")
    m.add_argument("outer")
    m.add_argument("--key", required=True)
    m.add_argument("--port", type=int, default=1337)
    m.add_argument("--map", required=True)
    m.add_argument("--untyped", help="OUTER,...: senders that write zeros in "
                   "bytes 6-7 (the userspace version); others write the "
                   "inner packet's EtherType")
    m.add_argument("--min-echo", action="append")
    m.add_argument("--min-frag", help="SRC=N: datagrams from inner SRC that "
                   "travelled as IP fragments")
    a = ap.parse_args(argv)
    return {"wire": cmd_wire, "plain": cmd_plain, "match": cmd_match}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
