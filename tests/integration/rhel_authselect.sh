#!/usr/bin/env bash
# The authselect profile (rhel/authselect/pwb), parsed here as authselect
# would render it (authselect is not packaged for Debian): with no feature
# (the minimal base), with-mkhomedir, and with-sssd (the sssd variant). The
# passwd, group and shadow lines read "files systemd pwb" (with sss after
# pwb in the sssd variant only); the account stacks run pam_pwb_mkhome and
# the session stacks create homes with the arguments of the Debian examples
# (examples/pam.d) only with-mkhomedir, where oddjob-mkhomedir is never
# used; the pam_pwb_oidc service stack (installed as /etc/pam.d/pwb by the
# RPM) is examples/pam.d/pwb; every {...} directive is one this renderer
# knows, and every feature the stacks test is documented in the README.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
set -u

prof=$PWB_TEST_SRCDIR/rhel/authselect/pwb

# render FILE FEATURE...: FILE as authselect renders it with FEATUREs
# selected: {include if "f"} / {exclude if "f"} keep or drop the line,
# {if "f":a|b} and {if not "f":a|b} pick a text; an unknown directive is
# printed as "UNKNOWN DIRECTIVE" so that the test fails on it.
render() {
	local file=$1
	shift
	awk -v feats=" $* " '
	function on(f) { return index(feats, " " f " ") > 0 }
	{
		line = $0; keep = 1
		while (match(line, /\{[^{}]*\}/)) {
			d = substr(line, RSTART + 1, RLENGTH - 2); pre = substr(line, 1, RSTART - 1)
			post = substr(line, RSTART + RLENGTH); out = ""
			if (d ~ /^include if "[^"]+"$/) { split(d, q, "\""); if (!on(q[2])) keep = 0 }
			else if (d ~ /^exclude if "[^"]+"$/) { split(d, q, "\""); if (on(q[2])) keep = 0 }
			else if (d ~ /^if (not )?"[^"]+":/) {
				neg = (d ~ /^if not /); split(d, q, "\""); text = substr(d, index(d, "\":") + 2)
				alt = ""; if (i = index(text, "|")) { alt = substr(text, i + 1); text = substr(text, 1, i - 1) }
				out = ((on(q[2]) != neg) ? text : alt)
			} else out = "UNKNOWN DIRECTIVE " d
			line = pre out post
		}
		if (keep) { sub(/[ \t]+$/, "", line); print line }
	}' "$file"
}

# nss LINE-NAME FEATURE...: the sources on one nsswitch.conf line.
nss() {
	local db=$1
	shift
	render "$prof/nsswitch.conf" "$@" | awk -v db="$db:" '$1 == db { $1 = ""; sub(/^ /, ""); print }'
}
# stack FILE TYPE FEATURE...: "control module args" of one PAM type.
stack() {
	local file=$1 type=$2
	shift 2
	render "$prof/$file" "$@" | awk -v t="$type" '$1 == t || $1 == "-" t { $1 = ""; sub(/^ /, ""); print }'
}

for f in README REQUIREMENTS nsswitch.conf system-auth password-auth; do
	tap_check "the profile has $f" test -s "$prof/$f"
done
for f in nsswitch.conf system-auth password-auth REQUIREMENTS; do
	tap_unlike "$f: every directive is known (minimal base)" "$(render "$prof/$f")" 'UNKNOWN DIRECTIVE|[{}]'
	tap_unlike "$f: every directive is known (all features)" \
		"$(render "$prof/$f" with-mkhomedir with-sssd with-faillock with-pamaccess without-nullok)" \
		'UNKNOWN DIRECTIVE|[{}]'
done

# ---- nsswitch.conf ----
for db in passwd group shadow; do
	tap_is "minimal base: $db is files systemd pwb" "$(nss "$db")" "files systemd pwb"
	tap_is "with-mkhomedir: $db is files systemd pwb" "$(nss "$db" with-mkhomedir)" "files systemd pwb"
	tap_is "sssd variant: $db is files systemd pwb sss" "$(nss "$db" with-sssd)" "files systemd pwb sss"
	tap_is "with-custom-$db leaves $db to user-nsswitch.conf" "$(nss "$db" "with-custom-$db")" ""
done
tap_is "minimal base: no sss anywhere" "$(render "$prof/nsswitch.conf" | grep -c sss)" 0
tap_is "the Debian example has the same passwd line" \
	"$(awk '$1 == "passwd:" { $1 = ""; sub(/^ /, ""); print }' "$PWB_TEST_SRCDIR/examples/nsswitch.conf")" \
	"$(nss passwd)"
tap_is "the base keeps minimal's hosts line" "$(nss hosts)" \
	"resolve [!UNAVAIL=return] files myhostname dns"

# ---- PAM stacks ----
# The Debian examples' arguments: the account line and the session line
# of examples/pam.d (sshd snippet and the pwb service).
deb_session=$(awk '$1 == "session" && $3 == "pam_pwb_mkhome.so"' "$PWB_TEST_SRCDIR/examples/pam.d/sshd-debian.snippet" |
	awk '{ $1 = ""; $2 = ""; sub(/^ +/, ""); print }')
tap_is "the Debian session arguments (for reference)" "$deb_session" "pam_pwb_mkhome.so skel=/etc/skel umask=0077"
for file in system-auth password-auth; do
	for feats in "" with-mkhomedir "with-mkhomedir with-sssd"; do
		name="$file${feats:+ ($feats)}"
		acct=$(stack "$file" account $feats)
		sess=$(stack "$file" session $feats)
		tap_is "$name: one pam_pwb_mkhome account line, no arguments" \
			"$(printf '%s\n' "$acct" | awk '$NF == "pam_pwb_mkhome.so"' | wc -l)" 1
		tap_like "$name: pam_pwb_mkhome account after pam_unix" "$(printf '%s\n' "$acct" | tr '\n' '|')" \
			'pam_unix\.so\|[^|]*pam_pwb_mkhome\.so\|'
		tap_is "$name: no pam_oddjob_mkhomedir" "$(printf '%s\n' "$sess" | grep -c oddjob)" 0
		if [ -n "$feats" ]; then
			tap_is "$name: session creates homes with the Debian arguments" \
				"$(printf '%s\n' "$sess" | awk '$2 == "pam_pwb_mkhome.so" { print $1, $2, $3, $4 }')" \
				"required $deb_session"
			tap_like "$name: before the crond skip and pam_unix" "$(printf '%s\n' "$sess" | tr '\n' '|')" \
				'pam_pwb_mkhome\.so[^|]*\|[^|]*pam_succeed_if\.so service in crond[^|]*\|[^|]*pam_unix\.so'
		else
			tap_is "$name: no home creation without with-mkhomedir" \
				"$(printf '%s\n' "$sess" | grep -c pam_pwb_mkhome)" 0
		fi
	done
	tap_is "$file (minimal base): account is required, as in the Debian examples" \
		"$(stack "$file" account | awk '$NF == "pam_pwb_mkhome.so" { print $1 }')" required
	tap_like "$file (sssd variant): a user only sssd knows is left to pam_sss" \
		"$(stack "$file" account with-sssd | awk '$NF == "pam_pwb_mkhome.so"')" 'user_unknown=ignore'
	tap_is "$file (minimal base): no pam_sss" "$(render "$prof/$file" with-mkhomedir | grep -c pam_sss)" 0
	tap_is "$file (sssd variant): pam_sss in auth, account, password and session" \
		"$(render "$prof/$file" with-sssd | awk '$0 ~ /pam_sss\.so/ { print $1 }' | sort -u | tr '\n' ' ')" \
		"account auth password session "
	tap_like "$file: auth ends in pam_deny" "$(stack "$file" auth | tail -1)" '^required +pam_deny\.so$'
	tap_is "$file: pam_pwb_oidc is not in the system stacks (a token is never a password here)" \
		"$(render "$prof/$file" with-mkhomedir with-sssd | grep -c pam_pwb_oidc)" 0
done

# The pam_pwb_oidc service stack the RPM installs as /etc/pam.d/pwb.
spec=$PWB_TEST_SRCDIR/rhel/pwb.spec
tap_like "the spec installs examples/pam.d/pwb as /etc/pam.d/pwb" "$(cat "$spec")" \
	'install -D -m 0644 examples/pam\.d/pwb %\{buildroot\}%\{_sysconfdir\}/pam\.d/pwb'
svc=$(grep -Ev '^[[:space:]]*(#|$)' "$PWB_TEST_SRCDIR/examples/pam.d/pwb")
tap_like "the pwb service authenticates with pam_pwb_oidc only" "$(printf '%s\n' "$svc" | awk '$1 == "auth"')" \
	'^auth +required +pam_pwb_oidc\.so$'
tap_like "... and runs pam_pwb_mkhome for account and session" "$(printf '%s\n' "$svc" | tr '\n' '|')" \
	'account +required +pam_pwb_mkhome\.so\|session +required +pam_pwb_mkhome\.so skel=/etc/skel umask=0077'

# ---- README ----
features=$(cat "$prof/nsswitch.conf" "$prof/system-auth" "$prof/password-auth" |
	grep -oE '(include|exclude) if "[^"]+"|if (not )?"[^"]+"' | grep -oE '"[^"]+"' | tr -d '"' | sort -u)
for f in $features; do
	tap_like "README documents $f" "$(cat "$prof/README")" "(^|[ ,])$f(::|,)"
done
tap_like "README's first line is the profile's name" "$(head -1 "$prof/README")" 'pwb'

# ---- examples/rhel.md: what it selects and runs exists ----
doc=$PWB_TEST_SRCDIR/examples/rhel.md
selects=$(grep -oE 'authselect select custom/pwb( with(out)?-[a-z-]+)*' "$doc" | sort -u)
tap_like "rhel.md selects the profile with-mkhomedir" "$selects" 'custom/pwb with-mkhomedir'
tap_like "rhel.md selects the sssd variant" "$selects" 'custom/pwb with-mkhomedir with-sssd'
for f in $(printf '%s\n' "$selects" | grep -oE 'with(out)?-[a-z-]+' | sort -u); do
	tap_like "rhel.md's feature $f is in the profile" "$features" "(^|\n)$f(\n|$)"
done
for cmd in $(grep -oE 'pwbadm [a-z-]+' "$doc" | awk '{ print $2 }' | sort -u); do
	tap_check "rhel.md: 'pwbadm $cmd' exists" "$PWB_TEST_BUILDDIR/pwbadm/pwbadm" "$cmd" --help
done
for f in pwb-login sshd-device sshd-rhel.snippet; do
	tap_check "rhel.md's examples/pam.d/$f exists" test -f "$PWB_TEST_SRCDIR/examples/pam.d/$f"
done

tap_done
