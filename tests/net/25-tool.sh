#!/bin/bash
# crapvpn(8) against the module, inside namespaces: add/set/del/show and
# show --json; the key from hex (any case, 0x prefix), from a file (xxd -p
# style, split over lines) and from standard input, each proven by traffic
# against a peer configured with ip(8) and the same key in plain hex; show
# and refused commands never print key bytes; exit statuses; and the compatibility
# mode of the old userspace crapvpn (-k HEX -p PEER LOCAL_IP PEER_IP), one
# instance per namespace, pinging each other over IPv4 and IPv6 underlays.
. "$(dirname "$0")/lib.sh"
need xxd

PY=${PY:-python3}
HELPERS=$CV_ROOT/tests/net/helpers
KEY=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
KEY2=$(od -An -tx1 -N100 /dev/urandom | tr -d ' \n')
KEY3=$(od -An -tx1 -N333 /dev/urandom | tr -d ' \n')
K_SAMEPEER="crapvpn: another device on this port has the same peer address and port"

# says TEXT: the last command's output contains TEXT.
says() { grep -qF -- "$1" "$CV_TMP/out"; }

# tinfo NS DEV: crapvpn show DEV --json, ifindex replaced by the one in
# sysfs being checked, as sorted compact JSON.
tinfo() {
	local idx
	idx=$(n "$1" cat "/sys/class/net/$2/ifindex")
	tool "$1" show "$2" --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 1, d
d = d[0]
assert d.pop("ifindex") == int(sys.argv[1]), "ifindex"
# Counters have tests of their own (65-config): the configuration here.
d.pop("stats64")
d.pop("drops")
print(json.dumps(d, sort_keys=True, separators=(",", ":")))' "$idx"
}

ping_ok() { n a ping -c 2 -i 0.2 -W 3 "${1:-198.51.100.2}"; }
ping_fails() { ! n a ping -c 2 -i 0.2 -W 2 "${1:-198.51.100.2}"; }

inner_addrs() { # NS DEV LOCAL PEER
	ip -n "$1" addr add "$3" peer "$4" dev "$2" && ip -n "$1" link set "$2" up
}

setup_pair

# ---- add / show ---------------------------------------------------------------
log "add, show"
check "crapvpn add cv4 (hex key, uppercase, 0x prefix)" \
	tool a add cv4 key "0x${KEY^^}" peer 192.0.2.2
check "ip link add b's cv4 (same key, plain hex)" \
	ipb link add cv4 type crapvpn key "$KEY" peer 192.0.2.1
check "inner addresses, up" inner_addrs a cv4 198.51.100.1 198.51.100.2
check "b's inner addresses, up" inner_addrs b cv4 198.51.100.2 198.51.100.1
check "ping through the tool-made device" ping_ok
check_eq "crapvpn show cv4" "$(tool a show cv4 | head -n 2)" \
	"cv4: state UNKNOWN mtu 1464
    peer 192.0.2.2 peer-port 1337 port 1337 local any key-len 16"
check_eq "crapvpn show --json cv4" "$(tinfo a cv4)" \
	'{"ifname":"cv4","key_len":16,"mtu":1464,"peer":"192.0.2.2","peer_port":1337,"port":1337,"state":"UNKNOWN"}'
check_eq "crapvpn show (all): only crapvpn devices" \
	"$(tool a show | grep -c '^[^ ]')" 1
check_eq "crapvpn show --json (all): a JSON array of one" \
	"$(tool a show --json | "$PY" -c 'import json, sys; print([d["ifname"] for d in json.load(sys.stdin)])')" \
	"['cv4']"
check_eq "crapvpn show --json: the documented members, in order" \
	"$(tool b show --json | tr -d '\n' | sed 's/,"stats64":.*}}]$/}]/')" \
	'[{"ifname":"cv4","ifindex":'"$(n b cat /sys/class/net/cv4/ifindex)"',"state":"UNKNOWN","mtu":1464,"peer":"192.0.2.1","peer_port":1337,"port":1337,"key_len":16}]'
ip netns add c
check_eq "crapvpn show --json with no crapvpn device" "$(tool c show --json | tr -d ' \n')" "[]"
check_eq "crapvpn show with no crapvpn device prints nothing" "$(tool c show)" ""
ip netns del c
check "crapvpn show va: refused" status 1 tool a show va
check "... not a crapvpn device" says 'not a crapvpn device (its kind is "veth")'
check "crapvpn show nosuch: refused" status 1 tool a show nosuch
check "... no such device" says "no such device"

# ---- keys from a file and from standard input ----------------------------------------
log "key-file and stdin"
printf '0x%s\n' "${KEY2^^}" | fold -w 37 | sed 's/^/  /' >"$CV_TMP/key2"
check "crapvpn set: key from a file (0x, uppercase, split lines, indented)" \
	tool a set cv4 key-file "$CV_TMP/key2"
check_eq "show: key-len 100, the rest kept" "$(tinfo a cv4)" \
	'{"ifname":"cv4","key_len":100,"mtu":1464,"peer":"192.0.2.2","peer_port":1337,"port":1337,"state":"UNKNOWN"}'
check "ping fails while the keys differ" ping_fails
check "ip set: b gets the same key in plain hex" ipb link set cv4 type crapvpn key "$KEY2"
check "ping: the file's key is the hex key" ping_ok
echo "$KEY3" | xxd -r -p | xxd -p >"$CV_TMP/key3"
check "crapvpn set: key from standard input (xxd -p output)" \
	bash -c "ip netns exec a '$CV_TOOL' set cv4 key-file - <'$CV_TMP/key3'"
check "ping fails while the keys differ" ping_fails
check "crapvpn set: b's key from standard input too" \
	bash -c "printf %s '$KEY3' | ip netns exec b '$CV_TOOL' set cv4 key-file -"
check "ping: the stdin key is the hex key" ping_ok
check_eq "show: key-len 333" "$(tool a show cv4 | grep -o 'key-len [0-9]*')" "key-len 333"
check "crapvpn add: key-file of a missing file refused" status 1 \
	tool a add cvx key-file /nonexistent/key peer 192.0.2.2
check "... says so" says "cannot open /nonexistent/key"
check_fails "... and makes no device" ipa link show cvx
check "crapvpn add: empty standard input refused" status 1 \
	bash -c "ip netns exec a '$CV_TOOL' add cvx key-file - peer 192.0.2.2 </dev/null"
check "... key empty" says "empty (at least 1 byte"

# ---- show and refused commands never print the key ---------------------------------
for k in KEY KEY2 KEY3; do
	{
		tool a show
		tool a show cv4
		tool a show --json
		tool a add cv4 key "${!k}" peer 192.0.2.2	# exists already
		tool a set cv4 key "${!k}" port 0		# refused before sending
		tool a -k "${!k}" -p 192.0.2.2 -i cv4 10.9.9.1 10.9.9.2
	} >"$CV_TMP/shown" 2>&1
	check "show / show --json / refused add, set, -k: no bytes of $k" \
		"$PY" "$HELPERS/cvnl.py" textleak "${!k}" "$CV_TMP/shown"
done
check "--dry-run is gone (tests/tools/fake-rtnl.c prints requests): refused" \
	status 2 tool a --dry-run add cvd key "$KEY3" peer 192.0.2.2
check_fails "... and made no device" ipa link show cvd

# ---- set / del -------------------------------------------------------------------
log "set, del"
check "crapvpn set: port 1400" tool a set cv4 port 1400
check "crapvpn set: b's peer-port 1400" tool b set cv4 peer-port 1400
check "ping with the new port" ping_ok
check "crapvpn set: mtu 1300" tool a set cv4 mtu 1300
check_eq "show --json: port and mtu changed, the rest kept" "$(tinfo a cv4)" \
	'{"ifname":"cv4","key_len":333,"mtu":1300,"peer":"192.0.2.2","peer_port":1337,"port":1400,"state":"UNKNOWN"}'
check_eq "the kernel's mtu" "$(n a cat /sys/class/net/cv4/mtu)" 1300
check "crapvpn set: local 192.0.2.1" tool a set cv4 local 192.0.2.1
check_eq "show: local" "$(tool a show cv4 | sed -n 2p)" \
	"    peer 192.0.2.2 peer-port 1337 port 1400 local 192.0.2.1 key-len 333"
check "ping with a local address" ping_ok
check "crapvpn set: nothing to change is a usage error" status 2 tool a set cv4
check "crapvpn set: va refused" status 1 tool a set va port 1500
check "... not a crapvpn device" says "not a crapvpn device"
check "crapvpn add: an existing name refused" status 1 tool a add cv4 key 01 peer 192.0.2.2
check "... exists already" says "a device of that name exists already"
check "crapvpn del va: refused" status 1 tool a del va
check "... not a crapvpn device" says "not a crapvpn device"
check "va survives" ipa link show va
check "crapvpn del cv4" tool a del cv4
check_fails "cv4 gone" ipa link show cv4
check "crapvpn del cv4 again: refused" status 1 tool a del cv4
check "... no such device" says "no such device"
check "crapvpn add with every option" tool a add cvo key "$KEY" peer 2001:db8::2 \
	peer-port 4000 port 4001 local 2001:db8::1 mtu 1400
check_eq "show --json: every option" "$(tinfo a cvo)" \
	'{"ifname":"cvo","key_len":16,"local":"2001:db8::1","mtu":1400,"peer":"2001:db8::2","peer_port":4000,"port":4001,"state":"DOWN"}'
check "crapvpn delete (alias)" tool a delete cvo
check "a usage error exits 2" status 2 tool a frobnicate
check "a missing value exits 2" status 2 tool a add cvx key
check "an invalid value exits 1" status 1 tool a add cvx key 01 peer 192.0.2.2 port 70000
check "--version" status 0 tool a --version
check "... prints the version" says "crapvpn 1.0.0"
check "--help" status 0 tool a --help
ipb link del cv4

# ---- compatibility mode -------------------------------------------------------------
log "compatibility mode"
check "compat in a: crapvpn -k KEY -p 192.0.2.2 10.9.0.1 10.9.0.2" \
	status 0 tool a -k "$KEY" -p 192.0.2.2 10.9.0.1 10.9.0.2
check "... says what it did" \
	says "crapvpn: created crapvpn0 with 10.9.0.1 peer 10.9.0.2, tunnel to 192.0.2.2 port 1337, up"
check "compat in b" status 0 tool b -k "$KEY" -p 192.0.2.1 10.9.0.2 10.9.0.1
check "crapvpn0 in a is up" bash -c "ip -n a link show crapvpn0 | grep -q '<.*UP.*>'"
check_eq "crapvpn0's address: 10.9.0.1 peer 10.9.0.2/32" \
	"$(ipa -j addr show dev crapvpn0 | "$PY" -c '
import json, sys
for a in json.load(sys.stdin)[0]["addr_info"]:
    if a["family"] == "inet":
        print(a["local"], a.get("address"), a["prefixlen"])')" "10.9.0.1 10.9.0.2 32"
check_eq "crapvpn0: peer 192.0.2.2, ports 1337" "$(tinfo a crapvpn0)" \
	'{"ifname":"crapvpn0","key_len":16,"mtu":1464,"peer":"192.0.2.2","peer_port":1337,"port":1337,"state":"UNKNOWN"}'
check "ping between the compat instances" ping_ok 10.9.0.2
check "ping from b" n b ping -c 2 -i 0.2 -W 3 10.9.0.1
check "compat again in a: refused" status 1 tool a -k "$KEY" -p 192.0.2.2 10.9.0.1 10.9.0.2
check "... exists already" says "device crapvpn0 exists already"
check "the first crapvpn0 still works" ping_ok 10.9.0.2
check "compat over IPv6 (-i cv6c), beside crapvpn0 on port 1337" \
	status 0 tool a -k "$KEY2" -p 2001:db8::2 -i cv6c fd00:9::1 fd00:9::2
check "compat over IPv6 in b" \
	status 0 tool b -k "$KEY2" -p 2001:db8::1 -i cv6c fd00:9::2 fd00:9::1
check_eq "cv6c's address: fd00:9::1 peer fd00:9::2/128" \
	"$(ipa -j addr show dev cv6c | "$PY" -c '
import json, sys
for a in json.load(sys.stdin)[0]["addr_info"]:
    if a["family"] == "inet6" and a["local"].startswith("fd00:9"):
        print(a["local"], a.get("address"), a["prefixlen"])')" "fd00:9::1 fd00:9::2 128"
check "ping6 between the IPv6 compat instances" ping_ok fd00:9::2
check "compat: mixed families refused" status 1 \
	tool a -k "$KEY" -p 192.0.2.2 -i cvx 10.9.1.1 fd00::2
check "... says so" says "LOCAL_IP and PEER_IP must both be IPv4 or both IPv6"
check "compat: the kernel's refusal (cv4 has this peer on port 1337) is reported" status 1 \
	tool a -k "$KEY" -p 192.0.2.2 -i cvx 10.9.1.1 10.9.1.2
check "... with the kernel's message" says "$K_SAMEPEER"
check_fails "... and no device is left" ipa link show cvx
check "compat: no -p is a usage error" status 2 tool a -k "$KEY" 10.9.1.1 10.9.1.2
check "compat: a bad key is an error" status 1 tool a -k 12x4 -p 192.0.2.2 -i cvx 10.9.1.1 10.9.1.2
check_fails "... and no device is left" ipa link show cvx
finish
