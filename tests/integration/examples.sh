#!/usr/bin/env bash
# Every file in examples/ is used here (or, for the nginx and Apache sites
# and the web front end's PAM stack, by the SCIM tests, scripts/demo and the
# package test), with only paths substituted, so the examples cannot rot;
# and every man page renders without a groff warning.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"
set -u
adm_require_pwbadm
ex=$PWB_TEST_SRCDIR/examples

# ---- man pages ----
for page in $(cd "$PWB_TEST_SRCDIR" && find . -name '*.[58]' -not -path './debian/*' \
	-not -path './_*' -not -path './pwb-[0-9]*' | sed 's|^\./||' | sort); do
	# (groff and man load none of our code: never under the sanitizer pass's
	# preloaded ASan runtime, which troff's own allocator trips over)
	warnings=$(LC_ALL=C.UTF-8 env -u LD_PRELOAD groff -ww -z -man -Tutf8 "$PWB_TEST_SRCDIR/$page" 2>&1)
	tap_is "man page $page renders without warnings (groff -ww)" "$warnings" ""
	tap_like "man -l $page shows its NAME section" \
		"$(MANWIDTH=80 env -u LD_PRELOAD man -l "$PWB_TEST_SRCDIR/$page" 2>/dev/null |
			env -u LD_PRELOAD col -b | head -8)" 'NAME'
done

# ---- nsswitch.conf examples: glibc resolves pwb users through them ----
pwbadm add-user nora --groups team >/dev/null || tap_bail "add-user"
for conf in nsswitch.conf nsswitch-sssd.conf; do
	cp "$ex/$conf" /etc/nsswitch.conf # the bind-mounted private copy
	tap_like "$conf: getent passwd nora" "$(getent passwd nora)" '^nora:x:[0-9]+:'
	tap_like "$conf: id nora shows the pwb group" "$(id -nG nora)" '(^| )team( |$)'
	tap_like "$conf: pwbadm check accepts the passwd line" \
		"$(pwbadm check 2>&1 | grep 'nsswitch: passwd')" '^ok '
done
# (written in place: /etc/nsswitch.conf is a bind mount, sed -i cannot rename over it)
sed 's/^passwd:.*/passwd: files sss pwb/' "$ex/nsswitch.conf" >/etc/nsswitch.conf
tap_like "pwb after sss is flagged by check (why the sssd example puts it first)" \
	"$(pwbadm check 2>&1 | grep 'nsswitch: passwd')" '^WARN'
cp "$ex/nsswitch.conf" /etc/nsswitch.conf

# ---- sshd PAM snippets: account refuses locked users, session makes homes ----
for snippet in sshd-debian.snippet sshd-rhel.snippet; do
	{
		echo "auth required pam_permit.so"
		grep -v '^#' "$ex/pam.d/$snippet" | grep . |
			sed -e "s|pam_pwb_mkhome.so|$PWB_PAM_MKHOME|" -e "s|skel=/etc/skel|skel=$PWB_TMP/skel|"
	} >/etc/pam.d/sshd-test
	mkdir -p "$PWB_TMP/skel"
	echo "hello" >"$PWB_TMP/skel/.hello"
	user=snip${snippet%%.*}
	user=${user//-/}
	pwbadm add-user "$user" >/dev/null
	out=$(pamtester sshd-test "$user" authenticate acct_mgmt open_session close_session 2>&1)
	tap_like "$snippet: an active user passes account and session" "$out" \
		'session has successfully been closed'
	tap_is "$snippet: the session created the home from skel" \
		"$(stat -c %U "$PWB_HOME_ROOT/$user/.hello" 2>&1)" "$user"
	pwbadm lock-user "$user" >/dev/null
	tap_check_fails "$snippet: a locked user is refused at account" \
		pamtester sshd-test "$user" acct_mgmt
done

# ---- pwb-login's PAM service: the token must carry the flow's nonce ----
# (pwb-login puts it in the PAM environment; pamtester cannot, so a valid
# token is refused here: what a token captured elsewhere and replayed
# through this service meets. pwb-login's own tests sign in through it.)
pwb_syslog_capture || tap_bail "syslog capture"
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
sed -e "s|pam_pwb_oidc.so|$PWB_PAM_OIDC|" -e "s|pam_pwb_mkhome.so|$PWB_PAM_MKHOME|" \
	-e "s|client-id=CLIENT_ID|client-id=$PWB_ISSUER_CLIENT_ID|" "$ex/pam.d/pwb-login" >/etc/pam.d/pwb-test
tap_is "the pwb-login stack holds only the pwb modules" \
	"$(grep -v '^#' "$ex/pam.d/pwb-login" | grep . | awk '{print $1, $3}' | tr '\n' ' ')" \
	"auth pam_pwb_oidc.so account pam_pwb_mkhome.so session pam_pwb_mkhome.so "
pwbadm add-user nina >/dev/null || tap_bail "add-user nina"
pwb_oidc_refused "pwb-login stack, a valid token without the flow's nonce" nina \
	"$(pwb_sign_token --claims "$(pwb_token_claims nina)")" 'nonce'
pwb_oidc_refused "pwb-login stack, a token with a nonce pwb-login did not give PAM" nina \
	"$(pwb_sign_token --claims "$(pwb_token_claims nina '"nonce":"n-0123456789abcdef"')")" 'nonce'

# ---- openid-client-secret: the template, filled in as its comment says ----
enc=$(printf 'the-secret\n' | pwbadm encrypt-password) || tap_bail "encrypt-password"
sed "s|^client-secret=.*|client-secret=$enc|" "$ex/openid-client-secret" \
	>/etc/pwb/openid-client-secret
chmod 0600 /etc/pwb/openid-client-secret
tap_like "the filled-in client-secret template decrypts (pwbadm check)" \
	"$(pwbadm check 2>&1 | grep 'client secret')" '^ok .*decrypt'

# ---- nscd snippet: check stops complaining once it is applied ----
cat "$ex/nscd.conf.snippet" >"$PWB_TMP/nscd.conf"
tap_is "every active nscd line is 'enable-cache passwd|group no'" \
	"$(grep -v '^#' "$ex/nscd.conf.snippet" | grep . | grep -cvE '^enable-cache[[:space:]]+(passwd|group)[[:space:]]+no$')" 0
tap_is "the snippet turns off both caches pwb answers" \
	"$(grep -cE '^enable-cache[[:space:]]+(passwd|group)[[:space:]]+no$' "$ex/nscd.conf.snippet")" 2

# ---- systemd units: systemd-analyze verify, with the binary's path only ----
units=$PWB_TMP/units
mkdir -p "$units"
cp "$ex/systemd/pwb-scim.socket" "$units/"
sed "s|/usr/sbin/pwb-scim|$PWB_BIN_SCIM|" "$ex/systemd/pwb-scim.service" >"$units/pwb-scim.service"
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$units" && systemd-analyze verify ./pwb-scim.socket ./pwb-scim.service 2>&1)
	tap_is "systemd-analyze verify: the socket and service units are clean" "$out" ""
else
	tap_fail "systemd-analyze is missing (package systemd)"
fi
tap_like "the service runs as its own user, the scim-user" "$(grep '^User=' "$units/pwb-scim.service")" '^User=pwb-scim$'
tap_is "... and may write nowhere (ProtectSystem=strict, no ReadWritePaths)" \
	"$(grep -c '^ReadWritePaths=' "$units/pwb-scim.service"; grep '^ProtectSystem=' "$units/pwb-scim.service")" "0
ProtectSystem=strict"

# pwbd: socket-activated, root but confined (writes only db-dir and homes)
cp "$ex/systemd/pwbd.socket" "$units/"
sed "s|/usr/sbin/pwbd|$PWB_BIN_PWBD|" "$ex/systemd/pwbd.service" >"$units/pwbd.service"
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$units" && systemd-analyze verify ./pwbd.socket ./pwbd.service 2>&1)
	tap_is "systemd-analyze verify: pwbd's socket and service units are clean" "$out" ""
else
	tap_fail "systemd-analyze is missing (package systemd)"
fi
tap_like "pwbd's socket is /run/pwb/pwbd.sock, mode 0666" \
	"$(grep -E '^(ListenStream|SocketMode)=' "$units/pwbd.socket" | tr '\n' ' ')" \
	'^ListenStream=/run/pwb/pwbd.sock SocketMode=0666 $'
tap_like "pwbd may write only the store and the home roots" \
	"$(grep '^ReadWritePaths=' "$units/pwbd.service")" '^ReadWritePaths=/var/lib/pwb /home$'
tap_like "pwbd keeps only the capabilities homes need" \
	"$(grep '^CapabilityBoundingSet=' "$units/pwbd.service")" \
	'^CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID$'
tap_like "pwbd's unit starts it the way pwbd.8 says" "$(grep '^ExecStart=' "$units/pwbd.service")" \
	"^ExecStart=$PWB_BIN_PWBD\$"

# pwb-login: socket-activated, its own user, no capabilities, writes only its
# 0700 state dir, gets the secret and the key as systemd credentials
cp "$ex/systemd/pwb-login.socket" "$units/"
sed "s|/usr/sbin/pwb-login|$PWB_TEST_BUILDDIR/pwb-login/pwb-login|" "$ex/systemd/pwb-login.service" \
	>"$units/pwb-login.service"
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$units" && systemd-analyze verify ./pwb-login.socket ./pwb-login.service 2>&1)
	tap_is "systemd-analyze verify: pwb-login's socket and service units are clean" "$out" ""
	# (the offline security scan reads only the unit; 0 is best, 10 worst)
	score=$(cd "$units" && systemd-analyze security --offline=yes ./pwb-login.service 2>&1 |
		sed -n 's/.*Overall exposure level for pwb-login.service: \([0-9.]*\).*/\1/p')
	tap_like "systemd-analyze security rates pwb-login's confinement below 2.0 ($score)" \
		"$score" '^[01]\.[0-9]$'
else
	tap_fail "systemd-analyze is missing (package systemd)"
fi
login_unit() { grep -E "^$1=" "$units/pwb-login.service" | tr '\n' ' '; }
tap_is "pwb-login runs as the login-user (pwb.conf's login-user default)" "$(login_unit 'User|Group')" \
	"User=pwb-login Group=pwb-login "
tap_is "... with no capabilities and no way to gain any" \
	"$(login_unit 'CapabilityBoundingSet|AmbientCapabilities|NoNewPrivileges')" \
	"NoNewPrivileges=yes CapabilityBoundingSet= AmbientCapabilities= "
tap_is "... writes only its state dir, 0700 (auth-openid-session-dir's default)" \
	"$(login_unit 'ProtectSystem|ReadWritePaths|StateDirectory|StateDirectoryMode')" \
	"StateDirectory=pwb-login StateDirectoryMode=0700 ProtectSystem=strict "
tap_like "pwb.conf(5) gives that dir as auth-openid-session-dir's default" \
	"$(LC_ALL=C MANWIDTH=200 env -u LD_PRELOAD man -l "$PWB_TEST_SRCDIR/lib/pwb.conf.5" 2>/dev/null |
		env -u LD_PRELOAD col -b | grep -E '^ *auth-openid-session-dir ')" \
	'^ *auth-openid-session-dir \(default /var/lib/pwb-login\)$'
tap_is "... gets the client secret and the key as credentials (the names pwb-login reads)" \
	"$(login_unit LoadCredential)" \
	"LoadCredential=openid-client-secret:/etc/pwb/openid-client-secret LoadCredential=secure-key:/etc/pwb/secure-key "
tap_is "... reaches only unix sockets and the IdP" "$(login_unit RestrictAddressFamilies)" \
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 "
tap_is "the socket is a unix socket only the web server's group may connect to" \
	"$(grep -E '^(ListenStream|SocketGroup|SocketMode)=' "$units/pwb-login.socket" | tr '\n' ' ')" \
	"ListenStream=/run/pwb-login.sock SocketGroup=www-data SocketMode=0660 "
tap_like "the commented TCP alternative for Apache binds loopback only" \
	"$(grep -E '^#ListenStream=' "$units/pwb-login.socket")" '^#ListenStream=127\.0\.0\.1:[0-9]+$'

# The web server examples reach pwb-login where its socket unit listens.
login_sock=$(sed -n 's/^ListenStream=//p' "$units/pwb-login.socket")
tap_is "examples/nginx/pwb-login.conf passes to the socket unit's path ($login_sock)" \
	"$(grep -v '^[[:space:]]*#' "$ex/nginx/pwb-login.conf" |
		grep -oE '(server|fastcgi_pass)[[:space:]]+unix:[^;[:space:]]+' | sed 's/.*unix://' | sort -u)" \
	"$login_sock"
login_tcp=$(sed -n 's/^#ListenStream=//p' "$units/pwb-login.socket")
tap_like "examples/apache/pwb-login.conf uses the socket unit's loopback address ($login_tcp)" \
	"$(grep -v '^[[:space:]]*#' "$ex/apache/pwb-login.conf")" "fcgi://${login_tcp//./\\.}([/ ]|\$)"

# ... and so does pwb-login(8)'s way of running it without systemd.
running=$(LC_ALL=C MANWIDTH=200 env -u LD_PRELOAD man -l "$PWB_TEST_SRCDIR/pwb-login/pwb-login.8" \
	2>/dev/null | env -u LD_PRELOAD col -b | grep -E 'spawn-fcgi +-[sa] ')
tap_is "pwb-login(8) runs it on the socket unit's path" \
	"$(printf '%s\n' "$running" | grep -oE -- '-s [^ ]+' | cut -d' ' -f2)" "$login_sock"
tap_is "pwb-login(8) runs it on the socket unit's loopback address" \
	"$(printf '%s\n' "$running" | grep -oE -- '-a [^ ]+ -p [0-9]+' | awk '{print $2 ":" $4}')" "$login_tcp"

# ---- walkthroughs: the configuration and commands they show are real ----
for doc in okta.md entra.md ssh-device.md; do
	conf=$(awk '/^ *```ini/{f=1; next} /^ *```/{f=0} f' "$ex/$doc" | sed 's/^ *//')
	# The test's own store and pwbd, never the host's /var/lib/pwb or /run/pwb.
	printf 'db-dir=%s\npwbd-socket=%s\n%s\n' "$PWB_DB_DIR" "$PWB_PWBD_SOCKET" "$conf" >"$PWB_TMP/doc.conf"
	tap_like "$doc: its pwb.conf lines parse" \
		"$(PWB_CONFIG=$PWB_TMP/doc.conf pwbadm list-users 2>&1 | head -1)" '^(NAME|name|USER)'
	for cmd in $(grep -oE 'pwbadm [a-z-]+' "$ex/$doc" | awk '{print $2}' | sort -u); do
		tap_check "$doc: 'pwbadm $cmd' exists" pwbadm "$cmd" --help
	done
done
tap_done
