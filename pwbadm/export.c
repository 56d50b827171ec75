/* pwbadm's export (users, groups with members, token metadata and retired
 * ids as JSON lines, from pwbd's store.export; then the audit trail, from
 * store.changes) and rebuild-nss (pwbd's
 * snapshot.rebuild). The records are the codec's public form, printed one
 * per line sorted by name. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cleanup.h"
#include "log.h"
#include "pwbadm.h"
#include "store.h"
#include "util.h"

/* ---- rebuild-nss ---- */

int pwbadm_rebuild_nss(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	int rc;

	pwbadm_progress_start(adm, a);
	rc = pwbadm_call(adm, "snapshot.rebuild", json_object(), &result, &err);
	pwbadm_progress_end(adm);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot rebuild the NSS snapshot in %s/nss",
					adm->cfg.db_dir);
	pwb_log(LOG_NOTICE, "NSS snapshot rebuilt by pwbadm");
	printf("NSS snapshot rebuilt in %s/nss\n", adm->cfg.db_dir);
	return PWBADM_EXIT_OK;
}

/* ---- export ---- */

/* Records as JSON lines, sorted by name. */
static int print_lines(json_t *records, FILE *out)
{
	struct pwbadm_json_list l = {0};
	json_t *r;
	size_t i;
	int rc = 0;

	json_array_foreach(records, i, r)
	{
		if ((rc = pwbadm_json_list_add(&l, json_incref(r))) < 0)
			break;
	}
	if (rc == 0)
		rc = pwbadm_json_list_print_lines(&l, out);
	pwbadm_json_list_free(&l);
	return rc;
}

/* Retired ids travel too, so an imported store never hands out an id whose
 * files may still exist. */
static int print_retired(json_t *retired, FILE *out)
{
	_cleanup_free_ char *line = NULL;

	if (json_array_size(json_object_get(retired, "uids")) == 0 &&
	    json_array_size(json_object_get(retired, "gids")) == 0)
		return 0;
	line = json_dumps(retired, JSON_COMPACT);
	return line && fprintf(out, "%s\n", line) >= 0 ? 0 : -EIO;
}

/* The audit trail travels as its own records, after the others, oldest
 * first: `{"type":"change", ...}` (pwbd's entry form). */
struct change_lines {
	FILE *out;
	size_t count;
};

static int print_change(json_t *e, void *ctx)
{
	struct change_lines *c = ctx;
	_cleanup_json_ json_t *line = json_pack("{s:s}", "type", "change");
	_cleanup_free_ char *text = NULL;

	if (!line || json_object_update(line, e) < 0 || !(text = json_dumps(line, JSON_COMPACT)))
		return -ENOMEM;
	c->count++;
	return fprintf(c->out, "%s\n", text) >= 0 ? 0 : -EIO;
}

int pwbadm_export(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_fclose_ FILE *file = NULL;
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	struct change_lines changes = {0};
	json_t *users, *groups, *tokens, *damaged;
	const char *path = NULL;
	FILE *out = stdout;
	int rc, fd;

	if (a->count && strcmp(a->operands[0], "-") != 0)
		path = a->operands[0];
	/* The line is cleared before any record is written, so it never
	 * mixes with an export printed on the same terminal. */
	pwbadm_progress_start(adm, a);
	rc = pwbadm_call(adm, "store.export", json_object(), &result, &err);
	pwbadm_progress_end(adm);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot export");
	users = json_object_get(result, "users");
	groups = json_object_get(result, "groups");
	tokens = json_object_get(result, "tokens");
	damaged = json_object_get(result, "damaged");
	if (path) {
		/* Exports name every account: readable by root only. */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || !(file = fdopen(fd, "w"))) {
			rc = -errno;
			if (fd >= 0)
				close(fd);
			return pwbadm_fail("cannot write %s: %s", path, strerror(-rc));
		}
		out = file;
	}
	rc = print_lines(users, out);
	if (rc == 0)
		rc = print_lines(groups, out);
	if (rc == 0)
		rc = print_lines(json_object_get(result, "groupmaps"), out);
	if (rc == 0)
		rc = print_lines(tokens, out);
	if (rc == 0)
		rc = print_retired(json_object_get(result, "retired"), out);
	if (rc == 0) {
		changes.out = out;
		rc = pwbadm_changes_foreach(adm, json_object(), 0, print_change, &changes, &err);
		if (rc)
			return pwbadm_call_fail(rc, &err, "cannot export the change log");
	}
	if (rc == 0 && (fflush(out) != 0 || ferror(out) || (file && fsync(fileno(file)) < 0)))
		rc = -EIO;
	if (file && rc == 0)
		printf("exported %zu users, %zu groups, %zu tokens, %zu changes to %s\n",
		       json_array_size(users), json_array_size(groups), json_array_size(tokens),
		       changes.count, path);
	if (rc < 0)
		return pwbadm_fail("cannot write %s: %s", path ? path : "stdout", strerror(-rc));
	/* Everything readable was written; what could not be read is not in it,
	 * so the export is no complete backup: say so, and fail. */
	if (pwbadm_damaged_count(damaged)) {
		pwbadm_damaged_report(damaged);
		return pwbadm_fail("the export lacks %llu damaged record%s",
				   (unsigned long long)pwbadm_damaged_count(damaged),
				   pwbadm_damaged_count(damaged) == 1 ? "" : "s");
	}
	return PWBADM_EXIT_OK;
}
