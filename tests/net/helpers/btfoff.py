#!/usr/bin/python3
"""btfoff.py: where a struct member lies, from the running kernel's BTF.

  btfoff.py STRUCT MEMBER        prints "BIT_OFFSET BIT_SIZE"

BIT_SIZE is 0 for a member that is not a bit field. A kprobe event reads
a member at a fixed offset (+OFFSET(%di)); the offset differs between
kernels and configurations, and /sys/kernel/btf/vmlinux knows it.
"""
import struct
import sys

BTF = "/sys/kernel/btf/vmlinux"
# Bytes that follow struct btf_type, per kind: fixed, and per vlen item.
EXTRA = {1: (4, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8),
         13: (0, 8), 14: (4, 0), 15: (0, 12), 17: (4, 0), 19: (0, 12)}
STRUCT, UNION = 4, 5


def parse(data):
    """Each type as (kind, name, [(member, type id, bit offset, bits)])."""
    magic, _, _, hdr_len, type_off, type_len, str_off, _ = \
        struct.unpack_from("<HBBIIIII", data)
    if magic != 0xEB9F:
        sys.exit("btfoff: %s is not little-endian BTF" % BTF)
    types = hdr_len + type_off
    strings = hdr_len + str_off

    def string(off):
        end = data.index(b"\0", strings + off)
        return data[strings + off:end].decode()

    out = [None]		# type ids start at 1
    pos = types
    while pos < types + type_len:
        name_off, info, _ = struct.unpack_from("<III", data, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        pos += 12
        fixed, each = EXTRA.get(kind, (0, 0))
        mem = []
        if kind in (STRUCT, UNION):
            for i in range(vlen):
                m_name, m_type, off = struct.unpack_from("<III", data,
                                                         pos + 12 * i)
                bits = off >> 24 if info >> 31 else 0
                bit = off & 0xFFFFFF if info >> 31 else off
                mem.append((string(m_name), m_type, bit, bits))
        out.append((kind, string(name_off), mem))
        pos += fixed + each * vlen
    return out


def find(types, tid, member, base=0):
    """MEMBER of type TID, looking into anonymous structs and unions."""
    for name, m_type, bit, bits in types[tid][2]:
        if name == member:
            return base + bit, bits
        if not name and types[m_type][0] in (STRUCT, UNION):
            hit = find(types, m_type, member, base + bit)
            if hit:
                return hit
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    with open(BTF, "rb") as f:
        data = f.read()
    types = parse(data)
    for tid, t in enumerate(types):
        if t and t[0] == STRUCT and t[1] == sys.argv[1]:
            hit = find(types, tid, sys.argv[2])
            if hit:
                print(*hit)
                return
    sys.exit("btfoff: no member %s in struct %s" % (sys.argv[2], sys.argv[1]))


main()
