#!/usr/bin/env bash
# pam_pwb_mkhome session: home creation through pamtester for local
# accounts (the same code path as pwb users, without needing nss_pwb):
# ownership and modes from skel and umask, an existing home of the user's
# left alone, and symlinks planted at the home, its parent or inside skel
# never followed.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

[ -f "$PWB_PAM_MKHOME" ] || tap_bail "module not built: $PWB_PAM_MKHOME"
mkhome_syslog_start
SKEL=$PWB_TMP/skel
mkhome_make_skel "$SKEL"
mkhome_service pwb-session "skel=$SKEL umask=0077"
mkhome_service pwb-session022 "skel=$SKEL umask=0022"

tap_is "the module exports only pam_sm_*" \
	"$(readelf --dyn-syms -W "$PWB_PAM_MKHOME" | awk '$7 != "UND" && $8 != "" {print $8}' |
		grep -v '^Name$' | sort | tr '\n' ' ')" \
	"pam_sm_acct_mgmt pam_sm_close_session pam_sm_open_session pam_sm_setcred "
# (stderr output exists in libpwb's log mirror, which PAM never turns on)
tap_is "the module calls no exit and writes nothing to stdout" \
	"$(nm -D --undefined-only "$PWB_PAM_MKHOME" | awk '{sub(/@.*/, "", $2); print $2}' |
		grep -xE '_?_?(exit|_exit|abort|printf|puts|putchar|perror)(_chk)?')" ""

# --- a new home from skel, parents created root-owned 0755
mkhome_add_local_user carol 30001 "$PWB_HOME_ROOT/deep/er/carol"
mkhome_syslog_mark
tap_check "open_session creates carol's home" pamtester pwb-session carol open_session close_session
H=$PWB_HOME_ROOT/deep/er/carol
tap_is "home is 0700 carol:carol" "$(mkhome_stat "$H")" "700 30001:30001 directory"
tap_is "new parent is root 0755" "$(mkhome_stat "$PWB_HOME_ROOT/deep")" "755 0:0 directory"
tap_is "new parent (2) is root 0755" "$(mkhome_stat "$PWB_HOME_ROOT/deep/er")" "755 0:0 directory"
tap_is "dotfile copied, mode masked (0644 & ~077)" "$(mkhome_stat "$H/.profile")" "600 30001:30001 regular file"
tap_is "dotfile content" "$(cat "$H/.profile")" "export PWB_SKEL=1"
tap_is "subdirectory copied" "$(mkhome_stat "$H/sub")" "700 30001:30001 directory"
tap_is "file in subdirectory copied" "$(mkhome_stat "$H/sub/notes.txt")" "600 30001:30001 regular file"
tap_is "symlink copied as a symlink, owned by carol" "$(mkhome_stat "$H/notes-link")" "777 30001:30001 symbolic link"
tap_is "symlink target kept" "$(readlink "$H/notes-link")" "sub/notes.txt"
tap_is "nothing else in the parent (no temporary left)" "$(ls -A "$PWB_HOME_ROOT/deep/er")" "carol"
tap_like "syslog names the new home" "$(mkhome_syslog_since)" "pam_pwb_mkhome.*created home $H for carol \(uid 30001\)"

# --- an existing home is left alone
echo mine >"$H/.profile"
chmod 0751 "$H"
tap_check "second open_session succeeds" pamtester pwb-session carol open_session close_session
tap_is "existing home keeps its mode" "$(mkhome_stat "$H")" "751 30001:30001 directory"
tap_is "existing files are not overwritten" "$(cat "$H/.profile")" "mine"

# --- umask=0022
mkhome_add_local_user dora 30002 "$PWB_HOME_ROOT/dora"
tap_check "open_session with umask=0022" pamtester pwb-session022 dora open_session
tap_is "home is 0755" "$(mkhome_stat "$PWB_HOME_ROOT/dora")" "755 30002:30002 directory"
tap_is "dotfile is 0644" "$(mkhome_stat "$PWB_HOME_ROOT/dora/.profile")" "644 30002:30002 regular file"

# --- a symlink planted at the home's parent: refused, nothing written outside
mkdir -m 0755 "$PWB_TMP/outside"
ln -s "$PWB_TMP/outside" "$PWB_HOME_ROOT/evil"
mkhome_add_local_user dave 30003 "$PWB_HOME_ROOT/evil/dave"
mkhome_syslog_mark
tap_check_fails "open_session refuses a symlinked parent" pamtester pwb-session dave open_session
tap_is "nothing created through the symlink" "$(ls -A "$PWB_TMP/outside")" ""
tap_like "syslog names the path and the error" "$(mkhome_syslog_since)" \
	"pam_pwb_mkhome.*cannot open session for dave: cannot create home $PWB_HOME_ROOT/evil/dave: $PWB_HOME_ROOT/evil is a symlink: Too many levels of symbolic links"

# --- symlinks inside skel pointing outside: copied as links, targets untouched
EVILSKEL=$PWB_TMP/evilskel
mkdir -p "$EVILSKEL"
echo 'root only' >"$PWB_TMP/outside/secret"
chmod 0600 "$PWB_TMP/outside/secret"
ln -s "$PWB_TMP/outside" "$EVILSKEL/dirlink"
ln -s "$PWB_TMP/outside/secret" "$EVILSKEL/filelink"
echo hi >"$EVILSKEL/.bashrc"
mkhome_service pwb-evilskel "skel=$EVILSKEL umask=0077"
mkhome_add_local_user erin 30004 "$PWB_HOME_ROOT/erin"
tap_check "open_session with symlinks in skel" pamtester pwb-evilskel erin open_session
tap_is "dir symlink copied as a symlink" "$(mkhome_stat "$PWB_HOME_ROOT/erin/dirlink")" "777 30004:30004 symbolic link"
tap_is "file symlink copied as a symlink" "$(mkhome_stat "$PWB_HOME_ROOT/erin/filelink")" "777 30004:30004 symbolic link"
tap_is "outside dir keeps owner and mode" "$(mkhome_stat "$PWB_TMP/outside")" "755 0:0 directory"
tap_is "outside file keeps owner and mode" "$(mkhome_stat "$PWB_TMP/outside/secret")" "600 0:0 regular file"
tap_is "nothing written into the outside dir" "$(ls -A "$PWB_TMP/outside")" "secret"

# --- a symlink planted at the home path itself is refused, not followed
mkhome_add_local_user fred 30005 "$PWB_HOME_ROOT/fred"
ln -s "$PWB_TMP/outside" "$PWB_HOME_ROOT/fred"
mkhome_syslog_mark
tap_check_fails "open_session refuses a symlink at the home path" pamtester pwb-session fred open_session
tap_like "syslog names the user, the path and why" "$(mkhome_syslog_since)" \
	"cannot open session for fred: refusing home $PWB_HOME_ROOT/fred: it is a symlink \(never followed\)"
tap_is "symlink target keeps owner" "$(mkhome_stat "$PWB_TMP/outside")" "755 0:0 directory"
tap_is "nothing copied through it" "$(ls -A "$PWB_TMP/outside")" "secret"

# --- no passwd entry: the session fails with a reason
mkhome_syslog_mark
tap_check_fails "open_session for a user without passwd entry fails" pamtester pwb-session nobodyhere open_session
tap_like "syslog says why" "$(mkhome_syslog_since)" "cannot open session for nobodyhere: no passwd entry"

# --- bad module arguments are a service error, not a silent default
mkhome_service pwb-badumask "umask=0999"
mkhome_syslog_mark
tap_check_fails "umask=0999 is refused" pamtester pwb-badumask carol open_session
tap_like "syslog names the argument" "$(mkhome_syslog_since)" "bad module argument umask=0999"
mkhome_service pwb-badskel "skel=relative/skel"
mkhome_syslog_mark
tap_check_fails "a relative skel= is refused" pamtester pwb-badskel carol open_session
tap_like "syslog names the argument" "$(mkhome_syslog_since)" "bad module argument skel=relative/skel \(want an absolute path\)"
tap_done
