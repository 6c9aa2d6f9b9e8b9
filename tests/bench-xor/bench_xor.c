// SPDX-License-Identifier: GPL-2.0
/*
 * Instruction counts of crapvpn_xor, crapvpn_xor_avx2 (if the CPU has AVX2)
 * and crapvpn_hdr_put, for table.awk.
 *
 * Run under valgrind --tool=callgrind --collect-atstart=no with
 * --toggle-collect for the measured functions only (see the Makefile): each
 * CALLGRIND_DUMP_STATS_AT() then holds exactly the instructions executed
 * inside them since the previous dump, whatever this harness does around
 * them. The dump's label says what was measured: "KIND KEYLEN SIZE REPS".
 * Outside valgrind the client requests are no-ops and this just runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "crapvpn_wire.h"

#define REPS 4

static const size_t keylens[] = { 1, 3, 4, 16, 37, 64, 256, 1024, 4096 };
static const size_t sizes[] = { 64, 576, 1500, 9000 };
#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Out of line and named, so that callgrind can collect memcpy through it;
 * the volatile pointer keeps the compiler from inlining or dropping it.
 */
__attribute__((noinline)) void bench_memcpy(void *dst, const void *src, size_t n)
{
	void *(*volatile cpy)(void *, const void *, size_t) = memcpy;

	cpy(dst, src, n);
}

void bench_wordcopy(__u8 *dst, const __u8 *src, size_t n);	/* wordcopy.c */

static void dump(const char *kind, const char *suffix, size_t keylen,
		 size_t size)
{
	char label[64];

	snprintf(label, sizeof(label), "%s%s %zu %zu %d", kind, suffix, keylen,
		 size, REPS);
	CALLGRIND_DUMP_STATS_AT(label);
}

typedef __u32 xor_fn(const struct crapvpn_keystream *ks, __u8 *dst,
		     const __u8 *src, size_t len, __u32 pos);

/* Every key length and size, in place and out of place. */
static void bench(xor_fn *xor, const char *suffix, const __u8 *key,
		  const __u8 *src, __u8 *dst)
{
	size_t k, s;
	int r;

	for (k = 0; k < N(keylens); k++) {
		struct crapvpn_keystream *ks = malloc(crapvpn_keystream_size(keylens[k]));

		crapvpn_keystream_init(ks, key, keylens[k]);
		for (s = 0; s < N(sizes); s++) {
			/* In place: what the kernel does on an skb it owns. */
			for (r = 0; r < REPS; r++)
				xor(ks, dst, dst, sizes[s], 0);
			dump("inplace", suffix, keylens[k], sizes[s]);
			/* Out of place: a copy out of shared frags. */
			for (r = 0; r < REPS; r++)
				xor(ks, dst, src, sizes[s], 0);
			dump("copy", suffix, keylens[k], sizes[s]);
		}
		free(ks);
	}
}

int main(void)
{
	static __u8 key[4096], src[9000], dst[9000];
	size_t s;
	int r;

	for (s = 0; s < sizeof(key); s++)
		key[s] = s * 131 + 7;
	for (s = 0; s < sizeof(src); s++)
		src[s] = s * 17 + 3;
	CALLGRIND_ZERO_STATS;

	bench(crapvpn_xor, "", key, src, dst);
	if (__builtin_cpu_supports("avx2"))
		bench(crapvpn_xor_avx2, "-avx2", key, src, dst);
	for (s = 0; s < N(sizes); s++) {
		for (r = 0; r < REPS; r++)
			bench_memcpy(dst, src, sizes[s]);
		dump("memcpy", "", 0, sizes[s]);
		for (r = 0; r < REPS; r++)
			bench_wordcopy(dst, src, sizes[s]);
		dump("wordcopy", "", 0, sizes[s]);
	}
	for (r = 0; r < REPS; r++)
		crapvpn_hdr_put(dst, 1500, CRAPVPN_TYPE_IPV4);
	dump("hdr_put", "", 0, 8);

	printf("dst[0] %u\n", dst[0]);	/* keep the work observable */
	return 0;
}
