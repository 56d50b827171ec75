#!/usr/bin/env bash
# A cluster host while its PostgreSQL is down (stopped): a SCIM create
# through the real nginx + pwb-scim + pwbd gets 503 with Retry-After and a
# SCIM error body; pamtester's first sign-in of a new user (JIT) fails with
# a clear message and one syslog line naming the user and the unreachable
# database; a known user whose groups claim changed still signs in, the
# group change deferred with a warning and nothing applied; pwbadm
# list-users works and says it read the replica; a write fails clearly;
# check reports the unreachable database. With the database back, the
# deferred group change is applied at the next sign-in.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
PWB_NS_NO_PWBD=1
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/pg.sh"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
adm_require_pwbadm
for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
export PWB_STORE_PG_MODULE=$PWB_TEST_BUILDDIR/lib/.libs/pwb_store_pg.so
[ -e "$PWB_STORE_PG_MODULE" ] || tap_bail "pwb_store_pg.so is not built"

pwb_pg_start || tap_bail "PostgreSQL did not start"
pwb_conf_set store-backend=postgresql "store-dsn=$PWB_PG_DSN_WRITER" \
	"store-password-file=$PWB_PG_PW_WRITER" cluster-host-name=h1 store-timeout=1
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
mkhome_syslog_start
mkhome_pwbd_start
pwbadm cluster init >/dev/null || tap_bail "cluster init failed"
mkhome_oidc_service pwb-login "umask=0077"
groups_of() { id -nG "$1" | tr ' ' '\n' | sort | tr '\n' ' '; }

SCIM_TOKEN=$(pwb_scim_token sync) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
scim_req POST /Users "$(scim_user_json "before@example.com")"
[ "$SCIM_STATUS" = 201 ] || tap_bail "SCIM create with the database up: $SCIM_STATUS"
out=$(mkhome_login pwb-login alice "$(mkhome_token alice '"groups":["analysts"]')")
tap_like "with the database up, alice registers (JIT)" "$out" "session has successfully been closed"
tap_is "... in group analysts" "$(groups_of alice)" "alice analysts "

# ---- the database goes down ----
pwb_pg_stop || tap_bail "PostgreSQL did not stop"

scim_req POST /Users "$(scim_user_json "during@example.com")"
scim_is_error "SCIM create while the database is down: 503 with a SCIM error body" 503 -
tap_is "... and Retry-After" "$(scim_header Retry-After)" 5
tap_check "... its detail says to retry later" test -n "$(scim_jq .detail | grep 'retry later')"
tap_unlike "... and does not name the database's address" "$SCIM_BODY" "127\.0\.0\.1|$PWB_PG_PORT"
scim_req GET "/Users?filter=userName%20eq%20%22before%40example.com%22"
tap_is "a SCIM read is answered from the replica" "$SCIM_STATUS $(scim_jq .totalResults)" "200 1"

mkhome_syslog_mark
out=$(mkhome_login pwb-login bob "$(mkhome_token bob '"groups":["analysts"]')")
log=$(mkhome_syslog_since)
tap_unlike "a new user's first sign-in fails" "$out" "session has successfully been closed"
tap_like "... telling the person to try again later" "$out" "cannot be set up right now.*try again later"
tap_like "... with one syslog line naming bob and the unreachable database" "$log" \
	"pam_pwb_mkhome\(pwb-login:account\): refusing bob: cannot register new user bob on first sign-in: .*cluster database"
tap_is "... exactly one such line" "$(grep -c 'refusing bob' <<<"$log")" 1
tap_check "bob does not exist" test -z "$(getent passwd bob)"

mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token alice '"groups":["analysts","ops"]')")
log=$(mkhome_syslog_since)
tap_like "alice (known), with a changed groups claim, signs in" "$out" "session has successfully been closed"
tap_like "... with a warning that the group change is deferred" "$log" \
	"user alice signs in from this host's replica .*groups claim is deferred"
tap_is "... and nothing of it applied" "$(groups_of alice)" "alice analysts "

out=$(pwbadm list-users 2>"$PWB_TMP/err")
tap_is "pwbadm list-users works" "$?" 0
tap_like "... and lists alice" "$out" "alice +[0-9]+ +[0-9]+ +active"
tap_like "... and says it read the replica, with its change and age" "$(cat "$PWB_TMP/err")" \
	"^pwbadm: note: the cluster database cannot be reached; read from this host's replica \(h1\): change [0-9]+, applied .* ago$"
out=$(pwbadm add-user carol 2>&1)
tap_is "pwbadm add-user fails" "$?" 1
tap_like "... naming the database" "$out" "127\.0\.0\.1:$PWB_PG_PORT"
out=$(pwbadm check 2>&1)
tap_like "check: FAIL, the database cannot be reached" "$out" "FAIL +cluster: the cluster database cannot be reached"
out=$(pwbadm cluster status 2>&1)
tap_is "cluster status exits 1 while the database is down" "$?" 1
tap_like "... and says NOT REACHABLE" "$out" "database NOT REACHABLE"

# ---- the database is back ----
pwb_pg_start || tap_bail "PostgreSQL did not restart"
for _ in $(seq 1 600); do
	[ "$(pwbadm cluster status --json 2>/dev/null | jq -r .connected)" = true ] && break
	sleep 0.1
done
out=$(mkhome_login pwb-login alice "$(mkhome_token alice '"groups":["analysts","ops"]')")
tap_like "with the database back, alice signs in" "$out" "session has successfully been closed"
tap_is "... and the deferred group change is applied" "$(groups_of alice)" "alice analysts ops "
out=$(pwbadm list-users 2>&1 >/dev/null)
tap_is "list-users prints no replica note any more" "$out" ""

tap_done
