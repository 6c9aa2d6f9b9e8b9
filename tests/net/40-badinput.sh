#!/bin/bash
# Bad input: every datagram the receive rules of the wire format refuse is
# dropped and counted under its own `ethtool -S` counter (and folded into
# rx_errors of `ip -s link`), the accept vectors are received, a flood
# of random and mutated datagrams leaves no datagram unaccounted, nothing
# queued on the socket, a clean kernel log and a working tunnel, and inner
# checksums are checked whatever the outer UDP checksum says.
#
# Namespace b sends raw UDP datagrams (tests/net/helpers/cvsend.py) to the
# port of a's devices: cv4 (IPv4 socket, port 1337) and cv6 (IPv6 socket,
# port 1338). b has no crapvpn device until the end, so nothing but the test
# datagrams reaches a's ports while counters are compared.
#
# Knobs: CV_FUZZ_COUNT (10000), CV_FUZZ6_COUNT (2000, over IPv6),
# CV_FUZZ_SEED (random, printed), CV_VECTORS (the vectors file,
# tests/vectors/wire-vectors-1.1.jsonl).
. "$(dirname "$0")/lib.sh"

PY=${PY:-python3}
HELPERS=$CV_ROOT/tests/net/helpers
VECTORS=${CV_VECTORS:-$CV_ROOT/tests/vectors/wire-vectors-1.1.jsonl}
FUZZ_COUNT=${CV_FUZZ_COUNT:-10000}
FUZZ6_COUNT=${CV_FUZZ6_COUNT:-2000}
FUZZ_SEED=${CV_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

# The rx counters compared before and after each datagram: the device's
# rx_* ethtool counters and the `ip -s link` ones they fold into.
RX_LINK_STATS="rx_packets rx_bytes rx_errors rx_length_errors rx_frame_errors rx_dropped"

# snap NS DEV: "NAME VALUE" lines of every rx counter (one netns exec).
snap() {
	n "$1" sh -c 'ethtool -S "$1" | awk '\''$1 ~ /^rx_/ { sub(/:$/, "", $1); print $1, $2 }'\''
		shift
		d=$1
		shift
		for s; do echo "$s $(cat "/sys/class/net/$d/statistics/$s")"; done' \
		- "$2" "$2" $RX_LINK_STATS
}

# delta OLD NEW: "NAME=DELTA ..." of the counters that moved, sorted.
delta() {
	awk 'NR == FNR { old[$1] = $2; next }
	     $2 != old[$1] { printf "%s=%d\n", $1, $2 - old[$1] }' "$1" "$2" |
		LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

# rx_total NS DEV: every rx_drop_* counter plus rx_packets.
rx_total() {
	snap "$1" "$2" | awk '$1 ~ /^rx_drop_/ || $1 == "rx_packets" { s += $2 } END { print s + 0 }'
}

# recvq_sampler NS PORT OUT STOP: until STOP exists, sample the Recv-Q of
# the UDP socket(s) on PORT; writes "SAMPLES MAX ROWS_SEEN" to OUT.
recvq_sampler() {
	local samples=0 max=0 seen=0 q
	while :; do
		for q in $(n "$1" ss -u -a -n -H "sport = :$2" | awk '{ print $2 }'); do
			seen=$((seen + 1))
			[ "$q" -gt "$max" ] && max=$q
		done
		samples=$((samples + 1))
		[ -e "$4" ] && break
		sleep 0.05
	done
	echo "$samples $max $seen" >"$3"
}

# vectors DEV HOST PORT: every vector from b to a's DEV (see cvvectors.py),
# counted through lib.sh's tap: they run in one python process, since
# per-vector shell commands are slow under TCG.
vectors() {
	tap n a "$PY" "$HELPERS/cvvectors.py" --dev "$1" --from b --to "$2" \
		--port "$3" --vectors "$VECTORS" --key "$KEY"
}

# ---------------------------------------------------------------------------

# fuzz DEV HOST PORT COUNT SEED [6]: random and mutated datagrams from b;
# every one must be counted once, by reason, and nothing queued.
fuzz() {
	local dev=$1 host=$2 port=$3 count=$4 seed=$5 v6=${6:-}
	local sum="$CV_TMP/fuzz-$dev.json" start t0 in0 in1 rb0 rb1 ie0 ie1
	local -A d exp

	snap a "$dev" >"$CV_TMP/f0"
	start=$(rx_total a "$dev")
	in0=$(udp_snmp a InDatagrams "$v6")
	rb0=$(udp_snmp a RcvbufErrors "$v6")
	ie0=$(udp_snmp a InErrors "$v6")
	rm -f "$CV_TMP/stop" "$CV_TMP/recvq"
	recvq_sampler a "$port" "$CV_TMP/recvq" "$CV_TMP/stop" &
	local sampler=$!

	t0=$SECONDS
	check "$dev: send $count random/mutated datagrams (seed $seed)" \
		n b "$PY" "$HELPERS/cvsend.py" fuzz "$host" "$port" --key "$KEY" \
		--count "$count" --seed "$seed" --summary "$sum"
	wait_for 120 counter_total_is a "$dev" $((start + count))
	log "$dev: $count datagrams sent and counted in $((SECONDS - t0)) s; $(cat "$sum" 2>/dev/null)"
	touch "$CV_TMP/stop"
	wait "$sampler"

	snap a "$dev" >"$CV_TMP/f1"
	in1=$(udp_snmp a InDatagrams "$v6")
	rb1=$(udp_snmp a RcvbufErrors "$v6")
	ie1=$(udp_snmp a InErrors "$v6")
	log "$dev: counter deltas: $(delta "$CV_TMP/f0" "$CV_TMP/f1")"

	awk 'NR == FNR { old[$1] = $2; next } { print $1, $2 - old[$1] }' \
		"$CV_TMP/f0" "$CV_TMP/f1" >"$CV_TMP/fd"
	while read -r k v; do d[$k]=$v; done <"$CV_TMP/fd"
	"$PY" -c 'import json, sys
for k, v in json.load(open(sys.argv[1])).items(): print(k, v)' "$sum" >"$CV_TMP/fe"
	while read -r k v; do exp[$k]=$v; done <"$CV_TMP/fe"
	[ -n "${exp[sent]:-}" ] || { fail "$dev: no fuzz summary"; return; }

	check_eq "$dev: Udp${v6} InDatagrams delta (all reached the socket)" \
		$((in1 - in0)) "$count"
	check_eq "$dev: Udp${v6} RcvbufErrors delta" $((rb1 - rb0)) 0
	check_eq "$dev: Udp${v6} InErrors delta" $((ie1 - ie0)) 0
	local total=0 k
	for k in "${!d[@]}"; do
		case $k in rx_drop_* | rx_packets) total=$((total + d[$k])) ;; esac
	done
	check_eq "$dev: rx_drop_* + rx_packets == datagrams sent" "$total" "$count"
	check_eq "$dev: rx_drop_short" "${d[rx_drop_short]}" "${exp[short]}"
	check_eq "$dev: rx_drop_bad_magic" "${d[rx_drop_bad_magic]}" "${exp[magic]}"
	check_eq "$dev: rx_drop_bad_length" "${d[rx_drop_bad_length]}" "${exp[length]}"
	check_eq "$dev: rx_drop_empty" "${d[rx_drop_empty]}" "${exp[empty]}"
	check_eq "$dev: rx_drop_mode" "${d[rx_drop_mode]}" "${exp[mode]}"
	# A version nibble of 4 or 6 with less than a minimal header may be
	# dropped here or passed on to the stack: both are allowed.
	check "$dev: rx_drop_not_ip in [${exp[not_ip]}, ${exp[not_ip]} + ${exp[ip_short]}] (got ${d[rx_drop_not_ip]})" \
		test "${d[rx_drop_not_ip]}" -ge "${exp[not_ip]}" -a \
		"${d[rx_drop_not_ip]}" -le $((exp[not_ip] + exp[ip_short]))
	check_eq "$dev: rx_packets + rx_drop_not_ip" \
		$((d[rx_packets] + d[rx_drop_not_ip])) \
		$((exp[ip] + exp[ip_short] + exp[not_ip]))
	check_eq "$dev: rx_drop_nomem/down/backlog" \
		"${d[rx_drop_nomem]}/${d[rx_drop_down]}/${d[rx_drop_backlog]}" 0/0/0
	local errs=$((d[rx_drop_short] + d[rx_drop_bad_magic] + d[rx_drop_bad_length] +
		d[rx_drop_empty] + d[rx_drop_not_ip] + d[rx_drop_mode]))
	check_eq "$dev: rx_errors moved by the drops" "${d[rx_errors]}" "$errs"
	check_eq "$dev: rx_length_errors = short + bad_length + empty" \
		"${d[rx_length_errors]}" \
		$((d[rx_drop_short] + d[rx_drop_bad_length] + d[rx_drop_empty]))
	check_eq "$dev: rx_frame_errors = bad_magic + not_ip + mode" \
		"${d[rx_frame_errors]}" \
		$((d[rx_drop_bad_magic] + d[rx_drop_not_ip] + d[rx_drop_mode]))
	check_eq "$dev: rx_dropped" "${d[rx_dropped]}" 0

	local samples max seen
	read -r samples max seen <"$CV_TMP/recvq"
	log "$dev: ss sampled port $port $samples times during the flood"
	check_ge "$dev: the socket on port $port is listed by ss" "$seen" 1
	check_eq "$dev: Recv-Q of port $port stayed 0" "$max" 0
}

counter_total_is() {
	[ "$(rx_total "$1" "$2")" -ge "$3" ]
}

# ip -s link shows rx errors equal to the sysfs counter.
ip_s_rx_errors() {
	n "$1" ip -s -j link show "$2" |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["errors"])'
}

# ---------------------------------------------------------------------------

[ -r "$VECTORS" ] || { fail "vectors file $VECTORS readable"; finish; }
log "fuzz seed $FUZZ_SEED (set CV_FUZZ_SEED to repeat)"
setup_pair
# Only a has devices while counters are compared.
check "create a's cv4 (IPv4 socket, port 1337)" \
	add_tunnel a cv4 192.0.2.2 198.51.100.1 198.51.100.2 fd00:4::1 fd00:4::2
check "create a's cv6 (IPv6 socket, port 1338)" \
	add_tunnel a cv6 2001:db8::2 203.0.113.1 203.0.113.2 fd00:6::1 fd00:6::2 \
	port 1338 peer-port 1338

t=$SECONDS
vectors cv4 192.0.2.1 1337
log "vectors over IPv4: $((SECONDS - t)) s"
t=$SECONDS
vectors cv6 2001:db8::1 1338
log "vectors over IPv6: $((SECONDS - t)) s"

t=$SECONDS
fuzz cv4 192.0.2.1 1337 "$FUZZ_COUNT" "$FUZZ_SEED"
[ "$FUZZ6_COUNT" -gt 0 ] && fuzz cv6 2001:db8::1 1338 "$FUZZ6_COUNT" "$FUZZ_SEED-6" 6
log "fuzzing: $((SECONDS - t)) s"

# A device that is down drops what arrives: rx_drop_down, in rx_dropped.
check "set a's cv6 down" ipa link set cv6 down
snap a cv6 >"$CV_TMP/d0"
d0=$(ethtool_stat a cv6 rx_drop_down)
n b "$PY" "$HELPERS/cvsend.py" send 2001:db8::1 1338 "$("$PY" "$HELPERS/cvsend.py" valid "$KEY")"
wait_for 10 eval '[ "$(ethtool_stat a cv6 rx_drop_down)" -gt "$d0" ]'
snap a cv6 >"$CV_TMP/d1"
check_eq "cv6 down: a valid datagram dropped as rx_drop_down, in rx_dropped" \
	"$(delta "$CV_TMP/d0" "$CV_TMP/d1")" "rx_drop_down=1 rx_dropped=1"
check "set a's cv6 up again" ipa link set cv6 up

# Checksums. The outer UDP checksum covers the ciphertext in transit only:
# a packet XORed with the wrong key, or damaged before the peer's XOR,
# passes it. So the inner packet's own checksums are always checked by
# the stack, whatever the outer one says. A wrong outer checksum, or over
# IPv6 a zero one, never reaches the device. b sends each case from a raw
# socket to a's cv4 or cv6, carrying a UDP packet to port 5599 of a's
# inner address, where a listens, or a TCP SYN to port 5599, where nothing
# listens (a right one is answered with a reset, through cv4). Each case
# runs in place and, while a packet socket on va holds a clone of every
# datagram (helpers/lazytap.py), on the copy path.
# csum_send 4|6 OUTER INNER PROTO TEXT
csum_send() {
	local fam=$1
	shift
	if [ "$fam" = 4 ]; then
		set -- 192.0.2.2 192.0.2.1 1337 198.51.100.2 198.51.100.1 "$@"
	else
		set -- 2001:db8::2 2001:db8::1 1338 203.0.113.2 203.0.113.1 "$@"
	fi
	n b "$PY" "$HELPERS/cvsend.py" csum "$1" "$2" "$3" --key "$KEY" \
		--inner-src "$4" --inner-dst "$5" --inner-port 5599 \
		--outer "$6" --inner "$7" --proto "$8" "$9"
}
# moved_by NS DEV OLD N: rx_packets of DEV grew by N or more.
moved_by() {
	[ $(($(link_stat "$1" "$2" rx_packets) - $3)) -ge "$4" ]
}
# csum_cases PATH: every case, the texts tagged with PATH.
csum_cases() {
	local fam outer inner proto
	while read -r fam outer inner proto; do
		check "b sends over IPv$fam: outer checksum $outer, inner $proto $inner ($1)" \
			csum_send "$fam" "$outer" "$inner" "$proto" "$fam-$outer-$inner-$1"
	done <<'CASES'
4 good good udp
4 good bad udp
4 zero good udp
4 zero bad udp
4 bad good udp
6 zero good udp
6 good good udp
6 good bad udp
4 good bad tcp
6 good bad tcp
CASES
}
rx4=$(link_stat a cv4 rx_packets)
rx6=$(link_stat a cv6 rx_packets)
ce4=$(udp_snmp a InCsumErrors)
ce6=$(udp_snmp a InCsumErrors 6)
cet=$(snmp a Tcp InCsumErrors)
n a "$PY" "$HELPERS/cvsend.py" listen 0.0.0.0 5599 "$CV_TMP/csum-got" \
	--until last --seconds 600 &
listener=$!
wait_for 20 eval 'n a ss -u -l -n -H "sport = :5599" | grep -q .'
csum_cases inplace
bg n a "$PY" "$HELPERS/lazytap.py" va "$CV_TMP/csum-lazy.pcap" \
	"$CV_TMP/csum-lazy.stop" --incoming
check "a packet socket on a's va holds clones" \
	wait_for 20 test -e "$CV_TMP/csum-lazy.pcap.ready"
csum_cases copy
# All handled before "last" goes out: it ends the listening.
wait_for 30 eval 'moved_by a cv4 $rx4 10 && moved_by a cv6 $rx6 6 &&
	[ $(($(udp_snmp a InCsumErrors) - ce4)) -ge 8 ] &&
	[ $(($(udp_snmp a InCsumErrors 6) - ce6)) -ge 2 ] &&
	[ $(($(snmp a Tcp InCsumErrors) - cet)) -ge 4 ]'
touch "$CV_TMP/csum-lazy.stop"
wait_for 20 test -e "$CV_TMP/csum-lazy.pcap.done"
check_ge "the packet socket held the copy-path datagrams" \
	"$(tcpdump -r "$CV_TMP/csum-lazy.pcap" -n udp 2>/dev/null | wc -l)" 10
tx4=$(link_stat a cv4 tx_packets)
check "b sends a TCP SYN with a right checksum" csum_send 4 good good tcp syn
check "a answers it through cv4" \
	wait_for 20 eval '[ "$(link_stat a cv4 tx_packets)" -gt "$tx4" ]'
check "b sends the last one" csum_send 4 good good udp last
wait_for 30 grep -qx last "$CV_TMP/csum-got"
check "a's listener got the last one" grep -qx last "$CV_TMP/csum-got"
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null
check_eq "delivered: right inner sums under a right or zero outer one, on both paths" \
	"$(sort "$CV_TMP/csum-got" | tr '\n' ' ')" \
	"4-good-good-copy 4-good-good-inplace 4-zero-good-copy 4-zero-good-inplace 6-good-good-copy 6-good-good-inplace last "
check_eq "cv4 received all but the wrong outer sums" \
	$(($(link_stat a cv4 rx_packets) - rx4)) 12
check_eq "cv6 received all but the zero outer sums" \
	$(($(link_stat a cv6 rx_packets) - rx6)) 6
check_eq "Udp InCsumErrors: wrong outer sums, and wrong inner ones under any outer sum" \
	$(($(udp_snmp a InCsumErrors) - ce4)) 8
check_eq "Udp6 InCsumErrors: the zero outer sums" \
	$(($(udp_snmp a InCsumErrors 6) - ce6)) 2
check_eq "Tcp InCsumErrors: the wrong inner sums under right outer ones" \
	$(($(snmp a Tcp InCsumErrors) - cet)) 4

check_eq "ip -s link rx errors of cv4 == sysfs rx_errors" \
	"$(ip_s_rx_errors a cv4)" "$(link_stat a cv4 rx_errors)"
check_ge "ip -s link rx errors of cv4 count the drops" "$(ip_s_rx_errors a cv4)" 1

# The tunnel still works: give b its ends and ping both ways.
check "create b's cv4" \
	add_tunnel b cv4 192.0.2.1 198.51.100.2 198.51.100.1 fd00:4::2 fd00:4::1
check "create b's cv6" \
	add_tunnel b cv6 2001:db8::1 203.0.113.2 203.0.113.1 fd00:6::2 fd00:6::1 \
	port 1338 peer-port 1338
rx0=$(link_stat a cv4 rx_packets)
check "ping through cv4 after the flood" n a ping -c 3 -i 0.2 -W 5 198.51.100.2
check "ping IPv6 through cv4 after the flood" n a ping -c 3 -i 0.2 -W 5 fd00:4::2
check "ping through cv6 after the flood" n a ping -c 3 -i 0.2 -W 5 203.0.113.2
check "ping from b through cv4" n b ping -c 3 -i 0.2 -W 5 198.51.100.1
check_ge "a's cv4 received the replies" "$(link_stat a cv4 rx_packets)" $((rx0 + 6))
check_eq "Recv-Q of port 1337 in a is 0" \
	"$(n a ss -u -a -n -H 'sport = :1337' | awk '{ s += $2 } END { print s + 0 }')" 0
finish
