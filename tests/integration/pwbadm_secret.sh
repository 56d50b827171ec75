#!/usr/bin/env bash
# pwbadm encrypt-password: the value it prints decrypts (as pam_pwb_oidc
# decrypts it) to the secret it read; the key file is created 0600; a
# tampered value is refused, both by the decryptor and by `pwbadm check`.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

# The unit test doubles as a decryptor (pwb_secret_decrypt, as pam_pwb_oidc).
helper=$PWB_TEST_BUILDDIR/tests/unit/test_adm_secret
[ -x "$helper" ] || make -s -C "$PWB_TEST_BUILDDIR/tests/unit" test_adm_secret >/dev/null 2>&1 ||
	tap_bail "cannot build $helper"
decrypt() { "$helper" --decrypt "$@"; }
key=$PWB_TMP/etc/pwb/secure-key
pwb_conf_set "secure-key-file=/etc/pwb/secure-key"
secret='s3cr3t-V@lue with spaces'

tap_check_fails "no key file before the first use" test -e /etc/pwb/secure-key
enc=$(printf '%s\n' "$secret" | pwbadm encrypt-password)
tap_is "encrypt-password reads stdin and succeeds" "$?" 0
tap_like "the output is versioned base64" "$enc" '^pwb1:[A-Za-z0-9+/=_-]+$'
tap_check_fails "the output does not contain the secret" grep -qF -- "s3cr3t" <<<"$enc"
tap_is "the key file was created 0600, root's" "$(stat -c '%a %u' "$key")" "600 0"
tap_is "round trip: the value decrypts to the secret" "$(decrypt "$enc" /etc/pwb/secure-key)" "$secret"
enc2=$(printf '%s\n' "$secret" | pwbadm encrypt-password)
tap_check "a second encryption differs (fresh nonce)" test "$enc" != "$enc2"
tap_is "... and decrypts the same" "$(decrypt "$enc2" /etc/pwb/secure-key)" "$secret"
tap_is "the key file is kept" "$(stat -c %s "$key")" 32

# Tamper with one character in the middle of the payload.
payload=${enc#pwb1:}
i=$((${#payload} / 2))
c=${payload:$i:1}
[ "$c" = A ] && r=B || r=A
tampered="pwb1:${payload:0:$i}$r${payload:$((i + 1))}"
tap_is "a tampered value is refused" "$(adm_status decrypt "$tampered" /etc/pwb/secure-key)" 1

# The same through the client-secret file that pam_pwb_oidc reads.
printf 'client-id=rstudio\nclient-secret=%s\n' "$enc" >/etc/pwb/openid-client-secret
chmod 600 /etc/pwb/openid-client-secret
tap_like "check decrypts the client secret" "$(pwbadm check | grep 'client secret')" '^ok +client secret: .*secret decrypts'
printf 'client-id=rstudio\nclient-secret=%s\n' "$tampered" >/etc/pwb/openid-client-secret
tap_like "check refuses a tampered client secret" "$(pwbadm check | grep 'client secret')" '^FAIL +client secret: '
printf 'client-id=rstudio\nclient-secret=%s\n' "$enc" >/etc/pwb/openid-client-secret
chmod 644 /etc/pwb/openid-client-secret
tap_like "check refuses a world-readable client-secret file" "$(pwbadm check | grep 'client secret')" '^FAIL +client secret: .*mode 0644'

tap_is "an empty stdin is refused" "$(adm_status pwbadm encrypt-password </dev/null)" 1
tap_like "... with one line" "$(adm_stderr pwbadm encrypt-password </dev/null)" '^pwbadm: no secret on stdin'
tap_is "arguments are a usage error" "$(adm_status pwbadm encrypt-password s3cr3t)" 2
chmod 644 "$key"
tap_is "a group/world-readable key file is refused" "$(echo x | adm_status pwbadm encrypt-password)" 1

tap_done
