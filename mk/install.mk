# SPDX-License-Identifier: GPL-2.0
# Installation and packaging targets; included by the top-level Makefile
# (include mk/install.mk), which provides KVER, KDIR and the module and tools
# targets. Run from the top of the source tree.
#
#   make install        the module for KVER (modules_install into
#                       DESTDIR/lib/modules/KVER/$(INSTALL_MOD_DIR), then depmod)
#                       and, through tools/Makefile, crapvpn(8), the ip link
#                       plugin and the man pages (DESTDIR, PREFIX honoured)
#   make uninstall      removes what install installed (same variables)
#   make dkms-src       the module sources and dkms.conf -> DKMS_SRC_DIR
#                       (default /usr/src/crapvpn-VERSION)
#   make dkms-install   dkms-src, then dkms add / build / install for KVER
#   make dkms-uninstall dkms remove crapvpn/VERSION --all, removes DKMS_SRC_DIR
#   make deb            crapvpn-dkms and crapvpn-tools .debs with
#                       dpkg-buildpackage, from a clean copy of the sources,
#                       into DEB_OUT (default build/deb)
#
# With DESTDIR set (a staged install), depmod is not run: the package or
# image that installs the files runs it (DEPMOD=depmod forces it with -b).

ifndef CRAPVPN_INSTALL_MK
CRAPVPN_INSTALL_MK := 1

# Keep the including Makefile's default goal (its first target), wherever
# this file is included.
crapvpn_saved_goal := $(.DEFAULT_GOAL)

KVER ?= $(shell ls -1 /lib/modules 2>/dev/null | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
DESTDIR ?=
PREFIX ?= /usr
INSTALL ?= install
INSTALL_MOD_DIR ?= extra
DEPMOD ?= $(if $(DESTDIR),,depmod)

CRAPVPN_VERSION := $(shell sed -n 's/^\#define[[:space:]]\+CRAPVPN_VERSION[[:space:]]\+"\([^"]*\)".*/\1/p' $(CURDIR)/crapvpn.h)
DKMS_NAME := crapvpn
DKMS_SRC_DIR ?= /usr/src/$(DKMS_NAME)-$(CRAPVPN_VERSION)
# What DKMS (and the crapvpn-dkms package) needs to build the module.
DKMS_SOURCES := Kbuild crapvpn_main.c crapvpn_wire.c crapvpn.h crapvpn_wire.h \
		crapvpn_compat.h dkms.conf
DKMS ?= dkms

DEB_OUT ?= $(CURDIR)/build/deb
DEB_SRC = $(DEB_OUT)/crapvpn-$(CRAPVPN_VERSION)
DPKG_BUILDPACKAGE_FLAGS ?= -us -uc

MODDIR_INSTALLED = $(DESTDIR)/lib/modules/$(KVER)/$(INSTALL_MOD_DIR)

# Kbuild's modules_install signs with the kernel's own key when the kernel
# has CONFIG_MODULE_SIG_ALL=y. Debian's headers do not ship that key, so the
# attempt can only fail (ignored for external modules, but it prints SSL
# errors): skip it unless the key is in KDIR (a self-built kernel). For
# Secure Boot, sign with a MOK instead: DKMS does (README.md, Install).
KSIGN_KEY = $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' \
	$(KDIR)/include/config/auto.conf 2>/dev/null)
KSIGN_ARGS = $(if $(filter pkcs11:%,$(KSIGN_KEY)),,$(if $(wildcard $(KSIGN_KEY) $(KDIR)/$(KSIGN_KEY)),,CONFIG_MODULE_SIG_ALL=))

# Fail early if the version of crapvpn.h, dkms.conf and debian/changelog differ.
crapvpn-version-check:
	@test -n "$(CRAPVPN_VERSION)" || { echo "cannot read CRAPVPN_VERSION from crapvpn.h" >&2; exit 1; }
	@v=$$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' dkms.conf); \
	test "$$v" = "$(CRAPVPN_VERSION)" || { \
		echo "dkms.conf PACKAGE_VERSION '$$v' != crapvpn.h CRAPVPN_VERSION '$(CRAPVPN_VERSION)'" >&2; exit 1; }
	@if [ -e debian/changelog ]; then \
		v=$$(dpkg-parsechangelog -l debian/changelog -S Version); \
		test "$${v%%-*}" = "$(CRAPVPN_VERSION)" || { \
			echo "debian/changelog version '$$v' != crapvpn.h CRAPVPN_VERSION '$(CRAPVPN_VERSION)'" \
				"(add an entry: dch -v $(CRAPVPN_VERSION))" >&2; exit 1; }; \
	fi

install: module tools
	@test -d "$(KDIR)" || { echo "no kernel build dir $(KDIR) (install linux-headers-$(KVER) or set KVER/KDIR)" >&2; exit 1; }
	@# DEPMOD=depmod: Kbuild has a DEPMOD of its own (which Debian's headers
	@# skip for want of System.map); ours, below, must not leak into it.
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) DEPMOD=depmod $(KSIGN_ARGS) modules_install
ifneq ($(DEPMOD),)
	$(DEPMOD) $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER)
else
	@echo "note: DESTDIR set, depmod not run (run depmod -a $(KVER) where the module ends up)"
endif
	$(MAKE) -C tools install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	$(MAKE) -C tools/wireshark install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

uninstall:
	rm -f $(MODDIR_INSTALLED)/crapvpn.ko $(MODDIR_INSTALLED)/crapvpn.ko.xz \
		$(MODDIR_INSTALLED)/crapvpn.ko.zst $(MODDIR_INSTALLED)/crapvpn.ko.gz
	-rmdir $(MODDIR_INSTALLED) 2>/dev/null
ifneq ($(DEPMOD),)
	if [ -e $(DESTDIR)/lib/modules/$(KVER)/modules.dep ]; then \
		$(DEPMOD) $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER); fi
endif
	$(MAKE) -C tools uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	$(MAKE) -C tools/wireshark uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

dkms-src: crapvpn-version-check
	rm -rf $(DKMS_SRC_DIR)
	$(INSTALL) -d $(DKMS_SRC_DIR)
	$(INSTALL) -m 0644 $(DKMS_SOURCES) $(DKMS_SRC_DIR)/

dkms-install: dkms-src
	@test -d "$(KDIR)" || { echo "no kernel build dir $(KDIR) (install linux-headers-$(KVER) or set KVER/KDIR)" >&2; exit 1; }
	$(DKMS) status -m $(DKMS_NAME) -v $(CRAPVPN_VERSION) | grep -q . || \
		$(DKMS) add -m $(DKMS_NAME) -v $(CRAPVPN_VERSION)
	$(DKMS) build -m $(DKMS_NAME) -v $(CRAPVPN_VERSION) -k $(KVER) --force
	$(DKMS) install -m $(DKMS_NAME) -v $(CRAPVPN_VERSION) -k $(KVER) --force

dkms-uninstall:
	if $(DKMS) status -m $(DKMS_NAME) -v $(CRAPVPN_VERSION) | grep -q .; then \
		$(DKMS) remove -m $(DKMS_NAME) -v $(CRAPVPN_VERSION) --all; fi
	rm -rf $(DKMS_SRC_DIR)

# dpkg-buildpackage runs in a copy holding the files git knows (tracked or
# not ignored), so build products of the working tree stay out of the
# source package and its clean step does not touch the working tree.
deb: crapvpn-version-check
	rm -rf $(DEB_OUT)
	mkdir -p $(DEB_SRC)
	if git -C $(CURDIR) rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git -C $(CURDIR) ls-files -z --cached --others --exclude-standard | \
			(cd $(CURDIR) && xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh) | \
			tar -C $(CURDIR) --null -T - -cf - | tar -C $(DEB_SRC) -xf -; \
	else \
		tar -C $(CURDIR) --exclude-vcs --exclude-vcs-ignores --exclude=./build \
			--exclude='*.o' --exclude='*.ko' --exclude='*.so' -cf - . | \
			tar -C $(DEB_SRC) -xf -; \
	fi
	cd $(DEB_SRC) && dpkg-buildpackage $(DPKG_BUILDPACKAGE_FLAGS)
	@echo "packages in $(DEB_OUT):"; ls -1 $(DEB_OUT)/*.deb

.PHONY: install uninstall dkms-src dkms-install dkms-uninstall deb crapvpn-version-check

.DEFAULT_GOAL := $(crapvpn_saved_goal)

endif # CRAPVPN_INSTALL_MK
