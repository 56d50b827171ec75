#!/usr/bin/env bash
# pwbadm goes through the store's one policy (issue 12): add-user and import
# are refused a home outside the roots, a local or foreign primary gid, a
# shell not in /etc/shells and a deny-listed group, naming the field. check
# lists records that break the policy (written before it) and damaged
# records; a damaged record never stops list-users, export, rebuild-nss or
# check, and delete-user removes it.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

printf '/bin/sh\n/bin/bash\n' >"$PWB_TMP/etc/shells"
mount --bind "$PWB_TMP/etc/shells" /etc/shells
check_line() { printf '%s\n' "$2" | grep -E "^(ok|WARN|FAIL) +$1: "; }
# refused DESC FIELD CMD...: CMD fails (exit 1), its error names FIELD,
# and the store is unchanged.
refused() {
	local desc=$1 field=$2 before err rc=0
	shift 2
	before=$(pwbadm export 2>/dev/null | jq -c 'del(.created, .modified, .version)' | sort)
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	tap_is "$desc: exit 1" "$rc" 1
	tap_like "$desc: the error names $field" "$err" "$field"
	tap_is "$desc: nothing changed" \
		"$(pwbadm export 2>/dev/null | jq -c 'del(.created, .modified, .version)' | sort)" "$before"
}
import_line() { printf '%s\n' "$1" >"$PWB_TMP/in.jsonl"; pwbadm import "$PWB_TMP/in.jsonl"; }

pwbadm add-user alice >/dev/null || tap_bail "cannot add a user"
alice_gid=$(pwbadm show-user alice --json | jq -r .gid)

# ---- add-user and import: the same policy as SCIM ----
refused "add-user --home /root" homeDirectory pwbadm add-user mal --home /root
refused "add-user --home /etc/systemd/system/ssh.service.d" homeDirectory \
	pwbadm add-user mal --home /etc/systemd/system/ssh.service.d
refused "add-user --home of another user" homeDirectory pwbadm add-user mal --home "$PWB_HOME_ROOT/alice"
refused "add-user --groups docker" docker pwbadm add-user mal --groups docker
refused "add-user --groups Wheel" wheel pwbadm add-user mal --groups Wheel
for gid in 42 27 "$alice_gid"; do
	refused "import a user with gid $gid" gidNumber import_line "{\"type\":\"user\",\"name\":\"mal\",\"gid\":$gid}"
done
refused "import a user with home /var/spool/cron/crontabs" homeDirectory \
	import_line '{"type":"user","name":"mal","home":"/var/spool/cron/crontabs"}'
refused "import a user with shell /usr/bin/python3" loginShell \
	import_line '{"type":"user","name":"mal","shell":"/usr/bin/python3"}'
refused "import a group named admin" admin import_line '{"type":"group","name":"admin"}'
refused "import alice's gid 42 (an update)" gidNumber import_line '{"type":"user","name":"alice","gid":42}'
tap_like "alice unchanged" "$(pwbadm show-user alice --json | jq -r '"\(.gid) \(.home)"')" "^$alice_gid $PWB_HOME_ROOT/alice$"

# ---- check: records from before the policy are listed, each a FAIL ----
pwb_conf_set user-homedir-allowed-roots=/srv group-provisioning-deny-names=root,wheel
pwbadm add-user erin --home /srv/erin --groups research >/dev/null || tap_bail "cannot add erin"
tap_is "before: the policy check is ok" "$(check_line policy "$(pwbadm check)" | cut -c1-4)" "ok  "
# the policy tightens under them: /srv is no root any more, research is denied
pwb_conf_set group-provisioning-deny-names=root,wheel,research
sed -i '/^user-homedir-allowed-roots=/d' "$PWB_CONF"
out=$(pwbadm check)
tap_like "a home outside the roots: FAIL naming user and homeDirectory" "$(check_line policy "$out")" \
	"FAIL +policy: user erin: homeDirectory '/srv/erin' .*; fix: "
tap_like "a deny-listed group: FAIL naming it" "$(check_line policy "$out")" 'FAIL +policy: group research: '
tap_like "check still ends with its summary" "$(printf '%s\n' "$out" | tail -1)" '^[0-9]+ failed, [0-9]+ warnings$'
tap_is "erin can still be locked (an unchanged home is not checked again)" "$(adm_status pwbadm lock-user erin)" 0
tap_is "and deleted" "$(adm_status pwbadm delete-user --yes erin)" 0

# ---- a damaged record ----
for u in bob carol dave; do pwbadm add-user "$u" >/dev/null; done
adm_plant_damaged_user bob || tap_bail "cannot plant a damaged record"
bob=$ADM_DAMAGED_ID
err=$(pwbadm list-users 2>&1 >"$PWB_TMP/list.out") && rc=0 || rc=$?
tap_is "list-users with a damaged record: exit 0" "$rc" 0
tap_is "it lists everyone else" "$(awk 'NR>1 {print $1}' "$PWB_TMP/list.out" | tr '\n' ' ')" "alice carol dave "
tap_like "and names the damaged record on stderr" "$err" "^pwbadm: warning: user $bob: damaged record skipped \\(pwbadm delete-user $bob removes it\\)$"
tap_is "list-users --json too" "$(pwbadm list-users --json 2>/dev/null | jq -r '.[].name' | tr '\n' ' ')" "alice carol dave "
err=$(pwbadm export "$PWB_TMP/ex.jsonl" 2>&1 >/dev/null) && rc=0 || rc=$?
tap_is "export with a damaged record: exit 1 (incomplete)" "$rc" 1
tap_like "export says which record it lacks" "$err" "user $bob: damaged record skipped"
tap_is "after writing everything else" "$(jq -r 'select(.type=="user") | .name' "$PWB_TMP/ex.jsonl" | tr '\n' ' ')" "alice carol dave "
out=$(pwbadm check)
tap_like "check reports it (by id)" "$(check_line policy "$out")" "FAIL +policy: user $bob: damaged record"
tap_like "and carries on to the end" "$(printf '%s\n' "$out" | tail -1)" '^[0-9]+ failed, [0-9]+ warnings$'
tap_is "rebuild-nss still works" "$(adm_status pwbadm rebuild-nss)" 0
if adm_have_nss; then
	tap_like "carol resolves" "$(getent passwd carol)" '^carol:x:'
fi
tap_is "a change to another user still publishes" "$(adm_status pwbadm add-user frank)" 0
if adm_have_nss; then
	tap_like "frank resolves at once" "$(getent passwd frank)" '^frank:x:'
fi
out=$(pwbadm delete-user --yes bob 2>&1)
tap_is "delete-user removes the damaged record" "$?" 0
tap_is "saying what it did" "$out" "deleted the damaged record of user bob (id $bob)"
tap_is "list-users is clean again" "$(pwbadm list-users 2>&1 >/dev/null)" ""
tap_is "export succeeds again" "$(adm_status pwbadm export "$PWB_TMP/ex2.jsonl")" 0
tap_like "its home stays retired, as any deleted user's" "$(adm_stderr pwbadm add-user bob)" 'homeDirectory'
tap_is "the name is free again" "$(adm_status pwbadm add-user bob --home "$PWB_HOME_ROOT/bob2")" 0
adm_plant_damaged_user dave || tap_bail "cannot plant a damaged record"
dave=$ADM_DAMAGED_ID
tap_is "delete-user also takes the record id" "$(pwbadm delete-user --yes "$dave")" \
	"deleted the damaged user record $dave"
tap_is "no damaged record left" "$(check_line policy "$(pwbadm check)" | grep -c 'damaged')" 0
tap_is "an unknown id: failure" "$(adm_status pwbadm delete-user --yes 00000000-0000-4000-8000-000000000000)" 1

tap_done
