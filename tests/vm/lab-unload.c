// SPDX-License-Identifier: GPL-2.0
/*
 * lab-unload: unload modules while every page allocation fails, without a
 * fork or an exec in between (either needs memory).
 *
 * usage: lab-unload TRIGGER VALUE MS STATS MODULE...
 *
 * Opens fail_page_alloc's probability, TRIGGER and STATS first (and reads
 * STATS once, so that its buffer exists), then: sets the probability to
 * 100, writes VALUE to TRIGGER, waits MS milliseconds, reads STATS again,
 * closes both (an open debugfs file pins its module), removes each MODULE
 * with delete_module() and sets the probability back to 0.  Prints what it
 * read of STATS the second time, then one line per module, "MODULE
 * unloaded" or "MODULE ERRNO"; exits 0 if every module went.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PROBABILITY "/sys/kernel/debug/fail_page_alloc/probability"

static int write_str(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

int main(int argc, char **argv)
{
	int prob, trig, stats, i, err[64] = { 0 }, status = 0;
	static char buf[8192];
	struct timespec ts;
	ssize_t len;
	long ms;

	if (argc < 6 || argc - 5 > 64) {
		fprintf(stderr, "usage: lab-unload TRIGGER VALUE MS STATS MODULE...\n");
		return 2;
	}
	ms = strtol(argv[3], NULL, 10);
	prob = open(PROBABILITY, O_WRONLY | O_CLOEXEC);
	trig = open(argv[1], O_WRONLY | O_CLOEXEC);
	stats = open(argv[4], O_RDONLY | O_CLOEXEC);
	if (prob < 0 || trig < 0 || stats < 0) {
		perror("open");
		return 2;
	}
	if (read(stats, buf, sizeof(buf) - 1) < 0) {
		perror(argv[4]);
		return 2;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = ms % 1000 * 1000000L;

	if (write_str(prob, "100"))
		return 2;
	if (write_str(trig, argv[2]))
		status = 1;
	nanosleep(&ts, NULL);
	lseek(stats, 0, SEEK_SET);
	len = read(stats, buf, sizeof(buf) - 1);
	close(stats);
	close(trig);
	for (i = 5; i < argc; i++)
		if (syscall(SYS_delete_module, argv[i], O_NONBLOCK))
			err[i - 5] = errno;
	write_str(prob, "0");

	if (len < 0)
		len = 0;
	buf[len] = '\0';
	fputs(buf, stdout);
	for (i = 5; i < argc; i++) {
		if (err[i - 5])
			status = 1;
		printf("%s %s\n", argv[i],
		       err[i - 5] ? strerrorname_np(err[i - 5]) : "unloaded");
	}
	return status;
}
