// SPDX-License-Identifier: GPL-2.0
/*
 * crapvpn show [DEV] [--json]: the devices as the kernel reports them, the
 * traffic and, from ethtool -S, the drop counters by reason. The text is
 * wg(8)'s kind; the JSON has the names and the rules of ip -j -d: a value
 * the kernel did not report is left out.
 */
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "cvtool.h"

static int json, shown;		/* --json; how many devices shown */

/* The ETH_SS_STATS counters of a device, as ethtool -S shows them. */
struct counters {
	unsigned int n;
	struct ethtool_gstrings *names;
	struct ethtool_stats *val;
};

/* The drops by reason: the module may add reasons, found by name. */
static int is_drop(const struct counters *c, unsigned int i)
{
	const char *s = (const char *)c->names->data + i * ETH_GSTRING_LEN;

	return !strncmp(s, "rx_drop_", 8) || !strncmp(s, "tx_drop_", 8);
}

static const char *counter_name(const struct counters *c, unsigned int i)
{
	char *s = (char *)c->names->data + i * ETH_GSTRING_LEN;

	s[ETH_GSTRING_LEN - 1] = '\0';
	return s;
}

static int ethtool(int fd, const char *dev, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

/* Reads DEV's counters; leaves c empty (n 0, no names) if it cannot. */
static void get_counters(const char *dev, struct counters *c)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} sset = { .hdr = { .cmd = ETHTOOL_GSSET_INFO,
			    .sset_mask = 1ULL << ETH_SS_STATS } };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned int n;

	memset(c, 0, sizeof(*c));
	if (fd < 0)
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (ethtool(fd, dev, &sset) < 0 || !sset.hdr.sset_mask ||
	    sset.len == 0 || sset.len > 4096)
		goto out;
	n = sset.len;
	/* Room for counters added between the calls: never overrun. */
	c->names = calloc(1, sizeof(*c->names) + (n + 64) * ETH_GSTRING_LEN);
	c->val = calloc(1, sizeof(*c->val) + (n + 64) * sizeof(uint64_t));
	if (!c->names || !c->val)
		goto out;
	c->names->cmd = ETHTOOL_GSTRINGS;
	c->names->string_set = ETH_SS_STATS;
	c->names->len = n;
	c->val->cmd = ETHTOOL_GSTATS;
	c->val->n_stats = n;
	if (ethtool(fd, dev, c->names) == 0 && c->names->len == n &&
	    ethtool(fd, dev, c->val) == 0 && c->val->n_stats == n)
		c->n = n;
out:
	if (!c->n) {
		free(c->names);
		free(c->val);
		memset(c, 0, sizeof(*c));
	}
	close(fd);
}

/*
 * A JSON string, which must be valid Unicode, while a device name may be
 * any bytes: each byte that is not part of valid UTF-8 (RFC 3629: no
 * surrogates, nothing above U+10FFFF) becomes U+FFFD, one per byte.
 */
static void json_str(const char *s)
{
	size_t n, left = strlen(s);
	mbstate_t ps;
	wchar_t wc;

	memset(&ps, 0, sizeof(ps));
	putchar('"');
	for (; *s; s += n, left -= n) {
		n = mbrtowc(&wc, s, left, &ps);
		if (n > MB_LEN_MAX || wc > 0x10ffff) {
			memset(&ps, 0, sizeof(ps));
			fputs("\\ufffd", stdout);
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			printf("\\%c", *s);
		} else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			printf("\\u%04x", *s);
		} else {
			fwrite(s, 1, n, stdout);
		}
	}
	putchar('"');
}

/* IFLA_OPERSTATE as ip(8) names it (its "operstate"). */
static const char *operstate_name(uint8_t st, char *buf, size_t len)
{
	static const char *const names[] = {
		"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
		"TESTING", "DORMANT", "UP",
	};

	if (st < ARRAY_SIZE(names))
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

/*
 * One setting, as text (" word value") or JSON (,"key":value); as ip(8)
 * does, a value the kernel did not report is left out.
 */
static void put_str(const char *key, const char *word, const char *v)
{
	if (json)
		printf(",\"%s\":\"%s\"", key, v);
	else
		printf(" %s %s", word, v);
}

static void put_uint(const char *key, const char *word, int has, unsigned int v)
{
	if (has && json)
		printf(",\"%s\":%u", key, v);
	else if (has)
		printf(" %s %u", word, v);
}

/* A device: two lines of text, or a JSON object (after a comma if shown). */
static void print_link(const struct link *l, const struct counters *c)
{
	const struct rtnl_link_stats64 *s = &l->stats;
	char buf[INET6_ADDRSTRLEN], b2[32];
	unsigned int i, k;

	if (json) {
		printf("%s{\"ifname\":", shown ? "," : "");
		json_str(l->name);
		printf(",\"ifindex\":%d", l->index);
	} else {
		printf("%s:", l->name);
	}
	if (l->has_operstate)
		put_str("state", "state",
			operstate_name(l->operstate, buf, sizeof(buf)));
	put_uint("mtu", "mtu", l->has_mtu, l->mtu);
	if (!json)
		printf("\n   ");
	if (l->l2)	/* as ip says it: layer 3, the default, unsaid */
		put_str("mode", "mode", "l2");
	if (l->peer.family)
		put_str("peer", "peer", cv_addr_str(&l->peer, buf, sizeof(buf)));
	put_uint("peer_port", "peer-port", l->peer_port != 0, l->peer_port);
	put_uint("port", "port", l->port != 0, l->port);
	put_uint("shared", "shared", l->port_devs > 1, l->port_devs);
	if (l->local.family)
		put_str("local", "local",
			cv_addr_str(&l->local, buf, sizeof(buf)));
	else if (l->has_key_len && !json)	/* configured, bound to no address */
		put_str("local", "local", "any");
	put_uint("key_len", "key-len", l->has_key_len, l->key_len);

	if (json) {
		if (l->has_stats) {
			printf(",\"stats64\":{");
			json_dir("rx", s->rx_bytes, s->rx_packets, s->rx_errors,
				 s->rx_dropped);
			putchar(',');
			json_dir("tx", s->tx_bytes, s->tx_packets, s->tx_errors,
				 s->tx_dropped);
			putchar('}');
		}
		if (c->names) {
			printf(",\"drops\":{");
			for (i = k = 0; i < c->n; i++)
				if (is_drop(c, i))
					printf("%s\"%s\":%llu", k++ ? "," : "",
					       counter_name(c, i),
					       (unsigned long long)c->val->data[i]);
			putchar('}');
		}
		putchar('}');
		return;
	}
	printf("\n");
	if (l->has_stats) {
		printf("    transfer: %s received (%" PRIu64 " packets), ",
		       human_bytes(s->rx_bytes, buf, sizeof(buf)),
		       (uint64_t)s->rx_packets);
		printf("%s sent (%" PRIu64 " packets)\n",
		       human_bytes(s->tx_bytes, b2, sizeof(b2)),
		       (uint64_t)s->tx_packets);
	}
	for (i = k = 0; i < c->n; i++)
		if (is_drop(c, i) && c->val->data[i])
			printf("%s %s %llu", k++ ? "," : "    drops:",
			       counter_name(c, i),
			       (unsigned long long)c->val->data[i]);
	if (k)
		printf("\n");
}

/* Prints one device, with its drop counters when they can be read. */
static void show_link(const struct link *l)
{
	struct counters c;

	get_counters(l->name, &c);
	print_link(l, &c);
	free(c.names);
	free(c.val);
	shown++;
}

static int show_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link l;

	(void)data;
	parse_link(nlh, &l);
	if (is_crapvpn(&l))
		show_link(&l);
	return MNL_CB_OK;
}

int cmd_show(const char *cmd, int argc, char **argv)
{
	const char *name = NULL;
	struct link l;
	int i, err = 0;

	for (i = 0; i < argc; i++) {
		if (is_help(argv[i]))
			return help();
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json = 1;
		else if (argv[i][0] == '-')
			usage_error("%s: unknown option \"%s\"", cmd,
				    cv_quote(argv[i]));
		else if (name)
			usage_error("%s: unexpected argument \"%s\"", cmd,
				    cv_quote(argv[i]));
		else
			name = argv[i];
	}
	if (name)
		check_dev(cmd, name);
	/* Device names in UTF-8 for JSON (or, without it, in ASCII). */
	setlocale(LC_CTYPE, "C.UTF-8");

	nl_open();
	if (name)
		get_crapvpn_link(&l, 1);
	if (json)
		putchar('[');
	if (name)
		show_link(&l);
	else
		err = talk(link_msg(RTM_GETLINK, NLM_F_DUMP, NULL, 0), show_cb, NULL);
	if (json)
		puts("]");
	must(cmd, err);
	return 0;
}
