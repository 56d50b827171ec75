#!/usr/bin/env bash
# pwb-scim's Prometheus endpoint (scim-metrics-path) behind the shipped
# nginx example, with three pwb-scim processes: pwbd sums what they relay,
# so N SCIM requests raise the method/status counter and the latency
# histogram's count by exactly N whichever process served them. Access:
# loopback only without a token file (403 otherwise), with one the
# metrics token only (401 otherwise, even on loopback); a SCIM token does
# not open metrics, the metrics token does not open SCIM, and the token
# is never logged. Off (404) when the path is unset.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

pwb_conf_set scim-metrics-path=/pwb-metrics
SCIM_TOKEN=$(pwb_scim_token idp) || tap_bail "cannot store a token"
PWB_SCIM_CHILDREN=3 pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
PWB_NGINX_EXTRA=pwb-scim-metrics.conf pwb_nginx_start || tap_bail "nginx did not start"
METRICS_URL=http://127.0.0.1:$PWB_NGINX_PORT/pwb-metrics

# scrape [CURL-ARGS...]: GET the endpoint; status in M_STATUS, body in
# $PWB_TMP/m.b, headers in $PWB_TMP/m.h.
scrape() {
	M_STATUS=$(curl -sS -D "$PWB_TMP/m.h" -o "$PWB_TMP/m.b" -w '%{http_code}' "$@" "$METRICS_URL")
}
# metric SAMPLE: the value of one sample line (name with its labels, as
# exposed) in the last scrape; 0 when absent.
metric() { awk -v s="$1" '$1 == s { v = $2 } END { print v + 0 }' "$PWB_TMP/m.b"; }
get_users=pwb_scim_requests_total'{method="GET",status="200"}'
get_401=pwb_scim_requests_total'{method="GET",status="401"}'
post_201=pwb_scim_requests_total'{method="POST",status="201"}'
hist_count=pwb_scim_request_duration_seconds_count
hist_inf=pwb_scim_request_duration_seconds_bucket'{le="+Inf"}'

scrape
tap_is "loopback client, no token file: 200" "$M_STATUS" 200
tap_like "Prometheus text 0.0.4" "$(grep -i '^Content-Type:' "$PWB_TMP/m.h")" \
	'text/plain; version=0\.0\.4'
tap_like "a histogram of SCIM latency with Prometheus buckets" "$(cat "$PWB_TMP/m.b")" \
	'# TYPE pwb_scim_request_duration_seconds histogram'
tap_like "store write retries are exposed" "$(cat "$PWB_TMP/m.b")" $'\npwb_store_write_retries_total [0-9]+\n'
tap_like "and the snapshot publish time" "$(cat "$PWB_TMP/m.b")" \
	'# TYPE pwb_snapshot_publish_duration_seconds histogram'
g0=$(metric "$get_users") u0=$(metric "$get_401") p0=$(metric "$post_201")
c0=$(metric "$hist_count") pub0=$(metric pwb_snapshot_publish_duration_seconds_count)

N=7
for _ in $(seq 1 $N); do scim_req GET /Users; done
SCIM_TOKEN='' scim_req GET /Users
SCIM_TOKEN='' scim_req GET /Groups
scim_req POST /Users "$(scim_user_json metrics-user@example.com)"
tap_is "the SCIM requests were answered (the last: 201)" "$SCIM_STATUS" 201
tap_is "three pwb-scim processes serve" "$(grep -c . "$PWB_TMP/run/pwb-scim.pid")" 3
scrape
tap_diag "$(grep -E '^pwb' "$PWB_TMP/m.b" | grep -v '_bucket{le="[0-9]')"
tap_is "GET 200 went up by exactly $N (summed in pwbd, not per process)" \
	"$(($(metric "$get_users") - g0))" "$N"
tap_is "GET 401 by 2" "$(($(metric "$get_401") - u0))" 2
tap_is "POST 201 by 1" "$(($(metric "$post_201") - p0))" 1
tap_is "the latency histogram's count by $((N + 3))" "$(($(metric "$hist_count") - c0))" $((N + 3))
tap_is "... and its +Inf bucket equals its count" "$(metric "$hist_inf")" "$(metric "$hist_count")"
tap_check "the create's commit was published, and timed" \
	test "$(metric pwb_snapshot_publish_duration_seconds_count)" -gt "$pub0"
tap_is "scraping is not itself a SCIM request" "$(($(metric "$get_users") - g0))" "$N"

# ---- the endpoint's edges ----
st=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$METRICS_URL")
tap_is "POST on the metrics path: 405" "$st" 405

# pwb-scim as CGI (the relay as nginx would run it), for client addresses
# nginx on loopback cannot give
cgi() { # REMOTE_ADDR URI [AUTHORIZATION]
	env -i PATH="$PATH" PWB_CONFIG="$PWB_CONF" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
		REQUEST_URI="$2" REMOTE_ADDR="$1" HTTP_HOST=scim.example ${3:+HTTP_AUTHORIZATION="$3"} \
		setpriv --reuid=pwb-scim --regid=pwb-scim --clear-groups "$PWB_BIN_SCIM" </dev/null 2>/dev/null |
		head -1 | tr -d '\r'
}
tap_is "a client off loopback, no token file: 403" "$(cgi 192.0.2.7 /pwb-metrics)" "Status: 403 Forbidden"
tap_is "... whatever SCIM token it holds" "$(cgi 192.0.2.7 /pwb-metrics "Bearer $SCIM_TOKEN")" \
	"Status: 403 Forbidden"
tap_is "IPv6 loopback: 200" "$(cgi ::1 /pwb-metrics)" "Status: 200 OK"
tap_is "127.0.0.0/8: 200" "$(cgi 127.1.2.3 /pwb-metrics)" "Status: 200 OK"
tap_is "a query string is the same path" "$(cgi 127.0.0.1 '/pwb-metrics?x=1')" "Status: 200 OK"
tap_is "a longer path is not the metrics path (SCIM: 404)" "$(cgi 127.0.0.1 /pwb-metrics/x)" \
	"Status: 404 Not Found"

# ---- with a token file ----
METRICS_TOKEN=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
install -m 0600 /dev/null /etc/pwb/metrics-token
printf '%s\n' "$METRICS_TOKEN" >/etc/pwb/metrics-token
pwb_conf_set scim-metrics-token-file=/etc/pwb/metrics-token
scrape
tap_is "token file set: no token, even on loopback: 401" "$M_STATUS" 401
tap_like "... with WWW-Authenticate" "$(grep -i '^WWW-Authenticate:' "$PWB_TMP/m.h")" 'Bearer realm="pwb-metrics"'
scrape -H "Authorization: Bearer wrong-$METRICS_TOKEN"
tap_is "a wrong token: 401" "$M_STATUS" 401
scrape -H "Authorization: Bearer $SCIM_TOKEN"
tap_is "a SCIM token does not open metrics: 401" "$M_STATUS" 401
scrape -H "Authorization: Bearer $METRICS_TOKEN"
tap_is "the metrics token: 200" "$M_STATUS" 200
tap_is "... and the counters carry on" "$(($(metric "$get_users") - g0))" "$N"
tap_is "the metrics token from off loopback: 200" \
	"$(cgi 192.0.2.7 /pwb-metrics "Bearer $METRICS_TOKEN")" "Status: 200 OK"
SCIM_TOKEN=$METRICS_TOKEN scim_req GET /Users
tap_is "the metrics token does not open SCIM: 401" "$SCIM_STATUS" 401
chmod 0644 /etc/pwb/metrics-token
scrape -H "Authorization: Bearer $METRICS_TOKEN"
tap_is "a token file others can read is refused: 500" "$M_STATUS" 500
tap_like "... and pwbd says why" "$(cat "$PWB_TMP/pwbd.log")" 'scim-metrics-token-file: .*mode 0644'
chmod 0600 /etc/pwb/metrics-token
tap_check_fails "the metrics token is in no log" \
	grep -rqF -- "$METRICS_TOKEN" "$PWB_TMP/pwbd.log" "$PWB_SCIM_LOG" "$PWB_TMP/nginx"
tap_check_fails "nor the SCIM token" \
	grep -rqF -- "$SCIM_TOKEN" "$PWB_TMP/pwbd.log" "$PWB_SCIM_LOG"

# ---- the scim-user may read metrics from pwbd, nothing more ----
out=$(setpriv --reuid=pwb-scim --regid=pwb-scim --clear-groups "$PWB_PWBD_CALL" metrics.get \
	"{\"authorization\":\"Bearer $METRICS_TOKEN\",\"remote_addr\":\"192.0.2.7\"}")
tap_is "metrics.get from the scim-user: the text" "$(jq -r .status <<<"$out")" 200
out=$(setpriv --reuid=pwb-scim --regid=pwb-scim --clear-groups "$PWB_PWBD_CALL" metrics.get \
	'{"authorization":"x","cookie":"y"}' 2>&1)
tap_like "an unknown argument is refused" "$out" 'unknown argument cookie'

# ---- off ----
sed -i '/^scim-metrics-path=/d; /^scim-metrics-token-file=/d' "$PWB_CONF"
out=$("$PWB_PWBD_CALL" metrics.get '{"remote_addr":"127.0.0.1"}')
tap_is "scim-metrics-path unset: pwbd answers 404" "$(jq -r .status <<<"$out")" 404
tap_is "... and a fresh pwb-scim relays the path as SCIM (404)" "$(cgi 127.0.0.1 /pwb-metrics)" \
	"Status: 404 Not Found"

tap_done
