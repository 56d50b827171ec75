#!/usr/bin/env bash
# pwb-login behind Apache httpd with the shipped
# examples/apache/pwb-login.conf: mod_authnz_fcgi asks pwb-login (as a
# FastCGI authorizer on loopback TCP) about every request, mod_proxy_fcgi
# serves its pages, mod_proxy_http the app. A navigation without a session
# goes to the sign-in and back to the page; a script's request gets 401; a
# signed-in request reaches the app as the user (X-Pwb-* set by Apache,
# the client's replaced) without pwb's cookies; the static file is
# protected too. pwb-login is the IdP's client_secret_post client here
# (nginx's tests use the client_secret_basic one). Not in the sanitizer pass (Apache is not ours; nginx's
# smoke run covers pwb-login there).
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
if [ -n "${PWB_SANITIZE:-}" ]; then
	echo "1..0 # SKIP sanitizer pass: login_browser.sh and login_attacks.sh are its smoke run"
	exit 0
fi
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/idp.sh"
. "$PWB_TEST_SRCDIR/tests/lib/login.sh"
pwb_ns_enter "$@"

pwb_login_diag_on_failure
pwb_login_prepare || tap_bail "cannot make the test CA"
pwb_idp_start || tap_bail "cannot start the IdP"
# The IdP's second client, which authenticates with client_secret_post
# (the IdP refuses any other method for it).
pwb_login_setup post || tap_bail "cannot configure pwb-login"
pwb_login_spawn tcp || tap_bail "cannot start pwb-login on TCP"
pwb_login_echo_start || tap_bail "cannot start the app"
pwb_login_apache_start || tap_bail "cannot start Apache"
B=$PWB_LOGIN_BASE
P=$B$PWB_LOGIN_PATH
J=$PWB_TMP/jar
app_header() {
	printf '%s' "$WEB_BODY" | jq -r --arg h "$1" '[.headers[] | select(.[0] | ascii_downcase == $h) | .[1]] | join("|")'
}

web_req "$J" GET "$B/app/page?x=1&y=2"
tap_is "a navigation without a session: to the sign-in, with the page" "$WEB_STATUS ${WEB_LOCATION#"$B"}" \
	"302 /pwb/login?return=/app/page?x=1&y=2"
web_req "$J" GET "$B/app/data.json" -H 'Sec-Fetch-Mode: cors'
tap_is "a script's request without a session: 401, no Location" "$WEB_STATUS:$WEB_LOCATION" "401:"
web_req "$J" GET "$B/static/hello.txt" -H 'Sec-Fetch-Mode: cors'
tap_is "the static file is protected" "$WEB_STATUS" 401

web_signin "$J" alice '/app/page?x=1&y=2'
tap_is "sign-in through Apache (client_secret_post): back to the page" "$WEB_STATUS $WEB_LOCATION" \
	"302 /app/page?x=1&y=2"
web_req "$J.other" GET "$B/app/page?x=1&y=2" -H 'X-Pwb-User: root' \
	-H "Cookie: __Host-pwb-session=$(web_cookie "$J" __Host-pwb-session); theme=dark; lang=en"
tap_is "signed in: the app answers" "$WEB_STATUS" 200
tap_is "... X-Pwb-User is alice (the client's replaced)" "$(app_header x-pwb-user)" alice
tap_is "... X-Pwb-Uid is hers" "$(app_header x-pwb-uid)" "$(id -u alice)"
tap_is "... the app's cookies reach it, pwb's do not" "$(app_header cookie)" 'theme=dark; lang=en'
web_req "$J" GET "$B/static/hello.txt"
tap_is "... the static file is served" "$WEB_STATUS $WEB_BODY" "200 static file for the protected site"
web_req "$J" GET "${P}whoami"
tap_is "pwb-login's own pages through mod_proxy_fcgi: whoami" "$(printf '%s' "$WEB_BODY" | jq -r .user)" alice
tap_check "alice's home exists" test -d "$(getent passwd alice | cut -d: -f6)"

tap_done
