#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store_int.h"
#include "util.h"

#define STORE__SQL(name, sql) [ST_##name] = sql,
static const char *const statement_sql[ST__COUNT] = {STORE_STATEMENTS(STORE__SQL)};
static const char *const statement_pg_sql[ST__COUNT] = {STORE_PG_STATEMENTS(STORE__SQL)};
#undef STORE__SQL

const char *store_strerror(int err)
{
    switch (err) {
    case STORE_OK:
        return "ok";
    case STORE_E_NOT_FOUND:
        return "not found";
    case STORE_E_EXISTS:
        return "already exists";
    case STORE_E_INVALID:
        return "invalid value or state";
    case STORE_E_BUSY:
        return "database busy";
    case STORE_E_IO:
        return "database I/O error";
    case STORE_E_CORRUPT:
        return "database corrupt";
    case STORE_E_TOO_NEW:
        return "database made by a newer kamrat";
    case STORE_E_FULL:
        return "disk full";
    case STORE_E_ARCHIVED:
        return "the group is archived";
    }
    return "unknown error";
}

const char *store_errmsg(const struct store *s)
{
    return db_errmsg(s->db);
}

struct db_stmt *store__stmt(struct store *s, enum store__stmt id)
{
    return s->stmt[id];
}

void store__bind_id(struct db_stmt *st, int i, int64_t v)
{
    if (v)
        db_bind_int64(st, i, v);
    else
        db_bind_null(st, i);
}

int store__exec(struct db_stmt *st)
{
    int rc = db_step(st);
    db_reset(st);
    return rc == 1 ? STORE_E_INVALID /* a bug: this statement returns rows */ : rc;
}

int store__row(struct db_stmt *st)
{
    int rc = db_step(st);
    if (rc != 1)
        db_reset(st);
    return rc;
}

char *store__col_dup(struct db_stmt *st, int i)
{
    const char *t = db_col_text(st, i);
    return t ? xstrdup(t) : NULL;
}

void store__col_copy(struct db_stmt *st, int i, char *dst, size_t dstlen)
{
    const char *t = db_col_text(st, i);
    snprintf(dst, dstlen, "%s", t ? t : "");
}

void *store__rows(struct db_stmt *st, size_t size, store__read_fn *read, store__clear_fn *clear,
                  size_t *n, int *err)
{
    char *v = NULL;
    size_t cap = 0, count = 0;
    int r;
    while ((r = store__row(st)) == 1) {
        if (count == cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, cap * size);
        }
        read(st, v + count++ * size);
    }
    if (r < 0) {
        for (size_t i = 0; clear && i < count; i++)
            clear(v + i * size);
        free(v);
        v = NULL;
        count = 0;
    }
    *err = r;
    *n = count;
    return v;
}

int store__one(struct db_stmt *st, store__read_fn *read, void *row)
{
    int r = store__row(st);
    if (r != 1)
        return r < 0 ? r : STORE_E_NOT_FOUND;
    read(st, row);
    db_reset(st);
    return 0;
}

int store__insert(struct db_stmt *st, int64_t *id)
{
    int r = store__row(st);
    if (r == 1) {
        *id = db_col_int64(st, 0);
        db_reset(st);
    }
    return r == 1 ? 0 : r < 0 ? r : STORE_E_INVALID;
}

int store__change_one(struct store *s, struct db_stmt *st, int none)
{
    int e = store__exec(st);
    if (e == 0 && db_changes(s->db) != 1)
        e = none;
    return e;
}

int store__begin(struct store *s)
{
    return db_begin(s->db);
}

int store__commit(struct store *s)
{
    return db_commit(s->db);
}

void store__rollback(struct store *s)
{
    db_rollback(s->db);
}

int store__end(struct store *s, int e, int64_t now, const char *actor, const char *action,
               const char *target, int64_t group_id, int64_t session_id)
{
    if (e == 0)
        e = store__audit(s, now, actor, action, target, group_id, session_id);
    if (e == 0)
        e = store__commit(s);
    if (e < 0)
        store__rollback(s);
    return e;
}

const char *store__target(char buf[STORE__TARGET_LEN], const char *kind, int64_t id)
{
    snprintf(buf, STORE__TARGET_LEN, "%s:%lld", kind, (long long)id);
    return buf;
}

bool store__text_valid(const char *s, size_t max, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    while (*p) {
        uint32_t c = *p;
        size_t len = c < 0x80             ? 1
                     : (c & 0xe0) == 0xc0 ? 2
                     : (c & 0xf0) == 0xe0 ? 3
                     : (c & 0xf8) == 0xf0 ? 4
                                          : 0;
        if (len == 0)
            return false;
        if (len > 1)
            c &= 0x3fu >> (len - 1);
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (p[i] & 0x3fu);
        }
        static const uint32_t min_of_len[] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < min_of_len[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        bool control = c < 0x20 || (c >= 0x7f && c < 0xa0);
        if (control && !(multiline && (c == '\n' || c == '\t')))
            return false;
        p += len;
        if (++chars > max)
            return false;
    }
    return true;
}

/* ---- opening ---------------------------------------------------------- */

/* Apply each migration the database lacks; a current one takes no write
 * lock. Another process may be migrating the same database: the version
 * is read again inside each write transaction. */
static int migrate(struct db *db, const char *const *migrations, char *err, size_t errlen)
{
    int current = db_schema_version(db);
    if (current < 0) {
        snprintf(err, errlen, "%s: %s", db_name(db), db_errmsg(db));
        return current;
    }
    for (int target = current + 1; target <= store__migration_count; target++) {
        int e = db_begin(db);
        int version = e < 0 ? e : db_schema_version(db);
        if (version < 0)
            e = version;
        if (e == 0 && version < target && (e = db_exec(db, migrations[target - 1])) == 0)
            e = db_set_schema_version(db, target);
        if (e == 0)
            e = db_commit(db);
        if (e < 0) {
            snprintf(err, errlen, "%s: migration to schema version %d failed: %s", db_name(db),
                     target, db_errmsg(db));
            db_rollback(db);
            return e;
        }
    }
    return 0;
}

/* Migrate db and prepare every statement; takes db. */
static int finish_open(struct db *db, struct store **out, char *err, size_t errlen)
{
    bool pg = db_engine(db) == DB_POSTGRESQL;
    struct store *s = xcalloc(1, sizeof(*s));
    s->db = db;
    int e = migrate(db, pg ? store__migrations_pg : store__migrations, err, errlen);
    for (int i = 0; e == 0 && i < ST__COUNT; i++) {
        const char *sql = pg && statement_pg_sql[i] ? statement_pg_sql[i] : statement_sql[i];
        e = db_prepare(db, sql, &s->stmt[i], err, errlen);
    }
    if (e < 0) {
        store_close(s);
        return e;
    }
    *out = s;
    return 0;
}

int store_open(const char *path, int flags, struct store **out, char *err, size_t errlen)
{
    struct db *db;
    *out = NULL;
    int e = db_open_sqlite(path, flags & STORE_CREATE, store__migration_count, &db, err, errlen);
    return e < 0 ? e : finish_open(db, out, err, errlen);
}

int store_open_pg(const char *conninfo, const char *password, int flags, struct store **out,
                  char *err, size_t errlen)
{
    struct db *db;
    *out = NULL;
    int e = db_open_pg(conninfo, password, flags & STORE_CREATE, store__migration_count, &db, err,
                       errlen);
    return e < 0 ? e : finish_open(db, out, err, errlen);
}

int store_open_config(const struct config *c, int flags, struct store **out, char *err,
                      size_t errlen)
{
    if (!c->store.postgresql) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/kamrat.db", c->data_dir);
        return store_open(path, flags, out, err, errlen);
    }
    char password[CONFIG_PASSWORD_MAX] = "";
    if (c->store.password_file &&
        config_read_store_password(c, password, sizeof(password), err, errlen) < 0) {
        *out = NULL;
        return STORE_E_IO;
    }
    int e = store_open_pg(c->store.conninfo, c->store.password_file ? password : NULL, flags, out,
                          err, errlen);
    wipe(password, sizeof(password));
    return e;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    db_close(s->db);
    free(s);
}

int store_set_busy_wait(struct store *s, uint32_t ms)
{
    char sql[64];
    if (db_engine(s->db) == DB_POSTGRESQL)
        snprintf(sql, sizeof(sql), "SET lock_timeout = '%ums'", ms);
    else
        snprintf(sql, sizeof(sql), "PRAGMA busy_timeout = %u", ms);
    return db_exec(s->db, sql);
}

bool store_is_postgresql(const struct store *s)
{
    return db_engine(s->db) == DB_POSTGRESQL;
}

const char *store_name(const struct store *s)
{
    return db_name(s->db);
}

int store_schema_version(struct store *s)
{
    int v = db_schema_version(s->db);
    return v < 0 ? -1 : v;
}

int store_schema_latest(void)
{
    return store__migration_count;
}

int64_t store_data_version(struct store *s)
{
    return db_data_version(s->db);
}

int store_check(struct store *s, char *err, size_t errlen)
{
    return db_check(s->db, err, errlen);
}

int store_backup(struct store *s, const char *dest, char *err, size_t errlen)
{
    return db_backup(s->db, dest, err, errlen);
}

/* ---- audit ------------------------------------------------------------ */

int store__audit(struct store *s, int64_t now, const char *actor, const char *action,
                 const char *target, int64_t group_id, int64_t session_id)
{
    if (!actor || !*actor || strlen(actor) > STORE_ACTOR_MAX || !action || !*action ||
        strlen(action) > STORE_ACTOR_MAX || (target && strlen(target) > STORE_TARGET_MAX))
        return STORE_E_INVALID;
    struct db_stmt *st = s->stmt[ST_AUDIT_ADD];
    db_bind_int64(st, 1, now);
    db_bind_text(st, 2, actor);
    db_bind_text(st, 3, action);
    db_bind_text(st, 4, target);
    store__bind_id(st, 5, group_id);
    store__bind_id(st, 6, session_id);
    return store__exec(st);
}

int store_audit(struct store *s, int64_t now, const char *actor, const char *action,
                const char *target, int64_t group_id, int64_t session_id)
{
    /* Its own write transaction: on PostgreSQL that is what bumps the data
     * version other processes watch. */
    int e = store__begin(s);
    if (e < 0)
        return e;
    return store__end(s, 0, now, actor, action, target, group_id, session_id);
}

static void read_audit_row(struct db_stmt *st, void *row)
{
    *(struct store_audit_row *)row = (struct store_audit_row){
        .id = db_col_int64(st, 0),
        .ts = db_col_int64(st, 1),
        .actor = store__col_dup(st, 2),
        .action = store__col_dup(st, 3),
        .target = store__col_dup(st, 4),
        .group_id = db_col_int64(st, 5),
        .session_id = db_col_int64(st, 6),
    };
}

static void clear_audit_row(void *row)
{
    struct store_audit_row *a = row;
    free(a->actor);
    free(a->action);
    free(a->target);
}

int store_audit_query(struct store *s, const struct store_audit_filter *f,
                      struct store_audit_row **out, size_t *n)
{
    struct db_stmt *st = s->stmt[ST_AUDIT_QUERY];
    store__bind_id(st, 1, f->group_id);
    db_bind_int64(st, 2, f->since);
    store__bind_id(st, 3, f->until);
    db_bind_int64(st, 4, f->limit > 0 ? f->limit : 100);
    if (f->actor)
        db_bind_text(st, 5, f->actor);
    else
        db_bind_null(st, 5);
    if (f->action)
        db_bind_text(st, 6, f->action);
    else
        db_bind_null(st, 6);
    store__bind_id(st, 7, f->before_id);
    int e;
    *out = store__rows(st, sizeof(**out), read_audit_row, clear_audit_row, n, &e);
    return e;
}

void store_audit_free(struct store_audit_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        clear_audit_row(&rows[i]);
    free(rows);
}
