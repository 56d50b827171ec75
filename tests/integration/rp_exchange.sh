#!/usr/bin/env bash
# The code exchange of lib/oidc/rp.c (tests/tools/pwb-rp-exchange) over
# real HTTPS: nginx with a throw-away test CA plays the token endpoint and
# logs what it received. client_secret_basic sends the client id and
# secret form-urlencoded before base64 (RFC 6749 2.3.1: a ':' in the id or
# reserved bytes in the secret survive) and keeps them out of the body;
# client_secret_post puts them in the body. A redirect is not followed (the
# code and the secret go nowhere else), an error reply is mapped, an error
# text that repeats the code is withheld, a reply over the size limit and a
# non-JSON reply are refused, plain http and an untrusted certificate are
# refused. The real IdP's exchange is covered by the pwb-login tests.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/idp.sh" # pwb_web_ca
set -u

TOOL=$PWB_TEST_BUILDDIR/tests/tools/pwb-rp-exchange
[ -x "$TOOL" ] || tap_bail "not built: $TOOL"
command -v nginx >/dev/null || tap_bail "nginx missing"
pwb_web_ca || tap_bail "cannot make the test CA"

dir=$PWB_TMP/token-nginx
mkdir -p "$dir/www"
# A reply over the 256 KiB limit.
{ printf '{"id_token":"h.p.s","access_token":"'; head -c 300000 /dev/zero | tr '\0' a; printf '"}'; } \
	>"$dir/www/big.json"
chmod -R a+rX "$dir/www"
port=$(pwb_free_port) && back=$(pwb_free_port) || tap_bail "no free port"
cat >"$dir/nginx.conf" <<CONF
user www-data www-data;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 64; }
http {
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	log_format rp '\$uri|\$request_method|\$http_authorization|\$content_type|\$request_body';
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $PWB_WEB_CERT;
		ssl_certificate_key $PWB_WEB_KEY;
		access_log $dir/token.log rp;
		location = /token { proxy_pass http://127.0.0.1:$back/ok; }
		location = /token-redirect { return 307 https://127.0.0.1:$port/token; }
		location = /token-error {
			default_type application/json;
			return 400 '{"error":"invalid_grant","error_description":"code the-code-42 is not valid"}';
		}
		location = /token-refused {
			default_type application/json;
			return 401 '{"error":"invalid_client","error_description":"client authentication failed"}';
		}
		location = /token-big { proxy_method GET; proxy_pass http://127.0.0.1:$back/big.json; }
		location = /token-html { return 502 '<html>bad gateway</html>'; }
	}
	server {
		listen 127.0.0.1:$back;
		access_log off;
		location = /ok {
			default_type application/json;
			return 200 '{"id_token":"h.p.s","access_token":"at-1","token_type":"Bearer","expires_in":60}';
		}
		location = /big.json { root $dir/www; }
	}
}
CONF
env -u LD_PRELOAD -u LD_LIBRARY_PATH nginx -e "$dir/error.log" -c "$dir/nginx.conf" -p "$dir" 2>"$dir/start.log" ||
	tap_bail "nginx did not start: $(cat "$dir/start.log")"
pwb_on_cleanup "kill \$(cat '$dir/nginx.pid' 2>/dev/null) 2>/dev/null"
for _ in $(seq 1 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done

BASE=https://127.0.0.1:$port
ID='client:one'
SECRET='p@ss:w/rd+&=% é'
CODE=the-code-42
VERIFIER=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
REDIRECT='https://ds.example.com/pwb/callback'
uri() { jq -rn --arg v "$1" '$v | @uri'; }
exchange() { # ENDPOINT METHOD
	"$TOOL" "$1" "$PWB_WEB_CA" "$2" "$ID" "$SECRET" "$CODE" "$VERIFIER" "$REDIRECT"
}
last_log() { tail -n 1 "$dir/token.log"; }

# client_secret_basic
out=$(exchange "$BASE/token" basic)
tap_is "client_secret_basic: the tokens are read" "$out" "id_token=h.p.s access_token=at-1 expires_in=60"
want="Basic $(printf '%s:%s' "$(uri "$ID")" "$(uri "$SECRET")" | base64 -w0)"
IFS='|' read -r path method auth ctype body <<<"$(last_log)"
tap_is "client_secret_basic: a POST to the endpoint" "$path $method" "/token POST"
tap_is "client_secret_basic: id and secret form-urlencoded, then base64 (RFC 6749 2.3.1)" "$auth" "$want"
tap_is "client_secret_basic: a form body" "$ctype" "application/x-www-form-urlencoded"
tap_is "client_secret_basic: the body holds the grant, not the credentials" "$body" \
	"grant_type=authorization_code&code=$CODE&redirect_uri=$(uri "$REDIRECT")&code_verifier=$VERIFIER"

# client_secret_post
out=$(exchange "$BASE/token" post)
tap_is "client_secret_post: the tokens are read" "$out" "id_token=h.p.s access_token=at-1 expires_in=60"
IFS='|' read -r path method auth ctype body <<<"$(last_log)"
tap_is "client_secret_post: no Authorization header" "$auth" "-"
# nginx logs the body with its own escaping of non-printable bytes; the
# encoded form is plain ASCII, so it is logged as sent.
tap_is "client_secret_post: id and secret in the body, form-urlencoded" "$body" \
	"grant_type=authorization_code&code=$CODE&redirect_uri=$(uri "$REDIRECT")&code_verifier=$VERIFIER&client_id=$(uri "$ID")&client_secret=$(uri "$SECRET")"

# A redirect is an answer, not an order.
before=$(wc -l <"$dir/token.log")
out=$(exchange "$BASE/token-redirect" basic)
tap_like "a redirect is not followed (refused with its status)" "$out" \
	"^error -1009: token endpoint: HTTP status 307$"
tap_is "a redirect is not followed (no second request)" "$(($(wc -l <"$dir/token.log") - before))" 1

out=$(exchange "$BASE/token-refused" basic)
tap_is "an error reply is mapped (RFC 6749 5.2)" "$out" \
	"error -1008: token endpoint: invalid_client: client authentication failed"
out=$(exchange "$BASE/token-error" basic)
tap_is "an error text that repeats the code is withheld" "$out" \
	"error -1008: token endpoint: refused (its message repeats the request)"
out=$(exchange "$BASE/token-big" basic)
tap_like "a reply over 256 KiB is refused" "$out" "^error -1009: .*/token-big: response larger than 262144 bytes$"
out=$(exchange "$BASE/token-html" basic)
tap_is "a non-JSON error page is refused" "$out" "error -1009: token endpoint: HTTP status 502"
out=$(exchange "http://127.0.0.1:$port/token" basic)
tap_like "plain http is refused" "$out" "^error -1003: http://127.0.0.1:$port/token: only https:// URLs are used$"
out=$("$TOOL" "$BASE/token" - basic "$ID" "$SECRET" "$CODE" "$VERIFIER" "$REDIRECT")
tap_like "a certificate the CAs do not vouch for is refused" "$out" "^error -1009: $BASE/token: "
tap_check_fails "no message names the secret, the code or the verifier" \
	grep -qF -e "$SECRET" -e "$VERIFIER" -e "the-code-42 is" <<<"$(for e in token-redirect token-refused token-error token-big token-html; do exchange "$BASE/$e" basic; done)"
tap_done
