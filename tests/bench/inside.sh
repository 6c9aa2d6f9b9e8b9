#!/bin/bash
# The benchmark, inside the VM (tests/bench/run boots it):
#
#   tests/bench/inside.sh CRAPVPN_KO [PATH...]
#
# Two namespaces a and b joined by veth (tests/net/lib.sh setup_pair); each
# path is set up alone, measured from a to b and torn down again:
#   veth       no tunnel: the underlay itself
#   fou        ipip over FOU: the kernel's UDP tunnel, no cipher
#   crapvpn    this module
#   crapvpn-l2 this module in layer-2 mode (Ethernet frames inside)
#   wireguard  the kernel's WireGuard
#   userspace  tests/userspace/crapvpn-userspace.py at both ends
# and, only when named, crapvpn-nogso, crapvpn-nogro, fou-rps and
# crapvpn-rps (see below).
# Each tunnel's MTU fills a 1500-byte underlay packet (1500 minus its own
# overhead), so every path sends the same packets on the veth.
# Measured, in this order: ping RTT (idle), TCP one stream a->b (and ping
# RTT meanwhile: latency under load) and b->a,
# TCP 4 streams a->b, UDP 64-byte datagrams a->b as fast as the sender can
# (packets per second that reach the receiver). One line per figure goes to
# $VM_OUT/results.tsv: PATH METRIC VALUE ("NA" when a run failed), and the
# TCP runs' retransmissions too (nstat deltas: counters-PATH.txt).
# BENCH_TIME (default 5) seconds per iperf3 run; BENCH_ROUNDS (default 1)
# times every path; BENCH_VETH_GRO=1 turns GRO on on both veth ends, which
# gives each its NAPI queue: an underlay flow then arrives in order on one
# CPU, as from a NIC's RX queue, instead of on the backlog of whichever CPU
# sent it; BENCH_SPLIT=1 gives each namespace a CPU of its own, as if a and
# b were two hosts: a's programs and its veth end's receive work (RPS) on
# CPU 0, b's on CPU 1. Without it the CPU that sends also does the
# receiving end's work, which veth hands to that CPU's backlog, and the
# other CPU only runs the receiving program. BENCH_KEY_LEN (default 16)
# is the key's length in bytes, for crapvpn and the userspace peer.
# BENCH_QUEUE=RATE puts a bottleneck with a queue on the underlay: tbf at
# RATE on both veth ends, fq_codel as its queue.
# BENCH_PERF=1 also records a system-wide perf profile of one crapvpn TCP
# stream (perf-*.txt). TCG has no PMU, so it samples cpu-clock; the samples
# go to $VM_OUT/perf.data and the kernel's symbols to $VM_OUT/kallsyms, for
# perf report on the host.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
export TAP_RESULTS=/tmp/bench-cv-results
. "$ROOT/tests/net/lib.sh"

KO=$1
shift
PATHS=${*:-veth fou crapvpn crapvpn-l2 wireguard userspace}
OUT=${VM_OUT:-/tmp/bench-out}
T=${BENCH_TIME:-5}
ROUNDS=${BENCH_ROUNDS:-1}
RES=$OUT/results.tsv
PY=$(command -v /usr/bin/python3 || command -v python3)
# By default 16 bytes, a length whose key stream the scalar XOR keeps in
# registers; other lengths (37, say) show what the AVX2 code is worth.
KEY=
for ((i = 0; i < ${BENCH_KEY_LEN:-16}; i++)); do
	KEY+=$(printf %02x $((i * 17 % 256)))
done
METRICS="rtt_ms tcp1_ab rtt_load_ms tcp1_ba tcp4_ab udp64_pps"
US_PIDS=()
# What each namespace's programs run under: taskset with BENCH_SPLIT=1.
PIN_A=() PIN_B=()
mkdir -p "$OUT"
: >"$RES"

note() { printf '# %s\n' "$*" >&2; }

put() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-NA}" >>"$RES"; }

# Inner addresses of the path being measured, in a and b.
IA='' IB=''

up_veth() { IA=192.0.2.1 IB=192.0.2.2; }
down_veth() { :; }

up_fou() {
	local ns me peer
	IA=10.1.0.1 IB=10.1.0.2
	for ns in a b; do
		me=192.0.2.1 peer=192.0.2.2
		[ $ns = b ] && me=192.0.2.2 peer=192.0.2.1
		ip -n $ns fou add port 5555 ipproto 4 &&
		ip -n $ns link add fou0 mtu 1472 type ipip remote $peer local $me \
			encap fou encap-sport auto encap-dport 5555 || return 1
	done
	ipa addr add $IA peer $IB dev fou0 && ipb addr add $IB peer $IA dev fou0 &&
	ipa link set fou0 up && ipb link set fou0 up
}
down_fou() {
	ipa link del fou0; ipb link del fou0
	ip -n a fou del port 5555; ip -n b fou del port 5555
}

up_crapvpn() {	# [ip link add arguments...]
	IA=10.2.0.1 IB=10.2.0.2
	ipa link add cv0 type crapvpn key $KEY peer 192.0.2.2 "$@" &&
	ipb link add cv0 type crapvpn key $KEY peer 192.0.2.1 "$@" &&
	ipa addr add $IA peer $IB dev cv0 && ipb addr add $IB peer $IA dev cv0 &&
	ipa link set cv0 up && ipb link set cv0 up
}
down_crapvpn() { ipa link del cv0; ipb link del cv0; }

# Layer 2: Ethernet frames inside, so its default MTU, 1450, is 14 bytes
# below layer 3's and fills the same 1500-byte underlay packet.
up_crapvpn-l2() { up_crapvpn mode l2; }
down_crapvpn-l2() { down_crapvpn; }

# Ablations, not measured unless named: crapvpn with one of its techniques
# switched off at both ends, to show what that technique buys.
#   crapvpn-nogso  no TSO/GSO on cv0: TCP hands down packets of one MTU, so
#                  each is sealed and sent on its own (no UDP GSO burst);
#   crapvpn-nogro  no GRO on cv0: gro_cells_receive() passes each received
#                  packet to netif_rx() instead of merging them for TCP.
cv_features() { n a ethtool -K cv0 "$@" && n b ethtool -K cv0 "$@"; }
up_crapvpn-nogso() { up_crapvpn && cv_features tso off gso off; }
down_crapvpn-nogso() { down_crapvpn; }
up_crapvpn-nogro() { up_crapvpn && cv_features gro off; }
down_crapvpn-nogro() { down_crapvpn; }

# Variants, also measured only when named: RPS over every CPU on the
# tunnel device at both ends, so that each inner flow's stack work after
# decapsulation runs on the CPU its hash picks, whichever CPU decapsulated
# it (the veth backlog's: the sender's).
#   fou-rps      fou, RPS on fou0
#   crapvpn-rps  crapvpn, RPS on cv0
rps_all() {
	local mask ns
	mask=$(printf %x $(((1 << $(nproc)) - 1)))
	for ns in a b; do
		n $ns sh -c "echo $mask >/sys/class/net/$1/queues/rx-0/rps_cpus" ||
			return
	done
}
up_fou-rps() { up_fou && rps_all fou0; }
down_fou-rps() { down_fou; }
up_crapvpn-rps() { up_crapvpn && rps_all cv0; }
down_crapvpn-rps() { down_crapvpn; }

up_wireguard() {
	local ns
	IA=10.3.0.1 IB=10.3.0.2
	for ns in a b; do
		wg genkey >"$CV_TMP/wg-$ns.key" &&
		wg pubkey <"$CV_TMP/wg-$ns.key" >"$CV_TMP/wg-$ns.pub" &&
		ip -n $ns link add wg0 mtu 1440 type wireguard || return 1
	done
	n a wg set wg0 listen-port 51820 private-key "$CV_TMP/wg-a.key" \
		peer "$(cat "$CV_TMP/wg-b.pub")" allowed-ips $IB/32 \
		endpoint 192.0.2.2:51820 &&
	n b wg set wg0 listen-port 51820 private-key "$CV_TMP/wg-b.key" \
		peer "$(cat "$CV_TMP/wg-a.pub")" allowed-ips $IA/32 \
		endpoint 192.0.2.1:51820 &&
	ipa addr add $IA peer $IB dev wg0 && ipb addr add $IB peer $IA dev wg0 &&
	ipa link set wg0 up && ipb link set wg0 up
}
down_wireguard() { ipa link del wg0; ipb link del wg0; }

up_userspace() {
	IA=10.4.0.1 IB=10.4.0.2
	# Not through n(): $! must be the peer itself (ip netns exec execs it).
	ip netns exec a "${PIN_A[@]}" "$PY" "$CV_USERSPACE" -k $KEY \
		-p 192.0.2.2 -i cu0 --mtu 1464 $IA $IB 2>"$CV_TMP/us-a.log" &
	US_PIDS+=($!)
	ip netns exec b "${PIN_B[@]}" "$PY" "$CV_USERSPACE" -k $KEY \
		-p 192.0.2.1 -i cu0 --mtu 1464 $IB $IA 2>"$CV_TMP/us-b.log" &
	US_PIDS+=($!)
	within 60 eval "ipa link show cu0 | grep -q ',UP' &&
		ipb link show cu0 | grep -q ',UP'"
}
down_userspace() {
	kill "${US_PIDS[@]}" 2>/dev/null
	wait "${US_PIDS[@]}" 2>/dev/null
	US_PIDS=()
}

# iperf3 from a to the server in b; prints the JSON report's field JQ.
iperf() {	# iperf JQ ARGS...
	local jq=$1 f=$CV_TMP/iperf.json
	shift
	timeout $((T + 40)) ip netns exec a "${PIN_A[@]}" \
		iperf3 -c "$IB" -t "$T" -J "$@" >"$f" 2>/dev/null
	jq -e "$jq" "$f" 2>/dev/null || { note "iperf3 $* failed"; cat "$f" >&2; }
}

# The namespaces' SNMP counters over the TCP runs (nstat deltas, one history
# per namespace): retransmissions and drops tell a slow path's story.
counters_start() {
	local ns
	for ns in a b; do
		NSTAT_HISTORY=$CV_TMP/nstat-$ns n $ns nstat -n
	done
}
counters_end() {	# counters_end PATH
	local ns retrans=0 r
	for ns in a b; do
		NSTAT_HISTORY=$CV_TMP/nstat-$ns n $ns nstat >"$CV_TMP/nstat.txt" 2>&1
		r=$(sed -n 's/^TcpRetransSegs *\([0-9]*\).*/\1/p' "$CV_TMP/nstat.txt")
		retrans=$((retrans + ${r:-0}))
		echo "== namespace $ns, TCP runs of round $round"
		cat "$CV_TMP/nstat.txt"
	done >>"$OUT/counters-$1.txt"
	put "$1" tcp_retrans "$retrans"
}

# ping_avg PING-ARGS...: the average RTT in ms of pings from a to b.
ping_avg() {
	n a ping -q -W 2 "$@" "$IB" |
		sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p'
}

measure() {	# measure PATH
	local p=$1 mbit='.end.sum_received.bits_per_second / 1e6'

	# The first packets of a fresh path may wait for neighbours, handshakes.
	if ! within 30 n a ping -c 1 -W 1 "$IB"; then
		note "$p: $IB does not answer, skipped"
		for m in $METRICS; do put "$p" $m; done
		return
	fi
	put "$p" rtt_ms "$(ping_avg -c 50 -i 0.05)"

	ip netns exec b "${PIN_B[@]}" iperf3 -s -D -I "$CV_TMP/iperf3.pid" \
		>/dev/null 2>&1
	within 20 n a bash -c "echo >/dev/tcp/$IB/5201"
	counters_start
	# Pings while the stream runs, five a second from its second second
	# to its last.
	(sleep 1; ping_avg -c $((T > 1 ? T * 5 - 5 : 1)) -i 0.2 \
		>"$CV_TMP/rtt-load") &
	put "$p" tcp1_ab "$(iperf "$mbit")"
	wait $!
	put "$p" rtt_load_ms "$(cat "$CV_TMP/rtt-load")"
	put "$p" tcp1_ba "$(iperf "$mbit" -R)"
	put "$p" tcp4_ab "$(iperf "$mbit" -P 4)"
	counters_end "$p"
	put "$p" udp64_pps "$(iperf \
		'.end.sum_received.bytes / 64 / .end.sum_received.seconds' \
		-u -l 64 -b 0)"
	kill "$(cat "$CV_TMP/iperf3.pid")" 2>/dev/null
	sleep 0.5
}

# A system-wide profile of one crapvpn TCP stream a -> b (both ends: the
# namespaces share the VM's two CPUs). TCG has no PMU: cpu-clock samples.
profile() {
	up_crapvpn || return 1
	within 30 n a ping -c 1 -W 1 "$IB"
	ip netns exec b "${PIN_B[@]}" iperf3 -s -D -I "$CV_TMP/iperf3.pid" \
		>/dev/null 2>&1
	within 20 n a bash -c "echo >/dev/tcp/$IB/5201"
	perf record -q -B -N -a -g -e cpu-clock -F 250 -o "$CV_TMP/perf.data" -- \
		ip netns exec a "${PIN_A[@]}" iperf3 -c "$IB" -t "$T" \
		>"$OUT/perf-iperf3.txt" 2>&1
	kill "$(cat "$CV_TMP/iperf3.pid")" 2>/dev/null
	# perf report is slow under TCG: the host reads the samples instead,
	# with this kernel's symbols (the binaries are the host's own).
	cp "$CV_TMP/perf.data" "$OUT/perf.data"
	cat /proc/kallsyms >"$OUT/kallsyms"
	down_crapvpn
}

for dep in $(modinfo -F depends "$KO" | tr , ' '); do modprobe "$dep"; done
insmod "$KO" || exit 1
modprobe -a veth fou ipip wireguard tun || exit 1
setup_pair
if ! within 10 n a ping -c 1 -W 1 192.0.2.2; then
	note "setup_pair: no veth between a and b"
	exit 1
fi
veth_mode="veth: netif_rx on the sender's CPU (GRO off)"
if [ "${BENCH_VETH_GRO:-0}" = 1 ]; then
	n a ethtool -K va gro on && n b ethtool -K vb gro on || exit 1
	veth_mode="veth: GRO on, NAPI on the receiving end"
fi
if [ "${BENCH_SPLIT:-0}" = 1 ]; then
	if [ "$(nproc)" -lt 2 ]; then
		note "BENCH_SPLIT needs 2 CPUs, the VM has $(nproc)"
		exit 1
	fi
	n a sh -c 'echo 1 >/sys/class/net/va/queues/rx-0/rps_cpus' &&
		n b sh -c 'echo 2 >/sys/class/net/vb/queues/rx-0/rps_cpus' || exit 1
	PIN_A=(taskset -c 0) PIN_B=(taskset -c 1)
	veth_mode+="; a on CPU 0, b on CPU 1 (taskset, RPS)"
fi
if [ -n "${BENCH_QUEUE:-}" ]; then
	for ns in a b; do
		dev=v$ns
		n $ns tc qdisc add dev $dev root handle 1: tbf rate "$BENCH_QUEUE" \
			burst 32kb latency 100ms &&
		n $ns tc qdisc add dev $dev parent 1:1 fq_codel || exit 1
	done
	veth_mode+="; each end sends through tbf rate $BENCH_QUEUE, fq_codel below it"
fi
{
	echo "kernel $(uname -r), $(nproc) CPUs, iperf3 -t $T, $ROUNDS round(s)"
	echo "key (crapvpn, userspace): $((${#KEY} / 2)) bytes"
	echo "MTU: veth 1500, fou 1472, crapvpn 1464, crapvpn-l2 1450, wireguard 1440, userspace 1464"
	echo "$veth_mode"
	echo "kernel command line: $(cat /proc/cmdline)"
} >"$OUT/conditions.txt"
# With BENCH_ROUNDS > 1 the paths take turns, round after round, so that a
# change in the host's load hits them all; the report takes the median.
for ((round = 1; round <= ROUNDS; round++)); do
	for p in $PATHS; do
		note "=== $p (round $round of $ROUNDS)"
		start=$SECONDS
		if "up_$p"; then
			measure "$p"
		else
			note "$p: setup failed"
			for m in $METRICS; do put "$p" $m; done
		fi
		case $p in
		crapvpn*)
			for ns in a b; do
				echo "== namespace $ns"
				n $ns ethtool -S cv0
			done >>"$OUT/counters-$p.txt" 2>&1 ;;
		esac
		"down_$p" 2>/dev/null
		note "$p: $((SECONDS - start)) s"
		grep "^$p	" "$RES" | tail -n 6 >&2
	done
done
if [ "${BENCH_PERF:-0}" = 1 ] && ! command -v perf >/dev/null; then
	note "no perf (Debian: linux-perf): no profile"
elif [ "${BENCH_PERF:-0}" = 1 ]; then
	note "=== perf profile of crapvpn, one TCP stream"
	start=$SECONDS
	profile || note "profile failed"
	note "profile: $((SECONDS - start)) s"
fi
cleanup_pair
rm -rf "$CV_TMP"
exit 0
