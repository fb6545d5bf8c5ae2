/* What a restart keeps of a running session (store.h): that it was opened,
 * and the digests of the participant keys admitted to it. Each call is one
 * statement, outside any transaction, written by kamratd's store worker. */
#include "store.h"

#include "store_int.h"

int store_session_opened(struct store *s, int64_t session_id, int64_t now)
{
    struct db_stmt *st = store__stmt(s, ST_SESSION_OPENED);
    db_bind_int64(st, 1, session_id);
    db_bind_int64(st, 2, now);
    return store__exec(st);
}

/* One statement on (session_id, key_hash). */
static struct db_stmt *by_key(struct store *s, enum store__stmt id, int64_t session_id,
                              const uint8_t *key_hash)
{
    struct db_stmt *st = store__stmt(s, id);
    db_bind_int64(st, 1, session_id);
    db_bind_blob(st, 2, key_hash, STORE_HASH_LEN);
    return st;
}

int store_admitted_add(struct store *s, int64_t session_id, const uint8_t key_hash[STORE_HASH_LEN])
{
    return store__exec(by_key(s, ST_ADMITTED_ADD, session_id, key_hash));
}

int store_admitted_drop(struct store *s, int64_t session_id, const uint8_t key_hash[STORE_HASH_LEN])
{
    return store__exec(by_key(s, ST_ADMITTED_DROP, session_id, key_hash));
}

int store_admitted_find(struct store *s, int64_t session_id, const uint8_t key_hash[STORE_HASH_LEN])
{
    struct db_stmt *st = by_key(s, ST_ADMITTED_FIND, session_id, key_hash);
    int r = store__row(st);
    if (r == 1)
        db_reset(st);
    return r == 1 ? 0 : r < 0 ? r : STORE_E_NOT_FOUND;
}

int store_admitted_wipe(struct store *s, int64_t session_id, int64_t now)
{
    struct db_stmt *st = store__stmt(s, session_id ? ST_ADMITTED_WIPE : ST_ADMITTED_SWEEP);
    db_bind_int64(st, 1, session_id ? session_id : now);
    return store__exec(st);
}
