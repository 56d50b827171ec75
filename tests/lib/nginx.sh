# A real nginx for integration tests (sourced after ns.sh and scim.sh):
# listens on a free loopback port and serves scim-base-path with the
# shipped examples/nginx/pwb-scim.conf (nginx's stock fastcgi_params),
# pointed at this test's pwb-scim socket.
#
#   pwb_nginx_start           needs $PWB_SCIM_SOCK; sets PWB_NGINX_PORT, SCIM_URL
#   PWB_NGINX_EXTRA="a.conf"  more examples/nginx files in the same server

pwb_nginx_start() {
	local dir=$PWB_TMP/nginx port attempt i
	mkdir -p "$dir"
	# the shipped example, pointed at this test's socket
	sed "s#unix:/run/pwb-scim.sock#unix:$PWB_SCIM_SOCK#" \
		"$PWB_TEST_SRCDIR/examples/nginx/pwb-scim.conf" >"$dir/pwb-scim.conf"
	grep -q "$PWB_SCIM_SOCK" "$dir/pwb-scim.conf" || return 1
	local extra
	for extra in ${PWB_NGINX_EXTRA:-}; do
		sed "s#unix:/run/pwb-scim.sock#unix:$PWB_SCIM_SOCK#" \
			"$PWB_TEST_SRCDIR/examples/nginx/$extra" >>"$dir/pwb-scim.conf" || return 1
	done
	# includes are relative to the main config's directory: Debian's stock file
	cp /etc/nginx/fastcgi_params "$dir/fastcgi_params" || return 1
	# another test may take the free port first: then try another
	for attempt in 1 2 3 4 5; do
		port=$(pwb_free_port) || return 1
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
			server {
				listen 127.0.0.1:$port;
				server_name localhost;
				include $dir/pwb-scim.conf;
			}
		}
		CONF
		# nginx binds before it daemonizes: success means the port is ours
		nginx -e "$dir/error.log" -c "$dir/nginx.conf" -p "$dir" 2>>"$dir/start.log" && break
		[ "$attempt" = 5 ] && { cat "$dir/start.log" >&2; return 1; }
	done
	for i in $(seq 1 50); do
		if [ -s "$dir/nginx.pid" ]; then
			pwb_on_cleanup "kill \$(cat '$dir/nginx.pid' 2>/dev/null) 2>/dev/null"
			PWB_NGINX_PORT=$port
			SCIM_URL=http://127.0.0.1:$port/scim/v2
			return 0
		fi
		sleep 0.1
	done
	cat "$dir/error.log" >&2
	return 1
}
