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
wait_for() { # wait_for CAP CMD...: until CMD succeeds (cap in seconds)
	local cap=$1 i
	shift
	for ((i = 0; i < cap * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
wait_for 30 pwb_on_host 2 getent passwd alice
tap_is "h2 resolves alice with the same uid" "$(pwb_on_host 2 getent passwd alice | cut -d: -f3)" "$uid"
tap_check "pwbadm add-user on h2" pwb_on_host 2 "$PWB_BIN_PWBADM" add-user bob
wait_for 30 pwb_on_host 1 getent passwd bob
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

# Back: h1 writes again once reconnected, h2 catches up.
pwb_pg_start || tap_bail "PostgreSQL did not restart"
wait_for 30 pwb_on_host 1 "$PWB_BIN_PWBADM" add-user dave
tap_like "after the restart h1 writes again" "$(pwb_on_host 1 getent passwd dave)" '^dave:x:'
wait_for 30 pwb_on_host 2 getent passwd dave
tap_like "and h2 catches up" "$(pwb_on_host 2 getent passwd dave)" '^dave:x:'
tap_check "both hosts converge" pwb_cluster_converge 60
tap_is "no crash in either pwbd's log" "$(cat "$PWB_TMP"/h[12]/pwbd.log | grep -ciE 'segfault|abort|assert')" 0
tap_diag "cluster_pwbd.sh took $(($(date +%s) - T0)) s"
tap_done
