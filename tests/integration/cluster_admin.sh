#!/usr/bin/env bash
# pwbadm cluster ... against a real PostgreSQL (tests/lib/pg.sh) and the
# real pwbd: on a single host every cluster command says it is not in
# cluster mode; a populated single host becomes a cluster with `cluster
# init --from-local`, a second init is refused, migrate says the schema is
# current; a second, fresh host that follows the cluster shows exactly the
# same users and groups through NSS (getent) and the same identity
# bindings; cluster status (text and --json), status's cluster line and
# check's per-host sync lines; prune.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
PWB_NS_NO_PWBD=1
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/pg.sh"
adm_require_pwbadm
export PWB_STORE_PG_MODULE=$PWB_TEST_BUILDDIR/lib/.libs/pwb_store_pg.so
[ -e "$PWB_STORE_PG_MODULE" ] || tap_bail "pwb_store_pg.so is not built"

# pwb users and groups as NSS shows them (ids in the test's range), sorted.
pwb_entries() { getent "$1" | awk -F: '$3 >= 20000 && $3 <= 29999' | sort; }

# ---- one host, Berkeley DB: not in cluster mode ----
pwb_pwbd_start
out=$(pwbadm cluster status 2>&1)
tap_is "single host: cluster status fails" "$?" 1
tap_like "... saying it is not in cluster mode" "$out" \
	'not in cluster mode \(store-backend=berkeleydb\)'
tap_is "cluster with an unknown subcommand: usage error" "$(adm_status pwbadm cluster frob)" 2
tap_is "prune without --upto: usage error" "$(adm_status pwbadm cluster prune)" 2
tap_is "--from-local on status: usage error" "$(adm_status pwbadm cluster status --from-local)" 2
tap_is "--offline cluster status: usage error (pwbd holds the connection)" \
	"$(adm_status pwbadm --offline cluster status)" 2

# A populated store: users with fixed and allocated ids, groups, a user
# bound to an IdP identity.
pwbadm add-user alice --uid 20101 --groups research,dev >/dev/null || tap_bail "add-user alice"
pwbadm add-user bob --groups dev >/dev/null || tap_bail "add-user bob"
printf '%s\n' '{"type":"user","name":"carol","uid":20777,"source":"jit","issuer":"https://idp.example","subject":"sub-carol"}' \
	>"$PWB_TMP/carol.jsonl"
pwbadm import "$PWB_TMP/carol.jsonl" >/dev/null || tap_bail "import carol"
pwb_entries passwd >"$PWB_TMP/passwd.before"
pwb_entries group >"$PWB_TMP/group.before"
[ "$(wc -l <"$PWB_TMP/passwd.before")" = 3 ] || tap_bail "3 users expected in NSS"

# ---- this host joins a new cluster ----
pwb_pg_start || tap_bail "PostgreSQL did not start"
pwb_pwbd_stop
pwb_conf_set store-backend=postgresql "store-dsn=$PWB_PG_DSN_WRITER" \
	"store-password-file=$PWB_PG_PW_WRITER" cluster-host-name=h1
pwb_pwbd_start
out=$(pwbadm cluster init --from-local --reader-role pwb_reader 2>&1)
tap_is "cluster init --from-local succeeds" "$?" 0
tap_like "... says it seeded from this host's store" "$out" "seeded from this host's store"
out=$(pwbadm cluster init 2>&1)
tap_is "a second init is refused" "$?" 1
tap_like "... saying the schema is there" "$out" "already holds a cluster schema"
out=$(pwbadm cluster migrate 2>&1)
tap_is "cluster migrate succeeds" "$?" 0
tap_like "... and says the schema is current" "$out" "schema is current"
tap_is "the seeded host still shows its users" "$(pwb_entries passwd)" "$(cat "$PWB_TMP/passwd.before")"

# ---- a second, fresh host follows it ----
conf2=$PWB_TMP/h2.conf
mkdir -p "$PWB_TMP/db2" "$PWB_TMP/run2"
sed -e "s|^db-dir=.*|db-dir=$PWB_TMP/db2|" -e "s|^pwbd-socket=.*|pwbd-socket=$PWB_TMP/run2/pwbd.sock|" \
	-e "s|^cluster-host-name=.*|cluster-host-name=h2|" "$PWB_CONF" >"$conf2"
PWB_CONFIG=$conf2 "$PWB_BIN_PWBD" --config "$conf2" --socket "$PWB_TMP/run2/pwbd.sock" --foreground \
	</dev/null >>"$PWB_TMP/pwbd2.log" 2>&1 &
pid2=$!
pwb_on_cleanup "kill $pid2 2>/dev/null; wait $pid2 2>/dev/null"
h2() { PWB_CONFIG=$conf2 "$@"; }
for _ in $(seq 1 300); do
	[ "$(h2 pwb_entries passwd)" = "$(cat "$PWB_TMP/passwd.before")" ] && break
	sleep 0.1
done
tap_is "host 2's getent passwd equals host 1's before the cluster (every uid)" \
	"$(h2 pwb_entries passwd)" "$(cat "$PWB_TMP/passwd.before")"
tap_is "... and getent group (every gid)" "$(h2 pwb_entries group)" "$(cat "$PWB_TMP/group.before")"
json=$(h2 pwbadm show-user carol --json)
tap_is "carol's binding came along (issuer, subject)" \
	"$(jq -r '[.issuer, .subject] | join(" ")' <<<"$json")" "https://idp.example sub-carol"
tap_is "alice keeps her groups" "$(h2 pwbadm show-user alice --json | jq -r '.groups | join(",")')" \
	"dev,research"

# A change on host 2 reaches host 1.
h2 pwbadm add-user dave >/dev/null
tap_is "add-user on host 2 succeeds" "$?" 0
for _ in $(seq 1 300); do getent passwd dave >/dev/null && break; sleep 0.1; done
tap_is "... and host 1 resolves the user with host 2's uid" "$(getent passwd dave | cut -d: -f3)" \
	"$(h2 getent passwd dave | cut -d: -f3)"

# ---- status and check ----
for _ in $(seq 1 300); do
	json=$(pwbadm cluster status --json)
	[ "$(jq '[.hosts[] | select(.lag == 0)] | length' <<<"$json")" = 2 ] && break
	sleep 0.1
done
tap_is "cluster status --json: connected, schema ready, not refusing" \
	"$(jq -r '[.connected, .schema_ready, .refusing] | join(" ")' <<<"$json")" "true true false"
tap_is "... both hosts, each 0 behind" "$(jq -r '[.hosts[] | "\(.name):\(.lag)"] | sort | join(" ")' <<<"$json")" \
	"h1:0 h2:0"
tap_is "... this host applied the database's sequence" "$(jq -r '.applied == .db_seq' <<<"$json")" true
db_seq=$(jq -r .db_seq <<<"$json")
text=$(pwbadm cluster status)
tap_is "cluster status (text) exits 0" "$?" 0
tap_like "... names this host, connected, applied" "$text" "host h1 \(writer\), database connected; applied $db_seq"
tap_like "... and a table of the hosts" "$text" "HOST +ROLE +APPLIED +LAG +LAST REPORT"
tap_like "... with h2" "$text" $'\nh2 +writer +[0-9]+ +0 +'
text=$(pwbadm status)
tap_like "pwbadm status has the cluster line" "$text" "cluster +host h1 \(writer\), database connected"
tap_is "pwbadm status --json has the cluster part" "$(pwbadm status --json | jq -r .cluster.host)" h1
text=$(pwbadm check 2>&1)
tap_like "check: the database is reachable" "$text" "ok +cluster: database reachable at change $db_seq"
tap_like "check: one sync line per host" "$text" "ok +cluster sync: host h2 applied"
tap_unlike "check: no cluster warning" "$text" "(WARN|FAIL) +cluster"

# ---- accept: a full resync from the database as it is ----
out=$(pwbadm cluster accept 2>&1)
tap_is "cluster accept succeeds" "$?" 0
tap_like "... says writes are allowed and that it resynced fully" "$out" \
	"writes are allowed again.*"$'\n'".*change $db_seq applied .*full resync"
tap_is "... and the users are unchanged" "$(pwb_entries passwd | grep -v '^dave:')" \
	"$(cat "$PWB_TMP/passwd.before")"

# ---- prune ----
out=$(pwbadm cluster prune --upto "$db_seq" 2>&1)
tap_is "cluster prune --upto the database's sequence succeeds" "$?" 0
tap_like "... and says what it did" "$out" "pruned .* up to change $db_seq"
tap_is "prune --upto 0: usage error" "$(adm_status pwbadm cluster prune --upto 0)" 2
tap_is "prune --upto x: usage error" "$(adm_status pwbadm cluster prune --upto x)" 2
h2 pwbadm add-user erin >/dev/null
for _ in $(seq 1 300); do getent passwd erin >/dev/null && break; sleep 0.1; done
tap_check "after the prune, host 1 still follows (erin)" getent passwd erin

# ---- --offline on a cluster host: the store is a replica ----
# A change made there would exist on this host only (and be overwritten or
# contradicted by the next apply): refused; rebuilding the snapshot from
# the replica and reading it stay allowed.
pwb_pwbd_stop
out=$(pwbadm --offline add-user frank 2>&1)
tap_is "--offline add-user on a cluster host is refused" "$?" 1
tap_like "... saying the local store is the cluster's replica" "$out" \
	"replica of the cluster database"
tap_unlike "... and nothing was added" "$(pwbadm --offline list-users 2>&1)" 'frank'
tap_is "--offline rebuild-nss still works" "$(adm_status pwbadm --offline rebuild-nss)" 0
pwb_pwbd_start

tap_done
