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
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "cvtool.h"

#define COMPAT_IFNAME	"crapvpn0"

static const char usage_head[] =
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
"Options:\n";	/* then cv_options[] */

static const char usage_tail[] =
"\n"
"Compatibility with the old userspace crapvpn:\n"
"  crapvpn -k HEXKEY -p PEER_HOST [-i IFNAME] LOCAL_IP PEER_IP\n"
"      creates IFNAME (default crapvpn0) with that key and peer (port 1337),\n"
"      adds LOCAL_IP with point-to-point peer PEER_IP and sets it up.\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage error.\n"
"XOR with a static key is obfuscation, not security.\n";

struct cv_config cfg;
const char *cmd_dev;		/* the device the command works on */
char subject[64];		/* "CMD DEV": what its messages start with */
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

/* "crapvpn: message", and for a usage error how to get help; exits. */
void fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(status == EXIT_USAGE ? "\nTry 'crapvpn --help'.\n" : "\n", stderr);
	exit(status);
}

int is_help(const char *s)
{
	return !strcmp(s, "-h") || !strcmp(s, "--help");
}

int help(void)
{
	fputs(usage_head, stdout);
	cv_print_options(stdout, 0, 25);
	fputs(usage_tail, stdout);
	return 0;
}

/* Checks NAME and makes it the device of this command (cmd_dev, subject). */
void check_dev(const char *cmd, const char *name)
{
	const char *err = cv_check_ifname(name);

	/* The kernel takes "-x", but as DEV it is most likely an option. */
	if (name[0] == '-')
		usage_error("%s: \"%s\": a device name cannot start with '-'",
			    cmd, cv_quote(name));
	if (err)
		die("%s: device \"%s\": %s", cmd, cv_quote(name), err);
	cmd_dev = name;
	snprintf(subject, sizeof(subject), "%s %s", cmd, name);
}

/* ---- rtnetlink -------------------------------------------------------- */

void nl_open(void)
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

struct nlmsghdr *new_msg(uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	explicit_bzero(req, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++last_seq;
	return nlh;
}

/* RTM_*LINK for DEV by name (index 0) or by index. */
struct nlmsghdr *link_msg(uint16_t type, uint16_t flags, const char *dev,
			  int index)
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

static int extack_attr(const struct nlattr *attr, void *data)
{
	(void)data;
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(extack, sizeof(extack), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/*
 * NLMSG_ERROR (an ack if 0) and NLMSG_DONE (the end of a dump) end the
 * request. Both start with the error; the kernel's message follows it
 * (after NLMSG_ERROR's copy of the request, unless that is capped).
 */
static int end_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(int);
	int err = 0;

	(void)data;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
			errno = EBADMSG;
			return MNL_CB_ERROR;
		}
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
		memcpy(&err, e, sizeof(int));
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		mnl_attr_parse(nlh, off, extack_attr, NULL);
	if (err == 0)
		return MNL_CB_STOP;
	errno = -err;
	return MNL_CB_ERROR;
}

/*
 * Sends a request and runs cb on each answer until the ack or the end of
 * the dump. Returns 0 or a negative errno; extack holds the kernel's
 * message, if any.
 */
int talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	/* The answers must carry the sequence number of this request. */
	unsigned int seq = nlh->nlmsg_seq;
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = end_cb,
		[NLMSG_DONE] = end_cb,
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
void report(const char *what, int err)
{
	if (extack[0])
		fprintf(stderr, PROG ": %s: %s (%s)\n", what, extack, strerror(-err));
	else
		fprintf(stderr, PROG ": %s: %s\n", what, strerror(-err));
}

/* Exits with the report if err is an error. */
void must(const char *what, int err)
{
	if (err) {
		report(what, err);
		exit(EXIT_FAILURE);
	}
}

int del_link(const char *dev, int index)
{
	return talk(link_msg(RTM_DELLINK, 0, dev, index), NULL, NULL);
}

/* ---- links ------------------------------------------------------------ */

static int put_attr(void *nlh, int type, const void *data, size_t len)
{
	mnl_attr_put(nlh, type, len, data);
	return 0;
}

/* RTM_NEWLINK for DEV by name or index, with cfg's settings (then wiped). */
int send_cfg(uint16_t flags, const char *dev, int index)
{
	struct nlmsghdr *nlh = link_msg(RTM_NEWLINK, flags, dev, index);
	struct nlattr *info, *data;

	if (cfg.given & CV_BIT(CV_MTU))
		mnl_attr_put_u32(nlh, IFLA_MTU, cfg.mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, CRAPVPN_KIND);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	cv_put_attrs(&cfg, put_attr, nlh);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	explicit_bzero(&cfg, sizeof(cfg));
	return talk(nlh, NULL, NULL);
}

/*
 * Creates cmd_dev from cfg; returns its index (if find, else 0), or exits
 * saying what failed.
 */
int create_link(int find)
{
	struct link l;
	int err;

	err = send_cfg(NLM_F_CREATE | NLM_F_EXCL, cmd_dev, 0);
	if (err == -EEXIST)
		die("%s: a device of that name exists already", subject);
	if (err == -EOPNOTSUPP) {
		report(subject, err);
		die("is the crapvpn kernel module available? Try: modprobe crapvpn");
	}
	must(subject, err);
	if (!find)
		return 0;
	must("cannot find the new device", get_link(cmd_dev, &l, 0));
	return l.index;
}

int set_up(int index)
{
	struct nlmsghdr *nlh = link_msg(RTM_NEWLINK, 0, NULL, index);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return talk(nlh, NULL, NULL);
}

int addr_msg(uint16_t type, int index, const struct cv_ifaddr *a)
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

/* An attribute's payload, if it has the size expected, else NULL. */
static const void *payload(const struct nlattr *a, size_t len)
{
	return mnl_attr_get_payload_len(a) == len ? mnl_attr_get_payload(a) : NULL;
}

static void get_addr(const struct nlattr *a, int family, struct cv_addr *to)
{
	const void *p = payload(a, family == AF_INET ? 4 : 16);

	if (p) {
		to->family = family;
		memcpy(&to->v6, p, cv_addr_len(to));
	}
}

/* Copies a u8, u16 or u32 attribute of that size to *to. */
static int get_uint(const struct nlattr *a, void *to, size_t len)
{
	const void *p = payload(a, len);

	if (p)
		memcpy(to, p, len);
	return p != NULL;
}

static void parse_data(const struct nlattr *nest, struct link *l)
{
	const struct nlattr *a;
	uint8_t mode = 0;

	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_CRAPVPN_PEER:
		case IFLA_CRAPVPN_PEER6:
			get_addr(a, mnl_attr_get_type(a) == IFLA_CRAPVPN_PEER ?
				 AF_INET : AF_INET6, &l->peer);
			break;
		case IFLA_CRAPVPN_LOCAL:
		case IFLA_CRAPVPN_LOCAL6:
			get_addr(a, mnl_attr_get_type(a) == IFLA_CRAPVPN_LOCAL ?
				 AF_INET : AF_INET6, &l->local);
			break;
		case IFLA_CRAPVPN_PEER_PORT:
			get_uint(a, &l->peer_port, 2);
			break;
		case IFLA_CRAPVPN_PORT:
			get_uint(a, &l->port, 2);
			break;
		case IFLA_CRAPVPN_PORT_DEVS:
			get_uint(a, &l->port_devs, 4);
			break;
		case IFLA_CRAPVPN_KEY_LEN:
			l->has_key_len = get_uint(a, &l->key_len, 4);
			break;
		case IFLA_CRAPVPN_MODE:
			if (get_uint(a, &mode, 1))
				l->l2 = mode == CRAPVPN_MODE_L2;
			break;
		}
	}
}

void parse_link(const struct nlmsghdr *nlh, struct link *l)
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
			l->has_mtu = get_uint(a, &l->mtu, 4);
			break;
		case IFLA_OPERSTATE:
			l->has_operstate = get_uint(a, &l->operstate, 1);
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

int is_crapvpn(const struct link *l)
{
	return strcmp(l->kind, CRAPVPN_KIND) == 0;
}

static int get_link_cb(const struct nlmsghdr *nlh, void *data)
{
	parse_link(nlh, data);
	return MNL_CB_OK;
}

/* Asks the kernel about DEV; returns 0 or a negative errno. */
int get_link(const char *dev, struct link *l, int stats)
{
	struct nlmsghdr *nlh = link_msg(RTM_GETLINK, 0, dev, 0);

	memset(l, 0, sizeof(*l));
	if (!stats)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return talk(nlh, get_link_cb, l);
}

/* Looks cmd_dev up; exits if it is missing or not a crapvpn device. */
void get_crapvpn_link(struct link *l, int stats)
{
	int err = get_link(cmd_dev, l, stats);

	if (err == -ENODEV)
		die("%s: no such device", subject);
	must(subject, err);
	if (!is_crapvpn(l) && l->kind[0])
		die("%s: not a crapvpn device (its kind is \"%s\")", subject, l->kind);
	if (!is_crapvpn(l))
		die("%s: not a crapvpn device", subject);
}

/* ---- add, set, del, genkey -------------------------------------------- */

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

static int cmd_add_set(const char *cmd, int argc, char **argv)
{
	struct link l;

	check_dev(cmd, argv[0]);
	parse_options(cmd, argc - 1, argv + 1);
	if (!strcmp(cmd, "set") && argc == 1)
		usage_error("set: nothing to change");
	nl_open();
	if (!strcmp(cmd, "add")) {
		create_link(0);
		return 0;
	}
	get_crapvpn_link(&l, 0);
	must(subject, send_cfg(0, cmd_dev, 0));
	return 0;
}

static int cmd_del(const char *cmd, int argc, char **argv)
{
	struct link l;

	(void)argc;
	check_dev(cmd, argv[0]);
	nl_open();
	get_crapvpn_link(&l, 0);
	must(subject, del_link(cmd_dev, 0));
	return 0;
}

/* A key file for add/set's key-file: hex from the kernel's CSPRNG. */
static int cmd_genkey(const char *cmd, int argc, char **argv)
{
	unsigned char key[CRAPVPN_KEY_MAX];
	uint32_t n = 32;
	const char *err;
	size_t i;

	if (argc == 1) {
		err = cv_parse_u32(argv[0], CRAPVPN_KEY_MIN, CRAPVPN_KEY_MAX, &n);
		if (err)
			usage_error("%s: key length \"%s\": %s", cmd,
				    cv_quote(argv[0]), err);
	}
	/* getentropy() gives up to 256 bytes a call. */
	for (i = 0; i < n; i += 256)
		if (getentropy(key + i, n - i < 256 ? n - i : 256))
			die("cannot get random bytes: %s", strerror(errno));
	for (i = 0; i < n; i++)
		printf("%02x", key[i]);
	putchar('\n');
	explicit_bzero(key, sizeof(key));
	return 0;
}

/* ---- compat mode: crapvpn -k KEY -p PEER [-i IF] LOCAL_IP PEER_IP ----- */

static int cmd_compat(int argc, char **argv)
{
	const char *ifname = NULL, *peer_host = NULL, **arg, *err;
	char b1[INET6_ADDRSTRLEN], b2[INET6_ADDRSTRLEN], b3[INET6_ADDRSTRLEN];
	struct cv_ifaddr a = { 0 };
	const struct cv_option *o;
	int opt, index, rc, named;
	struct link l;

	/* getopt() would take "--long" apart letter by letter. */
	for (opt = 1; opt < argc; opt++)
		if (!strncmp(argv[opt], "--", 2) && argv[opt][2])
			usage_error("unknown option \"%s\"", cv_quote(argv[opt]));
	opterr = 0;
	while ((opt = getopt(argc, argv, "+:k:p:i:")) != -1) {
		switch (opt) {
		case 'k':
			rc = cv_set_option(&cfg, "key", optarg, 0, &o, &err);
			if (rc == CV_TWICE)
				usage_error("-k is given twice");
			if (rc == CV_BAD)
				die("-k: key %s", err);
			break;
		case 'p':
		case 'i':
			arg = opt == 'p' ? &peer_host : &ifname;
			if (*arg)
				usage_error("-%c is given twice", opt);
			*arg = optarg;
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
	err = cv_parse_addr(argv[optind], 1, &a.local);
	if (err)
		die("LOCAL_IP \"%s\": %s", cv_quote(argv[optind]), err);
	err = cv_parse_addr(argv[optind + 1], 1, &a.peer);
	if (err)
		die("PEER_IP \"%s\": %s", cv_quote(argv[optind + 1]), err);
	if (a.local.family != a.peer.family)
		die("LOCAL_IP and PEER_IP must both be IPv4 or both IPv6");
	a.plen = a.local.family == AF_INET ? 32 : 128;
	cfg.peer_port = CRAPVPN_DEFAULT_PORT;
	cfg.port = CRAPVPN_DEFAULT_PORT;
	cfg.given |= CV_BIT(CV_PEER) | CV_BIT(CV_PEER_PORT) | CV_BIT(CV_PORT);
	cv_addr_str(&cfg.peer, b3, sizeof(b3));

	nl_open();
	rc = get_link(ifname, &l, 0);
	if (!rc)
		die("device %s exists already (-i IFNAME picks another name)",
		    ifname);
	if (rc != -ENODEV)
		must("cannot look for an existing device", rc);
	snprintf(subject, sizeof(subject), "cannot create %s", ifname);
	index = create_link(1);

	/*
	 * Up, then LOCAL_IP peer PEER_IP: IPv6 installs the route to a
	 * point-to-point peer only for an address added while the device is
	 * up (seen on 6.1), so the address comes second.
	 */
	rc = set_up(index);
	snprintf(subject, sizeof(subject), "cannot set %s up", ifname);
	if (!rc) {
		rc = addr_msg(RTM_NEWADDR, index, &a);
		snprintf(subject, sizeof(subject), "cannot add the address to %s", ifname);
	}
	if (rc) {
		/* Leave nothing half made behind: a retry must not find it. */
		report(subject, rc);
		del_link(NULL, index);
		exit(EXIT_FAILURE);
	}
	named = strcmp(peer_host, b3) != 0;	/* a name: its address too */
	printf(PROG ": created %s with %s peer %s, tunnel to %s%s%s%s port %u, up\n",
	       ifname, cv_addr_str(&a.local, b1, sizeof(b1)),
	       cv_addr_str(&a.peer, b2, sizeof(b2)), peer_host,
	       named ? " (" : "", named ? b3 : "", named ? ")" : "",
	       CRAPVPN_DEFAULT_PORT);
	return 0;
}

/* ---- the commands ----------------------------------------------------- */

/*
 * need: what the first argument names, if one is required; max: how many
 * arguments at most (0: any). A first argument of -h or --help shows help.
 */
static const struct command {
	const char *name, *alias;
	int (*run)(const char *cmd, int argc, char **argv);
	const char *need;
	int max;
} commands[] = {
	{ "add", NULL, cmd_add_set, "device name", 0 },
	{ "set", NULL, cmd_add_set, "device name", 0 },
	{ "del", "delete", cmd_del, "device name", 1 },
	{ "show", "list", cmd_show, NULL, 0 },
	{ "up", NULL, cmd_up, "tunnel name", 1 },
	{ "down", NULL, cmd_down, "tunnel name", 1 },
	{ "genkey", NULL, cmd_genkey, NULL, 1 },
};

int main(int argc, char **argv)
{
	const struct command *c;
	const char *cmd;
	int ret;

	atexit(wipe);
	if (argc < 2)
		usage_error("no command given");
	cmd = argv[1];
	if (!strcmp(cmd, "help") || is_help(cmd))
		return help();
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf(PROG " " CRAPVPN_VERSION "\n");
		return 0;
	}
	if (cmd[0] == '-' && cmd[1] && strchr("kpi", cmd[1]))
		return cmd_compat(argc, argv);
	if (cmd[0] == '-')
		usage_error("unknown option \"%s\"", cv_quote(cmd));
	for (c = commands; c < commands + ARRAY_SIZE(commands); c++)
		if (!strcmp(cmd, c->name) || (c->alias && !strcmp(cmd, c->alias)))
			break;
	if (c == commands + ARRAY_SIZE(commands))
		usage_error("unknown command \"%s\"", cv_quote(cmd));
	argc -= 2;
	argv += 2;
	if (c->need && argc < 1)
		usage_error("%s: missing %s", c->name, c->need);
	if (argc && is_help(argv[0]))
		return help();
	if (c->max && argc > c->max)
		usage_error("%s: unexpected argument \"%s\"", c->name,
			    cv_quote(argv[c->max]));
	ret = c->run(c->name, argc, argv);
	if (nl)
		mnl_socket_close(nl);
	if (fflush(stdout) == EOF)
		die("cannot write the output: %s", strerror(errno));
	return ret;
}
