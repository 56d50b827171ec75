#!/usr/bin/env bash
# Okta's provisioning sequence against pwb-scim behind nginx, request by
# request as Okta sends it: lookup by userName with startIndex/count, POST
# with a password, PUT for profile updates, PATCH without path to
# deactivate, and group push (POST with no members, PATCH add, PATCH remove
# by members[value eq], rename by PATCH without path), with GIDs.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

SCIM_TOKEN=$(pwb_scim_token okta) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
nss_like() { # DESC MAP KEY REGEX: an entry as the OS sees it
	tap_like "$1 ($PWB_NSS_VIA)" "$(scim_nss "$2" "$3")" "$4"
}
nss_gone() { # DESC MAP KEY
	tap_check_fails "$1 ($PWB_NSS_VIA)" scim_nss "$2" "$3"
}
PATCH_OP='"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'

# 0. "Test connector configuration": Okta lists a page of two users and groups.
scim_req GET '/Users?startIndex=1&count=2'
tap_is "connector test: a ListResponse" "$SCIM_STATUS $(scim_jq '.schemas[0]')" \
	"200 urn:ietf:params:scim:api:messages:2.0:ListResponse"
scim_req GET '/Groups?startIndex=1&count=100'
tap_is "group import page" "$SCIM_STATUS $(scim_jq '[.totalResults, .itemsPerPage] | @csv')" "200 0,0"

# 1. Okta looks the user up first.
scim_req GET '/Users?filter=userName%20eq%20%22dave.jones%40example.com%22&startIndex=1&count=100'
tap_is "lookup of an unknown user: empty ListResponse" \
	"$SCIM_STATUS $(scim_jq '[.totalResults, .startIndex, .itemsPerPage, (.Resources|length)] | @csv')" "200 0,1,0,0"

# 2. POST, as Okta sends it (password included).
okta_user='{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dave.jones@example.com","name":{"givenName":"Dave","familyName":"Jones"},"emails":[{"primary":true,"value":"dave.jones@example.com","type":"work"}],"displayName":"Dave Jones","locale":"en-US","externalId":"00u1abcd2EFGH3ijk4x7","groups":[],"password":"0kta-Pa55word!","active":true}'
scim_req POST /Users "$okta_user"
tap_is "POST: 201" "$SCIM_STATUS" 201
dave=$(scim_jq .id)
dave_uid=$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber')
tap_is "POST: Location" "$(scim_header Location)" "$SCIM_URL/Users/$dave"
tap_is "POST: no password in the response" "$(scim_jq 'has("password")')" false
tap_check_fails "POST: the password is stored nowhere" grep -rqa '0kta-Pa55word' "$PWB_DB_DIR"
nss_like "POST: dave.jones resolves" passwd dave.jones "^dave\.jones:x:$dave_uid:[0-9]+:Dave Jones:"

# Okta retries a create it did not hear back from: 409, then it looks up.
scim_req POST /Users "$okta_user"
scim_is_error "POST again: 409 uniqueness" 409 uniqueness
scim_req GET '/Users?filter=userName%20eq%20%22dave.jones%40example.com%22&startIndex=1&count=100'
tap_is "lookup finds the user" "$(scim_jq '[.totalResults, .itemsPerPage, .Resources[0].id] | @csv')" "1,1,\"$dave\""

# 3. GET by id, then PUT with the whole profile.
scim_req GET "/Users/$dave"
tap_is "GET by id: 200" "$SCIM_STATUS" 200
okta_put=$(printf '%s' "$okta_user" | jq -c --arg id "$dave" '.id=$id | .name.familyName="Jones-Smith" | .displayName="Dave Jones-Smith" | del(.password)')
scim_req PUT "/Users/$dave" "$okta_put"
tap_is "PUT: 200 with the new profile" "$SCIM_STATUS $(scim_jq .name.familyName)" "200 Jones-Smith"
tap_is "PUT: UID unchanged" "$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber')" "$dave_uid"
nss_like "PUT: new display name in the passwd entry" passwd dave.jones '^dave\.jones:x:[0-9]+:[0-9]+:Dave Jones-Smith:'

# 4. Deactivate: PATCH replace without path.
scim_req PATCH "/Users/$dave" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}"
tap_is "deactivate: 200, active false" "$SCIM_STATUS $(scim_jq .active)" "200 false"
nss_like "deactivate: shadow locked at once" shadow dave.jones '^dave\.jones:!'
scim_req PATCH "/Users/$dave" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":true}}]}"
tap_is "reactivate: active true" "$(scim_jq .active)" true
nss_like "reactivate: shadow unlocked" shadow dave.jones '^dave\.jones:\*:'

# 5. Group push with a GID.
scim_req POST /Users "$(scim_user_json erin@example.com)"
erin=$(scim_jq .id)
scim_req GET '/Groups?filter=displayName%20eq%20%22datasci%22&startIndex=1&count=100'
tap_is "group lookup before push: none" "$(scim_jq .totalResults)" 0
scim_req POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","urn:pwb:params:scim:schemas:extension:posix:1.0:Group"],"displayName":"datasci","members":[],"urn:pwb:params:scim:schemas:extension:posix:1.0:Group":{"gidNumber":25500}}'
tap_is "POST /Groups with no members: 201" "$SCIM_STATUS" 201
grp=$(scim_jq .id)
tap_is "POST /Groups: the GID pushed" "$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:Group".gidNumber')" 25500
tap_is "POST /Groups: Location" "$(scim_header Location)" "$SCIM_URL/Groups/$grp"
nss_like "group with its GID, no members" group datasci '^datasci:x:25500:$'
scim_req POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"other","urn:pwb:params:scim:schemas:extension:posix:1.0:Group":{"gidNumber":25500}}'
scim_is_error "a GID already taken: 409" 409 uniqueness
scim_req POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"datasci"}'
scim_is_error "a group name already taken: 409" 409 uniqueness

scim_req PATCH "/Groups/$grp" "{$PATCH_OP,\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$dave\",\"display\":\"dave.jones@example.com\"},{\"value\":\"$erin\",\"display\":\"erin@example.com\"}]}]}"
tap_is "PATCH add members: 200" "$SCIM_STATUS" 200
tap_is "PATCH add members: both listed" "$(scim_jq '[.members[].value] | sort | join(" ")')" "$(printf '%s\n' "$dave" "$erin" | sort | tr '\n' ' ' | sed 's/ $//')"
nss_like "group lists both members" group datasci '^datasci:x:25500:(dave\.jones,erin|erin,dave\.jones)$'
nss_like "initgroups: dave.jones is in GID 25500" initgroups dave.jones '(^|,)25500(,|$)'
nss_like "initgroups: so is erin" initgroups erin '(^|,)25500(,|$)'
scim_req GET "/Users/$dave"
tap_is "the user's groups are computed from membership" "$(scim_jq '[.groups[0].value, .groups[0].display] | @csv')" "\"$grp\",\"datasci\""
scim_req GET "/Groups?filter=members%5Bvalue%20eq%20%22$erin%22%5D"
tap_is "filter groups by member" "$(scim_jq '.Resources[0].id')" "$grp"

scim_req PATCH "/Groups/$grp" "{$PATCH_OP,\"Operations\":[{\"op\":\"remove\",\"path\":\"members[value eq \\\"$dave\\\"]\"}]}"
tap_is "PATCH remove members[value eq]: only erin left" "$SCIM_STATUS $(scim_jq '[.members[].value] | join(" ")')" "200 $erin"
nss_like "group after removal" group datasci '^datasci:x:25500:erin$'
tap_is "initgroups: dave.jones no longer in 25500 ($PWB_NSS_VIA)" \
	"$(scim_nss initgroups dave.jones 2>/dev/null | grep -cE '(^|,)25500(,|$)')" 0
scim_req GET "/Users/$dave"
tap_is "dave's groups now empty" "$(scim_jq '.groups | length')" 0

scim_req PATCH "/Groups/$grp" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"value\":{\"id\":\"$grp\",\"displayName\":\"datasci-team\"}}]}"
tap_is "rename by PATCH without path" "$SCIM_STATUS $(scim_jq .displayName)" "200 datasci-team"
tap_is "rename keeps GID, members and the Linux name" "$(scim_jq '[."urn:pwb:params:scim:schemas:extension:posix:1.0:Group".gidNumber, (.members|length), ."urn:pwb:params:scim:schemas:extension:posix:1.0:Group".groupName] | @csv')" '25500,1,"datasci"'
# Issue 17: the Linux name is fixed at creation; only the display name moves.
nss_like "the GID keeps its Linux name" group 25500 '^datasci:x:25500:erin$'
nss_gone "no group is named after the display name" group datasci-team
scim_req GET '/Groups?filter=displayName%20eq%20%22datasci-team%22&startIndex=1&count=100'
tap_is "lookup by the new name" "$(scim_jq '.Resources[0].id')" "$grp"
scim_req GET '/Groups?excludedAttributes=members'
tap_is "list groups without members" "$(scim_jq '[.totalResults, (.Resources[0]|has("members"))] | @csv')" "1,false"

scim_req PATCH "/Groups/$grp" "{$PATCH_OP,\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"00000000-0000-4000-8000-000000000000\"}]}]}"
scim_is_error "adding a user that does not exist: 400 invalidValue" 400 invalidValue

scim_req POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"halfway\",\"members\":[{\"value\":\"$erin\"},{\"value\":\"00000000-0000-4000-8000-000000000000\"}]}"
scim_is_error "POST /Groups with an unknown member: 400 invalidValue" 400 invalidValue
scim_req GET '/Groups?filter=displayName%20eq%20%22halfway%22'
tap_is "nothing half-written: the group was not created" "$(scim_jq .totalResults)" 0
tap_check_fails "nor published ($PWB_NSS_VIA)" scim_nss group halfway

scim_req PUT "/Groups/$grp" "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"datasci-team\",\"members\":[{\"value\":\"$dave\"}]}"
tap_is "PUT group replaces members" "$SCIM_STATUS $(scim_jq '[.members[].value] | join(" ")')" "200 $dave"

# 6. Deprovision: deactivate, then delete the group and the user.
scim_req DELETE "/Groups/$grp"
tap_is "DELETE group: 204" "$SCIM_STATUS" 204
nss_gone "group gone" group datasci
nss_gone "its GID resolves to nothing" group 25500
scim_req GET "/Users/$dave"
tap_is "user's groups after the group is deleted" "$(scim_jq '.groups | length')" 0
scim_req DELETE "/Users/$dave"
tap_is "DELETE user: 204" "$SCIM_STATUS" 204
nss_gone "user gone" passwd dave.jones

tap_done
