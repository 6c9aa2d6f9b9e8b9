#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DKMS test: for each supported kernel, none of which is the running one,
# install crapvpn through DKMS with -k KVER, boot that kernel in the VM and
# check that `ip link add ... type crapvpn` autoloads the DKMS-built module
# (tests/pkg/vm-installed.sh: tests/net/10-smoke.sh --installed), then
# remove it again.
#
#   tests/pkg/dkms-test.sh [KERNEL...]      KERNEL: 6.1 6.12 sid (default: all)
#
# 6.1 and sid use the dkms commands (make dkms-src stages the sources),
# 6.12 the make dkms-install / dkms-uninstall targets that wrap them.
# 6.1 and 6.12 are installed on the host itself (/usr/src/crapvpn-VERSION,
# /var/lib/dkms, /lib/modules/KVER/updates/dkms) because the VM boots with
# the host's /lib/modules/KVER; sid's kernel lives in the sid chroot
# (tests/kernels.sh), so DKMS runs there: dkms is installed into the chroot
# once (from sid, kept like the rest of that cached chroot) and the module
# lands in the chroot's /lib/modules/KVER, which the VM boots with.
#
# The host is left as found: the script refuses to run if crapvpn is
# already known to DKMS (it would remove someone's install), and compares
# /usr/src, /var/lib/dkms, updates/ and depmod's output before and after.
# A signing key that dkms generates (/var/lib/dkms/mok.key, mok.pub) is
# removed again if it did not exist before. Ends with "N passed, N failed".
#
# Not set -e: a failed check is counted and the script goes on to clean up.
set -u -o pipefail

. "$(dirname "$0")/lib.sh"

NAMES=("$@")
[[ ${#NAMES[@]} -gt 0 ]] || NAMES=(6.1 6.12 sid)
VER=$(pkg_version)
OUT=${CRAPVPN_PKG_OUT:-/var/tmp/crapvpn-pkg}/dkms
SID_APT=(apt-get -o Acquire::Check-Valid-Until=false -o DPkg::Lock::Timeout=600 -y -q)
[[ $(id -u) == 0 ]] || die "needs root (dkms, the VM)"
[[ -n $VER ]] || die "cannot read CRAPVPN_VERSION from crapvpn.h"
mkdir -p "$OUT"
cd "$PKG_ROOT" || exit 1   # tests/kernels.sh run binds the repo when run inside it

# State of the kernel currently being tested, for cleanup on any exit.
CUR_NAME="" CUR_ROOT="" CUR_KVER="" CUR_ADDED="" CUR_MOK="" CUR_UPD=""

# Run a command where this kernel's DKMS lives: the host, or the sid chroot.
in_env() {
	if [[ $CUR_NAME == sid ]]; then
		"$PKG_ROOT/tests/kernels.sh" run sid "$@"
	else
		"$@"
	fi
}

# What DKMS touches, to compare before and after (paths relative to ROOT).
snapshot() { # root kver
	local r=${1%/} k=$2
	(
		cd "$r/" || exit 1
		find usr/src -maxdepth 1 | sort
		find var/lib/dkms 2>/dev/null | sort
		find "lib/modules/$k/updates" 2>/dev/null | sort
		sha256sum "lib/modules/$k"/modules.{dep,alias,symbols,dep.bin,alias.bin} 2>/dev/null
	)
}

cleanup() {
	[[ -n $CUR_NAME ]] || return 0
	local r=${CUR_ROOT%/}
	if [[ -n $CUR_ADDED ]]; then
		in_env dkms remove "crapvpn/$VER" --all >/dev/null 2>&1 || true
	fi
	rm -rf "$r/usr/src/crapvpn-$VER"
	# dkms generates a signing key on first use; one that we made goes again.
	[[ -n $CUR_MOK ]] || rm -f "$r/var/lib/dkms/mok.key" "$r/var/lib/dkms/mok.pub"
	# dkms leaves the empty directories it created behind.
	[[ -n $CUR_UPD ]] || { rmdir "$r/lib/modules/$CUR_KVER/updates/dkms" "$r/lib/modules/$CUR_KVER/updates"; } 2>/dev/null
	CUR_NAME=""
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sid_dkms() {
	local sid=$K_ROOT
	[[ -x $sid/usr/sbin/dkms ]] && return 0
	log "sid: installing dkms into the chroot (kept there for the next run)"
	# The chroot's lists may be old or gone (sid moves): update and retry.
	{
		in_env "${SID_APT[@]}" install --no-install-recommends dkms ||
			{ in_env "${SID_APT[@]}" update && in_env "${SID_APT[@]}" install --no-install-recommends dkms; }
	} >"$OUT/sid-apt.log" 2>&1 || { tail -n 20 "$OUT/sid-apt.log" | sed 's/^/#   /'; return 1; }
	in_env "${SID_APT[@]}" clean
}

test_kernel() { # name
	local name=$1 r before after ko out=$OUT/$1
	if ! kernel_info "$name"; then
		fail "$name: kernel provisioned (run: tests/kernels.sh setup $name)"
		return
	fi
	log "=== $name: $K_KVER (root ${K_ROOT}, modules $K_MODDIR)"
	CUR_NAME=$name CUR_ROOT=$K_ROOT CUR_KVER=$K_KVER CUR_ADDED="" CUR_MOK="" CUR_UPD=""
	r=${K_ROOT%/}
	[[ -e $r/var/lib/dkms/mok.key ]] && CUR_MOK=1
	[[ -e $r/lib/modules/$K_KVER/updates ]] && CUR_UPD=1
	if [[ $name == sid ]]; then
		timed "sid: dkms in the chroot" sid_dkms || { fail "sid: dkms installable in the chroot"; CUR_NAME=""; return; }
	fi
	if in_env dkms status crapvpn 2>/dev/null | grep -q . || [[ -e $r/usr/src/crapvpn-$VER ]]; then
		fail "$name: crapvpn is not in DKMS yet (it is; not touching someone's install)"
		CUR_NAME=""
		return
	fi
	# The module's files must be where the VM boots from: the chroot's tree
	# for sid (tests/kernels.sh points MODDIR at a decompressed copy only
	# if the host's kmod cannot read sid's modules; DKMS installs elsewhere).
	if [[ $(realpath "$K_MODDIR") != $(realpath "$r/lib/modules/$K_KVER") ]]; then
		fail "$name: MODDIR $K_MODDIR is not $r/lib/modules/$K_KVER (decompressed copy): not supported here"
		CUR_NAME=""
		return
	fi
	before=$(snapshot "$r" "$K_KVER")

	CUR_ADDED=1
	if [[ $name == 6.12 ]]; then
		# The same steps through mk/install.mk's wrapper target.
		timed "$name: make dkms-install" check "$name: make dkms-install KVER=$K_KVER" \
			make -s -C "$PKG_ROOT" dkms-install KVER="$K_KVER"
	else
		check "$name: make dkms-src into $r/usr/src" \
			make -s -C "$PKG_ROOT" dkms-src DKMS_SRC_DIR="$r/usr/src/crapvpn-$VER"
		check "$name: dkms add crapvpn/$VER" in_env dkms add "crapvpn/$VER"
		timed "$name: dkms build" check "$name: dkms build -k $K_KVER" \
			in_env dkms build "crapvpn/$VER" -k "$K_KVER"
		check "$name: dkms install -k $K_KVER" in_env dkms install "crapvpn/$VER" -k "$K_KVER"
	fi
	[[ $(tap_count fail) -eq 0 ]] ||
		tail -n 30 "$r/var/lib/dkms/crapvpn/$VER/build/make.log" 2>/dev/null | sed 's/^/#   /'
	check "$name: dkms status says installed" \
		bash -c 'grep -q "crapvpn/$1, $2, .*: installed" <<<"$3"' _ "$VER" "$K_KVER" \
		"$(in_env dkms status crapvpn 2>&1)"
	ko=$(find "$r/lib/modules/$K_KVER/updates/dkms" -name 'crapvpn.ko*' 2>/dev/null | head -n 1)
	if [[ -n $ko ]]; then
		ok "$name: ${ko#"$r"} installed"
		check_eq "$name: its vermagic is $K_KVER" "$(modinfo -F vermagic "$ko" | awk '{print $1}')" "$K_KVER"
	else
		fail "$name: crapvpn.ko in $r/lib/modules/$K_KVER/updates/dkms"
	fi
	check "$name: depmod ran: modules.alias has rtnl-link-crapvpn" \
		grep -q '^alias rtnl-link-crapvpn crapvpn$' "$K_MODDIR/modules.alias"

	rm -rf "$out"
	# sid's kernel on QEMU TCG with two vCPUs now and then oopses on an
	# "int3" in code being live-patched (jump labels: at boot, or when ping
	# turns on timestamps), with or without crapvpn: a cross-vCPU
	# self-modifying-code race of TCG. One vCPU cannot race with itself.
	local VM_CPUS=2   # read by vm() in lib.sh
	# shellcheck disable=SC2034 # read by vm() in lib.sh
	[[ $name != sid ]] || VM_CPUS=1
	vm "$name" "$out" "$K_KVER" "$K_VMLINUZ" "$K_MODDIR" "$PKG_ROOT/tests/pkg/vm-installed.sh"
	vm_counts "$name: in the VM" "$out"

	if [[ $name == 6.12 ]]; then
		check "$name: make dkms-uninstall" make -s -C "$PKG_ROOT" dkms-uninstall
		check "$name: make dkms-uninstall removed /usr/src/crapvpn-$VER" test ! -e "/usr/src/crapvpn-$VER"
	else
		check "$name: dkms remove --all" in_env dkms remove "crapvpn/$VER" --all
	fi
	CUR_ADDED=""
	cleanup
	check "$name: module gone from updates/dkms" \
		bash -c '! find "$1" -name "crapvpn.ko*" 2>/dev/null | grep -q .' _ "$r/lib/modules/$K_KVER/updates"
	after=$(snapshot "$r" "$K_KVER")
	if [[ $before == "$after" ]]; then
		ok "$name: left as found (/usr/src, /var/lib/dkms, updates/, modules.*)"
	else
		fail "$name: left as found"
		diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'
	fi
}

for n in "${NAMES[@]}"; do
	timed "dkms $n" test_kernel "$n"
done
pkg_summary
