// SPDX-License-Identifier: GPL-2.0
/*
 * lab-finit: load a module with a single finit_module() call and say how it
 * went.  busybox insmod retries with init_module() after any failure, which
 * a test of a load that must fail cannot have.
 *
 * usage: lab-finit MODULE.ko [PARAMS]
 * Prints "loaded" or the errno's name; exits 0 or with the errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd, err;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: lab-finit MODULE.ko [PARAMS]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	if (syscall(SYS_finit_module, fd, argc == 3 ? argv[2] : "", 0)) {
		err = errno;
		printf("%s\n", strerrorname_np(err));
		return err;
	}
	printf("loaded\n");
	return 0;
}
