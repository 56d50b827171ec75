/* What pwb-login's request handlers share for the life of a worker
 * process: the configuration, the client credentials, the state
 * directory, and one snapshot reader (its sequence number tells when a
 * session must be revalidated with pwbd). */
#ifndef PWB_LOGIN_H
#define PWB_LOGIN_H

#include <stdint.h>
#include "config.h"
#include "web.h"
#include "rp.h"
#include "state.h"

/* Open flows one browser may hold at once (parallel tabs). */
#define LOGIN_MAX_BROWSER_FLOWS 10
/* Seconds between two writes of a session's last-seen time. */
#define LOGIN_TOUCH_INTERVAL 60

struct login_ctx {
	struct pwb_config cfg;
	char *client_id;
	char *client_secret; /* wiped at exit */
	enum pwb_rp_auth_method method;
	char *redirect_uri; /* auth-openid-base-uri + login path + "callback" */
	struct state_store store;
	struct pwb_snapshot_reader *snapshot; /* NULL when it cannot be opened */
	int64_t last_gc;
};

/* Answers one request: the route it names (or, for the authorizer role,
 * auth). Fills res; never writes to the client itself. */
void login_route(struct login_ctx *ctx, struct http_request *req, struct http_response *res);

#endif
