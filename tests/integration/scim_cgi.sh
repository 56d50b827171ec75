#!/usr/bin/env bash
# pwb-scim as a plain CGI program (CGI/1.1: request in the environment and
# on stdin, response with a Status header on stdout), and its refusal to
# run as root.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
pwb_ns_enter "$@"

TOKEN=$(pwb_scim_token cgi) || tap_bail "cannot store a token"

# cgi METHOD URI [BODY]: runs pwb-scim once as the scim-user; the whole
# response in $PWB_TMP/cgi.out, its body in CGI_BODY.
cgi() {
	local query='' body=${3-}
	case $2 in *\?*) query=${2#*\?} ;; esac
	printf '%s' "$body" | env -i PATH="$PATH" PWB_CONFIG="$PWB_CONF" GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD="$1" REQUEST_URI="$2" QUERY_STRING="$query" HTTP_HOST=scim.example \
		HTTPS=on HTTP_AUTHORIZATION="${CGI_AUTH-Bearer $TOKEN}" \
		CONTENT_LENGTH="${CGI_LENGTH-${#body}}" \
		CONTENT_TYPE=application/scim+json \
		setpriv --reuid=pwb-scim --regid=pwb-scim --clear-groups "$PWB_BIN_SCIM" >"$PWB_TMP/cgi.out" 2>"$PWB_TMP/cgi.err"
	CGI_BODY=$(sed '1,/^\r$/d' "$PWB_TMP/cgi.out")
}

cgi GET /scim/v2/ServiceProviderConfig
tap_like "CGI: Status header first" "$(head -1 "$PWB_TMP/cgi.out")" $'^Status: 200 OK\r$'
tap_like "CGI: content type" "$(cat "$PWB_TMP/cgi.out")" 'Content-Type: application/scim\+json'
tap_is "CGI: body" "$(printf '%s' "$CGI_BODY" | jq -r '.patch.supported')" true
cgi POST /scim/v2/Users "$(scim_user_json cgi-user@example.com)"
tap_like "CGI: POST creates" "$(head -1 "$PWB_TMP/cgi.out")" '^Status: 201'
id=$(printf '%s' "$CGI_BODY" | jq -r .id)
tap_like "CGI: HTTPS=on gives an https Location" "$(grep -a '^Location:' "$PWB_TMP/cgi.out")" \
	"^Location: https://scim.example/scim/v2/Users/$id"
CGI_LENGTH='' cgi POST /scim/v2/Users "$(scim_user_json no-length@example.com)"
tap_like "CGI: a body without CONTENT_LENGTH is read to its end" "$(head -1 "$PWB_TMP/cgi.out")" '^Status: 201'
CGI_LENGTH='' cgi POST /scim/v2/Users "{\"userName\":\"big\",\"x\":\"$(head -c 1100000 /dev/zero | tr '\0' a)\"}"
tap_like "CGI: ... and refused past scim-max-request-bytes" "$(head -1 "$PWB_TMP/cgi.out")" '^Status: 413'
cgi GET "/scim/v2/Users?filter=userName%20eq%20%22CGI-USER%40example.com%22"
tap_is "CGI: the user is in the store (a fresh process finds it)" "$(printf '%s' "$CGI_BODY" | jq -r '.Resources[0].id')" "$id"
cgi GET $'/scim/v2/Users/\xff\xfe'
tap_like "CGI: a URI that is not UTF-8 cannot be relayed: 400" "$(head -1 "$PWB_TMP/cgi.out")" '^Status: 400'
tap_is "... with a SCIM error body" "$(printf '%s' "$CGI_BODY" | jq -r .status)" 400
cgi TRACE /scim/v2/Users
tap_like "CGI: a method outside the set: 405" "$(head -1 "$PWB_TMP/cgi.out")" '^Status: 405'
CGI_AUTH='' cgi GET /scim/v2/Users
tap_like "CGI: no token: 401" "$(head -1 "$PWB_TMP/cgi.out")" '^Status: 401'
tap_like "CGI: WWW-Authenticate" "$(cat "$PWB_TMP/cgi.out")" 'WWW-Authenticate: Bearer'

# last-used: recorded by the first request, then at most once a minute
last_used() {
	"$PWB_BIN_PWBADM" list-tokens --json | jq -r '.[] | select(.name == "cgi") | .lastUsed'
}
if [ -x "$PWB_BIN_PWBADM" ]; then
	first=$(last_used)
	tap_like "last use recorded" "$first" '^[0-9]{10}$'
	sleep 2
	cgi GET /scim/v2/Users
	tap_is "a request within the minute does not write it again" "$(last_used)" "$first"
else
	tap_skip "last use recorded" "pwbadm is not built in this tree"
	tap_skip "a request within the minute does not write it again" "pwbadm is not built in this tree"
fi

env -i PATH="$PATH" PWB_CONFIG="$PWB_CONF" REQUEST_METHOD=GET REQUEST_URI=/scim/v2/Users \
	"$PWB_BIN_SCIM" </dev/null >"$PWB_TMP/root.out" 2>"$PWB_TMP/root.err" && rc=0 || rc=$?
tap_is "refuses to run as root" "$rc" 1
tap_like "and says why" "$(cat "$PWB_TMP/root.err")" 'refusing to run as root'
tap_is "and writes no response" "$(wc -c <"$PWB_TMP/root.out")" 0

tap_done
