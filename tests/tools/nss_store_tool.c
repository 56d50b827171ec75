/* Test and benchmark helper that changes users through the real store API
 * (pwb_store_write), so every change is published by lib/publish.c exactly
 * as JIT, SCIM and pwbadm publish it. Uses $PWB_CONFIG.
 *
 *   nss_store_tool populate PREFIX N BASEID GPREFIX G GBASEID
 *       G groups GPREFIXj (GID GBASEID+j), then N users PREFIXk (UID and
 *       private GID BASEID+k), each in groups k%G, (7k+3)%G, (13k+5)%G;
 *       1000 users per transaction.
 *   nss_store_tool add NAME [UID]        prints the UID
 *   nss_store_tool add-group NAME GID [MEMBER...]
 *   nss_store_tool lock NAME | unlock NAME | delete NAME
 *   nss_store_tool churn PREFIX FIRST COUNT BASEID GID SECONDS
 *       for SECONDS, creates or deletes random users PREFIXk, k in
 *       [FIRST, FIRST+COUNT), UID BASEID+k, member of group GID; prints
 *       the number of changes. A deleted user's UID is retired, so a user
 *       comes back only once per k: each k is created at most once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "publish.h"
#include "store.h"

struct populate {
	const char *prefix, *gprefix;
	unsigned n, base, g, gbase, from, to;
	char (*group_ids)[PWB_ID_LEN + 1];
};

static int populate_groups(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct populate *p = ctx;

	for (unsigned j = 0; j < p->g; j++) {
		struct pwb_group g = {0};
		int r;

		snprintf(g.name, sizeof(g.name), "%s%u", p->gprefix, j);
		g.gid = p->gbase + j;
		r = pwb_group_create(txn, &g, err);
		memcpy(p->group_ids[j], g.id, sizeof(g.id));
		pwb_group_clear(&g);
		if (r < 0)
			return r;
	}
	return 0;
}

static int populate_users(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct populate *p = ctx;

	for (unsigned k = p->from; k < p->to; k++) {
		unsigned js[3] = {k % p->g, (k * 7 + 3) % p->g, (k * 13 + 5) % p->g};
		struct pwb_user u = {0};
		int r;

		snprintf(u.name, sizeof(u.name), "%s%u", p->prefix, k);
		u.uid = p->base + k;
		u.gecos = strdup("Bench User"); /* owned by u: pwb_user_clear frees it */
		u.active = true;
		r = pwb_user_create(txn, &u, err);
		for (int i = 0; r == 0 && i < 3; i++)
			r = pwb_member_add(txn, p->group_ids[js[i]], u.id, err);
		pwb_user_clear(&u);
		if (r < 0)
			return r;
	}
	return 0;
}

static int populate(struct pwb_store *st, char **argv, struct pwb_error *err)
{
	struct populate p = {.prefix = argv[0],
			     .n = (unsigned)atoi(argv[1]),
			     .base = (unsigned)atoi(argv[2]),
			     .gprefix = argv[3],
			     .g = (unsigned)atoi(argv[4]),
			     .gbase = (unsigned)atoi(argv[5])};
	int r;

	if (p.g == 0)
		return pwb_error_set(err, PWB_EINVAL, "need at least one group");
	p.group_ids = calloc(p.g, sizeof(*p.group_ids));
	if (!p.group_ids)
		return pwb_error_set(err, -12, "out of memory");
	r = pwb_store_write(st, populate_groups, &p, err);
	for (p.from = 0; r == 0 && p.from < p.n; p.from = p.to) {
		p.to = p.from + 1000 < p.n ? p.from + 1000 : p.n;
		r = pwb_store_write(st, populate_users, &p, err);
	}
	free(p.group_ids);
	return r;
}

struct one {
	const char *name;
	unsigned uid, gid;
	int action; /* 'a'dd, 'l'ock, 'u'nlock, 'd'elete, 'g'roup */
	char **members;
	int nmembers;
};

static int one_user(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct one *o = ctx;
	struct pwb_user u = {0};
	int r;

	if (o->action == 'a') {
		snprintf(u.name, sizeof(u.name), "%s", o->name);
		u.uid = o->uid;
		u.active = true;
		r = pwb_user_create(txn, &u, err);
		if (r == 0 && o->gid) {
			struct pwb_group g = {0};

			r = pwb_group_get_by_gid(txn, o->gid, &g, err);
			if (r == 0)
				r = pwb_member_add(txn, g.id, u.id, err);
			pwb_group_clear(&g);
		}
		o->uid = u.uid;
		pwb_user_clear(&u);
		return r;
	}
	r = pwb_user_get_by_name(txn, o->name, &u, err);
	if (r == 0 && o->action == 'd')
		r = pwb_user_delete(txn, u.id, err);
	else if (r == 0) {
		u.active = o->action == 'u';
		r = pwb_user_update(txn, &u, err);
	}
	pwb_user_clear(&u);
	return r;
}

static int one_group(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct one *o = ctx;
	struct pwb_group g = {0};
	int r;

	snprintf(g.name, sizeof(g.name), "%s", o->name);
	g.gid = o->gid;
	r = pwb_group_create(txn, &g, err);
	for (int i = 0; r == 0 && i < o->nmembers; i++) {
		struct pwb_user u = {0};

		r = pwb_user_get_by_name(txn, o->members[i], &u, err);
		if (r == 0)
			r = pwb_member_add(txn, g.id, u.id, err);
		pwb_user_clear(&u);
	}
	pwb_group_clear(&g);
	return r;
}

static int churn(struct pwb_store *st, char **argv, struct pwb_error *err)
{
	unsigned first = (unsigned)atoi(argv[1]), count = (unsigned)atoi(argv[2]);
	unsigned base = (unsigned)atoi(argv[3]), gid = (unsigned)atoi(argv[4]);
	time_t end = time(NULL) + atoi(argv[5]);
	unsigned seed = (unsigned)time(NULL), changes = 0;
	char *state = calloc(count, 1); /* 0 never created, 1 live, 2 deleted */
	char name[64];
	int r = 0;

	if (!state)
		return pwb_error_set(err, -12, "out of memory");
	while (r == 0 && time(NULL) < end) {
		unsigned i = (unsigned)rand_r(&seed) % count;
		struct one o = {.name = name, .gid = gid};

		if (state[i] == 2)
			continue;
		snprintf(name, sizeof(name), "%s%u", argv[0], first + i);
		o.action = state[i] == 0 ? 'a' : 'd';
		o.uid = base + first + i;
		r = pwb_store_write(st, one_user, &o, err);
		state[i]++;
		changes++;
		if (changes >= count)
			break; /* every k used up */
	}
	free(state);
	printf("%u changes\n", changes);
	return r;
}

static int user_action(const char *command)
{
	static const struct {
		const char *name;
		int action;
	} actions[] = {{"add", 'a'}, {"lock", 'l'}, {"unlock", 'u'}, {"delete", 'd'}};

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(command, actions[i].name) == 0)
			return actions[i].action;
	return 0;
}

int main(int argc, char **argv)
{
	struct pwb_config cfg = {0};
	struct pwb_error err = {0};
	struct pwb_store *st = NULL;
	struct one o = {0};
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: see tests/tools/nss_store_tool.c\n");
		return 2;
	}
	r = pwb_config_load(pwb_config_path(NULL), false, &cfg, &err);
	if (r == 0)
		r = pwb_store_open(&cfg, &st, &err);
	if (r == 0) /* what pwbd does: publish after each commit */
		r = pwb_publish_attach(st, &err);
	if (r < 0) {
		fprintf(stderr, "nss_store_tool: %s\n", pwb_error_text(&err, r));
		pwb_config_free(&cfg);
		return 1;
	}
	o.name = argv[2];
	if (strcmp(argv[1], "populate") == 0 && argc == 8) {
		r = populate(st, argv + 2, &err);
	} else if (strcmp(argv[1], "churn") == 0 && argc == 8) {
		r = churn(st, argv + 2, &err);
	} else if (strcmp(argv[1], "add-group") == 0 && argc >= 4) {
		o.gid = (unsigned)atoi(argv[3]);
		o.members = argv + 4;
		o.nmembers = argc - 4;
		r = pwb_store_write(st, one_group, &o, &err);
	} else if ((o.action = user_action(argv[1])) != 0) {
		o.uid = argc > 3 ? (unsigned)atoi(argv[3]) : 0;
		r = pwb_store_write(st, one_user, &o, &err);
		if (r == 0 && o.action == 'a')
			printf("%u\n", o.uid);
	} else {
		r = pwb_error_set(&err, PWB_EINVAL, "unknown command %s", argv[1]);
	}
	if (r < 0)
		fprintf(stderr, "nss_store_tool: %s: %s\n", argv[1], pwb_error_text(&err, r));
	pwb_store_close(st);
	pwb_config_free(&cfg);
	return r < 0 ? 1 : 0;
}
