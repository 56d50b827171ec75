/* pwbd's operations: each domain file (op_account.c, op_scim.c,
 * op_admin.c, ...) exports one table of operations; the dispatcher
 * (dispatch.c) finds the request's op in them, checks that the caller's role
 * may run it, records the actor and request id for the change log, and runs
 * the handler. Handlers never see a caller they were not declared for. */
#ifndef PWBD_OPS_H
#define PWBD_OPS_H

#include <stdbool.h>
#include <jansson.h>
#include "config.h"
#include "error.h"
#include "rpc.h"
#include "store.h"

/* The caller's role, from SO_PEERCRED: root (uid 0), the scim-user, the
 * login-user. Anyone else is refused before any op runs. */
enum pwbd_role {
	PWBD_ROLE_ROOT = 1 << 0,
	PWBD_ROLE_SCIM = 1 << 1,
	PWBD_ROLE_LOGIN = 1 << 2,
};

struct pwbd_cluster; /* cluster.h */

struct pwbd_call {
	struct pwb_store *st;	      /* open for the daemon's lifetime */
	const struct pwb_config *cfg; /* the current pwb.conf */
	enum pwbd_role role;
	const struct pwb_rpc_request *req; /* op, id, args */
	struct pwb_actor actor;		   /* what the change log records; a handler may
					    * refine it (the SCIM token's name) */
	struct pwb_progress progress;	   /* the caller's progress listener (no fn: none);
					    * also set on st for the handler's walks */
	bool in_process;	      /* pwbadm --offline: the result is not sent over the socket,
				       * so no reply size limit applies */
	struct pwbd_cluster *cluster; /* cluster mode (pwbd/cluster.h); NULL on one host */
};

/* Fills *result (a new object; NULL on failure) and returns 0, or returns a
 * negative code with a message in err (sent to the caller as "error"). */
typedef int (*pwbd_op_fn)(struct pwbd_call *call, json_t **result, struct pwb_error *err);

struct pwbd_op {
	const char *name; /* "account.signin", "scim.request", "user.add", ... */
	unsigned roles;	  /* PWBD_ROLE_* allowed to call it */
	bool writes;	  /* changes the store (recorded with actor and request id) */
	pwbd_op_fn fn;
};

/* The tables, each ended by an entry with name NULL. */
extern const struct pwbd_op pwbd_ops_core[];	/* dispatch.c: ping, request.status */
extern const struct pwbd_op pwbd_ops_account[]; /* op_account.c: sign-in (PAM, pwb-login) */
/* op_account.c: forgets the tokens the account ops validated lately (on a
 * config reload: what was valid under the old settings may not be now). */
void pwbd_account_forget_tokens(void);
extern const struct pwbd_op pwbd_ops_scim[];  /* op_scim.c: one SCIM HTTP request */
extern const struct pwbd_op pwbd_ops_admin[]; /* op_admin.c: pwbadm's commands */
/* metrics.c: pwbd's metrics as Prometheus text (pwb-scim's endpoint). */
extern const struct pwbd_op pwbd_ops_metrics[];
/* op_cluster.c: pwbadm cluster init, migrate, accept, status, prune. */
extern const struct pwbd_op pwbd_ops_cluster[];

#endif
