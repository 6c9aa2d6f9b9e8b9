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
# Results: check/ok/fail/skip are tests/lib/tap.sh's, counting into
# $TAP_RESULTS so that the suite runner (tests/net/run) can sum them; a test
# script exits non-zero if any of its checks failed.

set -u -o pipefail

CV_ROOT=${CV_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
CV_TOOL=$CV_ROOT/tools/crapvpn
CV_USERSPACE=$CV_ROOT/tests/userspace/crapvpn-userspace.py
export IP_LIB_DIR=$CV_ROOT/tools	# ip(8) finds link_crapvpn.so here
TAP_RESULTS=${TAP_RESULTS:-/tmp/cv-results}
# shellcheck source=tests/lib/tap.sh
. "$CV_ROOT/tests/lib/tap.sh"
CV_TMP=${CV_TMP:-/tmp/cv.$$}
KEY=${KEY:-1234abcd}
mkdir -p "$CV_TMP"

log() { printf '# %s\n' "$*"; }

# need CMD...: the test runs these commands. If any is missing, it fails
# once, up front, naming them, and the test stops there (instead of failing
# checks later for a reason they do not show).
need() {
	local c missing=()
	for c; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	fail "$(basename "$0" .sh): needs ${missing[*]} (run tests/setup-host.sh)"
	finish
}

# check MSG CMD...: passes when CMD succeeds; shows the end of its output
# when it fails. check_show always shows it (summaries of oracles). Both
# return CMD's status.
check() {
	_check 0 "$@"
}

check_show() {
	_check 1 "$@"
}

_check() {
	local show=$1 msg=$2 rc=0
	shift 2
	"$@" >"$CV_TMP/check.out" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		ok "$msg"
	else
		fail "$msg"
		show=1
	fi
	[ "$show" = 0 ] || sed 's/^/#   /' "$CV_TMP/check.out" | tail -n 30
	return "$rc"
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

# tool NS ARGS...: crapvpn(8) of the tree in NS.
tool() {
	local ns=$1
	shift
	n "$ns" "$CV_TOOL" "$@"
}

# nl NS ARGS...: the raw netlink client (helpers/cvnl.py) in NS.
nl() {
	local ns=$1
	shift
	n "$ns" "${PY:-python3}" "$CV_ROOT/tests/net/helpers/cvnl.py" "$@"
}

# status WANT CMD...: CMD exits with status WANT; its output in $CV_TMP/out.
status() {
	local want=$1 rc
	shift
	"$@" >"$CV_TMP/out" 2>&1
	rc=$?
	[ "$rc" -eq "$want" ] || { echo "exit status $rc, want $want"; cat "$CV_TMP/out"; return 1; }
}

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

# within SECS CMD...: retries CMD until it succeeds, for SECS seconds of wall
# clock. wait_for counts tries instead, and on a loaded host or the debug
# kernel one try of a program run through ip netns exec can take seconds.
within() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt "$end" ] || return 1
		sleep 0.2
	done
}

finish() {
	# Keep a failed test's captures: the VM's /tmp dies with it.
	if [ "$TAP_FAILED" != 0 ] && [ -n "${VM_OUT:-}" ] &&
	   compgen -G "$CV_TMP/*.pcap" >/dev/null; then
		mkdir -p "$VM_OUT/pcap-$(basename "$0" .sh)"
		cp "$CV_TMP"/*.pcap "$VM_OUT/pcap-$(basename "$0" .sh)/"
	fi
	cleanup_pair
	rm -rf "$CV_TMP"
	exit "$TAP_FAILED"
}

# ---- background jobs, captures and hashed transfers -----------------------
# Jobs started by bg are killed by kill_jobs (the tests' EXIT trap), with
# their children: `ip netns exec` and timeout fork.
CV_PIDS=()

bg() {
	"$@" &
	CV_PIDS+=($!)
}

# (From /proc rather than ps: ps takes a second on a busy TCG guest.)
# children PID: PID's child processes.
children() {
	local f st
	# Whether the kernel has the children files, asked of this shell: PID
	# itself may be gone already.
	if [ -e "/proc/$BASHPID/task/$BASHPID/children" ]; then
		cat /proc/"$1"/task/*/children 2>/dev/null
		return
	fi
	# Without CONFIG_PROC_CHILDREN (the debug kernel of tests/debug):
	# every process whose stat names PID as its parent.
	for f in /proc/[0-9]*/stat; do
		{ read -r st <"$f"; } 2>/dev/null || continue
		st=${st##*) }
		st=${st#* }
		[ "${st%% *}" = "$1" ] || continue
		f=${f#/proc/}
		echo "${f%/stat}"
	done
}

kill_tree() {	# PID [SIGNAL]
	local c
	for c in $(children "$1"); do
		kill_tree "$c" "${2:-TERM}"
	done
	kill -"${2:-TERM}" "$1" 2>/dev/null
}

# exited PID: PID is gone or a zombie.
exited() {
	local stat
	stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

kill_jobs() {
	local p
	for p in "${CV_PIDS[@]}"; do
		kill_tree "$p"
	done
	# What ignores SIGTERM for a second gets SIGKILL.
	for p in "${CV_PIDS[@]}"; do
		wait_for 1 exited "$p" || kill_tree "$p" KILL
		wait "$p" 2>/dev/null
	done
	CV_PIDS=()
}

# listening NS PORT: a TCP socket listens on PORT in NS.
listening() {
	n "$1" ss -ltnH "sport = :$2" | grep -q .
}

# start_capture NS NAME IFACE SNAPLEN COUNT [FILTER...]: tcpdump into
# $CV_TMP/NAME.pcap; wait for it with capturing NAME.
declare -A CV_CAP
start_capture() {
	local ns=$1 name=$2 ifc=$3 snap=$4 count=$5
	shift 5
	# Not through n(): $! must be tcpdump itself (ip netns exec execs it).
	# Immediate mode: packets a buffered ring block still holds when the
	# capture is stopped would be lost.
	ip netns exec "$ns" tcpdump -Z root -n -i "$ifc" -s "$snap" -c "$count" \
		--immediate-mode -U -w "$CV_TMP/$name.pcap" "$@" \
		2>"$CV_TMP/$name.err" &
	CV_CAP[$name]=$!
	CV_PIDS+=($!)
}

capturing() {
	local c
	for c in "$@"; do
		grep -q 'listening on' "$CV_TMP/$c.err" || return 1
	done
}

# stop_capture NAME: stops it (unless its count already did) and shows
# tcpdump's summary.
stop_capture() {
	local pid=${CV_CAP[$1]}
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	tail -n 2 "$CV_TMP/$1.err" | sed 's/^/# /'
}

# receive NAME NS SOCAT-LISTEN TIMEOUT: a socat server in the background
# writing the sha256 of what it receives to $CV_TMP/NAME.sum, then the time
# to $CV_TMP/NAME.end.
receive() {
	local name=$1 ns=$2 listen=$3 secs=$4
	bg bash -c "timeout $secs ip netns exec $ns socat -u -b 262144 \
		'$listen,reuseaddr' STDOUT | sha256sum | cut -d' ' -f1 \
		>'$CV_TMP/$name.sum'; echo \$EPOCHREALTIME >'$CV_TMP/$name.end'"
}

# send NAME NS SOCAT-FILE SOCAT-CONNECT TIMEOUT: a socat client in the
# background; its exit status goes to $CV_TMP/NAME.rc.
send() {
	local name=$1 ns=$2 file=$3 connect=$4 secs=$5
	bg bash -c "timeout $secs ip netns exec $ns socat -u -b 262144 \
		'$file' '$connect'; echo \$? >'$CV_TMP/$name.rc'"
}

# mbits START END BYTES: the rate, for logs.
mbits() {
	awk -v a="$1" -v b="$2" -v n="$3" \
		'BEGIN { printf "%.0f", n * 8 / (b - a) / 1e6 }'
}

# check_streams DEV T0 SIZE TIMEOUT SUM_AB SUM_BA: waits for the transfers
# DEV-ab (a to b) and DEV-ba started with send/receive at time T0, logs
# their rates and checks that both senders finished and both hashes match.
check_streams() {
	local dev=$1 t0=$2 size=$3 secs=$4 x
	local -A want=([ab]=$5 [ba]=$6)

	wait_for "$secs" test -s "$CV_TMP/$dev-ab.end" -a -s "$CV_TMP/$dev-ba.end"
	for x in ab ba; do
		[ -s "$CV_TMP/$dev-$x.end" ] &&
			log "$dev $x: $((size >> 20)) MiB at" \
				"$(mbits "$t0" "$(cat "$CV_TMP/$dev-$x.end")" "$size") Mbit/s"
		check_eq "$dev $x: sender finished" \
			"$(cat "$CV_TMP/$dev-$x.rc" 2>/dev/null)" 0
		check_eq "$dev $x: sha256 of what arrived" \
			"$(cat "$CV_TMP/$dev-$x.sum" 2>/dev/null)" "${want[$x]}"
	done
}

# tap CMD...: run CMD (a helper printing TAP-like lines) and count its
# "ok - " / "not ok - " lines as checks; other lines pass through.
tap() {
	local line rc
	"$@" >"$CV_TMP/tap" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) fail "${line#not ok - }" ;;
		"skip - "*) skip "${line#skip - }" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$CV_TMP/tap"
	[ $rc -eq 0 ] || fail "the helper exited with status $rc"
}

# snmp NS PROTO FIELD: a counter of /proc/net/snmp (PROTO: Ip, Tcp, Udp...).
snmp() {
	n "$1" awk -v p="$2:" -v k="$3" '$1 == p {
		if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 }
		else print $col[k] }' /proc/net/snmp
}

# udp_snmp NS FIELD [6]: a Udp counter of /proc/net/snmp (Udp6 of snmp6).
udp_snmp() {
	if [ "${3:-}" = 6 ]; then
		n "$1" awk -v k="Udp6$2" '$1 == k { print $2 }' /proc/net/snmp6
	else
		snmp "$1" Udp "$2"
	fi
}
