/* store: invites, kept only as the SHA-256 of their codes. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

static void read_invite(struct db_stmt *st, void *row)
{
    struct store_invite *inv = row;
    const char *kind = db_col_text(st, 2);
    *inv = (struct store_invite){
        .id = db_col_int64(st, 0),
        .group_id = db_col_int64(st, 1),
        .kind = kind && strcmp(kind, "personal") == 0 ? STORE_INVITE_PERSONAL : STORE_INVITE_GROUP,
        .created_at = db_col_int64(st, 3),
        .expires_at = db_col_int64(st, 4),
        .revoked_at = db_col_int64(st, 5),
        .used_at = db_col_int64(st, 6),
    };
    store__col_copy(st, 7, inv->created_by, sizeof(inv->created_by));
}

enum store_invite_state store_invite_state(const struct store_invite *inv, int64_t now)
{
    if (inv->revoked_at)
        return STORE_INVITE_REVOKED;
    if (inv->used_at)
        return STORE_INVITE_USED;
    if (now >= inv->expires_at)
        return STORE_INVITE_EXPIRED;
    return STORE_INVITE_ACTIVE;
}

const char *store_invite_state_name(enum store_invite_state st)
{
    switch (st) {
    case STORE_INVITE_ACTIVE:
        return "active";
    case STORE_INVITE_USED:
        return "used";
    case STORE_INVITE_EXPIRED:
        return "expired";
    case STORE_INVITE_REVOKED:
        return "revoked";
    }
    return "unknown";
}

const char *store_invite_kind_name(enum store_invite_kind kind)
{
    return kind == STORE_INVITE_PERSONAL ? "personal" : "group";
}

int store_invite_create(struct store *s, int64_t now, const char *actor, int64_t group_id,
                        enum store_invite_kind kind, const uint8_t code_hash[STORE_HASH_LEN],
                        int64_t expires_at, int64_t *id)
{
    if (expires_at <= now || expires_at > now + STORE_INVITE_DAYS_MAX * INT64_C(86400) ||
        (kind != STORE_INVITE_GROUP && kind != STORE_INVITE_PERSONAL))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = store__group_open(s, group_id)) < 0) {
        store__rollback(s);
        return e;
    }
    struct db_stmt *st = store__stmt(s, ST_INVITE_ADD);
    db_bind_int64(st, 1, group_id);
    db_bind_blob(st, 2, code_hash, STORE_HASH_LEN);
    db_bind_text(st, 3, store_invite_kind_name(kind));
    db_bind_int64(st, 4, now);
    db_bind_int64(st, 5, expires_at);
    db_bind_text(st, 6, actor);
    int64_t new_id = 0;
    char target[STORE__TARGET_LEN];
    e = store__insert(st, &new_id);
    e = store__end(s, e, now, actor, "invite_create", store__target(target, "invite", new_id),
                   group_id, 0);
    if (e == 0 && id)
        *id = new_id;
    return e;
}

int store_invite_list(struct store *s, int64_t group_id, struct store_invite **out, size_t *n)
{
    struct db_stmt *st = store__stmt(s, ST_INVITE_LIST);
    store__bind_id(st, 1, group_id);
    int e;
    *out = store__rows(st, sizeof(**out), read_invite, NULL, n, &e);
    return e;
}

int store_invite_revoke(struct store *s, int64_t now, const char *actor, int64_t id)
{
    return store_invite_revoke_in(s, now, actor, 0, id, NULL);
}

int store_invite_revoke_in(struct store *s, int64_t now, const char *actor, int64_t group_id,
                           int64_t id, struct store_invite *out)
{
    struct store_invite inv = {0};
    int e = store__begin(s);
    if (e < 0)
        return e;
    struct db_stmt *st = store__stmt(s, ST_INVITE_GET);
    db_bind_int64(st, 1, id);
    if ((e = store__one(st, read_invite, &inv)) == 0 && group_id && inv.group_id != group_id)
        e = STORE_E_NOT_FOUND; /* the caller may act on group_id only */
    if (e == 0) {
        st = store__stmt(s, ST_INVITE_REVOKE);
        db_bind_int64(st, 1, id);
        db_bind_int64(st, 2, now);
        e = store__change_one(s, st, STORE_E_INVALID);
    }
    char target[STORE__TARGET_LEN];
    e = store__end(s, e, now, actor, "invite_revoke", store__target(target, "invite", id),
                   inv.group_id, 0);
    if (e == 0 && out) {
        inv.revoked_at = now;
        *out = inv;
    }
    return e;
}

/* Step statement id, which finds an active invite by code_hash at now, to
 * its row: the statement, or NULL with *e (STORE_E_NOT_FOUND: no row).
 * The caller reads the row, then db_reset. */
static struct db_stmt *active_row(struct store *s, enum store__stmt id,
                                  const uint8_t code_hash[STORE_HASH_LEN], int64_t now, int *e)
{
    struct db_stmt *st = store__stmt(s, id);
    db_bind_blob(st, 1, code_hash, STORE_HASH_LEN);
    db_bind_int64(st, 2, now);
    int r = store__row(st);
    *e = r < 0 ? r : STORE_E_NOT_FOUND;
    return r == 1 ? st : NULL;
}

int store_invite_find(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                      struct store_invite *out)
{
    int e;
    struct db_stmt *st = active_row(s, ST_INVITE_FIND, code_hash, now, &e);
    if (!st)
        return e;
    const char *kind = db_col_text(st, 2);
    *out = (struct store_invite){
        .id = db_col_int64(st, 0),
        .group_id = db_col_int64(st, 1),
        .kind = kind && strcmp(kind, "personal") == 0 ? STORE_INVITE_PERSONAL : STORE_INVITE_GROUP,
    };
    db_reset(st);
    return 0;
}

int store_invite_lookup(struct store *s, const uint8_t code_hash[STORE_HASH_LEN],
                        struct store_invite *out)
{
    struct db_stmt *st = store__stmt(s, ST_INVITE_LOOKUP);
    db_bind_blob(st, 1, code_hash, STORE_HASH_LEN);
    return store__one(st, read_invite, out);
}

int store_invite_session(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                         int64_t *session_id)
{
    int e;
    struct db_stmt *st = active_row(s, ST_INVITE_SESSION, code_hash, now, &e);
    if (!st)
        return e;
    *session_id = db_col_int64(st, 0);
    db_reset(st);
    return 0;
}

/*
 * INVITE_USE checks every condition again in the one statement that claims
 * the invite, and writers take turns (db_begin), so under concurrent
 * redemption exactly one UPDATE sees used_at IS NULL and changes a row. The
 * write transaction is also what bumps PostgreSQL's data version.
 */
int store_invite_use(struct store *s, int64_t id, int64_t now)
{
    int e = store__begin(s);
    if (e < 0)
        return e;
    struct db_stmt *st = store__stmt(s, ST_INVITE_USE);
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, now);
    if ((e = store__change_one(s, st, STORE_E_NOT_FOUND)) == 0)
        e = store__commit(s);
    if (e < 0)
        store__rollback(s);
    return e;
}

int store_redeem_invite(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                        int64_t *group_id, int64_t *invite_id)
{
    struct store_invite inv;
    int e = store_invite_find(s, code_hash, now, &inv);
    if (e == 0 && inv.kind == STORE_INVITE_PERSONAL)
        e = store_invite_use(s, inv.id, now);
    if (e < 0)
        return e;
    *group_id = inv.group_id;
    *invite_id = inv.id;
    return 0;
}
