#!/usr/bin/env bash
# Tokens made by pwbadm, as pwb-scim sees them (pwb-scim run as a plain CGI
# program, as the scim-user, relaying to pwbd): a fresh token is accepted; a revoked one and
# an expired one are refused. Needs pwb-scim in the tree (scim-cgi/).
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm
if [ ! -x "$PWB_BIN_SCIM" ]; then
	echo "1..0 # SKIP pwb-scim not built in this tree"
	exit 0
fi

# scim_status TOKEN: the HTTP status pwb-scim answers GET /scim/v2/Users with.
scim_status() {
	env -i PATH=/usr/bin:/bin PWB_CONFIG="$PWB_CONF" GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD=GET REQUEST_URI=/scim/v2/Users SCRIPT_NAME=/scim/v2 \
		SERVER_PROTOCOL=HTTP/1.1 HTTP_AUTHORIZATION="Bearer $1" \
		setpriv --reuid=pwb-scim --regid=pwb-scim --clear-groups "$PWB_BIN_SCIM" </dev/null 2>/dev/null |
		sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -1
}

pwbadm add-user alice >/dev/null || tap_bail "cannot add a user"
token=$(pwbadm generate-token okta)
tap_is "a fresh pwbadm token is accepted" "$(scim_status "$token")" 200
tap_is "a wrong token is refused" "$(scim_status "${token%?}x")" 401
pwbadm revoke-token okta >/dev/null
tap_is "a revoked token is refused" "$(scim_status "$token")" 401

# An expired token: its hash imported with an expiry in the past, and a
# control with the same shape that has not expired.
now=$(date +%s)
old=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
live=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
printf '{"type":"token","name":"old","hash":"%s","masked":"%s...","created":%d,"expires":%d}\n' \
	"$(hash "$old")" "${old:0:4}" $((now - 100)) $((now - 10)) >"$PWB_TMP/tokens.jsonl"
printf '{"type":"token","name":"live","hash":"%s","masked":"%s...","created":%d,"expires":%d}\n' \
	"$(hash "$live")" "${live:0:4}" $((now - 100)) $((now + 3600)) >>"$PWB_TMP/tokens.jsonl"
pwbadm import "$PWB_TMP/tokens.jsonl" >/dev/null || tap_bail "cannot import tokens"
tap_like "list-tokens marks the expired one" "$(pwbadm list-tokens | awk '$1 == "old"')" '\(expired\)'
tap_is "an unexpired imported token is accepted" "$(scim_status "$live")" 200
tap_is "an expired token is refused" "$(scim_status "$old")" 401
pwbadm revoke-token --all >/dev/null
tap_is "revoke-token --all: refused" "$(scim_status "$live")" 401

tap_done
