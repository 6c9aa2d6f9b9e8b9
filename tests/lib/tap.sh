# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# tests/lib/tap.sh: the one pass/fail/skip reporter of the shell tests.
# Sourced, not run.
#
#   ok MSG          prints "ok - MSG", counts a pass (TAP_QUIET=1: counts
#                   it without printing, for suites of hundreds of checks)
#   fail MSG        prints "not ok - MSG", counts a failure
#   tap_rc MSG STATUS   ok MSG if STATUS is 0, else fail MSG; returns STATUS
#   skip MSG        prints "skip - MSG", counts a skip, never a pass: MSG
#                   says what was not checked and why
#   tap_add_counts NAME [STATUS] <OUTPUT
#                   adds a sub-run's closing lines (below) to ours; no
#                   "N passed, N failed" line, or STATUS non-zero with no
#                   failure counted, is one failure
#   tap_summary [--need-pass] [FILE]
#                   prints the closing lines (and copies them to FILE);
#                   returns non-zero if anything failed, or with
#                   --need-pass if nothing passed (a run that proved
#                   nothing)
#   tap_count pass|fail|skip    the count so far
#
# Every result is one line appended to the file $TAP_RESULTS ("pass 1",
# "fail 1", "skip 1 WHY"), so that subshells, background jobs and scripts
# run from the one that owns the file all add up. tap_init [FILE] starts a
# new, empty file (a temporary one by default) and exports it: a runner that
# prints its own summary calls it; a script sourced or run under it only
# appends. Sourcing this with no $TAP_RESULTS set calls tap_init.
#
# The closing lines, always in this order and always all of them:
#   # skipped: WHY          one a skip (none if nothing was skipped)
#   N skipped               (also "0 skipped")
#   N passed, N failed      the last line, as CI and the parents read it

# shellcheck disable=SC2034 # read by the scripts that source this
TAP_FAILED=0	# 1 once this process (not its children) counted a failure

# shellcheck disable=SC2120 # FILE is optional
tap_init() { # [FILE]
	# The temporary file an earlier tap_init of this shell made goes.
	[ -z "${TAP_TMP:-}" ] || [ "$TAP_TMP" != "${TAP_RESULTS:-}" ] || rm -f "$TAP_TMP"
	if [ $# -gt 0 ]; then
		TAP_RESULTS=$1
		TAP_TMP=
	else
		TAP_RESULTS=$(mktemp "${TMPDIR:-/tmp}/tap.XXXXXX")
		TAP_TMP=$TAP_RESULTS
	fi
	: >"$TAP_RESULTS"
	export TAP_RESULTS
}
# shellcheck disable=SC2119
[ -n "${TAP_RESULTS:-}" ] || tap_init

ok() {
	[ "${TAP_QUIET:-}" = 1 ] || printf 'ok - %s\n' "$*"
	echo "pass 1" >>"$TAP_RESULTS"
}

fail() {
	printf 'not ok - %s\n' "$*"
	echo "fail 1" >>"$TAP_RESULTS"
	TAP_FAILED=1
}

skip() {
	printf 'skip - %s\n' "$*"
	echo "skip 1 $*" >>"$TAP_RESULTS"
}

tap_rc() { # MSG STATUS
	if [ "$2" -eq 0 ]; then ok "$1"; else fail "$1"; fi
	return "$2"
}

tap_count() { # pass|fail|skip
	awk -v k="$1" '$1 == k { n += $2 } END { print n + 0 }' "$TAP_RESULTS" 2>/dev/null
}

# shellcheck disable=SC2120 # FILE is optional
tap_summary() { # [--need-pass] [FILE]
	local p f s out need=0
	[ "${1:-}" != --need-pass ] || { need=1; shift; }
	p=$(tap_count pass) f=$(tap_count fail) s=$(tap_count skip)
	out=$(sed -n 's/^skip [0-9]* /# skipped: /p' "$TAP_RESULTS" 2>/dev/null
	      echo "$s skipped"
	      echo "$p passed, $f failed")
	printf '%s\n' "$out"
	[ -z "${1:-}" ] || printf '%s\n' "$out" >"$1"
	[ -z "${TAP_TMP:-}" ] || [ "$TAP_TMP" != "$TAP_RESULTS" ] || rm -f "$TAP_TMP"
	[ "$f" -eq 0 ] && [ "$need" -eq 0 -o "$p" -gt 0 ]
}

# The last "N passed, N failed" line of the output, with the "N skipped"
# line and the "# skipped:" lines right above it; an older one-line
# "N passed, N failed, N skipped" is read too. Prints "P F S" then the
# reasons, one a line; nothing if there is no count line.
_tap_parse() {
	awk '
	{ sub(/\r$/, "") }
	/^# skipped: / { cur[++nc] = substr($0, 12); prev = "why"; next }
	/^[0-9]+ skipped$/ { sk = $1; nr = nc; for (i = 1; i <= nc; i++) r[i] = cur[i]
		nc = 0; prev = "skipped"; next }
	/^[0-9]+ passed, [0-9]+ failed/ {
		p = $1; f = $3; s = 0; n = 0
		if (match($0, /, [0-9]+ skipped/)) s = substr($0, RSTART + 2, RLENGTH - 10) + 0
		if (prev == "skipped") { s = sk; n = nr; for (i = 1; i <= n; i++) why[i] = r[i] }
		found = 1
	}
	{ nc = 0; prev = "" }
	END {
		if (!found) exit
		print p, f, s
		for (i = 1; i <= n; i++) print why[i]
	}'
}

tap_add_counts() { # NAME [STATUS] <OUTPUT
	local name=$1 rc=${2:-0} parsed p f s n=0 why
	parsed=$(_tap_parse)
	if [ -z "$parsed" ]; then
		fail "$name: no \"N passed, N failed\" line (exit status $rc)"
		return 1
	fi
	read -r p f s <<<"${parsed%%$'\n'*}"
	{
		echo "pass $p"
		echo "fail $f"
		while IFS= read -r why; do
			[ $n -lt "$s" ] || break
			[ -n "$why" ] || continue
			echo "skip 1 $name: $why"
			n=$((n + 1))
		# A here-string, not < <(...): the VM's early /dev has no /dev/fd.
		done <<<"$(sed 1d <<<"$parsed")"
		[ "$n" -ge "$s" ] || echo "skip $((s - n)) $name: $((s - n)) skipped (its log says why)"
	} >>"$TAP_RESULTS"
	printf '# %s: %s passed, %s failed, %s skipped\n' "$name" "$p" "$f" "$s"
	# shellcheck disable=SC2034
	[ "$f" -eq 0 ] || TAP_FAILED=1
	# A sub-run that failed without counting a failure still fails once.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		fail "$name: exit status $rc"
	fi
	[ "$f" -eq 0 ] && [ "$rc" -eq 0 ]
}
