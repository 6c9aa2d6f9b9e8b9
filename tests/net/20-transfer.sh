#!/bin/bash
# Bulk transfer through both tunnels under packet loss, checked end to end:
#  * ping of both inner families over both underlays;
#  * with netem dropping 1% on the underlay (both sides), per underlay one
#    100 MiB TCP stream a->b and another b->a at the same time (one inner
#    family each way, so all four inner/underlay combinations carry bulk
#    data); what arrives must hash (sha256) to what was sent. The two
#    directions send different slices of one random file;
#  * tcpdump (-s 96, count-limited) on the tunnel device and on the underlay
#    veth during each transfer: every underlay datagram is 'crap' + length
#    (= UDP payload - 8) + the inner EtherType + a ciphertext that
#    decrypts to an inner IP header agreeing with the length; the tunnel
#    device shows bare IP packets whose TCP payload equals the file bytes
#    at that stream offset (tests/net/helpers/pcapcheck.py); the same
#    for what a packet socket on each end's underlay that reads only after
#    the transfer still holds of what that end received
#    (helpers/lazytap.py): the module must not decrypt shared data in
#    place;
#  * counters: the receiver's rx_packets/rx_bytes equal the sender's
#    tx_packets/tx_bytes minus the netem loss, no rx/tx errors, no drop
#    counter (rx_dropped, `ethtool -S`) moved during the transfers;
#    `ethtool -i` names the crapvpn driver.
# CV_XFER_MIB (default 100) sets the size of each stream.
. "$(dirname "$0")/lib.sh"

PCAPCHECK=$CV_ROOT/tests/net/helpers/pcapcheck.py
LAZYTAP=$CV_ROOT/tests/net/helpers/lazytap.py
MIB=${CV_XFER_MIB:-100}
SIZE=$((MIB << 20))
SHIFT=$((1 << 20))		# the b->a stream starts 1 MiB into the file
XFER_TIMEOUT=${CV_XFER_TIMEOUT:-200}	# seconds per underlay phase
CAPN=4000			# packets per capture
DATA=$CV_TMP/data
DONE=

# A script that did not reach its end fails.
cleanup() {
	[ -n "$DONE" ] || fail "the script stopped early"
	kill_jobs
	finish
}

now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# phase DEV PORT OUTER INNER AB_LISTEN AB_CONNECT AB_SERVER BA_LISTEN
#       BA_CONNECT BA_SERVER: both transfers over one tunnel, captured.
phase() {
	local dev=$1 port=$2 outer=$3 inner=$4
	local ab_listen=$5 ab_connect=$6 ab_server=$7
	local ba_listen=$8 ba_connect=$9 ba_server=${10}
	local t0 x mtu

	log "--- $dev: $MIB MiB a->b to $ab_server, b->a to $ba_server, 1% loss"
	start_capture a "$dev-in-ab" "$dev" 96 "$CAPN" tcp dst port "${ab_server##*:}"
	start_capture a "$dev-in-ba" "$dev" 96 "$CAPN" tcp dst port "${ba_server##*:}"
	# One capture per direction: the streams need not start together.
	start_capture a "$dev-out-a" va 96 "$CAPN" udp port "$port" and src host "${outer%,*}"
	start_capture a "$dev-out-b" va 96 "$CAPN" udp port "$port" and src host "${outer#*,}"
	check "$dev: captures started" wait_for 30 \
		capturing "$dev-in-ab" "$dev-in-ba" "$dev-out-a" "$dev-out-b"
	# One per end, each holding only what its end receives: a socket that
	# held both directions would fill its buffer with whichever stream
	# got going first.
	bg n a python3 "$LAZYTAP" va "$CV_TMP/$dev-lazy-a.pcap" \
		"$CV_TMP/$dev-lazy.stop" --incoming
	bg n b python3 "$LAZYTAP" vb "$CV_TMP/$dev-lazy-b.pcap" \
		"$CV_TMP/$dev-lazy.stop" --incoming
	check "$dev: lazy packet sockets open" wait_for 60 eval \
		"test -e $CV_TMP/$dev-lazy-a.pcap.ready && test -e $CV_TMP/$dev-lazy-b.pcap.ready"
	receive "$dev-ab" b "$ab_listen" "$XFER_TIMEOUT"
	receive "$dev-ba" a "$ba_listen" "$XFER_TIMEOUT"
	check "$dev: receivers listening" wait_for 30 \
		eval "listening b ${ab_server##*:} && listening a ${ba_server##*:}"

	t0=$(now)
	send "$dev-ab" a "OPEN:$DATA,readbytes=$SIZE" "$ab_connect" "$XFER_TIMEOUT"
	send "$dev-ba" b "OPEN:$DATA,seek=$SHIFT" "$ba_connect" "$XFER_TIMEOUT"
	check_streams "$dev" "$t0" "$SIZE" "$XFER_TIMEOUT" "$SUM_AB" "$SUM_BA"

	stop_capture "$dev-in-ab"
	stop_capture "$dev-in-ba"
	stop_capture "$dev-out-a"
	stop_capture "$dev-out-b"
	touch "$CV_TMP/$dev-lazy.stop"
	check "$dev: lazy packet sockets drained" wait_for 120 eval \
		"test -e $CV_TMP/$dev-lazy-a.pcap.done && test -e $CV_TMP/$dev-lazy-b.pcap.done"
	mtu=$(n a cat "/sys/class/net/$dev/mtu")
	check_show "$dev: underlay datagrams are 'crap' + len + EtherType + XORed IP" \
		python3 "$PCAPCHECK" wire "$CV_TMP/$dev-out-a.pcap" \
		"$CV_TMP/$dev-out-b.pcap" --port "$port" \
		--key "$KEY" --outer "$outer" --inner "$inner" --min 500 \
		--min-len "$mtu"
	# Received datagrams are decrypted after the socket has queued its
	# clones: only a copy may be written.
	check_show "$dev: what the lazy packet sockets held is still ciphertext" \
		python3 "$PCAPCHECK" wire "$CV_TMP/$dev-lazy-a.pcap" \
		"$CV_TMP/$dev-lazy-b.pcap" --port "$port" \
		--key "$KEY" --outer "$outer" --inner "$inner" --min 500 \
		--min-len "$mtu"
	check_show "$dev: tunnel device shows plain IP carrying the file's bytes" \
		python3 "$PCAPCHECK" plain "$CV_TMP/$dev-in-ab.pcap" \
		"$CV_TMP/$dev-in-ba.pcap" \
		--inner "$inner" --min 1000 --min-segments 100 \
		--stream "$ab_server=$DATA:0" --stream "$ba_server=$DATA:$SHIFT"
}

trap cleanup EXIT
setup_pair
# crapvpn hands the underlay UDP GSO super-packets; without the offload on
# veth they are split before the capture point, as a NIC without it would,
# so the captures show the datagrams of a real wire.
check "veth without UDP segmentation offload" eval \
	"n a ethtool -K va tx-udp-segmentation off && n b ethtool -K vb tx-udp-segmentation off"
check "create the IPv4-underlay tunnel" tunnel4
check "create the IPv6-underlay tunnel" tunnel6
check_eq "ethtool -i cv4 names the driver" \
	"$(n a ethtool -i cv4 | awk '$1 == "driver:" { print $2 }')" crapvpn
check_eq "ethtool -i cv6 names the driver" \
	"$(n b ethtool -i cv6 | awk '$1 == "driver:" { print $2 }')" crapvpn
check "ping inner IPv4 over IPv4" n a ping -c 3 -i 0.2 -W 5 198.51.100.2
check "ping inner IPv6 over IPv4" n a ping -c 3 -i 0.2 -W 5 fd00:4::2
check "ping inner IPv4 over IPv6" n b ping -c 3 -i 0.2 -W 5 203.0.113.1
check "ping inner IPv6 over IPv6" n b ping -c 3 -i 0.2 -W 5 fd00:6::1

# The drop counters (rx_dropped and ethtool -S *drop*) as "name value"
# lines. Before the transfers they may be nonzero, rightly: an end sends
# IPv6 MLD reports as soon as its device is up, and on a slow kernel one may
# reach the other end before that device is up (rx_drop_down). The
# transfers must add no drop.
drops() {	# drops NS DEV
	echo "rx_dropped $(link_stat "$1" "$2" rx_dropped)"
	n "$1" ethtool -S "$2" | awk '/drop/ { print $1, $2 }'
}
for ns in a b; do
	for dev in cv4 cv6; do
		drops "$ns" "$dev" >"$CV_TMP/drops-$ns-$dev"
		nz=$(awk '$2 != 0' "$CV_TMP/drops-$ns-$dev" | tr '\n' ' ')
		[ -z "$nz" ] || log "$ns $dev before the transfers: $nz"
	done
done

# One random file; a->b sends [0, SIZE), b->a sends [SHIFT, SHIFT + SIZE).
t0=$(now)
head -c $((SIZE + SHIFT)) /dev/urandom >"$DATA"
head -c "$SIZE" "$DATA" | sha256sum | cut -d' ' -f1 >"$CV_TMP/sum-ab" &
tail -c "$SIZE" "$DATA" | sha256sum | cut -d' ' -f1 >"$CV_TMP/sum-ba" &
wait
SUM_AB=$(cat "$CV_TMP/sum-ab") SUM_BA=$(cat "$CV_TMP/sum-ba")
log "$((SIZE + SHIFT)) random bytes and two hashes in $(secs "$t0" "$(now)") s"
[ "$SUM_AB" != "$SUM_BA" ] || fail "the two streams differ"

check "netem 1% loss on a's underlay" n a tc qdisc add dev va root netem loss 1%
check "netem 1% loss on b's underlay" n b tc qdisc add dev vb root netem loss 1%

phase cv4 1337 192.0.2.1,192.0.2.2 198.51.100.1,198.51.100.2,fd00:4::1,fd00:4::2 \
	TCP4-LISTEN:5001,bind=198.51.100.2 TCP4:198.51.100.2:5001 198.51.100.2:5001 \
	TCP6-LISTEN:5002,bind=[fd00:4::1] 'TCP6:[fd00:4::1]:5002' '[fd00:4::1]:5002'
phase cv6 1338 2001:db8::1,2001:db8::2 203.0.113.1,203.0.113.2,fd00:6::1,fd00:6::2 \
	TCP6-LISTEN:5001,bind=[fd00:6::2] 'TCP6:[fd00:6::2]:5001' '[fd00:6::2]:5001' \
	TCP4-LISTEN:5002,bind=203.0.113.1 TCP4:203.0.113.1:5002 203.0.113.1:5002

# Counters. The receiver is read first: whatever it counted was sent before.
for dev in cv4 cv6; do
	for dir in "a b" "b a"; do
		set -- $dir
		rxp=$(link_stat "$2" "$dev" rx_packets)
		rxb=$(link_stat "$2" "$dev" rx_bytes)
		txp=$(link_stat "$1" "$dev" tx_packets)
		txb=$(link_stat "$1" "$dev" tx_bytes)
		log "$dev $1->$2: tx $txp packets $txb bytes, rx $rxp packets $rxb bytes," \
			"lost $(awk -v t="$txp" -v r="$rxp" 'BEGIN { printf "%.2f", (t - r) * 100 / t }')%"
		check_ge "$dev $1->$2: tx_bytes cover the $MIB MiB stream" "$txb" "$SIZE"
		# 1% netem loss on ~10^5 datagrams: 0.3%..3% lost is many sigmas wide.
		check "$dev $1->$2: rx_packets = tx_packets minus 0.3..3% (netem)" \
			test $((rxp * 1000)) -le $((txp * 997)) -a $((rxp * 100)) -ge $((txp * 97))
		check "$dev $1->$2: rx_bytes = tx_bytes minus 0.3..3% (netem)" \
			test $((rxb * 1000)) -le $((txb * 997)) -a $((rxb * 100)) -ge $((txb * 97))
	done
	for ns in a b; do
		for c in rx_errors tx_errors tx_dropped; do
			check_eq "$ns $dev: $c" "$(link_stat "$ns" "$dev" "$c")" 0
		done
		check_ge "$ns $dev: ethtool -S has drop counters" \
			"$(grep -c drop "$CV_TMP/drops-$ns-$dev")" 2
		check_eq "$ns $dev: no drop counted during the transfers" \
			"$(drops "$ns" "$dev" | diff "$CV_TMP/drops-$ns-$dev" - | grep '^[<>]' | tr '\n' ' ')" ""
	done
done
DONE=1
