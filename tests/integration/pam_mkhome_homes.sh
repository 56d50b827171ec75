#!/usr/bin/env bash
# Whose home a session gets, through the whole chain (pamtester, tokens from
# the real HTTPS test issuer, nss_pwb): an existing home is used only if it
# is a real directory of the user's uid (a renamed user's home is not handed
# to the next holder of the name); no parent may be writable by others, a
# sticky one included; and a home outside the roots in pwb.conf is never
# created, whatever the store says. Each refusal: the session fails, one
# syslog line names the user, the path and why, nothing is chowned.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_MKHOME_TOOL"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
case $PWB_HOME_ROOT in "$PWB_TMP"/*) tap_bail "no root-only mount point for the homes" ;; esac
mkhome_syslog_start
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
SKEL=$PWB_TMP/skel
mkhome_make_skel "$SKEL"
mkhome_oidc_service pwb-login "skel=$SKEL umask=0077"
ok="session has successfully been closed"
refused="Cannot make/remove an entry for the specified session"
uid_of() { getent passwd "$1" | cut -d: -f3; }

# --- rename alice to alicia, then a new alice: she does not get the home
out=$(mkhome_login pwb-login alice "$(mkhome_token_as alice@corp.example sub-alice)")
tap_like "alice signs in; her home is made" "$out" "$ok"
H=$PWB_HOME_ROOT/alice
old_uid=$(uid_of alice)
echo 'echo planted by alice' >"$H/.profile"
chown "$old_uid:$old_uid" "$H/.profile"
mkhome_tool rename alice alicia || tap_bail "rename alice alicia"
tap_is "alicia keeps the home path" "$(getent passwd alicia | cut -d: -f3,6)" "$old_uid:$H"
# The store refuses first: a path once held is never another user's home.
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token_as alice@corp.example sub-new-alice)")
log=$(mkhome_syslog_since)
tap_like "the new alice's first sign-in is refused at acct_mgmt" "$out" "acct_mgmt"
tap_check "... and no alice was registered" test -z "$(uid_of alice)"
tap_like "syslog: registration refused naming the home and its holder" "$log" \
	"alice.*$H.*alicia"
# Past the store (a store written by hand, as its owner could): the session
# step still refuses a home that another uid owns.
"$PWB_BIN_PWBADM" add-user alice --home "$PWB_HOME_ROOT/alice-new" >/dev/null ||
	tap_bail "pwbadm add-user alice"
mkhome_tool set-home alice "$H" || tap_bail "set-home alice"
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token_as alice@corp.example sub-new-alice)")
log=$(mkhome_syslog_since)
new_uid=$(uid_of alice)
tap_check "the new alice is another account (uid $new_uid, not $old_uid)" \
	test -n "$new_uid" -a "$new_uid" != "$old_uid"
tap_like "the new alice's session is refused" "$out" "$refused"
tap_like "syslog: one line naming the user, the path and the owner" "$log" \
	"pam_pwb_mkhome\(pwb-login:session\): cannot open session for alice: refusing home $H: it is owned by uid $old_uid, not by the user's uid $new_uid"
tap_is "exactly one line" "$(printf '%s\n' "$log" | grep -c 'cannot open session')" 1
tap_is "the home still belongs to alicia" "$(mkhome_stat "$H")" "700 $old_uid:$old_uid directory"
tap_is "... and so does her .profile" "$(mkhome_stat "$H/.profile")" "600 $old_uid:$old_uid regular file"
out=$(mkhome_login pwb-login alicia "$(mkhome_token_as alicia sub-alice)")
tap_like "alicia (the same person, sub-alice) still opens her session there" "$out" "$ok"

# ... and through su: were the home readable (umask 022), the new alice's
# login shell would run what alicia planted in .profile
chmod 0755 "$H"
chmod 0644 "$H/.profile"
for svc in su su-l; do
	printf 'auth sufficient pam_rootok.so\naccount required %s\nsession required %s skel=%s umask=0022\n' \
		"$PWB_PAM_MKHOME" "$PWB_PAM_MKHOME" "$SKEL" >"/etc/pam.d/$svc"
done
mkhome_syslog_mark
out=$(su -l alice -c 'echo shell-ran' 2>&1 </dev/null)
log=$(mkhome_syslog_since)
tap_like "su -l alice fails to open the session" "$out" "cannot open session"
tap_unlike() { if printf '%s' "$2" | grep -Eq -- "$3"; then tap_fail "$1"; tap_diag "$2"; else tap_ok "$1"; fi; }
tap_unlike "... so alicia's .profile never runs as alice" "$out" "planted by alice|shell-ran"
tap_like "syslog (su-l): the same one line" "$log" \
	"pam_pwb_mkhome\(su-l:session\): cannot open session for alice: refusing home $H: it is owned by uid $old_uid"
tap_is "the home still belongs to alicia" "$(mkhome_stat "$H")" "755 $old_uid:$old_uid directory"
tap_like "su -l alicia still works (her own home)" "$(su -l alicia -c 'echo shell-ran' 2>&1 </dev/null)" \
	"planted by alice"

# --- a sticky, world-writable parent (like /tmp): a planted symlink is not
# followed, nothing is chowned
mkdir -m 1777 "$PWB_HOME_ROOT/shared"
mkdir -m 0755 "$PWB_TMP/target"
mkhome_conf_put user-homedir-path "$PWB_HOME_ROOT/shared"
ln -s "$PWB_TMP/target" "$PWB_HOME_ROOT/shared/sam"
chown -h nobody "$PWB_HOME_ROOT/shared/sam" 2>/dev/null || true # planted by someone else
mkhome_syslog_mark
out=$(mkhome_login pwb-login sam "$(mkhome_token sam)")
log=$(mkhome_syslog_since)
tap_like "sam's session is refused" "$out" "$refused"
tap_like "syslog names the user, the path and the sticky parent" "$log" \
	"cannot open session for sam: cannot use home $PWB_HOME_ROOT/shared/sam: parent $PWB_HOME_ROOT/shared is writable by group or others \(a sticky bit does not make it safe\)"
tap_is "the symlink's target is not chowned" "$(mkhome_stat "$PWB_TMP/target")" "755 0:0 directory"
tap_is "nothing written into it" "$(ls -A "$PWB_TMP/target")" ""
tap_is "the symlink is left as it was" "$(readlink "$PWB_HOME_ROOT/shared/sam")" "$PWB_TMP/target"
mkhome_syslog_mark
out=$(mkhome_login pwb-login sue "$(mkhome_token sue)")
tap_like "no home is made in a sticky parent even when the name is free" "$out" "$refused"
tap_check_fails "... nothing at $PWB_HOME_ROOT/shared/sue" test -e "$PWB_HOME_ROOT/shared/sue"
mkhome_conf_put user-homedir-path "$PWB_HOME_ROOT"

# --- a home outside the roots in the store (what SCIM could write before
# the store's policy): the session re-checks pwb.conf and creates nothing.
# /root is a private copy here, so nothing on the host is at risk.
mkdir -m 0700 "$PWB_TMP/fakeroot"
mount --bind "$PWB_TMP/fakeroot" /root || tap_bail "cannot hide /root"
out=$(mkhome_login pwb-login eve "$(mkhome_token eve)")
tap_like "eve signs in with a home under the root" "$out" "$ok"
eve_uid=$(uid_of eve)
for evil in /etc/pwb/ssh.service.d /root/.ssh "$PWB_TMP/elsewhere/eve"; do
	mkhome_tool set-home eve "$evil" || tap_bail "set-home $evil"
	mkhome_syslog_mark
	out=$(mkhome_login pwb-login eve "$(mkhome_token eve)")
	log=$(mkhome_syslog_since)
	tap_like "home $evil: session refused" "$out" "$refused"
	tap_like "home $evil: syslog says it is outside the roots" "$log" \
		"cannot open session for eve: home not created: homeDirectory '$evil' is not below user-homedir-path \($PWB_HOME_ROOT\) or user-homedir-allowed-roots"
	tap_check_fails "home $evil: not created" test -e "$evil"
done
tap_check_fails "no parent made either" test -e "$PWB_TMP/elsewhere"
mkhome_tool set-home eve /root || tap_bail "set-home /root"
mkhome_syslog_mark
out=$(mkhome_login pwb-login eve "$(mkhome_token eve)")
tap_like "home /root (exists, root's): session refused" "$out" "$refused"
tap_like "syslog: not eve's" "$(mkhome_syslog_since)" \
	"cannot open session for eve: home not created: homeDirectory '/root' is not below .*; refusing home /root: it is owned by uid 0, not by the user's uid $eve_uid"
tap_is "/root not chowned" "$(mkhome_stat /root)" "700 0:0 directory"
# an allowed root is honoured
mkhome_conf_put user-homedir-allowed-roots "$PWB_HOME_ROOT/projects"
mkhome_tool set-home eve "$PWB_HOME_ROOT/projects/eve" || tap_bail "set-home projects"
out=$(mkhome_login pwb-login eve "$(mkhome_token eve)")
tap_like "a home under user-homedir-allowed-roots is made" "$out" "$ok"
tap_is "... owned by eve" "$(mkhome_stat "$PWB_HOME_ROOT/projects/eve")" "700 $eve_uid:$eve_uid directory"
tap_done
