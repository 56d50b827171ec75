#!/usr/bin/env bash
# pwb-login as a person meets it: headless Chromium (Debian's) signs in
# through the real OpenID Provider's login page (oidc-provider), nginx with
# the shipped examples/nginx/pwb-login.conf in front of pwb-login and an app
# that echoes what it receives. First sign-in creates the account and home,
# the second reuses them; two tabs sign in at once; a deep link comes back
# to its page, a foreign return URL is refused; a user deactivated over
# SCIM is ended at the next request; logout ends the session here and at
# the IdP; a client's X-Pwb-User and pwb's cookies never reach the app;
# signing out at the IdP ends the pwb session (back-channel logout); an
# app's script whose session ended gets 401, not a redirect. In the sanitizer pass only the
# first sign-in runs (PWB_SANITIZE). Screenshots of a failing run are kept
# in tests/integration/login_browser.screenshots/.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/idp.sh"
. "$PWB_TEST_SRCDIR/tests/lib/login.sh"
. "$PWB_TEST_SRCDIR/tests/lib/browser.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

pwb_login_diag_on_failure
pwb_login_stack || tap_bail "cannot start the IdP, pwb-login and nginx"
pwb_browser_start || tap_bail "cannot start Chromium"
pwb_browser_keep_shots_on_failure login_browser
B=$PWB_LOGIN_BASE
P=$B$PWB_LOGIN_PATH

# ---- first sign-in: account and home are created ----
tap_check_fails "before: alice is unknown to the system" getent passwd alice
pwb_browser_signin main "$P" alice
tap_is "first sign-in: the IdP's login page was shown" "$(browser_jq .sawLoginPage)" true
tap_is "first sign-in: lands on the landing page" "$(browser_jq '[.status, .url] | @tsv')" \
	"200	$P"
tap_like "... which names alice" "$(browser_jq .text)" 'alice'
pwb_browser_shot first-signin main
entry=$(getent passwd alice)
tap_like "alice is a Linux account now (getent passwd)" "$entry" '^alice:x:2[0-9]{4}:'
uid=$(echo "$entry" | cut -d: -f3)
home=$(echo "$entry" | cut -d: -f6)
tap_is "id alice" "$(id -u alice 2>/dev/null)" "$uid"
tap_check "her home exists" test -d "$home"
tap_is "... owned by her" "$(stat -c %u "$home" 2>/dev/null)" "$uid"
if [ -f /etc/skel/.profile ]; then
	tap_check "... with the skeleton's files" test -f "$home/.profile"
fi
pwb_browser_goto main "${P}whoami"
tap_is "whoami: alice, her uid and home" \
	"$(printf '%s' "$(browser_jq .text)" | jq -r '[.user, .uid, .home] | @tsv' 2>/dev/null)" \
	"alice	$uid	$home"
pwb_browser_goto main "$B/app/hello"
app=$(browser_jq .text)
tap_is "the app sees X-Pwb-User alice" \
	"$(printf '%s' "$app" | jq -r '[.headers[] | select(.[0] | ascii_downcase == "x-pwb-user") | .[1]] | join(",")')" \
	alice
tap_is "... and X-Pwb-Uid" \
	"$(printf '%s' "$app" | jq -r '[.headers[] | select(.[0] | ascii_downcase == "x-pwb-uid") | .[1]] | join(",")')" \
	"$uid"
tap_unlike "... and no pwb cookie" "$(printf '%s' "$app" | jq -r '[.headers[] | select(.[0] | ascii_downcase == "cookie") | .[1]] | join(";")')" \
	'pwb'

if [ -n "${PWB_SANITIZE:-}" ]; then
	tap_done
	exit
fi

# ---- second sign-in (another browser): the same account and home ----
ino=$(stat -c %i "$home")
pwb_browser '{"op":"open","tab":"second","ctx":"second"}'
pwb_browser_signin second "$P" alice
tap_is "second sign-in: lands on the landing page" "$(browser_jq '[.status, .url, .sawLoginPage] | @tsv')" \
	"200	$P	true"
tap_is "... same uid" "$(id -u alice)" "$uid"
tap_is "... same home, not made again" "$(stat -c %i "$home")" "$ino"
tap_is "... one passwd entry" "$(getent passwd | grep -c '^alice:')" 1

# ---- two tabs sign in at once ----
pwb_browser '{"op":"parallel","cmds":[
	{"op":"goto","tab":"t1","ctx":"tabs","url":"'"$B"'/app/one"},
	{"op":"goto","tab":"t2","ctx":"tabs","url":"'"$B"'/app/two"}]}'
tap_is "two tabs: both show the IdP's login page" \
	"$(browser_jq '[.results[].loginPage] | @tsv')" "true	true"
pwb_browser '{"op":"login","tab":"t1","user":"bob","password":"pw-bob"}'
tap_is "tab 1 lands on its page" "$(browser_jq '[.status, .url] | @tsv')" "200	$B/app/one"
pwb_browser '{"op":"login","tab":"t2","user":"bob","password":"pw-bob"}'
tap_is "tab 2 lands on its own page" "$(browser_jq '[.status, .url] | @tsv')" "200	$B/app/two"
tap_like "... as bob" "$(browser_jq .text)" '"X-Pwb-User","bob"'

# ---- deep link: the return URL is kept; foreign ones are refused ----
deep="$B/app/deep/page?x=1&y=a%2Fb"
pwb_browser '{"op":"open","tab":"deep","ctx":"deep"}'
pwb_browser_signin deep "$deep" carol
tap_is "deep link: back on the page after sign-in" "$(browser_jq '[.status, .url] | @tsv')" "200	$deep"
tap_like "... the app got the whole URL" "$(browser_jq .text)" '"url":"/app/deep/page\?x=1&y=a%2Fb"'
for ret in 'https://evil.example/' '//evil.example/x' '/\evil.example/x' 'https:%2F%2Fevil.example'; do
	pwb_browser_goto deep "${P}login?return=$ret"
	tap_like "return URL '$ret' refused: no redirect off the site" \
		"$(browser_jq '[.status, .url] | @tsv')" "^4[0-9][0-9]	$B/"
done

# ---- a client's X-Pwb-User and pwb's cookies never reach the app ----
pwb_browser_goto main "${P}whoami"
groups=$(browser_jq .text | jq -r '.groups | join(",")')
# (from a page of the app: pwb-login's own pages forbid scripts' requests)
pwb_browser_goto main "$B/app/page"
pwb_browser '{"op":"fetch","tab":"main","url":"/app/forged","headers":{"X-Pwb-User":"root","X-Pwb-Uid":"0","X-Pwb-Groups":"sudo"}}'
body=$(browser_jq .body)
tap_is "forged X-Pwb-* from the page: the app sees pwb's values only" \
	"$(printf '%s' "$body" | jq -r '[.headers[] | select(.[0] | ascii_downcase | startswith("x-pwb-")) | .[1]] | join(",")')" \
	"alice,$uid,$groups"
pwb_browser '{"op":"cookies","tab":"main","url":"'"$B"'/"}'
session=$(browser_jq '.cookies[] | select(.name == "__Host-pwb-session") | .value')
tap_is "the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax" \
	"$(browser_jq '.cookies[] | select(.name == "__Host-pwb-session") | [.path, .secure, .httpOnly, .sameSite] | @tsv')" \
	"/	true	true	Lax"
web_req "$PWB_TMP/forge.jar" GET "$B/app/curl" -H "Cookie: theme=dark; __Host-pwb-session=$session; lang=en" \
	-H 'X-Pwb-User: root' -H 'X-PWB-USER: root2' -H 'x-pwb-user: root3' -H 'X-Pwb-Groups: sudo'
tap_is "curl with the cookie and forged headers: 200" "$WEB_STATUS" 200
tap_is "... X-Pwb-User reaches the app once, as alice" \
	"$(printf '%s' "$WEB_BODY" | jq -r '[.headers[] | select(.[0] | ascii_downcase == "x-pwb-user") | .[1]] | join(",")')" alice
tap_is "... the app's own cookies pass, pwb's do not" \
	"$(printf '%s' "$WEB_BODY" | jq -r '[.headers[] | select(.[0] | ascii_downcase == "cookie") | .[1]] | join("|")')" \
	"theme=dark; lang=en"
web_req "$PWB_TMP/forge.jar" GET "$B/app/curl" -H 'X-Pwb-User: alice'
tap_is "without a session a forged X-Pwb-User gets nowhere" "$WEB_STATUS $WEB_LOCATION" \
	"302 /pwb/login?return=/app/curl"
web_req "$PWB_TMP/forge.jar" GET "$B/static/hello.txt"
tap_is "the static file is protected" "$WEB_STATUS" 302
web_req "$PWB_TMP/forge.jar" GET "$B/static/hello.txt" -H "Cookie: __Host-pwb-session=$session"
tap_is "... and served with a session" "$WEB_STATUS $WEB_BODY" "200 static file for the protected site"

# ---- deactivated over SCIM while signed in: ended at the next request ----
pwb_browser '{"op":"open","tab":"scim","ctx":"scim"}'
pwb_browser_signin scim "$B/app/before" erin
tap_is "erin signed in" "$(browser_jq '[.status, .url] | @tsv')" "200	$B/app/before"
pwb_scim_spawn || tap_bail "cannot start pwb-scim"
pwb_nginx_start || tap_bail "cannot start nginx for SCIM"
SCIM_TOKEN=$(pwb_scim_token browser) || tap_bail "cannot store a SCIM token"
scim_req GET '/Users?filter=userName%20eq%20%22erin%22'
erin_id=$(scim_jq '.Resources[0].id')
scim_req PATCH "/Users/$erin_id" \
	'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}'
tap_is "SCIM deactivates erin" "$SCIM_STATUS $(scim_jq .active)" "200 false"
# The app's script on the open page asks for more data: 401, not a redirect
# (a script cannot follow a sign-in; nginx sends navigations only there).
pwb_browser '{"op":"fetch","tab":"scim","url":"/app/data.json"}'
tap_is "her page's fetch() now gets 401 through nginx" "$(browser_jq '[.status, .type] | @tsv')" \
	"401	basic"
pwb_browser_goto scim "$B/app/after"
tap_unlike "erin's next request does not reach the app" "$(browser_jq .text)" '"X-Pwb-User","erin"'
pwb_browser_shot scim-deactivated scim
pwb_browser_goto scim "${P}whoami"
tap_is "... and her session is gone (whoami 401)" "$(browser_jq .status)" 401

# ---- logout: here and at the IdP ----
pwb_browser_goto main "$P"
pwb_browser '{"op":"click","tab":"main","selector":"#pwb-logout"}'
tap_like "logout goes to the IdP's sign-out" "$(browser_jq .url)" "^$PWB_IDP_URL/session/end"
pwb_browser '{"op":"click","tab":"main","selector":"button[name=logout][value=yes]"}'
pwb_browser_goto main "${P}whoami"
tap_is "after logout: whoami 401" "$(browser_jq .status)" 401
pwb_browser_goto main "$P"
tap_is "the next sign-in shows the IdP's login page again" "$(browser_jq .loginPage)" true

# ---- signing out at the IdP ends the pwb session (back-channel logout) ----
pwb_browser '{"op":"open","tab":"bc","ctx":"bc"}'
pwb_browser_signin bc "$B/app/bc" frank
tap_is "frank signed in" "$(browser_jq '[.status, .url] | @tsv')" "200	$B/app/bc"
before=$(grep -c 'backchannel.success' "$PWB_IDP_LOG")
pwb_browser_goto bc "$PWB_IDP_URL/session/end"
pwb_browser '{"op":"click","tab":"bc","selector":"button[name=logout][value=yes]"}'
tap_is "the IdP delivered a back-channel logout" \
	"$(($(grep -c 'backchannel.success' "$PWB_IDP_LOG") - before))" 1
pwb_browser_goto bc "${P}whoami"
tap_is "... and frank's pwb session is over" "$(browser_jq .status)" 401

tap_done
