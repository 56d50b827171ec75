#!/usr/bin/env bash
# pwbd in cluster mode (pwbd/cluster.c), two writer hosts on one real
# PostgreSQL 15 (tests/lib/cluster.sh): a write on h1 is in h1's getent as
# soon as pwbadm returns (the write waits for h1's own replica) and reaches
# h2 through LISTEN/poll; with PostgreSQL stopped both hosts still answer
# getent from their replicas, writes fail with an error naming the
# database's address, and nothing else is logged as a crash; after the
# restart both reconnect and h2 catches up with a change h1 made then. A
# single host (Berkeley DB) never maps pwb_store_pg.so.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
PWB_NS_NO_PWBD=1
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/pg.sh"
. "$PWB_TEST_SRCDIR/tests/lib/cluster.sh"

# The poll besides LISTEN, short: the reconnect after the outage is seen
# soon (convergence is awaited with a cap, never timed).
pwb_conf_set cluster-poll-interval=200
T0=$(date +%s)

# A single host first: no cluster keys, so no PostgreSQL module.
pwb_pwbd_start
"$PWB_BIN_PWBADM" add-user solo >/dev/null 2>&1
tap_like "a single host writes to its own store" "$(getent passwd solo)" '^solo:x:'
tap_is "a single host's pwbd never maps pwb_store_pg.so" \
	"$(grep -c pwb_store_pg "/proc/$(pwb_pwbd_pid)/maps")" 0
pwb_pwbd_stop

pwb_cluster_start 2 || tap_bail "the cluster did not start"
pwb_cluster_converge 60 >/dev/null || tap_bail "the hosts did not converge after init"
# (the pid cluster.sh keeps is nsenter's shell's: find pwbd by its socket)
h1_pid=$(pgrep -f -- "--socket $PWB_TMP/h1/run/pwbd.sock" | while read -r p; do
	[ "$(cat "/proc/$p/comm")" = pwbd ] && echo "$p"; done)
tap_like "h1's pwbd maps pwb_store_pg.so" "$(grep -c pwb_store_pg "/proc/${h1_pid:-0}/maps" 2>&1)" '^[1-9]'

# Host 1 writes; its own getent shows it at once (the bounded wait), host
# 2's within the cap.
tap_check "pwbadm add-user on h1" pwb_on_host 1 "$PWB_BIN_PWBADM" add-user alice
tap_like "h1 resolves alice as soon as the write returned" "$(pwb_on_host 1 getent passwd alice)" '^alice:x:'
uid=$(pwb_on_host 1 getent passwd alice | cut -d: -f3)
pwb_wait_for 30 pwb_on_host 2 getent passwd alice
tap_is "h2 resolves alice with the same uid" "$(pwb_on_host 2 getent passwd alice | cut -d: -f3)" "$uid"
tap_check "pwbadm add-user on h2" pwb_on_host 2 "$PWB_BIN_PWBADM" add-user bob
pwb_wait_for 30 pwb_on_host 1 getent passwd bob
tap_like "h1 resolves bob" "$(pwb_on_host 1 getent passwd bob)" '^bob:x:'

# PostgreSQL away: reads from the replicas, writes refused clearly.
pwb_pg_stop
tap_like "PostgreSQL down: h1 still resolves alice" "$(pwb_on_host 1 getent passwd alice)" '^alice:x:'
tap_like "PostgreSQL down: h2 still resolves bob" "$(pwb_on_host 2 getent passwd bob)" '^bob:x:'
out=$(pwb_on_host 1 "$PWB_BIN_PWBADM" add-user carol 2>&1) && rc=0 || rc=$?
tap_like "PostgreSQL down: a write on h1 fails" "$rc" '^[1-9]'
tap_like "naming the database it cannot reach" "$out" "127\.0\.0\.1:$PWB_PG_PORT|127\.0\.0\.1.*$PWB_PG_PORT"
tap_is "and carol is on neither host" "$(pwb_on_host 1 getent passwd carol; pwb_on_host 2 getent passwd carol)" ""
tap_is "h1's pwbd is still running" "$(kill -0 "${h1_pid:-0}" && echo up)" up
# While it waits to reconnect, pwbd sleeps in poll: a deadline that has
# passed but waits on something else (the host report, due only when
# connected) once made every poll return at once, a core spent spinning.
# CPU ticks (utime + stime, /proc/PID/stat) over 3 s idle: a spinning pwbd
# takes hundreds even on a loaded machine, a sleeping one a handful.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
t0=$(cpu_ticks "${h1_pid:-0}")
sleep 3
t1=$(cpu_ticks "${h1_pid:-0}")
tap_check "PostgreSQL down: h1's idle pwbd sleeps (CPU ticks in 3 s: $((t1 - t0)), fewer than 50)" \
	test "$((t1 - t0))" -lt 50

# Back: h1 writes again once reconnected, h2 catches up.
pwb_pg_start || tap_bail "PostgreSQL did not restart"
pwb_wait_for 30 pwb_on_host 1 "$PWB_BIN_PWBADM" add-user dave
tap_like "after the restart h1 writes again" "$(pwb_on_host 1 getent passwd dave)" '^dave:x:'
pwb_wait_for 30 pwb_on_host 2 getent passwd dave
tap_like "and h2 catches up" "$(pwb_on_host 2 getent passwd dave)" '^dave:x:'
tap_check "both hosts converge" pwb_cluster_converge 60

# The database now belongs to another cluster (as a restore of another
# cluster's backup would): every host refuses writes until an
# administrator accepts it, and meanwhile sleeps between polls (it once
# skipped the poll while refusing without moving its deadline: a spin).
pwb_pg_psql "UPDATE pwb_counter SET cluster_id = gen_random_uuid()" >/dev/null ||
	tap_bail "cannot change the cluster id"
refusing() {
	pwb_on_host 1 "$PWB_BIN_PWBADM" cluster status --json | jq -e '.refusing == true'
}
pwb_wait_for 30 refusing
tap_check "another cluster's database: h1 refuses writes" refusing
out=$(pwb_on_host 1 "$PWB_BIN_PWBADM" add-user erin 2>&1)
rc=$?
tap_like "... an add-user fails" "$rc" '^[1-9]'
tap_like "... saying to check and accept" "$out" 'pwbadm cluster accept'
t0=$(cpu_ticks "${h1_pid:-0}")
sleep 3
t1=$(cpu_ticks "${h1_pid:-0}")
tap_check "refusing, h1's pwbd sleeps between polls (CPU ticks in 3 s: $((t1 - t0)), fewer than 50)" \
	test "$((t1 - t0))" -lt 50
for h in 1 2; do pwb_on_host "$h" "$PWB_BIN_PWBADM" cluster accept >/dev/null; done
tap_check "after cluster accept h1 writes again" pwb_on_host 1 "$PWB_BIN_PWBADM" add-user erin
pwb_wait_for 30 pwb_on_host 2 getent passwd erin
tap_like "and h2 follows" "$(pwb_on_host 2 getent passwd erin)" '^erin:x:'
tap_is "no crash in either pwbd's log" "$(cat "$PWB_TMP"/h[12]/pwbd.log | grep -ciE 'segfault|abort|assert')" 0
tap_diag "cluster_pwbd.sh took $(($(date +%s) - T0)) s"
tap_done
