# A real sshd (Debian's openssh-server) for the device sign-in tests, and a
# real ssh client on a pty (expect) to drive it (sourced after ns.sh).
# Everything runs in a private network namespace (loopback only, nobody
# else's ports) and the test's mount namespace: sshd reads a private
# sshd_config and host key under $PWB_TMP/sshd, the namespace's
# /etc/pam.d/sshd, passwd and nsswitch.conf (files pwb), and its
# privilege-separation directory /run/sshd is private too. The host's sshd
# and /etc/ssh are never touched.
#
#   pwb_sshd_netns "$@"     before pwb_ns_enter: re-executes the test in a
#                           new network namespace with lo up (the IdP, sshd
#                           and ssh all run in it)
#   pwb_sshd_pam [ARGS]     /etc/pam.d/sshd: the shipped
#                           examples/pam.d/sshd-device with this build's
#                           modules (auth pam_pwb_oidc device ARGS, account
#                           and session pam_pwb_mkhome), and a pam.d/other
#                           that denies
#   pwb_sshd_start          sshd on 127.0.0.1:$PWB_SSHD_PORT (UsePAM yes,
#                           keyboard-interactive only); its log (-e) in
#                           $PWB_SSHD_LOG; stopped at cleanup
#   pwb_ssh_begin NAME USER [AGAIN]
#                           ssh USER@127.0.0.1 in the background under
#                           tests/lib/ssh-device.exp, control directory
#                           $PWB_TMP/ssh-NAME (AGAIN: what to do at "Not
#                           approved yet": enter (default), go, hangup)
#   pwb_ssh_code NAME       waits for the device prompt; prints the code
#   pwb_ssh_go NAME WHAT    enter | text:WORDS | hangup (see the .exp)
#   pwb_ssh_end NAME        waits for the driver; prints its result (shell,
#                           refused, hung up, timeout)
#   pwb_ssh_out NAME        what ssh printed
#   pwb_ssh_time NAME T     a time the driver recorded (t-enter, t-auth, t-shell)
# In the sanitizer pass sshd keeps the preloaded runtime (it loads the
# sanitized PAM and NSS modules, as pamtester does); ssh, expect and node
# run without it.

PWB_SSHD=/usr/sbin/sshd
PWB_SSH_EXP=$PWB_TEST_SRCDIR/tests/lib/ssh-device.exp

pwb_sshd_netns() {
	[ "${PWB_IN_NETNS:-}" = 1 ] && return 0
	[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP integration tests need root"; exit 0; }
	export PWB_IN_NETNS=1
	exec unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
}

pwb_sshd_pam() {
	local stack=$PWB_TEST_SRCDIR/examples/pam.d/sshd-device
	printf 'auth required pam_deny.so\naccount required pam_deny.so\nsession required pam_deny.so\npassword required pam_deny.so\n' \
		>/etc/pam.d/other
	# The shipped stack, with this build's modules.
	if [ -f "$stack" ]; then
		sed -e "/^[^#]/s|pam_pwb_oidc.so device|$PWB_PAM_OIDC device${1:+ $*}|" \
			-e "/^[^#]/s|pam_pwb_mkhome.so|$PWB_PAM_MKHOME|" "$stack" >/etc/pam.d/sshd
		grep -q "^auth .*$PWB_PAM_OIDC device" /etc/pam.d/sshd || return 1
		return 0
	fi
	cat >/etc/pam.d/sshd <<-PAM
	auth     required   $PWB_PAM_OIDC device${1:+ $*}
	account  required   $PWB_PAM_MKHOME
	session  required   $PWB_PAM_MKHOME
	PAM
}

pwb_sshd_start() {
	local d=$PWB_TMP/sshd i
	[ -x "$PWB_SSHD" ] || { echo "pwb_sshd_start: $PWB_SSHD is not installed" >&2; return 1; }
	command -v expect >/dev/null || { echo "pwb_sshd_start: expect is not installed" >&2; return 1; }
	mkdir -p "$d" && chmod 0755 "$d"
	# sshd's privilege separation: its user, and /run/sshd (compiled in)
	# made in a private /run when the host has none.
	grep -q '^sshd:' /etc/passwd || pwb_ns_add_system_user sshd 996 "sshd privilege separation"
	if [ -d /run/sshd ]; then
		mkdir -p "$d/privsep" && mount --bind "$d/privsep" /run/sshd || return 1
	else
		mount -t tmpfs -o mode=0755,size=1m pwb-run /run || return 1
		mkdir -p /run/sshd /run/lock
	fi
	chmod 0755 /run/sshd
	# ssh and sshd need ptys: when syslog.sh replaced /dev, a private devpts
	# instance (a bind-mounted /dev/ptmx would find no devpts beside it).
	if [ ! -e /dev/ptmx ]; then
		mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 pwb-pts /dev/pts &&
			ln -s pts/ptmx /dev/ptmx || return 1
	fi
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" || return 1
	[ -f /etc/pam.d/sshd ] || pwb_sshd_pam
	PWB_SSHD_PORT=$(pwb_free_port) || return 1
	PWB_SSHD_LOG=$d/sshd.log
	cat >"$d/sshd_config" <<-CONF
	ListenAddress 127.0.0.1:$PWB_SSHD_PORT
	HostKey $d/host_ed25519
	PidFile $d/sshd.pid
	UsePAM yes
	KbdInteractiveAuthentication yes
	PasswordAuthentication no
	PubkeyAuthentication no
	AuthenticationMethods keyboard-interactive
	PermitRootLogin no
	StrictModes no
	UseDNS no
	PrintMotd no
	PrintLastLog no
	MaxStartups 30
	LoginGraceTime 120
	LogLevel VERBOSE
	CONF
	# The session sees nss_pwb as sshd does (and, in the sanitizer pass, the
	# runtime it needs): sshd gives the shell a fresh environment.
	echo "SetEnv LD_LIBRARY_PATH=$LD_LIBRARY_PATH${LD_PRELOAD:+ LD_PRELOAD=$LD_PRELOAD}" >>"$d/sshd_config"
	"$PWB_SSHD" -t -f "$d/sshd_config" 2>"$d/check.log" || { cat "$d/check.log" >&2; return 1; }
	"$PWB_SSHD" -D -e -f "$d/sshd_config" </dev/null 2>>"$PWB_SSHD_LOG" &
	PWB_SSHD_PID=$!
	pwb_on_cleanup 'kill $PWB_SSHD_PID 2>/dev/null; wait $PWB_SSHD_PID 2>/dev/null'
	for i in $(seq 1 100); do
		ss -Htln "sport = :$PWB_SSHD_PORT" | grep -q . && return 0
		kill -0 "$PWB_SSHD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "pwb_sshd_start: sshd did not start:" >&2
	cat "$PWB_SSHD_LOG" >&2
	return 1
}

pwb_ssh_begin() {
	local name=$1 user=$2 again=${3:-enter} dir=$PWB_TMP/ssh-$1
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	env -u LD_PRELOAD -u LD_LIBRARY_PATH expect "$PWB_SSH_EXP" "$dir" "$again" \
		ssh -tt -F /dev/null -p "$PWB_SSHD_PORT" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o BatchMode=no -o PubkeyAuthentication=no -o PasswordAuthentication=no \
		-o KbdInteractiveAuthentication=yes -o PreferredAuthentications=keyboard-interactive \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \
		-o PermitLocalCommand=yes -o 'LocalCommand=echo pwb-auth-done' \
		"$user@127.0.0.1" </dev/null >"$dir/driver.log" 2>&1 &
	echo $! >"$dir/pid"
	pwb_on_cleanup "kill \$(cat '$dir/pid' 2>/dev/null) 2>/dev/null"
}

# pwb_ssh_wait_file NAME FILE [TENTHS]: waits (default 30 s) for FILE in
# NAME's control directory; fails when the driver ended without it.
pwb_ssh_wait_file() {
	local dir=$PWB_TMP/ssh-$1 i
	for i in $(seq 1 "${3:-300}"); do
		[ -e "$dir/$2" ] && return 0
		if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then [ -e "$dir/$2" ]; return; fi
		sleep 0.1
	done
	return 1
}

pwb_ssh_code() {
	pwb_ssh_wait_file "$1" code || return 1
	cat "$PWB_TMP/ssh-$1/code"
}

pwb_ssh_go() { printf '%s\n' "$2" >"$PWB_TMP/ssh-$1/go.new" && mv "$PWB_TMP/ssh-$1/go.new" "$PWB_TMP/ssh-$1/go"; }

pwb_ssh_end() {
	local dir=$PWB_TMP/ssh-$1 i
	for i in $(seq 1 900); do
		[ -s "$dir/result" ] && { cat "$dir/result"; return 0; }
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$dir/result" ] && { cat "$dir/result"; return 0; }
	echo "driver failed: $(tail -3 "$dir/driver.log" 2>/dev/null)"
}

pwb_ssh_out() { tr -d '\r' <"$PWB_TMP/ssh-$1/out" 2>/dev/null; }

pwb_ssh_time() { cat "$PWB_TMP/ssh-$1/$2" 2>/dev/null; }
