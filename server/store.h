/*
 * store: the database of one installation: by default the SQLite file
 * <data_dir>/kamrat.db; with [store] engine = postgresql, a PostgreSQL
 * database shared by several kamratd nodes (db.h has what differs).
 *
 * Holds configuration-like data only: groups, leaders, weekly schedules and
 * the sessions made from them, invites, bans and the audit log. Never message
 * text (DESIGN.md §4): no table has a column for it, and a unit test keeps it
 * that way.
 *
 * Several processes share the database (kamratd and any number of
 * kamratctl; on PostgreSQL several kamratd too): writers take turns, wait
 * up to 5 s for each other (kamratd's store worker, storeq.h, 2 s:
 * store_set_busy_wait), and every admin change is one transaction that
 * also writes its audit row. kamratd notices changes made by others with
 * store_data_version(). Both engines give the same results and errors.
 *
 * Errors are negative enum store_err values. A function that fails changes
 * nothing in the database. `now` is always the caller's clock (config_now),
 * so tests can move it.
 *
 * Thread: the caller's; one struct store belongs to one thread (kamratd
 * has two: the event loop's and the store worker's). Never called on
 * kamratd's per-message path: every call may wait for the disk or for
 * another process's lock, which is why what a room does with the store runs
 * on the worker (storeq.h): admission, audit rows, bans, session ends, the
 * data-version watch, the calendar feed, login audit rows and rehashes, the
 * console (admin.h) and the schedule expansion (at start and every 6
 * hours; schedule.h's functions run on that one thread).
 * The loop's own connection still serves start-up (opening, migrations),
 * the leader lookup
 * before a password check, /api's token checks and /api/sessions, and with
 * several nodes the shared logins (leaders_share).
 */
#ifndef KAMRAT_STORE_H
#define KAMRAT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_err {
    STORE_OK = 0,
    STORE_E_NOT_FOUND = -1, /* no such row; also any invite that cannot be redeemed */
    STORE_E_EXISTS = -2,    /* a unique name or link is already taken */
    STORE_E_INVALID = -3,   /* a value breaks its rule, or the row's state forbids the change */
    STORE_E_BUSY = -4,      /* another process held the database longer than the busy timeout */
    STORE_E_IO = -5,        /* the file cannot be read or written (permissions, I/O error) */
    STORE_E_CORRUPT = -6,   /* not a sound kamrat database */
    STORE_E_TOO_NEW = -7,   /* made by a newer kamrat: its schema version is unknown here */
    STORE_E_FULL = -8,      /* no space left for the database or its WAL; the write was undone */
    STORE_E_ARCHIVED = -9,  /* the group is archived: no new sessions, schedules or invites */
};

/* A short English phrase for err ("not found"). Never NULL. */
const char *store_strerror(int err);

#define STORE_HASH_LEN 32             /* SHA-256 */
#define STORE_HORIZON (8 * 7 * 86400) /* how far ahead schedules are expanded by default */
#define STORE_USERNAME_MAX 32
#define STORE_PHC_MAX 255
#define STORE_TZ_MAX 64
#define STORE_GROUP_NAME_MAX 80    /* characters */
#define STORE_DESCRIPTION_MAX 2000 /* characters */
#define STORE_AGREEMENT_MAX 20000  /* characters */
#define STORE_ACTOR_MAX 64         /* bytes */
#define STORE_TARGET_MAX 400       /* bytes: holds any group name */

/* ---- opening ---------------------------------------------------------- */

enum store_flags {
    STORE_CREATE = 1, /* create the file (mode 0600) when it does not exist */
};

struct store;

/*
 * Open the database at path. An existing file is first opened read-only and
 * must pass PRAGMA quick_check, carry kamrat's application_id (or be empty)
 * and have a schema version this binary knows; otherwise nothing at all is
 * written to it and the error is STORE_E_CORRUPT or STORE_E_TOO_NEW. Then the
 * connection is set up (WAL, foreign keys, secure_delete, synchronous=FULL,
 * busy timeout) and the missing migrations are applied, one transaction each.
 *
 * Returns 0 and *out (free with store_close), or a negative store_err with a
 * sentence naming path in err. A missing file without STORE_CREATE is
 * STORE_E_NOT_FOUND.
 */
int store_open(const char *path, int flags, struct store **out, char *err, size_t errlen);

/*
 * Open the PostgreSQL database that the libpq connection string conninfo
 * names, logging in with password when it is not NULL. With STORE_CREATE,
 * an empty database gets kamrat's schema; without it, a database without
 * one is STORE_E_NOT_FOUND. A database holding other tables but not
 * kamrat's is STORE_E_CORRUPT; one whose schema is newer than this binary
 * knows, STORE_E_TOO_NEW, and nothing is written to either. An unreachable
 * server or a failed login is STORE_E_IO. err never holds the password.
 */
int store_open_pg(const char *conninfo, const char *password, int flags, struct store **out,
                  char *err, size_t errlen);

struct config;

/* Open the store c's [store] section names: <data_dir>/kamrat.db, or
 * PostgreSQL with the password from postgresql_password_file. As
 * store_open and store_open_pg. */
int store_open_config(const struct config *c, int flags, struct store **out, char *err,
                      size_t errlen);

/* Finalize every statement and close. store_close(NULL) is a no-op. */
void store_close(struct store *s);

/* The engine's message for the last failure of a call on s, for logs; ""
 * when none. Borrowed until the next call on s. Never holds row contents. */
const char *store_errmsg(const struct store *s);

/* How long s waits for another connection's lock before a call fails with
 * STORE_E_BUSY, instead of the 5 s every connection starts with (SQLite's
 * busy timeout; PostgreSQL's lock_timeout, which a reconnect sets back to
 * 5 s). Returns 0 or a store_err. */
int store_set_busy_wait(struct store *s, uint32_t ms);

/* Is s on PostgreSQL? */
bool store_is_postgresql(const struct store *s);

/* What messages call s: the file's path, or "postgresql host=... port=...
 * dbname=... user=..." (never a password). Borrowed until store_close. */
const char *store_name(const struct store *s);

/* The schema version of the open database (SQLite: PRAGMA user_version;
 * PostgreSQL: kamrat_meta.schema_version), or -1 when it cannot be read. */
int store_schema_version(struct store *s);

/* The schema version this binary migrates to. */
int store_schema_latest(void);

/*
 * A number that changes whenever another connection (any process) commits,
 * and never for s's own commits: SQLite's PRAGMA data_version, or on
 * PostgreSQL the counter every write transaction bumps, less s's own
 * bumps. kamratd polls it to reload what kamratctl and other nodes
 * changed. Returns it (>= 0) or a negative store_err.
 */
int64_t store_data_version(struct store *s);

/* SQLite: PRAGMA integrity_check and foreign_key_check. PostgreSQL (which
 * checks its own pages and keys): kamrat_meta holds one row with this
 * binary's schema version and every table can be read. Returns 0, or
 * STORE_E_CORRUPT with the first complaint in err. */
int store_check(struct store *s, char *err, size_t errlen);

/*
 * Copy the database to a new file dest (mode 0600; never overwrites: an
 * existing dest is STORE_E_EXISTS) with the online backup API, a few pages at
 * a time so other processes keep working, then PRAGMA quick_check the copy.
 * The copy is a single file in rollback-journal mode. On failure dest is
 * removed and err says why. On PostgreSQL, backups are pg_dump's job:
 * STORE_E_INVALID, and err says so.
 */
int store_backup(struct store *s, const char *dest, char *err, size_t errlen);

/* ---- audit ------------------------------------------------------------ */

/*
 * Append a row to the audit log. actor is who did it ("admin:alice",
 * "leader:bob", a participant's pseudonymous id), action a snake_case verb
 * ("kick"), both 1..64 bytes; target what it was done to (at most 400
 * bytes) or NULL; group_id and session_id are 0 when none. Never pass
 * message text or free-text reasons. Every store function that changes
 * admin data writes its own row in the same transaction; this one is for
 * kamratd's moderation events and for kamratctl's backups.
 */
int store_audit(struct store *s, int64_t now, const char *actor, const char *action,
                const char *target, int64_t group_id, int64_t session_id);

struct store_audit_row {
    int64_t id;
    int64_t ts;
    char *actor;
    char *action;
    char *target; /* NULL when none */
    int64_t group_id;
    int64_t session_id;
};

struct store_audit_filter {
    int64_t group_id;   /* 0: any */
    int64_t since;      /* ts >= since */
    int64_t until;      /* ts < until; 0: no bound */
    int limit;          /* the newest `limit` rows; 0: 100 */
    const char *actor;  /* exactly this actor; NULL: any */
    const char *action; /* exactly this action; NULL: any */
    int64_t before_id;  /* id < before_id (paging back); 0: no bound */
};

/* The matching rows, oldest first, in a new array of *n (free with
 * store_audit_free). */
int store_audit_query(struct store *s, const struct store_audit_filter *f,
                      struct store_audit_row **out, size_t *n);
void store_audit_free(struct store_audit_row *rows, size_t n);

/* ---- groups ----------------------------------------------------------- */

/*
 * A group's settings. The strings belong to the struct (store_group_defaults,
 * get and list make them; store_group_clear and store_group_list_free free
 * them); add and edit only read them.
 *
 * language: "fi", "sv" or "en"; history: "since_admitted" or "whole_session";
 * private_messages: "off", "leaders" or "everyone".
 */
struct store_group {
    int64_t id;
    char *name; /* 1..80 characters, unique ignoring ASCII case */
    char language[3];
    char *description;    /* up to 2000 characters, one paragraph */
    char *agreement;      /* up to 20000 characters, may hold newlines */
    int max_participants; /* 1..500 */
    char history[16];
    char private_messages[10];
    /* May its leaders hold a session "now", unplanned (protocol/README.md
     * §12)? Off by default: the association plans when its groups meet. */
    bool adhoc_sessions;
    int64_t created_at;
    int64_t archived_at; /* 0: not archived (store_group_set_archived) */
};

/* Fill g with the schema's defaults (max 12, since_admitted, leaders, empty
 * texts) and no name. */
void store_group_defaults(struct store_group *g);

/* NULL when store_group_add would accept g's settings, else the name of the
 * first field that breaks its rule ("name", "language", "description",
 * "agreement", "max_participants", "history", "private_messages"). Names and
 * descriptions are UTF-8 without control characters (names also without
 * leading or trailing spaces); the agreement may hold newlines and tabs. */
const char *store_group_invalid(const struct store_group *g);

/* Insert g (g->id and g->created_at are ignored). *id gets the new id when
 * id is not NULL. STORE_E_EXISTS when the name is taken. */
int store_group_add(struct store *s, int64_t now, const char *actor, const struct store_group *g,
                    int64_t *id);

/* Overwrite every setting of group g->id with g's. */
int store_group_edit(struct store *s, int64_t now, const char *actor, const struct store_group *g);

/*
 * Archive a group (archived true) or take it out of the archive. An
 * archived group takes no new sessions, schedules or invites (those calls
 * answer STORE_E_ARCHIVED, and its schedules make no more sessions); what it
 * has stays: its audit rows, its sessions held and their figures, its
 * leaders, and the sessions and invites it already had. Audit group_archive
 * or group_unarchive. STORE_E_INVALID when it already is so.
 */
int store_group_set_archived(struct store *s, int64_t now, const char *actor, int64_t id,
                             bool archived);

/* Delete the group with its schedules, sessions, invites, bans and leader
 * links. Its audit rows stay. */
int store_group_remove(struct store *s, int64_t now, const char *actor, int64_t id);

/* Fill *out with the group named name (ASCII case ignored) or with id. */
int store_group_get(struct store *s, const char *name, struct store_group *out);
int store_group_get_id(struct store *s, int64_t id, struct store_group *out);

/* Every group, by name, in a new array of *n. */
int store_group_list(struct store *s, struct store_group **out, size_t *n);

void store_group_clear(struct store_group *g);
void store_group_list_free(struct store_group *v, size_t n);

/* ---- what a restart keeps of a running session ------------------------- */

/* A leader opened session_id at now (Unix seconds); the first time counts. */
int store_session_opened(struct store *s, int64_t session_id, int64_t now);
/* The participant whose key has digest key_hash was admitted to session_id
 * (again: no change), or is no longer (removed, sent to the lobby). */
int store_admitted_add(struct store *s, int64_t session_id, const uint8_t key_hash[STORE_HASH_LEN]);
int store_admitted_drop(struct store *s, int64_t session_id,
                        const uint8_t key_hash[STORE_HASH_LEN]);
/* 0 when key_hash was admitted to session_id, STORE_E_NOT_FOUND when not. */
int store_admitted_find(struct store *s, int64_t session_id,
                        const uint8_t key_hash[STORE_HASH_LEN]);
/* Forget every admission to session_id (it ended), or, with session_id 0,
 * to every session ended by now or cancelled (at start). */
int store_admitted_wipe(struct store *s, int64_t session_id, int64_t now);

/* What an account may do. A leader leads groups and enters their rooms; a
 * coordinator administers groups from the console (protocol/README.md §12)
 * and never leads a group, enters a room or sees message text. */
enum store_role {
    STORE_ROLE_LEADER,
    STORE_ROLE_COORDINATOR,
};

/* "leader" or "coordinator". */
const char *store_role_name(enum store_role role);

/* ---- leader logins (one node keeps them across a restart; several share them) */

/* A login as the store keeps it (leaders.h keeps them in memory on one
 * node). Times in ms. */
struct store_login {
    int64_t leader_id;
    char username[STORE_USERNAME_MAX + 1];
    int64_t started_at, used_at;
    int64_t login_gen; /* the leader's login_gen when the login was made */
    enum store_role role;
};

int store_login_add(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], int64_t leader_id,
                    int64_t login_gen, int64_t now_ms);
/* The login with this digest whose leader is enabled and still has the
 * login's login_gen, or STORE_E_NOT_FOUND. */
int store_login_find(struct store *s, const uint8_t token_hash[STORE_HASH_LEN],
                     struct store_login *out);
int store_login_touch(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], int64_t now_ms);
int store_login_end(struct store *s, const uint8_t token_hash[STORE_HASH_LEN]);
int store_login_end_leader(struct store *s, int64_t leader_id);
/* Call each(arg, token_hash, login) for every login used since idle_before
 * and begun since started_before whose leader is enabled and still at the
 * login's login_gen, oldest first (one node loads them at start). */
typedef void store_login_fn(void *arg, const uint8_t token_hash[STORE_HASH_LEN],
                            const struct store_login *login);
int store_login_live(struct store *s, int64_t idle_before, int64_t started_before,
                     store_login_fn *each, void *arg);
/* End logins unused since idle_before or begun before started_before, and
 * those store_login_find no longer finds. */
int store_login_sweep(struct store *s, int64_t idle_before, int64_t started_before);

/* ---- leaders ---------------------------------------------------------- */

struct store_leader {
    int64_t id;
    char username[STORE_USERNAME_MAX + 1];
    char password_hash[STORE_PHC_MAX + 1]; /* PHC string; "" in lists */
    bool disabled;
    int64_t created_at;
    /* Moves on with every new password (store_leader_set_password) and when
     * the account is disabled: a login made under an older one has ended. */
    int64_t login_gen;
    enum store_role role;
    /* No password yet, or a new setup link cleared it: the account waits
     * for its holder to open the link (store_setup_redeem). */
    bool awaiting_setup;
    int64_t setup_expires_at; /* the live setup link's expiry (it may be past); 0: none */
};

/* 3..32 characters of a-z 0-9 . _ - */
bool store_username_valid(const char *username);

/* Add a leader with an already computed PHC hash (auth_hash_password). */
int store_leader_add(struct store *s, int64_t now, const char *actor, const char *username,
                     const char *phc, int64_t *id);
/* Add an account of role: store_leader_add for any role. The audit action
 * is "<role>_add"; the calls below that change an account write
 * "<role>_passwd" and so on, by the account's role. */
int store_account_add(struct store *s, int64_t now, const char *actor, enum store_role role,
                      const char *username, const char *phc, int64_t *id);
/* A new password: ends every login of the leader (login_gen moves on). */
int store_leader_set_password(struct store *s, int64_t now, const char *actor, int64_t id,
                              const char *phc);
/* The same password hashed anew (newer parameters) after a login that read
 * the leader at login_gen: no login ends. STORE_E_NOT_FOUND, and nothing
 * changes, when the password was changed since. */
int store_leader_rehash(struct store *s, int64_t now, const char *actor, int64_t id,
                        int64_t login_gen, const char *phc);
/* Disable or enable login; disabling ends every login of the leader.
 * STORE_E_INVALID when it already is so. */
int store_leader_set_disabled(struct store *s, int64_t now, const char *actor, int64_t id,
                              bool disabled);

/* Remove the account with its group links and logins (a leader who has
 * left the association). kamratd ends the leader's seats and logins when it
 * notices (store_data_version). The audit log keeps the username. */
int store_leader_remove(struct store *s, int64_t now, const char *actor, int64_t id);

/* Fill *out (with the password hash) for username, ASCII case ignored. */
int store_leader_get(struct store *s, const char *username, struct store_leader *out);

/* Fill *out (with the password hash: wipe it) for the account with id. */
int store_leader_get_id(struct store *s, int64_t id, struct store_leader *out);

/* Every account, leaders and coordinators, by username, without hashes;
 * free(*out). */
int store_leader_list(struct store *s, struct store_leader **out, size_t *n);

/* ---- setup links ------------------------------------------------------- */

/* A setup link is good for 7 days. */
#define STORE_SETUP_TTL (7 * 86400)

/* Add an account of role without a password: its holder sets one with the
 * setup link whose code hashes to code_hash (auth_invite_code_new), which
 * expires at now + STORE_SETUP_TTL. Audit "<role>_add". STORE_E_EXISTS when
 * the username is taken. */
int store_account_add_pending(struct store *s, int64_t now, const char *actor, enum store_role role,
                              const char *username, const uint8_t code_hash[STORE_HASH_LEN],
                              int64_t *id);

/* A new setup link for account id, to reset its password: the password is
 * cleared, every login of the account ends (login_gen moves on) and its
 * earlier links stop working. Audit "<role>_setup_link". STORE_E_INVALID
 * for a disabled account. */
int store_leader_setup_link(struct store *s, int64_t now, const char *actor, int64_t id,
                            const uint8_t code_hash[STORE_HASH_LEN]);

enum store_setup_state {
    STORE_SETUP_ACTIVE,
    STORE_SETUP_USED,    /* a password was set with it */
    STORE_SETUP_EXPIRED, /* past its expiry, replaced by a newer link, or the account is disabled */
};

struct store_setup {
    int64_t leader_id;
    char username[STORE_USERNAME_MAX + 1];
    enum store_role role;
    int64_t expires_at;
    enum store_setup_state state;
};

/* The setup link whose code hashes to code_hash, in whatever state: 0 with
 * *out, or STORE_E_NOT_FOUND. */
int store_setup_find(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                     struct store_setup *out);

/* Set the password (a PHC string) of the account whose setup link hashes
 * to code_hash, and spend the link: 0 with *out; STORE_E_NOT_FOUND for an
 * unknown link; STORE_E_INVALID, with out->state saying why, for one that
 * is not active (of two redemptions at once exactly one succeeds). Every
 * login of the account ends. Audit "<role>_setup" by the account itself. */
int store_setup_redeem(struct store *s, int64_t now, const uint8_t code_hash[STORE_HASH_LEN],
                       const char *phc, struct store_setup *out);

/* Link or unlink a leader and a group. Adding an existing link is
 * STORE_E_EXISTS; removing a missing one STORE_E_NOT_FOUND; linking a
 * coordinator STORE_E_INVALID. */
int store_group_leader_add(struct store *s, int64_t now, const char *actor, int64_t group_id,
                           int64_t leader_id);
int store_group_leader_remove(struct store *s, int64_t now, const char *actor, int64_t group_id,
                              int64_t leader_id);

/* The leaders of a group (free(*out)); the groups of a leader
 * (store_group_list_free). */
int store_group_leaders(struct store *s, int64_t group_id, struct store_leader **out, size_t *n);
int store_leader_groups(struct store *s, int64_t leader_id, struct store_group **out, size_t *n);

/* ---- schedules and sessions ------------------------------------------- */

/* A weekly meeting: weekday 1 (Monday) .. 7 at minute_of_day local time in tz. */
struct store_schedule {
    int64_t id;
    int64_t group_id;
    int weekday;       /* 1..7, ISO */
    int minute_of_day; /* 0..1439 */
    int duration_min;  /* 15..600 */
    int lobby_min;     /* 0..120: the lobby opens this long before the start */
    char tz[STORE_TZ_MAX + 1];
    int64_t starts_on; /* occurrences start at or after this instant */
    int64_t until;     /* ... and before this one; 0: no end */
    int64_t created_at;
};

/* Insert sc (id, created_at ignored); tz must pass schedule_tz_valid.
 * Sessions appear with the next store_expand_schedules. */
int store_schedule_add(struct store *s, int64_t now, const char *actor,
                       const struct store_schedule *sc, int64_t *id);

/* Schedules of group_id (0: of every group); free(*out). */
int store_schedule_list(struct store *s, int64_t group_id, struct store_schedule **out, size_t *n);

/* Delete a schedule and its sessions that have not started by now (nor
 * been opened early); the sessions already held stay, as one-offs. */
int store_schedule_remove(struct store *s, int64_t now, const char *actor, int64_t id);

/*
 * Make a session row for every occurrence of every schedule that starts in
 * [max(now, starts_on), min(now + horizon, until)). Occurrences that already
 * have a row (cancelled ones included) are left alone, so running this again
 * changes nothing. Returns the number of sessions added, or a negative
 * store_err (STORE_E_INVALID for a horizon outside 1 s .. 2 years). Not
 * audited: it only carries out what schedule_add recorded. kamratd runs it
 * daily. It calls schedule_occurrences, so schedule.h's rule on TZ and
 * local time applies to the calling thread.
 */
int store_expand_schedules(struct store *s, int64_t now, int64_t horizon);

enum store_session_state {
    STORE_SESSION_SCHEDULED, /* before the lobby opens */
    STORE_SESSION_LOBBY,     /* lobby open, not started */
    STORE_SESSION_RUNNING,   /* between start and end */
    STORE_SESSION_ENDED,
    STORE_SESSION_CANCELLED,
};

struct store_session {
    int64_t id;
    int64_t group_id;
    int64_t schedule_id; /* 0: a one-off */
    int64_t starts_at;
    int64_t ends_at;
    int lobby_min;
    char tz[STORE_TZ_MAX + 1]; /* the zone its times are shown in */
    int64_t cancelled_at;      /* 0: not cancelled; see store_session_end */
    int64_t opened_at;         /* 0: no leader has opened it (store_session_opened) */
};

/* A session's state by the clock. One a leader opened (held) is never
 * cancelled: ended before its planned start it is ended. */
enum store_session_state store_session_state(const struct store_session *se, int64_t now);
/* When a session ends or ended: ends_at, or for a held session a leader
 * ended before its planned start, that moment (store_session_end). */
int64_t store_session_ended_at(const struct store_session *se);
/* "scheduled", "lobby", "running", "ended", "cancelled" */
const char *store_session_state_name(enum store_session_state st);

/* Insert a one-off session (id, schedule_id, cancelled_at ignored). The
 * duration must be 15..600 minutes. */
int store_session_add(struct store *s, int64_t now, const char *actor,
                      const struct store_session *se, int64_t *id);

int store_session_get(struct store *s, int64_t id, struct store_session *out);

/* Sessions of group_id (0: every group) that end after `after`, by start
 * time; free(*out). Pass INT64_MIN for all of them. */
int store_session_list(struct store *s, int64_t group_id, int64_t after, struct store_session **out,
                       size_t *n);

/* A leader starts a planned session now, up to `early` seconds before its
 * start: its lobby opens now (lobby_min grows to reach now), so its leaders
 * enter and open it at once; its start and end stay as planned. Audited as
 * session_start. STORE_E_INVALID when it is not in state scheduled, or
 * starts more than `early` seconds from now. */
int store_session_start(struct store *s, int64_t now, const char *actor, int64_t id, int64_t early);

/* Cancel a session that has not ended. STORE_E_INVALID when it has ended or
 * is cancelled already. */
int store_session_cancel(struct store *s, int64_t now, const char *actor, int64_t id);

/* A leader ended the session early: it ends now, so nobody can enter it
 * again. Ended before its planned start, cancelled_at records the moment
 * (ends_at must stay after starts_at): a session nobody opened counts as
 * cancelled, one a leader opened as held and ended (store_session_state).
 * Audited as session_end by actor. STORE_E_INVALID when it has ended or is
 * cancelled already. */
int store_session_end(struct store *s, int64_t now, const char *actor, int64_t id);

/* ---- attendance (docs/admin.md "Attendance") ---------------------------- */

/* What funders are told about one session: counts only, never who. A
 * session was held when a leader opened it (store_session.opened_at). */
struct store_attendance {
    int64_t ended_at; /* when its room ended (Unix seconds); 0: not yet */
    int admitted;     /* distinct participants let into the room (not the lobby) */
    int peak;         /* the most participants in the room at once */
    int leaders;      /* distinct leader accounts that entered the room */
};

/* Record session_id's counts as its room has them now. A count already
 * stored larger stays (a room made again after a crash starts counting from
 * none), and the first end written stays. One statement, outside any
 * transaction, written by kamratd's store worker. */
int store_attendance_put(struct store *s, int64_t session_id, const struct store_attendance *a);

struct store_attendance_row {
    struct store_session session;
    bool recorded; /* a room wrote counts (else a is all 0) */
    struct store_attendance a;
};

/* The sessions of group group_id (0: every group) starting in [from, until),
 * with their counts, by group and start, in a new array of *n (free()). */
int store_attendance_list(struct store *s, int64_t group_id, int64_t from, int64_t until,
                          struct store_attendance_row **out, size_t *n);

/* ---- invites ---------------------------------------------------------- */

enum store_invite_kind {
    STORE_INVITE_GROUP,    /* many people, until it expires or is revoked */
    STORE_INVITE_PERSONAL, /* one redemption */
};

enum store_invite_state {
    STORE_INVITE_ACTIVE,
    STORE_INVITE_USED,
    STORE_INVITE_EXPIRED,
    STORE_INVITE_REVOKED,
};

/* How long an invite may be valid, in days: kamratctl's --expires and the
 * console's expires_days take 1..STORE_INVITE_DAYS_MAX. */
#define STORE_INVITE_DAYS_DEFAULT 7
#define STORE_INVITE_DAYS_MAX 90

/* Never holds the code: only its hash is stored, and not returned. */
struct store_invite {
    int64_t id;
    int64_t group_id;
    enum store_invite_kind kind;
    int64_t created_at;
    int64_t expires_at;
    int64_t revoked_at;                   /* 0: not revoked */
    int64_t used_at;                      /* 0: not used */
    char created_by[STORE_ACTOR_MAX + 1]; /* the actor who made it; "": before this was kept */
};

enum store_invite_state store_invite_state(const struct store_invite *inv, int64_t now);
/* "active", "used", "expired", "revoked"; and "group", "personal" */
const char *store_invite_state_name(enum store_invite_state st);
const char *store_invite_kind_name(enum store_invite_kind kind);

/* Record an invite by the hash of its code (auth_invite_code_new), made by
 * actor; it expires at expires_at, which must be after now and at most
 * STORE_INVITE_DAYS_MAX days after it (else STORE_E_INVALID). */
int store_invite_create(struct store *s, int64_t now, const char *actor, int64_t group_id,
                        enum store_invite_kind kind, const uint8_t code_hash[STORE_HASH_LEN],
                        int64_t expires_at, int64_t *id);

/* Invites of group_id (0: every group), newest first; free(*out). */
int store_invite_list(struct store *s, int64_t group_id, struct store_invite **out, size_t *n);

/* Revoke an invite. STORE_E_INVALID when it is revoked already. */
int store_invite_revoke(struct store *s, int64_t now, const char *actor, int64_t id);

/* Revoke invite id of group_id (0: of any group): as store_invite_revoke,
 * and STORE_E_NOT_FOUND for an invite of another group. *out (may be NULL)
 * gets the invite as it is after. */
int store_invite_revoke_in(struct store *s, int64_t now, const char *actor, int64_t group_id,
                           int64_t id, struct store_invite *out);

/* The active invite whose code hashes to code_hash: 0 with id, group_id and
 * kind in *out (the rest zero), or STORE_E_NOT_FOUND alike for unknown,
 * expired, revoked and used invites. Consumes nothing. */
int store_invite_find(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                      struct store_invite *out);

/* The invite whose code hashes to code_hash in whatever state: 0 with *out,
 * or STORE_E_NOT_FOUND. For the gate, which refuses the holder of a used
 * personal invite that a ban is bound to with `banned` (README §4a); every
 * other inactive invite must still answer as store_invite_find's do. */
int store_invite_lookup(struct store *s, const uint8_t code_hash[STORE_HASH_LEN],
                        struct store_invite *out);

/* The session open now (lobby or running, the first by start) of the group
 * of the active invite whose code hashes to code_hash: 0 with *session_id,
 * or STORE_E_NOT_FOUND alike for an unknown, used, expired or revoked
 * invite and for a group with no open session. One query, and no check of
 * bans or of the name: the cluster's routing finds a hello's home with it,
 * and the home admits (gate.h). */
int store_invite_session(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                         int64_t *session_id);

/* Use up the personal invite id: 0, or STORE_E_NOT_FOUND when it is no
 * longer active (another redemption won, or it expired or was revoked). */
int store_invite_use(struct store *s, int64_t id, int64_t now);

/*
 * Redeem the invite whose code hashes to code_hash: 0 with *group_id and
 * *invite_id, or STORE_E_NOT_FOUND alike for unknown, expired, revoked and
 * used invites (an attacker learns nothing from the difference). A personal
 * invite is marked used in the same statement that checks it, so of many
 * processes redeeming it at once exactly one succeeds.
 */
int store_redeem_invite(struct store *s, const uint8_t code_hash[STORE_HASH_LEN], int64_t now,
                        int64_t *group_id, int64_t *invite_id);

/* ---- bans ------------------------------------------------------------- */

/*
 * A group ban (protocol/README.md §4a), bound to a personal invite or to the
 * digest of a participant key, or both. name is the pseudonym the person had.
 */
struct store_ban {
    int64_t id;
    int64_t group_id;
    int64_t invite_id; /* 0: none */
    bool has_key;
    uint8_t key_hash[STORE_HASH_LEN];
    char *name;
    int64_t created_at;
    char created_by[STORE_ACTOR_MAX + 1];
    int64_t lifted_at; /* 0: active */
};

/* The longest pseudonym a ban keeps, in characters: the top of [limits]
 * max_name_chars' range, so any name kamratd accepted can be banned. */
#define STORE_BAN_NAME_MAX 100

/* Ban from group_id (writes the audit row "ban", target "ban:<id>", with
 * session_id, in the same transaction). At least one of invite_id and
 * key_hash is given (STORE_E_INVALID otherwise); name is 1..STORE_BAN_NAME_MAX
 * characters without control characters. An unknown group or invite is
 * STORE_E_NOT_FOUND. */
int store_ban_add(struct store *s, int64_t now, const char *actor, int64_t group_id,
                  int64_t session_id, int64_t invite_id, const uint8_t *key_hash, const char *name,
                  int64_t *id);

/* Lift an active ban (audit "unban", target "ban:<id>"). group_id 0: any
 * group; otherwise a ban of another group is STORE_E_NOT_FOUND, as is a
 * lifted one. */
int store_ban_lift(struct store *s, int64_t now, const char *actor, int64_t group_id,
                   int64_t session_id, int64_t id);

/* Is someone with this personal invite (0: none) or participant key digest
 * (NULL: none) banned from group_id? 0 with *ban_id, or STORE_E_NOT_FOUND. */
int store_ban_find(struct store *s, int64_t group_id, int64_t invite_id, const uint8_t *key_hash,
                   int64_t *ban_id);

/* Bans of group_id (0: every group), newest first, lifted ones only with
 * include_lifted; at most limit rows (0: no limit). Free with
 * store_ban_list_free. */
int store_ban_list(struct store *s, int64_t group_id, bool include_lifted, int limit,
                   struct store_ban **out, size_t *n);
void store_ban_list_free(struct store_ban *v, size_t n);

#endif
