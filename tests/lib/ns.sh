# Private mount namespace for integration tests (sourced). The host's /etc
# is never changed: the test re-executes itself under `unshare -m`, then
# bind-mounts private copies over /etc/passwd, /etc/group, /etc/shadow,
# /etc/nsswitch.conf, /etc/pam.d and /etc/pwb (a missing /etc/pwb is made
# in a private overlay of /etc), with the store and homes in a temp dir
# (homes seen through a bind mount at a root-only path, /home where it does
# not hold the source tree: see pwb_ns_home_root). Everything vanishes with
# the namespace; the temp dir is removed on exit.
#
# Usage at the top of a test:
#   . "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
#   pwb_ns_enter "$@"        # re-execs under unshare; returns inside it
# (pwb_free_port, defined below, picks a free loopback port.)
# Then: $PWB_TMP (temp dir), $PWB_CONF (config file), $PWB_DB_DIR,
# $PWB_HOME_ROOT, $PWB_NSS_LIBDIR; PWB_CONFIG and LD_LIBRARY_PATH exported.
# The namespace's passwd has the system users pwb-scim and pwb-login (the
# scim-user and login-user; uids $PWB_SCIM_UID, $PWB_LOGIN_UID), and one
# pwbd runs on $PWB_PWBD_SOCKET until cleanup (tests/lib/pwbd.sh; set
# PWB_NS_NO_PWBD=1 before pwb_ns_enter to start it yourself).
# What those unprivileged users run (pwb-scim, pwb-login, the PAM and NSS
# modules loaded into pwb-login) is staged into $PWB_TMP/stage when the
# build tree is out of their reach, as in a checkout under a 0700 home
# (set PWB_NS_STAGE=1 before pwb_ns_enter to stage always): see
# pwb_ns_stage.

: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PWB_TEST_BUILDDIR:=$PWB_TEST_SRCDIR}"
export PWB_TEST_SRCDIR PWB_TEST_BUILDDIR

PWB_BIN_PWBADM=$PWB_TEST_BUILDDIR/pwbadm/pwbadm
PWB_BIN_SCIM=$PWB_TEST_BUILDDIR/scim-cgi/pwb-scim
PWB_NSS_LIBDIR=$PWB_TEST_BUILDDIR/nss_pwb/.libs
PWB_PAM_OIDC=$PWB_TEST_BUILDDIR/pam_pwb_oidc/.libs/pam_pwb_oidc.so
PWB_PAM_MKHOME=$PWB_TEST_BUILDDIR/pam_pwb_mkhome/.libs/pam_pwb_mkhome.so
. "$PWB_TEST_SRCDIR/tests/lib/pwbd.sh"

pwb_ns_enter() {
	if [ "${PWB_IN_NS:-}" != 1 ]; then
		[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP integration tests need root"; exit 0; }
		export PWB_IN_NS=1
		exec unshare -m --propagation private bash "$0" "$@"
	fi
	PWB_TMP=$(mktemp -d /tmp/pwb-test.XXXXXX)
	chmod 0755 "$PWB_TMP"
	trap 'pwb_ns_cleanup' EXIT
	mkdir -p "$PWB_TMP/etc/pam.d" "$PWB_TMP/etc/pwb" "$PWB_TMP/home" "$PWB_TMP/db"
	cp /etc/passwd /etc/group "$PWB_TMP/etc/"
	cp /etc/shadow "$PWB_TMP/etc/shadow" 2>/dev/null || : >"$PWB_TMP/etc/shadow"
	chmod 0640 "$PWB_TMP/etc/shadow"
	# A local account and group named pwb (no package creates them: the
	# store is root's). Tests use them as a local name that a claim or a
	# SCIM push must not take over (pam_mkhome_jit.sh).
	grep -q '^pwb:' "$PWB_TMP/etc/passwd" ||
		echo 'pwb:x:999:999:pwb store:/nonexistent:/usr/sbin/nologin' >>"$PWB_TMP/etc/passwd"
	grep -q '^pwb:' "$PWB_TMP/etc/group" || echo 'pwb:x:999:' >>"$PWB_TMP/etc/group"
	# pwb-scim runs as the scim-user, pwb-login as the login-user.
	pwb_ns_add_system_user pwb-scim 998 "pwb SCIM server"
	pwb_ns_add_system_user pwb-login 997 "pwb login service"
	PWB_SCIM_UID=$(awk -F: '$1 == "pwb-scim" { print $3 }' "$PWB_TMP/etc/passwd")
	PWB_LOGIN_UID=$(awk -F: '$1 == "pwb-login" { print $3 }' "$PWB_TMP/etc/passwd")
	cat >"$PWB_TMP/etc/nsswitch.conf" <<-NSS
	passwd: files pwb
	group: files pwb
	shadow: files pwb
	hosts: files
	NSS
	# A missing /etc/pwb is made in a private overlay of /etc: a mount point
	# made with mkdir here would be made on the host.
	if [ ! -d /etc/pwb ]; then
		mkdir -p "$PWB_TMP/etc-overlay/upper" "$PWB_TMP/etc-overlay/work"
		mount -t overlay pwb-etc -o "lowerdir=/etc,upperdir=$PWB_TMP/etc-overlay/upper,workdir=$PWB_TMP/etc-overlay/work" /etc ||
			{ echo "Bail out! cannot overlay /etc to make /etc/pwb"; exit 1; }
		mkdir /etc/pwb
	fi
	local f
	for f in passwd group shadow nsswitch.conf; do
		mount --bind "$PWB_TMP/etc/$f" "/etc/$f"
	done
	mkdir -p /etc/pam.d
	mount --bind "$PWB_TMP/etc/pam.d" /etc/pam.d
	mount --bind "$PWB_TMP/etc/pwb" /etc/pwb
	PWB_DB_DIR=$PWB_TMP/db
	PWB_HOME_ROOT=$(pwb_ns_home_root)
	PWB_CONF=/etc/pwb/pwb.conf
	PWB_PWBD_SOCKET=$PWB_TMP/run/pwbd.sock
	cat >"$PWB_CONF" <<-CONF
	db-dir=$PWB_DB_DIR
	store-user=pwb
	user-provisioning-enabled=1
	user-homedir-path=$PWB_HOME_ROOT
	user-provisioning-start-uid=20000
	user-provisioning-end-uid=29999
	group-provisioning-start-gid=20000
	group-provisioning-end-gid=29999
	secure-key-file=/etc/pwb/secure-key
	auth-openid-client-secret-file=/etc/pwb/openid-client-secret
	pwbd-socket=$PWB_PWBD_SOCKET
	CONF
	export PWB_CONFIG=$PWB_CONF
	if [ "${PWB_NS_STAGE:-}" = 1 ] || ! pwb_ns_reachable "$PWB_SCIM_UID" "$PWB_TEST_BUILDDIR"; then
		pwb_ns_stage || { echo "Bail out! cannot stage the build for the service users"; exit 1; }
	fi
	export LD_LIBRARY_PATH=$PWB_NSS_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	# nscd would answer from the host's cache: hide its socket.
	if [ -d /var/run/nscd ]; then mount -t tmpfs none /var/run/nscd; fi
	pwb_on_cleanup 'pwb_pwbd_stop >/dev/null 2>&1 || :'
	if [ "${PWB_NS_NO_PWBD:-}" != 1 ]; then pwb_pwbd_start; fi
}

# pwb_ns_reachable UID PATH: UID (with no groups) can reach PATH, every
# parent directory included, and execute (a directory: enter) it.
pwb_ns_reachable() {
	setpriv --reuid="$1" --regid="$1" --clear-groups test -x "$2" 2>/dev/null
}

# The service users (pwb-scim, pwb-login; www-data, nginx's workers) run
# without root's rights: a checkout inside a 0700 directory (/root, a
# Debian 12 home) is out of their reach, and its permissions are the
# user's, never changed here. pwb_ns_stage copies what they execute or
# load (pwb-scim, pwb-login, the PAM modules pwb-login loads, the NSS
# module every process loads) into $PWB_TMP/stage, 0755 and root's, at
# the same paths relative to the build tree, and points PWB_BIN_SCIM,
# PWB_LOGIN_BIN (tests/lib/login.sh), PWB_PAM_OIDC, PWB_PAM_MKHOME and
# PWB_NSS_LIBDIR there; sets PWB_STAGE. Root's own processes (pwbd,
# pwbadm, the test tools, node and Chromium) still run from the build
# tree; nginx's workers read only files under $PWB_TMP. A copy, not `make
# install DESTDIR=`: it costs milliseconds and runs no make in a build tree
# that parallel tests share. Call before tests/lib/login.sh is sourced or
# after: both take PWB_STAGE.
pwb_ns_stage() {
	local stage=$PWB_TMP/stage rel f
	(
		umask 022
		mkdir -p "$stage"
		for rel in scim-cgi/pwb-scim pwb-login/pwb-login pam_pwb_oidc/.libs/pam_pwb_oidc.so \
			pam_pwb_mkhome/.libs/pam_pwb_mkhome.so nss_pwb/.libs/libnss_pwb.so.2; do
			f=$PWB_TEST_BUILDDIR/$rel
			[ -e "$f" ] || continue # (pwb-login: not every build has it)
			mkdir -p "$stage/${rel%/*}" &&
				install -m 0755 "$(readlink -f "$f")" "$stage/$rel" || exit 1
		done
		chmod -R a+rX,go-w "$stage"
	) || return 1
	PWB_STAGE=$stage
	PWB_BIN_SCIM=$stage/scim-cgi/pwb-scim
	PWB_NSS_LIBDIR=$stage/nss_pwb/.libs
	PWB_PAM_OIDC=$stage/pam_pwb_oidc/.libs/pam_pwb_oidc.so
	PWB_PAM_MKHOME=$stage/pam_pwb_mkhome/.libs/pam_pwb_mkhome.so
	if [ -n "${PWB_LOGIN_BIN:-}" ]; then PWB_LOGIN_BIN=$stage/pwb-login/pwb-login; fi
	pwb_ns_reachable "$PWB_SCIM_UID" "$stage"
}

# Homes must lie behind parents that only root may write to (pam_pwb_mkhome
# refuses /tmp, sticky or not), so $PWB_TMP/home is bind-mounted, in this
# namespace only, over a top-level directory that holds none of the trees
# the test uses. Prints the path (falls back to $PWB_TMP/home).
pwb_ns_home_root() {
	local d
	for d in /home /mnt /srv /media /opt; do
		[ -d "$d" ] && [ ! -L "$d" ] || continue
		case "$(realpath -m "$PWB_TEST_SRCDIR")/ $(realpath -m "$PWB_TEST_BUILDDIR")/" in
		"$d"/* | *" $d"/*) continue ;;
		esac
		if mount --bind "$PWB_TMP/home" "$d" 2>/dev/null; then
			echo "$d"
			return 0
		fi
	done
	echo "$PWB_TMP/home"
}

# Sets key=value lines in the test's pwb.conf, replacing a key already
# there (pwb.conf refuses duplicate keys).
pwb_conf_set() {
	local kv
	for kv in "$@"; do
		sed -i "/^${kv%%=*}=/d" "$PWB_CONF"
		echo "$kv" >>"$PWB_CONF"
	done
}

# The script's own exit status stands: a hook that fails (a server already
# gone, a `wait` on a killed child) must not replace it, even under set -e.
pwb_ns_cleanup() {
	local rc=$?
	if [ -n "${PWB_CLEANUP_HOOKS:-}" ]; then eval "$PWB_CLEANUP_HOOKS" || true; fi
	if [ -n "${PWB_TMP:-}" ] && [ -d "$PWB_TMP" ]; then
		rm -rf --one-file-system "$PWB_TMP" || true
	fi
	exit $rc
}

# Registers a shell command to run at cleanup (stop a server, …).
pwb_on_cleanup() { PWB_CLEANUP_HOOKS="${PWB_CLEANUP_HOOKS:-}$1;"; }

# pwb_free_port: prints a free TCP port on loopback (tests run in parallel
# with each other, so never hard-code one).
pwb_free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 20000))
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
	done
	return 1
}
