#!/usr/bin/env bash
# pwb-login under spawn-fcgi as the login-user, driven directly over
# FastCGI with cgi-fcgi, the way a local user could: forged params
# (HTTP_HOST, HTTPS, REMOTE_ADDR, X-Forwarded-*, X-Pwb-User, cookies) gain
# nothing. auth without a session is 401 and never echoes X-Pwb-*; login
# redirects to the provider's authorization endpoint with the configured
# redirect_uri; an absolute or foreign return URL is refused; a wrong,
# foreign-browser or replayed state is refused with a reference that is on
# the log line; the state directory is 0700 and the login-user's.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
pwb_ns_enter "$@"

BIN=${PWB_STAGE:-$PWB_TEST_BUILDDIR}/pwb-login/pwb-login
command -v cgi-fcgi >/dev/null && command -v spawn-fcgi >/dev/null ||
	{ echo "1..0 # SKIP cgi-fcgi or spawn-fcgi missing (scripts/deps.d/login.txt)"; exit 0; }
pwb_issuer_start || { echo "Bail out! cannot start the test issuer"; exit 1; }
pwb_issuer_configure
BASE=https://login.example.test
STATE_DIR=$PWB_TMP/login-state
RUN=$PWB_TMP/run
mkdir -p "$RUN" && chmod 0755 "$RUN"
# The provider's code-flow endpoints; the token endpoint is a closed port,
# so an exchange fails fast (these tests stop before a real code).
DEAD_PORT=$(pwb_free_port)
cat >"$PWB_ISSUER_DIR/www/.well-known/openid-configuration" <<JSON
{"issuer":"$PWB_ISSUER_URL","jwks_uri":"$PWB_ISSUER_URL/jwks.json",
 "authorization_endpoint":"$PWB_ISSUER_URL/authorize",
 "token_endpoint":"https://127.0.0.1:$DEAD_PORT/token",
 "end_session_endpoint":"$PWB_ISSUER_URL/session/end",
 "code_challenge_methods_supported":["S256"],
 "id_token_signing_alg_values_supported":["RS256","ES256","EdDSA"]}
JSON
pwb_conf_set "auth-openid-base-uri=$BASE" "auth-openid-session-dir=$STATE_DIR" \
	"auth-openid-trusted-proxies=127.0.0.1"
# systemd-style credentials, readable by the login-user only
CREDS=$PWB_TMP/creds
install -d -o pwb-login -g pwb-login -m 0700 "$CREDS"
printf 'client-id=pwb-test-client\nclient-secret=s3cret-value\n' >"$CREDS/openid-client-secret"
chown pwb-login:pwb-login "$CREDS/openid-client-secret" && chmod 0600 "$CREDS/openid-client-secret"
install -d -o pwb-login -g pwb-login -m 0700 "$STATE_DIR"

SOCK=$RUN/pwb-login.sock
LOG=$RUN/pwb-login.log
install -o pwb-login -g pwb-login -m 0600 /dev/null "$LOG"
spawn-fcgi -s "$SOCK" -M 0600 -u pwb-login -g pwb-login -P "$RUN/pwb-login.pid" -- \
	/usr/bin/env CREDENTIALS_DIRECTORY="$CREDS" PWB_CONFIG="$PWB_CONF" /bin/sh -c \
	'exec "$0" --log-stderr 2>>"$1"' "$BIN" "$LOG" >"$RUN/spawn.log" 2>&1 ||
	{ echo "Bail out! spawn-fcgi: $(cat "$RUN/spawn.log")"; exit 1; }
pwb_on_cleanup "kill \$(cat '$RUN/pwb-login.pid' 2>/dev/null) 2>/dev/null"
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

# fcgi URI [PARAM=value...]: one request over FastCGI, as root (who can
# reach the socket) with exactly these params; the raw response in OUT,
# its first line in STATUS.
fcgi() {
	local uri=$1 path query=''
	shift
	path=${uri%%\?*}
	case $uri in *\?*) query=${uri#*\?} ;; esac
	OUT=$(env -i REQUEST_METHOD=GET REQUEST_URI="$uri" DOCUMENT_URI="$path" \
		QUERY_STRING="$query" SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=192.0.2.10 "$@" \
		cgi-fcgi -bind -connect "$SOCK" </dev/null 2>&1 | tr -d '\r')
	STATUS=$(printf '%s\n' "$OUT" | head -1)
}
header() { printf '%s\n' "$OUT" | sed -n "s/^$1: //Ip" | head -1; }
urldecode() { printf '%b' "$(printf '%s' "$1" | sed 's/+/ /g; s/%\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')"; }
qparam() { urldecode "$(printf '%s' "$1" | tr '?&' '\n\n' | sed -n "s/^$2=//p" | head -1)"; }
ref_of() { printf '%s\n' "$OUT" | sed -n 's/.*<code id="pwb-ref">\([0-9a-f]*\)<.*/\1/p'; }

tap_is "state directory: 0700, the login-user's" "$(stat -c '%a %U' "$STATE_DIR")" "700 pwb-login"
tap_is "state directory: its folders too" \
	"$(stat -c '%a %U' "$STATE_DIR/flows" "$STATE_DIR/sessions" "$STATE_DIR/jti" | sort -u)" \
	"700 pwb-login"

# auth: no session, whatever the params say
fcgi /pwb/auth
tap_is "auth without a cookie: 401" "$STATUS" "Status: 401 Unauthorized"
RANDOM_COOKIE=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
fcgi /pwb/auth HTTP_COOKIE="__Host-pwb-session=$RANDOM_COOKIE" HTTP_X_PWB_USER=root \
	HTTP_X_PWB_UID=0 HTTPS=on REMOTE_ADDR=127.0.0.1 HTTP_X_FORWARDED_FOR=10.0.0.1
tap_is "auth with an unknown cookie and forged X-Pwb-User: 401" "$STATUS" "Status: 401 Unauthorized"
tap_is "... and no X-Pwb-* header in the answer" "$(printf '%s\n' "$OUT" | grep -ci '^x-pwb')" 0
fcgi /pwb/auth HTTP_COOKIE="__Host-pwb-session=../../../etc/passwd"
tap_is "auth with a malformed cookie: 401" "$STATUS" "Status: 401 Unauthorized"
fcgi /pwb/whoami HTTP_X_PWB_USER=root
tap_is "whoami without a session: 401" "$STATUS" "Status: 401 Unauthorized"
fcgi /pwb/
tap_is "landing page without a session: to login" "$STATUS" "Status: 302 Found"
tap_is "... at the login route" "$(header Location)" "/pwb/login"

# login: the redirect URI comes from pwb.conf, never from the request
fcgi /pwb/login HTTP_HOST=evil.example HTTPS=off REMOTE_ADDR=127.0.0.1 \
	HTTP_X_FORWARDED_HOST=evil.example HTTP_X_FORWARDED_PROTO=http SERVER_NAME=evil.example \
	SERVER_PORT=80
tap_is "login: 302" "$STATUS" "Status: 302 Found"
LOC=$(header Location)
tap_like "login: to the provider's authorization endpoint" "$LOC" "^$PWB_ISSUER_URL/authorize\?"
tap_is "login: redirect_uri from auth-openid-base-uri despite forged Host/HTTPS/X-Forwarded-*" \
	"$(qparam "$LOC" redirect_uri)" "$BASE/pwb/callback"
tap_is "login: the client id" "$(qparam "$LOC" client_id)" "pwb-test-client"
tap_is "login: PKCE S256" "$(qparam "$LOC" code_challenge_method)" "S256"
tap_is "login: response_type=code" "$(qparam "$LOC" response_type)" "code"
tap_like "login: a nonce" "$(qparam "$LOC" nonce)" '^[A-Za-z0-9_-]{43}$'
STATE1=$(qparam "$LOC" state)
tap_like "login: a state" "$STATE1" '^[A-Za-z0-9_-]{43}$'
COOKIE=$(header Set-Cookie)
tap_like "login: the flow cookie is __Host-, Secure, HttpOnly, Path=/, SameSite=Lax" "$COOKIE" \
	'^__Host-pwb-flow=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Lax$'
FLOW=${COOKIE%%;*}
tap_is "login: the secret never leaves in the URL" "$(printf '%s' "$LOC" | grep -c s3cret)" 0
fcgi /pwb/login HTTP_COOKIE="$FLOW"
tap_is "login: a second tab reuses the browser's flow cookie" "$(header Set-Cookie)" ""
STATE2=$(qparam "$(header Location)" state)

# the return URL: a path on this site only
for bad in 'https://evil.example/' '//evil.example/x' '/\evil.example' 'javascript:alert(1)' \
	'%2F%2Fevil.example' 'https%3A%2F%2Fevil.example'; do
	fcgi "/pwb/login?return=$bad"
	tap_is "login: return URL '$bad' refused" "$STATUS" "Status: 400 Bad Request"
done
fcgi "/pwb/login?return=/app/page?x=1&y=2"
tap_is "login: a path on this site is kept" "$STATUS" "Status: 302 Found"
fcgi "/pwb/login?lang=en&return=%2Fapp%2Fpage%3Fx%3D1"
tap_is "login: ... also encoded, after another parameter" "$STATUS" "Status: 302 Found"
fcgi "/pwb/login?lang=en&return=%2F%2Fevil.example"
tap_is "login: ... and refused there too when foreign" "$STATUS" "Status: 400 Bad Request"

# callback: the state must name an open flow of this browser
OTHER=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
fcgi "/pwb/callback?code=abc&state=$OTHER" HTTP_COOKIE="$FLOW"
tap_is "callback: a wrong state is refused" "$STATUS" "Status: 400 Bad Request"
REF=$(ref_of)
tap_like "callback: the page carries a reference" "$REF" '^[0-9a-f]{8}$'
sleep 0.2
tap_like "callback: ... which is on the log line" "$(grep "ref=$REF" "$LOG")" 'refused callback'
fcgi "/pwb/callback?code=abc&state=$STATE1" HTTP_COOKIE="__Host-pwb-flow=$OTHER"
tap_is "callback: the right state from another browser is refused" "$STATUS" "Status: 400 Bad Request"
fcgi "/pwb/callback?code=abc&state=$STATE1"
tap_is "callback: ... and without the flow cookie" "$STATUS" "Status: 400 Bad Request"
fcgi "/pwb/callback?code=abc&state=$STATE1&state=$STATE2" HTTP_COOKIE="$FLOW"
tap_is "callback: two states are refused" "$STATUS" "Status: 400 Bad Request"
fcgi "/pwb/callback?code=abc&state=$STATE1" HTTP_COOKIE="$FLOW"
tap_is "callback: the right browser gets to the token endpoint (down here: 503)" "$STATUS" \
	"Status: 503 Service Unavailable"
fcgi "/pwb/callback?code=abc&state=$STATE1" HTTP_COOKIE="$FLOW"
tap_is "callback: a replayed state is refused" "$STATUS" "Status: 400 Bad Request"
fcgi "/pwb/callback?error=access_denied&error_description=%3Cscript%3Ex%3C%2Fscript%3E&state=$STATE2" \
	HTTP_COOKIE="$FLOW"
tap_is "callback: the provider's access_denied is 403" "$STATUS" "Status: 403 Forbidden"
tap_like "... 'not assigned to this app'" "$OUT" 'Not assigned to this app'
fcgi "/pwb/callback?error=server_error&error_description=%3Cscript%3Ex%3C%2Fscript%3E"
tap_is "callback: another provider error is 400" "$STATUS" "Status: 400 Bad Request"
tap_is "... its text escaped" "$(printf '%s' "$OUT" | grep -c '<script>')" 0
fcgi "/pwb/callback?code=abc&state=$STATE2" HTTP_COOKIE="$FLOW"
tap_is "callback: a flow ended by a provider error is gone" "$STATUS" "Status: 400 Bad Request"

# logout and back-channel logout refuse what is not theirs
fcgi /pwb/logout HTTP_SEC_FETCH_SITE=cross-site REQUEST_METHOD=POST
tap_is "logout from another site is refused" "$STATUS" "Status: 403 Forbidden"
fcgi /pwb/backchannel-logout REQUEST_METHOD=POST CONTENT_TYPE=application/json
tap_is "backchannel-logout without a form: 400" "$STATUS" "Status: 400 Bad Request"
tap_like "... with a JSON error" "$OUT" '"error":"invalid_request"'

tap_is "the log holds no state, cookie or secret" \
	"$(grep -cE -e "$STATE1|$STATE2|${FLOW#*=}|s3cret|$RANDOM_COOKIE" "$LOG")" 0

# a state directory others may enter: pwb-login refuses to start
chmod 0750 "$STATE_DIR"
out=$(setpriv --reuid=pwb-login --regid=pwb-login --clear-groups env CREDENTIALS_DIRECTORY="$CREDS" \
	PWB_CONFIG="$PWB_CONF" "$BIN" </dev/null 2>&1) && rc=0 || rc=$?
tap_is "a group-accessible state directory: refused at start" "$rc" 1
tap_like "... saying why" "$out" 'mode 0750'
chmod 0700 "$STATE_DIR"
out=$("$BIN" 2>&1) && rc=0 || rc=$?
tap_is "refuses to run as root" "$rc" 1

tap_done
