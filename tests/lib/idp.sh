# The real OpenID Provider for pwb-login's tests (sourced after ns.sh,
# inside pwb_ns_enter): panva's oidc-provider (tests/idp/idp.mjs, npm
# packages pinned by tests/idp/package-lock.json) on loopback over HTTPS,
# with a certificate from a throw-away test CA that nginx shares.
#
#   pwb_web_ca              the test CA and one server certificate for
#                           127.0.0.1/localhost: PWB_WEB_CA (CA cert),
#                           PWB_WEB_CERT, PWB_WEB_KEY, PWB_WEB_SPKI (base64
#                           SHA-256 of the server key's SPKI: what Chromium's
#                           --ignore-certificate-errors-spki-list takes)
#   pwb_idp_deps            npm ci into tests/idp/node_modules once (kept
#                           between tests and runs; redone when the lockfile
#                           changes; serialised with flock)
#   pwb_idp_start           needs PWB_LOGIN_BASE (https://127.0.0.1:PORT, the
#                           public base URL pwb-login is reached at); starts
#                           the IdP and sets:
#     PWB_IDP_URL           its issuer (https://localhost:PORT; it listens on
#                           127.0.0.1 only)
#     PWB_IDP_CLIENT_ID / PWB_IDP_CLIENT_SECRET
#                           the confidential client (client_secret_basic)
#     PWB_IDP_POST_CLIENT_ID / PWB_IDP_POST_CLIENT_SECRET
#                           a second client (client_secret_post), same URIs
#     PWB_IDP_KEY, PWB_IDP_KID   the IdP's signing key (PEM) and its kid
#     PWB_IDP_ROGUE_KEY     a key of the same kind the IdP never publishes
#     PWB_IDP_LOG           its log (one line per request, back-channel
#                           deliveries as "idp: backchannel.success CLIENT")
#   Users (password pw-NAME, sub idp-NAME): alice (groups staff, research),
#   bob (staff), carol (research), erin, frank; dave is "not assigned"
#   (the IdP answers access_denied). PWB_IDP_USERS (a JSON object as in
#   idp.mjs) replaces them; PWB_IDP_TTL (JSON) sets lifetimes.
#   pwb_idp_set_user NAME JSON   add or replace one user (SIGHUP reload)
#   pwb_idp_configure [basic|post]
#                           points pwb.conf at the IdP (auth-openid-issuer,
#                           -ca-file, -base-uri, -token-method,
#                           -post-logout-redirect-uri) and writes the client
#                           id and encrypted secret: /etc/pwb/openid-client-secret
#                           and /etc/pwb/secure-key (root's) and the same in
#                           PWB_LOGIN_CREDENTIALS, pwb-login's credentials
#                           directory (0700, files 0600, owned by pwb-login)
#   pwb_idp_stop            stops it (also done at cleanup)
# The device grant (RFC 8628; idp.mjs adds `interval`, slow_down and
# expired_token, and logs each device authorization and poll):
#   device clients          pwb-device (public), pwb-device-basic
#                           (client_secret_basic), pwb-device-post
#                           (client_secret_post; secrets in
#                           PWB_IDP_DEVICE_SECRET), pwb-device-slow (public;
#                           the first poll of each device code gets slow_down),
#                           pwb-device-short (public; device codes live
#                           PWB_IDP_DEVICE_SHORT_TTL seconds, default 4);
#                           interval PWB_IDP_DEVICE_INTERVAL (default 1 s)
#   pwb_idp_device_configure CLIENT [METHOD]
#                           writes the device client file
#                           (/etc/pwb/openid-device-client, secret encrypted)
#                           and sets auth-openid-device-client-file and
#                           -token-method (default auto); CLIENT pwb-web is
#                           the web client, which has no device grant
#   pwb_idp_device_approve USER_CODE USER [deny] [JAR]
#                           at the IdP's own /device pages over HTTPS with a
#                           cookie jar, as a browser would: the code, the
#                           confirmation (Continue, or Abort with deny), the
#                           login page; fails unless the IdP shows its
#                           success page (its "interrupted" page with deny)
#   pwb_idp_device_token CLIENT USER
#                           a whole device flow with curl for a public
#                           CLIENT (request, approve, poll): prints the ID token
#   pwb_idp_digest TEXT     the digest idp.mjs logs for a device or user code
#   pwb_idp_device_polls UC_DIGEST
#                           the log's poll lines for the device code whose
#                           user code has that digest ("t=MS result=R")
#   pwb_node ARGS...        node without the sanitizer runtime, trusting the CA

PWB_IDP_SRC=$PWB_TEST_SRCDIR/tests/idp
PWB_LOGIN_PATH=/pwb/
# The IdP is reached by name, the site by address: browsers scope cookies
# by host, not port, and the two must not see each other's.
PWB_IDP_HOST=localhost
PWB_TEST_SIGN=${PWB_TEST_SIGN:-$PWB_TEST_BUILDDIR/tests/tools/pwb-test-sign}

# node, Chromium, nginx, Apache and curl are not ours: in the sanitizer
# pass they run without the preloaded ASan runtime, and without
# LD_LIBRARY_PATH, which points at the sanitized nss_pwb (they need no pwb
# account, and a sanitized module loaded without the runtime aborts).
pwb_node() {
	env -u LD_PRELOAD -u LD_LIBRARY_PATH NODE_EXTRA_CA_CERTS="$PWB_WEB_CA" node "$@"
}

pwb_web_ca() {
	local d=$PWB_TMP/ca
	[ -n "${PWB_WEB_CA:-}" ] && return 0
	mkdir -p "$d"
	(
		umask 077
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" \
			-days 2 -subj "/CN=pwb web test CA" &&
			openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
				-subj "/CN=127.0.0.1" &&
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext.cnf" &&
			openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
				-CAcreateserial -out "$d/server.pem" -days 2 -extfile "$d/ext.cnf"
	) >/dev/null 2>&1 || return 1
	chmod 0644 "$d/ca.pem" "$d/server.pem"
	PWB_WEB_CA=$d/ca.pem
	PWB_WEB_CERT=$d/server.pem
	PWB_WEB_KEY=$d/server.key
	PWB_WEB_SPKI=$(openssl x509 -in "$d/server.pem" -pubkey -noout |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
}

pwb_idp_deps() {
	local want have
	command -v node >/dev/null || { echo "pwb_idp_deps: node is not installed" >&2; return 1; }
	want=$(sha256sum "$PWB_IDP_SRC/package-lock.json" | cut -d' ' -f1)
	have=$(cat "$PWB_IDP_SRC/node_modules/.pwb-lock-sha256" 2>/dev/null)
	[ "$want" = "$have" ] && return 0
	(
		flock 9
		have=$(cat "$PWB_IDP_SRC/node_modules/.pwb-lock-sha256" 2>/dev/null)
		[ "$want" = "$have" ] && exit 0
		cd "$PWB_IDP_SRC" &&
			env -u LD_PRELOAD -u LD_LIBRARY_PATH npm ci --no-audit --no-fund --loglevel=error >&2 &&
			echo "$want" >node_modules/.pwb-lock-sha256
	) 9>"$PWB_IDP_SRC/.npm-ci.lock"
}

# One user as idp.mjs takes it.
pwb_idp_user_json() {
	local name=$1 groups=${2:-} extra=${3:-}
	jq -cn --arg n "$name" --arg g "$groups" --argjson x "${extra:-{\}}" \
		'{sub: ("idp-" + $n), password: ("pw-" + $n), email: ($n + "@example.com"),
		  name: ($n | ascii_upcase), groups: ($g | split(",") | map(select(. != "")))} + $x'
}

pwb_idp_default_users() {
	jq -cn --argjson a "$(pwb_idp_user_json alice staff,research)" \
		--argjson b "$(pwb_idp_user_json bob staff)" \
		--argjson c "$(pwb_idp_user_json carol research)" \
		--argjson d "$(pwb_idp_user_json dave staff '{"assigned":false}')" \
		--argjson e "$(pwb_idp_user_json erin)" \
		--argjson f "$(pwb_idp_user_json frank)" \
		'{alice: $a, bob: $b, carol: $c, dave: $d, erin: $e, frank: $f}'
}

pwb_idp_client_json() {
	local id=$1 secret=$2 method=$3 base=${PWB_LOGIN_BASE%/}
	jq -cn --arg id "$id" --arg s "$secret" --arg m "$method" --arg b "$base" --arg p "$PWB_LOGIN_PATH" \
		'{client_id: $id, client_secret: $s, token_endpoint_auth_method: $m,
		  grant_types: ["authorization_code"], response_types: ["code"],
		  redirect_uris: [$b + $p + "callback"],
		  post_logout_redirect_uris: [$b + $p, $b + "/"],
		  backchannel_logout_uri: ($b + $p + "backchannel-logout"),
		  backchannel_logout_session_required: true}'
}

PWB_IDP_DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code

pwb_idp_device_client_json() {
	local id=$1 method=$2
	jq -cn --arg id "$id" --arg s "$PWB_IDP_DEVICE_SECRET" --arg m "$method" --arg g "$PWB_IDP_DEVICE_GRANT" \
		'{client_id: $id, token_endpoint_auth_method: $m, grant_types: [$g], response_types: [],
		  redirect_uris: []} + (if $m == "none" then {} else {client_secret: $s} end)'
}

pwb_idp_device_clients() {
	jq -cn --argjson a "$(pwb_idp_device_client_json pwb-device none)" \
		--argjson b "$(pwb_idp_device_client_json pwb-device-basic client_secret_basic)" \
		--argjson c "$(pwb_idp_device_client_json pwb-device-post client_secret_post)" \
		--argjson d "$(pwb_idp_device_client_json pwb-device-slow none)" \
		--argjson e "$(pwb_idp_device_client_json pwb-device-short none)" '[$a, $b, $c, $d, $e]'
}

pwb_idp_start() {
	local d=$PWB_TMP/idp port attempt i
	[ -n "${PWB_LOGIN_BASE:-}" ] || { echo "pwb_idp_start: PWB_LOGIN_BASE is not set" >&2; return 1; }
	pwb_web_ca || return 1
	pwb_idp_deps || return 1
	mkdir -p "$d"
	PWB_IDP_KID=idp-rsa1
	PWB_IDP_KEY=$d/$PWB_IDP_KID.pem
	PWB_IDP_ROGUE_KEY=$d/rogue.pem
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PWB_IDP_KEY" >/dev/null 2>&1 &&
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PWB_IDP_ROGUE_KEY" \
			>/dev/null 2>&1 || return 1
	PWB_IDP_CLIENT_ID=pwb-web
	PWB_IDP_CLIENT_SECRET=$(openssl rand -hex 24)
	PWB_IDP_POST_CLIENT_ID=pwb-web-post
	PWB_IDP_POST_CLIENT_SECRET=$(openssl rand -hex 24)
	PWB_IDP_DEVICE_SECRET=$(openssl rand -hex 24)
	PWB_IDP_LOG=$d/idp.log
	pwb_on_cleanup pwb_idp_stop
	for attempt in 1 2 3 4 5; do
		port=$(pwb_free_port) || return 1
		PWB_IDP_URL=https://$PWB_IDP_HOST:$port
		jq -n --arg iss "$PWB_IDP_URL" --argjson port "$port" \
			--arg cert "$PWB_WEB_CERT" --arg key "$PWB_WEB_KEY" \
			--arg kid "$PWB_IDP_KID" --arg kf "$PWB_IDP_KEY" \
			--argjson c1 "$(pwb_idp_client_json "$PWB_IDP_CLIENT_ID" "$PWB_IDP_CLIENT_SECRET" client_secret_basic)" \
			--argjson c2 "$(pwb_idp_client_json "$PWB_IDP_POST_CLIENT_ID" "$PWB_IDP_POST_CLIENT_SECRET" client_secret_post)" \
			--argjson users "${PWB_IDP_USERS:-$(pwb_idp_default_users)}" \
			--argjson ttl "${PWB_IDP_TTL:-{\}}" \
			--argjson dev "$(pwb_idp_device_clients)" \
			--argjson interval "${PWB_IDP_DEVICE_INTERVAL:-1}" \
			--argjson short "${PWB_IDP_DEVICE_SHORT_TTL:-4}" \
			'{issuer: $iss, host: "127.0.0.1", port: $port, tlsCert: $cert, tlsKey: $key,
			  keys: [{kid: $kid, file: $kf}], clients: ([$c1, $c2] + $dev), users: $users, ttl: $ttl,
			  device: {interval: $interval, ttlByClient: {"pwb-device-short": $short},
			           slowDownClients: ["pwb-device-slow"]}}' \
			>"$d/config.json" || return 1
		chmod 0600 "$d/config.json"
		(cd "$PWB_IDP_SRC" && exec env -u LD_PRELOAD -u LD_LIBRARY_PATH NODE_EXTRA_CA_CERTS="$PWB_WEB_CA" \
			node idp.mjs "$d/config.json" </dev/null >"$d/stdout" 2>>"$PWB_IDP_LOG") &
		echo $! >"$d/pid"
		for i in $(seq 1 200); do
			grep -q '^idp listening' "$d/stdout" 2>/dev/null && return 0
			kill -0 "$(cat "$d/pid")" 2>/dev/null || break
			sleep 0.05
		done
		pwb_idp_stop
		grep -q EADDRINUSE "$PWB_IDP_LOG" || break
	done
	echo "pwb_idp_start: the IdP did not start; its log:" >&2
	cat "$PWB_IDP_LOG" >&2
	return 1
}

pwb_idp_stop() {
	local pid
	pid=$(cat "$PWB_TMP/idp/pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	: >"$PWB_TMP/idp/pid"
	return 0
}

pwb_idp_set_user() {
	local name=$1 json=$2 d=$PWB_TMP/idp
	jq --arg n "$name" --argjson u "$json" '.users[$n] = $u' "$d/config.json" >"$d/config.json.new" &&
		mv "$d/config.json.new" "$d/config.json" || return 1
	local before
	before=$(grep -c 'users reloaded' "$PWB_IDP_LOG")
	kill -HUP "$(cat "$d/pid")" || return 1
	for _ in $(seq 1 100); do
		[ "$(grep -c 'users reloaded' "$PWB_IDP_LOG")" -gt "$before" ] && return 0
		sleep 0.05
	done
	return 1
}

pwb_idp_configure() {
	local method=${1:-basic} id secret enc cred
	case $method in
	basic) id=$PWB_IDP_CLIENT_ID secret=$PWB_IDP_CLIENT_SECRET ;;
	post) id=$PWB_IDP_POST_CLIENT_ID secret=$PWB_IDP_POST_CLIENT_SECRET ;;
	*) echo "pwb_idp_configure: basic or post" >&2; return 1 ;;
	esac
	PWB_LOGIN_CLIENT_ID=$id
	pwb_conf_set "auth-openid-issuer=$PWB_IDP_URL" \
		"auth-openid-ca-file=$PWB_WEB_CA" \
		"auth-openid-base-uri=${PWB_LOGIN_BASE%/}" \
		"auth-openid-token-method=client_secret_$method" \
		"auth-openid-post-logout-redirect-uri=${PWB_LOGIN_BASE%/}$PWB_LOGIN_PATH" \
		"auth-openid-client-secret-file=/etc/pwb/openid-client-secret" \
		"secure-key-file=/etc/pwb/secure-key"
	(
		umask 077
		[ -s /etc/pwb/secure-key ] || head -c 32 /dev/urandom >/etc/pwb/secure-key
		enc=$("$PWB_TEST_SIGN" encrypt --key-file /etc/pwb/secure-key --secret "$secret") &&
			printf 'client-id=%s\nclient-secret=%s\n' "$id" "$enc" >/etc/pwb/openid-client-secret
	) || return 1
	# What systemd's LoadCredential= would hand pwb-login.
	cred=$PWB_TMP/credentials
	PWB_LOGIN_CREDENTIALS=$cred
	rm -rf "$cred"
	install -d -o pwb-login -g pwb-login -m 0700 "$cred" &&
		install -o pwb-login -g pwb-login -m 0600 /etc/pwb/openid-client-secret "$cred/openid-client-secret" &&
		install -o pwb-login -g pwb-login -m 0600 /etc/pwb/secure-key "$cred/secure-key"
}

# pwb_idp_signin AUTH_URL USER [PASSWORD] [JAR]: signs USER in at the IdP's
# login page with curl, as a browser would, starting from an authorization
# request URL (what pwb-login's login redirects to), and prints the URL the
# IdP sends the browser back to (the redirect URI with code and state, or
# with error=...), without following it. JAR (default
# $PWB_TMP/idp-jar-USER) keeps the IdP's cookies: a second call with the
# same JAR rides on the IdP session (no login page). Fails when the IdP
# shows its login page again (wrong password) or answers an error.
pwb_idp_signin() {
	local url=$1 user=$2 password=${3:-pw-$2} jar=${4:-$PWB_TMP/idp-jar-$2} loc i
	local curl=(env -u LD_PRELOAD -u LD_LIBRARY_PATH curl -sS --cacert "$PWB_WEB_CA" -b "$jar" -c "$jar" -o /dev/null
		-w '%{http_code} %{redirect_url}\n')
	for i in 1 2 3 4 5 6; do
		read -r code loc < <("${curl[@]}" "$url") || return 1
		case $code in 30[1-37]) ;; *) echo "pwb_idp_signin: $code at ${url%%\?*}" >&2; return 1 ;; esac
		case $loc in
		"$PWB_IDP_URL"/interaction/*)
			"${curl[@]}" "$loc" >/dev/null || return 1
			read -r code loc < <("${curl[@]}" --data-urlencode prompt=login \
				--data-urlencode "login=$user" --data-urlencode "password=$password" "$loc") ||
				return 1
			case $code in 30[1-37]) ;; *) echo "pwb_idp_signin: login refused ($code)" >&2; return 1 ;; esac
			;;
		"$PWB_IDP_URL"/*) ;;
		*) printf '%s\n' "$loc"; return 0 ;;
		esac
		url=$loc
	done
	echo "pwb_idp_signin: too many redirects" >&2
	return 1
}

# pwb_idp_logout JAR: signs the user of the IdP session in JAR out at the
# IdP itself (its end-session page, "Yes, sign me out"), as a person would
# at the IdP: the IdP then sends back-channel logout tokens to the clients
# of that session. Fails when the IdP does not show its confirmation form.
pwb_idp_logout() {
	local jar=$1 page xsrf code
	local curl=(env -u LD_PRELOAD -u LD_LIBRARY_PATH curl -sS --cacert "$PWB_WEB_CA" -b "$jar" -c "$jar")
	page=$("${curl[@]}" "$PWB_IDP_URL/session/end") || return 1
	xsrf=$(printf '%s' "$page" | sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p' | head -1)
	[ -n "$xsrf" ] || { echo "pwb_idp_logout: no logout form" >&2; return 1; }
	code=$("${curl[@]}" -o /dev/null -w '%{http_code}' --data-urlencode "xsrf=$xsrf" \
		--data-urlencode logout=yes "$PWB_IDP_URL/session/end/confirm") || return 1
	case $code in 30[1-37]) return 0 ;; *) echo "pwb_idp_logout: $code" >&2; return 1 ;; esac
}

pwb_idp_device_configure() {
	local id=$1 method=${2:-auto} file=/etc/pwb/openid-device-client
	(
		umask 077
		[ -s /etc/pwb/secure-key ] || head -c 32 /dev/urandom >/etc/pwb/secure-key
		case $id in
		pwb-device-basic | pwb-device-post)
			enc=$("$PWB_TEST_SIGN" encrypt --key-file /etc/pwb/secure-key --secret "$PWB_IDP_DEVICE_SECRET") &&
				printf 'client-id=%s\nclient-secret=%s\n' "$id" "$enc" >"$file"
			;;
		pwb-web) # the web client: the IdP does not allow it the device grant
			enc=$("$PWB_TEST_SIGN" encrypt --key-file /etc/pwb/secure-key --secret "$PWB_IDP_CLIENT_SECRET") &&
				printf 'client-id=%s\nclient-secret=%s\n' "$id" "$enc" >"$file"
			;;
		*) printf 'client-id=%s\n' "$id" >"$file" ;;
		esac
	) || return 1
	pwb_conf_set "auth-openid-device-client-file=$file" "auth-openid-device-token-method=$method"
}

# curl for the IdP's pages (never the sanitizer runtime, never nss_pwb).
pwb_idp_curl() {
	env -u LD_PRELOAD -u LD_LIBRARY_PATH curl -sS --cacert "$PWB_WEB_CA" "$@"
}

pwb_idp_device_approve() {
	local user_code=$1 user=$2 deny=${3:-} jar=${4:-$PWB_TMP/idp-device-jar-$2} page xsrf code loc i
	local curl=(pwb_idp_curl -b "$jar" -c "$jar")
	page=$("${curl[@]}" "$PWB_IDP_URL/device") || return 1
	xsrf=$(printf '%s' "$page" | sed -n 's/.*name="xsrf" value="\([^"]*\)".*/\1/p' | head -1)
	[ -n "$xsrf" ] || { echo "pwb_idp_device_approve: no code form" >&2; return 1; }
	# the code as typed: its confirmation page repeats it
	page=$("${curl[@]}" --data-urlencode "xsrf=$xsrf" --data-urlencode "user_code=$user_code" \
		"$PWB_IDP_URL/device") || return 1
	case $page in *op.deviceConfirmForm*) ;; *)
		echo "pwb_idp_device_approve: no confirmation page for the code" >&2
		return 1
		;;
	esac
	if [ "$deny" = deny ]; then
		page=$("${curl[@]}" --data-urlencode "xsrf=$xsrf" --data-urlencode "user_code=$user_code" \
			--data-urlencode abort=yes "$PWB_IDP_URL/device") || return 1
		case $page in *"request was interrupted"*) return 0 ;; esac
		echo "pwb_idp_device_approve: Abort was not taken" >&2
		return 1
	fi
	# Continue: the login page, or straight to success with a session in JAR
	page=$("${curl[@]}" -w '\n%{http_code} %{redirect_url}\n' \
		--data-urlencode "xsrf=$xsrf" --data-urlencode "user_code=$user_code" \
		--data-urlencode confirm=yes "$PWB_IDP_URL/device") || return 1
	case $page in *"Sign-in Success"*) return 0 ;; esac
	read -r code loc < <(printf '%s\n' "$page" | tail -1)
	for i in 1 2 3 4 5 6; do
		case $code in 30[1-37]) ;; *) echo "pwb_idp_device_approve: $code" >&2; return 1 ;; esac
		case $loc in
		"$PWB_IDP_URL"/interaction/*)
			"${curl[@]}" -o /dev/null "$loc" || return 1
			read -r code loc < <("${curl[@]}" -o /dev/null -w '%{http_code} %{redirect_url}\n' \
				--data-urlencode prompt=login --data-urlencode "login=$user" \
				--data-urlencode "password=pw-$user" "$loc") || return 1
			;;
		"$PWB_IDP_URL"/*)
			page=$("${curl[@]}" -w '\n%{http_code} %{redirect_url}\n' "$loc") || return 1
			read -r code loc < <(printf '%s\n' "$page" | tail -1)
			case $page in *"Sign-in Success"*) return 0 ;; esac
			;;
		*) echo "pwb_idp_device_approve: sent away to ${loc%%\?*}" >&2; return 1 ;;
		esac
	done
	echo "pwb_idp_device_approve: no success page" >&2
	return 1
}

pwb_idp_device_token() {
	local client=$1 user=$2 reply dc uc i
	reply=$(pwb_idp_curl --data-urlencode "client_id=$client" --data-urlencode "scope=openid profile email groups" \
		"$PWB_IDP_URL/device/auth") || return 1
	dc=$(printf '%s' "$reply" | jq -r .device_code) && uc=$(printf '%s' "$reply" | jq -r .user_code) || return 1
	pwb_idp_device_approve "$uc" "$user" "" "$PWB_TMP/idp-device-jar-token-$user" >&2 || return 1
	for i in 1 2 3 4 5; do
		reply=$(pwb_idp_curl --data-urlencode "client_id=$client" --data-urlencode "grant_type=$PWB_IDP_DEVICE_GRANT" \
			--data-urlencode "device_code=$dc" "$PWB_IDP_URL/token") || return 1
		case $(printf '%s' "$reply" | jq -r '.id_token // .error') in
		authorization_pending | slow_down) sleep 1 ;;
		null | "") return 1 ;;
		*.*.*) printf '%s' "$reply" | jq -r .id_token; return 0 ;;
		*) echo "pwb_idp_device_token: $(printf '%s' "$reply" | jq -r .error)" >&2; return 1 ;;
		esac
	done
	return 1
}

pwb_idp_digest() { printf '%s' "$1" | sha256sum | cut -c1-12; }

pwb_idp_device_polls() {
	local dc
	dc=$(sed -n "s/^idp: device_authorization .* dc=\([0-9a-f]*\) uc=$1 .*/\1/p" "$PWB_IDP_LOG" | tail -1)
	[ -n "$dc" ] || return 0
	sed -n "s/^idp: device_token .* dc=$dc result=\([^ ]*\) t=\([0-9]*\)$/t=\2 result=\1/p" "$PWB_IDP_LOG"
}
