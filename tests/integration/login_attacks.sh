#!/usr/bin/env bash
# Attacks on pwb-login, refused as a client sees them, through nginx with
# the shipped examples/nginx/pwb-login.conf and the real OpenID Provider
# (no browser: curl keeps the cookies). Wrong and replayed state, a
# replayed code, a code from another flow, an ID token with another nonce
# or none, a code issued to another client (another audience), a tampered,
# made-up or expired session cookie, open redirects, forged back-channel
# logout tokens (unpublished key, nonce, replayed jti, another audience)
# while a genuine one ends the session, a script's request (401, not a
# redirect), and a local user talking FastCGI to pwb-login's TCP port with
# forged params. Each refusal leaves no session behind. In the sanitizer
# pass only one sign-in and the wrong-state attack run (PWB_SANITIZE).
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/idp.sh"
. "$PWB_TEST_SRCDIR/tests/lib/login.sh"
pwb_ns_enter "$@"

pwb_login_diag_on_failure
pwb_login_stack || tap_bail "cannot start the IdP, pwb-login and nginx"
B=$PWB_LOGIN_BASE
P=$B$PWB_LOGIN_PATH
J=$PWB_TMP/jars
LOG=$PWB_LOGIN_LOG
mkdir -p "$J"

# url_param URL NAME: one query parameter, as it appears (still encoded).
url_param() { printf '%s' "$1" | sed -n "s/.*[?&]$2=\([^&#]*\).*/\1/p"; }
# url_set URL NAME VALUE: the URL with that parameter replaced (or removed
# when VALUE is "-").
url_set() {
	if [ "$3" = - ]; then printf '%s' "$1" | sed -E "s/([?&])$2=[^&#]*&?/\1/; s/[?&]$//"
	else printf '%s' "$1" | sed -E "s/([?&])$2=[^&#]*/\1$2=$3/"; fi
}
# refused_for DESC REGEX: pwb-login's last refusal says why (its log line).
refused_for() {
	tap_like "$1: refused for the right reason" "$(grep 'refused' "$LOG" | tail -1)" "$2"
}
whoami() { web_req "$1" GET "${P}whoami"; echo "$WEB_STATUS"; }
sessions() { find "$PWB_LOGIN_STATE/sessions" -type f | wc -l; }

# A flow up to the IdP's answer: CB is the callback URL the IdP sends the
# browser to (code and state), for user $2 in jar $1.
flow_to_callback() {
	local jar=$1 user=$2
	web_signin_start "$jar" "${3:-}"
	AUTH_URL=$WEB_LOCATION
	CB=$(pwb_idp_signin "$AUTH_URL" "$user" "pw-$user" "$jar.idp")
}

# ---- a genuine sign-in, for reference ----
web_signin "$J/alice" alice /app/start
tap_is "genuine sign-in: back to the return URL" "$WEB_STATUS $WEB_LOCATION" "302 /app/start"
tap_like "... with a fresh session cookie" "$(web_cookie "$J/alice" __Host-pwb-session)" '^[A-Za-z0-9_-]{43}$'
tap_is "... whoami 200" "$(whoami "$J/alice")" 200

# ---- wrong state ----
n=$(sessions)
flow_to_callback "$J/ws" bob
web_req "$J/ws" GET "$(url_set "$CB" state AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)"
tap_like "wrong state: refused" "$WEB_STATUS" '^4[0-9][0-9]$'
refused_for 'wrong state' 'no open sign-in for this state'
tap_is "... no session" "$(sessions) $(whoami "$J/ws")" "$n 401"

if [ -n "${PWB_SANITIZE:-}" ]; then
	tap_done
	exit
fi

# ---- replayed state, replayed code ----
web_req "$J/ws" GET "$CB"
tap_is "the same callback, right state: signs in" "$WEB_STATUS" 302
n=$(sessions)
web_req "$J/ws" GET "$CB"
tap_like "the callback replayed (state used): refused" "$WEB_STATUS" '^4[0-9][0-9]$'
refused_for 'replayed state' 'no open sign-in for this state'
tap_is "... no new session" "$(sessions)" "$n"
code=$(url_param "$CB" code)
flow_to_callback "$J/rc" bob
web_req "$J/rc" GET "$(url_set "$CB" code "$code")"
tap_like "a used code with a fresh flow's state: refused" "$WEB_STATUS" '^4[0-9][0-9]$'
refused_for 'replayed code' 'invalid_grant'
tap_is "... no session" "$(sessions) $(whoami "$J/rc")" "$n 401"

# ---- a code from another open flow of the same browser ----
web_signin_start "$J/swap"
auth1=$WEB_LOCATION
web_signin_start "$J/swap"
auth2=$WEB_LOCATION
cb1=$(pwb_idp_signin "$auth1" carol pw-carol "$J/swap.idp")
cb2=$(pwb_idp_signin "$auth2" carol pw-carol "$J/swap.idp")
web_req "$J/swap" GET "$(url_set "$cb1" code "$(url_param "$cb2" code)")"
tap_like "flow 2's code with flow 1's state: refused" "$WEB_STATUS" '^4[0-9][0-9]$'
refused_for 'swapped code (PKCE)' 'invalid_grant'
tap_is "... no session" "$(sessions) $(whoami "$J/swap")" "$n 401"

# ---- the nonce: an authorization request changed on the way ----
# Same state, PKCE challenge and redirect URI, so the code redeems; only the
# ID token's nonce is not the flow's (or missing).
web_signin_start "$J/nonce"
cb=$(pwb_idp_signin "$(url_set "$WEB_LOCATION" nonce attacker-nonce)" carol pw-carol "$J/nonce.idp")
web_req "$J/nonce" GET "$cb"
tap_like "an ID token with another nonce: refused" "$WEB_STATUS" '^4[0-9][0-9]$'
refused_for 'another nonce' 'PAM authenticate.*not valid for this service'
tap_is "... no session" "$(sessions) $(whoami "$J/nonce")" "$n 401"
tap_unlike "... nor an account for carol" "$(getent passwd carol)" '^carol:'
web_signin_start "$J/nonce"
cb=$(pwb_idp_signin "$(url_set "$WEB_LOCATION" nonce -)" carol pw-carol "$J/nonce.idp")
web_req "$J/nonce" GET "$cb"
tap_like "an ID token without a nonce: refused" "$WEB_STATUS" '^4[0-9][0-9]$'
refused_for 'no nonce' 'PAM authenticate.*not valid for this service'
tap_is "... no session" "$(sessions) $(whoami "$J/nonce")" "$n 401"

# ---- another audience: a code issued to the IdP's other client ----
web_signin_start "$J/aud"
other=$(url_set "$WEB_LOCATION" client_id "$PWB_IDP_POST_CLIENT_ID")
cb=$(pwb_idp_signin "$other" carol pw-carol "$J/aud.idp")
tap_like "the IdP gives the other client a code" "$cb" 'code='
web_req "$J/aud" GET "$cb"
tap_like "a code issued to another client: refused" "$WEB_STATUS" '^4[0-9][0-9]$'
refused_for 'another client' 'invalid_grant'
tap_is "... no session" "$(sessions) $(whoami "$J/aud")" "$n 401"

# ---- a user the IdP says is not assigned ----
web_signin_start "$J/dave"
cb=$(pwb_idp_signin "$WEB_LOCATION" dave pw-dave "$J/dave.idp")
web_req "$J/dave" GET "$cb"
tap_like "not assigned at the IdP: an error page" "$WEB_STATUS" '^4[0-9][0-9]$'
refused_for 'not assigned' 'access_denied'
tap_like "... that says so, with a reference" "$WEB_BODY" '[Rr]eference'

# ---- session cookies: tampered, made up, expired ----
cookie=$(web_cookie "$J/alice" __Host-pwb-session)
tampered=$(printf '%s' "$cookie" | sed 's/^./X/')
[ "$tampered" = "$cookie" ] && tampered=$(printf '%s' "$cookie" | sed 's/^./Y/')
for c in "$tampered" "${cookie}A" "$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')" '../../x' ''; do
	web_req "$J/none" GET "${P}whoami" -H "Cookie: __Host-pwb-session=$c"
	tap_is "session cookie '${c:0:6}…' (not ours): whoami 401" "$WEB_STATUS" 401
	web_req "$J/none" GET "$B/app/x" -H "Cookie: __Host-pwb-session=$c" -H 'Sec-Fetch-Mode: cors'
	tap_is "... and the app is not reached" "$WEB_STATUS" 401
done
web_signin "$J/idle" erin /app/
file=$(grep -l '"user":"erin"' "$PWB_LOGIN_STATE"/sessions/* | head -1)
touch -d '3 hours ago' "$file"
tap_is "a session idle past auth-timeout-minutes: 401" "$(whoami "$J/idle")" 401
web_signin "$J/old" frank /app/
file=$(grep -l '"user":"frank"' "$PWB_LOGIN_STATE"/sessions/* | head -1)
jq -c '.created = (now - 13 * 3600 | floor)' "$file" >"$file.new" && cat "$file.new" >"$file" && rm -f "$file.new"
tap_is "a session older than auth-openid-session-max-hours: 401" "$(whoami "$J/old")" 401

# ---- open redirects ----
for ret in '//evil.example/x' 'https://evil.example/' '/\evil.example/x' '/%5Cevil.example' \
	'%2F%2Fevil.example' 'javascript:alert(1)' '/%0d%0aSet-Cookie:%20x=1'; do
	web_req "$J/redir" GET "${P}login?return=$ret"
	tap_unlike "return URL '$ret': never a redirect off the site" "$WEB_STATUS $WEB_LOCATION" \
		'^30[1-8] ([a-z]+:)?//([^/]*@)?evil|^30[1-8] /[\\/]'
	tap_unlike "... nor a header injected" "$(cat "$WEB_HEADERS")" '^Set-Cookie: x=1'
done
web_signin "$J/redir2" bob '//evil.example/x'
tap_unlike "a sign-in started with '//evil.example' lands on the site" "$WEB_LOCATION" 'evil'

# ---- a script's request: 401 through nginx, never a redirect ----
for mode in cors no-cors same-origin; do
	web_req "$J/xhr" GET "$B/app/data.json" -H "Sec-Fetch-Mode: $mode"
	tap_is "Sec-Fetch-Mode: $mode without a session: 401, no Location" "$WEB_STATUS:$WEB_LOCATION" "401:"
done
web_req "$J/xhr" GET "$B/app/page"
tap_is "a navigation without a session: to the sign-in" "$WEB_STATUS $WEB_LOCATION" \
	"302 /pwb/login?return=/app/page"

# ---- back-channel logout tokens ----
bcl() {
	web_req "$J/bcl" POST "${P}backchannel-logout" -H 'Sec-Fetch-Mode: no-cors' \
		--data-urlencode "logout_token=$1"
}
logout_claims() {
	local now
	now=$(date +%s)
	printf '{"iss":"%s","aud":"%s","iat":%s,"exp":%s,"jti":"%s","sub":"idp-%s","events":{"http://schemas.openid.net/event/backchannel-logout":{}}%s}' \
		"$PWB_IDP_URL" "${AUD:-$PWB_IDP_CLIENT_ID}" "$now" "$((now + 120))" "${JTI:-$(openssl rand -hex 16)}" "$1" "${2:+,$2}"
}
# idp_sign KEY CLAIMS: a JWS as the IdP makes them (RS256, its kid).
idp_sign() { pwb_sign_token --alg RS256 --kid "$PWB_IDP_KID" --key "$1" --claims "$2"; }
# bcl_refused DESC WHY: the last logout token was refused (400), and
# pwb-login's log says why (an extended regex).
bcl_refused() {
	tap_is "$1: 400" "$WEB_STATUS" 400
	tap_like "... refused for the right reason" "$(grep 'refused backchannel-logout' "$LOG" | tail -1)" "$2"
}
web_signin "$J/bc" bob /app/
tap_is "bob signed in" "$(whoami "$J/bc")" 200
bcl "$(idp_sign "$PWB_IDP_ROGUE_KEY" "$(logout_claims bob)")"
bcl_refused "logout token signed with a key the IdP does not publish" 'signature|verif'
tap_is "... bob's session stays" "$(whoami "$J/bc")" 200
bcl "$(idp_sign "$PWB_IDP_KEY" "$(logout_claims bob '"nonce":"n"')")"
bcl_refused "logout token with a nonce" 'nonce'
AUD=$PWB_IDP_POST_CLIENT_ID bcl "$(idp_sign "$PWB_IDP_KEY" "$(AUD=$PWB_IDP_POST_CLIENT_ID logout_claims bob)")"
bcl_refused "logout token for another client" 'aud'
bcl "$(idp_sign "$PWB_IDP_KEY" "$(logout_claims bob | jq -c 'del(.events)')")"
bcl_refused "logout token without the back-channel event" 'events'
bcl "$(idp_sign "$PWB_IDP_KEY" "$(logout_claims bob | jq -c '.iss = "https://evil.example"')")"
bcl_refused "logout token from another issuer" 'iss'
bcl "not-a-token"
tap_is "garbage: 400" "$WEB_STATUS" 400
tap_is "... bob's session survived all of them" "$(whoami "$J/bc")" 200
jti=$(openssl rand -hex 16)
genuine=$(idp_sign "$PWB_IDP_KEY" "$(JTI=$jti logout_claims bob)")
bcl "$genuine"
tap_is "a genuine logout token (the IdP's key): 200" "$WEB_STATUS" 200
tap_is "... bob's session is over" "$(whoami "$J/bc")" 401
web_signin "$J/bc" bob /app/
bcl "$genuine"
bcl_refused "the same logout token again (jti replayed)" 'jti|replay'
tap_is "... bob's new session stays" "$(whoami "$J/bc")" 200

# ---- signing out at the IdP: the IdP's own back-channel logout ----
before=$(grep -c 'backchannel.success' "$PWB_IDP_LOG")
pwb_idp_logout "$J/bc.idp"
tap_is "signing out at the IdP: it delivers a back-channel logout" \
	"$(($(grep -c 'backchannel.success' "$PWB_IDP_LOG") - before))" 1
tap_is "... and bob's pwb session is over" "$(whoami "$J/bc")" 401

# ---- a local user talking FastCGI straight to pwb-login's TCP port ----
pwb_login_spawn tcp || tap_bail "cannot start pwb-login on TCP"
alice_cookie=$(web_cookie "$J/alice" __Host-pwb-session)
# fcgi ROUTE COOKIE [NAME=VALUE...]: one request as the user nobody, with
# every param chosen by the caller; prints the response's status code.
fcgi() {
	local route=$1 cookie=$2
	shift 2
	setpriv --reuid=nobody --regid=nogroup --clear-groups env -i \
		REQUEST_METHOD=GET SCRIPT_NAME="${PWB_LOGIN_PATH}$route" REQUEST_URI="${PWB_LOGIN_PATH}$route" \
		DOCUMENT_URI="${PWB_LOGIN_PATH}$route" QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 \
		HTTP_COOKIE="__Host-pwb-session=$cookie" "$@" \
		cgi-fcgi -bind -connect "127.0.0.1:$PWB_LOGIN_FCGI_PORT" >"$PWB_TMP/fcgi.out" 2>&1
	sed -n 's/^Status: \([0-9]*\).*/\1/p' "$PWB_TMP/fcgi.out" | head -1
}
forged=(REMOTE_ADDR=127.0.0.1 HTTPS=on HTTP_HOST=ds.example.com HTTP_X_FORWARDED_FOR=127.0.0.1
	REMOTE_USER=alice AUTH_TYPE=Basic HTTP_X_PWB_USER=alice FCGI_ROLE=AUTHORIZER)
tap_is "FastCGI, forged params, a made-up cookie: auth 401" \
	"$(fcgi auth "$(openssl rand -hex 21 | cut -c1-43)" "${forged[@]}")" 401
tap_is "... whoami 401" "$(fcgi whoami "" "${forged[@]}")" 401
tap_is "FastCGI with alice's real cookie: 200, as for her browser" "$(fcgi auth "$alice_cookie")" 200
tap_like "... naming alice only" "$(grep -i '^X-Pwb-User' "$PWB_TMP/fcgi.out")" $'^X-Pwb-User: alice\r?$'
fcgi login "" HTTP_HOST=evil.example HTTPS=on SERVER_NAME=evil.example >/dev/null
loc=$(sed -n 's/^Location: //p' "$PWB_TMP/fcgi.out" | tr -d '\r')
tap_like "FastCGI login with a forged Host: the redirect URI is still the configured base" \
	"$loc" "redirect_uri=$(printf '%s' "${P}callback" | jq -sRr @uri)"
tap_unlike "... never the forged host" "$loc" 'evil'
web_req "$J/fcgi" GET "$B/app/x" -H 'Sec-Fetch-Mode: cors' -H 'X-Forwarded-For: 127.0.0.1' \
	-H 'X-Pwb-User: alice'
tap_is "through nginx, X-Forwarded-For and X-Pwb-User from the client change nothing" "$WEB_STATUS" 401

tap_done
