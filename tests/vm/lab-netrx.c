// SPDX-License-Identifier: GPL-2.0
/*
 * lab-netrx: the guest's end of the network clients' experiment.  It asks
 * the host's sender (clients/sender.py, reached through QEMU's socket
 * backend on the host's loopback) for one round of numbered frames, counts
 * those that arrive, and prints one line:
 *
 *   netrx round=R sent=S received=X lost=L gaps=G dups=D host_drops=H
 *	sock_drops=P end=E
 *
 * sent and host_drops (frames QEMU's socket on the host dropped) come from
 * the sender's end-of-round frame; end=0 says it never arrived (then sent
 * is the number asked for).  gaps counts runs of missing frames,
 * sock_drops the frames this socket itself dropped (PACKET_STATISTICS).
 *
 * usage: lab-netrx IFACE ROUND COUNT RATE SIZE [PRESSURE [STALL_MS]]
 * Frames of SIZE bytes, COUNT of them at RATE per second.  With PRESSURE,
 * the debugfs directory of labyrinth_pressure: the pressure is started
 * first (PRESSURE/run), the round begins once the hog holds all it can get
 * (hog_full above zero, and a second more), and the pressure's counters
 * are appended to the line before it is stopped.  This process forks
 * nothing and is locked in memory meanwhile: an allocation of another
 * task that may not fail would take pages back from the hog.  With
 * STALL_MS, the receiver stops reading for that long once the first frame
 * arrived, as a consumer that stalls: its socket queue (64 MiB, room for
 * over 10000 frames) holds the frames, and their pages, meanwhile.  Exits 0 once the round ended or
 * timed out, 2 on a setup error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LAB_ETHERTYPE	0x88b5		/* IEEE 802 local experimental 1 */
#define LAB_MAGIC	0x4c414259	/* "LABY" */
#define MAX_COUNT	1000000

enum { KIND_REQ = 1, KIND_DATA = 2, KIND_END = 3 };

/* After the Ethernet header; every field in network byte order. */
struct lab_frame {
	unsigned int magic;
	unsigned int kind;
	unsigned int round;
	unsigned int a;	/* REQ: count; DATA: sequence number; END: sent */
	unsigned int b;	/* REQ: rate; END: host_drops */
	unsigned int c;	/* REQ: size */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write @val to @dir/@name. */
static int put(const char *dir, const char *name, const char *val)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/* @dir/stats as one line of name=value pairs, into @out. */
static void read_stats(const char *dir, char *out, size_t size)
{
	char path[256], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/stats", dir);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	snprintf(out, size, "%s", buf);
	for (; *out; out++)
		if (*out == ' ')
			*out = '=';
		else if (*out == '\n')
			*out = out[1] ? ' ' : '\0';
}

/* Start the pressure in @dir; wait until its hog holds all it can get. */
static int pressure_start(const char *dir)
{
	char line[1024], *full;
	int i;

	if (put(dir, "run", "1"))
		return -1;
	for (i = 0; i < 1200; i++) {
		usleep(100000);
		read_stats(dir, line, sizeof(line));
		full = strstr(line, "hog_full=");
		if (full && strtoul(full + 9, NULL, 10) > 0) {
			sleep(1);
			return 0;
		}
	}
	return -1;
}

static int send_request(int fd, int ifindex, const unsigned char *mac,
			unsigned int round, unsigned int count, unsigned int rate,
			unsigned int size)
{
	unsigned char buf[ETH_ZLEN] = { 0 };
	struct ether_header *eh = (struct ether_header *)buf;
	struct lab_frame *f = (struct lab_frame *)(eh + 1);
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};

	memset(eh->ether_dhost, 0xff, ETH_ALEN);
	memcpy(eh->ether_shost, mac, ETH_ALEN);
	eh->ether_type = htons(LAB_ETHERTYPE);
	f->magic = htonl(LAB_MAGIC);
	f->kind = htonl(KIND_REQ);
	f->round = htonl(round);
	f->a = htonl(count);
	f->b = htonl(rate);
	f->c = htonl(size);
	memset(to.sll_addr, 0xff, ETH_ALEN);
	return sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to,
		      sizeof(to)) == sizeof(buf) ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned int round, count, rate, size, sent, host_drops = 0, seq;
	unsigned long received = 0, dups = 0, gaps = 0, i;
	double start, deadline, next_req, first = 0, last;
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	int fd, ifindex, end = 0, asked = 0, bufsz = 32 << 20;
	unsigned char mac[ETH_ALEN], *seen, buf[65536];
	struct ifreq ifr;
	struct sockaddr_ll me = { .sll_family = AF_PACKET };
	const char *pressure = argc >= 7 ? argv[6] : NULL;
	unsigned int stall_ms = argc == 8 ? strtoul(argv[7], NULL, 0) : 0;
	char pstats[1024] = "";

	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: lab-netrx IFACE ROUND COUNT RATE SIZE %s\n",
			"[PRESSURE [STALL_MS]]");
		return 2;
	}
	round = strtoul(argv[2], NULL, 0);
	count = strtoul(argv[3], NULL, 0);
	rate = strtoul(argv[4], NULL, 0);
	size = strtoul(argv[5], NULL, 0);
	if (!count || count > MAX_COUNT || !rate ||
	    size < ETH_HLEN + sizeof(struct lab_frame) || size > 9000) {
		fprintf(stderr, "lab-netrx: COUNT 1-%d, RATE > 0, SIZE %zu-9000\n",
			MAX_COUNT, ETH_HLEN + sizeof(struct lab_frame));
		return 2;
	}
	seen = calloc(count, 1);
	/* The guest may have no AF_UNIX or AF_INET for if_nametoindex(). */
	fd = socket(AF_PACKET, SOCK_RAW, htons(LAB_ETHERTYPE));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (!seen || fd < 0 || ioctl(fd, SIOCGIFINDEX, &ifr)) {
		perror(argv[1]);
		return 2;
	}
	ifindex = ifr.ifr_ifindex;
	me.sll_protocol = htons(LAB_ETHERTYPE);
	me.sll_ifindex = ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		perror(argv[1]);
		return 2;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	/* A deep queue: what the socket drops is not the driver's loss. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	/* Nothing of this process is paged in while memory is short. */
	mlockall(MCL_CURRENT | MCL_FUTURE);
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len);
	if (pressure && pressure_start(pressure)) {
		perror(pressure);
		put(pressure, "run", "0");
		return 2;
	}

	start = now();
	deadline = start + 10 + (double)count / rate + 10;
	next_req = start;
	last = start;
	while (!end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double t = now();
		struct lab_frame *f;
		ssize_t n;

		/*
		 * Three seconds without a frame end a round that started, once
		 * its frames should all have come.
		 */
		if (t > deadline ||
		    (received && t > first + (double)count / rate + 3 &&
		     t > last + 3))
			break;
		/* Ask until the round starts; a lost request is asked again. */
		if (!received && !end && t >= next_req) {
			if (asked++ == 10)
				break;
			send_request(fd, ifindex, mac, round, count, rate, size);
			next_req = t + 1;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < (ssize_t)(ETH_HLEN + sizeof(*f)))
			continue;
		f = (struct lab_frame *)(buf + ETH_HLEN);
		if (ntohl(f->magic) != LAB_MAGIC || ntohl(f->round) != round)
			continue;
		switch (ntohl(f->kind)) {
		case KIND_DATA:
			seq = ntohl(f->a);
			if (seq >= count)
				break;
			if (seen[seq]) {
				dups++;
				break;
			}
			seen[seq] = 1;
			if (!received++)
				first = t;
			if (stall_ms && received == 1) {
				usleep(stall_ms * 1000);
				t = now();
			}
			last = t;
			break;
		case KIND_END:
			sent = ntohl(f->a);
			host_drops = ntohl(f->b);
			end = 1;
			break;
		}
	}
	if (!end)
		sent = count;
	for (i = 0; i < count; i++)
		if (!seen[i] && (i == 0 || seen[i - 1]))
			gaps++;
	len = sizeof(st);
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		st.tp_drops = 0;
	if (pressure) {
		read_stats(pressure, pstats, sizeof(pstats));
		put(pressure, "run", "0");
	}
	printf("netrx round=%u sent=%u received=%lu lost=%lu gaps=%lu dups=%lu",
	       round, sent, received, sent - received, gaps, dups);
	printf(" host_drops=%u sock_drops=%u end=%d %s\n", host_drops,
	       st.tp_drops, end, pstats);
	return 0;
}
