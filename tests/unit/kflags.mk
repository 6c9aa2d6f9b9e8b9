# The code-generation flags that the kernel gives crapvpn_wire.c, so that a
# userspace build cannot use what the kernel cannot (SSE, the red zone, x87).
# Taken from the command line that Debian's 6.1 headers print with
#   make -C /usr/src/linux-headers-6.1.0-*-amd64 M=$PWD V=1
# minus what cannot link or run in userspace: -mcmodel=kernel (kernel
# addresses), -mindirect-branch=thunk-extern and -mfunction-return=thunk-extern
# (retpoline/rethunk symbols the kernel provides), -pg -mfentry (ftrace hook, a
# patched-out NOP in a running kernel). Note there is no -fno-tree-vectorize:
# gcc 12 vectorizes at -O2 for the kernel too, only without SIMD registers.
# Debian builds its kernels with gcc, and these flags are gcc's.
KCC := gcc
KFLAGS := -std=gnu11 -O2 -fno-strict-aliasing -fno-common -fno-PIE \
	-mno-sse -mno-mmx -mno-sse2 -mno-3dnow -mno-avx -mno-80387 \
	-mno-fp-ret-in-387 -mpreferred-stack-boundary=3 -mskip-rax-setup \
	-mtune=generic -mno-red-zone -fcf-protection=none -falign-jumps=1 \
	-falign-loops=1 -fno-asynchronous-unwind-tables -fno-jump-tables \
	-mharden-sls=all -fno-delete-null-pointer-checks \
	-fno-allow-store-data-races -fno-strict-overflow -fno-stack-check \
	-fconserve-stack -ftrivial-auto-var-init=zero -fstack-protector-strong \
	-fno-stack-clash-protection
