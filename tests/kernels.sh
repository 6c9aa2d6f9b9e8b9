#!/bin/bash
# tests/kernels.sh - provision, list and build against the kernels crapvpn supports.
#
#   NAME  what                                     where
#   6.1   bookworm's linux-image/headers-amd64     host (/)
#   6.12  bookworm-backports' 6.12 image+headers   host (/), concrete package names
#   sid   Debian unstable's newest amd64 kernel    chroot $CACHE/sid
#
# Why the sid chroot exists: sid's linux-headers depend on sid's compiler
# (gcc-16 at the time of writing) and its linux-kbuild tools (fixdep, modpost,
# objtool) are linked against sid's glibc. Neither can be installed on a
# bookworm host without pulling libc6 & co. from sid, which would silently
# upgrade the host - so sid/trixie must NEVER be added to the host's apt
# sources. Instead sid lives in a `debootstrap --variant=minbase` chroot under
# /var/cache/crapvpn/sid (outside the repo) and builds for it run inside that
# chroot, with /proc mounted (objtool and gcc need it) and the module source
# bind-mounted at the same path. The mounts are made in a private mount
# namespace (unshare -m), so they vanish by themselves when the build ends,
# however it ends.
#
# 6.12 comes from bookworm-backports, which may be added to the host (apt pins
# backports to priority 100). We install the concrete, backports-only
# linux-image-6.12.*/linux-headers-6.12.* packages by name and WITHOUT
# `-t bookworm-backports`: with -t, apt also "upgrades" every installed binary
# of the same source package (linux-image-amd64, linux-headers-amd64,
# linux-libc-dev, linux-perf) to backports, which replaces the 6.1 metapackages
# and the host's userspace kernel headers. Without -t they stay on bookworm.
#
# The VM harness runs the sid kernel with bookworm's userspace, so its modules
# must be loadable by bookworm's kmod (30: +XZ +ZSTD). If sid's modules use a
# compression that the host's kmod cannot read, `setup sid` makes a
# decompressed copy of the module tree (plus depmod) under $CACHE/sid-modules
# and `list` points MODDIR at it (force with CRAPVPN_DECOMPRESS_MODULES=1).
#
# Usage:
#   tests/kernels.sh setup [all|6.1|6.12|sid]   install what is missing (idempotent)
#   tests/kernels.sh list [NAME]                NAME KVER VMLINUZ MODDIR KDIR ROOT
#   tests/kernels.sh make NAME [make args...]   make -C KDIR M=$PWD args (in the chroot for sid)
#   tests/kernels.sh run NAME cmd [args...]     run any command in NAME's build environment
#   tests/kernels.sh selftest [all|NAME...]     build tests/kernels/hello with W=1 (+C=2 with
#                                               sparse) and check its vermagic against KVER
#
# Environment:
#   CRAPVPN_KERNELS_CACHE      cache dir (default /var/cache/crapvpn)
#   CRAPVPN_MIRROR             Debian mirror (default: the host's, else http://deb.debian.org/debian)
#   CRAPVPN_DECOMPRESS_MODULES 1 = always make the decompressed sid module copy
#   CRAPVPN_SID_INITRD         1 = let sid's kernel install generate an initrd (slow)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${CRAPVPN_KERNELS_CACHE:-/var/cache/crapvpn}
SID=$CACHE/sid
SID_MODS=$CACHE/sid-modules          # decompressed sid module tree, if needed
NAMES=(6.1 6.12 sid)
SPARSE_OK_STAMP=.crapvpn-sparse      # inside a root: sparse was installable there

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=600 -o APT::Install-Recommends=false -y -q)
SID_APT=(apt-get -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -y -q)
SID_PKGS=(linux-image-amd64 linux-headers-amd64 gcc make libc6-dev libelf-dev kmod xz-utils zstd)
HOST_PKGS=(gcc make libelf-dev kmod sparse)

log() { printf '[kernels] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Time a step: timed "description" cmd args...
timed() {
	local what=$1 t0=$SECONDS; shift
	"$@"
	log "$what: done in $((SECONDS - t0)) s"
}

mirror() {
	if [[ -n ${CRAPVPN_MIRROR:-} ]]; then echo "$CRAPVPN_MIRROR"; return; fi
	local m
	m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' |
		grep -v security | grep -m1 '/debian/\?$' || true)
	echo "${m:-http://deb.debian.org/debian}"
}

host_installed() { # pkg... -> true if all are installed on the host
	local p
	for p; do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || return 1
	done
}

# Newest kernel in ROOT whose KVER starts with PREFIX and has image, modules
# and build dir. Only the generic -amd64 flavour (no -rt-, -cloud-).
find_kver() { # root prefix
	local root=$1 prefix=$2 d k
	for d in "$root"/lib/modules/"$prefix"*; do
		k=${d##*/}
		[[ $k =~ ^[0-9.]+[^-]*(-[0-9]+)?-amd64$ ]] || continue
		[[ -n $(vmlinuz_of "$root" "$k") && -e $d/build/Makefile ]] || continue
		echo "$k"
	done | sort -V | tail -n1
}

kver_of() { # name -> KVER (empty if not provisioned)
	case $1 in
	6.1) find_kver / 6.1. ;;
	6.12) find_kver / 6.12. ;;
	sid) [[ -d $SID/boot ]] && find_kver "$SID" "" || true ;;
	*) die "unknown kernel '$1' (want one of: ${NAMES[*]})" ;;
	esac
}

root_of() { [[ $1 == sid ]] && echo "$SID" || echo /; }

# Host path of KVER's kernel image in ROOT: /boot/vmlinuz-KVER, or (sid's
# newer packaging, when no initramfs tool put it in /boot) /lib/modules/KVER/vmlinuz.
vmlinuz_of() { # root kver
	local r=${1%/} f
	for f in "$r/boot/vmlinuz-$2" "$r/lib/modules/$2/vmlinuz"; do
		[[ -e $f ]] && { realpath "$f"; return; }
	done
	return 0
}

moddir_of() { # name kver
	if [[ $1 == sid ]]; then
		if [[ -e $SID_MODS/lib/modules/$2/modules.dep ]]; then
			echo "$SID_MODS/lib/modules/$2"
		else
			realpath "$SID/lib/modules/$2"
		fi
	else
		echo "/lib/modules/$2"
	fi
}

# ---------------------------------------------------------------- chroot

# Run a command in the sid chroot, inside a private mount namespace with /proc
# (and /dev/pts) mounted and, optionally, BIND (a host dir) bind-mounted at the
# same path. All mounts disappear with the namespace.
sid_run() { # [--bind DIR] cmd...
	local bind= made= rc=0
	if [[ ${1:-} == --bind ]]; then bind=$2; shift 2; fi
	[[ -x $SID/usr/bin/env ]] || die "no sid chroot at $SID (run: $0 setup sid)"
	if [[ -n $bind && ! -d $SID$bind ]]; then mkdir -p "$SID$bind"; made=1; fi
	unshare --mount --propagation private -- /bin/bash -euc '
		sid=$1 bind=$2; shift 2
		mount -t proc proc "$sid/proc"
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$sid/dev/pts" 2>/dev/null || true
		[[ -z $bind ]] || mount --bind "$bind" "$sid$bind"
		exec chroot "$sid" /usr/bin/env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	' kernels-sid "$SID" "$bind" "$@" || rc=$?
	[[ -z $made ]] || rmdir "$SID$bind" 2>/dev/null || true   # the empty mount point
	return $rc
}

sid_installed() { # pkg... -> true if all are installed in the chroot
	local p
	for p; do
		[[ $(chroot "$SID" dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || return 1
	done
}

# ---------------------------------------------------------------- setup

apt_update_host() {
	local i
	for i in 1 2 3; do
		"${APT[@]}" update && return 0
		log "apt-get update failed (try $i), retrying"; sleep 10
	done
	die "apt-get update failed"
}

setup_61() {
	local kver meta
	meta=$(dpkg-query -W -f='${Version}' linux-image-amd64 2>/dev/null || true)
	[[ $meta != *bpo* ]] || log "warning: linux-image-amd64 $meta comes from backports;" \
		"to go back: apt-get install --allow-downgrades linux-image-amd64/bookworm linux-headers-amd64/bookworm"
	kver=$(kver_of 6.1)
	if [[ -n $kver ]] && host_installed "${HOST_PKGS[@]}"; then
		log "6.1: present ($kver)"; return
	fi
	# Plain names: bookworm (500) wins over backports (100) for the metapackages.
	timed "6.1: apt-get update" apt_update_host
	timed "6.1: install" "${APT[@]}" install linux-image-amd64 linux-headers-amd64 "${HOST_PKGS[@]}"
	kver=$(kver_of 6.1)
	[[ -n $kver ]] || die "6.1: installed, but no 6.1 kernel with headers found"
	log "6.1: $kver"
}

backports_source() {
	grep -rqs --include='*.list' --include='*.sources' -E '^[^#]*bookworm-backports' \
		/etc/apt/sources.list /etc/apt/sources.list.d/ && return
	log "6.12: adding bookworm-backports to /etc/apt/sources.list.d/bookworm-backports.sources"
	cat >/etc/apt/sources.list.d/bookworm-backports.sources <<-EOF
		Types: deb
		URIs: $(mirror)
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	timed "6.12: apt-get update" apt_update_host
}

# First linux-<kind>-6.12* package the backports metapackage depends on.
bpo_concrete() { # image|headers
	apt-cache show "linux-$1-amd64/bookworm-backports" 2>/dev/null |
		sed -n 's/^Depends: //p' | tr ',' '\n' | awk '{print $1}' |
		grep -m1 -E "^linux-$1-6\.12\." || true
}

setup_612() {
	local kver img hdr
	kver=$(kver_of 6.12)
	if [[ -n $kver ]] && host_installed "${HOST_PKGS[@]}"; then
		log "6.12: present ($kver)"; return
	fi
	backports_source
	img=$(bpo_concrete image); hdr=$(bpo_concrete headers)
	if [[ -z $img || -z $hdr ]]; then
		timed "6.12: apt-get update" apt_update_host
		img=$(bpo_concrete image); hdr=$(bpo_concrete headers)
	fi
	[[ -n $img && -n $hdr ]] || die "6.12: bookworm-backports has no 6.12 linux-image-amd64/linux-headers-amd64"
	log "6.12: installing $img $hdr from bookworm-backports"
	# No -t here, see the header.
	timed "6.12: install" "${APT[@]}" install "$img" "$hdr"
	host_installed "${HOST_PKGS[@]}" || timed "6.12: host tools" "${APT[@]}" install "${HOST_PKGS[@]}"
	kver=$(kver_of 6.12)
	[[ -n $kver ]] || die "6.12: installed, but no 6.12 kernel with headers found"
	log "6.12: $kver"
}

sid_debootstrap() {
	[[ -x $SID/usr/bin/apt-get ]] && return
	host_installed debootstrap || timed "sid: install debootstrap" "${APT[@]}" install debootstrap
	rm -rf "$SID.tmp"
	sid_dpkg_cfg "$SID.tmp"   # written first, so debootstrap's second stage uses it
	# Built in $SID.tmp and renamed on success, so an interrupted run never
	# leaves a half-made chroot at $SID.
	timed "sid: debootstrap" debootstrap --variant=minbase sid "$SID.tmp" "$(mirror)" >&2
	mv "$SID.tmp" "$SID"
}

# dpkg config for the chroot: no fsync (it is a cache, rebuilt if lost; this
# saves minutes on slow disks) and no docs.
sid_dpkg_cfg() { # root
	mkdir -p "$1/etc/dpkg/dpkg.cfg.d"
	cat >"$1/etc/dpkg/dpkg.cfg.d/90crapvpn" <<-'EOF'
		force-unsafe-io
		path-exclude=/usr/share/doc/*
		path-exclude=/usr/share/man/*
		path-exclude=/usr/share/info/*
		path-exclude=/usr/share/locale/*
	EOF
}

sid_configure() {
	sid_dpkg_cfg "$SID"
	cat >"$SID/etc/apt/apt.conf.d/90crapvpn" <<-'EOF'
		Acquire::Check-Valid-Until "false";
		APT::Install-Recommends "false";
	EOF
	# Never start services inside the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$SID/usr/sbin/policy-rc.d"
	chmod 755 "$SID/usr/sbin/policy-rc.d"
}

setup_sid() {
	exec 9>"$CACHE/.setup-sid.lock"; flock 9
	local kver
	kver=$(kver_of sid)
	if [[ -n $kver ]] && sid_installed "${SID_PKGS[@]}"; then
		log "sid: present ($kver)"
		sid_fix_checker
		sid_modules "$kver"
		return
	fi
	sid_debootstrap
	sid_configure
	timed "sid: apt-get update" sid_run "${SID_APT[@]}" update
	# INITRD=No makes the kernel's initramfs hook (dracut in sid, or
	# initramfs-tools) skip generating an initrd: minutes saved, and the VM
	# harness boots vmlinuz + the module tree. CRAPVPN_SID_INITRD=1 keeps it.
	local initrd=No
	[[ ${CRAPVPN_SID_INITRD:-0} != 1 ]] || initrd=Yes
	timed "sid: install" sid_run env INITRD=$initrd "${SID_APT[@]}" install "${SID_PKGS[@]}"
	if sid_run "${SID_APT[@]}" install sparse; then
		touch "$SID/$SPARSE_OK_STAMP"
	else
		log "sid: sparse not installable, C=2 checks will be skipped for sid"
	fi
	sid_run "${SID_APT[@]}" clean
	kver=$(kver_of sid)
	[[ -n $kver ]] || die "sid: installed, but no kernel with headers found in $SID"
	log "sid: $kver (gcc: $(chroot "$SID" gcc -dumpfullversion))"
	sid_fix_checker
	sid_modules "$kver"
}

# Debian's sid linux-headers (7.x) reference scripts/checker-valid.sh, which
# they do not ship; without it kbuild silently drops C=1/C=2 ("sparse is not
# available or not up to date"). Put an equivalent helper into the chroot: it
# prints 1 if the checker runs and understands __typeof_unqual__.
sid_fix_checker() {
	local mk dir
	for mk in "$SID"/usr/src/linux-headers-*/Makefile; do
		dir=${mk%/Makefile}
		grep -q 'scripts/checker-valid.sh' "$mk" || continue
		[[ -e $dir/scripts/checker-valid.sh ]] && continue
		log "sid: adding missing ${dir#"$SID"}/scripts/checker-valid.sh"
		cat >"$dir/scripts/checker-valid.sh" <<-'EOF'
			#!/bin/sh
			# Added by crapvpn's tests/kernels.sh (missing from Debian's headers).
			# Usage: checker-valid.sh CHECKER [FLAGS...]; prints 1 if usable.
			command -v "$1" >/dev/null 2>&1 || { echo 0; exit 0; }
			src=$(mktemp --suffix=.c) || exit 0
			echo 'int f(const int *p) { __typeof_unqual__(*p) x = *p; return x; }' >"$src"
			if "$@" "$src" 2>&1 | grep -q error; then echo 0; else echo 1; fi
			rm -f "$src"
		EOF
		chmod 755 "$dir/scripts/checker-valid.sh"
	done
}

# Can the host's (bookworm's) kmod read modules compressed as EXT?
host_kmod_reads() { # ko|ko.xz|ko.zst|ko.gz
	local feat; feat=$(kmod --version | tail -n1)
	case $1 in
	ko) true ;;
	ko.xz) [[ $feat == *+XZ* ]] ;;
	ko.zst) [[ $feat == *+ZSTD* ]] ;;
	ko.gz) [[ $feat == *+ZLIB* ]] ;;
	*) false ;;
	esac
}

# Make sure sid's module tree is usable by the host's kmod; else build a
# decompressed copy under $SID_MODS and run the host's depmod on it.
sid_modules() { # kver
	local kver=$1 src ext sample
	src=$(realpath "$SID/lib/modules/$kver")
	sample=$(find "$src/kernel" -name '*.ko*' -print -quit)
	[[ -n $sample ]] || die "sid: no modules in $src"
	ext=ko${sample##*.ko}
	if [[ ${CRAPVPN_DECOMPRESS_MODULES:-0} != 1 ]] && host_kmod_reads "$ext"; then
		log "sid: modules are .$ext, host kmod reads them: MODDIR=$src"
		rm -rf "$SID_MODS"
		return
	fi
	if [[ -e $SID_MODS/lib/modules/$kver/modules.dep ]]; then
		log "sid: decompressed module copy present: $SID_MODS/lib/modules/$kver"
		return
	fi
	timed "sid: decompressed module copy (.$ext -> .ko)" sid_decompress "$kver" "$src"
}

sid_decompress() { # kver src
	local kver=$1 src=$2 dst=$SID_MODS.tmp/lib/modules/$1
	rm -rf "$SID_MODS.tmp" "$SID_MODS"
	mkdir -p "$dst"
	cp -a "$src/." "$dst/"
	rm -f "$dst/build" "$dst/source"   # headers live in the chroot, not needed in the VM
	find "$dst" -name '*.ko.xz' -print0 | xargs -0r -n64 -P2 xz -d
	find "$dst" -name '*.ko.zst' -print0 | xargs -0r -n64 -P2 zstd -q -d --rm
	find "$dst" -name '*.ko.gz' -print0 | xargs -0r -n64 -P2 gzip -d
	rm -f "$dst"/modules.*.bin "$dst"/modules.{dep,alias,symbols,softdep,devname}
	local map=$src/System.map
	[[ -e $map ]] || map=$SID/boot/System.map-$kver
	depmod -b "$SID_MODS.tmp" -F "$map" "$kver"
	mv "$SID_MODS.tmp" "$SID_MODS"
}

cmd_setup() {
	local what=${1:-all}
	mkdir -p "$CACHE"
	[[ $(id -u) == 0 ]] || die "setup needs root"
	case $what in
	all) setup_61; setup_612; setup_sid ;;
	6.1) setup_61 ;;
	6.12) setup_612 ;;
	sid) setup_sid ;;
	*) die "setup: unknown kernel '$what' (want all, ${NAMES[*]})" ;;
	esac
}

# ---------------------------------------------------------------- list / make

cmd_list() {
	local n kver
	for n in "${NAMES[@]}"; do
		[[ -z ${1:-} || $1 == "$n" ]] || continue
		kver=$(kver_of "$n")
		[[ -n $kver ]] || continue
		echo "$n $kver $(vmlinuz_of "$(root_of "$n")" "$kver") $(moddir_of "$n" "$kver") /lib/modules/$kver/build $(root_of "$n")"
	done
}

# Run cmd in NAME's build environment (host for 6.1/6.12, chroot for sid), in $PWD.
cmd_run() { # name cmd...
	local name=$1 kver bind; shift
	kver=$(kver_of "$name")
	[[ -n $kver ]] || die "kernel $name is not provisioned (run: $0 setup $name)"
	if [[ $name != sid ]]; then
		"$@"; return
	fi
	# Bind the whole repo when building inside it, so relative symlinks and
	# -I../.. work; else just the current dir.
	case $PWD/ in
	"$REPO"/*) bind=$REPO ;;
	*) bind=$PWD ;;
	esac
	sid_run --bind "$bind" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$PWD" "$@"
}

cmd_make() { # name args...
	local name=${1:?usage: $0 make NAME [make args...]} kver; shift
	kver=$(kver_of "$name")
	[[ -n $kver ]] || die "kernel $name is not provisioned (run: $0 setup $name)"
	cmd_run "$name" make -C "/lib/modules/$kver/build" M="$PWD" "$@"
}

has_sparse() { # name
	if [[ $1 == sid ]]; then [[ -e $SID/$SPARSE_OK_STAMP && -x $SID/usr/bin/sparse ]]
	else command -v sparse >/dev/null; fi
}

# Build tests/kernels/hello for each kernel, with W=1 (and C=2 where sparse is
# installed), warnings are errors; check the .ko's vermagic.
cmd_selftest() {
	local names=("$@") n kver dir vm flags fail=0
	[[ ${#names[@]} -gt 0 && ${names[0]} != all ]] || names=("${NAMES[@]}")
	for n in "${names[@]}"; do
		kver=$(kver_of "$n")
		if [[ -z $kver ]]; then log "selftest $n: not provisioned"; fail=1; continue; fi
		dir=$CACHE/selftest/$n
		rm -rf "$dir"; mkdir -p "$dir"
		cp "$HERE"/kernels/hello/{Kbuild,hello.c} "$dir/"
		flags=(W=1)
		has_sparse "$n" && flags+=(C=2)
		log "selftest $n ($kver): make ${flags[*]}"
		if ! (cd "$dir" && "$HERE/kernels.sh" make "$n" "${flags[@]}" KCFLAGS=-Werror >build.log 2>&1); then
			cat "$dir/build.log" >&2; log "selftest $n: BUILD FAILED"; fail=1; continue
		fi
		if grep -qiE 'warning|error|not available' "$dir/build.log"; then
			cat "$dir/build.log" >&2; log "selftest $n: build printed warnings"; fail=1; continue
		fi
		vm=$(modinfo -F vermagic "$dir/hello.ko" | awk '{print $1}')
		if [[ $vm != "$kver" ]]; then
			log "selftest $n: vermagic '$vm' != '$kver'"; fail=1; continue
		fi
		log "selftest $n: ok, hello.ko vermagic $vm"
	done
	return $fail
}

usage() { sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

case ${1:-} in
setup) shift; cmd_setup "$@" ;;
list) shift; cmd_list "$@" ;;
make) shift; cmd_make "$@" ;;
run) shift; cmd_run "$@" ;;
selftest) shift; cmd_selftest "$@" ;;
-h | --help | help) usage ;;
*) usage ;;
esac
