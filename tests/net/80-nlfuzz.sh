#!/bin/bash
# Netlink fuzzing: CV_NLFUZZ_N (10000) random RTM_NEWLINK creates and
# changes (random attribute sets, types, sizes and flags under
# IFLA_LINKINFO / IFLA_INFO_DATA, some deletions) in a namespace of their
# own, each checked against a model of the module (tests/net/helpers/
# nlfuzz.py): every invalid request is refused with crapvpn's extack message,
# every valid one accepted; a refused create leaves no device; at
# checkpoints the devices, their configuration and the UDP sockets are
# exactly the model's; after deleting everything no socket is left bound and
# a create on every port used succeeds.
#
# With fault injection (the debug kernel of tests/debug/: FAILSLAB and
# /proc/thread-self/fail-nth) valid creates and changes are also run with
# their 1st, 2nd, ... slab allocation failing: each failure must leave the
# devices and sockets as they were (CV_NLFUZZ_FAILNTH: steps per request,
# default 300; 0 turns it off).
#
# Leaks: with kmemleak (debug kernel) no new unreferenced object may appear
# after the namespace is gone; without it, the slab in use (/proc/meminfo
# Slab) may grow by at most 16 MiB (a loose check: it only catches a leak of
# more than about 1.6 KiB per request).
. "$(dirname "$0")/lib.sh"

PY=${PY:-python3}
HELPERS=$CV_ROOT/tests/net/helpers
KMEMLEAK=$CV_ROOT/tests/debug/kmemleak
COUNT=${CV_NLFUZZ_N:-10000}
SEED=${CV_NLFUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
FAILNTH=${CV_NLFUZZ_FAILNTH:-300}
FS=/sys/kernel/debug/failslab
DONE=

cleanup() {
	[ -n "$DONE" ] || fail "the script stopped early"
	[ -n "${fs_saved:-}" ] && restore_failslab
	ip netns del f 2>/dev/null
	ip link del cnf 2>/dev/null
	finish
}
trap cleanup EXIT

slab_kib() { awk '$1 == "Slab:" { print $2 }' /proc/meminfo; }

restore_failslab() {
	echo "$fs_ignore" >"$FS/ignore-gfp-wait"
	echo "$fs_verbose" >"$FS/verbose"
}

log "nlfuzz: $COUNT requests, seed $SEED (CV_NLFUZZ_N, CV_NLFUZZ_SEED)"
cleanup_pair
ip netns del f 2>/dev/null
ip link del cnf 2>/dev/null
ip netns add f
ip -n f link set lo up
ip -n f link add dummy0 type dummy
ip -n f addr add 192.0.2.1/24 dev dummy0
ip -n f addr add 2001:db8::1/64 dev dummy0 nodad
ip -n f link set dummy0 up
# A canary: its peer lives in f, so it disappears once f's devices are gone.
ip link add cnf type veth peer cnf-x netns f

leakcheck=
if "$KMEMLEAK" available; then
	leakcheck=kmemleak
	t=$SECONDS
	"$KMEMLEAK" snapshot "$CV_TMP/kml.0"
	log "kmemleak scan: $((SECONDS - t)) s, $(wc -l <"$CV_TMP/kml.0") objects reported before"
else
	leakcheck=slab
	slab0=$(slab_kib)
fi

if [ "$FAILNTH" -gt 0 ] && [ -w /proc/self/fail-nth ] && [ -d "$FS" ]; then
	# Fail GFP_KERNEL allocations too, and quietly (verbose 2 would dump a
	# stack for every injected failure).
	fs_ignore=$(cat "$FS/ignore-gfp-wait")
	fs_verbose=$(cat "$FS/verbose")
	fs_saved=1
	echo N >"$FS/ignore-gfp-wait"
	echo 0 >"$FS/verbose"
else
	[ "$FAILNTH" -gt 0 ] && skip "fault injection (CV_NLFUZZ_FAILNTH): this kernel has no fail-nth or failslab"
	FAILNTH=0
fi

t=$SECONDS
tap n f "$PY" "$HELPERS/nlfuzz.py" run --count "$COUNT" --seed "$SEED" \
	--failnth "$FAILNTH"
log "nlfuzz.py: $((SECONDS - t)) s"
[ -n "${fs_saved:-}" ] && restore_failslab && fs_saved=

check_eq "no crapvpn device in f" "$(ip -n f -o link show type crapvpn | wc -l)" 0
check "ip netns del f" ip netns del f
check "f's devices released (canary gone)" \
	wait_for 120 eval '! ip link show cnf >/dev/null 2>&1'
if [ "$leakcheck" = kmemleak ]; then
	t=$SECONDS
	if "$KMEMLEAK" new "$CV_TMP/kml.0" >"$CV_TMP/kml.new"; then
		ok "kmemleak: no new unreferenced object"
	else
		fail "kmemleak: no new unreferenced object ($(grep -c '^unreferenced' "$CV_TMP/kml.new") new)"
		head -n 60 "$CV_TMP/kml.new" | sed 's/^/#   /'
	fi
	log "kmemleak scans: $((SECONDS - t)) s"
else
	# Give RCU and the namespace cleanup a moment to free what they hold.
	sleep 2
	echo 3 >/proc/sys/vm/drop_caches
	slab1=$(slab_kib)
	log "Slab: $slab0 KiB before, $slab1 KiB after"
	check "Slab grew by less than 16 MiB ($(((slab1 - slab0) / 1024)) MiB)" \
		test $((slab1 - slab0)) -lt 16384
fi
DONE=1
