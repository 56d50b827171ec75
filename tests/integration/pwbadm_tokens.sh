#!/usr/bin/env bash
# pwbadm's SCIM token commands: generate-token prints a 256-bit base64url
# token once and stores only its SHA-256; lifetimes; list-tokens masks;
# revoke-token one or all. (That pwb-scim refuses a revoked or expired token
# is tested with pwb-scim.)
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

before=$(date +%s)
token=$(pwbadm generate-token okta)
tap_is "generate-token succeeds" "$?" 0
tap_is "the output is the token alone, on one line" "$(printf '%s\n' "$token" | wc -l)" 1
# 32 random bytes in base64url without padding: 43 characters, 256 bits.
tap_like "the token is 43 base64url characters (256 bits)" "$token" '^[A-Za-z0-9_-]{43}$'
token2=$(pwbadm generate-token --duration 7 entra)
tap_check "two tokens differ" test "$token" != "$token2"
tap_is "a taken token name is refused" "$(adm_status pwbadm generate-token okta)" 1
tap_like "... saying revoke first" "$(adm_stderr pwbadm generate-token okta)" '^pwbadm: cannot store token okta: .*revoke-token okta'
tap_is "an invalid token name is a usage error" "$(adm_status pwbadm generate-token 'Bad/Name')" 2
tap_is "--duration and --no-expiry together are a usage error" \
	"$(adm_status pwbadm generate-token --duration 3 --no-expiry x)" 2
tap_is "--duration 0 is a usage error" "$(adm_status pwbadm generate-token --duration 0 x)" 2
tap_is "--duration abc is a usage error" "$(adm_status pwbadm generate-token --duration abc x)" 2
pwbadm generate-token --no-expiry forever >/dev/null

# The store keeps only the hash: the token's text is nowhere on disk.
tap_check_fails "the token text is not in the store files" grep -rqF -- "$token" "$PWB_DB_DIR"
json=$(pwbadm list-tokens --json)
tap_is "list-tokens --json lists three" "$(jq length <<<"$json")" 3
tap_is "the stored hash is the token's SHA-256" \
	"$(jq -r '.[] | select(.name=="okta") | .hash' <<<"$json")" \
	"$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)"
tap_check_fails "list-tokens --json never shows the token" grep -qF -- "$token" <<<"$json"
created=$(jq -r '.[] | select(.name=="okta") | .created' <<<"$json")
expires=$(jq -r '.[] | select(.name=="okta") | .expires' <<<"$json")
after=$(date +%s)
tap_check "created is now" test "$created" -ge "$before" -a "$created" -le "$after"
tap_is "default lifetime is 365 days" "$((expires - created))" $((365 * 86400))
tap_is "--duration 7 lasts 7 days" \
	"$(jq -r '.[] | select(.name=="entra") | .expires - .created' <<<"$json")" $((7 * 86400))
tap_is "--no-expiry never expires" "$(jq -r '.[] | select(.name=="forever") | .expires' <<<"$json")" 0
tap_is "never used" "$(jq -r '.[] | select(.name=="okta") | .lastUsed' <<<"$json")" 0

list=$(pwbadm list-tokens)
tap_is "list-tokens header" "$(printf '%s\n' "$list" | head -1 | tr -s ' ')" "NAME KEY CREATED EXPIRES LAST USED"
tap_check_fails "list-tokens never shows the token" grep -qF -- "$token" <<<"$list"
key=$(adm_column "$list" okta 2)
tap_like "the key column is masked" "$key" '\.\.\.$'
tap_check "... and starts like the token" test "${token:0:4}" = "${key:0:4}"
tap_check "... and shows at most 8 characters of it" test "${#key}" -le 9
tap_is "expiry shown as a date" "$(adm_column "$list" okta 4)" \
	"$(date -u -d "@$expires" +%Y-%m-%dT%H:%M:%SZ)"
tap_is "no-expiry shown as never" "$(adm_column "$list" forever 4)" never

tap_is "revoke-token okta" "$(adm_status pwbadm revoke-token okta)" 0
tap_is "okta is gone" "$(pwbadm list-tokens --json | jq -r 'map(.name) | join(",")')" "entra,forever"
tap_is "revoking it again fails" "$(adm_status pwbadm revoke-token okta)" 1
tap_like "... saying so" "$(adm_stderr pwbadm revoke-token okta)" 'no token named okta'
tap_is "revoke-token with no name is a usage error" "$(adm_status pwbadm revoke-token)" 2
tap_is "revoke-token --all with a name is a usage error" "$(adm_status pwbadm revoke-token --all entra)" 2
tap_is "the name can be reused after revoking" "$(adm_status pwbadm generate-token okta)" 0
tap_like "revoke-token --all" "$(pwbadm revoke-token --all)" '^revoked 3 tokens$'
tap_is "no tokens left" "$(pwbadm list-tokens --json | jq length)" 0

tap_done
