#!/usr/bin/env bash
# Entra ID's provisioning quirks against pwb-scim behind nginx: capitalised
# PATCH ops, "True"/"False" strings for booleans, path-less values whose
# keys are paths, adds through value filters, member removal by a value
# array, the enterprise extension kept as sent, and DELETE /Users/{id}.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

SCIM_TOKEN=$(pwb_scim_token entra) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
nss_like() { # DESC MAP KEY REGEX: an entry as the OS sees it
	tap_like "$1 ($PWB_NSS_VIA)" "$(scim_nss "$2" "$3")" "$4"
}
PATCH_OP='"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'
ENT=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User

# Entra's connectivity probe: a random userName that must not exist.
scim_req GET '/Users?filter=userName%20eq%20%2201a1ab22-0b0b-4c0c-8d8d-9e9e9e9e9e9e%22'
tap_is "probe: 200, no results" "$SCIM_STATUS $(scim_jq .totalResults)" "200 0"

scim_req POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"$ENT\"],\"externalId\":\"frank\",\"userName\":\"Frank.Miller@contoso.onmicrosoft.com\",\"active\":true,\"displayName\":\"Frank Miller\",\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"Frank.Miller@contoso.com\"}],\"meta\":{\"resourceType\":\"User\"},\"name\":{\"formatted\":\"Frank Miller\",\"familyName\":\"Miller\",\"givenName\":\"Frank\"},\"roles\":[],\"$ENT\":{\"department\":\"Finance\",\"employeeNumber\":\"1001\"}}"
tap_is "POST: 201" "$SCIM_STATUS" 201
frank=$(scim_jq .id)
tap_is "the Linux name drops the domain and case" \
	"$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:User".homeDirectory')" "$PWB_HOME_ROOT/frank.miller"
tap_is "enterprise extension kept and listed in schemas" \
	"$(scim_jq "[.\"$ENT\".department, (.schemas | index(\"$ENT\") != null)] | @csv")" '"Finance",true'
scim_req GET '/Users?filter=externalId%20eq%20%22frank%22'
tap_is "Entra matches on externalId" "$(scim_jq '.Resources[0].id')" "$frank"

scim_req PATCH "/Users/$frank" "{$PATCH_OP,\"Operations\":[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]}"
tap_is "Replace active \"False\": inactive, returned as a boolean" "$SCIM_STATUS $(scim_jq '.active | type') $(scim_jq .active)" "200 boolean false"
nss_like "\"False\" locks the account" shadow frank.miller '^frank\.miller:!'
scim_req PATCH "/Users/$frank" "{$PATCH_OP,\"Operations\":[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"True\"}]}"
tap_is "Replace active \"True\": active" "$(scim_jq .active)" true
nss_like "\"True\" unlocks it" shadow frank.miller '^frank\.miller:\*:'
scim_req PATCH "/Users/$frank" "{$PATCH_OP,\"Operations\":[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"maybe\"}]}"
scim_is_error "a boolean that is neither: 400 invalidValue" 400 invalidValue

scim_req PATCH "/Users/$frank" "{$PATCH_OP,\"Operations\":[{\"op\":\"Add\",\"path\":\"emails[type eq \\\"home\\\"].value\",\"value\":\"frank@home.example\"},{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"f.miller@contoso.com\"}]}"
tap_is "Add/Replace through value filters" \
	"$(scim_jq '[.emails[] | "\(.type)=\(.value)"] | sort | join(" ")')" "home=frank@home.example work=f.miller@contoso.com"
scim_req PATCH "/Users/$frank" "{$PATCH_OP,\"Operations\":[{\"op\":\"Replace\",\"value\":{\"name.familyName\":\"Millar\",\"displayName\":\"Frank Millar\",\"$ENT:department\":\"Research\"}}]}"
tap_is "path-less Replace whose keys are paths" \
	"$(scim_jq "[.name.familyName, .name.givenName, .displayName, .\"$ENT\".department, .\"$ENT\".employeeNumber] | @csv")" \
	'"Millar","Frank","Frank Millar","Research","1001"'
nss_like "display name follows into passwd" passwd frank.miller '^frank\.miller:x:[0-9]+:[0-9]+:Frank Millar:'
scim_req PATCH "/Users/$frank" "{$PATCH_OP,\"Operations\":[{\"op\":\"Remove\",\"path\":\"$ENT:department\"}]}"
tap_is "Remove an extension attribute" "$(scim_jq ".\"$ENT\" | has(\"department\")")" false

scim_req POST /Users "$(scim_user_json grace@contoso.com)"
grace=$(scim_jq .id)
scim_req POST /Users "$(scim_user_json heidi@contoso.com)"
heidi=$(scim_jq .id)
scim_req POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"externalId\":\"8a3f\",\"displayName\":\"Finance\",\"members\":[{\"value\":\"$frank\"},{\"value\":\"$grace\"},{\"value\":\"$heidi\"}]}"
tap_is "POST group with members: 201, 3 members" "$SCIM_STATUS $(scim_jq '.members | length')" "201 3"
grp=$(scim_jq .id)
gid=$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:Group".gidNumber')
tap_like "a GID was allocated from the range" "$gid" '^2[0-9]{4}$'
nss_like "group 'finance' with three members" group finance "^finance:x:$gid:.*,.*,"
scim_req GET '/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Finance%22'
tap_is "Entra's group lookup without members" "$(scim_jq '[.totalResults, .Resources[0].id, (.Resources[0] | has("members"))] | @csv')" "1,\"$grp\",false"
scim_req GET '/Groups?filter=externalId%20eq%20%228a3f%22'
tap_is "group lookup by externalId" "$(scim_jq '.Resources[0].id')" "$grp"
scim_req PATCH "/Groups/$grp" "{$PATCH_OP,\"Operations\":[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"$frank\"},{\"value\":\"$heidi\"}]}]}"
tap_is "Remove members with a value array" "$SCIM_STATUS $(scim_jq '[.members[].value] | join(" ")')" "200 $grace"
nss_like "group after removal" group finance "^finance:x:$gid:grace$"
scim_req PATCH "/Groups/$grp" "{$PATCH_OP,\"Operations\":[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"$heidi\"}]}]}"
tap_is "Add a member back" "$(scim_jq '.members | length')" 2
# Issue 17: a display name with a space is what Entra sends; the Linux name
# stays the one given at creation.
scim_req PATCH "/Groups/$grp" "{$PATCH_OP,\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Finance Team\"}]}"
tap_is "Replace displayName \"Finance Team\": 200, the display name only" \
	"$SCIM_STATUS $(scim_jq '[.displayName, ."urn:pwb:params:scim:schemas:extension:posix:1.0:Group".groupName] | @csv')" '200 "Finance Team","finance"'
nss_like "the Linux group keeps its name" group finance "^finance:x:$gid:"

scim_req DELETE "/Users/$frank"
tap_is "DELETE /Users/{id}: 204" "$SCIM_STATUS" 204
scim_req GET "/Users/$frank"
scim_is_error "then 404" 404 -
scim_req DELETE /Users
scim_is_error "DELETE /Users without an id: 405" 405 -
scim_req GET "/Groups/$grp"
tap_is "other users' memberships untouched" "$(scim_jq '.members | length')" 2

tap_done
