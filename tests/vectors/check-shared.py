#!/usr/bin/env python3
"""Do the repository's wire vectors agree with the 1.0 vectors in shared/?

usage: check-shared.py [SHARED.jsonl]
  (default: $CRAPVPN_SHARED_VECTORS, else ../shared/vectors/wire-vectors.jsonl
  beside the repository)

1. make-vectors.py --check: the committed file is what the script writes;
2. both files hold the same cases: (name, expect, reason, key length,
   plaintext length);
3. the userspace peer encodes and decodes every shared vector
   (tests/userspace/test_userspace.py on the shared file);
4. the C unit tests pass on the shared file (tests/unit, make check).

Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed". Without
the shared file it checks nothing: it says "# SKIPPED ..." and counts
0 passed, 0 failed.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OURS = os.path.join(HERE, "wire-vectors.jsonl")
results = {"ok": 0, "not ok": 0}


def report(ok, what, details=()):
    verdict = "ok" if ok else "not ok"
    results[verdict] += 1
    print(f"{verdict} - {what}")
    for line in details:
        print(f"#   {line}")


def run(what, cmd):
    """CMD's output is shown in full if it fails, else its last line."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    lines = p.stdout.splitlines()
    report(p.returncode == 0,
           f"{what} (exit status {p.returncode})" if p.returncode else what,
           lines if p.returncode else lines[-1:])


def cases(path):
    def length(hexstr):
        return None if hexstr is None else len(hexstr) // 2
    with open(path) as f:
        return {(v["name"], v["expect"], v.get("reason"), length(v["key"]),
                 length(v["plaintext"]))
                for v in map(json.loads, filter(str.strip, f))}


def main(argv):
    shared = (argv[0] if argv else os.environ.get("CRAPVPN_SHARED_VECTORS") or
              os.path.join(os.path.dirname(ROOT), "shared", "vectors",
                           "wire-vectors.jsonl"))
    if not os.path.isfile(shared):
        print(f"# SKIPPED shared vectors: no {shared}")
        print("0 passed, 0 failed")
        return 0
    print(f"# {os.path.relpath(OURS, ROOT)} against {shared}")
    run("make-vectors.py --check: the committed vectors are the script's",
        [sys.executable, os.path.join(HERE, "make-vectors.py"), "--check"])

    ours, theirs = cases(OURS), cases(shared)
    report(ours == theirs,
           f"the same {len(theirs)} cases (name, expect, reason, key and "
           "plaintext lengths)",
           [f"only in ours:   {c}" for c in sorted(ours - theirs, key=str)] +
           [f"only in shared: {c}" for c in sorted(theirs - ours, key=str)])

    run("the userspace peer encodes and decodes the shared vectors",
        [sys.executable,
         os.path.join(ROOT, "tests", "userspace", "test_userspace.py"),
         shared])
    run("the C unit tests pass on the shared vectors",
        ["make", "-s", "-C", os.path.join(ROOT, "tests", "unit"), "check",
         f"VECTORS={os.path.abspath(shared)}"])

    print(f"{results['ok']} passed, {results['not ok']} failed")
    return 1 if results["not ok"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
