/* pwbd's cluster operations (pwbadm cluster ...; see ops.h), root only:
 * cluster.init creates the schema (and with from_local seeds it from this
 * host's store, then follows it at once), cluster.migrate versions it,
 * cluster.accept lifts a refusal with a full resync, cluster.status says
 * where this host and every other stands, cluster.prune drops tombstones
 * and old change entries. On a single host each answers that the host is
 * not in cluster mode.
 *
 * cluster.status result (also store.status's "cluster" part): {time, host,
 * role, connected, schema_ready, refusing, why, cluster_id, applied,
 * applied_at, applied_age_seconds, db_seq, horizon, schema, last_contact,
 * refused_records, hosts: [{name, role, applied, lag, reported_at,
 * report_age_seconds}], hosts_error (when the database could not be
 * asked)} */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "admin.h"
#include "cleanup_json.h"
#include "cluster.h"
#include "util.h"

static int not_cluster(const struct pwbd_call *call, const char *op, struct pwb_error *err)
{
	return pwb_error_set(err, PWB_ECONFIG,
			     "%s: this host is not in cluster mode (store-backend=%s); set "
			     "store-backend=postgresql and store-dsn in pwb.conf first",
			     op,
			     call->cfg->store_backend ? call->cfg->store_backend : "berkeleydb");
}

/* The cluster store, or an error saying why there is none. */
static int cluster_store(const struct pwbd_call *call, const char *op, struct pwb_store **out,
			 struct pwb_error *err)
{
	*out = call->cluster ? pwbd_cluster_store(call->cluster) : NULL;
	if (!call->cluster)
		return not_cluster(call, op, err);
	if (!*out)
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: the cluster store is not open", op);
	return 0;
}

static json_t *follow_json(const struct pwb_follow_result *f)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:b}", "applied", (json_int_t)f->applied, "db_seq",
			 (json_int_t)f->db_seq, "changes", (json_int_t)f->changes, "refused",
			 (json_int_t)f->refused, "full", f->full);
}

static int op_init(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct pwb_follow_result f = {0};
	struct pwb_store *cl;
	const char *role = NULL;
	bool from_local = admin_arg_bool(call->req->args, "from_local");
	int r;

	*result = NULL;
	if ((r = cluster_store(call, "cluster init", &cl, err)) < 0 ||
	    (r = admin_arg_text(call->req->args, "reader_role", &role, err)) < 0)
		return r;
	if (role && !pwb_names_is_valid(role))
		return pwb_error_set(err, PWB_EINVAL,
				     "cluster init: reader role '%.64s' is not a valid role name",
				     role);
	if ((r = pwb_cluster_init(cl, role, err)) < 0)
		return r;
	if (from_local && (r = pwb_cluster_seed(cl, call->st, err)) < 0)
		return pwb_error_prefix(err, "cluster init: the schema was created, but seeding "
					     "it from this host's store failed: ");
	if ((r = pwbd_cluster_sync(call->cluster, &f, err)) < 0)
		return pwb_error_prefix(err, "cluster init: created, but this host could not "
					     "follow it yet: ");
	*result = json_pack("{s:b, s:s?, s:o}", "from_local", from_local, "reader_role", role,
			    "follow", follow_json(&f));
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

static int op_migrate(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct pwb_store *cl;
	unsigned from = 0, to = 0;
	int r;

	*result = NULL;
	if ((r = cluster_store(call, "cluster migrate", &cl, err)) < 0 ||
	    (r = pwb_cluster_migrate(cl, &from, &to, err)) < 0)
		return r;
	*result = json_pack("{s:I, s:I, s:b}", "from", (json_int_t)from, "to", (json_int_t)to,
			    "current", from == to);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

static int op_accept(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct pwb_follow_result f = {0};
	int r;

	*result = NULL;
	if (!call->cluster)
		return not_cluster(call, "cluster accept", err);
	if ((r = pwbd_cluster_accept(call->cluster, &f, err)) < 0)
		return r;
	*result = json_pack("{s:o}", "follow", follow_json(&f));
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

static int op_prune(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *upto = json_object_get(call->req->args, "upto");
	struct pwb_store *cl;
	int r;

	*result = NULL;
	if ((r = cluster_store(call, "cluster prune", &cl, err)) < 0)
		return r;
	if (!json_is_integer(upto) || json_integer_value(upto) < 1)
		return pwb_error_set(err, PWB_EINVAL,
				     "cluster prune: \"upto\" must be a sequence number (>= 1)");
	if ((r = pwb_cluster_prune(cl, (uint64_t)json_integer_value(upto), err)) < 0)
		return r;
	*result = json_pack("{s:O}", "upto", upto);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

int pwbd_cluster_host_json(const struct pwb_cluster_host *h, uint64_t db_seq, int64_t now,
			   json_t **out)
{
	*out = json_pack(
	    "{s:s, s:s, s:I, s:I, s:I, s:I}", "name", h->name, "role", h->role, "applied",
	    (json_int_t)h->applied, "lag",
	    (json_int_t)(db_seq > h->applied ? db_seq - h->applied : 0), "reported_at",
	    (json_int_t)h->reported_at, "report_age_seconds",
	    (json_int_t)(h->reported_at && now > h->reported_at ? now - h->reported_at : 0));
	return *out ? 0 : -ENOMEM;
}

int pwbd_cluster_status_json(const struct pwbd_cluster_status *s,
			     const struct pwb_cluster_state *db, int64_t now, json_t **out)
{
	uint64_t db_seq = db ? db->seq : s->db_seq;
	int64_t at = s->follow.applied_at;

	*out = json_pack(
	    "{s:I, s:s, s:s, s:b, s:b, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:[]}",
	    "time", (json_int_t)now, "host", s->host, "role", s->reader ? "reader" : "writer",
	    "connected", s->connected, "schema_ready", s->schema_ready, "refusing", s->refusing,
	    "why", s->why, "cluster_id", s->follow.cluster_id, "applied",
	    (json_int_t)s->follow.applied, "applied_at", (json_int_t)at, "applied_age_seconds",
	    (json_int_t)(at && now > at ? now - at : 0), "db_seq", (json_int_t)db_seq, "horizon",
	    (json_int_t)(db ? db->horizon : 0), "schema", (json_int_t)(db ? db->schema : 0),
	    "last_contact", (json_int_t)s->last_contact, "refused_records",
	    (json_int_t)s->refused_records, "hosts");
	return *out ? 0 : -ENOMEM;
}

struct hosts_ctx {
	json_t *hosts;
	uint64_t db_seq;
	int64_t now;
};

static int add_host(const struct pwb_cluster_host *h, void *vctx)
{
	struct hosts_ctx *c = vctx;
	json_t *o;

	if (pwbd_cluster_host_json(h, c->db_seq, c->now, &o) < 0)
		return -ENOMEM;
	return json_array_append_new(c->hosts, o) < 0 ? -ENOMEM : 0;
}

int pwbd_cluster_status_read(struct pwbd_cluster *c, json_t **out, struct pwb_error *err)
{
	struct pwbd_cluster_status s = {0};
	struct pwb_cluster_state db = {0};
	struct pwb_error derr = {0};
	struct pwb_store *cl = pwbd_cluster_store(c);
	_cleanup_json_ json_t *o = NULL;
	struct hosts_ctx h = {.now = pwb_now()};
	int r;

	*out = NULL;
	if ((r = pwbd_cluster_status(c, &s)) < 0)
		return pwb_error_set(err, r, "cannot read this host's cluster state");
	/* The database's own view when it answers; else what this host saw
	 * last. While pwbd's loop has no connection (it reconnects by itself)
	 * the database is not tried here, so a status during an outage costs
	 * no connection attempt. */
	if (cl && s.connected)
		r = pwb_cluster_state(cl, &db, &derr);
	else
		r = pwb_error_set(&derr, PWB_EUNAVAIL, "%s",
				  s.why[0] ? s.why : "the cluster database cannot be reached");
	if (r == PWB_EUNAVAIL)
		s.connected = false;
	if (pwbd_cluster_status_json(&s, r == 0 ? &db : NULL, h.now, &o) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	h.hosts = json_object_get(o, "hosts");
	h.db_seq = r == 0 ? db.seq : s.db_seq;
	if (r == 0)
		r = pwb_cluster_hosts(cl, add_host, &h, &derr);
	if (r == -ENOMEM)
		return pwb_error_set(err, r, "out of memory");
	if (r < 0 && json_object_set_new(o, "hosts_error",
					 json_string(derr.msg[0] ? derr.msg : pwb_strerror(r))) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	*out = o;
	o = NULL;
	return 0;
}

static int op_status(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	*result = NULL;
	if (!call->cluster)
		return not_cluster(call, "cluster status", err);
	return pwbd_cluster_status_read(call->cluster, result, err);
}

const struct pwbd_op pwbd_ops_cluster[] = {
    {"cluster.init", PWBD_ROLE_ROOT, true, op_init},
    {"cluster.migrate", PWBD_ROLE_ROOT, true, op_migrate},
    {"cluster.accept", PWBD_ROLE_ROOT, true, op_accept},
    {"cluster.status", PWBD_ROLE_ROOT, false, op_status},
    {"cluster.prune", PWBD_ROLE_ROOT, true, op_prune},
    {NULL, 0, false, NULL},
};
