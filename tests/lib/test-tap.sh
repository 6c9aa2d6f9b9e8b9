#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The reporter's own test: a synthetic run through tests/lib/tap.sh (2 ok,
# 1 skip, 1 fail, an ok from a subshell, one from a background job, one
# from a nested script, an added sub-run with its skip and an old one-line
# count, a sub-run that died) must print exactly the summary expected.
# Reports through tap.sh itself.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd -P)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The synthetic run, in a shell of its own, with a results file of its own.
cat >"$tmp/run.sh" <<'RUN'
. "$1/tap.sh"
tap_init
ok "one"
ok "two"
skip "three: no frobnicator here"
fail "four"
( ok "five, from a subshell" )
ok "six, in the background" & wait
bash -c '. "$1/tap.sh"; ok "seven, from a nested script"' _ "$1"
sub=$(bash -c '. "$1/tap.sh"; tap_init; ok a; ok b; skip "c: not on this kernel"; tap_summary' _ "$1")
tap_add_counts "sub-run" <<<"$sub"
tap_add_counts "old format" <<<"3 passed, 0 failed, 2 skipped"
tap_add_counts "died" 3 <<<"1 passed, 0 failed"
tap_summary "$2"
RUN
out=$(bash "$tmp/run.sh" "$HERE" "$tmp/copy" 2>&1)
rc=$?
want='# skipped: three: no frobnicator here
# skipped: sub-run: c: not on this kernel
# skipped: old format: 2 skipped (its log says why)
4 skipped
11 passed, 2 failed'

# shellcheck source=tests/lib/tap.sh
. "$HERE/tap.sh"
tap_init
[ "$(tail -n 5 <<<"$out")" = "$want" ]
tap_rc "the summary: the skips with why, N skipped, N passed, N failed" $? ||
	printf '%s\n' "$out" | sed 's/^/#   /'
[ "$rc" -eq 1 ]
tap_rc "tap_summary fails when anything failed" $?
[ "$(cat "$tmp/copy")" = "$want" ]
tap_rc "tap_summary FILE: the same lines in FILE" $?
grep -qx 'skip - three: no frobnicator here' <<<"$out"
tap_rc "skip prints \"skip - MSG\"" $?
grep -qx 'not ok - died: exit status 3' <<<"$out"
tap_rc "a sub-run that died without a failure counts one" $?
none=$(bash -c '. "$1/tap.sh"; tap_init; tap_add_counts "mute" <<<"no count here"; tap_summary' _ "$HERE")
[ "$(tail -n 1 <<<"$none")" = "0 passed, 1 failed" ]
tap_rc "a sub-run with no count line is one failure" $?
quiet=$(bash -c '. "$1/tap.sh"; tap_init; TAP_QUIET=1; ok hidden; tap_summary' _ "$HERE")
[ "$quiet" = $'0 skipped\n1 passed, 0 failed' ]
tap_rc "TAP_QUIET=1: passes counted, not printed; \"0 skipped\" printed" $?
# --need-pass: a run of skips only proves nothing; with a temporary results
# file (tap_init with no FILE), as tests/pkg's scripts have.
need() { bash -c '. "$1/tap.sh"; tap_init; eval "$2"; tap_summary --need-pass' _ "$HERE" "$1" >/dev/null; }
need "ok a"
tap_rc "tap_summary --need-pass: one pass is enough" $?
need "skip b"
[ $? -eq 1 ]
tap_rc "tap_summary --need-pass: skips alone fail" $?
bash -c '. "$1/tap.sh"; tap_init; skip b; tap_summary' _ "$HERE" >/dev/null
tap_rc "tap_summary: skips alone do not fail" $?
tap_summary
