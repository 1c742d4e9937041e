// SPDX-License-Identifier: GPL-2.0
/*
 * lab-failwrite: write VALUE to FILE with one write() call while
 * fail_page_alloc fails this task's page allocations
 * (/proc/self/make-it-fail), and only during that call.  Every page of the
 * process is mapped first (mlockall()): a page fault that cannot get a
 * page-table page while the allocator fails is retried for ever.  A shell
 * that sets make-it-fail and then writes runs code it has not faulted in.
 *
 * usage: lab-failwrite FILE VALUE
 * Exits 0, or with the write's errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd, mif;
	ssize_t ret;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: lab-failwrite FILE VALUE\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CLOEXEC);
	mif = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || mif < 0 || mlockall(MCL_CURRENT) ||
	    pwrite(mif, "0", 1, 0) != 1) {
		perror(argv[1]);
		return 2;
	}
	pwrite(mif, "1", 1, 0);
	ret = write(fd, argv[2], strlen(argv[2]));
	err = errno;
	pwrite(mif, "0", 1, 0);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(err));
		return err;
	}
	return 0;
}
