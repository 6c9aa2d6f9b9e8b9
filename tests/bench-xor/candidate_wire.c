// SPDX-License-Identifier: GPL-2.0
/*
 * crapvpn wire format: header and XOR. No kernel dependencies, so the same
 * file is built into the module and into the userspace unit tests, fuzzer
 * and benchmark.
 */
#include "crapvpn.h"

/* Unaligned loads and stores that the compiler turns into single moves. */
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

static inline __u32 load32(const __u8 *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline void store32(__u8 *p, __u32 v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}

static inline __u16 load16(const __u8 *p)
{
	__u16 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline void store16(__u8 *p, __u16 v)
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

/* The last 0..7 bytes in at most three steps, not a loop of single bytes. */
static inline void xor_tail(__u8 *dst, const __u8 *src, const __u8 *k,
			    size_t n)
{
	if (n & 4) {
		store32(dst, load32(src) ^ load32(k));
		dst += 4, src += 4, k += 4;
	}
	if (n & 2) {
		store16(dst, load16(src) ^ load16(k));
		dst += 2, src += 2, k += 2;
	}
	if (n & 1)
		*dst = *src ^ *k;
}

/* 64 bytes in place: per word, load the key word and xor it into memory. */
static inline void xor64_inplace(__u8 *p, const __u8 *k)
{
	store64(p, load64(p) ^ load64(k));
	store64(p + 8, load64(p + 8) ^ load64(k + 8));
	store64(p + 16, load64(p + 16) ^ load64(k + 16));
	store64(p + 24, load64(p + 24) ^ load64(k + 24));
	store64(p + 32, load64(p + 32) ^ load64(k + 32));
	store64(p + 40, load64(p + 40) ^ load64(k + 40));
	store64(p + 48, load64(p + 48) ^ load64(k + 48));
	store64(p + 56, load64(p + 56) ^ load64(k + 56));
}

/*
 * In place with a key length that divides 64 (a power of two up to 64):
 * every 64-byte block meets the same eight key words, so they stay in
 * registers and a packet word costs one read-modify-write xor. Out of line,
 * because its eight key registers would cost every other call their saves.
 */
static __attribute__((__noinline__)) __u32
xor_inplace_pow2(const struct crapvpn_keystream *ks, __u8 *p, size_t len,
		 __u32 pos)
{
	const __u8 *k = ks->bytes + pos;
	__u64 k0 = load64(k), k1 = load64(k + 8), k2 = load64(k + 16);
	__u64 k3 = load64(k + 24), k4 = load64(k + 32), k5 = load64(k + 40);
	__u64 k6 = load64(k + 48), k7 = load64(k + 56);
	__u32 end = (pos + len) & (ks->keylen - 1);

	for (; len >= 64; p += 64, len -= 64) {
		store64(p, load64(p) ^ k0);
		store64(p + 8, load64(p + 8) ^ k1);
		store64(p + 16, load64(p + 16) ^ k2);
		store64(p + 24, load64(p + 24) ^ k3);
		store64(p + 32, load64(p + 32) ^ k4);
		store64(p + 40, load64(p + 40) ^ k5);
		store64(p + 48, load64(p + 48) ^ k6);
		store64(p + 56, load64(p + 56) ^ k7);
	}
	/* Less than a block left, and the key is back at @pos: read it at k. */
	for (; len >= 8; p += 8, k += 8, len -= 8)
		store64(p, load64(p) ^ load64(k));
	xor_tail(p, p, k, len);
	return end;
}

/*
 * dst = src ^ key stream, starting at key position @pos (below keylen);
 * dst == src works in place. Returns the key position after the last byte,
 * so that a packet split over several buffers is XORed piece by piece.
 *
 * In place, a key word is loaded and XORed into the packet by one
 * read-modify-write instruction; a copy needs a load, an xor and a store.
 */
__u32 crapvpn_xor(const struct crapvpn_keystream *ks, __u8 *dst,
		  const __u8 *src, size_t len, __u32 pos)
{
	__u32 keylen = ks->keylen;

	if (dst == src && keylen <= 64 && !(keylen & (keylen - 1)))
		return xor_inplace_pow2(ks, dst, len, pos);

	while (len) {
		size_t run = len < CRAPVPN_KS_RUN ? len : CRAPVPN_KS_RUN;
		const __u8 *k = ks->bytes + pos;
		__u8 *end;

		if (dst == src) {
			/* 128 bytes a turn: the loop's own cost is 4 instructions. */
			end = dst + (run & ~(size_t)127);
			for (; dst != end; dst += 128, k += 128) {
				xor64_inplace(dst, k);
				xor64_inplace(dst + 64, k + 64);
			}
			if (run & 64) {
				xor64_inplace(dst, k);
				dst += 64, k += 64;
			}
			src = dst;
		} else {
			end = dst + (run & ~(size_t)63);
			for (; dst != end; dst += 64, src += 64, k += 64) {
				store64(dst, load64(src) ^ load64(k));
				store64(dst + 8, load64(src + 8) ^ load64(k + 8));
				store64(dst + 16, load64(src + 16) ^ load64(k + 16));
				store64(dst + 24, load64(src + 24) ^ load64(k + 24));
				store64(dst + 32, load64(src + 32) ^ load64(k + 32));
				store64(dst + 40, load64(src + 40) ^ load64(k + 40));
				store64(dst + 48, load64(src + 48) ^ load64(k + 48));
				store64(dst + 56, load64(src + 56) ^ load64(k + 56));
			}
		}
		len -= run;
		pos = (pos + run) % keylen;
		for (run &= 63; run >= 8; run -= 8, dst += 8, src += 8, k += 8)
			store64(dst, load64(src) ^ load64(k));
		xor_tail(dst, src, k, run);
		dst += run;
		src += run;
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
