/* store: groups, leaders and the links between them. */
#include "store.h"

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

/* Bind g's settings from ?first on: ?1..?7 in GROUP_ADD, ?2..?8 in GROUP_EDIT. */
static void bind_group(sqlite3_stmt *st, int first, const struct store_group *g)
{
    store__bind_text(st, first, g->name);
    store__bind_text(st, first + 1, g->language);
    store__bind_text(st, first + 2, g->description);
    store__bind_text(st, first + 3, g->agreement);
    sqlite3_bind_int(st, first + 4, g->max_participants);
    store__bind_text(st, first + 5, g->history);
    store__bind_text(st, first + 6, g->private_messages);
}

static void read_group(sqlite3_stmt *st, struct store_group *g)
{
    *g = (struct store_group){
        .id = sqlite3_column_int64(st, 0),
        .name = store__col_dup(st, 1),
        .description = store__col_dup(st, 3),
        .agreement = store__col_dup(st, 4),
        .max_participants = sqlite3_column_int(st, 5),
        .created_at = sqlite3_column_int64(st, 8),
    };
    store__col_copy(st, 2, g->language, sizeof(g->language));
    store__col_copy(st, 6, g->history, sizeof(g->history));
    store__col_copy(st, 7, g->private_messages, sizeof(g->private_messages));
}

static void read_leader(sqlite3_stmt *st, struct store_leader *l, bool with_hash)
{
    *l = (struct store_leader){
        .id = sqlite3_column_int64(st, 0),
        .disabled = sqlite3_column_int(st, 2) != 0,
        .created_at = sqlite3_column_int64(st, 3),
    };
    store__col_copy(st, 1, l->username, sizeof(l->username));
    if (with_hash)
        store__col_copy(st, 4, l->password_hash, sizeof(l->password_hash));
}

/* Run a query of STORE_GROUP_COLS rows into a new array. */
static int group_rows(struct store *s, sqlite3_stmt *st, struct store_group **out, size_t *n)
{
    struct store_group *v = NULL;
    size_t cap = 0, count = 0;
    int r;
    while ((r = store__row(s, st)) == 1) {
        v = store__grow(v, &cap, count, sizeof(*v));
        read_group(st, &v[count++]);
    }
    if (r < 0) {
        store_group_list_free(v, count);
        return r;
    }
    *out = v;
    *n = count;
    return 0;
}

static int leader_rows(struct store *s, sqlite3_stmt *st, struct store_leader **out, size_t *n)
{
    struct store_leader *v = NULL;
    size_t cap = 0, count = 0;
    int r;
    while ((r = store__row(s, st)) == 1) {
        v = store__grow(v, &cap, count, sizeof(*v));
        read_leader(st, &v[count++], false);
    }
    if (r < 0) {
        free(v);
        return r;
    }
    *out = v;
    *n = count;
    return 0;
}

/* One row of st into *out, or STORE_E_NOT_FOUND. */
static int group_one(struct store *s, sqlite3_stmt *st, struct store_group *out)
{
    int r = store__row(s, st);
    if (r == 1) {
        read_group(st, out);
        store__reset(st);
        return 0;
    }
    return r < 0 ? r : STORE_E_NOT_FOUND;
}

static int leader_one(struct store *s, sqlite3_stmt *st, struct store_leader *out)
{
    int r = store__row(s, st);
    if (r == 1) {
        read_leader(st, out, true);
        store__reset(st);
        return 0;
    }
    return r < 0 ? r : STORE_E_NOT_FOUND;
}

int store_group_add(struct store *s, int64_t now, const char *actor, const struct store_group *g,
                    int64_t *id)
{
    if (store_group_invalid(g))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    sqlite3_stmt *st = store__stmt(s, ST_GROUP_ADD);
    bind_group(st, 1, g);
    sqlite3_bind_int64(st, 8, now);
    if ((e = store__exec(s, st)) < 0)
        goto fail;
    int64_t new_id = sqlite3_last_insert_rowid(s->db);
    if ((e = store__audit(s, now, actor, "group_add", g->name, new_id, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    if (id)
        *id = new_id;
    return 0;
fail:
    store__rollback(s);
    return e;
}

int store_group_edit(struct store *s, int64_t now, const char *actor, const struct store_group *g)
{
    if (store_group_invalid(g))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    sqlite3_stmt *st = store__stmt(s, ST_GROUP_EDIT);
    sqlite3_bind_int64(st, 1, g->id);
    bind_group(st, 2, g);
    if ((e = store__exec(s, st)) < 0)
        goto fail;
    if (sqlite3_changes(s->db) != 1) {
        e = STORE_E_NOT_FOUND;
        goto fail;
    }
    if ((e = store__audit(s, now, actor, "group_edit", g->name, g->id, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    return 0;
fail:
    store__rollback(s);
    return e;
}

int store_group_remove(struct store *s, int64_t now, const char *actor, int64_t id)
{
    struct store_group g = {0};
    int e = store__begin(s);
    if (e < 0)
        return e;
    sqlite3_stmt *st = store__stmt(s, ST_GROUP_GET_ID);
    sqlite3_bind_int64(st, 1, id);
    if ((e = group_one(s, st, &g)) < 0)
        goto fail;
    st = store__stmt(s, ST_GROUP_REMOVE);
    sqlite3_bind_int64(st, 1, id);
    if ((e = store__exec(s, st)) < 0 ||
        (e = store__audit(s, now, actor, "group_remove", g.name, id, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    store_group_clear(&g);
    return 0;
fail:
    store__rollback(s);
    store_group_clear(&g);
    return e;
}

int store_group_get(struct store *s, const char *name, struct store_group *out)
{
    sqlite3_stmt *st = store__stmt(s, ST_GROUP_GET);
    store__bind_text(st, 1, name);
    return group_one(s, st, out);
}

int store_group_get_id(struct store *s, int64_t id, struct store_group *out)
{
    sqlite3_stmt *st = store__stmt(s, ST_GROUP_GET_ID);
    sqlite3_bind_int64(st, 1, id);
    return group_one(s, st, out);
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

static bool phc_valid(const char *phc)
{
    size_t len = phc ? strlen(phc) : 0;
    return len > 1 && len <= STORE_PHC_MAX && phc[0] == '$' &&
           store__text_valid(phc, STORE_PHC_MAX, false);
}

int store_leader_add(struct store *s, int64_t now, const char *actor, const char *username,
                     const char *phc, int64_t *id)
{
    if (!store_username_valid(username) || !phc_valid(phc))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    sqlite3_stmt *st = store__stmt(s, ST_LEADER_ADD);
    store__bind_text(st, 1, username);
    store__bind_text(st, 2, phc);
    sqlite3_bind_int64(st, 3, now);
    if ((e = store__exec(s, st)) < 0)
        goto fail;
    int64_t new_id = sqlite3_last_insert_rowid(s->db);
    if ((e = store__audit(s, now, actor, "leader_add", username, 0, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    if (id)
        *id = new_id;
    return 0;
fail:
    store__rollback(s);
    return e;
}

/* Look up leader id inside the caller's transaction, for the audit target. */
static int leader_by_id(struct store *s, int64_t id, struct store_leader *out)
{
    sqlite3_stmt *st = store__stmt(s, ST_LEADER_GET_ID);
    sqlite3_bind_int64(st, 1, id);
    return leader_one(s, st, out);
}

int store_leader_set_password(struct store *s, int64_t now, const char *actor, int64_t id,
                              const char *phc)
{
    if (!phc_valid(phc))
        return STORE_E_INVALID;
    struct store_leader l;
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = leader_by_id(s, id, &l)) < 0)
        goto fail;
    sqlite3_stmt *st = store__stmt(s, ST_LEADER_SET_PASSWORD);
    sqlite3_bind_int64(st, 1, id);
    store__bind_text(st, 2, phc);
    if ((e = store__exec(s, st)) < 0 ||
        (e = store__audit(s, now, actor, "leader_passwd", l.username, 0, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    return 0;
fail:
    store__rollback(s);
    return e;
}

int store_leader_set_disabled(struct store *s, int64_t now, const char *actor, int64_t id,
                              bool disabled)
{
    struct store_leader l;
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = leader_by_id(s, id, &l)) < 0)
        goto fail;
    sqlite3_stmt *st = store__stmt(s, ST_LEADER_SET_DISABLED);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, disabled);
    if ((e = store__exec(s, st)) < 0)
        goto fail;
    if (sqlite3_changes(s->db) != 1) {
        e = STORE_E_INVALID;
        goto fail;
    }
    if ((e = store__audit(s, now, actor, disabled ? "leader_disable" : "leader_enable", l.username,
                          0, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    return 0;
fail:
    store__rollback(s);
    return e;
}

int store_leader_get(struct store *s, const char *username, struct store_leader *out)
{
    sqlite3_stmt *st = store__stmt(s, ST_LEADER_GET);
    store__bind_text(st, 1, username);
    return leader_one(s, st, out);
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
    struct store_leader l;
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = leader_by_id(s, leader_id, &l)) < 0)
        goto fail;
    sqlite3_stmt *st = store__stmt(s, add ? ST_GROUP_LEADER_ADD : ST_GROUP_LEADER_REMOVE);
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_int64(st, 2, leader_id);
    if ((e = store__exec(s, st)) < 0)
        goto fail;
    if (sqlite3_changes(s->db) != 1) {
        e = STORE_E_NOT_FOUND;
        goto fail;
    }
    if ((e = store__audit(s, now, actor, add ? "group_leader_add" : "group_leader_remove",
                          l.username, group_id, 0)) < 0 ||
        (e = store__commit(s)) < 0)
        goto fail;
    return 0;
fail:
    store__rollback(s);
    return e;
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
    sqlite3_stmt *st = store__stmt(s, ST_GROUP_LEADERS);
    sqlite3_bind_int64(st, 1, group_id);
    return leader_rows(s, st, out, n);
}

int store_leader_groups(struct store *s, int64_t leader_id, struct store_group **out, size_t *n)
{
    sqlite3_stmt *st = store__stmt(s, ST_LEADER_GROUPS);
    sqlite3_bind_int64(st, 1, leader_id);
    return group_rows(s, st, out, n);
}
