// SPDX-License-Identifier: GPL-2.0
/*
 * hostile: fire random and mutated CrapVPN datagrams at a crapvpn device's
 * UDP port with sendmmsg(), as fast as the stack takes them (or at --rate),
 * for tests/net/70-hostile.sh and tests/debug/soak.
 *
 *   hostile --to ADDR --port P[,P...] --key HEX [--count N] [--seed S]
 *           [--inner4 LOCAL,PEER] [--inner6 LOCAL,PEER] [--summary FILE]
 *           [--batch B] [--rate PPS] [--stop FILE] [--seconds T]
 *           [--max-size BYTES] [--from ADDR] [--l2 [--mac MAC]]
 *
 * --from sends from ADDR (of this host), say to be one device's peer, or
 * none, on a port that devices share.
 * --count 0 sends until --stop FILE exists, --seconds pass, or SIGTERM.
 * The mix (see mutate()): random bytes; well-formed datagrams whose inner
 * packets the stack acts on (ICMP echo, UDP and TCP SYN to closed ports,
 * unknown protocols, IPv4 fragments and options, IPv6 extension headers,
 * broken lengths and checksums) from PEER to LOCAL (the device's inner
 * addresses: replies go back through the tunnel) or elsewhere; valid-but-
 * random inner packets; bit flips; truncations; wrong, zero and huge length
 * fields; trailing garbage; header-only and empty datagrams; a version
 * nibble other than 4 or 6 after the XOR; datagrams shorter than the
 * header; and a few big ones (up to --max-size, default 65507) that travel
 * as IP fragments. TCP segments only ever go to ports 40000-40999.
 *
 * --l2 aims at a layer-2 device (mode l2): the inner packets are Ethernet
 * frames (to MAC, the device's address, mostly; else to broadcast or
 * anyone) holding the same IPv4 and IPv6 packets, some behind an 802.1Q
 * tag, ARP requests and replies (from 198.18.200.0/27, so that they poison
 * no neighbour entry and create few), and random EtherTypes; datagrams are
 * typed 0x6558, some 0 (a TAP build of the userspace version); the mix
 * has frames shorter than 14 bytes and datagrams typed 0x0800 or 0x86DD
 * (a layer-3 peer's) where the layer-3 one has packets that are not IP
 * and datagrams typed 0x6558.
 *
 * The summary (JSON) counts what was sent, by the class the wire format's
 * receive rules give it (shared/wire-format.md; the same classes as
 * cvsend.py): short, magic, length, empty, mode (0x6558; with --l2: 0x0800
 * or 0x86DD), not_ip, ip_short (nibble 4 or 6 but shorter than a minimal
 * header), ip, and with --l2 short_frame (fewer than 14 bytes) and frame
 * instead of the last three; plus sent, bytes, retries
 * (sendmmsg refused with ENOBUFS/EAGAIN and was retried), seconds.
 *
 * Build: make -C tests/net/helpers (on the host: the VM's / is read-only).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HDR		8
#define ETH_HLEN	14
#define MAX_DGRAM	65507	/* the largest UDP payload over IPv4 */
#define MAX_BATCH	256
#define MAX_PORTS	64

enum cls { C_SHORT, C_MAGIC, C_LENGTH, C_EMPTY, C_MODE, C_NOT_IP, C_IP_SHORT,
	   C_IP, C_SHORT_FRAME, C_FRAME, C_MAX };
static const char *const cls_name[C_MAX] = {
	"short", "magic", "length", "empty", "mode", "not_ip", "ip_short", "ip",
	"short_frame", "frame",
};

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
	(void)sig;
	stop_now = 1;
}

/* ---- random numbers: splitmix64 ---- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)((rnd64() >> 32) * n >> 32) : 0;
}

/* Uniform in [lo, hi]. */
static uint32_t rndr(uint32_t lo, uint32_t hi)
{
	return lo + rnd(hi - lo + 1);
}

static double rndf(void)
{
	return (rnd64() >> 11) * (1.0 / 9007199254740992.0);
}

static void rndbytes(uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = rnd64();

		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	while (n--)
		*p++ = rnd64();
}

/* ---- packets ---- */

static uint8_t key[4096];
static size_t keylen;
static struct in_addr in4_local, in4_peer;
static struct in6_addr in6_local, in6_peer;
static int have_in4, have_in6;
static int l2, have_mac;
static uint8_t dev_mac[6];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; p += 2, n -= 2)
		s += p[0] << 8 | p[1];
	if (n)
		s += p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* Checksum of an upper-layer segment with the pseudo header of its IP header. */
static uint16_t l4sum(const uint8_t *ip, int v6, const uint8_t *l4, size_t n,
		      uint8_t proto)
{
	uint32_t s = proto + (uint32_t)n;

	if (v6)
		s = sum16(ip + 8, 32, s);
	else
		s = sum16(ip + 12, 8, s);
	return fold(sum16(l4, n, s));
}

static void addr4(uint8_t *dst, int local)
{
	struct in_addr a;

	if (have_in4 && local)
		a = local > 0 ? in4_local : in4_peer;
	else
		a.s_addr = htonl(0xc6120000 | rnd(1 << 16));	/* 198.18/15 */
	memcpy(dst, &a, 4);
}

static void addr6(uint8_t *dst, int local)
{
	if (have_in6 && local) {
		memcpy(dst, local > 0 ? &in6_local : &in6_peer, 16);
		return;
	}
	memcpy(dst, "\xfd\x00\x99\x00", 4);	/* fd00:99::/32 */
	rndbytes(dst + 4, 12);
}

/*
 * An inner packet of about @size bytes (at least a header) for the stack to
 * chew on; returns its length. @size is at most MAX_DGRAM - HDR; unless
 * @big, sizes above 1400 are mostly cut down, to keep replies cheap.
 */
static size_t inner_packet(uint8_t *p, size_t size, int big)
{
	int v6 = have_in4 == have_in6 ? (int)rnd(2) : have_in6;
	int to_local = rnd(4) != 0;	/* 3/4 from PEER to LOCAL */
	size_t hl = v6 ? 40 : 20, n, l4;
	uint8_t proto, *q;
	int kind = rnd(10);

	if (size < hl + 8)
		size = hl + 8;
	if (!big && size > 1400 && rnd(4))
		size = rndr(hl + 8, 1400);
	memset(p, 0, hl);
	if (v6) {
		p[0] = 0x60;
		p[7] = 64;	/* hop limit: not 255, so no NDP is believed */
		addr6(p + 8, to_local ? -1 : 0);
		addr6(p + 24, to_local ? 1 : 0);
	} else {
		p[0] = 0x45;
		put16(p + 4, rnd(65536));
		p[8] = 64;
		addr4(p + 12, to_local ? -1 : 0);
		addr4(p + 16, to_local ? 1 : 0);
	}
	q = p + hl;
	l4 = size - hl;
	switch (kind) {
	case 0: case 1: case 2:	/* echo request: answered through the tunnel */
		proto = v6 ? 58 : 1;
		rndbytes(q, l4);
		q[0] = v6 ? 128 : 8;
		q[1] = 0;
		q[2] = q[3] = 0;
		break;
	case 3: case 4:		/* UDP to a closed port: port unreachable */
		proto = 17;
		rndbytes(q, l4);
		put16(q + 2, rndr(33434, 33534));
		put16(q + 4, l4);
		q[6] = q[7] = 0;
		break;
	case 5:			/* TCP SYN to a closed port: RST */
		proto = 6;
		if (l4 < 20) {
			l4 = 20;
			size = hl + l4;
		}
		rndbytes(q, l4);
		put16(q + 2, rndr(40000, 40999));
		q[12] = 5 << 4;
		q[13] = 0x02;	/* SYN */
		q[16] = q[17] = 0;
		l4 = 20;
		size = hl + l4;
		break;
	case 6:			/* an unknown protocol */
		proto = rndr(143, 252);
		rndbytes(q, l4);
		break;
	default:		/* random transport (but never TCP) */
		proto = rnd(256);
		if (proto == 6)
			proto = 253;
		rndbytes(q, l4);
		break;
	}
	if (proto == 1 || proto == 58 || proto == 6 || proto == 17) {
		int off = proto == 6 ? 16 : proto == 17 ? 6 : 2;
		uint16_t c;

		/* Build the IP header first: the pseudo header needs it. */
		if (v6) {
			p[6] = proto;
			put16(p + 4, l4);
		} else {
			p[9] = proto;
		}
		c = proto == 1 ? fold(sum16(q, l4, 0)) : l4sum(p, v6, q, l4, proto);
		if (proto == 17 && !c)
			c = 0xffff;
		put16(q + off, c);
	}
	if (v6) {
		p[6] = proto;
		put16(p + 4, size - hl);
		/* Sometimes an extension header chain in front. */
		if (rnd(6) == 0 && size >= hl + 16) {
			static const uint8_t ext[] = { 0, 43, 44, 60, 59, 51, 135 };

			p[6] = ext[rnd(sizeof(ext))];
			q[0] = proto;
			q[1] = rnd(4);	/* may claim more than there is */
			rndbytes(q + 2, 6);
		}
		if (rnd(16) == 0)	/* payload length lies */
			put16(p + 4, rnd(65536));
		return size;
	}
	p[9] = proto;
	put16(p + 2, size);
	switch (rnd(24)) {
	case 0:			/* a fragment: reassembly queues in the netns */
		put16(p + 6, (rnd(2) << 13) | rnd(1 << 13));
		break;
	case 1:			/* options (random) */
		if (size >= 60) {
			n = rndr(1, 10);
			p[0] = 0x40 | (5 + n);
			rndbytes(p + 20, n * 4);
		}
		break;
	case 2:			/* header length below 5 */
		p[0] = 0x40 | rnd(5);
		break;
	case 3:			/* total length lies */
		put16(p + 2, rnd(65536));
		break;
	case 4:			/* checksum left wrong */
		put16(p + 10, fold(sum16(p, 20, 0)) ^ rndr(1, 0xffff));
		return size;
	default:
		put16(p + 6, 0x4000);	/* DF */
		break;
	}
	put16(p + 10, 0);
	put16(p + 10, fold(sum16(p, (p[0] & 15) * 4 > 20 && (p[0] & 15) * 4 <= size ?
			       (p[0] & 15) * 4 : 20, 0)));
	return size;
}

/*
 * An Ethernet frame of about @size bytes for a layer-2 device (--l2), at
 * least 60 (a minimal frame) unless an IP packet inside is shorter; returns
 * its length.
 */
static size_t eth_frame(uint8_t *p, size_t size, int big)
{
	int kind = rnd(16);
	uint8_t *q = p + ETH_HLEN;
	size_t n;

	if (size < 60)
		size = 60;
	switch (rnd(4)) {
	case 0: case 1:		/* to the device: the stack answers */
		if (have_mac) {
			memcpy(p, dev_mac, 6);
			break;
		}
		/* fall through */
	case 2:
		memset(p, 0xff, 6);
		break;
	default:		/* unicast elsewhere, or multicast */
		rndbytes(p, 6);
		break;
	}
	rndbytes(p + 6, 6);
	p[6] = (p[6] & 0xfc) | 0x02;	/* a locally administered unicast source */
	if (kind < 10) {		/* IPv4 or IPv6, as at a layer-3 device */
		n = inner_packet(q, size - ETH_HLEN, big);
		put16(p + 12, q[0] >> 4 == 6 ? 0x86dd : 0x0800);
		return ETH_HLEN + n;
	}
	if (kind < 11) {		/* the same behind an 802.1Q tag */
		put16(p + 12, 0x8100);
		put16(q, rnd(1 << 16));
		n = inner_packet(q + 4, size - ETH_HLEN - 4, big);
		put16(q + 2, q[4] >> 4 == 6 ? 0x86dd : 0x0800);
		return ETH_HLEN + 4 + n;
	}
	if (kind < 13) {		/* ARP request or reply */
		memset(q, 0, 46);
		put16(p + 12, 0x0806);
		put16(q, 1);		/* Ethernet */
		put16(q + 2, 0x0800);
		q[4] = 6;
		q[5] = 4;
		put16(q + 6, rndr(1, 2));
		memcpy(q + 8, p + 6, 6);
		put16(q + 14, 0xc612);	/* 198.18.200.0/27 */
		q[16] = 200;
		q[17] = rnd(32);
		if (rnd(2))
			rndbytes(q + 18, 6);
		addr4(q + 24, rnd(2));	/* the device's address or anyone's */
		return 60;
	}
	/* any EtherType (or an 802.3 length), random bytes */
	if (!big && size > 1400)
		size = rndr(60, 1400);
	put16(p + 12, rnd(1 << 16));
	rndbytes(q, size - ETH_HLEN);
	return size;
}

/*
 * Datagram = header + inner XOR key; returns its length. Typed 0 (as the
 * userspace version sends), or with --l2 mostly 0x6558.
 */
static size_t seal(uint8_t *d, const uint8_t *inner, size_t n)
{
	size_t i;

	memcpy(d, "crap", 4);
	put16(d + 4, n);
	d[6] = d[7] = 0;
	if (l2 && rnd(8))
		put16(d + 6, 0x6558);
	for (i = 0; i < n; i++)
		d[HDR + i] = inner[i] ^ key[i % keylen];
	return HDR + n;
}

static size_t max_size = MAX_DGRAM;
static uint8_t scratch[MAX_DGRAM];

/* A well-formed datagram carrying an inner packet of up to @max bytes. */
static size_t valid(uint8_t *d, size_t max)
{
	size_t n;

	if (max > max_size)
		max = max_size;
	if (l2)
		n = eth_frame(scratch, rndr(20, max - HDR), max > 2000);
	else
		n = inner_packet(scratch, rndr(20, max - HDR), max > 2000);
	return seal(d, scratch, n);
}

static enum cls classify(const uint8_t *d, size_t n)
{
	size_t len;
	int v;

	if (n < HDR)
		return C_SHORT;
	if (memcmp(d, "crap", 4))
		return C_MAGIC;
	len = (size_t)d[4] << 8 | d[5];
	if (len != n - HDR)
		return C_LENGTH;
	if (!len)
		return C_EMPTY;
	if (l2) {
		unsigned int type = d[6] << 8 | d[7];

		if (type == 0x0800 || type == 0x86dd)	/* a layer-3 peer's */
			return C_MODE;
		return len < ETH_HLEN ? C_SHORT_FRAME : C_FRAME;
	}
	if (d[6] == 0x65 && d[7] == 0x58)	/* Ethernet, at a layer-3 device */
		return C_MODE;
	v = (d[HDR] ^ key[0]) >> 4;
	if (v != 4 && v != 6)
		return C_NOT_IP;
	if ((v == 4 && len < 20) || (v == 6 && len < 40))
		return C_IP_SHORT;
	return C_IP;
}

/* One random or mutated datagram in @d; returns its length. */
static size_t mutate(uint8_t *d)
{
	double r = rndf();
	size_t n, i, k;

	if (r < 0.10) {			/* random bytes */
		n = rnd(2001);
		rndbytes(d, n);
		if (n >= 4 && rnd(3) == 0)
			memcpy(d, "crap", 4);
		return n;
	}
	if (r < 0.26)			/* well formed, for the stack */
		return valid(d, 2000);
	if (r < 0.27) {			/* well formed, but of the other mode */
		n = valid(d, 2000);
		put16(d + 6, !l2 ? 0x6558 : rnd(2) ? 0x0800 : 0x86dd);
		return n;
	}
	if (r < 0.32) {			/* valid-but-random inner packet */
		n = rndr(1, 1992);
		rndbytes(scratch, n);
		if (!l2)
			scratch[0] = (rnd(2) ? 0x40 : 0x60) | (scratch[0] & 15);
		return seal(d, scratch, n);
	}
	if (r < 0.45) {			/* bit flips anywhere, or in the header */
		n = valid(d, 2000);
		for (k = rndr(1, 4); k; k--) {
			i = rnd(rnd(2) ? n : (n < 12 ? n : 12));
			d[i] ^= 1 << rnd(8);
		}
		return n;
	}
	if (r < 0.55) {			/* truncated */
		n = valid(d, 2000);
		return rnd(n);
	}
	if (r < 0.64) {			/* wrong length field */
		static const int choice[] = { 0, -1, 1, 65535, -2 };
		size_t bad;

		n = valid(d, 2000);
		switch (choice[rnd(5)]) {
		case 0: bad = 0; break;
		case -1: bad = n - HDR - 1; break;
		case 1: bad = n - HDR + 1; break;
		case 65535: bad = 65535; break;
		default: bad = rnd(65536); break;
		}
		if (bad == n - HDR)
			bad++;
		put16(d + 4, bad);
		return n;
	}
	if (r < 0.68) {			/* trailing garbage */
		n = valid(d, 1900);
		k = rndr(1, 100);
		rndbytes(d + n, k);
		return n + k;
	}
	if (r < 0.71) {			/* header only, length 0 */
		memcpy(d, "crap\0\0", 6);
		rndbytes(d + 6, 2);
		return HDR;
	}
	if (r < 0.74)			/* empty datagram */
		return 0;
	if (r < 0.81) {			/* right header, random ciphertext */
		n = rnd(10) < 3 ? rndr(1, 44) : rndr(1, 1992);
		rndbytes(d + HDR, n);
		memcpy(d, "crap", 4);
		put16(d + 4, n);
		rndbytes(d + 6, 2);
		return HDR + n;
	}
	if (r < 0.88 && l2) {		/* a frame shorter than its header */
		n = rndr(1, ETH_HLEN - 1);
		rndbytes(scratch, n);
		return seal(d, scratch, n);
	}
	if (r < 0.88) {			/* not IP once decrypted */
		static const uint8_t nib[] = { 0, 1, 2, 3, 5, 7, 8, 9, 10, 11,
					       12, 13, 14, 15 };

		n = rndr(1, 1992);
		rndbytes(scratch, n);
		scratch[0] = nib[rnd(sizeof(nib))] << 4 | rnd(16);
		return seal(d, scratch, n);
	}
	if (r < 0.93) {			/* shorter than the header */
		n = valid(d, 200);
		if (rnd(10) < 3)
			rndbytes(d, HDR);
		return rnd(HDR);
	}
	if (r < 0.96) {			/* a near miss of the magic */
		n = valid(d, 2000);
		d[rnd(4)] ^= 1 << rnd(8);
		if (rnd(2))
			memcpy(d, rnd(2) ? "CRAP" : "crab", 4);
		return n;
	}
	/* big: travels as IP fragments; valid or mutated */
	n = valid(d, rndr(2001, max_size));
	switch (rnd(4)) {
	case 0:
		put16(d + 4, rnd(65536));
		break;
	case 1:
		n = rndr(HDR, n);
		break;
	default:
		break;
	}
	return n;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: hostile --to ADDR --port P[,P...] --key HEX [--count N] [--seed S]\n"
		"               [--inner4 LOCAL,PEER] [--inner6 LOCAL,PEER] [--summary FILE]\n"
		"               [--batch B] [--rate PPS] [--stop FILE] [--seconds T]\n"
		"               [--max-size BYTES] [--from ADDR] [--l2 [--mac MAC]]\n");
	exit(2);
}

static int parse_pair(const char *arg, int af, void *a, void *b)
{
	char buf[128], *comma;

	snprintf(buf, sizeof(buf), "%s", arg);
	comma = strchr(buf, ',');
	if (!comma)
		return -1;
	*comma = 0;
	return inet_pton(af, buf, a) == 1 && inet_pton(af, comma + 1, b) == 1 ? 0 : -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", 1, 0, 't' }, { "port", 1, 0, 'p' }, { "key", 1, 0, 'k' },
		{ "count", 1, 0, 'n' }, { "seed", 1, 0, 's' },
		{ "inner4", 1, 0, '4' }, { "inner6", 1, 0, '6' },
		{ "summary", 1, 0, 'o' }, { "batch", 1, 0, 'b' },
		{ "rate", 1, 0, 'r' }, { "stop", 1, 0, 'S' },
		{ "seconds", 1, 0, 'T' }, { "max-size", 1, 0, 'm' },
		{ "from", 1, 0, 'f' }, { "l2", 0, 0, 'L' }, { "mac", 1, 0, 'M' },
		{ 0 }
	};
	const char *to = NULL, *from = NULL, *summary = NULL, *stop = NULL;
	const char *seedtxt = "hostile";
	unsigned long long count = 1000000, sent = 0, bytes = 0, retries = 0;
	unsigned long long per[C_MAX] = { 0 };
	unsigned int ports[MAX_PORTS], nports = 0, batch = 64, b, i, loops = 0;
	double rate = 0, seconds = 0, t0, t;
	struct sockaddr_storage dst[MAX_PORTS];
	socklen_t dstlen = 0;
	static uint8_t bufs[MAX_BATCH][MAX_DGRAM + 128];
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	enum cls cl[MAX_BATCH];
	int c, fd, family = AF_INET, one = 0;
	uint64_t h = 1469598103934665603ULL;
	FILE *f;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'f': from = optarg; break;
		case 'L': l2 = 1; break;
		case 'M':
			if (sscanf(optarg, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx",
				   &dev_mac[0], &dev_mac[1], &dev_mac[2],
				   &dev_mac[3], &dev_mac[4], &dev_mac[5]) != 6)
				usage();
			have_mac = 1;
			break;
		case 'p': {
			char *s = optarg, *end;

			while (*s && nports < MAX_PORTS) {
				unsigned long v = strtoul(s, &end, 10);

				if (end == s || !v || v > 65535)
					usage();
				ports[nports++] = v;
				s = *end == ',' ? end + 1 : end;
				if (*end && *end != ',')
					usage();
			}
			break;
		}
		case 'k': {
			size_t n = strlen(optarg);

			if (!n || n % 2 || n / 2 > sizeof(key))
				usage();
			for (keylen = 0; keylen < n / 2; keylen++)
				if (sscanf(optarg + 2 * keylen, "%2hhx", &key[keylen]) != 1)
					usage();
			break;
		}
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 's': seedtxt = optarg; break;
		case '4':
			if (parse_pair(optarg, AF_INET, &in4_local, &in4_peer))
				usage();
			have_in4 = 1;
			break;
		case '6':
			if (parse_pair(optarg, AF_INET6, &in6_local, &in6_peer))
				usage();
			have_in6 = 1;
			break;
		case 'o': summary = optarg; break;
		case 'b':
			batch = strtoul(optarg, NULL, 10);
			if (!batch || batch > MAX_BATCH)
				usage();
			break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'S': stop = optarg; break;
		case 'T': seconds = strtod(optarg, NULL); break;
		case 'm':
			max_size = strtoul(optarg, NULL, 10);
			if (max_size < 2100 || max_size > MAX_DGRAM)
				usage();
			break;
		default: usage();
		}
	}
	if (!to || !nports || !keylen || optind != argc)
		usage();
	for (const char *s = seedtxt; *s; s++)	/* FNV-1a of the seed text */
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	rng_state = h;

	for (i = 0; i < nports; i++) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&dst[i];
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst[i];

		memset(&dst[i], 0, sizeof(dst[i]));
		if (inet_pton(AF_INET, to, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(ports[i]);
			dstlen = sizeof(*s4);
		} else if (inet_pton(AF_INET6, to, &s6->sin6_addr) == 1) {
			s6->sin6_family = family = AF_INET6;
			s6->sin6_port = htons(ports[i]);
			dstlen = sizeof(*s6);
		} else {
			usage();
		}
	}
	fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (from) {
		struct sockaddr_storage src = { .ss_family = family };
		struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;

		if (inet_pton(family, from, family == AF_INET ?
			      (void *)&s4->sin_addr : (void *)&s6->sin6_addr) != 1)
			usage();
		if (bind(fd, (struct sockaddr *)&src, dstlen)) {
			perror("bind");
			return 1;
		}
	}
	/* Big datagrams are fragmented by this host, not refused. */
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &one, sizeof(one));
	one = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	t0 = now();
	while (!stop_now && (!count || sent < count)) {
		unsigned int nb = batch, done = 0;

		if (count && count - sent < nb)
			nb = count - sent;
		t = now() - t0;
		if (seconds && t >= seconds)
			break;
		if (stop && loops++ % 16 == 0 && access(stop, F_OK) == 0)
			break;
		if (rate && sent > rate * t) {
			usleep(1000);
			continue;
		}
		for (b = 0; b < nb; b++) {
			size_t n = mutate(bufs[b]);

			cl[b] = classify(bufs[b], n);
			iov[b].iov_base = bufs[b];
			iov[b].iov_len = n;
			memset(&msgs[b], 0, sizeof(msgs[b]));
			msgs[b].msg_hdr.msg_name = &dst[rnd(nports)];
			msgs[b].msg_hdr.msg_namelen = dstlen;
			msgs[b].msg_hdr.msg_iov = &iov[b];
			msgs[b].msg_hdr.msg_iovlen = 1;
		}
		while (done < nb && !stop_now) {
			int r = sendmmsg(fd, msgs + done, nb - done, 0);

			if (r < 0) {
				if (errno == ENOBUFS || errno == EAGAIN ||
				    errno == EINTR || errno == ECONNREFUSED) {
					retries++;
					usleep(500);
					continue;
				}
				perror("sendmmsg");
				return 1;
			}
			for (i = done; i < done + (unsigned int)r; i++) {
				per[cl[i]]++;
				bytes += iov[i].iov_len;
			}
			done += r;
			sent += r;
		}
	}
	t = now() - t0;
	f = summary ? fopen(summary, "w") : stdout;
	if (!f) {
		perror(summary);
		return 1;
	}
	fprintf(f, "{");
	for (i = 0; i < C_MAX; i++)
		fprintf(f, "\"%s\": %llu, ", cls_name[i], per[i]);
	fprintf(f, "\"sent\": %llu, \"bytes\": %llu, \"retries\": %llu, "
		"\"seconds\": %.2f, \"rate\": %.0f}\n",
		sent, bytes, retries, t, t > 0 ? sent / t : 0.0);
	if (f != stdout)
		fclose(f);
	return 0;
}
