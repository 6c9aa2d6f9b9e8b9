#!/usr/bin/env python3
"""Do the repository's wire vectors agree with those in shared/?

usage: check-shared.py [SHARED_DIR]
  (default: $CRAPVPN_SHARED_VECTORS, else ../shared/vectors beside the
  repository)

1. make-vectors.py --check: the committed files are what the script writes;
2. for 1.0 (wire-vectors.jsonl) and 1.1 (wire-vectors-1.1.jsonl), both
   directories hold the same cases: (name, mode, expect, reason, key
   length, plaintext length, whether there is a `sent`);
3. the userspace peer encodes and decodes every shared 1.0 vector
   (tests/userspace/test_userspace.py on the shared file);
4. the C unit tests pass on both shared files (tests/unit, make check).

Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed". Without
the shared directory it checks nothing and counts one skip (tests/lib/tap.sh's
closing lines: "# skipped: ...", "1 skipped", "0 passed, 0 failed").
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FILES = ("wire-vectors.jsonl", "wire-vectors-1.1.jsonl")
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
        return {(v["name"], v.get("mode"), v["expect"], v.get("reason"),
                 length(v["key"]), length(v["plaintext"]), "sent" in v)
                for v in map(json.loads, filter(str.strip, f))}


def main(argv):
    shared = (argv[0] if argv else os.environ.get("CRAPVPN_SHARED_VECTORS") or
              os.path.join(os.path.dirname(ROOT), "shared", "vectors"))
    if not os.path.isfile(os.path.join(shared, FILES[0])):
        why = f"shared vectors: no {shared}/{FILES[0]} to compare with"
        # The closing lines of tests/lib/tap.sh: a counted skip.
        print(f"skip - {why}")
        print(f"# skipped: {why}")
        print("1 skipped")
        print("0 passed, 0 failed")
        return 0
    print(f"# {os.path.relpath(HERE, ROOT)} against {shared}")
    run("make-vectors.py --check: the committed vectors are the script's",
        [sys.executable, os.path.join(HERE, "make-vectors.py"), "--check"])

    for name in FILES:
        theirs_path = os.path.join(shared, name)
        if not os.path.isfile(theirs_path):
            report(False, f"{theirs_path} exists")
            continue
        ours, theirs = cases(os.path.join(HERE, name)), cases(theirs_path)
        report(ours == theirs,
               f"{name}: the same {len(theirs)} cases (name, mode, expect, "
               "reason, key and plaintext lengths, sent)",
               [f"only in ours:   {c}" for c in sorted(ours - theirs, key=str)] +
               [f"only in shared: {c}" for c in sorted(theirs - ours, key=str)])
        run(f"the C unit tests pass on the shared {name}",
            ["make", "-s", "-C", os.path.join(ROOT, "tests", "unit"), "check",
             f"VECTORS={os.path.abspath(theirs_path)}"])

    run("the userspace peer encodes and decodes the shared 1.0 vectors",
        [sys.executable,
         os.path.join(ROOT, "tests", "userspace", "test_userspace.py"),
         os.path.join(shared, FILES[0])])

    print(f"{results['ok']} passed, {results['not ok']} failed")
    return 1 if results["not ok"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
