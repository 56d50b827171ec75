/* pwbadm: the administrator's command line. This file holds the command
 * table (each command's options, operand count, what it needs, --json)
 * and dispatches from it: global options, the command's own options and
 * operands, --help and the usage are all generated here; each command
 * group lives in its own file and only interprets what was parsed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pwbadm.h"

static const struct option add_options[] = {
    {"uid", required_argument, NULL, 'u'},
    {"groups", required_argument, NULL, 'g'},
    {"home", required_argument, NULL, 'd'},
    {NULL, 0, NULL, 0},
};
static const struct option all_options[] = {
    {"all", no_argument, NULL, 'a'},
    {NULL, 0, NULL, 0},
};
static const struct option yes_options[] = {
    {"yes", no_argument, NULL, 'y'},
    {NULL, 0, NULL, 0},
};
static const struct option rebind_options[] = {
    {"subject", required_argument, NULL, 's'},
    {"issuer", required_argument, NULL, 'i'},
    {"all", no_argument, NULL, 'a'},
    {"from", required_argument, NULL, 'f'},
    {NULL, 0, NULL, 0},
};
static const struct option token_options[] = {
    {"duration", required_argument, NULL, 'd'},
    {"no-expiry", no_argument, NULL, 'n'},
    {NULL, 0, NULL, 0},
};

static const struct option cluster_options[] = {
    {"from-local", no_argument, NULL, 'f'},
    {"reader-role", required_argument, NULL, 'r'},
    {"upto", required_argument, NULL, 'u'},
    {NULL, 0, NULL, 0},
};

#define ONE_USER "expects one user name"
#define STORE	 PWBADM_NEEDS_PWBD

static const struct option log_options[] = {
    {"user", required_argument, NULL, 'u'},
    {"group", required_argument, NULL, 'g'},
    {"since", required_argument, NULL, 's'},
    {"until", required_argument, NULL, 'U'},
    {"actor", required_argument, NULL, 'a'},
    {"limit", required_argument, NULL, 'n'},
    {NULL, 0, NULL, 0},
};

/* name, run, options (short, long), operands (min, max, error), needs,
 * --json, synopsis, summary, help. */
static const struct pwbadm_command commands[] = {
    {"list-users", pwbadm_list_users, "a", all_options, 0, 0, NULL, STORE, true, "[--json] [--all]",
     "list users (name, uid, gid, state, source, last sign-in, home, binding)",
     "  --json   one JSON array, one user object per line\n"
     "  --all    include locked (deactivated) users\n"
     "  BINDING: bound (to an issuer and subject), pending (the next sign-in binds),\n"
     "  unbound (from before bindings; see auth-openid-bind-existing-users).\n"
     "  Damaged records are skipped and named on stderr; the exit status stays 0.\n"},
    {"show-user", pwbadm_show_user, "", NULL, 1, 1, ONE_USER, STORE, true, "NAME [--json]",
     "show everything about one user, including groups and externalId",
     "  --json   one JSON object\n"},
    {"add-user", pwbadm_add_user, "u:g:d:", add_options, 1, 1, ONE_USER, STORE, false,
     "NAME [--uid N] [--groups A,B] [--home DIR]",
     "register a user (uid from the configured range unless --uid)",
     "  --uid N        use this UID (must be free, not local, not retired)\n"
     "  --groups A,B   make the user a member of these groups (created if missing)\n"
     "  --home DIR     home directory (default: user-homedir-path/NAME); not created\n"},
    {"lock-user", pwbadm_lock_user, "", NULL, 1, 1, ONE_USER, STORE, false, "NAME",
     "lock a user: shadow entry expired, PAM sign-in refused", ""},
    {"unlock-user", pwbadm_unlock_user, "", NULL, 1, 1, ONE_USER, STORE, false, "NAME",
     "unlock a locked user", ""},
    {"delete-user", pwbadm_delete_user, "y", yes_options, 1, 1, ONE_USER, STORE, false,
     "NAME|ID [--yes]", "remove a user or a damaged record; UID and home path retired, home kept",
     "  --yes    do not ask (required when stdin is not a terminal)\n"
     "  ID       the record id a listing or check names for a damaged record\n"},
    {"rebind-user", pwbadm_rebind_user, "s:i:af:", rebind_options, 0, 1, "expects one user name",
     STORE, false, "NAME [--subject SUB [--issuer ISS]] | --all --issuer NEW [--from OLD]",
     "change the IdP identity (issuer, subject) a user is bound to",
     "  NAME                  alone: unbind; the next sign-in binds the user\n"
     "  --subject SUB         bind NAME to this subject (claim auth-openid-subject-claim)\n"
     "  --issuer ISS          ... at this issuer (default: auth-openid-issuer)\n"
     "  --all --issuer NEW    move every bound user to issuer NEW, keeping subjects\n"
     "  --from OLD            with --all: only users bound at issuer OLD\n"
     "  All in one transaction: a subject another user holds fails it all.\n"},
    {"set-groups", pwbadm_set_groups, "", NULL, 2, 2, "expects a user name and a list of groups",
     STORE, false, "NAME A,B,...",
     "set a user's groups exactly (missing groups are created; \"\" for none)", ""},
    {"list-groups", pwbadm_list_groups, "", NULL, 0, 0, NULL, STORE, true, "[--json]",
     "list groups: Linux name, GID, members and display name",
     "  --json   one JSON array, one group object per line (displayName null:\n"
     "           the same as name)\n"},
    {"map-group", pwbadm_map_group, "", NULL, 2, 2, "expects a display name and a Linux group name",
     STORE, false, "\"DISPLAY NAME\" NAME",
     "make the IdP's group DISPLAY NAME the Linux group NAME (SCIM and sign-in)",
     "  Reserves NAME before the IdP pushes the group; refused if NAME or the\n"
     "  display name is taken by another group or mapping.\n"},
    {"unmap-group", pwbadm_unmap_group, "", NULL, 1, 1, "expects a display name", STORE, false,
     "\"DISPLAY NAME\"", "remove a group name mapping (an existing group keeps its name)", ""},
    {"list-group-maps", pwbadm_list_group_maps, "", NULL, 0, 0, NULL, STORE, true, "[--json]",
     "list group name mappings (display name, Linux name)",
     "  --json   one JSON array, one mapping object per line\n"},
    {"generate-token", pwbadm_generate_token, "d:n", token_options, 1, 1, "expects one token name",
     STORE, false, "[--duration DAYS | --no-expiry] NAME",
     "create a SCIM bearer token NAME and print it once",
     "  --duration DAYS   lifetime in days (default 365)\n"
     "  --no-expiry       the token never expires\n"},
    {"list-tokens", pwbadm_list_tokens, "", NULL, 0, 0, NULL, STORE, true, "[--json]",
     "list SCIM tokens (name, masked key, created, expires, last used)",
     "  --json   one JSON array (metadata only, never a token)\n"},
    {"revoke-token", pwbadm_revoke_token, "a", all_options, 0, 1,
     "expects one token name, or --all", STORE, false, "NAME | --all",
     "revoke a SCIM token, or all of them", "  --all    revoke every token\n"},
    {"encrypt-password", pwbadm_encrypt_password, "", NULL, 0, 0,
     "takes no arguments (the secret is read from stdin)", PWBADM_NEEDS_NOTHING, false, "",
     "print a secret encrypted for the client-secret file (no echo on a terminal)", ""},
    {"check", pwbadm_check, "", NULL, 0, 0, "takes no arguments", STORE, false, "",
     "diagnose the setup: one line per check, ok/WARN/FAIL and a fix",
     "  Also lists users not yet bound to an IdP subject, and records that break\n"
     "  the store's policy or cannot be read (each FAIL). In cluster mode: the\n"
     "  database unreachable or this host refusing writes (FAIL), and each host's\n"
     "  sync: WARN when it has not reported for 5 min, or is behind the database\n"
     "  and has not reported for 60 s.\n"},
    {"status", pwbadm_status, "", NULL, 0, 0, NULL, STORE, true, "[--json]",
     "one screen on health: users, groups, tokens, snapshot, store, SCIM, sign-ins",
     "  --json   one JSON object, for monitoring\n"
     "  Sign-ins today: users whose last sign-in is since local midnight.\n"
     "  With pwbd down: says so (exit status 1) and shows the published snapshot.\n"
     "  In cluster mode also: this host's role, whether the database answers, the\n"
     "  change its replica applied and when, the database's, and any refusal.\n"},
    {"rebuild-nss", pwbadm_rebuild_nss, "", NULL, 0, 0, NULL, STORE, false, "",
     "republish the whole NSS snapshot from the store", ""},
    {"export", pwbadm_export, "", NULL, 0, 1, NULL, STORE, false, "[FILE]",
     "write users, groups, token metadata and the audit trail as JSON lines",
     "  Damaged records cannot be exported: they are named on stderr and the\n"
     "  exit status is 1 (the export is incomplete), after writing the rest.\n"
     "  The audit trail follows the records, oldest first (type \"change\").\n"},
    {"import", pwbadm_import, "", NULL, 0, 1, NULL, STORE, false, "[FILE]",
     "read an export (default: stdin); validated, then written in one transaction",
     "  Every record is checked strictly (an unknown field or a wrong type fails\n"
     "  the import, naming the line, the record and the field). Change records\n"
     "  restore the audit trail under their own sequence numbers (ones the\n"
     "  store has are skipped).\n"},
    {"log", pwbadm_log, "u:g:s:U:a:n:", log_options, 0, 0, "takes only options", STORE, true,
     "[--user NAME] [--group NAME] [--since DATE] [--until DATE] [--actor WHO] [--limit N] "
     "[--json]",
     "show the audit trail: who changed which user, group or token, when, how",
     "  --user NAME    the changes of this user (also under a former name)\n"
     "  --group NAME   the changes of this group\n"
     "  --since DATE   from DATE on; --until DATE: before DATE. DATE is\n"
     "                 YYYY-MM-DD[THH:MM[:SS]] in local time (Z or +HH:MM: that\n"
     "                 zone), or relative: 30m, 12h, 7d, 2w ago\n"
     "  --actor WHO    an actor kind (scim, jit, pwbadm, pwb-login, pwbd, root) or\n"
     "                 name (a SCIM token's, an administrator's)\n"
     "  --limit N      only the newest N entries\n"
     "  --json         one JSON array, one entry object per line\n"
     "  One line per change, oldest first, in local time. ACTOR is\n"
     "  kind[:name][/service][@address]; CHANGED names attributes, never values.\n"},
    {"cluster", pwbadm_cluster, "fr:u:", cluster_options, 1, 1,
     "expects a subcommand: init, migrate, accept, status or prune", PWBADM_NEEDS_DAEMON, true,
     "init [--from-local] [--reader-role ROLE] | migrate | accept | status [--json] | "
     "prune --upto SEQ",
     "cluster mode (store-backend=postgresql): schema, this host's sync, every host",
     "  init               create the schema in the database (store-dsn)\n"
     "    --from-local     and copy this host's store into it, keeping every uid,\n"
     "                     gid and subject binding (the database must be empty)\n"
     "    --reader-role R  grant the read-only role R (cluster-role=reader hosts)\n"
     "                     SELECT and the host report\n"
     "  migrate            bring an older schema to this version (says when current)\n"
     "  accept             accept the database as it is after this host refused it\n"
     "                     (behind this host, or another cluster): a full resync\n"
     "  status [--json]    this host and every host: applied change, lag behind\n"
     "                     the database, last report (exit 1: database unreachable)\n"
     "  prune --upto SEQ   delete tombstones and change entries up to SEQ; a host\n"
     "                     that applied less resyncs fully\n"
     "  On a single host (store-backend=berkeleydb) each fails: not in cluster mode.\n"},
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
	if (cmd->needs == PWBADM_NEEDS_PWBD)
		fputs("\nRuns in pwbd (pwbd-socket); with pwbadm --offline, on the store\n"
		      "directly while pwbd is stopped.\n",
		      out);
	if (cmd->needs == PWBADM_NEEDS_DAEMON)
		fputs("\nRuns in pwbd (pwbd-socket), which holds the database connection;\n"
		      "--offline is refused.\n",
		      out);
	fprintf(out, "\n%s", exit_codes);
}

const char *pwbadm_opt_arg(const struct pwbadm_args *a, int val)
{
	const char *arg = NULL;
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if (a->opts[i].val == val)
			arg = a->opts[i].arg;
	return arg;
}

bool pwbadm_opt_set(const struct pwbadm_args *a, int val)
{
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if (a->opts[i].val == val)
			return true;
	return false;
}

/* Parses argv (argv[0] the command) by cmd's declaration into *a: its
 * options, --json if it takes it, --help, the operand count. 0 to run it,
 * -1 after printing help, or PWBADM_EXIT_USAGE (message printed). */
static int parse_command(const struct pwbadm_command *cmd, int argc, char **argv,
			 struct pwbadm_args *a)
{
	struct option longopts[16];
	char shortopts[32];
	size_t n = 0;
	int opt;

	if (cmd->longopts)
		for (; cmd->longopts[n].name && n < 13; n++)
			longopts[n] = cmd->longopts[n];
	if (cmd->json)
		longopts[n++] = (struct option){"json", no_argument, NULL, 'j'};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){NULL, 0, NULL, 0};
	snprintf(shortopts, sizeof(shortopts), "%s%sh", cmd->shortopts, cmd->json ? "j" : "");
	memset(a, 0, sizeof(*a));
	a->command = cmd->name;
	while ((opt = pwbadm_getopt(argc, argv, shortopts, longopts)) != -1) {
		if (opt == 'h') {
			pwbadm_command_help(cmd, stdout);
			return -1;
		}
		if (opt == '?')
			return PWBADM_EXIT_USAGE;
		if (opt == 'j' && cmd->json) {
			a->json = true;
			continue;
		}
		if (a->nopts == PWBADM_OPTS_MAX)
			return pwbadm_usage(cmd->name, "too many options");
		a->opts[a->nopts].val = opt;
		a->opts[a->nopts++].arg = optarg;
	}
	a->operands = argv + optind;
	a->count = argc - optind;
	if (a->count < cmd->min_operands || a->count > cmd->max_operands) {
		if (cmd->operands_error)
			return pwbadm_usage(cmd->name, "%s", cmd->operands_error);
		return pwbadm_usage(cmd->name, "unexpected argument \"%s\"",
				    a->operands[cmd->max_operands]);
	}
	return 0;
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
	struct pwbadm_args args;
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
	rc = parse_command(cmd, argc, argv, &args);
	if (rc)
		return rc < 0 ? PWBADM_EXIT_OK : rc;
	if (adm.offline && cmd->needs == PWBADM_NEEDS_DAEMON)
		return pwbadm_usage(cmd->name, "--offline: this command runs in pwbd only, which "
					       "holds the cluster database's connection");
	if (adm.offline && cmd->needs != PWBADM_NEEDS_PWBD)
		return pwbadm_usage(cmd->name, "--offline: this command does not use the store");
	rc = cmd->run(&adm, &args);
	pwbadm_close(&adm);
	if (fflush(stdout) != 0 && rc == PWBADM_EXIT_OK)
		rc = pwbadm_fail("cannot write the output");
	return rc;
}
