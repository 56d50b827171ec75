#!/usr/bin/env bash
# Debian packages: dpkg-buildpackage builds pwb and libnss-pwb; lintian
# finds no error; they install into a throwaway root (an overlay of the
# host's / inside this mount namespace, so nothing reaches the host), put
# the modules where PAM and glibc find them, ship pwbd and pwb-login with
# their systemd units (pwb-login's left disabled), create /var/lib/pwb
# (root's), /var/lib/pwb-login (pwb-login's, 0700) and the front ends'
# system users, add nothing to
# nsswitch.conf or pam.d; with the installed pwbd running, after the administrator's
# opt-in (examples), pwbadm check and a pamtester sign-in work against the
# installed files only; purge removes them.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
set -u

# ---- build ----
src=$PWB_TMP/src/pwb-0.1.0
mkdir -p "$src"
# A git checkout: its tracked files; a release tarball (make distcheck): all.
if [ "$(git -C "$PWB_TEST_SRCDIR" rev-parse --show-toplevel 2>/dev/null)" = \
	"$(cd "$PWB_TEST_SRCDIR" && pwd -P)" ]; then
	(cd "$PWB_TEST_SRCDIR" && git ls-files -z | xargs -0 cp --parents -t "$src")
else
	tar -C "$PWB_TEST_SRCDIR" --exclude=./_build --exclude=./_inst -cf - . |
		tar -C "$src" -xf - && chmod -R u+w "$src"
fi || tap_bail "cannot copy the source tree"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" \
	dpkg-buildpackage -us -uc -b >"$PWB_TMP/build.log" 2>&1)
rc=$?
tap_is "dpkg-buildpackage -us -uc -b succeeds" "$rc" 0
[ "$rc" = 0 ] || { tail -30 "$PWB_TMP/build.log" | tap_diag "$(cat)"; tap_bail "no packages"; }
debs=("$PWB_TMP"/src/pwb_*.deb "$PWB_TMP"/src/libnss-pwb_*.deb)
tap_is "two packages built" "${#debs[@]}" 2
changes=$(ls "$PWB_TMP"/src/pwb_*.changes)
lint=$(lintian --fail-on error "$changes" 2>&1)
rc=$?
tap_is "lintian reports no error" "$rc" 0
tap_is "lintian: no E: lines" "$(printf '%s\n' "$lint" | grep -c '^E:')" 0
[ "$rc" = 0 ] || tap_diag "$lint"
contents=$(dpkg-deb -c "${debs[0]}"; dpkg-deb -c "${debs[1]}")
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
tap_like "pam_pwb_oidc.so in the multiarch PAM dir" "$contents" \
	"/usr/lib/$multiarch/security/pam_pwb_oidc.so"
tap_like "pam_pwb_mkhome.so in the multiarch PAM dir" "$contents" \
	"/usr/lib/$multiarch/security/pam_pwb_mkhome.so"
tap_like "libnss_pwb.so.2 in the multiarch library dir" "$contents" \
	"/usr/lib/$multiarch/libnss_pwb.so.2"
tap_like "pwbd's PostgreSQL backend in the package's library dir" "$contents" \
	"/usr/lib/$multiarch/pwb/pwb_store_pg.so"
tap_like "pwbd and its socket and service units are shipped" \
	"$(printf '%s\n' "$contents" | grep -oE '\./(usr/sbin/pwbd|lib/systemd/system/pwbd\.(socket|service))$' |
		sort | tr '\n' ' ')" \
	'^\./lib/systemd/system/pwbd\.service \./lib/systemd/system/pwbd\.socket \./usr/sbin/pwbd $'
tap_like "pwb-login, its man page and its socket and service units are shipped" \
	"$(printf '%s\n' "$contents" | grep -oE '\./(usr/sbin/pwb-login|usr/share/man/man8/pwb-login\.8\.gz|lib/systemd/system/pwb-login\.(socket|service))$' |
		sort | tr '\n' ' ')" \
	'^\./lib/systemd/system/pwb-login\.service \./lib/systemd/system/pwb-login\.socket \./usr/sbin/pwb-login \./usr/share/man/man8/pwb-login\.8\.gz $'
tap_like "the pwb-login PAM service is shipped as an example only" "$contents" \
	'\./usr/share/doc/pwb/examples/pam\.d/pwb-login$'
tap_is "no libtool .la files shipped" "$(printf '%s\n' "$contents" | grep -c '\.la$')" 0
tap_is "nothing installed into /etc/pam.d or /etc/nsswitch.conf" \
	"$(printf '%s\n' "$contents" | grep -cE ' \./etc/(pam\.d|nsswitch)')" 0

# ---- a throwaway root: overlay of / ----
root=$PWB_TMP/root
mkdir -p "$PWB_TMP/upper" "$PWB_TMP/work" "$root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$PWB_TMP/upper,workdir=$PWB_TMP/work" "$root" ||
	tap_bail "cannot mount an overlay root"
mount --bind /proc "$root/proc"
mount --bind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
in_root() { chroot "$root" "$@"; }
nss_before=$(cat "$root/etc/nsswitch.conf")
pam_before=$(ls "$root/etc/pam.d")
cp "${debs[@]}" "$root/tmp/"
out=$(in_root dpkg -i "/tmp/${debs[0]##*/}" "/tmp/${debs[1]##*/}" 2>&1)
rc=$?
tap_is "dpkg -i installs both packages" "$rc" 0
[ "$rc" = 0 ] || tap_diag "$out"
tap_is "the pwb-scim and pwb-login system users exist" \
	"$(for u in pwb-scim pwb-login; do in_root getent passwd "$u" | cut -d: -f7; done | sort -u)" \
	"/usr/sbin/nologin"
tap_is "/var/lib/pwb 0755 root" "$(in_root stat -c '%a %U' /var/lib/pwb)" "755 root"
tap_is "/var/lib/pwb/store 0700 root" "$(in_root stat -c '%a %U' /var/lib/pwb/store)" "700 root"
tap_is "/var/lib/pwb-login (sessions) 0700 pwb-login" \
	"$(in_root stat -c '%a %U %G' /var/lib/pwb-login)" "700 pwb-login pwb-login"
tap_check "pwb-login is installed and runs (--help)" \
	in_root env -u PWB_CONFIG -u LD_LIBRARY_PATH /usr/sbin/pwb-login --help
# deb-systemd-helper records enablement as symlinks even without a running systemd.
tap_is "pwbd.socket is enabled; pwb-login's units are not (the administrator opts in)" \
	"$(cd "$root/etc/systemd/system" 2>/dev/null && find . -name '*.socket' -o -name '*.service' |
		grep -E 'pwbd|pwb-login' | sort | tr '\n' ' ')" \
	"./sockets.target.wants/pwbd.socket "
tap_check "the initial snapshot is published" test -e "$root/var/lib/pwb/nss/delta.db"
# No systemd in the throwaway root: the installed pwbd is started as its
# socket unit would, on the unit's socket path.
chroot "$root" env -u PWB_CONFIG -u LD_LIBRARY_PATH /usr/sbin/pwbd --socket /run/pwb/pwbd.sock \
	--foreground >"$PWB_TMP/root-pwbd.log" 2>&1 &
root_pwbd=$!
pwb_on_cleanup "kill $root_pwbd 2>/dev/null"
for _ in $(seq 100); do [ -S "$root/run/pwb/pwbd.sock" ] && break; sleep 0.05; done
tap_check "a default /etc/pwb/pwb.conf (a conffile) parses" \
	in_root env -u PWB_CONFIG pwbadm list-users
tap_is "nsswitch.conf untouched by the install" "$(cat "$root/etc/nsswitch.conf")" "$nss_before"
tap_is "/etc/pam.d untouched by the install" "$(ls "$root/etc/pam.d")" "$pam_before"
tap_check "man pwbadm is installed" test -e "$root/usr/share/man/man8/pwbadm.8.gz"

# ---- the administrator opts in, from the shipped examples ----
pwb_issuer_start || tap_bail "cannot start the test issuer"
ex=$root/usr/share/doc/pwb/examples
tap_check "examples are shipped" test -e "$ex/pam.d/pwb"
cp "$ex/pam.d/pwb" "$root/etc/pam.d/pwb"
sed -i '/pam_limits/d' "$root/etc/pam.d/pwb"
sed -i -E 's/^(passwd|group|shadow):(.*)$/\1:\2 pwb/' "$root/etc/nsswitch.conf"
cp "$PWB_ISSUER_CA" "$root/etc/pwb/idp-ca.pem"
cat >"$root/etc/pwb/pwb.conf" <<-CONF
user-provisioning-enabled=1
user-provisioning-register-on-first-login=1
user-provisioning-start-uid=31000
auth-openid-issuer=$PWB_ISSUER_URL
auth-openid-ca-file=/etc/pwb/idp-ca.pem
CONF
printf 'client-id=%s\n' "$PWB_ISSUER_CLIENT_ID" >"$root/etc/pwb/openid-client-secret"
chmod 0600 "$root/etc/pwb/openid-client-secret"
out=$(in_root env -u PWB_CONFIG -u LD_LIBRARY_PATH pwbadm check 2>&1)
rc=$?
tap_is "pwbadm check passes on the installed files" "$rc" 0
[ "$rc" = 0 ] || tap_diag "$out"
token=$(pwb_sign_token --claims "$(pwb_token_claims dora)")
out=$(printf '%s\n' "$token" | in_root env -u PWB_CONFIG -u LD_LIBRARY_PATH \
	pamtester -v pwb dora authenticate acct_mgmt setcred open_session close_session 2>&1)
tap_like "pamtester signs dora in through the installed modules" "$out" \
	"successfully been closed"
tap_like "getent finds dora through the installed libnss_pwb.so.2" \
	"$(in_root env -u LD_LIBRARY_PATH getent passwd dora)" '^dora:x:31000:31000:'
tap_is "her home exists" "$(stat -c %a "$root/home/dora" 2>&1)" 700

# ---- purge ----
kill "$root_pwbd" 2>/dev/null
wait "$root_pwbd" 2>/dev/null
out=$(in_root dpkg --purge pwb libnss-pwb 2>&1)
tap_is "dpkg --purge removes both" "$?" 0
tap_check_fails "the PAM modules are gone" \
	test -e "$root/usr/lib/$multiarch/security/pam_pwb_oidc.so"
tap_check_fails "libnss_pwb.so.2 is gone" test -e "$root/usr/lib/$multiarch/libnss_pwb.so.2"
tap_check_fails "/var/lib/pwb is gone" test -e "$root/var/lib/pwb"
tap_check_fails "/var/lib/pwb-login is gone" test -e "$root/var/lib/pwb-login"
tap_check_fails "nothing of it reached the host" test -e "/usr/lib/$multiarch/libnss_pwb.so.2"
umount "$root/run" "$root/dev" "$root/proc"
umount "$root"
tap_done
