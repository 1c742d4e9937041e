# SPDX-License-Identifier: GPL-2.0
#
# labyrinth: out-of-tree module build and the developer/CI targets.
#
#   make               build labyrinth.ko against KDIR (default: the build
#                      dir of KVER, itself by default the running kernel)
#   make tests         build the test and demo modules in tests/ as well
#   make demo          boot a VM that shows labyrinth serving hard-IRQ users
#   make shell         the same VM with an interactive shell
#   make install       install the module, its header and Module.symvers
#   make dkms-install  register, build and install with DKMS for KVER
#   make dkms-remove   remove it from DKMS again
#   make lint          shellcheck, checkpatch, sparse, W=1 and coccicheck
#   make bench         labyrinth against the kernel's allocators and pools
#   make stress        every context at once, hotplug, resizes and failing
#                      allocations for STRESS_MS ms (default 300000), then
#                      the reserve guarantee; on the 6.12 test kernel
#   make clients       e1000 and virtio_net patched to use labyrinth, against
#                      the stock drivers and a raised min_free_kbytes, under
#                      memory pressure (reports/clients.md)
#   make check         lint, build the kernels, boot them, run every test;
#                      BOOT=LABEL,... only those boots, TEST=NAME one test
#   make docs          take the reports that demo, stress, bench and clients
#                      wrote to build/reports/ into reports/ (those of the
#                      checkout's sources) and copy them into README.md
#                      and docs/
#   make clean

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(CURDIR)
VERSION := 0.1

# make install: the module (modules_install), and for client modules the
# header and the symbol versions to build against.
PREFIX ?= /usr/local
INSTALL_MOD_DIR ?= extra
INCLUDE_DIR = $(DESTDIR)$(PREFIX)/include/labyrinth
SYMVERS_DIR = $(DESTDIR)$(PREFIX)/share/labyrinth/$(KVER)

# make dkms-install: sources go to DKMS_SOURCETREE/labyrinth-VERSION;
# DKMS_FLAGS are given to every dkms command (the tests point --dkmstree,
# --sourcetree, --installtree and --kernelsourcedir at scratch trees).
DKMS_SOURCETREE ?= /usr/src
DKMS_SRC = $(DKMS_SOURCETREE)/labyrinth-$(VERSION)
DKMS_FLAGS ?=
DKMS_FILES = Makefile Kbuild dkms.conf labyrinth.h labyrinth_check.h \
	     labyrinth_internal.h labyrinth_trace.h labyrinth_compat.h \
	     labyrinth_main.c labyrinth_reserve.c labyrinth_check.c

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

tests: modules
	$(MAKE) -C $(KDIR) M=$(PWD)/tests \
		KBUILD_EXTRA_SYMBOLS=$(PWD)/Module.symvers modules

install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) \
		modules_install
	install -D -m 644 labyrinth.h $(INCLUDE_DIR)/labyrinth.h
	install -D -m 644 Module.symvers $(SYMVERS_DIR)/Module.symvers

dkms-install:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)
	cp $(DKMS_FILES) $(DKMS_SRC)/
	dkms add $(DKMS_FLAGS) labyrinth/$(VERSION)
	dkms build $(DKMS_FLAGS) labyrinth/$(VERSION) -k $(KVER)
	dkms install $(DKMS_FLAGS) labyrinth/$(VERSION) -k $(KVER)

dkms-remove:
	-dkms remove $(DKMS_FLAGS) labyrinth/$(VERSION) --all
	rm -rf $(DKMS_SRC)

lint:
	tests/vm/run.sh lint

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	$(MAKE) -C $(KDIR) M=$(PWD)/tests clean

# BOOT=LABEL[,LABEL...] runs only those boots of the matrix, TEST=NAME
# only that test of their plans (tests/vm/guest/*.plan).
check:
	LAB_BOOTS='$(BOOT)' LAB_TEST='$(TEST)' tests/vm/run.sh check

demo:
	tests/vm/run.sh demo

shell:
	tests/vm/run.sh shell

bench:
	tests/vm/run.sh bench

docs:
	tests/vm/report/docs.sh

# STRESS_MS, from the command line or the environment, reaches run.sh
# through the environment.
stress:
	tests/vm/run.sh stress

clients:
	tests/vm/run.sh clients

.PHONY: all modules tests install dkms-install dkms-remove lint clean check clients \
	demo shell bench stress docs
