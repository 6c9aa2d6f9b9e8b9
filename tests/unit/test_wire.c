// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit test of crapvpn_wire.c: the wire vectors, then edge
 * cases against a naive reference XOR.
 *
 * usage: test_wire [VECTORS.jsonl] [SEED]
 *
 * Every buffer handed to the code under test is malloc'ed to its exact size,
 * so that ASan and valgrind see any read or write past the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crapvpn_wire.h"

static unsigned int passed, failed;
static const char *cur_case;	/* named in every failure message */

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "FAIL %s: %s:%d: ", cur_case, __FILE__,	\
			__LINE__);					\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		ok = 0;							\
	}								\
} while (0)

static void tally(int ok)
{
	if (ok)
		passed++;
	else
		failed++;
}

/* xorshift64*: deterministic, so a failure replays with the same seed. */
static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned long long rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

static void rnd_fill(__u8 *p, size_t n)
{
	while (n--)
		*p++ = rnd();
}

static void *xmalloc(size_t n)
{
	/* malloc(0) still gives a distinct block that ASan guards. */
	void *p = malloc(n);

	if (!p && n) {
		perror("malloc");
		exit(2);
	}
	return p;
}

static void *xmemdup(const void *src, size_t n)
{
	void *p = xmalloc(n);

	if (n)
		memcpy(p, src, n);
	return p;
}

static struct crapvpn_keystream *ks_new(const __u8 *key, size_t keylen)
{
	struct crapvpn_keystream *ks = xmalloc(crapvpn_keystream_size(keylen));

	crapvpn_keystream_init(ks, key, keylen);
	return ks;
}

/* The definition from wire-format.md, with nothing clever in it. */
static void ref_xor(const __u8 *key, size_t keylen, __u8 *dst, const __u8 *src,
		    size_t len, size_t pos)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = src[i] ^ key[(pos + i) % keylen];
}

typedef __u32 xor_fn(const struct crapvpn_keystream *ks, __u8 *dst,
		     const __u8 *src, size_t len, __u32 pos);

/* The XOR that the edge cases test: crapvpn_xor, then crapvpn_xor_avx2. */
static xor_fn *xor_under_test = crapvpn_xor;

/*
 * XOR @len bytes in a random number of random-sized pieces (empty pieces
 * included), chaining the returned key position; returns the final one.
 */
static __u32 xor_pieces(const struct crapvpn_keystream *ks, __u8 *dst,
			const __u8 *src, size_t len, __u32 pos)
{
	size_t npieces = 1 + rnd_below(8), done = 0;

	while (done < len) {
		size_t n = --npieces ? rnd_below(len - done + 1) : len - done;

		pos = xor_under_test(ks, dst + done, src + done, n, pos);
		done += n;
	}
	return pos;
}

/* ---- a reader for the flat JSON-lines vector file ---- */

struct vector {
	char *name, *key, *plaintext, *datagram, *expect, *reason;
	char *mode, *sent;	/* 1.1: "l3" or "l2"; what the module sends */
};

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

/*
 * Reads a JSON string at *sp (just past its opening quote) into a new
 * buffer. Only the escapes a flat ASCII file can need are supported.
 */
static char *json_string(const char **sp)
{
	const char *s = *sp;
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s && *s != '"'; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case '"': case '\\': case '/': *o++ = *s; break;
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'u': {
			unsigned int c;

			if (sscanf(s + 1, "%4x", &c) != 1 || c == 0 || c > 0x7f)
				goto bad;
			*o++ = c;
			s += 4;
			break;
		}
		default:
			goto bad;
		}
	}
	if (*s != '"')
		goto bad;
	*o = 0;
	*sp = s + 1;
	return out;
bad:
	free(out);
	return NULL;
}

/* Fills @v from one line; values are strings or null. 0 on success. */
static int parse_vector(const char *s, struct vector *v)
{
	memset(v, 0, sizeof(*v));
	s = skip_ws(s);
	if (*s++ != '{')
		return -1;
	for (;;) {
		char *name, *val = NULL, **field = NULL;

		s = skip_ws(s);
		if (*s == '}')
			return 0;
		if (*s++ != '"' || !(name = json_string(&s)))
			return -1;
		s = skip_ws(s);
		if (*s++ != ':') {
			free(name);
			return -1;
		}
		s = skip_ws(s);
		if (*s == '"') {
			s++;
			val = json_string(&s);
			if (!val) {
				free(name);
				return -1;
			}
		} else if (!strncmp(s, "null", 4)) {
			s += 4;
		} else {
			free(name);	/* numbers, objects: not in this format */
			return -1;
		}
		if (!strcmp(name, "name"))		field = &v->name;
		else if (!strcmp(name, "key"))		field = &v->key;
		else if (!strcmp(name, "plaintext"))	field = &v->plaintext;
		else if (!strcmp(name, "datagram"))	field = &v->datagram;
		else if (!strcmp(name, "expect"))	field = &v->expect;
		else if (!strcmp(name, "reason"))	field = &v->reason;
		else if (!strcmp(name, "mode"))		field = &v->mode;
		else if (!strcmp(name, "sent"))		field = &v->sent;
		free(name);
		if (field) {
			free(*field);
			*field = val;
		} else {
			free(val);
		}
		s = skip_ws(s);
		if (*s == ',')
			s++;
		else if (*s != '}')
			return -1;
	}
}

static void free_vector(struct vector *v)
{
	free(v->name);
	free(v->key);
	free(v->plaintext);
	free(v->datagram);
	free(v->expect);
	free(v->reason);
	free(v->mode);
	free(v->sent);
}

/* Decodes hex into an exact-size buffer; NULL (and *n = 0) if malformed. */
static __u8 *unhex(const char *hex, size_t *n)
{
	size_t len = strlen(hex), i;
	__u8 *out;

	*n = 0;
	if (len % 2)
		return NULL;
	out = xmalloc(len / 2);
	for (i = 0; i < len / 2; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1) {
			free(out);
			return NULL;
		}
		out[i] = b;
	}
	*n = len / 2;
	return out;
}

/* ---- the vectors ---- */

/*
 * Each drop reason of the vector file, by its opening words, and what the
 * receiver must say to it. VERSION_0: the header is fine, but the first
 * decrypted byte must not name IPv4 or IPv6. ETHER_SHORT: the header is
 * fine, but the frame is shorter than an Ethernet header. An unknown reason
 * fails the vector, so that a new kind of drop gets a deliberate mapping.
 */
#define VERSION_0 (-1)
#define ETHER_SHORT (-2)
#define ETHER_HLEN 14
static const struct {
	const char *prefix;
	int verdict;
} drop_reasons[] = {
	{ "shorter than the 8-byte header",		CRAPVPN_HDR_SHORT },
	{ "magic is not 'crap'",			CRAPVPN_HDR_BAD_MAGIC },
	{ "length field larger than the ciphertext",	CRAPVPN_HDR_BAD_LENGTH },
	{ "length field smaller than the ciphertext",	CRAPVPN_HDR_BAD_LENGTH },
	{ "ciphertext shorter than the length field",	CRAPVPN_HDR_BAD_LENGTH },
	{ "ciphertext longer than the length field",	CRAPVPN_HDR_BAD_LENGTH },
	{ "empty inner packet",				CRAPVPN_HDR_EMPTY },
	{ "inner packet's version nibble is neither 4 nor 6", VERSION_0 },
	{ "decrypted with the right key this is not an IP packet", VERSION_0 },
	{ "bytes 6-7 say",				CRAPVPN_HDR_MODE },
	{ "shorter than an Ethernet header",		ETHER_SHORT },
};

static int drop_verdict(const char *reason, int *verdict)
{
	size_t i;

	for (i = 0; reason && i < sizeof(drop_reasons) / sizeof(drop_reasons[0]); i++) {
		const char *p = drop_reasons[i].prefix;

		if (!strncmp(reason, p, strlen(p))) {
			*verdict = drop_reasons[i].verdict;
			return 0;
		}
	}
	return -1;
}

/* The EtherType a crapvpn device puts in bytes 6-7 for @pt. */
static __u16 type_of(enum crapvpn_mode mode, const __u8 *pt)
{
	if (mode == CRAPVPN_MODE_L2)
		return CRAPVPN_TYPE_ETHER;
	return crapvpn_inner_version(pt[0]) == 6 ? CRAPVPN_TYPE_IPV6 :
						   CRAPVPN_TYPE_IPV4;
}

/*
 * Seals @pt with header type @type, out of place and in place: both must
 * give @want, the datagram of @wantlen bytes.
 */
static int check_seal(const struct crapvpn_keystream *ks, size_t keylen,
		      const __u8 *pt, size_t ptlen, __u16 type,
		      const __u8 *want, size_t wantlen)
{
	__u8 *buf = xmalloc(ptlen + CRAPVPN_HDR_LEN);
	int ok = 1;
	__u32 pos;

	CHECK(wantlen == ptlen + CRAPVPN_HDR_LEN, "%zu bytes sealed from %zu",
	      wantlen, ptlen);
	if (!ok)
		goto out;
	crapvpn_hdr_put(buf, ptlen, type);
	pos = crapvpn_xor(ks, buf + 8, pt, ptlen, 0);
	CHECK(!memcmp(buf, want, wantlen), "encrypt out of place differs");
	CHECK(pos == ptlen % keylen, "returned pos %u", pos);
	memset(buf, 0xa5, wantlen);
	crapvpn_hdr_put(buf, ptlen, type);
	memcpy(buf + 8, pt, ptlen);
	crapvpn_xor(ks, buf + 8, buf + 8, ptlen, 0);
	CHECK(!memcmp(buf, want, wantlen), "encrypt in place differs");
out:
	free(buf);
	return ok;
}

/* Opens @dg in the ways the module does: it must give @pt. */
static int check_open(const struct crapvpn_keystream *ks, size_t keylen,
		      enum crapvpn_mode mode, const __u8 *pt, size_t ptlen,
		      const __u8 *dg, size_t dglen)
{
	__u8 *buf = xmalloc(dglen), *pieces = xmalloc(ptlen);
	int ok = 1, round;
	__u32 pos;

	CHECK(dglen == ptlen + CRAPVPN_HDR_LEN, "datagram %zu bytes for %zu plaintext",
	      dglen, ptlen);
	if (!ok)
		goto out;
	CHECK(crapvpn_hdr_check(dg, dglen, mode) == CRAPVPN_HDR_OK, "hdr_check = %d",
	      crapvpn_hdr_check(dg, dglen, mode));

	pos = crapvpn_xor(ks, buf, dg + 8, ptlen, 0);
	CHECK(!memcmp(buf, pt, ptlen), "decrypt out of place differs");
	CHECK(pos == ptlen % keylen, "returned pos %u", pos);
	memcpy(buf, dg + 8, ptlen);
	crapvpn_xor(ks, buf, buf, ptlen, 0);
	CHECK(!memcmp(buf, pt, ptlen), "decrypt in place differs");
	if (mode == CRAPVPN_MODE_L2)
		CHECK(ptlen >= ETHER_HLEN, "frame of %zu bytes", ptlen);
	else
		CHECK(crapvpn_inner_version(buf[0]) != 0, "inner version of 0x%02x",
		      buf[0]);

	/* The same in random pieces, out of place and in place. */
	for (round = 0; round < 8; round++) {
		pos = xor_pieces(ks, pieces, dg + 8, ptlen, 0);
		CHECK(!memcmp(pieces, pt, ptlen) && pos == ptlen % keylen,
		      "piecewise decrypt differs (round %d)", round);
		memcpy(pieces, pt, ptlen);
		pos = xor_pieces(ks, pieces, pieces, ptlen, 0);
		CHECK(!memcmp(pieces, dg + 8, ptlen) && pos == ptlen % keylen,
		      "piecewise in-place encrypt differs (round %d)", round);
	}
out:
	free(buf);
	free(pieces);
	return ok;
}

/*
 * An accept vector: @dg (as a peer sent it) opens to @pt; sealing @pt
 * gives @sent (1.1: what the module must send), or, for a 1.0 vector,
 * @dg itself when its bytes 6-7 are zero.
 */
static int check_accept(const struct crapvpn_keystream *ks, size_t keylen,
			enum crapvpn_mode mode, const __u8 *pt, size_t ptlen,
			const __u8 *dg, size_t dglen, const __u8 *sent,
			size_t sentlen)
{
	int ok = check_open(ks, keylen, mode, pt, ptlen, dg, dglen);

	if (!ok)
		return 0;
	if (sent)
		return check_open(ks, keylen, mode, pt, ptlen, sent, sentlen) &&
		       check_seal(ks, keylen, pt, ptlen, type_of(mode, pt),
				  sent, sentlen);
	if (!dg[6] && !dg[7])
		return check_seal(ks, keylen, pt, ptlen, 0, dg, dglen);
	return ok;
}

static int check_drop(const struct crapvpn_keystream *ks, enum crapvpn_mode mode,
		      const char *reason, const __u8 *dg, size_t dglen)
{
	enum crapvpn_hdr_verdict got = crapvpn_hdr_check(dg, dglen, mode);
	int want, ok = 1;

	CHECK(!drop_verdict(reason, &want), "unknown drop reason \"%s\"",
	      reason ? reason : "(null)");
	if (!ok)
		return 0;
	if (want >= 0) {
		CHECK(got == (enum crapvpn_hdr_verdict)want, "hdr_check = %d, want %d",
		      got, want);
		return ok;
	}
	CHECK(got == CRAPVPN_HDR_OK, "hdr_check = %d, want OK", got);
	if (want == ETHER_SHORT) {
		CHECK(mode == CRAPVPN_MODE_L2 && dglen - 8 < ETHER_HLEN,
		      "a %zu-byte frame at a %s device", dglen - 8,
		      mode == CRAPVPN_MODE_L2 ? "layer-2" : "layer-3");
		return ok;
	}
	if (ok) {
		__u8 first;

		crapvpn_xor(ks, &first, dg + 8, 1, 0);
		CHECK(crapvpn_inner_version(first) == 0, "inner version of 0x%02x = %d",
		      first, crapvpn_inner_version(first));
	}
	return ok;
}

static int check_vector(const struct vector *v)
{
	size_t keylen = 0, ptlen = 0, dglen = 0, sentlen = 0;
	__u8 *key = NULL, *pt = NULL, *dg = NULL, *sent = NULL;
	enum crapvpn_mode mode = CRAPVPN_MODE_L3;
	struct crapvpn_keystream *ks = NULL;
	int ok = 1;

	CHECK(v->key && v->datagram && v->expect, "vector lacks key, datagram or expect");
	CHECK(!v->mode || !strcmp(v->mode, "l3") || !strcmp(v->mode, "l2"),
	      "unknown mode \"%s\"", v->mode);
	if (!ok)
		return 0;
	if (v->mode && !strcmp(v->mode, "l2"))
		mode = CRAPVPN_MODE_L2;
	key = unhex(v->key, &keylen);
	dg = unhex(v->datagram, &dglen);
	if (v->sent)
		sent = unhex(v->sent, &sentlen);
	CHECK(key && keylen >= CRAPVPN_KEY_MIN && keylen <= CRAPVPN_KEY_MAX,
	      "bad key \"%.16s\"", v->key);
	CHECK(dg || !*v->datagram, "bad datagram hex");
	CHECK(!v->sent || sent, "bad sent hex");
	if (!ok)
		goto out;
	ks = ks_new(key, keylen);

	if (!strcmp(v->expect, "accept")) {
		CHECK(v->plaintext && (pt = unhex(v->plaintext, &ptlen)),
		      "accept vector without plaintext");
		if (ok)
			ok = check_accept(ks, keylen, mode, pt, ptlen, dg, dglen,
					  sent, sentlen);
	} else if (!strcmp(v->expect, "drop")) {
		ok = check_drop(ks, mode, v->reason, dg, dglen);
	} else {
		CHECK(0, "unknown expect \"%s\"", v->expect);
	}
out:
	free(ks);
	free(key);
	free(pt);
	free(dg);
	free(sent);
	return ok;
}

static int run_vectors(const char *path)
{
	unsigned int n = 0, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		struct vector v;
		char where[64];
		int ok = 1;

		lineno++;
		if (!*skip_ws(line))
			continue;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		cur_case = where;
		CHECK(!parse_vector(line, &v), "unparsable line");
		if (ok) {
			cur_case = v.name ? v.name : where;
			ok = check_vector(&v);
		}
		free_vector(&v);
		tally(ok);
		n++;
	}
	free(line);
	fclose(f);
	printf("vectors: %u from %s\n", n, path);
	return n ? 0 : -1;
}

/* ---- edge cases ---- */

/*
 * One XOR of @len bytes at key position @pos, with src and dst at byte
 * offsets @soff/@doff from an allocation's start: out of place, in place and
 * in pieces, each against the reference.
 */
static int check_xor(const __u8 *key, size_t keylen,
		     const struct crapvpn_keystream *ks, size_t len, __u32 pos,
		     size_t soff, size_t doff)
{
	__u8 *src = xmalloc(soff + len), *dst = xmalloc(doff + len);
	__u8 *ref = xmalloc(len), *inplace = xmalloc(doff + len);
	__u32 want = (pos + len) % keylen, got;
	int ok = 1;

	rnd_fill(src + soff, len);
	ref_xor(key, keylen, ref, src + soff, len, pos);

	got = xor_under_test(ks, dst + doff, src + soff, len, pos);
	CHECK(!memcmp(dst + doff, ref, len) && got == want,
	      "keylen %zu len %zu pos %u offs %zu/%zu: out of place", keylen,
	      len, pos, soff, doff);

	memcpy(inplace + doff, src + soff, len);
	got = xor_under_test(ks, inplace + doff, inplace + doff, len, pos);
	CHECK(!memcmp(inplace + doff, ref, len) && got == want,
	      "keylen %zu len %zu pos %u off %zu: in place", keylen, len, pos, doff);

	got = xor_pieces(ks, dst + doff, src + soff, len, pos);
	CHECK(!memcmp(dst + doff, ref, len) && got == want,
	      "keylen %zu len %zu pos %u: pieces", keylen, len, pos);

	/* XOR is its own inverse. */
	xor_under_test(ks, inplace + doff, inplace + doff, len, pos);
	CHECK(!memcmp(inplace + doff, src + soff, len),
	      "keylen %zu len %zu pos %u: twice is not identity", keylen, len, pos);

	free(src);
	free(dst);
	free(ref);
	free(inplace);
	return ok;
}

static void run_xor_edges(const char *which)
{
	/* Around word and unroll sizes, CRAPVPN_KS_RUN, and the 16-bit limit. */
	static const size_t lens[] = {
		0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 95, 96, 127, 128, 129,
		159, 160, 255, 256, 1500,
		CRAPVPN_KS_RUN - 1, CRAPVPN_KS_RUN, CRAPVPN_KS_RUN + 1,
		2 * CRAPVPN_KS_RUN + 7, 4096 + 7, CRAPVPN_MAX_INNER,
	};
	static const size_t keylens[] = {
		1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 37, 63, 64, 65,
		255, 256, 257, 1023, 1024, 1025,
		CRAPVPN_KS_RUN - 1, CRAPVPN_KS_RUN, CRAPVPN_KS_RUN + 1,
		4095, CRAPVPN_KEY_MAX,
	};
	__u8 *key = xmalloc(CRAPVPN_KEY_MAX);
	char name[96];
	size_t k, l, keylen;

	cur_case = name;

	/* The grid: start of key, last key byte, and a random position. */
	for (k = 0; k < sizeof(keylens) / sizeof(keylens[0]); k++) {
		struct crapvpn_keystream *ks;

		keylen = keylens[k];
		rnd_fill(key, keylen);
		ks = ks_new(key, keylen);
		for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			__u32 posv[3] = { 0, keylen - 1, rnd_below(keylen) };
			int p, ok = 1;

			snprintf(name, sizeof(name), "%s keylen=%zu len=%zu",
				 which, keylen, lens[l]);
			for (p = 0; p < 3; p++)
				ok &= check_xor(key, keylen, ks, lens[l], posv[p],
						rnd_below(8), rnd_below(8));
			tally(ok);
		}
		free(ks);
	}

	/* Every legal key length once, with random length, position, offsets. */
	for (keylen = CRAPVPN_KEY_MIN; keylen <= CRAPVPN_KEY_MAX; keylen++) {
		struct crapvpn_keystream *ks;

		rnd_fill(key, keylen);
		ks = ks_new(key, keylen);
		snprintf(name, sizeof(name), "%s keylen=%zu random", which,
			 keylen);
		tally(check_xor(key, keylen, ks, rnd_below(3 * CRAPVPN_KS_RUN),
				rnd_below(keylen), rnd_below(8), rnd_below(8)));
		free(ks);
	}
	free(key);
}

/* The expanded key stream must be the key repeated, and sized as promised. */
static void run_keystream(void)
{
	static const size_t keylens[] = { 1, 3, 8, 37, 2048, CRAPVPN_KEY_MAX };
	__u8 key[CRAPVPN_KEY_MAX];
	size_t k, i;

	cur_case = "keystream";
	for (k = 0; k < sizeof(keylens) / sizeof(keylens[0]); k++) {
		size_t keylen = keylens[k];
		struct crapvpn_keystream *ks;
		int ok = 1;

		CHECK(crapvpn_keystream_size(keylen) ==
		      sizeof(struct crapvpn_keystream) + keylen + CRAPVPN_KS_RUN,
		      "size for keylen %zu", keylen);
		rnd_fill(key, keylen);
		ks = ks_new(key, keylen);
		CHECK(ks->keylen == keylen, "keylen %u, want %zu", ks->keylen, keylen);
		for (i = 0; i < keylen + CRAPVPN_KS_RUN; i++)
			if (ks->bytes[i] != key[i % keylen])
				break;
		CHECK(i == keylen + CRAPVPN_KS_RUN, "keylen %zu: byte %zu", keylen, i);
		free(ks);
		tally(ok);
	}
}

static void run_header_edges(void)
{
	__u8 *dg = xmalloc(CRAPVPN_HDR_LEN + CRAPVPN_MAX_INNER + 1);
	__u8 hdr[CRAPVPN_HDR_LEN];
	size_t n, i;
	int ok = 1, b;

	/* hdr_put for every length; hdr_check of exactly that datagram. */
	cur_case = "hdr_put/hdr_check every length";
	memset(dg, 0x5a, CRAPVPN_HDR_LEN + CRAPVPN_MAX_INNER + 1);
	for (n = 0; n <= CRAPVPN_MAX_INNER; n++) {
		crapvpn_hdr_put(dg, n, CRAPVPN_TYPE_IPV6);
		if (memcmp(dg, "crap", 4) || dg[4] != n >> 8 || dg[5] != (n & 0xff) ||
		    dg[6] != 0x86 || dg[7] != 0xdd ||
		    crapvpn_hdr_check(dg, n + 8, CRAPVPN_MODE_L3) !=
		    (n ? CRAPVPN_HDR_OK : CRAPVPN_HDR_EMPTY) ||
		    crapvpn_hdr_check(dg, n + 7, CRAPVPN_MODE_L3) !=
		    (n + 7 < 8 ? CRAPVPN_HDR_SHORT : CRAPVPN_HDR_BAD_LENGTH) ||
		    crapvpn_hdr_check(dg, n + 9, CRAPVPN_MODE_L3) !=
		    CRAPVPN_HDR_BAD_LENGTH) {
			CHECK(0, "length %zu", n);
			break;
		}
	}
	tally(ok);

	/* A field of 0 with 65536 bytes behind it: a length mismatch, not empty. */
	cur_case = "hdr_check 65536 bytes, field 0";
	ok = 1;
	crapvpn_hdr_put(dg, 0, 0);
	CHECK(crapvpn_hdr_check(dg, CRAPVPN_HDR_LEN + 65536, CRAPVPN_MODE_L3) ==
	      CRAPVPN_HDR_BAD_LENGTH, "got %d",
	      crapvpn_hdr_check(dg, CRAPVPN_HDR_LEN + 65536, CRAPVPN_MODE_L3));
	tally(ok);

	/*
	 * Bytes 6-7: every type is accepted but the other mode's, and the
	 * mode's verdict comes after every length rule.
	 */
	cur_case = "hdr_check type field";
	ok = 1;
	for (i = 0; i < 0x10000; i++) {
		int l2_refuses = i == CRAPVPN_TYPE_IPV4 || i == CRAPVPN_TYPE_IPV6;

		crapvpn_hdr_put(dg, 20, i);
		CHECK(crapvpn_hdr_check(dg, 28, CRAPVPN_MODE_L3) ==
		      (i == CRAPVPN_TYPE_ETHER ? CRAPVPN_HDR_MODE : CRAPVPN_HDR_OK),
		      "l3, type %04zx", i);
		CHECK(crapvpn_hdr_check(dg, 28, CRAPVPN_MODE_L2) ==
		      (l2_refuses ? CRAPVPN_HDR_MODE : CRAPVPN_HDR_OK),
		      "l2, type %04zx", i);
		CHECK(crapvpn_hdr_check(dg, 29, CRAPVPN_MODE_L2) ==
		      CRAPVPN_HDR_BAD_LENGTH, "l2, type %04zx, 29 bytes", i);
		if (!ok)
			break;
	}
	tally(ok);

	/* Every single-bit flip of the magic is refused. */
	cur_case = "hdr_check magic bit flips";
	ok = 1;
	for (b = 0; b < 32; b++) {
		crapvpn_hdr_put(dg, 20, CRAPVPN_TYPE_IPV4);
		dg[b / 8] ^= 1 << (b % 8);
		CHECK(crapvpn_hdr_check(dg, 28, CRAPVPN_MODE_L3) ==
		      CRAPVPN_HDR_BAD_MAGIC, "bit %d", b);
	}
	tally(ok);

	/* Short datagrams, each in an exact-size buffer, must read nothing past it. */
	cur_case = "hdr_check short";
	ok = 1;
	crapvpn_hdr_put(hdr, 0, 0);
	for (n = 0; n < CRAPVPN_HDR_LEN; n++) {
		__u8 *s = xmemdup(hdr, n);

		CHECK(crapvpn_hdr_check(s, n, CRAPVPN_MODE_L3) == CRAPVPN_HDR_SHORT,
		      "len %zu", n);
		free(s);
	}
	tally(ok);

	cur_case = "inner_version all bytes";
	ok = 1;
	for (i = 0; i < 256; i++) {
		int want = (i >> 4 == 4) ? 4 : (i >> 4 == 6) ? 6 : 0;

		CHECK(crapvpn_inner_version(i) == want, "byte 0x%02zx", i);
	}
	tally(ok);
	free(dg);
}

int main(int argc, char **argv)
{
	const char *vectors = argc > 1 ? argv[1] : "../vectors/wire-vectors-1.1.jsonl";
	int vec_err;

	if (argc > 2)
		rng_state = strtoull(argv[2], NULL, 0) | 1;
	printf("seed: %#llx\n", rng_state);

	vec_err = run_vectors(vectors);
	if (vec_err) {
		cur_case = vectors;
		fprintf(stderr, "FAIL: no vectors read from %s\n", vectors);
		failed++;
	}
	run_keystream();
	run_header_edges();
	run_xor_edges("xor");
#ifdef CRAPVPN_HAVE_XOR_AVX2
	if (__builtin_cpu_supports("avx2")) {
		xor_under_test = crapvpn_xor_avx2;
		run_xor_edges("xor_avx2");
	} else {
		printf("xor_avx2: not tested, this CPU has no AVX2\n");
	}
#endif

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
