// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for crapvpn_wire.c: what the receive path runs on every
 * datagram from the network (crapvpn_hdr_check, crapvpn_xor and its AVX2
 * twin, crapvpn_inner_version), checked against a naive model of
 * wire-format.md.
 *
 * Input layout (make-seeds.py writes the vectors this way):
 *   be16 key-length selector | key | datagram
 * The key is 1..4096 bytes, clipped to what the input holds. The remaining
 * bytes are the datagram, in an exact-size copy so that ASan sees any read
 * past its end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crapvpn_wire.h"

/* abort() gives libFuzzer a crash with the input saved as an artifact. */
#define ASSERT(c) do { if (!(c)) abort(); } while (0)

/* The receive rules written out again, independently of the code. */
static enum crapvpn_hdr_verdict model_check(const uint8_t *d, size_t n,
					    enum crapvpn_mode mode)
{
	unsigned int type;

	if (n < CRAPVPN_HDR_LEN)
		return CRAPVPN_HDR_SHORT;
	if (memcmp(d, "crap", 4))
		return CRAPVPN_HDR_BAD_MAGIC;
	if (((size_t)d[4] << 8 | d[5]) != n - CRAPVPN_HDR_LEN)
		return CRAPVPN_HDR_BAD_LENGTH;
	if (n == CRAPVPN_HDR_LEN)
		return CRAPVPN_HDR_EMPTY;
	type = d[6] << 8 | d[7];
	if (mode == CRAPVPN_MODE_L3)
		return type == 0x6558 ? CRAPVPN_HDR_MODE : CRAPVPN_HDR_OK;
	return type == 0x0800 || type == 0x86dd ? CRAPVPN_HDR_MODE : CRAPVPN_HDR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t keylen, n, i, done;
	struct crapvpn_keystream *ks;
	uint8_t *dg, *out, *tmp;
	uint32_t pos0, pos, want_pos;
	enum crapvpn_hdr_verdict v;

	if (size < 3)
		return 0;
	keylen = CRAPVPN_KEY_MIN + ((size_t)data[0] << 8 | data[1]) % CRAPVPN_KEY_MAX;
	if (keylen > size - 2)
		keylen = size - 2;
	n = size - 2 - keylen;

	ks = malloc(crapvpn_keystream_size(keylen));
	crapvpn_keystream_init(ks, data + 2, keylen);
	dg = malloc(n);
	out = malloc(n);
	tmp = malloc(n);
	memcpy(dg, data + 2 + keylen, n);

	/* The header verdict, and the receive path's decrypt when it is OK. */
	ASSERT(crapvpn_hdr_check(dg, n, CRAPVPN_MODE_L2) ==
	       model_check(dg, n, CRAPVPN_MODE_L2));
	v = crapvpn_hdr_check(dg, n, CRAPVPN_MODE_L3);
	ASSERT(v == model_check(dg, n, CRAPVPN_MODE_L3));
	if (v == CRAPVPN_HDR_OK) {
		int ver;

		pos = crapvpn_xor(ks, out, dg + 8, n - 8, 0);
		ASSERT(pos == (n - 8) % keylen);
		ver = crapvpn_inner_version(out[0]);
		ASSERT(ver == (out[0] >> 4 == 4 ? 4 : out[0] >> 4 == 6 ? 6 : 0));
	}

	/* XOR of the whole datagram, from a key position taken from the key. */
	pos0 = data[2] % keylen;
	want_pos = (pos0 + n) % keylen;
	pos = crapvpn_xor(ks, out, dg, n, pos0);
	ASSERT(pos == want_pos);
	for (i = 0; i < n; i++)
		ASSERT(out[i] == (dg[i] ^ data[2 + (pos0 + i) % keylen]));

	/* Twice is the identity, in place. */
	memcpy(tmp, out, n);
	crapvpn_xor(ks, tmp, tmp, n, pos0);
	ASSERT(!memcmp(tmp, dg, n));

	/*
	 * In pieces whose sizes come from the key bytes (empty ones too): same
	 * as one pass. Every third piece is at least a byte, so this ends even
	 * for an all-zero key.
	 */
	memcpy(tmp, dg, n);
	for (done = 0, i = 0, pos = pos0; done < n; i++) {
		size_t piece = data[2 + i % keylen] * (1 + i % 37) + (i % 3 == 2);

		if (piece > n - done)
			piece = n - done;
		pos = crapvpn_xor(ks, tmp + done, tmp + done, piece, pos);
		done += piece;
	}
	ASSERT(pos == want_pos);
	ASSERT(!memcmp(tmp, out, n));

#ifdef CRAPVPN_HAVE_XOR_AVX2
	/* The AVX2 XOR, out of place and in place: the same bytes. */
	if (__builtin_cpu_supports("avx2")) {
		memset(tmp, 0, n);
		ASSERT(crapvpn_xor_avx2(ks, tmp, dg, n, pos0) == want_pos);
		ASSERT(!memcmp(tmp, out, n));
		ASSERT(crapvpn_xor_avx2(ks, tmp, tmp, n, pos0) == want_pos);
		ASSERT(!memcmp(tmp, dg, n));
	}
#endif

	free(ks);
	free(dg);
	free(out);
	free(tmp);
	return 0;
}
