#!/bin/bash
# Lifecycle: many devices created and deleted; key, peer and port changed
# during a TCP transfer (it completes, SHA-256 equal on both ends); rmmod
# while traffic flows (devices and sockets gone, insmod again, tunnel
# works); namespace deletion during traffic (the peer's namespace; the
# namespace of a device's socket after the device moved elsewhere; the
# namespace a moved device lives in); a moved device still carries traffic.
#
# A namespace's cleanup runs asynchronously after `ip netns del`: each
# deletion is awaited through a "canary", a veth end in another namespace
# whose peer lives in the dying one; it disappears only once the dying
# namespace's devices are unregistered. A device that is never freed shows
# up as a canary that stays (and "unregister_netdevice: waiting" in the
# kernel log, which the runner checks). Commands that could hang on RTNL
# run under timeout.
. "$(dirname "$0")/lib.sh"
need sysctl

PY=${PY:-python3}
HELPERS=$CV_ROOT/tests/net/helpers
NDEV=${CV_NDEV:-200}
TO="timeout 60"

module_loaded() { [ -d /sys/module/crapvpn ]; }
load_module() {
	module_loaded && return 0
	if [ -n "${CRAPVPN_KO:-}" ] && [ -e "$CRAPVPN_KO" ]; then
		insmod "$CRAPVPN_KO"
	else
		modprobe crapvpn
	fi
}

cleanup_all() {
	kill_jobs
	local ns
	for ns in c d; do ip netns del $ns 2>/dev/null; done
	load_module
}

count_kind() { # NS: crapvpn devices in NS
	$TO ip -n "$1" -o link show type crapvpn 2>/dev/null | wc -l
}
udp_ports() { # NS: local address:port of its UDP sockets, one line
	$TO ip netns exec "$1" ss -u -a -n -H | awk '{ print $4 }' | LC_ALL=C sort | tr '\n' ' '
}
gone() { ! $TO ip -n "$1" link show "$2" >/dev/null 2>&1; }
ethtool_gt() { [ "$(ethtool_stat "$1" "$2" "$3")" -gt "$4" ]; }
rx_ge() { [ "$(link_stat "$1" "$2" rx_packets)" -ge "$3" ]; }

# canary NAME NS_DYING NS_WATCH: a veth pair, NAME-x in NS_DYING and NAME
# in NS_WATCH; `gone NS_WATCH NAME` once NS_DYING's devices are released.
canary() {
	ip link add "$1-x" netns "$2" type veth peer "$1" netns "$3"
}

# stream_* : a paced TCP transfer from b to a through the tunnel.
stream_status() { cut -d' ' -f"$2" "$CV_TMP/$1.status" 2>/dev/null; }
stream_bytes_ge() { [ "$(stream_status rx 1)" -ge "$1" ] 2>/dev/null; }
stream_state_is() { [ "$(stream_status "$1" 3-)" = "$2" ]; }

ping_works() { n "$1" ping -c 2 -i 0.2 -W 3 "$2"; }

trap cleanup_all EXIT

# ---- many devices ---------------------------------------------------------------
log "$NDEV devices, twice"
setup_pair
for round in 1 2; do
	t=$SECONDS
	: >"$CV_TMP/add" && : >"$CV_TMP/up" && : >"$CV_TMP/del"
	for ((i = 0; i < NDEV; i++)); do
		echo "link add cvm$round-$i type crapvpn key $KEY peer 192.0.2.2 port $((20000 + i)) peer-port $((30000 + i))" >>"$CV_TMP/add"
		echo "link set cvm$round-$i up" >>"$CV_TMP/up"
		echo "link del cvm$round-$i" >>"$CV_TMP/del"
	done
	check "round $round: create $NDEV devices" $TO ip -n a -batch "$CV_TMP/add"
	check "round $round: set them up" $TO ip -n a -batch "$CV_TMP/up"
	check_eq "round $round: $NDEV crapvpn devices" "$(count_kind a)" "$NDEV"
	check_eq "round $round: $NDEV UDP sockets" \
		"$(n a ss -u -a -n -H | awk '{ print $4 }' | grep -cE ':2[0-9]{4}$')" "$NDEV"
	check_eq "round $round: crapvpn show --json lists them all" \
		"$(n a "$CV_TOOL" show --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
		"$NDEV"
	# A third of them one by one with crapvpn(8), the rest in one batch.
	for ((i = 0; i < NDEV / 3; i++)); do
		$TO ip netns exec a "$CV_TOOL" del "cvm$round-$i" || break
	done
	check_eq "round $round: crapvpn del of $((NDEV / 3)) devices" \
		"$(count_kind a)" $((NDEV - NDEV / 3))
	sed -i "1,$((NDEV / 3))d" "$CV_TMP/del"
	check "round $round: delete the rest" $TO ip -n a -batch "$CV_TMP/del"
	check_eq "round $round: no crapvpn device left" "$(count_kind a)" 0
	check_eq "round $round: no UDP socket left" "$(udp_ports a)" ""
	log "round $round: $((SECONDS - t)) s"
done

# ---- changes during a transfer ---------------------------------------------------
log "key, peer and port changed during a TCP transfer"
setup_pair
ipa addr add 198.18.0.1/24 dev va
ipb addr add 198.18.0.2/24 dev vb
check "tunnel4" tunnel4
check "ping through cv4" ping_works a 198.51.100.2
rm -f "$CV_TMP"/{rx,tx}.status "$CV_TMP/stop"
bg n a "$PY" "$HELPERS/stream.py" recv 5001 "$CV_TMP/rx.status" --bind 198.51.100.1
wait_for 30 stream_state_is rx listening
bg n b "$PY" "$HELPERS/stream.py" send 198.51.100.1 5001 "$CV_TMP/tx.status" \
	--stop "$CV_TMP/stop" --rate 1000000 --timeout 300
step=262144
progress() { # DESC: wait for another $step bytes to arrive
	local at
	at=$(stream_status rx 1)
	at=${at:-0}
	check "$1 (data flows on: $at + $step bytes)" wait_for 90 stream_bytes_ge $((at + step))
}
both() { # CMD_A -- CMD_B: run both at once; fail if either failed
	local -a ca=()
	while [ "$1" != -- ]; do ca+=("$1"); shift; done
	shift
	"${ca[@]}" &
	local pa=$!
	"$@"
	local rb=$?
	wait $pa && [ $rb -eq 0 ]
}
t=$SECONDS
progress "transfer started"
K2=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
K3=$(od -An -tx1 -N7 /dev/urandom | tr -d ' \n')
check "new key on both ends (ip)" both ipa link set cv4 type crapvpn key "$K2" -- \
	ipb link set cv4 type crapvpn key "$K2"
progress "after the first key change"
check "new key on both ends (crapvpn set)" both n a "$CV_TOOL" set cv4 key "$K3" -- \
	n b "$CV_TOOL" set cv4 key "$K3"
progress "after the second key change"
check "new peers on both ends" both ipa link set cv4 type crapvpn peer 198.18.0.2 -- \
	ipb link set cv4 type crapvpn peer 198.18.0.1
progress "after the peer change"
check "new port on a, new peer-port on b" both ipa link set cv4 type crapvpn port 1600 -- \
	ipb link set cv4 type crapvpn peer-port 1600
progress "after the port change"
check "IPv6 underlay peers on both ends (the sockets change family)" both \
	ipa link set cv4 type crapvpn peer 2001:db8::2 -- \
	ipb link set cv4 type crapvpn peer 2001:db8::1
progress "after the change to IPv6"
check "key, peer and port all at once" both \
	ipa link set cv4 type crapvpn key "$KEY" peer 192.0.2.2 port 1337 -- \
	ipb link set cv4 type crapvpn key "$KEY" peer 192.0.2.1 peer-port 1337
progress "after the change of everything"
touch "$CV_TMP/stop"
check "sender finished" wait_for 180 stream_state_is tx done
check "receiver finished" wait_for 60 stream_state_is rx done
check_eq "bytes and SHA-256 equal on both ends" \
	"$(stream_status rx 1-2)" "$(stream_status tx 1-2)"
log "transfer: $(stream_status rx 1) bytes in $((SECONDS - t)) s; a's drops: $(n a ethtool -S cv4 | awk '$2 != 0 && $1 ~ /drop/' | tr -s ' \n' ' ')"
log "b's drops: $(n b ethtool -S cv4 | awk '$2 != 0 && $1 ~ /drop/' | tr -s ' \n' ' ')"
kill_jobs

# ---- rmmod while traffic flows -------------------------------------------------
log "rmmod during traffic"
setup_pair
ip netns add c
check "tunnel4" tunnel4
check "tunnel6" tunnel6
# One more device, moved to c: its socket stays in a.
check "cvmv in a, moved to c" bash -c \
	"ip -n a link add cvmv type crapvpn key $KEY peer 192.0.2.2 port 1700 && ip -n a link set cvmv netns c && ip -n c link set cvmv up"
check "ping through cv4" ping_works a 198.51.100.2
bg n a ping -f -w 120 198.51.100.2 >/dev/null 2>&1
bg n b ping -f -w 120 fd00:6::1 >/dev/null 2>&1
bg n b iperf3 -s -1 -B 198.51.100.2 >/dev/null 2>&1
wait_for 20 bash -c "ip netns exec b ss -t -l -n -H | grep -q ':5201'"
bg n a iperf3 -c 198.51.100.2 -t 120 --connect-timeout 10000 >/dev/null 2>&1
r0=$(link_stat b cv4 rx_packets)
check "traffic flows before rmmod" wait_for 30 rx_ge b cv4 $((r0 + 500))
t=$SECONDS
check "rmmod crapvpn during traffic" timeout 120 rmmod crapvpn
log "rmmod took $((SECONDS - t)) s"
check_fails "module unloaded" module_loaded
check_eq "no crapvpn device in a" "$(count_kind a)" 0
check_eq "no crapvpn device in b" "$(count_kind b)" 0
check_eq "no crapvpn device in c" "$(count_kind c)" 0
check_eq "no UDP socket left in a" "$(udp_ports a)" ""
check_eq "no UDP socket left in b" "$(udp_ports b)" ""
kill_jobs
check "insmod again" load_module
check "tunnel4 again" tunnel4
check "ping through the new tunnel" ping_works a 198.51.100.2
check "ping IPv6 through the new tunnel" ping_works b fd00:4::1
ip netns del c

# ---- namespace deletion during traffic --------------------------------------------
log "delete b while a pings it"
check "tunnel6" tunnel6
bg n a ping -f -w 120 198.51.100.2 >/dev/null 2>&1
bg n a ping -f -w 120 203.0.113.2 >/dev/null 2>&1
r0=$(link_stat b cv4 rx_packets)
check "traffic flows" wait_for 30 rx_ge b cv4 $((r0 + 200))
check "ip netns del b" $TO ip netns del b
# va is the other end of b's vb: gone once b's devices are unregistered.
check "b's devices released (va gone)" wait_for 60 gone a va
check "a's cv4 survives" $TO ip -n a link show cv4
n0=$(ethtool_stat a cv4 tx_drop_no_route)
check "a's cv4 counts tx_drop_no_route with the peer gone" \
	wait_for 20 ethtool_gt a cv4 tx_drop_no_route "$n0"
kill_jobs

log "move a device to c, pass traffic, delete the socket's namespace"
setup_pair
ip netns add c
check "tunnel4" tunnel4
check "move a's cv4 to c" ipa link set cv4 netns c
check "cvz created from a directly in c (socket in a)" \
	ipa link add cvz netns c type crapvpn key "$KEY" peer 192.0.2.2 port 1800
check "cvz is in c" ip -n c link show cvz
conf_c() {
	ip -n c addr add 198.51.100.1 peer 198.51.100.2 dev cv4 &&
	ip -n c addr add fd00:4::1/64 dev cv4 nodad &&
	ip -n c link set cv4 up
}
check "configure cv4 in c" conf_c
check_eq "the sockets are in a" "$(udp_ports a)" "0.0.0.0:1337 0.0.0.0:1800 "
check_eq "no socket in c" "$(udp_ports c)" ""
check "ping from c through the moved device" ping_works c 198.51.100.2
check "ping IPv6 from b to the moved device" ping_works b fd00:4::1
check "move cv4 back to a" ip -n c link set cv4 netns a
check "configure cv4 in a" bash -c \
	"ip -n a addr add 198.51.100.1 peer 198.51.100.2 dev cv4 && ip -n a link set cv4 up"
check "ping from a after moving back" ping_works a 198.51.100.2
check "move cv4 to c again" ipa link set cv4 netns c
check "configure cv4 in c again" conf_c
check "ping from c again" ping_works c 198.51.100.2
bg n c ping -f -w 120 198.51.100.2 >/dev/null 2>&1
bg n b ping -f -w 120 198.51.100.1 >/dev/null 2>&1
r0=$(link_stat b cv4 rx_packets)
check "traffic flows" wait_for 30 rx_ge b cv4 $((r0 + 200))
check "ip netns del a (the socket's namespace)" $TO ip netns del a
check "cv4 in c disappears" wait_for 60 gone c cv4
check "cvz in c disappears" wait_for 60 gone c cvz
check "a's devices released (vb gone)" wait_for 60 gone b vb
kill_jobs
ip netns del c

log "device in c, socket in a: delete c"
setup_pair
ip netns add c
check "tunnel4" tunnel4
check "move a's cv4 to c" ipa link set cv4 netns c
check "configure cv4 in c" conf_c
check "ping from c" ping_works c 198.51.100.2
check "canary for c" canary cnc c b
# The traffic comes from b: a process in c would keep c alive until it
# exits (its sockets hold the namespace), the device with it.
bg n b ping -f -w 120 198.51.100.1 >/dev/null 2>&1
r0=$(link_stat b cv4 rx_packets)
check "traffic flows" wait_for 30 rx_ge b cv4 $((r0 + 200))
check "ip netns del c (the device's namespace)" $TO ip netns del c
check "c's devices released (canary gone)" wait_for 60 gone b cnc
check_eq "cv4 deleted with c: its socket in a is gone" "$(udp_ports a)" ""
check "port 1337 in a is free again" \
	ipa link add cv4 type crapvpn key "$KEY" peer 192.0.2.2
kill_jobs

log "delete both ends at once during traffic"
setup_pair
ip netns add c
check "tunnel4" tunnel4
check "tunnel6" tunnel6
check "canary for b" canary cnb b c
# The traffic comes from c, routed by a into both tunnels (pingers in a or
# b would keep them alive; b answers through cv4); c's veth to a is a's
# canary.
route_c() {
	ip link add cna netns c type veth peer cna-x netns a &&
	ip -n c addr add 10.9.0.2/24 dev cna && ip -n c link set cna up &&
	ip -n a addr add 10.9.0.1/24 dev cna-x && ip -n a link set cna-x up &&
	ip -n c route add 198.51.100.0/24 via 10.9.0.1 &&
	ip -n c route add 203.0.113.0/24 via 10.9.0.1 &&
	ip netns exec a sysctl -qw net.ipv4.ip_forward=1 &&
	ip -n b route add 10.9.0.0/24 dev cv4
}
check "c routed through a into both tunnels" route_c
check "ping from c through cv4" ping_works c 198.51.100.2
bg n c ping -f -w 120 198.51.100.2 >/dev/null 2>&1
bg n c ping -f -w 120 203.0.113.2 >/dev/null 2>&1
r0=$(link_stat b cv4 rx_packets)
r6=$(link_stat b cv6 rx_packets)
check "traffic flows" wait_for 30 rx_ge b cv4 $((r0 + 200))
check "traffic flows through cv6 too" wait_for 30 rx_ge b cv6 $((r6 + 200))
check "ip netns del a b" bash -c "ip netns del a & ip netns del b & wait"
check "a released" wait_for 60 gone c cna
check "b released" wait_for 60 gone c cnb
kill_jobs
ip netns del c

trap - EXIT
cleanup_all
check "module loaded at the end" module_loaded
finish
