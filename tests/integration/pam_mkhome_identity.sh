#!/usr/bin/env bash
# An account belongs to one IdP identity (issuer, subject), not to a name.
# Through the whole chain (pamtester, pam_pwb_oidc with tokens from the real
# HTTPS test issuer, pam_pwb_mkhome): a second identity whose name maps to
# the same account is refused with one syslog line naming both; a user
# created unbound by pwbadm is bound at first sign-in; users from before
# identities were stored are bound only when pwb.conf allows it; one
# identity never holds two accounts.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_MKHOME_TOOL" \
	"$PWB_BIN_PWBADM"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
mkhome_syslog_start
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
mkhome_oidc_service pwb-login "skel=/nonexistent umask=0077"
ISS=$PWB_ISSUER_URL
ok="session has successfully been closed"
denied="pamtester: Permission denied"
# tap_unlike DESC TEXT REGEX: passes when TEXT does not match.
tap_unlike() { if printf '%s' "$2" | grep -Eq -- "$3"; then tap_fail "$1"; tap_diag "$2"; else tap_ok "$1"; fi; }

# --- alice@corp.example (sub A) registers alice
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token_as alice@corp.example sub-A)")
tap_like "alice@corp.example (sub A) registers alice" "$out" "$ok"
uid=$(mkhome_field alice uid)
tap_is "store: bound to the issuer" "$(mkhome_field alice issuer)" "$ISS"
tap_is "store: bound to subject A" "$(mkhome_field alice subject)" "sub-A"
tap_like "syslog: registration names the identity" "$(mkhome_syslog_since)" \
	"registered alice on first sign-in \(uid $uid, 0 groups\), bound to issuer '$ISS' subject 'sub-A'"

# --- the attack: alice@other.example (sub B) maps to alice too
last=$(mkhome_field alice last_login)
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token_as alice@other.example sub-B)")
log=$(mkhome_syslog_since)
tap_like "alice@other.example (sub B) is refused at acct_mgmt" "$out" "$denied"
tap_like "... after authenticating (the token itself is valid)" "$out" "successfully authenticated"
tap_unlike "... and gets no session" "$out" "successfully opened a session"
tap_like "syslog: one line naming the stored and the presented identity" "$log" \
	"pam_pwb_mkhome\(pwb-login:account\): refusing alice \(uid $uid\): the account is bound to issuer '$ISS' subject 'sub-A', but the ID token is from issuer '$ISS' subject 'sub-B'"
tap_is "exactly one line about it" "$(printf '%s\n' "$log" | grep -c 'refusing alice')" 1
tap_is "store unchanged: still subject A" "$(mkhome_field alice subject)" "sub-A"
tap_is "store unchanged: no sign-in recorded" "$(mkhome_field alice last_login)" "$last"
out=$(mkhome_login pwb-login alice "$(mkhome_token_as alice@corp.example sub-A)")
tap_like "the real alice (sub A) still signs in" "$out" "$ok"

# --- hostile subject text never reaches the log raw
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token_as alice 'B\u001b[31m\nx')")
log=$(mkhome_syslog_since)
tap_unlike "a subject with control characters gets no session" "$out" "successfully opened a session"
tap_unlike "... and its control characters are not logged raw" "$log" $'\x1b'
tap_like "... (the refusal is logged)" "$log" "refusing alice|subject"

# --- one identity, one account: sub A cannot register a second name
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice2 "$(mkhome_token_as alice2 sub-A)")
tap_like "sub A cannot register alice2 as well" "$out" "$denied"
tap_like "syslog names the account that holds it" "$(mkhome_syslog_since)" \
	"refusing to register alice2: issuer '$ISS' subject 'sub-A' is already bound to the account alice"
tap_is "alice2 not in the store" "$(mkhome_tool show alice2 >/dev/null 2>&1; echo $?)" 2

# --- created unbound (pwbadm add-user, as SCIM does): bound at first sign-in
"$PWB_BIN_PWBADM" add-user bob >/dev/null || tap_bail "pwbadm add-user bob"
tap_is "bob starts unbound, to be bound at sign-in" \
	"$(mkhome_field bob subject):$(mkhome_field bob bind_on_login)" ":1"
mkhome_syslog_mark
out=$(mkhome_login pwb-login bob "$(mkhome_token_as bob@corp.example sub-bob)")
tap_like "bob's first sign-in succeeds" "$out" "$ok"
tap_like "syslog: bound at sign-in" "$(mkhome_syslog_since)" \
	"bound bob \(uid [0-9]+\) to issuer '$ISS' subject 'sub-bob' at sign-in"
tap_is "store: bob bound to sub-bob" "$(mkhome_field bob subject):$(mkhome_field bob bind_on_login)" "sub-bob:0"
mkhome_syslog_mark
out=$(mkhome_login pwb-login bob "$(mkhome_token_as bob@other.example sub-mallory)")
tap_like "then another subject for bob is refused" "$out" "$denied"
tap_like "syslog names both" "$(mkhome_syslog_since)" \
	"refusing bob \(uid [0-9]+\): the account is bound to issuer '$ISS' subject 'sub-bob', but the ID token is from issuer '$ISS' subject 'sub-mallory'"

# --- a user from before this version: unbound, not marked for binding
"$PWB_BIN_PWBADM" add-user lena >/dev/null || tap_bail "pwbadm add-user lena"
mkhome_tool make-legacy lena || tap_bail "make-legacy lena"
tap_is "lena is a legacy unbound user" "$(mkhome_field lena subject):$(mkhome_field lena bind_on_login)" ":0"
mkhome_syslog_mark
out=$(mkhome_login pwb-login lena "$(mkhome_token_as lena sub-lena)")
tap_like "legacy lena is refused while binding existing users is off" "$out" "$denied"
tap_like "syslog tells the administrator what to do" "$(mkhome_syslog_since)" \
	"refusing lena \(uid [0-9]+\): the account is not bound to an IdP identity yet \(the ID token is from issuer '$ISS' subject 'sub-lena'\); to bind it at this sign-in run \`pwbadm rebind-user lena\`, or set auth-openid-bind-existing-users=1"
tap_is "lena still unbound" "$(mkhome_field lena subject)" ""
mkhome_conf_put auth-openid-bind-existing-users 1
out=$(mkhome_login pwb-login lena "$(mkhome_token_as lena sub-lena)")
tap_like "with auth-openid-bind-existing-users=1 lena signs in" "$out" "$ok"
tap_is "... and is bound" "$(mkhome_field lena subject)" "sub-lena"
out=$(mkhome_login pwb-login lena "$(mkhome_token_as lena sub-other)")
tap_like "after which another subject is refused even so" "$out" "$denied"
mkhome_conf_put auth-openid-bind-existing-users 0
tap_done
