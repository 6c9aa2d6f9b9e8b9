#!/usr/bin/python3
"""nlfuzz.py: random RTM_NEWLINK requests against crapvpn, checked against a
model of what the module must accept and refuse (tests/net/80-nlfuzz.sh).

  nlfuzz.py run [--count N] [--seed S] [--failnth MAX]

Runs in the current network namespace, which must be otherwise empty of UDP
sockets and have 192.0.2.1/24 and 2001:db8::1/64 (nodad) on an up device.

Requests (raw NETLINK_ROUTE, tests/net/helpers/cvnl.py's encoder): creates
(NLM_F_CREATE|NLM_F_EXCL, kind crapvpn), changes of existing devices and a
few deletions. IFLA_INFO_DATA holds 0 to 7 attributes: crapvpn's own
(KEY .. PORT_DEVS) and unknown types, with right and wrong sizes, duplicates,
NLA_F_NESTED / NLA_F_NET_BYTEORDER flags, and now and then a truncated tail;
sometimes there is no IFLA_INFO_DATA at all, or odd IFLA_LINKINFO members.
Values: ports from a small pool (so that binds collide), addresses that are
local, not local, multicast, broadcast, zero, or random.

The model is crapvpn_policy (checked strictly by the netlink core),
crapvpn_validate(), crapvpn_conf_new(), crapvpn_sock_open()
and the UDP bind rules, and the rules of shared ports: devices with the
same bind share one socket if each has a peer and no two the same peer
address and peer port. Each request must end as predicted: accepted, or
refused with errno and extack message (NLMSGERR_ATTR_MSG) exactly as
crapvpn, or the core for a policy, words them; where the model cannot know (a random local address:
bind may or may not work) either outcome is fine, a refusal still needs a
message. After every refused create the device must not exist; every 50
requests and at the end the devices, their configuration (IFLA_INFO_DATA
of a dump) and the namespace's UDP sockets (/proc/net/udp, udp6) must be
those of the model; at the end every device is deleted, no UDP socket may
remain and a create on every port that was used must succeed.

--failnth MAX (kernels with CONFIG_FAULT_INJECTION and FAILSLAB): for a set
of valid creates and changes, make the 1st, 2nd, ... slab allocation of the
request fail (/proc/thread-self/fail-nth): for a change until it gets
through (at most MAX steps), for a create every allocation before
register_netdevice() (see run_failnth()). Each failed request must leave
nothing behind (no device; configuration and sockets unchanged).

Prints TAP-like "ok - ..." / "not ok - ..." lines (a few, aggregated, with
the first mismatches as "# ..." lines) and a summary; exits 0 when it ran to
the end, 1 on an internal error.
"""
import argparse
import errno
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvnl  # noqa: E402

AF4, AF6 = socket.AF_INET, socket.AF_INET6
(KEY, PEER, PEER6, PEER_PORT, PORT, LOCAL, LOCAL6, KEY_LEN, MODE,
 PORT_DEVS) = range(1, 11)
SIZES = {PEER: 4, PEER6: 16, PEER_PORT: 2, PORT: 2, LOCAL: 4, LOCAL6: 16,
         KEY_LEN: 4, MODE: 1, PORT_DEVS: 4}
MODES = ["l3", "l2"]

# The netlink core's messages for what crapvpn_policy refuses.
M_SIZE = "binary attribute size out of range"
M_ATTRLEN = "invalid attribute length"
M_RANGE = "integer out of range"
M_NESTED = "NLA_F_NESTED not expected"
# crapvpn's own.
M_NOKEY = "crapvpn: a key is required"
M_KEYLEN = "crapvpn: the key length is reported, not set"
M_PORTDEVS = "crapvpn: the number of devices on a port is reported, not set"
M_TWOPEERS = "crapvpn: give one peer address, IPv4 or IPv6"
M_TWOLOCALS = "crapvpn: give one local address, IPv4 or IPv6"
M_UNICAST = "crapvpn: the peer must be a unicast address"
M_MAPPED = ("crapvpn: an IPv4-mapped peer cannot be reached over IPv6: "
            "give the IPv4 address")
M_LINKLOCAL = ("crapvpn: a link-local IPv6 peer is not supported: "
               "it would need an interface")
M_FAMILY = "crapvpn: peer and local address must be of the same family"
M_INUSE = "crapvpn: the UDP port is already in use"
M_NOTLOCAL = "crapvpn: the local address is not one of this host's"
M_SOCK = "crapvpn: cannot open the UDP socket"
M_MODEFIXED = "crapvpn: the mode is fixed when the device is created"
M_NEEDPEER = "crapvpn: a device that shares its port needs a peer"
M_NOPEER = "crapvpn: the UDP port is in use by a device without a peer"
M_SAMEPEER = ("crapvpn: another device on this port has the same peer "
              "address and port")

LOCAL4_OK, LOCAL6_OK = "192.0.2.1", "2001:db8::1"
PORTS = list(range(4000, 4008))
NAMES = ["nf%d" % i for i in range(12)]
MAXDEV = 8


def a4(s):
    return socket.inet_pton(AF4, s)


def a6(s):
    return socket.inet_pton(AF6, s)


# Local addresses and what bind() makes of them: "ok", an errno, or None
# (unknown: random bytes).
LOCALS4 = [(a4("0.0.0.0"), "ok"), (a4(LOCAL4_OK), "ok"),
           (a4("192.0.2.77"), errno.EADDRNOTAVAIL),
           (a4("198.18.0.1"), errno.EADDRNOTAVAIL),
           (a4("224.0.0.251"), "ok")]
LOCALS6 = [(a6("::"), "ok"), (a6(LOCAL6_OK), "ok"),
           (a6("2001:db8::77"), errno.EADDRNOTAVAIL),
           (a6("::ffff:192.0.2.1"), errno.EINVAL)]
PEERS4 = ["192.0.2.2", "198.18.0.9", "0.0.0.0", "0.1.2.3", "224.0.0.5",
          "239.1.2.3", "255.255.255.255", "127.0.0.1", "192.0.2.255",
          "10.0.0.1"]
PEERS6 = ["2001:db8::2", "::", "ff02::1", "ff0e::5", "::1", "fe80::1",
          "::ffff:192.0.2.2", "fd00::9"]


def bad_peer4(b):
    # ipv4_is_zeronet() is addr == 0 since Linux 5.x (0.0.0.0/8 is
    # unicast now), plus multicast and the limited broadcast.
    return b == bytes(4) or 224 <= b[0] <= 239 or b == b"\xff\xff\xff\xff"


def bad_peer6(b):
    return b == bytes(16) or b[0] == 0xff


def mapped6(b):
    return b[:12] == bytes(10) + b"\xff\xff"


def linklocal6(b):
    # fe80::/10, as ipv6_addr_type() sees it
    return b[0] == 0xfe and b[1] & 0xc0 == 0x80


class Dev:
    def __init__(self, name):
        self.name = name
        self.keylen = 0
        self.peer = None	# (family, bytes)
        self.local = None	# (family, bytes); None = any
        self.peer_port = 1337
        self.port = 1337
        self.mode = 0

    def copy(self):
        d = Dev(self.name)
        d.__dict__.update(self.__dict__)
        return d

    def family(self):
        if self.local:
            return self.local[0]
        if self.peer:
            return self.peer[0]
        return AF4

    def bind(self):
        """(family, local address or None for any, port)"""
        return (self.family(), self.local[1] if self.local else None,
                self.port)

    def info(self, port_devs):
        """What the kernel's IFLA_INFO_DATA must say (cvnl.decode form)."""
        out = {"key_len": self.keylen, "peer_port": self.peer_port,
               "port": self.port, "mode": MODES[self.mode],
               "port_devs": port_devs}
        if self.peer:
            k = "peer" if self.peer[0] == AF4 else "peer6"
            out[k] = socket.inet_ntop(*self.peer)
        if self.local:
            k = "local" if self.local[0] == AF4 else "local6"
            out[k] = socket.inet_ntop(*self.local)
        return out


def conflicts(b1, b2):
    f1, l1, p1 = b1
    f2, l2, p2 = b2
    return f1 == f2 and p1 == p2 and (l1 is None or l2 is None or l1 == l2)


def attrs(data):
    """The attributes nla_parse sees in IFLA_INFO_DATA, in order, as
    (type with flags, value): parsing stops at the first attribute that
    does not fit; the rest is ignored (deprecated, liberal parsing)."""
    off = 0
    while off + 4 <= len(data):
        alen, atype = struct.unpack_from("=HH", data, off)
        if alen < 4 or off + alen > len(data):
            break
        yield atype, data[off + 4:off + alen]
        off += (alen + 3) & ~3


def parse_data(data):
    """The table crapvpn sees: known types only, the last one wins."""
    tb = {}
    for atype, v in attrs(data):
        t = atype & cvnl.NLA_TYPE_MASK
        if 1 <= t <= PORT_DEVS:
            tb[t] = v
    return tb


INTS = {PEER_PORT: (2, 1, 0xffff), PORT: (2, 1, 0xffff), MODE: (1, 0, 1)}
REJECT = {KEY_LEN: M_KEYLEN, PORT_DEVS: M_PORTDEVS}


def policy(data):
    """The netlink core's strict check of crapvpn_policy, attribute by
    attribute in message order (validate_nla()): None or (errno, message)."""
    for atype, v in attrs(data):
        t = atype & cvnl.NLA_TYPE_MASK
        if not 1 <= t <= PORT_DEVS:
            continue
        if t in INTS and len(v) != INTS[t][0]:
            return errno.EINVAL, M_ATTRLEN
        if atype & cvnl.NLA_F_NESTED:
            return errno.EINVAL, M_NESTED
        if t in REJECT:
            return errno.EINVAL, REJECT[t]
        if t in INTS:
            n = int.from_bytes(v, sys.byteorder)
            if not INTS[t][1] <= n <= INTS[t][2]:
                return errno.ERANGE, M_RANGE
        elif t == KEY and not 1 <= len(v) <= 4096 or \
                t != KEY and len(v) != SIZES[t]:
            return errno.ERANGE, M_SIZE
    return None


def validate(tb):
    """crapvpn_validate(): None or the message."""
    if PEER in tb and PEER6 in tb:
        return M_TWOPEERS
    if LOCAL in tb and LOCAL6 in tb:
        return M_TWOLOCALS
    if PEER in tb:
        if bad_peer4(tb[PEER]):
            return M_UNICAST
    elif PEER6 in tb:
        for bad, m in ((bad_peer6, M_UNICAST), (mapped6, M_MAPPED),
                       (linklocal6, M_LINKLOCAL)):
            if bad(tb[PEER6]):
                return m
    return None


def apply(dev, tb):
    """crapvpn_params_apply() on a copy; returns it."""
    d = dev.copy()
    if KEY in tb:
        d.keylen = len(tb[KEY])
    if PEER in tb:
        d.peer = (AF4, tb[PEER])
    if PEER6 in tb:
        d.peer = (AF6, tb[PEER6])
    if LOCAL in tb:
        d.local = (AF4, tb[LOCAL])
    if LOCAL6 in tb:
        d.local = (AF6, tb[LOCAL6])
    if d.local and d.local[1] == bytes(len(d.local[1])):
        d.local = None
    if PEER_PORT in tb:
        d.peer_port = struct.unpack("=H", tb[PEER_PORT])[0]
    if PORT in tb:
        d.port = struct.unpack("=H", tb[PORT])[0]
    return d


def bind_outcome(d, others):
    """What binding d's socket gives: "ok", an errno, or None (unknown)."""
    if d.local:
        table = LOCALS4 if d.local[0] == AF4 else LOCALS6
        res = None
        for addr, r in table:
            if addr == d.local[1]:
                res = r
                break
        if res is None:
            # A random address: bind may fail for it (errno unknown), or it
            # may succeed (multicast, broadcast...) unless the port is taken.
            if any(conflicts(d.bind(), o.bind()) for o in others):
                return (None, errno.EADDRINUSE)
            return None
        if res != "ok":
            return res
    if any(conflicts(d.bind(), o.bind()) for o in others):
        return errno.EADDRINUSE
    return "ok"


def same_bind(a, b):
    return a.bind() == b.bind()


def admit(d, sharers):
    """crapvpn_port_admit(): d joins the devices bound as it is."""
    if not sharers:
        return "ok"
    if not d.peer:
        return (errno.EINVAL, M_NEEDPEER)
    if any(not o.peer for o in sharers):
        return (errno.EADDRINUSE, M_NOPEER)
    if any(o.peer == d.peer and o.peer_port == d.peer_port for o in sharers):
        return (errno.EADDRINUSE, M_SAMEPEER)
    return "ok"


SOCK_MSGS = {errno.EADDRINUSE: M_INUSE, errno.EADDRNOTAVAIL: M_NOTLOCAL}


def predict(devs, name, creating, data, tb):
    """Returns (new Dev or None, expected): expected is "ok", (errno, msg),
    (errno, None) for a refusal by the rtnetlink core (no message), or
    "unknown" / "unknown-fail" where a random local address decides."""
    data_present = data is not None
    if data_present and 0 < len(data) < 4:
        # The core's check of IFLA_LINKINFO (ifla_info_policy, parsed
        # without extack): a nested attribute of 1 to 3 bytes.
        return None, (errno.ERANGE, None)
    if data_present:
        r = policy(data)
        if r:
            return None, r
        m = validate(tb)
        if m:
            return None, (errno.EINVAL, m)
    others = [d for n, d in devs.items() if n != name]
    if creating:
        if not data_present or KEY not in tb:
            return None, (errno.EINVAL, M_NOKEY)
        old = Dev(name)
        if MODE in tb:
            old.mode = tb[MODE][0]
    else:
        old = devs[name]
        if not data_present:
            return old, "ok"
        if MODE in tb and tb[MODE][0] != old.mode:
            return None, (errno.EOPNOTSUPP, M_MODEFIXED)
    d = apply(old, tb)
    if d.local and d.peer and d.local[0] != d.peer[0]:
        return None, (errno.EINVAL, M_FAMILY)
    # An open port with this bind is joined (or kept) without a bind().
    sharers = [o for o in others if same_bind(o, d)]
    if sharers or not creating and same_bind(old, d):
        r = admit(d, sharers)
        return (d, r) if r == "ok" else (None, r)
    r = bind_outcome(d, others)
    if r == "ok":
        return d, "ok"
    if r is None:
        return d, "unknown"
    if isinstance(r, tuple):	# random address, port taken: either error
        return d, "unknown-fail"
    return None, (r, SOCK_MSGS.get(r, M_SOCK))


class Gen:
    def __init__(self, rng):
        self.r = rng

    def key(self):
        r = self.r
        n = r.choice([1, 2, 3, 4, 7, 16, 32, 64, 100, 1000, 4095, 4096,
                      r.randint(1, 4096)])
        return r.randbytes(n)

    def value(self, t):
        """A right-sized value (possibly invalid content)."""
        r = self.r
        if t == KEY:
            return self.key()
        if t == PEER:
            return a4(r.choice(PEERS4)) if r.random() < 0.8 else r.randbytes(4)
        if t == PEER6:
            return a6(r.choice(PEERS6)) if r.random() < 0.8 else r.randbytes(16)
        if t == LOCAL:
            return r.choice(LOCALS4)[0] if r.random() < 0.9 else r.randbytes(4)
        if t == LOCAL6:
            return r.choice(LOCALS6)[0] if r.random() < 0.9 else r.randbytes(16)
        if t in (PORT, PEER_PORT):
            p = r.choice(PORTS + [0, r.randint(1, 65535)])
            return struct.pack("=H", p)
        if t in (KEY_LEN, PORT_DEVS):
            return struct.pack("=I", r.randint(0, 5000))
        if t == MODE:
            return bytes([r.choice([0, 0, 1, 1, 1, 2, 255])])
        return r.randbytes(r.randint(0, 40))

    def wrong_size(self, t):
        r = self.r
        if t == KEY:
            return r.randbytes(r.choice([0, 4097, 4100, 5000]))
        good = SIZES.get(t, -1)
        n = good
        while n == good:
            n = r.choice([0, 1, 2, 3, 4, 5, 8, 15, 16, 17, 20, 32,
                          r.randint(0, 64)])
        return r.randbytes(n)

    def attr(self, creating):
        r = self.r
        x = r.random()
        if x < 0.82:
            t = r.choice([KEY, PEER, PEER6, PEER_PORT, PORT, LOCAL, LOCAL6,
                          PEER, PORT, LOCAL])
        elif x < 0.86:
            t = r.choice([KEY_LEN, KEY_LEN, PORT_DEVS])
        elif x < 0.93:
            t = MODE
        else:
            t = r.choice([0, 11, 12, 20, 100, 0x3fff])
        v = self.value(t) if r.random() < 0.8 else self.wrong_size(t)
        flags = 0
        if r.random() < 0.05:
            flags |= cvnl.NLA_F_NESTED
        if r.random() < 0.05:
            flags |= 0x4000		# NLA_F_NET_BYTEORDER
        return cvnl.nla(t | flags, v)

    def info_data(self, creating):
        r = self.r
        attrs = []
        if creating and r.random() < 0.75:
            attrs.append(cvnl.nla(KEY, self.key()))
            if r.random() < 0.7:
                attrs.append(cvnl.nla(PEER, a4("192.0.2.2")) if r.random() < 0.6
                             else cvnl.nla(PEER6, a6("2001:db8::2")))
            if r.random() < 0.8:
                attrs.append(cvnl.nla(PORT, struct.pack("=H", r.choice(PORTS))))
        for _ in range(r.choice([0, 1, 1, 2, 2, 3, 4, 7])):
            attrs.insert(r.randint(0, len(attrs)), self.attr(creating))
        data = b"".join(attrs)
        if r.random() < 0.03:		# a truncated tail
            data += r.randbytes(r.randint(1, 7))
        return data

    def linkinfo(self, data):
        """IFLA_LINKINFO; data None = no IFLA_INFO_DATA."""
        li = cvnl.nla(cvnl.IFLA_INFO_KIND, b"crapvpn\0")
        if data is not None:
            li += cvnl.nla(cvnl.IFLA_INFO_DATA | cvnl.NLA_F_NESTED, data)
        if self.r.random() < 0.02:	# IFLA_INFO_XSTATS: ignored
            li += cvnl.nla(3, self.r.randbytes(8))
        return cvnl.nla(cvnl.IFLA_LINKINFO | cvnl.NLA_F_NESTED, li)


class Fuzz:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.gen = Gen(self.rng)
        self.nl = cvnl.Netlink()
        self.devs = {}
        self.used_ports = set()
        self.stats = dict.fromkeys(["create_ok", "create_refused",
                                    "change_ok", "change_refused",
                                    "unknown", "core", "delete", "no_data",
                                    "checkpoints"], 0)
        self.times = {}		# seconds spent per kind of outcome
        self.mism = []		# outcome mismatches
        self.nomsg = []		# refusals without a message
        self.stray = []		# devices left by refused creates
        self.state = []		# checkpoint differences
        self.failnth = {"steps": 0, "errors": 0, "bad": [], "templates": 0,
                        "unfinished": [], "counts": []}

    # ---- kernel side ----
    def request(self, body, flags):
        return self.nl.request(cvnl.RTM_NEWLINK, flags, body)

    def ifindex(self, name):
        """The device's index, 0 if there is none. Not if_nametoindex(): its
        ioctl makes the kernel run modprobe for an unknown name (dev_load(),
        "netdev-NAME"), seconds each under TCG."""
        body = cvnl.ifinfo() + cvnl.nla(cvnl.IFLA_IFNAME, name.encode() + b"\0")
        self.nl.send(cvnl.RTM_GETLINK, cvnl.NLM_F_REQUEST, body)
        for t, f, payload, _ in self.nl.messages():
            if t == cvnl.NLMSG_ERROR:
                return 0
            if t == cvnl.RTM_NEWLINK:
                return struct.unpack_from("=i", payload, 4)[0]

    def kernel_devs(self):
        out = {}
        for payload, _ in self.nl.dump_links():
            name, kind, data = cvnl.link_info_data(payload)
            if kind == "crapvpn":
                out[name] = {k: cvnl.decode(k, v) for k, v in (data or {}).items()}
        return out

    def kernel_socks(self):
        socks = []
        for fam, path in ((AF4, "/proc/net/udp"), (AF6, "/proc/net/udp6")):
            with open(path) as f:
                next(f)
                for line in f:
                    local = line.split()[1]
                    addr, port = local.split(":")
                    raw = bytes.fromhex(addr)
                    # /proc shows the address as host-order 32-bit words.
                    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                    if raw == bytes(len(raw)):
                        raw = None
                    socks.append((fam, raw, int(port, 16)))
        return sorted(socks, key=repr)

    def checkpoint(self, where):
        self.stats["checkpoints"] += 1
        kd = self.kernel_devs()
        devs = self.devs.values()
        want = {n: d.info(sum(same_bind(d, o) for o in devs))
                for n, d in self.devs.items()}
        if kd != want:
            self.state.append("%s: devices %r, model %r" % (where, kd, want))
            # Resynchronise so that one bug is reported once.
            self.resync(kd)
        ks = self.kernel_socks()
        ws = sorted({d.bind() for d in self.devs.values()}, key=repr)
        if ks != ws:
            self.state.append("%s: UDP sockets %r, model %r" % (where, ks, ws))

    def resync(self, kd):
        self.devs = {}
        for name, info in kd.items():
            d = Dev(name)
            d.keylen = info.get("key_len", 0)
            d.peer_port = info.get("peer_port", 1337)
            d.port = info.get("port", 1337)
            d.mode = MODES.index(info.get("mode", "l3"))
            if "peer" in info:
                d.peer = (AF4, a4(info["peer"]))
            if "peer6" in info:
                d.peer = (AF6, a6(info["peer6"]))
            if "local" in info:
                d.local = (AF4, a4(info["local"]))
            if "local6" in info:
                d.local = (AF6, a6(info["local6"]))
            self.devs[name] = d

    # ---- one random request ----
    def one(self, i):
        r = self.rng
        free = [n for n in NAMES if n not in self.devs]
        x = r.random()
        if self.devs and (x < 0.06 or len(self.devs) >= MAXDEV and x < 0.3):
            name = r.choice(sorted(self.devs))
            err, msg = self.nl.request(cvnl.RTM_DELLINK, 0,
                                       cvnl.ifinfo(self.ifindex(name)))
            if err:
                self.mism.append("#%d delete %s: %s %s" % (i, name, err, msg))
            else:
                del self.devs[name]
                self.stats["delete"] += 1
            return
        creating = not self.devs or (len(self.devs) < MAXDEV and x < 0.5)
        name = r.choice(free) if creating else r.choice(sorted(self.devs))
        data = None if r.random() < 0.04 else self.gen.info_data(creating)
        if data is None:
            self.stats["no_data"] += 1
        tb = parse_data(data) if data is not None else {}
        new, want = predict(self.devs, name, creating, data, tb)
        body, flags = self.newlink_body(name, creating, self.gen.linkinfo(data))
        t = time.monotonic()
        err, msg = self.request(body, flags)
        t = time.monotonic() - t
        what = "#%d %s %s %s" % (i, "create" if creating else "change", name,
                                 {k: v.hex()[:40] for k, v in tb.items()})
        if want in ("unknown", "unknown-fail"):
            self.stats["unknown"] += 1
            if err and not msg:
                self.nomsg.append("%s: errno %d without a message" % (what, err))
            if want == "unknown-fail" and not err:
                self.mism.append("%s: accepted, want EADDRINUSE or another error" % what)
            ok = not err
        elif want == "ok":
            ok = True
            if err:
                self.mism.append("%s: refused (%s: %s), want accepted" %
                                 (what, errno.errorcode.get(err, err), msg))
                ok = False
        else:
            ok = False
            werr, wmsg = want
            if not err:
                self.mism.append("%s: accepted, want %s: %s" %
                                 (what, errno.errorcode.get(werr), wmsg))
                ok = True
            elif wmsg is None:
                self.stats["core"] += 1
                if err != werr:
                    self.mism.append("%s: %s, want %s (the core refuses it)" %
                                     (what, errno.errorcode.get(err, err),
                                      errno.errorcode.get(werr)))
            elif not msg:
                self.nomsg.append("%s: errno %d without a message (want %s)" %
                                  (what, err, wmsg))
            elif err != werr or msg != wmsg:
                self.mism.append("%s: %s: %s, want %s: %s" %
                                 (what, errno.errorcode.get(err, err), msg,
                                  errno.errorcode.get(werr), wmsg))
        kind = ("create" if creating else "change") + ("_ok" if ok else "_refused")
        self.stats[kind] += 1
        self.times[kind] = self.times.get(kind, 0) + t
        if ok:
            if new is None:		# accepted against the model: resync
                self.resync(self.kernel_devs())
            else:
                self.devs[name] = new
                self.used_ports.add(new.port)
        elif creating and self.ifindex(name):
            self.stray.append("%s: refused, but %s exists" % (what, name))
            self.nl.request(cvnl.RTM_DELLINK, 0, cvnl.ifinfo(self.ifindex(name)))

    # ---- fault injection ----
    def failnth_templates(self):
        """(description, creating, attributes, blocker (port, family,
        local attribute) or None). Keys
        stay below 2 KiB: the configuration then fits a page and kvzalloc()
        never falls back to vmalloc(), whose failure warns with a stack."""
        k = self.rng.randbytes(24)
        h = struct.pack
        t = []
        t.append(("create v4", True, [cvnl.nla(KEY, k), cvnl.nla(PEER, a4("192.0.2.2")),
                                      cvnl.nla(PORT, h("=H", 4100))],
                  # bound to one address: a bind to any address conflicts
                  (4100, AF4, cvnl.nla(LOCAL, a4(LOCAL4_OK)))))
        t.append(("create v6 local", True, [cvnl.nla(KEY, k * 60),
                                            cvnl.nla(PEER6, a6("2001:db8::2")),
                                            cvnl.nla(LOCAL6, a6(LOCAL6_OK)),
                                            cvnl.nla(PORT, h("=H", 4101))], (4101, AF6)))
        t.append(("change key", False, [cvnl.nla(KEY, self.rng.randbytes(1500))], None))
        t.append(("change port", False, [cvnl.nla(PORT, h("=H", 4102))], None))
        t.append(("change peer family", False, [cvnl.nla(PEER6, a6("2001:db8::2"))], None))
        t.append(("change local, same port", False, [cvnl.nla(LOCAL, a4(LOCAL4_OK)),
                                                    cvnl.nla(PEER, a4("192.0.2.2"))], None))
        t.append(("change everything", False, [cvnl.nla(KEY, k), cvnl.nla(PORT, h("=H", 4104)),
                                              cvnl.nla(PEER6, a6("2001:db8::2")),
                                              cvnl.nla(LOCAL6, a6(LOCAL6_OK))], None))
        return t

    def newlink_body(self, name, creating, linkinfo):
        """RTM_NEWLINK body and flags: a create of NAME or a change of it."""
        if creating:
            body = cvnl.ifinfo() + cvnl.nla(cvnl.IFLA_IFNAME, name.encode() + b"\0")
            flags = cvnl.NLM_F_CREATE | cvnl.NLM_F_EXCL
        else:
            body = cvnl.ifinfo(self.ifindex(name))
            flags = 0
        return body + linkinfo, flags

    @staticmethod
    def plain_linkinfo(data):
        """IFLA_LINKINFO with kind crapvpn and DATA, nothing random."""
        return cvnl.nla(cvnl.IFLA_LINKINFO | cvnl.NLA_F_NESTED,
                        cvnl.nla(cvnl.IFLA_INFO_KIND, b"crapvpn\0") +
                        cvnl.nla(cvnl.IFLA_INFO_DATA | cvnl.NLA_F_NESTED, data))

    def count_allocs(self, fd, body, flags):
        """How many fault-injectable allocations one request makes."""
        big = 1000000
        err, injected = self.send_failnth(fd, big, body, flags)
        return big - self.failnth_left, err

    def run_failnth(self, maxsteps):
        """Creates: only the allocations before register_netdevice() are
        failed (netdev and queue allocation, the configuration, the socket):
        the registration's own failures make the core's sysctl code dump a
        stack ("sysctl could not get directory"), which the log check would
        take for a bug. Their number is measured with a create that fails
        at bind() (its port taken by a blocker device): fail-nth set high
        and read back. Changes: every allocation, until one gets through."""
        path = "/proc/thread-self/fail-nth"
        fd = os.open(path, os.O_RDWR)
        fn = self.failnth
        try:
            for desc, creating, attrs, blocker in self.failnth_templates():
                fn["templates"] += 1
                data = b"".join(attrs)
                name = "nfx" if creating else "nfb"
                body, flags = self.newlink_body(name, creating,
                                                  self.plain_linkinfo(data))
                limit = maxsteps
                if creating:
                    self.ensure_base(*blocker)
                    limit, err = self.count_allocs(fd, body, flags)
                    if err != errno.EADDRINUSE:
                        fn["bad"].append("%s: the blocked create gave errno %s"
                                         % (desc, err))
                    self.delete_all()
                    fn["counts"].append("%s: %d" % (desc, limit))
                finished = False
                for nth in range(1, limit + 1):
                    if not creating:
                        self.ensure_base()
                        body, flags = self.newlink_body(name, creating,
                                                  self.plain_linkinfo(data))
                    before_devs = self.kernel_devs()
                    before_socks = self.kernel_socks()
                    err, injected = self.send_failnth(fd, nth, body, flags)
                    fn["steps"] += 1
                    after = self.kernel_devs()
                    where = "%s, fail-nth %d" % (desc, nth)
                    if err is None:		# the ACK was lost: look
                        err = 0 if (name in after if creating else
                                    after != before_devs) else -1
                    if err:
                        fn["errors"] += 1
                        if after != before_devs:
                            fn["bad"].append("%s: errno %s but devices changed: %r -> %r"
                                             % (where, err, before_devs, after))
                        if self.kernel_socks() != before_socks:
                            fn["bad"].append("%s: errno %s but UDP sockets changed"
                                             % (where, err))
                    elif creating:
                        if name not in after:
                            fn["bad"].append("%s: accepted, no device" % where)
                    if not err:
                        # Accepted: start again from the base state.
                        self.delete_all()
                    if not injected:
                        if err:
                            fn["bad"].append("%s: refused (errno %s) with no fault injected"
                                             % (where, err))
                        finished = True
                        break
                if not finished and not creating:
                    fn["unfinished"].append(desc)
                self.delete_all()
        finally:
            os.pwrite(fd, b"0", 0)
            os.close(fd)

    def send_failnth(self, fd, nth, body, flags):
        """Sends with fail-nth armed; returns (errno or None if the ACK was
        lost, whether the fault was injected)."""
        nl = self.nl
        nl.seq += 1
        msg = struct.pack("=IHHII", 16 + len(body), cvnl.RTM_NEWLINK,
                          flags | cvnl.NLM_F_REQUEST | cvnl.NLM_F_ACK, nl.seq, 0) + body
        os.pwrite(fd, b"%d" % nth, 0)
        try:
            nl.sock.send(msg)
            sent = True
        except OSError as e:
            sent = e.errno
        left = int(os.pread(fd, 16, 0))
        os.pwrite(fd, b"0", 0)
        self.failnth_left = left
        injected = left == 0
        if sent is not True:
            return sent, injected
        try:
            for t, f, payload, _ in nl.messages():
                if t == cvnl.NLMSG_ERROR:
                    return -struct.unpack_from("=i", payload)[0], injected
        except OSError as e:
            if e.errno == errno.ENOBUFS:	# the ACK could not be allocated
                return None, injected
            raise

    def ensure_base(self, port=4103, family=AF4, local=b""):
        if self.ifindex("nfb"):
            return
        peer = (cvnl.nla(PEER, a4("192.0.2.2")) if family == AF4 else
                cvnl.nla(PEER6, a6("2001:db8::2"))) + local
        err, msg = self.nl.request(
            cvnl.RTM_NEWLINK, cvnl.NLM_F_CREATE | cvnl.NLM_F_EXCL,
            cvnl.ifinfo() + cvnl.nla(cvnl.IFLA_IFNAME, b"nfb\0") +
            self.gen.linkinfo(cvnl.nla(KEY, b"\x12\x34") + peer +
                              cvnl.nla(PORT, struct.pack("=H", port))))
        if err:
            raise RuntimeError("cannot create the base device: %s %s" % (err, msg))

    def delete_all(self):
        for name in list(self.kernel_devs()):
            self.nl.request(cvnl.RTM_DELLINK, 0, cvnl.ifinfo(self.ifindex(name)))
        self.devs = {}

    # ---- the run ----
    def run(self):
        a = self.args
        t0 = time.monotonic()
        if self.kernel_devs() or self.kernel_socks():
            print("not ok - the namespace starts without crapvpn devices and UDP sockets")
            return 0
        for i in range(a.count):
            self.one(i)
            if i % 50 == 49:
                self.checkpoint("after request #%d" % i)
        self.checkpoint("at the end")
        t1 = time.monotonic()
        s = self.stats
        print("# %d requests in %.0f s: %s" % (a.count, t1 - t0, s))
        print("# mean ms per request: %s" % {k: round(1000 * v / max(1, s[k]))
                                               for k, v in self.times.items()})
        self.report("every request ended as the model predicts", self.mism)
        self.report("every refused request carried an extack message", self.nomsg)
        self.report("no device left behind by a refused create", self.stray)
        self.report("devices, their configuration and the UDP sockets match "
                    "the model at %d checkpoints" % s["checkpoints"], self.state)
        refused = s["create_refused"] + s["change_refused"]
        accepted = s["create_ok"] + s["change_ok"]
        self.report("both outcomes exercised (%d accepted, %d refused)" %
                    (accepted, refused),
                    [] if refused > a.count // 10 and accepted > a.count // 10
                    else ["too one-sided"])
        self.delete_all()
        leftover = self.kernel_socks()
        self.report("no UDP socket left after deleting every device",
                    [repr(leftover)] if leftover else [])
        bad = []
        for p in sorted(self.used_ports):
            err, msg = self.nl.request(
                cvnl.RTM_NEWLINK, cvnl.NLM_F_CREATE | cvnl.NLM_F_EXCL,
                cvnl.ifinfo() + cvnl.nla(cvnl.IFLA_IFNAME, b"nfp\0") +
                self.gen.linkinfo(cvnl.nla(KEY, b"\x01") +
                                  cvnl.nla(PORT, struct.pack("=H", p))))
            if err:
                bad.append("port %d: %s %s" % (p, err, msg))
            else:
                self.nl.request(cvnl.RTM_DELLINK, 0, cvnl.ifinfo(self.ifindex("nfp")))
        self.report("a create on each of the %d ports used succeeds afterwards"
                    % len(self.used_ports), bad)
        if a.failnth:
            t2 = time.monotonic()
            self.run_failnth(a.failnth)
            fn = self.failnth
            print("# fail-nth: %d templates, %d steps, %d refused, %.0f s; "
                  "allocations before registration: %s" %
                  (fn["templates"], fn["steps"], fn["errors"], time.monotonic() - t2,
                   ", ".join(fn["counts"])))
            self.report("fail-nth: every failed request left nothing behind",
                        fn["bad"])
            self.report("fail-nth: every change got through within %d steps"
                        % a.failnth, fn["unfinished"])
            self.report("fail-nth: no UDP socket left", [repr(s) for s in self.kernel_socks()])
        return 0

    @staticmethod
    def report(desc, problems):
        if problems:
            print("not ok - %s (%d problems)" % (desc, len(problems)))
            for p in problems[:10]:
                print("#   " + p)
        else:
            print("ok - " + desc)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--count", type=int, default=10000)
    r.add_argument("--seed", default="nlfuzz")
    r.add_argument("--failnth", type=int, default=0)
    args = p.parse_args()
    return Fuzz(args).run()


if __name__ == "__main__":
    sys.exit(main())
