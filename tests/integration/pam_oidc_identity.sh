#!/usr/bin/env bash
# Who a token says it is, through pamtester and the real issuer: with
# auth-openid-username-domains set, only a name carrying one of those
# domains signs in (a bare "alice" or "Alice" is not known to be one of
# them); the subject comes from auth-openid-subject-claim (default "sub",
# Entra's "oid"), is required, and is handed to the account stage with the
# validated issuer; a missing or malformed subject is refused with one
# syslog line naming the claim.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"

[ -f "$PWB_PAM_OIDC" ] || tap_bail "$PWB_PAM_OIDC not built"
pwb_syslog_capture || tap_bail "cannot capture syslog"
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
dump=$PWB_TMP/claims.txt
cat >/etc/pam.d/pwb-test <<PAM
auth required $PWB_PAM_OIDC
account required $PWB_TEST_BUILDDIR/tests/tools/.libs/pam_pwb_test_claims.so $dump
PAM

login() { printf '%s\n' "$2" | pamtester -v pwb-test "$1" authenticate acct_mgmt; }
# token NAME [JSON-MEMBERS]: standard claims with preferred_username=NAME.
token() { pwb_sign_token --claims "$(pwb_token_claims "$@")"; }
# token_without_sub NAME [JSON-MEMBERS]
token_without_sub() {
	pwb_sign_token --claims "$(pwb_token_claims "$@" | sed 's/"sub":"[^"]*",//')"
}

# --- the domain allow-list --------------------------------------------
tap_check "no domains configured: a bare name signs in" login alice "$(token alice)"
pwb_conf_set "auth-openid-username-domains=corp.example"
pwb_oidc_refused "bare alice with domains set" alice "$(token alice)" \
	'username: claim "preferred_username": name "alice" has no domain, and auth-openid-username-domains requires one'
pwb_oidc_refused "bare Alice with domains set" alice "$(token Alice)" \
	'username: .*name "Alice" has no domain'
pwb_oidc_refused "alice@other.example" alice "$(token alice@other.example)" \
	'username: .*domain not in auth-openid-username-domains'
tap_check "alice@corp.example signs in as alice" login alice "$(token alice@corp.example)"
tap_check "Alice@CORP.Example signs in as alice" login alice "$(token Alice@CORP.Example)"

# --- the subject claim ------------------------------------------------
tap_check "default subject claim sub" login alice \
	"$(token alice@corp.example '"oid":"entra-oid-1"')"
tap_is "subject handed over is sub, issuer the validated iss" \
	"$(grep -E '^(issuer|subject)=' "$dump")" "issuer=$PWB_ISSUER_URL
subject=sub-alice@corp.example"
pwb_oidc_refused "no sub" alice "$(token_without_sub alice@corp.example)" \
	'subject: no string claim "sub"$'
pwb_conf_set "auth-openid-subject-claim=oid"
pwb_oidc_refused "subject claim oid missing" alice "$(token alice@corp.example)" \
	'subject: no string claim "oid"$'
tap_check "oid present: signs in" login alice "$(token alice@corp.example '"oid":"entra-oid-1"')"
tap_is "subject handed over is the oid" "$(grep '^subject=' "$dump")" "subject=entra-oid-1"
pwb_oidc_refused "oid is a number" alice "$(token alice@corp.example '"oid":42')" \
	'subject: no string claim "oid"$'
pwb_oidc_refused "oid is empty" alice "$(token alice@corp.example '"oid":""')" \
	'subject: claim "oid" is empty'
pwb_oidc_refused "oid holds a control character" alice \
	"$(token alice@corp.example '"oid":"a\u001b[31mb"')" \
	'subject: claim "oid" contains a control character'
long=$(head -c 256 /dev/zero | tr '\0' x)
pwb_oidc_refused "oid of 256 bytes" alice "$(token alice@corp.example "\"oid\":\"$long\"")" \
	'subject: claim "oid" is longer than 255 bytes'
tap_check "oid of 255 bytes signs in" login alice \
	"$(token alice@corp.example "\"oid\":\"${long:1}\"")"
tap_is "no ESC byte reached syslog" "$(grep -c $'\x1b' "$PWB_SYSLOG")" 0

tap_done
