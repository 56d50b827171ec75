/* pwbadm's internals: the command table, the per-run context (config and
 * store, opened on demand), exit codes, and the helpers every command group
 * shares (one-line errors, name arguments, tables, JSON records). */
#ifndef PWBADM_H
#define PWBADM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "config.h"
#include "error.h"
#include "names.h"
#include "store.h"

/* Exit codes (documented in --help and pwbadm(8)). */
enum {
	PWBADM_EXIT_OK = 0,
	PWBADM_EXIT_FAILURE = 1, /* the command ran and failed (or check found a FAIL) */
	PWBADM_EXIT_USAGE = 2,	 /* the command line is wrong; nothing was changed */
};

struct pwbadm {
	const char *config_path; /* --config, or NULL: $PWB_CONFIG, then the default */
	struct pwb_config cfg;
	bool cfg_loaded;
	struct pwb_store *store;
};

struct pwbadm_command {
	const char *name;
	int (*run)(struct pwbadm *adm, int argc, char **argv);
	const char *synopsis; /* arguments after the command name */
	const char *summary;  /* one line for `pwbadm --help` */
	const char *help;     /* the options, for `pwbadm COMMAND --help` */
};

/* The commands, by group (users.c, groups.c, tokens.c, secret.c, check.c, io.c). */
int pwbadm_list_users(struct pwbadm *adm, int argc, char **argv);
int pwbadm_show_user(struct pwbadm *adm, int argc, char **argv);
int pwbadm_add_user(struct pwbadm *adm, int argc, char **argv);
int pwbadm_lock_user(struct pwbadm *adm, int argc, char **argv);
int pwbadm_unlock_user(struct pwbadm *adm, int argc, char **argv);
int pwbadm_delete_user(struct pwbadm *adm, int argc, char **argv);
int pwbadm_rebind_user(struct pwbadm *adm, int argc, char **argv);
int pwbadm_set_groups(struct pwbadm *adm, int argc, char **argv);
int pwbadm_list_groups(struct pwbadm *adm, int argc, char **argv);
int pwbadm_generate_token(struct pwbadm *adm, int argc, char **argv);
int pwbadm_list_tokens(struct pwbadm *adm, int argc, char **argv);
int pwbadm_revoke_token(struct pwbadm *adm, int argc, char **argv);
int pwbadm_encrypt_password(struct pwbadm *adm, int argc, char **argv);
int pwbadm_check(struct pwbadm *adm, int argc, char **argv);
int pwbadm_rebuild_nss(struct pwbadm *adm, int argc, char **argv);
int pwbadm_export(struct pwbadm *adm, int argc, char **argv);
int pwbadm_import(struct pwbadm *adm, int argc, char **argv);

/* The command named argv[0] (for usage messages). */
const struct pwbadm_command *pwbadm_command_find(const char *name);
void pwbadm_command_help(const struct pwbadm_command *cmd, FILE *out);

/* Prints "pwbadm: MESSAGE" on stderr; returns PWBADM_EXIT_FAILURE. */
int pwbadm_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "pwbadm: COMMAND: MESSAGE (see ...)" on stderr; returns PWBADM_EXIT_USAGE. */
int pwbadm_usage(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long for a command's argv (argv[0] is the command name), with
 * errors printed in pwbadm's one-line form. Returns -1 when done (optind
 * then indexes the operands), 'h' for -h/--help, an option's val, or '?'
 * after printing a usage error. main() resets getopt before each command. */
struct option;
int pwbadm_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Config and store, loaded/opened on first use; each prints its own error
 * and returns PWBADM_EXIT_FAILURE on failure. */
int pwbadm_load_config(struct pwbadm *adm);
int pwbadm_open_store(struct pwbadm *adm);
void pwbadm_close(struct pwbadm *adm);

/* Maps a user name argument the way JIT and SCIM do (case folded, an
 * allowed e-mail domain stripped); prints a usage error on refusal. */
int pwbadm_user_arg(struct pwbadm *adm, const char *command, const char *arg,
		    char out[PWB_NAME_MAX + 1]);

/* After option parsing: exactly one operand left, a user name, mapped as
 * pwbadm_user_arg does. Returns 0 or PWBADM_EXIT_USAGE (error printed). */
int pwbadm_one_user_operand(struct pwbadm *adm, int argc, char **argv, char out[PWB_NAME_MAX + 1]);

/* A comma-separated list of group names, each mapped and de-duplicated. */
struct pwbadm_names {
	char (*names)[PWB_NAME_MAX + 1];
	size_t count;
};
int pwbadm_group_list_arg(const char *command, const char *arg, struct pwbadm_names *out);
void pwbadm_names_free(struct pwbadm_names *n);

/* Finds group NAME, creating it (GID allocated) when missing, as JIT does. */
int pwbadm_group_ensure(struct pwb_txn *txn, const char *name, struct pwb_group *out,
			struct pwb_error *err);

/* "never" for 0, else RFC 3339 UTC. */
void pwbadm_time_text(int64_t t, char out[32]);

/* A text table, printed with columns aligned (by characters, not bytes).
 * Each row is one allocation, so 100k rows cost 100k mallocs, not 700k. */
#define PWBADM_TABLE_MAX_COLUMNS 8
struct pwbadm_table {
	size_t columns;
	const char *const *headers;
	char **cells; /* rows * columns; a row's cells share one block, owned by its first */
	size_t rows, capacity;
	size_t width[PWBADM_TABLE_MAX_COLUMNS]; /* widest cell so far, per column */
};
void pwbadm_table_init(struct pwbadm_table *t, size_t columns, const char *const *headers);
/* Appends one row of `columns` strings (copied). */
int pwbadm_table_add(struct pwbadm_table *t, const char *const *row);
void pwbadm_table_sort(struct pwbadm_table *t, size_t column);
int pwbadm_table_print(const struct pwbadm_table *t, FILE *out);
void pwbadm_table_free(struct pwbadm_table *t);

/* Whether a user is bound to an IdP identity (issuer and subject set), and
 * the binding as one word for tables: "bound"; "pending" (the next sign-in
 * binds it); "unbound" (a user from before bindings: it binds at sign-in
 * only as auth-openid-bind-existing-users or auth-openid-username-domains
 * allow). */
bool pwbadm_user_bound(const struct pwb_user *u);
const char *pwbadm_user_binding(const struct pwb_user *u);

/* JSON records, shared by --json listings, show-user, export and import.
 * Field names follow SCIM where it has one. Returns NULL on allocation failure. */
json_t *pwbadm_user_json(const struct pwb_user *u);
json_t *pwbadm_group_json(const struct pwb_group *g);
json_t *pwbadm_token_json(const struct pwb_token *t);

/* JSON objects to print sorted by their "name": each is serialised when
 * added (so 100k users cost 100k strings, not 100k JSON trees). */
struct pwbadm_json_item {
	char *name;
	char *text; /* compact JSON */
};
struct pwbadm_json_list {
	struct pwbadm_json_item *items;
	size_t count, capacity;
};
int pwbadm_json_list_add(struct pwbadm_json_list *l, json_t *item); /* steals item */
void pwbadm_json_list_sort(struct pwbadm_json_list *l);
/* One JSON array, one object per line. */
int pwbadm_json_list_print(struct pwbadm_json_list *l, FILE *out);
/* JSON lines: one object per line, no array. */
int pwbadm_json_list_print_lines(struct pwbadm_json_list *l, FILE *out);
void pwbadm_json_list_free(struct pwbadm_json_list *l);

/* Sorts a JSON array of strings in place (names print in a stable order). */
int pwbadm_json_strings_sort(json_t *array);

/* Damaged records: the store skips a record it cannot decode when it walks
 * users or groups (so one bad record never hides the others), and counts
 * every record. After a walk, inside the same transaction,
 * pwbadm_damaged_find() compares the two and, when some were skipped,
 * names them (from the store's policy audit, the first few). */
#define PWBADM_DAMAGED_SHOWN 10
struct pwbadm_damaged {
	uint64_t count; /* records skipped */
	size_t shown;
	struct {
		char kind; /* 'u' or 'g' */
		char id[PWB_ID_LEN + 1];
	} records[PWBADM_DAMAGED_SHOWN];
};
/* users_seen/groups_seen: records the walk returned (-1: not walked). */
int pwbadm_damaged_find(struct pwb_txn *txn, int64_t users_seen, int64_t groups_seen,
			struct pwbadm_damaged *out, struct pwb_error *err);
/* One stderr line per damaged record shown, and a count of the rest. */
void pwbadm_damaged_report(const struct pwbadm_damaged *d);

/* Text fields that end up in a passwd line must not break it. */
bool pwbadm_passwd_field_ok(const char *s);

#endif
