#!/usr/bin/env bash
# pwbd's account operations, spoken to directly: account.signin is root's
# (pam_pwb_mkhome runs in a root process and vouches for the claims), so
# the login-user and anyone else are refused; account.signin_token is the
# login-user's (pwb-login): pwbd validates the raw ID token itself, so a
# forged or foreign token registers nobody, and the token never reaches
# pwbd's log. Malformed arguments are refused by name. account.home (the
# login-user's session step) validates the token the same way and makes
# the home by pwbd's own rule (no path, mode or skeleton from the caller;
# a planted symlink is never followed); account.session_status tells
# pwb-login whether a session's account still stands.
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

# --- account.signin_token with a nonce
ntok=$(pwb_sign_token --claims "$(pwb_token_claims erin '"groups":["ops"],"nonce":"n-123"')")
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$ntok\",\"nonce\":\"n-123\"}")
tap_like "signin_token with the token's nonce: active" "$out" '"result": *"active"'
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$ntok\",\"nonce\":\"n-124\"}")
tap_like "... with another nonce: refused" "$out" "nonce: does not match"
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$token\",\"nonce\":\"n-123\"}")
tap_like "... a token without a nonce claim when one is expected: refused" "$out" "nonce: missing"

# --- account.home: the login-user's session step
home=$(getent passwd erin | cut -d: -f6)
erin_uid=$(getent passwd erin | cut -d: -f3)
tap_check_fails "erin has no home yet" test -e "$home"
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$ntok\",\"nonce\":\"n-123\",\"service\":\"pwb-login\"}")
tap_like "login-user: account.home creates erin's home" "$out" '"created": *true'
tap_like "... and names it" "$out" "\"home\": *\"$home\""
tap_is "... owned by erin, 0700 (pwbd's umask 0077)" "$(mkhome_stat "$home")" "700 $erin_uid:$erin_uid directory"
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$token\"}")
tap_like "again: the home exists" "$out" '"created": *false'
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$ntok\",\"nonce\":\"wrong\"}")
tap_like "account.home with a wrong nonce: refused" "$out" "nonce: does not match"
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$forged\"}")
tap_like "account.home with a forged token: refused" "$out" "pwbd-call: "
other=$(pwb_sign_token --claims "$(pwb_token_claims mallory | sed 's/"aud":"[^"]*"/"aud":"other-app"/')")
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$other\"}")
tap_like "account.home with a token for another audience: refused" "$out" "aud: "
tap_check_fails "... mallory has no home and no account" getent passwd mallory
for key in home mode skel umask user; do
	out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$token\",\"$key\":\"/tmp/x\"}")
	tap_like "account.home: the caller cannot pass \"$key\"" "$out" "unknown key \"$key\""
done
out=$(as 65534 account.home "{\"token\":\"$token\"}")
tap_like "nobody: account.home refused" "$out" "pwbd-call: "
out=$(as "$PWB_SCIM_UID" account.home "{\"token\":\"$token\"}")
tap_like "scim-user: account.home refused" "$out" "op account.home is not allowed to uid $PWB_SCIM_UID"
# A symlink planted where a new user's home goes is never followed.
gtok=$(mkhome_token gina)
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$gtok\"}")
tap_like "gina registered by token" "$out" '"result": *"registered"'
ghome=$(getent passwd gina | cut -d: -f6)
mkdir -p "$PWB_TMP/elsewhere"
ln -s "$PWB_TMP/elsewhere" "$ghome"
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$gtok\"}")
tap_like "a symlink at gina's home path: account.home refuses" "$out" "pwbd-call: "
tap_is "... the symlink is left alone" "$(stat -c %F "$ghome")" "symbolic link"
tap_is "... and nothing was written behind it" "$(ls -A "$PWB_TMP/elsewhere" | wc -l)" 0
rm -f "$ghome"

# --- account.session_status
sess() { printf '{"user":"%s","uid":%s,"issuer":"%s","subject":"%s"}' "$1" "$2" "$PWB_ISSUER_URL" "$3"; }
out=$(as "$PWB_LOGIN_UID" account.session_status "$(sess erin "$erin_uid" sub-erin)")
tap_like "session_status: erin is active" "$out" '"state": *"active"'
tap_like "... with her uid" "$out" "\"uid\": *$erin_uid"
tap_like "... her home" "$out" "\"home\": *\"$home\""
tap_like "... and her groups" "$out" '"ops"'
out=$(as "$PWB_LOGIN_UID" account.session_status "$(sess erin $((erin_uid + 1)) sub-erin)")
tap_like "another uid: gone" "$out" '"state": *"gone"'
out=$(as "$PWB_LOGIN_UID" account.session_status "$(sess erin "$erin_uid" sub-other)")
tap_like "another subject: gone" "$out" '"state": *"gone"'
out=$(as "$PWB_LOGIN_UID" account.session_status "$(sess nosuch 20999 sub-nosuch)")
tap_like "an unknown name: gone" "$out" '"state": *"gone"'
mkhome_tool lock erin >/dev/null
out=$(as "$PWB_LOGIN_UID" account.session_status "$(sess erin "$erin_uid" sub-erin)")
tap_like "erin locked: locked" "$out" '"state": *"locked"'
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$token\"}")
tap_like "... and account.home refuses her" "$out" "is locked"
mkhome_tool unlock erin >/dev/null
out=$(as "$PWB_LOGIN_UID" account.session_status '{"user":"../x","uid":1,"issuer":"i","subject":"s"}')
tap_like "session_status: an invalid name is refused" "$out" "not a valid user name"
out=$(as "$PWB_LOGIN_UID" account.session_status '{"user":"erin","uid":"x","issuer":"i","subject":"s"}')
tap_like "session_status: a uid that is not a number is refused" "$out" '"uid" must be'
out=$(as 65534 account.session_status "$(sess erin "$erin_uid" sub-erin)")
tap_like "nobody: session_status refused" "$out" "pwbd-call: "
out=$(as "$PWB_SCIM_UID" account.session_status "$(sess erin "$erin_uid" sub-erin)")
tap_like "scim-user: session_status refused" "$out" "op account.session_status is not allowed to uid $PWB_SCIM_UID"

# --- remembered tokens: pwbd keeps a token it validated for a short while
# (by its SHA-256) so that account.home after account.signin_token does
# not validate it again. The memo must not let anything through that a
# fresh validation would refuse. pwbd's log (in the foreground, with its
# debug lines) shows when a token was served from the memo.
mtok=$(pwb_sign_token --claims "$(pwb_token_claims erin '"groups":["ops"],"nonce":"n-memo"')")
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$mtok\",\"nonce\":\"n-memo\"}")
tap_like "memo: signin_token with a fresh token: active" "$out" '"result": *"active"'
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$mtok\",\"nonce\":\"n-memo\"}")
tap_like "memo: account.home with the same token and nonce: served" "$out" '"user": *"erin"'
tap_like "... from the memo (no second validation)" "$(cat "$PWB_TMP/pwbd.log")" "home by token for erin: token validated earlier"
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$mtok\",\"nonce\":\"n-other\"}")
tap_like "memo: the remembered token with another nonce: refused" "$out" "nonce: does not match"
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$mtok\",\"nonce\":\"n-mem\"}")
tap_like "memo: ... with a prefix of its nonce: refused" "$out" "nonce: does not match"
out=$(as "$PWB_SCIM_UID" account.home "{\"token\":\"$mtok\"}")
tap_like "memo: the remembered token from the scim-user: refused" "$out" "op account.home is not allowed to uid $PWB_SCIM_UID"
out=$(as 65534 account.home "{\"token\":\"$mtok\"}")
tap_like "memo: ... from nobody: refused" "$out" "pwbd-call: "
# Another user's claims under the remembered token's signature, and the
# remembered token with its signature altered: both are other tokens.
mal=$(pwb_sign_token --claims "$(pwb_token_claims mallory '"nonce":"n-memo"')")
hdr=${mtok%%.*} sig=${mtok##*.} malpay=${mal#*.}
malpay=${malpay%%.*}
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$hdr.$malpay.$sig\",\"nonce\":\"n-memo\"}")
tap_like "memo: mallory's claims under erin's remembered signature: refused" "$out" "pwbd-call: "
tap_check_fails "... mallory has no account" getent passwd mallory
c=${sig:10:1}
[ "$c" = A ] && c=B || c=A
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"${mtok%.*}.${sig:0:10}$c${sig:11}\",\"nonce\":\"n-memo\"}")
tap_like "memo: the remembered token with its signature altered: refused" "$out" "pwbd-call: "
# The memo holds claims, not the account decision: a lock still refuses.
mkhome_tool lock erin >/dev/null
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$mtok\",\"nonce\":\"n-memo\"}")
tap_like "memo: erin locked after her token was remembered: account.home refuses" "$out" "is locked"
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$mtok\",\"nonce\":\"n-memo\"}")
tap_like "... and signin_token says locked" "$out" '"result": *"locked"'
mkhome_tool unlock erin >/dev/null
# A token is never served past its exp, though the leeway would let a
# fresh validation accept it: with no leeway, it expires in the memo too.
mkhome_conf_put auth-openid-leeway 0
now=$(date +%s)
etok=$(pwb_sign_token --claims "$(pwb_token_claims erin | sed "s/\"exp\":[0-9]*/\"exp\":$((now + 2))/")")
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$etok\"}")
tap_like "memo: a token 2 s from its exp: active" "$out" '"result": *"active"'
sleep 3
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$etok\"}")
tap_like "memo: ... once expired, account.home refuses it" "$out" "exp: token expired"
# A config reload forgets every remembered token.
mtok2=$(pwb_sign_token --claims "$(pwb_token_claims erin)")
out=$(as "$PWB_LOGIN_UID" account.signin_token "{\"token\":\"$mtok2\"}")
tap_like "memo: another fresh token: active" "$out" '"result": *"active"'
mkhome_conf_put auth-openid-username-claim email
out=$(as "$PWB_LOGIN_UID" account.home "{\"token\":\"$mtok2\"}")
tap_like "memo: after a config change its claims no longer name a user: refused" "$out" 'username: no string claim "email"'
sed -i '/^auth-openid-username-claim=/d' "$PWB_CONF"

tap_check_fails "no token reached pwbd's log" grep -qF "${token%%.*}" "$PWB_TMP/pwbd.log"
tap_check_fails "... nor the forged one's signature" grep -qF "${forged##*.}" "$PWB_TMP/pwbd.log"
tap_check_fails "... nor the nonce token's" grep -qF "${ntok##*.}" "$PWB_TMP/pwbd.log"

tap_done
