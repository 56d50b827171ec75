/* pwbd's request protocol, version 1, and the client that PAM, pwb-scim,
 * pwb-login and pwbadm use to reach pwbd over its Unix socket
 * (pwbd-socket, default /run/pwb/pwbd.sock).
 *
 * One request per connection. A frame is a 4-byte big-endian length N
 * (1 <= N <= PWB_RPC_MAX_FRAME) followed by N bytes of UTF-8 JSON: one
 * object. Request keys, all others refused:
 *   "v"       1 (integer; any other version is refused with PWB_EINVAL)
 *   "op"      the operation, [a-z][a-z0-9_.]{0,47}
 *   "id"      the request id, [A-Za-z0-9._:-]{1,64}: recorded in the change
 *             log with every change the request makes
 *   "actor"   optional object of strings (service, rhost, ruser, user,
 *             tty): what the caller says about who acts. pwbd records it
 *             only for root callers; for others it derives the actor itself
 *   "args"    object, the operation's arguments (may be empty)
 *   "progress" optional boolean: true asks for progress frames. pwbd
 *             honours it for root callers only, and only ops with a long
 *             loop (store.import, store.export, snapshot.rebuild) send any
 * Response: {"v":1, "id":..., "code":0|PWB_E*, "error":"message" (on
 * failure), "result":{...} (on success)}. Nesting deeper than
 * PWB_RPC_MAX_DEPTH is refused before Jansson sees it.
 * Before the response, a request that asked for progress may get zero or
 * more progress frames, at most about ten a second (the first and the last
 * of a stage always): {"v":1, "id":..., "progress":{"stage":"importing",
 * "done":N, "total":M or null (unknown), "unit":"users"}}, exactly those
 * keys, stage and unit [a-z][a-z -]{0,31}, 0 <= done <= total, at most
 * PWB_RPC_PROGRESS_MAX bytes. A progress
 * frame is never the response; a client that did not ask never sees one. */
#ifndef PWB_RPC_H
#define PWB_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "actor.h"
#include "config.h"
#include "error.h"
#include "progress.h"

#define PWB_RPC_VERSION	     1
#define PWB_RPC_MAX_FRAME    (4u * 1024 * 1024) /* a SCIM body is at most scim-max-request-bytes */
#define PWB_RPC_MAX_DEPTH    64
#define PWB_RPC_OP_MAX	     48
#define PWB_RPC_ID_MAX	     64
#define PWB_RPC_PROGRESS_MAX 512 /* a progress frame's largest payload */

/* A parsed request; owns args. */
struct pwb_rpc_request {
	char op[PWB_RPC_OP_MAX + 1];
	char id[PWB_RPC_ID_MAX + 1];
	struct pwb_actor actor; /* as sent (kind empty when absent) */
	json_t *args;		/* never NULL after a successful parse */
	bool progress;		/* "progress": true */
};

void pwb_rpc_request_clear(struct pwb_rpc_request *r);

/* Strict parse of one frame's payload (without the length prefix): every
 * rule above; PWB_EINVAL with a message naming the key at fault. */
int pwb_rpc_request_parse(const void *buf, size_t len, struct pwb_rpc_request *out,
			  struct pwb_error *err);

/* Frame I/O on a connected socket: a read or write that takes longer than
 * timeout_ms fails (PWB_EUNAVAIL). *payload is malloc'd and NUL-terminated. */
int pwb_rpc_read_frame(int fd, int timeout_ms, char **payload, size_t *len, struct pwb_error *err);
int pwb_rpc_write_frame(int fd, int timeout_ms, const void *payload, size_t len,
			struct pwb_error *err);

/* One progress frame. */
struct pwb_rpc_progress {
	char stage[PWB_PROGRESS_WORD_MAX + 1];
	char unit[PWB_PROGRESS_WORD_MAX + 1];
	uint64_t done;
	int64_t total; /* -1: unknown */
};

/* pwbd's side: the frame text (malloc'd; NULL when out of memory or a word
 * breaks the rule). A done past total raises total. */
char *pwb_rpc_progress_encode(const char *id, const char *stage, uint64_t done, int64_t total,
			      const char *unit);

/* The client's side: 1 and *out when buf is a progress frame for request
 * id, 0 when it is not one (it has no "progress" key: the response),
 * PWB_EINVAL when it claims to be one but breaks a rule above. */
int pwb_rpc_progress_parse(const char *buf, size_t len, const char *id,
			   struct pwb_rpc_progress *out, struct pwb_error *err);

/* A fresh random request id (a UUID) into out[PWB_RPC_ID_MAX + 1]. */
int pwb_rpc_new_id(char *out);

/* The client: connects to cfg->pwbd_socket, sends {op, a new id, actor,
 * args}, waits up to cfg->pwbd_timeout for the reply. On success returns 0
 * and *result (owned by the caller; an empty object if the reply had
 * none). A reply with a non-zero code returns that code with pwbd's message
 * in err. PWB_ENODAEMON with a message naming the socket when pwbd cannot be
 * reached (not running, no socket, refused) or closed the connection
 * before replying (the message then says the change may or may not have
 * been applied, and gives the request id). The client never retries a
 * request by itself. actor may be NULL; args is not consumed. If id_out is
 * non-NULL it receives the request id used. */
int pwb_rpc_call(const struct pwb_config *cfg, const char *op, const struct pwb_actor *actor,
		 json_t *args, json_t **result, char *id_out, struct pwb_error *err);

/* pwb_rpc_call that asks for progress frames (progress NULL or without a
 * callback: it does not ask) and hands each to progress's callback before
 * the reply; each frame also restarts the wait for the reply, so a long
 * operation that shows progress never times out. */
int pwb_rpc_call_progress(const struct pwb_config *cfg, const char *op,
			  const struct pwb_actor *actor, json_t *args,
			  const struct pwb_progress *progress, json_t **result, char *id_out,
			  struct pwb_error *err);

#endif
