# shellcheck shell=bash
# Shared helpers of the in-VM tests (tests/net/*.sh). Sourced, not run.
#
# Topology (setup_pair): two namespaces "a" and "b" joined by veth va <-> vb,
# with documentation-range underlay addresses, both families:
#   a: 192.0.2.1/24 2001:db8::1/64      b: 192.0.2.2/24 2001:db8::2/64
# Tunnel helpers put inner addresses on top:
#   tunnel4 (IPv4 underlay): 198.51.100.1 <-> .2, fd00:4::1 <-> ::2
#   tunnel6 (IPv6 underlay): 203.0.113.1 <-> .2,  fd00:6::1 <-> ::2
#
# Results: check/ok/fail print TAP-like lines and count into $CV_RESULTS
# (one "pass" or "fail" line per check) so that the suite runner can sum
# them; a test script exits non-zero if any of its checks failed.

set -u -o pipefail

CV_ROOT=${CV_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
CV_TOOL=$CV_ROOT/tools/crapvpn
CV_USERSPACE=$CV_ROOT/tests/userspace/crapvpn-userspace.py
export IP_LIB_DIR=$CV_ROOT/tools	# ip(8) finds link_crapvpn.so here
CV_RESULTS=${CV_RESULTS:-/tmp/cv-results}
CV_TMP=${CV_TMP:-/tmp/cv.$$}
CV_FAILED=0
KEY=${KEY:-1234abcd}
mkdir -p "$CV_TMP"

log() { printf '# %s\n' "$*"; }

ok() {
	printf 'ok - %s\n' "$*"
	echo pass >>"$CV_RESULTS"
}

fail() {
	printf 'not ok - %s\n' "$*"
	echo fail >>"$CV_RESULTS"
	CV_FAILED=1
}

# check MSG CMD...: passes when CMD succeeds.
check() {
	local msg=$1
	shift
	if "$@" >"$CV_TMP/check.out" 2>&1; then
		ok "$msg"
	else
		fail "$msg"
		sed 's/^/#   /' "$CV_TMP/check.out" | tail -n 20
	fi
}

# check_fails MSG CMD...: passes when CMD fails.
check_fails() {
	local msg=$1
	shift
	if "$@" >"$CV_TMP/check.out" 2>&1; then
		fail "$msg (unexpectedly succeeded)"
	else
		ok "$msg"
	fi
}

# check_eq MSG GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

# check_ge MSG GOT MIN (integers)
check_ge() {
	if [ "$2" -ge "$3" ] 2>/dev/null; then
		ok "$1"
	else
		fail "$1: got '$2', want >= '$3'"
	fi
}

# Run in a namespace: n a ping ..., and ip shorthands.
n() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
ipa() { ip -n a "$@"; }
ipb() { ip -n b "$@"; }

setup_pair() {
	cleanup_pair
	ip netns add a
	ip netns add b
	ip link add va netns a type veth peer vb netns b
	ipa addr add 192.0.2.1/24 dev va
	ipb addr add 192.0.2.2/24 dev vb
	ipa addr add 2001:db8::1/64 dev va nodad
	ipb addr add 2001:db8::2/64 dev vb nodad
	ipa link set lo up
	ipb link set lo up
	ipa link set va up
	ipb link set vb up
}

cleanup_pair() {
	ip netns del a 2>/dev/null
	ip netns del b 2>/dev/null
	true
}

# add_tunnel NS DEV UNDERLAY_PEER INNER4_LOCAL INNER4_PEER INNER6_LOCAL
#            INNER6_PEER [extra ip-link args...]
# (INNER6_PEER only documents the other end: the /64 routes to it.)
add_tunnel() {
	local ns=$1 dev=$2 peer=$3 l4=$4 p4=$5 l6=$6
	shift 7
	ip -n "$ns" link add "$dev" type crapvpn key "$KEY" peer "$peer" "$@" &&
	ip -n "$ns" addr add "$l4" peer "$p4" dev "$dev" &&
	# An IPv6 "peer" address gets no route to the peer: use a /64.
	ip -n "$ns" addr add "$l6/64" dev "$dev" nodad &&
	ip -n "$ns" link set "$dev" up
}

# The IPv4-underlay tunnel cv4 between a and b.
tunnel4() {
	add_tunnel a cv4 192.0.2.2 198.51.100.1 198.51.100.2 \
		fd00:4::1 fd00:4::2 "$@" &&
	add_tunnel b cv4 192.0.2.1 198.51.100.2 198.51.100.1 \
		fd00:4::2 fd00:4::1 "$@"
}

# The IPv6-underlay tunnel cv6 between a and b, on port 1338.
tunnel6() {
	add_tunnel a cv6 2001:db8::2 203.0.113.1 203.0.113.2 \
		fd00:6::1 fd00:6::2 port 1338 peer-port 1338 "$@" &&
	add_tunnel b cv6 2001:db8::1 203.0.113.2 203.0.113.1 \
		fd00:6::2 fd00:6::1 port 1338 peer-port 1338 "$@"
}

# link_stat NS DEV FIELD: one counter of `ip -s link`, from sysfs.
link_stat() {
	n "$1" cat "/sys/class/net/$2/statistics/$3"
}

# ethtool_stat NS DEV NAME: one `ethtool -S` counter.
ethtool_stat() {
	n "$1" ethtool -S "$2" | awk -v k="$3:" '$1 == k { print $2 }'
}

# Wait until CMD succeeds, up to SECS seconds (TCG is slow: wait on
# conditions, not fixed sleeps).
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

finish() {
	cleanup_pair
	rm -rf "$CV_TMP"
	exit "$CV_FAILED"
}
