/* store: invites, kept only as the SHA-256 of their codes. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

static void read_invite(sqlite3_stmt *st, struct store_invite *inv)
{
    const char *kind = (const char *)sqlite3_column_text(st, 2);
    *inv = (struct store_invite){
        .id = sqlite3_column_int64(st, 0),
        .group_id = sqlite3_column_int64(st, 1),
        .kind = kind && strcmp(kind, "personal") == 0 ? STORE_INVITE_PERSONAL : STORE_INVITE_GROUP,
        .created_at = sqlite3_column_int64(st, 3),
        .expires_at = sqlite3_column_int64(st, 4),
        .revoked_at = sqlite3_column_int64(st, 5),
        .used_at = sqlite3_column_int64(st, 6),
    };
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
    if (expires_at <= now || (kind != STORE_INVITE_GROUP && kind != STORE_INVITE_PERSONAL))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    sqlite3_stmt *st = store__stmt(s, ST_INVITE_ADD);
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_blob(st, 2, code_hash, STORE_HASH_LEN, SQLITE_STATIC);
    store__bind_text(st, 3, store_invite_kind_name(kind));
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, expires_at);
    if ((e = store__exec(s, st)) < 0)
        goto fail;
    int64_t new_id = sqlite3_last_insert_rowid(s->db);
    char target[32];
    snprintf(target, sizeof(target), "invite:%lld", (long long)new_id);
    if ((e = store__audit(s, now, actor, "invite_create", target, group_id, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    if (id)
        *id = new_id;
    return 0;
fail:
    store__rollback(s);
    return e;
}

int store_invite_list(struct store *s, int64_t group_id, struct store_invite **out, size_t *n)
{
    sqlite3_stmt *st = store__stmt(s, ST_INVITE_LIST);
    store__bind_id(st, 1, group_id);
    struct store_invite *v = NULL;
    size_t cap = 0, count = 0;
    int r;
    while ((r = store__row(s, st)) == 1) {
        v = store__grow(v, &cap, count, sizeof(*v));
        read_invite(st, &v[count++]);
    }
    if (r < 0) {
        free(v);
        return r;
    }
    *out = v;
    *n = count;
    return 0;
}

int store_invite_revoke(struct store *s, int64_t now, const char *actor, int64_t id)
{
    struct store_invite inv;
    int e = store__begin(s);
    if (e < 0)
        return e;
    sqlite3_stmt *st = store__stmt(s, ST_INVITE_GET);
    sqlite3_bind_int64(st, 1, id);
    int r = store__row(s, st);
    if (r != 1) {
        e = r < 0 ? r : STORE_E_NOT_FOUND;
        goto fail;
    }
    read_invite(st, &inv);
    store__reset(st);

    st = store__stmt(s, ST_INVITE_REVOKE);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    if ((e = store__exec(s, st)) < 0)
        goto fail;
    if (sqlite3_changes(s->db) != 1) {
        e = STORE_E_INVALID;
        goto fail;
    }
    char target[32];
    snprintf(target, sizeof(target), "invite:%lld", (long long)id);
    if ((e = store__audit(s, now, actor, "invite_revoke", target, inv.group_id, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    return 0;
fail:
    store__rollback(s);
    return e;
}

/*
 * No transaction: INVITE_FIND only narrows the search, and INVITE_USE
 * checks every condition again in the one statement that claims the
 * invite. SQLite runs writers one at a time, so under concurrent
 * redemption exactly one UPDATE sees used_at IS NULL and changes a row.
 */
int store_redeem_invite(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                        int64_t *group_id, int64_t *invite_id)
{
    sqlite3_stmt *st = store__stmt(s, ST_INVITE_FIND);
    sqlite3_bind_blob(st, 1, code_hash, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    int r = store__row(s, st);
    if (r != 1)
        return r < 0 ? r : STORE_E_NOT_FOUND;
    int64_t id = sqlite3_column_int64(st, 0);
    int64_t group = sqlite3_column_int64(st, 1);
    bool personal = strcmp((const char *)sqlite3_column_text(st, 2), "personal") == 0;
    store__reset(st);

    if (personal) {
        st = store__stmt(s, ST_INVITE_USE);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        int e = store__exec(s, st);
        if (e < 0)
            return e;
        if (sqlite3_changes(s->db) != 1)
            return STORE_E_NOT_FOUND;
    }
    *group_id = group;
    *invite_id = id;
    return 0;
}
