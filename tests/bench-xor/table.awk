# Reads the callgrind dump files of bench_xor (label "KIND KEYLEN SIZE REPS"
# in the desc line, instruction count in the summary line) and prints
# instructions per byte: a table per kind of XOR (rows: key length, columns:
# packet size), then the copies of the same sizes, then hdr_put.
# -v target=0.25 marks the in-place cells above it with '*'. The AVX2 tables
# appear when the CPU has AVX2.
/^desc: Trigger: Client Request: / {
	kind = $5; keylen = $6; size = $7; reps = $8
}
/^summary: / {
	if (kind == "")
		next
	cell[kind, keylen, size] = $2 / reps / size
	if (!(size in seen_size)) { seen_size[size] = 1; sizes[++nsize] = size }
	if (!((kind, keylen) in seen_key)) {
		seen_key[kind, keylen] = 1; keys[kind, ++nkey[kind]] = keylen
	}
	if (kind == "hdr_put") hdr = $2 / reps
	kind = ""
}
function header(title, first,	s) {
	printf "\n%s\n%-14s", title, first
	for (s = 1; s <= nsize; s++)
		if (sizes[s] != 8)
			printf "%9s", sizes[s]
	printf "\n"
}
function row(label, kd, kl, mark,	s, v) {
	printf "%-14s", label
	for (s = 1; s <= nsize; s++) {
		if (!((kd, kl, sizes[s]) in cell))
			continue
		v = cell[kd, kl, sizes[s]]
		printf("%8.3f%s", v, (mark && v > target) ? "*" : " ")
		ncell[kd]++
		if (v <= target) nmet[kd]++
	}
	printf "\n"
}
function table(kd, title, mark,	j) {
	if (!nkey[kd])
		return
	header(title, "keylen")
	for (j = 1; j <= nkey[kd]; j++)
		row(keys[kd, j], kd, keys[kd, j], mark)
}
END {
	if (target == "") target = 0.25
	table("inplace", "in place (the module's case): instructions per byte; * = above " target, 1)
	table("copy", "copy (dst != src): instructions per byte", 0)
	table("inplace-avx2", "AVX2 (crapvpn_xor_avx2), in place; * = above " target, 1)
	table("copy-avx2", "AVX2, copy", 0)
	header("plain copies of the same sizes: instructions per byte", "bytes:")
	row("glibc memcpy", "memcpy", 0, 0)
	row("8-byte copy", "wordcopy", 0, 0)
	printf "(glibc's memcpy uses SIMD and \"rep movsb\", which callgrind counts once\n"
	printf " per byte; the 8-byte copy is built with the kernel's flags, in the\n"
	printf " shape of the kernel's memcpy_orig.)\n"
	printf "\nhdr_put: %.1f instructions per call\n", hdr
	printf "in place: %d of %d cells at or below %s instructions per byte\n",
		nmet["inplace"], ncell["inplace"], target
	if (nkey["inplace-avx2"])
		printf "AVX2 in place: %d of %d cells at or below %s\n",
			nmet["inplace-avx2"], ncell["inplace-avx2"], target
	else
		printf "AVX2: not measured (this CPU has no AVX2)\n"
}
