#!/bin/bash
# Netlink configuration: every invalid request is refused with its extack
# message and changes nothing (no device after a failed add, the same
# configuration and socket after a failed set); the key is write-only (no
# dump, ip -d, ip -d -j or crapvpn show shows its bytes); a 4096-byte key
# works; key, peer, port and local can be changed on a live device.
#
# Requests go three ways: ip(8) with the link_crapvpn.so plugin, crapvpn(8),
# and raw netlink (tests/net/helpers/cvnl.py), which can send what the other
# two refuse to build (empty or oversized keys, attributes of the wrong
# size, KEY_LEN, port 0). The tools' own messages are checked too.
. "$(dirname "$0")/lib.sh"

PY=${PY:-python3}
HELPERS=$CV_ROOT/tests/net/helpers
# A random key, so that finding its bytes anywhere means a leak.
KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
BIGKEY=$(od -An -tx1 -N4096 /dev/urandom | tr -d ' \n')

# The kernel's extack messages: the netlink core's for what crapvpn_policy
# refuses (sizes and ranges, checked strictly), crapvpn's own (its policy's
# reject messages, crapvpn_validate, crapvpn_conf_new, crapvpn_sock_open).
K_SIZE="binary attribute size out of range"
K_ATTRLEN="invalid attribute length"
K_RANGE="integer out of range"
K_NOKEY="crapvpn: a key is required"
K_KEYLEN="crapvpn: the key length is reported, not set"
K_TWOPEERS="crapvpn: give one peer address, IPv4 or IPv6"
K_TWOLOCALS="crapvpn: give one local address, IPv4 or IPv6"
K_UNICAST="crapvpn: the peer must be a unicast address"
K_MAPPED="crapvpn: an IPv4-mapped peer cannot be reached over IPv6: give the IPv4 address"
K_LINKLOCAL="crapvpn: a link-local IPv6 peer is not supported: it would need an interface"
K_FAMILY="crapvpn: peer and local address must be of the same family"
K_INUSE="crapvpn: the UDP port is already in use"
K_NOTLOCAL="crapvpn: the local address is not one of this host's"
K_PORTDEVS="crapvpn: the number of devices on a port is reported, not set"
K_SAMEPEER="crapvpn: another device on this port has the same peer address and port"
K_NEEDPEER="crapvpn: a device that shares its port needs a peer"
K_NOPEER="crapvpn: the UDP port is in use by a device without a peer"

# refused DESC MSG CMD...: CMD fails and says MSG (a fixed string).
refused() {
	local desc=$1 msg=$2
	shift 2
	if "$@" >"$CV_TMP/out" 2>&1; then
		fail "$desc: refused (it succeeded)"
	elif grep -qF -- "$msg" "$CV_TMP/out"; then
		ok "$desc: refused with \"$msg\""
	else
		fail "$desc: refused with \"$msg\""
		sed 's/^/#   /' "$CV_TMP/out" | head -n 5
	fi
}

# silent DESC CMD...: CMD succeeds and prints nothing. The kernel's
# message of a request that succeeded is printed as a warning: a change
# that worked must not come with a failure's message.
silent() {
	local desc=$1
	shift
	if ! "$@" >"$CV_TMP/out" 2>&1; then
		fail "$desc"
	elif [ -s "$CV_TMP/out" ]; then
		fail "$desc: succeeded, but said: $(head -n 1 "$CV_TMP/out")"
	else
		ok "$desc (and said nothing)"
	fi
}

# add_refused DESC MSG CMD...: CMD (which adds cv0 in a) is refused and
# leaves no cv0 behind.
add_refused() {
	refused "$@"
	check_fails "$1: no cv0 left" ipa link show cv0
	ipa link del cv0 2>/dev/null
}

# state NS DEV: the device's configuration as the kernel reports it, and
# the UDP sockets of the namespace (a failed set must keep the socket).
state() {
	nl "$1" info "$2"
	n "$1" ss -u -a -n -H | sort
}

# set_refused DESC MSG CMD...: CMD (a change of cv4 in a) is refused and
# changes nothing.
set_refused() {
	local before
	before=$(state a cv4)
	refused "$@"
	check_eq "$1: cv4 unchanged" "$(state a cv4)" "$before"
}

# jinfo NS DEV: info_data of `ip -d -j link show`, as sorted compact JSON.
jinfo() {
	n "$1" ip -d -j link show "$2" | "$PY" -c '
import json, sys
print(json.dumps(json.load(sys.stdin)[0]["linkinfo"]["info_data"], sort_keys=True, separators=(",", ":")))'
}

# tinfo NS DEV: crapvpn show DEV --json without ifindex, sorted.
tinfo() {
	tool "$1" show "$2" --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)[0]
d.pop("ifindex")
# Counters have tests of their own (65-config): the configuration here.
d.pop("stats64")
d.pop("drops")
print(json.dumps(d, sort_keys=True, separators=(",", ":")))'
}

# shows NS DEV TEXT / ip_shows NS DEV TEXT: crapvpn show / ip -d link show
# prints TEXT.
shows() { tool "$1" show "$2" | grep -qF -- "$3"; }
ip_shows() { ip -n "$1" -d link show "$2" | grep -qF -- "$3"; }

ping4() { n a ping -c 2 -i 0.2 -W 3 198.51.100.2; }
ping_fails() { ! n a ping -c 2 -i 0.2 -W 2 198.51.100.2; }

# bind_udp NS FAMILY PORT [ADDR]: a plain UDP socket bound to ADDR (default
# any), in the background.
bind_udp() {
	local ready=$CV_TMP/bound.$2.$3
	n "$1" "$PY" -c '
import socket, sys, time
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[4] or ("::" if fam == socket.AF_INET6 else "0.0.0.0"),
        int(sys.argv[2])))
open(sys.argv[3], "w").close()
time.sleep(900)' "$2" "$3" "$ready" "${4:-}" &
	CV_PIDS+=($!)
	wait_for 20 test -e "$ready"
}

cleanup() {
	ip netns del c 2>/dev/null
	kill_jobs
}

setup_pair

# ---- invalid adds ------------------------------------------------------------
log "invalid adds"
P4="peer=192.0.2.2"
add_refused "ip: no key at all (no IFLA_INFO_DATA)" "$K_NOKEY" \
	ipa link add cv0 type crapvpn
add_refused "ip: no key" "$K_NOKEY" ipa link add cv0 type crapvpn peer 192.0.2.2
add_refused "crapvpn add: no key" "$K_NOKEY" tool a add cv0 peer 192.0.2.2
add_refused "raw: no key, empty IFLA_INFO_DATA" "$K_NOKEY" nl a add cv0
add_refused "raw: no key" "$K_NOKEY" nl a add cv0 "$P4" port=1337

add_refused "raw: empty key" "$K_SIZE" nl a add cv0 key=hex: "$P4"
add_refused "raw: 4097-byte key" "$K_SIZE" nl a add cv0 key=rand:4097:k "$P4"
add_refused "raw: 65000-byte key" "$K_SIZE" nl a add cv0 key=rand:65000:k "$P4"
add_refused "crapvpn add: empty key (tool)" "empty (at least 1 byte, 2 hex digits)" \
	tool a add cv0 key "" peer 192.0.2.2
add_refused "ip: empty key (plugin)" "empty (at least 1 byte, 2 hex digits)" \
	ipa link add cv0 type crapvpn key "" peer 192.0.2.2
printf '%s00\n' "$BIGKEY" >"$CV_TMP/key4097"
add_refused "crapvpn add: 4097-byte key file (tool)" \
	"too long (at most 4096 bytes, 8192 hex digits)" \
	tool a add cv0 key-file "$CV_TMP/key4097" peer 192.0.2.2
add_refused "ip: 4097-byte key file (plugin)" "too long (at most 4096 bytes" \
	ipa link add cv0 type crapvpn key-file "$CV_TMP/key4097" peer 192.0.2.2
add_refused "ip: 1024-byte key does not fit ip's request (plugin)" \
	"use crapvpn(8) for longer keys" \
	ipa link add cv0 type crapvpn key "${BIGKEY:0:2048}" peer 192.0.2.2
add_refused "crapvpn add: odd number of hex digits (tool)" "odd number of hex digits" \
	tool a add cv0 key 123 peer 192.0.2.2
add_refused "crapvpn add: not hex (tool)" "not a hex string" \
	tool a add cv0 key 12zz peer 192.0.2.2

add_refused "raw: port 0" "$K_RANGE" nl a add cv0 key="$KEY" "$P4" port=0
add_refused "raw: peer-port 0" "$K_RANGE" nl a add cv0 key="$KEY" "$P4" peer_port=0
add_refused "ip: port 0 (plugin)" "out of range (1-65535)" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 port 0
add_refused "crapvpn add: peer-port 0 (tool)" "out of range (1-65535)" \
	tool a add cv0 key "$KEY" peer 192.0.2.2 peer-port 0

add_refused "raw: 3-byte peer" "$K_SIZE" nl a add cv0 key="$KEY" peer=hex:c00002
add_refused "raw: 4-byte peer6" "$K_SIZE" nl a add cv0 key="$KEY" peer6=hex:20010db8
add_refused "raw: 4-byte port" "$K_ATTRLEN" nl a add cv0 key="$KEY" "$P4" port=hex:39050000
add_refused "raw: 1-byte peer-port" "$K_ATTRLEN" nl a add cv0 key="$KEY" "$P4" peer_port=hex:05
add_refused "raw: 5-byte local" "$K_SIZE" nl a add cv0 key="$KEY" "$P4" local=hex:c000020100
add_refused "raw: 4-byte local6" "$K_SIZE" nl a add cv0 key="$KEY" local6=hex:20010db8
add_refused "raw: peer and peer6" "$K_TWOPEERS" \
	nl a add cv0 key="$KEY" "$P4" peer6=2001:db8::2
add_refused "raw: local and local6" "$K_TWOLOCALS" \
	nl a add cv0 key="$KEY" "$P4" local=192.0.2.1 local6=2001:db8::1
add_refused "raw: IPv4 peer, IPv6 local" "$K_FAMILY" \
	nl a add cv0 key="$KEY" "$P4" local6=2001:db8::1
add_refused "raw: IPv6 peer, IPv4 local" "$K_FAMILY" \
	nl a add cv0 key="$KEY" peer6=2001:db8::2 local=192.0.2.1
add_refused "ip: IPv4 peer, IPv6 local (plugin)" "not of the same address family as peer" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 local 2001:db8::1
add_refused "crapvpn add: IPv4 peer, IPv6 local (tool)" \
	"local and peer are of different address families" \
	tool a add cv0 key "$KEY" peer 192.0.2.2 local 2001:db8::1
for p in 224.0.0.1 239.1.2.3 0.0.0.0 255.255.255.255 ff02::1 ff0e::5 ::; do
	add_refused "ip: peer $p" "$K_UNICAST" ipa link add cv0 type crapvpn key "$KEY" peer $p
done
add_refused "raw: multicast peer" "$K_UNICAST" nl a add cv0 key="$KEY" peer=224.1.1.1
add_refused "ip: IPv4-mapped IPv6 peer" "$K_MAPPED" \
	ipa link add cv0 type crapvpn key "$KEY" peer ::ffff:192.0.2.2
add_refused "raw: link-local IPv6 peer" "$K_LINKLOCAL" \
	nl a add cv0 key="$KEY" peer6=fe80::2
add_refused "crapvpn add: zero peer" "$K_UNICAST" tool a add cv0 key "$KEY" peer 0.0.0.0
add_refused "raw: KEY_LEN given" "$K_KEYLEN" nl a add cv0 key="$KEY" "$P4" key_len=4
add_refused "raw: KEY_LEN of a wrong size given" "$K_KEYLEN" \
	nl a add cv0 key="$KEY" "$P4" key_len=hex:01
add_refused "raw: PORT_DEVS given" "$K_PORTDEVS" nl a add cv0 key="$KEY" "$P4" port_devs=2
add_refused "raw: mode 2" "$K_RANGE" nl a add cv0 key="$KEY" "$P4" mode=2
add_refused "raw: 2-byte mode" "$K_ATTRLEN" nl a add cv0 key="$KEY" "$P4" mode=hex:0100

# Devices on one port share its socket when each has its own peer.
check "a crapvpn device on port 1400" \
	ipa link add cvp type crapvpn key "$KEY" peer 192.0.2.2 port 1400
add_refused "ip: port 1400 has a device with the same peer and peer port" "$K_SAMEPEER" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 port 1400
add_refused "crapvpn add: the same, with the tool" "$K_SAMEPEER" \
	tool a add cv0 key "$KEY" peer 192.0.2.2 port 1400
add_refused "raw: a device without a peer cannot share port 1400" "$K_NEEDPEER" \
	nl a add cv0 key="$KEY" port=1400
add_refused "ip: local 192.0.2.1 port 1400 taken (any-address bind)" "$K_INUSE" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 port 1400 local 192.0.2.1
check "ip: the same peer address with another peer port shares port 1400" \
	ipa link add cvq type crapvpn key "$KEY" peer 192.0.2.2 peer-port 1499 port 1400
check "ip: another peer shares port 1400" \
	ipa link add cvr type crapvpn key "$KEY" peer 198.18.0.77 port 1400
check_eq "raw dump: cvp, cvq and cvr report 3 devices on their port" \
	"$(for d in cvp cvq cvr; do nl a info $d | grep -o '"port_devs": [0-9]*'; done | tr '\n' ' ')" \
	'"port_devs": 3 "port_devs": 3 "port_devs": 3 '
check_eq "ss: one socket on port 1400" \
	"$(n a ss -u -a -n -H 'sport = :1400' | wc -l)" 1
ipa link del cvq
ipa link del cvr
check_eq "raw dump: cvp alone again" "$(nl a info cvp | grep -o '"port_devs": [0-9]*')" \
	'"port_devs": 1'
check "a device without a peer on port 1406" \
	ipa link add cvn type crapvpn key "$KEY" port 1406
add_refused "ip: port 1406 belongs to a device without a peer" "$K_NOPEER" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 port 1406
ipa link del cvn
check "bind a plain UDP socket to 0.0.0.0:1401" bind_udp a 4 1401
add_refused "ip: port 1401 taken by a plain UDP socket" "$K_INUSE" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 port 1401
check "bind a plain dual-stack UDP socket to [::]:1402" bind_udp a 6 1402
add_refused "ip: port 1402 taken by a dual-stack IPv6 socket" "$K_INUSE" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 port 1402
add_refused "ip: IPv6 port 1402 taken by an IPv6 socket" "$K_INUSE" \
	ipa link add cv0 type crapvpn key "$KEY" peer 2001:db8::2 port 1402
add_refused "ip: local 192.0.2.99 is not on the host" "$K_NOTLOCAL" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 local 192.0.2.99
add_refused "crapvpn add: local 2001:db8::99 is not on the host" "$K_NOTLOCAL" \
	tool a add cv0 key "$KEY" peer 2001:db8::2 local 2001:db8::99
add_refused "ip: local 192.0.2.2 (b's address) is not on the host" "$K_NOTLOCAL" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2 local 192.0.2.2
# Refusals after the socket is bound: the name exists in the target
# namespace (register_netdevice fails), and before: an MTU out of range.
ip netns add c
ip -n c link add cv0 type dummy
add_refused "ip: add into namespace c, where cv0 exists" "File exists" \
	ipa link add cv0 netns c type crapvpn key "$KEY" peer 192.0.2.2 port 1405
check "c's dummy cv0 untouched" bash -c "ip -n c -d link show cv0 | grep -q dummy"
ip netns del c
# link-netns names where the tunnel's socket lives, as for other tunnels;
# the device goes where it was asked for (6.15 changed how newlink() is
# told the two namespaces).
check "ip: add cvn in a with link-netns b" \
	ipa link add cvn link-netns b type crapvpn key "$KEY" peer 192.0.2.1 port 1409
check_eq "cvn's socket is in b" \
	"$(n b ss -u -a -n -H 'sport = :1409' | awk '{ print $4 }')" "0.0.0.0:1409"
check_eq "cvn's socket is not in a" \
	"$(n a ss -u -a -n -H 'sport = :1409' | awk '{ print $4 }')" ""
check "cvn is a's device" ipa link del cvn
add_refused "ip: mtu 40" "mtu less than device minimum" \
	ipa link add cv0 mtu 40 type crapvpn key "$KEY" peer 192.0.2.2 port 1406
add_refused "ip: mtu 65500" "mtu greater than device maximum" \
	ipa link add cv0 mtu 65500 type crapvpn key "$KEY" peer 192.0.2.2 port 1406
check "ip link del cvp" ipa link del cvp
check_eq "no UDP socket of a failed add left in a (only the two plain ones)" \
	"$(n a ss -u -a -n -H | awk '{ print $4 }' | LC_ALL=C sort | tr '\n' ' ')" \
	"*:1402 0.0.0.0:1401 "
check "port 1337 free after all the failed adds: add cv0" \
	ipa link add cv0 type crapvpn key "$KEY" peer 192.0.2.2
check "a v6 crapvpn may share port 1337 with the v4 one" \
	ipa link add cv1 type crapvpn key "$KEY" peer 2001:db8::2
check "raw: IPv4 peer with local6 :: (any) is fine" \
	nl a add cv2 key="$KEY" "$P4" local6=:: port=1403
check_eq "cv2: no local reported" "$(jinfo a cv2)" \
	'{"key_len":32,"peer":"192.0.2.2","peer_port":1337,"port":1403}'
ipa link del cv0
ipa link del cv1
ipa link del cv2

# ---- positive: show, dumps, no key bytes anywhere ----------------------------------
log "the tunnel, shown"
check "tunnel4 with a 32-byte key" tunnel4
check "ping through cv4" ping4
check_eq "ip -d -j: cv4 info_data" "$(jinfo a cv4)" \
	'{"key_len":32,"peer":"192.0.2.2","peer_port":1337,"port":1337}'
check "ip -d link show: peer, ports and key-len" \
	ip_shows a cv4 "crapvpn peer 192.0.2.2 peer-port 1337 port 1337 key-len 32"
check_eq "crapvpn show --json" "$(tinfo a cv4)" \
	'{"ifname":"cv4","key_len":32,"mtu":1464,"peer":"192.0.2.2","peer_port":1337,"port":1337,"state":"UNKNOWN"}'
check "crapvpn show: peer, ports and key-len" \
	shows a cv4 "peer 192.0.2.2 peer-port 1337 port 1337 local any key-len 32"

# 4096-byte keys: crapvpn(8) from a file on one side, raw netlink on the other.
printf '%s\n' "$BIGKEY" | fold -w 64 >"$CV_TMP/bigkey"
check "crapvpn add: 4096-byte key from a file" \
	tool a add cvk key-file "$CV_TMP/bigkey" peer 192.0.2.2 port 1500 peer-port 1500
check "raw: 4096-byte key" \
	nl b add cvk key="$BIGKEY" peer=192.0.2.1 port=1500 peer_port=1500
for ns in a b; do
	o=$([ $ns = a ] && echo 1 || echo 2)
	ip -n $ns addr add 10.50.0.$o peer 10.50.0.$((3 - o)) dev cvk
	ip -n $ns link set cvk up
done
check "ping through the 4096-byte-key tunnel" n a ping -c 2 -i 0.2 -W 3 10.50.0.2
check_eq "ip -d -j: key_len 4096" "$(jinfo a cvk)" \
	'{"key_len":4096,"peer":"192.0.2.2","peer_port":1500,"port":1500}'
check_eq "raw dump: key_len 4096" \
	"$(nl b info cvk)" '{"key_len": 4096, "kind": "crapvpn", "mode": "l3", "peer": "192.0.2.1", "peer_port": 1500, "port": 1500, "port_devs": 1}'

for ns in a b; do
	{
		ip -n $ns -d link show
		ip -n $ns -d -j link show
		ip -n $ns -d -s -s link show
		ip -n $ns -d -j -p link show cv4
		tool $ns show
		tool $ns show --json
		tool $ns show cvk
		n $ns ethtool -S cv4
		n $ns ethtool -i cv4
	} >"$CV_TMP/shown.$ns" 2>&1
	check "ns $ns: no bytes of the 32-byte key in ip -d / crapvpn show / ethtool" \
		"$PY" "$HELPERS/cvnl.py" textleak "$KEY" "$CV_TMP/shown.$ns"
	check "ns $ns: no bytes of the 4096-byte key in ip -d / crapvpn show / ethtool" \
		"$PY" "$HELPERS/cvnl.py" textleak "$BIGKEY" "$CV_TMP/shown.$ns"
	check "ns $ns: no bytes of the 32-byte key in the raw RTM_GETLINK dump" \
		nl $ns keyleak "$KEY"
	check "ns $ns: no bytes of the 4096-byte key in the raw RTM_GETLINK dump" \
		nl $ns keyleak "$BIGKEY"
done
# Port 1500 is used again below.
check "delete the 4096-byte-key devices" eval "ipa link del cvk && ipb link del cvk"
check "crapvpn add: a bad port after the key is refused, and says so" \
	bash -c "! '$CV_TOOL' add cvx key $KEY peer 192.0.2.2 port 0 >'$CV_TMP/refused' 2>&1 &&
		grep -q 'port \"0\": out of range' '$CV_TMP/refused'"
check "crapvpn add refused: no key bytes" "$PY" "$HELPERS/cvnl.py" textleak "$KEY" "$CV_TMP/refused"

# ---- invalid sets: refused, nothing changed -------------------------------------
log "invalid changes of a live device"
set_refused "raw set: empty key" "$K_SIZE" nl a set cv4 key=hex:
set_refused "raw set: 4097-byte key" "$K_SIZE" nl a set cv4 key=rand:4097:s
set_refused "raw set: port 0" "$K_RANGE" nl a set cv4 port=0
set_refused "raw set: peer-port 0" "$K_RANGE" nl a set cv4 peer_port=0
set_refused "raw set: 3-byte peer" "$K_SIZE" nl a set cv4 peer=hex:c00002
set_refused "raw set: 4-byte peer6" "$K_SIZE" nl a set cv4 peer6=hex:20010db8
set_refused "raw set: 4-byte port" "$K_ATTRLEN" nl a set cv4 port=hex:39050000
set_refused "raw set: 5-byte local" "$K_SIZE" nl a set cv4 local=hex:c000020100
set_refused "raw set: peer and peer6" "$K_TWOPEERS" nl a set cv4 peer=192.0.2.2 peer6=2001:db8::2
set_refused "raw set: KEY_LEN" "$K_KEYLEN" nl a set cv4 key_len=32
set_refused "raw set: PORT_DEVS" "$K_PORTDEVS" nl a set cv4 port_devs=1
set_refused "raw set: an IPv6 local on an IPv4 peer" "$K_FAMILY" nl a set cv4 local6=2001:db8::1
set_refused "raw set: an IPv6 peer with an IPv4 local" "$K_FAMILY" \
	nl a set cv4 peer6=2001:db8::2 local=192.0.2.1
set_refused "ip set: multicast peer" "$K_UNICAST" ipa link set cv4 type crapvpn peer 224.0.0.9
set_refused "crapvpn set: zero peer" "$K_UNICAST" tool a set cv4 peer 0.0.0.0
set_refused "ip set: link-local IPv6 peer" "$K_LINKLOCAL" \
	ipa link set cv4 type crapvpn peer fe80::1
set_refused "crapvpn set: empty key (tool)" "empty (at least 1 byte" tool a set cv4 key ""
check "a crapvpn device on port 1400 again" \
	ipa link add cvp type crapvpn key "$KEY" peer 192.0.2.2 port 1400
set_refused "ip set: port 1400 has a device with cv4's peer and peer port" "$K_SAMEPEER" \
	ipa link set cv4 type crapvpn port 1400
set_refused "ip set: port 1401 taken by a plain socket" "$K_INUSE" \
	ipa link set cv4 type crapvpn port 1401
set_refused "ip set: local 192.0.2.99 (same port: rebind fails, old socket back)" \
	"$K_NOTLOCAL" ipa link set cv4 type crapvpn local 192.0.2.99
set_refused "crapvpn set: local 192.0.2.99 port 1404" "$K_NOTLOCAL" \
	tool a set cv4 local 192.0.2.99 port 1404
set_refused "crapvpn set: IPv6 peer and a local IPv6 address not on the host" \
	"$K_NOTLOCAL" tool a set cv4 peer 2001:db8::2 local 2001:db8::99
ipa link del cvp
check "ping through cv4 after the refused changes (key and socket intact)" ping4

# ---- live changes --------------------------------------------------------------
log "live changes"
NEWKEY=$(od -An -tx1 -N48 /dev/urandom | tr -d ' \n')
check "ip set: new 48-byte key on a only" ipa link set cv4 type crapvpn key "$NEWKEY"
check "ping fails with different keys" ping_fails
check_eq "ip -d -j: key_len 48, the rest kept" "$(jinfo a cv4)" \
	'{"key_len":48,"peer":"192.0.2.2","peer_port":1337,"port":1337}'
check "crapvpn set: the same key on b (key-file -)" \
	bash -c "echo '$NEWKEY' | ip netns exec b '$CV_TOOL' set cv4 key-file -"
check "ping works with the new key on both ends" ping4
check "ns a: no bytes of the new key in ip -d / show" \
	bash -c "{ ip -n a -d link show; ip -n a -d -j link show; ip netns exec a '$CV_TOOL' show --json; } >'$CV_TMP/shown2' 2>&1 &&
		'$PY' '$HELPERS/cvnl.py' textleak '$NEWKEY' '$CV_TMP/shown2'"
check "ns a: no bytes of the new key in the raw dump" nl a keyleak "$NEWKEY"

# Peer: move both underlay ends to new addresses (another subnet), then
# take the old ones away: only the new peers can carry the traffic.
ipa addr add 198.18.0.1/24 dev va
ipb addr add 198.18.0.2/24 dev vb
check "ip set: a's peer 198.18.0.2" ipa link set cv4 type crapvpn peer 198.18.0.2
check "crapvpn set: b's peer 198.18.0.1" tool b set cv4 peer 198.18.0.1
check_eq "ip -d -j: new peer, the rest kept" "$(jinfo a cv4)" \
	'{"key_len":48,"peer":"198.18.0.2","peer_port":1337,"port":1337}'
ipa addr del 192.0.2.1/24 dev va
ipb addr del 192.0.2.2/24 dev vb
check "ping over the new peer addresses only" ping4
ipa addr add 192.0.2.1/24 dev va
ipb addr add 192.0.2.2/24 dev vb

# Port and peer-port.
check "ip set: a's port 1500" ipa link set cv4 type crapvpn port 1500
check "ip set: b's peer-port 1500" ipb link set cv4 type crapvpn peer-port 1500
check_eq "ss: a listens on 1500, not 1337" \
	"$(n a ss -u -a -n -H | awk '{ print $4 }' | grep -E ':(1337|1500)$' | sort | tr '\n' ' ')" \
	"0.0.0.0:1500 "
check "ping with the new port" ping4
check_eq "crapvpn show --json: port 1500" "$(tinfo a cv4)" \
	'{"ifname":"cv4","key_len":48,"mtu":1464,"peer":"198.18.0.2","peer_port":1337,"port":1500,"state":"UNKNOWN"}'
check_eq "b: peer_port 1500" "$(jinfo b cv4)" \
	'{"key_len":48,"peer":"198.18.0.1","peer_port":1500,"port":1337}'

# Local address.
check "crapvpn set: a's local 198.18.0.1" tool a set cv4 local 198.18.0.1
check_eq "ss: a's socket bound to 198.18.0.1:1500" \
	"$(n a ss -u -a -n -H 'sport = :1500' | awk '{ print $4 }')" "198.18.0.1:1500"
check_eq "ip -d -j: local shown" "$(jinfo a cv4)" \
	'{"key_len":48,"local":"198.18.0.1","peer":"198.18.0.2","peer_port":1337,"port":1500}'
check "ping with a local address" ping4
# A rebind that loses the socket: a's local address goes away under it,
# another socket holds the port on a third address, so neither "any" nor
# the old address can be bound. The device is left without a socket; the
# next change, even one to the same values, binds again.
ipa addr add 198.18.0.3/32 dev va
check "bind a plain UDP socket to 198.18.0.3:1500" bind_udp a 4 1500 198.18.0.3
holder=${CV_PIDS[-1]}
ipa addr del 198.18.0.1/24 dev va
refused "ip set: local any while 198.18.0.3:1500 is held" "$K_INUSE" \
	ipa link set cv4 type crapvpn local 0.0.0.0
check_eq "ss: only the other socket is left on 1500" \
	"$(n a ss -u -a -n -H 'sport = :1500' | awk '{ print $4 }')" "198.18.0.3:1500"
kill_tree "$holder"
check "the other socket is gone" wait_for 20 \
	eval "[ -z \"\$(n a ss -u -a -n -H 'sport = :1500')\" ]"
ipa addr del 198.18.0.3/32 dev va
ipa addr add 198.18.0.1/24 dev va
silent "ip set: a's local 198.18.0.1 again (what the device still has)" \
	ipa link set cv4 type crapvpn local 198.18.0.1
check_eq "ss: bound to 198.18.0.1:1500 again" \
	"$(n a ss -u -a -n -H 'sport = :1500' | awk '{ print $4 }')" "198.18.0.1:1500"
check "ping after the lost socket came back" ping4
silent "ip set: a's local 0.0.0.0 (any), a rebind on the same port" \
	ipa link set cv4 type crapvpn local 0.0.0.0
check_eq "ss: a's socket bound to any again" \
	"$(n a ss -u -a -n -H 'sport = :1500' | awk '{ print $4 }')" "0.0.0.0:1500"
check "ping with any local address" ping4

# Peer family: IPv4 underlay to IPv6 underlay on the same device.
check "ip set: a's peer 2001:db8::2" ipa link set cv4 type crapvpn peer 2001:db8::2
check "raw set: b's peer6 2001:db8::1" nl b set cv4 peer6=2001:db8::1
check_eq "ss: a's socket is an IPv6 one on [::]:1500 now" \
	"$(n a ss -u -a -n -H 'sport = :1500' | awk '{ print $4 }')" "[::]:1500"
check_eq "ip -d -j: IPv6 peer" "$(jinfo a cv4)" \
	'{"key_len":48,"peer":"2001:db8::2","peer_port":1337,"port":1500}'
check "ping over the IPv6 underlay" ping4
check "crapvpn set: a's local 2001:db8::1" tool a set cv4 local 2001:db8::1
check_eq "ss: a's socket bound to [2001:db8::1]:1500" \
	"$(n a ss -u -a -n -H 'sport = :1500' | awk '{ print $4 }')" "[2001:db8::1]:1500"
check "ping with an IPv6 local address" ping4
check "raw set: back to IPv4 in one request (peer, local any)" \
	nl a set cv4 peer=192.0.2.2 local=0.0.0.0 port=1337
check "raw set: b back to IPv4" nl b set cv4 peer=192.0.2.1 peer_port=1337
check_eq "ip -d -j: IPv4 again" "$(jinfo a cv4)" \
	'{"key_len":48,"peer":"192.0.2.2","peer_port":1337,"port":1337}'
check "ping after all the changes" ping4

cleanup
finish
