#!/bin/bash
# The scale benchmark, inside the VM (tests/bench/scale boots it):
#
#   tests/bench/scale-inside.sh CRAPVPN_KO BLAST [N...]
#
# Namespace s is a server with devices sv0..sv(N-1) on one UDP port, 1337,
# at 198.18.0.1; namespace t, joined to it by veth, owns every address of
# 198.19.0.0/16 (a local route on lo) and runs BLAST (tests/bench/blast.c),
# which sends sealed datagrams from the devices' peers in turn. Device i
# has peer 198.19.((i + 1) >> 8).((i + 1) & 255), the key 5eed0000 and i
# as 8 hex digits, and the inner addresses 10.(100 + (i >> 8)).(i & 255).1
# peer .2, as blast.c seals for it.
#  * create and delete: the largest N devices created by one ip -batch
#    (link add, addr add, link set up each) and deleted by another, timed;
#    the memory it took (Slab and MemAvailable of /proc/meminfo) per device;
#  * throughput: for each N (default 1 10 100 1000), devices added up to
#    N, then BLAST sends for SCALE_TIME (default 10) seconds spread over all
#    N peers; the figure is the datagrams the devices received (their
#    rx_packets, summed) per second, SCALE_ROUNDS (default 1) times, the
#    counts taking turns. Their RX errors and the port's unknown-peer count
#    must stay 0: a datagram handed to the wrong device fails its key.
#    With the largest N, the same load from one peer alone too: the
#    lookup among N devices, without N devices' worth of other state.
#    Unless the receiving CPU is saturated, the sender's rate sets the
#    figure: so also the receiving CPU's busy time per datagram received.
# SCALE_SPLIT=1 (the default) runs BLAST on CPU 0 and the server's receive
# work on CPU 1 (RPS on vs), as if they were two hosts; 0 leaves both to
# the sender's CPU, veth's backlog.
# Writes $VM_OUT/scale.tsv (N METRIC VALUE) and conditions.txt.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
export TAP_RESULTS=/tmp/scale-cv-results
. "$ROOT/tests/net/lib.sh"

KO=$1 BLAST=$2
shift 2
COUNTS=${*:-1 10 100 1000}
OUT=${VM_OUT:-/tmp/scale-out}
T=${SCALE_TIME:-10}
ROUNDS=${SCALE_ROUNDS:-1}
RES=$OUT/scale.tsv
PIN=() RX_CPU=
MAX=0
for c in $COUNTS; do [ "$c" -gt "$MAX" ] && MAX=$c; done
mkdir -p "$OUT" "$CV_TMP"
: >"$RES"

note() { printf '# %s\n' "$*" >&2; }
put() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-NA}" >>"$RES"; }
ips() { ip -n s "$@"; }
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

# devices_batch FROM TO: ip -batch lines creating sv$FROM..sv$((TO - 1)).
devices_batch() {
	local i a
	for ((i = $1; i < $2; i++)); do
		a="10.$((100 + (i >> 8))).$((i & 255))"
		printf 'link add sv%d type crapvpn key 5eed0000%08x peer 198.19.%d.%d\n' \
			"$i" "$i" $(((i + 1) >> 8)) $(((i + 1) & 255))
		printf 'addr add %s.1 peer %s.2 dev sv%d\n' "$a" "$a" "$i"
		printf 'link set sv%d up\n' "$i"
	done
}
# devices: how many crapvpn devices s has.
devices() { ips -o link show type crapvpn | wc -l; }
delete_all() {
	ips -o link show type crapvpn | awk -F': ' '{ sub(/@.*/, "", $2);
		print "link del " $2 }' | ips -b -
}
# sum FIELD: a stats64 field summed over s's crapvpn devices.
sum() {
	ips -j -s link show type crapvpn | jq "[.[].stats64.$1] | add // 0"
}
# busy: RX_CPU's busy time so far, in USER_HZ ticks (/proc/stat: all but
# idle and iowait).
busy() {
	awk -v c="$RX_CPU" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

for dep in $(modinfo -F depends "$KO" | tr , ' '); do modprobe "$dep"; done
insmod "$KO" || exit 1
modprobe veth || exit 1
for ns in s t; do ip netns del $ns 2>/dev/null; ip netns add $ns; done
# No IPv6: the devices' router solicitations would be traffic of their own.
for ns in s t; do
	n $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n $ns link set lo up
done
ip link add vs netns s type veth peer vt netns t
ips addr add 198.18.0.1/15 dev vs
ip -n t addr add 198.18.0.2/15 dev vt
ip -n t route add local 198.19.0.0/16 dev lo
ips link set vs up
ip -n t link set vt up
split="sender and receiver on the sender's CPU (veth backlog)"
if [ "${SCALE_SPLIT:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	n s sh -c 'echo 2 >/sys/class/net/vs/queues/rx-0/rps_cpus' || exit 1
	PIN=(taskset -c 0) RX_CPU=cpu1
	taskset -p -c 0 $$ >/dev/null	# and this script's ip, jq and all
	split="sender on CPU 0, receiver on CPU 1 (RPS on vs)"
fi
if ! wait_for 10 n t ping -c 1 -W 1 -I 198.19.0.1 198.18.0.1; then
	note "no way from t to s"
	exit 1
fi

{
	echo "kernel $(uname -r), $(nproc --all) CPUs, blast for $T s per count, $ROUNDS round(s)"
	echo "datagrams: 120 bytes on the wire (84-byte ICMP echo reply inside, 8-byte key),"
	echo "  sendmmsg batches of 64, the peers in turn; veth with GRO off;"
	echo "  $split"
	echo "kernel command line: $(cat /proc/cmdline)"
} >"$OUT/conditions.txt"

# ---- create and delete MAX devices --------------------------------------
devices_batch 0 "$MAX" >"$CV_TMP/create"
sync
echo 3 >/proc/sys/vm/drop_caches
slab0=$(meminfo Slab) avail0=$(meminfo MemAvailable)
t0=$(now)
ips -b "$CV_TMP/create" >"$CV_TMP/create.log" 2>&1 ||
	{ note "creating $MAX devices failed"; head "$CV_TMP/create.log" >&2; }
put "$MAX" create_s "$(elapsed "$t0")"
slab1=$(meminfo Slab) avail1=$(meminfo MemAvailable)
put "$MAX" slab_kib_per_dev "$(echo "scale=2; ($slab1 - $slab0) / $MAX" | bc)"
put "$MAX" mem_kib_per_dev "$(echo "scale=2; ($avail0 - $avail1) / $MAX" | bc)"
note "$MAX devices: $(devices) created; port: $(ips -d link show sv0 |
	grep -o 'shared [0-9]*')"
t0=$(now)
delete_all
put "$MAX" delete_s "$(elapsed "$t0")"
note "create $MAX: $(grep "create_s" "$RES" | cut -f3) s," \
	"delete: $(grep "delete_s" "$RES" | cut -f3) s"

# ---- throughput at each count ---------------------------------------------
blast() {	# blast N PEERS SUFFIX: PEERS of the N devices' peers send
	local rx0 rx1 sent secs err b0 b1
	rx0=$(sum rx.packets)
	b0=$(busy)
	# (no process substitution: the VM has no /dev/fd)
	n t "${PIN[@]}" "$BLAST" --to 198.18.0.1 --peers "$2" --seconds "$T" \
		>"$CV_TMP/blast" || return 1
	read -r _ sent _ secs <"$CV_TMP/blast"
	sleep 1	# the backlog drains
	b1=$(busy)
	rx1=$(sum rx.packets)
	err=$(sum rx.errors)
	put "$1" "sent_pps$3" "$(echo "$sent / $secs" | bc)"
	put "$1" "rx_pps$3" "$(echo "($rx1 - $rx0) / $secs" | bc)"
	put "$1" "rx_errors$3" "$err"
	# ticks of 1/USER_HZ s: microseconds per datagram received
	[ -n "$RX_CPU" ] && put "$1" "rx_cpu_us$3" "$(echo "scale=2; \
		($b1 - $b0) * 1000000 / $(getconf CLK_TCK) / ($rx1 - $rx0)" | bc)"
	put "$1" "unknown_peer$3" "$(ethtool_stat s sv0 port_rx_unknown_peer)"
	note "N=$1, $2 sending: sent $sent, received $((rx1 - rx0)) in $secs s;" \
		"RX errors $err"
}
for ((round = 1; round <= ROUNDS; round++)); do
	delete_all
	have=0
	for c in $COUNTS; do
		devices_batch "$have" "$c" | ips -b - ||
			note "adding devices up to $c failed"
		have=$c
		note "=== N=$c (round $round of $ROUNDS): $(devices) devices"
		blast "$c" "$c" ""
	done
	blast "$MAX" 1 _one
done
delete_all
ip netns del s
ip netns del t
rm -rf "$CV_TMP"
exit 0
