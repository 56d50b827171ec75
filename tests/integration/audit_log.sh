#!/usr/bin/env bash
# The audit trail through pwbadm: `pwbadm log` with its filters (user,
# group, actor, dates, limit) as aligned lines and as JSON, show-user's
# last changes, one syslog line per committed change naming actor,
# operation, user and attributes (never a secret), and the log surviving
# export and import (seq, time, actor kept; idempotent; the import adds
# its own entry).
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"
adm_require_pwbadm
pwb_syslog_capture || tap_bail "cannot capture syslog"
# pwbd logs through the new /dev/log from its next start
pwb_pwbd_stop >/dev/null
pwb_pwbd_start >/dev/null
export TZ=UTC

before=$(pwb_syslog_count)
SUDO_USER=ann pwbadm add-user alice --groups data >/dev/null
SUDO_USER=ann pwbadm add-user bob >/dev/null
SUDO_USER=ben pwbadm lock-user alice >/dev/null
SUDO_USER=ben pwbadm generate-token okta >/dev/null
SUDO_USER=ann pwbadm delete-user --yes bob >/dev/null

# ---- pwbadm log: every change, one aligned line each ----
out=$(pwbadm log)
tap_is "pwbadm log succeeds" "$?" 0
tap_like "a header names the columns" "$(printf '%s\n' "$out" | head -1)" '^TIME +SEQ +ACTOR +OP +WHAT +CHANGED$'
tap_like "alice's creation, by pwbadm and SUDO_USER, local time" "$out" \
	$'\n[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +[0-9]+ +pwbadm:ann +create +user alice'
tap_like "the lock names the attribute changed" "$out" 'pwbadm:ben +update +user alice +active'
tap_like "the token by name" "$out" 'pwbadm:ben +token-put +token okta'
tap_like "the delete names the user it removed" "$out" 'pwbadm:ann +delete +user bob'
col() { printf '%s\n' "$out" | awk 'NR > 1 { print index($0, $'"$1"') }' | sort -u | tr '\n' ' '; }
tap_is "the ACTOR column is aligned" "$(col 4)" "$(printf '%s\n' "$out" | awk 'NR==1 {print index($0,"ACTOR")}') "

# ---- filters ----
user_ops() { pwbadm log "$@" | awk 'NR > 1 { print $5 }' | tr '\n' ' '; }
tap_like "--user alice: her changes (incl. membership), not bob's" "$(pwbadm log --user alice)" 'create +user alice'
tap_unlike "--user alice: nothing of bob" "$(pwbadm log --user alice)" 'bob'
tap_is "--user bob: created and deleted" "$(user_ops --user bob)" "create delete "
tap_like "--group data: the group's changes" "$(pwbadm log --group data)" 'group data'
tap_unlike "--group data: no user lines" "$(pwbadm log --group data | awk 'NR>1')" ' user '
tap_is "--actor ben: the lock and the token" "$(user_ops --actor ben)" "update token-put "
tap_is "--actor pwbadm: all five commands' changes are pwbadm's" \
	"$(pwbadm log --actor pwbadm --json | jq 'length')" "$(pwbadm log --json | jq 'length')"
tap_is "--limit 2: the newest two, oldest first" "$(user_ops --limit 2)" "token-put delete "
tap_is "--since tomorrow: nothing" "$(pwbadm log --since "$(date -u -d tomorrow +%F)" --json | jq length)" 0
tap_is "--until 1d (before yesterday): nothing" "$(pwbadm log --until 1d --json | jq length)" 0
tap_is "--since 1h: everything" "$(pwbadm log --since 1h --json | jq length)" "$(pwbadm log --json | jq length)"
tap_is "--since with a zone" "$(pwbadm log --since 2000-01-01T00:00+02:00 --json | jq length)" "$(pwbadm log --json | jq length)"
tap_is "a bad date is a usage error" "$(adm_status pwbadm log --since yesterdayish)" 2
tap_like "... naming the forms" "$(adm_stderr pwbadm log --since 12x)" 'not a date'
tap_is "a bad user name is a usage error" "$(adm_status pwbadm log --user 'Bad Name!')" 2

out=$("$PWB_PWBD_CALL" store.changes '{"usr":"alice"}' 2>&1) && rc=0 || rc=$?
tap_like "pwbd refuses a filter it does not know (never ignores it)" "$rc $out" '^1 .*unknown argument "usr"'
out=$("$PWB_PWBD_CALL" store.changes '{"user":"../x"}' 2>&1) && rc=0 || rc=$?
tap_like "... and a user that is no name" "$rc $out" '^1 .*argument user: not a valid name'

# ---- JSON ----
json=$(pwbadm log --user alice --json)
tap_is "--json parses" "$(printf '%s' "$json" | jq -r 'type')" array
tap_is "an entry carries seq, time, actor, requestId, kind, op, name, changed" \
	"$(printf '%s' "$json" | jq -r '.[-1] | [(.seq|type), (.time|type), .actor.kind, .actor.name, (.requestId|length > 0), .kind, .op, .name, (.changed|join(","))] | join(" ")')" \
	"number number pwbadm ben true u update alice active"

# ---- no secrets anywhere ----
all=$(pwbadm log --json)
tap_unlike "no token hash, secret or password in the log" "$all" '"(hash|secret|password|token)":'

# ---- show-user: the last changes ----
show=$(pwbadm show-user alice)
tap_like "show-user lists the last changes" "$show" $'last changes \\(pwbadm log --user alice\\):\nTIME'
tap_like "... newest last" "$(printf '%s\n' "$show" | tail -1)" 'pwbadm:ben +update +user alice +active'

# ---- syslog: one line per committed change ----
pwb_syslog_sync
lines=$(pwb_syslog_since "$before" | grep 'pwb change ')
tap_is "one syslog line per change" "$(printf '%s\n' "$lines" | wc -l)" "$(pwbadm log --json | jq length)"
tap_like "the line names actor, operation, user and attributes" "$lines" \
	'pwb change [0-9]+: user alice update \(active\) by pwbadm ben uid 0, request [0-9a-f-]+'
tap_like "a creation" "$lines" 'pwb change [0-9]+: user alice create by pwbadm ann uid 0'
tap_like "a token by name, never its hash" "$lines" 'pwb change [0-9]+: token okta token-put'
tap_unlike "no hash in syslog" "$lines" '[0-9a-f]{64}'
fails_before=$(pwb_syslog_count)
pwbadm add-user alice >/dev/null 2>&1
pwb_syslog_sync
tap_unlike "a refused change logs no change line" "$(pwb_syslog_since "$fails_before")" 'pwb change'

# ---- export and import ----
pwbadm export >"$PWB_TMP/out.jsonl" 2>/dev/null
tap_is "the export carries every entry as a change record" \
	"$(jq -c 'select(.type == "change")' "$PWB_TMP/out.jsonl" | wc -l)" "$(pwbadm log --json | jq length)"
orig=$(pwbadm log --json | jq -c '[.[] | {seq, time, actor, requestId, op, name, changed}]')
adm_reset_store
tap_is "a new store: an empty log" "$(pwbadm log --json | jq length)" 0
out=$(pwbadm import "$PWB_TMP/out.jsonl")
tap_like "the import restores the entries" "$out" '^imported 1 users, 1 groups, 1 tokens, [0-9]+ changes: '
n=$(printf '%s' "$orig" | jq length)
tap_is "the history is back: seq, time, actor, request, op, attributes" \
	"$(pwbadm log --json | jq -c --argjson n "$n" '[.[:$n][] | {seq, time, actor, requestId, op, name, changed}]')" "$orig"
tap_like "then the import's own entry" "$(pwbadm log --json | jq -r --argjson n "$n" '.[$n] | "\(.kind) \(.op) \(.actor.kind)"')" '^s import pwbadm$'
tap_is "and the import's changes after it (alice created again)" \
	"$(pwbadm log --json | jq --argjson n "$n" '[.[$n + 1:][] | select(.op == "create" and .name == "alice")] | length')" 1
count=$(pwbadm log --json | jq length)
pwbadm import "$PWB_TMP/out.jsonl" >/dev/null
tap_is "importing the same file again adds nothing" "$(pwbadm log --json | jq length)" "$count"
tap_is "--user bob finds the deleted user's history" "$(user_ops --user bob)" "create delete "
printf '{"type":"change","seq":999,"time":1,"actor":{"kind":"x","colour":"red"},"kind":"u","op":"update"}\n' >"$PWB_TMP/bad.jsonl"
tap_like "a change record with an unknown field fails the import" "$(adm_stderr pwbadm import "$PWB_TMP/bad.jsonl")" \
	'line 1: change actor: unknown field "colour"'
printf '{"type":"change","seq":999,"time":1,"actor":{"kind":"x"},"kind":"u","op":"\\u001b[31mred"}\n' >"$PWB_TMP/bad2.jsonl"
tap_like "an operation that is no name fails the import" "$(adm_stderr pwbadm import "$PWB_TMP/bad2.jsonl")" \
	'line 1: change field op: not an operation name'
tap_is "... and writes nothing" "$(pwbadm log --json | jq length)" "$count"

tap_done
