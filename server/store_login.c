/* Leader logins in the store, for several nodes (store.h). Each call is one
 * statement, outside any transaction: a login is no change other processes
 * need to notice (store_data_version). */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include "store_int.h"

int store_login_add(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], int64_t leader_id,
                    int64_t login_gen, int64_t now_ms)
{
    struct db_stmt *st = store__stmt(s, ST_LOGIN_ADD);
    db_bind_blob(st, 1, token_hash, STORE_HASH_LEN);
    db_bind_int64(st, 2, leader_id);
    db_bind_int64(st, 3, login_gen);
    db_bind_int64(st, 4, now_ms);
    return store__exec(st);
}

int store_login_find(struct store *s, const uint8_t token_hash[STORE_HASH_LEN],
                     struct store_login *out)
{
    struct db_stmt *st = store__stmt(s, ST_LOGIN_FIND);
    db_bind_blob(st, 1, token_hash, STORE_HASH_LEN);
    int r = store__row(st);
    if (r != 1)
        return r < 0 ? r : STORE_E_NOT_FOUND;
    out->leader_id = db_col_int64(st, 0);
    const char *name = db_col_text(st, 1);
    snprintf(out->username, sizeof(out->username), "%s", name ? name : "");
    out->started_at = db_col_int64(st, 2);
    out->used_at = db_col_int64(st, 3);
    out->login_gen = db_col_int64(st, 4);
    out->role = store__role(db_col_text(st, 5));
    db_reset(st);
    return 0;
}

/* A statement that takes a digest and perhaps a time, and returns no row. */
static int by_digest(struct store *s, enum store__stmt id, const uint8_t *token_hash,
                     int64_t now_ms)
{
    struct db_stmt *st = store__stmt(s, id);
    db_bind_blob(st, 1, token_hash, STORE_HASH_LEN);
    if (id == ST_LOGIN_TOUCH)
        db_bind_int64(st, 2, now_ms);
    return store__exec(st);
}

int store_login_touch(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], int64_t now_ms)
{
    return by_digest(s, ST_LOGIN_TOUCH, token_hash, now_ms);
}

int store_login_end(struct store *s, const uint8_t token_hash[STORE_HASH_LEN])
{
    return by_digest(s, ST_LOGIN_END, token_hash, 0);
}

int store_login_end_leader(struct store *s, int64_t leader_id)
{
    struct db_stmt *st = store__stmt(s, ST_LOGIN_END_LEADER);
    db_bind_int64(st, 1, leader_id);
    return store__exec(st);
}

int store_login_sweep(struct store *s, int64_t idle_before, int64_t started_before)
{
    struct db_stmt *st = store__stmt(s, ST_LOGIN_SWEEP);
    db_bind_int64(st, 1, idle_before);
    db_bind_int64(st, 2, started_before);
    return store__exec(st);
}

int store_login_live(struct store *s, int64_t idle_before, int64_t started_before,
                     store_login_fn *each, void *arg)
{
    struct db_stmt *st = store__stmt(s, ST_LOGIN_LIVE);
    db_bind_int64(st, 1, idle_before);
    db_bind_int64(st, 2, started_before);
    int r;
    while ((r = store__row(st)) == 1) {
        size_t len = 0;
        const void *digest = db_col_blob(st, 0, &len);
        struct store_login sl = {
            .leader_id = db_col_int64(st, 1),
            .started_at = db_col_int64(st, 3),
            .used_at = db_col_int64(st, 4),
            .login_gen = db_col_int64(st, 5),
            .role = store__role(db_col_text(st, 6)),
        };
        const char *name = db_col_text(st, 2);
        snprintf(sl.username, sizeof(sl.username), "%s", name ? name : "");
        if (digest && len == STORE_HASH_LEN)
            each(arg, digest, &sl);
    }
    return r;
}
