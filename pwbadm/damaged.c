/* Records the store cannot decode: its walks skip them (one bad record
 * never hides the others) and its counts include them, so a listing can
 * tell how many it missed and name them from the store's policy audit. */
#include <stdio.h>
#include <string.h>
#include "pwbadm.h"

struct damaged_ctx {
	struct pwbadm_damaged *d;
	uint64_t found;
};

static int note_damaged(char kind, const char *id, const char *name, const char *message,
			void *vctx)
{
	struct damaged_ctx *c = vctx;
	struct pwbadm_damaged *d = c->d;

	(void)message;
	if (name) /* a record that decodes but breaks the policy: not this */
		return 0;
	if (d->shown < PWBADM_DAMAGED_SHOWN) {
		d->records[d->shown].kind = kind;
		snprintf(d->records[d->shown].id, sizeof(d->records[d->shown].id), "%s", id);
		d->shown++;
	}
	/* every skipped record named: no need to audit the rest */
	return ++c->found >= d->count ? 1 : 0;
}

int pwbadm_damaged_find(struct pwb_txn *txn, int64_t users_seen, int64_t groups_seen,
			struct pwbadm_damaged *out, struct pwb_error *err)
{
	struct damaged_ctx c = {.d = out};
	struct pwb_error aerr = {0};
	uint64_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (users_seen >= 0) {
		if ((rc = pwb_user_count(txn, &n, err)) < 0)
			return rc;
		out->count += n > (uint64_t)users_seen ? n - (uint64_t)users_seen : 0;
	}
	if (groups_seen >= 0) {
		if ((rc = pwb_group_count(txn, &n, err)) < 0)
			return rc;
		out->count += n > (uint64_t)groups_seen ? n - (uint64_t)groups_seen : 0;
	}
	if (out->count == 0)
		return 0;
	/* Naming them is a courtesy: the count stands without it (and a lost
	 * lock conflict marks the transaction, which is then retried). */
	(void)pwb_store_policy_audit(txn, note_damaged, &c, &aerr);
	return 0;
}

void pwbadm_damaged_report(const struct pwbadm_damaged *d)
{
	size_t i;

	for (i = 0; i < d->shown; i++) {
		if (d->records[i].kind == 'g')
			fprintf(stderr,
				"pwbadm: warning: group %s: damaged record skipped (a SCIM DELETE "
				"of /Groups/%s removes it)\n",
				d->records[i].id, d->records[i].id);
		else
			fprintf(stderr,
				"pwbadm: warning: user %s: damaged record skipped (pwbadm "
				"delete-user %s removes it)\n",
				d->records[i].id, d->records[i].id);
	}
	if (d->count > d->shown)
		fprintf(stderr,
			"pwbadm: warning: %llu damaged record%s skipped in all (pwbadm check lists "
			"them)\n",
			(unsigned long long)d->count, d->count == 1 ? "" : "s");
}
