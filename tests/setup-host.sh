#!/bin/bash
# Installs, on a Debian bookworm host, everything crapvpn's build, tests,
# demo and benchmarks use. Idempotent: a second run only checks.
#
#   tests/setup-host.sh            packages only (kernels: tests/kernels.sh)
set -euo pipefail

# Every command the build, tests, demo and benchmarks run comes from one of
# these or from an Essential package: a fresh machine has nothing else
# (tests/fresh-check proves it). procps: sysctl (60-lifecycle), pgrep
# (bench); xxd: 25-tool; nftables: nft (55-shared's NAT); cpio: vm-run's
# initramfs; git: make deb, tests/pkg; systemd: PID 1 in the VM of
# tests/pkg/systemd-test.sh (a minbase root has none).
PKGS=(
	build-essential pkg-config kmod bc flex bison libelf-dev libssl-dev
	linux-image-amd64 linux-headers-amd64 linux-source-6.1 sparse
	libmnl-dev iproute2 dkms debhelper dh-dkms dpkg-dev lintian fakeroot
	qemu-system-x86 busybox-static cpio debootstrap git
	iputils-ping ethtool tcpdump tshark iperf3 netcat-openbsd socat nftables
	procps xxd python3 python3-pyroute2 jq xz-utils zstd
	valgrind clang libclang-rt-14-dev gnuplot-nox wireguard-tools linux-perf
	systemd
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup-host: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -q
	# tshark asks whether non-root users may capture: the default (no) is fine.
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
		"${missing[@]}"
fi

# checkpatch.pl comes from the kernel source tarball.
SRC=/var/cache/crapvpn/linux-source-6.1
if [ ! -x "$SRC/scripts/checkpatch.pl" ]; then
	mkdir -p "$SRC"
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$SRC" --strip-components=1 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi
