#!/usr/bin/env bash
# Issue 17: group names as Okta and Entra push them, against real nginx,
# pwb-scim and pwbd. Okta's Push Groups order (lookup by displayName, POST
# with no members, PATCH add/remove, rename by PATCH without path, DELETE)
# and Entra's (lookup without members, POST with members, capitalised
# Add/Replace/Remove with value arrays), with display names that have
# spaces, a collision, an over-long name, an Entra object id as the name,
# a mapping made with pwbadm map-group before the push and the posix
# extension's groupName; what getent shows; pwbadm list-groups; a Remove
# of displayName; /Schemas for password and groupName.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

SCIM_TOKEN=$(pwb_scim_token okta) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
nss_like() { # DESC MAP KEY REGEX
	tap_like "$1 ($PWB_NSS_VIA)" "$(scim_nss "$2" "$3")" "$4"
}
nss_gone() { # DESC MAP KEY
	tap_check_fails "$1 ($PWB_NSS_VIA)" scim_nss "$2" "$3"
}
refused() { # DESC STATUS SCIMTYPE DETAIL-REGEX
	scim_is_error "$1: $2 $3" "$2" "$3"
	tap_like "$1: the detail says which and why" "$(scim_jq .detail)" "$4"
}
adm_fails() { # DESC REGEX CMD...: pwbadm exits non-zero, stderr matching
	local desc=$1 re=$2 out rc=0
	shift 2
	out=$(pwbadm "$@" 2>&1 >/dev/null) || rc=$?
	tap_check "$desc: exits non-zero" test "$rc" -ne 0
	tap_like "$desc: names it" "$out" "$re"
}
PATCH_OP='"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'
GROUP_SCHEMA='"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]'
PG=urn:pwb:params:scim:schemas:extension:posix:1.0:Group
q() { jq -rn --arg v "$1" '$v | @uri'; } # URL-encodes a filter

scim_req POST /Users "$(scim_user_json frank@example.com)"
frank=$(scim_jq .id)
scim_req POST /Users "$(scim_user_json grace@example.com)"
grace=$(scim_jq .id)
[ -n "$frank" ] && [ -n "$grace" ] || tap_bail "cannot create the users"

# ---- a mapping made before the IdP pushes the group ----
out=$(pwbadm map-group "Platform Engineering" plateng 2>&1)
tap_is "map-group: exit 0" "$?" 0
tap_like "map-group says what it did" "$out" 'group "Platform Engineering" maps to plateng'
tap_like "list-group-maps shows it" "$(pwbadm list-group-maps)" 'Platform Engineering +plateng'
tap_is "list-group-maps --json" "$(pwbadm list-group-maps --json | jq -c '[.[0].displayName, .[0].name]')" \
	'["Platform Engineering","plateng"]'
adm_fails "map-group of a display name already mapped (any case)" 'already mapped to plateng' \
	map-group "PLATFORM engineering" other
adm_fails "map-group of a Linux name already mapped" 'plateng is already the mapping of "Platform Engineering"' \
	map-group "Ops" plateng
adm_fails "map-group to a deny-listed name" 'deny-names' map-group "Ops" docker
tap_is "map-group to an invalid Linux name: usage error (2)" \
	"$(adm_status pwbadm map-group "Ops" "Bad Name")" 2
tap_is "map-group of a display name that is not UTF-8: usage error (2)" \
	"$(adm_status pwbadm map-group $'Ops \xff' ops)" 2
tap_is "map-group of a display name with a control character: usage error (2)" \
	"$(adm_status pwbadm map-group $'Ops\nTeam' ops)" 2
nss_gone "a mapping alone creates no group" group plateng

# ---- Okta: Push Groups for "Data Scientists" ----
scim_req GET "/Groups?filter=$(q 'displayName eq "Data Scientists"')&startIndex=1&count=100"
tap_is "Okta looks the group up first: none" "$SCIM_STATUS $(scim_jq .totalResults)" "200 0"
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"Data Scientists\",\"members\":[]}"
tap_is "POST \"Data Scientists\": 201" "$SCIM_STATUS" 201
ds=$(scim_jq .id)
ds_gid=$(scim_jq ".\"$PG\".gidNumber")
tap_is "the display name kept, the Linux name derived" \
	"$(scim_jq "[.displayName, .\"$PG\".groupName] | @csv")" '"Data Scientists","data_scientists"'
nss_like "getent group data_scientists" group data_scientists "^data_scientists:x:$ds_gid:\$"
scim_req GET "/Groups?filter=$(q 'displayName eq "Data Scientists"')&startIndex=1&count=100"
tap_is "lookup by the display name Okta sent finds it" "$(scim_jq '[.totalResults, .Resources[0].id] | @csv')" "1,\"$ds\""
scim_req GET "/Groups?filter=$(q 'displayName eq "data scientists"')"
tap_is "displayName is not case-exact" "$(scim_jq '.Resources[0].id')" "$ds"

scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"data_scientists\"}"
refused "a second display name giving the same Linux name" 409 uniqueness \
	"data_scientists.*already taken by group .Data Scientists."
scim_req GET "/Groups?filter=$(q 'displayName eq "data_scientists"')"
tap_is "never merged: no group of that display name" "$(scim_jq .totalResults)" 0

scim_req PATCH "/Groups/$ds" "{$PATCH_OP,\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$frank\",\"display\":\"frank@example.com\"},{\"value\":\"$grace\",\"display\":\"grace@example.com\"}]}]}"
tap_is "PATCH add members: 200" "$SCIM_STATUS $(scim_jq '.members | length')" "200 2"
nss_like "both members under the Linux name" group data_scientists \
	"^data_scientists:x:$ds_gid:(frank,grace|grace,frank)\$"
scim_req PATCH "/Groups/$ds" "{$PATCH_OP,\"Operations\":[{\"op\":\"remove\",\"path\":\"members[value eq \\\"$frank\\\"]\"}]}"
nss_like "PATCH remove members[value eq]: grace left" group data_scientists "^data_scientists:x:$ds_gid:grace\$"

scim_req PATCH "/Groups/$ds" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"value\":{\"id\":\"$ds\",\"displayName\":\"Data Science Team\"}}]}"
tap_is "Okta's rename: the display name only" \
	"$SCIM_STATUS $(scim_jq "[.displayName, .\"$PG\".groupName] | @csv")" '200 "Data Science Team","data_scientists"'
nss_like "the Linux group keeps its name and members" group "$ds_gid" "^data_scientists:x:$ds_gid:grace\$"
nss_gone "no group named after the new display name" group data_science_team
scim_req GET "/Groups?filter=$(q 'displayName eq "Data Science Team"')"
tap_is "lookup by the new display name" "$(scim_jq '.Resources[0].id')" "$ds"
scim_req PATCH "/Groups/$ds" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"path\":\"$PG:groupName\",\"value\":\"other\"}]}"
refused "groupName of an existing group" 400 mutability "immutable"

# ---- names no rule turns into a Linux name: 400, saying which and why ----
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"A Very Long Group Name For Everyone Here\"}"
refused "an over-long name" 400 invalidValue \
	'a_very_long_group_name_for_everyone_here.* 40 characters, more than 32'
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"0f8fad5b-d9cb-469f-a165-70867728950e\"}"
refused "an Entra object id as the name" 400 invalidValue 'starts with a digit'
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"Équipe Données\"}"
refused "a non-ASCII name" 400 invalidValue 'not ASCII'
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"R&D\"}"
refused "a character a Linux name cannot hold" 400 invalidValue "derived group name .r&d. contains '&'"
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"Sudo\"}"
refused "a deny-listed derived name" 400 invalidValue 'derived group name .sudo.*deny-names'
scim_req GET '/Groups?startIndex=1&count=100'
tap_is "none of them was created" "$(scim_jq .totalResults)" 1

# ---- the mapping applies to the push ----
scim_req GET "/Groups?filter=$(q 'displayName eq "Platform Engineering"')&startIndex=1&count=100"
tap_is "the mapped group is not there before the push" "$(scim_jq .totalResults)" 0
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"plateng\"}"
refused "another display name cannot take a reserved name" 409 uniqueness \
	"reserved for group .Platform Engineering."
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"Platform Engineering\",\"members\":[{\"value\":\"$frank\"}]}"
tap_is "POST \"Platform Engineering\": the mapped Linux name" \
	"$SCIM_STATUS $(scim_jq ".\"$PG\".groupName")" "201 plateng"
pe_gid=$(scim_jq ".\"$PG\".gidNumber")
nss_like "getent group plateng" group plateng "^plateng:x:$pe_gid:frank\$"
scim_req POST /Groups "{$GROUP_SCHEMA,\"displayName\":\"plateng\"}"
refused "then the name is taken by that group" 409 uniqueness \
	"plateng.*already taken by group .Platform Engineering."
adm_fails "map-group of an existing group's display name to another name" \
	'exists as data_scientists' map-group "Data Science Team" ds

# ---- the posix extension's groupName overrides the rule ----
scim_req POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\",\"$PG\"],\"displayName\":\"Research & Development\",\"$PG\":{\"groupName\":\"rnd\"}}"
tap_is "groupName overrides" "$SCIM_STATUS $(scim_jq ".\"$PG\".groupName")" "201 rnd"
nss_like "getent group rnd" group rnd '^rnd:x:'
scim_req POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\",\"$PG\"],\"displayName\":\"Admins\",\"$PG\":{\"groupName\":\"sudo\"}}"
refused "groupName on the deny list" 400 invalidValue 'groupName.*deny-names'

# ---- Entra: "Finance Ops" ----
scim_req GET "/Groups?excludedAttributes=members&filter=$(q 'displayName eq "Finance Ops"')"
tap_is "Entra looks the group up without members: none" "$SCIM_STATUS $(scim_jq .totalResults)" "200 0"
scim_req POST /Groups "{$GROUP_SCHEMA,\"externalId\":\"6f1c2a\",\"displayName\":\"Finance Ops\",\"members\":[{\"value\":\"$frank\"}]}"
tap_is "Entra's POST with a member: 201" "$SCIM_STATUS $(scim_jq ".\"$PG\".groupName")" "201 finance_ops"
fo=$(scim_jq .id)
fo_gid=$(scim_jq ".\"$PG\".gidNumber")
scim_req PATCH "/Groups/$fo" "{$PATCH_OP,\"Operations\":[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"$grace\"}]}]}"
tap_is "Add with a value array" "$SCIM_STATUS $(scim_jq '.members | length')" "200 2"
scim_req PATCH "/Groups/$fo" "{$PATCH_OP,\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Finance Operations\"}]}"
tap_is "Replace displayName" "$SCIM_STATUS $(scim_jq "[.displayName, .\"$PG\".groupName] | @csv")" \
	'200 "Finance Operations","finance_ops"'
scim_req PATCH "/Groups/$fo" "{$PATCH_OP,\"Operations\":[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"$frank\"}]}]}"
nss_like "Remove with a value array: grace left under finance_ops" group finance_ops "^finance_ops:x:$fo_gid:grace\$"
scim_req PATCH "/Groups/$fo" "{$PATCH_OP,\"Operations\":[{\"op\":\"Remove\",\"path\":\"displayName\"}]}"
refused "Remove of a group's displayName (required, RFC 7643 §4.2)" 400 invalidValue 'displayName is required'
scim_req GET "/Groups/$fo"
tap_is "the group keeps its display name" "$(scim_jq .displayName)" "Finance Operations"

# ---- Remove of a User's displayName: unassigned (RFC 7644 §3.5.2.2) ----
scim_req POST /Users "$(scim_user_json heidi@example.com '"displayName":"Heidi H"')"
heidi=$(scim_jq .id)
tap_is "the user has a displayName" "$(scim_jq .displayName)" "Heidi H"
scim_req PATCH "/Users/$heidi" "{$PATCH_OP,\"Operations\":[{\"op\":\"Remove\",\"path\":\"displayName\"}]}"
tap_is "Remove displayName: 200, none returned" "$SCIM_STATUS $(scim_jq 'has("displayName")')" "200 false"
scim_req GET "/Users/$heidi"
tap_is "GET returns no displayName" "$(scim_jq 'has("displayName")')" false
nss_like "gecos still comes from name" passwd heidi '^heidi:x:[0-9]+:[0-9]+:Given Family:'

# ---- what /Schemas and /ResourceTypes say ----
scim_req GET /Schemas/urn:ietf:params:scim:schemas:core:2.0:User
tap_is "password: returned never (RFC 7643 §4.1.1)" \
	"$(scim_jq '.attributes[] | select(.name == "password") | [.returned, .mutability] | @csv')" '"never","writeOnly"'
scim_req GET "/Schemas/$PG"
tap_is "the posix group extension documents groupName" \
	"$(scim_jq '.attributes[] | select(.name == "groupName") | [.mutability, .caseExact] | @csv')" '"immutable",true'
scim_req GET /ResourceTypes/Group
tap_like "the Group resource type says where the Linux name comes from" "$(scim_jq .description)" 'map-group'

# ---- pwbadm shows both names ----
tap_like "list-groups: Linux name, GID, members, display name" "$(pwbadm list-groups)" \
	"data_scientists +$ds_gid +grace +Data Science Team"
tap_like "list-groups: a mapped group" "$(pwbadm list-groups)" "plateng +$pe_gid +frank +Platform Engineering"
tap_is "list-groups --json: both names" \
	"$(pwbadm list-groups --json | jq -c '[.[] | select(.name == "finance_ops") | .name, .displayName]')" \
	'["finance_ops","Finance Operations"]'

# ---- mappings travel in export and import ----
pwbadm export "$PWB_TMP/export.jsonl" >/dev/null || tap_fail "export failed"
tap_is "export holds the mapping" \
	"$(jq -c 'select(.type == "groupmap") | [.displayName, .name]' "$PWB_TMP/export.jsonl")" \
	'["Platform Engineering","plateng"]'
pwbadm unmap-group "Platform Engineering" >/dev/null || tap_fail "unmap-group failed"
tap_is "import of the export: exit 0" "$(adm_status pwbadm import "$PWB_TMP/export.jsonl")" 0
tap_like "the mapping is back" "$(pwbadm list-group-maps)" 'Platform Engineering +plateng'
tap_is "import again: unchanged, exit 0" "$(adm_status pwbadm import "$PWB_TMP/export.jsonl")" 0
printf '%s\n' '{"type":"groupmap","displayName":"Ops Team","name":"plateng","created":1}' >"$PWB_TMP/clash.jsonl"
adm_fails "import of a mapping that collides" 'groupmap plateng.*already the mapping of' \
	import "$PWB_TMP/clash.jsonl"

# ---- Okta's DELETE ----
scim_req DELETE "/Groups/$ds"
tap_is "DELETE: 204" "$SCIM_STATUS" 204
nss_gone "the Linux group is gone" group data_scientists
out=$(pwbadm unmap-group "platform engineering" 2>&1)
tap_is "unmap-group (any case): exit 0" "$?" 0
tap_is "no mapping left" "$(pwbadm list-group-maps --json | jq length)" 0
nss_like "the group a mapping named stays" group plateng "^plateng:x:$pe_gid:"
adm_fails "unmap-group of nothing" 'no mapping' unmap-group "Platform Engineering"

tap_done
