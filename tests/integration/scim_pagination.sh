#!/usr/bin/env bash
# Listing through nginx over 250 users: startIndex/count pages that cover
# everyone exactly once, itemsPerPage equal to what is returned, count=0,
# a filtered scan, and sortBy.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"

SCIM_TOKEN=$(pwb_scim_token pages) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"

# 250 users in one curl process (keep-alive), bodies from files.
for i in $(seq 1 250); do
	scim_user_json "page-$i" >"$PWB_TMP/u$i.json"
	printf 'url = "%s/Users"\nrequest = "POST"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/scim+json"\ndata-binary = "@%s"\nwrite-out = "%%{http_code}\\n"\noutput = "/dev/null"\n' \
		"$SCIM_URL" "$SCIM_TOKEN" "$PWB_TMP/u$i.json"
	[ "$i" -lt 250 ] && echo next
done >"$PWB_TMP/create.curl"
created=$(curl -sS -K "$PWB_TMP/create.curl" | grep -c '^201$')
tap_is "250 users created" "$created" 250

scim_req GET '/Users?startIndex=1&count=100'
tap_is "page 1: totalResults 250, 100 returned" \
	"$(scim_jq '[.totalResults, .startIndex, .itemsPerPage, (.Resources|length)] | @csv')" "250,1,100,100"
seen=$(scim_jq '.Resources[].userName')
scim_req GET '/Users?startIndex=101&count=100'
tap_is "page 2" "$(scim_jq '[.startIndex, .itemsPerPage, (.Resources|length)] | @csv')" "101,100,100"
seen+=$'\n'$(scim_jq '.Resources[].userName')
scim_req GET '/Users?startIndex=201&count=100'
tap_is "page 3: the last 50, itemsPerPage as returned" \
	"$(scim_jq '[.totalResults, .startIndex, .itemsPerPage, (.Resources|length)] | @csv')" "250,201,50,50"
seen+=$'\n'$(scim_jq '.Resources[].userName')
tap_is "the pages hold every user exactly once" "$(printf '%s\n' "$seen" | sort -u | wc -l)" 250
tap_is "and nobody else" "$(printf '%s\n' "$seen" | grep -vc '^page-')" 0
scim_req GET '/Users?startIndex=251&count=100'
tap_is "past the end: empty page" "$(scim_jq '[.totalResults, .itemsPerPage] | @csv')" "250,0"
scim_req GET '/Users?count=0'
tap_is "count=0: only the total" "$(scim_jq '[.totalResults, .itemsPerPage] | @csv')" "250,0"
scim_req GET '/Users?startIndex=0&count=5'
tap_is "startIndex below 1 is 1" "$(scim_jq '[.startIndex, .itemsPerPage] | @csv')" "1,5"
scim_req GET '/Users'
tap_is "no count: a default page of 100" "$(scim_jq .itemsPerPage)" 100
scim_req GET '/Users?count=abc'
scim_is_error "count that is not a number: 400" 400 invalidValue

# page-1, page-10..19, page-100..199: 111 names start with "page-1".
scim_req GET '/Users?filter=userName%20sw%20%22PAGE-1%22&startIndex=1&count=50'
tap_is "filtered scan: total 111, first page 50" "$(scim_jq '[.totalResults, .itemsPerPage] | @csv')" "111,50"
tap_is "filtered scan: every result matches" "$(scim_jq '[.Resources[].userName | test("^page-1")] | all')" true
scim_req GET '/Users?filter=userName%20sw%20%22PAGE-1%22&startIndex=101&count=50'
tap_is "filtered scan: last page of 11" "$(scim_jq '[.totalResults, .startIndex, .itemsPerPage] | @csv')" "111,101,11"
scim_req GET '/Users?sortBy=userName&sortOrder=descending&count=3&attributes=userName'
tap_is "sortBy userName descending" "$(scim_jq '[.Resources[].userName] | join(" ")')" "page-99 page-98 page-97"
scim_req GET '/Users?sortBy=userName&startIndex=249&count=10&attributes=userName'
tap_is "sortBy ascending, last page" "$(scim_jq '[.itemsPerPage, (.Resources | map(.userName) | join(" "))] | @csv')" '2,"page-98 page-99"'

# the same through POST /Users/.search (RFC 7644 3.4.3)
scim_req POST /Users/.search '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"PAGE-1\"","startIndex":101,"count":50,"attributes":["userName"]}'
tap_is "POST .search: same page as the GET" "$SCIM_STATUS $(scim_jq '[.totalResults, .startIndex, .itemsPerPage, (.Resources[0] | keys | join(","))] | @csv')" '200 111,101,11,"id,schemas,userName"'
scim_req POST /Users/.search '{"filter":"userName eq"}'
scim_is_error "POST .search with a bad filter: 400 invalidFilter" 400 invalidFilter
scim_req GET '/Users?filter=userName%20sw%20%22page-%22&count=0'
tap_is "a search created nothing" "$(scim_jq .totalResults)" 250

tap_done
