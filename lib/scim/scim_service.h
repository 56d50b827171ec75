/* The SCIM service: one HTTP request in, one response out, against the
 * store. Routing, bearer-token authentication, and the Users, Groups and
 * discovery endpoints. A read runs in one read transaction; a write is
 * first authenticated in a read transaction (an unauthenticated caller
 * never takes the write lock), then runs in one write transaction, so
 * nothing is ever half-written. pwbd runs it (op "scim.request",
 * pwbd/op_scim.c); the relay pwb-scim only moves bytes and headers. Each
 * resource type is a table of operations (scim_endpoint.h) that the one
 * generic endpoint drives. */
#ifndef PWB_SCIM_SERVICE_H
#define PWB_SCIM_SERVICE_H

#include "scim_request.h"
#include "store.h"

struct pwb_scim_service;

/* The service keeps st and cfg (not owned) for its lifetime. */
int pwb_scim_service_new(struct pwb_store *st, const struct pwb_config *cfg,
			 struct pwb_scim_service **out);
void pwb_scim_service_free(struct pwb_scim_service *svc);

/* Called with the token's name each time a request's bearer token is
 * accepted, before anything is written for it (pwbd records the token as
 * the actor of the request's changes). */
typedef void (*pwb_scim_auth_hook)(const char *token_name, void *ctx);
void pwb_scim_service_on_auth(struct pwb_scim_service *svc, pwb_scim_auth_hook hook, void *ctx);

/* Handles one request; resp is filled (status always set). */
void pwb_scim_service_handle(struct pwb_scim_service *svc, const struct pwb_scim_request *req,
			     struct pwb_scim_response *resp);
void pwb_scim_response_clear(struct pwb_scim_response *resp);

#endif
