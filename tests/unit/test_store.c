/* store: migrations, refusing bad files untouched, cascades, the invite
 * race, schedule expansion, bans, the audit log, backups and the no-text
 * canary.
 *
 * Run with no argument, every test runs on SQLite. Run with --postgresql,
 * the tests that are not about SQLite's file run on a throw-away
 * PostgreSQL cluster that tests/pg/pgtmp.sh starts and stops (skipped, as
 * TAP "1..0 # SKIP", when PostgreSQL's binaries are missing), plus the
 * PostgreSQL error paths: server down, failed login, a too new schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "db.h"
#include "store.h"
#include "store_int.h" /* white box: the connection, for pragmas and raw SQL */
#include "util.h"

#define ACTOR "admin:test"
#define PHC                                                                                        \
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"                                       \
    "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
/* Monday 2026-03-02 00:00 UTC: Europe/Helsinki changes to summer time on
 * Sunday 2026-03-29, inside the default eight-week horizon. */
#define T0 INT64_C(1772409600)
#define DAY INT64_C(86400)
#define WEEK (7 * DAY)

struct fixture {
    char dir[64];
    char path[96];
    struct store *s;
};

/* --postgresql: the throw-away cluster's connection string (its role's
 * password in pg_password, as an admin's password file would hold it). */
static bool pg;
static char pg_dir[256], pg_conninfo[512], pg_password[64];

/* An empty public schema for the next test: each starts from nothing, as
 * each SQLite test has a new file. */
static int pg_clear(void)
{
    const char *keys[] = {"dbname", "password", NULL};
    const char *values[] = {pg_conninfo, pg_password, NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1);
    PGresult *r = PQexec(c, "SET client_min_messages = warning; "
                            "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "# %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

/* Another connection to the fixture's database, as another process has. */
static int open_other(struct fixture *f, int flags, struct store **out)
{
    char err[512];
    int e = pg ? store_open_pg(pg_conninfo, pg_password, flags, out, err, sizeof(err))
               : store_open(f->path, flags, out, err, sizeof(err));
    if (e < 0)
        fprintf(stderr, "# %s\n", err);
    return e;
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/kamrat-test-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/kamrat.db", f->dir);
    if ((pg && pg_clear() < 0) || open_other(f, STORE_CREATE, &f->s) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* One integer from SQL run on the store's own connection. */
static int64_t sql_int(struct store *s, const char *sql)
{
    int64_t v = 0;
    assert_int_equal(db_query_int(s->db, sql, &v), 0);
    return v;
}

/* Raw SQL on the store's own connection: 0 or a store_err. */
static int sql_exec(struct store *s, const char *sql)
{
    return db_exec(s->db, sql);
}

/* The names of kamrat's tables, for either engine's catalogue. */
#define TABLES                                                                                     \
    "('groups', 'leaders', 'group_leaders', 'schedules', 'sessions', 'invites', 'bans', 'audit')"

static int64_t table_count(struct store *s)
{
    return sql_int(s, pg ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                           "current_schema() AND table_name IN " TABLES
                         : "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                           "name IN " TABLES);
}

static int64_t add_group(struct store *s, const char *name)
{
    struct store_group g;
    store_group_defaults(&g);
    g.name = xstrdup(name);
    memcpy(g.language, "fi", 3);
    int64_t id = 0;
    assert_int_equal(store_group_add(s, T0, ACTOR, &g, &id), 0);
    store_group_clear(&g);
    assert_true(id > 0);
    return id;
}

static void hash_of(int n, uint8_t out[STORE_HASH_LEN])
{
    memset(out, 0, STORE_HASH_LEN);
    memcpy(out, &n, sizeof(n));
    out[STORE_HASH_LEN - 1] = 0xa5;
}

/* ---- opening ---------------------------------------------------------- */

static void migrates_from_empty(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_schema_version(f->s), store_schema_latest());
    assert_true(store_schema_latest() >= 1);
    assert_int_equal(table_count(f->s), 8);
    if (pg)
        return;
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void pragmas_hold(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sql_int(f->s, "PRAGMA secure_delete"), 1);
    assert_int_equal(sql_int(f->s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(sql_int(f->s, "PRAGMA synchronous"), 2);
    assert_int_equal(sql_int(f->s, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

static void reopening_changes_nothing(void **state)
{
    struct fixture *f = *state;
    add_group(f->s, "Keskiviikon ryhmä");
    int64_t audit = sql_int(f->s, "SELECT count(*) FROM audit");
    store_close(f->s);
    assert_int_equal(open_other(f, 0, &f->s), 0);
    assert_int_equal(store_schema_version(f->s), store_schema_latest());
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM groups"), 1);
    assert_int_equal(sql_int(f->s, "SELECT count(*) FROM audit"), audit);
}

static void missing_file_needs_create(void **state)
{
    struct fixture *f = *state;
    char path[128], err[512];
    snprintf(path, sizeof(path), "%s/absent.db", f->dir);
    struct store *s = NULL;
    assert_int_equal(store_open(path, 0, &s, err, sizeof(err)), STORE_E_NOT_FOUND);
    assert_null(s);
    assert_int_equal(access(path, F_OK), -1);
}

struct snapshot {
    char *bytes;
    size_t len;
    struct timespec mtime;
};

static void take(const char *path, struct snapshot *snap)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    snap->mtime = sb.st_mtim;
    snap->bytes = util_read_file(path, 64 << 20, &snap->len);
    assert_non_null(snap->bytes);
}

/* store_open must refuse path with want, leaving it byte for byte as it was
 * and its mtime unchanged, and say why in words containing `words`. */
static void expect_refused(const char *path, int want, const char *words)
{
    struct snapshot before, after;
    take(path, &before);
    char err[512] = "";
    struct store *s = NULL;
    int rc = store_open(path, STORE_CREATE, &s, err, sizeof(err));
    assert_int_equal(rc, want);
    assert_null(s);
    if (!strstr(err, words) || !strstr(err, path))
        fail_msg("error '%s' lacks '%s' or the path", err, words);
    take(path, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.bytes, after.bytes, before.len);
    assert_true(before.mtime.tv_sec == after.mtime.tv_sec &&
                before.mtime.tv_nsec == after.mtime.tv_nsec);
    /* Nor did anything appear beside it. */
    char side[256];
    snprintf(side, sizeof(side), "%s-wal", path);
    assert_int_equal(access(side, F_OK), -1);
    snprintf(side, sizeof(side), "%s-shm", path);
    assert_int_equal(access(side, F_OK), -1);
    free(before.bytes);
    free(after.bytes);
}

static void newer_schema_refused_untouched(void **state)
{
    struct fixture *f = *state;
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_latest() + 1);
    assert_int_equal(sql_exec(f->s, sql), 0);
    store_close(f->s);
    f->s = NULL;
    expect_refused(f->path, STORE_E_TOO_NEW, "newer");

    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = -1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_refused(f->path, STORE_E_CORRUPT, "not written by kamrat");
}

/* A file at schema version 4 opens at the latest with its leaders still
 * leaders (migration 6 gives old accounts the leader's role). */
static void upgrades_version_4_leaders_stay_leaders(void **state)
{
    struct fixture *f = *state;
    char path[128], err[512];
    snprintf(path, sizeof(path), "%s/v4.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_true(store__migration_count >= 5);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sqlite3_exec(db, store__migrations[i], NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA user_version = 4;"
                                  "INSERT INTO leaders(id, username, password_hash, created_at) "
                                  "VALUES(3, 'vanha', '$x', 1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    struct store *s;
    assert_int_equal(store_open(path, 0, &s, err, sizeof(err)), 0);
    assert_int_equal(store_schema_version(s), store_schema_latest());
    struct store_leader l;
    assert_int_equal(store_leader_get(s, "vanha", &l), 0);
    assert_int_equal(l.role, STORE_ROLE_LEADER);
    assert_int_equal(l.id, 3);
    store_close(s);
}

/* A file that kamrat 0.x left at schema version 1, holding a group, a
 * personal invite and a ban of it, opens at the latest version with all
 * three kept; the ban gets the empty pseudonym migration 2 gives old rows. */
static void upgrades_version_1_keeping_bans(void **state)
{
    struct fixture *f = *state;
    char path[128], err[512];
    snprintf(path, sizeof(path), "%s/v1.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_true(store__migration_count >= 2);
    assert_int_equal(sqlite3_exec(db, store__migrations[0], NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "PRAGMA user_version = 1;"
            "INSERT INTO groups(id, name, language, created_at) VALUES(7, 'Vanha', 'fi', 1);"
            "INSERT INTO invites(id, group_id, code_hash, kind, created_at, expires_at) "
            "VALUES(3, 7, zeroblob(32), 'personal', 1, 2);"
            "INSERT INTO bans(group_id, invite_id, created_at, created_by) "
            "VALUES(7, 3, 5, 'leader:aino');",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    struct store *s;
    assert_int_equal(store_open(path, 0, &s, err, sizeof(err)), 0);
    assert_int_equal(store_schema_version(s), store_schema_latest());
    struct store_ban *v;
    size_t n;
    assert_int_equal(store_ban_list(s, 7, true, 0, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].invite_id, 3);
    assert_false(v[0].has_key);
    assert_string_equal(v[0].name, "");
    assert_string_equal(v[0].created_by, "leader:aino");
    assert_int_equal(v[0].created_at, 5);
    assert_int_equal(v[0].lifted_at, 0);
    int64_t ban;
    assert_int_equal(store_ban_find(s, 7, 3, NULL, &ban), 0);
    assert_int_equal(ban, v[0].id);
    store_ban_list_free(v, n);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'bans_group_key'"),
                     1);
    assert_int_equal(store_check(s, err, sizeof(err)), 0);
    store_close(s);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void garbage_refused_untouched(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
    unsigned char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    write_file(path, junk, sizeof(junk));
    expect_refused(path, STORE_E_CORRUPT, "not a database");

    snprintf(path, sizeof(path), "%s/text.db", f->dir);
    write_file(path, "[server]\norigin = https://x\n", 28);
    expect_refused(path, STORE_E_CORRUPT, "not a database");
}

static void foreign_database_refused_untouched(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/other.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    expect_refused(path, STORE_E_CORRUPT, "not a kamrat database");
}

static void truncated_copy_refused_untouched(void **state)
{
    struct fixture *f = *state;
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "Ryhmä %03d", i);
        add_group(f->s, name);
    }
    store_close(f->s); /* the last close checkpoints the WAL into the file */
    f->s = NULL;
    size_t len;
    char *bytes = util_read_file(f->path, 64 << 20, &len);
    assert_non_null(bytes);
    assert_true(len >= 4 * 4096);
    char path[128];
    snprintf(path, sizeof(path), "%s/truncated.db", f->dir);
    write_file(path, bytes, len / 2);
    free(bytes);
    expect_refused(path, STORE_E_CORRUPT, "malformed");
}

/* ---- groups, leaders, validation -------------------------------------- */

static void groups_and_leaders(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t g1 = add_group(s, "Tiistai");
    struct store_group g;
    store_group_defaults(&g);
    g.name = xstrdup("TIISTAI");
    memcpy(g.language, "sv", 3);
    assert_int_equal(store_group_add(s, T0, ACTOR, &g, NULL), STORE_E_EXISTS);
    memcpy(g.language, "de", 3);
    free(g.name);
    g.name = xstrdup("Other");
    assert_int_equal(store_group_add(s, T0, ACTOR, &g, NULL), STORE_E_INVALID);
    store_group_clear(&g);

    char long_name[STORE_GROUP_NAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    const char *bad_names[] = {"", " lead", "trail ", "tab\there", "\xc3\x28", long_name};
    store_group_defaults(&g);
    memcpy(g.language, "en", 3);
    for (size_t i = 0; i < ARRAY_LEN(bad_names); i++) {
        g.name = (char *)bad_names[i];
        assert_string_equal(store_group_invalid(&g), "name");
    }
    g.name = "Nuorten vertaistuki – ryhmä 2";
    assert_null(store_group_invalid(&g));
    long_name[STORE_GROUP_NAME_MAX] = '\0';
    g.name = long_name;
    assert_null(store_group_invalid(&g));
    /* The longest name in bytes still fits its audit row. */
    char wide[STORE_GROUP_NAME_MAX * 4 + 1] = "";
    for (int i = 0; i < STORE_GROUP_NAME_MAX; i++)
        strcat(wide, "\xf0\x9f\x8c\xb1"); /* U+1F331 seedling */
    g.name = wide;
    assert_int_equal(store_group_add(s, T0, ACTOR, &g, NULL), 0);
    memcpy(g.history, "forever", 8);
    assert_string_equal(store_group_invalid(&g), "history");
    g.name = NULL;
    store_group_clear(&g);

    assert_int_equal(store_group_get(s, "tiistai", &g), 0);
    assert_int_equal(g.id, g1);
    assert_string_equal(g.history, "since_admitted");
    assert_int_equal(g.max_participants, 12);
    g.max_participants = 8;
    memcpy(g.private_messages, "off", 4);
    free(g.agreement);
    g.agreement = xstrdup("1. Luottamuksellisuus\n2. Kunnioitus\n");
    assert_int_equal(store_group_edit(s, T0, ACTOR, &g), 0);
    store_group_clear(&g);
    assert_int_equal(store_group_get_id(s, g1, &g), 0);
    assert_int_equal(g.max_participants, 8);
    assert_string_equal(g.private_messages, "off");
    assert_string_equal(g.agreement, "1. Luottamuksellisuus\n2. Kunnioitus\n");
    g.max_participants = 501;
    assert_int_equal(store_group_edit(s, T0, ACTOR, &g), STORE_E_INVALID);
    store_group_clear(&g);
    assert_int_equal(store_group_get(s, "nobody", &g), STORE_E_NOT_FOUND);

    assert_false(store_username_valid("al"));
    assert_false(store_username_valid("Alice"));
    assert_false(store_username_valid("alice smith"));
    assert_false(store_username_valid("a23456789012345678901234567890123"));
    assert_true(store_username_valid("alice.s_1-x"));
    int64_t alice = 0;
    assert_int_equal(store_leader_add(s, T0, ACTOR, "alice", PHC, &alice), 0);
    assert_int_equal(store_leader_add(s, T0, ACTOR, "alice", PHC, NULL), STORE_E_EXISTS);
    assert_int_equal(store_leader_add(s, T0, ACTOR, "Bob", PHC, NULL), STORE_E_INVALID);
    assert_int_equal(store_leader_add(s, T0, ACTOR, "bob", "plain", NULL), STORE_E_INVALID);

    struct store_leader l;
    assert_int_equal(store_leader_get(s, "ALICE", &l), 0);
    assert_string_equal(l.password_hash, PHC);
    assert_false(l.disabled);
    assert_int_equal(store_leader_set_password(s, T0, ACTOR, alice, "$new$hash"), 0);
    assert_int_equal(store_leader_set_disabled(s, T0, ACTOR, alice, true), 0);
    assert_int_equal(store_leader_set_disabled(s, T0, ACTOR, alice, true), STORE_E_INVALID);
    assert_int_equal(store_leader_get(s, "alice", &l), 0);
    assert_string_equal(l.password_hash, "$new$hash");
    assert_true(l.disabled);

    assert_int_equal(store_group_leader_add(s, T0, ACTOR, g1, alice), 0);
    assert_int_equal(store_group_leader_add(s, T0, ACTOR, g1, alice), STORE_E_EXISTS);
    assert_int_equal(store_group_leader_add(s, T0, ACTOR, g1 + 100, alice), STORE_E_NOT_FOUND);
    struct store_leader *ls;
    struct store_group *gs;
    size_t n;
    assert_int_equal(store_group_leaders(s, g1, &ls, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ls[0].username, "alice");
    assert_string_equal(ls[0].password_hash, "");
    free(ls);
    assert_int_equal(store_leader_groups(s, alice, &gs, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(gs[0].name, "Tiistai");
    store_group_list_free(gs, n);
    assert_int_equal(store_group_leader_remove(s, T0, ACTOR, g1, alice), 0);
    assert_int_equal(store_group_leader_remove(s, T0, ACTOR, g1, alice), STORE_E_NOT_FOUND);
}

/* ---- cascades --------------------------------------------------------- */

/* A new password and disabling end every login of the leader, in the
 * store the nodes share: login_gen moves on, and a login made under an older
 * one is neither found nor kept by the sweep. A rehash after a login moves
 * nothing, and loses to a new password set meanwhile. */
static void logins_end_with_a_new_password_or_disabling(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t id = 0;
    assert_int_equal(store_leader_add(s, T0, ACTOR, "erkki", PHC, &id), 0);
    struct store_leader l;
    assert_int_equal(store_leader_get(s, "erkki", &l), 0);
    assert_int_equal(l.login_gen, 0);
    uint8_t a[STORE_HASH_LEN], b[STORE_HASH_LEN];
    hash_of(1, a);
    hash_of(2, b);
    struct store_login sl;
    const int64_t ms = T0 * 1000;
    assert_int_equal(store_login_add(s, a, id, 0, ms), 0);
    assert_int_equal(store_login_find(s, a, &sl), 0);
    assert_int_equal(sl.login_gen, 0);

    assert_int_equal(store_leader_rehash(s, T0, ACTOR, id, 0, "$rehashed$"), 0);
    assert_int_equal(store_login_find(s, a, &sl), 0); /* the same password */
    assert_int_equal(store_leader_set_password(s, T0, ACTOR, id, "$new$hash"), 0);
    assert_int_equal(store_login_find(s, a, &sl), STORE_E_NOT_FOUND);
    assert_int_equal(store_leader_rehash(s, T0, ACTOR, id, 0, "$late$"), STORE_E_NOT_FOUND);
    assert_int_equal(store_leader_get(s, "erkki", &l), 0);
    assert_string_equal(l.password_hash, "$new$hash");
    assert_int_equal(l.login_gen, 1);

    assert_int_equal(store_login_add(s, b, id, 1, ms), 0);
    assert_int_equal(store_login_find(s, b, &sl), 0);
    assert_int_equal(store_leader_set_disabled(s, T0, ACTOR, id, true), 0);
    assert_int_equal(store_leader_set_disabled(s, T0, ACTOR, id, false), 0);
    assert_int_equal(store_login_find(s, b, &sl), STORE_E_NOT_FOUND); /* enabling revives none */
    assert_int_equal(store_leader_get(s, "erkki", &l), 0);
    assert_int_equal(l.login_gen, 2);

    /* Neither is expired; the sweep takes both all the same. */
    assert_int_equal(sql_int(s, "SELECT count(*) FROM logins"), 2);
    assert_int_equal(store_login_sweep(s, ms - 1, ms - 1), 0);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM logins"), 0);
    wipe(&l, sizeof(l));
}

/* A removed account takes its group links and logins with it; the audit
 * log keeps its name, and the name may be used again. */
static void removing_a_leader_cascades_but_audit_stays(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Lähtevä");
    int64_t id;
    assert_int_equal(store_leader_add(s, T0, ACTOR, "dora", PHC, &id), 0);
    assert_int_equal(store_group_leader_add(s, T0, ACTOR, gid, id), 0);
    uint8_t h[STORE_HASH_LEN];
    hash_of(7, h);
    assert_int_equal(store_login_add(s, h, id, 0, T0 * 1000), 0);

    assert_int_equal(store_leader_remove(s, T0, ACTOR, id), 0);
    assert_int_equal(store_leader_remove(s, T0, ACTOR, id), STORE_E_NOT_FOUND);
    struct store_leader l;
    assert_int_equal(store_leader_get(s, "dora", &l), STORE_E_NOT_FOUND);
    struct store_login sl;
    assert_int_equal(store_login_find(s, h, &sl), STORE_E_NOT_FOUND);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM group_leaders"), 0);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM logins"), 0);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM audit WHERE action = 'leader_remove' "
                                "AND target = 'dora'"),
                     1);
    assert_int_equal(store_leader_add(s, T0, ACTOR, "dora", PHC, &id), 0);
}

static void removing_a_group_cascades_but_audit_stays(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Poistuva");
    int64_t keep = add_group(s, "Jää");
    int64_t lid;
    assert_int_equal(store_leader_add(s, T0, ACTOR, "carol", PHC, &lid), 0);
    assert_int_equal(store_group_leader_add(s, T0, ACTOR, gid, lid), 0);
    assert_int_equal(store_group_leader_add(s, T0, ACTOR, keep, lid), 0);
    struct store_schedule sc = {.group_id = gid,
                                .weekday = 3,
                                .minute_of_day = 17 * 60,
                                .duration_min = 90,
                                .lobby_min = 15,
                                .tz = "Europe/Helsinki",
                                .starts_on = T0};
    assert_int_equal(store_schedule_add(s, T0, ACTOR, &sc, NULL), 0);
    assert_true(store_expand_schedules(s, T0, STORE_HORIZON) > 0);
    struct store_session one = {
        .group_id = gid, .starts_at = T0 + DAY, .ends_at = T0 + DAY + 3600, .tz = "UTC"};
    assert_int_equal(store_session_add(s, T0, ACTOR, &one, NULL), 0);
    uint8_t h[STORE_HASH_LEN];
    hash_of(1, h);
    assert_int_equal(store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_GROUP, h, T0 + WEEK, NULL),
                     0);
    hash_of(2, h);
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, keep, STORE_INVITE_GROUP, h, T0 + WEEK, NULL), 0);
    char sql[160];
    snprintf(sql, sizeof(sql),
             "INSERT INTO bans(group_id, created_at, created_by) VALUES(%lld, 1, 'leader:carol')",
             (long long)gid);
    assert_int_equal(sql_exec(s, sql), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE group_id = %lld", (long long)gid);
    int64_t audit_rows = sql_int(s, sql);

    assert_int_equal(store_group_remove(s, T0, ACTOR, gid), 0);
    assert_int_equal(store_group_remove(s, T0, ACTOR, gid), STORE_E_NOT_FOUND);
    const char *tables[] = {"schedules", "sessions", "invites", "group_leaders", "bans"};
    for (size_t i = 0; i < ARRAY_LEN(tables); i++) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE group_id = %lld", tables[i],
                 (long long)gid);
        assert_int_equal(sql_int(s, sql), 0);
    }
    assert_int_equal(sql_int(s, "SELECT count(*) FROM group_leaders"), 1);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM invites"), 1);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM leaders"), 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE group_id = %lld", (long long)gid);
    assert_int_equal(sql_int(s, sql), audit_rows + 1);
    char err[256];
    assert_int_equal(store_check(s, err, sizeof(err)), 0);
}

/* ---- invites ---------------------------------------------------------- */

static void invite_failures_look_alike(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Kutsut");
    uint8_t h[STORE_HASH_LEN];
    int64_t g, inv, used, revoked;

    hash_of(10, h);
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_PERSONAL, h, T0 + DAY, &used), 0);
    assert_int_equal(store_redeem_invite(s, h, T0 + 60, &g, &inv), 0);
    assert_int_equal(g, gid);
    assert_int_equal(inv, used);
    assert_int_equal(store_redeem_invite(s, h, T0 + 61, &g, &inv), STORE_E_NOT_FOUND); /* used */

    hash_of(11, h);
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_PERSONAL, h, T0 + DAY, NULL), 0);
    assert_int_equal(store_redeem_invite(s, h, T0 + DAY, &g, &inv), STORE_E_NOT_FOUND); /* exp. */

    hash_of(12, h);
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_PERSONAL, h, T0 + DAY, &revoked), 0);
    assert_int_equal(store_invite_revoke(s, T0, ACTOR, revoked), 0);
    assert_int_equal(store_invite_revoke(s, T0, ACTOR, revoked), STORE_E_INVALID);
    assert_int_equal(store_redeem_invite(s, h, T0 + 1, &g, &inv), STORE_E_NOT_FOUND);

    hash_of(13, h);
    assert_int_equal(store_redeem_invite(s, h, T0 + 1, &g, &inv), STORE_E_NOT_FOUND); /* unknown */

    /* Only lookup, for the gate's ban check, sees them all, as they are. */
    struct store_invite found;
    assert_int_equal(store_invite_lookup(s, h, &found), STORE_E_NOT_FOUND);
    const struct {
        int n;
        int64_t id; /* 0: any */
        enum store_invite_state st;
    } inactive[] = {{10, used, STORE_INVITE_USED},
                    {11, 0, STORE_INVITE_EXPIRED},
                    {12, revoked, STORE_INVITE_REVOKED}};
    for (size_t i = 0; i < ARRAY_LEN(inactive); i++) {
        hash_of(inactive[i].n, h);
        assert_int_equal(store_invite_lookup(s, h, &found), 0);
        assert_true(inactive[i].id == 0 || found.id == inactive[i].id);
        assert_int_equal(found.group_id, gid);
        assert_int_equal(found.kind, STORE_INVITE_PERSONAL);
        assert_int_equal(store_invite_state(&found, T0 + DAY), inactive[i].st);
    }

    /* A group invite admits many until it expires or is revoked. */
    hash_of(14, h);
    int64_t group_inv;
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_GROUP, h, T0 + DAY, &group_inv), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(store_redeem_invite(s, h, T0 + i, &g, &inv), 0);
    assert_int_equal(store_redeem_invite(s, h, T0 + DAY, &g, &inv), STORE_E_NOT_FOUND);
    assert_int_equal(store_invite_revoke(s, T0, ACTOR, group_inv), 0);
    assert_int_equal(store_redeem_invite(s, h, T0 + 10, &g, &inv), STORE_E_NOT_FOUND);

    assert_int_equal(store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_GROUP, h, T0 + DAY, NULL),
                     STORE_E_EXISTS);
    hash_of(15, h);
    assert_int_equal(store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_GROUP, h, T0, NULL),
                     STORE_E_INVALID);

    struct store_invite *v;
    size_t n;
    assert_int_equal(store_invite_list(s, gid, &v, &n), 0);
    assert_int_equal(n, 4);
    int states[4] = {0};
    for (size_t i = 0; i < n; i++)
        states[store_invite_state(&v[i], T0 + 100)]++;
    free(v);
    assert_int_equal(states[STORE_INVITE_USED], 1);
    assert_int_equal(states[STORE_INVITE_REVOKED], 2);
    assert_int_equal(states[STORE_INVITE_ACTIVE], 1);
    assert_int_equal(states[STORE_INVITE_EXPIRED], 0);
}

/* An invite keeps who made it, lasts at most STORE_INVITE_DAYS_MAX days,
 * and a revoke for one group leaves another group's invites alone. */
static void invite_maker_limit_and_group(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Tekijä"), other = add_group(s, "Toinen");
    uint8_t h[STORE_HASH_LEN];
    int64_t mine, theirs;

    hash_of(20, h);
    assert_int_equal(store_invite_create(s, T0, "leader:aino", gid, STORE_INVITE_GROUP, h,
                                         T0 + STORE_INVITE_DAYS_MAX * DAY + 1, NULL),
                     STORE_E_INVALID);
    assert_int_equal(store_invite_create(s, T0, "leader:aino", gid, STORE_INVITE_GROUP, h,
                                         T0 + STORE_INVITE_DAYS_MAX * DAY, &mine),
                     0);
    hash_of(21, h);
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, other, STORE_INVITE_PERSONAL, h, T0 + DAY, &theirs), 0);

    struct store_invite *v;
    size_t n;
    assert_int_equal(store_invite_list(s, gid, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].created_by, "leader:aino");
    free(v);

    struct store_invite out = {0};
    assert_int_equal(store_invite_revoke_in(s, T0 + 5, "leader:aino", gid, theirs, &out),
                     STORE_E_NOT_FOUND);
    assert_int_equal(store_invite_revoke_in(s, T0 + 5, "leader:eero", gid, mine, &out), 0);
    assert_int_equal(out.id, mine);
    assert_int_equal(out.revoked_at, T0 + 5);
    assert_string_equal(out.created_by, "leader:aino");
    assert_int_equal(store_invite_state(&out, T0 + 6), STORE_INVITE_REVOKED);
    assert_int_equal(store_invite_revoke_in(s, T0 + 6, "leader:eero", gid, mine, NULL),
                     STORE_E_INVALID);
    assert_int_equal(store_invite_list(s, other, &v, &n), 0);
    assert_int_equal(store_invite_state(&v[0], T0 + 6), STORE_INVITE_ACTIVE);
    free(v);
}

#define RACERS 8
#define ROUNDS 50

/* Each round: RACERS processes, each with its own connection, wait at a
 * pipe and then redeem the same personal invite once. Exactly one wins. */
static void invite_race_has_one_winner(void **state)
{
    struct fixture *f = *state;
    int64_t gid = add_group(f->s, "Kilpa");
    for (int round = 0; round < ROUNDS; round++) {
        uint8_t h[STORE_HASH_LEN];
        hash_of(1000 + round, h);
        assert_int_equal(
            store_invite_create(f->s, T0, ACTOR, gid, STORE_INVITE_PERSONAL, h, T0 + DAY, NULL), 0);
        int gate[2], ready[2];
        assert_int_equal(pipe(gate), 0);
        assert_int_equal(pipe(ready), 0);
        pid_t pids[RACERS];
        for (int i = 0; i < RACERS; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                close(gate[1]);
                close(ready[0]);
                struct store *s;
                char c, code = '3';
                if (open_other(f, 0, &s) == 0) {
                    if (write(ready[1], "r", 1) == 1 && read(gate[0], &c, 1) == 0) {
                        int64_t g, inv;
                        int rc = store_redeem_invite(s, h, T0 + 1, &g, &inv);
                        code = rc == 0 ? '0' : rc == STORE_E_NOT_FOUND ? '1' : '2';
                    }
                    store_close(s);
                }
                /* The outcome goes through the pipe, not the exit status,
                 * which valgrind replaces with its own when it reports the
                 * parent's memory this child inherited. */
                _exit(write(ready[1], &code, 1) == 1 ? 0 : 9);
            }
        }
        close(gate[0]);
        close(ready[1]);
        char c;
        for (int i = 0; i < RACERS; i++) {
            assert_int_equal(read(ready[0], &c, 1), 1);
            assert_int_equal(c, 'r');
        }
        close(gate[1]); /* every racer's read returns 0 at once */
        int winners = 0, losers = 0;
        for (int i = 0; i < RACERS; i++) {
            assert_int_equal(read(ready[0], &c, 1), 1);
            if (c == '0')
                winners++;
            else if (c == '1')
                losers++;
            else
                fail_msg("round %d: a racer failed with %c", round, c);
        }
        close(ready[0]);
        for (int i = 0; i < RACERS; i++) {
            int status;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status));
        }
        assert_int_equal(winners, 1);
        assert_int_equal(losers, RACERS - 1);
    }
}

/* ---- schedules -------------------------------------------------------- */

static size_t count_sessions(struct store *s, int64_t gid, struct store_session **out)
{
    struct store_session *v;
    size_t n;
    assert_int_equal(store_session_list(s, gid, INT64_MIN, &v, &n), 0);
    if (out)
        *out = v;
    else
        free(v);
    return n;
}

static void expansion_is_idempotent_and_bounded(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Maanantai");
    /* Mondays 18:00 in Helsinki: 16:00 UTC in winter, 15:00 UTC in summer. */
    struct store_schedule sc = {.group_id = gid,
                                .weekday = 1,
                                .minute_of_day = 18 * 60,
                                .duration_min = 90,
                                .lobby_min = 15,
                                .tz = "Europe/Helsinki",
                                .starts_on = T0};
    int64_t sid;
    assert_int_equal(store_schedule_add(s, T0, ACTOR, &sc, &sid), 0);
    assert_int_equal(store_expand_schedules(s, T0, STORE_HORIZON), 8);
    struct store_session *first, *second;
    assert_int_equal(count_sessions(s, gid, &first), 8);
    assert_int_equal(first[0].starts_at, T0 + 16 * 3600);
    assert_int_equal(first[0].ends_at, T0 + 16 * 3600 + 90 * 60);
    assert_int_equal(first[4].starts_at, T0 + 4 * WEEK + 15 * 3600); /* March 30, EEST */
    assert_int_equal(first[0].schedule_id, sid);
    assert_string_equal(first[0].tz, "Europe/Helsinki");

    assert_int_equal(store_expand_schedules(s, T0, STORE_HORIZON), 0);
    assert_int_equal(count_sessions(s, gid, &second), 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(second[i].id, first[i].id);
        assert_int_equal(second[i].starts_at, first[i].starts_at);
        assert_int_equal(second[i].ends_at, first[i].ends_at);
        assert_int_equal(second[i].schedule_id, first[i].schedule_id);
        assert_int_equal(second[i].cancelled_at, 0);
    }
    free(second);

    /* A cancelled occurrence stays cancelled and is not made again. */
    assert_int_equal(store_session_cancel(s, T0, ACTOR, first[1].id), 0);
    assert_int_equal(store_session_cancel(s, T0, ACTOR, first[1].id), STORE_E_INVALID);
    assert_int_equal(store_expand_schedules(s, T0 + WEEK, STORE_HORIZON), 1);
    assert_int_equal(count_sessions(s, gid, &second), 9);
    assert_int_equal(second[1].id, first[1].id);
    assert_int_equal(store_session_state(&second[1], T0), STORE_SESSION_CANCELLED);
    free(second);

    /* until bounds the expansion: three Mondays before it. */
    sc.weekday = 3;
    sc.until = T0 + 3 * WEEK;
    int64_t gid2 = add_group(s, "Keskiviikko");
    sc.group_id = gid2;
    assert_int_equal(store_schedule_add(s, T0, ACTOR, &sc, NULL), 0);
    assert_int_equal(store_expand_schedules(s, T0, STORE_HORIZON), 3);
    assert_int_equal(count_sessions(s, gid2, NULL), 3);
    sc.until = sc.starts_on;
    assert_int_equal(store_schedule_add(s, T0, ACTOR, &sc, NULL), STORE_E_INVALID);
    sc.until = 0;
    memcpy(sc.tz, "Mars/Olympus", 13);
    assert_int_equal(store_schedule_add(s, T0, ACTOR, &sc, NULL), STORE_E_INVALID);

    /* Removing the schedule drops its sessions that have not started and
     * keeps the ones held, as one-offs. */
    int64_t later = first[2].starts_at + 60;
    assert_int_equal(store_schedule_remove(s, later, ACTOR, sid), 0);
    assert_int_equal(store_schedule_remove(s, later, ACTOR, sid), STORE_E_NOT_FOUND);
    assert_int_equal(count_sessions(s, gid, &second), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(second[i].id, first[i].id);
        assert_int_equal(second[i].schedule_id, 0);
    }
    free(second);
    free(first);
}

/* The cluster's routing finds a hello's session from its invite in one
 * query: only an active invite of a group with a session in its lobby or
 * running leads anywhere, and every other answer looks alike. */
static void invite_leads_to_the_open_session(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Reitti");
    uint8_t h[STORE_HASH_LEN];
    int64_t sid = -1, late, early, inv;
    hash_of(20, h);
    assert_int_equal(store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_GROUP, h, T0 + DAY, &inv),
                     0);
    assert_int_equal(store_invite_session(s, h, T0, &sid), STORE_E_NOT_FOUND); /* none planned */

    struct store_session se = {.group_id = gid,
                               .starts_at = T0 + 7200,
                               .ends_at = T0 + 7200 + 3600,
                               .lobby_min = 10,
                               .tz = "Europe/Helsinki"};
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &late), 0);
    se.starts_at = T0 + 3600;
    se.ends_at = T0 + 3600 + 1800;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &early), 0);
    assert_int_equal(store_invite_session(s, h, T0, &sid), STORE_E_NOT_FOUND); /* scheduled */
    assert_int_equal(store_invite_session(s, h, T0 + 3600 - 600, &sid), 0);    /* lobby */
    assert_int_equal(sid, early);
    assert_int_equal(store_invite_session(s, h, T0 + 6600, &sid), 0); /* the second's lobby */
    assert_int_equal(sid, late);
    assert_int_equal(store_session_cancel(s, T0, ACTOR, late), 0);
    assert_int_equal(store_invite_session(s, h, T0 + 7300, &sid), STORE_E_NOT_FOUND);

    assert_int_equal(store_invite_session(s, h, T0 + 3600, &sid), 0);
    assert_int_equal(store_invite_revoke(s, T0, ACTOR, inv), 0);
    assert_int_equal(store_invite_session(s, h, T0 + 3600, &sid), STORE_E_NOT_FOUND);
    hash_of(21, h);
    assert_int_equal(store_invite_session(s, h, T0 + 3600, &sid), STORE_E_NOT_FOUND); /* unknown */
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_PERSONAL, h, T0 + 3700, &inv), 0);
    assert_int_equal(store_invite_session(s, h, T0 + 3600, &sid), 0);
    assert_int_equal(store_invite_session(s, h, T0 + 3700, &sid), STORE_E_NOT_FOUND); /* expired */
    hash_of(22, h);
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_PERSONAL, h, T0 + DAY, &inv), 0);
    assert_int_equal(store_invite_use(s, inv, T0 + 3600), 0);
    assert_int_equal(store_invite_session(s, h, T0 + 3601, &sid), STORE_E_NOT_FOUND); /* used */
}

static void session_states_and_one_offs(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Kerta");
    struct store_session se = {.group_id = gid,
                               .starts_at = T0 + 3600,
                               .ends_at = T0 + 3600 + 60 * 60,
                               .lobby_min = 10,
                               .tz = "Europe/Stockholm"};
    int64_t id;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &id), 0);
    assert_int_equal(store_session_get(s, id, &se), 0);
    assert_int_equal(store_session_state(&se, T0), STORE_SESSION_SCHEDULED);
    assert_int_equal(store_session_state(&se, T0 + 3000), STORE_SESSION_LOBBY);
    assert_int_equal(store_session_state(&se, T0 + 3600), STORE_SESSION_RUNNING);
    assert_int_equal(store_session_state(&se, T0 + 7200), STORE_SESSION_ENDED);
    assert_string_equal(store_session_state_name(STORE_SESSION_LOBBY), "lobby");
    assert_int_equal(store_session_cancel(s, T0 + 7200, ACTOR, id), STORE_E_INVALID);

    struct store_session *v;
    size_t n;
    assert_int_equal(store_session_list(s, gid, T0 + 7200, &v, &n), 0);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(store_session_list(s, 0, T0, &v, &n), 0);
    assert_int_equal(n, 1);
    free(v);

    /* A leader ends it early: it ends now; in its lobby before the start,
     * it counts as cancelled. Either way nobody finds it running again. */
    int64_t early, lobby_end;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &early), 0);
    assert_int_equal(store_session_end(s, T0 + 3700, ACTOR, early), 0);
    assert_int_equal(store_session_get(s, early, &se), 0);
    assert_int_equal(se.ends_at, T0 + 3700);
    assert_int_equal(store_session_state(&se, T0 + 3700), STORE_SESSION_ENDED);
    assert_int_equal(store_session_end(s, T0 + 3701, ACTOR, early), STORE_E_INVALID);
    se.ends_at = se.starts_at + 60 * 60;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &lobby_end), 0);
    assert_int_equal(store_session_end(s, T0 + 3000, ACTOR, lobby_end), 0);
    assert_int_equal(store_session_get(s, lobby_end, &se), 0);
    assert_int_equal(store_session_state(&se, T0 + 3000), STORE_SESSION_CANCELLED);
    assert_int_equal(store_session_end(s, T0 + 9999, ACTOR, id), STORE_E_INVALID); /* over */

    /* Opened in its lobby (or started early) and ended before its start: it
     * was held, not cancelled, and nobody enters it again. */
    int64_t held;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &held), 0);
    assert_int_equal(store_session_opened(s, held, T0 + 3100), 0);
    assert_int_equal(store_session_end(s, T0 + 3200, ACTOR, held), 0);
    assert_int_equal(store_session_get(s, held, &se), 0);
    assert_int_equal(store_session_state(&se, T0 + 3200), STORE_SESSION_ENDED);
    assert_int_equal(store_session_state(&se, T0 + 3600), STORE_SESSION_ENDED);
    assert_int_equal(store_session_ended_at(&se), T0 + 3200);
    assert_int_equal(store_session_cancel(s, T0 + 3300, ACTOR, held), STORE_E_INVALID);

    se.ends_at = se.starts_at + 14 * 60;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, NULL), STORE_E_INVALID);
    se.ends_at = se.starts_at + 601 * 60;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, NULL), STORE_E_INVALID);
    se.ends_at = se.starts_at + 60 * 60;
    se.group_id = gid + 99;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, NULL), STORE_E_NOT_FOUND);
}

/* A leader starts a planned session now, within `early` of its start: its
 * lobby opens now and its times stay; not earlier, and not twice. */
static void session_starts_early(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Aikaisin");
    struct store_session se = {.group_id = gid,
                               .starts_at = T0 + 3600,
                               .ends_at = T0 + 7200,
                               .lobby_min = 5,
                               .tz = "Europe/Helsinki"};
    int64_t id;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &id), 0);
    assert_int_equal(store_session_start(s, T0 + 2000, ACTOR, id, 900), STORE_E_INVALID);
    assert_int_equal(store_session_start(s, T0 + 2730, ACTOR, id, 900), 0);
    assert_int_equal(store_session_get(s, id, &se), 0);
    assert_int_equal(se.starts_at, T0 + 3600);
    assert_int_equal(se.ends_at, T0 + 7200);
    assert_int_equal(se.lobby_min, 15); /* 870 s to go, rounded up */
    assert_int_equal(store_session_state(&se, T0 + 2730), STORE_SESSION_LOBBY);
    assert_int_equal(store_session_start(s, T0 + 2740, ACTOR, id, 900), STORE_E_INVALID);
    assert_int_equal(store_session_start(s, T0, ACTOR, id + 99, 900), STORE_E_NOT_FOUND);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM audit WHERE action = 'session_start'"), 1);
}

/* Attendance counts only ever grow (a room made again after a crash counts
 * from none), the first end stays, and the list joins them to the sessions
 * of the period; on both engines. */
static void attendance_counts_grow(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Laskut");
    struct store_session se = {.group_id = gid,
                               .starts_at = T0 + 3600,
                               .ends_at = T0 + 7200,
                               .lobby_min = 5,
                               .tz = "Europe/Helsinki"};
    int64_t held, other;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &held), 0);
    se.starts_at += 86400;
    se.ends_at += 86400;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, &other), 0);
    struct store_attendance a = {.admitted = 3, .peak = 2, .leaders = 1};
    assert_int_equal(store_attendance_put(s, held, &a), 0);
    a = (struct store_attendance){.ended_at = T0 + 7000, .admitted = 1, .peak = 4, .leaders = 1};
    assert_int_equal(store_attendance_put(s, held, &a), 0);
    a.ended_at = T0 + 7100;
    assert_int_equal(store_attendance_put(s, held, &a), 0);
    struct store_attendance_row *v = NULL;
    size_t n = 0;
    assert_int_equal(store_attendance_list(s, gid, T0, T0 + 2 * 86400, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].session.id, held);
    assert_true(v[0].recorded);
    assert_int_equal(v[0].a.admitted, 3);
    assert_int_equal(v[0].a.peak, 4);
    assert_int_equal(v[0].a.leaders, 1);
    assert_int_equal(v[0].a.ended_at, T0 + 7000);
    assert_int_equal(v[1].session.id, other);
    assert_false(v[1].recorded);
    free(v);
    assert_int_equal(store_attendance_list(s, gid, T0 + 86400, T0 + 2 * 86400, &v, &n), 0);
    assert_int_equal(n, 1);
    free(v);
}

/* ---- audit ------------------------------------------------------------ */

static int64_t audit_count(struct store *s)
{
    return sql_int(s, "SELECT count(*) FROM audit");
}

/* Run one admin change and check it wrote exactly one audit row. */
#define ONE_ROW(call)                                                                              \
    do {                                                                                           \
        int64_t before_ = audit_count(s);                                                          \
        assert_int_equal((call), 0);                                                               \
        assert_int_equal(audit_count(s), before_ + 1);                                             \
    } while (0)

/* A coordinator is an account like a leader's, of another role: the same
 * name space, logins that carry the role, audit actions named by the role,
 * and never a group's leader. The audit query filters by actor and action
 * and pages back by id. */
/* A setup link: the account waits with no password that logs in, the link
 * is spent once, a newer link replaces an older, and disabling makes it
 * unusable; each step has its audit row. */
static void setup_links_are_spent_once(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    uint8_t first[STORE_HASH_LEN], second[STORE_HASH_LEN], other[STORE_HASH_LEN];
    hash_of(31, first);
    hash_of(32, second);
    hash_of(33, other);
    int64_t id = 0;
    assert_int_equal(
        store_account_add_pending(s, T0, ACTOR, STORE_ROLE_LEADER, "Bad Name", first, NULL),
        STORE_E_INVALID);
    assert_int_equal(store_account_add_pending(s, T0, ACTOR, STORE_ROLE_LEADER, "aino", first, &id),
                     0);
    assert_int_equal(
        store_account_add_pending(s, T0, ACTOR, STORE_ROLE_LEADER, "AINO", other, NULL),
        STORE_E_INVALID);
    assert_int_equal(
        store_account_add_pending(s, T0, ACTOR, STORE_ROLE_LEADER, "aino", other, NULL),
        STORE_E_EXISTS);
    struct store_leader l;
    assert_int_equal(store_leader_get_id(s, id, &l), 0);
    assert_true(l.awaiting_setup);
    assert_string_equal(l.password_hash, "");
    assert_int_equal(l.setup_expires_at, T0 + STORE_SETUP_TTL);

    struct store_setup found;
    assert_int_equal(store_setup_find(s, other, T0, &found), STORE_E_NOT_FOUND);
    assert_int_equal(store_setup_find(s, first, T0, &found), 0);
    assert_int_equal(found.state, STORE_SETUP_ACTIVE);
    assert_string_equal(found.username, "aino");
    assert_int_equal(store_setup_find(s, first, T0 + STORE_SETUP_TTL, &found), 0);
    assert_int_equal(found.state, STORE_SETUP_EXPIRED);
    assert_int_equal(store_setup_redeem(s, T0 + STORE_SETUP_TTL, first, PHC, &found),
                     STORE_E_INVALID);
    assert_int_equal(store_setup_redeem(s, T0 + 1, first, "not a phc", &found), STORE_E_INVALID);
    assert_int_equal(store_setup_redeem(s, T0 + 1, first, PHC, &found), 0);
    assert_int_equal(store_setup_redeem(s, T0 + 2, first, PHC, &found), STORE_E_INVALID);
    assert_int_equal(found.state, STORE_SETUP_USED);
    assert_int_equal(store_leader_get_id(s, id, &l), 0);
    assert_false(l.awaiting_setup);
    assert_int_equal(l.setup_expires_at, 0);
    assert_string_equal(l.password_hash, PHC);
    int64_t gen = l.login_gen;

    /* A reset: the password goes, logins end, the older link is replaced. */
    assert_int_equal(store_leader_setup_link(s, T0 + 3, ACTOR, id, other), 0);
    assert_int_equal(store_leader_setup_link(s, T0 + 4, ACTOR, id, second), 0);
    assert_int_equal(store_leader_get_id(s, id, &l), 0);
    assert_true(l.awaiting_setup);
    assert_true(l.login_gen > gen);
    assert_int_equal(store_setup_find(s, other, T0 + 5, &found), 0);
    assert_int_equal(found.state, STORE_SETUP_EXPIRED);
    assert_int_equal(store_leader_set_disabled(s, T0 + 5, ACTOR, id, true), 0);
    assert_int_equal(store_setup_find(s, second, T0 + 5, &found), 0);
    assert_int_equal(found.state, STORE_SETUP_EXPIRED);
    assert_int_equal(store_leader_setup_link(s, T0 + 5, ACTOR, id, other), STORE_E_INVALID);
    assert_int_equal(store_leader_set_disabled(s, T0 + 6, ACTOR, id, false), 0);
    assert_int_equal(store_setup_redeem(s, T0 + 7, second, PHC, &found), 0);
    assert_int_equal(store_leader_setup_link(s, T0, ACTOR, 999, other), STORE_E_NOT_FOUND);
    wipe(&l, sizeof(l));

    const char *actions[] = {"leader_add", "leader_setup", "leader_setup_link"};
    for (size_t i = 0; i < ARRAY_LEN(actions); i++) {
        struct store_audit_filter af = {.action = actions[i]};
        struct store_audit_row *rows;
        size_t n;
        assert_int_equal(store_audit_query(s, &af, &rows, &n), 0);
        assert_int_equal(n, i == 0 ? 1 : 2);
        assert_string_equal(rows[0].target, "aino");
        if (i == 1)
            assert_string_equal(rows[0].actor, "leader:aino");
        store_audit_free(rows, n);
    }
}

/* An archived group takes no new session, schedule or invite, makes no
 * sessions from its schedules, and keeps what it had. */
static void archived_groups_take_nothing_new(void **state)
{
    struct store *s = ((struct fixture *)*state)->s;
    int64_t gid = add_group(s, "Lepäävä ryhmä");
    struct store_schedule sc = {.group_id = gid,
                                .weekday = 1,
                                .minute_of_day = 18 * 60,
                                .duration_min = 60,
                                .lobby_min = 10,
                                .starts_on = T0};
    memcpy(sc.tz, "UTC", 4);
    assert_int_equal(store_schedule_add(s, T0, ACTOR, &sc, NULL), 0);
    assert_int_equal(store_group_set_archived(s, T0, ACTOR, gid, false), STORE_E_INVALID);
    assert_int_equal(store_group_set_archived(s, T0, ACTOR, gid, true), 0);
    assert_int_equal(store_group_set_archived(s, T0, ACTOR, gid, true), STORE_E_INVALID);
    assert_int_equal(store_group_set_archived(s, T0, ACTOR, 999, true), STORE_E_NOT_FOUND);
    struct store_group g;
    assert_int_equal(store_group_get_id(s, gid, &g), 0);
    assert_int_equal(g.archived_at, T0);
    store_group_clear(&g);

    assert_int_equal(store_expand_schedules(s, T0, STORE_HORIZON), 0);
    assert_int_equal(store_schedule_add(s, T0, ACTOR, &sc, NULL), STORE_E_ARCHIVED);
    struct store_session se = {.group_id = gid, .starts_at = T0 + 3600, .ends_at = T0 + 7200};
    memcpy(se.tz, "UTC", 4);
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, NULL), STORE_E_ARCHIVED);
    uint8_t code[STORE_HASH_LEN];
    hash_of(41, code);
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_GROUP, code, T0 + 86400, NULL),
        STORE_E_ARCHIVED);
    se.group_id = 999;
    assert_int_equal(store_session_add(s, T0, ACTOR, &se, NULL), STORE_E_NOT_FOUND);

    assert_int_equal(store_group_set_archived(s, T0 + 1, ACTOR, gid, false), 0);
    assert_true(store_expand_schedules(s, T0 + 1, STORE_HORIZON) > 0);
    assert_int_equal(
        store_invite_create(s, T0 + 1, ACTOR, gid, STORE_INVITE_GROUP, code, T0 + 86400, NULL), 0);
    struct store_audit_filter af = {.group_id = gid, .action = "group_archive"};
    struct store_audit_row *rows;
    size_t n;
    assert_int_equal(store_audit_query(s, &af, &rows, &n), 0);
    assert_int_equal(n, 1);
    store_audit_free(rows, n);
}

static void coordinators_lead_no_group(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    struct store_group g;
    store_group_defaults(&g);
    g.name = xstrdup("Koordinoitu");
    memcpy(g.language, "fi", 3);
    int64_t gid, cid, lid;
    assert_int_equal(store_group_add(s, T0, ACTOR, &g, &gid), 0);
    store_group_clear(&g);
    assert_int_equal(store_account_add(s, T0, ACTOR, STORE_ROLE_COORDINATOR, "kaisa", PHC, &cid),
                     0);
    assert_int_equal(store_leader_add(s, T0, ACTOR, "KAISA", PHC, NULL), STORE_E_INVALID);
    assert_int_equal(store_leader_add(s, T0, ACTOR, "kaisa", PHC, NULL), STORE_E_EXISTS);
    assert_int_equal(store_leader_add(s, T0, ACTOR, "lauri", PHC, &lid), 0);

    struct store_leader l;
    assert_int_equal(store_leader_get(s, "kaisa", &l), 0);
    assert_int_equal(l.role, STORE_ROLE_COORDINATOR);
    assert_int_equal(store_leader_get(s, "lauri", &l), 0);
    assert_int_equal(l.role, STORE_ROLE_LEADER);
    struct store_leader *v;
    size_t n;
    assert_int_equal(store_leader_list(s, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].role, STORE_ROLE_COORDINATOR); /* kaisa, by name */
    free(v);

    assert_int_equal(store_group_leader_add(s, T0, ACTOR, gid, cid), STORE_E_INVALID);
    assert_int_equal(store_group_leaders(s, gid, &v, &n), 0);
    assert_int_equal(n, 0);
    free(v);

    uint8_t digest[STORE_HASH_LEN] = {7};
    struct store_login sl;
    assert_int_equal(store_login_add(s, digest, cid, 0, 1000), 0);
    assert_int_equal(store_login_find(s, digest, &sl), 0);
    assert_int_equal(sl.role, STORE_ROLE_COORDINATOR);
    assert_int_equal(store_leader_set_disabled(s, T0 + 1, "coordinator:kaisa", cid, true), 0);
    assert_int_equal(store_login_find(s, digest, &sl), STORE_E_NOT_FOUND);

    struct store_audit_filter af = {.action = "coordinator_add"};
    struct store_audit_row *rows;
    assert_int_equal(store_audit_query(s, &af, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].target, "kaisa");
    store_audit_free(rows, n);
    af = (struct store_audit_filter){.actor = "coordinator:kaisa"};
    assert_int_equal(store_audit_query(s, &af, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].action, "coordinator_disable");
    int64_t newest = rows[0].id;
    store_audit_free(rows, n);
    af = (struct store_audit_filter){.before_id = newest, .limit = 1};
    assert_int_equal(store_audit_query(s, &af, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_true(rows[0].id < newest);
    assert_string_equal(rows[0].action, "leader_add"); /* lauri's, the one before */
    store_audit_free(rows, n);
}

static void audit_one_row_per_change_and_append_only(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    struct store_group g;
    store_group_defaults(&g);
    g.name = xstrdup("Auditoitu");
    memcpy(g.language, "en", 3);
    int64_t gid, lid, sid, iid, one;
    ONE_ROW(store_group_add(s, T0, ACTOR, &g, &gid));
    g.id = gid;
    g.max_participants = 20;
    ONE_ROW(store_group_edit(s, T0 + 1, ACTOR, &g));
    store_group_clear(&g);
    ONE_ROW(store_leader_add(s, T0 + 2, ACTOR, "dave", PHC, &lid));
    ONE_ROW(store_leader_set_password(s, T0 + 3, ACTOR, lid, PHC));
    ONE_ROW(store_leader_set_disabled(s, T0 + 4, ACTOR, lid, true));
    ONE_ROW(store_leader_set_disabled(s, T0 + 5, ACTOR, lid, false));
    ONE_ROW(store_group_leader_add(s, T0 + 6, ACTOR, gid, lid));
    ONE_ROW(store_group_leader_remove(s, T0 + 7, ACTOR, gid, lid));
    struct store_schedule sc = {.group_id = gid,
                                .weekday = 2,
                                .minute_of_day = 600,
                                .duration_min = 60,
                                .tz = "Europe/Helsinki",
                                .starts_on = T0};
    ONE_ROW(store_schedule_add(s, T0 + 8, ACTOR, &sc, &sid));
    struct store_session se = {
        .group_id = gid, .starts_at = T0 + DAY, .ends_at = T0 + DAY + 3600, .tz = "UTC"};
    ONE_ROW(store_session_add(s, T0 + 9, ACTOR, &se, &one));
    ONE_ROW(store_session_cancel(s, T0 + 10, ACTOR, one));
    ONE_ROW(store_session_add(s, T0 + 10, ACTOR, &se, &one));
    ONE_ROW(store_session_end(s, T0 + DAY + 60, ACTOR, one));
    ONE_ROW(store_schedule_remove(s, T0 + 11, ACTOR, sid));
    uint8_t h[STORE_HASH_LEN];
    hash_of(77, h);
    ONE_ROW(store_invite_create(s, T0 + 12, ACTOR, gid, STORE_INVITE_GROUP, h, T0 + DAY, &iid));
    ONE_ROW(store_invite_revoke(s, T0 + 13, ACTOR, iid));
    ONE_ROW(store_audit(s, T0 + 14, "leader:dave", "kick", "member:3", gid, one));
    ONE_ROW(store_group_remove(s, T0 + 15, ACTOR, gid));

    /* Failed changes leave no row. */
    int64_t before = audit_count(s);
    assert_int_equal(store_group_remove(s, T0, ACTOR, gid), STORE_E_NOT_FOUND);
    assert_int_equal(store_leader_add(s, T0, ACTOR, "dave", PHC, NULL), STORE_E_EXISTS);
    assert_int_equal(audit_count(s), before);

    struct store_audit_row *rows;
    size_t n;
    struct store_audit_filter all = {.group_id = gid};
    assert_int_equal(store_audit_query(s, &all, &rows, &n), 0);
    assert_int_equal(n, 14); /* the leader rows name no group */
    assert_string_equal(rows[0].action, "group_add");
    assert_string_equal(rows[0].actor, ACTOR);
    assert_string_equal(rows[0].target, "Auditoitu");
    assert_string_equal(rows[n - 1].action, "group_remove");
    store_audit_free(rows, n);
    struct store_audit_filter window = {.since = T0 + 2, .until = T0 + 6, .limit = 3};
    assert_int_equal(store_audit_query(s, &window, &rows, &n), 0);
    assert_int_equal(n, 3); /* the newest three of four */
    assert_string_equal(rows[0].action, "leader_passwd");
    assert_string_equal(rows[2].action, "leader_enable");
    assert_int_equal(rows[2].ts, T0 + 5);
    store_audit_free(rows, n);

    before = audit_count(s);
    assert_int_equal(sql_exec(s, "UPDATE audit SET actor = 'x'"), STORE_E_INVALID);
    assert_non_null(strstr(store_errmsg(s), "append-only"));
    assert_int_equal(sql_exec(s, "DELETE FROM audit"), STORE_E_INVALID);
    assert_int_equal(audit_count(s), before);
}

/* ---- bans ------------------------------------------------------------- */

static void bans_bind_invite_or_key_per_group(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Kielletyt");
    int64_t other = add_group(s, "Muut");
    uint8_t h[STORE_HASH_LEN], key[STORE_HASH_LEN], key2[STORE_HASH_LEN];
    int64_t inv, by_invite, by_key, both, found;
    hash_of(30, h);
    assert_int_equal(
        store_invite_create(s, T0, ACTOR, gid, STORE_INVITE_PERSONAL, h, T0 + DAY, &inv), 0);
    hash_of(31, key);
    hash_of(32, key2);

    ONE_ROW(store_ban_add(s, T0 + 1, "leader:aino", gid, 0, inv, NULL, "Myrsky", &by_invite));
    ONE_ROW(store_ban_add(s, T0 + 2, "leader:aino", gid, 0, 0, key, "Tuuli ☂", &by_key));
    ONE_ROW(store_ban_add(s, T0 + 3, "leader:aino", gid, 0, inv, key2, "Sade", &both));
    assert_true(by_invite < by_key && by_key < both);

    assert_int_equal(store_ban_find(s, gid, inv, NULL, &found), 0);
    assert_true(found == by_invite || found == both);
    assert_int_equal(store_ban_find(s, gid, 0, key, &found), 0);
    assert_int_equal(found, by_key);
    assert_int_equal(store_ban_find(s, gid, inv + 99, key2, &found), 0);
    assert_int_equal(found, both);
    /* Another group, an unknown key, nothing at all: not banned. */
    assert_int_equal(store_ban_find(s, other, inv, key, &found), STORE_E_NOT_FOUND);
    hash_of(33, h);
    assert_int_equal(store_ban_find(s, gid, 0, h, &found), STORE_E_NOT_FOUND);
    assert_int_equal(store_ban_find(s, gid, 0, NULL, &found), STORE_E_NOT_FOUND);

    /* Lifting: once, in its own group or from anywhere (group 0). */
    int64_t before = audit_count(s);
    assert_int_equal(store_ban_lift(s, T0 + 4, ACTOR, other, 0, by_key), STORE_E_NOT_FOUND);
    assert_int_equal(store_ban_lift(s, T0 + 4, ACTOR, gid, 0, both + 100), STORE_E_NOT_FOUND);
    assert_int_equal(audit_count(s), before);
    ONE_ROW(store_ban_lift(s, T0 + 4, "leader:aino", gid, 0, by_key));
    assert_int_equal(store_ban_lift(s, T0 + 5, "leader:aino", gid, 0, by_key), STORE_E_NOT_FOUND);
    assert_int_equal(store_ban_find(s, gid, 0, key, &found), STORE_E_NOT_FOUND);
    ONE_ROW(store_ban_lift(s, T0 + 6, ACTOR, 0, 0, both));
    assert_int_equal(store_ban_find(s, gid, inv, NULL, &found), 0);
    assert_int_equal(found, by_invite);
    assert_int_equal(audit_count(s), before + 2);

    /* Lists: newest first; lifted ones only when asked for. */
    struct store_ban *v;
    size_t n;
    assert_int_equal(store_ban_list(s, gid, false, 0, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, by_invite);
    assert_string_equal(v[0].name, "Myrsky");
    assert_string_equal(v[0].created_by, "leader:aino");
    assert_int_equal(v[0].created_at, T0 + 1);
    assert_int_equal(v[0].invite_id, inv);
    assert_false(v[0].has_key);
    store_ban_list_free(v, n);
    assert_int_equal(store_ban_list(s, 0, true, 0, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].id, both);
    assert_int_equal(v[0].lifted_at, T0 + 6);
    assert_true(v[0].has_key);
    assert_memory_equal(v[0].key_hash, key2, STORE_HASH_LEN);
    assert_int_equal(v[1].id, by_key);
    assert_string_equal(v[1].name, "Tuuli ☂");
    assert_int_equal(v[1].invite_id, 0);
    assert_int_equal(v[2].id, by_invite);
    store_ban_list_free(v, n);
    assert_int_equal(store_ban_list(s, gid, true, 2, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[1].id, by_key);
    store_ban_list_free(v, n);
    assert_int_equal(store_ban_list(s, other, true, 0, &v, &n), 0);
    assert_int_equal(n, 0);
    store_ban_list_free(v, n);

    /* The audit rows: ban and unban, target ban:<id>, group and session. */
    struct store_audit_row *rows;
    struct store_audit_filter recent = {.group_id = gid, .since = T0 + 1};
    assert_int_equal(store_audit_query(s, &recent, &rows, &n), 0);
    assert_int_equal(n, 5);
    char target[32];
    snprintf(target, sizeof(target), "ban:%lld", (long long)by_key);
    assert_string_equal(rows[1].action, "ban");
    assert_string_equal(rows[1].target, target);
    assert_string_equal(rows[3].action, "unban");
    assert_string_equal(rows[3].actor, "leader:aino");
    assert_string_equal(rows[3].target, target);
    assert_int_equal(rows[4].group_id, gid);
    store_audit_free(rows, n);
}

static void ban_failures_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    int64_t gid = add_group(s, "Virheet");
    int64_t se;
    struct store_session one = {
        .group_id = gid, .starts_at = T0 + DAY, .ends_at = T0 + DAY + 3600, .tz = "UTC"};
    assert_int_equal(store_session_add(s, T0, ACTOR, &one, &se), 0);
    uint8_t key[STORE_HASH_LEN];
    hash_of(40, key);
    char long_name[STORE_BAN_NAME_MAX + 2];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    int64_t before = audit_count(s), id = -1;

    assert_int_equal(store_ban_add(s, T0, ACTOR, gid, se, 0, NULL, "Ei mitään", &id),
                     STORE_E_INVALID);
    assert_int_equal(store_ban_add(s, T0, ACTOR, gid, se, 0, key, "", &id), STORE_E_INVALID);
    assert_int_equal(store_ban_add(s, T0, ACTOR, gid, se, 0, key, NULL, &id), STORE_E_INVALID);
    assert_int_equal(store_ban_add(s, T0, ACTOR, gid, se, 0, key, "tab\there", &id),
                     STORE_E_INVALID);
    assert_int_equal(store_ban_add(s, T0, ACTOR, gid, se, 0, key, long_name, &id), STORE_E_INVALID);
    assert_int_equal(store_ban_add(s, T0, "", gid, se, 0, key, "Nimi", &id), STORE_E_INVALID);
    assert_int_equal(store_ban_add(s, T0, ACTOR, gid + 99, se, 0, key, "Nimi", &id),
                     STORE_E_NOT_FOUND);
    assert_int_equal(store_ban_add(s, T0, ACTOR, gid, se, 12345, NULL, "Nimi", &id),
                     STORE_E_NOT_FOUND);
    assert_int_equal(id, -1);
    assert_int_equal(audit_count(s), before);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM bans"), 0);

    /* The longest name fits, and the audit row carries the session. */
    long_name[STORE_BAN_NAME_MAX] = '\0';
    ONE_ROW(store_ban_add(s, T0, "leader:x", gid, se, 0, key, long_name, &id));
    struct store_audit_row *rows;
    size_t n;
    struct store_audit_filter last = {.limit = 1};
    assert_int_equal(store_audit_query(s, &last, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].session_id, se);
    assert_int_equal(rows[0].group_id, gid);
    store_audit_free(rows, n);
    assert_int_equal(store_ban_lift(s, T0, "", gid, se, id), STORE_E_INVALID);
    assert_int_equal(store_ban_find(s, gid, 0, key, &id), 0); /* still banned */
}

/* ---- backup, check, data_version -------------------------------------- */

static void backup_opens_and_holds_the_groups(void **state)
{
    struct fixture *f = *state;
    add_group(f->s, "Varmuuskopio");
    add_group(f->s, "Toinen");
    char dest[128], err[512];
    snprintf(dest, sizeof(dest), "%s/backup.db", f->dir);
    assert_int_equal(store_backup(f->s, dest, err, sizeof(err)), 0);
    assert_int_equal(store_backup(f->s, dest, err, sizeof(err)), STORE_E_EXISTS);
    struct stat sb;
    assert_int_equal(stat(dest, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    struct store *copy;
    assert_int_equal(store_open(dest, 0, &copy, err, sizeof(err)), 0);
    assert_int_equal(sql_int(copy, "SELECT count(*) FROM groups"), 2);
    assert_int_equal(store_check(copy, err, sizeof(err)), 0);
    struct store_group g;
    assert_int_equal(store_group_get(copy, "varmuuskopio", &g), 0);
    store_group_clear(&g);
    store_close(copy);

    /* The copy stands alone: a rollback-journal file until opened. */
    char dest2[128];
    snprintf(dest2, sizeof(dest2), "%s/backup2.db", f->dir);
    assert_int_equal(store_backup(f->s, dest2, err, sizeof(err)), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(dest2, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void data_version_sees_other_processes(void **state)
{
    struct fixture *f = *state;
    int64_t v0 = store_data_version(f->s);
    assert_true(v0 >= 0);
    add_group(f->s, "Oma");
    assert_int_equal(store_data_version(f->s), v0); /* own commits do not count */
    struct store *other;
    assert_int_equal(open_other(f, 0, &other), 0);
    add_group(other, "Toisen");
    store_close(other);
    assert_true(store_data_version(f->s) != v0);
}

static bool file_contains(const char *path, const char *needle)
{
    size_t len;
    char *bytes = util_read_file(path, 64 << 20, &len);
    if (!bytes)
        return false; /* absent: holds nothing */
    bool found = memmem(bytes, len, needle, strlen(needle)) != NULL;
    free(bytes);
    return found;
}

/* TESTPLAN F2 for admin data: deleted text is gone from every file. */
static void secure_delete_leaves_no_remnant(void **state)
{
    struct fixture *f = *state;
    const char *canary = "KMRT-CANARY-7f3e2a";
    struct store_group g;
    store_group_defaults(&g);
    g.name = xstrdup("Kanarialintu");
    memcpy(g.language, "fi", 3);
    free(g.description);
    g.description = xstrdup(canary);
    int64_t id;
    assert_int_equal(store_group_add(f->s, T0, ACTOR, &g, &id), 0);
    store_group_clear(&g);
    assert_int_equal(sql_exec(f->s, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
    assert_true(file_contains(f->path, canary)); /* the control: the check can fail */
    assert_int_equal(store_group_remove(f->s, T0, ACTOR, id), 0);
    assert_int_equal(sql_exec(f->s, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
    char path[128];
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        snprintf(path, sizeof(path), "%s%s", f->path, suffixes[i]);
        if (file_contains(path, canary))
            fail_msg("%s still holds the deleted text", path);
    }
}

/* ---- the canary: no column for message text ----------------------------- */

/* Every TEXT column in the schema. A new one fails this test on purpose:
 * look at it, make sure it can never hold message text, then add it here. */
static const char *const text_columns[] = {
    "groups.name",        "groups.language",
    "groups.description", "groups.agreement",
    "groups.history",     "groups.private_messages",
    "leaders.username",   "leaders.password_hash",
    "leaders.role",       "schedules.tz",
    "sessions.tz",        "invites.kind",
    "bans.created_by",    "bans.name", /* the pseudonym a ban is about (protocol/README.md §9) */
    "audit.actor",        "audit.action",
    "audit.target",       "invites.created_by", /* an actor, as audit.actor */
};

/* Every column as table, column and type: SQLite's declared type, or
 * PostgreSQL's in SQLite's words (INTEGER, BLOB; text as TEXT). */
static const char *const columns_sql =
    "SELECT m.name, p.name, upper(p.type) FROM sqlite_schema m, "
    "pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1, 2";
static const char *const columns_pg_sql =
    "SELECT table_name::text, column_name::text, CASE WHEN data_type IN ('bigint', 'integer') "
    "THEN 'INTEGER' WHEN data_type = 'bytea' THEN 'BLOB' ELSE upper(data_type) END "
    "FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2";

static void no_column_for_message_text(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *st;
    char err[512];
    assert_int_equal(db_prepare(f->s->db, pg ? columns_pg_sql : columns_sql, &st, err, sizeof(err)),
                     0);
    int columns = 0;
    while (db_step(st) == 1) {
        char full[128];
        const char *table = db_col_text(st, 0);
        const char *column = db_col_text(st, 1);
        const char *type = db_col_text(st, 2);
        snprintf(full, sizeof(full), "%s.%s", table, column);
        columns++;
        /* private_messages is a setting: who may send them. */
        if (strcmp(full, "groups.private_messages") != 0 &&
            (strstr(column, "message") || strstr(column, "text") || strstr(column, "body") ||
             strstr(column, "content")))
            fail_msg("column %s looks meant for message text", full);
        bool listed = false;
        for (size_t i = 0; i < ARRAY_LEN(text_columns); i++)
            listed = listed || strcmp(full, text_columns[i]) == 0;
        if (strcmp(type, "INTEGER") != 0 && strcmp(type, "BLOB") != 0 && !listed)
            fail_msg("column %s (%s) is not in the list of known text columns", full, type);
    }
    db_reset(st);
    assert_true(columns > 40);
}

/* ---- PostgreSQL's own error paths ------------------------------------- */

/* Nothing a failed open says may hold the password it was given. */
static void pg_unreachable_or_refused_login_is_io(void **state)
{
    struct store *s = NULL;
    char err[512];
    const char *secret = "Sekret-Pw-4711";
    assert_int_equal(store_open_pg("host=127.0.0.1 port=1 dbname=kamrat user=kamrat "
                                   "connect_timeout=5",
                                   secret, STORE_CREATE, &s, err, sizeof(err)),
                     STORE_E_IO);
    assert_null(s);
    assert_non_null(strstr(err, "cannot connect"));
    assert_null(strstr(err, secret));
    assert_int_equal(store_open_pg(pg_conninfo, secret, STORE_CREATE, &s, err, sizeof(err)),
                     STORE_E_IO);
    assert_non_null(strstr(err, "password authentication failed"));
    assert_null(strstr(err, secret));
    /* A password in the string itself is not repeated either. */
    assert_int_equal(store_open_pg("host=127.0.0.1 password=Sekret-Pw-4711 port", NULL,
                                   STORE_CREATE, &s, err, sizeof(err)),
                     STORE_E_INVALID);
    assert_null(strstr(err, secret));
}

/* The server ends the connection: that call fails with STORE_E_IO, the
 * next connects again and works, as kamratd needs across a restart. */
static void pg_lost_connection_is_io_then_reconnects(void **state)
{
    struct fixture *f = *state;
    add_group(f->s, "Ennen");
    int64_t pid = sql_int(f->s, "SELECT pg_backend_pid()");
    struct store *other;
    assert_int_equal(open_other(f, 0, &other), 0);
    char sql[64];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)::int", (long long)pid);
    assert_int_equal(sql_int(other, sql), 1);
    store_close(other);
    struct store_group g;
    assert_int_equal(store_group_get(f->s, "Ennen", &g), STORE_E_IO);
    assert_int_equal(store_group_get(f->s, "ennen", &g), 0);
    store_group_clear(&g);
    add_group(f->s, "Jälkeen");
}

/* A too new schema is refused and nothing is written (the data version,
 * which every write bumps, stays); a database of other tables is not
 * kamrat's, and one without kamrat's schema needs STORE_CREATE. */
static void pg_newer_or_foreign_schema_refused_untouched(void **state)
{
    struct fixture *f = *state;
    char sql[96], err[512];
    snprintf(sql, sizeof(sql), "UPDATE kamrat_meta SET schema_version = %d",
             store_schema_latest() + 1);
    assert_int_equal(sql_exec(f->s, sql), 0);
    int64_t v = sql_int(f->s, "SELECT data_version FROM kamrat_meta");
    struct store *s = NULL;
    assert_int_equal(store_open_pg(pg_conninfo, pg_password, STORE_CREATE, &s, err, sizeof(err)),
                     STORE_E_TOO_NEW);
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(sql_int(f->s, "SELECT data_version FROM kamrat_meta"), v);

    assert_int_equal(pg_clear(), 0);
    assert_int_equal(store_open_pg(pg_conninfo, pg_password, 0, &s, err, sizeof(err)),
                     STORE_E_NOT_FOUND);
    store_close(f->s);
    f->s = NULL;
    const char *keys[] = {"dbname", "password", NULL};
    const char *values[] = {pg_conninfo, pg_password, NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1);
    PQclear(PQexec(c, "CREATE TABLE t (x integer)"));
    PQfinish(c);
    assert_int_equal(store_open_pg(pg_conninfo, pg_password, STORE_CREATE, &s, err, sizeof(err)),
                     STORE_E_CORRUPT);
    assert_non_null(strstr(err, "not a kamrat database"));
    assert_null(s);
}

/* Backups are pg_dump's; check runs its sanity queries. */
static void pg_backup_refused_check_passes(void **state)
{
    struct fixture *f = *state;
    char err[512], dest[128];
    add_group(f->s, "Varmuus");
    snprintf(dest, sizeof(dest), "%s/copy.db", f->dir);
    assert_int_equal(store_backup(f->s, dest, err, sizeof(err)), STORE_E_INVALID);
    assert_non_null(strstr(err, "pg_dump"));
    assert_int_not_equal(access(dest, F_OK), 0);
    assert_int_equal(store_check(f->s, err, sizeof(err)), 0);
    assert_true(store_is_postgresql(f->s));
}

/* Start the throw-away cluster (tests/pg/pgtmp.sh): 0, or 77 with why in
 * why when PostgreSQL is not installed, or -1. */
static int pg_start(char *why, size_t whylen)
{
    char cmd[512];
    const char *root = getenv("KAMRAT_ROOT");
    snprintf(cmd, sizeof(cmd), "'%s/tests/pg/pgtmp.sh' start %ld", root ? root : ".",
             (long)getpid());
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[1024] = "";
    bool got = fgets(line, sizeof(line), p) != NULL;
    int status = pclose(p);
    line[strcspn(line, "\n")] = '\0';
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        snprintf(why, whylen, "%s", line);
        return 77;
    }
    /* DIR<tab>PASSWORD<tab>CONNINFO */
    char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !tab2)
        return -1;
    *tab1 = *tab2 = '\0';
    snprintf(pg_dir, sizeof(pg_dir), "%s", line);
    snprintf(pg_password, sizeof(pg_password), "%s", tab1 + 1);
    snprintf(pg_conninfo, sizeof(pg_conninfo), "%s", tab2 + 1);
    return 0;
}

static void pg_stop(void)
{
    char cmd[512];
    const char *root = getenv("KAMRAT_ROOT");
    snprintf(cmd, sizeof(cmd), "'%s/tests/pg/pgtmp.sh' stop '%s'", root ? root : ".", pg_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# stopping the PostgreSQL cluster in %s failed\n", pg_dir);
}

int main(int argc, char **argv)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    /* Both engines. */
    const struct CMUnitTest common[] = {
        T(migrates_from_empty),
        T(reopening_changes_nothing),
        T(groups_and_leaders),
        T(logins_end_with_a_new_password_or_disabling),
        T(removing_a_leader_cascades_but_audit_stays),
        T(removing_a_group_cascades_but_audit_stays),
        T(invite_failures_look_alike),
        T(invite_maker_limit_and_group),
        T(invite_race_has_one_winner),
        T(expansion_is_idempotent_and_bounded),
        T(session_states_and_one_offs),
        T(session_starts_early),
        T(attendance_counts_grow),
        T(invite_leads_to_the_open_session),
        T(audit_one_row_per_change_and_append_only),
        T(coordinators_lead_no_group),
        T(setup_links_are_spent_once),
        T(archived_groups_take_nothing_new),
        T(bans_bind_invite_or_key_per_group),
        T(ban_failures_change_nothing),
        T(data_version_sees_other_processes),
        T(no_column_for_message_text),
    };
    /* SQLite's file. */
    const struct CMUnitTest sqlite[] = {
        T(pragmas_hold),
        T(missing_file_needs_create),
        T(newer_schema_refused_untouched),
        T(upgrades_version_1_keeping_bans),
        T(upgrades_version_4_leaders_stay_leaders),
        T(garbage_refused_untouched),
        T(foreign_database_refused_untouched),
        T(truncated_copy_refused_untouched),
        T(backup_opens_and_holds_the_groups),
        T(secure_delete_leaves_no_remnant),
    };
    const struct CMUnitTest postgresql[] = {
        cmocka_unit_test(pg_unreachable_or_refused_login_is_io),
        T(pg_lost_connection_is_io_then_reconnects),
        T(pg_newer_or_foreign_schema_refused_untouched),
        T(pg_backup_refused_check_passes),
    };
#undef T
    /* One group per run: TAP allows one plan. */
    struct CMUnitTest all[ARRAY_LEN(common) + ARRAY_LEN(sqlite) + ARRAY_LEN(postgresql)];
    memcpy(all, common, sizeof(common));
    size_t n = ARRAY_LEN(common);
    if (argc < 2) {
        memcpy(all + n, sqlite, sizeof(sqlite));
        return _cmocka_run_group_tests("sqlite", all, n + ARRAY_LEN(sqlite), NULL, NULL);
    }
    if (strcmp(argv[1], "--postgresql") != 0) {
        fprintf(stderr, "usage: %s [--postgresql]\n", argv[0]);
        return 64;
    }
    char why[512];
    int rc = pg_start(why, sizeof(why));
    if (rc == 77) {
        printf("1..0 # SKIP %s\n", why);
        return 0;
    }
    if (rc < 0) {
        printf("Bail out! cannot start a PostgreSQL cluster (tests/pg/pgtmp.sh)\n");
        return 1;
    }
    pg = true;
    memcpy(all + n, postgresql, sizeof(postgresql));
    rc = _cmocka_run_group_tests("postgresql", all, n + ARRAY_LEN(postgresql), NULL, NULL);
    pg_stop();
    return rc;
}
