#!/usr/bin/env bash
# pwb-login's sessions after a real sign-in (the test IdP, nginx, curl with
# a cookie jar; no browser): the cookie's attributes, the session file
# (named by a hash, 0600, the login-user's), the cookie rotated at the next
# sign-in, the idle lifetime, a locked user ended at the next request, and
# a needed revalidation failing closed while pwbd is down (the session
# survives it).
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/idp.sh"
. "$PWB_TEST_SRCDIR/tests/lib/login.sh"
pwb_ns_enter "$@"
command -v cgi-fcgi >/dev/null || { echo "1..0 # SKIP cgi-fcgi missing"; exit 0; }
pwb_conf_set user-provisioning-register-on-first-login=1
pwb_login_stack || tap_bail "cannot start the IdP, pwb-login and nginx"

# auth COOKIE: pwb-login's auth answer for that session cookie, asked over
# FastCGI as nginx's auth_request does.
auth() {
	env -i REQUEST_METHOD=GET DOCUMENT_URI="${PWB_LOGIN_PATH}auth" REQUEST_URI=/app/x \
		REMOTE_ADDR=127.0.0.1 HTTP_COOKIE="__Host-pwb-session=$1" \
		cgi-fcgi -bind -connect "$PWB_LOGIN_SOCK" </dev/null 2>/dev/null | tr -d '\r'
}
auth_status() { auth "$1" | head -1; }
sessions() { find "$PWB_LOGIN_STATE/sessions" -type f ! -name '.*' | sort; }

J=$PWB_TMP/jar-alice
web_signin "$J" alice '/app/deep?x=1'
tap_is "sign-in: back to the return URL" "$WEB_STATUS $WEB_LOCATION" "302 /app/deep?x=1"
tap_like "the session cookie: __Host-, Path=/, Secure, HttpOnly, SameSite=Lax, absolute lifetime" \
	"$(web_header Set-Cookie)" \
	'^__Host-pwb-session=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=43200$'
A1=$(web_cookie "$J" __Host-pwb-session)
web_req "$J" GET "$PWB_LOGIN_BASE/app/deep?x=1"
tap_is "the app is reached" "$WEB_STATUS" 200
tap_is "one session file" "$(sessions | wc -l)" 1
f=$(sessions)
tap_like "named by a hash, not by the cookie" "$(basename "$f")" '^[0-9a-f]{64}$'
tap_is "0600, the login-user's" "$(stat -c '%a %U' "$f")" "600 pwb-login"
tap_is "the cookie is nowhere in the state directory" \
	"$(grep -rlF -e "$A1" "$PWB_LOGIN_STATE" | wc -l)" 0
tap_is "the flow is gone once used" "$(find "$PWB_LOGIN_STATE/flows" -type f | wc -l)" 0
tap_like "auth: the user, uid and groups" "$(auth "$A1")" $'X-Pwb-User: alice\nX-Pwb-Uid: [0-9]+\nX-Pwb-Groups: alice'

# a second sign-in in the same browser rotates the cookie
web_signin "$J" alice
A2=$(web_cookie "$J" __Host-pwb-session)
tap_like "sign-in again: a new cookie" "$A2" '^[A-Za-z0-9_-]{43}$'
tap_check_fails "... not the old one" test "$A1" = "$A2"
tap_is "... the old session ended" "$(auth_status "$A1")" "Status: 401 Unauthorized"
tap_is "... the new one stands" "$(auth_status "$A2")" "Status: 200 OK"
tap_is "... still one session file" "$(sessions | wc -l)" 1

# idle lifetime (auth-timeout-minutes, 60): last seen two hours ago
touch -d '2 hours ago' "$(sessions)"
tap_is "an idle session ends" "$(auth_status "$A2")" "Status: 401 Unauthorized"
tap_is "... and its file is removed" "$(sessions | wc -l)" 0

# locking the account ends its session at the next request
web_signin "$PWB_TMP/jar-bob" bob
B=$(web_cookie "$PWB_TMP/jar-bob" __Host-pwb-session)
tap_is "bob signed in" "$(auth_status "$B")" "Status: 200 OK"
# through nginx too: bob's protected request, then refused once locked
static_status() {
	env -u LD_PRELOAD -u LD_LIBRARY_PATH curl -s -o /dev/null -w '%{http_code}' --cacert "$PWB_WEB_CA" \
		-H "Cookie: __Host-pwb-session=$1" "$PWB_LOGIN_BASE/static/hello.txt"
}
tap_is "bob's request through nginx" "$(static_status "$B")" 200
"$PWB_BIN_PWBADM" lock-user bob >/dev/null
tap_is "bob locked: his next request through nginx is refused" "$(static_status "$B")" 401
tap_is "bob locked: his session ends at the next request" "$(auth_status "$B")" \
	"Status: 401 Unauthorized"

# a revalidation that pwbd cannot answer fails closed, and the session
# survives it
web_signin "$PWB_TMP/jar-carol" carol
C=$(web_cookie "$PWB_TMP/jar-carol" __Host-pwb-session)
tap_is "carol signed in" "$(auth_status "$C")" "Status: 200 OK"
"$PWB_BIN_PWBADM" unlock-user bob >/dev/null # the snapshot moves on
pwb_pwbd_stop
tap_is "pwbd down and the snapshot moved: 401" "$(auth_status "$C")" "Status: 401 Unauthorized"
tap_like "... logged" "$(cat "$PWB_LOGIN_LOG")" 'cannot revalidate the session of carol'
pwb_pwbd_start
tap_is "pwbd back: the session stands" "$(auth_status "$C")" "Status: 200 OK"
tap_is "no cookie, code or token in pwb-login's log" \
	"$(grep -cE -e "$A1|$A2|$B|$C|eyJ" "$PWB_LOGIN_LOG")" 0

tap_done
