#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""CrapVPN userspace peer: a TUN device, a UDP socket and a select() loop.

The reference the kernel module must interoperate with, rewritten to the
wire format in shared/wire-format.md: every inner IP packet read from TUN is
XORed with the repeating key and sent as one datagram

    "crap" | be16 ciphertext length | 2 zero bytes | ciphertext

to the peer; every datagram received (from anyone) that passes the receive
rules is decrypted and written to TUN. XOR is obfuscation, not security.

Command line compatible with the original program:

    crapvpn-userspace.py -k HEXKEY -p PEER_HOST LOCAL_IP PEER_IP

Unlike the original it never dies on a bad datagram: it drops and counts it,
and prints the counters to stderr on SIGTERM or SIGINT.

The encode/decode functions are importable (tests/userspace/test_userspace.py).
The wire format itself is the tests' one module, tests/lib/cvwire.py, found
from this script's own path.
"""

import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import cvwire  # noqa: E402
from cvwire import (BAD_LENGTH, BAD_MAGIC, EMPTY, HDR, MAX_INNER,  # noqa: E402
                    NOT_IP, SHORT)

DEFAULT_PORT = 1337

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def encode(key: bytes, packet: bytes) -> bytes:
    """One inner packet (1..65535 bytes) to one datagram, bytes 6-7 zero."""
    if not 0 < len(packet) <= MAX_INNER:
        raise ValueError(f"inner packet of {len(packet)} bytes")
    return cvwire.seal(key, packet)


def decode(key: bytes, datagram: bytes, tap=False):
    """One datagram to (None, inner packet), or (drop reason, None).

    The header's rules, bytes 6-7 ignored; then, on TUN, the inner packet
    must start with IP version 4 or 6. The rest of "valid IP packet" is the
    TUN device's to judge on write. A TAP device gets whatever decrypts,
    and judges the frame itself.
    """
    reason, packet = cvwire.unseal(key, datagram, mode=None)
    if not reason and not tap and packet[0] >> 4 not in (4, 6):
        reason = NOT_IP
    return (reason, None) if reason else (None, packet)


def open_tun(name: str, tap=False) -> int:
    """A layer-3 TUN device (or, @tap, a layer-2 TAP device) without packet
    information; returns its fd."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH22x", name.encode(),
                      (IFF_TAP if tap else IFF_TUN) | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    return fd


def configure_tun(name: str, local: str, peer: str, mtu=None, tap=False):
    # A TAP device is on a LAN: LOCAL is ADDRESS/PREFIX, PEER one host of it.
    where = [] if tap else ["peer", peer]
    subprocess.run(["ip", "addr", "add", local] + where + ["dev", name],
                   check=True)
    if mtu:
        subprocess.run(["ip", "link", "set", name, "mtu", str(mtu)],
                       check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)


class Stop(Exception):
    """Raised by the SIGTERM/SIGINT handler to leave the loop."""


def _stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def run(key, tun, sock, peer, counts, burst=64, tap=False):
    """Forward until a signal. Each wakeup drains up to @burst packets per
    side without blocking, so that select() is not paid once per packet."""
    tun_read, tun_write = os.read, os.write
    recv, sendto = sock.recv, sock.sendto
    dontwait = socket.MSG_DONTWAIT
    while True:
        readable, _, _ = select.select([tun, sock], [], [])
        if tun in readable:
            for _ in range(burst):
                try:
                    packet = tun_read(tun, MAX_INNER)
                except BlockingIOError:
                    break
                if not packet:
                    continue
                try:
                    sendto(encode(key, packet), peer)
                    counts["tx"] += 1
                except OSError:
                    counts["send-error"] += 1
        if sock in readable:
            for _ in range(burst):
                try:
                    datagram = recv(MAX_INNER + HDR + 1, dontwait)
                except BlockingIOError:
                    break
                except OSError:
                    # e.g. an ICMP error queued on the socket: not a datagram.
                    counts["recv-error"] += 1
                    continue
                reason, packet = decode(key, datagram, tap)
                if reason:
                    counts[reason] += 1
                    continue
                try:
                    tun_write(tun, packet)
                    counts["rx"] += 1
                except OSError:
                    # The stack refused it: rule 5's "valid IP packet".
                    counts["tun-refused"] += 1


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description="CrapVPN userspace peer (XOR obfuscation, not security)")
    ap.add_argument("-k", "--key", required=True,
                    help="key as hex, e.g. 1234ABCD (1 to 4096 bytes)")
    ap.add_argument("-p", "--peer", required=True, help="peer host or address")
    ap.add_argument("-i", "--ifname", default="crap0",
                    help="TUN device name (default crap0)")
    ap.add_argument("--port", type=int, default=DEFAULT_PORT,
                    help="local UDP port (default 1337)")
    ap.add_argument("--peer-port", type=int, default=DEFAULT_PORT,
                    help="peer UDP port (default 1337)")
    ap.add_argument("--bind", default=None,
                    help="local address (default 0.0.0.0, or :: with -6)")
    ap.add_argument("-6", "--ipv6", action="store_true",
                    help="use IPv6 as the underlay")
    ap.add_argument("--mtu", type=int, default=None,
                    help="TUN MTU (default: the kernel's, 1500)")
    ap.add_argument("--tap", action="store_true",
                    help="a TAP device (Ethernet frames, layer 2) instead of "
                    "TUN; LOCAL_IP is then ADDRESS/PREFIX")
    ap.add_argument("local_ip", help="address of this end inside the tunnel")
    ap.add_argument("peer_ip", help="address of the other end")
    args = ap.parse_args(argv)
    try:
        args.key = bytes.fromhex(args.key)
    except ValueError:
        ap.error("the key is not hex")
    if not 1 <= len(args.key) <= 4096:
        ap.error("the key must be 1 to 4096 bytes")
    return args


def main(argv=None):
    args = parse_args(argv)
    family = socket.AF_INET6 if args.ipv6 else socket.AF_INET
    peer = socket.getaddrinfo(args.peer, args.peer_port, family,
                              socket.SOCK_DGRAM)[0][4]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((args.bind or ("::" if args.ipv6 else "0.0.0.0"), args.port))
    tun = open_tun(args.ifname, args.tap)
    os.set_blocking(tun, False)
    configure_tun(args.ifname, args.local_ip, args.peer_ip, args.mtu, args.tap)

    counts = dict.fromkeys(("tx", "rx", SHORT, BAD_MAGIC, BAD_LENGTH, EMPTY,
                            NOT_IP, "tun-refused", "send-error",
                            "recv-error"), 0)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        run(args.key, tun, sock, peer, counts, tap=args.tap)
    except Stop as why:
        print(f"crapvpn-userspace: {why}: " + " ".join(
            f"{k.replace('_', '-')}={v}" for k, v in counts.items()),
            file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
