#!/bin/bash
# The demo from a fresh Debian bookworm machine: installs what it needs,
# builds the module and tools for bookworm's 6.1 kernel, boots that kernel
# in QEMU and runs tests/demo-inside.sh there (two peers, a tunnel, ping,
# a capture of the wire bytes, iperf3, counters).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
"$ROOT/tests/setup-host.sh"
"$ROOT/tests/kernels.sh" setup 6.1 >/dev/null
read -r _ kver vmlinuz moddir _ _ < <("$ROOT/tests/kernels.sh" list 6.1)
make -s -C "$ROOT" module KVER="$kver"
make -s -C "$ROOT/tools"
exec "$ROOT/tests/vm/vm-run" --kernel "$vmlinuz" --kver "$kver" \
	--modules "$moddir" --console stdout --append quiet -- \
	"$ROOT/tests/demo-inside.sh" "$ROOT/crapvpn.ko"
