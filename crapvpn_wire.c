// SPDX-License-Identifier: GPL-2.0
/*
 * crapvpn wire format: header and XOR. No kernel dependencies, so the same
 * file is built into the module and into the userspace unit tests, fuzzer
 * and benchmark.
 */
#include "crapvpn_wire.h"

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

/*
 * The XOR goes a machine word at a time: the kernel's compiler may use no
 * SIMD registers, so 8-byte moves are the widest there are. In place (the
 * module's case: an skb that it owns) a word costs a load of the key word
 * and a read-modify-write xor into the packet, 2 instructions per 8 bytes;
 * with a key length that divides 64 the key words stay in registers and the
 * xor alone is left. A copy costs a load more.
 */
static inline void xor_word(__u8 *dst, const __u8 *src, __u64 key)
{
	store64(dst, load64(src) ^ key);
}

/* 64 bytes, with the key stream at @k. */
static inline void xor_block(__u8 *dst, const __u8 *src, const __u8 *k)
{
	xor_word(dst, src, load64(k));
	xor_word(dst + 8, src + 8, load64(k + 8));
	xor_word(dst + 16, src + 16, load64(k + 16));
	xor_word(dst + 24, src + 24, load64(k + 24));
	xor_word(dst + 32, src + 32, load64(k + 32));
	xor_word(dst + 40, src + 40, load64(k + 40));
	xor_word(dst + 48, src + 48, load64(k + 48));
	xor_word(dst + 56, src + 56, load64(k + 56));
}

/* Fewer than 64 bytes: whole words, then 4, 2 and 1 bytes. */
static inline void xor_tail(__u8 *dst, const __u8 *src, const __u8 *k,
			    size_t n)
{
	if (!n)
		return;
	for (; n >= 8; n -= 8, dst += 8, src += 8, k += 8)
		xor_word(dst, src, load64(k));
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

/* In place, 128 bytes a turn so that the loop's own cost stays small. */
static inline void xor_run_inplace(__u8 *p, const __u8 *k, size_t n)
{
	__u8 *end = p + (n & ~(size_t)127);

	for (; p != end; p += 128, k += 128) {
		xor_block(p, p, k);
		xor_block(p + 64, p + 64, k + 64);
	}
	if (n & 64) {
		xor_block(p, p, k);
		p += 64;
		k += 64;
	}
	xor_tail(p, p, k, n & 63);
}

static inline void xor_run_copy(__u8 *dst, const __u8 *src, const __u8 *k,
				size_t n)
{
	size_t i, end = n & ~(size_t)63;

	for (i = 0; i != end; i += 64)
		xor_block(dst + i, src + i, k + i);
	xor_tail(dst + i, src + i, k + i, n & 63);
}

/*
 * In place with a key length that divides 64 (a power of two up to 64): the
 * key stream repeats every 64 bytes, so one copy of those 64 bytes serves
 * every block, and the compiler keeps it in eight registers. The tail
 * reads the key stream itself: indexing the copy would put it on the stack.
 */
static __u32 xor_inplace_short_key(const struct crapvpn_keystream *ks,
				   __u8 *p, size_t len, __u32 pos)
{
	__u8 *end = p + (len & ~(size_t)127);
	__u8 key[64];

	__builtin_memcpy(key, ks->bytes + pos, sizeof(key));
	for (; p != end; p += 128) {
		xor_block(p, p, key);
		xor_block(p + 64, p + 64, key);
	}
	if (len & 64) {
		xor_block(p, p, key);
		p += 64;
	}
	xor_tail(p, p, ks->bytes + pos, len & 63);
	/* The key is a secret: leave no copy where the stack is reused. */
	__builtin_memset(key, 0, sizeof(key));
	__asm__ __volatile__("" : : "r"(key) : "memory");
	return (pos + len) & (ks->keylen - 1);
}

/*
 * dst = src ^ key stream, starting at key position @pos (below keylen);
 * dst == src works in place. Returns the key position after the last byte,
 * so that a packet split over several buffers is XORed piece by piece.
 */
__u32 crapvpn_xor(const struct crapvpn_keystream *ks, __u8 *dst,
		  const __u8 *src, size_t len, __u32 pos)
{
	__u32 keylen = ks->keylen;

	if (dst == src && keylen <= 64 && !(keylen & (keylen - 1)))
		return xor_inplace_short_key(ks, dst, len, pos);

	while (len) {
		size_t run = len < CRAPVPN_KS_RUN ? len : CRAPVPN_KS_RUN;
		const __u8 *k = ks->bytes + pos;

		if (dst == src)
			xor_run_inplace(dst, k, run);
		else
			xor_run_copy(dst, src, k, run);
		dst += run;
		src += run;
		len -= run;
		pos = (pos + run) % keylen;
	}
	return pos;
}

#ifdef CRAPVPN_HAVE_XOR_AVX2
/*
 * The kernel's compiler is built without vector registers and refuses to
 * hear of them being clobbered; any other compiler must be told.
 */
#ifdef __SSE__
#define YMM_CLOBBERS "memory", "xmm0", "xmm1", "xmm2", "xmm3"
#else
#define YMM_CLOBBERS "memory"
#endif

/*
 * @n bytes, a multiple of 128 and not 0, four AVX2 registers a turn: a
 * key load, an xor with the packet and a store per 32 bytes.
 */
static inline void xor_run_avx2(__u8 *dst, const __u8 *src, const __u8 *k,
				size_t n)
{
	size_t i = 0;

	asm volatile("1:\n\t"
		     "vmovdqu (%[k],%[i]), %%ymm0\n\t"
		     "vmovdqu 32(%[k],%[i]), %%ymm1\n\t"
		     "vmovdqu 64(%[k],%[i]), %%ymm2\n\t"
		     "vmovdqu 96(%[k],%[i]), %%ymm3\n\t"
		     "vpxor (%[s],%[i]), %%ymm0, %%ymm0\n\t"
		     "vpxor 32(%[s],%[i]), %%ymm1, %%ymm1\n\t"
		     "vpxor 64(%[s],%[i]), %%ymm2, %%ymm2\n\t"
		     "vpxor 96(%[s],%[i]), %%ymm3, %%ymm3\n\t"
		     "vmovdqu %%ymm0, (%[d],%[i])\n\t"
		     "vmovdqu %%ymm1, 32(%[d],%[i])\n\t"
		     "vmovdqu %%ymm2, 64(%[d],%[i])\n\t"
		     "vmovdqu %%ymm3, 96(%[d],%[i])\n\t"
		     "add $128, %[i]\n\t"
		     "cmp %[n], %[i]\n\t"
		     "jne 1b"
		     : [i] "+r" (i)
		     : [d] "r" (dst), [s] "r" (src), [k] "r" (k), [n] "r" (n)
		     : YMM_CLOBBERS);
}

static inline void xor32_avx2(__u8 *dst, const __u8 *src, const __u8 *k)
{
	asm volatile("vmovdqu %[k], %%ymm0\n\t"
		     "vpxor %[s], %%ymm0, %%ymm0\n\t"
		     "vmovdqu %%ymm0, %[d]"
		     : [d] "=m" (*(__u8 (*)[32])dst)
		     : [s] "m" (*(const __u8 (*)[32])src),
		       [k] "m" (*(const __u8 (*)[32])k)
		     : YMM_CLOBBERS);
}

/*
 * crapvpn_xor() 32 bytes a move: 3 instructions per 32 bytes where the
 * scalar code needs 8 per 32 for a key that does not divide 64. Bytes past
 * the last whole 32 go the scalar way.
 */
__u32 crapvpn_xor_avx2(const struct crapvpn_keystream *ks, __u8 *dst,
		       const __u8 *src, size_t len, __u32 pos)
{
	while (len) {
		size_t run = len < CRAPVPN_KS_RUN ? len : CRAPVPN_KS_RUN;
		size_t big = run & ~(size_t)127, i;
		const __u8 *k = ks->bytes + pos;

		if (big)
			xor_run_avx2(dst, src, k, big);
		for (i = big; i + 32 <= run; i += 32)
			xor32_avx2(dst + i, src + i, k + i);
		xor_tail(dst + i, src + i, k + i, run - i);
		dst += run;
		src += run;
		len -= run;
		pos = (pos + run) % ks->keylen;
	}
	asm volatile("vzeroupper" ::: YMM_CLOBBERS);
	return pos;
}
#endif /* CRAPVPN_HAVE_XOR_AVX2 */

/* Receive rules 1 to 4 of the wire format, in the order the spec gives. */
/*
 * Bytes 6-7 tell a layer-2 peer's frames from a layer-3 peer's packets.
 * Only a type that names the other mode is refused: the userspace version
 * sends 0 in either mode, and a layer-3 device reads the version nibble.
 */
static int crapvpn_type_fits(__u16 type, enum crapvpn_mode mode)
{
	if (mode == CRAPVPN_MODE_L2)
		return type != CRAPVPN_TYPE_IPV4 && type != CRAPVPN_TYPE_IPV6;
	return type != CRAPVPN_TYPE_ETHER;
}

enum crapvpn_hdr_verdict crapvpn_hdr_check(const __u8 *dgram, size_t len,
					   enum crapvpn_mode mode)
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
	if (!crapvpn_type_fits((__u16)(dgram[6] << 8 | dgram[7]), mode))
		return CRAPVPN_HDR_MODE;
	return CRAPVPN_HDR_OK;
}

void crapvpn_hdr_put(__u8 *hdr, __u16 inner_len, __u16 type)
{
	hdr[0] = 'c';
	hdr[1] = 'r';
	hdr[2] = 'a';
	hdr[3] = 'p';
	hdr[4] = inner_len >> 8;
	hdr[5] = inner_len & 0xff;
	hdr[6] = type >> 8;
	hdr[7] = type & 0xff;
}

/* Rule 5: the version nibble names the inner protocol, 4 or 6; else 0. */
int crapvpn_inner_version(__u8 first_byte)
{
	int v = first_byte >> 4;

	return v == 4 || v == 6 ? v : 0;
}
