// SPDX-License-Identifier: GPL-2.0
/*
 * A scalar copy built with the kernel's flags, as a floor for the XOR: the
 * same 8-byte moves and 32-byte unroll as the kernel's memcpy_orig, minus
 * nothing but the xor. glibc's memcpy beside it uses AVX and "rep movsb",
 * which callgrind counts once per byte moved, so it is no kernel figure.
 */
#include "crapvpn_wire.h"

void bench_wordcopy(__u8 *dst, const __u8 *src, size_t n)
{
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		__builtin_memcpy(dst + i, src + i, 8);
		__builtin_memcpy(dst + i + 8, src + i + 8, 8);
		__builtin_memcpy(dst + i + 16, src + i + 16, 8);
		__builtin_memcpy(dst + i + 24, src + i + 24, 8);
	}
	for (; i + 8 <= n; i += 8)
		__builtin_memcpy(dst + i, src + i, 8);
	for (; i < n; i++)
		dst[i] = src[i];
}
