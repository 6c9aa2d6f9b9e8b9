#!/bin/bash
# crapvpn(8) as an operator uses it: `crapvpn show` with counters (packets
# and bytes that moved after a ping, drops by reason as ethtool -S names
# them, its JSON against `ip -j -s -d link show`, the key never shown), and
# `crapvpn up` / `down` from a configuration file (crapvpn.conf(5)): up,
# up again with changes applied live to the same device, down, bad files
# refused with FILE:LINE and nothing changed.
. "$(dirname "$0")/lib.sh"
need python3 ethtool

PY=python3
HELPERS=$CV_ROOT/tests/net/helpers
KEY=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

says() { grep -qF -- "$1" "$CV_TMP/out" || { cat "$CV_TMP/out"; return 1; }; }

# like_ip NS [DEV]: crapvpn show --json between two `ip -j -s -d link show`:
# the same members as ip (its operstate is our state, its info_data our
# peer, ports, local and key_len), unset ones left out alike, no null, and
# each counter of stats64 between ip's before and after.
like_ip() {
	local ns=$1
	shift
	ip -n "$ns" -j -s -d link show "$@" >"$CV_TMP/ip1.json" &&
		tool "$ns" show --json "$@" >"$CV_TMP/mine.json" &&
		ip -n "$ns" -j -s -d link show "$@" >"$CV_TMP/ip2.json" &&
		"$PY" - "$CV_TMP/mine.json" "$CV_TMP/ip1.json" "$CV_TMP/ip2.json" <<'PY'
import json, sys
mine = json.load(open(sys.argv[1]))
ip1 = {d["ifname"]: d for d in json.load(open(sys.argv[2]))}
ip2 = {d["ifname"]: d for d in json.load(open(sys.argv[3]))}
assert mine, "no device shown"
for m in mine:
    i = ip1[m["ifname"]]
    info = i.get("linkinfo", {}).get("info_data", {})
    want = {"ifname": i["ifname"], "ifindex": i["ifindex"], "mtu": i["mtu"],
            "state": i["operstate"]}
    for k in ("peer", "peer_port", "port", "local", "key_len"):
        if k in info:
            want[k] = info[k]
    got = {k: v for k, v in m.items() if k not in ("stats64", "drops")}
    assert got == want, ("members", got, want)
    assert None not in got.values(), got
    for d in ("rx", "tx"):
        for k in ("bytes", "packets", "errors", "dropped"):
            lo = i["stats64"][d][k]
            hi = ip2[m["ifname"]]["stats64"][d][k]
            v = m["stats64"][d][k]
            assert lo <= v <= hi, (d, k, lo, v, hi)
print("agree:", [m["ifname"] for m in mine])
PY
}

# drops_like_ethtool NS DEV: the "drops" of show --json are exactly the
# rx_drop_* and tx_drop_* counters of ethtool -S, with their values.
drops_like_ethtool() {
	n "$1" ethtool -S "$2" >"$CV_TMP/ethtool" &&
		tool "$1" show --json "$2" >"$CV_TMP/mine.json" &&
		"$PY" - "$CV_TMP/mine.json" "$CV_TMP/ethtool" <<'PY'
import json, re, sys
mine = json.load(open(sys.argv[1]))[0]["drops"]
eth = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s*([rt]x_drop_\w+):\s*(\d+)", line)
    if m:
        eth[m.group(1)] = int(m.group(2))
assert eth, "ethtool -S shows no drop counters"
assert mine == eth, (mine, eth)
print(len(eth), "drop counters agree")
PY
}

# jget NS DEV EXPR: a Python expression over d, the show --json object.
jget() {
	tool "$1" show --json "$2" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)[0]
print(eval(sys.argv[1]))' "$3"
}

setup_pair

# ---- show: counters ---------------------------------------------------------------
log "show: counters, JSON against ip, drops"
check "tunnel over IPv4" tunnel4
check "ping through it" n a ping -c 5 -i 0.2 -W 3 198.51.100.2
rxp=$(jget a cv4 'd["stats64"]["rx"]["packets"]')
txp=$(jget a cv4 'd["stats64"]["tx"]["packets"]')
check_ge "show --json: rx packets moved after the ping" "$rxp" 5
check_ge "show --json: tx packets moved after the ping" "$txp" 5
check_ge "show --json: rx bytes moved (5 x 84)" "$(jget a cv4 'd["stats64"]["rx"]["bytes"]')" 420
tool a show cv4 >"$CV_TMP/show.txt"
check "show: the transfer line" grep -E \
	'^    transfer: [0-9.]+ (B|KiB) received \([0-9]+ packets\), [0-9.]+ (B|KiB) sent \([0-9]+ packets\)$' \
	"$CV_TMP/show.txt"
sed 's/^/# /' "$CV_TMP/show.txt"
check "show: no drops line while every drop counter is 0" \
	bash -c "! ip netns exec a '$CV_TOOL' show cv4 | grep -q drops"
check_show "show --json agrees with ip -j -s -d link show (one device)" like_ip a cv4
check_show "show --json agrees with ip -j -s -d link show (all)" like_ip a
check_eq "show --json: state is ip's operstate" "$(jget a cv4 'd["state"]')" \
	"$(ipa -j link show cv4 | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["operstate"])')"
check_show "show --json: drops are ethtool -S's rx_drop_*/tx_drop_*" drops_like_ethtool a cv4

# A device without a peer answers with ICMP and counts tx_drop_no_peer.
ipa link add cvn type crapvpn key "$KEY" port 1400
ipa addr add 10.77.0.1 peer 10.77.0.2 dev cvn
# No IPv6 on it: router solicitations would count while we compare.
n a sh -c 'echo 1 >/proc/sys/net/ipv6/conf/cvn/disable_ipv6'
ipa link set cvn up
n a ping -c 3 -i 0.2 -W 1 10.77.0.2 >/dev/null 2>&1
np=$(ethtool_stat a cvn tx_drop_no_peer)
check_ge "a peerless device counted tx_drop_no_peer" "$np" 3
check "show: drops: tx_drop_no_peer, as ethtool -S counts it" bash -c \
	"ip netns exec a '$CV_TOOL' show cvn | grep -xE '    drops: tx_drop_no_peer $np'"
check_show "show --json: drops of the peerless device" drops_like_ethtool a cvn
check_eq "show --json: no peer member when there is none" \
	"$(jget a cvn '"peer" in d')" False
check_show "show --json and ip agree on what is unset (no peer, local any)" like_ip a cvn
ipa link set cvn down
check_eq "show --json: a device set down is DOWN" "$(jget a cvn 'd["state"]')" DOWN
check_show "... as ip says" like_ip a cvn
check "show: state DOWN in the text" bash -c \
	"ip netns exec a '$CV_TOOL' show cvn | grep -q '^cvn: state DOWN mtu'"
{
	tool a show
	tool a show --json
	tool a show cv4
} >"$CV_TMP/shown" 2>&1
check "show / show --json: no bytes of the key" \
	"$PY" "$HELPERS/cvnl.py" textleak "$KEY" "$CV_TMP/shown"
check "show: the key by its length" grep -q 'key-len 16' "$CV_TMP/shown"
ipa link del cvn
ipa link del cv4
ipb link del cv4

# ---- up / down from a configuration file ------------------------------------------
log "crapvpn up / down"
mkdir -p "$CV_TMP/a" "$CV_TMP/b"
(umask 077; printf '%s\n' "$KEY" >"$CV_TMP/cvc.key")
# conf NS LINES...: $CV_TMP/NS/cvc.conf, mode 600
conf() {
	local f=$CV_TMP/$1/cvc.conf
	shift
	printf '%s\n' "$@" >"$f"
	chmod 600 "$f"
}
conf a "# a's end" "key-file = $CV_TMP/cvc.key" "peer = 192.0.2.2" \
	"address = 10.88.0.1 peer 10.88.0.2" "address = fd00:88::1/64" \
	"post-up = echo %i >>$CV_TMP/a/post-up" "pre-down = echo %i >>$CV_TMP/a/pre-down"
conf b "key = $KEY" "peer = 192.0.2.1" "address = 10.88.0.2 peer 10.88.0.1" \
	"address = fd00:88::2/64"
check "up a" status 0 tool a up "$CV_TMP/a/cvc.conf"
check "... says so" says "cvc: created from $CV_TMP/a/cvc.conf, up"
check "up b (key in the file)" status 0 tool b up "$CV_TMP/b/cvc.conf"
check_eq "post-up ran once, with %i" "$(cat "$CV_TMP/a/post-up" 2>&1)" cvc
check "the device is up" bash -c "ip -n a link show cvc | grep -q '<.*UP.*>'"
check_eq "its settings" "$(jget a cvc '[d[k] for k in ("peer", "peer_port", "port", "key_len")]')" \
	"['192.0.2.2', 1337, 1337, 16]"
# addrs NS: the device's addresses, sorted, as "LOCAL[ PEER]/PLEN"
addrs() {
	ip -n "$1" -j addr show dev cvc | "$PY" -c '
import json, sys
out = []
for a in json.load(sys.stdin)[0]["addr_info"]:
    if a["local"].startswith("fe80"):
        continue
    p = " " + a["address"] if a.get("address") else ""
    out.append("%s%s/%d" % (a["local"], p, a["prefixlen"]))
print(",".join(sorted(out)))'
}
check_eq "the file's addresses" "$(addrs a)" "10.88.0.1 10.88.0.2/32,fd00:88::1/64"
check "ping over the configured tunnel" n a ping -c 2 -i 0.2 -W 3 10.88.0.2
check "ping6 over it" n a ping -c 2 -i 0.2 -W 3 fd00:88::2

# Up again with a changed peer, port and addresses: the same device, live.
idx=$(n a cat /sys/class/net/cvc/ifindex)
ipb addr add 192.0.2.3/24 dev vb
conf a "key-file = $CV_TMP/cvc.key" "peer = 192.0.2.3" \
	"address = 10.88.0.1 peer 10.88.0.2" "address = fd00:88::11/64" \
	"post-up = echo %i >>$CV_TMP/a/post-up" "pre-down = echo %i >>$CV_TMP/a/pre-down"
n a ping -c 30 -i 0.2 -W 2 10.88.0.2 >"$CV_TMP/ping" 2>&1 &
ppid=$!
sleep 1
check "up on the running tunnel (peer and an address changed)" \
	status 0 tool a up "$CV_TMP/a/cvc.conf"
check "... says what it did" says "cvc: updated from $CV_TMP/a/cvc.conf"
check "... added the new address" says "added address fd00:88::11/64"
check "... removed the old one" says "removed address fd00:88::1/64"
wait "$ppid"
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$CV_TMP/ping")
log "ping during the change: $(grep 'received' "$CV_TMP/ping")"
check_ge "traffic went on across the change (of 30 pings)" "${got:-0}" 26
check_eq "the same device (ifindex)" "$(n a cat /sys/class/net/cvc/ifindex)" "$idx"
check_eq "the new settings" "$(jget a cvc '[d[k] for k in ("peer", "peer_port", "port")]')" \
	"['192.0.2.3', 1337, 1337]"
check_eq "the new addresses" "$(addrs a)" "10.88.0.1 10.88.0.2/32,fd00:88::11/64"
check "ping6 to b from the new address" \
	wait_for 10 n a ping -c 1 -W 2 -I fd00:88::11 fd00:88::2
check_eq "post-up did not run again" "$(cat "$CV_TMP/a/post-up")" cvc
check "up with the same file again" status 0 tool a up "$CV_TMP/a/cvc.conf"
check "... changes no address" bash -c "! grep -q address '$CV_TMP/out'"
check_eq "... the same device" "$(n a cat /sys/class/net/cvc/ifindex)" "$idx"

# Bad files change nothing.
tool a show --json cvc | "$PY" -c 'import json, sys; d = json.load(sys.stdin)[0]; d.pop("stats64"); d.pop("drops"); print(d)' >"$CV_TMP/before"
unchanged() {
	tool a show --json cvc | "$PY" -c 'import json, sys; d = json.load(sys.stdin)[0]; d.pop("stats64"); d.pop("drops"); print(d)' |
		diff "$CV_TMP/before" - && [ "$(addrs a)" = "10.88.0.1 10.88.0.2/32,fd00:88::11/64" ]
}
cp "$CV_TMP/a/cvc.conf" "$CV_TMP/good.conf"
conf a "key-file = $CV_TMP/cvc.key" "peer = 192.0.2.2" "port = 70000"
check "up: a bad port refused" status 1 tool a up "$CV_TMP/a/cvc.conf"
check "... naming file and line" says "crapvpn: $CV_TMP/a/cvc.conf:3: port \"70000\": out of range"
check "... and nothing changed (peer kept)" unchanged
conf a "key-file = $CV_TMP/cvc.key" "peer = 192.0.2.2" "address = 10.88.9.1" "frob = 1"
check "up: an unknown setting after good ones refused" status 1 tool a up "$CV_TMP/a/cvc.conf"
check "... naming file and line" says "$CV_TMP/a/cvc.conf:4: unknown setting \"frob\""
check "... nothing changed (no address added)" unchanged
conf a "key = $KEY" "peer = 192.0.2.2"
chmod 644 "$CV_TMP/a/cvc.conf"
check "up: a key in a file others can read is refused" status 1 tool a up "$CV_TMP/a/cvc.conf"
check "... says so" says "holds a key but not only root can read it"
check "... nothing changed" unchanged
conf a "key-file = $CV_TMP/cvc.key" "address = 10.88.0.1 peer 10.88.0.2"
check "up: a file without the running device's peer is refused" status 1 tool a up "$CV_TMP/a/cvc.conf"
check "... says why" says "a peer cannot be removed live"
check "... nothing changed" unchanged
ipa link add cvx type dummy 2>/dev/null || ipa link add cvx type veth peer cvy
printf 'key = 12\n' >"$CV_TMP/a/cvx.conf"
chmod 600 "$CV_TMP/a/cvx.conf"
check "up: a device of another kind refused" status 1 tool a up "$CV_TMP/a/cvx.conf"
check "... says so" says "not a crapvpn device"
ipa link del cvx
cp "$CV_TMP/good.conf" "$CV_TMP/a/cvc.conf"
check "ping still works" n a ping -c 2 -i 0.2 -W 3 10.88.0.2

# down
check "down a" status 0 tool a down "$CV_TMP/a/cvc.conf"
check_eq "pre-down ran, with %i" "$(cat "$CV_TMP/a/pre-down" 2>&1)" cvc
check_fails "the device is gone" ipa link show cvc
check "down again: refused" status 1 tool a down "$CV_TMP/a/cvc.conf"
check "... no such device" says "no such device"
check "down b, by a file without commands" status 0 tool b down "$CV_TMP/b/cvc.conf"
check_fails "b's device is gone" ipb link show cvc

# A failing post-up leaves no device behind.
conf a "key-file = $CV_TMP/cvc.key" "peer = 192.0.2.2" "address = 10.88.0.1/24" "post-up = exit 7"
check "up: a failing post-up fails the up" status 1 tool a up "$CV_TMP/a/cvc.conf"
check "... says so" says 'post-up "exit 7" failed (exit status 7)'
check_fails "... and leaves no device" ipa link show cvc
# The kernel's refusal (a shared port needs peers) too: file named, no
# device left.
ipa link add cvp type crapvpn key 12 port 1600
conf a "key-file = $CV_TMP/cvc.key" "port = 1600"
check "up: the kernel's refusal is reported" status 1 tool a up "$CV_TMP/a/cvc.conf"
check "... with its message" says "a device that shares its port needs a peer"
check_fails "... and no device is left" ipa link show cvc
ipa link del cvp

# crapvpn@.service under a real systemd: tests/pkg/systemd-test.sh.
finish
