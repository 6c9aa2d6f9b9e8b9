#!/usr/bin/env python3
"""Write each wire vector as a fuzzer seed: be16 key length, key, datagram
(and, for a 1.1 vector with `sent`, that datagram as a second seed).

usage: make-seeds.py VECTORS.jsonl OUTDIR
"""
import json
import os
import sys


def main():
    vectors, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    n = 0
    with open(vectors) as f:
        for line in f:
            if not line.strip():
                continue
            v = json.loads(line)
            key = bytes.fromhex(v["key"])
            # The harness reads (selector % 4096) + 1 as the key length.
            seed = (len(key) - 1).to_bytes(2, "big") + key + bytes.fromhex(v["datagram"])
            name = "seed-" + v["name"].replace("/", "-")
            with open(os.path.join(outdir, name), "wb") as out:
                out.write(seed)
            n += 1
            if v.get("sent"):	# 1.1: the module's datagram, typed
                with open(os.path.join(outdir, name + "-sent"), "wb") as out:
                    out.write(seed[:2 + len(key)] + bytes.fromhex(v["sent"]))
                n += 1
    print(f"{n} seeds in {outdir}")


if __name__ == "__main__":
    main()
