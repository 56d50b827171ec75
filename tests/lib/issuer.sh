# A real OpenID Connect issuer on loopback for tests (sourced after ns.sh,
# inside pwb_ns_enter). `openssl s_server -WWW` serves, over TLS with a
# certificate from a throw-away test CA, the files of a temp directory:
# /.well-known/openid-configuration and /jwks.json. Rotating keys is
# rewriting jwks.json; nothing is restarted. With PWB_ISSUER_CACHE_CONTROL
# set (e.g. "max-age=2") the files are served by nginx instead, with that
# Cache-Control header on every response.
#
#   pwb_issuer_start            start; sets PWB_ISSUER_URL (https://127.0.0.1:PORT),
#                               PWB_ISSUER_DIR, PWB_ISSUER_CA (CA cert), PWB_ISSUER_PID.
#                               Signing keys made: rsa1 (RSA 2048), ec1 (P-256),
#                               ed1 (Ed25519), in $PWB_ISSUER_DIR/keys/KID.pem;
#                               the JWKS lists rsa1, ec1 and ed1.
#   pwb_issuer_configure [CLIENT_ID]
#                               points pwb.conf at the issuer (auth-openid-issuer,
#                               -ca-file, -algorithms) and writes the client-secret
#                               file (client-id=CLIENT_ID, default pwb-test-client).
#   pwb_issuer_add_key KID TYPE make a key (TYPE: rsa, ec, ec384, ed25519); not yet published
#   pwb_issuer_publish KID...   the JWKS now lists exactly these keys
#   pwb_issuer_rotate           new keys rsa2 and ec2 replace everything in the JWKS
#   pwb_issuer_requests         how many HTTP requests the issuer has served
#   pwb_issuer_stop             stop the server (also done at cleanup)
#   pwb_token_claims USER [JSON-MEMBERS]
#                               standard claims for USER: iss, aud, sub, iat, exp (+300 s),
#                               preferred_username=USER, plus extra members ("k":v,...)
#   pwb_sign_token --claims JSON [--kid KID] [--alg ALG] [--header JSON]
#                  [--key PEM] [--hmac-key-file FILE]
#                               prints a compact JWS made by pwb-test-sign; --kid alone
#                               picks $PWB_ISSUER_DIR/keys/KID.pem and its alg (RS256
#                               for rsa*, ES256 for ec*, EdDSA for ed*); default kid rsa1.
#   "$PWB_TEST_SIGN" encrypt --key-file FILE --secret TEXT
#                               prints TEXT encrypted as `pwbadm encrypt-password` does.
#   pwb_oidc_refused DESC USER TOKEN CHECK
#                               (needs syslog.sh) a sign-in of USER with TOKEN through the
#                               PAM service pwb-test fails, and exactly one new pam_pwb_oidc
#                               syslog line reads "user USER: sign-in refused: CHECK" (an
#                               extended regex, usually the check's "name:" prefix) and does
#                               not contain the token. Three TAP checks.

PWB_TEST_SIGN=$PWB_TEST_BUILDDIR/tests/tools/pwb-test-sign
PWB_ISSUER_CLIENT_ID=pwb-test-client

pwb_issuer_start() {
	local d port i
	[ -x "$PWB_TEST_SIGN" ] || { echo "pwb_issuer_start: $PWB_TEST_SIGN not built" >&2; return 1; }
	d=$PWB_TMP/issuer
	mkdir -p "$d/www/.well-known" "$d/keys"
	PWB_ISSUER_DIR=$d
	# Test CA and a server certificate for 127.0.0.1 signed by it.
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
		-subj "/CN=pwb test CA" >/dev/null 2>&1 || return 1
	openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
		-subj "/CN=127.0.0.1" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-out "$d/server.pem" -days 2 -extfile "$d/ext.cnf" >/dev/null 2>&1 || return 1
	PWB_ISSUER_CA=$d/ca.pem
	pwb_on_cleanup pwb_issuer_stop
	pwb_issuer_add_key rsa1 rsa && pwb_issuer_add_key ec1 ec && pwb_issuer_add_key ed1 ed25519 ||
		return 1
	for i in 1 2 3 4 5; do
		port=$(pwb_free_port) || return 1
		PWB_ISSUER_URL=https://127.0.0.1:$port
		cat >"$d/www/.well-known/openid-configuration" <<-JSON
		{"issuer":"$PWB_ISSUER_URL","jwks_uri":"$PWB_ISSUER_URL/jwks.json",
		 "authorization_endpoint":"$PWB_ISSUER_URL/authorize",
		 "id_token_signing_alg_values_supported":["RS256","ES256","EdDSA"]}
		JSON
		pwb_issuer_publish rsa1 ec1 ed1 || return 1
		if [ -n "${PWB_ISSUER_CACHE_CONTROL:-}" ]; then
			pwb_issuer_nginx_conf "$port" >"$d/nginx.conf"
			nginx -p "$d" -c "$d/nginx.conf" -e "$d/nginx-error.log" \
				</dev/null >/dev/null 2>&1 &
		else
			(cd "$d/www" && exec openssl s_server -WWW -accept "127.0.0.1:$port" \
				-cert "$d/server.pem" -key "$d/server.key" -naccept 100000 \
				</dev/null >"$d/server.log" 2>&1) &
		fi
		PWB_ISSUER_PID=$!
		local tries
		for tries in $(seq 1 50); do
			# Listening, and by us (a server that lost the port exits).
			if ss -Htln "sport = :$port" 2>/dev/null | grep -q . && sleep 0.1 &&
				kill -0 "$PWB_ISSUER_PID" 2>/dev/null; then return 0; fi
			kill -0 "$PWB_ISSUER_PID" 2>/dev/null || break
			sleep 0.1
		done
		pwb_issuer_stop # port taken meanwhile: try another
	done
	return 1
}

# nginx in the foreground, one process, logging each request as FILE:URI
# (the format pwb_issuer_requests counts, as for s_server).
pwb_issuer_nginx_conf() {
	local d=$PWB_ISSUER_DIR
	mkdir -p "$d/tmp"
	cat <<-NGINX
	daemon off;
	master_process off;
	worker_processes 1;
	pid $d/nginx.pid;
	error_log $d/nginx-error.log;
	events { worker_connections 64; }
	http {
		log_format files 'FILE:\$uri';
		access_log $d/server.log files;
		client_body_temp_path $d/tmp/body;
		proxy_temp_path $d/tmp/proxy;
		fastcgi_temp_path $d/tmp/fastcgi;
		uwsgi_temp_path $d/tmp/uwsgi;
		scgi_temp_path $d/tmp/scgi;
		default_type application/json;
		server {
			listen 127.0.0.1:$1 ssl;
			ssl_certificate $d/server.pem;
			ssl_certificate_key $d/server.key;
			root $d/www;
			location / { add_header Cache-Control "$PWB_ISSUER_CACHE_CONTROL" always; }
		}
	}
	NGINX
}

pwb_issuer_stop() {
	if [ -n "${PWB_ISSUER_PID:-}" ]; then
		kill "$PWB_ISSUER_PID" 2>/dev/null
		wait "$PWB_ISSUER_PID" 2>/dev/null
		PWB_ISSUER_PID=
	fi
	return 0
}

pwb_issuer_requests() {
	grep -c '^FILE:' "$PWB_ISSUER_DIR/server.log" 2>/dev/null || true
}

pwb_issuer_add_key() {
	local kid=$1 type=$2 f=$PWB_ISSUER_DIR/keys/$1.pem
	case $type in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$f" ;;
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$f" ;;
	ec384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$f" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$f" ;;
	*) echo "pwb_issuer_add_key: unknown type $type" >&2; return 1 ;;
	esac >/dev/null 2>&1
}

pwb_issuer_publish() {
	local kid jwks= sep=
	for kid in "$@"; do
		jwks="$jwks$sep$("$PWB_TEST_SIGN" jwk --key "$PWB_ISSUER_DIR/keys/$kid.pem" --kid "$kid")" ||
			return 1
		sep=,
	done
	# Write beside and rename, so the server never serves half a file.
	printf '{"keys":[%s]}\n' "$jwks" >"$PWB_ISSUER_DIR/www/.jwks.tmp" &&
		mv "$PWB_ISSUER_DIR/www/.jwks.tmp" "$PWB_ISSUER_DIR/www/jwks.json"
}

pwb_issuer_rotate() {
	pwb_issuer_add_key rsa2 rsa && pwb_issuer_add_key ec2 ec && pwb_issuer_publish rsa2 ec2
}

pwb_issuer_configure() {
	local client_id=${1:-$PWB_ISSUER_CLIENT_ID}
	PWB_ISSUER_CLIENT_ID=$client_id
	pwb_conf_set "auth-openid-issuer=$PWB_ISSUER_URL" \
		"auth-openid-ca-file=$PWB_ISSUER_CA" \
		"auth-openid-client-secret-file=/etc/pwb/openid-client-secret"
	(umask 077 && printf 'client-id=%s\n' "$client_id" >/etc/pwb/openid-client-secret)
}

pwb_token_claims() {
	local user=$1 extra=${2:-} now
	now=$(date +%s)
	printf '{"iss":"%s","aud":"%s","sub":"sub-%s","iat":%s,"exp":%s,"preferred_username":"%s"%s}' \
		"$PWB_ISSUER_URL" "$PWB_ISSUER_CLIENT_ID" "$user" "$now" "$((now + 300))" "$user" \
		"${extra:+,$extra}"
}

pwb_sign_token() {
	local kid=rsa1 alg= key= args=()
	while [ $# -gt 0 ]; do
		case $1 in
		--kid) kid=$2 ;;
		--alg) alg=$2 ;;
		--key) key=$2 ;;
		*) args+=("$1" "$2") ;;
		esac
		shift 2
	done
	if [ -z "$alg" ]; then
		case $kid in
		rsa*) alg=RS256 ;;
		ec*) alg=ES256 ;;
		ed*) alg=EdDSA ;;
		esac
	fi
	[ -n "$key" ] || key=$PWB_ISSUER_DIR/keys/$kid.pem
	case $alg in
	none | HS*) "$PWB_TEST_SIGN" sign --alg "$alg" --kid "$kid" "${args[@]}" ;;
	*) "$PWB_TEST_SIGN" sign --alg "$alg" --kid "$kid" --key "$key" "${args[@]}" ;;
	esac
}

pwb_oidc_refused() {
	local desc=$1 user=$2 token=$3 check=$4 before lines
	before=$(pwb_syslog_count)
	tap_check_fails "$desc: refused" \
		sh -c 'printf "%s\n" "$2" | pamtester -v pwb-test "$1" authenticate' - "$user" "$token"
	lines=$(pwb_syslog_since "$before" | grep 'pam_pwb_oidc')
	tap_like "$desc: logged as '$check'" "$lines" "user $user: sign-in refused: $check"
	tap_is "$desc: one log line" "$(printf '%s\n' "$lines" | grep -c .)" 1
	case $lines in *"${token:0:40}"*) tap_fail "$desc: token in the log" ;; esac
}
