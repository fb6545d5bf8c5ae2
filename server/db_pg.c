/*
 * db on PostgreSQL through libpq: one connection, statements prepared on
 * the server, every result read whole (the store's results are small).
 *
 * kamrat_meta, one row, is kamrat's mark on the database and holds what
 * SQLite keeps in its file header: the schema version and a data version
 * that every write transaction bumps first. That bump's row lock also
 * makes writers take turns, as SQLite's BEGIN IMMEDIATE does, so the
 * store's read-then-write transactions see what the previous writer
 * committed. A lost connection is made again on the next call outside a
 * transaction, so kamratd outlives a database restart.
 */
#include "db.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_int.h"
#include "store.h"
#include "util.h"

#define MAX_PARAMS 16
#define CONNECT_TIMEOUT "10"     /* seconds; a conninfo may say otherwise */
#define TCP_USER_TIMEOUT "10000" /* ms unacknowledged before a query gives up */
#define RECONNECT_EVERY_MS 5000  /* at most one blocking reconnect attempt per */

/* lock_timeout: a writer waits this long for another, as SQLite's busy
 * timeout; then STORE_E_BUSY. Notices (CREATE ... IF NOT EXISTS) are not
 * for kamrat's logs. */
static const char session_setup[] = "SET lock_timeout = '5s'; SET client_min_messages = warning";

struct pg {
    struct db base;
    PGconn *conn;
    bool in_tx;
    int64_t own_bumps; /* data version bumps this connection committed */
    unsigned statements;
    uint64_t retry_at_ms; /* no reconnect attempt before this (util_now_ms) */
};

struct pg_stmt {
    struct db_stmt base;
    char name[16];
    char *sql; /* with $N parameters */
    int nparams;
    bool prepared; /* on the server, by this connection (not one lost since) */
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    char numbers[MAX_PARAMS][24];
    PGresult *res;
    int row;
    unsigned char *blob; /* column decoded by col_blob, until the next */
};

static struct pg *pg_of(struct db *db)
{
    return (struct pg *)db;
}

static struct pg_stmt *stmt_of(struct db_stmt *st)
{
    return (struct pg_stmt *)st;
}

/* libpq's message, on one line: its messages end in newlines and continue
 * on tab-indented lines. */
static void one_line(char *dst, size_t dstlen, const char *msg)
{
    size_t n = 0;
    for (const char *p = msg ? msg : ""; *p && n + 1 < dstlen; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            if (n && dst[n - 1] != ' ' && p[1])
                dst[n++] = ' ';
        } else {
            dst[n++] = *p;
        }
    }
    while (n && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

/* Map SQLSTATE to a store_err: the same outcomes SQLite's codes give. */
static int map_state(const char *state)
{
    if (!state || strlen(state) != 5)
        return STORE_E_IO;
    if (strcmp(state, "23505") == 0)
        return STORE_E_EXISTS;
    if (strcmp(state, "23503") == 0)
        return STORE_E_NOT_FOUND; /* a missing group or invite, as SQLite's FOREIGNKEY */
    if (strcmp(state, "53100") == 0)
        return STORE_E_FULL;
    if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "57014") == 0)
        return STORE_E_BUSY; /* lock timeout, deadlock, serialization, cancelled */
    if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0 || strcmp(state, "P0001") == 0)
        return STORE_E_INVALID; /* constraints, bad values, audit_append_only() */
    if (strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0)
        return STORE_E_CORRUPT;
    return STORE_E_IO; /* connection, server shutdown, and all else */
}

/* Keep the message of failed result r (or of the connection, for no
 * result) and map it. Only the primary message: the detail may quote row
 * values. */
static int pg_err(struct pg *p, const PGresult *r)
{
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    one_line(p->base.errmsg, sizeof(p->base.errmsg), primary ? primary : PQerrorMessage(p->conn));
    if (PQstatus(p->conn) != CONNECTION_OK)
        return STORE_E_IO;
    return map_state(state);
}

/* Run sql without parameters; 0 with the result in *out (when out is not
 * NULL; the caller PQclears it), or a store_err. */
static int simple(struct pg *p, const char *sql, PGresult **out)
{
    PGresult *r = PQexec(p->conn, sql);
    ExecStatusType t = PQresultStatus(r);
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
        int e = pg_err(p, r);
        PQclear(r);
        return e;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

/* The integer in row 0, column 0 of sql's result. */
static int simple_int(struct pg *p, const char *sql, int64_t *v)
{
    PGresult *r = NULL;
    int e = simple(p, sql, &r);
    if (e < 0)
        return e;
    if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0)) {
        snprintf(p->base.errmsg, sizeof(p->base.errmsg), "no row from: %s", sql);
        e = STORE_E_CORRUPT;
    } else {
        *v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return e;
}

/* A connection lost outside a transaction is made again, and the
 * statements are prepared again as they are next used. Inside one, the
 * transaction is gone: STORE_E_IO, and the caller rolls back. Attempts
 * block (up to the connect timeout), so while the server stays away they
 * are made at most every RECONNECT_EVERY_MS: kamratd polls the store every
 * second on its event loop. */
static int ensure_conn(struct pg *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK)
        return 0;
    uint64_t now = util_now_ms();
    if (!p->in_tx && now >= p->retry_at_ms) {
        p->retry_at_ms = now + RECONNECT_EVERY_MS;
        PQreset(p->conn);
        if (PQstatus(p->conn) == CONNECTION_OK && simple(p, session_setup, NULL) == 0) {
            for (struct db_stmt *st = p->base.stmts; st; st = st->next)
                stmt_of(st)->prepared = false;
            return 0;
        }
    }
    one_line(p->base.errmsg, sizeof(p->base.errmsg), PQerrorMessage(p->conn));
    return STORE_E_IO;
}

/* ---- statements ------------------------------------------------------- */

/* SQLite's ?N parameters as $N, outside quotes. Returns the new text and
 * the highest N in *nparams, or NULL for a bare ? or N out of range. */
static char *rewrite(const char *sql, int *nparams)
{
    size_t len = strlen(sql);
    char *out = xmalloc(len + 1);
    char quote = 0;
    int max = 0;
    size_t n = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '?') {
            char *end;
            long v = strtol(p + 1, &end, 10);
            if (end == p + 1 || v < 1 || v > MAX_PARAMS) {
                free(out);
                return NULL;
            }
            if (v > max)
                max = (int)v;
            out[n++] = '$';
            continue;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    *nparams = max;
    return out;
}

static int prepare_on_server(struct pg *p, struct pg_stmt *st)
{
    PGresult *r = PQprepare(p->conn, st->name, st->sql, 0, NULL);
    int e = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_err(p, r);
    PQclear(r);
    st->prepared = e == 0;
    return e;
}

static int pg_prepare(struct db *db, const char *sql, struct db_stmt **out, char *err,
                      size_t errlen)
{
    struct pg *p = pg_of(db);
    struct pg_stmt *st = xcalloc(1, sizeof(*st));
    st->sql = rewrite(sql, &st->nparams);
    snprintf(st->name, sizeof(st->name), "k%u", p->statements++);
    int e = st->sql ? ensure_conn(p) : STORE_E_INVALID;
    if (e == 0)
        e = prepare_on_server(p, st);
    if (e < 0) {
        snprintf(err, errlen, "%s: %s (in: %s)", db->name, st->sql ? db->errmsg : "bad parameter",
                 sql);
        free(st->sql);
        free(st);
        return e;
    }
    db__adopt(db, &st->base);
    *out = &st->base;
    return 0;
}

static void clear_result(struct pg_stmt *st)
{
    PQfreemem(st->blob);
    st->blob = NULL;
    PQclear(st->res);
    st->res = NULL;
}

static void pg_stmt_free(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);
    clear_result(st);
    free(st->sql);
    free(st);
}

static void bind(struct db_stmt *base, int i, const char *v, int len, int format)
{
    struct pg_stmt *st = stmt_of(base);
    assert(i >= 1 && i <= MAX_PARAMS);
    st->values[i - 1] = v;
    st->lengths[i - 1] = len;
    st->formats[i - 1] = format;
}

static void pg_bind_int64(struct db_stmt *base, int i, int64_t v)
{
    struct pg_stmt *st = stmt_of(base);
    assert(i >= 1 && i <= MAX_PARAMS);
    snprintf(st->numbers[i - 1], sizeof(st->numbers[i - 1]), "%lld", (long long)v);
    bind(base, i, st->numbers[i - 1], 0, 0);
}

static void pg_bind_null(struct db_stmt *st, int i)
{
    bind(st, i, NULL, 0, 0);
}

static void pg_bind_text(struct db_stmt *st, int i, const char *v)
{
    bind(st, i, v, 0, 0);
}

/* Binary format: bytea goes as its bytes, no escaping. */
static void pg_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
    bind(st, i, v, (int)len, 1);
}

static int pg_step(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);
    struct pg *p = pg_of(base->db);
    if (!st->res) {
        int e = ensure_conn(p);
        if (e == 0 && !st->prepared)
            e = prepare_on_server(p, st);
        if (e < 0)
            return e;
        PGresult *r =
            PQexecPrepared(p->conn, st->name, st->nparams, st->values, st->lengths, st->formats, 0);
        ExecStatusType t = PQresultStatus(r);
        if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
            e = pg_err(p, r);
            PQclear(r);
            return e;
        }
        p->base.changes = strtoll(PQcmdTuples(r), NULL, 10);
        st->res = r;
        st->row = -1;
    }
    PQfreemem(st->blob);
    st->blob = NULL;
    return ++st->row < PQntuples(st->res) ? 1 : 0;
}

static void pg_reset(struct db_stmt *base)
{
    struct pg_stmt *st = stmt_of(base);
    clear_result(st);
    memset(st->values, 0, sizeof(st->values));
}

static int pg_col_count(struct db_stmt *st)
{
    return PQnfields(stmt_of(st)->res);
}

static int64_t pg_col_int64(struct db_stmt *base, int i)
{
    struct pg_stmt *st = stmt_of(base);
    if (PQgetisnull(st->res, st->row, i))
        return 0;
    return strtoll(PQgetvalue(st->res, st->row, i), NULL, 10);
}

static const char *pg_col_text(struct db_stmt *base, int i)
{
    struct pg_stmt *st = stmt_of(base);
    return PQgetisnull(st->res, st->row, i) ? NULL : PQgetvalue(st->res, st->row, i);
}

static const void *pg_col_blob(struct db_stmt *base, int i, size_t *len)
{
    struct pg_stmt *st = stmt_of(base);
    PQfreemem(st->blob);
    st->blob = NULL;
    *len = 0;
    if (!PQgetisnull(st->res, st->row, i))
        st->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, i), len);
    return st->blob;
}

/* ---- transactions and raw SQL ----------------------------------------- */

static int pg_exec(struct db *db, const char *sql)
{
    struct pg *p = pg_of(db);
    int e = ensure_conn(p);
    return e < 0 ? e : simple(p, sql, NULL);
}

static int pg_begin(struct db *db)
{
    struct pg *p = pg_of(db);
    int e = ensure_conn(p);
    if (e == 0)
        e = simple(p, "BEGIN ISOLATION LEVEL READ COMMITTED", NULL);
    if (e < 0)
        return e;
    p->in_tx = true;
    e = simple(p, "UPDATE kamrat_meta SET data_version = data_version + 1", NULL);
    if (e < 0)
        db_rollback(db);
    return e;
}

static int pg_commit(struct db *db)
{
    struct pg *p = pg_of(db);
    PGresult *r = NULL;
    /* COMMIT of a failed transaction "succeeds" as ROLLBACK. */
    int e = simple(p, "COMMIT", &r);
    if (e == 0) {
        if (strcmp(PQcmdStatus(r), "COMMIT") == 0) {
            p->own_bumps++;
        } else {
            snprintf(p->base.errmsg, sizeof(p->base.errmsg), "the transaction was rolled back");
            e = STORE_E_IO;
        }
        PQclear(r);
    }
    p->in_tx = false;
    return e;
}

static void pg_rollback(struct db *db)
{
    struct pg *p = pg_of(db);
    if (!p->in_tx)
        return;
    p->in_tx = false;
    if (PQstatus(p->conn) == CONNECTION_OK)
        PQclear(PQexec(p->conn, "ROLLBACK"));
}

/* A column of kamrat_meta's row, reconnecting first when need be. */
static int meta(struct pg *p, const char *sql, int64_t *v)
{
    int e = ensure_conn(p);
    return e < 0 ? e : simple_int(p, sql, v);
}

static int pg_schema_version(struct db *db)
{
    int64_t v = 0;
    int e = meta(pg_of(db), "SELECT schema_version FROM kamrat_meta", &v);
    return e < 0 ? e : (int)v;
}

static int pg_set_schema_version(struct db *db, int version)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "UPDATE kamrat_meta SET schema_version = %d", version);
    return simple(pg_of(db), sql, NULL);
}

/* Less this connection's own bumps: like SQLite's data_version, it moves
 * only for other connections' commits. */
static int64_t pg_data_version(struct db *db)
{
    struct pg *p = pg_of(db);
    int64_t v = 0;
    int e = meta(p, "SELECT data_version FROM kamrat_meta", &v);
    return e < 0 ? e : v - p->own_bumps;
}

/* ---- check and backup ------------------------------------------------- */

static int pg_check(struct db *db, char *err, size_t errlen)
{
    struct pg *p = pg_of(db);
    int64_t rows = 0;
    PGresult *r = NULL;
    int e = meta(p, "SELECT count(*) FROM kamrat_meta", &rows);
    if (e == 0 && rows != 1) {
        snprintf(err, errlen, "%s: kamrat_meta holds %lld rows, not 1", db->name, (long long)rows);
        return STORE_E_CORRUPT;
    }
    /* An index left invalid by a failed CREATE INDEX CONCURRENTLY. */
    if (e == 0)
        e = simple(p,
                   "SELECT i.indexrelid::regclass::text FROM pg_index i "
                   "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n "
                   "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                   "AND NOT i.indisvalid",
                   &r);
    if (e == 0 && PQntuples(r) > 0) {
        snprintf(err, errlen, "%s: index %s is invalid", db->name, PQgetvalue(r, 0, 0));
        PQclear(r);
        return STORE_E_CORRUPT;
    }
    PQclear(r);
    r = NULL;
    /* Read every table whole: a damaged page fails the scan. */
    if (e == 0)
        e = simple(p,
                   "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                   "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                   "AND c.relkind = 'r' ORDER BY 1",
                   &r);
    for (int i = 0; e == 0 && i < PQntuples(r); i++) {
        char *table = PQescapeIdentifier(p->conn, PQgetvalue(r, i, 0), strlen(PQgetvalue(r, i, 0)));
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table ? table : "\"?\"");
        PQfreemem(table);
        e = simple_int(p, sql, &rows);
    }
    PQclear(r);
    if (e < 0)
        snprintf(err, errlen, "%s: %s", db->name, db->errmsg);
    return e;
}

static int pg_backup(struct db *db, const char *dest, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "%s: kamratctl backup copies SQLite databases only; back up PostgreSQL with "
             "pg_dump (docs/admin.md, \"PostgreSQL\")",
             db->name);
    return STORE_E_INVALID;
}

/* ---- opening ---------------------------------------------------------- */

static void quiet(void *arg, const char *message)
{
}

/* What messages call the database: never the password. */
static void describe(struct pg *p)
{
    const char *host = PQhost(p->conn);
    snprintf(p->base.name, sizeof(p->base.name), "postgresql host=%s port=%s dbname=%s user=%s",
             host && *host ? host : "(default)", PQport(p->conn) ? PQport(p->conn) : "",
             PQdb(p->conn) ? PQdb(p->conn) : "", PQuser(p->conn) ? PQuser(p->conn) : "");
}

/*
 * Make sure kamrat_meta is there (creating it, with create, in an empty
 * schema) and that its schema version is one this binary knows.
 */
static int open_meta(struct pg *p, bool create, int max_version, char *err, size_t errlen)
{
    PGresult *r = NULL;
    int e = simple(p,
                   "SELECT count(*) FILTER (WHERE c.relname = 'kamrat_meta'), count(*) "
                   "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
                   &r);
    if (e < 0) {
        snprintf(err, errlen, "%s: %s", p->base.name, p->base.errmsg);
        return e;
    }
    bool has_meta = atoi(PQgetvalue(r, 0, 0)) > 0;
    int tables = atoi(PQgetvalue(r, 0, 1));
    PQclear(r);
    if (!has_meta && !create) {
        snprintf(err, errlen, "%s: holds no kamrat schema yet", p->base.name);
        return STORE_E_NOT_FOUND;
    }
    if (!has_meta && tables > 0) {
        snprintf(err, errlen, "%s: not a kamrat database (it holds other tables)", p->base.name);
        return STORE_E_CORRUPT;
    }
    /* Two processes may create it at once: the advisory lock makes the
     * second wait and then find the table. */
    if (!has_meta &&
        (e = simple(p,
                    "BEGIN; SELECT pg_advisory_xact_lock(1263358548); " /* 'KMRT' */
                    "CREATE TABLE IF NOT EXISTS kamrat_meta ("
                    " id integer PRIMARY KEY CHECK (id = 1),"
                    " schema_version integer NOT NULL,"
                    " data_version bigint NOT NULL); "
                    "INSERT INTO kamrat_meta VALUES (1, 0, 0) ON CONFLICT DO NOTHING; COMMIT",
                    NULL)) < 0) {
        PQclear(PQexec(p->conn, "ROLLBACK"));
        snprintf(err, errlen, "%s: cannot create kamrat_meta: %s", p->base.name, p->base.errmsg);
        return e;
    }
    int64_t version = 0;
    if ((e = simple_int(p, "SELECT schema_version FROM kamrat_meta", &version)) < 0) {
        snprintf(err, errlen, "%s: %s", p->base.name, p->base.errmsg);
        return e;
    }
    if (version < 0) {
        snprintf(err, errlen, "%s: schema version %lld was not written by kamrat", p->base.name,
                 (long long)version);
        return STORE_E_CORRUPT;
    }
    if (version > max_version) {
        snprintf(err, errlen,
                 "%s: schema version %lld is newer than this kamrat knows (%d); "
                 "use the kamrat release that wrote it",
                 p->base.name, (long long)version, max_version);
        return STORE_E_TOO_NEW;
    }
    return 0;
}

static const struct db_ops pg_ops;

int db_open_pg(const char *conninfo, const char *password, bool create, int max_version,
               struct db **out, char *err, size_t errlen)
{
    *out = NULL;
    /* libpq's own complaint about a malformed string may quote it, and the
     * string may hold a password: say only that it is malformed. */
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &why);
    PQfreemem(why);
    if (!opts) {
        snprintf(err, errlen, "postgresql: not a libpq connection string");
        return STORE_E_INVALID;
    }
    PQconninfoFree(opts);

    /* Later keywords win: a conninfo's connect_timeout over ours, the
     * password file's password over a conninfo's. */
    const char *keys[] = {"connect_timeout", "fallback_application_name",  "dbname",
                          "client_encoding", password ? "password" : NULL, NULL};
    const char *values[] = {CONNECT_TIMEOUT, "kamrat", conninfo, "UTF8", password, NULL};
    struct pg *p = xcalloc(1, sizeof(*p));
    p->base.ops = &pg_ops;
    p->conn = PQconnectdbParams(keys, values, 1);
    if (!p->conn) {
        snprintf(err, errlen, "postgresql: out of memory");
        free(p);
        return STORE_E_IO;
    }
    describe(p);
    int e = 0;
    if (PQstatus(p->conn) != CONNECTION_OK) {
        one_line(p->base.errmsg, sizeof(p->base.errmsg), PQerrorMessage(p->conn));
        snprintf(err, errlen, "%s: cannot connect: %s", p->base.name, p->base.errmsg);
        e = STORE_E_IO;
        goto fail;
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    if ((e = simple(p, session_setup, NULL)) < 0) {
        snprintf(err, errlen, "%s: %s", p->base.name, p->base.errmsg);
        goto fail;
    }
    if ((e = open_meta(p, create, max_version, err, errlen)) < 0)
        goto fail;
    *out = &p->base;
    return 0;
fail:
    db_close(&p->base);
    return e;
}

static void pg_close(struct db *db)
{
    PQfinish(pg_of(db)->conn);
    free(db);
}

static const struct db_ops pg_ops = {
    .engine = DB_POSTGRESQL,
    .close = pg_close,
    .prepare = pg_prepare,
    .stmt_free = pg_stmt_free,
    .bind_int64 = pg_bind_int64,
    .bind_null = pg_bind_null,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .reset = pg_reset,
    .col_count = pg_col_count,
    .col_int64 = pg_col_int64,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .schema_version = pg_schema_version,
    .set_schema_version = pg_set_schema_version,
    .data_version = pg_data_version,
    .check = pg_check,
    .backup = pg_backup,
};
