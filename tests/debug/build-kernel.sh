#!/bin/bash
# build-kernel.sh: the debug kernel for the VM tests (KASAN, UBSAN, kmemleak,
# lockdep, PROVE_RCU, DEBUG_OBJECTS, SLUB debugging, refcount trackers), built
# from Debian's linux-source-6.1 with tests/debug/config on top of
# allnoconfig, and cached outside the tree:
#
#   tests/debug/build-kernel.sh [--print | --env]
#
# The kernel lands in $CACHE/debug-HASH/ (CACHE: $CRAPVPN_DEBUG_CACHE, default
# /var/cache/crapvpn), HASH covering the config fragment, the source package
# version, the compiler and RECIPE below, so only the first run pays (about
# 40 min on two busy cores; `make` resumes an interrupted build):
#
#   linux/            the build tree: vmlinux (PVH, booted by vm-run), bzImage,
#                     Module.symvers; build modules with make -C linux M=...
#   root/lib/modules/KVER/   modules_install (modules.builtin, modules.dep)
#   env               KVER= KDIR= VMLINUX= BZIMAGE= MODDIR= (shell syntax)
#   build.log         the build's output
#
# --env prints the env file when done; --print only prints the directory
# (built or not) and exits. Environment: JOBS (default: nproc).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CACHE=${CRAPVPN_DEBUG_CACHE:-/var/cache/crapvpn}
FRAGMENT=$HERE/config
TARBALL=/usr/src/linux-source-6.1.tar.xz
SRCPKG=linux-source-6.1
JOBS=${JOBS:-$(nproc)}
# Bump when the build steps change in a way that changes the result.
RECIPE=2

log() { printf '[debug-kernel] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

mode=
case ${1:-} in
--print | --env) mode=$1 ;;
"") ;;
*) sed -n '2,24s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac

[ -r "$TARBALL" ] || die "$TARBALL missing (apt-get install $SRCPKG; tests/setup-host.sh does)"
srcver=$(dpkg-query -W -f='${Version}' "$SRCPKG" 2>/dev/null) ||
	die "$SRCPKG is not installed"
key=$( {
	echo "recipe $RECIPE"
	echo "source $SRCPKG $srcver"
	gcc --version | head -n 1
	grep -v '^[[:space:]]*#' "$FRAGMENT" | grep .
	# "# CONFIG_X is not set" lines matter too.
	grep '^# CONFIG_.* is not set' "$FRAGMENT"
} | sha256sum | cut -c1-12)
D=$CACHE/debug-$key
if [ "$mode" = --print ]; then
	echo "$D"
	exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.debug-$key.lock"
if ! flock -n 9; then
	log "another build of $D is running; waiting for it"
	flock 9
fi

if [ -e "$D/env" ]; then
	[ "$mode" = --env ] && cat "$D/env"
	exit 0
fi

t0=$SECONDS
mkdir -p "$D"
log "building the debug kernel in $D (log: $D/build.log)"
BLOG=$D/build.log
q() { "$@" >>"$BLOG" 2>&1; } # run quietly into the build log
trap 'log "FAILED, see $BLOG"; tail -n 30 "$BLOG" >&2' ERR

if [ ! -e "$D/linux/Makefile" ]; then
	rm -rf "$D/linux" "$D/linux.tmp"
	mkdir -p "$D/linux.tmp"
	log "extracting $TARBALL ($SRCPKG $srcver)"
	q tar -xf "$TARBALL" -C "$D/linux.tmp" --strip-components=1
	mv "$D/linux.tmp" "$D/linux"
fi

# The only changes to Debian's source, both for booting through the PVH
# entry point: xen_prepare_pvh() runs there before KASAN has its early
# shadow, so any instrumented access faults and the guest dies silently
# (triple fault, not a line of output). So its file is not instrumented,
# and its one call of instrumented code goes: xen_cpuid_base() ->
# hypervisor_cpuid_base() -> memcmp() (lib/string.c, instrumented). This
# kernel has no Xen support (CONFIG_XEN is off) and never runs on Xen, so
# the answer is 0 anyway.
PVH=$D/linux/arch/x86/platform/pvh
grep -q '^KASAN_SANITIZE_enlighten.o' "$PVH/Makefile" || cat >>"$PVH/Makefile" <<'EOF'
# crapvpn tests/debug/build-kernel.sh: runs before KASAN is set up.
KASAN_SANITIZE_enlighten.o := n
UBSAN_SANITIZE_enlighten.o := n
EOF
if ! grep -q 'crapvpn debug kernel' "$PVH/enlighten.c"; then
	grep -q '^	u32 msr = xen_cpuid_base();$' "$PVH/enlighten.c" ||
		die "$PVH/enlighten.c: xen_prepare_pvh() changed, adapt the PVH patch"
	sed -i 's|^	u32 msr = xen_cpuid_base();$|	u32 msr = 0; /* crapvpn debug kernel: no Xen, and memcmp() is instrumented */|' \
		"$PVH/enlighten.c"
fi

K=(make -C "$D/linux" ARCH=x86_64 -j"$JOBS")
if [ ! -e "$D/.configured" ]; then
	cp "$FRAGMENT" "$D/config.fragment"
	q "${K[@]}" allnoconfig KCONFIG_ALLCONFIG="$D/config.fragment"
	# Every line of the fragment must have survived Kconfig's dependencies.
	bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) grep -qxF -- "$line" "$D/linux/.config" || {
			log "config: $line requested, got: $(grep "^${line%%=*}=\|^# ${line%%=*} is not set" "$D/linux/.config" || echo nothing)"
			bad=1; } ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}
			! grep -q "^$sym=" "$D/linux/.config" || {
				log "config: $sym must be off"; bad=1; } ;;
		esac
	done <"$D/config.fragment"
	[ $bad -eq 0 ] || die "tests/debug/config does not apply cleanly to $SRCPKG $srcver"
	touch "$D/.configured"
fi

log "make vmlinux bzImage modules (-j$JOBS)"
q "${K[@]}" vmlinux bzImage modules
kver=$("${K[@]}" -s --no-print-directory kernelrelease)
rm -rf "$D/root"
q "${K[@]}" INSTALL_MOD_PATH="$D/root" DEPMOD=/sbin/depmod modules_install
[ -e "$D/root/lib/modules/$kver/modules.dep" ] || die "modules_install made no modules.dep"
[ -e "$D/root/lib/modules/$kver/modules.builtin" ] || die "modules_install made no modules.builtin"
readelf -n "$D/linux/vmlinux" | grep -q 'PHYS32_ENTRY\|0x00000012' ||
	die "vmlinux has no PVH entry point"

cat >"$D/env.tmp" <<EOF
KVER=$kver
KDIR=$D/linux
VMLINUX=$D/linux/vmlinux
BZIMAGE=$D/linux/arch/x86/boot/bzImage
MODDIR=$D/root/lib/modules/$kver
EOF
mv "$D/env.tmp" "$D/env"
trap - ERR
log "done in $((SECONDS - t0)) s: $kver"
echo "done in $((SECONDS - t0)) s: $kver" >>"$BLOG"
[ "$mode" = --env ] && cat "$D/env"
exit 0
