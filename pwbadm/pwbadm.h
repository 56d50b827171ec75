/* pwbadm's internals: the command table, the per-run context (config, and
 * the store only with --offline), exit codes, the call to pwbd, and the
 * helpers every command group shares (one-line errors, name arguments, the
 * one list printer). Records travel in the codec's public form
 * (store_records.h). */
#ifndef PWBADM_H
#define PWBADM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "config.h"
#include "error.h"
#include "names.h"
#include "progress.h"
#include "store.h"

/* Exit codes (documented in --help and pwbadm(8)). */
enum {
	PWBADM_EXIT_OK = 0,
	PWBADM_EXIT_FAILURE = 1, /* the command ran and failed (or check found a FAIL) */
	PWBADM_EXIT_USAGE = 2,	 /* the command line is wrong; nothing was changed */
};

/* The progress line's state (progress.c). */
struct pwbadm_progress {
	char stage[PWB_PROGRESS_WORD_MAX + 1], unit[PWB_PROGRESS_WORD_MAX + 1];
	int64_t stage_start_ms;	   /* the stage's first report: the rate counts */
	uint64_t stage_start_done; /* from there */
	struct pwb_progress_throttle throttle;
	size_t columns; /* the terminal's width (0: not known) */
	size_t width;	/* of the line drawn last (0: none): blanked at the end */
};

struct pwbadm {
	const char *config_path; /* --config, or NULL: $PWB_CONFIG, then the default */
	bool offline;		 /* --offline: open the store here, pwbd stopped */
	struct pwb_config cfg;
	bool cfg_loaded;
	struct pwb_store *store;      /* --offline only */
	struct pwb_progress progress; /* pwbadm_call reports here (no fn: nowhere) */
	struct pwbadm_progress progress_line;
};

struct pwbadm_args;
/* The progress line (progress.c): pwbadm_progress_start makes the next
 * pwbadm_calls ask for progress and draw it on stderr, when stderr is a
 * terminal and --json was not given (else it does nothing);
 * pwbadm_progress_end clears the line. */
void pwbadm_progress_start(struct pwbadm *adm, const struct pwbadm_args *a);
void pwbadm_progress_end(struct pwbadm *adm);
/* The line's text: "STAGE: DONE/TOTAL UNIT, RATE/s, ETA T" (numbers with
 * thousands separators; the rate is counted units in elapsed_ms; no total,
 * rate or ETA when not known). */
void pwbadm_progress_format(char *out, size_t len, const char *stage, uint64_t done, int64_t total,
			    const char *unit, uint64_t counted, int64_t elapsed_ms);

static inline void pwbadm_json_decrefp(json_t **j)
{
	json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(pwbadm_json_decrefp)))

/* Runs pwbd's admin operation op (pwbd/op_admin.c) with args (stolen):
 * over pwbd's socket, or with --offline in-process on the store opened
 * here. 0 and *result (the caller's), or the operation's code with the
 * message in err; PWB_ENODAEMON names the socket. PWBADM_CALL_REPORTED:
 * the error was printed already (config, --offline store open). */
#define PWBADM_CALL_REPORTED 1
int pwbadm_call(struct pwbadm *adm, const char *op, json_t *args, json_t **result,
		struct pwb_error *err);
/* pwbadm_call for a paged listing (user.list, group.list): asks page after
 * page and returns the last reply with result[key] holding every page's
 * records (the count so far reported to adm->progress, unit key). */
int pwbadm_call_pages(struct pwbadm *adm, const char *op, json_t *args, const char *key,
		      json_t **result, struct pwb_error *err);
/* Prints the failure of pwbadm_call in one line ("WHAT: message"; pwbd
 * unreachable: only the message naming the socket); returns
 * PWBADM_EXIT_FAILURE. */
int pwbadm_call_fail(int rc, const struct pwb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A parsed command line: main() parses every command's options and
 * operands from its table entry, so a command only interprets them. */
#define PWBADM_OPTS_MAX 16
struct pwbadm_args {
	const char *command;
	char **operands;
	int count;
	bool json; /* --json (commands that declare it) */
	struct {
		int val;
		const char *arg;
	} opts[PWBADM_OPTS_MAX];
	size_t nopts;
};
/* The value of the last use of option val (NULL: not given, or no value). */
const char *pwbadm_opt_arg(const struct pwbadm_args *a, int val);
bool pwbadm_opt_set(const struct pwbadm_args *a, int val);

/* What a command needs to run. */
enum pwbadm_needs {
	PWBADM_NEEDS_NOTHING, /* local only: --offline makes no sense */
	PWBADM_NEEDS_PWBD,    /* pwbd, or the store itself with --offline */
	PWBADM_NEEDS_DAEMON,  /* pwbd only (it holds the cluster database's connection) */
};

/* The command table (main.c): main() dispatches from it and generates the
 * usage and every --help from it. */
struct option;
struct pwbadm_command {
	const char *name;
	int (*run)(struct pwbadm *adm, const struct pwbadm_args *a);
	const char *shortopts;	       /* getopt spec of its own options (not -h, -j) */
	const struct option *longopts; /* the same, long (NULL: none) */
	int min_operands, max_operands;
	const char *operands_error; /* usage message for a wrong count (NULL:
				     * "unexpected argument") */
	enum pwbadm_needs needs;
	bool json;	      /* takes --json */
	const char *synopsis; /* arguments after the command name */
	const char *summary;  /* one line for `pwbadm --help` */
	const char *help;     /* the options, for `pwbadm COMMAND --help` */
};

/* The commands, by group (users.c, bind.c, groups.c, tokens.c, secret.c,
 * check.c, export.c, import.c, log.c). */
int pwbadm_list_users(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_show_user(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_add_user(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_lock_user(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_unlock_user(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_delete_user(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_rebind_user(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_set_groups(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_list_groups(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_map_group(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_unmap_group(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_list_group_maps(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_generate_token(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_list_tokens(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_revoke_token(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_encrypt_password(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_check(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_status(struct pwbadm *adm, const struct pwbadm_args *a); /* status.c */
int pwbadm_rebuild_nss(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_export(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_import(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_log(struct pwbadm *adm, const struct pwbadm_args *a);
int pwbadm_cluster(struct pwbadm *adm, const struct pwbadm_args *a); /* cluster.c */

/* Cluster mode (cluster.c, cluster_text.c), from pwbd's cluster.status
 * result. A host's sync is worth a warning when it has not reported for
 * PWBADM_CLUSTER_REPORT_WARN_S, or is behind the database and has not
 * reported for PWBADM_CLUSTER_LAG_WARN_S (it reports after each apply). */
#define PWBADM_CLUSTER_LAG_WARN_S    60
#define PWBADM_CLUSTER_REPORT_WARN_S 300
/* One host of result.hosts: its line for `pwbadm check` in out; 1 when it
 * is worth a warning, else 0. */
int pwbadm_cluster_host_verdict(json_t *host, char *out, size_t len);
/* This host's part (role, database reachable, applied sequence and age,
 * the database's sequence, refusal and why), `pwbadm status`'s lines. */
void pwbadm_cluster_summary(json_t *status, FILE *out);
/* Every host as a table (HOST ROLE APPLIED LAG LAST REPORT). */
int pwbadm_cluster_hosts_print(json_t *status, FILE *out);
/* The note that a read came from the replica (out "" when the database was
 * reachable): the replica's applied sequence and its age. */
void pwbadm_replica_note_text(json_t *status, char *out, size_t len);
/* A read command's last step on a cluster host: asks pwbd whether the
 * database is reachable, and if not prints the note above on stderr. */
void pwbadm_replica_note(struct pwbadm *adm);

/* The command named name, and its --help text. */
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
int pwbadm_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Config, loaded on first use; prints its own error and returns
 * PWBADM_EXIT_FAILURE on failure. */
int pwbadm_load_config(struct pwbadm *adm);
void pwbadm_close(struct pwbadm *adm);

/* Maps a user name argument the way JIT and SCIM do (case folded, an
 * allowed e-mail domain stripped); prints a usage error on refusal. */
int pwbadm_user_arg(struct pwbadm *adm, const char *command, const char *arg,
		    char out[PWB_NAME_MAX + 1]);

/* A comma-separated list of group names, each mapped and de-duplicated,
 * as a JSON array of strings in *out. */
int pwbadm_group_list_arg(const char *command, const char *arg, json_t **out);

/* "never" for 0, else RFC 3339 UTC. */
void pwbadm_time_text(int64_t t, char out[32]);
/* "3d 4h 5m", "4h 5m", "5m 6s" or "6s": the leading zero units left out. */
void pwbadm_duration_text(int64_t seconds, char out[48]);
/* The integer at a dotted path ("users.by_source.scim") in o; 0 if none. */
int64_t pwbadm_json_int(json_t *o, const char *path);

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

/* The audit trail (log.c). pwbadm_changes_foreach asks pwbd's
 * store.changes page after page with args (stolen: the filter, and
 * "reverse" for newest first) and calls cb with each entry, at most limit
 * (0: all); cb's negative return stops it. */
typedef int (*pwbadm_change_cb)(json_t *entry, void *ctx);
int pwbadm_changes_foreach(struct pwbadm *adm, json_t *args, size_t limit, pwbadm_change_cb cb,
			   void *ctx, struct pwb_error *err);
/* An ISO 8601 date or date-time (local unless Z or +HH:MM) or a relative
 * one ("7d" ago; s, m, h, d, w): unix seconds, or PWB_EINVAL. */
int pwbadm_date_parse(const char *s, int64_t now, int64_t *out);
/* All matching entries (args stolen), or with limit the newest that many,
 * into *out (a JSON array, oldest first). */
int pwbadm_changes_read(struct pwbadm *adm, json_t *args, size_t limit, json_t **out,
			struct pwb_error *err);
/* Entries as aligned lines in local time (TIME SEQ ACTOR OP WHAT CHANGED). */
int pwbadm_changes_print(json_t *entries);

/* The one printer of every list command: records (an array of objects in
 * the codec's public form, each with a "name") sorted by name, as one JSON
 * array (one object per line) with --json, else as a table whose rows
 * row() makes. Returns an exit code. */
struct pwbadm_list {
	const char *what; /* "users", for the error message */
	const char *const *headers;
	size_t columns;
	/* Adds record's row; on failure err names the record and field. */
	int (*row)(json_t *record, struct pwbadm_table *table, struct pwb_error *err);
};
int pwbadm_list_print(const struct pwbadm_list *list, json_t *records, bool json);

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

/* Damaged records pwbd skipped in a walk ({"count", "records": [{"kind",
 * "id"}]}, see pwbd/admin.h): one stderr line per record named, and a count
 * of the rest. NULL prints nothing. */
void pwbadm_damaged_report(json_t *damaged);
uint64_t pwbadm_damaged_count(json_t *damaged);

#endif
