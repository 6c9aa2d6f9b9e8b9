#!/bin/bash
# soak-vm.sh: the guest side of tests/debug/soak, run by tests/net/run as a
# test (so the kernel log is checked after it):
#
#   tests/net/run --ko crapvpn.ko tests/debug/soak-vm.sh
#
# Traffic, both directions at once, through the tunnels of tests/net/lib.sh:
# TCP (iperf3) b -> a over cv4 and a -> b over cv6, flood pings both ways,
# hostile datagrams (tests/net/helpers/hostile.c, CV_SOAK_RATE each, default
# 300/s) at a's cv4 from b and at b's cv6 from a; and churn: devices added
# and deleted, keys (up to 4096 bytes, through crapvpn(8): ip(8) cannot send
# more than about 1000, and python starts too slowly on a saturated VM),
# peers (both families), ports changed,
# links set down and up, in both namespaces, each device pinging through
# itself.
#
# Slab: the same load runs first for CV_SOAK_WARMUP seconds (default 120),
# then everything stops and the namespace settles (churn devices deleted,
# counters quiet, caches dropped, 15 s for RCU): Slab of /proc/meminfo is
# sampled (S0). Then CV_SOAK_MINUTES (10) of load, sampled every 30 s into
# $VM_OUT/soak-slab.tsv, the same stop and settle, sample S1.
# Flat means S1 - S0 < CV_SOAK_TOLERANCE_KIB (default 8192 KiB). Why 8 MiB:
# with KASAN, freed slab objects wait in a quarantine of up to 1/32 of RAM
# (~96 MiB with 3 GiB) before they are really freed, so Slab moves with the
# quarantine's fill level; the warm-up fills it (it is full at S0 and S1),
# which leaves the per-CPU quarantine batches and partially filled slab
# pages as noise, a few MiB. A leak that matters is bigger: 10 minutes move
# millions of packets and thousands of configuration changes, so a leak of
# 8 bytes a packet or 2 KiB a change exceeds the tolerance. kmemleak finds
# smaller ones (checked at the end too). The largest per-cache growths
# (/proc/slabinfo) are printed either way.
. "$CV_ROOT/tests/net/lib.sh"

HOSTILE=${CV_HOSTILE_BIN:-$CV_ROOT/build/helpers/hostile}
KMEMLEAK=$CV_ROOT/tests/debug/kmemleak
MINUTES=${CV_SOAK_MINUTES:-10}
WARMUP=${CV_SOAK_WARMUP:-120}
RATE=${CV_SOAK_RATE:-300}
TOL=${CV_SOAK_TOLERANCE_KIB:-8192}
STOP=$CV_TMP/stop
TSV=${VM_OUT:-$CV_TMP}/soak-slab.tsv
DONE=

# The load runs under lib.sh's bg; kill_jobs ends it with its children.
stop_load() {
	touch "$STOP"
	kill_jobs
}
cleanup() {
	[ -n "$DONE" ] || fail "the script stopped early"
	stop_load
	finish
}
trap cleanup EXIT

rand_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
slab_kib() { awk '$1 == "Slab:" { print $2 }' /proc/meminfo; }
# slabinfo: "CACHE KIB" of every cache (active objects x object size).
slabinfo() { awk 'NR > 2 { printf "%s %d\n", $1, $2 * $4 / 1024 }' /proc/slabinfo; }

churn_ops=0
churn() { # runs until $STOP: devices sN in both namespaces
	local i=0 j ns peer k
	while [ ! -e "$STOP" ]; do
		j=$((i % 4))
		if [ $j -lt 2 ]; then ns=a peer=192.0.2.2 peer6=2001:db8::2
		else ns=b peer=192.0.2.1 peer6=2001:db8::1; fi
		case $((i / 4 % 6)) in
		0) ip -n $ns link add "s$j" type crapvpn key "$(rand_hex $((1 + RANDOM % 400)))" \
			peer $peer port $((2200 + j)) peer-port $((2300 + j)) &&
		   ip -n $ns addr add "10.88.$j.1" peer "10.88.$j.2" dev "s$j" &&
		   ip -n $ns link set "s$j" up ;;
		1) n $ns "$CV_TOOL" set "s$j" \
			key "$(rand_hex $((1 + RANDOM % 4096)))" peer $peer6 ;;
		2) ip -n $ns link set "s$j" down && ip -n $ns link set "s$j" up ;;
		3) ip -n $ns link set "s$j" type crapvpn peer $peer port $((2400 + j)) ;;
		4) ip -n $ns link set "s$j" type crapvpn port $((2200 + j)) local 0.0.0.0 ;;
		5) ip -n $ns link del "s$j" ;;
		esac
		i=$((i + 1))
		echo "$i" >"$CV_TMP/churn.ops"
	done
	for j in 0 1; do ip -n a link del "s$j" 2>/dev/null; done
	for j in 2 3; do ip -n b link del "s$j" 2>/dev/null; done
}
pinger() { # ping through the churn devices while they exist
	while [ ! -e "$STOP" ]; do
		n a ping -q -c 20 -i 0.05 -W 1 10.88.0.2 >/dev/null 2>&1
		n b ping -q -c 20 -i 0.05 -W 1 10.88.2.2 >/dev/null 2>&1
		sleep 0.5
	done
}

# load SECS: everything at once for SECS seconds, then stop.
load() {
	local secs=$1
	rm -f "$STOP"
	bg n a iperf3 -s -B 198.51.100.1 -p 5301 >/dev/null 2>&1
	bg n b iperf3 -s -B 203.0.113.2 -p 5302 >/dev/null 2>&1
	wait_for 30 bash -c "ip netns exec a ss -t -l -n -H | grep -q ':5301' && ip netns exec b ss -t -l -n -H | grep -q ':5302'"
	bg n b iperf3 -c 198.51.100.1 -p 5301 -t "$secs" --connect-timeout 10000 >/dev/null 2>&1
	bg n a iperf3 -c 203.0.113.2 -p 5302 -t "$secs" --connect-timeout 10000 >/dev/null 2>&1
	bg n a ping -q -f -w "$secs" 198.51.100.2 >/dev/null 2>&1
	bg n b ping -q -f -w "$secs" fd00:6::1 >/dev/null 2>&1
	bg n b "$HOSTILE" --to 192.0.2.1 --port 1337 --key "$KEY" --count 0 \
		--rate "$RATE" --seconds "$secs" --stop "$STOP" \
		--inner4 198.51.100.1,198.51.100.2 --inner6 fd00:4::1,fd00:4::2
	bg n a "$HOSTILE" --to 2001:db8::2 --port 1338 --key "$KEY" --count 0 \
		--rate "$RATE" --seconds "$secs" --stop "$STOP" \
		--inner4 203.0.113.2,203.0.113.1 --inner6 fd00:6::2,fd00:6::1
	bg churn
	bg pinger
	local t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "$secs" ]; do
		sleep 30
		printf '%d\t%d\n' $((SECONDS - T0)) "$(slab_kib)" >>"$TSV"
	done
	touch "$STOP"
	# iperf3 servers, pings and hostile senders end by themselves or now.
	stop_load
}

# settle: quiet namespaces, caches dropped, RCU given time.
settle() {
	local a b i
	for j in 0 1; do ip -n a link del "s$j" 2>/dev/null; done
	for j in 2 3; do ip -n b link del "s$j" 2>/dev/null; done
	for ((i = 0; i < 30; i++)); do
		a=$(cat /sys/class/net/lo/statistics/rx_packets; n a cat /sys/class/net/cv4/statistics/rx_packets /sys/class/net/cv6/statistics/rx_packets)
		sleep 2
		b=$(cat /sys/class/net/lo/statistics/rx_packets; n a cat /sys/class/net/cv4/statistics/rx_packets /sys/class/net/cv6/statistics/rx_packets)
		[ "$a" = "$b" ] && break
	done
	# Under kmemleak every free queues an RCU callback (and DEBUG_OBJECTS
	# tracks its rcu_head), and under load TCG lets those queue up by the
	# hundred megabytes: wait until Slab stops falling (at most 10 min).
	sync
	echo 3 >/proc/sys/vm/drop_caches
	# SLUB keeps emptied slabs on its partial lists: give them back.
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
	a=$(slab_kib)
	for ((i = 0; i < 60; i++)); do
		sleep 10
		b=$(slab_kib)
		[ $((a - b)) -lt 1024 ] && break
		a=$b
	done
	log "settled after $((i * 10 + 10)) s: $b KiB"
	echo 3 >/proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
}

if [ ! -x "$HOSTILE" ]; then
	fail "hostile sender $HOSTILE built (make -C tests/net/helpers on the host)"
	DONE=1
	exit 1
fi
T0=$SECONDS
: >"$TSV"
setup_pair
check "tunnel4" tunnel4
check "tunnel6" tunnel6
check "ping through cv4" n a ping -c 2 -i 0.2 -W 5 198.51.100.2
check "ping through cv6" n b ping -c 2 -i 0.2 -W 5 203.0.113.1
kml=
if "$KMEMLEAK" available; then
	kml=1
	"$KMEMLEAK" snapshot "$CV_TMP/kml.0"
fi

log "warm-up: ${WARMUP} s of load"
load "$WARMUP"
settle
s0=$(slab_kib)
slabinfo >"$CV_TMP/slabinfo.0"
log "S0 = $s0 KiB Slab after the warm-up"
printf '%d\t%d\tS0\n' $((SECONDS - T0)) "$s0" >>"$TSV"

snap() { n "$1" cat "/sys/class/net/$2/statistics/$3"; }
rx0=$(($(snap a cv4 rx_packets) + $(snap b cv6 rx_packets)))
log "soak: $MINUTES min of load"
load $((MINUTES * 60))
rx1=$(($(snap a cv4 rx_packets) + $(snap b cv6 rx_packets)))
ops=$(cat "$CV_TMP/churn.ops" 2>/dev/null || echo 0)
settle
s1=$(slab_kib)
slabinfo >"$CV_TMP/slabinfo.1"
printf '%d\t%d\tS1\n' $((SECONDS - T0)) "$s1" >>"$TSV"
log "S1 = $s1 KiB Slab after the soak: $((s1 - s0)) KiB more; $((rx1 - rx0)) packets received by a's cv4 and b's cv6, $ops churn operations"
log "samples (seconds, KiB): $(awk '{ printf "%s:%s ", $1, $2 }' "$TSV")"
log "largest per-cache growth (KiB): $(awk 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d) print d, $1 }' \
	"$CV_TMP/slabinfo.0" "$CV_TMP/slabinfo.1" | sort -rn | head -n 8 | awk '{ printf "%s %+d, ", $2, $1 }')"
check_ge "traffic flowed during the soak (packets)" $((rx1 - rx0)) 10000
check_ge "churn operations during the soak" "$ops" 20
check "Slab flat: S1 - S0 = $((s1 - s0)) KiB < $TOL KiB" test $((s1 - s0)) -lt "$TOL"
check "tunnels still work: ping through cv4" n a ping -c 3 -i 0.2 -W 5 198.51.100.2
check "tunnels still work: ping through cv6" n b ping -c 3 -i 0.2 -W 5 203.0.113.1
if [ -n "$kml" ]; then
	if "$KMEMLEAK" new "$CV_TMP/kml.0" >"$CV_TMP/kml.new"; then
		ok "kmemleak: no new unreferenced object"
	else
		fail "kmemleak: no new unreferenced object"
		head -n 60 "$CV_TMP/kml.new" | sed 's/^/#   /'
	fi
fi
DONE=1
