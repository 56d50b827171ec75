#!/usr/bin/env bash
# The SELinux policy module (rhel/selinux) compiles to pwb.pp against
# Debian's reference policy headers (selinux-policy-dev, checkpolicy) with no
# error or warning; its file contexts label the paths pwb really uses (the
# units' sockets and state dirs, db-dir's store/nss/cache, /etc/pwb); and
# its rules, read from the expanded policy, keep the design: pwbd_t is the
# only writer of the store and the snapshot and the only home creator;
# pwb-scim and pwb-login reach only pwbd's socket and their own files;
# every domain that resolves users may read (never write) the snapshot, and
# PAM domains may connect to pwbd. A module with a planted rule that lets
# pwb-scim write the store is caught by the same check (it can fail).
# Checked here against the reference policy only, not RHEL 9's policy.
. "$PWB_TEST_SRCDIR/tests/lib/rhel.sh"
pwb_rhel_require checkmodule:checkpolicy /usr/share/selinux/devel/Makefile:selinux-policy-dev
PWB_NS_NO_PWBD=1
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
set -u

se=$PWB_TEST_SRCDIR/rhel/selinux

# compile DIR: builds DIR/pwb.pp; prints make's output.
compile() { make -C "$1" -f /usr/share/selinux/devel/Makefile pwb.pp 2>&1; }

# allow_rules FILE: one "source target class perm" line per permission of
# every allow rule in the m4-expanded module (sets expanded).
allow_rules() {
	awk '
	function take(   r, i, depth, ch) {
		sub(/^[ \t]+/, "", L)
		if (substr(L, 1, 1) == "{") {
			# A set, maybe nested ({ { a b } c }): up to its closing brace.
			depth = 0
			for (i = 1; i <= length(L); i++) {
				ch = substr(L, i, 1)
				if (ch == "{") depth++
				else if (ch == "}" && --depth == 0) break
			}
			r = substr(L, 2, i - 2); gsub(/[{}]/, " ", r); L = substr(L, i + 1)
		} else {
			match(L, /^[^ \t:;{}]+/); r = substr(L, 1, RLENGTH); L = substr(L, RLENGTH + 1)
		}
		return r
	}
	/^[ \t]*allow[ \t]/ {
		L = $0; sub(/^[ \t]*allow/, "", L); sub(/;.*/, "", L)
		s = take(); t = take(); sub(/^[ \t]*:/, "", L); c = take(); p = take()
		ns = split(s, S, " "); nt = split(t, T, " "); nc = split(c, C, " "); np = split(p, P, " ")
		for (a = 1; a <= ns; a++) for (b = 1; b <= nt; b++) for (d = 1; d <= nc; d++)
			for (e = 1; e <= np; e++) print S[a], T[b], C[d], P[e]
	}' "$1"
}

WRITE_PERMS='write|append|create|unlink|rename|add_name|remove_name|setattr|rmdir|link|reparent|relabelfrom|relabelto'

# violations RULES: design rules the module breaks, one line each.
violations() {
	local rules=$1
	# Only pwbd_t writes the store and the snapshot; the OIDC cache also
	# pam_pwb_oidc in root services (pwb_use_oidc), never a front end.
	printf '%s\n' "$rules" | awk -v w="^($WRITE_PERMS)$" '
		$2 ~ /^pwb_(store|nss|var_lib)_t$/ && $4 ~ w && $1 != "pwbd_t" { print "writes " $2 ": " $0 }
		$2 == "pwb_cache_t" && $4 ~ w && $1 ~ /^pwb/ && $1 != "pwbd_t" { print "writes " $2 ": " $0 }
		$2 ~ /^user_home(_dir)?_t$/ && $4 ~ w && $1 != "pwbd_t" { print "writes homes: " $0 }'
	# The front ends: only the socket of pwbd, their own files and what
	# logging, name resolution and (pwb-login) HTTPS need.
	printf '%s\n' "$rules" | awk '
		($1 == "pwb_scim_t" || $1 == "pwb_login_t") &&
		$2 ~ /^pwb/ && $2 !~ /^(pwbd_t|pwbd_runtime_t|pwb_conf_t)$/ &&
		!($1 == "pwb_scim_t" && $2 ~ /^pwb_scim_(runtime|exec)_t$/) &&
		!($1 == "pwb_login_t" && $2 ~ /^pwb_login_(runtime|var_lib|exec)_t$/) &&
		!($1 == "pwb_login_t" && $2 ~ /^pwb_(var_lib|nss)_t$/ && $4 !~ /write|create|unlink/) { print "front end reaches " $2 ": " $0 }'
	printf '%s\n' "$rules" | awk '$2 == "pwb_secret_t" && $1 != "pwbd_t" { print "reads secrets: " $0 }'
}

# ---- the module as shipped ----
build=$PWB_TMP/se
mkdir -p "$build"
cp "$se/pwb.te" "$se/pwb.fc" "$se/pwb.if" "$build/"
out=$(compile "$build")
rc=$?
tap_is "pwb.pp compiles against the reference policy headers" "$rc" 0
tap_unlike "no error or warning from checkmodule/semodule_package" "$out" '[Ee]rror|[Ww]arning'
[ "$rc" = 0 ] || tap_diag "$out"
tap_is "pwb.pp is a policy package" "$(od -An -tx1 -N4 "$build/pwb.pp" 2>/dev/null | tr -d ' ')" 8fff7cf9
tap_like "the module is named pwb" "$(head -1 "$se/pwb.te")" '^policy_module\(pwb, [0-9.]+\)$'

rules=$(allow_rules "$build/tmp/pwb.tmp")
tap_like "the expanded module has allow rules" "$(printf '%s\n' "$rules" | wc -l)" '^[0-9]{3,}$'
tap_is "pwbd_t alone writes the store, the snapshot and homes; the front ends stay in their files" \
	"$(violations "$rules")" ""
has() { printf '%s\n' "$rules" | grep -qx -- "$1"; }
tap_check "pwbd_t writes the store" has "pwbd_t pwb_store_t file write"
tap_check "pwbd_t publishes the snapshot" has "pwbd_t pwb_nss_t file create"
tap_check "pwbd_t creates homes (user_home_dir_t in /home)" has "pwbd_t home_root_t dir add_name"
tap_check "pwbd_t copies the skeleton into homes" has "pwbd_t user_home_t file create"
tap_check "pwbd_t may chown homes" has "pwbd_t self capability chown"
tap_check "every domain that resolves users reads the snapshot" has "nsswitch_domain pwb_nss_t file read"
tap_check "... and maps its generation counter" has "nsswitch_domain pwb_nss_t file map"
tap_is "... and writes nothing of pwb's" \
	"$(printf '%s\n' "$rules" | awk -v w="^($WRITE_PERMS)$" '$1 == "nsswitch_domain" && $2 ~ /^pwb/ && $4 ~ w' | wc -l)" 0
tap_check "PAM domains connect to pwbd" has "pam_domain pwbd_t unix_stream_socket connectto"
for d in sshd_t xdm_t local_login_t crond_t sudodomain init_t pwb_scim_t pwb_login_t; do
	tap_check "$d connects to pwbd" has "$d pwbd_t unix_stream_socket connectto"
done
tap_check "the web server connects to pwb-scim" has "httpd_t pwb_scim_t unix_stream_socket connectto"
tap_check "the web server connects to pwb-login" has "httpd_t pwb_login_t unix_stream_socket connectto"
tap_check "pwb-login keeps its own sessions" has "pwb_login_t pwb_login_var_lib_t file create"
tap_check "sshd keeps the OIDC cache (device sign-in)" has "sshd_t pwb_cache_t file create"

# ---- an attack: a rule letting pwb-scim write the store is caught ----
bad=$PWB_TMP/se-bad
mkdir -p "$bad"
cp "$se/pwb.te" "$se/pwb.fc" "$se/pwb.if" "$bad/"
echo 'allow pwb_scim_t pwb_store_t:file { open write };' >>"$bad/pwb.te"
compile "$bad" >/dev/null
tap_like "a planted rule (pwb_scim_t writes the store) is reported" \
	"$(violations "$(allow_rules "$bad/tmp/pwb.tmp")")" '^writes pwb_store_t: pwb_scim_t pwb_store_t file write$'

# ---- file contexts: the paths pwb uses get the right types ----
# context_of PATH: the type of the most specific pwb.fc entry matching PATH
# (the longest fixed prefix before a regular-expression character, as
# libselinux orders them).
context_of() {
	awk -v path="$1" '
	/^\// {
		re = $1; type = $NF; sub(/^.*:object_r:/, "", type); sub(/[:,].*/, "", type)
		if (path !~ ("^" re "$")) next
		stem = re; sub(/[.^$?*+|[(){}\\].*$/, "", stem)
		if (length(stem) > best) { best = length(stem); found = type }
	}
	END { print found }' "$se/pwb.fc"
}
unit=$PWB_TEST_SRCDIR/examples/systemd
unit_value() { sed -n "s/^$2=//p" "$unit/$1" | head -1; }
sock=$(unit_value pwbd.socket ListenStream)
tap_is "pwbd's socket ($sock) is pwbd_runtime_t" "$(context_of "$sock")" pwbd_runtime_t
tap_is "its directory is pwbd_runtime_t" "$(context_of "${sock%/*}")" pwbd_runtime_t
s=$(unit_value pwb-scim.socket ListenStream)
tap_is "pwb-scim's socket ($s) is pwb_scim_runtime_t" "$(context_of "$s")" pwb_scim_runtime_t
s=$(unit_value pwb-login.socket ListenStream)
tap_is "pwb-login's socket ($s) is pwb_login_runtime_t" "$(context_of "$s")" pwb_login_runtime_t
s=/var/lib/$(unit_value pwb-login.service StateDirectory)
tap_is "pwb-login's state dir ($s) is pwb_login_var_lib_t" "$(context_of "$s/x")" pwb_login_var_lib_t
for u in pwbd:pwbd_exec_t pwb-scim:pwb_scim_exec_t pwb-login:pwb_login_exec_t; do
	exe=$(unit_value "${u%%:*}.service" ExecStart)
	tap_is "$exe is ${u#*:}" "$(context_of "$exe")" "${u#*:}"
done
db=$(unit_value pwbd.service ReadWritePaths | awk '{ print $1 }')
tap_is "db-dir ($db) is pwb_var_lib_t" "$(context_of "$db")" pwb_var_lib_t
tap_is "the store is pwb_store_t" "$(context_of "$db/store/__db.001")" pwb_store_t
tap_is "the snapshot is pwb_nss_t" "$(context_of "$db/nss/generation")" pwb_nss_t
tap_is "the cache is pwb_cache_t" "$(context_of "$db/cache/jwks.json")" pwb_cache_t
tap_is "pwb.conf is pwb_conf_t" "$(context_of /etc/pwb/pwb.conf)" pwb_conf_t
tap_is "the secure key is pwb_secret_t" "$(context_of /etc/pwb/secure-key)" pwb_secret_t
tap_is "the client secret is pwb_secret_t" "$(context_of /etc/pwb/openid-client-secret)" pwb_secret_t
tap_is "pwbadm stays unlabelled by pwb (the admin's domain)" "$(context_of /usr/sbin/pwbadm)" ""

tap_done
