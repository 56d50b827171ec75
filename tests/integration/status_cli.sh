#!/usr/bin/env bash
# pwbadm status (pwbd's store.status): a store made through every path
# (pwbadm, SCIM through nginx + pwb-scim + pwbd, an import of JIT users)
# is counted right in --json (which parses) and in the one-screen text;
# with pwbd stopped, status says so and still shows the snapshot, and
# --offline reads the store itself.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

SCIM_TOKEN=$(pwb_scim_token sync) || tap_bail "cannot store a token"
pwb_scim_token soon --expires-in $((10 * 86400)) >/dev/null || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"

# 2 by pwbadm (one locked, one in 2 groups), 3 by SCIM, 2 JIT (imported,
# one signed in today, one long ago)
pwbadm add-user alice --groups research,dev >/dev/null || tap_bail "add-user alice"
pwbadm add-user bob >/dev/null && pwbadm lock-user bob >/dev/null || tap_bail "add-user bob"
for u in s1 s2 s3; do
	scim_req POST /Users "$(scim_user_json "$u@example.com")"
	[ "$SCIM_STATUS" = 201 ] || tap_bail "SCIM create $u: $SCIM_STATUS"
done
now=$(date +%s)
printf '%s\n' \
	"{\"type\":\"user\",\"name\":\"jit1\",\"source\":\"jit\",\"lastLogin\":$now}" \
	"{\"type\":\"user\",\"name\":\"jit2\",\"source\":\"jit\",\"lastLogin\":$((now - 3 * 86400))}" \
	>"$PWB_TMP/jit.jsonl"
pwbadm import "$PWB_TMP/jit.jsonl" >/dev/null || tap_bail "import of the JIT users failed"

# ---- --json ----
json=$(pwbadm status --json)
tap_is "status --json succeeds" "$?" 0
tap_check "status --json is one JSON object (python3 json.load)" \
	python3 -c 'import json, sys; d = json.load(sys.stdin); assert isinstance(d, dict)' <<<"$json"
j() { jq -r "$1" <<<"$json"; }
tap_is "users: total, active, locked" "$(j '[.users.total, .users.active, .users.locked] | join(" ")')" "7 6 1"
tap_is "users by source: scim, jit, manual" \
	"$(j '[.users.by_source.scim, .users.by_source.jit, .users.by_source.manual] | join(" ")')" "3 2 2"
tap_is "groups" "$(j .groups.total)" 2
tap_is "tokens: total, expired" "$(j '[.tokens.total, .tokens.expired] | join(" ")')" "2 0"
tap_is "tokens expiring within 30 days: the 10-day one" "$(j '[.tokens.expiring[].name] | join(",")')" soon
tap_is "sign-ins today: the JIT user who signed in now" "$(j .signins.today)" 1
tap_is "pwbd is running, with its pid" "$(j .pwbd.running) $(j .pwbd.pid)" "true $(pwb_pwbd_pid)"
tap_check "pwbd counted the SCIM requests" test "$(j .pwbd.scim_requests)" -ge 3
tap_check "last SCIM request: within this test" test "$(j .scim.last_request)" -ge "$((now - 120))"
tap_is "... by the token used" "$(j .scim.last_token)" sync
tap_is "snapshot: readable, and holds the 7 users" "$(j .snapshot.readable) $(j .snapshot.users)" "true 7"
tap_check "snapshot: a generation and its time" test "$(j .snapshot.generation)" -gt 0 -a "$(j .snapshot.published)" -gt 0
tap_check "store: size on disk" test "$(j .store.bytes)" -gt 0
tap_is "store: its path" "$(j .store.path)" "$PWB_DB_DIR/store"

# ---- the one screen names the same numbers ----
text=$(pwbadm status)
tap_is "status succeeds" "$?" 0
tap_diag "$text"
tap_like "text: pwbd" "$text" "pwbd +running, pid $(pwb_pwbd_pid), up "
tap_like "text: users by state and source" "$text" \
	'users +7: 6 active, 1 locked; by source: scim 3, jit 2, manual 2'
tap_like "text: groups" "$text" $'\ngroups +2\n'
tap_like "text: tokens near expiry" "$text" 'tokens +2; 1 expiring within 30 days: soon \([0-9-]+T[0-9:]+Z\); 0 expired'
tap_like "text: snapshot" "$text" "snapshot +generation [0-9]+, published [0-9-]+T[0-9:]+Z \\([0-9]+s ago\\), change [0-9]+, 7 users"
tap_like "text: store" "$text" "store +[0-9]+ bytes \\([0-9.]+ [KMG]iB\\) on disk in $PWB_DB_DIR/store"
tap_like "text: last SCIM request" "$text" 'SCIM +last request [0-9-]+T[0-9:]+Z \(last token used: sync\)'
tap_like "text: sign-ins today" "$text" 'sign-ins +1 users signed in today'
tap_is "the text fits one screen (24 lines)" "$(($(wc -l <<<"$text") <= 24))" 1
tap_is "status takes no operand" "$(adm_status pwbadm status extra)" 2

# ---- store.status is root's ----
out=$(setpriv --reuid=pwb-scim --regid=pwb-scim --clear-groups "$PWB_PWBD_CALL" store.status 2>&1)
tap_like "the scim-user cannot call store.status" "$out" 'not allowed'

# ---- pwbd down ----
pwb_pwbd_stop
text=$(pwbadm status) && rc=0 || rc=$?
tap_is "pwbd down: status fails (exit 1)" "$rc" 1
tap_like "... saying pwbd is not running" "$text" 'pwbd +NOT RUNNING: '
tap_like "... and showing the snapshot it can still read" "$text" 'snapshot +generation [0-9]+, .*, 7 users'
json=$(pwbadm status --json) && rc=0 || rc=$?
tap_is "pwbd down: --json still one object, running false, the snapshot" \
	"$rc $(jq -r '[.pwbd.running, .snapshot.users] | join(" ")' <<<"$json")" "1 false 7"
json=$(pwbadm --offline status --json)
tap_is "--offline status reads the store itself" "$?" 0
tap_is "... the same counts, pwbd not running" \
	"$(jq -r '[.pwbd.running, .users.total, .users.locked, .groups.total] | join(" ")' <<<"$json")" "false 7 1 2"
tap_like "--offline text says pwbd was not asked" "$(pwbadm --offline status)" 'pwbd +not asked'
pwb_pwbd_start

tap_done
