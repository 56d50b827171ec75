# A real nginx for integration tests (sourced after ns.sh and scim.sh):
# listens on a free loopback port and passes scim-base-path to pwb-scim's
# FastCGI socket with nginx's stock fastcgi_params, as an admin would.
#
#   pwb_nginx_start           needs $PWB_SCIM_SOCK; sets PWB_NGINX_PORT, SCIM_URL

pwb_nginx_start() {
	local dir=$PWB_TMP/nginx port i
	mkdir -p "$dir"
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
		# pwb-scim enforces scim-max-request-bytes itself
		client_max_body_size 16m;
		server {
			listen 127.0.0.1:$port;
			server_name localhost;
			location /scim/v2 {
				include /etc/nginx/fastcgi_params;
				fastcgi_pass unix:$PWB_SCIM_SOCK;
			}
		}
	}
	CONF
	nginx -e "$dir/error.log" -c "$dir/nginx.conf" -p "$dir" || return 1
	pwb_on_cleanup "kill \$(cat '$dir/nginx.pid' 2>/dev/null) 2>/dev/null"
	for i in $(seq 1 50); do
		if ss -Htln "sport = :$port" | grep -q .; then
			PWB_NGINX_PORT=$port
			SCIM_URL=http://127.0.0.1:$port/scim/v2
			return 0
		fi
		sleep 0.1
	done
	cat "$dir/error.log" >&2
	return 1
}
