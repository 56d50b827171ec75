# SCIM helpers for integration tests and the benchmark (sourced after
# ns.sh, inside the namespace): pwb-scim under spawn-fcgi as the store
# user, bearer tokens, and a curl wrapper that keeps status, headers and
# body apart.
#
#   pwb_scim_spawn            pwb-scim on unix socket $PWB_SCIM_SOCK, its log
#                             lines in $PWB_SCIM_LOG ($PWB_SCIM_CHILDREN processes)
#   SCIM_TOKEN=$(pwb_scim_token NAME [--expires-in SECONDS])
#   SCIM_URL=http://127.0.0.1:PORT/scim/v2   (set by nginx.sh / apache.sh)
#   scim_req METHOD PATH [BODY|@FILE]   sets SCIM_STATUS, SCIM_BODY; counts
#                             requests in SCIM_REQUESTS
#   scim_header NAME          a header of the last response
#   scim_jq FILTER            jq -r FILTER on the last body

PWB_SCIM_TOKEN_TOOL=$PWB_TEST_BUILDDIR/tests/tools/scim-test-token

# The store user owns the store; its first opener (root here, like pwbadm)
# creates it with that owner. Web servers run their workers as www-data.
pwb_scim_spawn() {
	local run=$PWB_TMP/run
	mkdir -p "$run" && chmod 0755 "$run"
	PWB_SCIM_SOCK=$run/pwb-scim.sock
	PWB_SCIM_LOG=$run/pwb-scim.log
	# the first opener creates the store: root, as the package would
	"$PWB_SCIM_TOKEN_TOOL" --init || return 1
	install -o pwb -g pwb -m 0600 /dev/null "$PWB_SCIM_LOG"
	# no syslog daemon here: its log lines go to $PWB_SCIM_LOG as well
	spawn-fcgi -s "$PWB_SCIM_SOCK" -M 0660 -u pwb -g pwb -U www-data -G www-data \
		-F "${PWB_SCIM_CHILDREN:-1}" -P "$run/pwb-scim.pid" -- /bin/sh -c \
		'exec "$0" --log-stderr 2>>"$1"' "$PWB_BIN_SCIM" "$PWB_SCIM_LOG" \
		>"$run/spawn.log" 2>&1 || { cat "$run/spawn.log" >&2; return 1; }
	pwb_on_cleanup "kill \$(cat '$run/pwb-scim.pid' 2>/dev/null) 2>/dev/null"
	local i
	for i in $(seq 1 50); do
		[ -S "$PWB_SCIM_SOCK" ] && return 0
		sleep 0.1
	done
	echo "pwb-scim socket did not appear" >&2
	return 1
}

pwb_scim_token() {
	"$PWB_SCIM_TOKEN_TOOL" "$@"
}

scim_req() {
	local method=$1 path=$2 body=${3-}
	local args=(-sS -X "$method" -D "$PWB_TMP/scim.h" -o "$PWB_TMP/scim.b" -w '%{http_code}')
	[ -n "${SCIM_TOKEN:-}" ] && args+=(-H "Authorization: Bearer $SCIM_TOKEN")
	[ -n "${SCIM_IF_MATCH:-}" ] && args+=(-H "If-Match: $SCIM_IF_MATCH")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/scim+json' --data-binary "$body")
	fi
	SCIM_REQUESTS=$((${SCIM_REQUESTS:-0} + 1))
	SCIM_STATUS=$(curl "${args[@]}" "$SCIM_URL$path") || SCIM_STATUS=curl-failed
	SCIM_BODY=$(cat "$PWB_TMP/scim.b" 2>/dev/null)
}

scim_header() {
	grep -i "^$1:" "$PWB_TMP/scim.h" | head -1 | sed 's/^[^:]*: *//; s/\r$//'
}

scim_jq() {
	printf '%s' "$SCIM_BODY" | jq -r "$1" 2>/dev/null
}

# scim_is_error DESC STATUS SCIMTYPE: the last response is an RFC 7644
# §3.12 error with that status (and scimType, unless "-").
scim_is_error() {
	local desc=$1 want=$2 type=$3 got
	got="$SCIM_STATUS $(scim_jq '.schemas[0]') $(scim_jq '.status') $(scim_jq '.scimType // "-"')"
	tap_is "$desc" "$got" "$want urn:ietf:params:scim:api:messages:2.0:Error $want $type"
}

# A User body: scim_user_json USERNAME [EXTRA-JSON-MEMBERS]
scim_user_json() {
	printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","name":{"givenName":"Given","familyName":"Family"},"emails":[{"value":"%s","primary":true,"type":"work"}],"active":true%s}' \
		"$1" "$1" "${2:+,$2}"
}

# ---- what the OS sees ----
# scim_nss MAP KEY: the passwd, group or shadow entry for a name (or, for
# passwd/group, a number), or "initgroups USER" (supplementary GIDs, comma
# separated). Through nss_pwb with getent when nss_pwb is built; otherwise
# straight from the published snapshot that nss_pwb reads (lib/snapshot/snapshot.h),
# so the checks still see what the store published. $PWB_NSS_VIA says which.
scim_nss() {
	local map=$1 key=$2 prefix
	if [ -e "$PWB_NSS_LIBDIR/libnss_pwb.so.2" ]; then
		case $map in
		initgroups) id -G "$key" | tr ' ' , ;;
		*) getent "$map" "$key" ;;
		esac
		return
	fi
	case $map in
	passwd) prefix=p ;;
	group) prefix=g ;;
	shadow) prefix=s ;;
	initgroups) prefix=i ;;
	*) return 2 ;;
	esac
	case $key in
	*[!0-9]*) pwb_snapshot_get "$prefix.$key" ;;
	*) pwb_snapshot_get "$prefix=$key" ;;
	esac
}
if [ -e "$PWB_NSS_LIBDIR/libnss_pwb.so.2" ]; then PWB_NSS_VIA=nss_pwb; else PWB_NSS_VIA=snapshot; fi

# One key of one snapshot file: prints "V:VALUE" when present.
snapshot_lookup() {
	db5.3_dump -p "$1" 2>/dev/null | awk -v k="$2" '
		h == 1 { if (n % 2 == 0) cur = substr($0, 2); else if (cur == k) { print "V:" substr($0, 2); exit } n++ }
		/^HEADER=END$/ { h = 1 }
		/^DATA=END$/ { h = 0 }'
}

# pwb_snapshot_get KEY: the value the published snapshot holds for KEY,
# looked up as nss_pwb does (delta, then the mid and base it names); fails
# when the key is absent or a tombstone.
pwb_snapshot_get() {
	local key=$1 dir=$PWB_DB_DIR/nss shadow='' mid base f v
	case $key in s.*) shadow=shadow- ;; esac
	mid=$(snapshot_lookup "$dir/${shadow}delta.db" @mid) || return 1
	base=$(snapshot_lookup "$dir/${shadow}delta.db" @base) || return 1
	for f in "${shadow}delta.db" "${shadow}mid-${mid#V:}.db" "${shadow}base-${base#V:}.db"; do
		v=$(snapshot_lookup "$dir/$f" "$key")
		if [ -n "$v" ]; then
			v=${v#V:}
			[ -n "$v" ] || return 1
			printf '%s\n' "$v"
			return 0
		fi
	done
	return 1
}
