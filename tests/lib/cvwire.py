# SPDX-License-Identifier: GPL-2.0
"""The CrapVPN wire format (docs/wire-format.md) for the tests' Python
helpers: the header, the XOR, the receive rules, and the Internet checksums
and IP headers the helpers build inner packets with. One copy, so that
every helper seals and opens datagrams the same way.

A helper finds it from its own location, so that it runs by path from
anywhere (in the test VM too):

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "lib"))      # the path from the helper to here
    import cvwire
"""
import functools
import socket
import struct

MAGIC = b"crap"
HDR = 8			# magic, be16 length, be16 type
MAX_INNER = 65535	# the length field's largest value
ETH_HLEN = 14		# a layer-2 device's frames: at least this
TYPE_IPV4, TYPE_IPV6, TYPE_ETHER = 0x0800, 0x86DD, 0x6558

# Why a datagram is dropped: the module's counters, without "rx_drop_".
SHORT, BAD_MAGIC, BAD_LENGTH, EMPTY, MODE, NOT_IP, SHORT_FRAME = (
    "short", "bad_magic", "bad_length", "empty", "mode", "not_ip",
    "short_frame")

# The drop reasons of the wire vectors (tests/vectors), by their opening
# words, and the verdict of each.
VECTOR_REASONS = (
    ("shorter than the 8-byte header", SHORT),
    ("magic is not 'crap'", BAD_MAGIC),
    ("length field larger than the ciphertext", BAD_LENGTH),
    ("length field smaller than the ciphertext", BAD_LENGTH),
    ("ciphertext shorter than the length field", BAD_LENGTH),
    ("ciphertext longer than the length field", BAD_LENGTH),
    ("empty inner packet", EMPTY),
    ("inner packet's version nibble is neither 4 nor 6", NOT_IP),
    ("decrypted with the right key this is not an IP packet", NOT_IP),
    ("bytes 6-7 say", MODE),
    ("shorter than an Ethernet header", SHORT_FRAME),
)


def reason_verdict(reason):
    """The verdict of a vector's drop reason, None for a reason not known."""
    for words, verdict in VECTOR_REASONS:
        if (reason or "").startswith(words):
            return verdict
    return None


@functools.lru_cache(maxsize=64)
def _stream(key, pos, n):
    """N bytes of the key stream from key byte POS, as an integer: made
    once per length (the userspace peer's packets come in a few sizes)."""
    reps = -(-(pos + n) // len(key))
    return int.from_bytes((key * reps)[pos:pos + n], "little")


def xor(key, data, pos=0):
    """DATA XORed with the repeating KEY, from key byte POS (the module's
    crapvpn_xor()); a packet's payload starts at key byte 0. XORing two
    integers runs in C, a loop over bytes in Python would not."""
    n = len(data)
    if not n:
        return b""
    key = bytes(key)
    stream = _stream(key, pos % len(key), n)
    return (int.from_bytes(data, "little") ^ stream).to_bytes(n, "little")


def ethertype(packet, mode="l3"):
    """What crapvpn writes in bytes 6-7 before PACKET: 0x6558 in layer 2,
    else the IP version's EtherType (0 for no IP version)."""
    if mode == "l2":
        return TYPE_ETHER
    return {4: TYPE_IPV4, 6: TYPE_IPV6}.get(packet[0] >> 4 if packet else 0, 0)


def seal(key, payload, type=0, length=None):
    """The datagram of PAYLOAD: bytes 6-7 hold TYPE (0: the userspace
    version's), the length field LENGTH (default: the true one)."""
    n = len(payload) if length is None else length
    return MAGIC + struct.pack("!HH", n, type) + xor(key, payload)


def check(datagram, mode=None):
    """The header's receive rules: None if they pass, else the verdict.
    MODE "l3" or "l2" also refuses the other mode's types (bytes 6-7); with
    None they are ignored, as by the userspace version."""
    if len(datagram) < HDR:
        return SHORT
    if datagram[:4] != MAGIC:
        return BAD_MAGIC
    n = datagram[4] << 8 | datagram[5]
    if n != len(datagram) - HDR:
        return BAD_LENGTH
    if n == 0:
        return EMPTY
    typ = datagram[6] << 8 | datagram[7]
    if (mode == "l3" and typ == TYPE_ETHER or
            mode == "l2" and typ in (TYPE_IPV4, TYPE_IPV6)):
        return MODE
    return None


def unseal(key, datagram, mode="l3"):
    """(verdict, payload) of DATAGRAM at a device of MODE, as the module
    judges it: verdict None if it is accepted. The payload is decrypted
    when the header passed (also for NOT_IP and SHORT_FRAME), else None.
    MODE None: the header rules only, bytes 6-7 ignored (the userspace
    version, which leaves the payload to its TUN or TAP device)."""
    verdict = check(datagram, mode)
    if verdict:
        return verdict, None
    payload = xor(key, datagram[HDR:])
    if mode == "l3":
        least = {4: 20, 6: 40}.get(payload[0] >> 4)	# an IP header
        if least is None or len(payload) < least:
            return NOT_IP, payload
    elif mode == "l2" and len(payload) < ETH_HLEN:
        return SHORT_FRAME, payload
    return None, payload


# ---- checksums and IP headers of inner packets ----------------------------

def checksum(data):
    """The Internet checksum (RFC 1071) of DATA."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def l4_checksum(src, dst, proto, seg):
    """The checksum of SEG (TCP or UDP, its checksum field 0) from SRC to
    DST (text addresses, IPv4 or IPv6), with the pseudo-header; a UDP
    checksum of 0 is sent as 0xffff (0 means none)."""
    if family(src) == socket.AF_INET6:
        pseudo = (socket.inet_pton(socket.AF_INET6, src) +
                  socket.inet_pton(socket.AF_INET6, dst) +
                  struct.pack("!IxxxB", len(seg), proto))
    else:
        pseudo = (socket.inet_aton(src) + socket.inet_aton(dst) +
                  struct.pack("!xBH", proto, len(seg)))
    c = checksum(pseudo + seg)
    return (c or 0xffff) if proto == socket.IPPROTO_UDP else c


def put16(data, at, value):
    """DATA with the be16 VALUE at offset AT."""
    return data[:at] + struct.pack("!H", value) + data[at + 2:]


def ipv4(src, dst, proto, payload, ident=1, flags=0x4000):
    """An IPv4 header (FLAGS: the flags and fragment offset field), its
    checksum filled in, and PAYLOAD."""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      flags, 64, proto, 0, socket.inet_aton(src),
                      socket.inet_aton(dst))
    return put16(hdr, 10, checksum(hdr)) + payload


def ipv6(src, dst, nh, payload):
    """An IPv6 header, hop limit 64, and PAYLOAD."""
    return (struct.pack("!IHBB", 6 << 28, len(payload), nh, 64) +
            socket.inet_pton(socket.AF_INET6, src) +
            socket.inet_pton(socket.AF_INET6, dst) + payload)
