# A real Apache httpd for integration tests (sourced after ns.sh and
# scim.sh): a minimal generated config with mod_proxy_fcgi passing
# scim-base-path to pwb-scim's FastCGI socket.
#
#   pwb_apache_start          needs $PWB_SCIM_SOCK; sets PWB_APACHE_PORT, SCIM_URL

PWB_APACHE_MODULES=/usr/lib/apache2/modules

pwb_apache_start() {
	local dir=$PWB_TMP/apache port i
	mkdir -p "$dir"
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
		# Apache hides Authorization from CGI-style backends unless told
		CGIPassAuth On
		ProxyPass "unix:$PWB_SCIM_SOCK|fcgi://localhost/"
		Require all granted
	</Location>
	CONF
	apache2 -f "$dir/httpd.conf" -k start || { cat "$dir/error.log" >&2; return 1; }
	pwb_on_cleanup "kill \$(cat '$dir/httpd.pid' 2>/dev/null) 2>/dev/null"
	for i in $(seq 1 50); do
		if ss -Htln "sport = :$port" | grep -q .; then
			PWB_APACHE_PORT=$port
			SCIM_URL=http://127.0.0.1:$port/scim/v2
			return 0
		fi
		sleep 0.1
	done
	cat "$dir/error.log" >&2
	return 1
}
