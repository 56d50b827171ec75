/* The Berkeley DB backend's state (bdb.c implements backend.h). Only bdb.c
 * looks inside; publish.c reaches the raw handles through the accessors
 * below until it reads through public store calls only (branch h13-snap). */
#ifndef PWB_STORE_BDB_H
#define PWB_STORE_BDB_H

#include <db.h>
#include "backend.h"

struct pwb_backend {
	DB_ENV *env;
	DB *db[DBI_COUNT];
	unsigned writes_since_checkpoint;
};

/* Maps a Berkeley DB return to a pwb code with a message naming what. */
int pwb_store_db_error(struct pwb_error *err, int ret, const char *what);
/* The same inside a transaction, also marking a lock conflict (the runner
 * then retries the whole transaction) or a panic (it re-opens). */
int pwb_txn_fail(struct pwb_txn *txn, int ret, const char *what, struct pwb_error *err);

/* Temporary, for publish.c's raw membership walk. */
DB *pwb_bdb_db(struct pwb_store *st, enum pwb_dbi dbi);
DB_TXN *pwb_bdb_tid(struct pwb_txn *txn);

#endif
