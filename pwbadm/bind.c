/* pwbadm rebind-user: the administrator's deliberate changes to which IdP
 * identity (issuer, subject) an account belongs to. Sign-in binds an
 * account once and then refuses any other identity; this is the way to
 * unbind one (the next sign-in binds it), bind one to a known subject, or
 * move every bound account to a new issuer. Each form is one transaction. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "pwbadm.h"
#include "util.h"

#define IDENTITY_MAX 1023 /* the store's limit on issuer and subject */

struct rebind_change {
	char id[PWB_ID_LEN + 1];
	char name[PWB_NAME_MAX + 1];
	char *old_issuer, *old_subject; /* NULL: was not bound */
	char *subject;			/* the subject kept (--all) */
};

struct rebind_ctx {
	/* what was asked */
	const char *name;    /* one user; NULL with --all */
	const char *issuer;  /* new issuer; NULL: unbind */
	const char *subject; /* new subject (one user) */
	const char *from;    /* --all: only users bound at this issuer */
	/* what the transaction did, for the report */
	struct rebind_change *changes;
	size_t count, capacity;
	size_t unchanged;
};

static void changes_clear(struct rebind_ctx *c)
{
	size_t i;

	for (i = 0; i < c->count; i++) {
		free(c->changes[i].old_issuer);
		free(c->changes[i].old_subject);
		free(c->changes[i].subject);
	}
	c->count = 0;
	c->unchanged = 0;
}

static int note_change(struct rebind_ctx *c, const struct pwb_user *u)
{
	struct rebind_change *ch;

	if (c->count == c->capacity) {
		size_t cap = c->capacity ? c->capacity * 2 : 16;
		void *p = reallocarray(c->changes, cap, sizeof(*c->changes));

		if (!p)
			return -ENOMEM;
		c->changes = p;
		c->capacity = cap;
	}
	ch = &c->changes[c->count];
	memset(ch, 0, sizeof(*ch));
	memcpy(ch->id, u->id, sizeof(ch->id));
	memcpy(ch->name, u->name, sizeof(ch->name));
	if ((u->issuer && !(ch->old_issuer = strdup(u->issuer))) ||
	    (u->subject && !(ch->old_subject = strdup(u->subject))) ||
	    (u->subject && !(ch->subject = strdup(u->subject)))) {
		free(ch->old_issuer);
		free(ch->old_subject);
		return -ENOMEM;
	}
	c->count++;
	return 0;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* --all: note every bound user the migration moves (binding inside the
 * walk would write to the table being walked). */
static int collect_bound(const struct pwb_user *u, void *vctx)
{
	struct rebind_ctx *c = vctx;

	if (!pwbadm_user_bound(u))
		return 0;
	if (same(u->issuer, c->issuer)) {
		c->unchanged++;
		return 0;
	}
	if (c->from && !same(u->issuer, c->from))
		return 0;
	return note_change(c, u);
}

static int rebind_all_txn(struct pwb_txn *txn, struct rebind_ctx *c, struct pwb_error *err)
{
	size_t i;
	int rc;

	rc = pwb_user_foreach(txn, collect_bound, c, err);
	if (rc == -ENOMEM)
		return pwb_error_set(err, rc, "out of memory");
	for (i = 0; rc == 0 && i < c->count; i++) {
		rc = pwb_user_bind(txn, c->changes[i].id, c->issuer, c->changes[i].subject, err);
		if (rc < 0)
			pwb_error_prefix(err, "user %s", c->changes[i].name);
	}
	return rc;
}

static int rebind_one_txn(struct pwb_txn *txn, struct rebind_ctx *c, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int rc;

	rc = pwb_user_get_by_name(txn, c->name, &u, err);
	if (rc == PWB_ENOTFOUND)
		rc = pwb_error_set(err, rc, "no user named %s", c->name);
	/* Unbinding a user from before bindings (unbound, not pending) makes it
	 * pending: its next sign-in binds it, whatever pwb.conf allows. */
	if (rc == 0 && ((!c->issuer && !pwbadm_user_bound(&u) && u.bind_on_login) ||
			(same(u.issuer, c->issuer) && same(u.subject, c->subject))))
		c->unchanged++;
	else if (rc == 0 && (rc = note_change(c, &u)) == 0)
		rc = pwb_user_bind(txn, u.id, c->issuer, c->subject, err);
	if (rc == -ENOMEM && !err->msg[0])
		pwb_error_set(err, rc, "out of memory");
	pwb_user_clear(&u);
	return rc;
}

static int rebind_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct rebind_ctx *c = vctx;

	changes_clear(c); /* the body may run again after a retry */
	return c->name ? rebind_one_txn(txn, c, err) : rebind_all_txn(txn, c, err);
}

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

static void report(const struct rebind_ctx *c)
{
	char now[352], was[352];
	size_t i;

	for (i = 0; i < c->count; i++) {
		const struct rebind_change *ch = &c->changes[i];

		const char *was_text =
		    identity_text(ch->old_issuer, ch->old_subject, was, sizeof(was));
		const char *now_text;

		if (!c->issuer) {
			printf("user %s unbound (was %s): the next sign-in binds it\n", ch->name,
			       was_text);
			pwb_log(LOG_NOTICE, "user %s unbound by pwbadm (was %s)", ch->name,
				was_text);
			continue;
		}
		now_text =
		    identity_text(c->issuer, c->name ? c->subject : ch->subject, now, sizeof(now));
		printf("user %s bound to %s (was %s)\n", ch->name, now_text, was_text);
		pwb_log(LOG_NOTICE, "user %s bound by pwbadm to %s (was %s)", ch->name, now_text,
			was_text);
	}
}

static bool identity_ok(const char *s)
{
	if (!*s || strlen(s) > IDENTITY_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int pwbadm_rebind_user(struct pwbadm *adm, int argc, char **argv)
{
	static const struct option options[] = {
	    {"subject", required_argument, NULL, 's'}, {"issuer", required_argument, NULL, 'i'},
	    {"all", no_argument, NULL, 'a'},	       {"from", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	struct rebind_ctx c = {0};
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	bool all = false;
	int opt, rc;

	while ((opt = pwbadm_getopt(argc, argv, "s:i:af:h", options)) != -1) {
		switch (opt) {
		case 'h':
			pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
			return PWBADM_EXIT_OK;
		case 's':
			c.subject = optarg;
			break;
		case 'i':
			c.issuer = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'f':
			c.from = optarg;
			break;
		default:
			return PWBADM_EXIT_USAGE;
		}
	}
	if (c.subject && !identity_ok(c.subject))
		return pwbadm_usage(argv[0],
				    "--subject must be 1 to %d characters without "
				    "control characters",
				    IDENTITY_MAX);
	if ((c.issuer && (!identity_ok(c.issuer) || strncmp(c.issuer, "https://", 8) != 0)) ||
	    (c.from && !identity_ok(c.from)))
		return pwbadm_usage(argv[0],
				    "an issuer is an https:// URL of at most %d "
				    "characters",
				    IDENTITY_MAX);
	if (all) {
		if (optind != argc)
			return pwbadm_usage(argv[0], "--all takes no user name");
		if (!c.issuer || c.subject)
			return pwbadm_usage(argv[0], "--all needs --issuer NEW (and no --subject): "
						     "every subject is kept");
	} else {
		if (c.from)
			return pwbadm_usage(argv[0], "--from goes with --all");
		if (c.issuer && !c.subject)
			return pwbadm_usage(argv[0], "--issuer needs --subject (or --all)");
		if ((rc = pwbadm_one_user_operand(adm, argc, argv, name)))
			return rc;
		c.name = name;
		if (c.subject && !c.issuer) {
			if (pwbadm_load_config(adm))
				return PWBADM_EXIT_FAILURE;
			c.issuer = adm->cfg.openid_issuer;
			if (!c.issuer)
				return pwbadm_usage(argv[0], "--subject needs --issuer, as "
							     "auth-openid-issuer is not set");
		}
	}
	if (pwbadm_open_store(adm))
		return PWBADM_EXIT_FAILURE;
	rc = pwb_store_write(adm->store, rebind_txn, &c, &err);
	if (rc < 0) {
		rc = pwbadm_fail("cannot rebind %s, nothing changed: %s", c.name ? c.name : "users",
				 pwb_error_text(&err, rc));
	} else {
		report(&c);
		if (c.name && c.unchanged)
			printf("user %s was already %s\n", c.name,
			       c.issuer ? "bound to that identity" : "unbound");
		else if (!c.name)
			printf("%zu user%s rebound to the new issuer, %zu already there\n", c.count,
			       c.count == 1 ? "" : "s", c.unchanged);
	}
	changes_clear(&c);
	free(c.changes);
	return rc;
}
