#!/bin/bash
# Interop with the userspace CrapVPN (tests/userspace/crapvpn-userspace.py:
# TUN, UDP, select loop), which is what crapvpn replaces: namespace a runs
# the module, namespace b the userspace peer, over each underlay:
#  * pings both ways, small and large: the userspace TUN has MTU 1500, so
#    its 1500-byte packets leave as fragmented datagrams, which the module
#    must reassemble and accept;
#  * full-size captures on both tunnel ends and on the underlay: every
#    ICMP packet is carried as exactly "crap" + length + type + (packet XOR
#    key), type the EtherType from the module and 00 00 from the userspace
#    peer, which ignores it on receipt (tests/net/helpers/pcapcheck.py match);
#  * a TCP stream each way at the same time, sha256-checked;
#  * the module's counters moved and it dropped nothing.
# CV_INTEROP_MIB (default 16) sets the size of each stream: the userspace
# peer is slow under TCG.
. "$(dirname "$0")/lib.sh"

PCAPCHECK=$CV_ROOT/tests/net/helpers/pcapcheck.py
MIB=${CV_INTEROP_MIB:-16}
SIZE=$((MIB << 20))
XFER_TIMEOUT=${CV_XFER_TIMEOUT:-300}
DATA=$CV_TMP/data
# The system python: a version manager's shim can be slow to start.
PY=$(command -v /usr/bin/python3 || command -v python3)

trap 'kill_jobs; finish' EXIT

# userspace NAME PEER INNER_LOCAL INNER_PEER [ARGS...]: the userspace peer
# in namespace b on TUN device NAME.
userspace() {
	local name=$1 peer=$2 l=$3 p=$4
	shift 4
	bg ip netns exec b "$PY" "$CV_USERSPACE" -k "$KEY" -p "$peer" \
		-i "$name" "$@" "$l" "$p" 2>"$CV_TMP/$name.log"
	wait_for 30 eval "ipb link show $name | grep -q ',UP'"
}

big_ping() { # DEV INNER_A
	check "$1: 1500-byte pings userspace -> module (fragmented)" \
		n b ping -c 3 -i 0.2 -W 5 -s 1472 -M do "$2"
}

# interop DEV TUN PORT OUTER_A OUTER_B INNER_A INNER_B: the checks above
# over one tunnel (DEV in a, TUN in b).
interop() {
	local dev=$1 tun=$2 port=$3 oa=$4 ob=$5 ia=$6 ib=$7 t0 x

	log "--- $dev (module, $oa) <-> $tun (userspace, $ob)"
	start_capture a "$dev" "$dev" 0 200
	start_capture b "$tun" "$tun" 0 200
	start_capture a "$dev-udp" va 0 400 "udp port $port or (ip[6:2] & 0x1fff != 0)"
	check "$dev: captures started" wait_for 30 \
		capturing "$dev" "$tun" "$dev-udp"

	check "$dev: ping module -> userspace" \
		n a ping -c 5 -i 0.2 -W 5 "$ib"
	check "$dev: ping userspace -> module" \
		n b ping -c 5 -i 0.2 -W 5 "$ia"
	check "$dev: 1436-byte pings module -> userspace" \
		n a ping -c 3 -i 0.2 -W 5 -s 1408 -M do "$ib"
	# 1500-byte packets: the userspace end sends 1536-byte datagrams,
	# which leave as fragments. pcapcheck reassembles IPv4 fragments only:
	# over IPv6, these pings are not part of the byte-exact check.
	local frag=() min_b=5
	if [ "$oa" = "${oa#*:}" ]; then
		big_ping "$dev" "$ia"
		frag=(--min-frag "$ib=3")
		min_b=8
	fi
	stop_capture "$dev"
	stop_capture "$tun"
	stop_capture "$dev-udp"
	[ ${#frag[@]} -gt 0 ] || big_ping "$dev" "$ia"
	# The module writes the EtherType in bytes 6-7, the userspace peer zeros.
	check "$dev: each ICMP packet is 'crap' + len + type + packet XOR key" \
		"$PY" "$PCAPCHECK" match "$CV_TMP/$dev.pcap,$CV_TMP/$tun.pcap" \
		"$CV_TMP/$dev-udp.pcap" --key "$KEY" --port "$port" \
		--map "$ia=$oa,$ib=$ob" --untyped "$ob" \
		--min-echo "$ia=8" --min-echo "$ib=$min_b" \
		"${frag[@]}"

	rm -f "$CV_TMP"/"$dev"-*.sum "$CV_TMP"/"$dev"-*.end "$CV_TMP"/"$dev"-*.rc
	receive "$dev-ab" b "TCP4-LISTEN:5001,bind=$ib" "$XFER_TIMEOUT"
	receive "$dev-ba" a "TCP4-LISTEN:5002,bind=$ia" "$XFER_TIMEOUT"
	check "$dev: receivers listening" wait_for 30 \
		eval "listening b 5001 && listening a 5002"
	t0=$EPOCHREALTIME
	send "$dev-ab" a "OPEN:$DATA,readbytes=$SIZE" "TCP4:$ib:5001" "$XFER_TIMEOUT"
	send "$dev-ba" b "OPEN:$DATA,seek=$((SIZE / 2))" "TCP4:$ia:5002" "$XFER_TIMEOUT"
	check_streams "$dev" "$t0" "$SIZE" "$XFER_TIMEOUT" "$SUM_AB" "$SUM_BA"

	check_ge "$dev: rx_bytes cover the stream" "$(link_stat a "$dev" rx_bytes)" "$SIZE"
	check_ge "$dev: tx_bytes cover the stream" "$(link_stat a "$dev" tx_bytes)" "$SIZE"
	check_eq "$dev: no drop counted" \
		"$(n a ethtool -S "$dev" | awk '/drop/ && $2 != 0')" ""
}

modprobe tun	# /dev/net/tun appears with the module
setup_pair
# Captures on va must show real datagrams, not UDP GSO super-packets.
check "veth without UDP segmentation offload" eval \
	"n a ethtool -K va tx-udp-segmentation off && n b ethtool -K vb tx-udp-segmentation off"
head -c $((SIZE + SIZE / 2)) /dev/urandom >"$DATA"
SUM_AB=$(head -c "$SIZE" "$DATA" | sha256sum | cut -d' ' -f1)
SUM_BA=$(tail -c "$SIZE" "$DATA" | sha256sum | cut -d' ' -f1)

check "module end over IPv4" \
	add_tunnel a cv4 192.0.2.2 198.51.100.1 198.51.100.2 fd00:4::1 fd00:4::2
check "userspace end over IPv4" \
	userspace crap4 192.0.2.1 198.51.100.2 198.51.100.1
interop cv4 crap4 1337 192.0.2.1 192.0.2.2 198.51.100.1 198.51.100.2

check "module end over IPv6" \
	add_tunnel a cv6 2001:db8::2 203.0.113.1 203.0.113.2 fd00:6::1 fd00:6::2 \
	port 1338 peer-port 1338
check "userspace end over IPv6" \
	userspace crap6 2001:db8::1 203.0.113.2 203.0.113.1 -6 --port 1338 \
	--peer-port 1338
interop cv6 crap6 1338 2001:db8::1 2001:db8::2 203.0.113.1 203.0.113.2
