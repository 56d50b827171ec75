#!/usr/bin/env bash
# pwbadm check inside a mount namespace with bind-mounted /etc files: each
# check turns FAIL when its part of the setup is broken and ok when fixed,
# every line says ok/WARN/FAIL (and a fix when not ok), and the exit status
# is non-zero exactly when something FAILs.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

# check_line AREA TEXT: the lines of check's output for one area.
check_line() { printf '%s\n' "$2" | grep -E "^(ok|WARN|FAIL) +$1: "; }
# Rewrites a bind-mounted file in place (a rename would miss the mount).
put() { cat >"$1"; }

nss_good() {
	put /etc/nsswitch.conf <<-EOF
	passwd: files systemd pwb
	group: files systemd pwb
	shadow: files pwb
	hosts: files
	EOF
}

tap_like "no store yet: FAIL, and check does not create it" "$(pwbadm check | grep -E '^[A-Za-z]+ +store: ')" '^FAIL +store: .*/store: No such file'
tap_check_fails "... (still none)" test -e "$PWB_DB_DIR/store"
pwbadm add-user alice >/dev/null || tap_bail "cannot add a user"
nss_good
out=$(pwbadm check)
rc=$?
tap_check "every line is ok/WARN/FAIL, then a summary" \
	test -z "$(printf '%s\n' "$out" | sed '$d' | grep -vE '^(ok|WARN|FAIL)  [a-z ]+: ')"
tap_like "summary line" "$(printf '%s\n' "$out" | tail -1)" '^[0-9]+ failed, [0-9]+ warnings$'
tap_check "every WARN/FAIL line says how to fix it" \
	test -z "$(printf '%s\n' "$out" | grep -E '^(WARN|FAIL)' | grep -v '; fix: ')"
tap_like "config parses" "$(check_line config "$out")" "^ok +config: $PWB_CONF parses$"
tap_like "store opens and verifies" "$(check_line store "$out")" '^ok +store: .* opens and verifies$'
tap_like "snapshot present and current" "$(check_line snapshot "$out")" '^ok +snapshot: .*present and current'
tap_is "nsswitch ok for passwd, group, shadow" "$(check_line nsswitch "$out" | grep -c '^ok')" 3
tap_like "nscd not running in the namespace" "$(check_line nscd "$out")" '^ok +nscd: '
tap_like "home path writable" "$(check_line home "$out")" "^ok +home: $PWB_HOME_ROOT writable"
tap_like "no PAM service uses the module yet: FAIL" "$(check_line pam "$out" | head -1)" '^FAIL +pam: no service'
tap_is "a FAIL makes the exit status 1" "$rc" 1

# ---- nsswitch: missing entry FAILs, fixed is ok ----
put /etc/nsswitch.conf <<-EOF
passwd: files systemd
group: files pwb
shadow: files pwb
EOF
out=$(pwbadm check)
tap_like "passwd without pwb: FAIL" "$(check_line nsswitch "$out" | grep passwd)" \
	'^FAIL +nsswitch: passwd: does not list pwb; fix: '
tap_like "group still ok" "$(check_line nsswitch "$out" | grep group)" '^ok +nsswitch: group: lists pwb'
put /etc/nsswitch.conf <<-EOF
passwd: files sss pwb
group: files [NOTFOUND=return] pwb
EOF
out=$(pwbadm check)
tap_like "pwb after sss: WARN (a network source)" "$(check_line nsswitch "$out" | grep passwd)" '^WARN +nsswitch: passwd: lists the network source sss before pwb'
tap_like "an action between services is skipped" "$(check_line nsswitch "$out" | grep group)" '^ok '
tap_like "no shadow line: FAIL" "$(check_line nsswitch "$out" | grep shadow)" '^FAIL +nsswitch: no shadow: line'
# A network source before pwb on passwd or group: its outages look like
# "not found" to pwb's uid/gid allocator (issue 12). Shadow does not matter.
put /etc/nsswitch.conf <<-EOF
passwd: files ldap pwb
group: sss [UNAVAIL=continue] files pwb
shadow: files winbind pwb
EOF
out=$(pwbadm check)
tap_like "ldap before pwb on passwd: WARN" "$(check_line nsswitch "$out" | grep passwd)" \
	'^WARN +nsswitch: passwd: lists the network source ldap before pwb: .*allocator.*; fix: list pwb before ldap'
tap_like "sss before pwb on group: WARN" "$(check_line nsswitch "$out" | grep group)" \
	'^WARN +nsswitch: group: lists the network source sss before pwb'
tap_like "a network source before pwb on shadow: ok" "$(check_line nsswitch "$out" | grep shadow)" '^ok '
put /etc/nsswitch.conf <<-EOF
passwd: files pwb sss winbind
group: files pwb ldap
shadow: files pwb
EOF
tap_is "network sources after pwb: all ok" "$(check_line nsswitch "$(pwbadm check)" | grep -c '^ok')" 3
nss_good
tap_is "fixed: nsswitch all ok" "$(check_line nsswitch "$(pwbadm check)" | grep -c '^ok')" 3

# ---- identities: users not yet bound to an IdP subject are listed ----
for u in ivan judy; do pwbadm add-user "$u" >/dev/null; done
tap_like "unbound users listed by name (they bind at first sign-in)" \
	"$(check_line identity "$(pwbadm check)")" '^ok +identity: 3 users not yet signed in bind to their IdP subject at the first sign-in: (alice|ivan|judy), (alice|ivan|judy), (alice|ivan|judy)$'
for u in $(seq 1 12); do pwbadm add-user "many$u" >/dev/null; done
tap_like "the list is capped" "$(check_line identity "$(pwbadm check)")" ': 15 users .*: ([a-z0-9]+, ){9}[a-z0-9]+ \(and 5 more\)$'
for u in alice ivan judy $(seq -f 'many%g' 1 12); do
	pwbadm rebind-user "$u" --subject "sub-$u" --issuer https://idp.example.com >/dev/null
done
tap_like "all bound: ok" "$(check_line identity "$(pwbadm check)")" '^ok +identity: all 15 users are bound to an IdP subject$'
tap_like "a store within policy: ok" "$(check_line policy "$(pwbadm check)")" '^ok +policy: every user and group fits the policy$'
for u in ivan judy $(seq -f 'many%g' 1 12); do pwbadm delete-user --yes "$u" >/dev/null; done
# A user from before identity binding (planted with mkhome's store tool,
# which writes what an older pwb wrote): it binds only if pwb.conf allows.
pwbadm add-user olga >/dev/null
# (the tool opens the store itself: pwbd, its one opener, steps aside)
pwb_pwbd_stop
"$PWB_TEST_BUILDDIR/tests/tools/mkhome_store_tool" make-legacy olga >/dev/null 2>&1
legacy=$?
pwb_pwbd_start
tap_is "olga is planted as a user from before identity binding" "$legacy" 0
if [ "$legacy" = 0 ]; then
	tap_like "a user from before bindings that sign-in will not bind: WARN" \
		"$(check_line identity "$(pwbadm check)")" \
		'^WARN +identity: 1 user from before identity binding, not bound, and sign-in does not bind them: olga; fix: pwbadm rebind-user'
	pwb_conf_set auth-openid-bind-existing-users=1
	tap_like "... that sign-in will bind to whoever comes first: WARN" \
		"$(check_line identity "$(pwbadm check)")" \
		'^WARN +identity: 1 user from before identity binding: the next sign-in with the name binds it to whoever signs in: olga; fix: '
	sed -i '/^auth-openid-bind-existing-users=/d' "$PWB_CONF"
	tap_like "rebind-user NAME makes it pending" "$(pwbadm rebind-user olga)" '^user olga unbound \(was not bound\)'
	tap_is "... so its next sign-in binds it" "$(pwbadm show-user olga --json | jq -r .bindOnLogin)" true
fi
pwbadm delete-user --yes olga >/dev/null

# ---- nss module ----
out=$(pwbadm check)
if adm_have_nss; then
	tap_like "libnss_pwb.so.2 found (LD_LIBRARY_PATH)" "$(check_line 'nss module' "$out")" '^ok '
else
	tap_like "libnss_pwb.so.2 not built: FAIL" "$(check_line 'nss module' "$out")" '^FAIL '
fi
tap_like "libnss_pwb.so.2 not on the path: FAIL" \
	"$(check_line 'nss module' "$(LD_LIBRARY_PATH=/nonexistent pwbadm check)")" \
	'^FAIL +nss module: libnss_pwb.so.2 not found'

# ---- snapshot: missing or stale FAILs, rebuild-nss fixes ----
rm -f "$PWB_DB_DIR/nss/"*.db
tap_like "missing snapshot: FAIL" "$(check_line snapshot "$(pwbadm check)")" '^FAIL +snapshot: .*delta.db was missing.*; fix: '
rm -f "$PWB_DB_DIR/nss/"*.db
pwbadm rebuild-nss >/dev/null
tap_like "rebuilt snapshot: ok" "$(check_line snapshot "$(pwbadm check)")" '^ok '
cp -a "$PWB_DB_DIR/nss" "$PWB_TMP/nss-old"
pwbadm add-user bob >/dev/null
rm -rf "$PWB_DB_DIR/nss" && cp -a "$PWB_TMP/nss-old" "$PWB_DB_DIR/nss"
tap_like "a snapshot without the newest user is stale: FAIL" \
	"$(check_line snapshot "$(pwbadm check)")" '^FAIL +snapshot: user bob is missing or stale'
pwbadm rebuild-nss >/dev/null
tap_like "rebuild-nss makes it current" "$(check_line snapshot "$(pwbadm check)")" '^ok '

# A group line longer than check's read buffer still compares (prefix).
{
	for i in $(seq 1 80); do printf '{"type":"user","name":"member%02d"}\n' "$i"; done
	printf '{"type":"group","name":"big","members":[%s]}\n' \
		"$(seq -f '"member%02g"' 1 80 | paste -sd,)"
} >"$PWB_TMP/big.jsonl"
pwbadm import "$PWB_TMP/big.jsonl" >/dev/null || tap_bail "cannot import the big group"
tap_like "a group with a long member list is current" "$(check_line snapshot "$(pwbadm check)")" '^ok '

# ---- PAM ----
mod=$PWB_TMP/lib/pam_pwb_oidc.so
mkdir -p "$PWB_TMP/lib" "$PWB_TMP/skel" && : >"$mod" && : >"$PWB_TMP/lib/pam_pwb_mkhome.so"
put /etc/pam.d/rstudio <<-EOF
auth     required $mod
account  required $PWB_TMP/lib/pam_pwb_mkhome.so
session  required $PWB_TMP/lib/pam_pwb_mkhome.so skel=$PWB_TMP/skel umask=0077
EOF
out=$(pwbadm check)
tap_like "a service using pam_pwb_oidc: ok" "$(check_line pam "$out" | head -1)" '^ok +pam: /etc/pam.d/rstudio uses pam_pwb_oidc.so'
tap_like "and pam_pwb_mkhome: ok" "$(check_line pam "$out" | tail -1)" '^ok +pam: /etc/pam.d/rstudio uses pam_pwb_mkhome.so'
tap_like "skel= of pam_pwb_mkhome is checked" "$(check_line skel "$out")" "^ok +skel: $PWB_TMP/skel present"
rm "$mod"
tap_like "a module that is not installed: FAIL" "$(check_line pam "$(pwbadm check)" | head -1)" '^FAIL +pam: .*pam_pwb_oidc.so \(used by rstudio\) is not installed'
rmdir "$PWB_TMP/skel"
tap_like "missing skel: WARN" "$(check_line skel "$(pwbadm check)")" '^WARN +skel: '

# ---- issuer ----
cp "$PWB_CONF" "$PWB_TMP/base.conf"
tap_like "no issuer: WARN" "$(check_line issuer "$(pwbadm check)")" '^WARN +issuer: auth-openid-issuer is not set'
pwb_conf_set "auth-openid-issuer=http://idp.example"
tap_like "plain http issuer: FAIL" "$(check_line issuer "$(pwbadm check)")" '^FAIL +issuer: .*https://'
port=$(pwb_free_port)
cp "$PWB_TMP/base.conf" "$PWB_CONF"
pwb_conf_set "auth-openid-issuer=https://127.0.0.1:$port" "auth-openid-http-timeout=2"
tap_like "unreachable issuer: FAIL" "$(check_line issuer "$(pwbadm check)")" '^FAIL +issuer: discovery failed'
tap_like "client-secret file missing with an issuer: FAIL" \
	"$(check_line 'client secret' "$(pwbadm check)")" '^FAIL +client secret: .*openid-client-secret'
cp "$PWB_TMP/base.conf" "$PWB_CONF"

# A real issuer over TLS with a private CA (tests/lib/issuer.sh).
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
out=$(pwbadm check)
tap_like "issuer reachable and matching: ok" "$(check_line issuer "$out")" '^ok +issuer: discovery reachable and issuer matches$'
tap_like "client-secret file with a client id: ok" "$(check_line 'client secret' "$out")" '^ok +client secret: /etc/pwb/openid-client-secret present, 0600'
discovery=$PWB_ISSUER_DIR/www/.well-known/openid-configuration
cp "$discovery" "$PWB_TMP/discovery.json"
jq -c '.issuer = "https://other.example"' "$PWB_TMP/discovery.json" >"$discovery"
tap_like "discovery naming another issuer: FAIL" "$(check_line issuer "$(pwbadm check)")" \
	'^FAIL +issuer: discovery says issuer "https://other.example", configured "https://127.0.0.1:[0-9]+"; fix: '
cp "$PWB_TMP/discovery.json" "$discovery"
grep -v '^auth-openid-ca-file=' "$PWB_CONF" >"$PWB_TMP/noca.conf" && cat "$PWB_TMP/noca.conf" >"$PWB_CONF"
tap_like "an issuer whose CA is not trusted: FAIL" "$(check_line issuer "$(pwbadm check)")" '^FAIL +issuer: discovery failed.*; fix: .*auth-openid-ca-file'
pwb_issuer_stop
rm -f /etc/pwb/openid-client-secret
cp "$PWB_TMP/base.conf" "$PWB_CONF"

# ---- home path ----
sed "s|^user-homedir-path=.*|user-homedir-path=$PWB_TMP/no-such-dir|" "$PWB_TMP/base.conf" >"$PWB_CONF"
tap_like "missing home path: FAIL" "$(check_line home "$(pwbadm check)")" '^FAIL +home: .*no-such-dir is not a directory'
cp "$PWB_TMP/base.conf" "$PWB_CONF"

# ---- config ----
pwb_conf_set "no-such-key=1"
out=$(pwbadm check)
rc=$?
tap_like "a bad config: FAIL naming the line and key" "$(check_line config "$out")" "^FAIL +config: .*pwb.conf.*line [0-9]+.*no-such-key"
tap_is "exit status 1" "$rc" 1
tap_like "the store is then not checked (never the default db-dir)" "$(check_line store "$out")" '^WARN +store: not checked'
cp "$PWB_TMP/base.conf" "$PWB_CONF"

tap_is "check takes no arguments: usage error" "$(adm_status pwbadm check extra)" 2

tap_done
