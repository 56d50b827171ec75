#!/usr/bin/env bash
# Every path that changes the store records the right actor in the audit
# trail (and its syslog copy): SCIM with the token's name and the client's
# address (pwb-scim relays REMOTE_ADDR from nginx), JIT with the PAM
# service and remote host (pamtester -I rhost=), pwb-login's sign-in op
# with its service and client address, pwbadm with SUDO_USER; a caller
# that is not root cannot pass itself off as another actor.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
set -u
adm_require_pwbadm
mkhome_syslog_start
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
chmod 0755 "$PWB_TMP" "$(dirname "$PWB_PWBD_SOCKET")"

# last_change NAME: the newest entry of user NAME as
# "kind|name|service|rhost op changed".
last_change() {
	pwbadm log --user "$1" --limit 1 --json |
		jq -r '.[0] | "\(.actor.kind)|\(.actor.name)|\(.actor.service)|\(.actor.rhost) \(.op) \(.changed // [] | join(","))"'
}

# ---- SCIM: the token's name, the client's address through the relay ----
SCIM_TOKEN=$(pwb_scim_token okta-prod) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
mkhome_syslog_mark
# from 127.0.0.2: an address nothing else uses, so it can only come from
# this client through nginx's REMOTE_ADDR
status=$(curl -sS --interface 127.0.0.2 -o "$PWB_TMP/scim.b" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $SCIM_TOKEN" -H 'Content-Type: application/scim+json' \
	--data-binary "$(scim_user_json sam@example.com)" "$SCIM_URL/Users")
tap_is "SCIM creates sam" "$status" 201
id=$(jq -r .id "$PWB_TMP/scim.b")
tap_is "SCIM: the token's name and the client's address" "$(last_change sam)" "scim|okta-prod||127.0.0.2 create "
curl -sS --interface 127.0.0.2 -o /dev/null -X PATCH -H "Authorization: Bearer $SCIM_TOKEN" \
	-H 'Content-Type: application/scim+json' \
	--data-binary '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}' \
	"$SCIM_URL/Users/$id"
tap_is "SCIM PATCH: the attribute changed" "$(last_change sam)" "scim|okta-prod||127.0.0.2 update active"
tap_like "syslog names the token and the address" "$(mkhome_syslog_since)" \
	'pwb change [0-9]+: user sam update \(active\) by scim okta-prod from 127\.0\.0\.2 uid [0-9]+, request '
tap_like "pwbadm log shows it as one line" "$(pwbadm log --actor okta-prod)" \
	'scim:okta-prod@127\.0\.0\.2 +update +user sam +active'
SCIM_TOKEN=not-a-token scim_req POST /Users "$(scim_user_json eve@example.com)"
tap_is "a bad token changes nothing" "$SCIM_STATUS" 401
tap_is "... and no entry names eve" "$(pwbadm log --user eve --json | jq length)" 0

# ---- JIT: the PAM service and the remote host ----
mkhome_oidc_service sshd-audit ""
token=$(mkhome_token jill '"groups":["labs"]')
mkhome_syslog_mark
out=$(printf '%s\n' "$token" | pamtester -v -I rhost=198.51.100.7 sshd-audit jill authenticate acct_mgmt 2>&1)
tap_like "JIT registers jill" "$out" 'successfully'
tap_is "JIT: jit, the PAM service and PAM_RHOST" "$(pwbadm log --user jill --json | jq -r '[.[] | select(.op == "create")][0] | "\(.actor.kind)|\(.actor.service)|\(.actor.rhost)"')" \
	"jit|sshd-audit|198.51.100.7"
tap_like "the group's membership too" "$(pwbadm log --group labs)" 'jit/sshd-audit@198\.51\.100\.7 +member +group labs +members'
tap_like "syslog: by jit, service and host" "$(mkhome_syslog_since)" \
	'pwb change [0-9]+: user jill create by jit service sshd-audit from 198\.51\.100\.7 uid 0'
tap_unlike "no token in syslog" "$(mkhome_syslog_since)" "${token:0:40}"

# ---- pwb-login: its sign-in op, as the login-user ----
token=$(mkhome_token lena)
out=$(setpriv --reuid="$PWB_LOGIN_UID" --regid="$PWB_LOGIN_UID" --clear-groups "$PWB_PWBD_CALL" \
	--socket "$PWB_PWBD_SOCKET" account.signin_token \
	"{\"token\":\"$token\",\"service\":\"pwb-login\",\"rhost\":\"203.0.113.5\"}" 2>&1)
tap_like "pwb-login's sign-in registers lena" "$out" '"result": *"registered"'
tap_is "pwb-login: the service and the browser's address" "$(pwbadm log --user lena --json | jq -r '[.[] | select(.op == "create")][0] | "\(.actor.kind)|\(.actor.service)|\(.actor.rhost)|\(.actor.uid)"')" \
	"pwb-login|pwb-login|203.0.113.5|$PWB_LOGIN_UID"

# ---- pwbadm: SUDO_USER ----
SUDO_USER=opal pwbadm lock-user jill >/dev/null
tap_is "pwbadm: SUDO_USER" "$(last_change jill)" "pwbadm|opal|| update active"

# ---- only root may say who it is ----
setpriv --reuid="$PWB_SCIM_UID" --regid="$PWB_SCIM_UID" --clear-groups "$PWB_PWBD_CALL" \
	--socket "$PWB_PWBD_SOCKET" --actor '{"kind":"pwbadm","name":"root"}' scim.request \
	"{\"method\":\"DELETE\",\"uri\":\"/scim/v2/Users/$id\",\"authorization\":\"Bearer $SCIM_TOKEN\",\"remote_addr\":\"192.0.2.66\"}" >/dev/null 2>&1
tap_is "a scim-user's claimed actor is ignored: the token's name stands" \
	"$(pwbadm log --user sam --limit 1 --json | jq -r '.[0] | "\(.actor.kind)|\(.actor.name)|\(.actor.rhost) \(.op)"')" \
	"scim|okta-prod|192.0.2.66 delete"
tap_like "... and not an address that is none" "$(setpriv --reuid="$PWB_SCIM_UID" --regid="$PWB_SCIM_UID" --clear-groups "$PWB_PWBD_CALL" \
	--socket "$PWB_PWBD_SOCKET" scim.request \
	"{\"method\":\"POST\",\"uri\":\"/scim/v2/Users\",\"authorization\":\"Bearer $SCIM_TOKEN\",\"remote_addr\":\"evil host; x\",\"body\":$(scim_user_json zoe@example.com | jq -Rs .)}" 2>&1 >/dev/null; pwbadm log --user zoe --json | jq -r '.[0].actor | "\(.name)|\(.rhost)"')" '^okta-prod\|$'

# a sample for the reader of the log
tap_diag "$(pwbadm log --since 1h)"
tap_done
