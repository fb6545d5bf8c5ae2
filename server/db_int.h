/*
 * db internals: what each engine (db_sqlite.c, db_pg.c) fills in. db.c
 * holds what both share and dispatches through struct db_ops. Not for
 * other modules.
 */
#ifndef KAMRAT_DB_INT_H
#define KAMRAT_DB_INT_H

#include "db.h"

struct db_ops {
    enum db_engine engine;
    void (*close)(struct db *db);
    int (*prepare)(struct db *db, const char *sql, struct db_stmt **out, char *err, size_t errlen);
    void (*stmt_free)(struct db_stmt *st);
    void (*bind_int64)(struct db_stmt *st, int i, int64_t v);
    void (*bind_null)(struct db_stmt *st, int i);
    void (*bind_text)(struct db_stmt *st, int i, const char *v);
    void (*bind_blob)(struct db_stmt *st, int i, const void *v, size_t len);
    int (*step)(struct db_stmt *st);
    void (*reset)(struct db_stmt *st);
    int (*col_count)(struct db_stmt *st);
    int64_t (*col_int64)(struct db_stmt *st, int i);
    const char *(*col_text)(struct db_stmt *st, int i);
    const void *(*col_blob)(struct db_stmt *st, int i, size_t *len);
    int (*begin)(struct db *db);
    int (*commit)(struct db *db);
    void (*rollback)(struct db *db);
    int (*exec)(struct db *db, const char *sql);
    int (*schema_version)(struct db *db);
    int (*set_schema_version)(struct db *db, int version);
    int64_t (*data_version)(struct db *db);
    int (*check)(struct db *db, char *err, size_t errlen);
    int (*backup)(struct db *db, const char *dest, char *err, size_t errlen);
};

#define DB_ERRMSG_MAX 256
#define DB_NAME_MAX 4096

/* The part of every connection db.c sees; each engine's struct starts
 * with it. Statements are kept in a list so db_close frees them. */
struct db {
    const struct db_ops *ops;
    char name[DB_NAME_MAX];
    char errmsg[DB_ERRMSG_MAX];
    int64_t changes;
    struct db_stmt *stmts;
};

struct db_stmt {
    struct db *db;
    struct db_stmt *next;
};

/* Link a new statement into db's list (after the engine made it). */
void db__adopt(struct db *db, struct db_stmt *st);

#endif
