/* pwbadm rebind-user: the administrator's deliberate changes to which IdP
 * identity (issuer, subject) an account belongs to. Sign-in binds an
 * account once and then refuses any other identity; this is the way to
 * unbind one (the next sign-in binds it), bind one to a known subject, or
 * move every bound account to a new issuer. Each form is one request to
 * pwbd (user.rebind, pwbd/admin_bind.c), one transaction there. */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pwbadm.h"
#include "store.h"
#include "util.h"

/* "issuer X, subject Y" or "not bound", escaped, into buf. */
static const char *identity_text(const char *issuer, const char *subject, char *buf, size_t size)
{
	char i[160], s[160];

	if (!issuer || !subject)
		return "not bound";
	pwb_names_escape(issuer, i, sizeof(i));
	pwb_names_escape(subject, s, sizeof(s));
	snprintf(buf, size, "issuer %s, subject %s", i, s);
	return buf;
}

static void report(json_t *changes, const char *issuer, const char *name, const char *subject)
{
	char now[352], was[352];
	json_t *ch;
	size_t i;

	json_array_foreach(changes, i, ch)
	{
		const char *who = json_string_value(json_object_get(ch, "name")) ?: "";
		const char *was_text = identity_text(
		    json_string_value(json_object_get(ch, "oldIssuer")),
		    json_string_value(json_object_get(ch, "oldSubject")), was, sizeof(was));
		const char *now_text;

		if (!issuer) {
			printf("user %s unbound (was %s): the next sign-in binds it\n", who,
			       was_text);
			pwb_log(LOG_NOTICE, "user %s unbound by pwbadm (was %s)", who, was_text);
			continue;
		}
		now_text = identity_text(
		    issuer, name ? subject : json_string_value(json_object_get(ch, "subject")), now,
		    sizeof(now));
		printf("user %s bound to %s (was %s)\n", who, now_text, was_text);
		pwb_log(LOG_NOTICE, "user %s bound by pwbadm to %s (was %s)", who, now_text,
			was_text);
	}
}

int pwbadm_rebind_user(struct pwbadm *adm, const struct pwbadm_args *a)
{
	struct {
		const char *name, *issuer, *subject, *from;
	} c = {NULL, pwbadm_opt_arg(a, 'i'), pwbadm_opt_arg(a, 's'), pwbadm_opt_arg(a, 'f')};
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	size_t count, unchanged;
	char name[PWB_NAME_MAX + 1];
	bool all = pwbadm_opt_set(a, 'a');
	int rc;

	if (c.subject && !pwb_record_identity_ok(c.subject))
		return pwbadm_usage(a->command,
				    "--subject must be 1 to %d characters without "
				    "control characters",
				    PWB_RECORD_IDENTITY_MAX);
	if ((c.issuer &&
	     (!pwb_record_identity_ok(c.issuer) || strncmp(c.issuer, "https://", 8) != 0)) ||
	    (c.from && !pwb_record_identity_ok(c.from)))
		return pwbadm_usage(a->command,
				    "an issuer is an https:// URL of at most %d "
				    "characters",
				    PWB_RECORD_IDENTITY_MAX);
	if (all) {
		if (a->count)
			return pwbadm_usage(a->command, "--all takes no user name");
		if (!c.issuer || c.subject)
			return pwbadm_usage(a->command,
					    "--all needs --issuer NEW (and no --subject): "
					    "every subject is kept");
	} else {
		if (c.from)
			return pwbadm_usage(a->command, "--from goes with --all");
		if (c.issuer && !c.subject)
			return pwbadm_usage(a->command, "--issuer needs --subject (or --all)");
		if (a->count != 1)
			return pwbadm_usage(a->command, "expects one user name");
		if (pwbadm_user_arg(adm, a->command, a->operands[0], name))
			return PWBADM_EXIT_USAGE;
		c.name = name;
		if (c.subject && !c.issuer) {
			if (pwbadm_load_config(adm))
				return PWBADM_EXIT_FAILURE;
			c.issuer = adm->cfg.openid_issuer;
			if (!c.issuer)
				return pwbadm_usage(a->command, "--subject needs --issuer, as "
								"auth-openid-issuer is not set");
		}
	}
	rc = pwbadm_call(adm, "user.rebind",
			 json_pack("{s:b, s:s?, s:s?, s:s?, s:s?}", "all", all, "name", c.name,
				   "issuer", c.issuer, "subject", c.subject, "from", c.from),
			 &result, &err);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot rebind %s, nothing changed",
					c.name ? c.name : "users");
	report(json_object_get(result, "changes"), c.issuer, c.name, c.subject);
	count = json_array_size(json_object_get(result, "changes"));
	unchanged = (size_t)json_integer_value(json_object_get(result, "unchanged"));
	if (c.name && unchanged)
		printf("user %s was already %s\n", c.name,
		       c.issuer ? "bound to that identity" : "unbound");
	else if (!c.name)
		printf("%zu user%s rebound to the new issuer, %zu already there\n", count,
		       count == 1 ? "" : "s", unchanged);
	return PWBADM_EXIT_OK;
}
