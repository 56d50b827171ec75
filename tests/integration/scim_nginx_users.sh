#!/usr/bin/env bash
# pwb-scim behind a real nginx (stock fastcgi_params) and spawn-fcgi:
# authentication, discovery, the Users lifecycle, every error case, and
# what NSS shows after create, deactivate, reactivate and delete.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

SCIM_TOKEN=$(pwb_scim_token scim-test) || tap_bail "cannot store a token"
EXPIRED_TOKEN=$(pwb_scim_token scim-old --expires-in -10) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
GOOD_TOKEN=$SCIM_TOKEN

# ---- authentication ----
SCIM_TOKEN='' scim_req GET /Users
scim_is_error "no token: 401" 401 -
tap_like "no token: WWW-Authenticate: Bearer" "$(scim_header WWW-Authenticate)" '^Bearer'
SCIM_TOKEN=not-a-token scim_req GET /Users
scim_is_error "wrong token: 401" 401 -
SCIM_TOKEN=$EXPIRED_TOKEN scim_req GET /Users
scim_is_error "expired token: 401" 401 -
tap_like "expired token: says so" "$(scim_jq .detail)" 'expired'
SCIM_TOKEN='' scim_req GET '/Users?filter=bad%20filter'
tap_is "no token and a bad filter: still 401 first" "$SCIM_STATUS" 401

# ---- discovery ----
scim_req GET /ServiceProviderConfig
tap_is "ServiceProviderConfig: 200" "$SCIM_STATUS" 200
tap_is "ServiceProviderConfig: patch and filter supported" \
	"$(scim_jq '[.patch.supported, .filter.supported, .bulk.supported] | @csv')" "true,true,false"
tap_like "responses are application/scim+json" "$(scim_header Content-Type)" '^application/scim\+json'
scim_req GET /ResourceTypes
tap_is "ResourceTypes: User and Group" "$(scim_jq '[.Resources[].endpoint] | sort | @csv')" '"/Groups","/Users"'
scim_req GET /ResourceTypes/User
tap_is "ResourceTypes/User: posix extension" "$(scim_jq '.schemaExtensions[0].schema')" \
	urn:pwb:params:scim:schemas:extension:posix:1.0:User
scim_req GET /Schemas
tap_is "Schemas: core User, Group and the posix extensions" \
	"$(scim_jq '[.Resources[].id] | sort | join(" ")')" \
	"urn:ietf:params:scim:schemas:core:2.0:Group urn:ietf:params:scim:schemas:core:2.0:User urn:pwb:params:scim:schemas:extension:posix:1.0:Group urn:pwb:params:scim:schemas:extension:posix:1.0:User"
scim_req GET /Schemas/urn:pwb:params:scim:schemas:extension:posix:1.0:User
tap_is "Schemas/posix User: uidNumber defined" "$(scim_jq '[.attributes[].name] | index("uidNumber") != null')" true

# ---- create ----
scim_req POST /Users "$(scim_user_json Alice@Example.com '"externalId":"ext-alice","password":"Sup3r-Secret!","displayName":"Alice Liddell"')"
tap_is "POST /Users: 201" "$SCIM_STATUS" 201
alice=$(scim_jq .id)
alice_uid=$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber')
tap_like "POST: id is a UUID" "$alice" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
tap_is "POST: Location is meta.location" "$(scim_header Location)" "$(scim_jq .meta.location)"
tap_is "POST: Location points at the user" "$(scim_header Location)" "$SCIM_URL/Users/$alice"
tap_like "POST: ETag is weak, as meta.version" "$(scim_header ETag)" '^W/"'
tap_is "POST: ETag equals meta.version" "$(scim_header ETag)" "$(scim_jq .meta.version)"
tap_is "POST: userName kept as sent" "$(scim_jq .userName)" Alice@Example.com
tap_is "POST: password is not returned" "$(scim_jq 'has("password")')" false
tap_like "POST: UID from the configured range" "$alice_uid" '^2[0-9]{4}$'
tap_is "POST: home from user-homedir-path and the Linux name" \
	"$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".homeDirectory')" "$PWB_HOME_ROOT/alice"
tap_is "POST: meta has created, lastModified, resourceType" \
	"$(scim_jq '[.meta.resourceType, (.meta.created|test("Z$")), (.meta.lastModified|test("Z$"))] | @csv')" '"User",true,true'
tap_check_fails "the password is stored nowhere in the store" grep -rqa 'Sup3r-Secret' "$PWB_DB_DIR"

scim_req GET "/Users/$alice"
tap_is "GET by id: 200" "$SCIM_STATUS" 200
tap_is "GET by id: same user, no groups" "$(scim_jq '[.userName, (.groups|length), .active] | @csv')" '"Alice@Example.com",0,true'
tap_is "GET by id: unknown attributes kept (name.givenName)" "$(scim_jq .name.givenName)" Given

scim_req GET '/Users?filter=userName%20eq%20%22ALICE%40EXAMPLE.COM%22'
tap_is "filter userName eq is case-insensitive" \
	"$(scim_jq '[.totalResults, .startIndex, .itemsPerPage, .Resources[0].id] | @csv')" "1,1,1,\"$alice\""
tap_is "ListResponse schema" "$(scim_jq '.schemas[0]')" urn:ietf:params:scim:api:messages:2.0:ListResponse
scim_req GET '/Users?filter=externalId%20eq%20%22ext-alice%22'
tap_is "filter externalId eq" "$(scim_jq '.Resources[0].id')" "$alice"
scim_req GET '/Users?filter=externalId%20eq%20%22EXT-ALICE%22'
tap_is "externalId is case-exact" "$(scim_jq .totalResults)" 0
scim_req GET '/Users?filter=userName%20eq%20%22alice%40example.com%22%20and%20active%20eq%20false'
tap_is "indexed candidate still checked against the whole filter" "$(scim_jq .totalResults)" 0
scim_req GET '/Users?filter=emails%5Btype%20eq%20%22work%22%20and%20value%20co%20%22example.com%22%5D'
tap_is "filter with a value path (scan)" "$(scim_jq '.Resources[0].id')" "$alice"
scim_req GET '/Users?filter=meta.lastModified%20gt%20%222000-01-01T00%3A00%3A00Z%22'
tap_is "filter on meta.lastModified" "$(scim_jq .totalResults)" 1
scim_req GET "/Users/$alice?attributes=userName"
tap_is "attributes=userName: only id, schemas, userName" "$(scim_jq 'keys | join(",")')" "id,schemas,userName"
scim_req GET "/Users/$alice?excludedAttributes=emails,name"
tap_is "excludedAttributes drops them" "$(scim_jq '[has("emails"), has("name"), has("userName")] | @csv')" "false,false,true"

tap_like "NSS ($PWB_NSS_VIA): passwd shows the new user" "$(scim_nss passwd alice)" "^alice:x:$alice_uid:[0-9]+:Alice Liddell:$PWB_HOME_ROOT/alice:"
tap_like "NSS ($PWB_NSS_VIA): the same entry by UID" "$(scim_nss passwd "$alice_uid")" "^alice:x:$alice_uid:"
tap_like "NSS ($PWB_NSS_VIA): shadow entry is active" "$(scim_nss shadow alice)" '^alice:\*:'

# ---- names, uniqueness, explicit ids ----
scim_req POST /Users "$(scim_user_json ALICE@example.COM)"
scim_is_error "same userName, other case: 409 uniqueness" 409 uniqueness
scim_req POST /Users "$(scim_user_json root)"
scim_is_error "a name owned by a local account: 409 uniqueness" 409 uniqueness
scim_req POST /Users "$(scim_user_json 'bad name!')"
scim_is_error "an invalid Linux name: 400 invalidValue" 400 invalidValue
tap_like "the error names the field" "$(scim_jq .detail)" '^userName'
scim_req POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}'
scim_is_error "no userName: 400 invalidValue" 400 invalidValue
scim_req POST /Users "$(scim_user_json carol@example.com '"urn:pwb:params:scim:schemas:extension:posix:1.0:User":{"uidNumber":25000,"gidNumber":25000}')"
tap_is "explicit uidNumber honoured when free" \
	"$SCIM_STATUS $(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber')" "201 25000"
carol=$(scim_jq .id)
scim_req POST /Users "$(scim_user_json dan@example.com '"urn:pwb:params:scim:schemas:extension:posix:1.0:User":{"uidNumber":25000}')"
scim_is_error "explicit uidNumber taken: 409" 409 uniqueness
scim_req POST /Users "$(scim_user_json dan@example.com '"urn:rstudio:params:scim:schemas:extension:workbench:1.0:User":{"posixUserId":25001}')"
tap_is "Posit's posixUserId honoured" \
	"$SCIM_STATUS $(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber')" "201 25001"
dan=$(scim_jq .id)

# ---- malformed requests ----
scim_req POST /Users '{"userName": "x",'
scim_is_error "malformed JSON: 400 invalidSyntax" 400 invalidSyntax
scim_req POST /Users '["not","an","object"]'
scim_is_error "a JSON array body: 400 invalidSyntax" 400 invalidSyntax
scim_req GET '/Users?filter=userName%20eq'
scim_is_error "bad filter: 400 invalidFilter" 400 invalidFilter
scim_req GET '/Users?filter=userName%20xx%20%22a%22'
scim_is_error "unknown operator: 400 invalidFilter" 400 invalidFilter
scim_req GET /Nothing
scim_is_error "unknown path: 404" 404 -
scim_req GET /Users/00000000-0000-4000-8000-000000000000
scim_is_error "unknown user id: 404" 404 -
scim_req GET /Users/not-a-uuid
scim_is_error "malformed user id: 404" 404 -
scim_req DELETE /Users
scim_is_error "DELETE on the collection: 405" 405 -
head -c 1100000 /dev/zero | tr '\0' 'a' | sed 's/^/{"userName":"big","x":"/; s/$/"}/' >"$PWB_TMP/big.json"
scim_req POST /Users "@$PWB_TMP/big.json"
scim_is_error "body over scim-max-request-bytes: 413" 413 -
scim_req GET '/Users?filter=userName%20eq%20%22big%22'
tap_is "nothing was created by refused requests" "$(scim_jq .totalResults)" 0

# ---- PUT ----
scim_req GET "/Users/$alice"
old_etag=$(scim_header ETag)
scim_req PUT "/Users/$alice" "$(scim_user_json Alice@Example.com '"externalId":"ext-alice","displayName":"Alice Pleasance"')"
tap_is "PUT: 200" "$SCIM_STATUS" 200
tap_is "PUT: displayName replaced" "$(scim_jq .displayName)" "Alice Pleasance"
tap_is "PUT without the posix extension keeps the UID" \
	"$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber')" "$alice_uid"
tap_check "PUT: ETag changed" test "$(scim_header ETag)" != "$old_etag"
SCIM_IF_MATCH=$old_etag scim_req PUT "/Users/$alice" "$(scim_user_json Alice@Example.com)"
scim_is_error "PUT with a stale If-Match: 412" 412 -
scim_req PUT "/Users/$alice" "$(scim_user_json Alice@Example.com '"urn:pwb:params:scim:schemas:extension:posix:1.0:User":{"uidNumber":25000}')"
scim_is_error "PUT to a UID another user has: 409" 409 uniqueness
# dan has a private group, which NSS also answers for (pwb's own entry,
# under dan's name): moving dan to a free uid moves it, not "a local group".
scim_req PUT "/Users/$dan" "$(scim_user_json dan@example.com '"urn:pwb:params:scim:schemas:extension:posix:1.0:User":{"uidNumber":25100,"gidNumber":25100}')"
tap_is "PUT moves a user with a private group to a free UID" \
	"$SCIM_STATUS $(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber')" "200 25100"
tap_like "its private group moved with it ($PWB_NSS_VIA)" "$(scim_nss group dan)" '^dan:[^:]*:25100:'

# ---- PATCH: deactivate and reactivate ----
scim_req PATCH "/Users/$alice" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}'
tap_is "PATCH active=false: 200, inactive" "$SCIM_STATUS $(scim_jq .active)" "200 false"
tap_like "deactivated: shadow locked and expired at once ($PWB_NSS_VIA)" "$(scim_nss shadow alice)" '^alice:!\*?:[0-9]*:[0-9]*:[0-9]*:[0-9]*:[0-9]*:1:'
tap_like "deactivated: still in passwd, files keep an owner ($PWB_NSS_VIA)" "$(scim_nss passwd alice)" "^alice:x:$alice_uid:"
scim_req PUT "/Users/$alice" "$(scim_user_json Alice@Example.com '"externalId":"ext-alice","displayName":"Alice Pleasance"' | jq -c 'del(.active)')"
tap_is "a PUT that omits active does not unlock" "$SCIM_STATUS $(scim_jq .active)" "200 false"
scim_req PATCH "/Users/$alice" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}'
tap_is "PATCH active=true: active again" "$(scim_jq .active)" true
tap_like "reactivated: shadow unlocked ($PWB_NSS_VIA)" "$(scim_nss shadow alice)" '^alice:\*:[0-9]*:[0-9]*:[0-9]*:[0-9]*:[0-9]*::'
scim_req PATCH "/Users/$alice" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"name.familyName","value":"Hargreaves"},{"op":"add","path":"title","value":"Muse"}]}'
tap_is "PATCH with paths: both applied" "$(scim_jq '[.name.familyName, .title, .name.givenName] | @csv')" '"Hargreaves","Muse","Given"'
scim_req PATCH "/Users/$alice" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"title"},{"op":"replace","path":"userName","value":"bad name!"}]}'
scim_is_error "PATCH to an invalid userName: 400 invalidValue" 400 invalidValue
scim_req GET "/Users/$alice"
tap_is "a refused PATCH changed nothing (title still there)" "$(scim_jq .title)" Muse
scim_req PATCH "/Users/$alice" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"x@y"}}]}'
scim_is_error "PATCH filter matching nothing: 400 noTarget" 400 noTarget
scim_req PATCH "/Users/$alice" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails[type eq","value":"x"}]}'
scim_is_error "PATCH with a broken path: 400 invalidPath" 400 invalidPath

# ---- DELETE ----
mkdir -p "$PWB_HOME_ROOT/alice" && echo data >"$PWB_HOME_ROOT/alice/notes.txt"
scim_req DELETE "/Users/$alice"
tap_is "DELETE: 204, no body" "$SCIM_STATUS:$SCIM_BODY" "204:"
scim_req GET "/Users/$alice"
scim_is_error "deleted user: 404" 404 -
tap_check "DELETE leaves the home directory on disk" test -f "$PWB_HOME_ROOT/alice/notes.txt"
tap_check_fails "deleted: gone from NSS ($PWB_NSS_VIA)" scim_nss passwd alice
tap_check_fails "deleted: its UID resolves to nobody ($PWB_NSS_VIA)" scim_nss passwd "$alice_uid"
scim_req POST /Users "$(scim_user_json alice@example.com)"
scim_is_error "the name again, with the old default home: 409" 409 uniqueness
tap_like "... naming homeDirectory (the old home keeps the deleted user's files)" \
	"$(scim_jq .detail)" "homeDirectory.*retired"
scim_req POST /Users "$(scim_user_json alice@example.com \
	'"urn:pwb:params:scim:schemas:extension:posix:1.0:User":{"homeDirectory":"'"$PWB_HOME_ROOT"'/alice2"}')"
tap_is "the name can be provisioned again (with a new home)" "$SCIM_STATUS" 201
tap_check "but the old UID is retired, not reused" \
	test "$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber')" != "$alice_uid"
scim_req DELETE "/Users/$carol"
tap_is "DELETE carol" "$SCIM_STATUS" 204
scim_req DELETE "/Users/$carol"
scim_is_error "DELETE again: 404" 404 -
scim_req GET "/Users?filter=id%20eq%20%22$dan%22"
tap_is "filter id eq" "$(scim_jq '.Resources[0].userName')" dan@example.com

# ---- the log: one line per request, never a token or a password ----
tap_like "log: one line per request with method, path, status, token name, duration" \
	"$(cat "$PWB_SCIM_LOG")" "POST /scim/v2/Users 201 token=scim-test [0-9.]+ms"
tap_like "log: refused requests are logged too" "$(cat "$PWB_SCIM_LOG")" "GET /scim/v2/Users 401 token=- "
tap_like "log: an expired token is named" "$(cat "$PWB_SCIM_LOG")" "401 token=scim-old "
tap_is "log: exactly one line per request" "$(grep -c ' token=' "$PWB_SCIM_LOG")" "$SCIM_REQUESTS"
tap_check_fails "log: never the token" grep -qF -e "$GOOD_TOKEN" -e "$EXPIRED_TOKEN" "$PWB_SCIM_LOG"
tap_check_fails "log: never the password" grep -q 'Sup3r-Secret' "$PWB_SCIM_LOG"

tap_done
