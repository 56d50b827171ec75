#!/usr/bin/env bash
# A store larger than one pwbd reply (4 MiB): `pwbadm export` through pwbd
# refuses it and names the way out, and that way out (pwbd stopped,
# `pwbadm --offline export`) works: no size limit applies in-process, and
# the export imports back into an empty store unchanged.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

# 4,500 users with a 1,000-byte GECOS each: about 5 MB of export.
N=4500
gecos=$(printf 'G%.0s' $(seq 1 1000))
for i in $(seq -w 1 $N); do
	printf '{"type":"user","name":"big%s","gecos":"%s"}\n' "$i" "$gecos"
done >"$PWB_TMP/in.jsonl"
pwb_pwbd_stop
tap_is "the users import offline (one file larger than a request)" \
	"$(adm_status pwbadm --offline import "$PWB_TMP/in.jsonl")" 0
pwb_pwbd_start

err=$(adm_stderr pwbadm export "$PWB_TMP/online.jsonl")
tap_like "through pwbd: refused, naming --offline" "$err" "larger than one reply of pwbd .*pwbadm --offline export"

pwb_pwbd_stop
tap_is "offline: export succeeds" "$(adm_status pwbadm --offline export "$PWB_TMP/out.jsonl")" 0
size=$(stat -c %s "$PWB_TMP/out.jsonl")
tap_check "the export is larger than one reply ($size bytes > 4194304)" test "$size" -gt 4194304
tap_is "... with every user" "$(jq -c 'select(.type == "user")' "$PWB_TMP/out.jsonl" | wc -l)" $N

adm_reset_store
tap_is "it imports into an empty store" "$(adm_status pwbadm --offline import "$PWB_TMP/out.jsonl")" 0
tap_is "... every user back, with their GECOS" \
	"$(pwbadm --offline list-users --all --json | jq '[.[] | select(.gecos | length == 1000)] | length')" $N
pwb_pwbd_start
tap_done
