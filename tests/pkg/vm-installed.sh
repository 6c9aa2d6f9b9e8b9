#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test VM (tests/vm/vm-run), as root: checks that the crapvpn
# module installed under /lib/modules/$(uname -r) by DKMS (directly or
# through the crapvpn-dkms package) is the one `ip link add ... type
# crapvpn` autoloads, and that it works.
#
#   tests/pkg/vm-installed.sh [--tools ROOT]
#
# --tools ROOT also tests crapvpn(8) and the ip link plugin installed under
# ROOT (the chroot of tests/pkg/deb-test.sh): ROOT's own ip(8) must find the
# plugin where Debian's ip looks, without IP_LIB_DIR, and
# tests/tools/test-cli.sh --live runs its round trip with the installed tool
# and plugin.
#
# Ends with tests/lib/tap.sh's summary ("N skipped", "N passed, N failed")
# and writes it to $VM_OUT/pkg-result.
set -u -o pipefail

. "$(dirname "$0")/lib.sh"

TOOLS_ROOT=
while [[ $# -gt 0 ]]; do
	case $1 in
	--tools) TOOLS_ROOT=$2; shift 2 ;;
	*) echo "usage: $0 [--tools ROOT]" >&2; exit 2 ;;
	esac
done

finish() {
	pkg_summary "${VM_OUT:-/tmp}/pkg-result"
	exit
}

kver=$(uname -r)
log "kernel $kver"

# Where modprobe will take the module from: DKMS installs into updates/dkms
# (depmod prefers updates/ to every other directory); make install uses extra/.
file=$(modinfo -F filename crapvpn 2>&1)
f=${file%.xz} f=${f%.zst} f=${f%.gz}   # compressed like the kernel's modules
if [[ $f == "/lib/modules/$kver/updates/dkms/crapvpn.ko" ]]; then
	ok "modinfo finds crapvpn in updates/dkms ($file)"
else
	fail "modinfo finds crapvpn in updates/dkms: got '$file'"
fi
check_eq "the module version is crapvpn.h's" "$(modinfo -F version crapvpn 2>&1)" "$(pkg_version)"
# The rtnl alias is what ip link add requests (request_module("rtnl-link-%s")).
check_eq "the alias rtnl-link-crapvpn resolves (modules.alias)" \
	"$(modprobe -R rtnl-link-crapvpn 2>&1)" crapvpn
if [[ -e /sys/module/crapvpn ]]; then
	fail "crapvpn is not loaded before the test (it is: autoload would prove nothing)"
else
	ok "crapvpn is not loaded before the test"
fi

# The smoke test loads nothing itself with --installed: ip link add does.
smoke=$("$PKG_ROOT/tests/net/run" --installed "$PKG_ROOT/tests/net/10-smoke.sh" 2>&1)
printf '%s\n' "$smoke" | sed 's/^/  /'
tap_add_counts "tests/net/10-smoke.sh --installed" <<<"$smoke"

# The loaded module is the file modinfo found (same srcversion), not some
# other crapvpn.ko.
if [[ -e /sys/module/crapvpn/srcversion ]]; then
	check_eq "the autoloaded module is the installed file (srcversion)" \
		"$(cat /sys/module/crapvpn/srcversion)" "$(modinfo -F srcversion crapvpn)"
else
	fail "crapvpn was autoloaded (/sys/module/crapvpn missing)"
fi

if [[ -n $TOOLS_ROOT ]]; then
	# ROOT's own ip, with no IP_LIB_DIR: Debian's ip must find link_crapvpn.so
	# in /usr/lib/<multiarch>/ip. Run in a network namespace of its own.
	out=$(unshare -n chroot "$TOOLS_ROOT" /bin/sh -ec '
		unset IP_LIB_DIR
		ip link add cvpkg type crapvpn key 1234abcd peer 192.0.2.9 peer-port 4001
		ip -d link show cvpkg
		crapvpn show cvpkg
		ip link del cvpkg' 2>&1)
	rc=$?
	if [[ $rc -eq 0 && $out == *"crapvpn peer 192.0.2.9 peer-port 4001"* &&
		$out == *"cvpkg: "*"peer 192.0.2.9 peer-port 4001"* ]]; then
		ok "the packaged ip plugin and crapvpn(8) work from their installed paths"
	else
		fail "the packaged ip plugin and crapvpn(8) work from their installed paths (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
	# The live half of tests/tools/test-cli.sh (add/show/set/del with both
	# the tool and ip) with the installed files; its offline half ran in the
	# package build (dh_auto_test) and is slow under TCG.
	cli=$(CRAPVPN="$TOOLS_ROOT/usr/sbin/crapvpn" IP="$(command -v ip)" \
		PLUGIN_DIR="$TOOLS_ROOT/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/ip" \
		unshare -n -- "$PKG_ROOT/tests/tools/test-cli.sh" --live 2>&1)
	printf '%s\n' "$cli" | grep -E '^(not ok|skip|==)' | sed 's/^/  /'
	tap_add_counts "tests/tools/test-cli.sh --live with the packaged tool and plugin" <<<"$cli"
fi

finish
