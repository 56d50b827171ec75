/* pwbadm's import: reads an export (a file or stdin) line by line and sends
 * the lines to pwbd's store.import, which parses every record with the
 * codec's strict mode, validates all, then writes them in one transaction
 * (pwbd/admin_import.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cleanup.h"
#include "log.h"
#include "pwbadm.h"
#include "rpc.h"
#include "store.h"
#include "util.h"

/* The file's lines, line N at index N-1 (blank lines empty). */
static int read_lines(const char *origin, FILE *in, json_t **out, struct pwb_error *err)
{
	/* A fixed buffer: a hostile file cannot make one line cost more. */
	_cleanup_free_ char *line = malloc(PWB_IMPORT_LINE_MAX + 2);
	size_t number = 0, len;

	*out = json_array();
	if (!*out || !line)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	while (fgets(line, PWB_IMPORT_LINE_MAX + 2, in)) {
		number++;
		len = strlen(line);
		if (len > PWB_IMPORT_LINE_MAX && line[len - 1] != '\n') {
			json_decref(*out);
			return pwb_error_set(err, PWB_EINVAL, "%s: line %zu: longer than %d bytes",
					     origin, number, PWB_IMPORT_LINE_MAX);
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (json_array_append_new(*out, json_stringn(line, len)) < 0) {
			json_decref(*out);
			return pwb_error_set(err, PWB_EINVAL, "%s: line %zu: not UTF-8 text",
					     origin, number);
		}
	}
	if (ferror(in)) {
		json_decref(*out);
		return pwb_error_set(err, -EIO, "%s: read error", origin);
	}
	return 0;
}

int pwbadm_import(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_fclose_ FILE *file = NULL;
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	const char *origin = "stdin";
	json_t *lines = NULL;
	FILE *in = stdin;
	int rc;

	if (a->count && strcmp(a->operands[0], "-") != 0) {
		origin = a->operands[0];
		file = fopen(origin, "re");
		if (!file)
			return pwbadm_fail("cannot read %s: %s", origin, strerror(errno));
		in = file;
	}
	if (pwbadm_load_config(adm))
		return PWBADM_EXIT_FAILURE;
	/* pwbd parses and checks everything before the store is touched. */
	rc = read_lines(origin, in, &lines, &err);
	/* One import is one request (and one transaction) in pwbd. */
	if (rc == 0 && !adm->offline &&
	    json_dumpb(lines, NULL, 0, JSON_COMPACT) > PWB_RPC_MAX_FRAME - 4096u) {
		json_decref(lines);
		return pwbadm_fail("import failed, nothing written: %s is larger than one request "
				   "to pwbd (%u bytes): stop pwbd and run pwbadm --offline import",
				   origin, PWB_RPC_MAX_FRAME - 4096u);
	}
	if (rc == 0) {
		pwbadm_progress_start(adm, a);
		rc = pwbadm_call(adm, "store.import",
				 json_pack("{s:s, s:o}", "origin", origin, "lines", lines), &result,
				 &err);
		pwbadm_progress_end(adm);
	}
	if (rc == PWBADM_CALL_REPORTED || rc == PWB_ENODAEMON)
		return pwbadm_call_fail(rc, &err, "import failed");
	if (rc < 0)
		return pwbadm_fail("import failed, nothing written: %s", pwb_error_text(&err, rc));
	{
		char shown[128];
		json_int_t created = json_integer_value(json_object_get(result, "created"));
		json_int_t updated = json_integer_value(json_object_get(result, "updated"));

		/* A file name is the admin's text: escaped before syslog. */
		pwb_names_escape(origin, shown, sizeof(shown));
		pwb_log(LOG_NOTICE, "pwbadm import from %s: %lld created, %lld updated", shown,
			(long long)created, (long long)updated);
		printf("imported %lld users, %lld groups, %lld tokens, %lld changes: %lld created, "
		       "%lld updated, %lld unchanged\n",
		       (long long)json_integer_value(json_object_get(result, "users")),
		       (long long)json_integer_value(json_object_get(result, "groups")),
		       (long long)json_integer_value(json_object_get(result, "tokens")),
		       (long long)json_integer_value(json_object_get(result, "changes")),
		       (long long)created, (long long)updated,
		       (long long)json_integer_value(json_object_get(result, "unchanged")));
	}
	return PWBADM_EXIT_OK;
}
