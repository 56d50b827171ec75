#!/usr/bin/env bash
# pam_pwb_oidc end to end: a real HTTPS issuer on loopback (openssl
# s_server, test CA), tokens signed with OpenSSL, logins through pamtester
# and the real libpam with a bind-mounted /etc/pam.d. Valid RS256, ES256,
# EdDSA and PS256 tokens sign in; every bad token of the acceptance list is
# refused with one syslog line naming the user and the failed check; a warm
# cache makes no request.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"

[ -f "$PWB_PAM_OIDC" ] || tap_bail "$PWB_PAM_OIDC not built"
pwb_syslog_capture || tap_bail "cannot capture syslog"
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
pwb_conf_set "auth-openid-algorithms=RS256,ES256,EdDSA,PS256" "auth-openid-username-domains=example.com"
cat >/etc/pam.d/pwb-test <<PAM
auth required $PWB_PAM_OIDC
account required pam_permit.so
PAM
DRIVE=$PWB_TEST_BUILDDIR/tests/tools/pwb-pam-drive

# login USER TOKEN: pamtester, the token on stdin as the password.
login() { printf '%s\n' "$2" | pamtester -v pwb-test "$1" authenticate; }

refused() { pwb_oidc_refused "$@"; }

now=$(date +%s)
# auth-openid-username-domains is set, so names carry the domain.
claims=$(pwb_token_claims alice@example.com)

tap_is "the module exports only pam_sm_*" \
	"$(readelf --dyn-syms -W "$PWB_PAM_OIDC" | awk '$7 != "UND" && $8 != "" {print $8}' |
		grep -v '^Name$' | sort | tr '\n' ' ')" "pam_sm_authenticate pam_sm_setcred "

# --- valid tokens -----------------------------------------------------
tap_check "RS256 token signs alice in" login alice "$(pwb_sign_token --kid rsa1 --claims "$claims")"
tap_is "discovery and JWKS fetched once each" "$(pwb_issuer_requests)" 2
tap_check "ES256 token signs alice in" login alice "$(pwb_sign_token --kid ec1 --claims "$claims")"
tap_check "EdDSA token signs alice in" login alice "$(pwb_sign_token --kid ed1 --claims "$claims")"
tap_check "PS256 token signs alice in" login alice \
	"$(pwb_sign_token --kid rsa1 --alg PS256 --claims "$claims")"
tap_is "warm cache: later logins made no request" "$(pwb_issuer_requests)" 2
cache_mode=$(stat -c %a "$PWB_DB_DIR/cache")
tap_is "cache directory is 0700" "$cache_mode" 700
tap_is "cache entries are root's, 0600" \
	"$(stat -c '%U %a' "$PWB_DB_DIR"/cache/*.json | sort -u)" "root 600"
tap_check "email-shaped name maps to the PAM user" login carol \
	"$(pwb_sign_token --claims "$(pwb_token_claims Carol@Example.COM)")"
tap_check "a token prompted for through the conversation (pwb-pam-drive)" \
	sh -c "printf '%s' '$(pwb_sign_token --claims "$claims")' | $DRIVE pwb-test alice"

# --- the claims handed to the account stage (pam_pwb_mkhome's side) ---
dump=$PWB_TMP/claims.txt
cat >/etc/pam.d/pwb-claims <<PAM
auth required $PWB_PAM_OIDC
account required $PWB_TEST_BUILDDIR/tests/tools/.libs/pam_pwb_test_claims.so $dump
PAM
rich=$(pwb_token_claims Dana.Smith@example.com \
	'"name":"Dana Smith","email":"dana@example.com","groups":["data-science","Admins"]')
tap_check "authenticate + acct_mgmt in one handle" sh -c \
	"printf '%s\n' '$(pwb_sign_token --claims "$rich")' |
		pamtester pwb-claims dana.smith authenticate acct_mgmt"
tap_is "claims handed over" "$(cat "$dump")" "username=dana.smith
issuer=$PWB_ISSUER_URL
subject=sub-Dana.Smith@example.com
name=Dana Smith
email=dana@example.com
local=0
groups=data-science,Admins"
tap_check_fails "no claims without a successful authentication" \
	pamtester pwb-claims dana.smith acct_mgmt
tap_is "the account stage saw none" "$(cat "$dump")" none

# --- refused tokens ---------------------------------------------------
refused "alg none" alice "$(pwb_sign_token --alg none --claims "$claims")" "alg:"
pub=$PWB_TMP/rsa1.pub
openssl pkey -in "$PWB_ISSUER_DIR/keys/rsa1.pem" -pubout -out "$pub" 2>/dev/null
refused "HS256 keyed with the RSA public key" alice \
	"$(pwb_sign_token --alg HS256 --hmac-key-file "$pub" --claims "$claims")" "alg:"
refused "RS384 (not in auth-openid-algorithms)" alice \
	"$(pwb_sign_token --alg RS384 --claims "$claims")" "alg:"
refused "wrong iss" alice "$(pwb_sign_token --claims "$(pwb_token_claims alice@example.com |
	sed "s|\"iss\":\"[^\"]*\"|\"iss\":\"https://evil.example\"|")")" "iss:"
refused "wrong aud" alice "$(pwb_sign_token --claims "$(pwb_token_claims alice@example.com |
	sed 's|"aud":"[^"]*"|"aud":"someone-else"|')")" "aud:"
refused "several aud without azp" alice "$(pwb_sign_token --claims "$(pwb_token_claims alice@example.com |
	sed "s|\"aud\":\"[^\"]*\"|\"aud\":[\"$PWB_ISSUER_CLIENT_ID\",\"other\"]|")")" "azp:"
refused "expired" alice "$(pwb_sign_token --claims "$(pwb_token_claims alice@example.com |
	sed "s|\"iat\":[0-9]*,\"exp\":[0-9]*|\"iat\":$((now - 900)),\"exp\":$((now - 300))|")")" "exp:"
refused "nbf in the future" alice \
	"$(pwb_sign_token --claims "$(pwb_token_claims alice@example.com "\"nbf\":$((now + 600))")")" "nbf:"
good=$(pwb_sign_token --claims "$claims")
evil_payload=$("$PWB_TEST_SIGN" sign --alg RS256 --key "$PWB_ISSUER_DIR/keys/rsa1.pem" \
	--claims "$(pwb_token_claims mallory)" | cut -d. -f2)
refused "tampered payload" alice \
	"$(echo "$good" | cut -d. -f1).$evil_payload.$(echo "$good" | cut -d. -f3)" "signature:"
refused "tampered signature" alice "${good%?????}AAAAA" "signature:"
refused "username claim is not the PAM user" bob "$good" "username:"
refused "username root" root \
	"$(pwb_sign_token --claims "$(pwb_token_claims root@example.com)")" "local:"
refused "domain not in auth-openid-username-domains" alice \
	"$(pwb_sign_token --claims "$(pwb_token_claims alice@evil.example)")" "username:"
refused "malformed base64" alice "$(echo "$good" | cut -d. -f1).e*yJ.$(echo "$good" | cut -d. -f3)" \
	"format:"
refused "malformed JSON payload" alice "$(pwb_sign_token --claims '{"iss":')" "format:"
refused "crit header" alice "$(pwb_sign_token --header '{"crit":["x"],"x":1}' --claims "$claims")" \
	"crit:"

# Oversized: 20 KiB, through pwb-pam-drive (pamtester's conversation stops
# at 4 KiB, which would make it a truncation test instead).
big=$(pwb_sign_token --claims "$(pwb_token_claims alice@example.com "\"pad\":\"$(head -c 20000 /dev/zero |
	tr '\0' x)\"")")
# Close to the limit (about 15 KiB): accepted.
large=$(pwb_sign_token --claims "$(pwb_token_claims alice@example.com "\"pad\":\"$(head -c 11000 /dev/zero |
	tr '\0' x)\"")")
tap_is "the large token is between 14 and 16 KiB" "$((${#large} > 14336 && ${#large} <= 16384))" 1
tap_check "a token of nearly 16 KiB signs in" sh -c "printf '%s' '$large' | $DRIVE pwb-test alice"
before=$(pwb_syslog_count)
tap_check_fails "oversized token refused" sh -c "printf '%s' '$big' | $DRIVE pwb-test alice"
tap_like "oversized token logged" "$(pwb_syslog_since "$before")" \
	"user alice: sign-in refused: format: token longer than 16384 bytes"

# Unknown kid: one JWKS refetch, then no more for the refresh interval.
before=$(pwb_issuer_requests)
pwb_issuer_add_key stranger rsa
refused "unknown kid" alice "$(pwb_sign_token --kid stranger --alg RS256 --claims "$claims")" "kid:"
tap_is "unknown kid: one JWKS refetch" "$(($(pwb_issuer_requests) - before))" 1
refused "second unknown kid" alice "$(pwb_sign_token --kid stranger --alg RS256 --claims "$claims")" "kid:"
tap_is "second unknown kid within the interval: no request" \
	"$(($(pwb_issuer_requests) - before))" 1
tap_is "no token text anywhere in syslog" "$(grep -c "${good:0:60}" "$PWB_SYSLOG")" 0

tap_done
