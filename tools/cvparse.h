/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Argument parsing shared by crapvpn(8) and the ip link plugin: keys, ports
 * and addresses. Every function returns NULL on success or a message that
 * names the problem; no message ever contains key material.
 */
#ifndef CVPARSE_H
#define CVPARSE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <netinet/in.h>

#include "crapvpn.h"

struct cv_addr {
	int family;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* Size of the address in bytes: 4 or 16. */
static inline size_t cv_addr_len(const struct cv_addr *a)
{
	return a->family == AF_INET ? sizeof(a->v4) : sizeof(a->v6);
}

/*
 * Hex text to key bytes. White space is ignored anywhere (so `xxd -p`
 * output works), one leading "0x" or "0X" is allowed, digits may be upper
 * or lower case. The result has CRAPVPN_KEY_MIN..CRAPVPN_KEY_MAX bytes.
 */
const char *cv_key_from_hex(const char *hex, size_t hexlen,
			    uint8_t key[CRAPVPN_KEY_MAX], size_t *keylen);

/* The same, reading the hex text from a file, or from stdin for "-". */
const char *cv_key_from_file(const char *path,
			     uint8_t key[CRAPVPN_KEY_MAX], size_t *keylen);

/* Decimal port number 1..65535. */
const char *cv_parse_port(const char *s, uint16_t *port);

/* Decimal number lo..hi. */
const char *cv_parse_u32(const char *s, uint32_t lo, uint32_t hi,
			 uint32_t *val);

/*
 * A numeric IPv4 or IPv6 address, or a host name that getaddrinfo()
 * resolves (the first answer wins). numeric_only refuses names. A name
 * that cv_quote() would hide is refused unresolved: it is likely a key.
 */
const char *cv_parse_addr(const char *s, int numeric_only, struct cv_addr *a);

/* Address to text; buf needs INET6_ADDRSTRLEN bytes. */
const char *cv_addr_str(const struct cv_addr *a, char *buf, size_t len);

/*
 * An interface name the kernel accepts (dev_valid_name()) and keeps as
 * given: no '%', which it would expand.
 */
const char *cv_check_ifname(const char *name);

/*
 * A word to echo in an error message: itself, unless it is a long hex
 * string, which is most likely a key that lost its keyword.
 */
const char *cv_quote(const char *s);

/* Wipes a string in place, e.g. a key given on the command line. */
void cv_wipe_str(char *s);

/* ---- the options of add, set, up and ip link: one grammar -------------- */

enum cv_opt_id {
	CV_KEY, CV_PEER, CV_PEER_PORT, CV_PORT, CV_LOCAL, CV_MTU, CV_MODE,
};
#define CV_BIT(id)	(1u << (id))

/* A device's settings as given; a member counts only if its bit is set. */
struct cv_config {
	uint8_t key[CRAPVPN_KEY_MAX];
	size_t key_len;
	struct cv_addr peer, local;
	uint16_t peer_port, port;
	uint32_t mtu;
	uint8_t mode;			/* enum crapvpn_mode */
	unsigned int given;		/* CV_BIT(enum cv_opt_id) */
};

/* What a value is: how it is parsed and put into a request. */
enum cv_kind { CV_T_HEX, CV_T_FILE, CV_T_ADDR, CV_T_PORT, CV_T_MTU, CV_T_MODE };

#define CV_SECRET	1	/* the value may be a key: never echo it */
#define CV_WORD		2	/* one of a few words: a bad one is a usage error */
#define CV_NOT_IP	4	/* not in ip link, which has its own (mtu) */

/*
 * One row per keyword. Options of the same id (key, key-file) exclude each
 * other; attr (attr6 for an IPv6 address) is the IFLA_CRAPVPN_ attribute,
 * 0 for none (key-file fills key's; mtu is IFLA_MTU, outside the nest).
 * crapvpn --help shows "name arg" and help, and its completion reads them.
 */
struct cv_option {
	const char *name, *arg, *help;
	enum cv_opt_id id;
	enum cv_kind kind;
	unsigned int flags;
	size_t off;			/* the member of struct cv_config */
	int attr, attr6;
};

extern const struct cv_option cv_options[];	/* ends with name NULL */

enum { CV_OK, CV_UNKNOWN, CV_NO_VALUE, CV_TWICE, CV_BAD };

/*
 * Parses the option NAME VALUE into c. Options with a flag in skip are
 * unknown. Returns CV_OK or the kind of error; *opt is the option (if
 * known) and *err the message for CV_BAD. A key given as a value is wiped
 * from val.
 */
int cv_set_option(struct cv_config *c, const char *name, char *val,
		  unsigned int skip, const struct cv_option **opt,
		  const char **err);

/*
 * Lists the options for a help text, "  NAME ARG" padded to width, then
 * the help; options with a flag in skip are left out.
 */
void cv_print_options(FILE *f, unsigned int skip, int width);

/* A local address that is not "any" of the other family than the peer. */
int cv_families_differ(const struct cv_config *c);

/*
 * Calls put for each IFLA_INFO_DATA attribute of c, the key last; stops at
 * and returns the first nonzero return of put.
 */
int cv_put_attrs(const struct cv_config *c,
		 int (*put)(void *ctx, int type, const void *data, size_t len),
		 void *ctx);

#endif
