/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crapvpn: what the module, the tools and the tests share.
 *
 * This header builds in the kernel and in userspace alike: the netlink
 * attribute numbers and defaults are the configuration ABI, the wire
 * constants and the crapvpn_wire.c prototypes are the CrapVPN wire format
 * (see README.md). Only <linux/types.h> types are used so that one copy
 * serves both worlds.
 */
#ifndef _CRAPVPN_H
#define _CRAPVPN_H

#include <linux/types.h>
#ifndef __KERNEL__
#include <stddef.h>
#endif

#define CRAPVPN_VERSION		"1.0.0"
#define CRAPVPN_KIND		"crapvpn"

/* Both ends of the userspace version use this port for both directions. */
#define CRAPVPN_DEFAULT_PORT	1337

#define CRAPVPN_KEY_MIN		1
#define CRAPVPN_KEY_MAX		4096

/*
 * Attributes of IFLA_INFO_DATA for "type crapvpn". Addresses are in network
 * byte order, ports and lengths in host byte order. KEY is write-only: the
 * kernel reports KEY_LEN instead, because link dumps are world-readable.
 * On changelink an absent attribute keeps its value; a local address of
 * 0.0.0.0 or :: means "any".
 */
enum {
	IFLA_CRAPVPN_UNSPEC,
	IFLA_CRAPVPN_KEY,	/* binary, CRAPVPN_KEY_MIN..CRAPVPN_KEY_MAX */
	IFLA_CRAPVPN_PEER,	/* struct in_addr */
	IFLA_CRAPVPN_PEER6,	/* struct in6_addr */
	IFLA_CRAPVPN_PEER_PORT,	/* u16, not 0 */
	IFLA_CRAPVPN_PORT,	/* u16, not 0: the local listen port */
	IFLA_CRAPVPN_LOCAL,	/* struct in_addr */
	IFLA_CRAPVPN_LOCAL6,	/* struct in6_addr */
	IFLA_CRAPVPN_KEY_LEN,	/* u32, reported only */
	IFLA_CRAPVPN_MODE,	/* u8, enum crapvpn_mode, set at creation only */
	IFLA_CRAPVPN_PORT_DEVS,	/* u32, reported only: devices on this socket */
	__IFLA_CRAPVPN_MAX
};

#define IFLA_CRAPVPN_MAX	(__IFLA_CRAPVPN_MAX - 1)

/*
 * Wire format: magic "crap", be16 length of the ciphertext, be16 EtherType
 * of the payload (wire format 1.1; the first userspace version sends 0).
 */
#define CRAPVPN_HDR_LEN		8
#define CRAPVPN_MAGIC		0x63726170	/* "crap", read big-endian */
#define CRAPVPN_MAX_INNER	65535

#define CRAPVPN_TYPE_IPV4	0x0800
#define CRAPVPN_TYPE_IPV6	0x86dd
#define CRAPVPN_TYPE_ETHER	0x6558	/* transparent Ethernet bridging */

/* What a device carries: bare IP packets, or Ethernet frames. */
#define CRAPVPN_ETH_HLEN	14
enum crapvpn_mode {
	CRAPVPN_MODE_L3,
	CRAPVPN_MODE_L2,
};

/* Outer overhead on top of the inner packet: header + UDP + IP. */
#define CRAPVPN_OVERHEAD4	(CRAPVPN_HDR_LEN + 8 + 20)
#define CRAPVPN_OVERHEAD6	(CRAPVPN_HDR_LEN + 8 + 40)

/* Why a datagram is refused; 0 means it is well formed. */
enum crapvpn_hdr_verdict {
	CRAPVPN_HDR_OK,
	CRAPVPN_HDR_SHORT,	/* fewer than CRAPVPN_HDR_LEN bytes */
	CRAPVPN_HDR_BAD_MAGIC,
	CRAPVPN_HDR_BAD_LENGTH,	/* length field != bytes after the header */
	CRAPVPN_HDR_EMPTY,	/* length field is zero */
	CRAPVPN_HDR_MODE,	/* EtherType of the other mode */
};

/*
 * The repeating key, expanded once so that the XOR never needs a modulo per
 * byte: bytes[] holds the key repeated to keylen + CRAPVPN_KS_RUN bytes, so
 * from any key position below keylen a run of CRAPVPN_KS_RUN bytes reads the
 * key stream straight through.
 */
#define CRAPVPN_KS_RUN		2048

struct crapvpn_keystream {
	__u32 keylen;
	__u8 bytes[];
};

size_t crapvpn_keystream_size(size_t keylen);
void crapvpn_keystream_init(struct crapvpn_keystream *ks, const __u8 *key,
			    size_t keylen);
__u32 crapvpn_xor(const struct crapvpn_keystream *ks, __u8 *dst,
		  const __u8 *src, size_t len, __u32 pos);

/*
 * The same XOR in AVX2 registers, on x86-64. The caller checks that the CPU
 * has AVX2 and, in the kernel, that this context may use vector registers,
 * and brackets the call with kernel_fpu_begin() and kernel_fpu_end().
 */
#ifdef __x86_64__
#define CRAPVPN_HAVE_XOR_AVX2	1
__u32 crapvpn_xor_avx2(const struct crapvpn_keystream *ks, __u8 *dst,
		       const __u8 *src, size_t len, __u32 pos);
#endif

enum crapvpn_hdr_verdict crapvpn_hdr_check(const __u8 *dgram, size_t len,
					   enum crapvpn_mode mode);
void crapvpn_hdr_put(__u8 *hdr, __u16 inner_len, __u16 type);
int crapvpn_inner_version(__u8 first_byte);

#endif /* _CRAPVPN_H */
