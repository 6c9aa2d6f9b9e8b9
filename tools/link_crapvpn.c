// SPDX-License-Identifier: GPL-2.0
/*
 * link_crapvpn.so: "ip link ... type crapvpn" for the ip(8) of iproute2.
 *
 * ip dlopen()s $IP_LIB_DIR/link_<kind>.so (Debian: /usr/lib/<multiarch>/ip)
 * and looks up the symbol <kind>_link_util. iproute2 installs no headers,
 * so the few types and functions of ip used here are declared below; they
 * match iproute2 5.1 and later (checked against 6.1, Debian bookworm). The
 * functions are resolved from the ip binary when the plugin is loaded.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "cvparse.h"

/* ---- what this plugin needs from ip ----------------------------------- */

/* The plugin descriptor ip looks up by name (ip/ip_common.h upstream). */
struct link_util {
	struct link_util *next;			/* ip's list of loaded kinds */
	const char *id;				/* the kind, "crapvpn" */
	int maxattr;				/* highest IFLA_INFO_DATA type */
	int (*parse_opt)(struct link_util *lu, int argc, char **argv,
			 struct nlmsghdr *req);
	void (*print_opt)(struct link_util *lu, FILE *f, struct rtattr *tb[]);
	void (*print_xstats)(struct link_util *lu, FILE *f,
			     struct rtattr *xstats);
	void (*print_help)(struct link_util *lu, int argc, char **argv,
			   FILE *f);
	int (*parse_ifla_xstats)(struct link_util *lu, int argc, char **argv);
	int (*print_ifla_xstats)(struct nlmsghdr *n, void *arg);
};

/*
 * ip builds "ip link add/set" in a struct of the netlink header, the
 * ifinfomsg and 1024 more bytes; attributes must stay within it.
 */
#define IP_LINK_REQ_SIZE \
	((int)(sizeof(struct nlmsghdr) + sizeof(struct ifinfomsg) + 1024))

/* Output selectors and colours of ip's JSON-aware printing. */
#define IP_PRINT_ANY	4	/* text, or JSON under ip -j */
#define IP_COLOR_INET	2
#define IP_COLOR_INET6	3
#define IP_COLOR_NONE	6

/* Exported by /usr/sbin/ip (nm -D). */
int addattr_l(struct nlmsghdr *n, int maxlen, int type, const void *data,
	      int alen);
int print_color_string(int out, int color, const char *json_key,
		       const char *text_fmt, const char *value);
int print_color_uint(int out, int color, const char *json_key,
		     const char *text_fmt, unsigned int value);

/* ---- the plugin ------------------------------------------------------- */

/* The options come from cv_options[], as crapvpn --help lists them. */
static void usage(FILE *f)
{
	fputs("Usage: ip link add DEV type crapvpn OPTIONS\n"
	      "       ip link set DEV type crapvpn OPTIONS   (only those given change)\n"
	      "\n"
	      "OPTIONS:\n", f);
	cv_print_options(f, CV_NOT_IP, 16);	/* ip has its own mtu */
	fputs("\n"
	      "A key must be given to add; through ip link, keys of up to about\n"
	      "900 bytes fit. The key is never shown.\n", f);
}

/* arg goes through cv_quote(): it may be a key given in the wrong place. */
static int fail(const char *what, const char *arg, const char *msg)
{
	if (arg)
		fprintf(stderr, "Error: crapvpn: %s \"%s\": %s\n", what,
			cv_quote(arg), msg);
	else
		fprintf(stderr, "Error: crapvpn: %s: %s\n", what, msg);
	return -1;
}

static int parse_args(int argc, char **argv, struct cv_config *c)
{
	const struct cv_option *o;
	const char *err = NULL;

	for (; argc > 0; argc -= 2, argv += 2) {
		if (!strcmp(argv[0], "help")) {
			usage(stderr);
			return -1;
		}
		switch (cv_set_option(c, argv[0], argc > 1 ? argv[1] : NULL,
				      CV_NOT_IP, &o, &err)) {
		case CV_UNKNOWN:
			fprintf(stderr, "Error: crapvpn: unknown option \"%s\". "
				"Try \"ip link help crapvpn\".\n", cv_quote(argv[0]));
			return -1;
		case CV_NO_VALUE:
			return fail(argv[0], NULL, "needs a value");
		case CV_TWICE:
			return fail(argv[0], NULL, o->id == CV_KEY ?
				    "the key is given twice" : "given twice");
		case CV_BAD:
			return fail(argv[0], o->flags & CV_SECRET ? NULL : argv[1],
				    err);
		}
	}
	if (cv_families_differ(c))
		return fail("local", NULL,
			    "not of the same address family as peer");
	return 0;
}

/* The key goes last, so that it gets all the room that is left. */
static int put_attr(void *ctx, int type, const void *data, size_t len)
{
	struct nlmsghdr *n = ctx;
	int room;

	room = IP_LINK_REQ_SIZE - (int)NLMSG_ALIGN(n->nlmsg_len) - RTA_LENGTH(0);
	room &= ~(RTA_ALIGNTO - 1);
	if (type == IFLA_CRAPVPN_KEY && (int)len > room) {
		fprintf(stderr, "Error: crapvpn: a key of %zu bytes does not fit "
			"into the request of ip link, which has room for %d "
			"here; use crapvpn(8) for longer keys.\n",
			len, room > 0 ? room : 0);
		return -1;
	}
	return addattr_l(n, IP_LINK_REQ_SIZE, type, data, len);
}

static int crapvpn_parse_opt(struct link_util *lu, int argc, char **argv,
			     struct nlmsghdr *n)
{
	struct cv_config o;
	int ret;

	(void)lu;
	memset(&o, 0, sizeof(o));
	ret = parse_args(argc, argv, &o);
	if (!ret)
		ret = cv_put_attrs(&o, put_attr, n);
	explicit_bzero(&o, sizeof(o));
	return ret;
}

/* An attribute of the expected size, or NULL. */
static const void *attr(struct rtattr *tb[], int type, size_t len)
{
	if (!tb || !tb[type] || RTA_PAYLOAD(tb[type]) != len)
		return NULL;
	return RTA_DATA(tb[type]);
}

static void print_addr(const char *key, const char *fmt, const void *v4,
		       const void *v6)
{
	char buf[INET6_ADDRSTRLEN];

	if (v4 && inet_ntop(AF_INET, v4, buf, sizeof(buf)))
		print_color_string(IP_PRINT_ANY, IP_COLOR_INET, key, fmt, buf);
	else if (v6 && inet_ntop(AF_INET6, v6, buf, sizeof(buf)))
		print_color_string(IP_PRINT_ANY, IP_COLOR_INET6, key, fmt, buf);
}

static void print_u16(const char *key, const char *fmt, const void *p)
{
	__u16 v;

	if (p) {
		memcpy(&v, p, sizeof(v));
		print_color_uint(IP_PRINT_ANY, IP_COLOR_NONE, key, fmt, v);
	}
}

/* A u32 of at least min; smaller ones go unsaid. */
static void print_u32(const char *key, const char *fmt, const void *p,
		      __u32 min)
{
	__u32 v;

	if (p) {
		memcpy(&v, p, sizeof(v));
		if (v >= min)
			print_color_uint(IP_PRINT_ANY, IP_COLOR_NONE, key, fmt, v);
	}
}

static void crapvpn_print_opt(struct link_util *lu, FILE *f, struct rtattr *tb[])
{
	const void *p;

	(void)lu;
	(void)f;
	/* Layer 3, the default, goes unsaid, as ip says nothing of defaults. */
	p = attr(tb, IFLA_CRAPVPN_MODE, 1);
	if (p && *(const __u8 *)p == CRAPVPN_MODE_L2)
		print_color_string(IP_PRINT_ANY, IP_COLOR_NONE, "mode",
				   "mode %s ", "l2");
	print_addr("peer", "peer %s ", attr(tb, IFLA_CRAPVPN_PEER, 4),
		   attr(tb, IFLA_CRAPVPN_PEER6, 16));
	print_u16("peer_port", "peer-port %u ", attr(tb, IFLA_CRAPVPN_PEER_PORT, 2));
	print_u16("port", "port %u ", attr(tb, IFLA_CRAPVPN_PORT, 2));
	/* Devices that share the port's socket: said only if more than one. */
	print_u32("shared", "shared %u ", attr(tb, IFLA_CRAPVPN_PORT_DEVS, 4), 2);
	print_addr("local", "local %s ", attr(tb, IFLA_CRAPVPN_LOCAL, 4),
		   attr(tb, IFLA_CRAPVPN_LOCAL6, 16));
	print_u32("key_len", "key-len %u ", attr(tb, IFLA_CRAPVPN_KEY_LEN, 4), 0);
}

static void crapvpn_print_help(struct link_util *lu, int argc, char **argv,
			       FILE *f)
{
	(void)lu;
	(void)argc;
	(void)argv;
	usage(f);
}

__attribute__((visibility("default")))
struct link_util crapvpn_link_util = {
	.id		= CRAPVPN_KIND,
	.maxattr	= IFLA_CRAPVPN_MAX,
	.parse_opt	= crapvpn_parse_opt,
	.print_opt	= crapvpn_print_opt,
	.print_help	= crapvpn_print_help,
};
