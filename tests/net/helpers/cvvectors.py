#!/usr/bin/python3
"""cvvectors.py: send every wire vector to a crapvpn device and check how
its counters move (tests/net/40-badinput.sh). Runs inside the device's
namespace (ip netns exec a: its /sys is that namespace's) and sends from
another namespace (--from, a name under /run/netns) through a socket opened
there.

  ip netns exec a cvvectors.py --dev cv4 --from b --to 192.0.2.1 --port 1337 \
      --vectors wire-vectors.jsonl --key 1234abcd

Each drop vector must add exactly 1 to the ethtool counter of its reason
(and to rx_errors plus rx_length_errors or rx_frame_errors); the accept
vectors of one key, sent together after setting the device's key, must add
their number to rx_packets and their inner lengths to rx_bytes, and nothing
else may move. At the end the device gets --key back.

Prints TAP-like "ok - ..." / "not ok - ..." lines; exits 0 when it ran to
the end (whatever the checks said), 1 on an internal error.
"""
import argparse
import ctypes
import fcntl
import json
import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "lib")]
import cvnl  # noqa: E402
from cvwire import reason_verdict  # noqa: E402

CLONE_NEWNET = 0x40000000
SIOCETHTOOL = 0x8946
ETHTOOL_GDRVINFO, ETHTOOL_GSTRINGS, ETHTOOL_GSTATS = 0x3, 0x1b, 0x1d
ETH_SS_STATS = 1
ETH_GSTRING_LEN = 32
LINK_STATS = ["rx_packets", "rx_bytes", "rx_errors", "rx_length_errors",
              "rx_frame_errors", "rx_dropped"]

# What one drop under a counter adds to the `ip -s link` counters.
FOLDS = {
    "rx_drop_short": "rx_length_errors",
    "rx_drop_bad_length": "rx_length_errors",
    "rx_drop_empty": "rx_length_errors",
    "rx_drop_bad_magic": "rx_frame_errors",
    "rx_drop_not_ip": "rx_frame_errors",
    "rx_drop_mode": "rx_frame_errors",
    "rx_drop_short_frame": "rx_length_errors",
}

libc = ctypes.CDLL(None, use_errno=True)
results = {"ok": 0, "fail": 0}


def ok(msg):
    print("ok - " + msg, flush=True)
    results["ok"] += 1


def fail(msg, *diag):
    print("not ok - " + msg, flush=True)
    for d in diag:
        print("#   " + d, flush=True)
    results["fail"] += 1


def socket_in(nsname, family):
    """A UDP socket of network namespace NSNAME; this process stays put."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    other = os.open("/run/netns/" + nsname, os.O_RDONLY)
    try:
        if libc.setns(other, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns " + nsname)
        try:
            s = socket.socket(family, socket.SOCK_DGRAM)
        finally:
            if libc.setns(own, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(other)
    if family == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, 10, 0)	# IP_MTU_DISCOVER: DONT
    return s


class Ethtool:
    """ethtool -S through the SIOCETHTOOL ioctl."""

    def __init__(self, dev):
        self.dev = dev.encode()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        info = self.ioctl(struct.pack("=I", ETHTOOL_GDRVINFO) + b"\0" * 192)
        self.n = struct.unpack_from("=I", info, 180)[0]
        raw = self.ioctl(struct.pack("=III", ETHTOOL_GSTRINGS, ETH_SS_STATS,
                                     self.n) + b"\0" * (self.n * ETH_GSTRING_LEN))
        self.names = [raw[12 + i * ETH_GSTRING_LEN:12 + (i + 1) * ETH_GSTRING_LEN]
                      .rstrip(b"\0").decode() for i in range(self.n)]

    def ioctl(self, data):
        buf = ctypes.create_string_buffer(data, len(data))
        ifr = struct.pack("16sP", self.dev, ctypes.addressof(buf))
        ifr += b"\0" * (40 - len(ifr))
        fcntl.ioctl(self.sock.fileno(), SIOCETHTOOL, ifr)
        return buf.raw

    def stats(self):
        raw = self.ioctl(struct.pack("=II", ETHTOOL_GSTATS, self.n) +
                         b"\0" * (8 * self.n))
        vals = struct.unpack_from("=%dQ" % self.n, raw, 8)
        return dict(zip(self.names, vals))


class Device:
    def __init__(self, dev):
        self.dev = dev
        self.eth = Ethtool(dev)

    def snap(self):
        s = {k: v for k, v in self.eth.stats().items() if k.startswith("rx_")}
        for k in LINK_STATS:
            with open("/sys/class/net/%s/statistics/%s" % (self.dev, k)) as f:
                s[k] = int(f.read())
        return s

    def wait(self, name, value, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.snap()[name] >= value:
                return True
            time.sleep(0.01)
        return False

    def set_key(self, key):
        return cvnl.newlink("set", self.dev, ["key=" + key]) == 0


def moved(a, b):
    return {k: b[k] - a[k] for k in b if b[k] != a.get(k)}


def fmt(d):
    return " ".join("%s=%d" % kv for kv in sorted(d.items())) or "nothing"


def reason_counter(reason):
    """The counter of a vector's drop reason (cvwire's table: a reason it
    does not know fails instead of matching by accident)."""
    verdict = reason_verdict(reason)
    return verdict and "rx_drop_" + verdict


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dev", required=True)
    p.add_argument("--from", dest="src", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--vectors", required=True)
    p.add_argument("--key", required=True, help="key to leave on the device")
    p.add_argument("--mode", default="l3", choices=("l3", "l2"),
                   help="the device's mode: vectors of the other are skipped")
    args = p.parse_args()

    fam = socket.AF_INET6 if ":" in args.to else socket.AF_INET
    tx = socket_in(args.src, fam)
    dest = (args.to, args.port)
    dev = Device(args.dev)
    tag = args.dev
    cur_key = None

    def key(k):
        nonlocal cur_key
        if k != cur_key:
            if dev.set_key(k):
                cur_key = k
            else:
                fail("%s: set a key of %d bytes" % (tag, len(k) // 2))

    vectors = [json.loads(l) for l in open(args.vectors) if l.strip()]
    # 1.1 vectors name the device mode they are for (1.0 ones are all l3).
    other = [v for v in vectors if v.get("mode", "l3") != args.mode]
    if other:	# sent to a device of theirs: 40-badinput or 45-l2
        print("# %s: %d vectors are for the other mode's devices (this one "
              "is %s)" % (tag, len(other), args.mode), flush=True)
    vectors = [v for v in vectors if v.get("mode", "l3") == args.mode]
    i = 0
    while i < len(vectors):
        v = vectors[i]
        if v["expect"] == "accept":
            group = [v]
            while (i + len(group) < len(vectors) and
                   vectors[i + len(group)]["expect"] == "accept" and
                   vectors[i + len(group)]["key"] == v["key"]):
                group.append(vectors[i + len(group)])
            i += len(group)
            key(v["key"])
            want = {"rx_packets": len(group),
                    "rx_bytes": sum(len(g["plaintext"]) // 2 for g in group)}
            before = dev.snap()
            for g in group:
                tx.sendto(bytes.fromhex(g["datagram"]), dest)
            dev.wait("rx_packets", before["rx_packets"] + len(group))
            got = moved(before, dev.snap())
            msg = "%s: accept vectors, key of %d bytes (%s)" % (
                tag, len(v["key"]) // 2, ", ".join(g["name"] for g in group))
            if got == want:
                ok(msg)
            else:
                fail(msg, "moved: " + fmt(got), "want:  " + fmt(want))
            continue
        i += 1
        if v["expect"] != "drop":
            fail("%s: %s: unknown expectation %r" % (tag, v["name"], v["expect"]))
            continue
        counter = reason_counter(v.get("reason") or "")
        if not counter:
            fail("%s: %s: no counter known for the reason %r" %
                 (tag, v["name"], v.get("reason")))
            continue
        key(v["key"])
        want = {counter: 1, "rx_errors": 1, FOLDS[counter]: 1}
        before = dev.snap()
        tx.sendto(bytes.fromhex(v["datagram"]), dest)
        dev.wait(counter, before[counter] + 1)
        got = moved(before, dev.snap())
        msg = "%s: %s dropped as %s" % (tag, v["name"], counter)
        if got == want:
            ok(msg)
        else:
            fail(msg, "moved: " + fmt(got), "want:  " + fmt(want))
    key(args.key)
    if cur_key == args.key:
        ok("%s: key set back" % tag)
    print("# %s: %d ok, %d not ok" % (tag, results["ok"], results["fail"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
