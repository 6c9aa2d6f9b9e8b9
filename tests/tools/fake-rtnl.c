// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper for test-cli.sh, not installed: an LD_PRELOAD library that
 * answers rtnetlink requests itself, so that "crapvpn show" and
 * "ip -d [-j] link show" can be tested on a host without the module.
 *
 * It knows four links: lo (no kind), cv0 (crapvpn over IPv4, up, local
 * address any, which the kernel does not report), cv"6\ (crapvpn over
 * IPv6, down, bound to 2001:db8::1; the name tests JSON escaping) and
 * dummy0 (kind dummy). GETLINK dumps list them all, GETLINK by name or
 * index finds one (or fails with ENODEV); other dumps are empty. NEWLINK
 * with NLM_F_CREATE fails with EEXIST for a known name, else it remembers
 * the name as a fifth crapvpn link (index 100). Any other request is
 * acknowledged as done. Nothing reaches the kernel, and a read with no
 * answer queued fails with EAGAIN instead of blocking.
 *
 * FAKE_RTNL_FAIL=TYPE:ERRNO[:MESSAGE] makes requests of message type TYPE
 * (e.g. 16 for RTM_NEWLINK) fail with ERRNO and that extack message.
 * FAKE_RTNL_LOG=FILE appends every request, as sent, to FILE.
 * FAKE_RTNL_TRACE=1 prints every request to standard error, decoded, the
 * key by its length only: what "crapvpn --dry-run" printed once.
 * FAKE_RTNL_PORT_DEVS=N makes cv0 report N devices on its port's socket
 * (IFLA_CRAPVPN_PORT_DEVS; by default it is not reported), cv"6\ 1.
 * FAKE_RTNL_LINK=NAME makes that fifth link exist from the start, as one
 * "created" lasts only as long as the process (e.g. a name not in UTF-8).
 *
 *   cc -I../.. -shared -fPIC -o fake-rtnl.so fake-rtnl.c -ldl
 *   LD_PRELOAD=./fake-rtnl.so ../../tools/crapvpn show --json
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "crapvpn.h"

static char queue[65536];
static size_t queued;

static int is_netlink(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	       ss.ss_family == AF_NETLINK;
}

static __u32 portid(int fd)
{
	struct sockaddr_nl snl;
	socklen_t len = sizeof(snl);

	getsockname(fd, (struct sockaddr *)&snl, &len);
	return snl.nl_pid;
}

/* Appends an attribute at *pos; returns it so that nests can be closed. */
static struct rtattr *put(char *buf, size_t *pos, int type, const void *data,
			  size_t len)
{
	struct rtattr *rta = (struct rtattr *)(buf + *pos);

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (data)
		memcpy(RTA_DATA(rta), data, len);
	*pos += RTA_ALIGN(rta->rta_len);
	return rta;
}

static void end(char *buf, size_t pos, struct rtattr *nest)
{
	nest->rta_len = buf + pos - (char *)nest;
}

struct fake {
	int index, up;
	const char *name, *kind;
	int v6;
	const char *peer, *local;
	__u16 peer_port, port;
	__u32 key_len, mtu;
};

static const struct fake links[] = {
	{ 1, 1, "lo", NULL, 0, NULL, NULL, 0, 0, 0, 65536 },
	{ 7, 1, "cv0", "crapvpn", 0, "192.0.2.2", NULL, 4000, 1337, 16, 1400 },
	{ 8, 0, "cv\"6\\", "crapvpn", 1, "2001:db8::2", "2001:db8::1", 1337, 1338, 4096, 1280 },
	{ 9, 0, "dummy0", "dummy", 0, NULL, NULL, 0, 0, 0, 1500 },
};

static void put_link(const struct fake *f, __u32 seq, __u32 pid, int multi)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(queue + queued);
	char *buf = queue + queued;
	struct ifinfomsg *ifi;
	struct rtattr *info, *data;
	unsigned char a[16];
	__u32 zero = 0;
	size_t pos;

	memset(buf, 0, 1024);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = multi ? NLM_F_MULTI : 0;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = pid;
	ifi = NLMSG_DATA(nlh);
	ifi->ifi_index = f->index;
	ifi->ifi_type = 65534;	/* ARPHRD_NONE */
	ifi->ifi_flags = IFF_POINTOPOINT | IFF_NOARP | (f->up ? IFF_UP : 0);
	pos = NLMSG_LENGTH(sizeof(*ifi));
	put(buf, &pos, IFLA_IFNAME, f->name, strlen(f->name) + 1);
	put(buf, &pos, IFLA_MTU, &f->mtu, 4);
	put(buf, &pos, IFLA_TXQLEN, &zero, 4);
	if (f->kind) {
		info = put(buf, &pos, IFLA_LINKINFO, NULL, 0);
		put(buf, &pos, IFLA_INFO_KIND, f->kind, strlen(f->kind));
		if (!strcmp(f->kind, CRAPVPN_KIND) && f->peer) {
			int fam = f->v6 ? AF_INET6 : AF_INET, n = f->v6 ? 16 : 4;

			data = put(buf, &pos, IFLA_INFO_DATA, NULL, 0);
			inet_pton(fam, f->peer, a);
			put(buf, &pos, f->v6 ? IFLA_CRAPVPN_PEER6 : IFLA_CRAPVPN_PEER, a, n);
			put(buf, &pos, IFLA_CRAPVPN_PEER_PORT, &f->peer_port, 2);
			put(buf, &pos, IFLA_CRAPVPN_PORT, &f->port, 2);
			if (f->v6 || getenv("FAKE_RTNL_PORT_DEVS")) {
				__u32 devs = f->v6 ? 1 :
					     atoi(getenv("FAKE_RTNL_PORT_DEVS"));

				put(buf, &pos, IFLA_CRAPVPN_PORT_DEVS, &devs, 4);
			}
			if (f->local) {	/* the kernel leaves out "any" */
				inet_pton(fam, f->local, a);
				put(buf, &pos, f->v6 ? IFLA_CRAPVPN_LOCAL6 :
				    IFLA_CRAPVPN_LOCAL, a, n);
			}
			put(buf, &pos, IFLA_CRAPVPN_KEY_LEN, &f->key_len, 4);
			end(buf, pos, data);
		}
		end(buf, pos, info);
	}
	nlh->nlmsg_len = pos;
	queued += NLMSG_ALIGN(pos);
}

static void put_ctl_msg(int type, int error, const struct nlmsghdr *req,
			__u32 pid, const char *msg);

static void put_ctl(int type, int error, const struct nlmsghdr *req, __u32 pid)
{
	put_ctl_msg(type, error, req, pid, NULL);
}

static void put_ctl_msg(int type, int error, const struct nlmsghdr *req,
			__u32 pid, const char *msg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(queue + queued);
	size_t len = type == NLMSG_DONE ? sizeof(int) : sizeof(struct nlmsgerr);

	memset(nlh, 0, NLMSG_SPACE(len));
	nlh->nlmsg_len = NLMSG_LENGTH(len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = type == NLMSG_DONE ? NLM_F_MULTI : NLM_F_CAPPED;
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_pid = pid;
	if (type == NLMSG_DONE) {
		memcpy(NLMSG_DATA(nlh), &error, sizeof(int));
	} else {
		struct nlmsgerr *e = NLMSG_DATA(nlh);

		e->error = error;
		e->msg = *req;
	}
	if (msg) {	/* extended ack: NLMSGERR_ATTR_MSG */
		size_t pos = NLMSG_ALIGN(nlh->nlmsg_len);

		put((char *)nlh, &pos, NLMSGERR_ATTR_MSG, msg, strlen(msg) + 1);
		nlh->nlmsg_len = pos;
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	}
	queued += NLMSG_ALIGN(nlh->nlmsg_len);
}

static char created[IFNAMSIZ];

/* The fake link called name, or at index; NULL if there is none. */
static const struct fake *find(const char *name, int index)
{
	static struct fake extra = {
		.index = 100, .name = created, .kind = CRAPVPN_KIND,
	};
	static int init;
	unsigned int i;

	if (!init++ && getenv("FAKE_RTNL_LINK"))
		snprintf(created, sizeof(created), "%s",
			 getenv("FAKE_RTNL_LINK"));
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (name ? !strcmp(name, links[i].name) : index == links[i].index)
			return &links[i];
	if (created[0] && (name ? !strcmp(name, created) : index == 100))
		return &extra;
	return NULL;
}

/* ---- FAKE_RTNL_TRACE: the request in words ----------------------------- */

#define ATTRS_AFTER(nlh, hdr) \
	((const struct rtattr *)((const char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(hdr)))

static void trace_addr(const char *name, const struct rtattr *a, int indent)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned int len = RTA_PAYLOAD(a);

	if (len == 4 || len == 16)
		inet_ntop(len == 4 ? AF_INET : AF_INET6, RTA_DATA(a), buf,
			  sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "(%u bytes)", len);
	fprintf(stderr, "%*s%s %s\n", indent, "", name, buf);
}

static unsigned int u16_of(const struct rtattr *a)
{
	__u16 v;

	memcpy(&v, RTA_DATA(a), sizeof(v));
	return v;
}

static unsigned int u32_of(const struct rtattr *a)
{
	__u32 v;

	memcpy(&v, RTA_DATA(a), sizeof(v));
	return v;
}

static void trace_data(const struct rtattr *nest)
{
	static const char *const names[] = {
		[IFLA_CRAPVPN_PEER] = "IFLA_CRAPVPN_PEER",
		[IFLA_CRAPVPN_PEER6] = "IFLA_CRAPVPN_PEER6",
		[IFLA_CRAPVPN_LOCAL] = "IFLA_CRAPVPN_LOCAL",
		[IFLA_CRAPVPN_LOCAL6] = "IFLA_CRAPVPN_LOCAL6",
	};
	const struct rtattr *a = RTA_DATA(nest);
	int len = RTA_PAYLOAD(nest);

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type & NLA_TYPE_MASK) {
		case IFLA_CRAPVPN_KEY:
			fprintf(stderr, "      IFLA_CRAPVPN_KEY (%u bytes, not shown)\n",
				(unsigned int)RTA_PAYLOAD(a));
			break;
		case IFLA_CRAPVPN_PEER:
		case IFLA_CRAPVPN_PEER6:
		case IFLA_CRAPVPN_LOCAL:
		case IFLA_CRAPVPN_LOCAL6:
			trace_addr(names[a->rta_type & NLA_TYPE_MASK], a, 6);
			break;
		case IFLA_CRAPVPN_PEER_PORT:
			fprintf(stderr, "      IFLA_CRAPVPN_PEER_PORT %u\n", u16_of(a));
			break;
		case IFLA_CRAPVPN_PORT:
			fprintf(stderr, "      IFLA_CRAPVPN_PORT %u\n", u16_of(a));
			break;
		case IFLA_CRAPVPN_MODE:
			fprintf(stderr, "      IFLA_CRAPVPN_MODE %u\n",
				*(const __u8 *)RTA_DATA(a));
			break;
		default:
			fprintf(stderr, "      attribute %u\n", a->rta_type);
		}
	}
}

static void trace(const struct nlmsghdr *nlh)
{
	static const char *const types[] = {
		[RTM_NEWLINK] = "RTM_NEWLINK", [RTM_DELLINK] = "RTM_DELLINK",
		[RTM_GETLINK] = "RTM_GETLINK", [RTM_NEWADDR] = "RTM_NEWADDR",
		[RTM_DELADDR] = "RTM_DELADDR", [RTM_GETADDR] = "RTM_GETADDR",
	};
	int get = nlh->nlmsg_type == RTM_GETLINK || nlh->nlmsg_type == RTM_GETADDR;
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	const struct rtattr *a, *b;
	int len, blen;

	if (nlh->nlmsg_type > RTM_GETADDR || !types[nlh->nlmsg_type]) {
		fprintf(stderr, "message type %u\n", nlh->nlmsg_type);
		return;
	}
	fprintf(stderr, "%s flags", types[nlh->nlmsg_type]);
	if (nlh->nlmsg_flags & NLM_F_ACK)
		fprintf(stderr, " ack");
	if (get && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
		fprintf(stderr, " dump");
	if (!get && (nlh->nlmsg_flags & NLM_F_CREATE))
		fprintf(stderr, " create");
	if (!get && (nlh->nlmsg_flags & NLM_F_EXCL))
		fprintf(stderr, " excl");

	if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR) {
		const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);

		fprintf(stderr, " family %s prefixlen %u index %u\n",
			ifa->ifa_family == AF_INET ? "inet" : "inet6",
			ifa->ifa_prefixlen, ifa->ifa_index);
		len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
		for (a = ATTRS_AFTER(nlh, sizeof(*ifa)); RTA_OK(a, len);
		     a = RTA_NEXT(a, len))
			trace_addr(a->rta_type == IFA_LOCAL ? "IFA_LOCAL" :
				   "IFA_ADDRESS", a, 2);
		return;
	}
	if (nlh->nlmsg_type >= RTM_NEWADDR) {
		fprintf(stderr, "\n");
		return;
	}
	fprintf(stderr, " index %d", ifi->ifi_index);
	if (ifi->ifi_change)
		fprintf(stderr, " change 0x%x flags 0x%x", ifi->ifi_change,
			ifi->ifi_flags);
	fprintf(stderr, "\n");
	len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	for (a = ATTRS_AFTER(nlh, sizeof(*ifi)); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		switch (a->rta_type & NLA_TYPE_MASK) {
		case IFLA_IFNAME:
			fprintf(stderr, "  IFLA_IFNAME \"%s\"\n",
				(const char *)RTA_DATA(a));
			break;
		case IFLA_MTU:
			fprintf(stderr, "  IFLA_MTU %u\n", u32_of(a));
			break;
		case IFLA_EXT_MASK:
			fprintf(stderr, "  IFLA_EXT_MASK 0x%x\n", u32_of(a));
			break;
		case IFLA_LINKINFO:
			fprintf(stderr, "  IFLA_LINKINFO\n");
			blen = RTA_PAYLOAD(a);
			for (b = RTA_DATA(a); RTA_OK(b, blen); b = RTA_NEXT(b, blen)) {
				if ((b->rta_type & NLA_TYPE_MASK) == IFLA_INFO_KIND) {
					fprintf(stderr, "    IFLA_INFO_KIND \"%s\"\n",
						(const char *)RTA_DATA(b));
				} else {
					fprintf(stderr, "    IFLA_INFO_DATA\n");
					trace_data(b);
				}
			}
			break;
		default:
			fprintf(stderr, "  attribute %u\n", a->rta_type);
		}
	}
}

/* Looks at one request and queues the answer. */
static void answer(int fd, const void *buf, size_t len)
{
	const struct nlmsghdr *req = buf;
	__u32 pid = portid(fd);
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	const struct fake *f;
	const char *name = NULL, *fail, *log;
	unsigned int i;
	int rlen;

	queued = 0;
	if (len < sizeof(*req))
		return;
	log = getenv("FAKE_RTNL_LOG");
	if (log) {
		FILE *f = fopen(log, "a");

		if (f) {
			fwrite(buf, 1, len, f);
			fclose(f);
		}
	}
	if (getenv("FAKE_RTNL_TRACE") && len >= req->nlmsg_len)
		trace(req);
	fail = getenv("FAKE_RTNL_FAIL");
	if (fail && atoi(fail) == req->nlmsg_type) {
		char *p = strchr(fail, ':'), *m = p ? strchr(p + 1, ':') : NULL;

		put_ctl_msg(NLMSG_ERROR, p ? -atoi(p + 1) : -EINVAL, req, pid,
			    m ? m + 1 : NULL);
		return;
	}
	if ((req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP &&
	    req->nlmsg_type % 4 == RTM_GETLINK % 4) {	/* any GET dump */
		if (req->nlmsg_type == RTM_GETLINK)
			for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
				put_link(&links[i], req->nlmsg_seq, pid, 1);
		put_ctl(NLMSG_DONE, 0, req, pid);
		return;
	}

	ifi = NLMSG_DATA(req);
	rta = (const struct rtattr *)((const char *)ifi + NLMSG_ALIGN(sizeof(*ifi)));
	rlen = req->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	if (req->nlmsg_type <= RTM_GETLINK)
		for (; RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen))
			if (rta->rta_type == IFLA_IFNAME)
				name = RTA_DATA(rta);

	if (req->nlmsg_type == RTM_GETLINK) {
		f = find(name, ifi->ifi_index);
		if (!f) {
			put_ctl(NLMSG_ERROR, -ENODEV, req, pid);
			return;
		}
		put_link(f, req->nlmsg_seq, pid, 0);
	} else if (req->nlmsg_type == RTM_NEWLINK &&
		   (req->nlmsg_flags & NLM_F_CREATE) && name) {
		if (find(name, 0)) {
			put_ctl(NLMSG_ERROR, -EEXIST, req, pid);
			return;
		}
		snprintf(created, sizeof(created), "%s", name);
	} else if (req->nlmsg_type == RTM_DELLINK) {
		f = find(name, ifi->ifi_index);
		if (f && f->name == created)
			created[0] = '\0';
	}
	if (req->nlmsg_flags & NLM_F_ACK)
		put_ctl(NLMSG_ERROR, 0, req, pid);
}

/* Hands out the queued answer as one datagram (MSG_PEEK keeps it). */
static ssize_t deliver(void *buf, size_t len, int flags, struct sockaddr *src,
		       socklen_t *srclen)
{
	size_t n = queued;

	if (n > len)
		n = len;
	if (n)
		memcpy(buf, queue, n);
	if (src && srclen && *srclen >= sizeof(struct sockaddr_nl)) {
		struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

		memcpy(src, &kernel, sizeof(kernel));
		*srclen = sizeof(kernel);
	}
	n = (flags & MSG_TRUNC) ? queued : n;
	if (!(flags & MSG_PEEK))
		queued = 0;
	return n;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *to, socklen_t tolen)
{
	static ssize_t (*real)(int, const void *, size_t, int,
			       const struct sockaddr *, socklen_t);

	if (is_netlink(fd)) {
		answer(fd, buf, len);
		return len;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "sendto");
	return real(fd, buf, len, flags, to, tolen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);

	if (is_netlink(fd) && msg->msg_iovlen >= 1) {
		answer(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len);
		return msg->msg_iov[0].iov_len;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "sendmsg");
	return real(fd, msg, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
		 struct sockaddr *src, socklen_t *srclen)
{
	static ssize_t (*real)(int, void *, size_t, int, struct sockaddr *,
			       socklen_t *);

	if (is_netlink(fd)) {
		if (!queued) {
			errno = EAGAIN;
			return -1;
		}
		return deliver(buf, len, flags, src, srclen);
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "recvfrom");
	return real(fd, buf, len, flags, src, srclen);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);

	if (is_netlink(fd)) {
		socklen_t nl = msg->msg_namelen;
		ssize_t n;

		if (!queued) {
			errno = EAGAIN;
			return -1;
		}
		n = deliver(msg->msg_iovlen ? msg->msg_iov[0].iov_base : NULL,
			    msg->msg_iovlen ? msg->msg_iov[0].iov_len : 0,
			    flags, msg->msg_name, &nl);
		msg->msg_namelen = nl;
		msg->msg_flags = 0;
		return n;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "recvmsg");
	return real(fd, msg, flags);
}
