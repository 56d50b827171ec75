#!/usr/bin/env bash
# The store's policy as a SCIM client meets it (pwb-scim behind a real
# nginx): with only the bearer token, no local or foreign primary gid, no
# home outside the home roots, no shell outside /etc/shells, no privileged
# group name, no second user in another's home, and no body that breaks
# publishing for everyone. Each refusal is the error a client sees.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

SCIM_TOKEN=$(pwb_scim_token scim-test) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
POSIX=urn:pwb:params:scim:schemas:extension:posix:1.0:User

# posix_user NAME JSON-MEMBERS: a User body with the posix extension.
posix_user() { scim_user_json "$1" "\"$POSIX\":{$2}"; }

scim_req POST /Users "$(scim_user_json anna@example.com)"
tap_is "a plain user: 201" "$SCIM_STATUS" 201
anna_uid=$(scim_jq ".\"$POSIX\".uidNumber")

# ---- primary gid ----
for gid in 42 27 6 "$anna_uid"; do
	scim_req POST /Users "$(posix_user mallory "\"gidNumber\":$gid")"
	scim_is_error "gidNumber $gid (shadow, sudo, disk, anna's own group): 400" 400 invalidValue
	tap_like "... naming gidNumber" "$(scim_jq .detail)" "gidNumber $gid"
done
scim_req POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"analysts"}'
tap_is "a pwb group: 201" "$SCIM_STATUS" 201
analysts_gid=$(scim_jq '."urn:pwb:params:scim:schemas:extension:posix:1.0:Group".gidNumber')
scim_req POST /Users "$(posix_user bert "\"gidNumber\":$analysts_gid")"
tap_is "a pwb group's gid as primary gid: 201" "$SCIM_STATUS" 201

# ---- home and shell ----
for home in /etc/systemd/system/ssh.service.d /root /root/.ssh /etc /usr/local/bin \
	/var/spool/cron/crontabs "$PWB_HOME_ROOT/../etc"; do
	scim_req POST /Users "$(posix_user mallory "\"homeDirectory\":\"$home\"")"
	scim_is_error "homeDirectory $home: 400" 400 invalidValue
	tap_like "... naming homeDirectory" "$(scim_jq .detail)" homeDirectory
done
scim_req POST /Users "$(posix_user mallory '"loginShell":"/tmp/sh"')"
scim_is_error "loginShell not in /etc/shells: 400" 400 invalidValue
tap_like "... naming loginShell" "$(scim_jq .detail)" loginShell
tap_check_fails "nothing was stored for mallory" scim_nss passwd mallory

# ---- group names ----
for name in admin wheel docker lxd Sudo; do
	scim_req POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"'"$name"'"}'
	scim_is_error "group $name: 400" 400 invalidValue
	tap_like "... naming the deny list" "$(scim_jq .detail)" group-provisioning-deny-names
done
scim_req POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"daemon"}'
scim_is_error "a local group's name: 409" 409 uniqueness

# ---- a rename never hands the home to the next user of the name ----
scim_req POST /Users "$(scim_user_json alice@example.com)"
alice=$(scim_jq .id)
alice_home=$(scim_jq ".\"$POSIX\".homeDirectory")
scim_req PATCH "/Users/$alice" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"alicia@example.com"}]}'
tap_is "rename alice to alicia: 200" "$SCIM_STATUS" 200
tap_is "alicia keeps her home" "$(scim_jq ".\"$POSIX\".homeDirectory")" "$alice_home"
scim_req POST /Users "$(scim_user_json alice@example.com)"
scim_is_error "a new alice (default home): 409" 409 uniqueness
tap_like "... naming homeDirectory and its holder" "$(scim_jq .detail)" "homeDirectory.*alicia"
scim_req POST /Users "$(posix_user alice@example.com "\"homeDirectory\":\"$alice_home\"")"
scim_is_error "a new alice asking for that home: 409" 409 uniqueness

# ---- nothing accepted can become unpublishable ----
deep=$(python3 -c 'print("[" * 2047 + "]" * 2047)')
scim_req POST /Users "$(scim_user_json deep@example.com "\"nickName\":\"d\",\"x-deep\":$deep")"
scim_is_error "an attribute nested 2047 deep: 400" 400 invalidValue
tap_like "... naming the attribute" "$(scim_jq .detail)" "x-deep"
big=$(head -c 70000 /dev/zero | tr '\0' x)
scim_req POST /Users "$(scim_user_json big@example.com "\"x-big\":\"$big\"")"
scim_is_error "70 KB of attributes: 400" 400 invalidValue
scim_req POST /Users "$(scim_user_json carl@example.com)"
tap_is "others are still provisioned" "$SCIM_STATUS" 201
tap_like "... and published ($PWB_NSS_VIA)" "$(scim_nss passwd carl)" '^carl:x:'
tap_is "pwbadm list-users still works" "$("$PWB_BIN_PWBADM" list-users >/dev/null 2>&1; echo $?)" 0

tap_done
