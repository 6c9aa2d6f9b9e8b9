#!/usr/bin/env python3
"""Unit test of crapvpn-userspace.py's encode/decode against the wire vectors,
and of the XOR of the wire module they use (tests/lib/cvwire.py).

usage: test_userspace.py [VECTORS.jsonl]   (default: tests/vectors/)
"""
import contextlib
import importlib.util
import io
import json
import os
import random
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors", "wire-vectors.jsonl")
VECTORS_11 = os.path.join(HERE, "..", "vectors", "wire-vectors-1.1.jsonl")

_spec = importlib.util.spec_from_file_location(
    "crapvpn_userspace", os.path.join(HERE, "crapvpn-userspace.py"))
cu = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cu)
cvwire = cu.cvwire


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ref_xor(key, data):
    return bytes(b ^ key[i % len(key)] for i, b in enumerate(data))


class Vectors(unittest.TestCase):
    def test_vectors(self):
        vectors = load(VECTORS)
        self.assertGreater(len(vectors), 0)
        for v in vectors:
            with self.subTest(v["name"]):
                key = bytes.fromhex(v["key"])
                dg = bytes.fromhex(v["datagram"])
                if v["expect"] == "accept":
                    pt = bytes.fromhex(v["plaintext"])
                    if dg[6:8] == b"\0\0":
                        self.assertEqual(cu.encode(key, pt), dg)
                    self.assertEqual(cu.decode(key, dg), (None, pt))
                else:
                    self.assertEqual(v["expect"], "drop")
                    want = cvwire.reason_verdict(v.get("reason"))
                    self.assertIsNotNone(want, v.get("reason"))
                    self.assertEqual(cu.decode(key, dg), (want, None))


class Module(unittest.TestCase):
    """cvwire's seal and unseal give the module's bytes and verdicts."""

    def test_vectors_11(self):
        for v in load(VECTORS_11):
            with self.subTest(v["name"]):
                key = bytes.fromhex(v["key"])
                dg = bytes.fromhex(v["datagram"])
                verdict, payload = cvwire.unseal(key, dg, v["mode"])
                if v["expect"] == "accept":
                    pt = bytes.fromhex(v["plaintext"])
                    self.assertEqual((verdict, payload), (None, pt))
                    if "sent" in v:
                        typ = cvwire.ethertype(pt, v["mode"])
                        self.assertEqual(cvwire.seal(key, pt, typ),
                                         bytes.fromhex(v["sent"]))
                else:
                    want = cvwire.reason_verdict(v.get("reason"))
                    self.assertIsNotNone(want, v.get("reason"))
                    self.assertEqual(verdict, want)


class Edges(unittest.TestCase):
    def test_xor_matches_reference(self):
        rnd = random.Random(1337)
        for keylen in (1, 2, 3, 7, 8, 64, 1000, 4096):
            key = rnd.randbytes(keylen)
            for n in (0, 1, 7, 8, 9, 1500, 4097, 65535):
                data = rnd.randbytes(n)
                xored = cvwire.xor(key, data)
                self.assertEqual(xored, ref_xor(key, data))
                self.assertEqual(cvwire.xor(key, xored), data)
                pos = rnd.randrange(2 * keylen)
                turned = key[pos % keylen:] + key[:pos % keylen]
                self.assertEqual(cvwire.xor(key, data, pos),
                                 ref_xor(turned, data))

    def test_encode_limits(self):
        for n in (0, 65536):
            with self.assertRaises(ValueError):
                cu.encode(b"\x5e", b"\x45" * n)
        dg = cu.encode(b"\x5e", b"\x45" * 65535)
        self.assertEqual(dg[:8], b"crap\xff\xff\0\0")
        self.assertIsNone(cvwire.check(dg))

    def test_reserved_ignored_and_version(self):
        for first, want in ((0x45, None), (0x60, None), (0x00, cvwire.NOT_IP),
                            (0x50, cvwire.NOT_IP), (0xF6, cvwire.NOT_IP)):
            dg = b"crap\x00\x14\xab\xcd" + bytes([first]) + bytes(19)
            self.assertEqual(cu.decode(b"\0", dg)[0], want)

    def test_cmdline(self):
        a = cu.parse_args(["-k", "1234ABCD", "-p", "10.0.0.2",
                           "192.168.77.1", "192.168.77.2"])
        self.assertEqual((a.key, a.peer, a.ifname, a.port, a.peer_port),
                         (bytes.fromhex("1234abcd"), "10.0.0.2", "crap0",
                          1337, 1337))
        for bad in ("", "123", "zz", "00" * 4097):
            with self.assertRaises(SystemExit), \
                    contextlib.redirect_stderr(io.StringIO()):
                cu.parse_args(["-k", bad, "-p", "h", "a", "b"])


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        VECTORS = sys.argv.pop(1)
    prog = unittest.main(verbosity=1, exit=False)
    r = prog.result
    bad = len(r.failures) + len(r.errors) + len(r.unexpectedSuccesses)
    print(f"{r.testsRun - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)
