#!/bin/bash
# What a real host's underlay does to the data path, which plain veth under
# TCG hides: a multiqueue NIC records its receive queue (RPS on the tunnel
# device must not trip over it), a qdisc builds a queue (TCP Small Queues
# must see the tunnel's packets in it, as it sees FOU's), and a NIC reads
# skb->encapsulation to offer an inner checksum (crapvpn must not pass on
# the inner packet's, whose headers are ciphertext on the wire), and the
# IP layer below the tunnel may refuse a datagram (netfilter, a full
# qdisc): the counters must say what was sent and what was not. Each part
# says what stands in for the real thing.
. "$(dirname "$0")/lib.sh"

HELPERS=$CV_ROOT/tests/net/helpers
T=/sys/kernel/tracing
trap kill_jobs EXIT
setup_pair
modprobe -a fou ipip sch_tbf 2>/dev/null

# ---- 1. RPS behind a multiqueue underlay ----------------------------------
# A NIC records the receive queue of each packet (skb_record_rx_queue);
# veth passes on the sender's transmit queue in the same field, so a
# four-queue veth whose sender spreads flows over its queues stands in for
# a four-queue NIC with RSS. The tunnel device has one receive queue: a
# queue number left over from the underlay makes RPS on it give up. b
# sends 16 inner UDP flows through its cv9 from CPU 0, each from its own
# socket (each its own transmit hash, which cv9 keeps, so they spread over
# wb's queues); a's cv9 steers with RPS to CPU 1 alone. Every flow must
# be received on CPU 1.
mq_tunnel() {
	ip link add wa netns a numtxqueues 4 numrxqueues 4 type veth \
		peer wb netns b numtxqueues 4 numrxqueues 4 &&
	ipa addr add 100.64.0.1/24 dev wa && ipb addr add 100.64.0.2/24 dev wb &&
	n a ethtool -K wa gro on && n b tc qdisc add dev wb root handle 1: mq &&
	ipa link set wa up && ipb link set wb up &&
	add_tunnel a cv9 100.64.0.2 10.77.0.1 10.77.0.2 fd00:77::1 fd00:77::2 \
		port 1339 peer-port 1339 &&
	add_tunnel b cv9 100.64.0.1 10.77.0.2 10.77.0.1 fd00:77::2 fd00:77::1 \
		port 1339 peer-port 1339
}
# high_queues: packets that wb's transmit queues 3 and 4 (classes 1:3 and
# 1:4: rx queue numbers 2 and 3 on a's side) sent so far
high_queues() {
	n b tc -s class show dev wb | awk '$1 == "class" { c = $3 }
		$1 == "Sent" && (c == "1:3" || c == "1:4") { s += $4 }
		END { print s + 0 }'
}
rps_cpus() {	# rps_cpus: the CPUs a's cv9 received the 16 flows on
	local ready=$CV_TMP/flowcpu.ready
	n a sh -c 'echo 2 >/sys/class/net/cv9/queues/rx-0/rps_cpus' || return
	n a python3 "$HELPERS/flowcpu.py" recv 10.77.0.1 10.77.0.2 7000 16 \
		"$ready" >"$CV_TMP/flowcpu.out" &
	local pid=$!
	wait_for 20 test -e "$ready" &&
		n b taskset -c 0 python3 "$HELPERS/flowcpu.py" send \
			10.77.0.2 10.77.0.1 7000 16
	wait $pid || return
	sort -u "$CV_TMP/flowcpu.out" | tr '\n' ' ' | sed 's/ $//'
}
if [ "$(nproc)" -lt 2 ]; then
	skip "RPS behind a multiqueue underlay: one CPU"
elif check "a tunnel over a four-queue veth with GRO (NAPI)" mq_tunnel; then
	hq=$(high_queues)
	check_eq "RPS on cv9 to CPU 1: every flow received on CPU 1" \
		"$(rps_cpus)" 1
	check_ge "the flows used wb's queues 3 and 4 too (the case at stake)" \
		$(($(high_queues) - hq)) 1
fi

# ---- 2. Back-pressure from the underlay's qdisc ---------------------------
# tbf at 50 Mbit/s on a's va stands in for a NIC slower than the sender,
# with a queue in front of it. TCP Small Queues bounds what a TCP socket
# has queued below it, as long as the packets there are still the
# socket's: FOU keeps them so. One bulk TCP flow through FOU, then
# through crapvpn: the backlog of va's qdisc (sampled while the flow
# runs) and the ping RTT under that load must stay within 1.5 times FOU's,
# plus one 64 KiB burst and 10 ms of TCG scheduling noise (seen: 25 ms
# against FOU's 17.5 ms with an empty qdisc on a busy host; a qdisc that
# fills gives 200 ms and more). The burst of 256 KiB keeps tbf from
# splitting GSO packets itself. A NIC delivers one outer flow on one
# receive queue, so in order; veth receives on whichever CPU sent, which
# reorders a tunnel's bursts across CPUs and makes TCP retransmit: RPS to
# one CPU on both veths stands in for the NIC's queue.
up_fou() {
	local ns me peer
	for ns in a b; do
		[ $ns = a ] && me=192.0.2.1 peer=192.0.2.2 || me=192.0.2.2 peer=192.0.2.1
		ip -n $ns fou add port 5555 ipproto 4 &&
		ip -n $ns link add fou0 mtu 1472 type ipip remote $peer local $me \
			encap fou encap-sport auto encap-dport 5555 &&
		ip -n $ns link set fou0 up || return 1
	done
	ipa addr add 10.88.0.1 peer 10.88.0.2 dev fou0 &&
		ipb addr add 10.88.0.2 peer 10.88.0.1 dev fou0
}
# backlog_sampler OUT STOP: va's qdisc backlog in bytes, one a line,
# every 0.2 s until STOP exists
backlog_sampler() {
	until [ -e "$2" ]; do
		n a tc -s qdisc show dev va | awk '$1 == "backlog" {
			b = $2; sub(/b$/, "", b)
			if (b ~ /K$/) { sub(/K$/, "", b); b *= 1000 }
			if (b ~ /M$/) { sub(/M$/, "", b); b *= 1000000 }
			print int(b) }'
		sleep 0.2
	done >"$1"
}
# load NAME PEER: bulk TCP to PEER for 8 s, pinging it meanwhile; sets
# BACKLOG_NAME (median of the samples, bytes) and RTT_NAME (average, µs).
load() {
	local name=$1 peer=$2 stop=$CV_TMP/$1.stop
	backlog_sampler "$CV_TMP/$name.backlog" "$stop" &
	local sampler=$!
	n a iperf3 -c "$peer" -t 8 -J >"$CV_TMP/$name.json" &
	local client=$!
	sleep 2
	n a ping -q -c 20 -i 0.2 -W 5 "$peer" >"$CV_TMP/$name.ping"
	wait $client
	touch "$stop"
	wait $sampler
	eval "BACKLOG_$name=$(sort -n "$CV_TMP/$name.backlog" |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }')"
	eval "RTT_$name=$(awk -F/ '/^rtt/ { printf "%d", $5 * 1000 }' \
		"$CV_TMP/$name.ping")"
	log "$name: backlog median $(eval echo \$BACKLOG_$name) bytes," \
		"ping $(eval echo \$RTT_$name) µs, $(python3 -c 'import json, sys
e = json.load(open(sys.argv[1]))["end"]
print("%.0f Mbit/s, %d retransmissions" % (
    e["sum_received"]["bits_per_second"] / 1e6, e["sum_sent"]["retransmits"]))' \
		"$CV_TMP/$name.json" 2>&1)"
	log "$name: va: $(n a tc -s qdisc show dev va | grep -o 'dropped [0-9]*, overlimits [0-9]*')"
	[ "$name" = crapvpn ] && log "$name: b's cv4: $(n b ethtool -S cv4 | awk '$2 != 0 { printf "%s%s ", $1, $2 }')"
}
if ! modinfo sch_tbf fou ipip >/dev/null 2>&1; then
	skip "back-pressure: no tbf, fou or ipip module"
elif check "tbf 50 Mbit/s on a's va, FOU and crapvpn over it" \
	eval 'n a tc qdisc add dev va root tbf rate 50mbit burst 256kb limit 4mb &&
		n a sh -c "echo 1 >/sys/class/net/va/queues/rx-0/rps_cpus" &&
		n b sh -c "echo 1 >/sys/class/net/vb/queues/rx-0/rps_cpus" &&
		up_fou && tunnel4 &&
		n b iperf3 -s -D -I "$CV_TMP/iperf3.pid" >/dev/null 2>&1 &&
		wait_for 20 n a bash -c "echo >/dev/tcp/10.88.0.2/5201"'; then
	load fou 10.88.0.2
	load crapvpn 198.51.100.2
	check_ge "qdisc backlog under one TCP flow within 1.5x FOU's" \
		$((BACKLOG_fou * 3 / 2 + 65536)) "${BACKLOG_crapvpn:-999999999}"
	check_ge "ping RTT under one TCP flow within 1.5x FOU's" \
		$((RTT_fou * 3 / 2 + 10000)) "${RTT_crapvpn:-999999999}"
	n b sh -c 'kill "$(cat "$1")"' sh "$CV_TMP/iperf3.pid"
	n a tc qdisc del dev va root
fi

# ---- 3. No inner offload state on the outer packet ------------------------
# A NIC that sees skb->encapsulation may compute an inner checksum at the
# inner header offsets; veth ignores the flag, so a kprobe on veth_xmit
# reads it instead (its offset from the kernel's BTF). FOU inside the
# tunnel, its TCP checksums pending (GSO off: every packet on its own),
# gives crapvpn packets with the flag set. None may leave on va with it,
# and a transfer through it arrives intact. FOU straight over va shows
# that the probe sees the flag where it is set.
enc_probe() {	# enc_probe on|off|count
	case $1 in
	on)
		local at
		at=$(python3 "$HELPERS/btfoff.py" sk_buff encapsulation) || return
		set -- $at
		echo "p:cvenc veth_xmit enc=+$(($1 / 8))(%di):b1@$(($1 % 8))/8" \
			>>$T/kprobe_events &&
		echo 'enc == 1' >$T/events/kprobes/cvenc/filter &&
		echo >$T/trace && echo 1 >$T/events/kprobes/cvenc/enable ;;
	off)
		echo 0 >$T/events/kprobes/cvenc/enable
		echo -:cvenc >>$T/kprobe_events ;;
	count)
		grep -c ' cvenc:' $T/trace ;;
	esac
}
fou_in_tunnel() {
	local ns
	for ns in a b; do
		ip -n $ns fou add port 5556 ipproto 4 || return
	done
	ip -n a link add fou1 type ipip remote 198.51.100.2 local 198.51.100.1 \
		encap fou encap-sport auto encap-dport 5556 &&
	ip -n b link add fou1 type ipip remote 198.51.100.1 local 198.51.100.2 \
		encap fou encap-sport auto encap-dport 5556 &&
	ipa addr add 10.89.0.1 peer 10.89.0.2 dev fou1 &&
	ipb addr add 10.89.0.2 peer 10.89.0.1 dev fou1 &&
	n a ethtool -K fou1 gso off tso off && n b ethtool -K fou1 gso off tso off &&
	ipa link set fou1 up && ipb link set fou1 up
}
if [ ! -e $T/kprobe_events ]; then
	skip "inner offload state: no kprobe events in this kernel"
elif ! modinfo fou ipip >/dev/null 2>&1; then
	skip "inner offload state: no fou or ipip module"
elif check "FOU (ipip) inside cv4, GSO off" eval 'ipa link show cv4 >/dev/null 2>&1 ||
	tunnel4; fou_in_tunnel' &&
	check "kprobe on veth_xmit reading skb->encapsulation" enc_probe on; then
	head -c 4M /dev/urandom >"$CV_TMP/enc.data"
	want=$(sha256sum <"$CV_TMP/enc.data" | cut -d' ' -f1)
	receive enc b "TCP-LISTEN:7100" 120
	wait_for 20 listening b 7100
	send enc a "$CV_TMP/enc.data" "TCP:10.89.0.2:7100" 120
	wait_for 120 test -s "$CV_TMP/enc.sum"
	check_eq "4 MiB through FOU inside crapvpn: sha256 of what arrived" \
		"$(cat "$CV_TMP/enc.sum" 2>/dev/null)" "$want"
	check_eq "no crapvpn datagram left with skb->encapsulation set" \
		"$(enc_probe count)" 0
	if ipa link show fou0 >/dev/null 2>&1; then
		n a ethtool -K fou0 gso off tso off
		n a ping -c 3 -i 0.2 -s 1000 -W 5 10.88.0.2 >/dev/null
		n a bash -c 'head -c 1M /dev/zero >/dev/tcp/10.88.0.2/9' 2>/dev/null
		check_ge "the probe sees the flag on FOU's own packets" \
			"$(enc_probe count)" 1
	else
		skip "the probe's positive control: no fou0 (part 2 did not run)"
	fi
	enc_probe off
fi

# ---- 4. What the IP layer refuses is counted, datagram by datagram ---------
# netfilter dropping the tunnel's datagrams in a's output stands in for
# any refusal below the tunnel (a full qdisc, a device that is down). An
# inner UDP GSO burst (one sendmsg, UDP_SEGMENT) leaves cv4 and cv6 as one
# outer UDP GSO packet of N datagrams: each is counted, as sent in
# tx_packets and tx_bytes (inner bytes) when the IP layer takes it, else in
# tx_drop_xmit and tx_dropped; so is each datagram of a plain ping.
N=10 SIZE=1000
# burst NS DST PORT: N inner datagrams of SIZE bytes in one sendmsg
burst() {
	n "$1" python3 -c 'import socket, sys
dst, port, k, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, size)	# UDP_SEGMENT
s.sendto(bytes(k * size), (dst, port))' "$2" "$3" "$N" "$SIZE"
}
# tx_counts NS DEV: "tx_packets tx_bytes tx_dropped tx_drop_xmit" (a
# module without tx_drop_xmit: 0)
tx_counts() {
	local x
	x=$(ethtool_stat "$1" "$2" tx_drop_xmit)
	echo "$(link_stat "$1" "$2" tx_packets) $(link_stat "$1" "$2" tx_bytes)" \
		"$(link_stat "$1" "$2" tx_dropped) ${x:-0}"
}
# tx_moved NS DEV BEFORE: how each of tx_counts moved since BEFORE
tx_moved() {
	local now
	now=$(tx_counts "$1" "$2")
	set -- $3 $now
	echo "packets $(($5 - $1)) bytes $(($6 - $2)) dropped $(($7 - $3))" \
		"xmit $(($8 - $4))"
}
# quiet NS DEV: DEV stops sending IPv6 router solicitations (every few
# seconds, on kernels that give it a link-local address); wait (up to
# 45 s) until it sends nothing of its own for 3 s: a new device's IPv6
# addresses are announced (MLD) at first.
quiet() {
	local i t
	n "$1" sysctl -qw "net.ipv6.conf.$2.router_solicitations=0" || return
	for ((i = 0; i < 15; i++)); do
		t=$(link_stat "$1" "$2" tx_packets)
		sleep 3
		[ "$(link_stat "$1" "$2" tx_packets)" = "$t" ] && return 0
	done
	return 1
}
# refused DEV INNER_DST PORT IP_HEADER_BYTES
refused() {
	local dev=$1 dst=$2 port=$3 iph=$4 t0 r0
	check "$dev: a sends nothing of its own" quiet a "$dev"
	check "nft drops a's UDP to port $port" n a nft "add table inet cvtx;
		add chain inet cvtx out { type filter hook output priority 0; };
		add rule inet cvtx out udp dport $port drop"
	t0=$(tx_counts a "$dev")
	check "$dev: a sends $N datagrams in one UDP GSO burst" burst a "$dst" 7200
	check_eq "$dev, refused burst: nothing sent, each datagram dropped" \
		"$(tx_moved a "$dev" "$t0")" "packets 0 bytes 0 dropped $N xmit $N"
	t0=$(tx_counts a "$dev")
	n a ping -c 3 -i 0.2 -W 1 "$dst" >/dev/null 2>&1
	check_eq "$dev, refused pings: nothing sent, each dropped" \
		"$(tx_moved a "$dev" "$t0")" "packets 0 bytes 0 dropped 3 xmit 3"
	check "nft lets them through again" n a nft delete table inet cvtx
	t0=$(tx_counts a "$dev")
	r0=$(link_stat b "$dev" rx_packets)
	check "$dev: the burst again" burst a "$dst" 7200
	check_eq "$dev, burst sent: each datagram and its inner bytes counted" \
		"$(tx_moved a "$dev" "$t0")" \
		"packets $N bytes $((N * (SIZE + 8 + iph))) dropped 0 xmit 0"
	wait_for 20 eval '[ $(($(link_stat b '"$dev"' rx_packets) - r0)) -ge $N ]'
	check_eq "$dev: b received the $N datagrams" \
		$(($(link_stat b "$dev" rx_packets) - r0)) "$N"
}
if ! command -v nft >/dev/null; then
	skip "refused datagrams: no nft"
elif check "cv4 and cv6 between a and b" eval 'ipa link show cv4 >/dev/null 2>&1 ||
	tunnel4; ipa link show cv6 >/dev/null 2>&1 || tunnel6'; then
	refused cv4 198.51.100.2 1337 20
	refused cv6 fd00:6::2 1338 40
fi
finish
