#!/usr/bin/env bash
# The PostgreSQL backend (pwb_store_pg.so) against a real PostgreSQL 15
# (tests/lib/pg.sh): every primitive of backend.h with the semantics its
# head comment states (tables, membership sets, counters, the change log,
# tombstones invisible), the follower's pull (rows after N, full, the
# change entries), prune and the horizon, the unique backstop refusing a
# duplicate live uid or name written behind the rules' back, two writer
# processes serialised with a gap-free sequence, the host report through
# the reader's role, a database that cannot be reached, a lost connection
# (the next write reconnects), the password file's mode
# and a password in the DSN refused, the module's name in the error when missing, and the seed
# from a local Berkeley DB store (tests/tools/store_pg_test.c, one TAP
# line per Check test). Then the schema as the reader sees it.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
PWB_NS_NO_PWBD=1
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/pg.sh"

tool=$PWB_TEST_BUILDDIR/tests/tools/store_pg_test
export PWB_STORE_PG_MODULE=$PWB_TEST_BUILDDIR/lib/.libs/pwb_store_pg.so
[ -x "$tool" ] && [ -f "$PWB_STORE_PG_MODULE" ] || tap_bail "build first: $tool, $PWB_STORE_PG_MODULE"
pwb_pg_start || tap_bail "PostgreSQL did not start"
pwb_pg_psql 'CREATE DATABASE pwb_seed OWNER pwb_writer' postgres >/dev/null || tap_bail "no seed database"
export PWB_PG_BIN
export PWB_PG_DSN_SEED="host=127.0.0.1 port=$PWB_PG_PORT dbname=pwb_seed user=pwb_writer sslmode=disable"

# Check's TAP, renumbered into this script's.
CK_TAP_LOG_FILE_NAME=$PWB_TMP/store_pg.tap CK_VERBOSITY=silent CK_DEFAULT_TIMEOUT=120 \
	"$tool" >"$PWB_TMP/store_pg.out" 2>&1
rc=$?
n=0
while IFS= read -r line; do
	case $line in
	"ok "*) n=$((n + 1)); tap_ok "${line#ok * - }" ;;
	"not ok "*) n=$((n + 1)); tap_fail "${line#not ok * - }" ;;
	esac
done <"$PWB_TMP/store_pg.tap"
tap_is "store_pg_test ran every case and exited 0" "$rc/$n" "0/20"
[ "$rc" = 0 ] || tap_diag "$(tail -20 "$PWB_TMP/store_pg.out")"

# The schema as the reader's role sees it: every table readable, none
# writable, the report function callable.
reader() {
	PGPASSWORD=$(cat "$PWB_PG_PW_READER") env -u LD_PRELOAD -u LD_LIBRARY_PATH \
		"$PWB_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 "$PWB_PG_DSN_READER" -c "$1" 2>&1
}
tap_is "the reader reads the counter" "$(reader 'SELECT schema FROM pwb_counter')" 1
tap_like "the reader cannot write a table" "$(reader "INSERT INTO pwb_users VALUES ('x', 'y', 1, false)")" \
	'permission denied'
tap_like "nor the hosts table directly" "$(reader "DELETE FROM pwb_hosts")" 'permission denied'
tap_is "the change log's actor is generated from the entry" \
	"$(pwb_pg_psql "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'pwb_change'::regclass AND attname = 'actor'")" s
tap_is "no password in the server's log" \
	"$(grep -cF -f "$PWB_PG_PW_WRITER" "$PWB_TMP/pg/postgres.log" || true)" 0
tap_done
