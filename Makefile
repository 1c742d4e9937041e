# SPDX-License-Identifier: GPL-2.0
#
# labyrinth: out-of-tree module build and the developer/CI targets.
#
#   make               build labyrinth.ko against KDIR (default: running kernel)
#   make tests         build the test and demo modules in tests/ as well
#   make demo          boot a VM that shows labyrinth serving hard-IRQ users
#   make shell         the same VM with an interactive shell
#   make bench         labyrinth against the kernel's allocators and pools
#   make check         lint, build both kernels, boot them, run every test
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

tests: modules
	$(MAKE) -C $(KDIR) M=$(PWD)/tests \
		KBUILD_EXTRA_SYMBOLS=$(PWD)/Module.symvers modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	$(MAKE) -C $(KDIR) M=$(PWD)/tests clean

check:
	tests/vm/run.sh check

demo:
	tests/vm/run.sh demo

shell:
	tests/vm/run.sh shell

bench:
	tests/vm/run.sh bench

.PHONY: all modules tests clean check demo shell bench
