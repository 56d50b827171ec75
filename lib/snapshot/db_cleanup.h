/* Scope-bound release of Berkeley DB handles (see cleanup.h): a database,
 * a cursor or an environment is closed, and a transaction still held is
 * aborted, when its scope ends; commit hands it over first
 * (PWB_TAKE_PTR(txn)->commit(...)). For the snapshot's readers and writer
 * and the store; libdb only, so nss_pwb may include it. */
#ifndef PWB_DB_CLEANUP_H
#define PWB_DB_CLEANUP_H

#include <db.h>
#include "cleanup.h"

static inline void pwb_db_closep(DB **db)
{
	if (*db)
		(*db)->close(*db, 0);
}

static inline void pwb_dbc_closep(DBC **cur)
{
	if (*cur)
		(*cur)->close(*cur);
}

static inline void pwb_db_env_closep(DB_ENV **env)
{
	if (*env)
		(*env)->close(*env, 0);
}

static inline void pwb_db_txn_abortp(DB_TXN **txn)
{
	if (*txn)
		(*txn)->abort(*txn);
}

#define _cleanup_db_	 _cleanup_(pwb_db_closep)
#define _cleanup_dbc_	 _cleanup_(pwb_dbc_closep)
#define _cleanup_db_env_ _cleanup_(pwb_db_env_closep)
#define _cleanup_db_txn_ _cleanup_(pwb_db_txn_abortp)

#endif
