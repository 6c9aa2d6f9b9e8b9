// SPDX-License-Identifier: GPL-2.0
/*
 * blast: sealed CrapVPN datagrams from many peers to one port, as fast as
 * the stack takes them, for the scale benchmark (tests/bench/scale-inside.sh).
 *
 *   blast --to ADDR --peers N --seconds T [--port P] [--batch B]
 *
 * Peer i (0 <= i < N) is 198.19.((i + 1) >> 8).((i + 1) & 255), port P
 * (default 1337), with the key 5e ed and i as 6 bytes big-endian (8 bytes;
 * scale-inside.sh gives device i the same key and that peer), and inner
 * addresses 10.(100 + (i >> 8)).(i & 255).2 (the peer's) and .1 (the
 * device's). Each peer's datagram is sealed once, before the clock starts:
 * an ICMP echo reply (84 bytes, so 120 on the wire) from .2 to .1, which
 * the server's stack takes and drops without a word (no socket waits for
 * it). sendmmsg() sends batches of B (default 64) datagrams, the peers
 * taking turns, each from its own source address by IP_PKTINFO: the sending
 * namespace must own them all (ip route add local 198.19.0.0/16 dev lo).
 * Prints "sent S seconds T" when done: datagrams sendmmsg() took.
 *
 * Built by tests/bench/scale on the host (the VM's / is read-only).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR		8
#define INNER		84	/* IPv4 20 + ICMP 8 + 56 bytes of data */
#define KEY_LEN		8
#define MAX_BATCH	1024
#define MAX_PEERS	4096	/* 10.(100 + (i >> 8)) stays below 256 */

struct peer {
	unsigned char dgram[HDR + INNER];
	struct in_pktinfo pi;
};

static uint16_t csum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* seal PEER I's datagram: the header, then the inner packet XORed. */
static void seal(struct peer *p, unsigned int i)
{
	unsigned char key[KEY_LEN] = { 0x5e, 0xed, 0, 0,
				       i >> 24, i >> 16, i >> 8, i };
	unsigned char *ip = p->dgram + HDR, *icmp = ip + 20;
	unsigned int j;

	memcpy(p->dgram, "crap", 4);
	put16(p->dgram + 4, INNER);
	put16(p->dgram + 6, 0x0800);
	memset(ip, 0, INNER);
	ip[0] = 0x45;
	put16(ip + 2, INNER);
	ip[8] = 64;			/* TTL */
	ip[9] = 1;			/* ICMP */
	ip[12] = 10;
	ip[13] = 100 + (i >> 8);
	ip[14] = i & 0xff;
	ip[15] = 2;
	memcpy(ip + 16, ip + 12, 3);
	ip[19] = 1;
	put16(ip + 10, csum(ip, 20));
	icmp[0] = 0;			/* echo reply */
	put16(icmp + 4, 0xbe);		/* id */
	put16(icmp + 6, 1);		/* sequence */
	for (j = 8; j < INNER - 20; j++)
		icmp[j] = j;
	put16(icmp + 2, csum(icmp, INNER - 20));
	for (j = 0; j < INNER; j++)
		ip[j] ^= key[j % KEY_LEN];
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: blast --to ADDR --peers N --seconds T"
		" [--port P] [--batch B]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "peers", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static char cbuf[MAX_BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	unsigned int npeers = 0, batch = 64, port = 1337, next = 0, i;
	double seconds = 0, start, end;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct sockaddr_in me = { .sin_family = AF_INET };
	unsigned long long sent = 0;
	struct peer *peers;
	int fd, c, one = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (inet_pton(AF_INET, optarg, &to.sin_addr) != 1)
				usage();
			break;
		case 'n':
			npeers = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'p':
			port = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (!to.sin_addr.s_addr || !npeers || npeers > MAX_PEERS ||
	    seconds <= 0 || !batch || batch > MAX_BATCH || !port ||
	    port > 65535)
		usage();
	to.sin_port = htons(port);
	me.sin_port = htons(port);

	peers = calloc(npeers, sizeof(*peers));
	if (!peers)
		return 1;
	for (i = 0; i < npeers; i++) {
		seal(&peers[i], i);
		peers[i].pi.ipi_spec_dst.s_addr =
			htonl(198u << 24 | 19u << 16 | (i + 1));
	}

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		perror("blast: socket");
		return 1;
	}
	for (i = 0; i < batch; i++) {
		struct msghdr *m = &msgs[i].msg_hdr;

		m->msg_name = &to;
		m->msg_namelen = sizeof(to);
		m->msg_iov = &iov[i];
		m->msg_iovlen = 1;
		m->msg_control = cbuf[i];
		m->msg_controllen = sizeof(cbuf[i]);
		CMSG_FIRSTHDR(m)->cmsg_level = IPPROTO_IP;
		CMSG_FIRSTHDR(m)->cmsg_type = IP_PKTINFO;
		CMSG_FIRSTHDR(m)->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		iov[i].iov_len = HDR + INNER;
	}

	start = now();
	end = start + seconds;
	do {
		int done;

		for (i = 0; i < batch; i++) {
			struct peer *p = &peers[next];

			iov[i].iov_base = p->dgram;
			memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msgs[i].msg_hdr)),
			       &p->pi, sizeof(p->pi));
			if (++next == npeers)
				next = 0;
		}
		done = sendmmsg(fd, msgs, batch, 0);
		if (done > 0)
			sent += done;
		else if (errno != ENOBUFS && errno != EAGAIN &&
			   errno != EINTR) {
			perror("blast: sendmmsg");
			return 1;
		}
	} while (now() < end);
	printf("sent %llu seconds %.3f\n", sent, now() - start);
	return 0;
}
