#!/usr/bin/env bash
# pwb-scim as a relay to pwbd: it runs as the scim-user (pwb-scim), cannot
# read the store, and SCIM still works through pwbd; with pwbd stopped a
# client gets 503, Retry-After and a SCIM error body; the scim-user talking
# to pwbd's socket itself gets its one op (scim.request, strictly checked)
# and nothing else: pwbadm's ops are refused.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

SCIM_TOKEN=$(pwb_scim_token relay) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
as_scim() { setpriv --reuid=pwb-scim --regid=pwb-scim --clear-groups "$@"; }

# ---- the relay holds no store ----
pid=$(cat "$PWB_TMP/run/pwb-scim.pid")
tap_is "pwb-scim runs as the scim-user" \
	"$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$(id -u pwb-scim)"
store_file=$(find "$PWB_DB_DIR/store" -type f | head -1)
tap_like "the store has files" "$store_file" "^$PWB_DB_DIR/store/"
out=$(as_scim cat "$store_file" 2>&1 >/dev/null) && rc=0 || rc=$?
tap_like "the scim-user cannot read a store file" "$rc $out" '^[1-9][0-9]* .*Permission denied'
out=$(as_scim ls "$PWB_DB_DIR/store" 2>&1 >/dev/null) && rc=0 || rc=$?
tap_like "nor list db-dir/store" "$rc $out" '^[1-9][0-9]* .*Permission denied'
tap_is "pwb-scim holds nothing of db-dir open" \
	"$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c "$PWB_DB_DIR")" 0
scim_req POST /Users "$(scim_user_json relay-user@example.com)"
tap_is "yet SCIM creates a user" "$SCIM_STATUS" 201
id=$(scim_jq .id)
tap_is "and the user is in NSS (nss_pwb)" "$(getent passwd relay-user | cut -d: -f1)" relay-user
scim_req GET "/Users/$id"
tap_is "and reads it back" "$(scim_jq .userName)" relay-user@example.com
tap_like "the relay logs the token's name" "$(tail -1 "$PWB_SCIM_LOG")" \
	"GET /scim/v2/Users/$id 200 token=relay "

# ---- pwbd stopped ----
pwb_pwbd_stop >/dev/null || tap_bail "cannot stop pwbd"
scim_req GET /Users
scim_is_error "pwbd stopped: 503 with a SCIM error body" 503 -
tap_like "... and Retry-After" "$(scim_header Retry-After)" '^[0-9]+$'
tap_like "... and a detail" "$(scim_jq .detail)" 'not available'
SCIM_TOKEN='' scim_req POST /Users "$(scim_user_json nobody@example.com)"
tap_is "pwbd stopped: an anonymous write is 503 too (nothing to check it)" "$SCIM_STATUS" 503
tap_like "the relay logs that pwbd is unreachable" "$(cat "$PWB_SCIM_LOG")" 'pwbd'
pwb_pwbd_start >/dev/null || tap_bail "cannot start pwbd"
scim_req GET "/Users/$id"
tap_is "pwbd back: SCIM answers again (no restart of pwb-scim)" "$SCIM_STATUS" 200

# ---- the scim-user on pwbd's socket ----
call() { as_scim "$PWB_PWBD_CALL" "$@"; }
out=$(call token.generate '{"name":"minted"}' 2>&1) && rc=0 || rc=$?
tap_like "the scim-user cannot mint a token (admin op)" "$rc $out" '^1 .*not allowed'
out=$(call user.list '{}' 2>&1) && rc=0 || rc=$?
tap_like "nor list users through pwbadm's op" "$rc $out" '^1 .*not allowed'
out=$(call request.status '{"id":"x"}' 2>&1) && rc=0 || rc=$?
tap_like "nor ask about requests (root only)" "$rc $out" '^1 .*not allowed'
tap_like "pwbd logs the refusals" "$(cat "$PWB_TMP/pwbd.log")" 'token.generate is not allowed'
tap_is "no token was minted (root lists them)" \
	"$("$PWB_PWBD_CALL" token.list '{}' | jq -r '[.tokens[].name] | sort | join(",")')" relay

scim_args() { printf '{"method":"%s","uri":"/scim/v2/Users/%s","authorization":"Bearer %s"%s}' \
	"$1" "$id" "$SCIM_TOKEN" "${2:+,$2}"; }
out=$(call scim.request "$(scim_args GET)" 2>&1) && rc=0 || rc=$?
tap_is "the scim-user's own op works directly" "$rc $(printf '%s' "$out" | jq -r .status)" "0 200"
out=$(call scim.request "$(scim_args TRACE)" 2>&1) && rc=0 || rc=$?
tap_like "scim.request: a method outside the set is refused" "$rc $out" '^1 .*method'
out=$(call scim.request "$(scim_args GET '"if_match":"a\r\nX-Evil: 1"')" 2>&1) && rc=0 || rc=$?
tap_like "scim.request: CR/LF in a header value is refused" "$rc $out" '^1 .*if_match'
out=$(call scim.request "$(scim_args GET '"host":"a\nb"')" 2>&1) && rc=0 || rc=$?
tap_like "scim.request: LF in the host is refused" "$rc $out" '^1 .*host'
long=$(head -c 9000 /dev/zero | tr '\0' a)
out=$(call scim.request "$(scim_args GET "\"query\":\"$long\"")" 2>&1) && rc=0 || rc=$?
tap_like "scim.request: an over-long value is refused" "$rc $out" '^1 .*query'
out=$(call scim.request "$(scim_args GET '"store":"x"')" 2>&1) && rc=0 || rc=$?
tap_like "scim.request: an unknown argument is refused" "$rc $out" '^1 .*store'
out=$(call scim.request '{"uri":"/scim/v2/Users"}' 2>&1) && rc=0 || rc=$?
tap_like "scim.request: no method is refused" "$rc $out" '^1 .*required'
out=$(call scim.request "$(printf '{"method":"DELETE","uri":"/scim/v2/Users/%s","authorization":"Bearer wrong"}' "$id")" 2>&1) && rc=0 || rc=$?
tap_is "scim.request: a wrong token is 401, as through the relay" \
	"$rc $(printf '%s' "$out" | jq -r '[.status, .www_authenticate] | @tsv')" "0 401	true"
scim_req GET "/Users/$id"
tap_is "the user is still there" "$SCIM_STATUS" 200

tap_done
