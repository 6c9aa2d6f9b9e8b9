// SPDX-License-Identifier: GPL-2.0
/*
 * crapvpn wire format: header and XOR. No kernel dependencies, so the same
 * file is built into the module and into the userspace unit tests, fuzzer
 * and benchmark.
 */
#include "crapvpn.h"

/* 8-byte loads and stores that the compiler turns into single moves. */
static inline __u64 load64(const __u8 *p)
{
	__u64 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline void store64(__u8 *p, __u64 v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}

size_t crapvpn_keystream_size(size_t keylen)
{
	return sizeof(struct crapvpn_keystream) + keylen + CRAPVPN_KS_RUN;
}

void crapvpn_keystream_init(struct crapvpn_keystream *ks, const __u8 *key,
			    size_t keylen)
{
	size_t i;

	ks->keylen = keylen;
	for (i = 0; i < keylen + CRAPVPN_KS_RUN; i++)
		ks->bytes[i] = key[i % keylen];
}

/*
 * dst = src ^ key stream, starting at key position @pos (below keylen);
 * dst == src works in place. Returns the key position after the last byte,
 * so that a packet split over several buffers is XORed piece by piece.
 */
__u32 crapvpn_xor(const struct crapvpn_keystream *ks, __u8 *dst,
		  const __u8 *src, size_t len, __u32 pos)
{
	while (len) {
		size_t run = len < CRAPVPN_KS_RUN ? len : CRAPVPN_KS_RUN;
		const __u8 *k = ks->bytes + pos;
		size_t i = 0;

		for (; i + 32 <= run; i += 32) {
			store64(dst + i, load64(src + i) ^ load64(k + i));
			store64(dst + i + 8, load64(src + i + 8) ^ load64(k + i + 8));
			store64(dst + i + 16, load64(src + i + 16) ^ load64(k + i + 16));
			store64(dst + i + 24, load64(src + i + 24) ^ load64(k + i + 24));
		}
		for (; i + 8 <= run; i += 8)
			store64(dst + i, load64(src + i) ^ load64(k + i));
		for (; i < run; i++)
			dst[i] = src[i] ^ k[i];

		dst += run;
		src += run;
		len -= run;
		pos = (pos + run) % ks->keylen;
	}
	return pos;
}

/* Receive rules 1 to 4 of the wire format, in the order the spec gives. */
enum crapvpn_hdr_verdict crapvpn_hdr_check(const __u8 *dgram, size_t len)
{
	size_t inner;

	if (len < CRAPVPN_HDR_LEN)
		return CRAPVPN_HDR_SHORT;
	if (dgram[0] != 'c' || dgram[1] != 'r' || dgram[2] != 'a' ||
	    dgram[3] != 'p')
		return CRAPVPN_HDR_BAD_MAGIC;
	inner = (size_t)dgram[4] << 8 | dgram[5];
	if (inner != len - CRAPVPN_HDR_LEN)
		return CRAPVPN_HDR_BAD_LENGTH;
	if (!inner)
		return CRAPVPN_HDR_EMPTY;
	return CRAPVPN_HDR_OK;
}

void crapvpn_hdr_put(__u8 *hdr, __u16 inner_len)
{
	hdr[0] = 'c';
	hdr[1] = 'r';
	hdr[2] = 'a';
	hdr[3] = 'p';
	hdr[4] = inner_len >> 8;
	hdr[5] = inner_len & 0xff;
	hdr[6] = 0;
	hdr[7] = 0;
}

/* Rule 5: the version nibble names the inner protocol, 4 or 6; else 0. */
int crapvpn_inner_version(__u8 first_byte)
{
	int v = first_byte >> 4;

	return v == 4 || v == 6 ? v : 0;
}
