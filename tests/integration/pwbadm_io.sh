#!/usr/bin/env bash
# pwbadm export/import/rebuild-nss: export -> import into an empty store
# reproduces users, groups, ids and memberships exactly; import is
# idempotent; a file with one bad record writes nothing.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm
# Homes outside user-homedir-path must lie under an allowed root.
pwb_conf_set "user-homedir-allowed-roots=/srv"

# What must survive a round trip: everything but the store's own
# bookkeeping (times of creation/modification, versions) and the audit
# trail (audit_log.sh: the import adds its own entries).
stable() { jq -c 'select(.type != "change") | del(.created, .modified, .version)' "$@" | sort; }

pwbadm add-user alice --groups data,ops >/dev/null
alice_uid=$(pwbadm show-user alice --json | jq -r .uid)
pwbadm add-user bob --uid 23456 --groups ops >/dev/null
pwbadm add-user carol --home /srv/carol >/dev/null
pwbadm lock-user carol >/dev/null
pwbadm generate-token okta >/dev/null
pwbadm delete-user --yes alice >/dev/null
pwbadm add-user dave --groups data >/dev/null

tap_is "export to a file" "$(adm_status pwbadm export "$PWB_TMP/one.jsonl")" 0
tap_is "the export file is 0600" "$(stat -c %a "$PWB_TMP/one.jsonl")" 600
tap_is "export writes one line per record (+1 of retired ids)" "$(jq -c 'select(.type != "change")' "$PWB_TMP/one.jsonl" | wc -l)" 7
tap_is "the retired line lists deleted alice's uid and private gid" \
	"$(jq -c 'select(.type=="retired") | [(.uids | index('"$alice_uid"') != null), (.gids | index('"$alice_uid"') != null)]' "$PWB_TMP/one.jsonl")" "[true,true]"
tap_like "every line is a typed object (the audit trail's too)" \
	"$(jq -r .type "$PWB_TMP/one.jsonl" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	'^change=[0-9]+ group=2 retired=1 token=1 user=3 $'
tap_is "export to stdout is the same" "$(pwbadm export 2>/dev/null)" "$(cat "$PWB_TMP/one.jsonl")"
tap_is "groups carry members by name" \
	"$(jq -r 'select(.type=="group") | .name + ":" + (.members | sort | join(","))' "$PWB_TMP/one.jsonl" | tr '\n' ' ')" \
	"data:dave ops:bob "
tap_is "locked state exported" "$(jq -r 'select(.type=="user" and .name=="carol") | .active' "$PWB_TMP/one.jsonl")" false
tap_check_fails "no token secret in the export (only its hash)" \
	jq -e 'select(.type=="token") | has("token")' "$PWB_TMP/one.jsonl"

# ---- into an empty store ----
ids() { pwbadm list-users --all | awk 'NR>1 {print $1 ":" $2 ":" $3}' | tr '\n' ' '; }
ids_before=$(ids)
tap_like "three users before" "$ids_before" '^bob:23456:23456 carol:[0-9]+:[0-9]+ dave:[0-9]+:[0-9]+ $'
adm_reset_store
tap_is "the new store is empty" "$(pwbadm list-users --all | wc -l)" 1
out=$(pwbadm import "$PWB_TMP/one.jsonl")
tap_is "import into the empty store" "$?" 0
tap_like "import reports what it did" "$out" '^imported 3 users, 2 groups, 1 tokens, [0-9]+ changes: 6 created, 0 updated, 0 unchanged$'
pwbadm export >"$PWB_TMP/two.jsonl" 2>/dev/null
tap_is "export -> import reproduces users, groups, ids, members, tokens" \
	"$(stable "$PWB_TMP/two.jsonl")" "$(stable "$PWB_TMP/one.jsonl")"
tap_is "names, uids and gids reproduced exactly" "$(ids)" "$ids_before"
tap_check_fails "the imported store refuses alice's retired uid" pwbadm add-user zed --uid "$alice_uid"

# ---- idempotent ----
out=$(pwbadm import "$PWB_TMP/one.jsonl")
tap_like "importing the same file again changes nothing" "$out" '0 created, 0 updated, 6 unchanged$'
pwbadm export >"$PWB_TMP/three.jsonl" 2>/dev/null
tap_is "... and the store is as before" "$(cat "$PWB_TMP/three.jsonl")" "$(cat "$PWB_TMP/two.jsonl")"
tap_is "import from stdin" "$(pwbadm import <"$PWB_TMP/one.jsonl" | grep -c '6 unchanged')" 1

# ---- a changed record is updated ----
jq -c 'if .type=="user" and .name=="carol" then .active = true | .gecos = "Carol C" else . end' "$PWB_TMP/one.jsonl" >"$PWB_TMP/changed.jsonl"
tap_like "a changed record is updated" "$(pwbadm import "$PWB_TMP/changed.jsonl")" '1 updated, 5 unchanged$'
tap_is "carol is unlocked and renamed" "$(pwbadm show-user carol --json | jq -r '[.active, .gecos] | join(" ")')" "true Carol C"

# ---- a record sets only the fields it has ----
echo '{"type":"user","name":"bob","active":false}' >"$PWB_TMP/partial.jsonl"
tap_like "a partial record updates" "$(pwbadm import "$PWB_TMP/partial.jsonl")" '1 updated, 0 unchanged$'
tap_is "bob locked, uid and home kept" "$(pwbadm show-user bob --json | jq -r '[.active, .uid, .source] | join(" ")')" "false 23456 manual"
echo '{"type":"user","name":"bob","gecos":"Bob B"}' >"$PWB_TMP/partial.jsonl"
pwbadm import "$PWB_TMP/partial.jsonl" >/dev/null
tap_is "a field left out keeps its value (still locked)" "$(pwbadm show-user bob --json | jq -r '[.active, .gecos] | join(" ")')" "false Bob B"
pwbadm import "$PWB_TMP/one.jsonl" >/dev/null

# ---- one bad record writes nothing ----
before=$(pwbadm export 2>/dev/null)
bad_import() { # NAME: a valid new user, one more record on the last line, then the import
	local f=$PWB_TMP/bad-$1.jsonl
	{
		echo '{"type":"user","name":"newbie","uid":21000}'
		jq -c 'select(.type != "change")' "$PWB_TMP/one.jsonl"
		echo "$2"
	} >"$f"
	pwbadm import "$f"
}
n=0
for bad in \
	'{"type":"user","name":"Bad Name"}' \
	'{"type":"user","name":"x","uid":"12"}' \
	'{"type":"user","name":"x","home":"/a:b"}' \
	'{"type":"user","name":"x","surprise":1}' \
	'{"type":"user","name":"newbie"}' \
	'{"type":"user","name":"x","uid":23456}' \
	'{"type":"group","name":"g","members":["nobody-here"]}' \
	'{"type":"token","name":"t","hash":"abc"}' \
	'{"type":"widget","name":"x"}' \
	'not json'; do
	n=$((n + 1))
	rc=$(adm_status bad_import "$n" "$bad")
	tap_is "bad record $n ($bad) fails the import" "$rc" 1
done
tap_like "the error names the file, line and record" \
	"$(adm_stderr bad_import 1 '{"type":"user","name":"x","uid":"12"}')" \
	'^pwbadm: import failed, nothing written: .*bad-1\.jsonl: line 9: .*uid'
tap_is "after all the bad imports nothing was written" "$(pwbadm export 2>/dev/null)" "$before"
tap_is "newbie (valid, before the bad record) was not created" "$(adm_status pwbadm show-user newbie)" 1

# A record valid on its own but conflicting with the store aborts the whole
# transaction, including records applied before it.
printf '%s\n' '{"type":"user","name":"newbie","uid":21000}' \
	'{"type":"user","name":"other","uid":23456}' >"$PWB_TMP/conflict.jsonl"
tap_is "a uid conflict with the store fails the import" "$(adm_status pwbadm import "$PWB_TMP/conflict.jsonl")" 1
tap_is "... and newbie was rolled back" "$(adm_status pwbadm show-user newbie)" 1
head -c 1100000 /dev/zero | tr '\0' 'x' >"$PWB_TMP/long.jsonl"
tap_like "an over-long line is refused" "$(adm_stderr pwbadm import "$PWB_TMP/long.jsonl")" 'line 1: longer than 1048576 bytes'
printf '{"type":"user","name":"nul\0x"}\n' >"$PWB_TMP/nul.jsonl"
tap_is "a NUL byte in a line is refused" "$(adm_status pwbadm import "$PWB_TMP/nul.jsonl")" 1
tap_is "a missing file fails" "$(adm_status pwbadm import "$PWB_TMP/nope.jsonl")" 1

# ---- rebuild-nss ----
rm -rf "$PWB_DB_DIR/nss"/*
tap_is "rebuild-nss" "$(adm_status pwbadm rebuild-nss)" 0
tap_check "rebuild-nss wrote the snapshot" test -s "$PWB_DB_DIR/nss/delta.db"
if adm_have_nss; then
	tap_is "getent sees bob after rebuild" "$(getent passwd bob | cut -d: -f3)" 23456
else
	tap_skip "getent sees bob after rebuild" "nss_pwb not built in this tree"
fi

tap_done
