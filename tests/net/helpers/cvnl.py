#!/usr/bin/python3
"""cvnl.py: a small raw rtnetlink client for crapvpn tests.

It builds RTM_NEWLINK requests byte by byte, so that it can send what ip(8)
and crapvpn(8) refuse to send (empty or oversized keys, attributes of the
wrong size, KEY_LEN, port 0), and prints the kernel's extended ACK message.
Runs in the current network namespace (use ip netns exec).

  cvnl.py add IFNAME ATTR...    RTM_NEWLINK create|excl, kind crapvpn
  cvnl.py set IFNAME ATTR...    RTM_NEWLINK on an existing device
  cvnl.py info IFNAME           IFLA_INFO_DATA of IFNAME as JSON
  cvnl.py keyleak KEYHEX        dump all links (raw socket and pyroute2);
                                fail if any 8 consecutive key bytes appear
  cvnl.py textleak KEYHEX FILE...  fail if any 8 consecutive key bytes
                                appear in FILE, raw or as hex (any case)

ATTR is NAME=VALUE with NAME one of key, peer, peer6, peer_port, port,
local, local6, key_len, mode, port_devs and VALUE:
  hex:HEX      raw bytes (hex:  is an empty attribute)
  zeros:N      N zero bytes
  rand:N:SEED  N pseudo-random bytes from SEED
  an IPv4/IPv6 address (peer, peer6, local, local6), a number (ports: u16,
  key_len and port_devs: u32, host byte order), l3 or l2 or a number (mode: u8), or hex
  digits (key).

Exit status 0 on success; on a kernel error it prints
  error: ERRNO_NAME: EXTACK_MESSAGE
on stderr and exits 1; 2 on usage errors.
"""
import errno
import json
import os
import random
import socket
import struct
import sys

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 1, 2, 4
NLM_F_ROOT, NLM_F_MATCH = 0x100, 0x200
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG = 1

IFLA_IFNAME, IFLA_LINKINFO, IFLA_EXT_MASK = 3, 18, 29
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3fff

ATTRS = {"key": 1, "peer": 2, "peer6": 3, "peer_port": 4, "port": 5,
         "local": 6, "local6": 7, "key_len": 8, "mode": 9, "port_devs": 10}
MODES = ["l3", "l2"]
NAMES = {v: k for k, v in ATTRS.items()}


def nla(atype, payload):
    hdr = struct.pack("=HH", 4 + len(payload), atype)
    pad = (-len(payload)) % 4
    return hdr + payload + b"\0" * pad


def parse_attrs(buf):
    """(type, payload) pairs of a run of attributes."""
    out = []
    off = 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4 or off + alen > len(buf):
            break
        out.append((atype & NLA_TYPE_MASK, buf[off + 4:off + alen]))
        off += (alen + 3) & ~3
    return out


def value(name, text):
    if text.startswith("hex:"):
        return bytes.fromhex(text[4:])
    if text.startswith("zeros:"):
        return b"\0" * int(text[6:])
    if text.startswith("rand:"):
        _, n, seed = text.split(":")
        return random.Random(seed).randbytes(int(n))
    if name in ("peer", "local"):
        return socket.inet_pton(socket.AF_INET, text)
    if name in ("peer6", "local6"):
        return socket.inet_pton(socket.AF_INET6, text)
    if name in ("peer_port", "port"):
        return struct.pack("=H", int(text))
    if name in ("key_len", "port_devs"):
        return struct.pack("=I", int(text))
    if name == "mode":
        return bytes([MODES.index(text) if text in MODES else int(text)])
    return bytes.fromhex(text)


class Netlink:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                  NETLINK_ROUTE)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.sock.bind((0, 0))
        self.seq = 1

    def send(self, mtype, flags, body):
        self.seq += 1
        msg = struct.pack("=IHHII", 16 + len(body), mtype, flags, self.seq,
                          0) + body
        self.sock.send(msg)
        return self.seq

    def messages(self):
        """Yields (type, flags, payload) until an error or DONE."""
        while True:
            data = self.sock.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                mlen, mtype, mflags, seq, _ = struct.unpack_from(
                    "=IHHII", data, off)
                yield mtype, mflags, data[off + 16:off + mlen], data[off:off + mlen]
                off += (mlen + 3) & ~3

    def request(self, mtype, flags, body):
        """Sends a request with ACK; returns (errno, extack message)."""
        self.send(mtype, flags | NLM_F_REQUEST | NLM_F_ACK, body)
        for t, f, payload, _ in self.messages():
            if t != NLMSG_ERROR:
                continue
            err, = struct.unpack_from("=i", payload)
            msg = ""
            if f & NLM_F_ACK_TLVS:
                olen, = struct.unpack_from("=I", payload, 4)
                # NETLINK_CAP_ACK: only the header of the request is echoed
                # on errors; on success (err 0) likewise.
                tlv = payload[4 + 16:]
                for at, ap in parse_attrs(tlv):
                    if at == NLMSGERR_ATTR_MSG:
                        msg = ap.rstrip(b"\0").decode(errors="replace")
            return -err, msg

    def dump_links(self):
        """All RTM_NEWLINK messages of a dump, raw."""
        body = struct.pack("=BxHiII", 0, 0, 0, 0, 0)
        self.send(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ROOT | NLM_F_MATCH, body)
        out = []
        for t, f, payload, raw in self.messages():
            if t == NLMSG_DONE:
                return out
            if t == NLMSG_ERROR:
                err, = struct.unpack_from("=i", payload)
                raise OSError(-err, "link dump failed")
            out.append((payload, raw))


def ifinfo(index=0):
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, 0, 0)


def newlink(cmd, ifname, specs):
    data = b""
    for spec in specs:
        if "=" not in spec:
            usage("bad attribute %r" % spec)
        name, text = spec.split("=", 1)
        if name not in ATTRS:
            usage("unknown attribute %r" % name)
        data += nla(ATTRS[name], value(name, text))
    linkinfo = nla(IFLA_INFO_KIND, b"crapvpn\0") + \
        nla(IFLA_INFO_DATA | NLA_F_NESTED, data)
    nl = Netlink()
    if cmd == "add":
        body = ifinfo() + nla(IFLA_IFNAME, ifname.encode() + b"\0")
        flags = NLM_F_CREATE | NLM_F_EXCL
    else:
        try:
            body = ifinfo(socket.if_nametoindex(ifname))
        except OSError:
            print("error: ENODEV: no device %s" % ifname, file=sys.stderr)
            return 1
        flags = 0
    body += nla(IFLA_LINKINFO | NLA_F_NESTED, linkinfo)
    err, msg = nl.request(RTM_NEWLINK, flags, body)
    if err:
        print("error: %s: %s" % (errno.errorcode.get(err, str(err)), msg),
              file=sys.stderr)
        return 1
    if msg:
        print("warning: %s" % msg, file=sys.stderr)
    return 0


def link_info_data(payload):
    """(ifname, kind, {attr name: payload}) of one RTM_NEWLINK payload."""
    name = kind = None
    data = None
    for t, p in parse_attrs(payload[16:]):
        if t == IFLA_IFNAME:
            name = p.rstrip(b"\0").decode()
        elif t == IFLA_LINKINFO:
            for t2, p2 in parse_attrs(p):
                if t2 == IFLA_INFO_KIND:
                    kind = p2.rstrip(b"\0").decode()
                elif t2 == IFLA_INFO_DATA:
                    data = {}
                    for t3, p3 in parse_attrs(p2):
                        data[NAMES.get(t3, str(t3))] = p3
    return name, kind, data


def decode(name, p):
    if name in ("peer", "local") and len(p) == 4:
        return socket.inet_ntop(socket.AF_INET, p)
    if name in ("peer6", "local6") and len(p) == 16:
        return socket.inet_ntop(socket.AF_INET6, p)
    if name in ("peer_port", "port") and len(p) == 2:
        return struct.unpack("=H", p)[0]
    if name in ("key_len", "port_devs") and len(p) == 4:
        return struct.unpack("=I", p)[0]
    if name == "mode" and len(p) == 1 and p[0] < len(MODES):
        return MODES[p[0]]
    return "hex:" + p.hex()


def info(ifname):
    for payload, _ in Netlink().dump_links():
        name, kind, data = link_info_data(payload)
        if name == ifname:
            out = {"kind": kind}
            for k, v in (data or {}).items():
                out[k] = decode(k, v)
            print(json.dumps(out, sort_keys=True))
            return 0
    print("error: no device %s" % ifname, file=sys.stderr)
    return 1


def keyleak(keyhex):
    key = bytes.fromhex(keyhex)
    win = min(8, len(key))
    chunks = {key[i:i + win] for i in range(len(key) - win + 1)}
    bufs = []
    ndev = 0
    for payload, raw in Netlink().dump_links():
        bufs.append(("raw socket", raw))
        _, kind, data = link_info_data(payload)
        if kind == "crapvpn":
            ndev += 1
            if data is not None and "key" in data:
                print("LEAK: IFLA_CRAPVPN_KEY in a dump", file=sys.stderr)
                return 1
    try:
        from pyroute2 import IPRoute
        with IPRoute() as ipr:
            for m in ipr.get_links():
                bufs.append(("pyroute2", m.data[m.offset:m.offset + m.length]))
    except ImportError:
        print("warning: no pyroute2", file=sys.stderr)
    total = 0
    for src, buf in bufs:
        total += len(buf)
        for i in range(len(buf) - win + 1):
            if buf[i:i + win] in chunks:
                print("LEAK: %d key bytes found at offset %d of a %s dump "
                      "message" % (win, i, src), file=sys.stderr)
                return 1
    print("checked %d bytes of %d link messages (%d crapvpn) for %d-byte "
          "windows of a %d-byte key: none found" %
          (total, len(bufs), ndev, win, len(key)))
    return 0 if ndev else 1


def textleak(keyhex, files):
    key = bytes.fromhex(keyhex)
    win = min(8, len(key))
    raw = {key[i:i + win] for i in range(len(key) - win + 1)}
    hexed = {c.hex() for c in raw}
    for name in files:
        data = open(name, "rb").read()
        low = data.lower()
        for i in range(len(data) - win + 1):
            if data[i:i + win] in raw:
                print("LEAK: %d raw key bytes at offset %d of %s" %
                      (win, i, name), file=sys.stderr)
                return 1
        for i in range(len(low) - 2 * win + 1):
            if low[i:i + 2 * win].decode("latin-1") in hexed:
                print("LEAK: %d key bytes in hex at offset %d of %s" %
                      (win, i, name), file=sys.stderr)
                return 1
        print("%s: %d bytes, no %d-byte window of the %d-byte key" %
              (name, len(data), win, len(key)))
    return 0


def usage(msg=None):
    if msg:
        print("cvnl.py: " + msg, file=sys.stderr)
    print(__doc__, file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) < 2:
        usage()
    cmd = argv[0]
    if cmd in ("add", "set"):
        return newlink(cmd, argv[1], argv[2:])
    if cmd == "info":
        return info(argv[1])
    if cmd == "keyleak":
        return keyleak(argv[1])
    if cmd == "textleak":
        return textleak(argv[1], argv[2:])
    usage("unknown command %r" % cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
