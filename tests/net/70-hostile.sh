#!/bin/bash
# Hostile traffic: while a SHA-256-checked TCP transfer runs b -> a through
# cv4, namespace b fires CV_HOSTILE_N random and mutated datagrams
# (tests/net/helpers/hostile.c, sendmmsg) at a's cv4 (IPv4, port 1337; a
# half), at a's cvs, which shares cv4's port with peer 192.0.2.3 (b's
# second address; an eighth), from b's third address 192.0.2.4, the peer of
# no device there (a sixteenth), at cvl, a layer-2 device (mode l2, IPv4,
# port 1339, on no bridge: the debug kernel has none; an eighth, of
# Ethernet frames, frames shorter than 14 bytes and layer-3-typed
# datagrams: hostile --l2), and at cv6 (IPv6, port 1338; the rest),
# and a churn loop keeps changing things around them:
#  * cv4's key, on both ends at once, to a random key and back (the
#    transfer stalls, retransmits and goes on);
#  * b's devices cvc0..3 (sprayed by a third, slower hostile sender from a,
#    and pinging through themselves): key (1..4096 bytes, through
#    crapvpn(8)), peer and local
#    (IPv4 <-> IPv6: the socket changes family), port, down/up, delete and
#    re-add, a move to namespace c and back;
#  * a's devices cva0..1 (no traffic): the same kinds of changes.
# Afterwards: the transfer is intact (bytes and SHA-256 equal on both ends),
# the kernel log is clean (the runner checks it), no socket is left but
# those of cv4 (shared with cvs), cvl and cv6, the tunnels still carry
# pings, and the accounting is exact for a's IPv4 ports 1337 and 1339 and
# for cv6 (see "Accounting" below).
#
# Knobs: CV_HOSTILE_N (datagrams; default 1000000 on the debug kernel of
# tests/debug/ (kmemleak present), 50000 on others: TCG delivers a few
# thousand a second), CV_HOSTILE_SEED (random, printed),
# CV_HOSTILE_BIN (default build/helpers/hostile: `make -C tests/net/helpers`
# on the host first; the VM cannot build it), CV_HOSTILE_SPRAY_RATE (500
# datagrams/s at b's churning devices).
. "$(dirname "$0")/lib.sh"

PY=${PY:-python3}
HELPERS=$CV_ROOT/tests/net/helpers
HOSTILE=${CV_HOSTILE_BIN:-$CV_ROOT/build/helpers/hostile}
if [ -e /sys/kernel/debug/kmemleak ]; then
	N=${CV_HOSTILE_N:-1000000}
else
	N=${CV_HOSTILE_N:-50000}
fi
SEED=${CV_HOSTILE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
SPRAY_RATE=${CV_HOSTILE_SPRAY_RATE:-500}
STOP=$CV_TMP/stop
TO="timeout 120"
DONE=

# ---- Accounting ----------------------------------------------------------
# On Linux 6.1 (net/ipv4/udp.c udp_queue_rcv_one_skb(); net/ipv6/udp.c
# udpv6_queue_rcv_one_skb() likewise), a datagram that reaches a socket with
# an encap_rcv hook is checksum-verified, handed to the hook, and, when the
# hook returns <= 0 (crapvpn_udp_recv() always returns 0), counted once in
# Udp InDatagrams (Udp6InDatagrams for an IPv6 socket) of the socket's
# namespace; it is never queued, so RcvbufErrors and the socket's Recv-Q
# stay 0. A datagram with a bad checksum is counted in InCsumErrors and
# never reaches the hook. crapvpn_udp_recv() in turn counts every datagram
# of an attached device exactly once: in rx_packets when gro_cells took it,
# else in one rx_drop_* counter, or, from no device's peer on a shared
# port, in the port's port_rx_unknown_peer. So, over an interval in which
#  - cv4's and cvs's port and cvl's hold the only IPv4 UDP sockets of
#    namespace a that receive anything and cv6 the only IPv6 one (a's churn
#    devices cva* get no datagrams: nobody sends to their ports, 3000 and
#    3001), and
#  - none of them is created, deleted or re-bound (their sockets are
#    attached all along: a datagram reaching a detached socket is freed
#    uncounted; the churn changes only cv4's key, which keeps the socket),
# the equations are exact:
#   delta(rx_packets + sum of rx_drop_*) of a's cv4, cvs and cvl
#     + delta(port_rx_unknown_peer) == delta(Udp InDatagrams) of a
#   delta(rx_packets + sum of rx_drop_*) of a's cv6 == delta(Udp6InDatagrams) of a
# whatever else happened: datagrams lost before delivery (veth backlog,
# fragments never reassembled) count on neither side; the transfer's own
# datagrams and the inner packets the hostile mix makes the stack answer
# count on both. Counters are read once the namespace is quiet again, and
# each reading is checked to be of one moment (reading(), below).
# ----------------------------------------------------------------------------

# Background jobs: lib.sh's bg; kill_jobs ends them with their children
# (SIGKILL for what outlives SIGTERM by a second).
stop_bg() {
	touch "$STOP"
	kill_jobs
}
cleanup() {
	[ -n "$DONE" ] || fail "the script stopped early"
	stop_bg
	ip netns del c 2>/dev/null
	finish
}
trap cleanup EXIT

rand_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# snap NS DEV: "NAME VALUE" of every rx_ ethtool counter and rx_packets.
snap() {
	n "$1" sh -c 'ethtool -S "$1" | awk '\''$1 ~ /^rx_/ { sub(/:$/, "", $1); print $1, $2 }'\''
		echo "rx_packets $(cat "/sys/class/net/$1/statistics/rx_packets")"' - "$2"
}
# rx_total NS DEV: rx_packets + every rx_drop_* counter.
rx_total() {
	snap "$1" "$2" | awk '$1 ~ /^rx_drop_/ || $1 == "rx_packets" { s += $2 } END { print s + 0 }'
}
# counters: one line with everything the equations use.
counters() {
	echo "$(rx_total a cv4) $(rx_total a cvs) $(rx_total a cvl)" \
		"$(ethtool_stat a cv4 port_rx_unknown_peer)" \
		"$(udp_snmp a InDatagrams) $(rx_total a cv6) $(udp_snmp a InDatagrams 6)"
}
# reading N: a's cv4, cvs, cvl and cv6 counters into $CV_TMP/s4.N, ss.N,
# sl.N and s6.N, port_rx_unknown_peer into su.N, and a's
# Udp and Udp6 InDatagrams into in4_N and in6_N, all as of one moment. A
# datagram that lands between the snapshots and the SNMP read counts on one
# side only, and datagrams can still be landing: b's own stack keeps sending
# through cv6 after the device comes up (IPv6 router solicitations, backing
# off: 4, 13 and 29 s after setup in one run), and one of them, landing in
# the baseline between the snapshots and the SNMP read, once broke this
# test. So the reading is repeated until InDatagrams held still across it.
reading() {
	local before after i
	for ((i = 0; i < 60; i++)); do
		before="$(udp_snmp a InDatagrams) $(udp_snmp a InDatagrams 6)"
		snap a cv4 >"$CV_TMP/s4.$1"
		snap a cvs >"$CV_TMP/ss.$1"
		snap a cvl >"$CV_TMP/sl.$1"
		ethtool_stat a cv4 port_rx_unknown_peer >"$CV_TMP/su.$1"
		snap a cv6 >"$CV_TMP/s6.$1"
		after="$(udp_snmp a InDatagrams) $(udp_snmp a InDatagrams 6)"
		[ "$before" = "$after" ] && break
	done
	read -r "in4_$1" "in6_$1" <<<"$after"
	[ "$before" = "$after" ]
}
# quiet SECS: wait until the counters stop moving (two reads 2 s apart).
quiet() {
	local a b i
	a=$(counters)
	for ((i = 0; i < $1; i += 2)); do
		sleep 2
		b=$(counters)
		[ "$a" = "$b" ] && return 0
		a=$b
	done
	return 1
}
# delta OLD NEW: "NAME DELTA" lines for every counter of two snaps.
delta() {
	awk 'NR == FNR { old[$1] = $2; next } { print $1, $2 - old[$1] }' "$1" "$2"
}
json_get() { # FILE KEY
	"$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

stream_status() { cut -d' ' -f"$2" "$CV_TMP/$1.status" 2>/dev/null; }
stream_state_is() { [ "$(stream_status "$1" 3-)" = "$2" ]; }
stream_bytes_ge() { [ "$(stream_status rx 1)" -ge "$1" ] 2>/dev/null; }
udp_ports() { # NS: local address:port of its UDP sockets, sorted, one line
	n "$1" ss -u -a -n -H | awk '{ print $4 }' | LC_ALL=C sort | tr '\n' ' '
}

# ---- churn ------------------------------------------------------------------
# Every command is meant to succeed; failures are counted in churn.fail.
CHURN_LOG=$CV_TMP/churn.log
c_run() { # CMD...: run, log a failure with its status and message
	local out rc t=$SECONDS
	out=$($TO "$@" 2>&1)
	rc=$?
	[ -z "$out" ] || printf '%s\n' "$out" >>"$CHURN_LOG"
	# A slow command is not a failure, but it is what to look at first
	# when the kernel reports blocked tasks.
	[ $((SECONDS - t)) -lt 30 ] ||
		printf 'SLOW (%d s): %.120s\n' $((SECONDS - t)) "$*" >>"$CHURN_LOG"
	if [ $rc -ne 0 ]; then
		printf 'FAILED (status %d): %.120s...: %s\n' $rc "$*" "$out" >>"$CHURN_LOG"
		echo x >>"$CV_TMP/churn.fail"
	fi
}
both() { # CMD_A -- CMD_B: both at once
	local -a ca=()
	while [ "$1" != -- ]; do ca+=("$1"); shift; done
	shift
	c_run "${ca[@]}" &
	c_run "$@"
	wait $!
}
# cvc J: bring b's cvcJ to its base state (created, addressed, up, pinging
# through itself: 10.77.J.1 -> 10.77.J.2 is a's address on no device, so
# a answers ICMP port unreachable to its port).
cvc_add() {
	local j=$1
	c_run ip -n b link add "cvc$j" type crapvpn key "$(rand_hex $((1 + RANDOM % 32)))" \
		peer 192.0.2.1 port $((2000 + j)) peer-port $((2000 + j))
	cvc_conf "$j" b
}
cvc_conf() { # J NS
	c_run ip -n "$2" addr add "10.77.$1.1" peer "10.77.$1.2" dev "cvc$1"
	c_run ip -n "$2" link set "cvc$1" up
}
cva_add() {
	c_run ip -n a link add "cva$1" type crapvpn key "$(rand_hex 8)" peer 192.0.2.2 \
		port $((3000 + $1)) peer-port $((3000 + $1))
	c_run ip -n a link set "cva$1" up
}
# One round: cv4's key flipped on both ends and back, then the next change
# of one of b's cvc devices (each goes through ops 0..7 in turn, cvcJ from
# op 2J, so that the eight rounds of a short run reach every op) and of one
# of a's cva devices (ops 0..3). The order keeps every command valid: a
# local address is only set with a peer of its family, from any op on.
churn() {
	local i=0 j k op
	: >"$CV_TMP/churn.fail"
	while [ ! -e "$STOP" ]; do
		k=$(rand_hex $((1 + RANDOM % 64)))
		both ip -n a link set cv4 type crapvpn key "$k" -- \
			ip -n b link set cv4 type crapvpn key "$k"
		both ip -n a link set cv4 type crapvpn key "$KEY" -- \
			ip -n b link set cv4 type crapvpn key "$KEY"
		j=$((i % 4))
		case $(((i / 4 + 2 * j) % 8)) in
		0) # ip(8) cannot send keys above about 1000 bytes (its request
		   # buffer): crapvpn(8) for up to 4096 (C: python would start
		   # too slowly on a saturated VM).
		   c_run ip netns exec b "$CV_TOOL" set "cvc$j" \
			key "$(rand_hex $((1 + RANDOM % 4096)))" ;;
		1) c_run ip -n b link set "cvc$j" type crapvpn \
			peer 2001:db8::1 local 2001:db8::2 ;;
		2) c_run ip -n b link set "cvc$j" type crapvpn \
			peer 192.0.2.1 local 0.0.0.0 port $((2100 + j)) ;;
		3) c_run ip -n b link set "cvc$j" down
		   c_run ip -n b link set "cvc$j" up ;;
		4) c_run ip -n b link set "cvc$j" type crapvpn \
			port $((2000 + j)) local 192.0.2.2 peer-port $((2100 + j)) ;;
		5) c_run ip -n b link del "cvc$j"
		   cvc_add "$j" ;;
		6) c_run ip -n b link set "cvc$j" netns c
		   cvc_conf "$j" c
		   c_run ip -n c link set "cvc$j" netns b
		   cvc_conf "$j" b ;;
		7) c_run ip -n b link set "cvc$j" type crapvpn \
			peer 198.18.$j.1 local 0.0.0.0 port $((2000 + j)) ;;
		esac
		j=$((i % 2))
		case $((i / 2 % 4)) in
		0) c_run ip -n a link del "cva$j"
		   cva_add "$j" ;;
		1) c_run ip -n a link set "cva$j" type crapvpn key "$(rand_hex 200)" \
			peer 2001:db8::2 ;;
		2) c_run ip -n a link set "cva$j" down
		   c_run ip -n a link set "cva$j" type crapvpn peer 192.0.2.2 local 192.0.2.1
		   c_run ip -n a link set "cva$j" up ;;
		3) c_run ip -n a link set "cva$j" type crapvpn port $((3000 + j)) local 0.0.0.0 ;;
		esac
		i=$((i + 1))
		echo "$i" >"$CV_TMP/churn.rounds"
	done
}

# ---------------------------------------------------------------------------

if [ ! -x "$HOSTILE" ]; then
	fail "hostile sender $HOSTILE built (run make -C tests/net/helpers on the host)"
	DONE=1
	exit 1
fi
log "hostile: $N datagrams, seed $SEED (CV_HOSTILE_N, CV_HOSTILE_SEED)"
setup_pair
ip netns del c 2>/dev/null
ip netns add c
check "tunnel4" tunnel4
check "tunnel6" tunnel6
ipb addr add 192.0.2.3/24 dev vb
ipb addr add 192.0.2.4/24 dev vb
check "cvs, on cv4's port, for peer 192.0.2.3" \
	add_tunnel a cvs 192.0.2.3 10.66.0.1 10.66.0.2 fd00:66::1 fd00:66::2
# l2_tunnel NS PEER INNER4 INNER6: cvl, a layer-2 device on port 1339.
l2_tunnel() {
	ip -n "$1" link add cvl type crapvpn key "$KEY" peer "$2" port 1339 \
		peer-port 1339 mode l2 &&
	ip -n "$1" addr add "$3/24" dev cvl &&
	ip -n "$1" addr add "$4/64" dev cvl nodad &&
	ip -n "$1" link set cvl up
}
check "cvl, layer 2, in a" l2_tunnel a 192.0.2.2 10.67.0.1 fd00:67::1
check "cvl, layer 2, in b" l2_tunnel b 192.0.2.1 10.67.0.2 fd00:67::2
for j in 0 1 2 3; do cvc_add $j; done
for j in 0 1; do cva_add $j; done
check "churn devices created" test ! -s "$CV_TMP/churn.fail"
check "ping through cv4" n a ping -c 2 -i 0.2 -W 5 198.51.100.2
check "ping through cv6" n a ping -c 2 -i 0.2 -W 5 203.0.113.2
check "ping through cvl (layer 2)" n a ping -c 2 -i 0.2 -W 5 10.67.0.2
for j in 0 1 2 3; do
	bg n b ping -q -i 0.05 "10.77.$j.2" >/dev/null 2>&1
done

# Baseline, then the transfer b -> a (paced, so that it does not starve the
# flood; it runs until the flood and the churn are over).
check "baseline counters read while a's InDatagrams held still" reading 0
rb4_0=$(udp_snmp a RcvbufErrors)
rb6_0=$(udp_snmp a RcvbufErrors 6)
rm -f "$STOP" "$CV_TMP"/{rx,tx}.status
bg n a "$PY" "$HELPERS/stream.py" recv 5001 "$CV_TMP/rx.status" --bind 198.51.100.1
check "stream receiver listening" wait_for 30 stream_state_is rx listening
bg n b "$PY" "$HELPERS/stream.py" send 198.51.100.1 5001 "$CV_TMP/tx.status" \
	--stop "$STOP" --rate 300000 --timeout 600
check "transfer started" wait_for 60 stream_bytes_ge 65536

churn &
CHURN_PID=$!
bg n a "$HOSTILE" --to 192.0.2.2 --port 2000,2001,2002,2003,2100,2101,2102,2103 \
	--key "$KEY" --count 0 --rate "$SPRAY_RATE" --seed "$SEED-spray" \
	--stop "$STOP" --summary "$CV_TMP/spray.json"

N4=$((N / 2))
NS=$((N / 8))
NU=$((N / 16))
NL=$((N / 8))
N6=$((N - N4 - NS - NU - NL))
t0=$SECONDS
xfer0=$(stream_status rx 1)
n b "$HOSTILE" --to 192.0.2.1 --port 1337 --key "$KEY" --count "$N4" \
	--seed "$SEED-4" --inner4 198.51.100.1,198.51.100.2 \
	--inner6 fd00:4::1,fd00:4::2 --summary "$CV_TMP/h4.json" &
h4=$!
n b "$HOSTILE" --to 192.0.2.1 --port 1337 --key "$KEY" --count "$NS" \
	--from 192.0.2.3 --seed "$SEED-s" --inner4 10.66.0.1,10.66.0.2 \
	--inner6 fd00:66::1,fd00:66::2 --summary "$CV_TMP/hs.json" &
hs=$!
n b "$HOSTILE" --to 192.0.2.1 --port 1337 --key "$KEY" --count "$NU" \
	--from 192.0.2.4 --seed "$SEED-u" --inner4 10.66.0.1,10.66.0.2 \
	--summary "$CV_TMP/hu.json" &
hu=$!
n b "$HOSTILE" --to 2001:db8::1 --port 1338 --key "$KEY" --count "$N6" \
	--seed "$SEED-6" --inner4 203.0.113.1,203.0.113.2 \
	--inner6 fd00:6::1,fd00:6::2 --summary "$CV_TMP/h6.json" &
h6=$!
n b "$HOSTILE" --to 192.0.2.1 --port 1339 --key "$KEY" --count "$NL" \
	--seed "$SEED-l" --l2 --mac "$(n a cat /sys/class/net/cvl/address)" \
	--inner4 10.67.0.1,10.67.0.2 --inner6 fd00:67::1,fd00:67::2 \
	--summary "$CV_TMP/hl.json" &
hl=$!
wait $h4
r4=$?
wait $hs
rs=$?
wait $hu
ru=$?
wait $h6
r6=$?
wait $hl
rl=$?
secs=$((SECONDS - t0))
xfer1=$(stream_status rx 1)
check_eq "hostile senders to cv4, cvs, from no peer, to cv6, to cvl: exit statuses" \
	"$r4 $rs $ru $r6 $rl" "0 0 0 0 0"
log "flood done in $secs s: cv4 $(cat "$CV_TMP/h4.json" 2>/dev/null)"
log "cvs $(cat "$CV_TMP/hs.json" 2>/dev/null)"
log "from no peer $(cat "$CV_TMP/hu.json" 2>/dev/null)"
log "cv6 $(cat "$CV_TMP/h6.json" 2>/dev/null)"
log "cvl $(cat "$CV_TMP/hl.json" 2>/dev/null)"
check "the transfer moved during the flood ($xfer0 -> $xfer1 bytes)" \
	test "${xfer1:-0}" -gt "${xfer0:-0}"
# Every churn device through two of its changes at least, even if the
# flood was short.
churn_rounds_ge() { [ "$(cat "$CV_TMP/churn.rounds" 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_for 900 churn_rounds_ge 8
touch "$STOP"
wait "$CHURN_PID"
rounds=$(cat "$CV_TMP/churn.rounds" 2>/dev/null || echo 0)
check "sender finished" wait_for 300 stream_state_is tx done
check "receiver finished" wait_for 120 stream_state_is rx done
check_eq "transfer intact: bytes and SHA-256 equal on both ends" \
	"$(stream_status rx 1-2)" "$(stream_status tx 1-2)"
log "transfer: $(stream_status rx 1) bytes, $((xfer1 - xfer0)) of them during the flood"
stop_bg
check_ge "churn rounds (each churn device changed twice at least)" "$rounds" 8
check_eq "churn commands that failed" "$(wc -l <"$CV_TMP/churn.fail")" 0
grep FAILED "$CHURN_LOG" | head -n 5 | sed 's/^/#   /'
grep SLOW "$CHURN_LOG" | head -n 10 | sed 's/^/#   /'
log "churn: $rounds rounds; spray at b's churn devices: $(cat "$CV_TMP/spray.json" 2>/dev/null)"

# ---- accounting ----
check "a's counters quiet again" quiet 120
check "final counters read while a's InDatagrams held still" reading 1
for x in 4 s l 6; do
	delta "$CV_TMP/s$x.0" "$CV_TMP/s$x.1" >"$CV_TMP/d$x"
done
unk=$(($(cat "$CV_TMP/su.1") - $(cat "$CV_TMP/su.0")))
log "cv4 deltas: $(awk '$2 { printf "%s=%s ", $1, $2 }' "$CV_TMP/d4")"
log "cvs deltas: $(awk '$2 { printf "%s=%s ", $1, $2 }' "$CV_TMP/ds")"
log "cvl deltas: $(awk '$2 { printf "%s=%s ", $1, $2 }' "$CV_TMP/dl")"
log "cv6 deltas: $(awk '$2 { printf "%s=%s ", $1, $2 }' "$CV_TMP/d6")"
tot() { awk '$1 ~ /^rx_drop_/ || $1 == "rx_packets" { s += $2 } END { print s + 0 }' "$1"; }
tot4=$(tot "$CV_TMP/d4")
tots=$(tot "$CV_TMP/ds")
totl=$(tot "$CV_TMP/dl")
tot6=$(tot "$CV_TMP/d6")
log "delivered: ports 1337 and 1339 $((in4_1 - in4_0)) of $((N4 + NS + NU + NL)) sent (+ the transfer's), cv6 $((in6_1 - in6_0)) of $N6"
check_eq "ports 1337 and 1339: cv4's, cvs's and cvl's rx_packets + rx_drop_*, + port_rx_unknown_peer == Udp InDatagrams delta" \
	"$((tot4 + tots + totl + unk))" $((in4_1 - in4_0))
check "port_rx_unknown_peer = $unk, in [1, $NU]: only the datagrams from 192.0.2.4" \
	test "$unk" -ge 1 -a "$unk" -le "$NU"
check_ge "cvs: rx_packets moved" "$(awk '$1 == "rx_packets" { print $2 }' "$CV_TMP/ds")" 1
check "cvs: at most what was sent to it ($tots of $NS)" test "$tots" -le "$NS"
check_eq "cv6: rx_packets + rx_drop_* == Udp6InDatagrams delta" "$tot6" $((in6_1 - in6_0))
check_eq "Udp RcvbufErrors delta (nothing queued)" $(($(udp_snmp a RcvbufErrors) - rb4_0)) 0
check_eq "Udp6RcvbufErrors delta" $(($(udp_snmp a RcvbufErrors 6) - rb6_0)) 0

# Per reason: short, bad magic, bad length, empty and other-mode-typed
# datagrams (and, at cvl, frames shorter than 14 bytes) come only from the
# hostile senders, so each counter is at most what was sent of its class
# (less when the flood lost datagrams before delivery), and not 0.
dv() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
for fam in 4 6 l; do
	pairs="short:rx_drop_short magic:rx_drop_bad_magic
		length:rx_drop_bad_length empty:rx_drop_empty mode:rx_drop_mode"
	[ $fam = l ] && pairs+=" short_frame:rx_drop_short_frame"
	for pair in $pairs; do
		sent=$(json_get "$CV_TMP/h$fam.json" "${pair%%:*}")
		got=$(dv "$CV_TMP/d$fam" "${pair#*:}")
		check "cv$fam: ${pair#*:} = $got, in [1, $sent]" \
			test "$got" -ge 1 -a "$got" -le "$sent"
	done
	check_eq "cv$fam: rx_drop_down" "$(dv "$CV_TMP/d$fam" rx_drop_down)" 0
	check_ge "cv$fam: rx_packets moved" "$(dv "$CV_TMP/d$fam" rx_packets)" 1
done
# Nor does the layer-3 traffic meet a layer-3 drop at cvl.
check_eq "cvl: rx_drop_not_ip" "$(dv "$CV_TMP/dl" rx_drop_not_ip)" 0
delivered=$((in4_1 - in4_0 + in6_1 - in6_0))
check_ge "at least a tenth of the flood was delivered" "$delivered" $((N / 10))

# ---- afterwards ----
for j in 0 1 2 3; do ip -n b link del "cvc$j" 2>/dev/null; ip -n c link del "cvc$j" 2>/dev/null; done
for j in 0 1; do ip -n a link del "cva$j" 2>/dev/null; done
check_eq "a's UDP sockets: only cv4's (shared with cvs), cvl's and cv6's" \
	"$(udp_ports a)" "0.0.0.0:1337 0.0.0.0:1339 [::]:1338 "
check_eq "b's UDP sockets: only cv4's, cvl's and cv6's" "$(udp_ports b)" \
	"0.0.0.0:1337 0.0.0.0:1339 [::]:1338 "
check_eq "Recv-Q of a's sockets is 0" \
	"$(n a ss -u -a -n -H | awk '{ s += $2 } END { print s + 0 }')" 0
check "ping through cv4 after the flood" n a ping -c 3 -i 0.2 -W 5 198.51.100.2
check "ping IPv6 through cv4 after the flood" n a ping -c 3 -i 0.2 -W 5 fd00:4::2
check "ping through cv6 after the flood" n b ping -c 3 -i 0.2 -W 5 203.0.113.1
check "ping through cvl after the flood" n b ping -c 3 -i 0.2 -W 5 10.67.0.1
check "ping IPv6 through cvl after the flood" n a ping -c 3 -i 0.2 -W 5 fd00:67::2
DONE=1
