// SPDX-License-Identifier: GPL-2.0
/*
 * lab-finit: load a module with a single finit_module() call and say how it
 * went.  busybox insmod retries with init_module() after any failure, which
 * a test of a load that must fail cannot have.
 *
 * usage: lab-finit [-f] MODULE.ko [PARAMS]
 * Prints "loaded" or the errno's name; exits 0 or with the errno.
 *
 * -f: the task asks fail_page_alloc to fail its allocations
 * (/proc/self/make-it-fail) for the finit_module() call only.  Every page
 * of the process is mapped first (mlockall()): a page fault that cannot get
 * a page-table page while the allocator fails is retried for ever.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int make_it_fail(int fd, const char *on)
{
	return pwrite(fd, on, 1, 0) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int fd, mif = -1, ret, err;
	int fail = argc > 1 && !strcmp(argv[1], "-f");

	argv += fail;
	argc -= fail;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: lab-finit [-f] MODULE.ko [PARAMS]\n");
		return 2;
	}
	/* stdout's buffer, allocated now rather than after the call. */
	setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	if (fail) {
		mif = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		if (mif < 0 || mlockall(MCL_CURRENT) || make_it_fail(mif, "0")) {
			perror("make-it-fail");
			return 2;
		}
		make_it_fail(mif, "1");
	}
	ret = syscall(SYS_finit_module, fd, argc == 3 ? argv[2] : "", 0);
	err = errno;
	if (fail)
		make_it_fail(mif, "0");
	if (ret) {
		printf("%s\n", strerrorname_np(err));
		return err;
	}
	printf("loaded\n");
	return 0;
}
