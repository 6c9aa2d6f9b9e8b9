/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Argument parsing shared by crapvpn(8) and the ip link plugin: keys, ports
 * and addresses. Every function returns NULL on success or a message that
 * names the problem; no message ever contains key material.
 */
#ifndef CVPARSE_H
#define CVPARSE_H

#include <stddef.h>
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

#endif
