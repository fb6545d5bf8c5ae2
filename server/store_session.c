/* store: weekly schedules, the sessions made from them, and one-offs. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klog.h"
#include "schedule.h"
#include "store_int.h"
#include "util.h"

#define WEEK INT64_C(604800)
#define MAX_HORIZON (106 * WEEK) /* two years: bounds the work of one call */

static void read_schedule(struct db_stmt *st, void *row)
{
    struct store_schedule *sc = row;
    *sc = (struct store_schedule){
        .id = db_col_int64(st, 0),
        .group_id = db_col_int64(st, 1),
        .weekday = (int)db_col_int64(st, 2),
        .minute_of_day = (int)db_col_int64(st, 3),
        .duration_min = (int)db_col_int64(st, 4),
        .lobby_min = (int)db_col_int64(st, 5),
        .starts_on = db_col_int64(st, 7),
        .until = db_col_int64(st, 8),
        .created_at = db_col_int64(st, 9),
    };
    store__col_copy(st, 6, sc->tz, sizeof(sc->tz));
}

void store__read_session(struct db_stmt *st, void *row)
{
    struct store_session *se = row;
    *se = (struct store_session){
        .id = db_col_int64(st, 0),
        .group_id = db_col_int64(st, 1),
        .schedule_id = db_col_int64(st, 2),
        .starts_at = db_col_int64(st, 3),
        .ends_at = db_col_int64(st, 4),
        .lobby_min = (int)db_col_int64(st, 5),
        .cancelled_at = db_col_int64(st, 7),
        .opened_at = db_col_int64(st, 8),
    };
    store__col_copy(st, 6, se->tz, sizeof(se->tz));
}

static int schedule_rows(struct store *s, int64_t group_id, struct store_schedule **out, size_t *n)
{
    struct db_stmt *st = store__stmt(s, ST_SCHEDULE_LIST);
    store__bind_id(st, 1, group_id);
    int e;
    *out = store__rows(st, sizeof(**out), read_schedule, NULL, n, &e);
    return e;
}

int store_schedule_add(struct store *s, int64_t now, const char *actor,
                       const struct store_schedule *sc, int64_t *id)
{
    if (sc->weekday < 1 || sc->weekday > 7 || sc->minute_of_day < 0 || sc->minute_of_day > 1439 ||
        sc->duration_min < 15 || sc->duration_min > 600 || sc->lobby_min < 0 ||
        sc->lobby_min > 120 || !schedule_tz_valid(sc->tz) ||
        (sc->until && sc->until <= sc->starts_on))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = store__group_open(s, sc->group_id)) < 0) {
        store__rollback(s);
        return e;
    }
    struct db_stmt *st = store__stmt(s, ST_SCHEDULE_ADD);
    db_bind_int64(st, 1, sc->group_id);
    db_bind_int64(st, 2, sc->weekday);
    db_bind_int64(st, 3, sc->minute_of_day);
    db_bind_int64(st, 4, sc->duration_min);
    db_bind_int64(st, 5, sc->lobby_min);
    db_bind_text(st, 6, sc->tz);
    db_bind_int64(st, 7, sc->starts_on);
    store__bind_id(st, 8, sc->until);
    db_bind_int64(st, 9, now);
    int64_t new_id = 0;
    char target[STORE__TARGET_LEN];
    e = store__insert(st, &new_id);
    e = store__end(s, e, now, actor, "schedule_add", store__target(target, "schedule", new_id),
                   sc->group_id, 0);
    if (e == 0 && id)
        *id = new_id;
    return e;
}

int store_schedule_list(struct store *s, int64_t group_id, struct store_schedule **out, size_t *n)
{
    return schedule_rows(s, group_id, out, n);
}

int store_schedule_remove(struct store *s, int64_t now, const char *actor, int64_t id)
{
    struct store_schedule sc = {0};
    int e = store__begin(s);
    if (e < 0)
        return e;
    struct db_stmt *st = store__stmt(s, ST_SCHEDULE_GET);
    db_bind_int64(st, 1, id);
    if ((e = store__one(st, read_schedule, &sc)) == 0) {
        st = store__stmt(s, ST_SCHEDULE_DROP_FUTURE);
        db_bind_int64(st, 1, id);
        db_bind_int64(st, 2, now);
        e = store__exec(st);
    }
    if (e == 0) {
        st = store__stmt(s, ST_SCHEDULE_REMOVE);
        db_bind_int64(st, 1, id);
        e = store__exec(st);
    }
    char target[STORE__TARGET_LEN];
    return store__end(s, e, now, actor, "schedule_remove", store__target(target, "schedule", id),
                      sc.group_id, 0);
}

/* Insert the sessions of one schedule in [from, until). Returns how many
 * were new, or a store_err. */
static int expand_one(struct store *s, int64_t now, const struct store_schedule *sc, int64_t from,
                      int64_t until)
{
    size_t max = (size_t)((until - from) / WEEK) + 2;
    int64_t *starts = xmalloc(max * sizeof(*starts));
    struct weekly w = {.weekday = sc->weekday, .minute_of_day = sc->minute_of_day, .tz = sc->tz};
    int count = schedule_occurrences(&w, from, until, starts, max);
    int added = 0;
    if (count < 0) {
        /* Checked when the schedule was added; a tzdata update may have
         * dropped the zone since. Skip it rather than block the rest. */
        klog_warn("schedule_expand_skipped schedule=%lld reason=%s", (long long)sc->id,
                  schedule_strerror(count));
        free(starts);
        return 0;
    }
    struct db_stmt *st = store__stmt(s, ST_SESSION_EXPAND);
    for (int i = 0; i < count; i++) {
        db_bind_int64(st, 1, sc->group_id);
        db_bind_int64(st, 2, sc->id);
        db_bind_int64(st, 3, starts[i]);
        db_bind_int64(st, 4, starts[i] + (int64_t)sc->duration_min * 60);
        db_bind_int64(st, 5, sc->lobby_min);
        db_bind_text(st, 6, sc->tz);
        db_bind_int64(st, 7, now);
        int e = store__exec(st);
        if (e < 0) {
            free(starts);
            return e;
        }
        added += db_changes(s->db);
    }
    free(starts);
    return added;
}

int store_expand_schedules(struct store *s, int64_t now, int64_t horizon)
{
    if (horizon <= 0 || horizon > MAX_HORIZON)
        return STORE_E_INVALID;
    struct store_schedule *v = NULL;
    size_t n = 0;
    int added = 0;
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = schedule_rows(s, 0, &v, &n)) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        int64_t from = v[i].starts_on > now ? v[i].starts_on : now;
        int64_t until = now + horizon;
        if (v[i].until && v[i].until < until)
            until = v[i].until;
        if (from >= until)
            continue;
        /* An archived group's schedules stay, and make nothing until it is
         * taken out of the archive. */
        if ((e = store__group_open(s, v[i].group_id)) == STORE_E_ARCHIVED)
            continue;
        if (e < 0)
            goto fail;
        if ((e = expand_one(s, now, &v[i], from, until)) < 0)
            goto fail;
        added += e;
    }
    if ((e = store__commit(s)) < 0)
        goto fail;
    free(v);
    return added;
fail:
    store__rollback(s);
    free(v);
    return e;
}

/* ---- sessions --------------------------------------------------------- */

enum store_session_state store_session_state(const struct store_session *se, int64_t now)
{
    /* A session a leader opened was held: ended before its planned start,
     * it carries the end in cancelled_at (the sessions table wants its end
     * after its start) and counts as ended. */
    if (se->cancelled_at)
        return se->opened_at ? STORE_SESSION_ENDED : STORE_SESSION_CANCELLED;
    if (now >= se->ends_at)
        return STORE_SESSION_ENDED;
    if (now >= se->starts_at)
        return STORE_SESSION_RUNNING;
    if (now >= se->starts_at - (int64_t)se->lobby_min * 60)
        return STORE_SESSION_LOBBY;
    return STORE_SESSION_SCHEDULED;
}

int64_t store_session_ended_at(const struct store_session *se)
{
    return se->cancelled_at && se->opened_at ? se->cancelled_at : se->ends_at;
}

const char *store_session_state_name(enum store_session_state st)
{
    switch (st) {
    case STORE_SESSION_SCHEDULED:
        return "scheduled";
    case STORE_SESSION_LOBBY:
        return "lobby";
    case STORE_SESSION_RUNNING:
        return "running";
    case STORE_SESSION_ENDED:
        return "ended";
    case STORE_SESSION_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

int store_session_add(struct store *s, int64_t now, const char *actor,
                      const struct store_session *se, int64_t *id)
{
    int64_t minutes = (se->ends_at - se->starts_at) / 60;
    if (se->ends_at <= se->starts_at || minutes < 15 || minutes > 600 || se->lobby_min < 0 ||
        se->lobby_min > 120 || !schedule_tz_valid(se->tz))
        return STORE_E_INVALID;
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = store__group_open(s, se->group_id)) < 0) {
        store__rollback(s);
        return e;
    }
    struct db_stmt *st = store__stmt(s, ST_SESSION_ADD);
    db_bind_int64(st, 1, se->group_id);
    db_bind_int64(st, 2, se->starts_at);
    db_bind_int64(st, 3, se->ends_at);
    db_bind_int64(st, 4, se->lobby_min);
    db_bind_text(st, 5, se->tz);
    db_bind_int64(st, 6, now);
    int64_t new_id = 0;
    char target[STORE__TARGET_LEN];
    e = store__insert(st, &new_id);
    e = store__end(s, e, now, actor, "session_add", store__target(target, "session", new_id),
                   se->group_id, new_id);
    if (e == 0 && id)
        *id = new_id;
    return e;
}

int store_session_get(struct store *s, int64_t id, struct store_session *out)
{
    struct db_stmt *st = store__stmt(s, ST_SESSION_GET);
    db_bind_int64(st, 1, id);
    return store__one(st, store__read_session, out);
}

int store_session_list(struct store *s, int64_t group_id, int64_t after, struct store_session **out,
                       size_t *n)
{
    struct db_stmt *st = store__stmt(s, ST_SESSION_LIST);
    store__bind_id(st, 1, group_id);
    db_bind_int64(st, 2, after);
    int e;
    *out = store__rows(st, sizeof(**out), store__read_session, NULL, n, &e);
    return e;
}

int store_session_start(struct store *s, int64_t now, const char *actor, int64_t id, int64_t early)
{
    struct store_session se = {0};
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = store_session_get(s, id, &se)) == 0 &&
        (store_session_state(&se, now) != STORE_SESSION_SCHEDULED || se.starts_at - now > early))
        e = STORE_E_INVALID;
    if (e == 0) {
        /* The whole minutes to the start, rounded up: the lobby is open now. */
        int64_t lobby = (se.starts_at - now + 59) / 60;
        struct db_stmt *st = store__stmt(s, ST_SESSION_LOBBY_NOW);
        db_bind_int64(st, 1, id);
        db_bind_int64(st, 2, lobby);
        e = lobby > 120 ? STORE_E_INVALID : store__exec(st);
    }
    char target[STORE__TARGET_LEN];
    return store__end(s, e, now, actor, "session_start", store__target(target, "session", id),
                      se.group_id, id);
}

/* Cancel or end a session now (stmt), with its audit row. */
static int session_stop(struct store *s, int64_t now, const char *actor, int64_t id,
                        enum store__stmt stmt, const char *action)
{
    struct store_session se = {0};
    int e = store__begin(s);
    if (e < 0)
        return e;
    if ((e = store_session_get(s, id, &se)) == 0) {
        struct db_stmt *st = store__stmt(s, stmt);
        db_bind_int64(st, 1, id);
        db_bind_int64(st, 2, now);
        e = store__change_one(s, st, STORE_E_INVALID);
    }
    char target[STORE__TARGET_LEN];
    return store__end(s, e, now, actor, action, store__target(target, "session", id), se.group_id,
                      id);
}

int store_session_cancel(struct store *s, int64_t now, const char *actor, int64_t id)
{
    return session_stop(s, now, actor, id, ST_SESSION_CANCEL, "session_cancel");
}

int store_session_end(struct store *s, int64_t now, const char *actor, int64_t id)
{
    return session_stop(s, now, actor, id, ST_SESSION_END, "session_end");
}
