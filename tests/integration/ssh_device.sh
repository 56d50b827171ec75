#!/usr/bin/env bash
# Terminal sign-in over a real sshd (Debian's openssh-server) with
# pam_pwb_oidc's device mode (RFC 8628) against the real test IdP
# (oidc-provider, features.deviceFlow), all in a private network and mount
# namespace (tests/lib/sshd.sh). A real ssh client on a pty (expect) reads
# the code from the one prompt, the code is approved or denied at the IdP's
# own /device pages over HTTPS (curl with a cookie jar, as a browser), and
# Enter is pressed. Cases: approve with each client authentication (public,
# client_secret_basic, client_secret_post) -> shell, `id` shows the user;
# deny; expiry; slow_down (the next poll comes >= 5 s later, seen in the
# IdP's log, and the sign-in still succeeds); another person approves
# (ssh bob@, alice approves) -> refused, one syslog line naming both; an
# ID token typed at the prompt is ignored; the client vanishes mid-poll ->
# the polls stop and sshd keeps no process for it (sshd ends its PAM
# process); the module's own stop when the conversation ends (pamtester on
# the same stack, end of input); a provisioned user without a home signs in
# for the first time (SCIM through nginx and pwb-scim) -> home made, `id`
# as them; an unknown user -> refused before any device code; a client
# without the device grant -> one clear line; the per-address cap refuses
# the (cap+1)th concurrent flow. Every refusal is checked in what ssh shows (the module's
# message arrives as keyboard-interactive instructions) and in syslog.
# The sanitizer pass (PWB_SANITIZE) runs approve and deny only. The time
# from the approving poll to the shell is printed as a TAP comment (a
# figure for the record, not an assertion).
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/sshd.sh"
pwb_sshd_netns "$@"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"
. "$PWB_TEST_SRCDIR/tests/lib/idp.sh"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
set -u

adm_require_pwbadm
adm_have_nss || tap_bail "nss_pwb not built"
pwb_syslog_capture || tap_bail "cannot capture syslog"
# The IdP's web clients need a redirect URI; nothing listens there.
PWB_LOGIN_BASE=https://127.0.0.1:9
pwb_idp_start || tap_bail "the IdP did not start"
pwb_idp_configure basic || tap_bail "cannot configure the IdP"
pwb_idp_device_configure pwb-device || tap_bail "cannot write the device client file"
pwb_conf_set "auth-openid-device-max-flows-per-address=2"
pwb_pwbd_restart >/dev/null || tap_bail "pwbd did not restart"
for u in alice bob; do pwbadm add-user "$u" >/dev/null || tap_bail "add-user $u"; done
pwb_sshd_pam || tap_bail "cannot write /etc/pam.d/sshd"
pwb_sshd_start || tap_bail "sshd did not start"
HOST=$(hostname)

# sign_in NAME USER [APPROVER] [deny]: one sign-in up to the result (the
# code approved or denied by APPROVER, default USER; Enter pressed after).
sign_in() {
	local name=$1 user=$2 approver=${3:-$2} deny=${4:-} code
	pwb_ssh_begin "$name" "$user"
	code=$(pwb_ssh_code "$name") || { echo "no device prompt"; pwb_ssh_out "$name"; return 1; }
	if ! pwb_idp_device_approve "$code" "$approver" $deny; then
		pwb_ssh_go "$name" hangup
		return 1
	fi
	pwb_ssh_go "$name" enter
	pwb_ssh_end "$name"
}

# said NAME: what ssh printed but its own "Permission denied" line (the
# module's message reaches ssh as keyboard-interactive instructions).
said() { pwb_ssh_out "$1" | grep -v 'Permission denied'; }

# polls NAME: the IdP's poll lines for NAME's device code.
polls() { pwb_idp_device_polls "$(pwb_idp_digest "$(cat "$PWB_TMP/ssh-$1/code")")"; }

# timing NAME: ms from the approving poll (IdP side) and from Enter to the
# shell having run `id`.
timing() {
	local ok shell enter
	ok=$(polls "$1" | sed -n 's/^t=\([0-9]*\) result=ok$/\1/p' | head -1)
	shell=$(pwb_ssh_time "$1" t-shell) enter=$(pwb_ssh_time "$1" t-enter)
	[ -n "$ok" ] && [ -n "$shell" ] && [ -n "$enter" ] || return 0
	tap_diag "$1: approving poll -> shell ran id: $((shell - ok)) ms; Enter -> shell: $((shell - enter)) ms"
}

# ---- approve: each client authentication; the prompt; id shows the user
n=$(pwb_syslog_count)
r=$(sign_in approve alice)
tap_is "approve (public client): the shell runs id" "$r" shell
prompt=$(tr -d '\r' <"$PWB_TMP/ssh-approve/prompt" 2>/dev/null)
tap_like "the prompt names the host and the account" "$prompt" "Sign in to $HOST as alice"
tap_like "the prompt shows the IdP's verification URL" "$prompt" "Open: $PWB_IDP_URL/device"
tap_like "id shows alice" "$(pwb_ssh_out approve)" "uid=[0-9]+\(alice\)"
log=$(pwb_syslog_since "$n")
tap_like "one syslog line for the sign-in names alice" "$log" "alice"
tap_unlike "syslog holds no user code" "$log" "$(cat "$PWB_TMP/ssh-approve/code")"
timing approve

if [ -z "${PWB_SANITIZE:-}" ]; then
	for m in basic post; do
		pwb_idp_device_configure "pwb-device-$m"
		tap_is "approve (client_secret_$m): the shell runs id" "$(sign_in "approve-$m" alice)" shell
		tap_like "client_secret_$m: the IdP saw that client" \
			"$(grep "^idp: device_authorization client=pwb-device-$m " "$PWB_IDP_LOG")" .
		timing "approve-$m"
	done
	pwb_idp_device_configure pwb-device
fi

# ---- deny: refused, a clear message to the person and to syslog
n=$(pwb_syslog_count)
tap_is "deny: refused" "$(sign_in deny alice alice deny)" refused
tap_like "deny: ssh shows why" "$(said deny)" "[Dd]enied"
tap_like "deny: syslog says why" "$(pwb_syslog_since "$n")" "alice.*[Dd]enied|[Dd]enied.*alice"

if [ -n "${PWB_SANITIZE:-}" ]; then
	tap_done
	exit
fi

# ---- expiry: the code outlives the IdP's lifetime for it
pwb_idp_device_configure pwb-device-short
n=$(pwb_syslog_count)
pwb_ssh_begin expire alice
if code=$(pwb_ssh_code expire); then
	sleep "$((${PWB_IDP_DEVICE_SHORT_TTL:-4} + 1))"
	pwb_ssh_go expire enter
fi
tap_is "expiry: refused" "$(pwb_ssh_end expire)" refused
tap_like "expiry: ssh says expired" "$(said expire)" "[Ee]xpired"
tap_like "expiry: syslog says expired" "$(pwb_syslog_since "$n")" "[Ee]xpired"

# ---- slow_down: the module backs off by 5 s and still succeeds
pwb_idp_device_configure pwb-device-slow
tap_is "slow_down: the sign-in still succeeds" "$(sign_in slow alice)" shell
p=$(polls slow)
t1=$(printf '%s\n' "$p" | sed -n 's/^t=\([0-9]*\) result=slow_down$/\1/p' | head -1)
t2=$(printf '%s\n' "$p" | grep -A1 'result=slow_down' | sed -n '2s/^t=\([0-9]*\) .*/\1/p')
if [ -n "$t1" ] && [ -n "$t2" ] && [ $((t2 - t1)) -ge 5000 ]; then
	tap_ok "slow_down: the next poll came $((t2 - t1)) ms later (>= 5 s)"
else
	tap_fail "slow_down: the next poll came >= 5 s later"
	tap_diag "$p"
fi
pwb_idp_device_configure pwb-device

# ---- another person approves: ssh bob@, alice approves
n=$(pwb_syslog_count)
tap_is "bob's sign-in approved by alice: refused" "$(sign_in other bob alice)" refused
tap_like "one syslog line names both bob and alice" "$(pwb_syslog_since "$n")" \
	"bob.*alice|alice.*bob"
tap_unlike "no shell for bob" "$(pwb_ssh_out other)" "uid=[0-9]+\(bob\)"
tap_like "bob is told the sign-in was refused" "$(said other)" "[Rr]efused"

# ---- an ID token typed at the prompt is ignored (a valid one, for the
# device client itself, from a flow the test ran with curl)
token=$(pwb_idp_device_token pwb-device alice) || tap_bail "no ID token from the IdP"
n=$(pwb_syslog_count)
accepted=$(grep -c 'Accepted keyboard-interactive' "$PWB_SSHD_LOG")
pwb_ssh_begin pasted alice hangup
if pwb_ssh_code pasted >/dev/null; then pwb_ssh_go pasted "text:$token"; fi
tap_is "an ID token typed at the prompt: no sign-in" "$(pwb_ssh_end pasted)" "hung up"
tap_unlike "the pasted token's flow never completed at the IdP" "$(polls pasted)" "result=ok"
tap_is "sshd accepted nobody meanwhile" "$(grep -c 'Accepted keyboard-interactive' "$PWB_SSHD_LOG")" \
	"$accepted"
tap_unlike "the token is not in syslog" "$(pwb_syslog_since "$n")" "${token:0:40}"

# ---- the client vanishes mid-poll: the polls stop
pwb_ssh_begin vanish alice hangup
if pwb_ssh_code vanish >/dev/null; then pwb_ssh_go vanish enter; fi
tap_is "vanish: the client hung up at 'Not approved yet'" "$(pwb_ssh_end vanish)" "hung up"
sleep 3
before=$(polls vanish | wc -l)
sleep 4
after=$(polls vanish | wc -l)
if [ "$before" -ge 1 ] && [ "$before" = "$after" ]; then
	tap_ok "vanish: no poll after the client went away ($before polls, none in the 4 s after)"
else
	tap_fail "vanish: the polls stop"
	tap_diag "polls 3 s after the hangup: $before, 4 s later: $after"
fi
# (sshd ends its PAM process when the client goes: no line is logged then)
tap_is "vanish: no sshd process is left for the connection" "$(pgrep -P "$PWB_SSHD_PID" | wc -l)" 0

# sshd ends its PAM process when the client goes; the module's own check
# (the conversation fails at "Not approved yet") is seen through pamtester
# on the same stack, its stdin closed after the first Enter. Linux-PAM's
# misc_conv answers end of input with PAM_SUCCESS and no response, which
# the module takes as a failed conversation.
n=$(pwb_syslog_count)
pam_rc=0 # (not rc: tap_check has a local of that name)
printf '\n' | timeout 8 pamtester sshd alice authenticate >"$PWB_TMP/pamtester.out" 2>&1 || pam_rc=$?
stopped() { [ "$pam_rc" != 0 ] && [ "$pam_rc" != 124 ] && grep -q 'Code:' "$PWB_TMP/pamtester.out"; }
tap_check "conversation ends (end of input): the module stops (pamtester refused, not still polling after 8 s)" stopped
tap_check "conversation ends (end of input): syslog says the flow was abandoned" \
	grep -Eq "alice.*(abandon|went away)" <(pwb_syslog_since "$n")

# ---- a SCIM-provisioned user without a home signs in for the first time
SCIM_TOKEN=$(pwb_scim_token ssh-test) || tap_bail "cannot store a SCIM token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
scim_req POST /Users "$(scim_user_json carol)"
tap_is "carol is provisioned through SCIM" "$SCIM_STATUS" 201
home=$PWB_HOME_ROOT/carol
tap_check_fails "carol has no home yet" test -e "$home"
tap_is "carol's first sign-in: the shell runs id" "$(sign_in first carol)" shell
tap_like "id shows carol" "$(pwb_ssh_out first)" "uid=[0-9]+\(carol\)"
tap_is "carol's home is made, hers" "$(stat -c %U "$home" 2>/dev/null)" carol

# ---- an unknown user: refused before any device code
das=$(grep -c '^idp: device_authorization' "$PWB_IDP_LOG")
n=$(pwb_syslog_count)
pwb_ssh_begin unknown zed
tap_is "unknown user: refused" "$(pwb_ssh_end unknown)" refused
tap_like "unknown user: ssh says there is no account" "$(said unknown)" "no account zed on $HOST"
tap_like "unknown user: syslog says so" "$(pwb_syslog_since "$n")" "zed.*no (such )?account"
tap_is "unknown user: no device code requested" "$(grep -c '^idp: device_authorization' "$PWB_IDP_LOG")" "$das"

# ---- a client the IdP does not allow the device grant (as Entra's
# AADSTS7000218 or Okta's grant not enabled): one clear line each side
pwb_idp_device_configure pwb-web
n=$(pwb_syslog_count)
pwb_ssh_begin nogrant alice
tap_is "no device grant for the client: refused" "$(pwb_ssh_end nogrant)" refused
tap_like "no device grant: ssh says so" "$(said nogrant)" "not allow"
tap_like "no device grant: syslog says so" "$(pwb_syslog_since "$n")" "alice.*not allow"
pwb_idp_device_configure pwb-device

# ---- the per-address cap (2 here): the third concurrent flow is refused
pwb_ssh_begin cap1 alice go
pwb_ssh_begin cap2 bob go
pwb_ssh_code cap1 >/dev/null && pwb_ssh_code cap2 >/dev/null ||
	tap_diag "the first two flows did not reach the prompt"
n=$(pwb_syslog_count)
pwb_ssh_begin cap3 carol
tap_is "cap: the third concurrent flow from 127.0.0.1 is refused" "$(pwb_ssh_end cap3)" refused
tap_like "cap: ssh shows why" "$(said cap3)" "[Tt]oo many|in progress"
tap_like "cap: syslog says why" "$(pwb_syslog_since "$n")" "carol.*(too many|in progress)"
pwb_ssh_go cap1 hangup
pwb_ssh_go cap2 hangup
pwb_ssh_end cap1 >/dev/null
pwb_ssh_end cap2 >/dev/null

tap_done
