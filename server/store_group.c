/* store: groups, leaders and the links between them. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

static bool one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return true;
    return false;
}

void store_group_defaults(struct store_group *g)
{
    *g = (struct store_group){
        .description = xstrdup(""),
        .agreement = xstrdup(""),
        .max_participants = 12,
        .history = "since_admitted",
        .private_messages = "leaders",
    };
}

static bool name_valid(const char *name)
{
    size_t len = strlen(name);
    return len > 0 && name[0] != ' ' && name[len - 1] != ' ' &&
           store__text_valid(name, STORE_GROUP_NAME_MAX, false);
}

const char *store_group_invalid(const struct store_group *g)
{
    static const char *const languages[] = {"fi", "sv", "en", NULL};
    static const char *const histories[] = {"since_admitted", "whole_session", NULL};
    static const char *const pms[] = {"off", "leaders", "everyone", NULL};
    if (!g->name || !name_valid(g->name))
        return "name";
    if (!one_of(g->language, languages))
        return "language";
    if (!g->description || !store__text_valid(g->description, STORE_DESCRIPTION_MAX, false))
        return "description";
    if (!g->agreement || !store__text_valid(g->agreement, STORE_AGREEMENT_MAX, true))
        return "agreement";
    if (g->max_participants < 1 || g->max_participants > 500)
        return "max_participants";
    if (!one_of(g->history, histories))
        return "history";
    if (!one_of(g->private_messages, pms))
        return "private_messages";
    return NULL;
}

/* Bind g's settings from ?first on: ?1..?8 in GROUP_ADD, ?2..?9 in GROUP_EDIT. */
static void bind_group(struct db_stmt *st, int first, const struct store_group *g)
{
    db_bind_text(st, first, g->name);
    db_bind_text(st, first + 1, g->language);
    db_bind_text(st, first + 2, g->description);
    db_bind_text(st, first + 3, g->agreement);
    db_bind_int64(st, first + 4, g->max_participants);
    db_bind_text(st, first + 5, g->history);
    db_bind_text(st, first + 6, g->private_messages);
    db_bind_int64(st, first + 7, g->adhoc_sessions);
}

static void read_group(struct db_stmt *st, void *row)
{
    struct store_group *g = row;
    *g = (struct store_group){
        .id = db_col_int64(st, 0),
        .name = store__col_dup(st, 1),
        .description = store__col_dup(st, 3),
        .agreement = store__col_dup(st, 4),
        .max_participants = (int)db_col_int64(st, 5),
        .created_at = db_col_int64(st, 8),
        .adhoc_sessions = db_col_int64(st, 9) != 0,
        .archived_at = db_col_int64(st, 10),
    };
    store__col_copy(st, 2, g->language, sizeof(g->language));
    store__col_copy(st, 6, g->history, sizeof(g->history));
    store__col_copy(st, 7, g->private_messages, sizeof(g->private_messages));
}

static void clear_group(void *row)
{
    store_group_clear(row);
}

/* A leader row; the password hash too when the query selects it (the gets,
 * not the lists). */
static void read_leader(struct db_stmt *st, void *row)
{
    struct store_leader *l = row;
    *l = (struct store_leader){
        .id = db_col_int64(st, 0),
        .disabled = (int)db_col_int64(st, 2) != 0,
        .created_at = db_col_int64(st, 3),
        .login_gen = db_col_int64(st, 4),
        .role = store__role(db_col_text(st, 5)),
        .awaiting_setup = db_col_int64(st, 6) != 0,
        .setup_expires_at = db_col_int64(st, 7),
    };
    store__col_copy(st, 1, l->username, sizeof(l->username));
    if (db_col_count(st) > 8)
        store__col_copy(st, 8, l->password_hash, sizeof(l->password_hash));
}

/* Run a query of STORE_GROUP_COLS rows into a new array. */
static int group_rows(struct store *s, struct db_stmt *st, struct store_group **out, size_t *n)
{
    int e;
    *out = store__rows(st, sizeof(**out), read_group, clear_group, n, &e);
    return e;
}

static int leader_rows(struct store *s, struct db_stmt *st, struct store_leader **out, size_t *n)
{
    int e;
    *out = store__rows(st, sizeof(**out), read_leader, NULL, n, &e);
    return e;
}

/* The group with id, inside the caller's transaction when there is one
 * (for the audit target). */
static int group_by_id(struct store *s, int64_t id, struct store_group *out)
{
    struct db_stmt *st = store__stmt(s, ST_GROUP_GET_ID);
    db_bind_int64(st, 1, id);
    return store__one(st, read_group, out);
}

int store__leader_by_id(struct store *s, int64_t id, struct store_leader *out)
{
    struct db_stmt *st = store__stmt(s, ST_LEADER_GET_ID);
    db_bind_int64(st, 1, id);
    return store__one(st, read_leader, out);
}

int store_group_add(struct store *s, int64_t now, const char *actor, const struct store_group *g,
                    int64_t *id)
{
    if (store_group_invalid(g))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    struct db_stmt *st = store__stmt(s, ST_GROUP_ADD);
    bind_group(st, 1, g);
    db_bind_int64(st, 9, now);
    int64_t new_id = 0;
    e = store__insert(st, &new_id);
    e = store__end(s, e, now, actor, "group_add", g->name, new_id, 0);
    if (e == 0 && id)
        *id = new_id;
    return e;
}

int store_group_edit(struct store *s, int64_t now, const char *actor, const struct store_group *g)
{
    if (store_group_invalid(g))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    struct db_stmt *st = store__stmt(s, ST_GROUP_EDIT);
    db_bind_int64(st, 1, g->id);
    bind_group(st, 2, g);
    e = store__change_one(s, st, STORE_E_NOT_FOUND);
    return store__end(s, e, now, actor, "group_edit", g->name, g->id, 0);
}

int store_group_set_archived(struct store *s, int64_t now, const char *actor, int64_t id,
                             bool archived)
{
    struct store_group g = {0};
    int e = store__begin(s);
    if (e == 0 && (e = group_by_id(s, id, &g)) == 0) {
        struct db_stmt *st = store__stmt(s, archived ? ST_GROUP_ARCHIVE : ST_GROUP_UNARCHIVE);
        db_bind_int64(st, 1, id);
        if (archived)
            db_bind_int64(st, 2, now);
        e = store__change_one(s, st, STORE_E_INVALID);
    }
    e = store__end(s, e, now, actor, archived ? "group_archive" : "group_unarchive", g.name, id, 0);
    store_group_clear(&g);
    return e;
}

int store__group_open(struct store *s, int64_t group_id)
{
    struct db_stmt *st = store__stmt(s, ST_GROUP_ARCHIVED);
    db_bind_int64(st, 1, group_id);
    int e = store__row(st);
    if (e == 1)
        e = db_col_int64(st, 0) ? STORE_E_ARCHIVED : 0;
    else if (e == 0)
        e = STORE_E_NOT_FOUND;
    db_reset(st);
    return e;
}

int store_group_remove(struct store *s, int64_t now, const char *actor, int64_t id)
{
    struct store_group g = {0};
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = group_by_id(s, id, &g)) == 0) {
        struct db_stmt *st = store__stmt(s, ST_GROUP_REMOVE);
        db_bind_int64(st, 1, id);
        e = store__exec(st);
    }
    e = store__end(s, e, now, actor, "group_remove", g.name, id, 0);
    store_group_clear(&g);
    return e;
}

int store_group_get(struct store *s, const char *name, struct store_group *out)
{
    struct db_stmt *st = store__stmt(s, ST_GROUP_GET);
    db_bind_text(st, 1, name);
    return store__one(st, read_group, out);
}

int store_group_get_id(struct store *s, int64_t id, struct store_group *out)
{
    return group_by_id(s, id, out);
}

int store_group_list(struct store *s, struct store_group **out, size_t *n)
{
    return group_rows(s, store__stmt(s, ST_GROUP_LIST), out, n);
}

void store_group_clear(struct store_group *g)
{
    free(g->name);
    free(g->description);
    free(g->agreement);
    *g = (struct store_group){0};
}

void store_group_list_free(struct store_group *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_group_clear(&v[i]);
    free(v);
}

/* ---- leaders ---------------------------------------------------------- */

bool store_username_valid(const char *username)
{
    size_t len = strlen(username);
    return len >= 3 && len <= STORE_USERNAME_MAX &&
           strspn(username, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

bool store__phc_valid(const char *phc)
{
    size_t len = phc ? strlen(phc) : 0;
    return len > 1 && len <= STORE_PHC_MAX && phc[0] == '$' &&
           store__text_valid(phc, STORE_PHC_MAX, false);
}

const char *store_role_name(enum store_role role)
{
    return role == STORE_ROLE_COORDINATOR ? "coordinator" : "leader";
}

enum store_role store__role(const char *name)
{
    return name && strcmp(name, "coordinator") == 0 ? STORE_ROLE_COORDINATOR : STORE_ROLE_LEADER;
}

int store_leader_add(struct store *s, int64_t now, const char *actor, const char *username,
                     const char *phc, int64_t *id)
{
    return store_account_add(s, now, actor, STORE_ROLE_LEADER, username, phc, id);
}

int store_account_add(struct store *s, int64_t now, const char *actor, enum store_role role,
                      const char *username, const char *phc, int64_t *id)
{
    if (!store__phc_valid(phc))
        return STORE_E_INVALID;
    return store__account_add(s, now, actor, role, username, phc, NULL, id);
}

int store__account_add(struct store *s, int64_t now, const char *actor, enum store_role role,
                       const char *username, const char *phc,
                       const uint8_t setup_hash[STORE_HASH_LEN], int64_t *id)
{
    if (!store_username_valid(username))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    struct db_stmt *st = store__stmt(s, ST_LEADER_ADD);
    db_bind_text(st, 1, username);
    db_bind_text(st, 2, phc);
    db_bind_int64(st, 3, now);
    db_bind_text(st, 4, store_role_name(role));
    int64_t new_id = 0;
    e = store__insert(st, &new_id);
    if (e == 0 && setup_hash)
        e = store__setup_put(s, now, new_id, setup_hash);
    char action[32];
    snprintf(action, sizeof(action), "%s_add", store_role_name(role));
    e = store__end(s, e, now, actor, action, username, 0, 0);
    if (e == 0 && id)
        *id = new_id;
    return e;
}

/*
 * Change account id with st, whose ?1 is the account's id and whose other
 * parameters the caller bound, in a transaction that first looks the account
 * up (a missing one is STORE_E_NOT_FOUND; a coordinator, when leaders_only,
 * STORE_E_INVALID) and ends with an audit row of action about it and
 * group_id. An action "leader_<verb>" on a coordinator is written
 * "coordinator_<verb>". When st changes no row the result is none.
 */
static int leader_change(struct store *s, int64_t now, const char *actor, int64_t id,
                         struct db_stmt *st, const char *action, int64_t group_id, int none,
                         bool leaders_only)
{
    struct store_leader l = {0};
    int e = store__begin(s);
    if (e == 0 && (e = store__leader_by_id(s, id, &l)) == 0) {
        if (leaders_only && l.role != STORE_ROLE_LEADER) {
            e = STORE_E_INVALID;
        } else {
            db_bind_int64(st, 1, id);
            e = store__change_one(s, st, none);
        }
    }
    db_reset(st); /* when begin or the lookup failed, st still holds bindings */
    char named[32];
    if (l.role == STORE_ROLE_COORDINATOR && strncmp(action, "leader_", 7) == 0) {
        snprintf(named, sizeof(named), "coordinator_%s", action + 7);
        action = named;
    }
    e = store__end(s, e, now, actor, action, l.username, group_id, 0);
    wipe(&l, sizeof(l));
    return e;
}

int store_leader_set_password(struct store *s, int64_t now, const char *actor, int64_t id,
                              const char *phc)
{
    if (!store__phc_valid(phc))
        return STORE_E_INVALID;
    struct db_stmt *st = store__stmt(s, ST_LEADER_SET_PASSWORD);
    db_bind_text(st, 2, phc);
    return leader_change(s, now, actor, id, st, "leader_passwd", 0, STORE_E_NOT_FOUND, false);
}

int store_leader_rehash(struct store *s, int64_t now, const char *actor, int64_t id,
                        int64_t login_gen, const char *phc)
{
    if (!store__phc_valid(phc))
        return STORE_E_INVALID;
    struct db_stmt *st = store__stmt(s, ST_LEADER_REHASH);
    db_bind_text(st, 2, phc);
    db_bind_int64(st, 3, login_gen);
    return leader_change(s, now, actor, id, st, "leader_rehash", 0, STORE_E_NOT_FOUND, false);
}

int store_leader_set_disabled(struct store *s, int64_t now, const char *actor, int64_t id,
                              bool disabled)
{
    struct db_stmt *st = store__stmt(s, ST_LEADER_SET_DISABLED);
    db_bind_int64(st, 2, disabled);
    return leader_change(s, now, actor, id, st, disabled ? "leader_disable" : "leader_enable", 0,
                         STORE_E_INVALID, false);
}

int store_leader_remove(struct store *s, int64_t now, const char *actor, int64_t id)
{
    return leader_change(s, now, actor, id, store__stmt(s, ST_LEADER_REMOVE), "leader_remove", 0,
                         STORE_E_NOT_FOUND, false);
}

int store_leader_get(struct store *s, const char *username, struct store_leader *out)
{
    struct db_stmt *st = store__stmt(s, ST_LEADER_GET);
    db_bind_text(st, 1, username);
    return store__one(st, read_leader, out);
}

int store_leader_get_id(struct store *s, int64_t id, struct store_leader *out)
{
    return store__leader_by_id(s, id, out);
}

int store_leader_list(struct store *s, struct store_leader **out, size_t *n)
{
    return leader_rows(s, store__stmt(s, ST_LEADER_LIST), out, n);
}

/* ---- links ------------------------------------------------------------ */

/* Link (add) or unlink a leader and a group, with its audit row. */
static int group_leader_change(struct store *s, int64_t now, const char *actor, int64_t group_id,
                               int64_t leader_id, bool add)
{
    struct db_stmt *st = store__stmt(s, add ? ST_GROUP_LEADER_ADD : ST_GROUP_LEADER_REMOVE);
    db_bind_int64(st, 2, group_id);
    return leader_change(s, now, actor, leader_id, st,
                         add ? "group_leader_add" : "group_leader_remove", group_id,
                         STORE_E_NOT_FOUND, add);
}

int store_group_leader_add(struct store *s, int64_t now, const char *actor, int64_t group_id,
                           int64_t leader_id)
{
    return group_leader_change(s, now, actor, group_id, leader_id, true);
}

int store_group_leader_remove(struct store *s, int64_t now, const char *actor, int64_t group_id,
                              int64_t leader_id)
{
    return group_leader_change(s, now, actor, group_id, leader_id, false);
}

int store_group_leaders(struct store *s, int64_t group_id, struct store_leader **out, size_t *n)
{
    struct db_stmt *st = store__stmt(s, ST_GROUP_LEADERS);
    db_bind_int64(st, 1, group_id);
    return leader_rows(s, st, out, n);
}

int store_leader_groups(struct store *s, int64_t leader_id, struct store_group **out, size_t *n)
{
    struct db_stmt *st = store__stmt(s, ST_LEADER_GROUPS);
    db_bind_int64(st, 1, leader_id);
    return group_rows(s, st, out, n);
}
