#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the VM's results.tsv into the benchmark's table, JSON and chart.

    report.py RESULTS_TSV CONDITIONS_TXT OUTDIR

With several rounds, each figure is the median of the rounds'.
Writes OUTDIR/results.txt (the table printed to stdout too), results.json,
results.dat (gnuplot's input) and results.png (tests/bench/chart.gp).
"""

import json
import os
import statistics
import subprocess
import sys

PATHS = ["veth", "fou", "crapvpn", "crapvpn-l2", "wireguard", "userspace"]
# Ablations (tests/bench/inside.sh): shown only when measured; crapvpn over
# one of them is what that technique buys.
ABLATIONS = ["crapvpn-nogso", "crapvpn-nogro"]
# Variants that add something to a path, shown only when measured: the
# variant over its path is what that addition buys.
VARIANTS = {"fou-rps": "fou", "crapvpn-rps": "crapvpn"}
LABELS = {"veth": "veth (no tunnel)", "fou": "ipip over FOU",
          "crapvpn": "crapvpn", "crapvpn-l2": "crapvpn, layer 2",
          "wireguard": "WireGuard",
          "userspace": "userspace peer", "crapvpn-nogso": "crapvpn, no GSO",
          "crapvpn-nogro": "crapvpn, no GRO", "fou-rps": "FOU, RPS on fou0",
          "crapvpn-rps": "crapvpn, RPS on cv0"}
# metric: (column title, unit, higher is better)
METRICS = {
    "tcp1_ab": ("TCP 1 a->b", "Mbit/s", True),
    "tcp1_ba": ("TCP 1 b->a", "Mbit/s", True),
    "tcp4_ab": ("TCP 4 a->b", "Mbit/s", True),
    "udp64_pps": ("UDP 64 B", "pkt/s", True),
    "rtt_ms": ("ping RTT", "ms avg", False),
    # during the "TCP 1 a->b" run: the latency the path adds under load
    "rtt_load_ms": ("ping loaded", "ms avg", False),
}
NOTE = ("Under QEMU TCG (no KVM), on host CPUs shared with other work, the\n"
        "absolute figures are noisy and far below real hardware: only the\n"
        "ratios between paths measured in the same run mean anything.")


def number(s):
    try:
        return float(s)
    except ValueError:
        return None


def fmt(v):
    if v is None:
        return "NA"
    return f"{v:.0f}" if v >= 100 else f"{v:.3g}"


def main():
    tsv, conditions_file, outdir = sys.argv[1:4]
    # Every round's figure, then the median of those that were measured.
    runs = {}
    with open(tsv) as f:
        for line in f:
            path, metric, value = line.rstrip("\n").split("\t")
            runs.setdefault((path, metric), []).append(number(value))
    results = {p: {m: None for m in METRICS} for p in PATHS}
    for (path, metric), values in runs.items():
        values = [v for v in values if v is not None]
        results.setdefault(path, {})[metric] = (
            statistics.median(values) if values else None)
    with open(conditions_file) as f:
        conditions = [line.strip() for line in f if line.strip()]

    ablations = [p for p in ABLATIONS if p in results]
    variants = [p for p in VARIANTS if p in results]
    paths = PATHS + ablations + variants
    pairs = [("crapvpn", other)
             for other in ["fou", "wireguard", "userspace"] + ablations]
    pairs += [(v, VARIANTS[v]) for v in variants]
    pairs.append(("crapvpn-l2", "crapvpn"))
    ratios = {}
    for top, bottom in pairs:
        ratios[f"{top}/{bottom}"] = {}
        for m in METRICS:
            a, b = results[top].get(m), results[bottom].get(m)
            ratios[f"{top}/{bottom}"][m] = a / b if a and b else None

    w = 25
    lines = ["crapvpn benchmark"] + ["  " + c for c in conditions]
    lines += ["", NOTE, ""]
    lines.append(f"{'path':<{w}}" + "".join(
        f"{METRICS[m][0]:>13}" for m in METRICS))
    lines.append(f"{'':<{w}}" + "".join(
        f"{METRICS[m][1]:>13}" for m in METRICS))
    for p in paths:
        lines.append(f"{LABELS[p]:<{w}}" + "".join(
            f"{fmt(results[p].get(m)):>13}" for m in METRICS))
    lines.append("TCP retransmitted segments over the three TCP runs: " + ", ".join(
        f"{p} {fmt(results[p].get('tcp_retrans'))}" for p in paths))
    lines.append("")
    lines.append("ratios (for the RTT, below 1 means the first is faster)")
    for r, vals in ratios.items():
        lines.append(f"{r:<{w}}" + "".join(
            f"{'NA' if vals[m] is None else f'{vals[m]:.2f}':>13}"
            for m in METRICS))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)

    with open(os.path.join(outdir, "results.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"conditions": conditions, "note": NOTE.replace("\n", " "),
                   "units": {m: METRICS[m][1] for m in METRICS},
                   "results": results, "ratios": ratios,
                   "rounds": {f"{p} {m}": v for (p, m), v in runs.items()}},
                  f, indent=2)
        f.write("\n")
    dat = os.path.join(outdir, "results.dat")
    with open(dat, "w") as f:
        f.write("path " + " ".join(METRICS) + "\n")
        for p in PATHS:
            f.write(p + " " + " ".join(
                "NA" if results[p].get(m) is None else repr(results[p][m])
                for m in METRICS) + "\n")
    png = os.path.join(outdir, "results.png")
    chart = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "chart.gp")
    subtitle = conditions[0] if conditions else ""
    subprocess.run(["gnuplot", "-e",
                    f"data='{dat}'; out='{png}'; subtitle='{subtitle}'",
                    chart], check=True)
    print(f"table: {outdir}/results.txt, {outdir}/results.json; "
          f"chart: {png}")


if __name__ == "__main__":
    main()
