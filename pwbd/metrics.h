/* pwbd's metrics (metrics.c): counters every SCIM request, store write and
 * snapshot publish adds to, kept in the one process they all pass through,
 * so several pwb-scim processes are summed here and never per process.
 * Read by the metrics.get op (pwb-scim's Prometheus endpoint) and by
 * store.status (pwbadm status). */
#ifndef PWBD_METRICS_H
#define PWBD_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "ops.h"
#include "store.h"

/* pwbd calls it once, before serving: the start time; status tells pwbd
 * from pwbadm --offline (which runs the same handlers) by it. */
void pwbd_metrics_start(void);
bool pwbd_metrics_started(void);

/* One SCIM request answered: its method, HTTP status and the time pwbd
 * took, in seconds. */
void pwbd_metrics_scim(const char *method, int status, double seconds);

/* Wraps st's commit hook (the publisher) so each publish is timed; safe to
 * call again on the same or a reopened store. */
void pwbd_metrics_time_publisher(struct pwb_store *st);

/* {"started", "uptime_seconds", "pid", "scim_requests", "last_scim_request",
 * "store_retries"} for store.status; NULL when out of memory. */
json_t *pwbd_metrics_status(void);

/* The exposition text (Prometheus text format 0.0.4), malloc'd. */
char *pwbd_metrics_text(void);

#endif
