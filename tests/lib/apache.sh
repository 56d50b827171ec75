# A real Apache httpd for integration tests (sourced after ns.sh and
# scim.sh): a minimal generated config loading mod_proxy_fcgi, with the
# shipped examples/apache/pwb-scim.conf pointed at this test's socket.
#
#   pwb_apache_start          needs $PWB_SCIM_SOCK; sets PWB_APACHE_PORT, SCIM_URL

PWB_APACHE_MODULES=/usr/lib/apache2/modules

pwb_apache_start() {
	local dir=$PWB_TMP/apache port attempt i
	mkdir -p "$dir"
	# the shipped example, pointed at this test's socket
	sed "s#unix:/run/pwb-scim.sock|#unix:$PWB_SCIM_SOCK|#" \
		"$PWB_TEST_SRCDIR/examples/apache/pwb-scim.conf" >"$dir/pwb-scim.conf"
	grep -q "$PWB_SCIM_SOCK" "$dir/pwb-scim.conf" || return 1
	# another test may take the free port first: then try another
	for attempt in 1 2 3 4 5; do
		port=$(pwb_free_port) || return 1
		cat >"$dir/httpd.conf" <<-CONF
		ServerRoot $dir
		ServerName localhost
		Listen 127.0.0.1:$port
		PidFile $dir/httpd.pid
		DefaultRuntimeDir $dir
		Mutex file:$dir default
		ErrorLog $dir/error.log
		LogLevel warn
		User www-data
		Group www-data
		LoadModule mpm_event_module $PWB_APACHE_MODULES/mod_mpm_event.so
		LoadModule authz_core_module $PWB_APACHE_MODULES/mod_authz_core.so
		LoadModule proxy_module $PWB_APACHE_MODULES/mod_proxy.so
		LoadModule proxy_fcgi_module $PWB_APACHE_MODULES/mod_proxy_fcgi.so
		<Location /scim/v2>
			Require all granted
		</Location>
		Include $dir/pwb-scim.conf
		CONF
		# httpd binds before it detaches: success means the port is ours
		apache2 -f "$dir/httpd.conf" -k start 2>>"$dir/start.log" && break
		[ "$attempt" = 5 ] && { cat "$dir/start.log" "$dir/error.log" >&2; return 1; }
	done
	for i in $(seq 1 50); do
		if [ -s "$dir/httpd.pid" ]; then
			pwb_on_cleanup "kill \$(cat '$dir/httpd.pid' 2>/dev/null) 2>/dev/null"
			PWB_APACHE_PORT=$port
			SCIM_URL=http://127.0.0.1:$port/scim/v2
			return 0
		fi
		sleep 0.1
	done
	cat "$dir/error.log" >&2
	return 1
}
