/*
 * The store's schema as numbered migrations, once for each engine. Entry i
 * takes a database from schema version i to i + 1 (SQLite: PRAGMA
 * user_version; PostgreSQL: kamrat_meta.schema_version); store_open runs
 * each missing one in its own transaction and sets the version with it.
 * Never edit a migration that has shipped: append the next one, to both
 * lists, with the same tables, columns, constraints and names.
 *
 * No table may hold message text (DESIGN.md §4); test_store's canary lists
 * every TEXT column, so a new one has to be looked at.
 */
#include "store_int.h"

#include "util.h"

const char *const store__migrations[] = {
    /* 1: the first schema. application_id marks the file as kamrat's, so
     * store_open can refuse some other program's SQLite database. */
    "PRAGMA application_id = 1263358548;" /* 'KMRT' */

    "CREATE TABLE groups ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " language TEXT NOT NULL CHECK (language IN ('fi', 'sv', 'en')),"
    " description TEXT NOT NULL DEFAULT '',"
    " agreement TEXT NOT NULL DEFAULT '',"
    " max_participants INTEGER NOT NULL DEFAULT 12 CHECK (max_participants BETWEEN 1 AND 500),"
    " history TEXT NOT NULL DEFAULT 'since_admitted'"
    "  CHECK (history IN ('since_admitted', 'whole_session')),"
    " private_messages TEXT NOT NULL DEFAULT 'leaders'"
    "  CHECK (private_messages IN ('off', 'leaders', 'everyone')),"
    " created_at INTEGER NOT NULL);"

    "CREATE TABLE leaders ("
    " id INTEGER PRIMARY KEY,"
    " username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " password_hash TEXT NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
    " created_at INTEGER NOT NULL);"

    "CREATE TABLE group_leaders ("
    " group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " leader_id INTEGER NOT NULL REFERENCES leaders (id) ON DELETE CASCADE,"
    " PRIMARY KEY (group_id, leader_id)) WITHOUT ROWID;"
    "CREATE INDEX group_leaders_leader ON group_leaders (leader_id);"

    "CREATE TABLE schedules ("
    " id INTEGER PRIMARY KEY,"
    " group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),"
    " minute_of_day INTEGER NOT NULL CHECK (minute_of_day BETWEEN 0 AND 1439),"
    " duration_min INTEGER NOT NULL CHECK (duration_min BETWEEN 15 AND 600),"
    " tz TEXT NOT NULL,"
    " lobby_min INTEGER NOT NULL CHECK (lobby_min BETWEEN 0 AND 120),"
    " starts_on INTEGER NOT NULL,"
    " until INTEGER CHECK (until IS NULL OR until > starts_on),"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX schedules_group ON schedules (group_id);"

    /* tz: the zone a session's times are shown in; a one-off has no
     * schedule to take it from. */
    "CREATE TABLE sessions ("
    " id INTEGER PRIMARY KEY,"
    " group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " schedule_id INTEGER REFERENCES schedules (id) ON DELETE SET NULL,"
    " starts_at INTEGER NOT NULL,"
    " ends_at INTEGER NOT NULL,"
    " lobby_min INTEGER NOT NULL CHECK (lobby_min BETWEEN 0 AND 120),"
    " tz TEXT NOT NULL,"
    " cancelled_at INTEGER,"
    " created_at INTEGER NOT NULL,"
    " CHECK (ends_at > starts_at),"
    " UNIQUE (schedule_id, starts_at));"
    "CREATE INDEX sessions_group ON sessions (group_id, starts_at);"
    "CREATE INDEX sessions_ends ON sessions (ends_at);"

    "CREATE TABLE invites ("
    " id INTEGER PRIMARY KEY,"
    " group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " code_hash BLOB NOT NULL UNIQUE CHECK (length(code_hash) = 32)," /* SHA-256 of the code */
    " kind TEXT NOT NULL CHECK (kind IN ('group', 'personal')),"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL CHECK (expires_at > created_at),"
    " revoked_at INTEGER,"
    " used_at INTEGER);"
    "CREATE INDEX invites_group ON invites (group_id);"

    "CREATE TABLE bans ("
    " id INTEGER PRIMARY KEY,"
    " group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " invite_id INTEGER REFERENCES invites (id) ON DELETE SET NULL,"
    " participant_key_hash BLOB,"
    " created_at INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " lifted_at INTEGER);"
    "CREATE INDEX bans_group ON bans (group_id);"
    "CREATE INDEX bans_invite ON bans (invite_id);"

    /* No foreign keys: the audit outlives the rows it names. Append-only;
     * the retention job (TESTPLAN F4) will get its own way past these
     * triggers when it is written. */
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " ts INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target TEXT,"
    " group_id INTEGER,"
    " session_id INTEGER);"
    "CREATE INDEX audit_group ON audit (group_id);"
    "CREATE INDEX audit_ts ON audit (ts);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",

    /* 2: a ban keeps the pseudonym the person had, so the leaders' list of
     * bans and kamratctl say whom each is about (protocol/README.md §9: a
     * pseudonym, never message text). Rows from before have none: ''. A
     * hello looks bans up by group and key digest; that index also serves
     * every lookup bans_group did, so it goes. */
    "ALTER TABLE bans ADD COLUMN name TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX bans_group_key ON bans (group_id, participant_key_hash);"
    "DROP INDEX bans_group;",

    /* 3: leader logins, for several nodes: a leader logs in on one node and
     * enters a room on another (docs/admin.md "Several nodes"). One node
     * keeps its logins in memory and never uses this table. The SHA-256 of
     * the token only, never the token; times in ms. */
    "CREATE TABLE logins ("
    " token_hash BLOB PRIMARY KEY,"
    " leader_id INTEGER NOT NULL REFERENCES leaders (id) ON DELETE CASCADE,"
    " started_at INTEGER NOT NULL,"
    " used_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX logins_leader ON logins (leader_id);",

    /* 4: a leader's login generation, which a new password and disabling the
     * account move on. A login keeps the generation it was made under and
     * counts only while the leader's is still that (leaders.h), so kamratd
     * notices a change kamratctl made from its own process, one node keeping
     * its logins in memory as well as several sharing this table; a seat in
     * a room keeps it too (room_store_changed). Logins of before start at 0,
     * like their leaders. */
    "ALTER TABLE leaders"
    " ADD COLUMN login_gen INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE logins ADD COLUMN login_gen INTEGER NOT NULL DEFAULT 0;",

    /* 5: what an unplanned restart must not lose (protocol/README.md §4
     * "After a restart"): that a leader opened the session, and the SHA-256
     * of the participant key of each person admitted to it, deleted when
     * they are removed and when the session ends. No pseudonym, no text.
     * One node now also keeps its logins in the logins table (by digest). */
    "ALTER TABLE sessions ADD COLUMN opened_at INTEGER;"
    "CREATE TABLE admitted ("
    " session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
    " key_hash BLOB NOT NULL CHECK (length(key_hash) = 32),"
    " PRIMARY KEY (session_id, key_hash)) WITHOUT ROWID;",

    /* 6: an account's role. A coordinator logs in on the same page and with
     * the same throttling as a leader, administers groups from the console
     * (protocol/README.md §12), and never enters a room nor leads a group.
     * One table keeps usernames unique across both, so one login finds one
     * account. Accounts of before are leaders. */
    "ALTER TABLE leaders"
    " ADD COLUMN role TEXT NOT NULL DEFAULT 'leader'"
    " CHECK (role IN ('leader', 'coordinator'));",

    /* 7: who made an invite (the audit's actor, e.g. "leader:aino"), so the
     * console lists it with the invite. Invites made before say ''. */
    "ALTER TABLE invites ADD COLUMN created_by TEXT NOT NULL DEFAULT '';",
    /* 8: may a group's leaders hold a session "now", unplanned (the console,
     * kamratctl group --adhoc-sessions)? Off for every group, as before. */
    ("ALTER TABLE groups ADD COLUMN adhoc_sessions INTEGER NOT NULL DEFAULT 0"
     " CHECK (adhoc_sessions IN (0, 1));"),
    /* 9: setup links and archived groups. A coordinator adds a leader (or
     * gives one a new password) by a one-time link the leader opens to
     * choose their own password (protocol/README.md §12 "Setup links"):
     * the SHA-256 of its code only, never the code, with its expiry; a
     * spent or replaced code stays, so the page can tell a used link from
     * an unknown one. An account awaiting its setup has the password ''
     * (which no login matches). An archived group (archived_at set) takes
     * no new sessions, schedules or invites and keeps its rows. */
    "ALTER TABLE groups ADD COLUMN archived_at INTEGER;"
    "CREATE TABLE setup_codes ("
    " id INTEGER PRIMARY KEY,"
    " leader_id INTEGER NOT NULL REFERENCES leaders (id) ON DELETE CASCADE,"
    " code_hash BLOB NOT NULL UNIQUE CHECK (length(code_hash) = 32),"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL CHECK (expires_at > created_at),"
    " used_at INTEGER,"
    " replaced_at INTEGER);"
    "CREATE INDEX setup_codes_leader ON setup_codes (leader_id);",
    /* 10: attendance figures for funders (docs/admin.md "Attendance"):
     * counts only, per session, written by kamratd's rooms while the
     * session runs and when it ends. No pseudonym, no key digest, nothing
     * per person: the room keeps who it has counted in memory only. A
     * session is held when sessions.opened_at is set. */
    "CREATE TABLE attendance ("
    " session_id INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,"
    " ended_at INTEGER,"
    " admitted INTEGER NOT NULL DEFAULT 0 CHECK (admitted >= 0),"
    " peak INTEGER NOT NULL DEFAULT 0 CHECK (peak >= 0),"
    " leaders INTEGER NOT NULL DEFAULT 0 CHECK (leaders >= 0));",
};

/*
 * The same schema in PostgreSQL's words: bigint identities for INTEGER
 * PRIMARY KEY, bytea for BLOB, unique indexes on lower(... COLLATE "C")
 * for NOCASE (store_int.h), a trigger function for RAISE(ABORT). There is
 * no application_id: kamrat_meta (db_pg.c) marks the database as kamrat's.
 */
const char *const store__migrations_pg[] = {
    /* 1 */
    "CREATE TABLE groups ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " name text NOT NULL,"
    " language text NOT NULL CHECK (language IN ('fi', 'sv', 'en')),"
    " description text NOT NULL DEFAULT '',"
    " agreement text NOT NULL DEFAULT '',"
    " max_participants integer NOT NULL DEFAULT 12 CHECK (max_participants BETWEEN 1 AND 500),"
    " history text NOT NULL DEFAULT 'since_admitted'"
    "  CHECK (history IN ('since_admitted', 'whole_session')),"
    " private_messages text NOT NULL DEFAULT 'leaders'"
    "  CHECK (private_messages IN ('off', 'leaders', 'everyone')),"
    " created_at bigint NOT NULL);"
    "CREATE UNIQUE INDEX groups_name ON groups (lower(name COLLATE \"C\"));"

    "CREATE TABLE leaders ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " username text NOT NULL,"
    " password_hash text NOT NULL,"
    " disabled integer NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
    " created_at bigint NOT NULL);"
    "CREATE UNIQUE INDEX leaders_username ON leaders (lower(username COLLATE \"C\"));"

    "CREATE TABLE group_leaders ("
    " group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " leader_id bigint NOT NULL REFERENCES leaders (id) ON DELETE CASCADE,"
    " PRIMARY KEY (group_id, leader_id));"
    "CREATE INDEX group_leaders_leader ON group_leaders (leader_id);"

    "CREATE TABLE schedules ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " weekday integer NOT NULL CHECK (weekday BETWEEN 1 AND 7),"
    " minute_of_day integer NOT NULL CHECK (minute_of_day BETWEEN 0 AND 1439),"
    " duration_min integer NOT NULL CHECK (duration_min BETWEEN 15 AND 600),"
    " tz text NOT NULL,"
    " lobby_min integer NOT NULL CHECK (lobby_min BETWEEN 0 AND 120),"
    " starts_on bigint NOT NULL,"
    " until bigint CHECK (until IS NULL OR until > starts_on),"
    " created_at bigint NOT NULL);"
    "CREATE INDEX schedules_group ON schedules (group_id);"

    "CREATE TABLE sessions ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " schedule_id bigint REFERENCES schedules (id) ON DELETE SET NULL,"
    " starts_at bigint NOT NULL,"
    " ends_at bigint NOT NULL,"
    " lobby_min integer NOT NULL CHECK (lobby_min BETWEEN 0 AND 120),"
    " tz text NOT NULL,"
    " cancelled_at bigint,"
    " created_at bigint NOT NULL,"
    " CHECK (ends_at > starts_at),"
    " UNIQUE (schedule_id, starts_at));"
    "CREATE INDEX sessions_group ON sessions (group_id, starts_at);"
    "CREATE INDEX sessions_ends ON sessions (ends_at);"

    "CREATE TABLE invites ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " code_hash bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),"
    " kind text NOT NULL CHECK (kind IN ('group', 'personal')),"
    " created_at bigint NOT NULL,"
    " expires_at bigint NOT NULL CHECK (expires_at > created_at),"
    " revoked_at bigint,"
    " used_at bigint);"
    "CREATE INDEX invites_group ON invites (group_id);"

    "CREATE TABLE bans ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,"
    " invite_id bigint REFERENCES invites (id) ON DELETE SET NULL,"
    " participant_key_hash bytea,"
    " created_at bigint NOT NULL,"
    " created_by text NOT NULL,"
    " lifted_at bigint);"
    "CREATE INDEX bans_group ON bans (group_id);"
    "CREATE INDEX bans_invite ON bans (invite_id);"

    "CREATE TABLE audit ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " ts bigint NOT NULL,"
    " actor text NOT NULL,"
    " action text NOT NULL,"
    " target text,"
    " group_id bigint,"
    " session_id bigint);"
    "CREATE INDEX audit_group ON audit (group_id);"
    "CREATE INDEX audit_ts ON audit (ts);"
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION 'audit is append-only'; END$$;"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();",

    /* 2 */
    "ALTER TABLE bans ADD COLUMN name text NOT NULL DEFAULT '';"
    "CREATE INDEX bans_group_key ON bans (group_id, participant_key_hash);"
    "DROP INDEX bans_group;",

    /* 3 */
    "CREATE TABLE logins ("
    " token_hash bytea PRIMARY KEY,"
    " leader_id bigint NOT NULL REFERENCES leaders (id) ON DELETE CASCADE,"
    " started_at bigint NOT NULL,"
    " used_at bigint NOT NULL);"
    "CREATE INDEX logins_leader ON logins (leader_id);",

    /* 4 */
    "ALTER TABLE leaders"
    " ADD COLUMN login_gen bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE logins ADD COLUMN login_gen bigint NOT NULL DEFAULT 0;",

    /* 5 */
    "ALTER TABLE sessions ADD COLUMN opened_at bigint;"
    "CREATE TABLE admitted ("
    " session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
    " key_hash bytea NOT NULL CHECK (length(key_hash) = 32),"
    " PRIMARY KEY (session_id, key_hash));",

    /* 6 */
    "ALTER TABLE leaders"
    " ADD COLUMN role text NOT NULL DEFAULT 'leader'"
    " CHECK (role IN ('leader', 'coordinator'));",

    /* 7 */
    "ALTER TABLE invites ADD COLUMN created_by text NOT NULL DEFAULT '';",
    /* 8 */
    ("ALTER TABLE groups ADD COLUMN adhoc_sessions integer NOT NULL DEFAULT 0"
     " CHECK (adhoc_sessions IN (0, 1));"),
    /* 9 */
    "ALTER TABLE groups ADD COLUMN archived_at bigint;"
    "CREATE TABLE setup_codes ("
    " id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " leader_id bigint NOT NULL REFERENCES leaders (id) ON DELETE CASCADE,"
    " code_hash bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),"
    " created_at bigint NOT NULL,"
    " expires_at bigint NOT NULL CHECK (expires_at > created_at),"
    " used_at bigint,"
    " replaced_at bigint);"
    "CREATE INDEX setup_codes_leader ON setup_codes (leader_id);",
    /* 10 */
    "CREATE TABLE attendance ("
    " session_id bigint PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,"
    " ended_at bigint,"
    " admitted integer NOT NULL DEFAULT 0 CHECK (admitted >= 0),"
    " peak integer NOT NULL DEFAULT 0 CHECK (peak >= 0),"
    " leaders integer NOT NULL DEFAULT 0 CHECK (leaders >= 0));",
};

const int store__migration_count = (int)ARRAY_LEN(store__migrations);

_Static_assert(ARRAY_LEN(store__migrations) == ARRAY_LEN(store__migrations_pg),
               "every migration is written for both engines");
