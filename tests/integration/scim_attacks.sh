#!/usr/bin/env bash
# Issue 12's attacks with the SCIM bearer token, through nginx and FastCGI
# as an IdP (or whoever holds its token) would send them. Each is refused
# with the error a legitimate client sees: the status, the scimType, and a
# detail that names the attribute at fault. Nothing refused is stored, and
# the store stays publishable.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
pwb_ns_enter "$@"

# A known /etc/shells and a local group that is on no deny list.
printf '/bin/sh\n/bin/bash\n' >"$PWB_TMP/etc/shells"
mount --bind "$PWB_TMP/etc/shells" /etc/shells
echo 'localteam:x:4242:' >>/etc/group

SCIM_TOKEN=$(pwb_scim_token attacker) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"

P=urn:pwb:params:scim:schemas:extension:posix:1.0:User
WB=urn:rstudio:params:scim:schemas:extension:workbench:1.0:User
PATCH_OP='"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'
group_json() { printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"%s"%s}' "$1" "${2:+,$2}"; }

# refused DESC STATUS SCIMTYPE ATTRIBUTE: the last response is that error
# and its detail names the attribute.
refused() {
	scim_is_error "$1: $2 $3" "$2" "$3"
	tap_like "$1: detail names $4" "$(scim_jq .detail)" "$4"
}

# ---- a legitimate baseline: what an IdP may do ----
scim_req POST /Users "$(scim_user_json bob@example.com)"
tap_is "baseline: bob created" "$SCIM_STATUS" 201
bob=$(scim_jq .id)
bob_gid=$(scim_jq ".\"$P\".gidNumber")
scim_req POST /Groups "$(group_json datasci)"
tap_is "baseline: group datasci created" "$SCIM_STATUS" 201
datasci_gid=$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:Group".gidNumber')
scim_req POST /Users "$(scim_user_json carol@example.com "\"$P\":{\"gidNumber\":$datasci_gid,\"homeDirectory\":\"$PWB_HOME_ROOT/projects/carol\",\"loginShell\":\"/bin/sh\"}")"
tap_is "baseline: a pwb group as primary, a home below the root, a listed shell: 201" \
	"$SCIM_STATUS $(scim_jq "[.\"$P\".gidNumber, .\"$P\".homeDirectory, .\"$P\".loginShell] | @csv")" \
	"201 $datasci_gid,\"$PWB_HOME_ROOT/projects/carol\",\"/bin/sh\""
carol=$(scim_jq .id)

# ---- any primary gid ----
for gid in 42 27 6 "$bob_gid"; do
	scim_req POST /Users "$(scim_user_json "mallory$gid@example.com" "\"$P\":{\"gidNumber\":$gid}")"
	refused "POST gidNumber $gid" 400 invalidValue gidNumber
done
scim_req PUT "/Users/$carol" "$(scim_user_json carol@example.com "\"$P\":{\"gidNumber\":42}")"
refused "PUT gidNumber 42" 400 invalidValue gidNumber
scim_req PATCH "/Users/$carol" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"path\":\"$P:gidNumber\",\"value\":27}]}"
refused "PATCH gidNumber 27" 400 invalidValue gidNumber
tap_like "carol's primary group is still datasci ($PWB_NSS_VIA)" "$(scim_nss passwd carol)" "^carol:x:[0-9]+:$datasci_gid:"

# ---- any home directory ----
for home in /etc/systemd/system/ssh.service.d /root /root/.ssh /etc /usr/local/bin \
	/var/spool/cron/crontabs "$PWB_HOME_ROOT" "$PWB_HOME_ROOT/../../etc"; do
	scim_req POST /Users "$(scim_user_json malhome@example.com "\"$P\":{\"homeDirectory\":\"$home\"}")"
	refused "POST homeDirectory $home" 400 invalidValue homeDirectory
done
scim_req POST /Users "$(scim_user_json malhome@example.com "\"$WB\":{\"homeDirectory\":\"/root\"}")"
refused "POST the Workbench extension's homeDirectory /root" 400 invalidValue homeDirectory
scim_req PUT "/Users/$carol" "$(scim_user_json carol@example.com "\"$P\":{\"homeDirectory\":\"/etc/systemd/system/ssh.service.d\"}")"
refused "PUT homeDirectory /etc/systemd/system/ssh.service.d" 400 invalidValue homeDirectory
scim_req PUT "/Users/$carol" "$(scim_user_json carol@example.com "\"$WB\":{\"homeDirectory\":\"/var/spool/cron/crontabs\"}")"
refused "PUT the Workbench extension's homeDirectory" 400 invalidValue homeDirectory
scim_req PATCH "/Users/$carol" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"path\":\"$P:homeDirectory\",\"value\":\"/root/.ssh\"}]}"
refused "PATCH (path) homeDirectory /root/.ssh" 400 invalidValue homeDirectory
scim_req PATCH "/Users/$carol" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"value\":{\"$P\":{\"homeDirectory\":\"/usr/local/bin\"}}}]}"
refused "PATCH (no path) homeDirectory /usr/local/bin" 400 invalidValue homeDirectory
scim_req PATCH "/Users/$carol" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"path\":\"$WB:homeDirectory\",\"value\":\"/etc\"}]}"
refused "PATCH (path) the Workbench extension's homeDirectory /etc" 400 invalidValue homeDirectory
scim_req PATCH "/Users/$carol" "{$PATCH_OP,\"Operations\":[{\"op\":\"add\",\"value\":{\"$WB\":{\"homeDirectory\":\"/root\"}}}]}"
refused "PATCH (no path) the Workbench extension's homeDirectory /root" 400 invalidValue homeDirectory
tap_like "carol's home is unchanged ($PWB_NSS_VIA)" "$(scim_nss passwd carol)" ":$PWB_HOME_ROOT/projects/carol:/bin/sh$"

# ---- login shells not in /etc/shells ----
for shell in /usr/bin/python3 /tmp/evil.sh; do
	scim_req POST /Users "$(scim_user_json malshell@example.com "\"$P\":{\"loginShell\":\"$shell\"}")"
	refused "POST loginShell $shell" 400 invalidValue loginShell
done
scim_req PATCH "/Users/$carol" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"path\":\"$P:loginShell\",\"value\":\"/usr/bin/python3\"}]}"
refused "PATCH loginShell /usr/bin/python3" 400 invalidValue loginShell

# ---- privileged and local group names ----
for name in admin wheel docker lxd Admin WHEEL sudo shadow; do
	scim_req POST /Groups "$(group_json "$name")"
	refused "POST group $name" 400 invalidValue displayName
done
scim_req POST /Groups "$(group_json localteam)"
refused "POST group named like a local group" 409 uniqueness localteam
scim_req GET /Groups?filter=displayName%20eq%20%22datasci%22
grp=$(scim_jq '.Resources[0].id')
scim_req PATCH "/Groups/$grp" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"docker\"}]}"
refused "PATCH rename of a group to docker" 400 invalidValue displayName
scim_req PUT "/Groups/$grp" "$(group_json Wheel)"
refused "PUT rename of a group to Wheel" 400 invalidValue displayName
tap_like "the group keeps its name ($PWB_NSS_VIA)" "$(scim_nss group datasci)" "^datasci:x:$datasci_gid:"
for name in admin wheel docker lxd localteam; do
	scim_req GET "/Groups?filter=displayName%20eq%20%22$name%22"
	tap_is "no pwb group $name exists" "$(scim_jq .totalResults)" 0
done

# ---- a rename never hands a home to the next holder of the name ----
scim_req POST /Users "$(scim_user_json alice@example.com)"
tap_is "alice created" "$SCIM_STATUS" 201
alice=$(scim_jq .id)
alice_home=$(scim_jq ".\"$P\".homeDirectory")
scim_req PATCH "/Users/$alice" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"alicia@example.com\"}]}"
tap_is "alice renamed alicia: 200" "$SCIM_STATUS" 200
tap_is "alicia keeps her home" "$(scim_jq ".\"$P\".homeDirectory")" "$alice_home"
scim_req POST /Users "$(scim_user_json alice@example.com)"
refused "a new alice (default home) does not get alicia's home" 409 uniqueness homeDirectory
scim_req POST /Users "$(scim_user_json alice@example.com "\"$P\":{\"homeDirectory\":\"$alice_home\"}")"
refused "a new alice asking for alicia's home by path" 409 uniqueness homeDirectory
scim_req PATCH "/Users/$carol" "{$PATCH_OP,\"Operations\":[{\"op\":\"replace\",\"path\":\"$P:homeDirectory\",\"value\":\"$alice_home\"}]}"
refused "another user asking for alicia's home" 409 uniqueness homeDirectory
tap_like "alicia's passwd line still holds her home ($PWB_NSS_VIA)" "$(scim_nss passwd alicia)" ":$alice_home:"

# ---- deep nesting cannot make the store unpublishable ----
deep=$(printf '{"a":%.0s' $(seq 1 2046))1$(printf '}%.0s' $(seq 1 2046))
scim_req POST /Users "$(scim_user_json deep@example.com "\"x\":$deep")"
refused "POST an attribute nested 2047 levels deep" 400 invalidValue 'nested deeper'
# the PatchOp's own three levels: as deep as Jansson still parses
deep=$(printf '{"a":%.0s' $(seq 1 2043))1$(printf '}%.0s' $(seq 1 2043))
scim_req PATCH "/Users/$carol" "{$PATCH_OP,\"Operations\":[{\"op\":\"add\",\"path\":\"x\",\"value\":$deep}]}"
refused "PATCH an attribute nested 2047 levels deep" 400 invalidValue 'nested deeper'
scim_req POST /Groups "$(group_json deepgroup "\"x\":$deep")"
refused "POST a Group nested 2047 levels deep" 400 invalidValue 'nested deeper'
scim_req POST /Users "$(scim_user_json erin@example.com)"
tap_is "afterwards a new user is created" "$SCIM_STATUS" 201
tap_like "and resolves at once: publishing still works ($PWB_NSS_VIA)" "$(scim_nss passwd erin)" '^erin:x:'
tap_like "pwbadm list-users still works" "$(pwbadm list-users 2>&1)" 'erin'

# ---- nothing refused was stored ----
scim_req GET '/Users?filter=userName%20sw%20%22mal%22%20or%20userName%20eq%20%22deep%40example.com%22'
tap_is "no refused user exists" "$(scim_jq .totalResults)" 0
scim_req GET '/Users?count=1000'
tap_is "every stored home lies below user-homedir-path" \
	"$(scim_jq "[.Resources[].\"$P\".homeDirectory | select(startswith(\"$PWB_HOME_ROOT/\") | not)] | length")" 0

# ---- an unauthenticated write changes nothing; pwbd records the real one ----
# pwbd runs each request as one transaction, and the change log keeps the
# request id of every change: root sends scim.request itself (as the relay
# would) and asks pwbd what each request changed.
scim_direct() { # ARGS-JSON: prints the request id; the result in $PWB_TMP/direct.json
	"$PWB_PWBD_CALL" --print-id scim.request "$1" >"$PWB_TMP/direct.json" 2>"$PWB_TMP/direct.err"
	sed -n 's/^id: //p' "$PWB_TMP/direct.err"
}
changed() { "$PWB_PWBD_CALL" request.status "{\"id\":\"$1\"}" 2>&1; }
body=$(scim_user_json frank@example.com | jq -Rs .)
rid=$(scim_direct "{\"method\":\"POST\",\"uri\":\"/scim/v2/Users\",\"body\":$body}")
tap_is "unauthenticated POST: 401" "$(jq -r .status "$PWB_TMP/direct.json")" 401
tap_like "... and the request changed nothing" "$(changed "$rid")" 'no change recorded'
rid=$(scim_direct "{\"method\":\"DELETE\",\"uri\":\"/scim/v2/Users/$carol\",\"authorization\":\"Bearer not-a-token\"}")
tap_is "wrong token DELETE: 401" "$(jq -r .status "$PWB_TMP/direct.json")" 401
tap_like "... and the request changed nothing" "$(changed "$rid")" 'no change recorded'
rid=$(scim_direct "{\"method\":\"POST\",\"uri\":\"/scim/v2/Users\",\"authorization\":\"Bearer $SCIM_TOKEN\",\"body\":$body}")
tap_is "the authenticated POST: 201" "$(jq -r .status "$PWB_TMP/direct.json")" 201
tap_like "and pwbd recorded its change under its request id" "$(changed "$rid")" '"applied":true'
scim_req GET '/Users?filter=userName%20eq%20%22frank%40example.com%22'
tap_is "exactly once" "$(scim_jq .totalResults)" 1

tap_done
