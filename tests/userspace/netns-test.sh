#!/bin/bash
# Two crapvpn-userspace.py peers in two network namespaces joined by veth:
# ping and a TCP transfer with a sha256 check through the tunnel, then every
# drop vector thrown at one peer, which must count them and keep forwarding.
# Once over an IPv4 underlay and once over IPv6. Needs root, TUN and netns.
#
# usage: netns-test.sh [VECTORS.jsonl]
set -u
here=$(cd "$(dirname "$0")" && pwd)
vectors=${1:-$here/../vectors/wire-vectors.jsonl}
# The system python if there is one: a version manager's shim can take
# seconds to start, and only the standard library is used.
python=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
peer="$python $here/crapvpn-userspace.py"
helper="$python $here/netns_helper.py"
key=1234abcd5e
a=crapA$$ b=crapB$$
tmp=$(mktemp -d)
pids=()
# shellcheck source=tests/lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=tests/lib/veth.sh
. "$here/../lib/veth.sh"
tap_init

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del $a 2>/dev/null
	ip netns del $b 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

wait_up() {	# wait_up NS: until its crap0 is up, at most 5 s
	for _ in $(seq 50); do
		ip -n "$1" link show crap0 2>/dev/null | grep -q ',UP' && return 0
		sleep 0.1
	done
	return 1
}

# run_case NAME FLAGS UNDERLAY_A UNDERLAY_B PREFIXLEN TUNNEL_NET
run_case() {
	local name=$1 flags=$2 ua=$3 ub=$4 plen=$5 net=$6 rc
	veth_pair $a $b "$ua" "$ub" "$plen" ${flags:+nodad} ||
		{ fail "$name: namespaces joined by veth"; return; }

	# Each peer sends to the other's underlay address.
	ip netns exec $a $peer $flags -k $key -p "$ub" "$net.1" "$net.2" \
		2>"$tmp/a.err" &
	pids+=($!)
	ip netns exec $b $peer $flags -k $key -p "$ua" "$net.2" "$net.1" \
		2>"$tmp/b.err" &
	local pid_b=$!
	pids+=($pid_b)
	wait_up $a && wait_up $b
	tap_rc "$name: both peers up" $?

	ip netns exec $a $helper ping "$net.2" 3 >"$tmp/ping" 2>&1
	rc=$?; cat "$tmp/ping" | sed 's/^/     /'
	tap_rc "$name: ping through the tunnel" $rc

	ip netns exec $b $helper serve "$net.2" 5001 >"$tmp/recv" &
	local srv=$!
	ip netns exec $a $helper send "$net.2" 5001 $((8 << 20)) >"$tmp/sent" 2>"$tmp/rate"
	wait $srv
	echo "     8 MiB at $(cat "$tmp/rate")"
	cmp -s "$tmp/sent" "$tmp/recv" && [ -s "$tmp/sent" ]
	tap_rc "$name: TCP transfer, sha256 equal" $?

	ip netns exec $a $helper garbage "$ub" 1337 "$vectors" >/dev/null
	ip netns exec $a $helper ping "$net.2" 1 >/dev/null 2>&1
	rc=$?
	kill -0 $pid_b 2>/dev/null && [ $rc -eq 0 ]
	tap_rc "$name: peer survives every drop vector and still forwards" $?

	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait "${pids[@]}" 2>/dev/null
	pids=()
	sed 's/^/     /' "$tmp/b.err"
	grep -q 'short=3 bad-magic=2 bad-length=4 empty=1 not-ip=2 ' "$tmp/b.err"
	tap_rc "$name: drops counted by reason, printed on SIGTERM" $?

	ip netns del $a; ip netns del $b
}

if ! ip tuntap add dev crapprobe$$ mode tun 2>/dev/null; then
	skip "two peers over TUN: no TUN device support here"
	tap_summary
	exit
fi
ip tuntap del dev crapprobe$$ mode tun

run_case "IPv4 underlay" "" 10.77.0.1 10.77.0.2 24 192.168.77
run_case "IPv6 underlay" "-6" fd77::1 fd77::2 64 192.168.78

tap_summary
