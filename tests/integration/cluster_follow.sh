#!/usr/bin/env bash
# Cluster mode (issue 15), the followers: three writer hosts and a reader
# sharing one real PostgreSQL 15 (tests/lib/cluster.sh):
#   - h3's pwbd stopped during 500 mixed SCIM changes on h1 and h2
#     (create, rename, uid change, delete, deactivate, membership) catches
#     up after its restart, and its getent passwd/group/shadow equal the
#     others'; the same when the log was pruned past it (`pwbadm cluster
#     prune --upto`: a full resync);
#   - rogue rows put straight into PostgreSQL (a user with gid 27, another
#     with home /etc, with their change entries) are refused by every
#     follower and logged;
#   - a reader host (cluster-role=reader, the pwb_reader role: SELECT and
#     LISTEN only) resolves every user and refuses writes, saying why.
# The sanitizer pass (PWB_SANITIZE) runs a smoke subset (100 changes).
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
. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"

if [ -n "${PWB_SANITIZE:-}" ]; then N=40; else N=200; fi # users created per round
T0=$(date +%s)
pwb_syslog_capture || tap_bail "cannot capture syslog"
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
pwb_conf_set user-provisioning-register-on-first-login=1
mkhome_oidc_service pwb-login "umask=0077"
pwb_cluster_start 3 || tap_bail "cannot start the cluster"
PWB_CLUSTER_TOKEN=$(pwb_on_host 1 "$PWB_SCIM_TOKEN_TOOL" follow) || tap_bail "no SCIM token"
for h in 1 2; do pwb_host_scim "$h" || tap_bail "pwb-scim + nginx on h$h"; done
out=$(pwb_host_login 1 pwb-login known1 "$(mkhome_token known1)")
tap_like "known1 registers on h1 (JIT)" "$out" 'session has successfully been closed'

snap() { # getent passwd, group and shadow on host $1, sorted
	pwb_host_snapshot "$1"
	pwb_on_host "$1" getent shadow | sort
}
PATCH='"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'
POSIX='"urn:pwb:params:scim:schemas:extension:posix:1.0:User"'

# mixed_changes PREFIX UIDBASE: N creates and a group, then (in parallel)
# N*3/10 renames, uid changes, deletes and deactivations and N*3/10 - 1
# memberships, spread over h1 and h2: N * 2.5 changes (500 for N=200).
mixed_changes() {
	local p=$1 base=$2 q=$((N * 3 / 10)) i id grp
	for i in $(seq 1 "$N"); do
		printf '%s\tPOST\t/Users\t%s\n' $((i % 2 + 1)) "$(scim_user_json "$p$i")"
	done >"$PWB_TMP/$p.create"
	printf '1\tPOST\t/Groups\t{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"%steam"}\n' \
		"$p" >>"$PWB_TMP/$p.create"
	pwb_cluster_requests "$PWB_TMP/$p.create" 8 "$PWB_TMP/$p.create.out"
	grp=$(awk -F'\t' '$2 == 201 && $5 == ""' "$PWB_TMP/$p.create.out" | cut -f4)
	awk -F'\t' '$2 == 201 && $5 != "" { print $5 "\t" $4 }' "$PWB_TMP/$p.create.out" |
		sort -V >"$PWB_TMP/$p.ids"
	while IFS=$'\t' read -r name id; do
		i=${name#"$p"}
		if [ "$i" -le "$q" ]; then # renamed, then deactivated
			printf '1\tPATCH\t/Users/%s\t{%s,"Operations":[{"op":"replace","path":"userName","value":"%sr%s"}]}\n' \
				"$id" "$PATCH" "$p" "$i"
			printf '2\tPATCH\t/Users/%s\t{%s,"Operations":[{"op":"replace","value":{"active":false}}]}\n' \
				"$id" "$PATCH"
		elif [ "$i" -le $((q * 2)) ]; then # a new uid, then into the group
			printf '2\tPUT\t/Users/%s\t%s\n' "$id" "$(scim_user_json "$name" "$POSIX:{\"uidNumber\":$((base + i))}")"
			[ "$i" = $((q * 2)) ] || printf '1\tPATCH\t/Groups/%s\t{%s,"Operations":[{"op":"add","path":"members","value":[{"value":"%s"}]}]}\n' \
				"$grp" "$PATCH" "$id"
		elif [ "$i" -le $((q * 3)) ]; then
			printf '%s\tDELETE\t/Users/%s\t\n' $((i % 2 + 1)) "$id"
		fi
	done <"$PWB_TMP/$p.ids" >"$PWB_TMP/$p.change"
	pwb_cluster_requests "$PWB_TMP/$p.change" 8 "$PWB_TMP/$p.change.out"
	cat "$PWB_TMP/$p.create.out" "$PWB_TMP/$p.change.out" >"$PWB_TMP/$p.out"
}
# every change succeeded: 201 (create), 200 (PATCH, PUT), 204 (DELETE)
all_ok() { awk -F'\t' '$2 != 200 && $2 != 201 && $2 != 204' "$PWB_TMP/$1.out" | head -5; }

# ---- h3 away during the changes ----
pwb_host_pwbd_stop 3
mixed_changes m 27000
tap_is "$((N * 5 / 2)) mixed changes on h1 and h2 while h3's pwbd is stopped: all succeed" \
	"$(wc -l <"$PWB_TMP/m.out") $(all_ok m)" "$((N * 5 / 2)) "
tap_is "h3 did not see them (its NSS answers from its snapshot)" "$(pwb_on_host 3 getent passwd m$N)" ""
pwb_host_pwbd_start 3 || tap_bail "h3's pwbd does not start again"
took=$(pwb_cluster_converge 120) || { tap_fail "h3 catches up: $took"; took=; }
[ -z "$took" ] || tap_ok "h3 catches up after its restart (${took}s)"
for h in 1 2 3; do snap "$h" >"$PWB_TMP/snap.$h"; done
tap_check "h3's getent passwd, group and shadow equal h1's" cmp "$PWB_TMP/snap.1" "$PWB_TMP/snap.3"
tap_check "... and h2's" cmp "$PWB_TMP/snap.2" "$PWB_TMP/snap.3"
q=$((N * 3 / 10))
tap_like "h3: a renamed user has the new name" "$(pwb_on_host 3 getent passwd mr1)" '^mr1:x:'
tap_is "h3: ... and not the old" "$(pwb_on_host 3 getent passwd m1)" ""
tap_like "h3: a renamed user is deactivated (shadow expired)" "$(pwb_on_host 3 getent shadow mr1)" \
	'^mr1:!'
tap_like "h3: a uid change is there" "$(pwb_on_host 3 getent passwd "m$((q + 1))")" \
	"^m$((q + 1)):x:$((27000 + q + 1)):"
tap_is "h3: a deleted user is gone" "$(pwb_on_host 3 getent passwd "m$((q * 2 + 1))")" ""
tap_is "h3: the group lists its $((q - 1)) members" \
	"$(pwb_on_host 3 getent group mteam | cut -d: -f4 | tr , '\n' | grep -c .)" $((q - 1))

# ---- the same, with the log pruned past h3 ----
pwb_host_pwbd_stop 3
mixed_changes p 28000
tap_is "another $((N * 5 / 2)) changes while h3 is stopped: all succeed" \
	"$(wc -l <"$PWB_TMP/p.out") $(all_ok p)" "$((N * 5 / 2)) "
seq=$(pwb_on_host 1 "$PWB_PWBD_CALL" cluster.status '{}' | jq -r .db_seq)
out=$(pwb_on_host 1 "$PWB_BIN_PWBADM" cluster prune --upto "$seq" 2>&1)
tap_check "pwbadm cluster prune --upto $seq (past h3) succeeds" test $? = 0 || tap_diag "$out"
pwb_host_pwbd_start 3 || tap_bail "h3's pwbd does not start again"
took=$(pwb_cluster_converge 120) || { tap_fail "h3 resyncs: $took"; took=; }
[ -z "$took" ] || tap_ok "h3 resyncs fully after its restart, the log pruned past it (${took}s)"
for h in 1 3; do snap "$h" >"$PWB_TMP/snap.$h"; done
tap_check "h3's getent passwd, group and shadow equal h1's" cmp "$PWB_TMP/snap.1" "$PWB_TMP/snap.3"
tap_like "h3's pwbd says it resynced fully" "$(cat "$PWB_TMP/h3/pwbd.log"; pwb_syslog_since 0 | grep 'pwbd')" \
	'[Rr]esync|full'

# ---- rogue rows straight into PostgreSQL ----
n0=$(pwb_syslog_count)
cluster_rogue_insert m27 rogue27 '{"gid":27}' || tap_bail "cannot insert the rogue rows"
cluster_rogue_insert m28 rogueetc '{"home":"/etc"}' || tap_bail "cannot insert the rogue rows"
sleep 2
pwb_cluster_converge 30 >/dev/null
for h in 1 2 3; do
	tap_is "h$h refuses the user with gid 27" "$(pwb_on_host "$h" getent passwd rogue27)" ""
	tap_is "h$h refuses the user with home /etc" "$(pwb_on_host "$h" getent passwd rogueetc)" ""
done
log=$(pwb_syslog_since "$n0")
tap_is "every follower logged both refusals" \
	"$(printf '%s\n' "$log" | grep -E 'rogue27' | grep -cE 'gid|27')$(printf '%s\n' "$log" | grep -E 'rogueetc' | grep -c '/etc')" \
	"33"
tap_diag "$(printf '%s\n' "$log" | grep -E 'rogue' | head -2)"
tap_is "the group 27 (local) is untouched on h1" "$(pwb_on_host 1 getent group 27 | cut -d: -f4)" \
	"$(getent group 27 | cut -d: -f4)"

# ---- a reader host ----
pwb_cluster_add_host 4 reader || tap_bail "cannot start the reader h4"
took=$(pwb_cluster_converge 120) || { tap_fail "the reader follows: $took"; took=; }
[ -z "$took" ] || tap_ok "the reader h4 follows the cluster (${took}s)"
snap 4 >"$PWB_TMP/snap.4"
snap 1 >"$PWB_TMP/snap.1"
tap_check "h4 resolves every user and group as h1 does" cmp "$PWB_TMP/snap.1" "$PWB_TMP/snap.4"
out=$(pwb_on_host 4 "$PWB_BIN_PWBADM" add-user readerwrite 2>&1)
rc=$?
tap_like "h4: pwbadm add-user is refused, naming the reader role" "$rc $out" \
	'^1 .*cluster reader.*writer host'
out=$(pwb_host_login 4 pwb-login newonreader "$(mkhome_token newonreader)")
tap_unlike "h4: a new user's first sign-in (JIT) fails there" "$out" 'session has successfully been closed'
out=$(pwb_host_login 4 pwb-login known1 "$(mkhome_token known1)")
tap_like "h4: a known user signs in there" "$out" 'session has successfully been closed'
tap_is "h1 never saw readerwrite" "$(pwb_on_host 1 getent passwd readerwrite)" ""
tap_unlike "no pwbd log shows a sanitizer or assertion report" \
	"$(cat "$PWB_TMP"/h*/pwbd.log)" 'ERROR: AddressSanitizer|runtime error:|Assertion'
tap_diag "cluster_follow.sh took $(($(date +%s) - T0)) s"
tap_done
