#!/usr/bin/env bash
# Valgrind memcheck over the real stacks: getent/id through nss_pwb
# (passwd, group, shadow, initgroups, enumeration), pamtester through both
# PAM modules with a real token (JIT first login, then a repeat login), and
# pwb-scim as a CGI program for a POST/GET/PATCH/DELETE cycle, and pwbd
# itself serving a batch of requests until SIGTERM. Zero errors
# and zero definitely-lost bytes; tests/lib/valgrind.supp may only name
# other projects' libraries.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"

command -v valgrind >/dev/null || tap_bail "valgrind is not installed (scripts/deps.d/hardening.txt)"
for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_BIN_PWBADM" \
	"$PWB_BIN_SCIM" "$PWB_TEST_SIGN"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
VG_LOGS=$PWB_TMP/valgrind
mkdir -p "$VG_LOGS" && chmod 0777 "$VG_LOGS"

# vg_check DESC CMD...: CMD under memcheck (children too: through env,
# setpriv and sh) exits as it would without it, and valgrind reports
# nothing (errors or definite leaks: exit 99). With VG_EXPECT=NAME, also
# checks that valgrind did run NAME (so a wrapper cannot hide it).
# VG_PREFIX: commands run before valgrind (env, setpriv: valgrind cannot
# reopen its log once the process has switched to the store user).
VG_N=0
VG_PREFIX=()
vg_check() {
	local desc=$1 rc=0 log report
	shift
	VG_N=$((VG_N + 1))
	log=$VG_LOGS/$VG_N.log
	"${VG_PREFIX[@]}" valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --trace-children=yes --num-callers=30 \
		--suppressions="$PWB_TEST_SRCDIR/tests/lib/valgrind.supp" --gen-suppressions=all \
		--log-file="$log.%p" "$@" >"$VG_LOGS/$VG_N.out" 2>&1 <"${VG_STDIN:-/dev/null}" || rc=$?
	# Every process's own verdict (a wrapper's exit status may hide a child's).
	report=$(grep -hE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$log".* || true)
	if [ -n "${VG_EXPECT:-}" ] && ! grep -q "Command: .*$VG_EXPECT" "$log".*; then
		rc="valgrind did not run $VG_EXPECT"
	fi
	if [ "$rc" = 0 ] && [ -z "$report" ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc (exit $rc)"
		tap_diag "$report" "$(cat "$log".* | grep -v '^==[0-9]*== *$' | head -c 8000)" \
			"$(tail -5 "$VG_LOGS/$VG_N.out")"
	fi
}

# ---- NSS: a user with a group, a locked user
pwbadm add-user alice --groups data >/dev/null || tap_bail "pwbadm add-user failed"
pwbadm add-user bob >/dev/null && pwbadm lock-user bob >/dev/null
vg_check "getent passwd alice" getent passwd alice
vg_check "getent passwd 20000 (by uid)" getent passwd 20000
vg_check "getent passwd (enumeration)" getent passwd
vg_check "getent group data" getent group data
vg_check "getent group (enumeration)" getent group
vg_check "getent shadow bob (locked)" getent shadow bob
vg_check "getent shadow (enumeration)" getent shadow
vg_check "getent initgroups alice" getent initgroups alice
vg_check "id alice" id alice
VG_EXPECT=getent vg_check "getent passwd nosuchuser (not found: exit 2)" sh -c 'getent passwd nosuchuser; [ $? = 2 ]'

# ---- PAM: both modules through pamtester, with a real token
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
mkdir -p "$PWB_TMP/skel" && echo x >"$PWB_TMP/skel/.profile"
mkhome_oidc_service pwb-vg "skel=$PWB_TMP/skel umask=0077"
pam_cycle() {
	mkhome_token "$1" '"groups":["analysts"],"name":"Carol","email":"carol@example.com"' \
		>"$PWB_TMP/token"
	VG_STDIN=$PWB_TMP/token vg_check "$2" pamtester -v pwb-vg "$1" authenticate acct_mgmt setcred \
		open_session close_session
}
pam_cycle carol "pamtester: JIT first login of carol (both modules)"
tap_like "carol was registered" "$(getent passwd carol)" '^carol:x:2[0-9]{4}:'
pam_cycle carol "pamtester: repeat login of carol"
pam_cycle alice "pamtester: login of a user pwbadm made"
printf 'not-a-token\n' >"$PWB_TMP/bad"
VG_STDIN=$PWB_TMP/bad VG_EXPECT=pamtester vg_check "pamtester: a refused token (exit 1 expected)" \
	sh -c 'pamtester pwb-vg carol authenticate; [ $? = 1 ]'

# ---- pwb-scim as a CGI program, as the store user
TOKEN=$(pwb_scim_token vg) || tap_bail "cannot store a token"
cgi() {
	local query='' body=${3-}
	case $2 in *\?*) query=${2#*\?} ;; esac
	printf '%s' "$body" >"$PWB_TMP/cgi.in"
	VG_PREFIX=(env -i PATH="$PATH" PWB_CONFIG="$PWB_CONF" GATEWAY_INTERFACE=CGI/1.1
		REQUEST_METHOD="$1" REQUEST_URI="$2" QUERY_STRING="$query" HTTP_HOST=scim.example
		HTTP_AUTHORIZATION="Bearer $TOKEN" CONTENT_LENGTH="${#body}"
		CONTENT_TYPE=application/scim+json setpriv --reuid=pwb --regid=pwb --clear-groups)
	VG_STDIN=$PWB_TMP/cgi.in VG_EXPECT=pwb-scim vg_check "$4" "$PWB_BIN_SCIM"
	VG_PREFIX=()
	CGI_OUT=$VG_LOGS/$VG_N.out
}
cgi POST /scim/v2/Users "$(scim_user_json dave@example.com)" "pwb-scim: POST /Users"
id=$(sed '1,/^\r$/d' "$CGI_OUT" | jq -r .id)
tap_like "POST created dave" "$(head -1 "$CGI_OUT")" '^Status: 201'
cgi GET "/scim/v2/Users/$id" "" "pwb-scim: GET /Users/ID"
cgi GET '/scim/v2/Users?filter=userName%20eq%20%22dave%40example.com%22' "" "pwb-scim: GET with a filter"
cgi PATCH "/scim/v2/Users/$id" \
	'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false},{"op":"replace","path":"name.familyName","value":"X"}]}' \
	"pwb-scim: PATCH /Users/ID"
tap_like "PATCH applied" "$(head -1 "$CGI_OUT")" '^Status: 200'
cgi POST /scim/v2/Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"vg","members":[{"value":"'"$id"'"}]}' \
	"pwb-scim: POST /Groups with a member"
cgi POST /scim/v2/Users '{"userName":"bad name!"}' "pwb-scim: a refused body (400)"
cgi DELETE "/scim/v2/Users/$id" "" "pwb-scim: DELETE /Users/ID"
tap_like "DELETE answered 204" "$(head -1 "$CGI_OUT")" '^Status: 204'

# ---- pwbd under memcheck: a batch of requests (ping, a root-only op that
# opens the store, the store's writes when pwbd has them, refusals of a uid
# without a role and of an op outside the caller's role, malformed frames,
# a silent client), then SIGTERM. The daemon's whole life is checked.
pwb_pwbd_stop
PWBD_VG=$VG_LOGS/pwbd.vg
PWB_PWBD_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
	--errors-for-leak-kinds=definite --num-callers=30 --log-file=$PWBD_VG
	--suppressions=$PWB_TEST_SRCDIR/tests/lib/valgrind.supp"
PWB_PWBD_ARGS="--read-timeout 1"
pwb_pwbd_start
raw() { printf "$1" | "$PWB_PWBD_CALL" --raw >/dev/null 2>&1; }
for _ in 1 2 3; do "$PWB_PWBD_CALL" ping >/dev/null; done
"$PWB_PWBD_CALL" request.status '{"id":"vg-1"}' >/dev/null 2>&1
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PWB_PWBD_CALL" ping >/dev/null 2>&1
setpriv --reuid=pwb-scim --regid=pwb-scim --clear-groups "$PWB_PWBD_CALL" request.status '{"id":"x"}' \
	>/dev/null 2>&1
"$PWB_PWBD_CALL" no.such.op >/dev/null 2>&1
raw '\0\0\0\0'
raw '\0\0\0\x09[1,2,3,4]'
raw '\0\0\0\x22{"v":1,"op":"ping","id":"a","x":1}'
raw '\0\0\0\x0a{"v":1,"op'
raw ''
if ! "$PWB_PWBD_CALL" user.add '{}' 2>&1 | grep -q 'no such op'; then
	pwbadm add-user vgw >/dev/null 2>&1
	pwbadm lock-user vgw >/dev/null 2>&1
	pwbadm delete-user --yes vgw >/dev/null 2>&1
fi
tap_like "pwbd under memcheck answered the whole batch" "$("$PWB_PWBD_CALL" ping 2>&1)" '"pid":'
rc=0
pwb_pwbd_stop || rc=$?
tap_is "pwbd under memcheck: SIGTERM, exit 0 (99: memcheck found something)" "$rc" 0
tap_check "memcheck did run pwbd to its end" grep -q 'ERROR SUMMARY: 0 errors' "$PWBD_VG"
report=$(grep -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$PWBD_VG")
tap_is "pwbd: no memcheck error, nothing definitely lost" "$report" ""
[ -z "$report" ] || tap_diag "$(grep -v '^==[0-9]*== *$' "$PWBD_VG" | head -c 8000)"
PWB_PWBD_WRAPPER= PWB_PWBD_ARGS=
tap_done
