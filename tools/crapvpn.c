// SPDX-License-Identifier: GPL-2.0
/*
 * crapvpn: set up crapvpn network devices through rtnetlink (libmnl).
 *
 *   crapvpn add|set DEV [OPTIONS], crapvpn del DEV, crapvpn show [DEV]
 *   crapvpn up|down NAME   (/etc/crapvpn/NAME.conf, see crapvpn.conf(5))
 *   crapvpn -k HEXKEY -p PEER_HOST [-i IFNAME] LOCAL_IP PEER_IP   (compat)
 *
 * The key is never printed. It lives in the global config and request
 * buffers only, which are wiped when the program exits by any path.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "cvparse.h"

#define PROG		"crapvpn"
#define EXIT_USAGE	2
#define COMPAT_IFNAME	"crapvpn0"

static const char usage_text[] =
"Usage: crapvpn COMMAND\n"
"\n"
"Commands:\n"
"  add DEV [OPTIONS]        create crapvpn device DEV\n"
"  set DEV [OPTIONS]        change the given settings of DEV, keep the rest\n"
"  del DEV                  delete crapvpn device DEV\n"
"  show [DEV] [--json]      show all crapvpn devices, or DEV\n"
"  genkey [BYTES]           print a random key in hex (default 32 bytes)\n"
"  up NAME|FILE             create NAME from /etc/crapvpn/NAME.conf, or\n"
"                           apply the file's changes to the running NAME\n"
"  down NAME|FILE           delete NAME (after the file's pre-down commands)\n"
"  help, -h, --help         show this help\n"
"  --version                show the version\n"
"\n"
"Options:\n"
"  key HEX                  XOR key in hex, 1..4096 bytes (\"0x\" prefix allowed)\n"
"  key-file FILE            read the hex key from FILE (\"-\": standard input)\n"
"  peer HOST                peer address or host name (IPv4 or IPv6)\n"
"  peer-port N              peer UDP port (default 1337)\n"
"  port N                   local UDP listen port (default 1337)\n"
"  local ADDR               local address to bind (0.0.0.0 or :: for any)\n"
"  mtu N                    device MTU\n"
"  mode l3|l2               IP packets (default) or Ethernet frames (add only)\n"
"\n"
"Compatibility with the old userspace crapvpn:\n"
"  crapvpn -k HEXKEY -p PEER_HOST [-i IFNAME] LOCAL_IP PEER_IP\n"
"      creates IFNAME (default crapvpn0) with that key and peer (port 1337),\n"
"      adds LOCAL_IP with point-to-point peer PEER_IP and sets it up.\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage error.\n"
"XOR with a static key is obfuscation, not security.\n";

/* What add, set, up and the compat mode send. */
static struct cv_config cfg;

/* One crapvpn device as the kernel reports it. */
struct link {
	char name[IFNAMSIZ];
	int index, up;
	char kind[32];
	uint32_t mtu, key_len;
	int has_key_len, has_mtu, has_operstate, has_stats;
	uint8_t operstate;		/* IF_OPER_* */
	struct cv_addr peer, local;
	uint16_t peer_port, port;
	uint32_t port_devs;		/* devices on the port's socket */
	int l2;				/* mode l2 */
	struct rtnl_link_stats64 stats;
};

static char req[16384];		/* request; may hold the key */
static char ans[32768];		/* answers, sized for link dumps */
static struct mnl_socket *nl;
static unsigned int last_seq, portid;
static char extack[256];	/* last message from the kernel */

static void wipe(void)
{
	explicit_bzero(&cfg, sizeof(cfg));
	explicit_bzero(req, sizeof(req));
	explicit_bzero(ans, sizeof(ans));
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'crapvpn --help'.\n", stderr);
	exit(EXIT_USAGE);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

static int is_help(const char *s)
{
	return !strcmp(s, "-h") || !strcmp(s, "--help");
}

static int help(void)
{
	fputs(usage_text, stdout);
	return 0;
}

static void check_dev(const char *cmd, const char *dev)
{
	const char *err = cv_check_ifname(dev);

	/* The kernel takes "-x", but as DEV it is most likely an option. */
	if (dev[0] == '-')
		usage_error("%s: \"%s\": a device name cannot start with '-'",
			    cmd, cv_quote(dev));
	if (err)
		die("%s: device \"%s\": %s", cmd, cv_quote(dev), err);
}

/* ---- netlink ---------------------------------------------------------- */

static void nl_open(void)
{
	int one = 1;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		die("cannot open a netlink socket: %s", strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("cannot bind the netlink socket: %s", strerror(errno));
	/* Error messages from the kernel, and no copy of our request (key!). */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	portid = mnl_socket_get_portid(nl);
	last_seq = time(NULL);
}

static struct nlmsghdr *new_msg(uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	explicit_bzero(req, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++last_seq;
	return nlh;
}

static int extack_attr(const struct nlattr *attr, void *data)
{
	(void)data;
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(extack, sizeof(extack), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an ack (error 0) ends the request, anything else fails it. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(*e);

	(void)data;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		mnl_attr_parse(nlh, off, extack_attr, NULL);
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	errno = -e->error;
	return MNL_CB_ERROR;
}

/* NLMSG_DONE ends a dump; it may carry an error of its own. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	int err = 0;

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(int));
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, sizeof(int), extack_attr, NULL);
	if (err < 0) {
		errno = -err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

/*
 * Sends a request and runs cb on each answer until the ack or the end of
 * the dump. Returns 0 or a negative errno; extack holds the kernel's
 * message, if any.
 */
static int talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	/* The answers must carry the sequence number of this request. */
	unsigned int seq = nlh->nlmsg_seq;
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
	};
	int n, ret = MNL_CB_OK;

	extack[0] = '\0';
	/* NLM_F_DUMP shares bits with NLM_F_EXCL and NLM_F_REPLACE. */
	if ((nlh->nlmsg_type != RTM_GETLINK && nlh->nlmsg_type != RTM_GETADDR) ||
	    (nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	n = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
	explicit_bzero(req, sizeof(req));	/* nlh is gone from here on */
	if (n < 0)
		return -errno;
	while (ret > MNL_CB_STOP) {
		n = mnl_socket_recvfrom(nl, ans, sizeof(ans));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run2(ans, n, seq, portid, cb, data,
				  ctl, NLMSG_MIN_TYPE);
	}
	return ret == MNL_CB_ERROR ? -errno : 0;
}

/* "crapvpn: WHAT: kernel message (strerror)" */
static void report(const char *what, int err)
{
	if (extack[0])
		fprintf(stderr, PROG ": %s: %s (%s)\n", what, extack, strerror(-err));
	else
		fprintf(stderr, PROG ": %s: %s\n", what, strerror(-err));
}

static void __attribute__((noreturn)) kernel_error(const char *what, int err)
{
	report(what, err);
	exit(EXIT_FAILURE);
}

/* ---- requests --------------------------------------------------------- */

static int put_attr(void *nlh, int type, const void *data, size_t len)
{
	mnl_attr_put(nlh, type, len, data);
	return 0;
}

static void put_crapvpn(struct nlmsghdr *nlh, const struct cv_config *c)
{
	struct nlattr *info, *data;

	if (c->given & CV_BIT(CV_MTU))
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, CRAPVPN_KIND);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	cv_put_attrs(c, put_attr, nlh);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
}

/* RTM_NEWLINK for DEV by name (index 0) or by index. */
static struct nlmsghdr *link_msg(uint16_t type, uint16_t flags,
				 const char *dev, int index)
{
	struct nlmsghdr *nlh = new_msg(type, flags);
	struct ifinfomsg *ifi;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	if (dev)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, dev);
	return nlh;
}

/* Validates an attribute's payload size before it is read. */
static int attr_len_is(const struct nlattr *a, size_t len)
{
	return mnl_attr_get_payload_len(a) == len;
}

static void parse_data(const struct nlattr *nest, struct link *l)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		const void *p = mnl_attr_get_payload(a);

		switch (mnl_attr_get_type(a)) {
		case IFLA_CRAPVPN_PEER:
			if (attr_len_is(a, 4))
				l->peer.family = AF_INET, memcpy(&l->peer.v4, p, 4);
			break;
		case IFLA_CRAPVPN_PEER6:
			if (attr_len_is(a, 16))
				l->peer.family = AF_INET6, memcpy(&l->peer.v6, p, 16);
			break;
		case IFLA_CRAPVPN_LOCAL:
			if (attr_len_is(a, 4))
				l->local.family = AF_INET, memcpy(&l->local.v4, p, 4);
			break;
		case IFLA_CRAPVPN_LOCAL6:
			if (attr_len_is(a, 16))
				l->local.family = AF_INET6, memcpy(&l->local.v6, p, 16);
			break;
		case IFLA_CRAPVPN_PEER_PORT:
			if (attr_len_is(a, 2))
				l->peer_port = mnl_attr_get_u16(a);
			break;
		case IFLA_CRAPVPN_PORT:
			if (attr_len_is(a, 2))
				l->port = mnl_attr_get_u16(a);
			break;
		case IFLA_CRAPVPN_PORT_DEVS:
			if (attr_len_is(a, 4))
				l->port_devs = mnl_attr_get_u32(a);
			break;
		case IFLA_CRAPVPN_KEY_LEN:
			if (attr_len_is(a, 4))
				l->has_key_len = 1, l->key_len = mnl_attr_get_u32(a);
			break;
		case IFLA_CRAPVPN_MODE:
			if (attr_len_is(a, 1))
				l->l2 = mnl_attr_get_u8(a) == CRAPVPN_MODE_L2;
			break;
		}
	}
}

static void parse_link(const struct nlmsghdr *nlh, struct link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *b;

	memset(l, 0, sizeof(*l));
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return;
	l->index = ifi->ifi_index;
	l->up = !!(ifi->ifi_flags & IFF_UP);
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(l->name, sizeof(l->name), "%s",
					 mnl_attr_get_str(a));
			break;
		case IFLA_MTU:
			if (attr_len_is(a, 4))
				l->has_mtu = 1, l->mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_OPERSTATE:
			if (attr_len_is(a, 1)) {
				l->has_operstate = 1;
				l->operstate = mnl_attr_get_u8(a);
			}
			break;
		case IFLA_STATS64:
			/* Newer kernels may append members: take ours. */
			if (mnl_attr_get_payload_len(a) >= sizeof(l->stats)) {
				l->has_stats = 1;
				memcpy(&l->stats, mnl_attr_get_payload(a),
				       sizeof(l->stats));
			}
			break;
		case IFLA_LINKINFO:
			mnl_attr_for_each_nested(b, a) {
				if (mnl_attr_get_type(b) == IFLA_INFO_KIND &&
				    mnl_attr_validate(b, MNL_TYPE_STRING) == 0)
					snprintf(l->kind, sizeof(l->kind), "%.*s",
						 (int)mnl_attr_get_payload_len(b),
						 mnl_attr_get_str(b));
				else if (mnl_attr_get_type(b) == IFLA_INFO_DATA)
					parse_data(b, l);
			}
			break;
		}
	}
}

static int is_crapvpn(const struct link *l)
{
	return strcmp(l->kind, CRAPVPN_KIND) == 0;
}

static int get_link_cb(const struct nlmsghdr *nlh, void *data)
{
	parse_link(nlh, data);
	return MNL_CB_OK;
}

/* Asks the kernel about DEV; returns 0 or a negative errno. */
static int get_link_stats(const char *dev, struct link *l, int stats)
{
	struct nlmsghdr *nlh = link_msg(RTM_GETLINK, 0, dev, 0);

	memset(l, 0, sizeof(*l));
	if (!stats)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return talk(nlh, get_link_cb, l);
}

static int get_link(const char *dev, struct link *l)
{
	return get_link_stats(dev, l, 0);
}

/* Looks DEV up; refuses a device that is missing or not a crapvpn one. */
static void get_crapvpn_link_stats(const char *cmd, const char *dev,
				   struct link *l, int stats)
{
	char what[64];
	int err;

	snprintf(what, sizeof(what), "%s %s", cmd, dev);
	err = get_link_stats(dev, l, stats);
	if (err == -ENODEV)
		die("%s: no such device", what);
	if (err)
		kernel_error(what, err);
	if (!is_crapvpn(l) && l->kind[0])
		die("%s: not a crapvpn device (its kind is \"%s\")", what, l->kind);
	if (!is_crapvpn(l))
		die("%s: not a crapvpn device", what);
}

static void get_crapvpn_link(const char *cmd, const char *dev, struct link *l)
{
	get_crapvpn_link_stats(cmd, dev, l, 0);
}

/* ---- ethtool -S: the drop counters, by name ----------------------------- */

/*
 * The device's ETH_SS_STATS counters whose names start with rx_drop_ or
 * tx_drop_, as the kernel names them (the module may add reasons).
 */
struct drops {
	unsigned int n;
	char (*names)[ETH_GSTRING_LEN];
	uint64_t *val;
	void *buf1, *buf2;
};

static void drops_free(struct drops *d)
{
	free(d->buf1);
	free(d->buf2);
	memset(d, 0, sizeof(*d));
}

static int ethtool_ioctl(int fd, const char *dev, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

/* Returns 0, or -1 if the counters cannot be read (d is then empty). */
static int get_drops(const char *dev, struct drops *d)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} sset;
	struct ethtool_gstrings *strs = NULL;
	struct ethtool_stats *stats = NULL;
	unsigned int n, i, k;
	/* Room for counters added between our calls: never overrun. */
	unsigned int room;
	int fd, ret = -1;

	memset(d, 0, sizeof(*d));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sset, 0, sizeof(sset));
	sset.hdr.cmd = ETHTOOL_GSSET_INFO;
	sset.hdr.sset_mask = 1ULL << ETH_SS_STATS;
	if (ethtool_ioctl(fd, dev, &sset) < 0 ||
	    !(sset.hdr.sset_mask & (1ULL << ETH_SS_STATS)))
		goto out;
	n = sset.len;
	if (n == 0 || n > 4096)
		goto out;
	room = n + 64;
	strs = calloc(1, sizeof(*strs) + (size_t)room * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + (size_t)room * sizeof(uint64_t));
	d->names = calloc(n, ETH_GSTRING_LEN);
	d->val = calloc(n, sizeof(uint64_t));
	d->buf1 = d->names;
	d->buf2 = d->val;
	if (!strs || !stats || !d->names || !d->val)
		goto out;
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_STATS;
	strs->len = n;
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	if (ethtool_ioctl(fd, dev, strs) < 0 || strs->len != n ||
	    ethtool_ioctl(fd, dev, stats) < 0 || stats->n_stats != n)
		goto out;
	for (i = k = 0; i < n; i++) {
		const char *s = (const char *)strs->data + i * ETH_GSTRING_LEN;

		if (strncmp(s, "rx_drop_", 8) && strncmp(s, "tx_drop_", 8))
			continue;
		memcpy(d->names[k], s, ETH_GSTRING_LEN);
		d->names[k][ETH_GSTRING_LEN - 1] = '\0';
		d->val[k++] = stats->data[i];
	}
	d->n = k;
	ret = 0;
out:
	if (ret)
		drops_free(d);
	free(strs);
	free(stats);
	close(fd);
	return ret;
}

/* ---- printing --------------------------------------------------------- */

/*
 * Length of the valid UTF-8 sequence at p, or 0. RFC 3629 rules out
 * overlong forms, the surrogates U+D800..U+DFFF and anything above
 * U+10FFFF, which narrows the second byte's range after some lead bytes.
 */
static int utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	/* A NUL fails each test, so nothing past the string is read. */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * A JSON string, which must be valid Unicode, while a device name may be
 * any bytes: each byte that is not part of valid UTF-8 becomes U+FFFD
 * (as "\ufffd"), one per byte.
 */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	putchar('"');
	while (*p) {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			printf("\\u%04x", *p++);
		} else if (*p < 0x80) {
			putchar(*p++);
		} else {
			n = utf8_len(p);
			if (n) {
				fwrite(p, 1, n, stdout);
				p += n;
			} else {
				fputs("\\ufffd", stdout);
				p++;
			}
		}
	}
	putchar('"');
}

/* ip(8)'s convention: a value the kernel did not report is left out. */
static void json_uint(const char *name, int has, unsigned int v)
{
	if (has)
		printf(",\"%s\":%u", name, v);
}

static void json_addr(const char *name, const struct cv_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (!a->family)
		return;
	printf(",\"%s\":", name);
	json_str(cv_addr_str(a, buf, sizeof(buf)));
}

/* IFLA_OPERSTATE as ip(8) names it (its "operstate"). */
static const char *operstate_name(uint8_t st, char *buf, size_t len)
{
	static const char *const names[] = {
		"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
		"TESTING", "DORMANT", "UP",
	};

	if (st < sizeof(names) / sizeof(names[0]))
		return names[st];
	snprintf(buf, len, "%#x", st);
	return buf;
}

static void json_dir(const char *name, uint64_t bytes, uint64_t packets,
		     uint64_t errors, uint64_t dropped)
{
	printf("\"%s\":{\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"dropped\":%" PRIu64 "}",
	       name, bytes, packets, errors, dropped);
}

static void print_json(const struct link *l, const struct drops *d, int first)
{
	const struct rtnl_link_stats64 *s = &l->stats;
	char buf[8];
	unsigned int i;

	printf("%s{\"ifname\":", first ? "" : ",");
	json_str(l->name);
	printf(",\"ifindex\":%d", l->index);
	if (l->has_operstate)
		printf(",\"state\":\"%s\"",
		       operstate_name(l->operstate, buf, sizeof(buf)));
	json_uint("mtu", l->has_mtu, l->mtu);
	if (l->l2)	/* as ip -j says it: layer 3, the default, unsaid */
		printf(",\"mode\":\"l2\"");
	json_addr("peer", &l->peer);
	json_uint("peer_port", l->peer_port != 0, l->peer_port);
	json_uint("port", l->port != 0, l->port);
	json_uint("shared", l->port_devs > 1, l->port_devs);
	json_addr("local", &l->local);
	json_uint("key_len", l->has_key_len, l->key_len);
	if (l->has_stats) {
		printf(",\"stats64\":{");
		json_dir("rx", s->rx_bytes, s->rx_packets, s->rx_errors,
			 s->rx_dropped);
		putchar(',');
		json_dir("tx", s->tx_bytes, s->tx_packets, s->tx_errors,
			 s->tx_dropped);
		putchar('}');
	}
	if (d && d->names) {
		printf(",\"drops\":{");
		for (i = 0; i < d->n; i++) {
			printf("%s", i ? "," : "");
			json_str(d->names[i]);
			printf(":%" PRIu64, d->val[i]);
		}
		putchar('}');
	}
	putchar('}');
}

/* Bytes as wg(8) shows them: B, KiB, MiB, GiB, TiB. */
static const char *human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return buf;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.2f %s", v, units[u]);
	return buf;
}

static void print_text(const struct link *l, const struct drops *d)
{
	char buf[INET6_ADDRSTRLEN], b2[32];
	unsigned int i, shown = 0;

	printf("%s:", l->name);
	if (l->has_operstate)
		printf(" state %s", operstate_name(l->operstate, b2, sizeof(b2)));
	if (l->has_mtu)
		printf(" mtu %u", l->mtu);
	printf("\n   ");
	if (l->l2)
		printf(" mode l2");
	if (l->peer.family)
		printf(" peer %s", cv_addr_str(&l->peer, buf, sizeof(buf)));
	if (l->peer_port)
		printf(" peer-port %u", l->peer_port);
	if (l->port)
		printf(" port %u", l->port);
	if (l->port_devs > 1)
		printf(" shared %u", l->port_devs);
	if (l->local.family)
		printf(" local %s", cv_addr_str(&l->local, buf, sizeof(buf)));
	else if (l->has_key_len)	/* configured, bound to no address */
		printf(" local any");
	if (l->has_key_len)
		printf(" key-len %u", l->key_len);
	printf("\n");
	if (l->has_stats) {
		printf("    transfer: %s received (%" PRIu64 " packets), ",
		       human_bytes(l->stats.rx_bytes, buf, sizeof(buf)),
		       (uint64_t)l->stats.rx_packets);
		printf("%s sent (%" PRIu64 " packets)\n",
		       human_bytes(l->stats.tx_bytes, buf, sizeof(buf)),
		       (uint64_t)l->stats.tx_packets);
	}
	for (i = 0; d && i < d->n; i++) {
		if (!d->val[i])
			continue;
		printf("%s %s %" PRIu64, shown++ ? "," : "    drops:",
		       d->names[i], d->val[i]);
	}
	if (shown)
		printf("\n");
}

struct show_state {
	int json, count;
};

/* Prints one device, with its drop counters when they can be read. */
static void show_link(const struct link *l, struct show_state *st)
{
	struct drops d;

	get_drops(l->name, &d);
	if (st->json)
		print_json(l, &d, st->count == 0);
	else
		print_text(l, &d);
	drops_free(&d);
	st->count++;
}

static int show_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link l;

	parse_link(nlh, &l);
	if (is_crapvpn(&l))
		show_link(&l, data);
	return MNL_CB_OK;
}

/* ---- commands --------------------------------------------------------- */

/* Parses add/set OPTIONS into cfg; exits on any error. */
static void parse_options(const char *cmd, int argc, char **argv)
{
	const struct cv_option *o;
	const char *err = NULL;
	int i;

	for (i = 0; i < argc; i += 2) {
		const char *kw = argv[i];
		char *val = i + 1 < argc ? argv[i + 1] : NULL;

		switch (cv_set_option(&cfg, kw, val, 0, &o, &err)) {
		case CV_UNKNOWN:
			usage_error("%s: unknown option \"%s\"", cmd, cv_quote(kw));
		case CV_NO_VALUE:
			usage_error("%s: option \"%s\" needs a value", cmd, kw);
		case CV_TWICE:
			if (o->id == CV_KEY)
				usage_error("%s: the key is given twice", cmd);
			usage_error("%s: \"%s\" is given twice", cmd, kw);
		case CV_BAD:
			if (o->flags & CV_SECRET)
				die("%s: %s: %s", cmd, kw, err);
			if (o->flags & CV_WORD)
				usage_error("%s: %s \"%s\": %s", cmd, kw,
					    cv_quote(val), err);
			die("%s: %s \"%s\": %s", cmd, kw, cv_quote(val), err);
		}
	}
	/* A specific local address of the other family cannot work. */
	if (cv_families_differ(&cfg))
		die("%s: local and peer are of different address families", cmd);
}

static void hint(int err)
{
	if (err == -EOPNOTSUPP)
		fprintf(stderr, PROG ": is the crapvpn kernel module available? "
			"Try: modprobe crapvpn\n");
}

static int cmd_add_set(int add, int argc, char **argv)
{
	const char *cmd = add ? "add" : "set";
	struct nlmsghdr *nlh;
	struct link l;
	char what[64];
	int err;

	if (argc < 1)
		usage_error("%s: missing device name", cmd);
	if (is_help(argv[0]))
		return help();
	check_dev(cmd, argv[0]);
	parse_options(cmd, argc - 1, argv + 1);
	if (!add && argc == 1)
		usage_error("set: nothing to change");

	nl_open();
	if (!add)
		get_crapvpn_link(cmd, argv[0], &l);

	nlh = link_msg(RTM_NEWLINK, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
		       argv[0], 0);
	put_crapvpn(nlh, &cfg);
	explicit_bzero(&cfg, sizeof(cfg));
	err = talk(nlh, NULL, NULL);
	snprintf(what, sizeof(what), "%s %s", cmd, argv[0]);
	if (err == -EEXIST && add)
		die("%s: a device of that name exists already", what);
	if (err) {
		report(what, err);
		if (add)
			hint(err);
		exit(EXIT_FAILURE);
	}
	return 0;
}

static int cmd_del(int argc, char **argv)
{
	struct link l;
	char what[64];
	int err;

	if (argc < 1)
		usage_error("del: missing device name");
	if (is_help(argv[0]))
		return help();
	if (argc > 1)
		usage_error("del: unexpected argument \"%s\"", cv_quote(argv[1]));
	check_dev("del", argv[0]);
	nl_open();
	get_crapvpn_link("del", argv[0], &l);
	snprintf(what, sizeof(what), "del %s", argv[0]);
	err = talk(link_msg(RTM_DELLINK, 0, argv[0], 0), NULL, NULL);
	if (err)
		kernel_error(what, err);
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	struct show_state st = { 0 };
	const char *dev = NULL;
	struct nlmsghdr *nlh;
	char what[64];
	int i, err;

	for (i = 0; i < argc; i++) {
		if (is_help(argv[i]))
			return help();
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			st.json = 1;
		else if (argv[i][0] == '-')
			usage_error("show: unknown option \"%s\"", cv_quote(argv[i]));
		else if (dev)
			usage_error("show: unexpected argument \"%s\"", cv_quote(argv[i]));
		else
			dev = argv[i];
	}
	if (dev)
		check_dev("show", dev);

	nl_open();
	if (dev) {
		struct link l;

		get_crapvpn_link_stats("show", dev, &l, 1);
		if (st.json)
			putchar('[');
		show_link(&l, &st);
		if (st.json)
			puts("]");
		return 0;
	}

	nlh = link_msg(RTM_GETLINK, NLM_F_DUMP, NULL, 0);
	if (st.json)
		putchar('[');
	err = talk(nlh, show_cb, &st);
	if (st.json)
		puts("]");
	if (err) {
		snprintf(what, sizeof(what), "show");
		kernel_error(what, err);
	}
	return 0;
}

/* ---- compat mode: crapvpn -k KEY -p PEER [-i IF] LOCAL_IP PEER_IP ----- */

static int cmd_compat(int argc, char **argv)
{
	const char *ifname = NULL, *peer_host = NULL, *err;
	struct cv_addr local_ip, peer_ip;
	char b1[INET6_ADDRSTRLEN], b2[INET6_ADDRSTRLEN], b3[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct ifinfomsg *ifi;
	struct link l;
	int opt, index = 0, rc;
	char what[64];

	/* getopt() would take "--long" apart letter by letter. */
	for (opt = 1; opt < argc; opt++)
		if (!strncmp(argv[opt], "--", 2) && argv[opt][2])
			usage_error("unknown option \"%s\"", cv_quote(argv[opt]));
	opterr = 0;
	while ((opt = getopt(argc, argv, "+:k:p:i:")) != -1) {
		switch (opt) {
		case 'k':
			if (cfg.given & CV_BIT(CV_KEY))
				usage_error("-k is given twice");
			err = cv_key_from_hex(optarg, strlen(optarg), cfg.key,
					      &cfg.key_len);
			cv_wipe_str(optarg);
			if (err)
				die("-k: key %s", err);
			cfg.given |= CV_BIT(CV_KEY);
			break;
		case 'p':
			if (peer_host)
				usage_error("-p is given twice");
			peer_host = optarg;
			break;
		case 'i':
			if (ifname)
				usage_error("-i is given twice");
			ifname = optarg;
			break;
		case ':':
			usage_error("option -%c needs a value", optopt);
		default:
			if (optopt && optopt != '-')
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option");
		}
	}
	if (!(cfg.given & CV_BIT(CV_KEY)))
		usage_error("-k HEXKEY is required");
	if (!peer_host)
		usage_error("-p PEER_HOST is required");
	if (argc - optind != 2)
		usage_error("expected LOCAL_IP and PEER_IP after the options, "
			    "got %d argument%s", argc - optind,
			    argc - optind == 1 ? "" : "s");
	if (!ifname)
		ifname = COMPAT_IFNAME;
	check_dev("-i", ifname);
	err = cv_parse_addr(peer_host, 0, &cfg.peer);
	if (err)
		die("-p \"%s\": %s", cv_quote(peer_host), err);
	err = cv_parse_addr(argv[optind], 1, &local_ip);
	if (err)
		die("LOCAL_IP \"%s\": %s", cv_quote(argv[optind]), err);
	err = cv_parse_addr(argv[optind + 1], 1, &peer_ip);
	if (err)
		die("PEER_IP \"%s\": %s", cv_quote(argv[optind + 1]), err);
	if (local_ip.family != peer_ip.family)
		die("LOCAL_IP and PEER_IP must both be IPv4 or both IPv6");
	cfg.peer_port = CRAPVPN_DEFAULT_PORT;
	cfg.port = CRAPVPN_DEFAULT_PORT;
	cfg.given |= CV_BIT(CV_PEER) | CV_BIT(CV_PEER_PORT) | CV_BIT(CV_PORT);

	nl_open();
	rc = get_link(ifname, &l);
	if (!rc)
		die("device %s exists already (-i IFNAME picks another name)",
		    ifname);
	if (rc != -ENODEV)
		kernel_error("cannot look for an existing device", rc);

	/* 1. the device */
	snprintf(what, sizeof(what), "cannot create %s", ifname);
	nlh = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ifname, 0);
	put_crapvpn(nlh, &cfg);
	explicit_bzero(cfg.key, sizeof(cfg.key));
	rc = talk(nlh, NULL, NULL);
	if (rc == -EEXIST)
		die("device %s exists already", ifname);
	if (rc) {
		report(what, rc);
		hint(rc);
		exit(EXIT_FAILURE);
	}
	rc = get_link(ifname, &l);
	if (rc)
		kernel_error("cannot find the new device", rc);
	index = l.index;

	/*
	 * 2. up, then 3. LOCAL_IP peer PEER_IP: IPv6 installs the route to a
	 * point-to-point peer only for an address added while the device is
	 * up (seen on 6.1), so the address comes second.
	 */
	nlh = link_msg(RTM_NEWLINK, 0, NULL, index);
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	rc = talk(nlh, NULL, NULL);
	snprintf(what, sizeof(what), "cannot set %s up", ifname);
	if (!rc) {
		nlh = new_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = local_ip.family;
		ifa->ifa_prefixlen = local_ip.family == AF_INET ? 32 : 128;
		ifa->ifa_scope = RT_SCOPE_UNIVERSE;
		ifa->ifa_index = index;
		mnl_attr_put(nlh, IFA_LOCAL, cv_addr_len(&local_ip), &local_ip.v6);
		mnl_attr_put(nlh, IFA_ADDRESS, cv_addr_len(&peer_ip), &peer_ip.v6);
		rc = talk(nlh, NULL, NULL);
		snprintf(what, sizeof(what), "cannot add the address to %s", ifname);
	}
	if (rc) {
		/* Leave nothing half made behind: a retry must not find it. */
		report(what, rc);
		talk(link_msg(RTM_DELLINK, 0, NULL, index), NULL, NULL);
		exit(EXIT_FAILURE);
	}

	cv_addr_str(&cfg.peer, b3, sizeof(b3));
	printf("%s: created %s with %s peer %s, tunnel to %s%s%s%s port %u, up\n",
	       PROG, ifname,
	       cv_addr_str(&local_ip, b1, sizeof(b1)),
	       cv_addr_str(&peer_ip, b2, sizeof(b2)),
	       peer_host, strcmp(peer_host, b3) ? " (" : "",
	       strcmp(peer_host, b3) ? b3 : "", strcmp(peer_host, b3) ? ")" : "",
	       CRAPVPN_DEFAULT_PORT);
	return 0;
}

/* A key file for add/set's key-file: hex from the kernel's CSPRNG. */
static int cmd_genkey(int argc, char **argv)
{
	unsigned char key[CRAPVPN_KEY_MAX];
	uint32_t n = 32;
	const char *err;
	size_t i;

	if (argc > 1)
		usage_error("genkey: unexpected argument \"%s\"", cv_quote(argv[1]));
	if (argc == 1) {
		err = cv_parse_u32(argv[0], CRAPVPN_KEY_MIN, CRAPVPN_KEY_MAX, &n);
		if (err)
			usage_error("genkey: key length \"%s\": %s", cv_quote(argv[0]),
				    err);
	}
	/* getrandom() returns up to 256 bytes at once without a signal. */
	for (i = 0; i < n; ) {
		ssize_t got = getrandom(key + i, n - i, 0);

		if (got < 0 && errno != EINTR)
			die("cannot get random bytes: %s", strerror(errno));
		if (got > 0)
			i += got;
	}
	for (i = 0; i < n; i++)
		printf("%02x", key[i]);
	putchar('\n');
	explicit_bzero(key, sizeof(key));
	return 0;
}

/* ---- up / down: /etc/crapvpn/NAME.conf, see crapvpn.conf(5) ------------ */

#define CONF_DIR	"/etc/crapvpn"
#define CONF_MAX_ADDRS	64
#define CONF_MAX_CMDS	16

struct conf_addr {
	struct cv_addr local, peer;	/* peer.family 0: none */
	unsigned int plen;
};

static struct tunnel_conf {
	char path[4096], dev[IFNAMSIZ];
	struct conf_addr addr[CONF_MAX_ADDRS];
	unsigned int n_addr, n_up, n_down;
	char *post_up[CONF_MAX_CMDS], *pre_down[CONF_MAX_CMDS];
	int has_peer_port, has_port;
} tc;

/* The file's text may hold the key: read through buffers wiped at exit. */
static char conf_iobuf[8192];
static char *conf_line;
static size_t conf_cap;

static void conf_wipe(void)
{
	explicit_bzero(conf_iobuf, sizeof(conf_iobuf));
	if (conf_line)
		explicit_bzero(conf_line, conf_cap);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
conf_error(unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (line)
		fprintf(stderr, PROG ": %s:%u: ", tc.path, line);
	else
		fprintf(stderr, PROG ": %s: ", tc.path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

/*
 * A file that holds a key must be readable by root only: owned by root
 * (or by whoever runs crapvpn, e.g. a test as a user), no read
 * permission for group and others.
 */
static void check_private(int fd, const char *what, unsigned int line)
{
	struct stat st;

	if (fstat(fd, &st))
		conf_error(line, "cannot stat %s: %s", what, strerror(errno));
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0044))
		conf_error(line, "%s holds a key but not only root can read it "
			   "(owner uid %u, mode %04o): chown root and chmod 600 it",
			   what, (unsigned int)st.st_uid,
			   (unsigned int)(st.st_mode & 07777));
}

/* "ADDR[/PLEN] [peer ADDR]", numeric addresses only. */
static const char *parse_conf_addr(char *v, struct conf_addr *a)
{
	char *plen, *peer = NULL, *sp;
	const char *err;
	uint32_t n;

	memset(a, 0, sizeof(*a));
	sp = strpbrk(v, " \t");
	if (sp) {
		*sp++ = '\0';
		sp += strspn(sp, " \t");
		if (strncmp(sp, "peer", 4) || !isspace((unsigned char)sp[4]))
			return "expected ADDR[/PREFIXLEN] [peer ADDR]";
		peer = sp + 5 + strspn(sp + 5, " \t");
		if (strpbrk(peer, " \t"))
			return "expected ADDR[/PREFIXLEN] [peer ADDR]";
	}
	plen = strchr(v, '/');
	if (plen)
		*plen++ = '\0';
	err = cv_parse_addr(v, 1, &a->local);
	if (err)
		return err;
	a->plen = a->local.family == AF_INET ? 32 : 128;
	if (plen) {
		err = cv_parse_u32(plen, 0, a->plen, &n);
		if (err)
			return "bad prefix length";
		a->plen = n;
	}
	if (peer) {
		err = cv_parse_addr(peer, 1, &a->peer);
		if (err)
			return err;
		if (a->peer.family != a->local.family)
			return "the address and its peer are of different families";
	}
	return NULL;
}

static int conf_addr_eq(const struct conf_addr *x, const struct conf_addr *y)
{
	return x->plen == y->plen && x->local.family == y->local.family &&
	       x->peer.family == y->peer.family &&
	       !memcmp(&x->local.v6, &y->local.v6, cv_addr_len(&x->local)) &&
	       (!x->peer.family ||
		!memcmp(&x->peer.v6, &y->peer.v6, cv_addr_len(&x->peer)));
}

/* NAME: /etc/crapvpn/NAME.conf; anything with a '/': that file. */
static void conf_locate(const char *cmd, const char *arg)
{
	const char *base, *dot;

	if (strchr(arg, '/')) {
		base = strrchr(arg, '/') + 1;
		dot = strrchr(base, '.');
		if (!dot || strcmp(dot, ".conf") || dot == base)
			usage_error("%s: \"%s\": a file must be called NAME.conf",
				    cmd, arg);
		if ((size_t)(dot - base) >= sizeof(tc.dev))
			die("%s: \"%s\": the device name is too long (at most 15 bytes)",
			    cmd, arg);
		memcpy(tc.dev, base, dot - base);
		snprintf(tc.path, sizeof(tc.path), "%s", arg);
	} else {
		if (strlen(arg) >= sizeof(tc.dev))
			die("%s: \"%s\": too long (at most 15 bytes)", cmd,
			    cv_quote(arg));
		snprintf(tc.dev, sizeof(tc.dev), "%s", arg);
		snprintf(tc.path, sizeof(tc.path), CONF_DIR "/%s.conf", arg);
	}
	check_dev(cmd, tc.dev);
}

/* A key file must be as private as a file with a key in it. */
static void conf_key_file(const char *path, unsigned int line)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		conf_error(line, "key-file: cannot open %s: %s", cv_quote(path),
			   strerror(errno));
	check_private(fd, "the key file", line);
	close(fd);
}

/*
 * Reads the whole file into cfg and tc, or exits naming FILE:LINE: nothing
 * is sent before the file is known to be good.
 */
static void conf_read(void)
{
	unsigned int line = 0, key_line = 0, j;
	const struct cv_option *o;
	const char *err = NULL;
	char *k, *v, *e;
	struct stat st;
	ssize_t len;
	FILE *f;
	int fd;

	fd = open(tc.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		conf_error(0, "cannot open: %s", strerror(errno));
	/* Its commands run as root: only root may change it. */
	if (fstat(fd, &st))
		conf_error(0, "cannot stat: %s", strerror(errno));
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022))
		conf_error(0, "only root may write it (owner uid %u, mode %04o): "
			   "chown root and chmod go-w it", (unsigned int)st.st_uid,
			   (unsigned int)(st.st_mode & 07777));
	f = fdopen(fd, "r");
	if (!f)
		conf_error(0, "cannot read: %s", strerror(errno));
	atexit(conf_wipe);
	setvbuf(f, conf_iobuf, _IOFBF, sizeof(conf_iobuf));
	while ((len = getline(&conf_line, &conf_cap, f)) >= 0) {
		line++;
		if (memchr(conf_line, '\0', len))
			conf_error(line, "a NUL byte: not a text file");
		for (k = conf_line; isspace((unsigned char)*k); k++)
			;
		if (!*k || *k == '#')
			continue;
		v = strchr(k, '=');
		if (!v)
			conf_error(line, "expected NAME = VALUE");
		for (e = v; e > k && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		for (v++; isspace((unsigned char)*v); v++)
			;
		for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		if (!strcmp(k, "address")) {
			if (!*v)
				conf_error(line, "%s: no value", k);
			if (tc.n_addr == CONF_MAX_ADDRS)
				conf_error(line, "more than %d addresses",
					   CONF_MAX_ADDRS);
			err = parse_conf_addr(v, &tc.addr[tc.n_addr]);
			if (err)
				conf_error(line, "address: %s", err);
			for (j = 0; j < tc.n_addr; j++)
				if (conf_addr_eq(&tc.addr[j], &tc.addr[tc.n_addr]))
					conf_error(line, "address given twice");
			tc.n_addr++;
			continue;
		}
		if (!strcmp(k, "post-up") || !strcmp(k, "pre-down")) {
			int up = !strcmp(k, "post-up");
			unsigned int *n = up ? &tc.n_up : &tc.n_down;

			if (!*v)
				conf_error(line, "%s: no value", k);
			if (*n == CONF_MAX_CMDS)
				conf_error(line, "more than %d %s commands",
					   CONF_MAX_CMDS, k);
			(up ? tc.post_up : tc.pre_down)[(*n)++] = strdup(v);
			continue;
		}
		switch (cv_set_option(&cfg, k, *v ? v : NULL, 0, &o, &err)) {
		case CV_UNKNOWN:
			conf_error(line, "unknown setting \"%s\"", cv_quote(k));
		case CV_NO_VALUE:
			conf_error(line, "%s: no value", k);
		case CV_TWICE:
			if (o->id == CV_KEY)
				conf_error(line, "the key is given twice (line %u)",
					   key_line);
			conf_error(line, "%s is given twice", k);
		case CV_BAD:
			if (o->flags & CV_SECRET)
				conf_error(line, "%s: %s", k, err);
			conf_error(line, "%s \"%s\": %s", k, cv_quote(v), err);
		}
		if (o->kind == CV_T_HEX)
			check_private(fd, "the file", line);
		if (o->kind == CV_T_FILE)
			conf_key_file(v, line);
		if (o->id == CV_KEY)
			key_line = line;
	}
	if (ferror(f))
		conf_error(0, "cannot read: %s", strerror(errno));
	fclose(f);
	conf_wipe();
	if (!(cfg.given & CV_BIT(CV_KEY)))
		conf_error(0, "no key (key-file = FILE, or key = HEX)");
	if (cv_families_differ(&cfg))
		conf_error(0, "local and peer are of different address families");
}

/* Runs the commands with /bin/sh -c, %i replaced by the device name. */
static int run_cmds(const char *what, char **cmds, unsigned int n)
{
	unsigned int i;
	char *c, *p;
	int status;

	for (i = 0; i < n; i++) {
		size_t len = strlen(cmds[i]) * (strlen(tc.dev) + 1) + 1;

		c = malloc(len);
		if (!c)
			die("out of memory");
		for (p = c; *cmds[i]; cmds[i]++) {
			if (cmds[i][0] == '%' && cmds[i][1] == 'i') {
				p = stpcpy(p, tc.dev);
				cmds[i]++;
			} else {
				*p++ = *cmds[i];
			}
		}
		*p = '\0';
		fflush(stdout);
		status = system(c);
		if (status != 0) {
			fprintf(stderr, PROG ": %s \"%s\" failed (%s %d)\n",
				what, c, WIFEXITED(status) ? "exit status" :
				"signal", WIFEXITED(status) ? WEXITSTATUS(status) :
				WTERMSIG(status));
			free(c);
			return -1;
		}
		free(c);
	}
	return 0;
}

static int set_up(int index)
{
	struct nlmsghdr *nlh = link_msg(RTM_NEWLINK, 0, NULL, index);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return talk(nlh, NULL, NULL);
}

static int addr_msg(uint16_t type, int index, const struct conf_addr *a)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	nlh = new_msg(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = a->local.family;
	ifa->ifa_prefixlen = a->plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	mnl_attr_put(nlh, IFA_LOCAL, cv_addr_len(&a->local), &a->local.v6);
	mnl_attr_put(nlh, IFA_ADDRESS, cv_addr_len(&a->local),
		     a->peer.family ? &a->peer.v6 : &a->local.v6);
	return talk(nlh, NULL, NULL);
}

struct addr_dump {
	int index;
	unsigned int n;
	struct conf_addr a[CONF_MAX_ADDRS * 2];
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_dump *d = data;
	const struct nlattr *at, *local = NULL, *address = NULL;
	struct conf_addr *a;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    (int)ifa->ifa_index != d->index ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    d->n == sizeof(d->a) / sizeof(d->a[0]))
		return MNL_CB_OK;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	mnl_attr_for_each(at, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_payload_len(at) != alen)
			continue;
		if (mnl_attr_get_type(at) == IFA_LOCAL)
			local = at;
		else if (mnl_attr_get_type(at) == IFA_ADDRESS)
			address = at;
	}
	if (!address && !local)
		return MNL_CB_OK;
	/* The kernel's own IPv6 link-local addresses are not ours. */
	if (ifa->ifa_family == AF_INET6 && !local &&
	    ((const uint8_t *)mnl_attr_get_payload(address))[0] == 0xfe &&
	    (((const uint8_t *)mnl_attr_get_payload(address))[1] & 0xc0) == 0x80)
		return MNL_CB_OK;
	a = &d->a[d->n++];
	memset(a, 0, sizeof(*a));
	a->plen = ifa->ifa_prefixlen;
	a->local.family = ifa->ifa_family;
	memcpy(&a->local.v6, mnl_attr_get_payload(local ? local : address), alen);
	if (local && address &&
	    memcmp(mnl_attr_get_payload(local), mnl_attr_get_payload(address), alen)) {
		a->peer.family = ifa->ifa_family;
		memcpy(&a->peer.v6, mnl_attr_get_payload(address), alen);
	}
	return MNL_CB_OK;
}

/* Makes DEV's addresses those of the file: adds the missing, drops others. */
static int sync_addrs(int index, int fresh)
{
	static struct addr_dump d;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	char b1[INET6_ADDRSTRLEN];
	unsigned int i, j;
	int err;

	memset(&d, 0, sizeof(d));
	d.index = index;
	if (!fresh) {
		nlh = new_msg(RTM_GETADDR, NLM_F_DUMP);
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_UNSPEC;
		err = talk(nlh, addr_cb, &d);
		if (err) {
			report("cannot list the addresses", err);
			return err;
		}
	}
	for (i = 0; i < d.n; i++) {
		for (j = 0; j < tc.n_addr; j++)
			if (conf_addr_eq(&d.a[i], &tc.addr[j]))
				break;
		if (j < tc.n_addr)
			continue;
		err = addr_msg(RTM_DELADDR, index, &d.a[i]);
		if (err) {
			report("cannot remove an address", err);
			return err;
		}
		printf(PROG ": %s: removed address %s/%u\n", tc.dev,
		       cv_addr_str(&d.a[i].local, b1, sizeof(b1)),
		       d.a[i].plen);
	}
	for (j = 0; j < tc.n_addr; j++) {
		for (i = 0; i < d.n; i++)
			if (conf_addr_eq(&d.a[i], &tc.addr[j]))
				break;
		if (i < d.n)
			continue;
		err = addr_msg(RTM_NEWADDR, index, &tc.addr[j]);
		if (err) {
			char what[96];

			snprintf(what, sizeof(what), "%s: cannot add address %s/%u",
				 tc.dev, cv_addr_str(&tc.addr[j].local, b1, sizeof(b1)),
				 tc.addr[j].plen);
			report(what, err);
			return err;
		}
		if (!fresh)
			printf(PROG ": %s: added address %s/%u\n", tc.dev,
			       cv_addr_str(&tc.addr[j].local, b1, sizeof(b1)),
			       tc.addr[j].plen);
	}
	return 0;
}

static int cv_addr_eq(const struct cv_addr *x, const struct cv_addr *y)
{
	return x->family == y->family &&
	       (!x->family || !memcmp(&x->v6, &y->v6, cv_addr_len(x)));
}

static int cmd_up(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct cv_config want;
	struct link l;
	char what[64];
	int err, index = 0, exists = 0;

	if (argc < 1)
		usage_error("up: missing tunnel name");
	if (is_help(argv[0]))
		return help();
	if (argc > 1)
		usage_error("up: unexpected argument \"%s\"", cv_quote(argv[1]));
	conf_locate("up", argv[0]);
	conf_read();
	snprintf(what, sizeof(what), "up %s", tc.dev);

	nl_open();
	err = get_link(tc.dev, &l);
	if (err && err != -ENODEV)
		kernel_error(what, err);
	exists = !err;
	if (exists && !is_crapvpn(&l))
		die("%s: a device of that name exists and is not a "
		    "crapvpn device", what);
	index = l.index;

	if (!exists) {
		nlh = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, tc.dev, 0);
		put_crapvpn(nlh, &cfg);
		err = talk(nlh, NULL, NULL);
		if (err) {
			report(what, err);
			hint(err);
			exit(EXIT_FAILURE);
		}
		err = get_link(tc.dev, &l);
		if (err)
			kernel_error("cannot find the new device", err);
		index = l.index;
		/* Up first: IPv6 routes a point-to-point peer only then. */
		err = set_up(index);
		if (err)
			report(what, err);
		if (!err)
			err = sync_addrs(index, 1);
		if (!err && run_cmds("post-up", tc.post_up, tc.n_up))
			err = -1;
		if (err) {
			/* Leave nothing half made behind. */
			talk(link_msg(RTM_DELLINK, 0, NULL, index), NULL, NULL);
			exit(EXIT_FAILURE);
		}
		printf(PROG ": %s: created from %s, up\n", tc.dev, tc.path);
		return 0;
	}

	/*
	 * Running: change what differs, live. The key cannot be read back,
	 * so it is always sent (the same key changes nothing on the wire).
	 * What the file leaves out is the kernel's default: ports 1337,
	 * local any. A peer cannot be removed from a device.
	 */
	if (l.peer.family && !cfg.peer.family)
		die("%s: the device has a peer and %s has none; a peer cannot "
		    "be removed live (crapvpn down %s, then up)", what, tc.path,
		    tc.dev);
	if (((cfg.given & CV_BIT(CV_MODE)) && cfg.mode == CRAPVPN_MODE_L2) != l.l2)
		die("%s: %s says mode %s, the device is %s; the mode is set "
		    "when a device is created (crapvpn down %s, then up)", what,
		    tc.path, l.l2 ? "l3" : "l2", l.l2 ? "l2" : "l3", tc.dev);
	want = cfg;
	explicit_bzero(&cfg, sizeof(cfg));
	cfg.key_len = want.key_len;
	memcpy(cfg.key, want.key, want.key_len);
	cfg.given = CV_BIT(CV_KEY);
	if (!want.peer_port)
		want.peer_port = CRAPVPN_DEFAULT_PORT;
	if (!want.port)
		want.port = CRAPVPN_DEFAULT_PORT;
	if (!cv_addr_eq(&want.peer, &l.peer)) {
		cfg.peer = want.peer;
		cfg.given |= CV_BIT(CV_PEER);
	}
	if (want.peer_port != l.peer_port) {
		cfg.peer_port = want.peer_port;
		cfg.given |= CV_BIT(CV_PEER_PORT);
	}
	if (want.port != l.port) {
		cfg.port = want.port;
		cfg.given |= CV_BIT(CV_PORT);
	}
	if (want.local.family ? !cv_addr_eq(&want.local, &l.local) :
	    l.local.family != 0) {
		cfg.local = want.local;
		if (!cfg.local.family)	/* any, of the device's family */
			cfg.local.family = l.local.family;
		cfg.given |= CV_BIT(CV_LOCAL);
	}
	if (want.mtu && want.mtu != l.mtu) {
		cfg.mtu = want.mtu;
		cfg.given |= CV_BIT(CV_MTU);
	}
	explicit_bzero(&want, sizeof(want));
	nlh = link_msg(RTM_NEWLINK, 0, NULL, index);
	put_crapvpn(nlh, &cfg);
	explicit_bzero(&cfg, sizeof(cfg));
	err = talk(nlh, NULL, NULL);
	if (err)
		kernel_error(what, err);
	if (!l.up) {
		err = set_up(index);
		if (err)
			kernel_error(what, err);
	}
	if (sync_addrs(index, 0))
		exit(EXIT_FAILURE);
	printf(PROG ": %s: updated from %s\n", tc.dev, tc.path);
	return 0;
}

static int cmd_down(int argc, char **argv)
{
	struct link l;
	char what[64];
	int err;

	if (argc < 1)
		usage_error("down: missing tunnel name");
	if (is_help(argv[0]))
		return help();
	if (argc > 1)
		usage_error("down: unexpected argument \"%s\"", cv_quote(argv[1]));
	conf_locate("down", argv[0]);
	/* The file is only needed for its pre-down commands. */
	if (access(tc.path, F_OK) == 0 || errno != ENOENT)
		conf_read();
	explicit_bzero(&cfg, sizeof(cfg));
	snprintf(what, sizeof(what), "down %s", tc.dev);
	nl_open();
	get_crapvpn_link("down", tc.dev, &l);
	if (run_cmds("pre-down", tc.pre_down, tc.n_down))
		fprintf(stderr, PROG ": %s: deleting it anyway\n", what);
	err = talk(link_msg(RTM_DELLINK, 0, tc.dev, 0), NULL, NULL);
	if (err)
		kernel_error(what, err);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int i = 1, ret;

	atexit(wipe);
	if (i >= argc)
		usage_error("no command given");
	cmd = argv[i];

	if (!strcmp(cmd, "help") || is_help(cmd))
		return help();
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf(PROG " " CRAPVPN_VERSION "\n");
		return 0;
	}
	if (cmd[0] == '-' && cmd[1] && strchr("kpi", cmd[1]))
		ret = cmd_compat(argc - i + 1, argv + i - 1);
	else if (cmd[0] == '-')
		usage_error("unknown option \"%s\"", cv_quote(cmd));
	else if (!strcmp(cmd, "add"))
		ret = cmd_add_set(1, argc - i - 1, argv + i + 1);
	else if (!strcmp(cmd, "set"))
		ret = cmd_add_set(0, argc - i - 1, argv + i + 1);
	else if (!strcmp(cmd, "del") || !strcmp(cmd, "delete"))
		ret = cmd_del(argc - i - 1, argv + i + 1);
	else if (!strcmp(cmd, "show") || !strcmp(cmd, "list"))
		ret = cmd_show(argc - i - 1, argv + i + 1);
	else if (!strcmp(cmd, "up"))
		ret = cmd_up(argc - i - 1, argv + i + 1);
	else if (!strcmp(cmd, "down"))
		ret = cmd_down(argc - i - 1, argv + i + 1);
	else if (!strcmp(cmd, "genkey"))
		ret = cmd_genkey(argc - i - 1, argv + i + 1);
	else
		usage_error("unknown command \"%s\"", cv_quote(cmd));

	if (nl)
		mnl_socket_close(nl);
	if (fflush(stdout) == EOF)
		die("cannot write the output: %s", strerror(errno));
	return ret;
}
