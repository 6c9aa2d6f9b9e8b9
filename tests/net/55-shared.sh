#!/bin/bash
# One port, many peers: a server with one crapvpn device per userspace
# client, all on UDP port 1337, as a host serving the userspace CrapVPN
# must be (its clients always send to port 1337).
#
# Namespace s is the server: a bridge br0 (192.0.2.1/24, 2001:db8::1/64)
# with a veth into each client namespace c0..c(N-1) (192.0.2.(10+i)), and
# devices sv0..sv(N-1) (peer 192.0.2.(10+i), inner 10.99.i.1 peer .2, each
# its own key). Each client runs the tests' userspace peer on TUN cuI
# (10.99.i.2), with a route to 10.99.0.0/16 through it; s forwards, so the
# clients reach each other through the server.
#  * one UDP socket serves them all; every device reports N on its port;
#  * every client pings its device, and the next client through the server;
#  * sha256-checked transfers from four clients at once;
#  * a client at an address that is no device's peer reaches nothing and
#    is counted in port_rx_unknown_peer;
#  * under pings from every client: a key changed (that client is cut off,
#    no other), a device deleted and created again, a peer moved away and
#    back, a device and a client added; the clients not touched lose
#    (almost) nothing;
#  * two clients behind one address, told apart by their source ports; a
#    client behind NAT (source port rewritten) still reaches its device;
#    two clients behind one NAT address, each its own peer-port;
#  * two IPv6 clients sharing an IPv6 socket on the same port number;
#  * the last device deleted closes the socket.
# CV_SHARED_N (default 50, 5 to 200) sets the number of clients,
# CV_SHARED_MIB (default 2) the size of each transfer.
. "$(dirname "$0")/lib.sh"

N=${CV_SHARED_N:-50}
[ "$N" -le 200 ] || N=200
[ "$N" -ge 5 ] || N=5	# clients 1-3 change, 4 and up must not
MIB=${CV_SHARED_MIB:-2}
PY=$(command -v /usr/bin/python3 || command -v python3)
declare -a K
NSS=(s cx cn ck)

need nft socat tcpdump ethtool
modprobe tun	# /dev/net/tun appears with the module

cleanup_shared() {
	local ns
	for ns in "${NSS[@]}" $(ip netns list | awk '$1 ~ /^c[0-9]+$/ { print $1 }'); do
		ip netns del "$ns" 2>/dev/null
	done
	true
}
trap 'kill_jobs; cleanup_shared; finish' EXIT
cleanup_shared

ips() { ip -n s "$@"; }
rand_key() { od -An -tx1 -N$((4 + RANDOM % 61)) /dev/urandom | tr -d ' \n'; }

# client NS IFNAME ADDR: a namespace on the server's bridge.
client_ns() {
	local ns=$1 ifc=$2 addr=$3
	ip netns add "$ns" && NSS+=("$ns") &&
	ip -n s link add "p$ifc" type veth peer "$ifc" netns "$ns" &&
	ip -n s link set "p$ifc" master br0 up &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" addr add "$addr/24" dev "$ifc" &&
	ip -n "$ns" link set "$ifc" up
}

# userspace NS TUN KEY INNER_LOCAL INNER_PEER [ARGS...]: the userspace peer
# in NS, towards the server, with a route to every client through it.
declare -A UPID
userspace() {
	local ns=$1 tun=$2 key=$3 l=$4 p=$5
	shift 5
	bg ip netns exec "$ns" "$PY" "$CV_USERSPACE" -k "$key" -p 192.0.2.1 \
		-i "$tun" "$@" "$l" "$p" 2>"$CV_TMP/$tun.log"
	UPID[$tun]=$!
}
is_up() { ip -n "$1" link show "$2" 2>/dev/null | grep -q ',UP'; }
up_or_gone() { is_up "$1" "$2" || exited "${UPID[$2]}"; }
tun_up() { # NS TUN NET: up (unless the peer died), with the route
	wait_for 120 up_or_gone "$1" "$2"
	is_up "$1" "$2" && ip -n "$1" route replace "$3" dev "$2"
}

# server_dev I PEER: sv$I for client I.
server_dev() {
	ips link add "sv$1" type crapvpn key "${K[$1]}" peer "$2" &&
	ips addr add "10.99.$1.1" peer "10.99.$1.2" dev "sv$1" &&
	ips link set "sv$1" up
}

# parallel_pings FILE: pings each "NS TARGET" line of stdin, ten at a
# time; FILE gets "NS TARGET STATUS" lines.
parallel_pings() {
	local out=$1 ns dst pids=() i=0
	: >"$out"
	while read -r ns dst; do
		(n "$ns" ping -c 2 -i 0.5 -W 5 "$dst" >/dev/null 2>&1
		 echo "$ns $dst $?" >>"$out") &
		pids+=($!)
		i=$((i + 1))
		# A TCG guest: not every ping at once.
		if [ $((i % 10)) -eq 0 ]; then
			wait "${pids[@]}"
			pids=()
		fi
	done
	wait "${pids[@]}"
}
ok_count() { awk '$3 == 0' "$1" | wc -l; }
failed_list() { awk '$3 != 0 { printf "%s->%s ", $1, $2 }' "$1"; }
unknown() { ethtool_stat s sv0 port_rx_unknown_peer; }

# ---- the server and N clients ----------------------------------------------
log "$N clients"
ip netns add s
ips link set lo up
if ! ips link add br0 type bridge; then
	# The debug kernel of tests/debug/ is built without it.
	skip "55-shared: this kernel has no bridge (CONFIG_BRIDGE): nothing was run"
	exit 0
fi
ips addr add 192.0.2.1/24 dev br0
ips addr add 2001:db8::1/64 dev br0 nodad
ips link set br0 up
n s sysctl -qw net.ipv4.ip_forward=1
# In batches: one ip(8) per namespace, not one per command (TCG).
t=$SECONDS
for ((i = 0; i < N; i++)); do
	K[i]=$(rand_key)
	NSS+=("c$i")
done
for ((i = 0; i < N; i++)); do echo "netns add c$i"; done | ip -b -
for ((i = 0; i < N; i++)); do
	echo "link add pe$i type veth peer e$i netns c$i"
	echo "link set pe$i master br0 up"
	echo "link add sv$i type crapvpn key ${K[i]} peer 192.0.2.$((10 + i))"
	echo "addr add 10.99.$i.1 peer 10.99.$i.2 dev sv$i"
	echo "link set sv$i up"
done | ips -b - >"$CV_TMP/setup.log" 2>&1
check "$N devices on port 1337 (and veths to $N client namespaces) created" \
	sh -c "! grep . '$CV_TMP/setup.log'"
bad=0
for ((i = 0; i < N; i++)); do
	printf '%s\n' "link set lo up" "addr add 192.0.2.$((10 + i))/24 dev e$i" \
		"link set e$i up" | ip -n "c$i" -b - || bad=$((bad + 1))
done
check_eq "the $N client namespaces addressed" "$bad" 0
log "set-up: $((SECONDS - t)) s"
check_eq "one UDP socket on port 1337 serves them" \
	"$(n s ss -u -a -n -H 'sport = :1337' | wc -l)" 1
check_eq "the first and the last device report $N devices on their port" \
	"$(for d in sv0 "sv$((N - 1))"; do nl s info "$d" |
		grep -o '"port_devs": [0-9]*'; done | tr '\n' ' ')" \
	"\"port_devs\": $N \"port_devs\": $N "
check "ip -d link show says the port is shared by $N" \
	sh -c "ip -n s -d link show sv0 | grep -q 'port 1337 shared $N'"

t=$SECONDS
for ((i = 0; i < N; i++)); do
	userspace "c$i" "cu$i" "${K[i]}" "10.99.$i.2" "10.99.$i.1"
done
bad=
for ((i = 0; i < N; i++)); do
	tun_up "c$i" "cu$i" 10.99.0.0/16 || bad="$bad c$i"
done
check_eq "$N userspace clients up" "$bad" ""
for i in $bad; do
	sed "s/^/# ${i}: /" "$CV_TMP/cu${i#c}.log" | head -n 5
done
log "clients started in $((SECONDS - t)) s"

for ((i = 0; i < N; i++)); do echo "c$i 10.99.$i.1"; done |
	parallel_pings "$CV_TMP/own"
check_eq "every client pings its device ($(failed_list "$CV_TMP/own"))" \
	"$(ok_count "$CV_TMP/own")" "$N"
for ((i = 0; i < N; i++)); do echo "c$i 10.99.$(((i + 1) % N)).2"; done |
	parallel_pings "$CV_TMP/ring"
check_eq "every client pings the next client through the server ($(failed_list "$CV_TMP/ring"))" \
	"$(ok_count "$CV_TMP/ring")" "$N"

# ---- transfers from four clients at once ------------------------------------
head -c $((MIB << 20)) /dev/urandom >"$CV_TMP/data"
want=$(sha256sum <"$CV_TMP/data" | cut -d' ' -f1)
M=$((N < 4 ? N : 4))
for ((i = 0; i < M; i++)); do
	receive "x$i" s "TCP4-LISTEN:$((5000 + i)),bind=10.99.$i.1" 600
done
for ((i = 0; i < M; i++)); do
	wait_for 30 listening s $((5000 + i))
done
for ((i = 0; i < M; i++)); do
	send "x$i" "c$i" "$CV_TMP/data" "TCP4:10.99.$i.1:$((5000 + i))" 600
done
t=$SECONDS
for ((i = 0; i < M; i++)); do
	wait_for 600 test -s "$CV_TMP/x$i.end"
	check_eq "client $i's $MIB MiB arrived whole (sha256)" \
		"$(cat "$CV_TMP/x$i.sum" 2>/dev/null)" "$want"
done
log "$M transfers of $MIB MiB at once: $((SECONDS - t)) s"

# ---- a stranger ---------------------------------------------------------------
client_ns cx ex 192.0.2.250
userspace cx cux "${K[0]}" 10.99.0.2 10.99.0.1
tun_up cx cux 10.99.0.0/16
u0=$(unknown)
check_fails "a client at an address that is no device's peer reaches nothing" \
	n cx ping -c 3 -i 0.3 -W 2 10.99.0.1
check_ge "... and its datagrams are counted in port_rx_unknown_peer" \
	"$(($(unknown) - u0))" 3
# The stranger's TUN keeps sending (router solicitations): stop it, and
# wait for the count to hold still, before comparing two devices' views.
kill_tree "${UPID[cux]}"
steady() { local a; a=$(unknown); sleep 1; [ "$a" = "$(unknown)" ]; }
wait_for 30 steady
check_eq "... on every device of the port" \
	"$(ethtool_stat s "sv$((N - 1))" port_rx_unknown_peer)" "$(unknown)"

# ---- changes under traffic from every client -----------------------------------
# Every client pings its device for the whole round; clients 1, 2 and 3
# are the ones whose devices change.
for ((i = 0; i < N; i++)); do
	bg sh -c "ip netns exec c$i ping -c 60 -i 0.5 -W 2 10.99.$i.1 \
		>'$CV_TMP/bgping$i' 2>&1"
done
sleep 3
K1=${K[1]}
K[1]=$(rand_key)
check "sv1's key changed under traffic" ips link set sv1 type crapvpn key "${K[1]}"
check_fails "client 1 (the old key) is cut off" n c1 ping -c 3 -i 0.3 -W 2 10.99.1.1
check "sv2 deleted under traffic" ips link del sv2
check_fails "client 2 is cut off" n c2 ping -c 2 -i 0.3 -W 2 10.99.2.1
check "sv2 created again" server_dev 2 192.0.2.12
check "client 2 reaches it again" n c2 ping -c 2 -i 0.3 -W 5 10.99.2.1
check "sv3's peer moved to an address nobody has" \
	ips link set sv3 type crapvpn peer 192.0.2.251
check_fails "client 3 is cut off" n c3 ping -c 2 -i 0.3 -W 2 10.99.3.1
check "sv3's peer moved back" ips link set sv3 type crapvpn peer 192.0.2.13
check "client 3 reaches it again" n c3 ping -c 2 -i 0.3 -W 5 10.99.3.1
K[N]=$(rand_key)
check "a device for a new client added under traffic" \
	server_dev "$N" "192.0.2.$((10 + N))"
client_ns "c$N" "e$N" "192.0.2.$((10 + N))"
userspace "c$N" "cu$N" "${K[N]}" "10.99.$N.2" "10.99.$N.1"
tun_up "c$N" "cu$N" 10.99.0.0/16
check "the new client pings its device" n "c$N" ping -c 2 -i 0.3 -W 5 "10.99.$N.1"
check "the new client pings client 0 through the server" \
	n "c$N" ping -c 2 -i 0.3 -W 5 10.99.0.2
check "sv1's key set back" ips link set sv1 type crapvpn key "$K1"
K[1]=$K1
check "client 1 reaches it again" n c1 ping -c 2 -i 0.3 -W 5 10.99.1.1
for ((i = 0; i < N; i++)); do
	wait_for 120 sh -c "grep -q 'packets transmitted' '$CV_TMP/bgping$i'"
done
# A TCG guest with a python peer per client loses a ping now and then; a
# change that disturbed the other devices would lose many, or drop or
# misdeliver their datagrams.
low=
errs=0
for ((i = 4; i < N; i++)); do
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$CV_TMP/bgping$i")
	[ "${got:-0}" -ge 45 ] || low="$low c$i:${got:-0}/60"
	errs=$((errs + $(link_stat s "sv$i" rx_errors) + $(link_stat s "sv$i" rx_dropped)))
done
check_eq "the clients whose devices did not change got 75% of their pings" "$low" ""
check_eq "... and their devices dropped nothing (RX errors and dropped)" "$errs" 0

# ---- two clients behind one address; a client behind NAT -----------------------
client_ns cn en 192.0.2.240
K[201]=$(rand_key)
K[202]=$(rand_key)
ips link add sva type crapvpn key "${K[201]}" peer 192.0.2.240
ips link add svb type crapvpn key "${K[202]}" peer 192.0.2.240 peer-port 1338
ips addr add 10.97.1.1 peer 10.97.1.2 dev sva
ips addr add 10.97.2.1 peer 10.97.2.2 dev svb
ips link set sva up
ips link set svb up
userspace cn cua "${K[201]}" 10.97.1.2 10.97.1.1
userspace cn cub "${K[202]}" 10.97.2.2 10.97.2.1 --port 1338
tun_up cn cua 10.97.1.1/32
tun_up cn cub 10.97.2.1/32
check "two clients behind one address: the one on port 1337 pings its device" \
	n cn ping -c 2 -i 0.3 -W 5 10.97.1.1
check "... and the one on port 1338 its own" n cn ping -c 2 -i 0.3 -W 5 10.97.2.1
check_eq "... each device received only its own" \
	"$(ethtool_stat s sva rx_drop_not_ip) $(ethtool_stat s svb rx_drop_not_ip)" "0 0"

client_ns ck ek 192.0.2.241
check "nft: ck rewrites the source port 1337 to 45000" n ck nft -f - <<EOF
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		udp sport 1337 snat to 192.0.2.241:45000
	}
}
EOF
K[203]=$(rand_key)
userspace ck cuk "${K[203]}" 10.97.3.2 10.97.3.1
tun_up ck cuk 10.97.3.1/32
# The client speaks first, as behind a real NAT: the server's first
# datagram (its IPv6 router solicitation) would otherwise set up the
# connection, unmapped, and the client's would be its replies.
n ck ping -c 1 -W 1 10.97.3.1 >/dev/null 2>&1
ips link add svk type crapvpn key "${K[203]}" peer 192.0.2.241
ips addr add 10.97.3.1 peer 10.97.3.2 dev svk
ips link set svk up
start_capture s nat pek 100 4 udp and host 192.0.2.241
wait_for 10 capturing nat
check "a client behind NAT (its source port rewritten to 45000) pings its device" \
	n ck ping -c 2 -i 0.3 -W 5 10.97.3.1
stop_capture nat
tcpdump -r "$CV_TMP/nat.pcap" -n >"$CV_TMP/nat.txt" 2>&1
sed 's/^/#   /' "$CV_TMP/nat.txt"
check "... and the server did see it come from port 45000" \
	grep -q '192.0.2.241.45000 >' "$CV_TMP/nat.txt"

# Two clients behind one NAT address: cm's clients, at 172.16.0.2 and .3,
# both send from port 1337 and leave as 192.0.2.242, one from port 45001,
# the other from 45002; the server tells them apart by peer-port.
client_ns cm em 192.0.2.242
ip -n cm addr add 172.16.0.2/32 dev lo
ip -n cm addr add 172.16.0.3/32 dev lo
check "nft: cm maps 172.16.0.2 and .3 to 192.0.2.242, ports 45001 and 45002" \
	n cm nft -f - <<EOF
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		ip saddr 172.16.0.2 udp sport 1337 snat to 192.0.2.242:45001
		ip saddr 172.16.0.3 udp sport 1337 snat to 192.0.2.242:45002
	}
}
EOF
for i in 4 5; do
	K[200 + i]=$(rand_key)
	userspace cm "cm$i" "${K[200 + i]}" "10.97.$i.2" "10.97.$i.1" \
		--bind "172.16.0.$((i - 2))"
done
for i in 4 5; do
	tun_up cm "cm$i" "10.97.$i.1/32"
	# The client first, as above: its NAT mapping before the server's.
	n cm ping -c 1 -W 1 "10.97.$i.1" >/dev/null 2>&1
done
for i in 4 5; do
	ips link add "svn$i" type crapvpn key "${K[200 + i]}" \
		peer 192.0.2.242 peer-port $((45001 + i - 4))
	ips addr add "10.97.$i.1" peer "10.97.$i.2" dev "svn$i"
	ips link set "svn$i" up
done
check "two clients behind one NAT address: the first pings its device" \
	n cm ping -c 2 -i 0.3 -W 5 10.97.4.1
check "... and the second its own" n cm ping -c 2 -i 0.3 -W 5 10.97.5.1
check_eq "... each device received only its own (not_ip drops)" \
	"$(ethtool_stat s svn4 rx_drop_not_ip) $(ethtool_stat s svn5 rx_drop_not_ip)" "0 0"
check_ge "... and the first device received both its pings" \
	"$(link_stat s svn4 rx_packets)" 2
check_ge "... and so did the second" "$(link_stat s svn5 rx_packets)" 2

# ---- IPv6: two clients share an IPv6 socket ------------------------------------
for i in 0 1; do
	ip -n "c$i" addr add "2001:db8::1$i/64" dev "e$i" nodad
	K[210 + i]=$(rand_key)
	ips link add "sw$i" type crapvpn key "${K[210 + i]}" peer "2001:db8::1$i" peer-port 1339
	ips addr add "10.98.$i.1" peer "10.98.$i.2" dev "sw$i"
	ips link set "sw$i" up
	userspace "c$i" "cw$i" "${K[210 + i]}" "10.98.$i.2" "10.98.$i.1" \
		-6 --port 1339 -p 2001:db8::1
	tun_up "c$i" "cw$i" "10.98.$i.1/32"
done
check "IPv6: client 0 pings its device" n c0 ping -c 2 -i 0.3 -W 5 10.98.0.1
check "IPv6: client 1 pings its device" n c1 ping -c 2 -i 0.3 -W 5 10.98.1.1
check_eq "IPv6: one IPv6 socket on port 1337, shared by 2" \
	"$(n s ss -u -a -n -H -6 'sport = :1337' | wc -l) $(nl s info sw0 | grep -o '"port_devs": [0-9]*')" \
	'1 "port_devs": 2'

# ---- the last one out closes the socket -------------------------------------
kill_jobs
t=$SECONDS
for d in $(ips -o link show type crapvpn | awk -F': ' '{ print $2 }'); do
	ips link del "${d%@*}"
done
log "all devices deleted in $((SECONDS - t)) s"
check_eq "no UDP socket left on port 1337" \
	"$(n s ss -u -a -n -H 'sport = :1337' | wc -l)" 0
