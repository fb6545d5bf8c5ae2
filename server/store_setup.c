/* store: setup links, by which an account's holder chooses its password
 * (protocol/README.md §12 "Setup links"). Only the SHA-256 of a link's code
 * is stored; a spent or replaced link keeps its row so that its page can
 * say so. */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

int store__setup_put(struct store *s, int64_t now, int64_t leader_id,
                     const uint8_t code_hash[STORE_HASH_LEN])
{
    struct db_stmt *st = store__stmt(s, ST_SETUP_REPLACE);
    db_bind_int64(st, 1, leader_id);
    db_bind_int64(st, 2, now);
    int e = store__exec(st);
    if (e < 0)
        return e;
    st = store__stmt(s, ST_SETUP_ADD);
    db_bind_int64(st, 1, leader_id);
    db_bind_blob(st, 2, code_hash, STORE_HASH_LEN);
    db_bind_int64(st, 3, now);
    db_bind_int64(st, 4, now + STORE_SETUP_TTL);
    return store__exec(st);
}

/* "<role>_<verb>" in buf. */
static const char *role_action(char buf[32], enum store_role role, const char *verb)
{
    snprintf(buf, 32, "%s_%s", store_role_name(role), verb);
    return buf;
}

int store_account_add_pending(struct store *s, int64_t now, const char *actor, enum store_role role,
                              const char *username, const uint8_t code_hash[STORE_HASH_LEN],
                              int64_t *id)
{
    /* No login matches the password '' until the link is used. */
    return store__account_add(s, now, actor, role, username, "", code_hash, id);
}

int store_leader_setup_link(struct store *s, int64_t now, const char *actor, int64_t id,
                            const uint8_t code_hash[STORE_HASH_LEN])
{
    struct store_leader l = {0};
    int e = store__begin(s);
    if (e == 0 && (e = store__leader_by_id(s, id, &l)) == 0 && l.disabled)
        e = STORE_E_INVALID; /* its holder could not use the link: enable it first */
    if (e == 0) {
        struct db_stmt *st = store__stmt(s, ST_LEADER_CLEAR_PASSWORD);
        db_bind_int64(st, 1, id);
        if ((e = store__change_one(s, st, STORE_E_NOT_FOUND)) == 0)
            e = store__setup_put(s, now, id, code_hash);
    }
    char action[32];
    e = store__end(s, e, now, actor, role_action(action, l.role, "setup_link"), l.username, 0, 0);
    wipe(&l, sizeof(l));
    return e;
}

/* The row SETUP_FIND is on, with the link's id in *row_id. */
static void read_setup(struct db_stmt *st, int64_t now, struct store_setup *out, int64_t *row_id)
{
    *row_id = db_col_int64(st, 0);
    *out = (struct store_setup){
        .leader_id = db_col_int64(st, 1),
        .role = store__role(db_col_text(st, 3)),
        .expires_at = db_col_int64(st, 4),
    };
    store__col_copy(st, 2, out->username, sizeof(out->username));
    if (db_col_int64(st, 5))
        out->state = STORE_SETUP_USED;
    else if (db_col_int64(st, 6) || out->expires_at <= now || db_col_int64(st, 7))
        out->state = STORE_SETUP_EXPIRED;
    else
        out->state = STORE_SETUP_ACTIVE;
}

static int find(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                struct store_setup *out, int64_t *row_id)
{
    struct db_stmt *st = store__stmt(s, ST_SETUP_FIND);
    db_bind_blob(st, 1, code_hash, STORE_HASH_LEN);
    int e = store__row(st);
    if (e == 1) {
        read_setup(st, now, out, row_id);
        db_reset(st);
        return 0;
    }
    return e == 0 ? STORE_E_NOT_FOUND : e;
}

int store_setup_find(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                     struct store_setup *out)
{
    int64_t row_id;
    return find(s, code_hash, now, out, &row_id);
}

int store_setup_redeem(struct store *s, int64_t now, const uint8_t code_hash[STORE_HASH_LEN],
                       const char *phc, struct store_setup *out)
{
    *out = (struct store_setup){0};
    if (!store__phc_valid(phc))
        return STORE_E_INVALID;
    int64_t row_id = 0;
    int e = store__begin(s);
    if (e == 0 && (e = find(s, code_hash, now, out, &row_id)) == 0 &&
        out->state != STORE_SETUP_ACTIVE)
        e = STORE_E_INVALID;
    if (e == 0) {
        /* Spent in the statement that checks it: of two redemptions at
         * once, one changes the row and the other gets STORE_E_INVALID. */
        struct db_stmt *st = store__stmt(s, ST_SETUP_USE);
        db_bind_int64(st, 1, row_id);
        db_bind_int64(st, 2, now);
        if ((e = store__change_one(s, st, STORE_E_INVALID)) == STORE_E_INVALID)
            out->state = STORE_SETUP_USED;
    }
    if (e == 0) {
        struct db_stmt *st = store__stmt(s, ST_LEADER_SET_PASSWORD);
        db_bind_int64(st, 1, out->leader_id);
        db_bind_text(st, 2, phc);
        e = store__change_one(s, st, STORE_E_NOT_FOUND);
    }
    char actor[STORE_ACTOR_MAX + 1], action[32];
    snprintf(actor, sizeof(actor), "%s:%s", store_role_name(out->role), out->username);
    return store__end(s, e, now, actor, role_action(action, out->role, "setup"), out->username, 0,
                      0);
}
