/* pwbadm cluster SUBCOMMAND: cluster mode's administration through pwbd's
 * cluster.* ops (pwbd/op_cluster.c): init [--from-local] [--reader-role
 * ROLE], migrate, accept, status [--json], prune --upto SEQ. Also the one
 * note every read command prints when it was answered from this host's
 * replica because the cluster database is down (pwbadm_replica_note). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "pwbadm.h"

static int print_json(json_t *o)
{
	if (json_dumpf(o, stdout, JSON_COMPACT) < 0)
		return pwbadm_fail("cannot write the output");
	putchar('\n');
	return PWBADM_EXIT_OK;
}

/* Runs op with args (stolen): 0 and *result, or the failure printed in one
 * line (an exit code). */
static int call(struct pwbadm *adm, const char *op, json_t *args, json_t **result)
{
	struct pwb_error err = {0};
	int rc = pwbadm_call(adm, op, args, result, &err);

	return rc ? pwbadm_call_fail(rc, &err, "%s", op) : 0;
}

static void print_follow(json_t *result)
{
	json_t *f = json_object_get(result, "follow");

	printf("this host's replica: change %lld applied (%lld changes%s%s)\n",
	       (long long)pwbadm_json_int(f, "applied"), (long long)pwbadm_json_int(f, "changes"),
	       json_is_true(json_object_get(f, "full")) ? ", full resync" : "",
	       pwbadm_json_int(f, "refused") ? "; records refused by the policy: see the system log"
					     : "");
}

static int cluster_init(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	const char *role = pwbadm_opt_arg(a, 'r');
	struct pwb_error err = {0};
	json_t *args;
	int rc;

	if (role && !pwb_names_is_valid(role))
		return pwbadm_usage("cluster", "--reader-role: \"%.64s\" is not a valid role name",
				    role);
	args = json_pack("{s:b}", "from_local", pwbadm_opt_set(a, 'f'));
	if (args && role)
		json_object_set_new(args, "reader_role", json_string(role));
	rc = pwbadm_call(adm, "cluster.init", args, &result, &err);
	if (rc == PWB_EEXIST)
		return pwbadm_fail("cluster init: the database already holds a cluster schema "
				   "(pwbadm cluster migrate brings it up to date)");
	if (rc)
		return pwbadm_call_fail(rc, &err, "cluster init");
	printf("cluster schema created%s%s%s\n",
	       pwbadm_opt_set(a, 'f') ? ", seeded from this host's store" : "",
	       role ? "; read-only role: " : "", role ? role : "");
	print_follow(result);
	return PWBADM_EXIT_OK;
}

static int cluster_migrate(struct pwbadm *adm)
{
	_cleanup_json_ json_t *result = NULL;
	int rc = call(adm, "cluster.migrate", json_object(), &result);

	if (rc)
		return rc;
	if (json_is_true(json_object_get(result, "current")))
		printf("the cluster schema is current (version %lld)\n",
		       (long long)pwbadm_json_int(result, "to"));
	else
		printf("the cluster schema was migrated from version %lld to %lld\n",
		       (long long)pwbadm_json_int(result, "from"),
		       (long long)pwbadm_json_int(result, "to"));
	return PWBADM_EXIT_OK;
}

static int cluster_accept(struct pwbadm *adm)
{
	_cleanup_json_ json_t *result = NULL;
	int rc = call(adm, "cluster.accept", json_object(), &result);

	if (rc)
		return rc;
	printf("accepted the database as it is; writes are allowed again\n");
	print_follow(result);
	return PWBADM_EXIT_OK;
}

static int cluster_status(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	int rc = call(adm, "cluster.status", json_object(), &result);

	if (rc)
		return rc;
	if (a->json)
		return print_json(result);
	pwbadm_cluster_summary(result, stdout);
	putchar('\n');
	if (pwbadm_cluster_hosts_print(result, stdout) < 0)
		return pwbadm_fail("cannot write the output");
	return json_is_true(json_object_get(result, "connected")) ? PWBADM_EXIT_OK
								  : PWBADM_EXIT_FAILURE;
}

static int cluster_prune(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	const char *upto = pwbadm_opt_arg(a, 'u');
	unsigned long long seq;
	char *end = NULL;
	int rc;

	if (!upto)
		return pwbadm_usage("cluster", "prune needs --upto SEQ");
	errno = 0;
	seq = strtoull(upto, &end, 10);
	if (errno || !end || *end || upto[0] < '1' || upto[0] > '9' || seq > INT64_MAX)
		return pwbadm_usage("cluster", "--upto: \"%.32s\" is not a sequence number", upto);
	rc = call(adm, "cluster.prune", json_pack("{s:I}", "upto", (json_int_t)seq), &result);
	if (rc)
		return rc;
	printf("pruned tombstones and change entries up to change %llu; a host behind it "
	       "resyncs fully\n",
	       seq);
	return PWBADM_EXIT_OK;
}

int pwbadm_cluster(struct pwbadm *adm, const struct pwbadm_args *a)
{
	static const struct {
		const char *name;
		const char *options; /* the option letters it takes */
	} subs[] = {
	    {"init", "fr"}, {"migrate", ""}, {"accept", ""}, {"status", ""}, {"prune", "u"}};
	const char *sub = a->operands[0];
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(subs) && strcmp(subs[i].name, sub) != 0; i++)
		;
	if (i == PWB_ARRAY_SIZE(subs))
		return pwbadm_usage("cluster", "unknown subcommand \"%.32s\"", sub);
	for (size_t o = 0; o < a->nopts; o++)
		if (!strchr(subs[i].options, a->opts[o].val))
			return pwbadm_usage("cluster", "%s takes no such option", sub);
	if (a->json && strcmp(sub, "status") != 0)
		return pwbadm_usage("cluster", "--json: only cluster status prints JSON");
	if (strcmp(sub, "init") == 0)
		return cluster_init(adm, a);
	if (strcmp(sub, "migrate") == 0)
		return cluster_migrate(adm);
	if (strcmp(sub, "accept") == 0)
		return cluster_accept(adm);
	if (strcmp(sub, "status") == 0)
		return cluster_status(adm, a);
	return cluster_prune(adm, a);
}

void pwbadm_replica_note(struct pwbadm *adm)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	char note[512];

	if (adm->offline || !adm->cfg_loaded || !pwb_config_cluster(&adm->cfg) ||
	    pwbadm_call(adm, "cluster.status", json_object(), &result, &err) != 0)
		return;
	pwbadm_replica_note_text(result, note, sizeof(note));
	if (note[0])
		fprintf(stderr, "pwbadm: %s\n", note);
}
