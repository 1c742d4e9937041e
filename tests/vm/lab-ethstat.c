// SPDX-License-Identifier: GPL-2.0
/*
 * lab-ethstat: a network device's driver statistics, as "ethtool -S"
 * prints them, one "name value" line each (the guest has no ethtool).
 *
 * usage: lab-ethstat IFACE [NAME...]
 * With NAMEs, only those, in that order (0 for a name the driver does not
 * have).  Exits 0, or 2 if the device cannot be asked.
 */
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int ethtool(int fd, const char *dev, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

int main(int argc, char **argv)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_gstrings *names;
	struct ethtool_stats *stats;
	unsigned int i, n;
	int fd, a;

	if (argc < 2) {
		fprintf(stderr, "usage: lab-ethstat IFACE [NAME...]\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (fd < 0 || ethtool(fd, argv[1], &info)) {
		perror(argv[1]);
		return 2;
	}
	n = info.n_stats;
	names = calloc(1, sizeof(*names) + n * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + n * sizeof(uint64_t));
	if (!names || !stats)
		return 2;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	if (ethtool(fd, argv[1], names) || ethtool(fd, argv[1], stats)) {
		perror(argv[1]);
		return 2;
	}
	if (argc == 2) {
		for (i = 0; i < n; i++)
			printf("%.*s %llu\n", ETH_GSTRING_LEN,
			       (char *)names->data + i * ETH_GSTRING_LEN,
			       (unsigned long long)stats->data[i]);
		return 0;
	}
	for (a = 2; a < argc; a++) {
		unsigned long long v = 0;

		for (i = 0; i < n; i++)
			if (!strncmp((char *)names->data + i * ETH_GSTRING_LEN,
				     argv[a], ETH_GSTRING_LEN))
				v = stats->data[i];
		printf("%s %llu\n", argv[a], v);
	}
	return 0;
}
