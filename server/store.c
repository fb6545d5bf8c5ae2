#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"
#include "util.h"

#define APPLICATION_ID 1263358548 /* 'KMRT', set by migration 1 */
#define BUSY_TIMEOUT_MS 5000
#define BACKUP_PAGES 64         /* per step: short locks, others keep writing */
#define BACKUP_BUSY_RETRIES 100 /* 50 ms apart */

#define STORE__SQL(name, sql) [ST_##name] = sql,
static const char *const statement_sql[ST__COUNT] = {STORE_STATEMENTS(STORE__SQL)};
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
    }
    return "unknown error";
}

int store__err(struct store *s, int rc)
{
    snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
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

const char *store_errmsg(const struct store *s)
{
    return s->errmsg;
}

sqlite3_stmt *store__stmt(struct store *s, enum store__stmt id)
{
    return s->stmt[id];
}

void store__bind_id(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

void store__bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void store__reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int store__exec(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int e = rc == SQLITE_DONE ? 0 : store__err(s, rc);
    if (rc == SQLITE_ROW)
        e = STORE_E_INVALID; /* a bug: this statement returns rows */
    store__reset(st);
    return e;
}

int store__row(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    int e = rc == SQLITE_DONE ? 0 : store__err(s, rc);
    store__reset(st);
    return e;
}

char *store__col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

void store__col_copy(sqlite3_stmt *st, int i, char *dst, size_t dstlen)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

void *store__rows(struct store *s, sqlite3_stmt *st, size_t size, store__read_fn *read,
                  store__clear_fn *clear, size_t *n, int *err)
{
    char *v = NULL;
    size_t cap = 0, count = 0;
    int r;
    while ((r = store__row(s, st)) == 1) {
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

int store__one(struct store *s, sqlite3_stmt *st, store__read_fn *read, void *row)
{
    int r = store__row(s, st);
    if (r != 1)
        return r < 0 ? r : STORE_E_NOT_FOUND;
    read(st, row);
    store__reset(st);
    return 0;
}

int store__insert(struct store *s, sqlite3_stmt *st, int64_t *id)
{
    int e = store__exec(s, st);
    if (e == 0)
        *id = sqlite3_last_insert_rowid(s->db);
    return e;
}

int store__change_one(struct store *s, sqlite3_stmt *st, int none)
{
    int e = store__exec(s, st);
    if (e == 0 && sqlite3_changes(s->db) != 1)
        e = none;
    return e;
}

int store__begin(struct store *s)
{
    return store__exec(s, s->stmt[ST_BEGIN]);
}

int store__commit(struct store *s)
{
    return store__exec(s, s->stmt[ST_COMMIT]);
}

void store__rollback(struct store *s)
{
    if (sqlite3_get_autocommit(s->db))
        return; /* SQLite already rolled back (for example on SQLITE_FULL) */
    sqlite3_stmt *st = s->stmt[ST_ROLLBACK];
    sqlite3_step(st);
    store__reset(st);
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

static int inspect_with(const char *path, bool immutable, char *err, size_t errlen)
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
    if (version > store__migration_count) {
        snprintf(err, errlen,
                 "%s: schema version %lld is newer than this kamrat knows (%d); "
                 "use the kamrat release that wrote it",
                 path, (long long)version, store__migration_count);
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
static int inspect(const char *path, char *err, size_t errlen)
{
    bool in_use = wal_exists(path);
    int e = inspect_with(path, !in_use, err, errlen);
    if (e == STORE_E_CORRUPT && !in_use && wal_exists(path))
        e = inspect_with(path, false, err, errlen);
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

/* Apply each migration the file lacks; a current file takes no write lock.
 * Another process may be migrating the same file: the version is read
 * again inside each write transaction. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    int64_t current = 0;
    int rc = pragma_int(db, "PRAGMA user_version", &current);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        return map_open_error(rc);
    }
    for (int target = (int)current + 1; target <= store__migration_count; target++) {
        int64_t version = 0;
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = pragma_int(db, "PRAGMA user_version", &version);
        if (rc == SQLITE_OK && version < target) {
            char sql[64];
            snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", target);
            rc = sqlite3_exec(db, store__migrations[target - 1], NULL, NULL, NULL);
            if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        }
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "%s: migration to schema version %d failed: %s", path, target,
                     sqlite3_errmsg(db));
            if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return map_open_error(rc);
        }
    }
    return 0;
}

int store_open(const char *path, int flags, struct store **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) < 0) {
        int saved = errno;
        if (saved != ENOENT || !(flags & STORE_CREATE)) {
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
    int e = inspect(path, err, errlen);
    if (e < 0)
        return e;

    struct store *s = xcalloc(1, sizeof(*s));
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        e = map_open_error(rc);
        goto fail;
    }
    if ((e = configure(s->db, path, err, errlen)) < 0 ||
        (e = migrate(s->db, path, err, errlen)) < 0)
        goto fail;
    for (int i = 0; i < ST__COUNT; i++) {
        rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                                NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s (in: %s)", path, sqlite3_errmsg(s->db), statement_sql[i]);
            e = map_open_error(rc);
            goto fail;
        }
    }
    *out = s;
    return 0;
fail:
    store_close(s);
    return e;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    free(s);
}

int store_schema_version(struct store *s)
{
    sqlite3_stmt *st = s->stmt[ST_USER_VERSION];
    int v = store__row(s, st) == 1 ? sqlite3_column_int(st, 0) : -1;
    store__reset(st);
    return v;
}

int store_schema_latest(void)
{
    return store__migration_count;
}

int64_t store_data_version(struct store *s)
{
    sqlite3_stmt *st = s->stmt[ST_DATA_VERSION];
    int r = store__row(s, st);
    if (r <= 0)
        return r < 0 ? r : STORE_E_IO;
    int64_t v = sqlite3_column_int64(st, 0);
    store__reset(st);
    return v;
}

int store_check(struct store *s, char *err, size_t errlen)
{
    const char *path = sqlite3_db_filename(s->db, "main");
    int rc = run_check(s->db, "PRAGMA integrity_check", path, err, errlen);
    if (rc != SQLITE_OK)
        return rc == SQLITE_CORRUPT ? STORE_E_CORRUPT : store__err(s, rc);
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(err, errlen, "%s: row %lld of table %s refers to a missing row of %s", path,
                 (long long)sqlite3_column_int64(st, 1), sqlite3_column_text(st, 0),
                 sqlite3_column_text(st, 2));
        sqlite3_finalize(st);
        return STORE_E_CORRUPT;
    }
    int e = rc == SQLITE_DONE ? 0 : store__err(s, rc);
    if (e < 0)
        snprintf(err, errlen, "%s: %s", path, s->errmsg);
    sqlite3_finalize(st);
    return e;
}

/* Copy page by page. A busy source is waited for, up to ~5 s in a row. */
static int copy_pages(struct store *s, sqlite3 *dst)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->db, "main");
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

int store_backup(struct store *s, const char *dest, char *err, size_t errlen)
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
        rc = copy_pages(s, dst);
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

/* ---- audit ------------------------------------------------------------ */

int store__audit(struct store *s, int64_t now, const char *actor, const char *action,
                 const char *target, int64_t group_id, int64_t session_id)
{
    if (!actor || !*actor || strlen(actor) > STORE_ACTOR_MAX || !action || !*action ||
        strlen(action) > STORE_ACTOR_MAX || (target && strlen(target) > STORE_TARGET_MAX))
        return STORE_E_INVALID;
    sqlite3_stmt *st = s->stmt[ST_AUDIT_ADD];
    sqlite3_bind_int64(st, 1, now);
    store__bind_text(st, 2, actor);
    store__bind_text(st, 3, action);
    store__bind_text(st, 4, target);
    store__bind_id(st, 5, group_id);
    store__bind_id(st, 6, session_id);
    return store__exec(s, st);
}

int store_audit(struct store *s, int64_t now, const char *actor, const char *action,
                const char *target, int64_t group_id, int64_t session_id)
{
    return store__audit(s, now, actor, action, target, group_id, session_id);
}

static void read_audit_row(sqlite3_stmt *st, void *row)
{
    *(struct store_audit_row *)row = (struct store_audit_row){
        .id = sqlite3_column_int64(st, 0),
        .ts = sqlite3_column_int64(st, 1),
        .actor = store__col_dup(st, 2),
        .action = store__col_dup(st, 3),
        .target = store__col_dup(st, 4),
        .group_id = sqlite3_column_int64(st, 5),
        .session_id = sqlite3_column_int64(st, 6),
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
    sqlite3_stmt *st = s->stmt[ST_AUDIT_QUERY];
    store__bind_id(st, 1, f->group_id);
    sqlite3_bind_int64(st, 2, f->since);
    store__bind_id(st, 3, f->until);
    sqlite3_bind_int(st, 4, f->limit > 0 ? f->limit : 100);
    int e;
    *out = store__rows(s, st, sizeof(**out), read_audit_row, clear_audit_row, n, &e);
    return e;
}

void store_audit_free(struct store_audit_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        clear_audit_row(&rows[i]);
    free(rows);
}
