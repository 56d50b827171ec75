# pwb-login behind real web servers for integration tests (sourced after
# ns.sh and idp.sh, inside pwb_ns_enter): pwb-login under spawn-fcgi as the
# login-user with a credentials directory, its PAM service, the protected
# app (tests/browser/echo.mjs: answers with the headers it received), and
# nginx over HTTPS with the shipped examples/nginx/pwb-login.conf, or
# Apache with examples/apache/pwb-login.conf (mod_authnz_fcgi).
#
#   pwb_login_prepare        picks the site's port: PWB_WEB_PORT and
#                            PWB_LOGIN_BASE (https://127.0.0.1:PORT); makes the
#                            test CA (pwb_web_ca). Call before pwb_idp_start.
#   pwb_login_setup [basic|post]
#                            the IdP configured in pwb.conf (pwb_idp_configure),
#                            the session dir, the PAM service /etc/pam.d/pwb-login,
#                            pwbd restarted on the new configuration
#   pwb_login_spawn [unix|tcp]
#                            pwb-login on unix socket $PWB_LOGIN_SOCK (nginx) or
#                            127.0.0.1:$PWB_LOGIN_FCGI_PORT (Apache); its stderr in
#                            $PWB_LOGIN_LOG; PWB_LOGIN_CHILDREN workers (default 2)
#   pwb_login_echo_start     the protected app on 127.0.0.1:$PWB_ECHO_PORT
#   pwb_login_nginx_start    nginx for the site on $PWB_WEB_PORT (static files
#                            under /static/ from $PWB_TMP/www/static)
#   pwb_login_apache_start   Apache for the site on $PWB_WEB_PORT (needs tcp)
#   pwb_login_stack [unix]   all of the above with nginx, in order
#   PWB_LOGIN_BIN            the program
#
# An HTTP client that keeps a browser's cookies (curl with a jar; what the
# attack tests and the benchmark use; never the sanitizer runtime):
#   web_req JAR METHOD URL [CURL-ARGS...]
#                            sets WEB_STATUS, WEB_LOCATION, WEB_BODY, WEB_HEADERS
#                            (a file); Sec-Fetch-Mode: navigate unless the
#                            args set another
#   web_header NAME          a header of the last response
#   web_signin_start JAR [RETURN]
#                            GET /pwb/login(?return=RETURN): WEB_LOCATION is the
#                            IdP's authorization URL
#   web_signin JAR USER [RETURN]
#                            the whole code flow: login, the IdP's login page
#                            (pwb_idp_signin), callback; ends with the callback's
#                            response in WEB_*
#   web_cookie JAR NAME      a cookie's value in JAR

# (a copy the login-user can reach when ns.sh staged the build: PWB_STAGE)
PWB_LOGIN_BIN=${PWB_STAGE:-$PWB_TEST_BUILDDIR}/pwb-login/pwb-login
PWB_APACHE_MODULES=${PWB_APACHE_MODULES:-/usr/lib/apache2/modules}

pwb_login_prepare() {
	pwb_web_ca || return 1
	PWB_WEB_PORT=$(pwb_free_port) || return 1
	PWB_LOGIN_BASE=https://127.0.0.1:$PWB_WEB_PORT
}

pwb_login_setup() {
	local state=$PWB_TMP/pwb-login-state stack
	pwb_idp_configure "${1:-basic}" || return 1
	install -d -o pwb-login -g pwb-login -m 0700 "$state" || return 1
	PWB_LOGIN_STATE=$state
	pwb_conf_set "auth-openid-session-dir=$state" "auth-openid-login-path=$PWB_LOGIN_PATH" \
		"user-provisioning-register-on-first-login=1" \
		"auth-openid-pam-service=pwb-login"
	# The shipped PAM service, with this build's modules and the client id.
	stack=$PWB_TEST_SRCDIR/examples/pam.d/pwb-login
	if [ -f "$stack" ]; then
		sed -e "s|pam_pwb_oidc.so|$PWB_PAM_OIDC|; s|pam_pwb_mkhome.so|$PWB_PAM_MKHOME|" \
			-e "s|client-id=CLIENT_ID|client-id=$PWB_LOGIN_CLIENT_ID|" "$stack" >/etc/pam.d/pwb-login
	else
		cat >/etc/pam.d/pwb-login <<-PAM
		auth     required   $PWB_PAM_OIDC require-nonce client-id=$PWB_LOGIN_CLIENT_ID
		account  required   $PWB_PAM_MKHOME
		session  required   $PWB_PAM_MKHOME
		PAM
	fi
	# pwbd re-validates tokens against the issuer it reads now.
	pwb_pwbd_restart >/dev/null
}

pwb_login_spawn() {
	local mode=${1:-unix} run=$PWB_TMP/run where
	[ -x "$PWB_LOGIN_BIN" ] || { echo "pwb_login_spawn: $PWB_LOGIN_BIN not built" >&2; return 1; }
	mkdir -p "$run" && chmod 0755 "$run"
	# one log per instance (a test may run both)
	PWB_LOGIN_LOG=$run/pwb-login-$mode.log
	install -o pwb-login -g pwb-login -m 0600 /dev/null "$PWB_LOGIN_LOG"
	if [ "$mode" = tcp ]; then
		PWB_LOGIN_FCGI_PORT=$(pwb_free_port) || return 1
		where=(-a 127.0.0.1 -p "$PWB_LOGIN_FCGI_PORT")
	else
		PWB_LOGIN_SOCK=$run/pwb-login.sock
		where=(-s "$PWB_LOGIN_SOCK" -M 0660 -U www-data -G www-data)
	fi
	spawn-fcgi "${where[@]}" -u pwb-login -g pwb-login -F "${PWB_LOGIN_CHILDREN:-2}" \
		-P "$run/pwb-login.pid" -- /usr/bin/env CREDENTIALS_DIRECTORY="$PWB_LOGIN_CREDENTIALS" \
		PWB_CONFIG="$PWB_CONF" /bin/sh -c 'exec "$0" --log-stderr 2>>"$1"' \
		"$PWB_LOGIN_BIN" "$PWB_LOGIN_LOG" >"$run/login-spawn.log" 2>&1 ||
		{ cat "$run/login-spawn.log" "$PWB_LOGIN_LOG" >&2; return 1; }
	# -P holds the last worker's pid only: stop them all by their user.
	pwb_on_cleanup "pwb_login_stop"
	local i
	for i in $(seq 1 50); do
		if [ "$mode" = tcp ]; then
			ss -Htln "sport = :$PWB_LOGIN_FCGI_PORT" | grep -q . && return 0
		else
			[ -S "$PWB_LOGIN_SOCK" ] && return 0
		fi
		sleep 0.1
	done
	echo "pwb-login did not start listening" >&2
	return 1
}

# The workers spawn-fcgi started (it records only the last one's pid):
# the processes whose parent is gone and whose executable is this build's
# pwb-login, running as pwb-login, found through /proc, not by name.
pwb_login_pids() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		[ "$exe" = "$(readlink -f "$PWB_LOGIN_BIN")" ] || continue
		grep -q "CREDENTIALS_DIRECTORY=$PWB_LOGIN_CREDENTIALS" "$p/environ" 2>/dev/null || continue
		echo "${p#/proc/}"
	done
}

pwb_login_stop() {
	local pids
	pids=$(pwb_login_pids)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill $pids 2>/dev/null
	return 0
}

pwb_login_echo_start() {
	local d=$PWB_TMP/echo i attempt
	mkdir -p "$d"
	for attempt in 1 2 3; do
		PWB_ECHO_PORT=$(pwb_free_port) || return 1
		(cd "$PWB_TEST_SRCDIR/tests/browser" && exec env -u LD_PRELOAD -u LD_LIBRARY_PATH node echo.mjs "$PWB_ECHO_PORT" \
			</dev/null >"$d/stdout" 2>"$d/stderr") &
		echo $! >"$d/pid"
		pwb_on_cleanup "kill \$(cat '$d/pid' 2>/dev/null) 2>/dev/null"
		for i in $(seq 1 100); do
			grep -q '^echo listening' "$d/stdout" 2>/dev/null && return 0
			kill -0 "$(cat "$d/pid")" 2>/dev/null || break
			sleep 0.05
		done
	done
	cat "$d/stderr" >&2
	return 1
}

pwb_login_nginx_start() {
	local dir=$PWB_TMP/login-nginx
	mkdir -p "$dir" "$PWB_TMP/www/static"
	echo "static file for the protected site" >"$PWB_TMP/www/static/hello.txt"
	chmod -R a+rX "$PWB_TMP/www"
	# The shipped site, pointed at this test's port, certificate, socket and app.
	sed -e "s#listen 443 ssl;#listen 127.0.0.1:$PWB_WEB_PORT ssl;#" \
		-e "s#/etc/ssl/certs/ds.example.com.pem#$PWB_WEB_CERT#" \
		-e "s#/etc/ssl/private/ds.example.com.key#$PWB_WEB_KEY#" \
		-e "s#unix:/run/pwb-login.sock#unix:$PWB_LOGIN_SOCK#" \
		-e "s#http://127.0.0.1:8787#http://127.0.0.1:$PWB_ECHO_PORT#" \
		-e "s#root /var/www/app;#root $PWB_TMP/www;#" \
		-e "s#server_name ds.example.com;#server_name 127.0.0.1;#" \
		"$PWB_TEST_SRCDIR/examples/nginx/pwb-login.conf" >"$dir/pwb-login.conf"
	grep -q "$PWB_LOGIN_SOCK" "$dir/pwb-login.conf" && grep -q "$PWB_WEB_PORT" "$dir/pwb-login.conf" ||
		return 1
	cp /etc/nginx/fastcgi_params "$dir/fastcgi_params" || return 1
	cat >"$dir/nginx.conf" <<-CONF
	user www-data www-data;
	worker_processes 1;
	pid $dir/nginx.pid;
	error_log $dir/error.log warn;
	events { worker_connections 512; }
	http {
		access_log $dir/access.log;
		client_body_temp_path $dir/body;
		fastcgi_temp_path $dir/fastcgi;
		proxy_temp_path $dir/proxy;
		uwsgi_temp_path $dir/uwsgi;
		scgi_temp_path $dir/scgi;
		include $dir/pwb-login.conf;
	}
	CONF
	# The server key is root's; nginx reads it before dropping privileges.
	env -u LD_PRELOAD -u LD_LIBRARY_PATH nginx -e "$dir/error.log" -c "$dir/nginx.conf" -p "$dir" 2>"$dir/start.log" ||
		{ cat "$dir/start.log" >&2; return 1; }
	login_server_started "$dir/nginx.pid" "$dir/error.log"
}

pwb_login_apache_start() {
	local dir=$PWB_TMP/login-apache
	mkdir -p "$dir" "$PWB_TMP/www/static"
	echo "static file for the protected site" >"$PWB_TMP/www/static/hello.txt"
	chmod -R a+rX "$PWB_TMP/www"
	sed -e "s#fcgi://127.0.0.1:9000/#fcgi://127.0.0.1:$PWB_LOGIN_FCGI_PORT/#g" \
		-e "s#http://127.0.0.1:8787/#http://127.0.0.1:$PWB_ECHO_PORT/#g" \
		-e "s#/etc/ssl/certs/ds.example.com.pem#$PWB_WEB_CERT#" \
		-e "s#/etc/ssl/private/ds.example.com.key#$PWB_WEB_KEY#" \
		-e "s#/var/www/app#$PWB_TMP/www#g" \
		-e "s#<VirtualHost \*:443>#<VirtualHost 127.0.0.1:$PWB_WEB_PORT>#" \
		-e "s#ServerName ds.example.com#ServerName 127.0.0.1#" \
		"$PWB_TEST_SRCDIR/examples/apache/pwb-login.conf" >"$dir/pwb-login.conf"
	grep -q "$PWB_LOGIN_FCGI_PORT" "$dir/pwb-login.conf" || return 1
	cat >"$dir/httpd.conf" <<-CONF
	ServerRoot $dir
	ServerName 127.0.0.1
	Listen 127.0.0.1:$PWB_WEB_PORT
	PidFile $dir/httpd.pid
	DefaultRuntimeDir $dir
	Mutex file:$dir default
	ErrorLog $dir/error.log
	LogLevel warn
	User www-data
	Group www-data
	LoadModule mpm_event_module $PWB_APACHE_MODULES/mod_mpm_event.so
	LoadModule authz_core_module $PWB_APACHE_MODULES/mod_authz_core.so
	LoadModule authn_core_module $PWB_APACHE_MODULES/mod_authn_core.so
	LoadModule authz_user_module $PWB_APACHE_MODULES/mod_authz_user.so
	LoadModule authnz_fcgi_module $PWB_APACHE_MODULES/mod_authnz_fcgi.so
	LoadModule proxy_module $PWB_APACHE_MODULES/mod_proxy.so
	LoadModule proxy_fcgi_module $PWB_APACHE_MODULES/mod_proxy_fcgi.so
	LoadModule proxy_http_module $PWB_APACHE_MODULES/mod_proxy_http.so
	LoadModule headers_module $PWB_APACHE_MODULES/mod_headers.so
	LoadModule setenvif_module $PWB_APACHE_MODULES/mod_setenvif.so
	LoadModule rewrite_module $PWB_APACHE_MODULES/mod_rewrite.so
	LoadModule ssl_module $PWB_APACHE_MODULES/mod_ssl.so
	LoadModule alias_module $PWB_APACHE_MODULES/mod_alias.so
	Include $dir/pwb-login.conf
	CONF
	env -u LD_PRELOAD -u LD_LIBRARY_PATH apache2 -f "$dir/httpd.conf" -k start 2>"$dir/start.log" ||
		{ cat "$dir/start.log" "$dir/error.log" >&2; return 1; }
	login_server_started "$dir/httpd.pid" "$dir/error.log"
}

# login_server_started PIDFILE ERRORLOG: waits for a daemonised server's
# pid file and stops the server at cleanup; shows its log if it never came.
login_server_started() {
	local i
	for i in $(seq 1 50); do
		if [ -s "$1" ]; then
			pwb_on_cleanup "kill \$(cat '$1' 2>/dev/null) 2>/dev/null"
			return 0
		fi
		sleep 0.1
	done
	cat "$2" >&2
	return 1
}

pwb_login_stack() {
	pwb_login_prepare || return 1
	pwb_idp_start || return 1
	pwb_login_setup "${1:-basic}" || return 1
	pwb_login_spawn unix || return 1
	pwb_login_echo_start || return 1
	pwb_login_nginx_start
}

# ---- an HTTP client with a cookie jar ----
web_req() {
	local jar=$1 method=$2 url=$3 mode=(-H 'Sec-Fetch-Mode: navigate')
	shift 3
	case " $* " in *"Sec-Fetch-Mode"*) mode=() ;; esac
	WEB_HEADERS=$PWB_TMP/web.h
	WEB_STATUS=$(env -u LD_PRELOAD -u LD_LIBRARY_PATH curl -sS -X "$method" --cacert "$PWB_WEB_CA" -b "$jar" -c "$jar" \
		-D "$WEB_HEADERS" -o "$PWB_TMP/web.b" -w '%{http_code}' "${mode[@]}" "$@" "$url") ||
		WEB_STATUS=curl-failed
	WEB_BODY=$(cat "$PWB_TMP/web.b" 2>/dev/null)
	WEB_LOCATION=$(web_header Location)
}

web_header() {
	grep -i "^$1:" "$WEB_HEADERS" 2>/dev/null | head -1 | sed 's/^[^:]*: *//; s/\r$//'
}

web_cookie() {
	awk -v n="$2" '$6 == n { print $7 }' "$1" 2>/dev/null | tail -1
}

web_signin_start() {
	local jar=$1 ret=${2:-}
	web_req "$jar" GET "$PWB_LOGIN_BASE${PWB_LOGIN_PATH}login${ret:+?return=$ret}"
}

web_signin() {
	local jar=$1 user=$2 ret=${3:-} cb
	web_signin_start "$jar" "$ret"
	case $WEB_LOCATION in "$PWB_IDP_URL"/*) ;; *) return 1 ;; esac
	cb=$(pwb_idp_signin "$WEB_LOCATION" "$user" "pw-$user" "$jar.idp") || return 1
	web_req "$jar" GET "$cb"
}

# At cleanup, when a check failed: the last lines of every log of the
# stack, as TAP comments (tokens never reach these logs); always with
# PWB_LOGIN_DIAG_ALWAYS set.
pwb_login_diag_on_failure() {
	pwb_on_cleanup pwb_login_diag
}
pwb_login_diag() {
	local f
	[ "${TAP_FAILED:-0}" -gt 0 ] || [ -n "${PWB_LOGIN_DIAG_ALWAYS:-}" ] || return 0
	for f in "$PWB_TMP"/run/pwb-login-*.log "${PWB_IDP_LOG:-}" "$PWB_TMP/login-nginx/error.log" \
		"$PWB_TMP/login-apache/error.log" "${PWB_BROWSER_LOG:-}" "$PWB_TMP/pwbd.log"; do
		[ -s "$f" ] || continue
		echo "# --- last lines of $f"
		tail -n "${PWB_LOGIN_DIAG_LINES:-25}" "$f" | sed 's/^/# /'
	done
}
