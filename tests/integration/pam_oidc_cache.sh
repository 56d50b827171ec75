#!/usr/bin/env bash
# pam_pwb_oidc's discovery/JWKS cache against an issuer (nginx over TLS)
# that sends Cache-Control: max-age=2: entries live as long as the issuer
# says, not the configured default; an expired cache is refetched; many
# concurrent first logins share one cache without corrupting it.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"

[ -f "$PWB_PAM_OIDC" ] || tap_bail "$PWB_PAM_OIDC not built"
command -v nginx >/dev/null || tap_bail "nginx not installed"
PWB_ISSUER_CACHE_CONTROL="max-age=2"
pwb_issuer_start || tap_bail "cannot start the test issuer (nginx)"
pwb_issuer_configure
pwb_conf_set "auth-openid-cache-ttl=3600"
cat >/etc/pam.d/pwb-test <<PAM
auth required $PWB_PAM_OIDC
PAM

login() { printf '%s\n' "$2" | pamtester pwb-test "$1" authenticate; }
tok=$(pwb_sign_token --kid ec1 --claims "$(pwb_token_claims alice)")

tap_check "first login" login alice "$tok"
tap_is "discovery and JWKS fetched" "$(pwb_issuer_requests)" 2
tap_check "second login" login alice "$tok"
tap_is "second login served from the cache" "$(pwb_issuer_requests)" 2
lifetimes=$(for f in "$PWB_DB_DIR"/cache/*.json; do
	fetched=$(grep -o '"fetched":[0-9]*' "$f" | cut -d: -f2)
	expires=$(grep -o '"expires":[0-9]*' "$f" | cut -d: -f2)
	echo $((expires - fetched))
done | sort -u)
tap_is "entries live max-age=2 seconds (Cache-Control beats auth-openid-cache-ttl)" "$lifetimes" 2
sleep 3
tap_check "login after max-age" login alice "$tok"
tap_is "expired entries refetched" "$(pwb_issuer_requests)" 4

# Cold cache, 8 logins at once: all succeed, the cache stays valid JSON.
rm -f "$PWB_DB_DIR"/cache/*.json
pids=()
for i in 1 2 3 4 5 6 7 8; do
	login alice "$tok" >"$PWB_TMP/par.$i" 2>&1 &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
tap_is "8 concurrent cold-cache logins all succeed" "$fails" 0
tap_check "cache entries are whole JSON documents" \
	sh -c "for f in '$PWB_DB_DIR'/cache/*.json; do /usr/bin/python3 -m json.tool \"\$f\" >/dev/null || exit 1; done"
tap_is "no temporary files left behind" "$(find "$PWB_DB_DIR/cache" -name '.*' -type f | wc -l)" 0

tap_done
