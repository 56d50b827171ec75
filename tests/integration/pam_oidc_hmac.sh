#!/usr/bin/env bash
# pam_pwb_oidc with HS256 enabled: tokens are keyed with the client secret,
# stored encrypted (`pwbadm encrypt-password` form, AES-256-GCM under
# secure-key-file) and decrypted by the module; an HMAC keyed with the
# issuer's RSA public key (the classic confusion attack) is still refused;
# a wrong key file or a readable client-secret file is a configuration
# error named in the log.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"

[ -f "$PWB_PAM_OIDC" ] || tap_bail "$PWB_PAM_OIDC not built"
pwb_syslog_capture || tap_bail "cannot capture syslog"
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
pwb_conf_set "auth-openid-algorithms=RS256,HS256" "secure-key-file=/etc/pwb/secure-key"
secret=hs256-client-secret-0123456789abcdef
enc=$("$PWB_TEST_SIGN" encrypt --key-file /etc/pwb/secure-key --secret "$secret")
tap_like "secret encrypted" "$enc" '^pwb1:[A-Za-z0-9+/=]+$'
(umask 077 && printf 'client-id=%s\nclient-secret=%s\n' "$PWB_ISSUER_CLIENT_ID" "$enc" \
	>/etc/pwb/openid-client-secret)
tap_is "key file is root's, 0600" "$(stat -c '%U %a' /etc/pwb/secure-key)" "root 600"
cat >/etc/pam.d/pwb-test <<PAM
auth required $PWB_PAM_OIDC
PAM

login() { printf '%s\n' "$2" | pamtester pwb-test "$1" authenticate; }
claims=$(pwb_token_claims alice)
printf '%s' "$secret" >"$PWB_TMP/secret"
printf '%s' "wrong-client-secret-0123456789abcdef" >"$PWB_TMP/wrong"
openssl pkey -in "$PWB_ISSUER_DIR/keys/rsa1.pem" -pubout -out "$PWB_TMP/rsa1.pub" 2>/dev/null

tap_check "HS256 keyed with the (encrypted) client secret signs in" login alice \
	"$(pwb_sign_token --alg HS256 --hmac-key-file "$PWB_TMP/secret" --claims "$claims")"
tap_check "RS256 still signs in" login alice "$(pwb_sign_token --kid rsa1 --claims "$claims")"
before=$(pwb_syslog_count)
tap_check_fails "HS256 keyed with the RSA public key refused" login alice \
	"$(pwb_sign_token --alg HS256 --hmac-key-file "$PWB_TMP/rsa1.pub" --claims "$claims")"
tap_check_fails "HS256 keyed with another secret refused" login alice \
	"$(pwb_sign_token --alg HS256 --hmac-key-file "$PWB_TMP/wrong" --claims "$claims")"
tap_is "both logged as signature failures" \
	"$(pwb_syslog_since "$before" | grep -c 'user alice: sign-in refused: signature: HS256')" 2
tap_is "the secret never reaches the log" "$(grep -c "$secret" "$PWB_SYSLOG")" 0

# A different key file: the secret no longer decrypts.
mv /etc/pwb/secure-key /etc/pwb/secure-key.good
"$PWB_TEST_SIGN" encrypt --key-file /etc/pwb/secure-key --secret x >/dev/null
before=$(pwb_syslog_count)
out=$(login alice "$(pwb_sign_token --kid rsa1 --claims "$claims")" 2>&1)
tap_like "wrong key file: PAM_AUTHINFO_UNAVAIL" "$out" "cannot retrieve authentication info"
tap_like "wrong key file logged, naming the file and line" "$(pwb_syslog_since "$before")" \
	"openid-client-secret: line 2: client-secret: encrypted secret does not decrypt with /etc/pwb/secure-key"
mv /etc/pwb/secure-key.good /etc/pwb/secure-key

chmod 0644 /etc/pwb/openid-client-secret
before=$(pwb_syslog_count)
tap_check_fails "world-readable client-secret file refused" login alice \
	"$(pwb_sign_token --kid rsa1 --claims "$claims")"
tap_like "logged, naming the file and mode" "$(pwb_syslog_since "$before")" \
	"/etc/pwb/openid-client-secret: mode 0644, must be 0600 or stricter"

tap_done
