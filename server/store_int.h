/*
 * store internals shared by store*.c: the connection, its prepared
 * statements, transactions and the audit row. Not for other modules.
 *
 * Every statement the store runs after opening is in STORE_STATEMENTS,
 * written once for both engines (db.h), prepared once by store_open and
 * reset after each use, so a statement never keeps a read transaction
 * open. Where PostgreSQL needs other words, STORE_PG_STATEMENTS has them.
 */
#ifndef KAMRAT_STORE_INT_H
#define KAMRAT_STORE_INT_H

#include "db.h"
#include "store.h"

#define STORE_GROUP_COLS                                                                           \
    "id, name, language, description, agreement, max_participants, history, "                      \
    "private_messages, created_at, adhoc_sessions, archived_at"
/* With whether the account awaits its setup and its live setup link's
 * expiry (store_setup.c). */
#define STORE_LEADER_COLS                                                                          \
    "id, username, disabled, created_at, login_gen, role, "                                        \
    "CASE WHEN password_hash = '' THEN 1 ELSE 0 END, "                                             \
    "(SELECT max(expires_at) FROM setup_codes WHERE setup_codes.leader_id = leaders.id "           \
    "AND used_at IS NULL AND replaced_at IS NULL)"
#define STORE_SCHEDULE_COLS                                                                        \
    "id, group_id, weekday, minute_of_day, duration_min, lobby_min, tz, starts_on, until, "        \
    "created_at"
#define STORE_SESSION_COLS                                                                         \
    "id, group_id, schedule_id, starts_at, ends_at, lobby_min, tz, cancelled_at, opened_at"
#define STORE_INVITE_COLS                                                                          \
    "id, group_id, kind, created_at, expires_at, revoked_at, used_at, created_by"
#define STORE_BAN_COLS                                                                             \
    "id, group_id, invite_id, participant_key_hash, name, created_at, created_by, lifted_at"

/* Each attendance count becomes the larger of the stored and the new
 * value, in words both engines take (SQLite's max() of two is PostgreSQL's
 * GREATEST). */
/* clang-format off */
#define STORE__GROW(c)                                                                             \
    c " = CASE WHEN excluded." c " > attendance." c                                                \
    " THEN excluded." c " ELSE attendance." c " END"
/* clang-format on */
#define STORE__GROW_ALL STORE__GROW("admitted") ", " STORE__GROW("peak") ", " STORE__GROW("leaders")

/* X(name, sql): every statement, by the file that uses it. A NULL id binds
 * as SQL NULL (store__bind_id), hence the `OR ?1 IS NULL` filters (the typed use first: PostgreSQL
 * infers a parameter's type from its first use). */
#define STORE_STATEMENTS(X)                                                                        \
    X(AUDIT_ADD, "INSERT INTO audit(ts, actor, action, target, group_id, session_id) "             \
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6)")                                                 \
    X(AUDIT_QUERY, "SELECT id, ts, actor, action, target, group_id, session_id FROM "              \
                   "(SELECT * FROM audit WHERE (group_id = ?1 OR ?1 IS NULL) "                     \
                   "AND ts >= ?2 AND (ts < ?3 OR ?3 IS NULL) AND (actor = ?5 OR ?5 IS NULL) "      \
                   "AND (action = ?6 OR ?6 IS NULL) AND (id < ?7 OR ?7 IS NULL) "                  \
                   "ORDER BY id DESC LIMIT ?4) AS recent "                                         \
                   "ORDER BY id")                                                                  \
    /* store_group.c */                                                                            \
    X(GROUP_ADD, "INSERT INTO groups(name, language, description, agreement, "                     \
                 "max_participants, history, private_messages, adhoc_sessions, created_at) "       \
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id")                        \
    X(GROUP_EDIT, "UPDATE groups SET name = ?2, language = ?3, description = ?4, "                 \
                  "agreement = ?5, max_participants = ?6, history = ?7, private_messages = ?8, "   \
                  "adhoc_sessions = ?9 WHERE id = ?1")                                             \
    X(GROUP_REMOVE, "DELETE FROM groups WHERE id = ?1")                                            \
    X(GROUP_ARCHIVE, "UPDATE groups SET archived_at = ?2 WHERE id = ?1 AND archived_at IS NULL")   \
    X(GROUP_UNARCHIVE,                                                                             \
      "UPDATE groups SET archived_at = NULL WHERE id = ?1 AND archived_at IS NOT NULL")            \
    X(GROUP_ARCHIVED, "SELECT archived_at FROM groups WHERE id = ?1")                              \
    X(GROUP_GET, "SELECT " STORE_GROUP_COLS " FROM groups WHERE name = ?1")                        \
    X(GROUP_GET_ID, "SELECT " STORE_GROUP_COLS " FROM groups WHERE id = ?1")                       \
    X(GROUP_LIST, "SELECT " STORE_GROUP_COLS " FROM groups ORDER BY name")                         \
    X(LEADER_ADD, "INSERT INTO leaders(username, password_hash, created_at, role) "                \
                  "VALUES(?1, ?2, ?3, ?4) "                                                        \
                  "RETURNING id")                                                                  \
    /* a new password and disabling (?2 = 1) end every login: the generation moves on */           \
    X(LEADER_SET_PASSWORD,                                                                         \
      "UPDATE leaders SET password_hash = ?2, login_gen = login_gen + 1 WHERE id = ?1")            \
    X(LEADER_CLEAR_PASSWORD,                                                                       \
      "UPDATE leaders SET password_hash = '', login_gen = login_gen + 1 WHERE id = ?1")            \
    X(LEADER_REHASH, "UPDATE leaders SET password_hash = ?2 WHERE id = ?1 AND login_gen = ?3")     \
    X(LEADER_SET_DISABLED, "UPDATE leaders SET disabled = ?2, login_gen = login_gen + ?2 "         \
                           "WHERE id = ?1 AND disabled != ?2")                                     \
    /* group links and logins go with it (ON DELETE CASCADE) */                                    \
    X(LEADER_REMOVE, "DELETE FROM leaders WHERE id = ?1")                                          \
    X(LEADER_GET, "SELECT " STORE_LEADER_COLS ", password_hash FROM leaders WHERE username = ?1")  \
    X(LEADER_GET_ID, "SELECT " STORE_LEADER_COLS ", password_hash FROM leaders WHERE id = ?1")     \
    X(LEADER_LIST, "SELECT " STORE_LEADER_COLS " FROM leaders ORDER BY username")                  \
    X(GROUP_LEADER_ADD, "INSERT INTO group_leaders(group_id, leader_id) VALUES(?2, ?1)")           \
    X(GROUP_LEADER_REMOVE, "DELETE FROM group_leaders WHERE leader_id = ?1 AND group_id = ?2")     \
    X(GROUP_LEADERS,                                                                               \
      "SELECT " STORE_LEADER_COLS " FROM leaders WHERE id IN "                                     \
      "(SELECT leader_id FROM group_leaders WHERE group_id = ?1) ORDER BY username")               \
    X(LEADER_GROUPS, "SELECT " STORE_GROUP_COLS " FROM groups WHERE id IN "                        \
                     "(SELECT group_id FROM group_leaders WHERE leader_id = ?1) ORDER BY name")    \
    /* store_setup.c */                                                                            \
    X(SETUP_REPLACE, "UPDATE setup_codes SET replaced_at = ?2 WHERE leader_id = ?1 "               \
                     "AND used_at IS NULL AND replaced_at IS NULL")                                \
    X(SETUP_ADD, "INSERT INTO setup_codes(leader_id, code_hash, created_at, expires_at) "          \
                 "VALUES(?1, ?2, ?3, ?4)")                                                         \
    X(SETUP_FIND, "SELECT c.id, c.leader_id, l.username, l.role, c.expires_at, c.used_at, "        \
                  "c.replaced_at, l.disabled FROM setup_codes c "                                  \
                  "JOIN leaders l ON l.id = c.leader_id WHERE c.code_hash = ?1")                   \
    X(SETUP_USE, "UPDATE setup_codes SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL "          \
                 "AND replaced_at IS NULL AND expires_at > ?2")                                    \
    /* store_session.c */                                                                          \
    X(SCHEDULE_ADD, "INSERT INTO schedules(group_id, weekday, minute_of_day, duration_min, "       \
                    "lobby_min, tz, starts_on, until, created_at) "                                \
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id")                     \
    X(SCHEDULE_GET, "SELECT " STORE_SCHEDULE_COLS " FROM schedules WHERE id = ?1")                 \
    X(SCHEDULE_LIST, "SELECT " STORE_SCHEDULE_COLS " FROM schedules "                              \
                     "WHERE group_id = ?1 OR ?1 IS NULL ORDER BY group_id, weekday, "              \
                     "minute_of_day, id")                                                          \
    X(SCHEDULE_REMOVE, "DELETE FROM schedules WHERE id = ?1")                                      \
    X(SCHEDULE_DROP_FUTURE, "DELETE FROM sessions WHERE schedule_id = ?1 AND starts_at > ?2 "      \
                            "AND opened_at IS NULL")                                               \
    X(SESSION_EXPAND, "INSERT INTO sessions(group_id, schedule_id, starts_at, ends_at, "           \
                      "lobby_min, tz, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "             \
                      "ON CONFLICT(schedule_id, starts_at) DO NOTHING")                            \
    X(SESSION_ADD, "INSERT INTO sessions(group_id, starts_at, ends_at, lobby_min, tz, "            \
                   "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6) RETURNING id")                      \
    X(SESSION_GET, "SELECT " STORE_SESSION_COLS " FROM sessions WHERE id = ?1")                    \
    X(SESSION_LIST, "SELECT " STORE_SESSION_COLS " FROM sessions "                                 \
                    "WHERE (group_id = ?1 OR ?1 IS NULL) AND ends_at > ?2 ORDER BY starts_at, id") \
    X(SESSION_LOBBY_NOW, "UPDATE sessions SET lobby_min = ?2 WHERE id = ?1")                       \
    X(SESSION_CANCEL, "UPDATE sessions SET cancelled_at = ?2 "                                     \
                      "WHERE id = ?1 AND cancelled_at IS NULL AND ends_at > ?2")                   \
    /* ended before its start (in the lobby): cancelled; else it ends now */                       \
    X(SESSION_END, "UPDATE sessions SET "                                                          \
                   "cancelled_at = CASE WHEN ?2 > starts_at THEN NULL ELSE ?2 END, "               \
                   "ends_at = CASE WHEN ?2 > starts_at THEN ?2 ELSE ends_at END "                  \
                   "WHERE id = ?1 AND cancelled_at IS NULL AND ends_at > ?2")                      \
    /* store_admit.c */                                                                            \
    X(SESSION_OPENED, "UPDATE sessions SET opened_at = ?2 WHERE id = ?1 AND opened_at IS NULL")    \
    X(ADMITTED_ADD, "INSERT INTO admitted(session_id, key_hash) VALUES(?1, ?2) "                   \
                    "ON CONFLICT(session_id, key_hash) DO NOTHING")                                \
    X(ADMITTED_DROP, "DELETE FROM admitted WHERE session_id = ?1 AND key_hash = ?2")               \
    X(ADMITTED_FIND, "SELECT 1 FROM admitted WHERE session_id = ?1 AND key_hash = ?2")             \
    X(ADMITTED_WIPE, "DELETE FROM admitted WHERE session_id = ?1")                                 \
    X(ADMITTED_SWEEP, "DELETE FROM admitted WHERE session_id IN (SELECT id FROM sessions "         \
                      "WHERE ends_at <= ?1 OR cancelled_at IS NOT NULL)")                          \
    /* store_attendance.c: a count only grows (a room made again after a crash                     \
     * starts from none); ended_at is the first end written */                                     \
    X(ATTENDANCE_PUT,                                                                              \
      "INSERT INTO attendance(session_id, ended_at, admitted, peak, leaders) "                     \
      "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(session_id) DO UPDATE SET "                          \
      "ended_at = COALESCE(attendance.ended_at, excluded.ended_at), " STORE__GROW_ALL)             \
    X(ATTENDANCE_LIST,                                                                             \
      "SELECT s.id, s.group_id, s.schedule_id, s.starts_at, s.ends_at, s.lobby_min, s.tz, "        \
      "s.cancelled_at, s.opened_at, a.session_id, a.ended_at, a.admitted, a.peak, a.leaders "      \
      "FROM sessions s LEFT JOIN attendance a ON a.session_id = s.id "                             \
      "WHERE (s.group_id = ?1 OR ?1 IS NULL) AND s.starts_at >= ?2 AND s.starts_at < ?3 "          \
      "ORDER BY s.group_id, s.starts_at, s.id")                                                    \
    /* store_invite.c */                                                                           \
    X(INVITE_ADD, "INSERT INTO invites(group_id, code_hash, kind, created_at, expires_at, "        \
                  "created_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6) RETURNING id")                       \
    X(INVITE_GET, "SELECT " STORE_INVITE_COLS " FROM invites WHERE id = ?1")                       \
    X(INVITE_LOOKUP, "SELECT " STORE_INVITE_COLS " FROM invites WHERE code_hash = ?1")             \
    X(INVITE_LIST, "SELECT " STORE_INVITE_COLS " FROM invites "                                    \
                   "WHERE group_id = ?1 OR ?1 IS NULL ORDER BY id DESC")                           \
    X(INVITE_REVOKE, "UPDATE invites SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")    \
    X(INVITE_FIND, "SELECT id, group_id, kind FROM invites WHERE code_hash = ?1 "                  \
                   "AND revoked_at IS NULL AND used_at IS NULL AND expires_at > ?2")               \
    X(INVITE_USE, "UPDATE invites SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL "             \
                  "AND revoked_at IS NULL AND expires_at > ?2")                                    \
    /* the cluster's routing: the open session of an active invite's group */                      \
    X(INVITE_SESSION, "SELECT s.id FROM invites i JOIN sessions s ON s.group_id = i.group_id "     \
                      "WHERE i.code_hash = ?1 AND i.revoked_at IS NULL AND i.used_at IS NULL "     \
                      "AND i.expires_at > ?2 AND s.cancelled_at IS NULL AND s.ends_at > ?2 "       \
                      "AND s.starts_at - s.lobby_min * 60 <= ?2 ORDER BY s.starts_at, s.id "       \
                      "LIMIT 1")                                                                   \
    /* store_ban.c */                                                                              \
    X(BAN_ADD, "INSERT INTO bans(group_id, invite_id, participant_key_hash, name, created_at, "    \
               "created_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6) RETURNING id")                          \
    X(BAN_LIFT, "UPDATE bans SET lifted_at = ?2 WHERE id = ?1 AND lifted_at IS NULL "              \
                "AND (group_id = ?3 OR ?3 IS NULL) RETURNING group_id")                            \
    X(BAN_FIND, "SELECT id FROM bans WHERE group_id = ?1 AND lifted_at IS NULL "                   \
                "AND (invite_id = ?2 OR participant_key_hash = ?3) ORDER BY id DESC LIMIT 1")      \
    X(BAN_LIST, "SELECT " STORE_BAN_COLS " FROM bans WHERE (group_id = ?1 OR ?1 IS NULL) "         \
                "AND (?2 OR lifted_at IS NULL) ORDER BY id DESC LIMIT ?3")                         \
    /* store_login.c */                                                                            \
    X(LOGIN_ADD, "INSERT INTO logins(token_hash, leader_id, login_gen, started_at, used_at) "      \
                 "VALUES(?1, ?2, ?3, ?4, ?4)")                                                     \
    X(LOGIN_FIND,                                                                                  \
      "SELECT logins.leader_id, leaders.username, logins.started_at, logins.used_at, "             \
      "logins.login_gen, leaders.role FROM logins JOIN leaders ON leaders.id = logins.leader_id "  \
      "WHERE logins.token_hash = ?1 AND leaders.disabled = 0 "                                     \
      "AND leaders.login_gen = logins.login_gen")                                                  \
    X(LOGIN_LIVE, "SELECT logins.token_hash, logins.leader_id, leaders.username, "                 \
                  "logins.started_at, logins.used_at, logins.login_gen, leaders.role "             \
                  "FROM logins JOIN leaders ON leaders.id = logins.leader_id "                     \
                  "WHERE leaders.disabled = 0 AND leaders.login_gen = logins.login_gen "           \
                  "AND logins.used_at >= ?1 AND logins.started_at >= ?2 "                          \
                  "ORDER BY logins.started_at")                                                    \
    X(LOGIN_TOUCH, "UPDATE logins SET used_at = ?2 WHERE token_hash = ?1")                         \
    X(LOGIN_END, "DELETE FROM logins WHERE token_hash = ?1")                                       \
    X(LOGIN_END_LEADER, "DELETE FROM logins WHERE leader_id = ?1")                                 \
    X(LOGIN_SWEEP, "DELETE FROM logins WHERE used_at < ?1 OR started_at < ?2 OR NOT EXISTS "       \
                   "(SELECT 1 FROM leaders WHERE leaders.id = logins.leader_id "                   \
                   "AND leaders.disabled = 0 AND leaders.login_gen = logins.login_gen)")

/*
 * The statements PostgreSQL runs in other words. SQLite's NOCASE collation
 * on groups.name and leaders.username folds ASCII letters only; PostgreSQL
 * has no such collation, so its schema has unique indexes on
 * lower(name COLLATE "C") (lower() under the C collation folds ASCII only,
 * whatever the database's locale) and these lookups and orders use the
 * same expression.
 */
#define STORE_PG_NAME "lower(name COLLATE \"C\")"
#define STORE_PG_USERNAME "lower(username COLLATE \"C\")"
#define STORE_PG_STATEMENTS(X)                                                                     \
    X(GROUP_GET, "SELECT " STORE_GROUP_COLS " FROM groups "                                        \
                 "WHERE " STORE_PG_NAME " = lower(?1::text COLLATE \"C\")")                        \
    X(GROUP_LIST, "SELECT " STORE_GROUP_COLS " FROM groups ORDER BY " STORE_PG_NAME)               \
    X(LEADER_GET, "SELECT " STORE_LEADER_COLS ", password_hash FROM leaders "                      \
                  "WHERE " STORE_PG_USERNAME " = lower(?1::text COLLATE \"C\")")                   \
    X(LEADER_LIST, "SELECT " STORE_LEADER_COLS " FROM leaders ORDER BY " STORE_PG_USERNAME)        \
    X(GROUP_LEADERS,                                                                               \
      "SELECT " STORE_LEADER_COLS " FROM leaders WHERE id IN "                                     \
      "(SELECT leader_id FROM group_leaders WHERE group_id = ?1) ORDER BY " STORE_PG_USERNAME)     \
    X(LEADER_GROUPS, "SELECT " STORE_GROUP_COLS " FROM groups WHERE id IN "                        \
                     "(SELECT group_id FROM group_leaders WHERE leader_id = ?1) "                  \
                     "ORDER BY " STORE_PG_NAME)

#define STORE__ENUM(name, sql) ST_##name,
enum store__stmt { STORE_STATEMENTS(STORE__ENUM) ST__COUNT };
#undef STORE__ENUM

struct store {
    struct db *db;
    struct db_stmt *stmt[ST__COUNT];
};

/* One numbered migration per entry, for each engine: entry i takes the
 * schema from version i to i + 1. store_schema.c. */
extern const char *const store__migrations[];
extern const char *const store__migrations_pg[];
extern const int store__migration_count;

/* The statement for id, reset and with no bindings. */
struct db_stmt *store__stmt(struct store *s, enum store__stmt id);

/* Bind v, or NULL when v is 0 (ids and optional times). */
void store__bind_id(struct db_stmt *st, int i, int64_t v);

/* Step st, which must yield no row, and reset it. Returns 0 or a store_err. */
int store__exec(struct db_stmt *st);

/* Step st once: 1 for a row (st stays on it), 0 at the end (st reset), or a
 * store_err (st reset). Call db_reset after reading the rows wanted. */
int store__row(struct db_stmt *st);

/* A new copy of column i's text, or NULL for SQL NULL. */
char *store__col_dup(struct db_stmt *st, int i);
/* Copy column i's text into dst of size dstlen (truncating; "" for NULL). */
void store__col_copy(struct db_stmt *st, int i, char *dst, size_t dstlen);

/* The role a leaders.role column names (store_role_name's inverse). */
enum store_role store__role(const char *name);

/* Reads the row st is on into *row, an element of a list or one result. */
typedef void store__read_fn(struct db_stmt *st, void *row);

/* Reads a struct store_session from the first columns of the row st is on,
 * STORE_SESSION_COLS in that order (store_session.c). */
void store__read_session(struct db_stmt *st, void *row);
/* Frees what one element owns (not the element itself). */
typedef void store__clear_fn(void *row);

/*
 * Step st through all its rows, reading each with read into a new array of
 * elements of `size` bytes. Returns the array (NULL when empty) with *n and
 * *err = 0, or NULL with *n = 0 and *err a store_err; then nothing stays
 * allocated (clear, when not NULL, frees each element read). st is reset.
 */
void *store__rows(struct db_stmt *st, size_t size, store__read_fn *read, store__clear_fn *clear,
                  size_t *n, int *err);

/* Read the first row of st into *row and reset st. Returns 0,
 * STORE_E_NOT_FOUND when st yields no row, or a store_err. */
int store__one(struct db_stmt *st, store__read_fn *read, void *row);

/* Step the INSERT ... RETURNING id st. Returns 0 with the new row's id in
 * *id, or a store_err. */
int store__insert(struct db_stmt *st, int64_t *id);

/* Step st, which must change exactly one row. Returns 0, `none` when it
 * changed none, or a store_err. */
int store__change_one(struct store *s, struct db_stmt *st, int none);

/* A write transaction (db_begin) / COMMIT; rollback undoes the open
 * transaction, if any, and keeps the first error's message. */
int store__begin(struct store *s);
int store__commit(struct store *s);
void store__rollback(struct store *s);

/* Append an audit row inside the caller's transaction. */
int store__audit(struct store *s, int64_t now, const char *actor, const char *action,
                 const char *target, int64_t group_id, int64_t session_id);

/*
 * End the transaction store__begin opened for one admin change: when e is 0,
 * append its audit row (as store__audit) and COMMIT; when e is an error, or
 * either step fails, roll back. Returns e or the later error, so that a
 * change is written with its audit row or not at all.
 */
int store__end(struct store *s, int e, int64_t now, const char *actor, const char *action,
               const char *target, int64_t group_id, int64_t session_id);

/* The account with id, with its password hash, inside the caller's
 * transaction when there is one. store_group.c. */
int store__leader_by_id(struct store *s, int64_t id, struct store_leader *out);

/* Add an account (store_account_add) with the password phc, unchecked, and
 * with a setup link when setup_hash is not NULL. store_group.c. */
int store__account_add(struct store *s, int64_t now, const char *actor, enum store_role role,
                       const char *username, const char *phc,
                       const uint8_t setup_hash[STORE_HASH_LEN], int64_t *id);

/* A setup link for account leader_id, valid for STORE_SETUP_TTL: its
 * earlier links stop working. Inside the caller's transaction.
 * store_setup.c. */
int store__setup_put(struct store *s, int64_t now, int64_t leader_id,
                     const uint8_t code_hash[STORE_HASH_LEN]);

/* Is phc a PHC string the leaders table may hold? */
bool store__phc_valid(const char *phc);

/* 0 when group_id may take new sessions, schedules and invites;
 * STORE_E_ARCHIVED when it is archived, STORE_E_NOT_FOUND when there is no
 * such group, or a store_err. Inside the caller's transaction. */
int store__group_open(struct store *s, int64_t group_id);

/* "kind:id" in buf: the audit target of a row without a name. */
#define STORE__TARGET_LEN 32
const char *store__target(char buf[STORE__TARGET_LEN], const char *kind, int64_t id);

/* Is s valid UTF-8 of at most max characters, without control characters
 * other than newline and tab when multiline? */
bool store__text_valid(const char *s, size_t max, bool multiline);

#endif
