#!/bin/bash
# Smoke test: create a tunnel over each underlay family and ping through it.
. "$(dirname "$0")/lib.sh"

setup_pair
check "create the IPv4-underlay tunnel" tunnel4
check "create the IPv6-underlay tunnel" tunnel6
check "ping inner IPv4 over IPv4" n a ping -c 3 -i 0.2 -W 5 198.51.100.2
check "ping inner IPv6 over IPv4" n a ping -c 3 -i 0.2 -W 5 fd00:4::2
check "ping inner IPv4 over IPv6" n a ping -c 3 -i 0.2 -W 5 203.0.113.2
check "ping inner IPv6 over IPv6" n a ping -c 3 -i 0.2 -W 5 fd00:6::2
check_ge "rx packets counted on b" "$(link_stat b cv4 rx_packets)" 6
check_ge "tx packets counted on a" "$(link_stat a cv4 tx_packets)" 6
finish
