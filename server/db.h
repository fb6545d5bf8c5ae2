/*
 * db: the store's SQL layer, one interface over SQLite and PostgreSQL.
 *
 * The store writes its logic and its SQL once, against this module:
 * prepare, bind, step, read columns, transactions. Statements use SQLite's
 * numbered parameters (?1, ?2, ...); on PostgreSQL they become $1, $2, ...
 * Everything an engine does differently lives behind this interface:
 * opening (SQLite's file checks and pragmas, libpq's connection), where
 * the schema version is kept (PRAGMA user_version, or the one row of
 * kamrat_meta), how another process's commit is noticed (PRAGMA
 * data_version, or a counter every write transaction bumps), checks and
 * backups, and the mapping of each engine's errors to enum store_err.
 *
 * Errors are negative enum store_err values (store.h), with the engine's
 * message in db_errmsg. No message this module writes holds a password,
 * bound values or row contents.
 *
 * Thread: the caller's; one struct db belongs to one thread. Every call may
 * block on the disk, the network or another process's lock.
 */
#ifndef KAMRAT_DB_H
#define KAMRAT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum db_engine {
    DB_SQLITE,
    DB_POSTGRESQL,
};

struct db;
struct db_stmt;

/*
 * Open the SQLite file at path (created, mode 0600, when create is set and
 * it does not exist). An existing file is inspected read-only first and
 * refused untouched when it is not a sound kamrat database
 * (STORE_E_CORRUPT) or its schema version is above max_version
 * (STORE_E_TOO_NEW); then WAL, foreign keys, secure_delete,
 * synchronous=FULL and the busy timeout are set. Returns 0 and *out (free
 * with db_close), or a store_err with a sentence naming path in err.
 */
int db_open_sqlite(const char *path, bool create, int max_version, struct db **out, char *err,
                   size_t errlen);

/*
 * Connect to PostgreSQL with the libpq connection string conninfo and,
 * when not NULL, password (which overrides any in conninfo; it is never
 * copied into a message). A database without kamrat's kamrat_meta table
 * gets one when create is set and it holds no other table; without create
 * it is STORE_E_NOT_FOUND, and with other tables STORE_E_CORRUPT. A schema
 * version above max_version is STORE_E_TOO_NEW, and nothing is written.
 * An unreachable server or failed login is STORE_E_IO. err names the
 * server by host, port, database and user only.
 */
int db_open_pg(const char *conninfo, const char *password, bool create, int max_version,
               struct db **out, char *err, size_t errlen);

/* Free every statement and close. db_close(NULL) is a no-op. */
void db_close(struct db *db);

enum db_engine db_engine(const struct db *db);

/* What err messages call the database: the file's path, or "postgresql
 * host=... port=... dbname=... user=..." without the password. */
const char *db_name(const struct db *db);

/* The engine's message for the last failure, for logs; "" when none.
 * Borrowed until the next call on db. */
const char *db_errmsg(const struct db *db);

/*
 * Prepare sql (one statement, ?N parameters) for repeated use. The
 * statement belongs to db and is freed by db_close. Returns 0 and *out, or
 * a store_err with the engine's complaint and the SQL in err.
 */
int db_prepare(struct db *db, const char *sql, struct db_stmt **out, char *err, size_t errlen);

/* Bind parameter i (1-based). Text and blobs are borrowed until db_reset;
 * NULL text binds SQL NULL, as does db_bind_null. */
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_null(struct db_stmt *st, int i);
void db_bind_text(struct db_stmt *st, int i, const char *v);
void db_bind_blob(struct db_stmt *st, int i, const void *v, size_t len);

/* Run st (on the first step) and move to its next row: 1 when st is on a
 * row, 0 when there are no more, or a store_err. */
int db_step(struct db_stmt *st);

/* Forget st's result and bindings, ready to be bound and run again. */
void db_reset(struct db_stmt *st);

/* Column i of the row st is on. SQL NULL reads as 0, NULL text or an
 * empty blob. Text and blobs are borrowed until the next step or reset. */
int db_col_count(struct db_stmt *st);
int64_t db_col_int64(struct db_stmt *st, int i);
const char *db_col_text(struct db_stmt *st, int i);
const void *db_col_blob(struct db_stmt *st, int i, size_t *len);

/* Rows inserted, changed or deleted by the last statement that finished. */
int64_t db_changes(const struct db *db);

/*
 * A write transaction: SQLite's BEGIN IMMEDIATE, or on PostgreSQL BEGIN
 * and a bump of the data version, whose row lock makes writers wait for
 * each other as SQLite's do. db_rollback undoes an open transaction, if
 * any, and keeps the first error's message.
 */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Run sql, one or more statements without parameters (migrations, and
 * tests' raw SQL). Returns 0 or a store_err. */
int db_exec(struct db *db, const char *sql);

/* The one integer the query sql yields (its first column of its first
 * row) into *out. Returns 0, STORE_E_NOT_FOUND for no row, or a store_err. */
int db_query_int(struct db *db, const char *sql, int64_t *out);

/* The schema version kept in the database, or a store_err; setting it
 * belongs in the transaction of the migration it records. */
int db_schema_version(struct db *db);
int db_set_schema_version(struct db *db, int version);

/* A number that changes whenever another connection commits a write,
 * never for this one's own: >= 0, or a store_err. */
int64_t db_data_version(struct db *db);

/* Check the database (SQLite: integrity_check and foreign_key_check;
 * PostgreSQL: kamrat_meta's row and every table readable). Returns 0 or
 * STORE_E_CORRUPT (or another store_err) with the first complaint in err. */
int db_check(struct db *db, char *err, size_t errlen);

/* Copy the database to the new file dest (SQLite only; PostgreSQL is
 * STORE_E_INVALID with a pointer to pg_dump in err). See store_backup. */
int db_backup(struct db *db, const char *dest, char *err, size_t errlen);

/* The SQLite connection under db, NULL on PostgreSQL: for the room fuzzer,
 * which resets the store between inputs by copying pages into it. */
struct sqlite3 *db_sqlite_handle(struct db *db);

#endif
