# SPDX-License-Identifier: GPL-2.0
#
# make            build the module for KVER (default: the newest installed
#                 kernel headers) and the tools
# make check      unit tests and the whole VM suite (see README.md)
KVER ?= $(shell ls -1 /lib/modules 2>/dev/null | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
W ?= 1

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) modules

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) C=2 CF=-D__CHECK_ENDIAN__ modules

tools:
	$(MAKE) -C tools

check:
	tests/check

demo:
	tests/demo.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools clean

.PHONY: all module sparse tools check demo clean
include mk/install.mk

# make bench: tunnel throughput and latency against FOU, WireGuard and the
# userspace peer in one VM boot, and a perf profile (tests/bench/run).
bench:
	tests/bench/run

.PHONY: bench

# make bench-scale: 1 to 1,000 devices on one UDP port, datagrams from all
# their peers: throughput per count, create and delete times (tests/bench/scale).
bench-scale:
	tests/bench/scale

.PHONY: bench-scale

# Reliability (tests/debug/): the in-VM suite, hostile traffic and netlink
# fuzzing on a KASAN/UBSAN/kmemleak/lockdep kernel built from
# linux-source-6.1 (cached in /var/cache/crapvpn/debug-*); DEBUG_ARGS=--ci
# for the CI-sized run. soak: ten minutes of flood and churn, slab flat.
check-debug:
	tests/debug/check $(DEBUG_ARGS)

soak:
	tests/debug/soak

.PHONY: check-debug soak
