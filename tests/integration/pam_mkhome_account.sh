#!/usr/bin/env bash
# pam_pwb_mkhome account without a token: known, locked and unknown users,
# local accounts never registered, invalid names refused, the sign-in time
# recorded. Users are created and locked through the real store API.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

[ -f "$PWB_PAM_MKHOME" ] || tap_bail "module not built: $PWB_PAM_MKHOME"
[ -x "$PWB_MKHOME_TOOL" ] || tap_bail "test tool not built: $PWB_MKHOME_TOOL"
mkhome_syslog_start
pwb_conf_set user-provisioning-register-on-first-login=1
mkhome_service pwb-account "skel=/nonexistent"

# pamtester's message for a PAM code, e.g. "User account has expired".
acct() { pamtester pwb-account "$1" acct_mgmt 2>&1; }

# --- a known, active user
bob_uid=$(mkhome_tool add bob manual) || tap_bail "cannot create bob in the store"
tap_like "bob got a uid in the configured range" "$bob_uid" '^2[0-9]{4}$'
tap_is "bob has never signed in" "$(mkhome_field bob last_login)" "0"
before=$(date +%s)
tap_check "acct_mgmt accepts active bob" pamtester pwb-account bob acct_mgmt
last=$(mkhome_field bob last_login)
tap_check "the sign-in time is recorded" test "$last" -ge "$before" -a "$last" -le "$(date +%s)"

# --- locked
mkhome_tool lock bob || tap_bail "cannot lock bob"
tap_is "bob is locked in the store" "$(mkhome_field bob active)" "0"
mkhome_syslog_mark
out=$(acct bob)
tap_like "acct_mgmt refuses locked bob as expired" "$out" "User account has expired"
tap_like "syslog says bob is locked" "$(mkhome_syslog_since)" \
	"pam_pwb_mkhome\(pwb-account:account\): refusing bob \(uid $bob_uid\): the account is locked"
mkhome_tool unlock bob
tap_check "unlocked bob is accepted again" pamtester pwb-account bob acct_mgmt

# --- unknown, no claims (someone else authenticated): never registered
count=$(mkhome_tool count)
mkhome_syslog_mark
out=$(acct zoe)
tap_like "acct_mgmt refuses unknown zoe" "$out" "User not known to the underlying authentication module"
tap_like "syslog says why" "$(mkhome_syslog_since)" "refusing unknown user zoe: not signed in through pam_pwb_oidc"
tap_is "zoe was not registered" "$(mkhome_tool show zoe >/dev/null 2>&1; echo $?)" "2"
tap_is "store user count unchanged" "$(mkhome_tool count)" "$count"

# --- a local account is never registered, and the decision is left to others
passwd_before=$(md5sum </etc/passwd)
out=$(acct daemon)
tap_check_fails "acct_mgmt does not accept local daemon on its own" pamtester pwb-account daemon acct_mgmt
tap_is "daemon is not in the store" "$(mkhome_tool show daemon >/dev/null 2>&1; echo $?)" "2"
tap_is "/etc/passwd untouched" "$(md5sum </etc/passwd)" "$passwd_before"
printf 'account required %s\naccount required pam_permit.so\n' "$PWB_PAM_MKHOME" >/etc/pam.d/pwb-stack
tap_check "in a stack, local daemon is decided by the other modules (PAM_IGNORE)" \
	pamtester pwb-stack daemon acct_mgmt
tap_is "still not in the store" "$(mkhome_tool count)" "$count"

# --- names that are not valid Linux names never reach the store
mkhome_syslog_mark
tap_check_fails "acct_mgmt refuses an invalid name" pamtester pwb-account 'Bad/Name' acct_mgmt
tap_like "syslog quotes it escaped" "$(mkhome_syslog_since)" 'refusing invalid user name "Bad/Name"'
tap_is "store user count unchanged" "$(mkhome_tool count)" "$count"

# --- broken configuration: refused with a line naming the file and line
cp "$PWB_CONF" "$PWB_TMP/good.conf"
echo 'no-such-key=1' >>"$PWB_CONF"
mkhome_syslog_mark
tap_check_fails "acct_mgmt fails on a bad config" pamtester pwb-account bob acct_mgmt
tap_like "syslog names file, line and key" "$(mkhome_syslog_since)" "$PWB_CONF: line [0-9]+: unknown key 'no-such-key'"
cp "$PWB_TMP/good.conf" "$PWB_CONF"
tap_done
