#!/usr/bin/env bash
# SCIM token hygiene: a token's last use is recorded when it is used
# through nginx + pwb-scim + pwbd and shown by list-tokens (LAST USED);
# pwbadm check warns about a token expiring within 30 days, one expired,
# one never used in the 90 days since it was created and one unused for 90
# days (those two restored by import with their old times, as an export
# carries them), and about nothing for a token in use.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
before=$(date +%s)
SCIM_TOKEN=$(pwbadm generate-token fresh) || tap_bail "generate-token"
pwbadm generate-token --duration 10 soon >/dev/null || tap_bail "generate-token soon"

last_used() { pwbadm list-tokens --json | jq -r ".[] | select(.name == \"$1\") | .lastUsed"; }
tap_is "a new token: never used" "$(last_used fresh)" 0
tap_is "list-tokens: LAST USED never" "$(adm_column "$(pwbadm list-tokens)" fresh 5)" never

log_last() { "$PWB_PWBD_CALL" store.changes '{}' | jq -r .last; }
last_change=$(log_last)
scim_req GET /Users
tap_is "the token works" "$SCIM_STATUS" 200
used=$(last_used fresh)
tap_check "its use is recorded (now, to the minute)" test "$used" -ge "$before" -a "$used" -le "$(date +%s)"
tap_like "list-tokens: LAST USED is that time" "$(adm_column "$(pwbadm list-tokens)" fresh 5)" \
	"^$(date -u -d "@$used" +%Y-%m-%dT%H:%M:%SZ)\$"
tap_is "the other token stays unused" "$(last_used soon)" 0
tap_is "recording a use is no change in the change log" "$(log_last)" "$last_change"

# ---- check ----
now=$(date +%s)
hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
printf '%s\n' \
	"{\"type\":\"token\",\"name\":\"idle\",\"hash\":\"$(hash idle)\",\"masked\":\"abcd...\",\"created\":$((now - 100 * 86400)),\"expires\":0,\"lastUsed\":0}" \
	"{\"type\":\"token\",\"name\":\"stale\",\"hash\":\"$(hash stale)\",\"masked\":\"efgh...\",\"created\":$((now - 200 * 86400)),\"expires\":0,\"lastUsed\":$((now - 95 * 86400))}" \
	"{\"type\":\"token\",\"name\":\"gone\",\"hash\":\"$(hash gone)\",\"masked\":\"ijkl...\",\"created\":$((now - 20 * 86400)),\"expires\":$((now - 86400)),\"lastUsed\":$((now - 2 * 86400))}" \
	>"$PWB_TMP/tokens.jsonl"
pwbadm import "$PWB_TMP/tokens.jsonl" >/dev/null || tap_bail "import of old tokens failed"
out=$(pwbadm check)
tokens=$(grep -E '^[A-Za-z]+ +tokens: ' <<<"$out")
tap_diag "$tokens"
tap_like "check: a token expiring in 10 days" "$tokens" \
	'WARN +tokens: token soon expires [0-9-]+T[0-9:]+Z \(in (9|10) days\); fix: '
tap_like "check: an expired token" "$tokens" 'WARN +tokens: token gone expired [0-9-]+T[0-9:]+Z; fix: .*revoke-token'
tap_like "check: a token never used in the 90 days since it was created" "$tokens" \
	'WARN +tokens: token idle never used since it was created [0-9-]+T.*; fix: '
tap_like "check: a token unused for 90 days" "$tokens" 'WARN +tokens: token stale unused since [0-9-]+T'
tap_unlike "no warning for the token in use" "$tokens" 'token fresh '
tap_is "one warning each" "$(grep -c '^WARN' <<<"$tokens")" 4
pwbadm revoke-token idle >/dev/null && pwbadm revoke-token stale >/dev/null &&
	pwbadm revoke-token gone >/dev/null && pwbadm revoke-token soon >/dev/null
tap_like "with only the token in use: ok" "$(pwbadm check | grep -E '^[A-Za-z]+ +tokens: ')" \
	'^ok +tokens: 1 SCIM tokens, none expiring within 30 days or unused for 90$'

tap_done
