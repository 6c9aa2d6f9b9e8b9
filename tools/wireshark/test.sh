#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tests the Wireshark dissector (crapvpn.lua) headless, with tshark:
#
#   tools/wireshark/test.sh [VECTORS]
#   tools/wireshark/test.sh --capture PCAP KEY [MIN [WANT...]]
#
# mkpcaps.py writes captures (Ethernet / IPv4 or IPv6 / UDP, fragmented
# where a 1500-byte path would fragment) of the wire vectors (VECTORS, or
# by default the repository's 1.1 file, else ../shared's, else the 1.0
# file) as received from the userspace version (type 0) and as the module
# sends them (typed), in both modes, on port 1337 and on another port (the
# heuristic), and hand-made bad datagrams, with the fields tshark must
# print for each. tshark's exit status says nothing (0 even when a Lua
# script fails to load): every assertion is on what it prints.
#
# As root, with TUN and network namespaces, it also captures two of the
# tests' userspace peers (tests/userspace/crapvpn-userspace.py: type 0)
# pinging each other over IPv4 and IPv6 underlays, IPv4 and IPv6 inside,
# with fragments, and checks what tshark makes of that.
#
# --capture: checks a capture made elsewhere (the VM tests'; whole
# packets, not cut short with -s): at least MIN (default 1) CrapVPN
# datagrams, each decrypted with KEY to IPv4, IPv6 or Ethernet with good
# IPv4 and ICMP checksums inside, no CrapVPN expert info, no Lua error.
# Each WANT, "TYPE UNDERLAY INNER" (say "0x6558 ipv6 eth:ethertype:arp"),
# is a kind of datagram the capture must hold: one at least whose
# crapvpn.type is TYPE and whose frame.protocols is
# eth:ethertype:UNDERLAY:udp:crapvpn:INNER, or that followed by more.
#
# KEEP=1 keeps the captures (in ${TMPDIR:-/tmp}/crapvpn-ws.*).
#
# As root: Wireshark 4.0 runs Lua scripts for root only when
# run_user_scripts_when_superuser is true in init.lua (Debian's is); the
# first test says so if the plugin did not load.
#
# Prints "ok - ..." / "not ok - ..." lines and ends with tests/lib/tap.sh's
# summary ("N skipped", then "N passed, N failed"); exits 1 if anything
# failed.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
LUA=$HERE/crapvpn.lua
TSHARK=${TSHARK:-tshark}
# ok, fail and skip: tests/lib/tap.sh's (a results file of our own).
# shellcheck source=tests/lib/tap.sh
. "$HERE/../../tests/lib/tap.sh"
# shellcheck source=tests/lib/veth.sh
. "$HERE/../../tests/lib/veth.sh"
tap_init
finish() {
	tap_summary
	exit
}

CAPTURE=
if [ "${1:-}" = --capture ]; then
	[ $# -ge 3 ] || { sed -n '5,7s/^# //p' "$0" >&2; exit 2; }
	CAPTURE=$2 CAPKEY=$3 CAPMIN=${4:-1}
	shift $(($# < 4 ? $# : 4))
	WANT=("$@")
	set --
fi

if ! command -v "$TSHARK" >/dev/null; then
	fail "tshark is installed (apt-get install tshark; tests/setup-host.sh)"
	finish
fi
DIR=$(mktemp -d "${TMPDIR:-/tmp}/crapvpn-ws.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
ERR=$DIR/stderr
# A HOME of its own: no personal preferences (a key set in the GUI) and
# no personal copy of the plugin (~/.local/lib/wireshark/plugins) count.
export HOME=$DIR/home
unset XDG_CONFIG_HOME
mkdir -p "$HOME"

XLUA=(-X lua_script:"$LUA")
ts() {	# tshark with the plugin; its stderr goes to $ERR
	"$TSHARK" -n "${XLUA[@]}" "$@" 2>>"$ERR"
}
tsg() {	# tshark -G WHAT with the plugin (-G must come first)
	"$TSHARK" -G "$1" "${XLUA[@]}" 2>>"$ERR"
}

echo "# $("$TSHARK" --version 2>/dev/null | head -n 1)"

# A copy installed where Wireshark loads global Lua plugins (make install,
# crapvpn-tools) loads first, and -X would fail to register the protocol
# again: test the installed copy if it is this one, else fail.
gdir=$("$TSHARK" -G folders 2>/dev/null | sed -n 's/^Global Lua Plugins:\s*//p')
if [ -n "$gdir" ] && [ -e "$gdir/crapvpn.lua" ]; then
	if cmp -s "$gdir/crapvpn.lua" "$LUA"; then
		echo "# testing the installed $gdir/crapvpn.lua (the same file)"
		XLUA=()
	else
		fail "$gdir/crapvpn.lua is this one (it loads instead of $LUA)"
		finish
	fi
fi
# The plugin loads: its protocol and fields are registered.
if tsg fields | grep -q "	crapvpn.type	FT_UINT16	crapvpn	" &&
   ! grep -q "Lua: Error" "$ERR"; then
	ok "crapvpn.lua loads: crapvpn.type is registered"
else
	why=
	[ "$(id -u)" -eq 0 ] && why=" (as root: is run_user_scripts_when_superuser true in $("$TSHARK" -G folders 2>/dev/null | sed -n 's/^Global configuration:\s*//p')/init.lua?)"
	fail "crapvpn.lua loads: crapvpn.type is registered$why"
	sed 's/^/#   /' "$ERR"
	finish
fi
# Not for --capture: every start of tshark takes long in the test VM.
if [ -z "$CAPTURE" ]; then
	tsg defaultprefs >"$DIR/prefs"
	for p in key port zero_is_ethernet; do
		grep -q "^#crapvpn\.$p:" "$DIR/prefs" && ok "preference crapvpn.$p exists" ||
			fail "preference crapvpn.$p exists"
	done
fi

# check_capture NAME PCAP KEY MIN: a capture of good traffic decodes. The
# type and frame.protocols of each CrapVPN datagram go to $DIR/NAME.kinds.
BADEXPERT="crapvpn.short or crapvpn.bad_magic or crapvpn.bad_length or
	crapvpn.empty or crapvpn.type_mismatch or crapvpn.unknown_type or
	crapvpn.not_ip or crapvpn.inner_error or crapvpn.no_key or crapvpn.bad_key"
check_capture() {
	local name=$1 pcap=$2 key=$3 min=$4 n bad
	ts -o "crapvpn.key:$key" -r "$pcap" -Y crapvpn -T fields \
		-e crapvpn.type -e frame.protocols >"$DIR/$name.kinds"
	n=$(wc -l <"$DIR/$name.kinds")
	[ "$n" -ge "$min" ] && ok "$name: $n CrapVPN datagrams (at least $min)" ||
		fail "$name: $n CrapVPN datagrams (at least $min)"
	# A wrong checksum inside: decrypted with a (partly) wrong key.
	bad=$(ts -o "crapvpn.key:$key" -o ip.check_checksum:TRUE -r "$pcap" \
		-T fields -e frame.number -Y \
		"crapvpn and ($BADEXPERT or !crapvpn.decrypted or
		 !(frame.protocols matches \":crapvpn:(ip|ipv6|eth)(:|\$)\") or
		 ip.checksum.status == 0 or icmp.checksum.status == 0 or
		 icmpv6.checksum.status == 0)") || bad="(tshark failed: $?)"
	[ -z "$bad" ] && ok "$name: all decrypted to IP or Ethernet, checksums good, no expert info" ||
		fail "$name: all decrypted to IP or Ethernet, checksums good, no expert info (frames $(echo $bad))"
	bad=$(ts -o "crapvpn.key:$key" -r "$pcap" -Y _ws.lua.error -T fields \
		-e frame.number) || bad="(tshark failed: $?)"
	[ -z "$bad" ] && ok "$name: -Y _ws.lua.error matches nothing" ||
		fail "$name: -Y _ws.lua.error matches nothing (frames $(echo $bad))"
}

if [ -n "$CAPTURE" ]; then
	name=$(basename "$CAPTURE")
	check_capture "$name" "$CAPTURE" "$CAPKEY" "$CAPMIN"
	if [ ${#WANT[@]} -gt 0 ]; then
		for w in "${WANT[@]}"; do
			read -r wtype wunder winner <<<"$w"
			awk -F '\t' -v t="$wtype" \
				-v p="eth:ethertype:$wunder:udp:crapvpn:$winner" \
				'$1 == t && ($2 == p || index($2, p ":") == 1) { f = 1 }
				 END { exit !f }' "$DIR/$name.kinds" &&
				ok "$name: a datagram of type $wtype over $wunder holding $winner" ||
				fail "$name: a datagram of type $wtype over $wunder holding $winner"
		done
		sort "$DIR/$name.kinds" | uniq -c | sed 's/^/#   /'
	fi
	finish
fi

if python3 "$HERE/mkpcaps.py" "$DIR" ${1:+"$1"} >"$DIR/mkpcaps.log" 2>&1; then
	ok "captures written ($(sed -n 's/^# vectors: //p' "$DIR/mkpcaps.log"))"
else
	fail "captures written"
	sed 's/^/#   /' "$DIR/mkpcaps.log"
	finish
fi

FIELDS=(frame.number crapvpn.type crapvpn.length ip.src ipv6.src eth.src
	icmp.type icmpv6.type crapvpn.decrypted
	crapvpn.no_key crapvpn.bad_key crapvpn.short crapvpn.bad_magic
	crapvpn.bad_length crapvpn.empty crapvpn.type_mismatch
	crapvpn.unknown_type crapvpn.not_ip crapvpn.inner_error)
eargs=()
for f in "${FIELDS[@]}"; do eargs+=(-e "$f"); done

# Every case: the fields of every frame with crapvpn in it, the last
# occurrence of each (the inner packet's, where it has one), exactly.
while IFS='|' read -r name pcap opts expect; do
	oargs=()
	IFS=';' read -r -a os <<<"$opts"
	for o in "${os[@]}"; do oargs+=(-o "$o"); done
	: >"$ERR"
	ts "${oargs[@]}" -r "$pcap" -Y crapvpn -T fields -E occurrence=l \
		"${eargs[@]}" >"$DIR/$name.out"
	n=$(wc -l <"$expect")
	if cmp -s "$expect" "$DIR/$name.out"; then
		ok "$name: $n frames decode as expected"
	else
		fail "$name: $n frames decode as expected"
		echo "#   fields: ${FIELDS[*]}"
		diff "$expect" "$DIR/$name.out" | cut -c1-300 | head -n 20 |
			sed 's/^/#   /'
	fi
	if grep -q "Lua: Error\|lua_script" "$ERR"; then
		fail "$name: no Lua error on stderr"
		sed 's/^/#   /' "$ERR" | head -n 10
	fi
	lerr=$(ts "${oargs[@]}" -r "$pcap" -Y _ws.lua.error -T fields \
		-e frame.number) || lerr="(tshark failed: $?)"
	if [ -z "$lerr" ] && ! grep -q "_ws.lua.error" "$ERR"; then
		ok "$name: -Y _ws.lua.error matches nothing"
	else
		fail "$name: -Y _ws.lua.error matches nothing (frames: $(echo $lerr))"
	fi
done <"$DIR/cases"

# Live: two userspace peers (type 0) in network namespaces, captured on
# the underlay. MTU 4000 inside: a 3000-byte ping leaves as IP fragments.
live() {	# live NAME PEERFLAGS UA UB PLEN
	local name=$1 flags=$2 ua=$3 ub=$4 plen=$5 a=cvwsA$$ b=cvwsB$$
	local pcap=$DIR/live-$name.pcap key=0123456789abcdef99 pids=() out
	veth_pair $a $b "$ua" "$ub" "$plen" ${flags:+nodad} ||
		{ fail "$name: namespaces joined by veth"; return; }
	ip netns exec $a tcpdump -q -U -i va -w "$pcap" udp 2>"$DIR/tcpdump.err" &
	pids+=($!)
	for _ in $(seq 50); do	# until it listens, at most 5 s
		grep -q "listening on" "$DIR/tcpdump.err" && break
		sleep 0.1
	done
	ip netns exec $a $PEER $flags --mtu 4000 -k $key -p "$ub" 10.66.0.1 \
		10.66.0.2 2>/dev/null &
	pids+=($!)
	ip netns exec $b $PEER $flags --mtu 4000 -k $key -p "$ua" 10.66.0.2 \
		10.66.0.1 2>/dev/null &
	pids+=($!)
	local up=0
	for _ in $(seq 50); do
		ip -n $a link show crap0 2>/dev/null | grep -q ',UP' &&
			ip -n $b link show crap0 2>/dev/null | grep -q ',UP' && { up=1; break; }
		sleep 0.1
	done
	ip -n $a addr add fd66::1/64 dev crap0 nodad 2>/dev/null
	ip -n $b addr add fd66::2/64 dev crap0 nodad 2>/dev/null
	sleep 0.5
	ip netns exec $a ping -q -c 3 -i 0.2 -W 2 10.66.0.2 >/dev/null 2>&1 &&
	ip netns exec $a ping -q -c 3 -i 0.2 -W 2 -s 3000 10.66.0.2 >/dev/null 2>&1 &&
	ip netns exec $a ping -q -c 3 -i 0.2 -W 2 -s 3000 fd66::2 >/dev/null 2>&1
	local rc=$?
	sleep 0.5
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait "${pids[@]}" 2>/dev/null
	ip netns del $a; ip netns del $b
	[ $up -eq 1 ] && [ $rc -eq 0 ]
	if [ $? -ne 0 ]; then
		fail "$name: the peers ping each other (up $up, ping status $rc)"
		return
	fi
	check_capture "live-$name" "$pcap" "$key" 6
	# Requests and replies (each at least once: the peers lose a packet
	# now and then), IPv4 and IPv6 inside, type 0, the big ones
	# reassembled from fragments.
	out=$(ts -o "crapvpn.key:$key" -r "$pcap" -T fields -E occurrence=l \
		-Y "crapvpn and (icmp.type == 0 or icmp.type == 8 or
		     icmpv6.type == 128 or icmpv6.type == 129)" \
		-e crapvpn.type -e crapvpn.length -e ip.src -e ipv6.src \
		-e icmp.type -e icmpv6.type |
		awk -F '\t' '{ print $1, $2, ($5 != "" ? $3 " " $5 : $4 " " $6) }' |
		sort | uniq -c | awk '{ $1 = "1+"; print }')
	want="1+ 0x0000 3028 10.66.0.1 8
1+ 0x0000 3028 10.66.0.2 0
1+ 0x0000 3048 fd66::1 128
1+ 0x0000 3048 fd66::2 129
1+ 0x0000 84 10.66.0.1 8
1+ 0x0000 84 10.66.0.2 0"
	if [ "$out" = "$want" ]; then
		ok "live-$name: echo requests and replies, IPv4 and IPv6 inside, type 0"
	else
		fail "live-$name: echo requests and replies, IPv4 and IPv6 inside, type 0"
		diff <(echo "$want") <(echo "$out") | sed 's/^/#   /'
	fi
	local frags
	frags=$(ts -r "$pcap" -Y "ip.flags.mf == 1 or ipv6.fraghdr.more == 1" \
		-T fields -e frame.number | wc -l)
	[ "$frags" -gt 0 ] && ok "live-$name: IP fragments in the capture ($frags)" ||
		fail "live-$name: IP fragments in the capture"
}

PEER="python3 $HERE/../../tests/userspace/crapvpn-userspace.py"
if [ "$(id -u)" -ne 0 ] || ! command -v tcpdump >/dev/null ||
   [ ! -e "$HERE/../../tests/userspace/crapvpn-userspace.py" ] ||
   ! ip tuntap add dev cvwsprobe$$ mode tun 2>/dev/null; then
	skip "live captures: they need root, TUN, netns and tcpdump"
else
	ip tuntap del dev cvwsprobe$$ mode tun
	live "ipv4-underlay" "" 10.67.0.1 10.67.0.2 24
	live "ipv6-underlay" "-6" fd67::1 fd67::2 64
fi

# The tree: the type by its EtherType name, the "Decrypted" data source.
out=$(ts -o crapvpn.key:c0ffee0123 -r "$DIR/handmade-v4.pcap" -V -x -O crapvpn)
grep -q "Type: IPv4 (0x0800)" <<<"$out" && ok "type shown as IPv4 (0x0800)" ||
	fail "type shown as IPv4 (0x0800)"
grep -q "Type: Transparent Ethernet bridging (0x6558)" <<<"$out" &&
	ok "type shown as Transparent Ethernet bridging (0x6558)" ||
	fail "type shown as Transparent Ethernet bridging (0x6558)"
grep -q "^Decrypted (84 bytes):" <<<"$out" && ok "a \"Decrypted\" data source" ||
	fail "a \"Decrypted\" data source"
out=$(ts -r "$DIR/handmade-v4.pcap" -Y crapvpn.no_key -T fields -e _ws.expert.message | head -n 1)
grep -q "No key set" <<<"$out" && ok "without a key, expert info says so" ||
	fail "without a key, expert info says so ($out)"

finish
