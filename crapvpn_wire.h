/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crapvpn: the CrapVPN wire format (docs/wire-format.md) and the XOR, in
 * crapvpn_wire.c, which builds in the kernel and in userspace alike (the
 * unit tests, the fuzzer and the XOR benchmark): so only <linux/types.h>
 * types are used here.
 */
#ifndef _CRAPVPN_WIRE_H
#define _CRAPVPN_WIRE_H

#include "crapvpn.h"
#ifndef __KERNEL__
#include <stddef.h>
#endif

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

/* A layer-2 device's frames: at least an Ethernet header. */
#define CRAPVPN_ETH_HLEN	14

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

#endif /* _CRAPVPN_WIRE_H */
