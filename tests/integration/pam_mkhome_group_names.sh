#!/usr/bin/env bash
# Issue 17: JIT group claims as Okta and Entra send them, through the whole
# sign-in chain (pamtester, pam_pwb_oidc with the test issuer's tokens,
# pam_pwb_mkhome, pwbd): the claim "Data Scientists" becomes the Linux group
# data_scientists (the display-name rule), a pwbadm map-group mapping wins,
# a claim naming an existing group by its display name joins that group,
# and a claim no rule turns into a Linux name (an Entra object id, an
# over-long or non-ASCII name) is skipped with a syslog line naming it,
# never failing the sign-in.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
set -u

for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_MKHOME_TOOL" \
	"$PWB_BIN_PWBADM"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
mkhome_syslog_start
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
SKEL=$PWB_TMP/skel
mkhome_make_skel "$SKEL"
mkhome_oidc_service pwb-login "skel=$SKEL umask=0077"
groups_of() { id -nG "$1" | tr ' ' '\n' | sort | tr '\n' ' '; }

pwbadm map-group "Platform Engineering" plateng >/dev/null || tap_bail "map-group failed"

mkhome_syslog_mark
out=$(mkhome_login pwb-login ivan "$(mkhome_token ivan \
	'"name":"Ivan I","groups":["Data Scientists","Platform Engineering","0f8fad5b-d9cb-469f-a165-70867728950e","A Very Long Group Name For Everyone Here","Équipe","Sudo"]')")
tap_like "sign-in with display-name group claims succeeds" "$out" "session has successfully been closed"
log=$(mkhome_syslog_since)
tap_is "id ivan: the derived and the mapped Linux names" "$(groups_of ivan)" "data_scientists ivan plateng "
tap_like "getent group data_scientists" "$(getent group data_scientists)" '^data_scientists:x:[0-9]+:ivan$'
tap_like "getent group plateng (mapped)" "$(getent group plateng)" '^plateng:x:[0-9]+:ivan$'
tap_like "syslog: the object id skipped, saying why" "$log" \
	'user ivan: skipping group 0f8fad5b-d9cb-469f-a165-70867728950e from claim: .*starts with a digit'
tap_like "syslog: the over-long name skipped, naming the derived name" "$log" \
	'user ivan: skipping group A Very Long Group Name For Everyone Here from claim: .*a_very_long_group_name_for_everyone_here.* more than 32'
tap_like "syslog: the non-ASCII name skipped, escaped" "$log" \
	'user ivan: skipping group \\xc3\\x89quipe from claim: .*not ASCII'
tap_like "syslog: a deny-listed derived name skipped" "$log" \
	"user ivan: skipping group sudo from claim: group name 'sudo' is in group-provisioning-deny-names"
tap_check_fails "no group for the skipped claims" getent group a_very_long_group_name_for_everyone_here
tap_like "pwbadm list-groups: the claim is the display name" "$(pwbadm list-groups)" \
	'data_scientists +[0-9]+ +ivan +Data Scientists'

# A group pushed by SCIM under another Linux name: the claim of its display
# name joins it (no second group from the rule).
pwbadm map-group "Research Team" rteam >/dev/null || tap_bail "map-group failed"
out=$(mkhome_login pwb-login judy "$(mkhome_token judy '"groups":["Research Team"]')")
pwbadm unmap-group "Research Team" >/dev/null || tap_bail "unmap-group failed"
out=$(mkhome_login pwb-login kim "$(mkhome_token kim '"groups":["research team","Data Scientists"]')")
tap_like "second user's sign-in succeeds" "$out" "session has successfully been closed"
tap_is "the display name finds the group, whatever its Linux name" "$(groups_of kim)" \
	"data_scientists kim rteam "
tap_check_fails "no research_team group from the rule" getent group research_team

# The sign-in that drops a claim leaves the group.
out=$(mkhome_login pwb-login ivan "$(mkhome_token ivan '"groups":["Platform Engineering"]')")
tap_is "groups follow the claim on the next sign-in" "$(groups_of ivan)" "ivan plateng "

tap_done
