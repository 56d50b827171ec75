#!/usr/bin/env bash
# Progress lines of long pwbadm commands (import, export, rebuild-nss,
# list-users): drawn on stderr when it is a terminal (a pty from script(1)),
# from pwbd's progress frames or, with --offline, in-process; never when
# stderr is a file or a pipe, never with --json, and never in the data a
# command writes (stdout is byte-identical with and without a terminal).
# The protocol side: only a request that asks gets progress frames, each
# before the reply.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm
command -v script >/dev/null || { echo "1..0 # SKIP script(1) (bsdutils) not installed"; exit 0; }

N=3000
# on_pty CMD: runs the shell command CMD with a pty as its terminal and
# prints everything written to it (stdout and stderr, as a terminal shows).
# script(1) is not ours: it runs without the sanitizer runtime (pwbadm,
# built with it, loads its own).
on_pty() { env -u LD_PRELOAD script -qfec "$1" /dev/null </dev/null; }
# no_progress TEXT: none of the progress line's marks.
no_progress() { ! printf '%s' "$1" | grep -qE 'importing:|exporting:|publishing:|checking:|listing:|/s|'$'\r'' '; }

# An export of N users, as pwbadm export writes it.
for i in $(seq -w 1 $N); do printf '{"type":"user","name":"pu%s","gecos":"Progress %s"}\n' "$i" "$i"; done >"$PWB_TMP/users.jsonl"
PW=$PWB_BIN_PWBADM

# ---- import ----
out=$(on_pty "$PW import $PWB_TMP/users.jsonl")
tap_like "import on a pty: the count with total and unit" "$out" "importing: [0-9,]+/3,000 users"
tap_like "import on a pty: the last count" "$out" "importing: 3,000/3,000 users"
tap_like "import on a pty: a rate" "$out" "importing: [0-9,]+/3,000 users, [0-9,]+/s"
tap_like "import on a pty: checking the lines first" "$out" "checking: [0-9,]+/3,000 lines"
tap_like "the line is rewritten in place (carriage returns)" "$out" $'\r''checking: .*'$'\r''importing: '
tap_like "import on a pty: the result still printed" "$out" "imported 3,?000 users"
tap_is "the store has the users" "$(pwbadm list-users --json | jq length)" $N

# Again (unchanged): stderr a file, then a pipe; stdout the same bytes.
out=$(on_pty "$PW import $PWB_TMP/users.jsonl 2>$PWB_TMP/import.err")
tap_check "import, stderr a file: no progress" no_progress "$out$(cat "$PWB_TMP/import.err")"
tap_is "import, stderr a file: stderr empty" "$(wc -c <"$PWB_TMP/import.err")" 0
out=$(pwbadm import "$PWB_TMP/users.jsonl" 2>&1 | cat)
tap_check "import, stderr a pipe: no progress" no_progress "$out"
tap_like "import, stderr a pipe: only the result" "$out" '^imported 3000 users, 0 groups, 0 tokens, 0 changes: 0 created, 0 updated, 3000 unchanged$'

# ---- export ----
pwbadm export >"$PWB_TMP/plain.jsonl" 2>"$PWB_TMP/plain.err"
tap_is "export, no terminal: stderr empty" "$(wc -c <"$PWB_TMP/plain.err")" 0
out=$(on_pty "$PW export >$PWB_TMP/pty.jsonl")
tap_like "export on a pty: the count" "$out" "exporting: 3,000/3,000 users"
tap_check "export on a pty: stdout the same bytes as without one" \
	cmp -s "$PWB_TMP/plain.jsonl" "$PWB_TMP/pty.jsonl"
out=$(on_pty "$PW export $PWB_TMP/file.jsonl")
tap_like "export to a file on a pty: progress, blanked, then the result" "$out" $'exporting: 3,000/3,000 users[^\r]*\r +\rexported 3000 users'
tap_check "export to a file: the same bytes" cmp -s "$PWB_TMP/plain.jsonl" "$PWB_TMP/file.jsonl"
out=$(on_pty "$PW export")
tap_like "export to the terminal: the data follows a blanked line" "$out" $'\r +\r\\{"type":"user"'
tap_is "... and holds exactly the records" \
	"$(printf '%s' "$out" | tr -d '\r' | grep -c '{"type":"user"')" $N

# ---- rebuild-nss ----
out=$(on_pty "$PW rebuild-nss")
tap_like "rebuild-nss on a pty: the count" "$out" "publishing: [0-9,]+/3,000 users"
tap_like "rebuild-nss on a pty: the result" "$out" "NSS snapshot rebuilt in"
out=$(pwbadm rebuild-nss 2>&1 | cat)
tap_check "rebuild-nss, stderr a pipe: no progress" no_progress "$out"

# ---- --json ----
out=$(on_pty "$PW list-users --all")
tap_like "list-users on a pty: a count (no total)" "$out" "listing: 3,000 users"
out=$(on_pty "$PW list-users --all --json")
tap_check "list-users --json on a pty: no progress" no_progress "$out"
tap_is "list-users --json on a pty: the JSON parses" \
	"$(printf '%s' "$out" | tr -d '\r' | jq length)" $N

# ---- --offline: the same lines, drawn in-process ----
pwb_pwbd_stop
out=$(on_pty "$PW --offline rebuild-nss")
tap_like "--offline rebuild-nss on a pty: the count" "$out" "publishing: [0-9,]+/3,000 users"
out=$(pwbadm --offline rebuild-nss 2>&1 | cat)
tap_check "--offline, stderr a pipe: no progress" no_progress "$out"
pwb_pwbd_start

# ---- the protocol: frames only for a request that asks ----
frame() {
	local n
	n=$(LC_ALL=C; printf '%s' "$1" | wc -c)
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n >> 24 & 255)) $((n >> 16 & 255)) \
		$((n >> 8 & 255)) $((n & 255)))"
	printf '%s' "$1"
}
out=$(frame '{"v":1,"op":"snapshot.rebuild","id":"p-1","args":{}}' | "$PWB_PWBD_CALL" --raw)
tap_like "a request without \"progress\": the first frame is the reply" "$out" '^\{"v":1,"id":"p-1","code":0,'
out=$(frame '{"v":1,"op":"snapshot.rebuild","id":"p-2","progress":true,"args":{}}' | "$PWB_PWBD_CALL" --raw)
tap_like "a request with \"progress\": true: a progress frame first" "$out" \
	'^\{"v":1,"id":"p-2","progress":\{"stage":"publishing","done":[0-9]+,"total":3000,"unit":"users"\}\}$'
out=$(frame '{"v":1,"op":"ping","id":"p-3","progress":1,"args":{}}' | "$PWB_PWBD_CALL" --raw)
tap_like "\"progress\" must be a boolean" "$out" '"code":-?[0-9]+,"error":"request: \\"progress\\" must be a boolean"'

tap_done
