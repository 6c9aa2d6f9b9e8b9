# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the packaging tests (tests/pkg/*-test.sh). Sourced.
#
# Every check is counted by tests/lib/tap.sh (ok, fail, skip, tap_add_counts
# for a sub-run's output); a test script ends with pkg_summary, tap.sh's
# summary ending in "N passed, N failed", which returns non-zero if anything
# failed or nothing passed (tests/pkg/run adds the counts up).

PKG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck disable=SC2034 # used by the scripts that source this
PKG_CACHE=${CRAPVPN_PKG_CACHE:-/var/cache/crapvpn}
PKG_T0=$SECONDS
# shellcheck source=tests/lib/tap.sh
. "$PKG_ROOT/tests/lib/tap.sh"
tap_init

log() { printf '# %s\n' "$*"; }
die() { fail "$*"; pkg_summary; exit 1; }

# check MSG CMD...: passes when CMD succeeds; on failure, the tail of its
# output is shown (it is not shown on success, to keep the log short).
check() {
	local msg=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [[ $rc -eq 0 ]]; then
		ok "$msg"
	else
		fail "$msg (exit status $rc)"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/#   /'
	fi
	return $rc
}

# check_fails MSG CMD...: passes when CMD fails.
check_fails() {
	local msg=$1
	shift
	if "$@" >/dev/null 2>&1; then fail "$msg"; else ok "$msg"; fi
}

# check_eq MSG GOT WANT
check_eq() {
	if [[ $2 == "$3" ]]; then ok "$1"; else fail "$1: got '$2', want '$3'"; return 1; fi
}

# timed MSG CMD...: runs CMD and logs how long it took (for the CI budget).
timed() {
	local msg=$1 t0=$SECONDS rc=0
	shift
	"$@" || rc=$?
	log "time: $msg: $((SECONDS - t0)) s"
	return $rc
}

# pkg_summary [FILE]: tap_summary (copied to FILE), and nothing passed fails.
# shellcheck disable=SC2120 # FILE is optional
pkg_summary() {
	log "time: $(basename "$0") total: $((SECONDS - PKG_T0)) s"
	tap_summary --need-pass "$@"
}

# CRAPVPN_VERSION of crapvpn.h: the DKMS module version and the upstream
# version of the packages.
pkg_version() {
	sed -n 's/^#define[[:space:]]\+CRAPVPN_VERSION[[:space:]]\+"\([^"]*\)".*/\1/p' "$PKG_ROOT/crapvpn.h"
}

# export_tree DIR: the files git knows (tracked, or untracked and not
# ignored) copied to DIR. Tests build there, not in the working tree, so
# that they never replace the crapvpn.ko someone else is testing with.
export_tree() {
	mkdir -p "$1"
	git -C "$PKG_ROOT" ls-files -z --cached --others --exclude-standard |
		(cd "$PKG_ROOT" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$PKG_ROOT" --null -T - -cf - | tar -C "$1" -xf -
}

# kernel_info NAME: sets K_NAME K_KVER K_VMLINUZ K_MODDIR K_KDIR K_ROOT from
# tests/kernels.sh list; fails if that kernel is not provisioned.
kernel_info() {
	local line
	line=$("$PKG_ROOT/tests/kernels.sh" list "$1") || return 1
	[[ -n $line ]] || return 1
	# shellcheck disable=SC2034 # K_* are for the caller
	read -r K_NAME K_KVER K_VMLINUZ K_MODDIR K_KDIR K_ROOT <<<"$line"
}

# vm NAME OUT KVER VMLINUZ MODDIR CMD...: one VM run (never two at once: the
# machine is shared), console saved in OUT/vm-console.log. VM_CPUS (default
# 2) vCPUs, or $CRAPVPN_VM_CPUS if set.
vm() {
	local name=$1 out=$2 kver=$3 vmlinuz=$4 moddir=$5 rc=0
	shift 5
	mkdir -p "$out"
	timed "$name: VM" "$PKG_ROOT/tests/vm/vm-run" --kernel "$vmlinuz" --kver "$kver" \
		--modules "$moddir" --out "$out" --timeout "${CRAPVPN_VM_TIMEOUT:-1500}" \
		--cpus "${CRAPVPN_VM_CPUS:-${VM_CPUS:-2}}" --console none -- "$@" || rc=$?
	return $rc
}

# vm_counts NAME OUT: after vm() ran tests/pkg/vm-installed.sh, shows its
# results from the console and adds its counts and skips (OUT/pkg-result);
# no result file (the VM died first) is one failure.
vm_counts() {
	local name=$1 out=$2
	grep -E '^ *(ok|not ok|skip|#)' "$out/vm-console.log" 2>/dev/null | grep -v '^# time' | sed 's/^/  /'
	if [[ -s $out/pkg-result ]]; then
		tap_add_counts "$name" <"$out/pkg-result"
	else
		fail "$name: VM run finished (console: $out/vm-console.log)"
		tail -n 20 "$out/vm-console.log" 2>/dev/null | sed 's/^/#   /'
	fi
}
