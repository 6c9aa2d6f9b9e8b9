#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make install / make uninstall test, into a DESTDIR staging directory (the
# host is never installed to): for each kernel, the exact list of installed
# files and their modes, that the module is built for that kernel and
# carries the rtnl alias, that the plugin is where Debian's ip(8) looks and
# ip loads it, that the man pages render cleanly, that DEPMOD=depmod makes
# the alias resolvable in the staged tree, and that uninstall leaves no file
# behind.
#
#   tests/pkg/install-test.sh [KERNEL...]   KERNEL: 6.1 6.12 (default: both;
#                                           the host's kernels)
#
# It works on an export of the source tree (the files git knows), so the
# build does not replace the working tree's crapvpn.ko. Ends with
# "N passed, N failed". Not set -e: failed checks are counted.
set -u -o pipefail

. "$(dirname "$0")/lib.sh"

NAMES=("$@")
[[ ${#NAMES[@]} -gt 0 ]] || NAMES=(6.1 6.12)
OUT=${CRAPVPN_PKG_OUT:-/var/tmp/crapvpn-pkg}/install
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
SRC=$OUT/src

# The files in DIR, with their modes, one "MODE PATH" per line.
listing() { (cd "$1" && find . ! -type d -printf '%m %P\n' | sort); }

test_kernel() { # name
	local name=$1 stage=$OUT/stage-$1 want got ko log=$OUT/make-$1.log ext
	if ! kernel_info "$name" || [[ $K_ROOT != / ]]; then
		fail "$name: a host kernel (tests/kernels.sh setup $name)"
		return
	fi
	log "=== $name: $K_KVER"
	rm -rf "$stage"
	if timed "$name: make install" make -C "$SRC" install KVER="$K_KVER" DESTDIR="$stage" >"$log" 2>&1; then
		ok "$name: make install DESTDIR=... KVER=$K_KVER"
	else
		fail "$name: make install DESTDIR=... KVER=$K_KVER (log: $log)"
		tail -n 30 "$log" | sed 's/^/#   /'
		return
	fi
	# Kbuild's modules_install compresses like the kernel's own modules
	# (6.12: CONFIG_MODULE_COMPRESS_XZ).
	ko=$(cd "$stage" && find lib -name 'crapvpn.ko*')
	ext=${ko##*/crapvpn.ko}
	want="644 lib/modules/$K_KVER/extra/crapvpn.ko$ext
644 lib/systemd/system/crapvpn@.service
644 usr/lib/$MULTIARCH/ip/link_crapvpn.so
644 usr/lib/$MULTIARCH/wireshark/plugins/crapvpn.lua
644 usr/share/bash-completion/completions/crapvpn
644 usr/share/man/man5/crapvpn.conf.5
644 usr/share/man/man8/crapvpn.8
644 usr/share/man/man8/ip-link-crapvpn.8
755 usr/sbin/crapvpn"
	got=$(listing "$stage")
	if [[ $got == "$want" ]]; then
		ok "$name: installed files and modes"
	else
		fail "$name: installed files and modes"
		diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
	fi
	if [[ -n $ko ]]; then
		check_eq "$name: the module's vermagic is $K_KVER" \
			"$(modinfo -F vermagic "$stage/$ko" | awk '{print $1}')" "$K_KVER"
		check "$name: the module has the alias rtnl-link-crapvpn" \
			bash -c 'modinfo -F alias "$1" | grep -qx rtnl-link-crapvpn' _ "$stage/$ko"
	fi
	# ip(8) loads the staged plugin (its help needs no kernel module).
	check "$name: ip loads the installed plugin" bash -c \
		'IP_LIB_DIR=$1 ip link add cv9 type crapvpn help 2>&1 | grep -q "Usage: ip link add DEV type crapvpn"' \
		_ "$stage/usr/lib/$MULTIARCH/ip"
	check "$name: the installed crapvpn runs" "$stage/usr/sbin/crapvpn" --version
	check "$name: the man pages render without warnings" bash -c '
		for p in "$@"; do
			w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
			[ -z "$w" ] || { echo "$p: $w"; exit 1; }
		done' _ "$stage"/usr/share/man/man8/*.8 "$stage"/usr/share/man/man5/*.5

	if make -C "$SRC" uninstall KVER="$K_KVER" DESTDIR="$stage" >>"$log" 2>&1; then
		ok "$name: make uninstall DESTDIR=..."
	else
		fail "$name: make uninstall DESTDIR=... (log: $log)"
	fi
	got=$(listing "$stage")
	check_eq "$name: uninstall removed every installed file" "$got" ""

	# DEPMOD=depmod: depmod -b DESTDIR runs, so the staged tree resolves the
	# alias that ip link add asks for; uninstall runs it again.
	rm -rf "$stage"
	if make -C "$SRC" install KVER="$K_KVER" DESTDIR="$stage" DEPMOD=depmod >>"$log" 2>&1; then
		check_eq "$name: DEPMOD=depmod: rtnl-link-crapvpn resolves in the staged tree" \
			"$(modprobe -d "$stage" -S "$K_KVER" -R rtnl-link-crapvpn 2>&1)" crapvpn
		make -C "$SRC" uninstall KVER="$K_KVER" DESTDIR="$stage" DEPMOD=depmod >>"$log" 2>&1
		check "$name: DEPMOD=depmod: after uninstall only depmod's index files remain" bash -c '
			cd "$1" && ! find . ! -type d ! -path "./lib/modules/$2/modules.*" | grep . &&
			! grep -q crapvpn "lib/modules/$2/modules.alias"' _ "$stage" "$K_KVER"
	else
		fail "$name: make install DEPMOD=depmod (log: $log)"
		tail -n 30 "$log" | sed 's/^/#   /'
	fi
	rm -rf "$stage"
}

rm -rf "$OUT"
mkdir -p "$OUT"
timed "export the source tree" export_tree "$SRC"
for n in "${NAMES[@]}"; do
	timed "install $n" test_kernel "$n"
done
# Logs stay for a look when something failed.
[[ $(tap_count fail) -ne 0 ]] || rm -rf "$OUT"
pkg_summary
