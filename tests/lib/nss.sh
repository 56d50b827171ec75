# Helpers for the nss_pwb integration tests (sourced after ns.sh): write
# snapshot files by hand, exactly as lib/snapshot.h lays them out, so the
# reader is tested against the contract and not only against publish.c.

NSS_PROBE=$PWB_TEST_BUILDDIR/tests/tools/nss_probe
NSS_STORE_TOOL=$PWB_TEST_BUILDDIR/tests/tools/nss_store_tool
NSS_SNAP_DIR=${PWB_DB_DIR:-}/nss

# nss_snap_load FILE [MODE]: reads "KEY<TAB>VALUE" lines on stdin (an empty
# VALUE is a tombstone) into a Berkeley DB B-tree written beside FILE and
# renamed over it, as a publisher would.
nss_snap_load() {
	local file=$1 mode=${2:-0644} tmp
	tmp=$(mktemp "$(dirname "$file")/.load.XXXXXX") || return 1
	rm -f "$tmp"
	awk -F'\t' '{
		k = $1; v = substr($0, length($1) + 2)
		gsub(/\\/, "\\\\", k); gsub(/\\/, "\\\\", v)
		print k; print v
	}' | db5.3_load -T -t btree "$tmp" || { rm -f "$tmp"; return 1; }
	chmod "$mode" "$tmp" && mv -f "$tmp" "$file"
}

# nss_snap_user NAME UID [GECOS] [SUPPLEMENTARY-GIDS]: the public keys of a
# user with a private group (GID = UID).
nss_snap_user() {
	local name=$1 uid=$2 gecos=${3:-} groups=${4:-}
	local line="$name:x:$uid:$uid:$gecos:/home/$name:/bin/bash"
	printf 'p.%s\t%s\np=%s\t%s\n' "$name" "$line" "$uid" "$line"
	printf 'g.%s\t%s:x:%s:\ng=%s\t%s:x:%s:\n' "$name" "$name" "$uid" "$uid" "$name" "$uid"
	[ -z "$groups" ] || printf 'i.%s\t%s\n' "$name" "$groups"
}

# nss_snap_group NAME GID MEMBERS: a pwb group.
nss_snap_group() {
	printf 'g.%s\t%s:x:%s:%s\ng=%s\t%s:x:%s:%s\n' "$1" "$1" "$2" "$3" "$2" "$1" "$2" "$3"
}

# nss_snap_shadow NAME [locked]: the shadow key of an active or locked user.
nss_snap_shadow() {
	if [ "${2:-}" = locked ]; then
		printf 's.%s\t%s:!*:20000:0:99999:7::1:\n' "$1" "$1"
	else
		printf 's.%s\t%s:*:20000:0:99999:7:::\n' "$1" "$1"
	fi
}

# nss_snap_meta MID BASE SEQ: the meta keys every delta carries.
nss_snap_meta() {
	printf '@mid\t%s\n@base\t%s\n@seq\t%s\n' "$1" "$2" "$3"
}
