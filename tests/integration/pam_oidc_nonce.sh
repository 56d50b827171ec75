#!/usr/bin/env bash
# pwb-login's PAM stack, run as pwb-login runs it: AS THE LOGIN-USER (no
# root, no capabilities), the expected nonce in the PAM environment
# (PWB_OIDC_NONCE), the ID token as the password, then account and
# session on one handle (tests/tools/pwb-pam-login):
#   auth    required pam_pwb_oidc.so require-nonce client-id=pwb-login-client
#   account required pam_pwb_mkhome.so
#   session required pam_pwb_mkhome.so
# The right nonce signs in: pwbd re-validates the raw token, registers the
# user (JIT) and creates the home from /etc/skel with its own umask. A
# missing or wrong nonce, a token for another audience (even one listed in
# auth-openid-audiences) and a replay through a require-nonce service are
# refused, each with one short message through the conversation. Replaying
# the token through a service without require-nonce is the administrator's
# choice (pam_pwb_oidc(8)); this test shows it works, so it must not be
# configured where that matters.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

TOOL=$PWB_TEST_BUILDDIR/tests/tools/pwb-pam-login
[ -x "$TOOL" ] || tap_bail "not built: $TOOL"
command -v setpriv >/dev/null || tap_bail "setpriv missing"
pwb_issuer_start || tap_bail "cannot start the test issuer"
# The client-secret file (root's, 0600) names the sshd client; pwb-login's
# client id is another one, listed in auth-openid-audiences so that pwbd
# (which has no per-service client id) accepts its tokens too.
pwb_issuer_configure sshd-client
LOGIN_CLIENT=pwb-login-client
pwb_conf_set "auth-openid-audiences=$LOGIN_CLIENT,other-app" \
	"user-provisioning-register-on-first-login=1" \
	"auth-openid-session-dir=$PWB_TMP/login" "login-user=pwb-login"
install -d -m 0700 -o pwb-login -g pwb-login "$PWB_TMP/login"
chmod 0755 "$PWB_TMP"
# pwbd's skeleton is /etc/skel: a known one, in this namespace only.
mkhome_make_skel "$PWB_TMP/skel"
mount --bind "$PWB_TMP/skel" /etc/skel || tap_bail "cannot bind a test skeleton over /etc/skel"
mkhome_pwbd_stop >/dev/null 2>&1 || :
mkhome_pwbd_start

{
	echo "auth required $PWB_PAM_OIDC require-nonce client-id=$LOGIN_CLIENT"
	echo "account required $PWB_PAM_MKHOME"
	echo "session required $PWB_PAM_MKHOME"
} >/etc/pam.d/pwb-login
# Another service on the same host, without require-nonce (the default).
mkhome_oidc_service plain ""
# And one with require-nonce, but not pwb-login's (run as root: it reads
# the client-secret file).
mkhome_service strict "" "auth required $PWB_PAM_OIDC require-nonce"

# as_login [--nonce N] SERVICE USER TOKEN: the stack as the login-user.
as_login() {
	local args=() token
	while [ "${1:-}" = --nonce ]; do args+=(--nonce "$2"); shift 2; done
	token=$3
	printf '%s\n' "$token" | setpriv --reuid=pwb-login --regid=pwb-login --clear-groups \
		"$TOOL" "${args[@]}" "$1" "$2" 2>&1
}
# login_token USER NONCE|"" [AUD]: a token for pwb-login's client with that nonce.
login_token() {
	local now nonce=${2:+,\"nonce\":\"$2\"}
	now=$(date +%s)
	pwb_sign_token --claims "$(printf '{"iss":"%s","aud":"%s","sub":"sub-%s","iat":%s,"exp":%s,"preferred_username":"%s"%s}' \
		"$PWB_ISSUER_URL" "${3:-$LOGIN_CLIENT}" "$1" "$now" "$((now + 300))" "$1" "$nonce")"
}

# --- the right nonce: signed in, JIT and the home through pwbd
N1=n-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
tok=$(login_token alice "$N1")
out=$(as_login --nonce "$N1" pwb-login alice "$tok"); rc=$?
tap_is "right nonce: the whole stack succeeds as the login-user" "$rc" 0
tap_like "... authenticate, acct_mgmt, open_session, close_session" "$(printf "%s" "$out" | tr "\n" " ")" \
	"authenticate: Success.*acct_mgmt: Success.*open_session: Success.*close_session: Success"
tap_check "alice was registered (resolves through nss_pwb)" getent passwd alice
uid=$(getent passwd alice | cut -d: -f3)
home=$(getent passwd alice | cut -d: -f6)
tap_is "pwbd created the home, owned by alice, umask 0077" "$(mkhome_stat "$home")" \
	"700 $uid:$uid directory"
tap_check "... from the skeleton" test -f "$home/.profile" -a -f "$home/sub/notes.txt"
tap_is "... skeleton files are alice's" "$(stat -c %u "$home/sub/notes.txt")" "$uid"
tap_like "pwbd logged the home it created" "$(cat "$PWB_TMP/pwbd.log")" "created home $home for alice"
tap_like "pwbd registered alice for pwb-login" "$(cat "$PWB_TMP/pwbd.log")" \
	"sign-in of alice for pwb-login \(service 'pwb-login'"
tap_is "the login-user's discovery/JWKS cache is its own, 0700" \
	"$(stat -c '%a %U' "$PWB_TMP/login/cache" 2>&1)" "700 pwb-login"
out=$(as_login --nonce "$N1" pwb-login alice "$tok"); rc=$?
tap_is "the same sign-in again: accepted, home reused" "$rc" 0

# --- the nonce refused
N2=n-other-$RANDOM
out=$(as_login --nonce "$N2" pwb-login bob "$(login_token bob "$N1")"); rc=$?
tap_is "wrong nonce: refused" "$rc" 1
tap_like "... at authenticate" "$out" "authenticate: Authentication failure"
tap_like "... with a short message" "$out" "error: sign-in refused: the token is not valid for this service"
tap_check_fails "... bob was not registered" getent passwd bob
out=$(as_login pwb-login bob "$(login_token bob "$N1")"); rc=$?
tap_is "no expected nonce (PWB_OIDC_NONCE unset): refused" "$rc" 1
tap_like "... at authenticate" "$out" "authenticate: Authentication failure"
out=$(as_login --nonce "$N1" pwb-login bob "$(login_token bob "")"); rc=$?
tap_is "a token without a nonce claim: refused" "$rc" 1
tap_like "... with a short message" "$out" "error: sign-in refused: the token is not valid for this service"
tap_check_fails "... bob still not registered" getent passwd bob

# --- another audience
out=$(as_login --nonce "$N1" pwb-login bob "$(login_token bob "$N1" other-app)"); rc=$?
tap_is "a token for other-app (listed in auth-openid-audiences): refused by client-id=" "$rc" 1
tap_like "... with a short message" "$out" "error: sign-in refused: the token is not valid for this service"
out=$(as_login --nonce "$N1" pwb-login bob "$(login_token bob "$N1" sshd-client)"); rc=$?
tap_is "a token for the client-secret file's client: refused by client-id= too" "$rc" 1
tap_check_fails "... bob still not registered" getent passwd bob

# --- replay through another service
out=$(printf '%s\n' "$tok" | pamtester -v strict alice authenticate 2>&1); rc=$?
tap_is "alice's token replayed through a require-nonce service (no nonce given): refused" "$rc" 1
out=$(printf '%s\n' "$tok" | "$TOOL" --nonce "$N2" strict alice 2>&1); rc=$?
tap_is "... or with another flow's nonce: refused" "$rc" 1
tap_like "... with a short message" "$out" "error: sign-in refused: the token is not valid for this service"
out=$(printf '%s\n' "$tok" | pamtester -v plain alice authenticate 2>&1); rc=$?
tap_is "replayed through a service without require-nonce: accepted (the admin's choice)" "$rc" 0

# --- the account step's refusals, as the user sees them
mkhome_tool lock alice >/dev/null || tap_bail "cannot lock alice"
out=$(as_login --nonce "$N1" pwb-login alice "$tok"); rc=$?
tap_is "locked alice: refused" "$rc" 1
tap_like "... at acct_mgmt" "$out" "acct_mgmt: "
tap_like "... 'account locked'" "$out" "error: account locked"
mkhome_tool unlock alice >/dev/null
pwb_conf_set "user-provisioning-register-on-first-login=0"
out=$(as_login --nonce "$N1" pwb-login dora "$(login_token dora "$N1")"); rc=$?
tap_is "unknown dora without registration: refused" "$rc" 1
tap_like "... 'not assigned to this app'" "$out" "error: not assigned to this app"
pwb_conf_set "auth-openid-username-domains=corp.example"
out=$(as_login --nonce "$N1" pwb-login dora "$(login_token dora "$N1")"); rc=$?
tap_is "a bare name where only corp.example is allowed: refused" "$rc" 1
tap_like "... 'name not allowed'" "$out" "error: name not allowed"
sed -i '/^auth-openid-username-domains=/d' "$PWB_CONF"

# --- no token ever reaches a log
tap_check_fails "no token in pwbd's log" grep -qF "${tok%%.*}" "$PWB_TMP/pwbd.log"
case $out in *"${tok:0:40}"*) tap_fail "a token in the conversation" ;; *) tap_ok "no token in the conversation" ;; esac

tap_done
