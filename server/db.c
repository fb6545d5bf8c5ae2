/* db: what both engines share, and the dispatch to each (db_int.h). */
#include "db.h"

#include <stdlib.h>

#include "db_int.h"
#include "store.h"

void db__adopt(struct db *db, struct db_stmt *st)
{
    st->db = db;
    st->next = db->stmts;
    db->stmts = st;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    while (db->stmts) {
        struct db_stmt *st = db->stmts;
        db->stmts = st->next;
        db->ops->stmt_free(st);
    }
    db->ops->close(db);
}

enum db_engine db_engine(const struct db *db)
{
    return db->ops->engine;
}

const char *db_name(const struct db *db)
{
    return db->name;
}

const char *db_errmsg(const struct db *db)
{
    return db->errmsg;
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out, char *err, size_t errlen)
{
    return db->ops->prepare(db, sql, out, err, errlen);
}

void db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    st->db->ops->bind_int64(st, i, v);
}

void db_bind_null(struct db_stmt *st, int i)
{
    st->db->ops->bind_null(st, i);
}

void db_bind_text(struct db_stmt *st, int i, const char *v)
{
    if (v)
        st->db->ops->bind_text(st, i, v);
    else
        st->db->ops->bind_null(st, i);
}

void db_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
    st->db->ops->bind_blob(st, i, v, len);
}

int db_step(struct db_stmt *st)
{
    return st->db->ops->step(st);
}

void db_reset(struct db_stmt *st)
{
    st->db->ops->reset(st);
}

int db_col_count(struct db_stmt *st)
{
    return st->db->ops->col_count(st);
}

int64_t db_col_int64(struct db_stmt *st, int i)
{
    return st->db->ops->col_int64(st, i);
}

const char *db_col_text(struct db_stmt *st, int i)
{
    return st->db->ops->col_text(st, i);
}

const void *db_col_blob(struct db_stmt *st, int i, size_t *len)
{
    return st->db->ops->col_blob(st, i, len);
}

int64_t db_changes(const struct db *db)
{
    return db->changes;
}

int db_begin(struct db *db)
{
    return db->ops->begin(db);
}

int db_commit(struct db *db)
{
    return db->ops->commit(db);
}

void db_rollback(struct db *db)
{
    db->ops->rollback(db);
}

int db_exec(struct db *db, const char *sql)
{
    return db->ops->exec(db, sql);
}

int db_query_int(struct db *db, const char *sql, int64_t *out)
{
    struct db_stmt *st;
    char err[DB_ERRMSG_MAX];
    int e = db_prepare(db, sql, &st, err, sizeof(err));
    if (e < 0)
        return e;
    int r = db_step(st);
    if (r == 1)
        *out = db_col_int64(st, 0);
    db_reset(st);
    /* A one-off statement: unlink and free it now rather than at close. */
    db->stmts = st->next;
    db->ops->stmt_free(st);
    return r == 1 ? 0 : r == 0 ? STORE_E_NOT_FOUND : r;
}

int db_schema_version(struct db *db)
{
    return db->ops->schema_version(db);
}

int db_set_schema_version(struct db *db, int version)
{
    return db->ops->set_schema_version(db, version);
}

int64_t db_data_version(struct db *db)
{
    return db->ops->data_version(db);
}

int db_check(struct db *db, char *err, size_t errlen)
{
    return db->ops->check(db, err, errlen);
}

int db_backup(struct db *db, const char *dest, char *err, size_t errlen)
{
    return db->ops->backup(db, dest, err, errlen);
}
