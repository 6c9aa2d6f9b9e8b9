#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of crapvpn(8) and of the ip link plugin link_crapvpn.so.
# They need no kernel module: what would go to the kernel is answered by
# fake-rtnl.so (an LD_PRELOAD library built here from fake-rtnl.c), which
# also prints the requests ($D: FAKE_RTNL_TRACE) and records them, so that
# the bytes of the packed attributes can be checked. As root, the script then runs itself again in
# a new network namespace (unshare -n) and tries to create a crapvpn device:
# where the kernel has no crapvpn link type that is refused cleanly and the
# run ends; where it has (the VM with the module loaded), a live round trip
# of add/show/set/del, ip link and the compatibility mode follows. No device
# is ever made outside that private namespace.
#
#   tests/tools/test-cli.sh      (after make -C tools; make -C tools check)
#   CRAPVPN=/usr/sbin/crapvpn PLUGIN_DIR=/usr/lib/x86_64-linux-gnu/ip tests/tools/test-cli.sh
#
# Prints failures and skips as they come (passes are only counted) and ends
# with tests/lib/tap.sh's summary: the skips, "N skipped", "N passed, N
# failed"; exits 1 on failure.

set -u
HERE=$(cd "$(dirname "$0")" && pwd) || exit 1
cd "$HERE/../../tools" || exit 1
TOOLS=$PWD
CRAPVPN=${CRAPVPN:-$TOOLS/crapvpn}
PLUGIN_DIR=${PLUGIN_DIR:-$TOOLS}
IP=${IP:-$(command -v ip || echo /usr/sbin/ip)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ok, fail and skip are tests/lib/tap.sh's; passes are counted, not printed.
# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"
TAP_QUIET=1
out="" rc=0

# bad MSG [OUTPUT]: fail MSG, and show OUTPUT indented
bad() { fail "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /'; }

# run CMD...: output (stdout and stderr) in $out, exit status in $rc
run() {
	out=$(timeout 20 "$@" 2>&1 </dev/null)
	rc=$?
}

# t NAME RC REGEX CMD...: exit status RC ("!0": any failure), output
# matching the extended REGEX ("" matches anything)
t() {
	local name=$1 want=$2 re=$3
	shift 3
	run "$@"
	if [ "$want" = "!0" ]; then
		[ "$rc" -ne 0 ] || { bad "$name: exit 0, wanted failure" "$out"; return; }
	elif [ "$rc" -ne "$want" ]; then
		bad "$name: exit $rc, wanted $want" "$out"
		return
	fi
	if [ -n "$re" ] && ! grep -Eq -- "$re" <<<"$out"; then
		bad "$name: output does not match /$re/" "$out"
		return
	fi
	ok
}

# no NAME STRING: the last output must not contain STRING
no() {
	if grep -Fqi -- "$2" <<<"$out"; then bad "$1: output shows \"$2\"" "$out"; else ok; fi
}

# json_like_ip NAME [DEV]: crapvpn show --json and ip -j -d link show agree
# on every member they share (ip's "operstate" is our "state") and leave
# out the same unset ones.
json_like_ip() {
	local name=$1
	shift
	if ! command -v python3 >/dev/null; then
		skip "$name: no python3 to compare the JSON"
		return
	fi
	# (Unquoted: the callers may give "env VAR=... PROG".)
	$C show --json "$@" >"$tmp/mine.json" 2>&1 &&
		$IP -j -d link show "$@" >"$tmp/ip.json" 2>&1 || {
		bad "$name: show or ip failed" "$(cat "$tmp/mine.json" "$tmp/ip.json")"
		return
	}
	run python3 - "$tmp/mine.json" "$tmp/ip.json" <<'PY'
import json, sys
mine = json.load(open(sys.argv[1]))
ip = {d["ifname"]: d for d in json.load(open(sys.argv[2]))}
assert mine, "no device shown"
for m in mine:
    i = ip[m["ifname"]]
    info = i.get("linkinfo", {}).get("info_data", {})
    want = {"ifname": i["ifname"], "ifindex": i["ifindex"]}
    if "mtu" in i:
        want["mtu"] = i["mtu"]
    if "operstate" in i:
        want["state"] = i["operstate"]
    for k in ("peer", "peer_port", "port", "shared", "local", "key_len"):
        if k in info:
            want[k] = info[k]
    got = {k: v for k, v in m.items() if k not in ("stats64", "drops")}
    assert got == want, (got, want)
    assert None not in got.values(), got
PY
	if [ "$rc" -eq 0 ]; then ok; else bad "$name" "$out"; fi
}

# With the module loaded (in the VM), the real thing: run as
# "unshare -n test-cli.sh --live" below, in a network namespace of its own.
live_tests() {
	local K=0123456789abcdef0123 I="env IP_LIB_DIR=$PLUGIN_DIR $IP"

	echo "== live kernel, in a private network namespace"
	"$IP" link set lo up
	printf '0a0b0c0d0e\n' >"$tmp/key"
	run "$C" add cvl0 key "$K" peer 127.0.0.1 peer-port 40001 port 40002
	if [ "$rc" -ne 0 ]; then
		if grep -q 'Operation not supported' <<<"$out"; then
			ok	# reached the kernel, which refused cleanly
			skip "live kernel tests: this kernel has no crapvpn link type"
		else
			bad "live: add" "$out"
		fi
		return
	fi
	ok
	t "live: show"         0 'peer 127\.0\.0\.1 peer-port 40001 port 40002.*key-len 10$' "$C" show cvl0
	t "live: show state"   0 '^cvl0: state DOWN' "$C" show cvl0
	t "live: show counters" 0 'transfer: 0 B received \(0 packets\), 0 B sent \(0 packets\)' "$C" show cvl0
	t "live: show --json"  0 '"ifname":"cvl0",.*"state":"DOWN",.*"peer_port":40001,"port":40002,"key_len":10,"stats64":\{"rx":\{"bytes":0,"packets":0,' "$C" show --json
	t "live: show --json drops" 0 '"drops":\{"rx_drop_short":0,.*"tx_drop_[a-z_]*":0\}' "$C" show --json
	no "live: show --json" "$K"
	t "live: set"          0 '' "$C" set cvl0 peer-port 40003
	t "live: set kept the rest" 0 'peer 127\.0\.0\.1 peer-port 40003 port 40002.*key-len 10$' "$C" show cvl0
	t "live: set key-file" 0 '' "$C" set cvl0 key-file "$tmp/key"
	t "live: new key length" 0 'key-len 5$' "$C" show cvl0
	t "live: ip -d"        0 'crapvpn peer 127\.0\.0\.1 peer-port 40003 port 40002 .*key-len 5' $I -d link show cvl0
	t "live: ip -d -j"     0 '"info_kind":"crapvpn","info_data":\{"peer":"127\.0\.0\.1","peer_port":40003,"port":40002' \
		$I -d -j link show cvl0
	t "live: ip set"       0 '' $I link set cvl0 type crapvpn port 40004
	t "live: ip set kept the rest" 0 'peer 127\.0\.0\.1 peer-port 40003 port 40004.*key-len 5$' "$C" show cvl0
	t "live: set local"    0 '' "$C" set cvl0 local 127.0.0.1
	t "live: shows local"  0 'port 40004 local 127\.0\.0\.1 key-len 5$' "$C" show cvl0
	t "live: local any"    0 '' "$C" set cvl0 local 0.0.0.0
	t "live: shows any"    0 'port 40004 local any key-len 5$' "$C" show cvl0
	t "live: json any"     0 '"port":40004,"key_len":5' "$C" show -j cvl0
	no "live: json any" '"local"'
	json_like_ip "live: show -j as ip -j -d" cvl0
	t "live: extack"       1 'set cvl0: crapvpn: the peer must be a unicast address \(Invalid argument\)' \
		"$C" set cvl0 peer 224.0.0.1
	t "live: extack family" 1 'set cvl0: .*same family' "$C" set cvl0 local ::1
	t "live: ip extack"    '!0' 'unicast' $I link set cvl0 type crapvpn peer 224.0.0.1
	t "live: unchanged"    0 'peer 127\.0\.0\.1 peer-port 40003 port 40004 local any key-len 5$' "$C" show cvl0
	t "live: add exists"   1 'exists already' "$C" add cvl0 key 12
	t "live: del"          0 '' "$C" del cvl0
	t "live: gone"         1 'show cvl0: no such device' "$C" show cvl0
	t "live: del lo"       1 'del lo: not a crapvpn device' "$C" del lo
	t "live: add, no key"  1 '^crapvpn: add cvl9: ' "$C" add cvl9 peer 127.0.0.1 port 40009
	"$C" del cvl9 >/dev/null 2>&1
	t "live: ip add"       0 '' $I link add cvl1 type crapvpn key 12ab peer ::1 peer-port 40005 port 40006
	t "live: ip add shows" 0 'crapvpn peer ::1 peer-port 40005 port 40006 .*key-len 2' $I -d link show cvl1
	t "live: ip del"       0 '' $I link del cvl1
	t "live: compat"       0 '^crapvpn: created crapvpn0 with 10\.9\.0\.1 peer 10\.9\.0\.2, tunnel to 127\.0\.0\.1 port 1337, up$' \
		"$C" -k "$K" -p 127.0.0.1 10.9.0.1 10.9.0.2
	no "live: compat" "$K"
	t "live: compat address" 0 'inet 10\.9\.0\.1 peer 10\.9\.0\.2/32' "$IP" address show dev crapvpn0
	t "live: compat state" 0 '^crapvpn0: state (UNKNOWN|UP)' "$C" show crapvpn0
	t "live: compat ports" 0 'peer 127\.0\.0\.1 peer-port 1337 port 1337.*key-len 10$' "$C" show crapvpn0
	t "live: compat again" 1 'device crapvpn0 exists already' "$C" -k 12 -p 127.0.0.1 10.9.0.1 10.9.0.2
	t "live: compat del"   0 '' "$C" del crapvpn0
}

C=$CRAPVPN
tap_init
if [ "${1:-}" = --live ]; then
	live_tests
	tap_summary
	exit
fi
if [ ! -x "$C" ]; then
	fail "no $C: run make -C tools first"
	tap_summary
	exit
fi
# The kernel's side, for everything that sends a request: fake-rtnl.so.
if ! "${CC:-cc}" -std=gnu11 -O2 -I.. -shared -fPIC -o "$tmp/fake-rtnl.so" \
	"$HERE/fake-rtnl.c" -ldl >"$tmp/cc.err" 2>&1; then
	bad "fake-rtnl.so builds" "$(cat "$tmp/cc.err")"
	tap_summary
	exit
fi
FAKE=$tmp/fake-rtnl.so
F="env LD_PRELOAD=$FAKE"
# $D CMD: CMD against the fake, each request it sends printed (key by length)
D="env LD_PRELOAD=$FAKE FAKE_RTNL_TRACE=1"

echo "== crapvpn: help, version, usage errors"
t "--help"            0 '^Usage: crapvpn'      "$C" --help
t "-h"                0 'Commands:'            "$C" -h
t "help"              0 'key-file FILE'        "$C" help
t "help mentions compat" 0 '-k HEXKEY -p PEER_HOST' "$C" --help
t "help warns"        0 'obfuscation, not security' "$C" --help
t "help: up and down" 0 'up NAME\|FILE .*/etc/crapvpn/NAME\.conf' "$C" --help
t "--version"         0 '^crapvpn 1\.0\.0$'    "$C" --version
t "no arguments"      2 'no command given'     "$C"
t "no --dry-run"      2 'unknown option "--dry-run"' "$C" --dry-run add cv9 key 12
t "unknown command"   2 'unknown command "frob"' "$C" frob
t "unknown option"    2 'unknown option "--frob"' "$C" --frob
t "stray hex command" 2 'hex string, not shown' "$C" 00112233445566778899
no "stray hex command" 00112233445566778899

echo "== crapvpn: genkey"
t "genkey: 32 bytes"  0 '^[0-9a-f]{64}$'       "$C" genkey
k1=$out
t "genkey 1"          0 '^[0-9a-f]{2}$'        "$C" genkey 1
t "genkey 4096"       0 '^[0-9a-f]{8192}$'     "$C" genkey 4096
t "genkey: another key each time" 0 '^[0-9a-f]{64}$' "$C" genkey
[ "$out" != "$k1" ] && ok || bad "genkey: the same key twice" "$out"
for n in 0 4097 x -1 1.5 ""; do
	t "genkey \"$n\""    2 "genkey: key length \"$n\"" "$C" genkey "$n"
done
t "genkey: two lengths" 2 'genkey: unexpected argument "2"' "$C" genkey 1 2
"$C" genkey >"$tmp/genkey.key"
t "genkey output is a key-file" 0 'IFLA_CRAPVPN_KEY' \
	$D "$C" add cv9 key-file "$tmp/genkey.key" peer 192.0.2.1

echo "== crapvpn: device names"
t "add: no DEV"       2 'add: missing device name'   "$C" add
t "set: no DEV"       2 'set: missing device name'   "$C" set
t "del: no DEV"       2 'del: missing device name'   "$C" del
t "DEV 16 chars"      1 'too long \(at most 15'      $D "$C" add abcdefghijklmnop key 12
t "DEV 15 chars"      0 'IFLA_IFNAME "abcdefghijklmno"' $D "$C" add abcdefghijklmno key 12
t "DEV empty"         1 'empty interface name'       $D "$C" add "" key 12
t "DEV with /"        1 "contains '/'"               $D "$C" add a/b key 12
t "DEV with :"        1 "contains '/', ':'"          $D "$C" del a:b
t "DEV with space"    1 'white space'                $D "$C" show "a b"
t "DEV .."            1 'not interface names'        $D "$C" del ..
t "del: extra arg"    2 'unexpected argument "x"'    $D "$C" del cv0 x
t "show: two DEVs"    2 'unexpected argument "b"'    $D "$C" show a b
t "show: bad option"  2 'unknown option "--yaml"'    $D "$C" show --yaml
t "DEV with %"        1 "contains '%'"               $D "$C" add 'cv%d' key 12
t "DEV -x"            2 "cannot start with '-'"      $D "$C" add -x key 12
t "DEV hex, too long" 1 'hex string, not shown.*too long' $D "$C" add 00112233aabbccddee key 12
no "DEV hex, too long" 00112233aabbccddee
for c in "add --help" "set -h" "del --help" "show -j --help"; do
	t "$c"        0 '^Usage: crapvpn'            $D "$C" $c
done

echo "== crapvpn: keys"
K=0123456789abcdef0123
t "key: no value"     2 '"key" needs a value'        $D "$C" add cv9 key
t "key: not hex"      1 'key: not a hex string'      $D "$C" add cv9 key "${K}zz"
no "key: not hex" "$K"
t "key: odd length"   1 'odd number of hex digits'   $D "$C" add cv9 key "${K}a"
no "key: odd length" "$K"
t "key: empty"        1 'key: empty'                 $D "$C" add cv9 key ""
t "key: only 0x"      1 'key: empty'                 $D "$C" add cv9 key 0x
t "key: 0x prefix"    0 'KEY \(3 bytes, not shown\)' $D "$C" add cv9 key 0xABcdEF
no "key: 0x prefix" abcdef
t "key: 0X prefix"    0 'KEY \(1 bytes'              $D "$C" add cv9 key 0X7f
t "key: upper case"   0 'KEY \(10 bytes'             $D "$C" add cv9 key "${K^^}"
key4096=$(head -c 4096 /dev/zero | od -An -v -tx1 | tr -d ' \n')
t "key: 4096 bytes"   0 'KEY \(4096 bytes'           $D "$C" add cv9 key "$key4096"
t "key: 4097 bytes"   1 'key: too long'              $D "$C" add cv9 key "${key4096}00"
t "key: twice"        2 'key is given twice'         $D "$C" add cv9 key 12 key 34
t "key and key-file"  2 'key is given twice'         $D "$C" add cv9 key 12 key-file /dev/null
t "unknown option"    2 'unknown option "kye"'       $D "$C" add cv9 kye 12
t "stray hex option"  2 'hex string, not shown'      $D "$C" add cv9 peer 192.0.2.1 "$K"
no "stray hex option" "$K"
t "stray 0x word"     2 'unknown option "0xfrob"'    $D "$C" add cv9 0xfrob
# A key in the place of another value is not echoed either (all digits:
# no DNS query for peer and local).
H=0011223344556677
for o in key-file peer local port peer-port mtu; do
	t "key as $o"     1 "$o.*\(a hex string, not shown\)" $D "$C" add cv9 "$o" "$H"
	no "key as $o" "$H"
done
t "key as key-file, a-f" 1 'cannot open \(a hex string' $D "$C" add cv9 key-file 00112233aabbccdd
no "key as key-file, a-f" 00112233aabbccdd
# Nor is one with letters a-f sent to DNS as a host name.
for o in peer local; do
	t "key as $o, a-f" 1 "$o \"\\(a hex string, not shown\\)\": looks like a key, so it was not looked up" \
		$D "$C" add cv9 "$o" 0x00112233aabbccdd
	no "key as $o, a-f" 00112233aabbccdd
done
t "compat: key as -p, a-f" 1 '-p "\(a hex string, not shown\)": looks like a key' \
	"$C" -k 12 -p 00112233aabbccdd 10.0.0.1 10.0.0.2
t "peer: hex labels with dots are a host name" 1 'peer "deadbeef00\.invalid": cannot resolve' \
	$D "$C" add cv9 peer deadbeef00.invalid

printf '  %s\n%s  \n\n' "0x0A0b0c" "0d0e" >"$tmp/key"
head -c 4096 /dev/urandom | od -An -v -tx1 >"$tmp/key4096"	# spaces, newlines
printf '%s\n' "${K}zz" >"$tmp/badkey"
t "key-file"          0 'KEY \(5 bytes'              $D "$C" add cv9 key-file "$tmp/key"
t "key-file od -tx1"  0 'KEY \(4096 bytes'           $D "$C" add cv9 key-file "$tmp/key4096"
t "key-file missing"  1 'cannot open .*nokey: No such file' $D "$C" add cv9 key-file "$tmp/nokey"
t "key-file dir"      1 'cannot read'                $D "$C" add cv9 key-file "$tmp"
t "key-file bad hex"  1 'key-file: not a hex string' $D "$C" add cv9 key-file "$tmp/badkey"
no "key-file bad hex" "$K"
t "key-file empty"    1 'key-file: empty'            $D "$C" add cv9 key-file /dev/null
t "key-file no value" 2 '"key-file" needs a value'   $D "$C" add cv9 key-file
out=$(printf 'aabbcc\n' | $D "$C" add cv9 key-file - 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q 'KEY (3 bytes' <<<"$out"; then ok; else bad "key-file - (stdin)" "$out"; fi

echo "== crapvpn: ports, mtu, addresses"
for p in 0 65536 -1 +5 " 5" 5x "" 99999999999999999999; do
	t "port '$p'"     1 'port ".*": (out of range|not a decimal)' $D "$C" add cv9 port "$p"
done
t "peer-port 0"       1 'peer-port "0": out of range \(1-65535\)' $D "$C" add cv9 peer-port 0
t "peer-port abc"     1 'peer-port "abc": not a decimal number'   $D "$C" set cv0 peer-port abc
t "port 1"            0 'IFLA_CRAPVPN_PORT 1$'       $D "$C" add cv9 port 1
t "port 65535"        0 'IFLA_CRAPVPN_PORT 65535$'   $D "$C" add cv9 port 65535
t "peer-port 4000"    0 'IFLA_CRAPVPN_PEER_PORT 4000$' $D "$C" set cv0 peer-port 4000
t "port twice"        2 '"port" is given twice'      $D "$C" add cv9 port 1 port 2
t "port: no value"    2 '"port" needs a value'       $D "$C" add cv9 port
t "mtu 0"             1 'mtu "0": out of range'      $D "$C" add cv9 mtu 0
t "mtu 65536"         1 'mtu "65536": out of range'  $D "$C" add cv9 mtu 65536
t "mtu 1400"          0 'IFLA_MTU 1400$'             $D "$C" add cv9 mtu 1400
t "peer IPv4"         0 'IFLA_CRAPVPN_PEER 192\.0\.2\.2$' $D "$C" add cv9 peer 192.0.2.2
t "peer IPv6"         0 'IFLA_CRAPVPN_PEER6 2001:db8::2$' $D "$C" add cv9 peer 2001:db8::2
t "peer localhost"    0 'IFLA_CRAPVPN_PEER6? (127\.0\.0\.1|::1)$' $D "$C" add cv9 peer localhost
t "peer junk host"    1 'peer "no-such-host\.invalid": cannot resolve' $D "$C" add cv9 peer no-such-host.invalid
t "peer empty"        1 'peer "": empty address'     $D "$C" add cv9 peer ""
t "peer 1.2.3.4.5"    1 'peer "1\.2\.3\.4\.5": not a valid IPv4' $D "$C" add cv9 peer 1.2.3.4.5
t "peer 10.1"         1 'peer "10\.1": not a valid IPv4' $D "$C" add cv9 peer 10.1
# What inet_aton() takes, getaddrinfo() takes: 10.0x1 was 10.0.0.1.
for a in 10.0x1 0x7f.1 "127.1 x" 0x7f000001; do
	t "peer '$a'"     1 'not a valid IPv4 address'   $D "$C" add cv9 peer "$a"
done
t "peer 0x7f.1 shown" 1 'peer "0x7f\.1"'            $D "$C" add cv9 peer 0x7f.1
t "peer 2001:db8::g"  1 'not a valid IPv6 address'   $D "$C" add cv9 peer 2001:db8::g
t "peer [::1]"        1 'peer "\[::1\]"'             $D "$C" add cv9 peer '[::1]'
t "peer ::ffff:a.b.c.d" 0 'IFLA_CRAPVPN_PEER6 ::ffff:192\.0\.2\.1$' $D "$C" add cv9 peer ::ffff:192.0.2.1
t "peer twice"        2 '"peer" is given twice'      $D "$C" add cv9 peer ::1 peer ::2
t "local any"         0 'IFLA_CRAPVPN_LOCAL 0\.0\.0\.0$' $D "$C" add cv9 local 0.0.0.0
t "local :: + peer v4" 0 'IFLA_CRAPVPN_LOCAL6 ::$'   $D "$C" add cv9 local :: peer 192.0.2.1
t "local v6 + peer v4" 1 'different address families' $D "$C" add cv9 local 2001:db8::1 peer 192.0.2.1
t "local junk"        1 'local "no-such-host\.invalid"' $D "$C" set cv0 local no-such-host.invalid
t "set: nothing"      2 'set: nothing to change'     $D "$C" set cv0
t "set: mtu only"     0 'IFLA_INFO_KIND "crapvpn"'   $D "$C" set cv0 mtu 1300

echo "== crapvpn: the requests, as fake-rtnl.so prints them"
t "add: all options"  0 'RTM_NEWLINK flags ack create excl' \
	$D "$C" add cv9 key "$K" peer 192.0.2.2 peer-port 4000 port 5000 local 0.0.0.0 mtu 1400
for re in 'IFLA_IFNAME "cv9"' 'IFLA_MTU 1400' 'IFLA_INFO_KIND "crapvpn"' \
	  'IFLA_CRAPVPN_KEY \(10 bytes, not shown\)' 'IFLA_CRAPVPN_PEER 192\.0\.2\.2' \
	  'IFLA_CRAPVPN_PEER_PORT 4000' 'IFLA_CRAPVPN_PORT 5000' 'IFLA_CRAPVPN_LOCAL 0\.0\.0\.0'; do
	if grep -Eq "$re" <<<"$out"; then ok; else bad "add: all options: /$re/" "$out"; fi
done
no "add: all options" "$K"
t "add: mode l2"      0 'IFLA_CRAPVPN_MODE 1'        $D "$C" add cv9 key "$K" mode l2
t "add: mode l3"      0 'IFLA_CRAPVPN_MODE 0'        $D "$C" add cv9 key "$K" mode l3
t "add: mode l4"      2 'mode "l4": must be l3 or l2' $D "$C" add cv9 key "$K" mode l4
t "add: mode twice"   2 '"mode" is given twice'      $D "$C" add cv9 key "$K" mode l2 mode l3
t "set: only given"   0 'RTM_NEWLINK flags ack index 0' $D "$C" set cv0 port 7
if grep -Eq 'PEER|KEY|LOCAL|MTU' <<<"$out"; then bad "set: sends only what is given" "$out"; else ok; fi
t "del"               0 'RTM_DELLINK flags ack'      $D "$C" del cv0
t "show"              0 'RTM_GETLINK flags dump'     $D "$C" show --json
t "show DEV"          0 'IFLA_IFNAME "cv0"'          $D "$C" show cv0
t "delete: del"       0 'RTM_DELLINK flags ack'      $D "$C" delete cv0
t "list: show"        0 '^cv0: mtu 1400$'            $D "$C" list
t "genkey --help"     0 '^Usage: crapvpn'            "$C" genkey --help

echo "== crapvpn: compatibility mode"
t "compat: requests"  0 'created crapvpn0 with 10\.9\.0\.1 peer 10\.9\.0\.2, tunnel to 192\.0\.2\.9 port 1337, up' \
	$D "$C" -k "$K" -p 192.0.2.9 10.9.0.1 10.9.0.2
for re in 'IFLA_CRAPVPN_PEER_PORT 1337' 'IFLA_CRAPVPN_PORT 1337' \
	  'RTM_NEWADDR flags ack create excl family inet prefixlen 32' \
	  'IFA_LOCAL 10\.9\.0\.1' 'IFA_ADDRESS 10\.9\.0\.2' 'change 0x1 flags 0x1'; do
	if grep -Eq "$re" <<<"$out"; then ok; else bad "compat: requests: /$re/" "$out"; fi
done
no "compat: requests" "$K"
t "compat: IPv6, -i"  0 'created tun7 with fd00::1 peer fd00::2' \
	$D "$C" -k 12 -p 192.0.2.9 -i tun7 fd00::1 fd00::2
t "compat: prefix 128" 0 'inet6 prefixlen 128'       $D "$C" -k 12 -p ::1 fd00::1 fd00::2
t "compat: -kKEY"     0 'created crapvpn0'           $D "$C" -k12 -p ::1 10.0.0.1 10.0.0.2
t "compat: no -k"     2 '-k HEXKEY is required'      "$C" -p 192.0.2.9 10.9.0.1 10.9.0.2
t "compat: no -p"     2 '-p PEER_HOST is required'   "$C" -k 12 10.9.0.1 10.9.0.2
t "compat: -k no value" 2 'option -k needs a value'  "$C" -k
t "compat: -p no value" 2 'option -p needs a value'  "$C" -k 12 -p
t "compat: -x"        2 'unknown option -x'          "$C" -k 12 -x -p ::1 a b
t "compat: 1 address" 2 'expected LOCAL_IP and PEER_IP.*got 1 argument$' "$C" -k 12 -p ::1 10.0.0.1
t "compat: 3 addresses" 2 'got 3 arguments'          "$C" -k 12 -p ::1 10.0.0.1 10.0.0.2 10.0.0.3
t "compat: bad key"   1 '-k: key not a hex string'   "$C" -k "${K}zz" -p ::1 10.0.0.1 10.0.0.2
no "compat: bad key" "$K"
t "compat: odd key"   1 'odd number'                 "$C" -k abc -p ::1 10.0.0.1 10.0.0.2
t "compat: -k twice"  2 '-k is given twice'          "$C" -k 12 -k 34 -p ::1 10.0.0.1 10.0.0.2
t "compat: -p twice"  2 '-p is given twice'          $D "$C" -k 12 -p ::1 -p ::2 10.0.0.1 10.0.0.2
t "compat: -i twice"  2 '-i is given twice'          $D "$C" -k 12 -p ::1 -i a -i b 10.0.0.1 10.0.0.2
t "compat: -i %"      1 "contains '%'"               $D "$C" -k 12 -p ::1 -i 'cv%d' 10.0.0.1 10.0.0.2
t "compat: -i -x"     2 "cannot start with '-'"      $D "$C" -k 12 -p ::1 -i -x 10.0.0.1 10.0.0.2
t "compat: -p 10.0x1" 1 'not a valid IPv4 address'   $D "$C" -k 12 -p 10.0x1 10.0.0.1 10.0.0.2
for a in "-p $H 10.0.0.1 10.0.0.2" "-p ::1 $H 10.0.0.2" "-p ::1 10.0.0.1 $H"; do
	t "compat: key in $a" 1 '"\(a hex string, not shown\)"' $D "$C" -k 12 $a
	no "compat: key in $a" "$H"
done
t "compat: junk peer" 1 '-p "no-such-host\.invalid": cannot resolve' "$C" -k 12 -p no-such-host.invalid 10.0.0.1 10.0.0.2
t "compat: LOCAL_IP name" 1 'LOCAL_IP "localhost": not a numeric' "$C" -k 12 -p ::1 localhost 10.0.0.2
t "compat: PEER_IP bad" 1 'PEER_IP "10\.0\.0\.300"'  "$C" -k 12 -p ::1 10.0.0.1 10.0.0.300
t "compat: families"  1 'both be IPv4 or both IPv6'  "$C" -k 12 -p ::1 10.0.0.1 fd00::2
t "compat: -i too long" 1 'too long'                 "$C" -k 12 -p ::1 -i abcdefghijklmnop 10.0.0.1 10.0.0.2

echo "== crapvpn and ip against a fake rtnetlink (fake-rtnl.so)"

# hexbytes FILE: the file as one line of lower case hex
hexbytes() { od -An -v -tx1 "$1" | tr -d ' \n'; }
# has_bytes NAME HEX: the last recorded requests contain these bytes
has_bytes() {
	if hexbytes "$tmp/log" | grep -q "$2"; then ok; else bad "$1: request lacks bytes $2" "$(hexbytes "$tmp/log")"; fi
}

# fake-rtnl reports no IFLA_OPERSTATE and no counters: like ip(8),
# show leaves out what the kernel did not report.
t "show"              0 '^cv0: mtu 1400$' $F "$C" show
no "show: no state reported" "state"
no "show: no counters reported" "transfer"
t "show: no drops without ethtool counters" 0 '' $F "$C" show
no "show: no drops without ethtool counters" "drops"
t "show: the key-length only" 0 'key-len 16$' $F "$C" show
no "show: the key-length only" "key "

t "show: fields"      0 'peer 192\.0\.2\.2 peer-port 4000 port 1337 local any key-len 16$' $F "$C" show
if grep -q 'dummy0\|^lo' <<<"$out"; then bad "show: lists other kinds" "$out"; else ok; fi
t "show: IPv6"        0 'peer 2001:db8::2 peer-port 1337 port 1338 local 2001:db8::1 key-len 4096$' $F "$C" show
t "show DEV"          0 '^cv0: mtu 1400$'      $F "$C" show cv0
# IFLA_CRAPVPN_PORT_DEVS above 1 is said after the port; 1 (cv"6\
# always) or none is not, and a lone device shows what it always did.
t "show: shared"      0 'peer 192\.0\.2\.2 peer-port 4000 port 1337 shared 3 local any key-len 16$' \
	$F FAKE_RTNL_PORT_DEVS=3 "$C" show cv0
t "show -j: shared"   0 '"peer_port":4000,"port":1337,"shared":3,"key_len":16\}' \
	$F FAKE_RTNL_PORT_DEVS=3 "$C" show -j cv0
plain=$($F "$C" show; $F "$C" show -j)
one=$($F FAKE_RTNL_PORT_DEVS=1 "$C" show; $F FAKE_RTNL_PORT_DEVS=1 "$C" show -j)
[ -n "$plain" ] && [ "$one" = "$plain" ] && ok || bad "show: shared 1 is not said" "$one"
t "show --json"       0 '^\[\{"ifname":"cv0","ifindex":7,"mtu":1400,"peer":"192\.0\.2\.2","peer_port":4000,"port":1337,"key_len":16\},' $F "$C" show --json
if command -v python3 >/dev/null; then
	if python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==2 and d[1]["ifname"]=="cv\"6\\" and "state" not in d[1] and "local" not in d[0] and "stats64" not in d[0] and d[1]["key_len"]==4096 and d[1]["local"]=="2001:db8::1"' <<<"$out"; then ok; else bad "show --json: not the JSON expected" "$out"; fi
else
	skip "show --json: no python3 to parse the JSON"
fi
t "show -j DEV"       0 '^\[\{"ifname":"cv0".*\}\]$' $F "$C" show -j cv0
# Not UTF-8 (RFC 3629): a lead byte above f4, overlong, a surrogate,
# above U+10FFFF; each byte becomes U+FFFD. Then valid 2, 3, 4 bytes.
N=$'c\xf5\x80\x80\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80'
t "show -j: not UTF-8" 0 '^\[\{"ifname":"c(\\ufffd){13}",' $F FAKE_RTNL_LINK="$N" "$C" show -j "$N"
if command -v python3 >/dev/null; then
	if python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode())' \
		<<<"$out" 2>/dev/null; then ok; else bad "show -j: not UTF-8: invalid JSON" "$out"; fi
else
	skip "show -j: not UTF-8: no python3 to parse the JSON"
fi
N=$'c\xc2\x80\xe2\x82\xac\xf0\x9f\x98\x80'
t "show -j: UTF-8"    0 "^\\[\\{\"ifname\":\"$N\"," $F FAKE_RTNL_LINK="$N" "$C" show -j "$N"
t "show: not crapvpn" 1 'show dummy0: not a crapvpn device \(its kind is "dummy"\)' $F "$C" show dummy0
t "show: no kind"     1 'show lo: not a crapvpn device$' $F "$C" show lo
t "show: no device"   1 'show nosuch: no such device' $F "$C" show nosuch
t "del"               0 ''                      $F "$C" del cv0
t "del: not crapvpn"  1 'del dummy0: not a crapvpn device' $F "$C" del dummy0
t "del: no device"    1 'del nosuch: no such device' $F "$C" del nosuch
t "set"               0 ''                      $F "$C" set cv0 peer 2001:db8::9
t "set: not crapvpn"  1 'set lo: not a crapvpn device' $F "$C" set lo port 5
t "add: exists"       1 'add cv0: a device of that name exists already' $F "$C" add cv0 key 12
t "add: extack"       1 'add cv9: missing key \(Invalid argument\)' \
	$F FAKE_RTNL_FAIL="16:22:missing key" "$C" add cv9 peer ::1
t "add: no module"    1 'add cv9: Unknown device type \(Operation not supported\)' \
	$F FAKE_RTNL_FAIL="16:95:Unknown device type" "$C" add cv9 key 12
if grep -q 'Try: modprobe crapvpn' <<<"$out"; then ok; else bad "add: no module: hint" "$out"; fi
t "set: extack"       1 'set cv0: bad port \(Invalid argument\)' \
	$F FAKE_RTNL_FAIL="16:22:bad port" "$C" set cv0 port 9
t "show: error"       1 'show: Operation not permitted' $F FAKE_RTNL_FAIL="18:1" "$C" show
t "compat"            0 '^crapvpn: created crapvpn0 with 10\.9\.0\.1 peer 10\.9\.0\.2, tunnel to localhost \((127\.0\.0\.1|::1)\) port 1337, up$' \
	$F "$C" -k "$K" -p localhost 10.9.0.1 10.9.0.2
t "compat: exists"    1 'device cv0 exists already' $F "$C" -k 12 -p ::1 -i cv0 10.9.0.1 10.9.0.2
t "compat: addr fails" 1 'cannot add the address to crapvpn0: Cannot assign requested address' \
	$F FAKE_RTNL_FAIL="20:99" "$C" -k 12 -p ::1 10.9.0.1 10.9.0.2

# The bytes on the wire: key, peer, ports in host order, local.
rm -f "$tmp/log"
t "add: bytes"        0 '' $F FAKE_RTNL_LOG="$tmp/log" "$C" add cv9 key 0x12AB34 \
	peer 192.0.2.2 peer-port 4000 port 5000 local 0.0.0.0 mtu 1400
has_bytes "add: KEY"       0700010012ab3400
has_bytes "add: PEER"      08000200c0000202
has_bytes "add: PEER_PORT" 06000400a00f0000
has_bytes "add: PORT"      0600050088130000
has_bytes "add: LOCAL"     0800060000000000
has_bytes "add: MTU"       0800040078050000
has_bytes "add: KIND"      0c000100637261707670
rm -f "$tmp/log"
t "set: bytes"        0 '' $F FAKE_RTNL_LOG="$tmp/log" "$C" set cv0 peer 2001:db8::2 local ::
has_bytes "set: PEER6"     1400030020010db8000000000000000000000002
has_bytes "set: LOCAL6"    1400070000000000000000000000000000000000
if hexbytes "$tmp/log" | grep -q '06000400\|06000500'; then bad "set: sent ports not given"; else ok; fi
rm -f "$tmp/log"
t "compat: bytes"     0 '' $F FAKE_RTNL_LOG="$tmp/log" "$C" -k 00ff -p 192.0.2.9 10.9.0.1 10.9.0.2
has_bytes "compat: IFA_LOCAL"   080002000a090001
has_bytes "compat: IFA_ADDRESS" 080001000a090002
has_bytes "compat: KEY"         0600010000ff

echo "== crapvpn up/down: configuration files (crapvpn.conf(5))"
# conf NAME LINES...: $tmp/conf/NAME.conf, mode 600
mkdir -p "$tmp/conf"
conf() {
	local f=$tmp/conf/$1.conf
	shift
	printf '%s\n' "$@" >"$f"
	chmod 600 "$f"
}
(umask 077; printf '%s\n' "$K" >"$tmp/conf/cv.key")
conf cv0 "# a comment" "" "key-file = $tmp/conf/cv.key" "  peer=192.0.2.2  " \
	"peer-port = 4000" "port = 5000" "local = 0.0.0.0" "mtu = 1400" \
	"address = 10.99.0.1 peer 10.99.0.2" "address = fd00:99::1/64" \
	"post-up = echo up %i" "pre-down = echo down %i"
cp -p "$tmp/conf/cv0.conf" "$tmp/conf/cv5.conf"	# cv0 exists in the fake
t "up: from a file"   0 'created from .*/cv5\.conf, up$' $D "$C" up "$tmp/conf/cv5.conf"
for re in 'RTM_NEWLINK flags ack create excl' 'IFLA_IFNAME "cv5"' 'IFLA_MTU 1400' \
	  'IFLA_CRAPVPN_KEY \(10 bytes, not shown\)' 'IFLA_CRAPVPN_PEER 192\.0\.2\.2' \
	  'IFLA_CRAPVPN_PEER_PORT 4000' 'IFLA_CRAPVPN_PORT 5000' 'IFLA_CRAPVPN_LOCAL 0\.0\.0\.0' \
	  'change 0x1 flags 0x1' 'RTM_NEWADDR .* family inet prefixlen 32' 'IFA_LOCAL 10\.99\.0\.1' \
	  'IFA_ADDRESS 10\.99\.0\.2' 'family inet6 prefixlen 64' '^up cv5$'; do
	if grep -Eq "$re" <<<"$out"; then ok; else bad "up: from a file: /$re/" "$out"; fi
done
no "up: from a file" "$K"
if grep -q IFLA_CRAPVPN_MODE <<<"$out"; then bad "up: from a file: a mode not in the file was sent" "$out"; else ok; fi
conf l2 "key = 12" "mode = l2"
conf any6 "key = 12" "peer = 192.0.2.1" "local = ::"
t "up: local any of the other family" 0 'IFLA_CRAPVPN_LOCAL6 ::$' $D "$C" up "$tmp/conf/any6.conf"
t "up: mode = l2"     0 'IFLA_CRAPVPN_MODE 1'         $D "$C" up "$tmp/conf/l2.conf"
t "up: usage"         2 'up: missing tunnel name'     "$C" up
t "up: two names"     2 'unexpected argument "b"'     "$C" up a b
t "up: not NAME.conf" 2 'a file must be called NAME\.conf' $D "$C" up ./cv0.cfg
t "up: no such tunnel" 1 '/etc/crapvpn/no-such-tunnel\.conf: cannot open' $D "$C" up no-such-tunnel
t "up: bad NAME"      1 "contains '/'|too long"       $D "$C" up abcdefghijklmnopq
# Bad files: FILE:LINE: problem, and nothing sent (no request at all).
badconf() { # NAME REGEX LINES...
	local name=$1 re=$2
	shift 2
	conf bad "$@"
	t "up: bad file: $name" 1 "^crapvpn: $tmp/conf/bad\\.conf:$re" $D "$C" up "$tmp/conf/bad.conf"
	if grep -q 'RTM_' <<<"$out"; then bad "up: bad file: $name: sent a request" "$out"; else ok; fi
}
badconf "unknown"      '2: unknown setting "prot"'             "key = 12" "prot = 1"
badconf "no ="         '2: expected NAME = VALUE'              "key = 12" "peer 192.0.2.1"
badconf "no value"     '1: peer: no value'                     "peer =" "key = 12"
badconf "twice"        '3: port is given twice'                "key = 12" "port = 1" "port = 2"
badconf "key twice"    '2: the key is given twice \(line 1\)'  "key = 12" "key-file = $tmp/conf/cv.key"
badconf "bad key"      '1: key: not a hex string'              "key = ${K}zz"
badconf "port"         '2: port "0": out of range'             "key = 12" "port = 0"
badconf "peer"         '2: peer "1\.2\.3": not a valid IPv4'    "key = 12" "peer = 1.2.3"
badconf "mtu"          '3: mtu "0"'                            "key = 12" "# x" "mtu = 0"
badconf "address"      '2: address: expected ADDR'             "key = 12" "address = 10.0.0.1 10.0.0.2"
badconf "address name" '2: address: not a numeric'             "key = 12" "address = localhost"
badconf "prefix"       '2: address: bad prefix length'         "key = 12" "address = 10.0.0.1/33"
badconf "families"     '2: address: .*different families'      "key = 12" "address = 10.0.0.1 peer fd00::2"
badconf "address twice" '3: address given twice'               "key = 12" "address = fd00::1/64" "address = fd00::1/64"
badconf "no key"       ' no key \(key-file = FILE, or key = HEX\)' "peer = 192.0.2.1"
badconf "key-file"     '1: key-file: cannot open'              "key-file = $tmp/conf/nokey"
badconf "hex as name"  '2: unknown setting "\(a hex string, not shown\)"' "key = 12" "$K = 1"
no "up: bad file: hex as name" "$K"
badconf "local family" ' local and peer are of different'      "key = 12" "peer = 192.0.2.1" "local = ::1"
badconf "mode"         '2: mode "l4": must be l3 or l2'         "key = 12" "mode = l4"
badconf "mode twice"   '3: mode is given twice'                "key = 12" "mode = l2" "mode = l2"
conf bad "key = $K"
chmod 640 "$tmp/conf/bad.conf"
t "up: a key readable by the group" 1 'bad\.conf:1: the file holds a key but not only root can read it \(owner uid [0-9]+, mode 0640\)' \
	$D "$C" up "$tmp/conf/bad.conf"
no "up: a key readable by the group" "$K"
chmod 644 "$tmp/conf/cv.key"
t "up: a key file readable by others" 1 'cv0\.conf:3: the key file holds a key but not only root' \
	$D "$C" up "$tmp/conf/cv0.conf"
chmod 600 "$tmp/conf/cv.key"
conf nokey "key-file = $tmp/conf/cv.key" "peer = 192.0.2.1"
chmod 644 "$tmp/conf/nokey.conf"
t "up: no key in it: others may read it" 0 'created from' $D "$C" up "$tmp/conf/nokey.conf"
chmod 666 "$tmp/conf/nokey.conf"
t "up: others may not write it" 1 'nokey\.conf: only root may write it' $D "$C" up "$tmp/conf/nokey.conf"
if [ "$(id -u)" = 0 ]; then
	chmod 600 "$tmp/conf/nokey.conf"
	chown 65534 "$tmp/conf/nokey.conf"
	t "up: a file root does not own" 1 'only root may write it \(owner uid 65534' $D "$C" up "$tmp/conf/nokey.conf"
else
	skip "up: a file root does not own (needs root)"
fi
t "down: requests"    0 'RTM_DELLINK flags ack'       $D "$C" down "$tmp/conf/cv0.conf"
if grep -qx 'down cv0' <<<"$out"; then ok; else bad "down: pre-down" "$out"; fi
t "down: no file, still deletes" 0 'IFLA_IFNAME "cvq"' $D FAKE_RTNL_LINK=cvq "$C" down cvq
t "down: a bad file changes nothing" 1 'bad\.conf:1: the file holds a key' $D "$C" down "$tmp/conf/bad.conf"
# fake-rtnl's cv0 exists (peer 192.0.2.2, peer-port 4000, port 1337,
# mtu 1400, local any): up changes only what differs, live.
rm -f "$tmp/log"
t "up: running device: updated" 0 'cv0: updated from' $F FAKE_RTNL_LOG="$tmp/log" "$C" up "$tmp/conf/cv0.conf"
has_bytes "up: running: PORT 5000" 0600050088130000
has_bytes "up: running: KEY sent" 0e0001000123456789abcdef0123
if hexbytes "$tmp/log" | grep -q '06000400a00f\|08000200c0000202\|0800040078050000'; then
	bad "up: running: sent what did not change (peer, peer-port, mtu)" "$(hexbytes "$tmp/log")"
else ok; fi
if hexbytes "$tmp/log" | grep -q '10000506'; then bad "up: running: re-created the device"; else ok; fi
t "up: running: addresses added" 0 'added address fd00:99::1/64' $F "$C" up "$tmp/conf/cv0.conf"
if grep -q 'up cv0' <<<"$out"; then bad "up: running: ran post-up again" "$out"; else ok; fi
conf dummy0 "key = 12"
t "up: another kind of device" 1 'up dummy0: a device of that name exists and is not a crapvpn device' \
	$F "$C" up "$tmp/conf/dummy0.conf"
conf cv6 "key = 12"
t "up: new device"    0 'cv6: created from .*, up$' $F "$C" up "$tmp/conf/cv6.conf"
conf cv0l2 "key = 12" "peer = 192.0.2.2" "mode = l2"
mkdir -p "$tmp/conf/m" && cp "$tmp/conf/cv0l2.conf" "$tmp/conf/m/cv0.conf"
t "up: running l3 device, file says l2" 1 'says mode l2, the device is l3; the mode is set when a device is created' \
	$F "$C" up "$tmp/conf/m/cv0.conf"
conf cv7 "key = 12" "post-up = exit 3"
t "up: post-up fails" 1 'post-up "exit 3" failed \(exit status 3\)' $F "$C" up "$tmp/conf/cv7.conf"
t "down"              0 'down cv0' $F "$C" down "$tmp/conf/cv0.conf"
t "down: not crapvpn" 1 'down dummy0: not a crapvpn device' $F "$C" down dummy0

echo "== crapvpn@.service"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$tmp/unit"
	sed "s|@SBINDIR@|$TOOLS|g" crapvpn@.service >"$tmp/unit/crapvpn@.service"
	run systemd-analyze verify --man=no "$tmp/unit/crapvpn@cv0.service"
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok; else bad "systemd-analyze verify crapvpn@cv0.service" "$out"; fi
else
	skip "crapvpn@.service: no systemd-analyze"
fi
for re in '^Type=oneshot$' '^RemainAfterExit=yes$' '^After=network-online\.target' \
	  '^Wants=network-online\.target' '^ExecStart=@SBINDIR@/crapvpn up %i$' \
	  '^ExecReload=@SBINDIR@/crapvpn up %i$' '^ExecStop=@SBINDIR@/crapvpn down %i$' \
	  '^WantedBy=multi-user\.target$'; do
	if grep -Eq "$re" crapvpn@.service; then ok; else bad "crapvpn@.service: /$re/"; fi
done

echo "== make install: the unit, the completion, crapvpn.conf(5)"
if command -v make >/dev/null && [ -f "$TOOLS/Makefile" ] && [ -f "$TOOLS/crapvpn.c" ]; then
	st=$tmp/stage
	run make -s -C "$TOOLS" install DESTDIR="$st" PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system
	if [ "$rc" -eq 0 ]; then ok; else bad "make install DESTDIR=..." "$out"; fi
	for f in lib/systemd/system/crapvpn@.service usr/share/bash-completion/completions/crapvpn \
		 usr/share/man/man5/crapvpn.conf.5 usr/share/man/man8/crapvpn.8 usr/sbin/crapvpn; do
		[ -f "$st/$f" ] && ok || bad "make install: no $f"
	done
	grep -qx 'ExecStart=/usr/sbin/crapvpn up %i' "$st/lib/systemd/system/crapvpn@.service" 2>/dev/null &&
		ok || bad "make install: the unit runs /usr/sbin/crapvpn" "$(cat "$st/lib/systemd/system/crapvpn@.service" 2>&1)"
	run make -s -C "$TOOLS" install DESTDIR="$tmp/stage2" PREFIX=/usr/local
	grep -qx 'ExecStart=/usr/local/sbin/crapvpn up %i' "$tmp/stage2/usr/local/lib/systemd/system/crapvpn@.service" 2>/dev/null &&
		ok || bad "make install PREFIX=/usr/local: the unit in /usr/local/lib/systemd/system runs /usr/local/sbin/crapvpn" "$out"
	run make -s -C "$TOOLS" uninstall DESTDIR="$st" PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system
	left=$(find "$st" ! -type d)
	[ "$rc" -eq 0 ] && [ -z "$left" ] && ok || bad "make uninstall left files" "$out$left"
else
	skip "make install: no make or no tools/Makefile"
fi

echo "== bash completion (crapvpn.bash-completion)"
# With stand-ins for bash-completion's helpers, so that it runs anywhere.
comp() {
	local script='
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]}; prev=${words[cword-1]}; }
_filedir() { COMPREPLY=(@FILES@); }
_known_hosts_real() { COMPREPLY=(@HOSTS@); }
. "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
_crapvpn
echo "${COMPREPLY[*]}"'
	run $F bash -c "$script" _ "$TOOLS/crapvpn.bash-completion" "$C" "$@"
}
# ct NAME WANT WORDS...: completing the last word gives exactly WANT
ct() {
	local name=$1 want=$2
	shift 2
	comp "$@"
	if [ "$rc" -eq 0 ] && [ "$out" = "$want" ]; then ok; else bad "completion: $name: got \"$out\", want \"$want\""; fi
}
ct "commands"          "add set del show up down genkey help --help --version -k" ""
ct "commands s"        "set show"                      s
ct "commands d"        "del down"                      d
ct "add options"       "key key-file peer peer-port port local mtu mode" add cv0 ""
ct "each option once"  "peer peer-port port local mtu mode" add cv0 key 12 ""
ct "mode values"       "l3 l2" add cv0 mode ""
ct "key-file excludes key" "peer port"                 set cv0 key-file k peer-port 4 p
ct "key-file: files"   "@FILES@"                       add cv0 key-file ""
ct "peer: hosts"       "@HOSTS@"                       add cv0 peer ""
ct "a value: nothing"  ""                              add cv0 port ""
ct "genkey"            "16 32 64"                      genkey ""
ct "add: no device"    ""                              add ""
ct "show --json"       "--json"                        show cv0 ""
# Only crapvpn devices (not lo or dummy0).
ct "set: devices"  "cv0"                           set cv0
ct "del: devices"  "cv0"                           del cv0
ct "show: devices" "cv0"                           show -j cv0
bash -n "$TOOLS/crapvpn.bash-completion" && ok || bad "completion: bash -n"

echo "== ip link plugin (link_crapvpn.so)"
if [ ! -x "$IP" ] || [ ! -f "$PLUGIN_DIR/link_crapvpn.so" ]; then
	skip "no $IP or no $PLUGIN_DIR/link_crapvpn.so"
else
	I="env IP_LIB_DIR=$PLUGIN_DIR $IP"
	t "ip link help crapvpn" 0 'Usage: ip link add DEV type crapvpn' $I link help crapvpn
	t "plugin help text"  0 'peer-port N '         $I link help crapvpn
	# Both helps list cv_options[]: the plugin all but mtu, which ip has.
	run "$CRAPVPN" --help
	want=$(sed -n '/^Options:/,/^$/s/^  \([a-z-]*\) .*/\1/p' <<<"$out" | grep -vx mtu)
	run $I link help crapvpn
	got=$(sed -n '/^OPTIONS:/,/^$/s/^  \([a-z-]*\) .*/\1/p' <<<"$out")
	if [ -n "$want" ] && [ "$got" = "$want" ]; then ok; else
		bad "plugin help: options \"$(echo $got)\", crapvpn --help's \"$(echo $want)\""
	fi
	# Errors in parse_opt come before anything is sent.
	t "ip: bad hex"       '!0' 'crapvpn: key: not a hex string' $I link add cv9 type crapvpn key "${K}zz"
	no "ip: bad hex" "$K"
	t "ip: odd hex"       '!0' 'odd number of hex digits' $I link add cv9 type crapvpn key abc
	t "ip: empty key"     '!0' 'key: empty'        $I link add cv9 type crapvpn key ""
	t "ip: key 4097"      '!0' 'key: too long'     $I link add cv9 type crapvpn key "${key4096}00"
	t "ip: key too big for ip" '!0' 'does not fit into the request of ip link' \
		$I link add cv9 type crapvpn key "$key4096"
	no "ip: key too big for ip" "$key4096"
	t "ip: key twice"     '!0' 'given twice'       $I link add cv9 type crapvpn key 12 key-file /dev/null
	t "ip: key-file missing" '!0' 'cannot open'    $I link add cv9 type crapvpn key-file "$tmp/nokey"
	t "ip: port 0"        '!0' 'port "0": out of range \(1-65535\)' $I link add cv9 type crapvpn port 0
	t "ip: peer-port 65536" '!0' 'peer-port "65536": out of range' $I link add cv9 type crapvpn peer-port 65536
	t "ip: port abc"      '!0' 'not a decimal number' $I link add cv9 type crapvpn port abc
	t "ip: junk peer"     '!0' 'peer "no-such-host\.invalid": cannot resolve' $I link add cv9 type crapvpn peer no-such-host.invalid
	t "ip: families"      '!0' 'not of the same address family' $I link add cv9 type crapvpn peer ::1 local 127.0.0.1
	t "ip: unknown option" '!0' 'unknown option "frob"' $I link add cv9 type crapvpn frob 1
	t "ip: mode l4"       '!0' 'mode "l4": must be l3 or l2' $I link add cv9 type crapvpn mode l4
	t "ip: mode twice"    '!0' 'mode: given twice' $I link add cv9 type crapvpn mode l2 mode l2
	t "ip: stray hex"     '!0' 'unknown option "\(a hex string, not shown\)"' $I link add cv9 type crapvpn "$K"
	no "ip: stray hex" "$K"
	t "ip: missing value" '!0' 'peer: needs a value' $I link add cv9 type crapvpn peer
	t "ip: help"          '!0' 'Usage: ip link add DEV type crapvpn' $I link add cv9 type crapvpn help
	for o in peer port key-file; do
		t "ip: key as $o" '!0' '\(a hex string, not shown\)' $I link add cv9 type crapvpn "$o" "$H"
		no "ip: key as $o" "$H"
	done
	t "ip: key as peer, a-f" '!0' 'peer "\(a hex string, not shown\)": looks like a key' \
		$I link add cv9 type crapvpn peer 00112233aabbccdd
	no "ip: key as peer, a-f" 00112233aabbccdd
	# The figure in README.md: the most that fits with a short name.
	t "ip: room for a key" '!0' 'has room for 992 here' \
		$I link add cv9 type crapvpn key "${key4096:0:1986}"

	rm -f "$tmp/log"
	t "ip link add: bytes" 0 '' $F FAKE_RTNL_LOG="$tmp/log" IP_LIB_DIR="$PLUGIN_DIR" "$IP" \
		link add cv9 type crapvpn key 12ab peer 192.0.2.2 peer-port 4000 port 5000 local 0.0.0.0
	has_bytes "ip add: KEY"       0600010012ab0000
	has_bytes "ip add: PEER"      08000200c0000202
	has_bytes "ip add: PEER_PORT" 06000400a00f0000
	has_bytes "ip add: PORT"      0600050088130000
	has_bytes "ip add: LOCAL"     0800060000000000
	if hexbytes "$tmp/log" | grep -q '05000900'; then bad "ip add: MODE sent unasked"; else ok; fi
	rm -f "$tmp/log"
	t "ip link add mode l2" 0 '' $F FAKE_RTNL_LOG="$tmp/log" IP_LIB_DIR="$PLUGIN_DIR" "$IP" \
		link add cv9 type crapvpn key 12ab mode l2
	has_bytes "ip add: MODE l2"   0500090001000000
	t "ip: peer 10.0x1" '!0' 'not a valid IPv4 address' $F IP_LIB_DIR="$PLUGIN_DIR" "$IP" \
		link add cv9 type crapvpn peer 10.0x1
	rm -f "$tmp/log"
	t "ip link set: bytes" 0 '' $F FAKE_RTNL_LOG="$tmp/log" IP_LIB_DIR="$PLUGIN_DIR" "$IP" \
		link set cv0 type crapvpn peer 2001:db8::2 key-file "$tmp/key"
	has_bytes "ip set: PEER6"     1400030020010db8000000000000000000000002
	has_bytes "ip set: KEY"       090001000a0b0c0d0e000000
	if hexbytes "$tmp/log" | grep -q '06000400\|06000500'; then bad "ip set: sent ports not given"; else ok; fi
	t "ip -d link show"   0 'crapvpn peer 192\.0\.2\.2 peer-port 4000 port 1337 key-len 16' \
		$F IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d link show
	t "ip -d link show v6" 0 'crapvpn peer 2001:db8::2 peer-port 1337 port 1338 local 2001:db8::1 key-len 4096' \
		$F IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d link show
	t "ip -d -j link show" 0 '"info_data":\{"peer":"192\.0\.2\.2","peer_port":4000,"port":1337,"key_len":16\}' \
		$F IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d -j link show dev cv0
	t "ip -d link show: shared" 0 'crapvpn peer 192\.0\.2\.2 peer-port 4000 port 1337 shared 3 key-len 16' \
		$F FAKE_RTNL_PORT_DEVS=3 IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d link show dev cv0
	t "ip -d -j link show: shared" 0 '"port":1337,"shared":3,"key_len":16\}' \
		$F FAKE_RTNL_PORT_DEVS=3 IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d -j link show dev cv0
	plain=$($F IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d link show; $F IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d -j link show)
	one=$($F FAKE_RTNL_PORT_DEVS=1 IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d link show
	      $F FAKE_RTNL_PORT_DEVS=1 IP_LIB_DIR="$PLUGIN_DIR" "$IP" -d -j link show)
	[ -n "$plain" ] && [ "$one" = "$plain" ] && ok || bad "ip -d link show: shared 1 is not said" "$one"
	# The same names, and unset values left out the same way.
	C="$F IP_LIB_DIR=$PLUGIN_DIR $CRAPVPN" IP="env LD_PRELOAD=$FAKE IP_LIB_DIR=$PLUGIN_DIR $IP" \
		json_like_ip "show --json agrees with ip -j -d link show"
	C="$F IP_LIB_DIR=$PLUGIN_DIR $CRAPVPN" IP="env LD_PRELOAD=$FAKE IP_LIB_DIR=$PLUGIN_DIR $IP" \
		json_like_ip "show --json cv0 agrees with ip -j -d link show cv0" cv0
	C="$F FAKE_RTNL_PORT_DEVS=3 $CRAPVPN" \
	IP="env LD_PRELOAD=$FAKE FAKE_RTNL_PORT_DEVS=3 IP_LIB_DIR=$PLUGIN_DIR $IP" \
		json_like_ip "show --json agrees with ip -j -d link show on shared" cv0
fi

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
	live=$(CRAPVPN=$C PLUGIN_DIR=$PLUGIN_DIR IP=$IP unshare -n -- "$HERE/test-cli.sh" --live 2>&1)
	rc=$?
	# Its closing lines are added to ours (the skips are listed there).
	grep -Ev '^([0-9]+ passed, [0-9]+ failed|[0-9]+ skipped|# skipped: .*)$' <<<"$live"
	tap_add_counts "live" "$rc" <<<"$live"
else
	skip "live kernel tests: need root and unshare -n"
fi

echo
tap_summary
