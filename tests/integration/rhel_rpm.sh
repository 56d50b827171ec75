#!/usr/bin/env bash
# RPM packaging (rhel/pwb.spec) on this Debian machine: rpmbuild -bs and
# -bb --nodeps from a tarball of the tree, with the RHEL macros Debian's rpm
# lacks defined here; rpmbuild itself refuses a file make install puts that
# %files does not list, and one %files lists that is missing, so success
# means %files matches make install. Then rpm -qlp: RHEL's paths
# (/usr/lib64, /usr/lib/systemd/system), none of Debian's; every program a
# shipped unit starts is shipped; the scriptlets create the users, enable
# pwbd's socket and install the SELinux module. The binaries built here
# only check the spec; they are never installed.
. "$PWB_TEST_SRCDIR/tests/lib/rhel.sh"
pwb_rhel_require rpmbuild:rpm rpm2cpio:rpm2cpio cpio:cpio bzip2:bzip2 \
	/usr/share/selinux/devel/Makefile:selinux-policy-dev
PWB_NS_NO_PWBD=1
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
set -u

if [ "${PWB_SANITIZE:-0}" = 1 ]; then
	# As package_install.sh: rpmbuild builds with the distribution's flags,
	# so nothing of it would run sanitized.
	tap_skip "rpmbuild of rhel/pwb.spec" "ASan build (PWB_SANITIZE=1): it runs in the normal pass"
	tap_done
	exit 0
fi

version=$(sed -n 's/^AC_INIT(\[pwb\], \[\([^]]*\)\].*/\1/p' "$PWB_TEST_SRCDIR/configure.ac")
tap_is "the spec's Version is configure.ac's" \
	"$(sed -n 's/^Version: *//p' "$PWB_TEST_SRCDIR/rhel/pwb.spec")" "$version"

# ---- the source tarball: tracked files of a checkout, or the whole tree ----
top=$PWB_TMP/rpmbuild
src=$PWB_TMP/src/pwb-$version
mkdir -p "$top/SOURCES" "$top/SPECS" "$src"
if [ "$(git -C "$PWB_TEST_SRCDIR" rev-parse --show-toplevel 2>/dev/null)" = \
	"$(cd "$PWB_TEST_SRCDIR" && pwd -P)" ]; then
	git -C "$PWB_TEST_SRCDIR" ls-files -z | tar -C "$PWB_TEST_SRCDIR" --null -T - -cf - | tar -C "$src" -xf -
else
	tar -C "$PWB_TEST_SRCDIR" --exclude=./_build --exclude=./_inst -cf - . | tar -C "$src" -xf -
fi || tap_bail "cannot copy the source tree"
tar -C "$PWB_TMP/src" -czf "$top/SOURCES/pwb-$version.tar.gz" "pwb-$version" ||
	tap_bail "cannot make the tarball"
cp "$PWB_TEST_SRCDIR/rhel/pwb.spec" "$top/SPECS/"
cp "$PWB_TEST_SRCDIR/rhel/pwb.sysusers" "$top/SOURCES/"

# RHEL's paths, and stand-ins for the macros of systemd-rpm-macros,
# selinux-policy-devel and Fedora's sysusers that Debian's rpm lacks: each
# leaves a marker in the scriptlet so the test sees it was used.
macros=(
	--define "_topdir $top"
	--define "_prefix /usr"
	--define "_exec_prefix /usr"
	--define "_sbindir /usr/sbin"
	--define "_libdir /usr/lib64"
	--define "_datadir /usr/share"
	--define "_mandir /usr/share/man"
	--define "_docdir /usr/share/doc"
	--define "_sysconfdir /etc"
	--define "_localstatedir /var"
	--define "_sharedstatedir /var/lib"
	--define "_unitdir /usr/lib/systemd/system"
	--define "_sysusersdir /usr/lib/sysusers.d"
	--define "_pam_moduledir /usr/lib64/security"
	--define "dist .el9"
	--define "debug_package %{nil}"
	--define "_smp_mflags -j2"
	--define "sysusers_create_compat() : rhel-macro sysusers_create_compat %1"
	--define "systemd_post() : rhel-macro systemd_post %*"
	--define "systemd_preun() : rhel-macro systemd_preun %*"
	--define "systemd_postun_with_restart() : rhel-macro systemd_postun_with_restart %*"
	--define "selinux_modules_install(s:) : rhel-macro selinux_modules_install -s %{-s*} %*"
	--define "selinux_modules_uninstall(s:) : rhel-macro selinux_modules_uninstall -s %{-s*} %*"
	--define "selinux_relabel_pre(s:) : rhel-macro selinux_relabel_pre"
	--define "selinux_relabel_post(s:) : rhel-macro selinux_relabel_post"
)

out=$(rpmbuild "${macros[@]}" -bs "$top/SPECS/pwb.spec" 2>&1)
rc=$?
tap_is "rpmbuild -bs succeeds" "$rc" 0
[ "$rc" = 0 ] || tap_diag "$out"
srpm=$(ls "$top"/SRPMS/pwb-"$version"-1.el9.src.rpm 2>/dev/null)
tap_like "the source package is pwb-$version-1.el9.src.rpm" "$srpm" "pwb-$version-1\.el9\.src\.rpm$"
tap_like "the source package holds the tarball and the sysusers file" \
	"$(rpm -qlp "$srpm" 2>/dev/null | sort | tr '\n' ' ')" \
	"^pwb-$version\.tar\.gz pwb\.spec pwb\.sysusers $"

# The cluster backend is built once the tree has it (issue 15).
with_pg=0
grep -rqs --include='*.am' 'pwb_store_pg' "$PWB_TEST_SRCDIR/lib" "$PWB_TEST_SRCDIR/pwbd" && with_pg=1
[ "$with_pg" = 1 ] || macros+=(--without postgresql)
rpmbuild "${macros[@]}" -bb --nodeps "$top/SPECS/pwb.spec" >"$PWB_TMP/rpmbuild.log" 2>&1
rc=$?
tap_is "rpmbuild -bb --nodeps succeeds (every make install file in %files, none missing)" "$rc" 0
[ "$rc" = 0 ] || { tail -40 "$PWB_TMP/rpmbuild.log" | tap_diag "$(cat)"; tap_bail "no packages"; }
tap_unlike "no unpackaged files" "$(cat "$PWB_TMP/rpmbuild.log")" 'Installed \(but unpackaged\)'
tap_like "the SELinux module was built during the build" "$(cat "$PWB_TMP/rpmbuild.log")" \
	'Creating [a-z]+ pwb\.pp policy package'

rpms=$top/RPMS
pkg() { ls "$rpms"/*/"$1"-"$version"-1.el9.*.rpm 2>/dev/null; }
for p in pwb nss-pwb pwb-selinux; do
	tap_like "package $p built" "$(pkg "$p")" "/$p-$version-1\.el9\.[a-z0-9_]+\.rpm$"
done
tap_like "pwb-selinux is noarch" "$(pkg pwb-selinux)" '\.noarch\.rpm$'

files_pwb=$(rpm -qlp "$(pkg pwb)" 2>/dev/null)
files_nss=$(rpm -qlp "$(pkg nss-pwb)" 2>/dev/null)
files_se=$(rpm -qlp "$(pkg pwb-selinux)" 2>/dev/null)
all=$(printf '%s\n' "$files_pwb" "$files_nss" "$files_se")
for f in /usr/lib64/security/pam_pwb_oidc.so /usr/lib64/security/pam_pwb_mkhome.so \
	/usr/sbin/pwbd /usr/sbin/pwbadm /usr/sbin/pwb-scim /usr/sbin/pwb-login \
	/usr/lib/systemd/system/pwbd.socket /usr/lib/systemd/system/pwbd.service \
	/usr/lib/systemd/system/pwb-login.socket /usr/lib/systemd/system/pwb-login.service \
	/usr/lib/sysusers.d/pwb.conf /etc/pwb/pwb.conf /etc/pam.d/pwb /var/lib/pwb /var/lib/pwb/cache \
	/var/lib/pwb-login /usr/share/pwb/authselect/pwb/nsswitch.conf \
	/usr/share/pwb/authselect/pwb/system-auth /usr/share/pwb/authselect/pwb/password-auth; do
	tap_is "pwb ships $f" "$(printf '%s\n' "$files_pwb" | grep -cx -- "$f")" 1
done
# Compressed or not, as the build root policy (brp-compress) has it.
for f in man5/pwb.conf.5 man8/pwbd.8 man8/pwbadm.8 man8/pwb-scim.8 man8/pwb-login.8 \
	man8/pam_pwb_oidc.8 man8/pam_pwb_mkhome.8; do
	tap_is "pwb ships the man page $f" "$(printf '%s\n' "$files_pwb" | grep -cxE -- "/usr/share/man/$f(\.gz)?")" 1
done
tap_is "nss-pwb ships the man page nss_pwb.8" \
	"$(printf '%s\n' "$files_nss" | grep -cxE -- "/usr/share/man/man8/nss_pwb\.8(\.gz)?")" 1
tap_is "nss-pwb ships /usr/lib64/libnss_pwb.so.2" \
	"$(printf '%s\n' "$files_nss" | grep -cx /usr/lib64/libnss_pwb.so.2)" 1
tap_is "pwb-selinux ships the module for the targeted policy" \
	"$(printf '%s\n' "$files_se" | grep -cx /usr/share/selinux/packages/targeted/pwb.pp.bz2)" 1
tap_is "no Debian path (multiarch lib dir, /lib/systemd, /usr/lib/security)" \
	"$(printf '%s\n' "$all" | grep -cE '^/usr/lib/[a-z0-9_]+-linux-gnu|^/lib/|^/usr/lib/security/|^/usr/lib/libnss')" 0
tap_is "no libtool .la files" "$(printf '%s\n' "$all" | grep -c '\.la$')" 0

# What is in the packages, not only their lists.
x=$PWB_TMP/x
mkdir -p "$x"
for p in pwb nss-pwb pwb-selinux; do
	(cd "$x" && rpm2cpio "$(pkg "$p")" | cpio -idm --quiet) || tap_bail "cannot unpack $p"
done
for u in "$x"/usr/lib/systemd/system/*.service; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
	tap_is "${u##*/}'s ExecStart $exe is shipped" "$(printf '%s\n' "$all" | grep -cx -- "$exe")" 1
done
tap_like "pwb-login's socket is for RHEL's web server group" \
	"$(cat "$x/usr/lib/systemd/system/pwb-login.socket")" '(^|\n)SocketGroup=nginx'
tap_unlike "no www-data group on RHEL" "$(cat "$x"/usr/lib/systemd/system/*)" 'www-data'
tap_like "the PAM modules are ELF shared objects" \
	"$(head -c 4 "$x/usr/lib64/security/pam_pwb_oidc.so" | od -An -c | tr -d ' ')" '^177ELF$'
tap_like "the pwb service stack authenticates with pam_pwb_oidc" \
	"$(cat "$x/etc/pam.d/pwb")" '(^|\n)auth +required +pam_pwb_oidc\.so'
tap_is "the SELinux module decompresses to a policy package" \
	"$(bzip2 -dc "$x/usr/share/selinux/packages/targeted/pwb.pp.bz2" | od -An -tx1 -N4 | tr -d ' ')" "8fff7cf9"

# Modes and owners of what %files creates (the pwb-login user's own dir).
modes=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILENAMES}\n]' "$(pkg pwb)" 2>/dev/null)
tap_like "/var/lib/pwb is root's, 0755" "$modes" '(^|\n)drwxr-xr-x root /var/lib/pwb(\n|$)'
tap_like "/var/lib/pwb/cache is root's, 0700" "$modes" '(^|\n)drwx------ root /var/lib/pwb/cache(\n|$)'
tap_like "/var/lib/pwb-login is pwb-login's, 0700" "$modes" '(^|\n)drwx------ pwb-login /var/lib/pwb-login(\n|$)'
tap_is "the sysusers file declares pwb-scim and pwb-login" \
	"$(awk '$1 == "u" { print $2 }' "$x/usr/lib/sysusers.d/pwb.conf" | sort | tr '\n' ' ')" "pwb-login pwb-scim "

scripts=$(rpm -qp --scripts "$(pkg pwb)" 2>/dev/null)
tap_like "%pre creates the system users from the sysusers file" "$scripts" \
	'rhel-macro sysusers_create_compat [^ ]*/SOURCES/pwb\.sysusers'
tap_like "%post uses the systemd macro for pwbd's units" "$scripts" \
	'rhel-macro systemd_post pwbd\.socket pwbd\.service'
tap_like "%post restores SELinux contexts of /var/lib/pwb" "$scripts" 'restorecon -R /var/lib/pwb'
tap_like "pwb-selinux installs the module with the selinux macro" \
	"$(rpm -qp --scripts "$(pkg pwb-selinux)" 2>/dev/null)" \
	'rhel-macro selinux_modules_install -s targeted /usr/share/selinux/packages/targeted/pwb\.pp\.bz2'

# The cluster backend: once the tree builds pwb_store_pg.so (issue 15), it
# is in pwb-postgresql (with libpq), never in pwb.
if [ "$with_pg" = 1 ]; then
	tap_is "pwb-postgresql ships /usr/lib64/pwb/pwb_store_pg.so" \
		"$(rpm -qlp "$(pkg pwb-postgresql)" 2>/dev/null | grep -cx /usr/lib64/pwb/pwb_store_pg.so)" 1
	tap_like "pwb-postgresql requires libpq" \
		"$(rpm -qp --requires "$(pkg pwb-postgresql)" 2>/dev/null)" '(^|\n)libpq'
else
	tap_skip "pwb-postgresql ships pwb_store_pg.so" "this tree does not build it yet (issue 15)"
fi
tap_is "pwb does not ship the cluster backend" "$(printf '%s\n' "$files_pwb" | grep -c pwb_store_pg)" 0

tap_done
