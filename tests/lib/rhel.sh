# Shared start of the RHEL packaging tests, tests/integration/rhel_*.sh
# (sourced): the Debian tools a test needs, or one SKIP line naming the
# package that provides the missing one.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"

# pwb_rhel_require WHAT:PACKAGE...: WHAT is a command or an absolute path.
pwb_rhel_require() {
	local need what
	for need in "$@"; do
		what=${need%%:*}
		case $what in
		/*) [ -e "$what" ] ;;
		*) command -v "$what" >/dev/null ;;
		esac || {
			echo "1..0 # SKIP $what not found: install the Debian package ${need#*:} (scripts/install-deps)"
			exit 0
		}
	done
}
