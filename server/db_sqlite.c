/*
 * db on SQLite: one file, WAL, a 5 s busy timeout. An existing file is
 * looked at read-only before anything is written to it, so a file kamrat
 * refuses is left exactly as it was.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_int.h"
#include "store.h"
#include "util.h"

#define APPLICATION_ID 1263358548 /* 'KMRT', set by migration 1 */
#define BUSY_TIMEOUT_MS 5000
#define BACKUP_PAGES 64         /* per step: short locks, others keep writing */
#define BACKUP_BUSY_RETRIES 100 /* 50 ms apart */

struct lite {
    struct db base;
    sqlite3 *db;
};

struct lite_stmt {
    struct db_stmt base;
    sqlite3_stmt *st;
};

static struct lite *lite_of(struct db *db)
{
    return (struct lite *)db;
}

static sqlite3_stmt *st_of(struct db_stmt *st)
{
    return ((struct lite_stmt *)st)->st;
}

/* Map an SQLite result code to a store_err, keeping SQLite's message. */
static int lite_err(struct lite *l, int rc)
{
    snprintf(l->base.errmsg, sizeof(l->base.errmsg), "%s", sqlite3_errmsg(l->db));
    switch (rc) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return STORE_E_EXISTS;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return STORE_E_NOT_FOUND;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_E_BUSY;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        return STORE_E_INVALID;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return STORE_E_CORRUPT;
    case SQLITE_FULL:
        return STORE_E_FULL;
    }
    return STORE_E_IO;
}

/* ---- statements ------------------------------------------------------- */

static int lite_prepare(struct db *db, const char *sql, struct db_stmt **out, char *err,
                        size_t errlen)
{
    struct lite *l = lite_of(db);
    sqlite3_stmt *raw = NULL;
    int rc = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL);
    if (rc != SQLITE_OK) {
        int e = lite_err(l, rc);
        snprintf(err, errlen, "%s: %s (in: %s)", db->name, l->base.errmsg, sql);
        return e;
    }
    struct lite_stmt *st = xcalloc(1, sizeof(*st));
    st->st = raw;
    db__adopt(db, &st->base);
    *out = &st->base;
    return 0;
}

static void lite_stmt_free(struct db_stmt *st)
{
    sqlite3_finalize(st_of(st));
    free(st);
}

static void lite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st_of(st), i, v);
}

static void lite_bind_null(struct db_stmt *st, int i)
{
    sqlite3_bind_null(st_of(st), i);
}

static void lite_bind_text(struct db_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st_of(st), i, v, -1, SQLITE_STATIC);
}

static void lite_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
    sqlite3_bind_blob(st_of(st), i, v, (int)len, SQLITE_STATIC);
}

static int lite_step(struct db_stmt *st)
{
    struct lite *l = lite_of(st->db);
    int rc = sqlite3_step(st_of(st));
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        l->base.changes = sqlite3_changes(l->db);
        return 0;
    }
    return lite_err(l, rc);
}

static void lite_reset(struct db_stmt *st)
{
    sqlite3_reset(st_of(st));
    sqlite3_clear_bindings(st_of(st));
}

static int lite_col_count(struct db_stmt *st)
{
    return sqlite3_column_count(st_of(st));
}

static int64_t lite_col_int64(struct db_stmt *st, int i)
{
    return sqlite3_column_int64(st_of(st), i);
}

static const char *lite_col_text(struct db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st_of(st), i);
}

static const void *lite_col_blob(struct db_stmt *st, int i, size_t *len)
{
    const void *p = sqlite3_column_blob(st_of(st), i);
    *len = (size_t)sqlite3_column_bytes(st_of(st), i);
    return p;
}

/* ---- transactions and raw SQL ----------------------------------------- */

static int lite_exec(struct db *db, const char *sql)
{
    struct lite *l = lite_of(db);
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : lite_err(l, rc);
}

static int lite_begin(struct db *db)
{
    return lite_exec(db, "BEGIN IMMEDIATE");
}

static int lite_commit(struct db *db)
{
    return lite_exec(db, "COMMIT");
}

static void lite_rollback(struct db *db)
{
    struct lite *l = lite_of(db);
    if (sqlite3_get_autocommit(l->db))
        return; /* SQLite already rolled back (for example on SQLITE_FULL) */
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int lite_schema_version(struct db *db)
{
    struct lite *l = lite_of(db);
    int64_t v = 0;
    int rc = pragma_int(l->db, "PRAGMA user_version", &v);
    return rc == SQLITE_OK ? (int)v : lite_err(l, rc);
}

static int lite_set_schema_version(struct db *db, int version)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
    return lite_exec(db, sql);
}

/* PRAGMA data_version already counts only other connections' commits. */
static int64_t lite_data_version(struct db *db)
{
    struct lite *l = lite_of(db);
    int64_t v = 0;
    int rc = pragma_int(l->db, "PRAGMA data_version", &v);
    return rc == SQLITE_OK ? v : lite_err(l, rc);
}

/* ---- opening ---------------------------------------------------------- */

/* Run a check pragma; "ok" as its first row (or no row) passes. Otherwise
 * err names path and the complaint. Returns the SQLite code, SQLITE_CORRUPT
 * when the check itself failed. */
static int run_check(sqlite3 *db, const char *sql, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r && strcmp(r, "ok") == 0) {
            rc = SQLITE_OK;
        } else {
            snprintf(err, errlen, "%s: %s failed: %s", path, sql, r ? r : "(null)");
            rc = SQLITE_CORRUPT;
        }
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    } else {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc;
}

static int map_open_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return STORE_E_CORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_E_BUSY;
    }
    return STORE_E_IO;
}

static bool wal_exists(const char *path)
{
    char wal[4096];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    return access(wal, F_OK) == 0;
}

/* Open path read-only. With immutable, SQLite neither locks the file nor
 * looks for a WAL: for a file no process has open (no -wal beside it),
 * because a read-only connection to a file marked for WAL would otherwise
 * create -wal and -shm next to it. */
static int open_read_only(const char *path, bool immutable, sqlite3 **db)
{
    if (!immutable)
        return sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL);
    char uri[4200] = "file:";
    size_t n = strlen(uri);
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 16 < sizeof(uri); p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
            n += (size_t)snprintf(uri + n, sizeof(uri) - n, "%%%02X", *p);
        else
            uri[n++] = (char)*p;
    }
    snprintf(uri + n, sizeof(uri) - n, "?immutable=1");
    return sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
}

static int inspect_with(const char *path, bool immutable, int max_version, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int64_t app = 0, version = 0, objects = 0;
    int rc = open_read_only(path, immutable, &db);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    rc = run_check(db, "PRAGMA quick_check", path, err, errlen);
    if (rc != SQLITE_OK)
        goto fail;
    if ((rc = pragma_int(db, "PRAGMA application_id", &app)) != SQLITE_OK ||
        (rc = pragma_int(db, "PRAGMA user_version", &version)) != SQLITE_OK ||
        (rc = pragma_int(db, "SELECT count(*) FROM sqlite_schema", &objects)) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_close(db);
    if (app != APPLICATION_ID && !(app == 0 && version == 0 && objects == 0)) {
        snprintf(err, errlen, "%s: not a kamrat database (some other program's SQLite file)", path);
        return STORE_E_CORRUPT;
    }
    if (version < 0) {
        snprintf(err, errlen, "%s: schema version %lld was not written by kamrat", path,
                 (long long)version);
        return STORE_E_CORRUPT;
    }
    if (version > max_version) {
        snprintf(err, errlen,
                 "%s: schema version %lld is newer than this kamrat knows (%d); "
                 "use the kamrat release that wrote it",
                 path, (long long)version, max_version);
        return STORE_E_TOO_NEW;
    }
    return 0;
fail:
    sqlite3_close(db);
    return map_open_error(rc);
}

/*
 * Look at an existing file through a read-only connection, so that a file
 * we refuse is left exactly as it was: not even WAL mode is set on it.
 * A process that starts writing the file while we read it without locks
 * may make it look corrupt for a moment: then its WAL exists, and the
 * second look goes through it with locks.
 */
static int inspect(const char *path, int max_version, char *err, size_t errlen)
{
    bool in_use = wal_exists(path);
    int e = inspect_with(path, !in_use, max_version, err, errlen);
    if (e == STORE_E_CORRUPT && !in_use && wal_exists(path))
        e = inspect_with(path, false, max_version, err, errlen);
    return e;
}

/* Set a pragma and read it back: other builds of SQLite may ignore some. */
static int set_pragma(sqlite3 *db, const char *set, const char *get, int64_t want, const char *path,
                      char *err, size_t errlen)
{
    int64_t v = -1;
    int rc = sqlite3_exec(db, set, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, get, &v);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s: %s", path, set, sqlite3_errmsg(db));
        return map_open_error(rc);
    }
    if (v != want) {
        snprintf(err, errlen, "%s: %s did not take effect (%s = %lld)", path, set, get,
                 (long long)v);
        return STORE_E_IO;
    }
    return 0;
}

static int configure(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* Refuse what only a broken or hostile caller would do: writes to
     * sqlite_schema, double-quoted string literals, schema-defined functions
     * running with our privileges. */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

    char mode[16] = "";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK || strcmp(mode, "wal") != 0) {
        snprintf(err, errlen, "%s: cannot set WAL mode: %s", path,
                 rc != SQLITE_OK ? sqlite3_errmsg(db) : mode);
        return rc != SQLITE_OK ? map_open_error(rc) : STORE_E_IO;
    }
    int e;
    if ((e = set_pragma(db, "PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", 1, path, err,
                        errlen)) < 0 ||
        (e = set_pragma(db, "PRAGMA secure_delete = ON", "PRAGMA secure_delete", 1, path, err,
                        errlen)) < 0 ||
        (e = set_pragma(db, "PRAGMA synchronous = FULL", "PRAGMA synchronous", 2, path, err,
                        errlen)) < 0)
        return e;
    return 0;
}

static const struct db_ops lite_ops;

int db_open_sqlite(const char *path, bool create, int max_version, struct db **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) < 0) {
        int saved = errno;
        if (saved != ENOENT || !create) {
            snprintf(err, errlen, "%s: %s", path, strerror(saved));
            return saved == ENOENT ? STORE_E_NOT_FOUND : STORE_E_IO;
        }
        /* Created here rather than by SQLite for the mode: the file holds
         * password hashes, and SQLite gives -wal and -shm the same mode. */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
            return STORE_E_IO;
        }
        if (fd >= 0)
            close(fd);
    }
    int e = inspect(path, max_version, err, errlen);
    if (e < 0)
        return e;

    struct lite *l = xcalloc(1, sizeof(*l));
    l->base.ops = &lite_ops;
    snprintf(l->base.name, sizeof(l->base.name), "%s", path);
    int rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, l->db ? sqlite3_errmsg(l->db) : "cannot open");
        e = map_open_error(rc);
        goto fail;
    }
    if ((e = configure(l->db, path, err, errlen)) < 0)
        goto fail;
    *out = &l->base;
    return 0;
fail:
    db_close(&l->base);
    return e;
}

static void lite_close(struct db *db)
{
    sqlite3_close(lite_of(db)->db);
    free(db);
}

struct sqlite3 *db_sqlite_handle(struct db *db)
{
    return db->ops->engine == DB_SQLITE ? lite_of(db)->db : NULL;
}

/* ---- check and backup ------------------------------------------------- */

static int lite_check(struct db *db, char *err, size_t errlen)
{
    struct lite *l = lite_of(db);
    const char *path = db->name;
    int rc = run_check(l->db, "PRAGMA integrity_check", path, err, errlen);
    if (rc != SQLITE_OK)
        return rc == SQLITE_CORRUPT ? STORE_E_CORRUPT : lite_err(l, rc);
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(l->db, "PRAGMA foreign_key_check", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(err, errlen, "%s: row %lld of table %s refers to a missing row of %s", path,
                 (long long)sqlite3_column_int64(st, 1), sqlite3_column_text(st, 0),
                 sqlite3_column_text(st, 2));
        sqlite3_finalize(st);
        return STORE_E_CORRUPT;
    }
    int e = rc == SQLITE_DONE ? 0 : lite_err(l, rc);
    if (e < 0)
        snprintf(err, errlen, "%s: %s", path, l->base.errmsg);
    sqlite3_finalize(st);
    return e;
}

/* Copy page by page. A busy source is waited for, up to ~5 s in a row. */
static int copy_pages(sqlite3 *src, sqlite3 *dst)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b)
        return SQLITE_ERROR;
    int rc, busy = 0;
    do {
        rc = sqlite3_backup_step(b, BACKUP_PAGES);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            if (++busy > BACKUP_BUSY_RETRIES)
                break;
            sqlite3_sleep(50);
        } else {
            busy = 0;
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    int frc = sqlite3_backup_finish(b);
    return rc == SQLITE_DONE ? frc : rc;
}

static int lite_backup(struct db *db, const char *dest, char *err, size_t errlen)
{
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", dest, strerror(errno));
        return errno == EEXIST ? STORE_E_EXISTS : STORE_E_IO;
    }
    close(fd);

    sqlite3 *dst = NULL;
    int e = 0;
    int rc = sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = copy_pages(lite_of(db)->db, dst);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", dest, dst ? sqlite3_errmsg(dst) : "cannot open");
        e = map_open_error(rc);
        goto fail;
    }
    /* The copy carries the source's WAL flag; a backup should be one file. */
    rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", dest, sqlite3_errmsg(dst));
        e = map_open_error(rc);
        goto fail;
    }
    rc = run_check(dst, "PRAGMA quick_check", dest, err, errlen);
    if (rc != SQLITE_OK) {
        e = rc == SQLITE_CORRUPT ? STORE_E_CORRUPT : map_open_error(rc);
        goto fail;
    }
    if (sqlite3_close(dst) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot close the copy", dest);
        e = STORE_E_IO;
        goto fail;
    }
    return 0;
fail:
    sqlite3_close(dst);
    unlink(dest);
    return e;
}

static const struct db_ops lite_ops = {
    .engine = DB_SQLITE,
    .close = lite_close,
    .prepare = lite_prepare,
    .stmt_free = lite_stmt_free,
    .bind_int64 = lite_bind_int64,
    .bind_null = lite_bind_null,
    .bind_text = lite_bind_text,
    .bind_blob = lite_bind_blob,
    .step = lite_step,
    .reset = lite_reset,
    .col_count = lite_col_count,
    .col_int64 = lite_col_int64,
    .col_text = lite_col_text,
    .col_blob = lite_col_blob,
    .begin = lite_begin,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .exec = lite_exec,
    .schema_version = lite_schema_version,
    .set_schema_version = lite_set_schema_version,
    .data_version = lite_data_version,
    .check = lite_check,
    .backup = lite_backup,
};
