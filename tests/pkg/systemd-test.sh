#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# crapvpn@.service under a real systemd: boots bookworm's 6.1 kernel in the
# VM with the host's systemd as PID 1 (tests/vm/vm-run --systemd) and there,
# as a user would: make -C tools install, a file in /etc/crapvpn,
# systemctl enable --now, traffic through the tunnel, a changed file
# applied by systemctl reload (same device), systemctl stop, and files the
# unit must refuse (a syntax error, a key readable by others).
#
#   tests/pkg/systemd-test.sh            (host: builds, boots, reports)
#   tests/pkg/systemd-test.sh --inside  (in the VM, run by the above: the
#                                        module is $VM_OUT/crapvpn.ko)
#
# The VM's /etc and /usr are tmpfs overlays over the host's: what make
# install and systemctl enable write there is gone when the VM powers off.
set -u -o pipefail

. "$(dirname "$0")/lib.sh"

OUT=${CRAPVPN_PKG_OUT:-/var/tmp/crapvpn-pkg}/systemd
KEY=00112233445566778899aabbccddeeff
UNIT=crapvpn@cv0

# A peer in namespace b, over veth: 192.0.2.1 (here) - 192.0.2.2 (b),
# tunnel 10.99.0.1 - 10.99.0.2.
peer_ns() {
	ip netns add b &&
	ip link add va type veth peer name vb netns b &&
	ip addr add 192.0.2.1/24 dev va && ip link set va up &&
	ip -n b addr add 192.0.2.2/24 dev vb && ip -n b link set vb up &&
	ip -n b link set lo up &&
	ip netns exec b crapvpn add cv0 key "$KEY" peer 192.0.2.1 &&
	ip -n b addr add 10.99.0.2 peer 10.99.0.1 dev cv0 &&
	ip -n b link set cv0 up
}

conf() {	# conf MODE LINES...: /etc/crapvpn/cv0.conf
	local mode=$1
	shift
	mkdir -p /etc/crapvpn
	printf '%s\n' "$@" >/etc/crapvpn/cv0.conf
	chmod "$mode" /etc/crapvpn/cv0.conf
}

good_conf() {	# good_conf [EXTRA LINE]
	conf 600 "# written by tests/pkg/systemd-test.sh" "key = $KEY" \
		"peer = 192.0.2.2" "address = 10.99.0.1 peer 10.99.0.2" "$@"
}

# refused MSG PATTERN: the unit fails to start, its journal says PATTERN,
# and no device was made.
refused() {
	check_fails "$1: systemctl start fails" systemctl start "$UNIT"
	check "... and says why" \
		sh -c "journalctl -b -u '$UNIT' --no-pager | grep -q -- '$2'"
	check_fails "... and makes no device" ip link show cv0
	systemctl reset-failed "$UNIT" 2>/dev/null
}

inside() {
	local idx
	exec >"$VM_OUT/inside.log" 2>&1
	check_eq "PID 1 is systemd" "$(cat /proc/1/comm)" systemd
	check "make -C tools install" make -s -C "$PKG_ROOT/tools" install
	check "systemd knows the installed unit" \
		sh -c 'systemctl daemon-reload && systemctl cat crapvpn@cv0 | grep -q "^ExecStart=/usr/sbin/crapvpn up %i$"'
	# insmod does not load what the module needs; modprobe would.
	check "insmod crapvpn.ko" sh -c "modprobe -a \$(modinfo -F depends $VM_OUT/crapvpn.ko | tr , ' ') && insmod $VM_OUT/crapvpn.ko"
	check "a peer in namespace b" peer_ns

	good_conf
	check "systemctl enable --now $UNIT" systemctl enable --now "$UNIT"
	check "... is enabled for boot (multi-user.target wants it)" \
		test -L "/etc/systemd/system/multi-user.target.wants/$UNIT.service"
	check_eq "... is active" "$(systemctl is-active "$UNIT")" active
	check "... cv0 is up with its address" \
		sh -c 'ip link show cv0 | grep -q "[<,]UP[,>]" &&
			ip -br addr show cv0 | grep -q "10.99.0.1 peer 10.99.0.2"'
	check "... ping through the tunnel" ping -c 3 -i 0.2 -W 2 10.99.0.2
	idx=$(cat /sys/class/net/cv0/ifindex 2>/dev/null)

	good_conf "mtu = 1400"
	check "systemctl reload $UNIT after a change to the file" \
		systemctl reload "$UNIT"
	check_eq "... applied the change" "$(cat /sys/class/net/cv0/mtu 2>/dev/null)" 1400
	check_eq "... to the same device" \
		"$(cat /sys/class/net/cv0/ifindex 2>/dev/null)" "${idx:-none}"
	check "... traffic goes on" ping -c 2 -i 0.2 -W 2 10.99.0.2

	check "systemctl stop $UNIT" systemctl stop "$UNIT"
	check_fails "... removed cv0" ip link show cv0
	check_eq "... is inactive" "$(systemctl is-active "$UNIT")" inactive

	conf 600 "key = $KEY" "peer = 192.0.2.2" "prot = 1338"
	refused "a file with an unknown setting" "cv0.conf:3"
	good_conf
	chmod 644 /etc/crapvpn/cv0.conf
	refused "a key readable by others" "not only root can read it"
	good_conf
	check "systemctl start after the refusals" systemctl start "$UNIT"
	check "... ping through the tunnel" ping -c 2 -i 0.2 -W 2 10.99.0.2
	check "systemctl disable --now $UNIT" systemctl disable --now "$UNIT"
	check_fails "... removed cv0" ip link show cv0
	pkg_summary
}

if [[ ${1:-} == --inside ]]; then
	inside
	exit
fi

# --- host -------------------------------------------------------------------
[[ -x /lib/systemd/systemd ]] ||
	die "no /lib/systemd/systemd to boot (tests/setup-host.sh installs systemd)"
read -r _ kver vmlinuz moddir _ _ < <("$PKG_ROOT/tests/kernels.sh" list 6.1) ||
	die "no 6.1 kernel (tests/kernels.sh setup)"
rm -rf "$OUT"
mkdir -p "$OUT/build" "$OUT/vm"
cp "$PKG_ROOT"/Kbuild "$PKG_ROOT"/crapvpn_*.c "$PKG_ROOT"/crapvpn*.h "$OUT/build/"
check "module builds for $kver" \
	sh -c "cd '$OUT/build' && '$PKG_ROOT/tests/kernels.sh' make 6.1 modules"
check "tools build" make -s -C "$PKG_ROOT/tools"
cp "$OUT/build/crapvpn.ko" "$OUT/vm/"
timed "VM under systemd" "$PKG_ROOT/tests/vm/vm-run" --systemd \
	--kernel "$vmlinuz" --kver "$kver" --modules "$moddir" --cpus 1 \
	--mem 1024 --out "$OUT/vm" --timeout 600 --console none -- \
	"$PKG_ROOT/tests/pkg/systemd-test.sh" --inside
rc=$?
cat "$OUT/vm/inside.log" 2>/dev/null
# A failed check fails the VM's command too: say so only if nothing else did
# (a bad kernel log, a VM that died).
tap_add_counts "in the VM (console: $OUT/vm/vm-console.log)" "$rc" < <(cat "$OUT/vm/inside.log" 2>/dev/null)
pkg_summary
