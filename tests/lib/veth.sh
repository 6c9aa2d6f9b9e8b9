# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# tests/lib/veth.sh: two network namespaces joined by veth, for the tests
# that run on the host (tests/userspace/netns-test.sh,
# tools/wireshark/test.sh). Sourced, not run. (The in-VM tests have their
# own fixed topology: tests/net/lib.sh, setup_pair.)

# veth_pair NS_A NS_B ADDR_A ADDR_B PREFIXLEN [nodad]: makes the namespaces,
# va in NS_A and vb in NS_B, each addressed and up (nodad: an IPv6 address
# usable at once, without duplicate address detection).
veth_pair() {
	local a=$1 b=$2 ua=$3 ub=$4 plen=$5 nodad=${6:-}
	ip netns add "$a" && ip netns add "$b" &&
	ip link add va netns "$a" type veth peer name vb netns "$b" &&
	ip -n "$a" link set lo up && ip -n "$b" link set lo up &&
	ip -n "$a" addr add "$ua/$plen" dev va $nodad &&
	ip -n "$b" addr add "$ub/$plen" dev vb $nodad &&
	ip -n "$a" link set va up && ip -n "$b" link set vb up
}
