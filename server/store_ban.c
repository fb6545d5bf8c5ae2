/* store: group bans (protocol/README.md §4a), bound to a personal invite or
 * to the SHA-256 of a participant key; each keeps the pseudonym it was
 * about so a leader can tell bans apart. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static void read_ban(struct db_stmt *st, void *row)
{
    struct store_ban *b = row;
    *b = (struct store_ban){
        .id = db_col_int64(st, 0),
        .group_id = db_col_int64(st, 1),
        .invite_id = db_col_int64(st, 2),
        .name = store__col_dup(st, 4),
        .created_at = db_col_int64(st, 5),
        .lifted_at = db_col_int64(st, 7),
    };
    /* Only a digest of the right size counts as a key: a row written by
     * hand with anything else binds nobody. */
    size_t len;
    const void *key = db_col_blob(st, 3, &len);
    if (len == STORE_HASH_LEN) {
        b->has_key = true;
        memcpy(b->key_hash, key, STORE_HASH_LEN);
    }
    store__col_copy(st, 6, b->created_by, sizeof(b->created_by));
}

static void clear_ban(void *row)
{
    free(((struct store_ban *)row)->name);
}

int store_ban_add(struct store *s, int64_t now, const char *actor, int64_t group_id,
                  int64_t session_id, int64_t invite_id, const uint8_t *key_hash, const char *name,
                  int64_t *id)
{
    if ((!invite_id && !key_hash) || !name || !*name ||
        !store__text_valid(name, STORE_BAN_NAME_MAX, false))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    struct db_stmt *st = store__stmt(s, ST_BAN_ADD);
    db_bind_int64(st, 1, group_id);
    store__bind_id(st, 2, invite_id);
    if (key_hash)
        db_bind_blob(st, 3, key_hash, STORE_HASH_LEN);
    db_bind_text(st, 4, name);
    db_bind_int64(st, 5, now);
    db_bind_text(st, 6, actor);
    int64_t new_id = 0;
    char target[STORE__TARGET_LEN];
    e = store__insert(st, &new_id);
    e = store__end(s, e, now, actor, "ban", store__target(target, "ban", new_id), group_id,
                   session_id);
    if (e == 0 && id)
        *id = new_id;
    return e;
}

int store_ban_lift(struct store *s, int64_t now, const char *actor, int64_t group_id,
                   int64_t session_id, int64_t id)
{
    int e = store__begin(s);
    if (e < 0)
        return e;
    /* One statement checks the group and that the ban is active, lifts it
     * and says which group it was of, for the audit row. SQLite makes the
     * change on the first step; resetting after reading the row keeps it. */
    struct db_stmt *st = store__stmt(s, ST_BAN_LIFT);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, now);
    store__bind_id(st, 3, group_id);
    int64_t of_group = 0;
    int r = store__row(st);
    if (r == 1) {
        of_group = db_col_int64(st, 0);
        db_reset(st);
    }
    e = r < 0 ? r : r == 0 ? STORE_E_NOT_FOUND : 0;
    char target[STORE__TARGET_LEN];
    return store__end(s, e, now, actor, "unban", store__target(target, "ban", id), of_group,
                      session_id);
}

int store_ban_find(struct store *s, int64_t group_id, int64_t invite_id, const uint8_t *key_hash,
                   int64_t *ban_id)
{
    /* NULL never equals anything in SQL, so an absent invite or key
     * matches no row by itself. */
    struct db_stmt *st = store__stmt(s, ST_BAN_FIND);
    db_bind_int64(st, 1, group_id);
    store__bind_id(st, 2, invite_id);
    if (key_hash)
        db_bind_blob(st, 3, key_hash, STORE_HASH_LEN);
    int r = store__row(st);
    if (r != 1)
        return r < 0 ? r : STORE_E_NOT_FOUND;
    *ban_id = db_col_int64(st, 0);
    db_reset(st);
    return 0;
}

int store_ban_list(struct store *s, int64_t group_id, bool include_lifted, int limit,
                   struct store_ban **out, size_t *n)
{
    struct db_stmt *st = store__stmt(s, ST_BAN_LIST);
    store__bind_id(st, 1, group_id);
    db_bind_int64(st, 2, include_lifted);
    db_bind_int64(st, 3, limit > 0 ? limit : INT64_MAX); /* both engines take this as no limit */
    int e;
    *out = store__rows(st, sizeof(**out), read_ban, clear_ban, n, &e);
    return e;
}

void store_ban_list_free(struct store_ban *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        clear_ban(&v[i]);
    free(v);
}
