// SPDX-License-Identifier: GPL-2.0
/*
 * crapvpn up|down NAME|FILE: a tunnel from /etc/crapvpn/NAME.conf (see
 * crapvpn.conf(5)), made or brought in line with the file, or deleted.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "cvtool.h"

#define CONF_DIR	"/etc/crapvpn"
#define CONF_MAX_ADDRS	64
#define CONF_MAX_CMDS	16

static struct tunnel_conf {
	char path[4096], dev[IFNAMSIZ], at[16];	/* at: ":LINE" being read */
	struct cv_ifaddr addr[CONF_MAX_ADDRS];
	unsigned int n_addr, n_up, n_down;
	char *post_up[CONF_MAX_CMDS], *pre_down[CONF_MAX_CMDS];
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

/* "crapvpn: FILE:LINE: message" (FILE alone outside a line); exits. */
#define conf_error(fmt, ...)	die("%s%s: " fmt, tc.path, tc.at, ##__VA_ARGS__)

/*
 * Whether fd is owned by someone other than root (or whoever runs crapvpn,
 * e.g. a test as a user) or has one of the mode bits in mask set.
 */
static int not_roots(int fd, mode_t mask, struct stat *st)
{
	if (fstat(fd, st))
		conf_error("cannot stat: %s", strerror(errno));
	return (st->st_uid != 0 && st->st_uid != geteuid()) ||
	       (st->st_mode & mask);
}

/* A file that holds a key must be readable by root only. */
static void check_private(int fd, const char *what)
{
	struct stat st;

	if (not_roots(fd, 0044, &st))
		conf_error("%s holds a key but not only root can read it "
			   "(owner uid %u, mode %04o): chown root and chmod 600 it",
			   what, (unsigned int)st.st_uid,
			   (unsigned int)(st.st_mode & 07777));
}

/* "ADDR[/PLEN] [peer ADDR]", numeric addresses only. */
static const char *parse_conf_addr(char *v, struct cv_ifaddr *a)
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

static int cv_addr_eq(const struct cv_addr *x, const struct cv_addr *y)
{
	return x->family == y->family &&
	       (!x->family || !memcmp(&x->v6, &y->v6, cv_addr_len(x)));
}

static int conf_addr_eq(const struct cv_ifaddr *x, const struct cv_ifaddr *y)
{
	return x->plen == y->plen && cv_addr_eq(&x->local, &y->local) &&
	       cv_addr_eq(&x->peer, &y->peer);
}

/* Whether a is one of the n addresses of set. */
static int has_addr(const struct cv_ifaddr *set, unsigned int n,
		    const struct cv_ifaddr *a)
{
	while (n--)
		if (conf_addr_eq(set++, a))
			return 1;
	return 0;
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
static void conf_key_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		conf_error("key-file: cannot open %s: %s", cv_quote(path),
			   strerror(errno));
	check_private(fd, "the key file");
	close(fd);
}

/*
 * Reads the whole file into cfg and tc, or exits naming FILE:LINE: nothing
 * is sent before the file is known to be good.
 */
static void conf_read(void)
{
	unsigned int line = 0, key_line = 0;
	const struct cv_option *o;
	const char *err = NULL;
	char *k, *v, *e;
	struct stat st;
	ssize_t len;
	FILE *f;
	int fd;

	fd = open(tc.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		conf_error("cannot open: %s", strerror(errno));
	/* Its commands run as root: only root may change it. */
	if (not_roots(fd, 0022, &st))
		conf_error("only root may write it (owner uid %u, mode %04o): "
			   "chown root and chmod go-w it", (unsigned int)st.st_uid,
			   (unsigned int)(st.st_mode & 07777));
	f = fdopen(fd, "r");
	if (!f)
		conf_error("cannot read: %s", strerror(errno));
	atexit(conf_wipe);
	setvbuf(f, conf_iobuf, _IOFBF, sizeof(conf_iobuf));
	while ((len = getline(&conf_line, &conf_cap, f)) >= 0) {
		snprintf(tc.at, sizeof(tc.at), ":%u", ++line);
		if (memchr(conf_line, '\0', len))
			conf_error("a NUL byte: not a text file");
		for (k = conf_line; isspace((unsigned char)*k); k++)
			;
		if (!*k || *k == '#')
			continue;
		v = strchr(k, '=');
		if (!v)
			conf_error("expected NAME = VALUE");
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
				conf_error("%s: no value", k);
			if (tc.n_addr == CONF_MAX_ADDRS)
				conf_error("more than %d addresses",
					   CONF_MAX_ADDRS);
			err = parse_conf_addr(v, &tc.addr[tc.n_addr]);
			if (err)
				conf_error("address: %s", err);
			if (has_addr(tc.addr, tc.n_addr, &tc.addr[tc.n_addr]))
				conf_error("address given twice");
			tc.n_addr++;
			continue;
		}
		if (!strcmp(k, "post-up") || !strcmp(k, "pre-down")) {
			int up = !strcmp(k, "post-up");
			unsigned int *n = up ? &tc.n_up : &tc.n_down;

			if (!*v)
				conf_error("%s: no value", k);
			if (*n == CONF_MAX_CMDS)
				conf_error("more than %d %s commands",
					   CONF_MAX_CMDS, k);
			(up ? tc.post_up : tc.pre_down)[(*n)++] = strdup(v);
			continue;
		}
		switch (cv_set_option(&cfg, k, *v ? v : NULL, 0, &o, &err)) {
		case CV_UNKNOWN:
			conf_error("unknown setting \"%s\"", cv_quote(k));
		case CV_NO_VALUE:
			conf_error("%s: no value", k);
		case CV_TWICE:
			if (o->id == CV_KEY)
				conf_error("the key is given twice (line %u)",
					   key_line);
			conf_error("%s is given twice", k);
		case CV_BAD:
			if (o->flags & CV_SECRET)
				conf_error("%s: %s", k, err);
			conf_error("%s \"%s\": %s", k, cv_quote(v), err);
		}
		if (o->kind == CV_T_HEX)
			check_private(fd, "the file");
		if (o->kind == CV_T_FILE)
			conf_key_file(v);
		if (o->id == CV_KEY)
			key_line = line;
	}
	tc.at[0] = '\0';
	if (ferror(f))
		conf_error("cannot read: %s", strerror(errno));
	fclose(f);
	conf_wipe();
	if (!(cfg.given & CV_BIT(CV_KEY)))
		conf_error("no key (key-file = FILE, or key = HEX)");
	if (cv_families_differ(&cfg))
		conf_error("local and peer are of different address families");
}

/* Runs the commands with /bin/sh -c, %i replaced by the device name. */
static int run_cmds(const char *what, char **cmds, unsigned int n)
{
	const char *q;
	unsigned int i;
	char *c, *p;
	int status;

	for (i = 0; i < n; i++) {
		c = malloc(strlen(cmds[i]) * (strlen(tc.dev) + 1) + 1);
		if (!c)
			die("out of memory");
		for (p = c, q = cmds[i]; *q; q++) {
			if (q[0] == '%' && q[1] == 'i') {
				p = stpcpy(p, tc.dev);
				q++;
			} else {
				*p++ = *q;
			}
		}
		*p = '\0';
		fflush(stdout);
		status = system(c);
		if (status != 0)
			fprintf(stderr, PROG ": %s \"%s\" failed (%s %d)\n",
				what, c, WIFEXITED(status) ? "exit status" :
				"signal", WIFEXITED(status) ? WEXITSTATUS(status) :
				WTERMSIG(status));
		free(c);
		if (status != 0)
			return -1;
	}
	return 0;
}

struct addr_dump {
	int index;
	unsigned int n;
	struct cv_ifaddr a[CONF_MAX_ADDRS * 2];
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_dump *d = data;
	const struct nlattr *at, *local = NULL, *address = NULL;
	struct cv_ifaddr *a;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    (int)ifa->ifa_index != d->index ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    d->n == ARRAY_SIZE(d->a))
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
	char b1[INET6_ADDRSTRLEN], what[96];
	unsigned int i;
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
		if (has_addr(tc.addr, tc.n_addr, &d.a[i]))
			continue;
		err = addr_msg(RTM_DELADDR, index, &d.a[i]);
		if (err) {
			report("cannot remove an address", err);
			return err;
		}
		printf(PROG ": %s: removed address %s/%u\n", tc.dev,
		       cv_addr_str(&d.a[i].local, b1, sizeof(b1)), d.a[i].plen);
	}
	for (i = 0; i < tc.n_addr; i++) {
		if (has_addr(d.a, d.n, &tc.addr[i]))
			continue;
		cv_addr_str(&tc.addr[i].local, b1, sizeof(b1));
		err = addr_msg(RTM_NEWADDR, index, &tc.addr[i]);
		if (err) {
			snprintf(what, sizeof(what), "%s: cannot add address %s/%u",
				 tc.dev, b1, tc.addr[i].plen);
			report(what, err);
			return err;
		}
		if (!fresh)
			printf(PROG ": %s: added address %s/%u\n", tc.dev, b1,
			       tc.addr[i].plen);
	}
	return 0;
}

int cmd_up(const char *cmd, int argc, char **argv)
{
	struct link l;
	int err, index;

	(void)argc;
	conf_locate(cmd, argv[0]);
	conf_read();

	nl_open();
	err = get_link(cmd_dev, &l, 0);
	if (err != -ENODEV)
		must(subject, err);
	if (!err && !is_crapvpn(&l))
		die("%s: a device of that name exists and is not a "
		    "crapvpn device", subject);
	if (err) {
		index = create_link(1);
		/* Up first: IPv6 routes a point-to-point peer only then. */
		err = set_up(index);
		if (err)
			report(subject, err);
		if (!err)
			err = sync_addrs(index, 1);
		if (!err && run_cmds("post-up", tc.post_up, tc.n_up))
			err = -1;
		if (err) {
			/* Leave nothing half made behind. */
			del_link(NULL, index);
			exit(EXIT_FAILURE);
		}
		printf(PROG ": %s: created from %s, up\n", tc.dev, tc.path);
		return 0;
	}

	/*
	 * Running: change what differs, live. The key cannot be read back,
	 * so it is always sent (the same key changes nothing on the wire).
	 * What the file leaves out is the kernel's default: ports 1337,
	 * local any (of the device's family). A peer cannot be removed.
	 */
	if (l.peer.family && !cfg.peer.family)
		die("%s: the device has a peer and %s has none; a peer cannot "
		    "be removed live (crapvpn down %s, then up)", subject, tc.path,
		    tc.dev);
	if (((cfg.given & CV_BIT(CV_MODE)) && cfg.mode == CRAPVPN_MODE_L2) != l.l2)
		die("%s: %s says mode %s, the device is %s; the mode is set "
		    "when a device is created (crapvpn down %s, then up)", subject,
		    tc.path, l.l2 ? "l3" : "l2", l.l2 ? "l2" : "l3", tc.dev);
	if (!cfg.peer_port)
		cfg.peer_port = CRAPVPN_DEFAULT_PORT;
	if (!cfg.port)
		cfg.port = CRAPVPN_DEFAULT_PORT;
	if (!cfg.local.family)
		cfg.local.family = l.local.family;
	cfg.given = CV_BIT(CV_KEY);
	if (!cv_addr_eq(&cfg.peer, &l.peer))
		cfg.given |= CV_BIT(CV_PEER);
	if (cfg.peer_port != l.peer_port)
		cfg.given |= CV_BIT(CV_PEER_PORT);
	if (cfg.port != l.port)
		cfg.given |= CV_BIT(CV_PORT);
	if (!cv_addr_eq(&cfg.local, &l.local))
		cfg.given |= CV_BIT(CV_LOCAL);
	if (cfg.mtu && cfg.mtu != l.mtu)
		cfg.given |= CV_BIT(CV_MTU);
	err = send_cfg(0, NULL, l.index);
	if (!err && !l.up)
		err = set_up(l.index);
	must(subject, err);
	if (sync_addrs(l.index, 0))
		exit(EXIT_FAILURE);
	printf(PROG ": %s: updated from %s\n", tc.dev, tc.path);
	return 0;
}

int cmd_down(const char *cmd, int argc, char **argv)
{
	struct link l;

	(void)argc;
	conf_locate(cmd, argv[0]);
	/* The file is only needed for its pre-down commands. */
	if (access(tc.path, F_OK) == 0 || errno != ENOENT)
		conf_read();
	explicit_bzero(&cfg, sizeof(cfg));
	nl_open();
	get_crapvpn_link(&l, 0);
	if (run_cmds("pre-down", tc.pre_down, tc.n_down))
		fprintf(stderr, PROG ": %s: deleting it anyway\n", subject);
	must(subject, del_link(cmd_dev, 0));
	return 0;
}
