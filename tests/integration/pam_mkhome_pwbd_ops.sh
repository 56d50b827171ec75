#!/usr/bin/env bash
# pwbd's account operations, spoken to directly: account.signin is root's
# (pam_pwb_mkhome runs in a root process and vouches for the claims), so
# the login-user and anyone else are refused; account.signin_token is the
# login-user's (pwb-login): pwbd validates the raw ID token itself, so a
# forged or foreign token registers nobody, and the token never reaches
# pwbd's log. Malformed arguments are refused by name.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

[ -x "$PWB_PWBD_CALL" ] || tap_bail "not built: $PWB_PWBD_CALL"
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
# The callers other than root reach the socket and the tool.
chmod 0755 "$PWB_TMP" "$(dirname "$PWB_PWBD_SOCKET")"
as() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" --clear-groups "$PWB_PWBD_CALL" --socket "$PWB_PWBD_SOCKET" "$@" 2>&1; }
call() { "$PWB_PWBD_CALL" "$@" 2>&1; }
claims() { printf '{"username":"%s","issuer":"%s","subject":"sub-%s"%s}' "$1" "$PWB_ISSUER_URL" "$1" "${2:+,$2}"; }

# --- account.signin: root only
out=$(call account.signin "{\"user\":\"fred\",\"claims\":$(claims fred '"groups":["analysts"]'),\"service\":\"sshd\",\"rhost\":\"192.0.2.7\"}")
tap_like "root: account.signin registers fred" "$out" '"result": *"registered"'
tap_like "... and reports the groups added" "$out" '"groups_added": *1'
tap_check "fred resolves through nss_pwb" getent passwd fred
tap_like "pwbd logged the actor (jit, service, rhost)" "$(cat "$PWB_TMP/pwbd.log")" \
	"sign-in of fred for jit \(service 'sshd', rhost '192.0.2.7'\): registered"
out=$(call account.signin '{"user":"fred","service":"sshd","rhost":""}')
tap_like "root: account.signin without claims for a known user: active" "$out" '"result": *"active"'
out=$(as "$PWB_LOGIN_UID" account.signin "{\"user\":\"mallory\",\"claims\":$(claims mallory)}")
tap_like "login-user: account.signin refused (it cannot vouch for claims)" "$out" "op account.signin is not allowed to uid $PWB_LOGIN_UID"
tap_check_fails "... and mallory was not registered" getent passwd mallory
out=$(as "$PWB_SCIM_UID" account.signin "{\"user\":\"mallory\",\"claims\":$(claims mallory)}")
tap_like "scim-user: account.signin refused" "$out" "op account.signin is not allowed to uid $PWB_SCIM_UID"
out=$(as 65534 account.signin_token '{"token":"x"}')
tap_like "nobody: account.signin_token refused" "$out" "pwbd-call: "
tap_like "... by pwbd, for its uid" "$(cat "$PWB_TMP/pwbd.log")" "pwbd: refused uid 65534 .*not root, scim-user or login-user"
tap_check_fails "... mallory still unknown" getent passwd mallory

# --- malformed arguments
out=$(call account.signin "{\"user\":\"gus\",\"claims\":$(claims fred)}")
tap_like "claims for another user than user: refused" "$out" "claims are for another user than gus"
out=$(call account.signin '{"user":"gus","admin":true}')
tap_like "unknown argument: refused by name" "$out" 'unknown key "admin"'
out=$(call account.signin '{"user":"../etc"}')
tap_like "invalid user name: refused" "$out" "not a valid user name"
out=$(call account.signin "{\"user\":\"gus\",\"claims\":$(claims gus '"groups":"analysts"')}")
tap_like "groups not an array: refused" "$out" '"groups" must be an array'
tap_check_fails "... gus was never registered" getent passwd gus

# --- account.signin_token: the login-user, token validated by pwbd
token=$(mkhome_token erin '"groups":["ops"]')
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$token\",\"service\":\"pwb-login\",\"rhost\":\"198.51.100.9\"}")
tap_like "login-user: a valid token registers erin" "$out" '"result": *"registered"'
tap_like "... named in the result" "$out" '"user": *"erin"'
tap_check "erin resolves through nss_pwb" getent passwd erin
tap_like "pwbd logged the actor pwb-login" "$(cat "$PWB_TMP/pwbd.log")" \
	"sign-in of erin for pwb-login \(service 'pwb-login', rhost '198.51.100.9'\): registered"
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$token\"}")
tap_like "the same token again: erin is active" "$out" '"result": *"active"'
forged=$(pwb_sign_token --kid nosuchkey --claims "$(pwb_token_claims mallory)" 2>/dev/null ||
	printf '%s' "${token%.*}.AAAA")
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$forged\"}")
tap_like "a forged token is refused" "$out" "pwbd-call: "
tap_check_fails "... and mallory was not registered" getent passwd mallory
bad=$(mkhome_token_as erin other-subject)
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$bad\"}")
tap_like "erin's name with another subject: refused" "$out" '"result": *"other_identity"'
out=$(as "$PWB_LOGIN_UID" account.signin_token '{"token":"not-a-jwt"}')
tap_like "garbage instead of a token: refused" "$out" "pwbd-call: "
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$token\",\"user\":\"root\"}")
tap_like "login-user cannot name the user: unknown key" "$out" 'unknown key "user"'
tap_check_fails "no token reached pwbd's log" grep -qF "${token%%.*}" "$PWB_TMP/pwbd.log"
tap_check_fails "... nor the forged one's signature" grep -qF "${forged##*.}" "$PWB_TMP/pwbd.log"

tap_done
