#!/usr/bin/env bash
# Concurrent provisioning through nginx to two pwb-scim processes: parallel
# creates all succeed with distinct UIDs (allocation inside the store
# transaction), parallel PATCHes of one group's members all land.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

SCIM_TOKEN=$(pwb_scim_token parallel) || tap_bail "cannot store a token"
PWB_SCIM_CHILDREN=2 pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
tap_is "two pwb-scim processes" "$(grep -c . "$PWB_TMP/run/pwb-scim.pid")" 2

# worker N: creates 25 users, printing each response's uidNumber and id
worker() {
	local i
	for i in $(seq 1 25); do
		curl -sS -H "Authorization: Bearer $SCIM_TOKEN" -H 'Content-Type: application/scim+json' \
			--data-binary "$(scim_user_json "w$1-$i")" "$SCIM_URL/Users" |
			jq -r '"\(."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber) \(.id)"'
	done
}
# (wait for the workers by pid: pwbd is a background job of this shell too)
pids=()
for w in 1 2 3 4; do worker "$w" >"$PWB_TMP/w$w.out" & pids+=($!); done
wait "${pids[@]}"
cat "$PWB_TMP"/w*.out >"$PWB_TMP/all.out"
tap_is "100 parallel creates all succeeded" "$(grep -cE '^[0-9]+ [0-9a-f-]{36}$' "$PWB_TMP/all.out")" 100
tap_is "with 100 distinct UIDs" "$(cut -d' ' -f1 "$PWB_TMP/all.out" | sort -u | wc -l)" 100
scim_req GET '/Users?count=0'
tap_is "the store holds exactly 100 users" "$(scim_jq .totalResults)" 100

scim_req POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"crowd"}'
grp=$(scim_jq .id)
patcher() { # adds every id in file $1, one PATCH each
	local id
	while read -r _ id; do
		curl -sS -o /dev/null -w '%{http_code}\n' -X PATCH -H "Authorization: Bearer $SCIM_TOKEN" \
			-H 'Content-Type: application/scim+json' --data-binary \
			"{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$id\"}]}]}" \
			"$SCIM_URL/Groups/$grp"
	done <"$1"
}
pids=()
for w in 1 2 3 4; do patcher "$PWB_TMP/w$w.out" >"$PWB_TMP/p$w.out" & pids+=($!); done
wait "${pids[@]}"
tap_is "100 parallel member PATCHes: all 200" "$(cat "$PWB_TMP"/p*.out | grep -c '^200$')" 100
scim_req GET "/Groups/$grp"
tap_is "no member lost" "$(scim_jq '.members | length')" 100
tap_is "the group line lists all of them ($PWB_NSS_VIA)" \
	"$(scim_nss group crowd | cut -d: -f4 | tr , '\n' | grep -c .)" 100

tap_done
