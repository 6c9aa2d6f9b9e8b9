#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tests the Wireshark dissector (crapvpn.lua) headless, with tshark:
#
#   tools/wireshark/test.sh [VECTORS]
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
# As root: Wireshark 4.0 runs Lua scripts for root only when
# run_user_scripts_when_superuser is true in init.lua (Debian's is); the
# first test says so if the plugin did not load.
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed" at the
# end; exits 1 if anything failed.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
LUA=$HERE/crapvpn.lua
TSHARK=${TSHARK:-tshark}
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $*"; }
notok() { fail=$((fail + 1)); echo "not ok - $*"; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

if ! command -v "$TSHARK" >/dev/null; then
	notok "tshark is installed (apt-get install tshark; tests/setup-host.sh)"
	finish
fi
DIR=$(mktemp -d "${TMPDIR:-/tmp}/crapvpn-ws.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
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
		notok "$gdir/crapvpn.lua is this one (it loads instead of $LUA)"
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
	notok "crapvpn.lua loads: crapvpn.type is registered$why"
	sed 's/^/#   /' "$ERR"
	finish
fi
for p in key port zero_is_ethernet; do
	tsg defaultprefs | grep -q "^#crapvpn\.$p:" && ok "preference crapvpn.$p exists" ||
		notok "preference crapvpn.$p exists"
done

if python3 "$HERE/mkpcaps.py" "$DIR" ${1:+"$1"} >"$DIR/mkpcaps.log" 2>&1; then
	ok "captures written ($(sed -n 's/^# vectors: //p' "$DIR/mkpcaps.log"))"
else
	notok "captures written"
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
		notok "$name: $n frames decode as expected"
		echo "#   fields: ${FIELDS[*]}"
		diff "$expect" "$DIR/$name.out" | cut -c1-300 | head -n 20 |
			sed 's/^/#   /'
	fi
	if grep -q "Lua: Error\|lua_script" "$ERR"; then
		notok "$name: no Lua error on stderr"
		sed 's/^/#   /' "$ERR" | head -n 10
	fi
	lerr=$(ts "${oargs[@]}" -r "$pcap" -Y _ws.lua.error -T fields -e frame.number)
	if [ -z "$lerr" ] && ! grep -q "_ws.lua.error" "$ERR"; then
		ok "$name: -Y _ws.lua.error matches nothing"
	else
		notok "$name: -Y _ws.lua.error matches nothing (frames: $(echo $lerr))"
	fi
done <"$DIR/cases"

# The tree: the type by its EtherType name, the "Decrypted" data source.
out=$(ts -o crapvpn.key:c0ffee0123 -r "$DIR/handmade-v4.pcap" -V -x -O crapvpn)
grep -q "Type: IPv4 (0x0800)" <<<"$out" && ok "type shown as IPv4 (0x0800)" ||
	notok "type shown as IPv4 (0x0800)"
grep -q "Type: Transparent Ethernet bridging (0x6558)" <<<"$out" &&
	ok "type shown as Transparent Ethernet bridging (0x6558)" ||
	notok "type shown as Transparent Ethernet bridging (0x6558)"
grep -q "^Decrypted (84 bytes):" <<<"$out" && ok "a \"Decrypted\" data source" ||
	notok "a \"Decrypted\" data source"
out=$(ts -r "$DIR/handmade-v4.pcap" -Y crapvpn.no_key -T fields -e _ws.expert.message | head -n 1)
grep -q "No key set" <<<"$out" && ok "without a key, expert info says so" ||
	notok "without a key, expert info says so ($out)"

finish
