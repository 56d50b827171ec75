#!/usr/bin/env bash
# pwb-scim behind a real Apache httpd with mod_proxy_fcgi (and spawn-fcgi):
# the bearer token reaches it (CGIPassAuth), REQUEST_URI routing, create,
# filter, patch, put, delete, and errors.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/apache.sh"
pwb_ns_enter "$@"

SCIM_TOKEN=$(pwb_scim_token apache) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_apache_start || tap_bail "apache2 did not start"
PATCH_OP='"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'

SCIM_TOKEN='' scim_req GET /Users
scim_is_error "Apache: no token: 401" 401 -
tap_like "Apache: WWW-Authenticate passed through" "$(scim_header WWW-Authenticate)" '^Bearer'
scim_req GET /ServiceProviderConfig
tap_is "Apache: the token reaches pwb-scim" "$SCIM_STATUS" 200

scim_req POST /Users "$(scim_user_json ivan@example.com '"externalId":"ivan-1"')"
tap_is "Apache: POST 201" "$SCIM_STATUS" 201
ivan=$(scim_jq .id)
tap_is "Apache: Location with the server's port" "$(scim_header Location)" "$SCIM_URL/Users/$ivan"
tap_like "Apache: content type" "$(scim_header Content-Type)" '^application/scim\+json'
scim_req GET '/Users?filter=userName%20eq%20%22Ivan%40Example.com%22&startIndex=1&count=100'
tap_is "Apache: filter with a query string" "$(scim_jq '[.totalResults, .Resources[0].id] | @csv')" "1,\"$ivan\""
scim_req PATCH "/Users/$ivan" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}"
tap_is "Apache: PATCH deactivates" "$SCIM_STATUS $(scim_jq .active)" "200 false"
tap_like "Apache: locked ($PWB_NSS_VIA)" "$(scim_nss shadow ivan)" '^ivan:!'
scim_req PUT "/Users/$ivan" "$(scim_user_json ivan@example.com '"displayName":"Ivan I"')"
tap_is "Apache: PUT" "$SCIM_STATUS $(scim_jq .displayName) $(scim_jq .active)" "200 Ivan I true"
scim_req GET '/Users?filter=userName%20eq%20'
scim_is_error "Apache: bad filter: 400 invalidFilter" 400 invalidFilter
scim_req POST /Users '{"userName":'
scim_is_error "Apache: malformed JSON: 400 invalidSyntax" 400 invalidSyntax
scim_req GET /Elsewhere
scim_is_error "Apache: unknown path: 404" 404 -
scim_req DELETE "/Users/$ivan"
tap_is "Apache: DELETE 204" "$SCIM_STATUS" 204
scim_req GET "/Users/$ivan"
scim_is_error "Apache: then 404" 404 -

# SIGTERM: the responder finishes, closes the store and exits.
pid=$(head -1 "$PWB_TMP/run/pwb-scim.pid")
kill -TERM "$pid"
for _ in $(seq 1 50); do
	state=$(sed -n 's/^State:\t\(.\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ] && break
	sleep 0.1
done
tap_like "SIGTERM: pwb-scim exits" "${state:-gone}" '^(Z|gone)$'
tap_like "SIGTERM: and says so" "$(tail -1 "$PWB_SCIM_LOG")" 'pwb-scim: stopping'
scim_req GET /ServiceProviderConfig
tap_is "Apache: with the responder gone, 503" "$SCIM_STATUS" 503

tap_done
