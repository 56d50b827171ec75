# Helpers for pam_pwb_mkhome's integration tests and bench/login (sourced
# after ns.sh, inside the namespace).

PWB_MKHOME_TOOL=$PWB_TEST_BUILDDIR/tests/tools/mkhome_store_tool

# mkhome_tool ARGS...: the store test tool (real store API, $PWB_CONFIG).
mkhome_tool() { "$PWB_MKHOME_TOOL" "$@"; }

# mkhome_field USER KEY: one field of `mkhome_tool show USER`.
mkhome_field() { mkhome_tool show "$1" | sed -n "s/^$2=//p"; }

# mkhome_service NAME SESSION_ARGS [AUTH_LINE]: a PAM service using the
# module under test for account and session.
mkhome_service() {
	{
		[ -n "${3:-}" ] && echo "$3"
		echo "account required $PWB_PAM_MKHOME"
		echo "session required $PWB_PAM_MKHOME $2"
	} >"/etc/pam.d/$1"
}

# mkhome_make_skel DIR [N]: a skeleton with a dotfile, a subdirectory with
# a file, a symlink, and N-3 more plain files (default N=3).
mkhome_make_skel() {
	local dir=$1 n=${2:-3} i
	mkdir -p "$dir/sub"
	echo 'export PWB_SKEL=1' >"$dir/.profile"
	chmod 0644 "$dir/.profile"
	echo notes >"$dir/sub/notes.txt"
	chmod 0644 "$dir/sub/notes.txt"
	ln -s sub/notes.txt "$dir/notes-link"
	for ((i = 4; i <= n; i++)); do echo "file $i" >"$dir/file$i"; done
}

# mkhome_add_local_user NAME UID HOME: a local account in the private
# /etc/passwd (and its group), as useradd would make it.
mkhome_add_local_user() {
	echo "$1:x:$2:$2::$3:/bin/sh" >>/etc/passwd
	echo "$1:x:$2:" >>/etc/group
	echo "$1:*:20000:0:99999:7:::" >>/etc/shadow
}

# mkhome_syslog_start: captures syslog(3) lines (tests/lib/syslog.sh);
# mkhome_syslog_mark remembers where the log is now, mkhome_syslog_since
# prints what was logged after the mark.
mkhome_syslog_start() {
	. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"
	pwb_syslog_capture || tap_bail "cannot capture syslog"
}
mkhome_syslog_mark() { MKHOME_SYSLOG_MARK=$(pwb_syslog_count); }
mkhome_syslog_since() { sleep 0.1; pwb_syslog_since "${MKHOME_SYSLOG_MARK:-0}"; }

# mkhome_stat PATH: "mode uid:gid type" without following a symlink.
mkhome_stat() { stat -c '%a %u:%g %F' -- "$1"; }

# mkhome_conf_put KEY VALUE: sets KEY in the test's pwb.conf, replacing an
# earlier value (a repeated key is a config error).
mkhome_conf_put() {
	sed -i "/^$1=/d" "$PWB_CONF"
	echo "$1=$2" >>"$PWB_CONF"
}

# mkhome_oidc_service NAME SESSION_ARGS: the stack an administrator uses:
# pam_pwb_oidc for auth, this module for account and session.
mkhome_oidc_service() { mkhome_service "$1" "$2" "auth required $PWB_PAM_OIDC"; }

# mkhome_login SERVICE USER TOKEN: the whole chain through pamtester, the
# token on stdin as the password (what an administrator runs to verify).
mkhome_login() {
	printf '%s\n' "$3" | pamtester -v "$1" "$2" authenticate acct_mgmt setcred open_session \
		close_session 2>&1
}

# mkhome_token USER [JSON-MEMBERS]: a valid ID token for USER from the
# test issuer (tests/lib/issuer.sh).
mkhome_token() { pwb_sign_token --claims "$(pwb_token_claims "$@")"; }

# mkhome_token_as USERNAME SUB [JSON-MEMBERS]: a valid ID token from the
# test issuer whose preferred_username is USERNAME (alice@corp.example, say)
# and whose subject is SUB: another person with the same name is another SUB.
mkhome_token_as() {
	local now
	now=$(date +%s)
	pwb_sign_token --claims "$(printf '{"iss":"%s","aud":"%s","sub":"%s","iat":%s,"exp":%s,"preferred_username":"%s"%s}' \
		"$PWB_ISSUER_URL" "$PWB_ISSUER_CLIENT_ID" "$2" "$now" "$((now + 300))" "$1" "${3:+,$3}")"
}
