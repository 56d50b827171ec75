#!/usr/bin/env bash
# A cluster host whose database falls SILENT (issue 15): its host accepts
# TCP and never answers, as a hung failover or a half-dead proxy does. A
# relay (tests/lib/silent_relay.py) sits between h1 and PostgreSQL; it
# cuts h1's connections and then accepts without answering, so pwbd must
# reconnect into the silence with store-timeout=10. pwbd is one loop: it
# must never wait on that connect. Meanwhile `pwbadm status`, a known
# user's sign-in through the real PAM stack and a SCIM create (503 +
# Retry-After) are answered promptly, again and again; with the relay
# forwarding again h1 reconnects, writes and follows (h2 converges); the
# log names the database once, without the password, and shows no crash.
# The caps below are liveness checks of a single-threaded daemon (a
# blocked loop answers nothing for store-timeout), not speed measurements:
# each is generous and far below 10 s. The suite is small enough to run
# as is in the sanitizer pass (PWB_SANITIZE).
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
PWB_NS_NO_PWBD=1
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/pg.sh"
. "$PWB_TEST_SRCDIR/tests/lib/cluster.sh"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
command -v python3 >/dev/null || tap_bail "python3 is not installed"
T0=$(date +%s)
CAP=3 # seconds: the liveness cap of one request (store-timeout is 10)

pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
pwb_conf_set user-provisioning-register-on-first-login=1 store-timeout=10 cluster-poll-interval=200
mkhome_oidc_service pwb-login "umask=0077"
pwb_cluster_start 2 || tap_bail "cannot start the cluster"

# h1 reaches PostgreSQL through the relay, with no connect_timeout of its
# own: store-timeout (10 s) is what bounds a connect.
RELAY_PORT=$(pwb_free_port) || tap_bail "no free port"
RELAY_STATE=$PWB_TMP/relay.state
python3 "$PWB_TEST_SRCDIR/tests/lib/silent_relay.py" "$RELAY_PORT" "$PWB_PG_PORT" "$RELAY_STATE" \
	</dev/null >"$PWB_TMP/relay.log" 2>&1 &
RELAY_PID=$!
pwb_on_cleanup "kill $RELAY_PID 2>/dev/null"
relay_is() { # relay_is STATE: waits (cap 5 s) until the relay says it is in STATE
	local i
	for i in $(seq 1 100); do
		[ "$(cat "$RELAY_STATE" 2>/dev/null)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
relay_is forward || tap_bail "the relay did not start: $(cat "$PWB_TMP/relay.log")"
pwb_host_pwbd_stop 1
pwb_host_conf_set 1 "store-dsn=host=127.0.0.1 port=$RELAY_PORT dbname=pwb user=pwb_writer sslmode=disable"
pwb_host_pwbd_start 1 || tap_bail "h1's pwbd did not restart"
connected() { pwb_on_host 1 "$PWB_BIN_PWBADM" cluster status --json 2>/dev/null | jq -e '.connected == true'; }
pwb_wait_for 20 connected || tap_bail "h1 did not connect through the relay"
# pwbd's connection has TCP keepalives after store-timeout idle (a
# vanished peer fails in seconds, not after the system's 2 h idle and
# TCP's retransmissions): ss shows their timer under a minute ("9.920ms"
# is ss's 9 s 920 ms; the system's default would be "119min").
tap_like "h1's connection to the database has TCP keepalives within store-timeout" \
	"$(ss -tnoH state established "( dport = :$RELAY_PORT )" 2>&1)" 'timer:\(keepalive,[0-9.]+(ms|sec),'

# A known user (JIT through the relay) and SCIM on h1.
login_ok() { pwb_host_login 1 pwb-login alice "$1" | grep -q 'session has successfully been closed'; }
TOKEN=$(mkhome_token alice '"groups":["analysts"]')
tap_check "alice registers on h1 (JIT) through the relay" login_ok "$TOKEN"
PWB_CLUSTER_TOKEN=$(pwb_on_host 1 "$PWB_SCIM_TOKEN_TOOL" silent) || tap_bail "no SCIM token"
pwb_host_scim 1 || tap_bail "pwb-scim + nginx on h1"
scim_create() { # scim_create NAME: prints the HTTP status; headers in $PWB_TMP/scim.h
	curl -s -X POST -o "$PWB_TMP/scim.b" -D "$PWB_TMP/scim.h" -w '%{http_code}' --max-time 30 \
		-H "Authorization: Bearer $PWB_CLUSTER_TOKEN" -H 'Content-Type: application/scim+json' \
		--data-binary "$(scim_user_json "$1")" "${PWB_HOST_URL[1]}/Users"
}
tap_is "a SCIM create on h1 through the relay" "$(scim_create before@example.com)" 201

# ---- the database falls silent ----
H1_LOG=$PWB_TMP/h1/pwbd.log
log_mark=$(wc -l <"$H1_LOG")
kill -USR1 "$RELAY_PID"
relay_is silent || tap_bail "the relay did not fall silent"
ms() { date +%s%3N; }
# pwbd notices the cut and reconnects after its first backoff (0.5 s): the
# probes start once that attempt is under way. pwbadm status runs 5 times
# over ~10 s in the background while alice signs in 5 times in the
# foreground, so neither can slip between two of pwbd's waits.
sleep 1.5
status_probe() {
	local i t out
	for i in 1 2 3 4 5; do
		t=$(ms)
		out=$(pwb_on_host 1 timeout 30 "$PWB_BIN_PWBADM" status 2>&1)
		echo "$(($(ms) - t)) $(grep -cE '^pwbd +running' <<<"$out")"
		sleep 2
	done >"$PWB_TMP/status.probe"
}
status_probe &
probe_pid=$!
worst_login=0 login_ok_n=0
for round in 1 2 3 4 5; do
	t=$(ms)
	login_ok "$TOKEN" && [ $(($(ms) - t)) -lt $((CAP * 1000)) ] && login_ok_n=$((login_ok_n + 1))
	d=$(($(ms) - t))
	[ "$d" -gt "$worst_login" ] && worst_login=$d
	sleep 1.5
done
wait "$probe_pid"
status_ok=$(awk -v cap=$((CAP * 1000)) '$1 < cap && $2 == 1' "$PWB_TMP/status.probe" | wc -l)
worst_status=$(sort -n "$PWB_TMP/status.probe" | tail -1 | cut -d' ' -f1)
tap_is "silent database: pwbadm status answers (pwbd running) within ${CAP} s, 5 times over ~10 s (slowest: $worst_status ms)" \
	"$status_ok" 5
tap_is "silent database: alice (known) signs in through PAM within ${CAP} s, 5 times (slowest: $worst_login ms)" \
	"$login_ok_n" 5
t=$(ms)
status=$(scim_create during@example.com)
d=$(($(ms) - t))
tap_is "silent database: a SCIM create gets 503" "$status" 503
tap_like "... with Retry-After" "$(grep -i '^retry-after:' "$PWB_TMP/scim.h")" '[0-9]'
tap_check "... within ${CAP} s ($d ms)" test "$d" -lt $((CAP * 1000))
tap_like "h1 says the database is not connected" \
	"$(pwb_on_host 1 "$PWB_BIN_PWBADM" cluster status --json 2>/dev/null | jq -r .connected)" false

# ---- the relay forwards again ----
kill -USR2 "$RELAY_PID"
relay_is forward || tap_bail "the relay did not resume"
pwb_wait_for 30 connected
tap_check "h1 reconnects once the database answers" connected
pwb_wait_for 30 pwb_on_host 1 "$PWB_BIN_PWBADM" add-user carol
tap_like "h1 writes again" "$(pwb_on_host 1 getent passwd carol)" '^carol:x:'
pwb_on_host 2 "$PWB_BIN_PWBADM" add-user dave >/dev/null 2>&1
pwb_wait_for 30 pwb_on_host 1 getent passwd dave
tap_like "h1 follows a change made on h2" "$(pwb_on_host 1 getent passwd dave)" '^dave:x:'
tap_check "h1 and h2 converge" pwb_cluster_converge 30

# ---- the log ----
since=$(tail -n +"$((log_mark + 1))" "$H1_LOG")
tap_is "h1's pwbd log: no crash or sanitizer report" \
	"$(grep -ciE 'segfault|abort|assert|AddressSanitizer|runtime error|LeakSanitizer' "$H1_LOG")" 0
tap_is "... one line saying the database at 127.0.0.1:$RELAY_PORT became unreachable" \
	"$(grep -c "cluster: the cluster database at 127\.0\.0\.1:$RELAY_PORT.*serving from this host's replica" <<<"$since")" 1
tap_is "... and never the password" "$(grep -cF "$(cat "$PWB_PG_PW_WRITER")" "$H1_LOG")" 0
tap_diag "cluster_silent.sh took $(($(date +%s) - T0)) s"
tap_done
