#!/bin/bash
# Layer-2 mode: two LANs joined into one broadcast domain. Namespaces la and
# lb are hosts on two LANs; a and b are their gateways, each with a bridge
# br0 holding the LAN's veth and a layer-2 crapvpn device to the other
# gateway, over the IPv4 underlay (l2v4, port 1347) and then over the IPv6
# one (l2v6, port 1348). Checked, per underlay:
#  * the device: an Ethernet device (ARPHRD_ETHER) with a random MAC,
#    MTU 1450 over IPv4 and 1430 over IPv6, mode l2 in the link dump, and
#    its mode refused as a change;
#  * ARP and IPv6 neighbour discovery across (the neighbour entries carry
#    the far host's MAC), a UDP broadcast, a ping over an 802.1Q VLAN;
#  * a transfer la -> lb under 1% netem loss on the underlay, sha256-
#    checked, and the datagrams on the underlay typed 0x6558;
#  * the 1.1 vectors for layer-2 devices (tests/net/helpers/cvvectors.py
#    --mode l2), and a layer-3 device's datagrams dropped as rx_drop_mode;
#  * interop with a TAP build of the userspace peer (--tap: it sends zeros
#    in bytes 6-7), both underlays: pings and a sha256-checked transfer
#    each way;
#  * the Wireshark dissector on the module's own traffic: a layer-3 and a
#    layer-2 pair of devices over each underlay ping each other while a's
#    underlay is captured whole, and tshark with tools/wireshark/crapvpn.lua
#    and the key decrypts every datagram, by its type, to ICMP inside IPv4
#    (0x0800), ICMPv6 inside IPv6 (0x86DD), and to ARP, IPv4 and IPv6 inside
#    Ethernet frames (0x6558) (tools/wireshark/test.sh --capture).
# CV_L2_MIB sets the size of the transfer (default 100, the issue's; 16 in
# tests/check, to keep CI short), CV_INTEROP_MIB (default 4) that of the
# userspace peer's; CV_L2_DISSECT=0 skips the dissector's part (tests/check
# runs it on one kernel: tshark takes minutes to start under TCG).
. "$(dirname "$0")/lib.sh"
need socat tcpdump

HELPERS=$CV_ROOT/tests/net/helpers
MIB=${CV_L2_MIB:-100}
SIZE=$((MIB << 20))
PY=$(command -v /usr/bin/python3 || command -v python3)
IMIB=${CV_INTEROP_MIB:-4}
VECTORS=${CV_VECTORS:-$CV_ROOT/tests/vectors/wire-vectors-1.1.jsonl}


cleanup_lans() {
	ip netns del la 2>/dev/null
	ip netns del lb 2>/dev/null
	true
}

# lan NS GW HOST4 HOST6: a host namespace NS on GW's bridge br0.
lan() {
	local ns=$1 gw=$2
	ip netns add "$ns" &&
	ip link add "${ns}0" netns "$ns" mtu 1430 type veth \
		peer "p$ns" netns "$gw" mtu 1430 &&
	n "$ns" ip link set lo up &&
	n "$ns" ip addr add "$3/24" dev "${ns}0" &&
	n "$ns" ip addr add "$4/64" dev "${ns}0" nodad &&
	n "$ns" ip link set "${ns}0" up &&
	n "$ns" ip link add link "${ns}0" name "${ns}0.42" type vlan id 42 &&
	n "$ns" ip addr add "10.42.0.${3##*.}/24" dev "${ns}0.42" &&
	n "$ns" ip link set "${ns}0.42" up &&
	n "$gw" ip link add br0 type bridge &&
	n "$gw" ip link set "p$ns" master br0 &&
	n "$gw" ip link set "p$ns" up &&
	n "$gw" ip link set br0 up
}

# l2dev NS DEV PEER PORT [MAC]: a layer-2 device on NS's bridge, made
# through raw netlink, or with MAC through ip link and its plugin.
l2dev() {
	if [ -n "${5:-}" ]; then
		n "$1" ip link add "$2" address "$5" type crapvpn key "$KEY" \
			peer "$3" port "$4" peer-port "$4" mode l2
	else
		nl "$1" add "$2" key="$KEY" "$(peer_attr "$3")" port="$4" \
			peer_port="$4" mode=l2
	fi &&
	n "$1" ip link set "$2" master br0 &&
	n "$1" ip link set "$2" up
}
peer_attr() { case $1 in *:*) echo "peer6=$1" ;; *) echo "peer=$1" ;; esac; }

mac() { n "$1" cat "/sys/class/net/$2/address"; }

# neigh_mac NS ADDR: the MAC NS has learned for ADDR.
neigh_mac() {
	n "$1" ip neigh show "$2" | awk '{ for (i = 1; i < NF; i++)
		if ($i == "lladdr") print $(i + 1) }'
}

# broadcast: a UDP datagram from la to 10.9.0.255 reaches lb, within four
# minutes (the underlay loses 1%, and the debug kernel is slow).
broadcast() {
	local pid
	rm -f "$CV_TMP/bcast"
	bg bash -c "exec timeout 300 ip netns exec lb socat -u \
		UDP4-RECV:9999,reuseaddr OPEN:$CV_TMP/bcast,creat"
	pid=$!
	# No wait for the receiver to listen: on the debug kernel one look with
	# ss takes 15 s, and socat a minute to start. Send again every 2 s
	# until one datagram has arrived.
	if within 240 broadcast_once; then
		kill "$pid" 2>/dev/null
		return 0
	fi
	kill "$pid" 2>/dev/null
	n lb nstat -az UdpInDatagrams UdpNoPorts IpInAddrErrors IpInDiscards
	return 1
}

broadcast_once() {
	n la socat -u - UDP4-DATAGRAM:10.9.0.255:9999,broadcast <<<"hello, lan"
	sleep 2
	grep -q "hello, lan" "$CV_TMP/bcast"
}

# underlay_typed DEV: the underlay capture of DEV's datagrams all carry
# bytes 6-7 = 65 58 (an Ethernet frame).
underlay_typed() {
	"$PY" - "$CV_TMP/$1-under.pcap" "$2" <<-'EOF'
	import struct, sys
	f = open(sys.argv[1], "rb"); port = int(sys.argv[2])
	f.read(24)
	n = bad = 0
	while True:
	    h = f.read(16)
	    if len(h) < 16:
	        break
	    caplen = struct.unpack("<IIII", h)[2]
	    p = f.read(caplen)
	    ip = p[14:]
	    off = (ip[0] & 15) * 4 if ip[0] >> 4 == 4 else 40
	    udp = ip[off:]
	    if struct.unpack("!H", udp[2:4])[0] != port:
	        continue
	    n += 1
	    if udp[8:12] != b"crap" or udp[14:16] != b"\x65\x58":
	        bad += 1
	print("# %d datagrams to port %d, %d not typed 0x6558" % (n, port, bad))
	sys.exit(0 if n and not bad else 1)
	EOF
}

run() {	# run DEV PEER_A PEER_B PORT MTU
	local dev=$1 pa=$2 pb=$3 port=$4 mtu=$5 ma mb sum t0
	log "--- $dev: layer 2 over $pa <-> $pb, port $port"
	check "$dev: layer-2 device on a's bridge" l2dev a "$dev" "$pb" "$port"
	check "$dev: layer-2 device on b's bridge, by ip link with a MAC" \
		l2dev b "$dev" "$pa" "$port" 02:bb:00:00:00:0${port: -1}
	check_eq "$dev: b's device has the MAC given" "$(mac b "$dev")" \
		02:bb:00:00:00:0${port: -1}
	check "$dev: ip -d link show says mode l2" \
		sh -c "ip -n b -d link show $dev | grep -q 'crapvpn mode l2 peer'"
	check "$dev: crapvpn show says mode l2" \
		sh -c "ip netns exec b $CV_TOOL show $dev | grep -q ' mode l2 peer'"
	check "$dev: crapvpn show --json says mode l2" \
		sh -c "ip netns exec b $CV_TOOL show $dev --json | grep -q '\"mode\":\"l2\"'"
	check_eq "$dev: an Ethernet device (type 1)" \
		"$(n a cat "/sys/class/net/$dev/type")" 1
	check_eq "$dev: a random MAC (addr_assign_type 1)" \
		"$(n a cat "/sys/class/net/$dev/addr_assign_type")" 1
	check "$dev: the MAC is unicast and not zero" \
		"$PY" -c 'import sys; b = bytes.fromhex(sys.argv[1].replace(":", ""))
sys.exit(b[0] & 1 or not any(b))' "$(mac a "$dev")"
	check_eq "$dev: default MTU" "$(n a cat "/sys/class/net/$dev/mtu")" "$mtu"
	check "$dev: the link dump says mode l2" \
		sh -c "ip netns exec a $PY $HELPERS/cvnl.py info $dev | grep -q '\"mode\": \"l2\"'"
	nl a set "$dev" mode=l3 2>"$CV_TMP/modeset"
	# EOPNOTSUPP, which Python names ENOTSUP (the same number on Linux)
	check "$dev: changing the mode is refused, with a reason" \
		grep -Eq "(EOPNOTSUPP|ENOTSUP): crapvpn: the mode is fixed when the device is created" \
		"$CV_TMP/modeset"
	check "$dev: setting the same mode is fine" nl a set "$dev" mode=l2
	check "$dev: a new MAC, live" n a ip link set "$dev" address 02:cc:00:00:00:01
	check_eq "$dev: ... and it is the device's" "$(mac a "$dev")" 02:cc:00:00:00:01

	n la ip neigh flush dev la0 2>/dev/null
	check "$dev: ping la -> lb (ARP across)" \
		n la ping -c 3 -i 0.2 -W 5 10.9.0.2
	check_eq "$dev: la learned lb's MAC by ARP" "$(neigh_mac la 10.9.0.2)" \
		"$(mac lb lb0)"
	check "$dev: ping6 la -> lb (neighbour discovery across)" \
		n la ping -6 -c 3 -i 0.2 -W 5 fd00:9::2
	check_eq "$dev: la learned lb's MAC by ND" "$(neigh_mac la fd00:9::2)" \
		"$(mac lb lb0)"
	check "$dev: a UDP broadcast from la reaches lb" broadcast
	check "$dev: ping over VLAN 42 (802.1Q-tagged frames)" \
		n la ping -c 3 -i 0.2 -W 5 10.42.0.2

	start_capture a "$dev-under" va 96 2000 udp port "$port"
	wait_for 10 capturing "$dev-under"
	sum=$(head -c "$SIZE" "$CV_TMP/data" | sha256sum | cut -d' ' -f1)
	rm -f "$CV_TMP/$dev"-*.sum "$CV_TMP/$dev"-*.end "$CV_TMP/$dev"-*.rc
	receive "$dev-ab" lb "TCP4-LISTEN:5001,bind=10.9.0.2" 900
	check "$dev: receiver listening" wait_for 30 listening lb 5001
	t0=$EPOCHREALTIME
	send "$dev-ab" la "OPEN:$CV_TMP/data,readbytes=$SIZE" \
		"TCP4:10.9.0.2:5001" 900
	wait_for 900 test -s "$CV_TMP/$dev-ab.end"
	[ -s "$CV_TMP/$dev-ab.end" ] && log "$dev: $MIB MiB at" \
		"$(mbits "$t0" "$(cat "$CV_TMP/$dev-ab.end")" "$SIZE") Mbit/s"
	check_eq "$dev: sender finished" "$(cat "$CV_TMP/$dev-ab.rc" 2>/dev/null)" 0
	check_eq "$dev: sha256 of what arrived" \
		"$(cat "$CV_TMP/$dev-ab.sum" 2>/dev/null)" "$sum"
	stop_capture "$dev-under"
	check "$dev: a's datagrams on the underlay carry type 0x6558" \
		underlay_typed "$dev" "$port"
	check_ge "$dev: rx_bytes on b cover the transfer" \
		"$(link_stat b "$dev" rx_bytes)" "$SIZE"
	check_eq "$dev: no receive errors on b" "$(link_stat b "$dev" rx_errors)" 0
	n a ip link del "$dev"
	n b ip link del "$dev"
}

setup_pair
cleanup_lans
check_fails "ip link: mode l4 is refused" \
	n a ip link add cvz type crapvpn key "$KEY" mode l4
check "... saying what the modes are" \
	sh -c "ip -n a link add cvz type crapvpn key $KEY mode l4 2>&1 |
		grep -q 'mode \"l4\": must be l3 or l2'"
check_fails "raw netlink: mode 2 is refused" nl a add cvz key="$KEY" mode=2
n a ip link add cvz mtu 65486 type crapvpn key "$KEY" mode l2 >"$CV_TMP/l2mtu" 2>&1
check "layer 2: an MTU above 65485 is refused, saying so" \
	grep -q "a layer-2 device's MTU is 68 to 65485" "$CV_TMP/l2mtu"
n a ip link add cvz address 01:00:5e:00:00:01 type crapvpn key "$KEY" mode l2 \
	>"$CV_TMP/l2mac" 2>&1
check "layer 2: a multicast MAC is refused, saying so" \
	grep -q "the address must be a unicast Ethernet address" "$CV_TMP/l2mac"
check_fails "... and nothing was created" n a ip link show cvz
check "ip -d link show says nothing of layer 3, the default" \
	sh -c "ip -n a link add cvz type crapvpn key $KEY &&
		ip -n a -d link show cvz | grep -q 'crapvpn peer\|crapvpn port' &&
		! ip -n a -d link show cvz | grep -q 'mode l'"
n a ip link del cvz 2>/dev/null
trap 'kill_jobs; cleanup_lans' EXIT
check "LAN la behind a" lan la a 10.9.0.1 fd00:9::1
check "LAN lb behind b" lan lb b 10.9.0.2 fd00:9::2
head -c "$SIZE" /dev/urandom >"$CV_TMP/data"
check "netem 1% loss on a's underlay" n a tc qdisc add dev va root netem loss 1%
check "netem 1% loss on b's underlay" n b tc qdisc add dev vb root netem loss 1%

run l2v4 192.0.2.1 192.0.2.2 1347 1450
run l2v6 2001:db8::1 2001:db8::2 1348 1430
n a tc qdisc del dev va root
n b tc qdisc del dev vb root

# The vectors, at a layer-2 device of b on no bridge (so that nothing but
# the vectors reaches it), over each underlay.
vectors() {	# vectors DEV PEER_A PEER_B PORT
	if check "$1: a lone layer-2 device in b" \
		nl b add "$1" key="$KEY" "$(peer_attr "$2")" port="$4" \
		peer_port="$4" mode=l2; then
		n b ip link set "$1" up
		tap n b "$PY" "$HELPERS/cvvectors.py" --dev "$1" --from a \
			--to "$3" --port "$4" --vectors "$VECTORS" --key "$KEY" \
			--mode l2
		n b ip link del "$1"
	fi
}
vectors l2x4 192.0.2.1 192.0.2.2 1352
vectors l2x6 2001:db8::1 2001:db8::2 1353

# A layer-3 device and a layer-2 one on the same port pair: each drops
# what the other sends, by its type, and counts it.
mixed() {
	nl a add cvm key="$KEY" peer=192.0.2.2 port=1349 peer_port=1349 mode=l2 &&
	n a ip addr add 10.10.0.1/24 dev cvm && n a ip link set cvm up &&
	add_tunnel b cvm 192.0.2.1 10.10.0.2 10.10.0.1 fd00:10::2 fd00:10::1 \
		port 1349 peer-port 1349
}
if check "a layer-2 device on a facing a layer-3 one on b" mixed; then
	# b sends IPv4 (0x0800); a, resolving 10.10.0.2, ARP frames (0x6558).
	n b ping -c 3 -i 0.2 -W 1 10.10.0.1 >/dev/null 2>&1
	n a ping -c 3 -i 0.2 -W 1 10.10.0.2 >/dev/null 2>&1
	check_ge "the layer-2 device dropped the layer-3 one's packets (rx_drop_mode)" \
		"$(ethtool_stat a cvm rx_drop_mode)" 1
	check_ge "the layer-3 device dropped the layer-2 one's frames (rx_drop_mode)" \
		"$(ethtool_stat b cvm rx_drop_mode)" 1
	# a keeps probing for 10.10.0.2 after ping gives up: silence it, or
	# a frame may land between the two reads below.
	n a ip link set cvm down
	check_eq "... counted in b's RX frame errors" \
		"$(link_stat b cvm rx_frame_errors)" "$(ethtool_stat b cvm rx_drop_mode)"
fi
n a ip link del cvm
n b ip link del cvm

# The dissector on the module's traffic. ws_pair DEV MODE PEER_A PEER_B
# PORT NET: DEV in a and b on no bridge, 10.NET.0.1 and .2, fd00:NET::1
# and ::2.
ws_pair() {
	local dev=$1 mode=$2 pa=$3 pb=$4 port=$5 net=$6 ns peer x
	for x in 1 2; do
		ns=a peer=$pb
		[ $x = 2 ] && ns=b peer=$pa
		nl "$ns" add "$dev" key="$KEY" "$(peer_attr "$peer")" port="$port" \
			peer_port="$port" mode="$mode" &&
		n "$ns" ip addr add "10.$net.0.$x/24" dev "$dev" &&
		n "$ns" ip addr add "fd00:$net::$x/64" dev "$dev" nodad &&
		n "$ns" ip link set "$dev" up || return
	done
}
ws_ping() {	# ws_ping NET
	n a ping -c 2 -i 0.2 -W 5 "10.$1.0.2" &&
	n a ping -c 2 -i 0.2 -W 5 "fd00:$1::2"
}
# ws_run DEV MODE PEER_A PEER_B PORT NET: a pair, pings, and away.
ws_run() {
	check "$1: a $2 pair for the dissector" ws_pair "$@" &&
		check "$1: pings across (IPv4 and IPv6 inside)" ws_ping "$6"
	n a ip link del "$1"
	n b ip link del "$1"
}
if [ "${CV_L2_DISSECT:-1}" = 0 ]; then
	skip "the dissector on the module's capture (CV_L2_DISSECT=0: tests/check runs it on another kernel)"
else
	start_capture a ws va 0 2000 udp portrange 1360-1363
	wait_for 10 capturing ws
	ws_run ws3v4 l3 192.0.2.1 192.0.2.2 1360 60
	ws_run ws2v4 l2 192.0.2.1 192.0.2.2 1361 61
	ws_run ws3v6 l3 2001:db8::1 2001:db8::2 1362 62
	ws_run ws2v6 l2 2001:db8::1 2001:db8::2 1363 63
	stop_capture ws
	# At least 2 echo requests and replies of each family on each of the four
	# pairs; TMPDIR: the VM's /tmp is writable, the tree is not.
	tap env TMPDIR="$CV_TMP" "$CV_ROOT/tools/wireshark/test.sh" --capture \
		"$CV_TMP/ws.pcap" "$KEY" 32 \
		"0x0800 ip ip:icmp" "0x86dd ip ipv6:icmpv6" \
		"0x0800 ipv6 ip:icmp" "0x86dd ipv6 ipv6:icmpv6" \
		"0x6558 ip eth:ethertype:arp" "0x6558 ip eth:ethertype:ip:icmp" \
		"0x6558 ip eth:ethertype:ipv6:icmpv6" \
		"0x6558 ipv6 eth:ethertype:arp" "0x6558 ipv6 eth:ethertype:ip:icmp" \
		"0x6558 ipv6 eth:ethertype:ipv6:icmpv6"
fi

# tap_interop DEV PORT OUTER_A OUTER_B [-6]: DEV in a, layer 2, against
# the userspace peer on TAP device tDEV in b.
tap_peer() {
	local dev=$1 port=$2 oa=$3 ob=$4
	shift 4
	nl a add "$dev" key="$KEY" "$(peer_attr "$ob")" port="$port" 		peer_port="$port" mode=l2 &&
	n a ip addr add 10.11.0.1/24 dev "$dev" &&
	n a ip addr add fd00:11::1/64 dev "$dev" nodad &&
	n a ip link set "$dev" up || return
	bg ip netns exec b "$PY" "$CV_USERSPACE" -k "$KEY" -p "$oa" \
		-i "t$dev" --tap --port "$port" --peer-port "$port" "$@" \
		10.11.0.2/24 10.11.0.1 2>"$CV_TMP/t$dev.log"
	wait_for 30 eval "ipb link show t$dev | grep -q ',UP'" &&
	ipb addr add fd00:11::2/64 dev "t$dev" nodad
}
tap_interop() {
	local dev=$1 x sum
	if ! check_show "$dev: layer-2 device in a, userspace TAP peer in b" \
		tap_peer "$@"; then
		sed 's/^/# /' "$CV_TMP/t$dev.log"
		kill_jobs
		return
	fi
	check "$dev: ping module -> userspace TAP" n a ping -c 3 -i 0.2 -W 5 10.11.0.2
	check "$dev: ping userspace TAP -> module" n b ping -c 3 -i 0.2 -W 5 10.11.0.1
	check "$dev: ping6 module -> userspace TAP" \
		n a ping -6 -c 3 -i 0.2 -W 5 fd00:11::2
	sum=$(head -c "$((IMIB << 20))" "$CV_TMP/data" | sha256sum | cut -d' ' -f1)
	rm -f "$CV_TMP/$dev"-*.sum "$CV_TMP/$dev"-*.end "$CV_TMP/$dev"-*.rc
	receive "$dev-ab" b "TCP4-LISTEN:5001,bind=10.11.0.2" 600
	receive "$dev-ba" a "TCP4-LISTEN:5002,bind=10.11.0.1" 600
	check "$dev: receivers listening" wait_for 30 \
		eval "listening b 5001 && listening a 5002"
	send "$dev-ab" a "OPEN:$CV_TMP/data,readbytes=$((IMIB << 20))" \
		"TCP4:10.11.0.2:5001" 600
	send "$dev-ba" b "OPEN:$CV_TMP/data,readbytes=$((IMIB << 20))" \
		"TCP4:10.11.0.1:5002" 600
	check_streams "$dev" "$EPOCHREALTIME" "$((IMIB << 20))" 600 "$sum" "$sum"
	check_eq "$dev: no receive errors on the module's end" \
		"$(link_stat a "$dev" rx_errors)" 0
	kill_jobs
	n a ip link del "$dev"
}
modprobe tun	# /dev/net/tun appears with the module
tap_interop l2t4 1350 192.0.2.1 192.0.2.2
tap_interop l2t6 1351 2001:db8::1 2001:db8::2 -6
finish
