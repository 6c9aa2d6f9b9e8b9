// SPDX-License-Identifier: GPL-2.0
/*
 * Argument parsing shared by crapvpn(8) and the ip link plugin. See
 * cvparse.h. Messages are static strings or live in one static buffer,
 * which is enough for two single-threaded command line programs.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cvparse.h"

/* Generous: a 4096-byte key as `xxd -p` writes it is about 8.3 KB. */
#define CV_KEYFILE_MAX	65536

static char msgbuf[512];

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *cv_key_from_hex(const char *hex, size_t hexlen,
			    uint8_t key[CRAPVPN_KEY_MAX], size_t *keylen)
{
	const char *err = NULL;
	size_t i = 0, digits = 0;
	int v;

	while (i < hexlen && isspace((unsigned char)hex[i]))
		i++;
	if (hexlen - i >= 2 && hex[i] == '0' && (hex[i + 1] == 'x' || hex[i + 1] == 'X'))
		i += 2;

	for (; i < hexlen; i++) {
		if (isspace((unsigned char)hex[i]))
			continue;
		v = hexval(hex[i]);
		if (v < 0) {
			err = "not a hex string (only 0-9, a-f and A-F are allowed)";
			break;
		}
		if (digits / 2 >= CRAPVPN_KEY_MAX) {
			err = "too long (at most 4096 bytes, 8192 hex digits)";
			break;
		}
		if (digits % 2 == 0)
			key[digits / 2] = v << 4;
		else
			key[digits / 2] |= v;
		digits++;
	}
	if (!err && digits == 0)
		err = "empty (at least 1 byte, 2 hex digits)";
	else if (!err && digits % 2)
		err = "odd number of hex digits";

	if (err) {
		explicit_bzero(key, CRAPVPN_KEY_MAX);
		*keylen = 0;
		return err;
	}
	*keylen = digits / 2;
	return NULL;
}

const char *cv_key_from_file(const char *path,
			     uint8_t key[CRAPVPN_KEY_MAX], size_t *keylen)
{
	int use_stdin = strcmp(path, "-") == 0;
	const char *err = NULL;
	size_t len = 0;
	ssize_t n;
	char *buf;
	int fd;

	fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* A key given as key-file by mistake must not be echoed. */
		snprintf(msgbuf, sizeof(msgbuf), "cannot open %s: %s",
			 cv_quote(path), strerror(errno));
		return msgbuf;
	}
	buf = malloc(CV_KEYFILE_MAX + 1);
	if (!buf) {
		err = "out of memory";
		goto out_close;
	}
	for (;;) {
		n = read(fd, buf + len, CV_KEYFILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(msgbuf, sizeof(msgbuf), "cannot read %s: %s",
				 use_stdin ? "standard input" : cv_quote(path),
				 strerror(errno));
			err = msgbuf;
			break;
		}
		if (n == 0)
			break;
		len += n;
		if (len > CV_KEYFILE_MAX) {
			err = "key file too large (at most 64 KiB of hex text)";
			break;
		}
	}
	if (!err)
		err = cv_key_from_hex(buf, len, key, keylen);
	explicit_bzero(buf, CV_KEYFILE_MAX + 1);
	free(buf);
out_close:
	if (!use_stdin)
		close(fd);
	return err;
}

const char *cv_parse_u32(const char *s, uint32_t lo, uint32_t hi,
			 uint32_t *val)
{
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s)) {
		snprintf(msgbuf, sizeof(msgbuf),
			 "not a decimal number (%u-%u)", lo, hi);
		return msgbuf;
	}
	errno = 0;
	v = strtoul(s, NULL, 10);
	if (errno == ERANGE || v < lo || v > hi) {
		snprintf(msgbuf, sizeof(msgbuf), "out of range (%u-%u)", lo, hi);
		return msgbuf;
	}
	*val = v;
	return NULL;
}

const char *cv_parse_port(const char *s, uint16_t *port)
{
	const char *err;
	uint32_t v;

	err = cv_parse_u32(s, 1, 65535, &v);
	if (err)
		return err;
	*port = v;
	return NULL;
}

/* Eight hex digits or more, maybe after "0x": likely a key. */
static int cv_keylike(const char *s)
{
	size_t n = strlen(s);

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, n -= 2;
	return n >= 8 && strspn(s, "0123456789abcdefABCDEF") == n;
}

const char *cv_parse_addr(const char *s, int numeric_only, struct cv_addr *a)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *ai;
	struct in_addr v4;
	int rc;

	memset(a, 0, sizeof(*a));
	if (!*s)
		return "empty address";
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		a->family = AF_INET;
		return NULL;
	}
	if (inet_pton(AF_INET6, s, &a->v6) == 1) {
		a->family = AF_INET6;
		return NULL;
	}
	if (numeric_only)
		return "not a numeric IPv4 or IPv6 address";
	/*
	 * getaddrinfo() would take what inet_aton() takes, "10.1" for
	 * 10.0.0.1 or "0x7f000001" for 127.0.0.1: not here. Digits and dots
	 * alone that inet_aton() refuses (1.2.3.4.5) are no host name either.
	 */
	if (strspn(s, "0123456789.") == strlen(s) || inet_aton(s, &v4))
		return "not a valid IPv4 address";
	if (strchr(s, ':'))
		return "not a valid IPv6 address";
	/* A key typed in the wrong place must not go out in a DNS query. */
	if (cv_keylike(s))
		return "looks like a key, so it was not looked up as a host name";

	hints.ai_family = AF_UNSPEC;
	rc = getaddrinfo(s, NULL, &hints, &res);
	if (rc) {
		snprintf(msgbuf, sizeof(msgbuf), "cannot resolve host: %s",
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return msgbuf;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			a->family = AF_INET;
			a->v4 = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
			break;
		}
		if (ai->ai_family == AF_INET6) {
			a->family = AF_INET6;
			a->v6 = ((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
			break;
		}
	}
	freeaddrinfo(res);
	return a->family ? NULL : "host has no IPv4 or IPv6 address";
}

const char *cv_addr_str(const struct cv_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, &a->v6, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *cv_check_ifname(const char *name)
{
	const char *p;

	if (!*name)
		return "empty interface name";
	if (strlen(name) >= IFNAMSIZ)
		return "interface name too long (at most 15 characters)";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "\".\" and \"..\" are not interface names";
	for (p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return "interface name contains '/', ':' or white space";
	/*
	 * The kernel would replace "%d" by a number of its choosing, and the
	 * device would then not be found under the name given.
	 */
	if (strchr(name, '%'))
		return "interface name contains '%' (the kernel expands it)";
	return NULL;
}

const char *cv_quote(const char *s)
{
	return cv_keylike(s) ? "(a hex string, not shown)" : s;
}

void cv_wipe_str(char *s)
{
	explicit_bzero(s, strlen(s));
}

#define CV_MEMBER(m)	offsetof(struct cv_config, m)

const struct cv_option cv_options[] = {
	{ "key", "HEX", "XOR key in hex, 1..4096 bytes (\"0x\" prefix allowed)",
	  CV_KEY, CV_T_HEX, CV_SECRET, CV_MEMBER(key), IFLA_CRAPVPN_KEY, 0 },
	{ "key-file", "FILE", "read the hex key from FILE (\"-\": standard input)",
	  CV_KEY, CV_T_FILE, CV_SECRET, CV_MEMBER(key), 0, 0 },
	{ "peer", "HOST", "peer address or host name (IPv4 or IPv6)",
	  CV_PEER, CV_T_ADDR, 0, CV_MEMBER(peer),
	  IFLA_CRAPVPN_PEER, IFLA_CRAPVPN_PEER6 },
	{ "peer-port", "N", "peer UDP port (default 1337)",
	  CV_PEER_PORT, CV_T_PORT, 0, CV_MEMBER(peer_port),
	  IFLA_CRAPVPN_PEER_PORT, 0 },
	{ "port", "N", "local UDP listen port (default 1337)",
	  CV_PORT, CV_T_PORT, 0, CV_MEMBER(port), IFLA_CRAPVPN_PORT, 0 },
	{ "local", "ADDR", "local address to bind (0.0.0.0 or :: for any)",
	  CV_LOCAL, CV_T_ADDR, 0, CV_MEMBER(local),
	  IFLA_CRAPVPN_LOCAL, IFLA_CRAPVPN_LOCAL6 },
	{ "mtu", "N", "device MTU",
	  CV_MTU, CV_T_MTU, CV_NOT_IP, CV_MEMBER(mtu), 0, 0 },
	{ "mode", "l3|l2", "IP packets (default) or Ethernet frames (add only)",
	  CV_MODE, CV_T_MODE, CV_WORD, CV_MEMBER(mode), IFLA_CRAPVPN_MODE, 0 },
	{ NULL }
};

void cv_print_options(FILE *f, unsigned int skip, int width)
{
	const struct cv_option *o;
	char word[32];

	for (o = cv_options; o->name; o++) {
		if (o->flags & skip)
			continue;
		snprintf(word, sizeof(word), "%s %s", o->name, o->arg);
		fprintf(f, "  %-*s%s\n", width, word, o->help);
	}
}

int cv_set_option(struct cv_config *c, const char *name, char *val,
		  unsigned int skip, const struct cv_option **opt,
		  const char **err)
{
	const struct cv_option *o;
	void *m;

	for (o = cv_options; o->name; o++)
		if (!strcmp(o->name, name) && !(o->flags & skip))
			break;
	*opt = o->name ? o : NULL;
	if (!o->name)
		return CV_UNKNOWN;
	if (!val)
		return CV_NO_VALUE;
	if (c->given & CV_BIT(o->id))
		return CV_TWICE;
	m = (char *)c + o->off;
	switch (o->kind) {
	case CV_T_HEX:
		*err = cv_key_from_hex(val, strlen(val), m, &c->key_len);
		cv_wipe_str(val);	/* hide it from ps */
		break;
	case CV_T_FILE:
		*err = cv_key_from_file(val, m, &c->key_len);
		break;
	case CV_T_ADDR:
		*err = cv_parse_addr(val, 0, m);
		break;
	case CV_T_PORT:
		*err = cv_parse_port(val, m);
		break;
	case CV_T_MTU:
		*err = cv_parse_u32(val, 1, UINT16_MAX, m);
		break;
	case CV_T_MODE:
		*err = NULL;
		if (!strcmp(val, "l3"))
			c->mode = CRAPVPN_MODE_L3;
		else if (!strcmp(val, "l2"))
			c->mode = CRAPVPN_MODE_L2;
		else
			*err = "must be l3 or l2";
		break;
	}
	if (*err)
		return CV_BAD;
	c->given |= CV_BIT(o->id);
	return CV_OK;
}

static int cv_is_any(const struct cv_addr *a)
{
	static const struct in6_addr any6;

	return a->family == AF_INET ? a->v4.s_addr == 0 :
	       memcmp(&a->v6, &any6, sizeof(any6)) == 0;
}

int cv_families_differ(const struct cv_config *c)
{
	return (c->given & CV_BIT(CV_PEER)) && (c->given & CV_BIT(CV_LOCAL)) &&
	       c->peer.family != c->local.family && !cv_is_any(&c->local);
}

int cv_put_attrs(const struct cv_config *c,
		 int (*put)(void *ctx, int type, const void *data, size_t len),
		 void *ctx)
{
	const struct cv_option *o;
	const struct cv_addr *a;
	const void *m;
	int ret = 0;

	for (o = cv_options; o->name && !ret; o++) {
		if (!o->attr || o->kind == CV_T_HEX || !(c->given & CV_BIT(o->id)))
			continue;
		m = (const char *)c + o->off;
		a = m;
		if (o->kind == CV_T_ADDR)
			ret = put(ctx, a->family == AF_INET ? o->attr : o->attr6,
				  &a->v6, cv_addr_len(a));
		else	/* a port or the mode, in host order */
			ret = put(ctx, o->attr, m, o->kind == CV_T_PORT ? 2 : 1);
	}
	/* The key goes last: ip link's request has little room. */
	if (!ret && (c->given & CV_BIT(CV_KEY)))
		ret = put(ctx, IFLA_CRAPVPN_KEY, c->key, c->key_len);
	return ret;
}
