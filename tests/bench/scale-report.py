#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the VM's scale.tsv (tests/bench/scale-inside.sh) into a table.

    scale-report.py SCALE_TSV CONDITIONS_TXT

With several rounds, each figure is the median of the rounds'.
"""

import statistics
import sys

NOTE = ("Under QEMU TCG (no KVM), on host CPUs shared with other work, the\n"
        "absolute figures are noisy and far below real hardware: only the\n"
        "ratios between counts measured in the same run mean anything.")


def main():
    tsv, conditions_file = sys.argv[1:3]
    runs = {}
    with open(tsv) as f:
        for line in f:
            n, metric, value = line.rstrip("\n").split("\t")
            try:
                v = float(value)
            except ValueError:
                continue
            runs.setdefault((int(n), metric), []).append(v)

    def get(n, m):
        v = runs.get((n, m))
        return statistics.median(v) if v else None

    with open(conditions_file) as f:
        conditions = [line.strip() for line in f if line.strip()]
    print("crapvpn scale benchmark: devices on one UDP port")
    for c in conditions:
        print("  " + c)
    print()
    print(NOTE)
    print()
    for (n, m) in sorted(runs):
        if m == "create_s":
            print(f"{n} devices (link add, addr add, link up; one ip -batch):"
                  f" created in {get(n, 'create_s'):.1f} s,"
                  f" deleted in {get(n, 'delete_s'):.1f} s")
            print(f"  memory per device: Slab {get(n, 'slab_kib_per_dev'):.1f}"
                  f" KiB, MemAvailable {get(n, 'mem_kib_per_dev'):.1f} KiB")
    print()
    def fmt(v):
        return "NA" if v is None else f"{v:.0f}"

    def us(v):
        return "NA" if v is None else f"{v:.1f}"

    counts = sorted({n for (n, m) in runs if m == "rx_pps"})
    base = get(counts[0], "rx_pps") if counts else None
    print(f"{'devices':>8}{'received/s':>13}{'vs ' + str(counts[0]) if counts else '':>9}"
          f"{'sent/s':>11}{'RX CPU us':>11}{'RX errors':>11}"
          f"{'unknown peer':>14}")
    for n in counts:
        rx = get(n, "rx_pps")
        ratio = f"{rx / base:.2f}" if rx is not None and base else "NA"

        print(f"{n:>8}{fmt(rx):>13}{ratio:>9}{fmt(get(n, 'sent_pps')):>11}"
              f"{us(get(n, 'rx_cpu_us')):>11}{fmt(get(n, 'rx_errors')):>11}"
              f"{fmt(get(n, 'unknown_peer')):>14}")
    for n in counts:
        rx = get(n, "rx_pps_one")
        if rx is None:
            continue
        ratio = f"{rx / base:.2f}" if base else "NA"
        print(f"{n:>8}{fmt(rx):>13}{ratio:>9}"
              f"{fmt(get(n, 'sent_pps_one')):>11}"
              f"{us(get(n, 'rx_cpu_us_one')):>11}"
              f"{fmt(get(n, 'rx_errors_one')):>11}"
              f"{fmt(get(n, 'unknown_peer_one')):>14}"
              "  (one peer sending)")
    print("received/s: datagrams the devices counted (rx_packets, summed),"
          " per second of sending;\nRX CPU us: the receiving CPU's busy"
          " time per datagram received, in microseconds")


if __name__ == "__main__":
    main()
