#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Debian package test: build crapvpn-dkms and crapvpn-tools (make deb),
# lintian them, install them with apt into a clean bookworm chroot that has
# the headers of the host's 6.1 kernel, check that the package's DKMS
# postinst built and installed the module there, boot that kernel (the
# host's vmlinuz) in the VM with the chroot's /lib/modules/KVER and check
# that the module the package built is autoloaded by `ip link add ... type
# crapvpn`, and that the packaged crapvpn(8) and ip plugin work
# (tests/pkg/vm-installed.sh --tools); finally purge the packages and check
# that DKMS cleaned up.
#
#   tests/pkg/deb-test.sh [--debs DIR]   DIR: .debs (and .changes) of a
#                                        previous make deb, instead of building
#
# The chroot: a debootstrap --variant=minbase of bookworm from the host's
# mirror plus linux-headers-KVER of the host's 6.1 kernel (the exact
# version), cached in $CRAPVPN_PKG_CACHE/bookworm-pkg (default
# /var/cache/crapvpn; rebuilt when the host's 6.1 kernel changes). Each run
# works on an overlayfs over that cache, so the cache stays clean and
# nothing needs copying; the downloaded .debs are kept in the cache too.
# The kernel's own modules (virtio, 9p, udp_tunnel, ... for the VM) are not
# installed from linux-image-KVER (70 MB, minutes to unpack on a busy
# disk): the host's /lib/modules/KVER/kernel of the same package version is
# bind-mounted into the chroot before the packages are installed, so the
# depmod that DKMS runs there indexes it next to updates/dkms. The whole
# script runs in a private mount namespace, so the mounts (and the QEMU
# that must see them) vanish with it however it ends.
#
# Ends with "N passed, N failed". Not set -e: failed checks are counted.
set -u -o pipefail

# Everything below runs in a mount namespace of its own (see the header).
if [[ -z ${CRAPVPN_PKG_NS:-} ]]; then
	[[ $(id -u) == 0 ]] || { . "$(dirname "$0")/lib.sh"; die "$0 needs root"; }
	CRAPVPN_PKG_NS=1 exec unshare --mount --propagation private -- "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"

DEBS=""
while [[ $# -gt 0 ]]; do
	case $1 in
	--debs) DEBS=$2; shift 2 ;;
	*) echo "usage: $0 [--debs DIR]" >&2; exit 2 ;;
	esac
done

VER=$(pkg_version)
OUT=${CRAPVPN_PKG_OUT:-/var/tmp/crapvpn-pkg}/deb
CDIR=$PKG_CACHE/bookworm-pkg
BASE=$CDIR/base            # the cached chroot (lower layer, never written)
ARCHIVES=$CDIR/archives     # apt's downloaded .debs, shared by all runs
RUN=$CDIR/run               # this run's overlay upper/work dirs (a fixed
                            # path: vm-run reuses its initramfs)
ROOT=$RUN/root              # the merged chroot of this run
ARCH=$(dpkg --print-architecture)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
APT=(apt-get -o DPkg::Lock::Timeout=600 -o Dir::Cache::Archives=/var/cache/apt/archives -y -q)
export DEBIAN_FRONTEND=noninteractive

cleanup() {
	# The mounts go with the namespace; lazily unmount anyway so that the
	# run directory can be removed now.
	umount -R -l "$ROOT" 2>/dev/null
	if [[ -n ${CRAPVPN_PKG_KEEP:-} ]]; then log "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The host's apt mirror (bookworm, updates and security), as in its
# deb822 sources; http://deb.debian.org/debian if there is none.
mirror() {
	local m
	m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' |
		grep -v security | grep -m1 '/debian/\?$' || true)
	echo "${m:-http://deb.debian.org/debian}"
}
security_mirror() {
	local m
	m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' |
		grep -m1 'debian-security/\?$' || true)
	echo "${m:-http://deb.debian.org/debian-security}"
}

# in_root ROOT CMD...: chroot with /proc and /dev/pts (apt, dkms and gcc want
# them); the mounts are undone afterwards so the VM's 9p export of / does
# not have to walk into a procfs.
in_root() {
	local r=$1 rc=0
	shift
	mount -t proc proc "$r/proc" || return 1
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts" 2>/dev/null
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@" || rc=$?
	umount "$r/dev/pts" 2>/dev/null
	umount "$r/proc"
	return $rc
}

# ---------------------------------------------------------------- the cache

KVER=""
host_61() {
	kernel_info 6.1 || return 1
	KVER=$K_KVER
	KIMG=$(dpkg-query -W -f='${Version}' "linux-image-$KVER" 2>/dev/null)
}

base_ok() {
	[[ -e $BASE/.crapvpn-base ]] && [[ $(cat "$BASE/.crapvpn-base") == "$KVER $KIMG $(mirror) headers" ]]
}

make_base() {
	local tmp=$CDIR/base.tmp
	rm -rf "$tmp" "$BASE.old"
	mkdir -p "$CDIR" "$ARCHIVES"
	log "debootstrap bookworm (minbase) from $(mirror) into $tmp"
	# A cache: no fsync (minutes on slow disks). Written first, so that
	# debootstrap's second stage already uses it.
	mkdir -p "$tmp/etc/dpkg/dpkg.cfg.d"
	echo force-unsafe-io >"$tmp/etc/dpkg/dpkg.cfg.d/90crapvpn"
	debootstrap --variant=minbase bookworm "$tmp" "$(mirror)" >"$CDIR/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$CDIR/debootstrap.log"; return 1; }
	cat >"$tmp/etc/apt/sources.list" <<-EOF
		deb $(mirror) bookworm main
		deb $(mirror) bookworm-updates main
		deb $(security_mirror) bookworm-security main
	EOF
	# Never start services in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	mount --bind "$ARCHIVES" "$tmp/var/cache/apt/archives"
	# The headers of the host's 6.1 kernel, by exact package name and
	# version, so that what DKMS builds here loads into the host's vmlinuz.
	if in_root "$tmp" "${APT[@]}" update >>"$CDIR/debootstrap.log" 2>&1 &&
		in_root "$tmp" "${APT[@]}" install --no-install-recommends \
			"linux-headers-$KVER=$KIMG" >>"$CDIR/debootstrap.log" 2>&1; then
		umount "$tmp/var/cache/apt/archives"
	else
		umount "$tmp/var/cache/apt/archives"
		tail -n 20 "$CDIR/debootstrap.log" | sed 's/^/#   /'
		return 1
	fi
	echo "$KVER $KIMG $(mirror) headers" >"$tmp/.crapvpn-base"
	[[ ! -e $BASE ]] || mv "$BASE" "$BASE.old"
	mv "$tmp" "$BASE"
	rm -rf "$BASE.old"
}

# ---------------------------------------------------------------- steps

build_debs() { # (runs in check's subshell: DEBS is set by the caller)
	rm -rf "$DEBS"
	make -s -C "$PKG_ROOT" deb DEB_OUT="$DEBS" >"$OUT/make-deb.log" 2>&1 ||
		{ tail -n 30 "$OUT/make-deb.log" | sed 's/^/#   /'; return 1; }
}

check_contents() {
	local dk tl
	dk=$(dpkg-deb -c "$DEB_DKMS" | awk '{print $6}' | sed 's,^\./,/,' | grep -v '/$' | sort)
	tl=$(dpkg-deb -c "$DEB_TOOLS" | awk '{print $6}' | sed 's,^\./,/,' | grep -v '/$' | sort)
	local s=/usr/src/crapvpn-$VER
	check_eq "crapvpn-dkms: the module sources and dkms.conf in $s" \
		"$(grep "^$s/" <<<"$dk" | tr '\n' ' ')" \
		"$s/Kbuild $s/crapvpn.h $s/crapvpn_compat.h $s/crapvpn_main.c $s/crapvpn_wire.c $s/crapvpn_wire.h $s/dkms.conf "
	check_eq "crapvpn-tools: tool, plugins, man pages, unit, completion" \
		"$(grep -v -e '^/usr/share/doc/' -e '^/usr/share/lintian/' <<<"$tl" | tr '\n' ' ')" \
		"/lib/systemd/system/crapvpn@.service /usr/lib/$MULTIARCH/ip/link_crapvpn.so /usr/lib/$MULTIARCH/wireshark/plugins/crapvpn.lua /usr/sbin/crapvpn /usr/share/bash-completion/completions/crapvpn /usr/share/man/man5/crapvpn.conf.5.gz /usr/share/man/man8/crapvpn.8.gz /usr/share/man/man8/ip-link-crapvpn.8.gz "
	check "crapvpn-dkms depends on dkms" bash -c 'dpkg-deb -f "$1" Depends | grep -q "\bdkms\b"' _ "$DEB_DKMS"
	check "crapvpn-tools depends on libmnl0" bash -c 'dpkg-deb -f "$1" Depends | grep -q "\blibmnl0\b"' _ "$DEB_TOOLS"
}

run_lintian() {
	local out rc=0
	out=$(lintian --fail-on error --display-level '>=info' --show-overrides "$CHANGES" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v 'running with root privileges' | sed 's/^/#   lintian: /'
	if [[ $rc -eq 0 ]]; then
		ok "lintian: no errors ($(grep -c '^W:' <<<"$out") warnings, $(grep -c '^I:' <<<"$out") info, $(grep -c '^O:' <<<"$out") overridden)"
	else
		fail "lintian: no errors (exit $rc)"
	fi
}

# The kernel's own modules into the chroot's /lib/modules/KVER (see the
# header): kernel/ read-only from the host, and the files depmod reads
# besides the modules.
kernel_modules() {
	local m=/lib/modules/$KVER d=$ROOT/lib/modules/$KVER f
	[[ -d $m/kernel ]] || return 1
	mkdir -p "$d/kernel"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[[ ! -e $m/$f ]] || cp "$m/$f" "$d/$f" || return 1
	done
	mount --bind -o ro "$m/kernel" "$d/kernel"
}

# Without Recommends, which would add build-essential, g++, sudo and
# another headers metapackage (minutes of unpacking); iproute2, which
# crapvpn-tools recommends, is named instead: the VM test uses its ip.
apt_install() {
	in_root "$ROOT" "${APT[@]}" install --no-install-recommends \
		"/tmp/debs/${DEB_DKMS##*/}" "/tmp/debs/${DEB_TOOLS##*/}" iproute2 >>"$OUT/apt.log" 2>&1
}

# Install both packages into the overlay chroot with apt, as a user would
# (apt install ./x.deb), and check what DKMS did.
install_debs() {
	local st ko
	mkdir -p "$ROOT/tmp/debs"
	cp "$DEB_DKMS" "$DEB_TOOLS" "$ROOT/tmp/debs/"
	: >"$OUT/apt.log"
	# The cached lists first; if the mirror has dropped what they name,
	# fresh lists (in the overlay: the cache is not touched).
	if timed "apt install of the packages" apt_install ||
		{ timed "apt-get update in the chroot" in_root "$ROOT" "${APT[@]}" update >>"$OUT/apt.log" 2>&1 &&
			timed "apt install of the packages, again" apt_install; }; then
		ok "apt installs crapvpn-dkms and crapvpn-tools"
	else
		fail "apt installs crapvpn-dkms and crapvpn-tools (log: $OUT/apt.log)"
		tail -n 40 "$OUT/apt.log" | sed 's/^/#   /'
		return 1
	fi
	sed -n '/^Setting up crapvpn-dkms/,/^Setting up\|^Processing/p' "$OUT/apt.log" | sed 's/^/#   /'
	st=$(in_root "$ROOT" dkms status crapvpn 2>&1)
	check "the postinst built and installed crapvpn/$VER for $KVER ($st)" \
		grep -q "crapvpn/$VER, $KVER, .*: installed" <<<"$st"
	ko=$(find "$ROOT/lib/modules/$KVER/updates/dkms" -name 'crapvpn.ko*' 2>/dev/null | head -n 1)
	if [[ -n $ko ]]; then
		ok "${ko#"$ROOT"} in the chroot"
		check_eq "its vermagic is $KVER" "$(modinfo -F vermagic "$ko" | awk '{print $1}')" "$KVER"
		# Unsigned here: dkms signs only where openssl can make its MOK.
		log "signer: $(modinfo -F signer "$ko" 2>/dev/null || true) (openssl in the chroot: $(
			[[ -x $ROOT/usr/bin/openssl ]] && echo yes || echo no))"
	else
		fail "crapvpn.ko in the chroot's /lib/modules/$KVER/updates/dkms"
	fi
	check "depmod ran in the chroot: modules.alias has rtnl-link-crapvpn" \
		grep -q '^alias rtnl-link-crapvpn crapvpn$' "$ROOT/lib/modules/$KVER/modules.alias"
	check "crapvpn --version (installed in the chroot)" \
		bash -c 'in_root "$1" crapvpn --version | grep -qF "$2"' _ "$ROOT" "$VER"
	check "man crapvpn and man ip-link-crapvpn are installed" \
		test -e "$ROOT/usr/share/man/man8/crapvpn.8.gz" -a -e "$ROOT/usr/share/man/man8/ip-link-crapvpn.8.gz"
}

run_vm() {
	local out=$OUT/vm
	rm -rf "$out"
	# The VM boots the host's vmlinuz of the same package version as the
	# chroot's (checked when the cache was made) with the chroot's modules.
	vm "package" "$out" "$KVER" "$K_VMLINUZ" "$ROOT/lib/modules/$KVER" \
		"$PKG_ROOT/tests/pkg/vm-installed.sh" --tools "$ROOT"
	vm_counts "in the VM" "$out"
}

purge_debs() {
	if in_root "$ROOT" "${APT[@]}" purge crapvpn-dkms crapvpn-tools >"$OUT/purge.log" 2>&1; then
		ok "apt purge crapvpn-dkms crapvpn-tools"
	else
		fail "apt purge crapvpn-dkms crapvpn-tools (log: $OUT/purge.log)"
		tail -n 20 "$OUT/purge.log" | sed 's/^/#   /'
	fi
	check "the prerm removed the module from DKMS and updates/dkms" bash -c '
		! find "$1/lib/modules/$2" -name "crapvpn.ko*" | grep -q . &&
		! grep -q crapvpn "$1/lib/modules/$2/modules.alias" &&
		[ ! -e "$1/var/lib/dkms/crapvpn" ] && [ ! -e "$1/usr/src/crapvpn-$3" ]' _ "$ROOT" "$KVER" "$VER"
	# (etc/dpkg/dpkg.cfg.d/90crapvpn is the cache's own dpkg setting.)
	check "no crapvpn files left in the chroot" bash -c \
		'! find "$1/usr" "$1/lib" "$1/etc" "$1/var/lib/dkms" -name "*crapvpn*" \
			! -path "$1/etc/dpkg/dpkg.cfg.d/*" 2>/dev/null | grep .' _ "$ROOT"
}

main() {
	mkdir -p "$OUT" "$CDIR"
	# One run at a time on the cache; a run dir left by a killed run goes.
	exec 8>"$CDIR/.lock"
	flock 8
	rm -rf "$CDIR"/run "$CDIR"/run.*
	export -f in_root   # for the bash -c checks
	host_61 || die "the host's 6.1 kernel is provisioned (tests/kernels.sh setup 6.1)"
	[[ -n $KIMG ]] || die "linux-image-$KVER is a Debian package on the host"
	log "kernel $KVER ($KIMG), mirror $(mirror)"

	if [[ -z $DEBS ]]; then
		DEBS=$OUT/build
		timed "make deb" check "make deb" build_debs || { pkg_summary; exit 1; }
	fi
	DEB_DKMS=$(ls "$DEBS"/crapvpn-dkms_"$VER"*_all.deb 2>/dev/null | tail -n 1)
	DEB_TOOLS=$(ls "$DEBS"/crapvpn-tools_"$VER"*_"$ARCH".deb 2>/dev/null | tail -n 1)
	CHANGES=$(ls "$DEBS"/crapvpn_"$VER"*_"$ARCH".changes 2>/dev/null | tail -n 1)
	[[ -n $DEB_DKMS && -n $DEB_TOOLS && -n $CHANGES ]] ||
		die "crapvpn-dkms, crapvpn-tools and .changes of $VER in $DEBS"
	log "packages: $DEB_DKMS $DEB_TOOLS"
	check_contents
	timed "lintian" run_lintian

	if ! base_ok; then
		timed "bookworm chroot (cached in $BASE)" make_base ||
			die "bookworm chroot with linux-headers-$KVER (log: $CDIR/debootstrap.log)"
	fi
	ok "clean bookworm chroot with linux-headers-$KVER $KIMG"
	mkdir -p "$RUN"/{upper,work,root} "$ARCHIVES"
	mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$RUN/upper,workdir=$RUN/work" "$ROOT" ||
		die "overlayfs over $BASE"
	mount --bind "$ARCHIVES" "$ROOT/var/cache/apt/archives" || die "bind $ARCHIVES"
	kernel_modules || die "the host's modules of $KVER in the chroot"

	if install_debs; then
		timed "VM" run_vm
		purge_debs
	fi
	pkg_summary
}

main
