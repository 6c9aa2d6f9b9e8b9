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
"""

import argparse
import fcntl
import functools
import os
import select
import signal
import socket
import struct
import subprocess
import sys

DEFAULT_PORT = 1337
MAGIC = b"crap"
HDR_LEN = 8
MAX_INNER = 65535

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000

# Why decode() refuses a datagram, in the order of the receive rules.
SHORT, BAD_MAGIC, BAD_LENGTH, EMPTY, NOT_IP = (
    "short", "bad-magic", "bad-length", "empty", "not-ip")


class Cipher:
    """XOR with a repeating key that restarts at every inner packet.

    Python loops over bytes are slow; XORing two big integers runs in C. The
    key stream for each packet length is an integer made once and cached,
    so a packet costs two conversions and one integer XOR.
    """

    def __init__(self, key: bytes):
        if not key:
            raise ValueError("the key must not be empty")
        self.key = bytes(key)
        reps = -(-MAX_INNER // len(key))
        self._stream = (self.key * reps)[:MAX_INNER]
        # Per instance, so that the cache does not keep the key alive.
        self._stream_int = functools.lru_cache(maxsize=64)(self._make_int)

    def _make_int(self, n: int) -> int:
        return int.from_bytes(self._stream[:n], "little")

    def xor(self, data: bytes) -> bytes:
        n = len(data)
        if n > MAX_INNER:
            raise ValueError("inner packet longer than 65535 bytes")
        return (int.from_bytes(data, "little") ^ self._stream_int(n)).to_bytes(
            n, "little")


def encode(cipher: Cipher, packet: bytes) -> bytes:
    """One inner packet (1..65535 bytes) to one datagram."""
    if not 0 < len(packet) <= MAX_INNER:
        raise ValueError(f"inner packet of {len(packet)} bytes")
    return (MAGIC + len(packet).to_bytes(2, "big") + b"\0\0"
            + cipher.xor(packet))


def check(datagram: bytes):
    """Receive rules 1-4: None if the header is fine, else the drop reason."""
    if len(datagram) < HDR_LEN:
        return SHORT
    if datagram[:4] != MAGIC:
        return BAD_MAGIC
    if int.from_bytes(datagram[4:6], "big") != len(datagram) - HDR_LEN:
        return BAD_LENGTH
    if len(datagram) == HDR_LEN:
        return EMPTY
    return None


def decode(cipher: Cipher, datagram: bytes, tap=False):
    """One datagram to (None, inner packet), or (drop reason, None).

    Rule 5 in part: the inner packet must start with IP version 4 or 6. The
    rest of "valid IP packet" is the TUN device's to judge on write. A TAP
    device gets whatever decrypts, and judges the frame itself.
    """
    reason = check(datagram)
    if reason:
        return reason, None
    packet = cipher.xor(datagram[HDR_LEN:])
    if not tap and packet[0] >> 4 not in (4, 6):
        return NOT_IP, None
    return None, packet


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


def run(cipher, tun, sock, peer, counts, burst=64, tap=False):
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
                    sendto(encode(cipher, packet), peer)
                    counts["tx"] += 1
                except OSError:
                    counts["send-error"] += 1
        if sock in readable:
            for _ in range(burst):
                try:
                    datagram = recv(MAX_INNER + HDR_LEN + 1, dontwait)
                except BlockingIOError:
                    break
                except OSError:
                    # e.g. an ICMP error queued on the socket: not a datagram.
                    counts["recv-error"] += 1
                    continue
                reason, packet = decode(cipher, datagram, tap)
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
        run(Cipher(args.key), tun, sock, peer, counts, tap=args.tap)
    except Stop as why:
        print(f"crapvpn-userspace: {why}: " + " ".join(
            f"{k}={v}" for k, v in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
