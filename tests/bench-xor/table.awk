# Reads the callgrind dump files of bench_xor (label "KIND KEYLEN SIZE REPS"
# in the desc line, instruction count in the summary line) and prints
# instructions per byte: one table per KIND of XOR, then memcpy and hdr_put.
/^desc: Trigger: Client Request: / {
	kind = $5; keylen = $6; size = $7; reps = $8
}
/^summary: / {
	if (kind == "")
		next
	ipb = $2 / reps / size
	cell[kind, keylen, size] = ipb
	if (!(size in seen_size)) { seen_size[size] = 1; sizes[++nsize] = size }
	if (!((kind, keylen) in seen_key)) {
		seen_key[kind, keylen] = 1; keys[kind, ++nkey[kind]] = keylen
	}
	if (!(kind in seen_kind)) { seen_kind[kind] = 1; kinds[++nkind] = kind }
	if (kind == "hdr_put") hdr = $2 / reps
	kind = ""
}
END {
	for (i = 1; i <= nkind; i++) {
		kd = kinds[i]
		if (kd == "hdr_put")
			continue
		printf "\n%s: instructions per byte\n", kd
		printf "%8s", "keylen"
		for (s = 1; s <= nsize; s++)
			if ((kd, keys[kd, 1], sizes[s]) in cell)
				printf "%9s", sizes[s]
		printf "\n"
		for (j = 1; j <= nkey[kd]; j++) {
			kl = keys[kd, j]
			printf "%8s", kl ? kl : "-"
			for (s = 1; s <= nsize; s++)
				if ((kd, kl, sizes[s]) in cell)
					printf "%9.3f", cell[kd, kl, sizes[s]]
			printf "\n"
		}
	}
	printf "\nhdr_put: %.1f instructions per call\n", hdr
}
