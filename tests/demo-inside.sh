#!/bin/bash
# The demo, inside the VM: two peers in two namespaces, a crapvpn tunnel
# between them, and traffic through it. Run by tests/demo.sh.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
export TAP_RESULTS=/tmp/demo-results
. "$ROOT/tests/net/lib.sh"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

for dep in $(modinfo -F depends "$1" | tr , ' '); do modprobe "$dep"; done
run insmod "$1"
setup_pair
say "two namespaces a (192.0.2.1) and b (192.0.2.2) joined by veth"
run ip -n a link add cv0 type crapvpn key 1234abcd peer 192.0.2.2
run ip -n b link add cv0 type crapvpn key 1234abcd peer 192.0.2.1
run ip -n a addr add 10.99.0.1 peer 10.99.0.2 dev cv0
run ip -n b addr add 10.99.0.2 peer 10.99.0.1 dev cv0
ipa link set cv0 up
ipb link set cv0 up
run ip -n a -d link show cv0
n a tcpdump -i va -c 2 -nn -X udp port 1337 2>/dev/null &
dump=$!
run ip netns exec a ping -c 3 10.99.0.2
wait $dump || true
say "the datagrams above start with 63 72 61 70 ('crap') after the UDP header"
n b iperf3 -s -D -I /tmp/iperf3.pid
wait_for 10 n a bash -c 'echo >/dev/tcp/10.99.0.2/5201'
run ip netns exec a iperf3 -c 10.99.0.2 -t 5 --forceflush
kill "$(cat /tmp/iperf3.pid)"
run ip -n b -s link show cv0
run ip netns exec b ethtool -S cv0
cleanup_pair
