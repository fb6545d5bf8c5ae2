/*
 * The console's schedules, sessions and bans of a group (protocol/README.md
 * §12), with kamratctl's rules: times are typed in the session's zone and
 * read with schedule.h, which is why these run on the store worker only
 * (schedule.h sets TZ; the worker is the one thread that does).
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "schedule.h"
#include "util.h"

#define LIST_LIMIT_MAX 100
#define CURSOR_MAX INT64_C(999999999999999)
#define LOBBY_DEFAULT 15 /* minutes, as kamratctl's --lobby */

static json_t *ms_or_null(int64_t t)
{
    return t ? json_integer((json_int_t)t * 1000) : json_null();
}

/* The local date of t in tz ("YYYY-MM-DD"). */
static json_t *local_date(const char *tz, int64_t t)
{
    char buf[SCHEDULE_FORMAT_LEN];
    if (schedule_format_local(tz, t, buf, sizeof(buf)) < 0)
        return json_null();
    buf[10] = '\0';
    return json_string(buf);
}

/* Is the path's group one the caller may act on, and there? Answers and
 * returns false when not. */
static bool group_there(struct store *s, struct admin_job *j)
{
    if (!admin_may_group(s, j, j->id[0]))
        return false;
    struct store_group g;
    int rc = store_group_get_id(s, j->id[0], &g);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return false;
    }
    store_group_clear(&g);
    return true;
}

/* The page [cursor, cursor + limit) of n rows, made by row(i): an offset
 * cursor, as the groups' list. */
static void reply_offset_page(struct admin_job *j, const char *key, size_t n,
                              json_t *(*row)(const void *rows, size_t i, int64_t now),
                              const void *rows)
{
    json_t *list = json_array();
    size_t from = (size_t)j->cursor, to = from + (size_t)j->limit;
    for (size_t i = from; i < n && i < to; i++)
        json_array_append_new(list, row(rows, i, j->now));
    char next[24];
    snprintf(next, sizeof(next), "%zu", to);
    admin_reply_page(j, key, list, to < n ? next : NULL);
}

/* ---- schedules ---------------------------------------------------------- */

static json_t *schedule_json(const struct store_schedule *sc, int64_t now)
{
    (void)now;
    char hm[16];
    snprintf(hm, sizeof(hm), "%02d:%02d", sc->minute_of_day / 60, sc->minute_of_day % 60);
    return json_pack("{sI sI ss ss ss si si so so sI}", "id", (json_int_t)sc->id, "group_id",
                     (json_int_t)sc->group_id, "weekday", schedule_weekdays[sc->weekday - 1],
                     "time", hm, "tz", sc->tz, "duration_min", sc->duration_min, "lobby_min",
                     sc->lobby_min, "from", local_date(sc->tz, sc->starts_on), "until",
                     sc->until ? local_date(sc->tz, sc->until - 1) : json_null(), "created_at",
                     (json_int_t)sc->created_at * 1000);
}

static json_t *schedule_row(const void *rows, size_t i, int64_t now)
{
    return schedule_json((const struct store_schedule *)rows + i, now);
}

static void list_schedules(struct store *s, struct admin_job *j)
{
    if (!group_there(s, j))
        return;
    struct store_schedule *v = NULL;
    size_t n = 0;
    int rc = store_schedule_list(s, j->id[0], &v, &n);
    if (rc < 0)
        admin_reply_store(j, rc);
    else
        reply_offset_page(j, "schedules", n, schedule_row, v);
    free(v);
}

/* An integer member in lo..hi into *out (left alone when not given). */
static bool member_range(const struct admin_job *j, const char *key, int lo, int hi, int *out)
{
    json_t *v = admin_member(j, key);
    if (!v)
        return true;
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi)
        return false;
    *out = (int)n;
    return true;
}

/* A string member, or "" when not given. */
static const char *member_text(const struct admin_job *j, const char *key)
{
    json_t *v = admin_member(j, key);
    return v ? json_string_value(v) : "";
}

/* The local day `text` ("YYYY-MM-DD") in tz plus days, into *out. */
static bool day_start(const char *tz, const char *text, int days, int64_t *out)
{
    int y, m, d;
    return schedule_parse_date(text, &y, &m, &d) == 0 &&
           schedule_local_midnight(tz, y, m, d, days, out) == 0;
}

/* The body of a new schedule into sc: NULL, or the member at fault. The
 * rules are kamratctl schedule add's. */
static const char *read_schedule(const struct admin_job *j, struct store_schedule *sc)
{
    const char *tz = member_text(j, "tz");
    if (!schedule_tz_valid(tz))
        return "tz";
    snprintf(sc->tz, sizeof(sc->tz), "%s", tz);
    if ((sc->weekday = schedule_parse_weekday(member_text(j, "weekday"))) < 0)
        return "weekday";
    if ((sc->minute_of_day = schedule_parse_minute(member_text(j, "time"))) < 0)
        return "time";
    if (!member_range(j, "duration_min", 15, 600, &sc->duration_min))
        return "duration_min";
    if (!member_range(j, "lobby_min", 0, 120, &sc->lobby_min))
        return "lobby_min";
    sc->starts_on = j->now;
    if (admin_member(j, "from") && !day_start(tz, member_text(j, "from"), 0, &sc->starts_on))
        return "from";
    /* until names the last day that may have a session. */
    if (admin_member(j, "until") && (!day_start(tz, member_text(j, "until"), 1, &sc->until) ||
                                     sc->until <= sc->starts_on || sc->until <= j->now))
        return "until";
    return NULL;
}

/* Add, then plan its sessions at once (as kamratctl does), so the group's
 * sessions show them before the next expansion round. */
static void add_schedule(struct store *s, struct admin_job *j)
{
    if (!group_there(s, j))
        return;
    struct store_schedule sc = {.group_id = j->id[0], .lobby_min = LOBBY_DEFAULT};
    const char *bad = read_schedule(j, &sc);
    int rc;
    if (bad) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", bad);
        return;
    }
    if ((rc = store_schedule_add(s, j->now, j->actor, &sc, &sc.id)) < 0) {
        admin_reply_store(j, rc);
        return;
    }
    sc.created_at = j->now;
    int added = store_expand_schedules(s, j->now, STORE_HORIZON);
    json_t *doc = schedule_json(&sc, j->now);
    /* A failed planning leaves the schedule: the next round plans it. */
    json_object_set_new(doc, "sessions_added", added < 0 ? json_null() : json_integer(added));
    admin_reply(j, HTTP_STATUS_CREATED, doc);
}

static void remove_schedule(struct store *s, struct admin_job *j)
{
    if (!group_there(s, j))
        return;
    struct store_schedule *v = NULL;
    size_t n = 0;
    int rc = store_schedule_list(s, j->id[0], &v, &n);
    bool ours = false;
    for (size_t i = 0; rc == 0 && i < n; i++)
        ours = ours || v[i].id == j->id[1];
    free(v);
    if (rc == 0 && !ours)
        rc = STORE_E_NOT_FOUND; /* another group's answers as none */
    if (rc == 0)
        rc = store_schedule_remove(s, j->now, j->actor, j->id[1]);
    if (rc < 0)
        admin_reply_store(j, rc);
    else
        admin_reply(j, HTTP_STATUS_OK,
                    json_pack("{sI sb}", "id", (json_int_t)j->id[1], "removed", 1));
}

/* ---- sessions ----------------------------------------------------------- */

static json_t *session_json(const struct store_session *se, int64_t now)
{
    char local[SCHEDULE_FORMAT_LEN];
    if (schedule_format_local(se->tz, se->starts_at, local, sizeof(local)) < 0)
        local[0] = '\0';
    bool held = se->opened_at != 0;
    return json_pack(
        "{sI sI so ss sb sI sI sI ss ss si so}", "id", (json_int_t)se->id, "group_id",
        (json_int_t)se->group_id, "schedule_id",
        se->schedule_id ? json_integer(se->schedule_id) : json_null(), "state",
        store_session_state_name(store_session_state(se, now)), "held", held, "starts_at",
        (json_int_t)se->starts_at * 1000, "ends_at", (json_int_t)se->ends_at * 1000, "ended_at",
        (json_int_t)store_session_ended_at(se) * 1000, "local_start", local, "tz", se->tz,
        "lobby_min", se->lobby_min, "cancelled_at", ms_or_null(held ? 0 : se->cancelled_at));
}

static json_t *session_row(const void *rows, size_t i, int64_t now)
{
    return session_json((const struct store_session *)rows + i, now);
}

/* Has se ended by now (held or not), or was it cancelled and its time gone? */
static bool is_past(const struct store_session *se, int64_t now)
{
    return store_session_state(se, now) == STORE_SESSION_ENDED || se->ends_at <= now;
}

/* Upcoming (by start: planned, open, running, and cancelled ones whose time
 * has not come) or past (newest first). */
static void list_sessions(struct store *s, struct admin_job *j)
{
    const struct admin_arg *when = admin_arg(j, "when");
    bool past = when && strcmp(when->text, "past") == 0;
    if (when && !past && strcmp(when->text, "upcoming") != 0) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "when");
        return;
    }
    if (!group_there(s, j))
        return;
    struct store_session *v = NULL;
    size_t n = 0, kept = 0;
    int rc = store_session_list(s, j->id[0], past ? INT64_MIN : j->now, &v, &n);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (is_past(&v[i], j->now) == past)
            v[kept++] = v[i];
    for (size_t i = 0; past && i < kept / 2; i++) {
        struct store_session t = v[i];
        v[i] = v[kept - 1 - i];
        v[kept - 1 - i] = t;
    }
    reply_offset_page(j, "sessions", kept, session_row, v);
    free(v);
}

/* Does the group have a session open now (lobby or running)? */
static int open_session(struct store *s, int64_t group_id, int64_t now, bool *open)
{
    struct store_session *v = NULL;
    size_t n = 0;
    int rc = store_session_list(s, group_id, now, &v, &n);
    *open = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        enum store_session_state st = store_session_state(&v[i], now);
        *open = *open || st == STORE_SESSION_LOBBY || st == STORE_SESSION_RUNNING;
    }
    free(v);
    return rc;
}

/* A one-off at `start` (local, in tz), as kamratctl session add; or, with
 * "now", an unplanned session from now on, for a group that allows them. */
static void add_session(struct store *s, struct admin_job *j)
{
    json_t *now_member = admin_member(j, "now");
    bool now = now_member && json_is_true(now_member);
    const char *tz = member_text(j, "tz");
    struct store_session se = {.group_id = j->id[0], .lobby_min = LOBBY_DEFAULT};
    int duration = 0;
    const char *bad = NULL;
    if (now_member && (!now || admin_member(j, "start") || admin_member(j, "lobby_min")))
        bad = "now"; /* now is true, and alone with duration and tz */
    else if (!now_member && !admin_member(j, "start"))
        bad = "start";
    else if (!schedule_tz_valid(tz))
        bad = "tz";
    else if (!member_range(j, "duration_min", 15, 600, &duration))
        bad = "duration_min";
    else if (!member_range(j, "lobby_min", 0, 120, &se.lobby_min))
        bad = "lobby_min";
    else if (!now && (schedule_parse_local(tz, member_text(j, "start"), &se.starts_at) < 0 ||
                      se.starts_at <= j->now))
        bad = "start"; /* kamratctl: "in the past" */
    if (bad) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", bad);
        return;
    }
    if (!group_there(s, j))
        return;
    int rc = 0;
    if (now) {
        struct store_group g;
        bool open = false;
        if ((rc = store_group_get_id(s, j->id[0], &g)) < 0 ||
            (rc = open_session(s, j->id[0], j->now, &open)) < 0) {
            admin_reply_store(j, rc);
            return;
        }
        bool allowed = g.adhoc_sessions;
        store_group_clear(&g);
        if (!allowed) {
            admin_reply_error(j, HTTP_STATUS_FORBIDDEN, "adhoc_off", NULL);
            return;
        }
        if (open) {
            admin_reply_error(j, HTTP_STATUS_CONFLICT, "session_open", NULL);
            return;
        }
        se.starts_at = j->now;
        se.lobby_min = 0;
    }
    se.ends_at = se.starts_at + (int64_t)duration * 60;
    snprintf(se.tz, sizeof(se.tz), "%s", tz);
    if ((rc = store_session_add(s, j->now, j->actor, &se, &se.id)) < 0)
        admin_reply_store(j, rc);
    else
        admin_reply(j, HTTP_STATUS_CREATED, session_json(&se, j->now));
}

/* The path's session, of the path's group: 0, or the answer is made. */
static int path_session(struct store *s, struct admin_job *j, struct store_session *se)
{
    if (!group_there(s, j))
        return -1;
    int rc = store_session_get(s, j->id[1], se);
    if (rc == 0 && se->group_id != j->id[0])
        rc = STORE_E_NOT_FOUND;
    if (rc < 0)
        admin_reply_store(j, rc);
    return rc < 0 ? -1 : 0;
}

/* After a change to the path's session: answer it as it is now, or the
 * change's error (STORE_E_INVALID: its state forbade it). */
static void reply_session(struct store *s, struct admin_job *j, int rc)
{
    struct store_session se;
    if (rc == STORE_E_INVALID)
        admin_reply_error(j, HTTP_STATUS_CONFLICT, "wrong_state", NULL);
    else if (rc < 0 || (rc = store_session_get(s, j->id[1], &se)) < 0)
        admin_reply_store(j, rc);
    else
        admin_reply(j, HTTP_STATUS_OK, session_json(&se, j->now));
}

static void cancel_session(struct store *s, struct admin_job *j)
{
    struct store_session se;
    if (path_session(s, j, &se) == 0)
        reply_session(s, j, store_session_cancel(s, j->now, j->actor, j->id[1]));
}

/* A leader starts a planned session now: its lobby opens, they enter and
 * open it. Early by more than [limits] early_start: too_early. */
static void start_session(struct store *s, struct admin_job *j)
{
    struct store_session se;
    if (path_session(s, j, &se) < 0)
        return;
    enum store_session_state st = store_session_state(&se, j->now);
    if (st == STORE_SESSION_LOBBY || st == STORE_SESSION_RUNNING) {
        admin_reply(j, HTTP_STATUS_OK, session_json(&se, j->now)); /* open already */
    } else if (st == STORE_SESSION_SCHEDULED && se.starts_at - j->now > j->early_start) {
        admin_reply(j, HTTP_STATUS_CONFLICT,
                    json_pack("{ss sI}", "error", "too_early", "start_from",
                              (json_int_t)(se.starts_at - j->early_start) * 1000));
    } else {
        reply_session(s, j, store_session_start(s, j->now, j->actor, j->id[1], j->early_start));
    }
}

/* ---- bans --------------------------------------------------------------- */

/* What a ban is bound to, as kamratctl ban list shows it; never the
 * invite's id or the key's digest. */
static const char *bound_to(const struct store_ban *b)
{
    if (b->invite_id && b->has_key)
        return "invite+key";
    return b->invite_id ? "invite" : "key";
}

/* Newest first; the cursor is the id of the last ban of the page before. */
static void list_bans(struct store *s, struct admin_job *j)
{
    const struct admin_arg *all = admin_arg(j, "all");
    if (all && strcmp(all->text, "yes") != 0 && strcmp(all->text, "no") != 0) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "all");
        return;
    }
    if (!group_there(s, j))
        return;
    struct store_ban *v = NULL;
    size_t n = 0;
    int rc = store_ban_list(s, j->id[0], all && strcmp(all->text, "yes") == 0, 0, &v, &n);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    json_t *list = json_array();
    int64_t last = 0;
    bool more = false;
    for (size_t i = 0; i < n && !more; i++) {
        const struct store_ban *b = &v[i];
        if (j->cursor && b->id >= j->cursor)
            continue;
        if (json_array_size(list) == (size_t)j->limit) {
            more = true;
            break;
        }
        last = b->id;
        json_array_append_new(
            list, json_pack("{sI ss ss sI ss so}", "id", (json_int_t)b->id, "name", b->name,
                            "bound_to", bound_to(b), "created_at", (json_int_t)b->created_at * 1000,
                            "created_by", b->created_by, "lifted_at", ms_or_null(b->lifted_at)));
    }
    char next[24];
    snprintf(next, sizeof(next), "%lld", (long long)last);
    admin_reply_page(j, "bans", list, more ? next : NULL);
    store_ban_list_free(v, n);
}

static void lift_ban(struct store *s, struct admin_job *j)
{
    if (!group_there(s, j))
        return;
    /* A ban lifted already, or of another group, is not found. */
    int rc = store_ban_lift(s, j->now, j->actor, j->id[0], 0, j->id[1]);
    if (rc < 0)
        admin_reply_store(j, rc);
    else
        admin_reply(j, HTTP_STATUS_OK,
                    json_pack("{sI sI}", "id", (json_int_t)j->id[1], "lifted_at",
                              (json_int_t)j->now * 1000));
}

/* ---- the table ---------------------------------------------------------- */

static const struct admin_arg_spec page_args[] = {
    {"cursor", ADMIN_ARG_CURSOR, CURSOR_MAX},
    {"limit", ADMIN_ARG_LIMIT, LIST_LIMIT_MAX},
    {0},
};

static const struct admin_arg_spec session_args[] = {
    {"when", ADMIN_ARG_TEXT, 8},
    {"cursor", ADMIN_ARG_CURSOR, CURSOR_MAX},
    {"limit", ADMIN_ARG_LIMIT, LIST_LIMIT_MAX},
    {0},
};

static const struct admin_arg_spec ban_args[] = {
    {"all", ADMIN_ARG_TEXT, 3},
    {"cursor", ADMIN_ARG_CURSOR, CURSOR_MAX},
    {"limit", ADMIN_ARG_LIMIT, LIST_LIMIT_MAX},
    {0},
};

static const struct admin_member_spec schedule_members[] = {
    {"weekday", ADMIN_STRING, true},       {"time", ADMIN_STRING, true},
    {"duration_min", ADMIN_INTEGER, true}, {"tz", ADMIN_STRING, true},
    {"lobby_min", ADMIN_INTEGER, false},   {"from", ADMIN_STRING, false},
    {"until", ADMIN_STRING, false},        {0},
};

static const struct admin_member_spec session_members[] = {
    {"duration_min", ADMIN_INTEGER, true}, {"tz", ADMIN_STRING, true},
    {"start", ADMIN_STRING, false},        {"now", ADMIN_BOOLEAN, false},
    {"lobby_min", ADMIN_INTEGER, false},   {0},
};

#define BOTH (ADMIN_COORDINATOR | ADMIN_LEADER)

const struct admin_endpoint admin_sessions_endpoints[] = {
    {"GET", "groups/#/schedules", ADMIN_COORDINATOR, page_args, NULL, list_schedules},
    {"POST", "groups/#/schedules", ADMIN_COORDINATOR, NULL, schedule_members, add_schedule},
    {"DELETE", "groups/#/schedules/#", ADMIN_COORDINATOR, NULL, NULL, remove_schedule},
    {"GET", "groups/#/sessions", BOTH, session_args, NULL, list_sessions},
    {"POST", "groups/#/sessions", BOTH, NULL, session_members, add_session},
    {"POST", "groups/#/sessions/#/cancel", BOTH, NULL, NULL, cancel_session},
    {"POST", "groups/#/sessions/#/start", ADMIN_LEADER, NULL, NULL, start_session},
    {"GET", "groups/#/bans", ADMIN_COORDINATOR, ban_args, NULL, list_bans},
    {"POST", "groups/#/bans/#/lift", ADMIN_COORDINATOR, NULL, NULL, lift_ban},
    {0},
};
