/* pwbadm: the administrator's command line. This file only parses the
 * global options, finds the command and maps the result to an exit code;
 * each command group lives in its own file. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pwbadm.h"

static const struct pwbadm_command commands[] = {
    {"list-users", pwbadm_list_users, "[--json] [--all]",
     "list users (name, uid, gid, state, source, last sign-in, home, binding)",
     "  --json   one JSON array, one user object per line\n"
     "  --all    include locked (deactivated) users\n"
     "  BINDING: bound (to an issuer and subject), pending (the next sign-in binds),\n"
     "  unbound (from before bindings; see auth-openid-bind-existing-users).\n"
     "  Damaged records are skipped and named on stderr; the exit status stays 0.\n"},
    {"show-user", pwbadm_show_user, "NAME [--json]",
     "show everything about one user, including groups and externalId",
     "  --json   one JSON object\n"},
    {"add-user", pwbadm_add_user, "NAME [--uid N] [--groups A,B] [--home DIR]",
     "register a user (uid from the configured range unless --uid)",
     "  --uid N        use this UID (must be free, not local, not retired)\n"
     "  --groups A,B   make the user a member of these groups (created if missing)\n"
     "  --home DIR     home directory (default: user-homedir-path/NAME); not created\n"},
    {"lock-user", pwbadm_lock_user, "NAME",
     "lock a user: shadow entry expired, PAM sign-in refused", ""},
    {"unlock-user", pwbadm_unlock_user, "NAME", "unlock a locked user", ""},
    {"delete-user", pwbadm_delete_user, "NAME|ID [--yes]",
     "remove a user or a damaged record; UID and home path retired, home kept",
     "  --yes    do not ask (required when stdin is not a terminal)\n"
     "  ID       the record id a listing or check names for a damaged record\n"},
    {"rebind-user", pwbadm_rebind_user,
     "NAME [--subject SUB [--issuer ISS]] | --all --issuer NEW [--from OLD]",
     "change the IdP identity (issuer, subject) a user is bound to",
     "  NAME                  alone: unbind; the next sign-in binds the user\n"
     "  --subject SUB         bind NAME to this subject (claim auth-openid-subject-claim)\n"
     "  --issuer ISS          ... at this issuer (default: auth-openid-issuer)\n"
     "  --all --issuer NEW    move every bound user to issuer NEW, keeping subjects\n"
     "  --from OLD            with --all: only users bound at issuer OLD\n"
     "  All in one transaction: a subject another user holds fails it all.\n"},
    {"set-groups", pwbadm_set_groups, "NAME A,B,...",
     "set a user's groups exactly (missing groups are created; \"\" for none)", ""},
    {"list-groups", pwbadm_list_groups, "[--json]", "list groups with GID and members",
     "  --json   one JSON array, one group object per line\n"},
    {"generate-token", pwbadm_generate_token, "[--duration DAYS | --no-expiry] NAME",
     "create a SCIM bearer token NAME and print it once",
     "  --duration DAYS   lifetime in days (default 365)\n"
     "  --no-expiry       the token never expires\n"},
    {"list-tokens", pwbadm_list_tokens, "[--json]",
     "list SCIM tokens (name, masked key, created, expires, last used)",
     "  --json   one JSON array (metadata only, never a token)\n"},
    {"revoke-token", pwbadm_revoke_token, "NAME | --all", "revoke a SCIM token, or all of them",
     "  --all    revoke every token\n"},
    {"encrypt-password", pwbadm_encrypt_password, "",
     "print a secret encrypted for the client-secret file (no echo on a terminal)", ""},
    {"check", pwbadm_check, "", "diagnose the setup: one line per check, ok/WARN/FAIL and a fix",
     "  Also lists users not yet bound to an IdP subject, and records that break\n"
     "  the store's policy or cannot be read (each FAIL).\n"},
    {"rebuild-nss", pwbadm_rebuild_nss, "", "republish the whole NSS snapshot from the store", ""},
    {"export", pwbadm_export, "[FILE]",
     "write users, groups and token metadata as JSON lines (default: stdout)",
     "  Damaged records cannot be exported: they are named on stderr and the\n"
     "  exit status is 1 (the export is incomplete), after writing the rest.\n"},
    {"import", pwbadm_import, "[FILE]",
     "read an export (default: stdin); validated, then written in one transaction", ""},
};

const struct pwbadm_command *pwbadm_command_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static const char exit_codes[] = "Exit status: 0 success, 1 failure (check: a FAIL), "
				 "2 usage error (nothing changed).\n";

void pwbadm_command_help(const struct pwbadm_command *cmd, FILE *out)
{
	fprintf(out, "Usage: pwbadm [--config FILE] %s%s%s\n%s.\n", cmd->name,
		cmd->synopsis[0] ? " " : "", cmd->synopsis, cmd->summary);
	if (cmd->help[0])
		fprintf(out, "\nOptions:\n%s", cmd->help);
	fprintf(out, "\n%s", exit_codes);
}

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: pwbadm [--config FILE] [--offline] COMMAND [ARGS]\n"
	      "       pwbadm COMMAND --help\n\n"
	      "Manages pwb's users, groups and SCIM tokens, and diagnoses the setup.\n\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-17s %s\n", commands[i].name, commands[i].summary);
	fputs("\nOptions:\n"
	      "  -c, --config FILE  pwb.conf to use (default: $PWB_CONFIG, "
	      "then " PWB_CONFIG_DEFAULT_PATH ")\n"
	      "  --offline          open the store directly, while pwbd is stopped\n"
	      "                     (recovery, rebuild-nss, import); else every command\n"
	      "                     asks pwbd (pwbd-socket)\n"
	      "  -h, --help         this help\n\n",
	      out);
	fputs(exit_codes, out);
	fputs("See pwbadm(8).\n", out);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"offline", no_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct pwbadm_command *cmd;
	struct pwbadm adm = {0};
	int c, rc;

	opterr = 0;
	/* "+": stop at the command name, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+c:oh", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			adm.config_path = optarg;
			break;
		case 'o':
			adm.offline = true;
			break;
		case 'h':
			usage(stdout);
			return PWBADM_EXIT_OK;
		default:
			fprintf(stderr,
				"pwbadm: unknown option or missing value: %s (see pwbadm --help)\n",
				argv[optind - 1]);
			return PWBADM_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return PWBADM_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		cmd = optind + 1 < argc ? pwbadm_command_find(argv[optind + 1]) : NULL;
		if (cmd)
			pwbadm_command_help(cmd, stdout);
		else
			usage(stdout);
		return PWBADM_EXIT_OK;
	}
	cmd = pwbadm_command_find(argv[optind]);
	if (!cmd) {
		char shown[48];

		pwb_names_escape(argv[optind], shown, sizeof(shown));
		fprintf(stderr, "pwbadm: unknown command \"%s\" (see pwbadm --help)\n", shown);
		return PWBADM_EXIT_USAGE;
	}
	pwb_log_init("pwbadm", false, false);
	argc -= optind;
	argv += optind;
	optind = 0; /* restart getopt for the command's own options */
	rc = cmd->run(&adm, argc, argv);
	pwbadm_close(&adm);
	if (fflush(stdout) != 0 && rc == PWBADM_EXIT_OK)
		rc = pwbadm_fail("cannot write the output");
	return rc;
}
