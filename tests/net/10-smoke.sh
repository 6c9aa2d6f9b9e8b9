#!/bin/bash
# Smoke test: create a tunnel over each underlay family and ping through it.
. "$(dirname "$0")/lib.sh"

setup_pair
check "create the IPv4-underlay tunnel" tunnel4
check "create the IPv6-underlay tunnel" tunnel6
check "ping inner IPv4 over IPv4" n a ping -c 3 -i 0.2 -W 5 198.51.100.2
check "ping inner IPv6 over IPv4" n a ping -c 3 -i 0.2 -W 5 fd00:4::2
check "ping inner IPv4 over IPv6" n a ping -c 3 -i 0.2 -W 5 203.0.113.2
check "ping inner IPv6 over IPv6" n a ping -c 3 -i 0.2 -W 5 fd00:6::2
check_ge "rx packets counted on b" "$(link_stat b cv4 rx_packets)" 6
check_ge "tx packets counted on a" "$(link_stat a cv4 tx_packets)" 6

# Without a peer there is nowhere to send to: the sender hears so at once
# (ICMP host unreachable, ICMPv6 address unreachable), as from a router
# without a route, and the drop is counted.
no_peer() {
	ipa link add cvn type crapvpn key "$KEY" port 1390 &&
	ipa addr add 10.66.0.1 peer 10.66.0.2 dev cvn &&
	ipa addr add fd00:66::1/64 dev cvn nodad && ipa link set cvn up
}
if check "a device without a peer" no_peer; then
	n a ping -c 1 -W 5 10.66.0.2 >"$CV_TMP/unreach4" 2>&1
	check "ping through it: Destination Host Unreachable" \
		grep -q "Destination Host Unreachable" "$CV_TMP/unreach4"
	n a ping -c 1 -W 5 fd00:66::2 >"$CV_TMP/unreach6" 2>&1
	check "ping IPv6 through it: Address unreachable" \
		grep -qi "Address unreachable" "$CV_TMP/unreach6"
	check_ge "tx_drop_no_peer counts both" \
		"$(ethtool_stat a cvn tx_drop_no_peer)" 2
	ipa link del cvn
fi

# The largest inner packets. A route's MTU may exceed the device's (up to
# 65520), and then the IP layer hands the device packets that large. The
# largest whose datagram fits the outer IP length (the whole packet over
# IPv4, the payload over IPv6) crosses as underlay fragments; one byte
# more is dropped and counted, not sent with a length that wrapped.
# big DEV TARGET FITS: ICMP payloads FITS and FITS + 1 through DEV.
big() {
	local before
	ipa route add "$2/32" dev "$1" mtu 65520 && ipb addr add "$2/32" dev lo
	check "$1: ${3}-byte ping payload ($(($3 + 28))-byte inner packet) crosses" \
		n a ping -c 1 -W 20 -s "$3" "$2"
	before=$(ethtool_stat a "$1" tx_drop_too_big)
	check_fails "$1: one byte more is not sent" \
		n a ping -c 1 -W 3 -s $(($3 + 1)) "$2"
	check_eq "$1: tx_drop_too_big counts it" \
		"$(ethtool_stat a "$1" tx_drop_too_big)" $((before + 1))
}
big cv4 10.99.0.4 $((65535 - 36 - 28))
big cv6 10.99.0.6 $((65535 - 16 - 28))

# A routing loop through two tunnels: cvx's peer is routed through cvy and
# cvy's through cvx, so each packet would recurse through both until the
# stack overflows. The nesting is cut after a few levels (as the kernel's
# own tunnels cut it in Debian's 6.12 and 7.2) and counted as tx_drop_loop;
# the kernel and the other tunnels go on.
loop_pair() {
	ipa link add cvx type crapvpn key "$KEY" peer 10.98.0.2 port 1401 &&
	ipa link add cvy type crapvpn key "$KEY" peer 10.98.1.2 port 1402 &&
	ipa addr add 10.98.2.1 peer 10.98.2.2 dev cvx &&
	ipa link set cvx up && ipa link set cvy up &&
	ipa route add 10.98.0.2/32 dev cvy && ipa route add 10.98.1.2/32 dev cvx
}
if check "cvx and cvy, each routed through the other" loop_pair; then
	check_fails "a ping into the loop is not answered" \
		n a ping -c 3 -i 0.2 -W 1 10.98.2.2
	check_ge "tx_drop_loop counts the cut (cvx + cvy)" \
		$(($(ethtool_stat a cvx tx_drop_loop) + $(ethtool_stat a cvy tx_drop_loop))) 3
	check "the other tunnels still carry pings" n a ping -c 2 -i 0.2 -W 5 198.51.100.2
	ipa link del cvx
	ipa link del cvy
fi

# Which XOR runs: packets of 512 bytes or more in AVX2 registers when the
# CPU has them, the rest (or all, without AVX2) in the scalar code. The
# function tracer counts the calls while two pings of one size cross (each
# is XORed four times: request and reply, at each end); other traffic, IPv6
# router solicitations say, is small and may add scalar calls.
T=/sys/kernel/tracing
xor_calls() {	# xor_calls FUNCTION PING_SIZE
	echo "$1" >$T/set_ftrace_filter && echo function >$T/current_tracer &&
		echo >$T/trace || return
	n a ping -c 2 -i 0.2 -W 5 -s "$2" 198.51.100.2 >/dev/null
	# Stopped, not switched: a new tracer empties the buffer.
	echo 0 >$T/tracing_on
	grep -c " $1 <-" $T/trace
	echo nop >$T/current_tracer
	echo 1 >$T/tracing_on
}
if ! grep -qw function $T/available_tracers 2>/dev/null; then
	log "no function tracer in this kernel: which XOR runs is not checked"
elif grep -qw avx2 /proc/cpuinfo; then
	log "the CPU has AVX2"
	check_ge "1200-byte pings: crapvpn_xor_avx2" "$(xor_calls crapvpn_xor_avx2 1200)" 8
	check_eq "100-byte pings: no crapvpn_xor_avx2" "$(xor_calls crapvpn_xor_avx2 100)" 0
	check_ge "100-byte pings: crapvpn_xor" "$(xor_calls crapvpn_xor 100)" 8
else
	log "the CPU has no AVX2"
	check_ge "1200-byte pings: crapvpn_xor" "$(xor_calls crapvpn_xor 1200)" 8
	check_eq "1200-byte pings: no crapvpn_xor_avx2" "$(xor_calls crapvpn_xor_avx2 1200)" 0
fi

# The transmit queue of a multiqueue underlay follows the inner flow, for
# GSO batches too. Over a two-queue veth (mq: one qdisc per queue), one TCP
# stream through the tunnel keeps to one queue (at most 5% of its bytes on
# the other: the flow is never reordered), and 16 streams put at least 5%
# on each. A hash of the outer 5-tuple, which every datagram of the tunnel
# shares, would put all the batches on one queue. All 16 flows pick one
# queue by chance once in 32768 runs. iperf3 sends a fixed byte count, not
# for a fixed time: a timed test on a slow (debug) kernel can outlast the
# server's own timer, which then resets the streams mid-test.
queue_bytes() {	# queue_bytes CLASS: bytes that wa's mq class CLASS sent
	n a tc -s class show dev wa | awk -v c="$1" \
		'$1 == "class" { f = $3 == c } f && $1 == "Sent" { print $2; exit }'
}
mq_tunnel() {
	ip link add wa netns a numtxqueues 2 numrxqueues 2 type veth \
		peer wb netns b numtxqueues 2 numrxqueues 2 &&
	ipa addr add 100.64.0.1/24 dev wa && ipb addr add 100.64.0.2/24 dev wb &&
	ipa link set wa up && ipb link set wb up &&
	n a tc qdisc add dev wa root handle 1: mq &&
	add_tunnel a cv9 100.64.0.2 10.77.0.1 10.77.0.2 fd00:77::1 fd00:77::2 \
		port 1339 peer-port 1339 &&
	add_tunnel b cv9 100.64.0.1 10.77.0.2 10.77.0.1 fd00:77::2 fd00:77::1 \
		port 1339 peer-port 1339 &&
	n b iperf3 -s -D -I "$CV_TMP/iperf3-mq.pid" >/dev/null 2>&1 &&
	wait_for 20 n a bash -c "echo >/dev/tcp/10.77.0.2/5201"
}
# wa_sent STREAMS BYTES: what wa's classes 1:1 and 1:2 sent while STREAMS
# TCP streams sent BYTES in all through cv9
wa_sent() {
	local q1 q2
	q1=$(queue_bytes 1:1) q2=$(queue_bytes 1:2)
	n a iperf3 -c 10.77.0.2 -P "$1" -n "$2" >"$CV_TMP/iperf3-mq.out" ||
		return
	echo $(($(queue_bytes 1:1) - q1)) $(($(queue_bytes 1:2) - q2))
}
# mq_share STREAMS BYTES: the smaller queue's share of it, in percent
mq_share() {
	local sent
	sent=$(wa_sent "$1" "$2") || return
	set -- "$1" $sent
	log "$1 stream(s): wa's queues sent $2 and $3 bytes" >&2
	echo $((100 * ($2 < $3 ? $2 : $3) / ($2 + $3)))
}
# The priority and mark of the inner packet, which the underlay's qdiscs
# and filters classify on, stay on the outer one, for GSO batches too (the
# priority is checked here). tc gives cv9's packets priority 6, which prio
# on wa puts in band 1:1 (0 would go to 1:2); at least 95% of a TCP
# stream's bytes must go there.
prio_setup() {
	n a tc qdisc del dev wa root &&
	n a tc qdisc add dev wa root handle 1: prio &&
	n a tc qdisc add dev cv9 clsact &&
	n a tc filter add dev cv9 egress matchall action skbedit priority 6
}
prio_share() {	# prio_share: band 1:1's share, in percent
	local sent
	sent=$(wa_sent 1 2M) || return
	set -- $sent
	log "priority 6: wa's bands 1:1 and 1:2 sent $1 and $2 bytes" >&2
	echo $((100 * $1 / ($1 + $2)))
}
if check "a tunnel over a two-queue veth" mq_tunnel; then
	share=$(mq_share 1 2M)
	check_ge "1 stream: at most 5% of the bytes on the other queue" \
		$((5 - ${share:-100})) 0
	check_ge "16 streams: each transmit queue carries at least 5%" \
		"$(mq_share 16 4M)" 5
	if modinfo sch_prio cls_matchall act_skbedit >/dev/null 2>&1; then
		check "prio on wa, priority 6 on cv9's packets" prio_setup &&
			check_ge "the outer packets keep the priority" \
				"$(prio_share)" 95
	else
		log "no prio qdisc, matchall or skbedit: priority not checked"
	fi
fi
n b sh -c 'kill "$(cat "$1")"' sh "$CV_TMP/iperf3-mq.pid"

# Inner flows spread over the CPUs with RPS on the tunnel device. Every
# datagram of a tunnel has the same outer 5-tuple, so the hash that a NIC
# puts on it (here RPS on va computes one, as RSS would) says nothing about
# the inner flow: RPS on cv4 has to hash the inner packet, or it sends all
# flows to one CPU. b sends 16 inner UDP flows from one socket (a's own
# sender would hand its flows' socket hashes down through veth, which a
# NIC does not). All 16 land on one CPU of two by chance once in 32768.
spread() {
	local all ready=$CV_TMP/flowcpu.ready pid
	all=$(printf %x $(((1 << $(nproc)) - 1)))
	n a sh -c "echo 1 >/sys/class/net/va/queues/rx-0/rps_cpus &&
		echo $all >/sys/class/net/cv4/queues/rx-0/rps_cpus" || return
	n a python3 "$CV_ROOT/tests/net/helpers/flowcpu.py" recv \
		198.51.100.1 198.51.100.2 7000 16 "$ready" >"$CV_TMP/flowcpu.out" &
	pid=$!
	wait_for 20 test -e "$ready" &&
		n b python3 "$CV_ROOT/tests/net/helpers/cvsend.py" flows \
			192.0.2.1 1337 --key "$KEY" --inner-src 198.51.100.2 \
			--inner-dst 198.51.100.1 --inner-port 7000 --count 16
	if ! wait $pid; then
		log "a's cv4: $(n a ethtool -S cv4 | awk '$2 != 0' | tr -s ' \n' ' ')," \
			"rx_packets $(link_stat a cv4 rx_packets)," \
			"Udp InErrors $(udp_snmp a InErrors) InCsumErrors $(udp_snmp a InCsumErrors) NoPorts $(udp_snmp a NoPorts)" >&2
		return 1
	fi
	log "CPUs of the 16 flows: $(tr '\n' ' ' <"$CV_TMP/flowcpu.out")" >&2
	sort -u "$CV_TMP/flowcpu.out" | wc -l
}
if [ "$(nproc)" -lt 2 ]; then
	log "one CPU: how RPS spreads inner flows is not checked"
else
	check_eq "RPS on cv4 spreads 16 inner flows over both CPUs" "$(spread)" 2
fi
finish
