# A real PostgreSQL 15 (Debian's postgresql-15) for the cluster tests
# (sourced after ns.sh and pwb_ns_enter). initdb and pg_ctl refuse root, so
# the server runs as the `postgres` user in $PWB_TMP/pg (chowned to it),
# listening on a unix socket in that directory (superuser, trust: only
# root and postgres reach the 0700 directory) and on 127.0.0.1:<free port>
# with scram-sha-256. It creates the roles pwb_writer and pwb_reader with
# random passwords (written to 0600 files, never printed) and the database
# pwb owned by pwb_writer. It is stopped (immediately) at cleanup.
#
#   pwb_pg_start        initdb (first call) and start; waits until ready
#   pwb_pg_stop         pg_ctl stop -m fast
#   pwb_pg_kill         pg_ctl stop -m immediate (a crash: no checkpoint)
#   pwb_pg_restart      stop, then start (the same data, port and passwords)
#   pwb_pg_psql SQL [DB]  runs SQL as the superuser (psql -XAtq, stop on
#                       error; DB defaults to pwb); prints the rows
# Exported after pwb_pg_start:
#   PWB_PG_PORT, PWB_PG_SOCKDIR, PWB_PG_DATA
#   PWB_PG_DSN_ADMIN    the superuser through the socket (dbname=pwb)
#   PWB_PG_DSN_WRITER   host=127.0.0.1 port=N dbname=pwb user=pwb_writer sslmode=disable
#   PWB_PG_DSN_READER   the same for pwb_reader
#   PWB_PG_PW_WRITER, PWB_PG_PW_READER  the password files (0600, root's)
# In the sanitizer pass the server and psql run without the preloaded
# runtime (env -u LD_PRELOAD -u LD_LIBRARY_PATH).

PWB_PG_BIN=${PWB_PG_BIN:-/usr/lib/postgresql/15/bin}

# Runs a PostgreSQL program as the postgres user (no PAM: setpriv).
pwb_pg_as_postgres() {
	(cd "$PWB_TMP/pg" && env -u LD_PRELOAD -u LD_LIBRARY_PATH \
		setpriv --reuid=postgres --regid=postgres --init-groups -- "$@")
}

pwb_pg_password() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }

pwb_pg_init() {
	local d=$PWB_TMP/pg pw
	[ -x "$PWB_PG_BIN/initdb" ] || { echo "pwb_pg_start: $PWB_PG_BIN/initdb is not installed" >&2; return 1; }
	id postgres >/dev/null 2>&1 || { echo "pwb_pg_start: no postgres user" >&2; return 1; }
	mkdir -p "$d/data" "$d/sock" "$d/secret" || return 1
	chown postgres: "$d" "$d/data" "$d/sock" && chmod 0700 "$d/data" "$d/sock" || return 1
	chmod 0755 "$d"
	chmod 0700 "$d/secret"
	PWB_PG_DATA=$d/data PWB_PG_SOCKDIR=$d/sock
	PWB_PG_PORT=$(pwb_free_port) || return 1
	pwb_pg_as_postgres "$PWB_PG_BIN/initdb" -D "$PWB_PG_DATA" -U postgres -E UTF8 --locale=C --no-sync \
		--auth-local=trust --auth-host=scram-sha-256 >"$d/initdb.log" 2>&1 ||
		{ cat "$d/initdb.log" >&2; return 1; }
	cat >>"$PWB_PG_DATA/postgresql.conf" <<-CONF
	listen_addresses = '127.0.0.1'
	port = $PWB_PG_PORT
	unix_socket_directories = '$PWB_PG_SOCKDIR'
	password_encryption = 'scram-sha-256'
	max_connections = 60
	shared_buffers = 16MB
	fsync = on
	logging_collector = off
	log_min_messages = warning
	log_statement = 'none'
	CONF
	# Only TCP with scram-sha-256 from 127.0.0.1; the socket (trust) is
	# the superuser's way in for the test itself.
	printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$PWB_PG_DATA/pg_hba.conf"
	PWB_PG_PW_WRITER=$d/secret/writer.pw PWB_PG_PW_READER=$d/secret/reader.pw
	(umask 077 && pwb_pg_password >"$PWB_PG_PW_WRITER" && pwb_pg_password >"$PWB_PG_PW_READER") || return 1
	chmod 0600 "$PWB_PG_PW_WRITER" "$PWB_PG_PW_READER"
	export PWB_PG_PORT PWB_PG_SOCKDIR PWB_PG_DATA PWB_PG_PW_WRITER PWB_PG_PW_READER
	export PWB_PG_DSN_ADMIN="host=$PWB_PG_SOCKDIR port=$PWB_PG_PORT dbname=pwb user=postgres"
	export PWB_PG_DSN_WRITER="host=127.0.0.1 port=$PWB_PG_PORT dbname=pwb user=pwb_writer sslmode=disable"
	export PWB_PG_DSN_READER="host=127.0.0.1 port=$PWB_PG_PORT dbname=pwb user=pwb_reader sslmode=disable"
	pwb_on_cleanup pwb_pg_kill
}

pwb_pg_start() {
	local first=0 d=$PWB_TMP/pg
	if [ -z "${PWB_PG_DATA:-}" ]; then
		pwb_pg_init || return 1
		first=1
	fi
	pwb_pg_as_postgres "$PWB_PG_BIN/pg_ctl" -D "$PWB_PG_DATA" -l "$d/postgres.log" -w -t 60 \
		start >"$d/pg_ctl.log" 2>&1 || { cat "$d/pg_ctl.log" "$d/postgres.log" >&2; return 1; }
	[ "$first" = 1 ] || return 0
	# The roles and the database; the passwords go through stdin only.
	{
		printf "CREATE ROLE pwb_writer LOGIN PASSWORD '%s';\n" "$(cat "$PWB_PG_PW_WRITER")"
		printf "CREATE ROLE pwb_reader LOGIN PASSWORD '%s';\n" "$(cat "$PWB_PG_PW_READER")"
		echo "CREATE DATABASE pwb OWNER pwb_writer;"
	} | pwb_pg_as_postgres "$PWB_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 \
		"host=$PWB_PG_SOCKDIR port=$PWB_PG_PORT dbname=postgres user=postgres" >/dev/null ||
		{ echo "pwb_pg_start: cannot create the roles and database" >&2; return 1; }
}

pwb_pg_stop() {
	[ -n "${PWB_PG_DATA:-}" ] || return 0
	pwb_pg_as_postgres "$PWB_PG_BIN/pg_ctl" -D "$PWB_PG_DATA" -m fast -w stop >/dev/null 2>&1
}

pwb_pg_kill() {
	[ -n "${PWB_PG_DATA:-}" ] || return 0
	[ -f "$PWB_PG_DATA/postmaster.pid" ] || return 0
	pwb_pg_as_postgres "$PWB_PG_BIN/pg_ctl" -D "$PWB_PG_DATA" -m immediate -w stop >/dev/null 2>&1
}

pwb_pg_restart() { pwb_pg_stop && pwb_pg_start; }

pwb_pg_psql() {
	pwb_pg_as_postgres "$PWB_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 \
		"host=$PWB_PG_SOCKDIR port=$PWB_PG_PORT dbname=${2:-pwb} user=postgres" -c "$1"
}
