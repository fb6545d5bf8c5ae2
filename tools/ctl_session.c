/*
 * kamratctl session ... and schedule ...: one-off sessions, weekly schedules
 * and the sessions planned from them. Times are typed and shown in the
 * session's zone; the store keeps UTC instants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "schedule.h"
#include "util.h"

const char *ctl_weekday_label(int weekday)
{
    static const char *const names[] = {"Mondays", "Tuesdays",  "Wednesdays", "Thursdays",
                                        "Fridays", "Saturdays", "Sundays"};
    return weekday >= 1 && weekday <= 7 ? names[weekday - 1] : "?";
}

json_t *ctl_schedule_json(const struct store_schedule *sc, const char *group)
{
    char time[8], from[CTL_TIME_LEN], until[CTL_TIME_LEN];
    return json_pack("{sI ss ss ss ss si si ss ss?}", "id", (json_int_t)sc->id, "group", group,
                     "weekday", schedule_weekdays[sc->weekday - 1], "time",
                     ctl_fmt_minute(sc->minute_of_day, time), "tz", sc->tz, "duration_min",
                     sc->duration_min, "lobby_min", sc->lobby_min, "from",
                     ctl_fmt_date(sc->tz, sc->starts_on, from), "until",
                     sc->until ? ctl_fmt_date(sc->tz, sc->until - 1, until) : NULL);
}

json_t *ctl_session_json(struct ctl *c, const struct store_session *se, const char *group)
{
    char local[CTL_TIME_LEN];
    json_t *o = json_pack(
        "{sI ss ss so so ss ss si}", "id", (json_int_t)se->id, "group", group, "state",
        store_session_state_name(store_session_state(se, c->now)), "starts_at",
        ctl_json_time(se->starts_at), "ends_at", ctl_json_time(se->ends_at), "local_start",
        ctl_fmt_local(se->tz, se->starts_at, local), "tz", se->tz, "lobby_min", se->lobby_min);
    json_object_set_new(o, "schedule_id", ctl_json_id(se->schedule_id));
    return o;
}

/* ---- sessions --------------------------------------------------------- */

struct session_opts {
    const char *start, *tz;
    long duration, lobby;
};

static int session_option(struct ctl *c, int opt, const char *value, void *arg)
{
    struct session_opts *o = arg;
    switch (opt) {
    case 's':
        o->start = value;
        break;
    case 'd':
        if (ctl_parse_int(value, 15, 600, &o->duration) < 0)
            return ctl_complain(c, EXIT_USAGE, "--duration is 15..600 minutes");
        break;
    case 'z':
        o->tz = value;
        break;
    case 'l':
        if (ctl_parse_int(value, 0, 120, &o->lobby) < 0)
            return ctl_complain(c, EXIT_USAGE, "--lobby is 0..120 minutes");
        break;
    }
    return 0;
}

static int cmd_session_add(struct ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"start", required_argument, NULL, 's'},
        {"duration", required_argument, NULL, 'd'},
        {"tz", required_argument, NULL, 'z'},
        {"lobby", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct session_opts o = {.tz = DEFAULT_TZ, .lobby = 15};
    int rc = ctl_options(c, argc, argv, longopts, session_option, &o, 1, 1);
    if (rc)
        return rc;
    if (!o.start || !o.duration)
        return ctl_complain(c, EXIT_USAGE, "--start and --duration are required");
    if ((rc = ctl_tz_option(c, o.tz)))
        return rc;
    int64_t starts_at;
    if (schedule_parse_local(o.tz, o.start, &starts_at) < 0)
        return ctl_complain(c, EXIT_USAGE, "--start is a local time \"YYYY-MM-DD HH:MM\"");
    if (starts_at <= c->now)
        return ctl_complain(c, EXIT_USAGE, "--start %s is in the past", o.start);
    struct store_group g;
    if ((rc = ctl_find_group(c, argv[optind], &g)))
        return rc;
    struct store_session se = {.group_id = g.id,
                               .starts_at = starts_at,
                               .ends_at = starts_at + o.duration * 60,
                               .lobby_min = (int)o.lobby};
    snprintf(se.tz, sizeof(se.tz), "%s", o.tz);
    int e = store_session_add(c->store, c->now, c->actor, &se, &se.id);
    char local[CTL_TIME_LEN], utc[CTL_TIME_LEN];
    if (e < 0)
        rc = ctl_store_failed(c, e, "session");
    else
        rc = ctl_done(c, ctl_session_json(c, &se, g.name),
                      "session %lld of \"%s\" added: %s (%s)\n", (long long)se.id, g.name,
                      ctl_fmt_local(o.tz, starts_at, local), ctl_fmt_utc(starts_at, false, utc));
    store_group_clear(&g);
    return rc;
}

static int cmd_session_list(struct ctl *c, int argc, char **argv)
{
    int all = 0;
    const struct option longopts[] = {
        {"all", no_argument, &all, 1},
        {NULL, 0, NULL, 0},
    };
    struct ctl_names names;
    struct store_session *v = NULL;
    size_t n = 0;
    int e, rc = ctl_options(c, argc, argv, longopts, NULL, NULL, 0, 1);
    if (rc)
        return rc;
    if ((rc = ctl_names_load(c, optind < argc ? argv[optind] : NULL, "sessions", &names)))
        goto out;
    if ((e = store_session_list(c->store, names.only, all ? INT64_MIN : c->now, &v, &n)) < 0) {
        rc = ctl_store_failed(c, e, "sessions");
        goto out;
    }
    struct ctl_list l;
    ctl_list_init(c, &l, 7, "ID", "GROUP", "STATE", "LOCAL START", "ZONE", "UTC", "MIN");
    for (size_t i = 0; i < n; i++) {
        char id[24], gb[32], local[CTL_TIME_LEN], utc[CTL_TIME_LEN], dur[24];
        const char *group = ctl_group_name(&names, v[i].group_id, gb);
        if (l.arr) {
            json_array_append_new(l.arr, ctl_session_json(c, &v[i], group));
            continue;
        }
        snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
        snprintf(dur, sizeof(dur), "%lld", (long long)(v[i].ends_at - v[i].starts_at) / 60);
        ctl_list_row(&l, id, group, store_session_state_name(store_session_state(&v[i], c->now)),
                     ctl_fmt_local(v[i].tz, v[i].starts_at, local), v[i].tz,
                     ctl_fmt_utc(v[i].starts_at, false, utc), dur);
    }
    ctl_list_finish(&l, 0);
out:
    free(v);
    ctl_names_free(&names);
    return rc;
}

static int cmd_session_cancel(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_id_change how = {
        .noun = "session",
        .article = "a",
        .change = store_session_cancel,
        .key = "cancelled",
        .done = "cancelled",
        .invalid = "has ended or is cancelled already",
    };
    return ctl_change_by_id(c, argc, argv, &how);
}

/* ---- schedules -------------------------------------------------------- */

struct schedule_opts {
    struct store_schedule *sc;
    const char *tz, *from, *until;
};

static int schedule_option(struct ctl *c, int opt, const char *value, void *arg)
{
    struct schedule_opts *o = arg;
    long n;
    switch (opt) {
    case 'w':
        if ((o->sc->weekday = schedule_parse_weekday(value)) < 0)
            return ctl_complain(c, EXIT_USAGE, "--weekday is mon, tue, wed, thu, fri, sat or sun");
        break;
    case 't':
        if ((o->sc->minute_of_day = schedule_parse_minute(value)) < 0)
            return ctl_complain(c, EXIT_USAGE, "--time is a local time HH:MM");
        break;
    case 'd':
        if (ctl_parse_int(value, 15, 600, &n) < 0)
            return ctl_complain(c, EXIT_USAGE, "--duration is 15..600 minutes");
        o->sc->duration_min = (int)n;
        break;
    case 'z':
        o->tz = value;
        break;
    case 'l':
        if (ctl_parse_int(value, 0, 120, &n) < 0)
            return ctl_complain(c, EXIT_USAGE, "--lobby is 0..120 minutes");
        o->sc->lobby_min = (int)n;
        break;
    case 'f':
        o->from = value;
        break;
    case 'u':
        o->until = value;
        break;
    }
    return 0;
}

/* --from and --until into sc: the days from the start of the first to the
 * end of the last, in tz. Returns 0 or an exit code. */
static int schedule_days(struct ctl *c, const struct schedule_opts *o, struct store_schedule *sc)
{
    int y, m, d;
    sc->starts_on = c->now;
    if (o->from && (schedule_parse_date(o->from, &y, &m, &d) < 0 ||
                    schedule_local_midnight(o->tz, y, m, d, 0, &sc->starts_on) < 0))
        return ctl_complain(c, EXIT_USAGE, "--from is a date YYYY-MM-DD");
    /* --until names the last day that may have a session. */
    if (o->until && (schedule_parse_date(o->until, &y, &m, &d) < 0 ||
                     schedule_local_midnight(o->tz, y, m, d, 1, &sc->until) < 0))
        return ctl_complain(c, EXIT_USAGE, "--until is a date YYYY-MM-DD");
    if (sc->until && sc->until <= sc->starts_on)
        return ctl_complain(c, EXIT_USAGE, "--until is before --from");
    if (sc->until && sc->until <= c->now)
        return ctl_complain(c, EXIT_USAGE, "--until is in the past");
    return 0;
}

static int cmd_schedule_add(struct ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"weekday", required_argument, NULL, 'w'},  {"time", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'}, {"tz", required_argument, NULL, 'z'},
        {"lobby", required_argument, NULL, 'l'},    {"from", required_argument, NULL, 'f'},
        {"until", required_argument, NULL, 'u'},    {NULL, 0, NULL, 0},
    };
    struct store_schedule sc = {.lobby_min = 15, .minute_of_day = -1};
    struct schedule_opts o = {.sc = &sc, .tz = DEFAULT_TZ};
    int rc = ctl_options(c, argc, argv, longopts, schedule_option, &o, 1, 1);
    if (rc)
        return rc;
    if (!sc.weekday || sc.minute_of_day < 0 || !sc.duration_min)
        return ctl_complain(c, EXIT_USAGE, "--weekday, --time and --duration are required");
    if ((rc = ctl_tz_option(c, o.tz)))
        return rc;
    snprintf(sc.tz, sizeof(sc.tz), "%s", o.tz);
    if ((rc = schedule_days(c, &o, &sc)))
        return rc;
    struct store_group g;
    if ((rc = ctl_find_group(c, argv[optind], &g)))
        return rc;
    sc.group_id = g.id;
    int e = store_schedule_add(c->store, c->now, c->actor, &sc, &sc.id);
    int added = e < 0 ? 0 : store_expand_schedules(c->store, c->now, STORE_HORIZON);
    if (e < 0) {
        rc = ctl_store_failed(c, e, "schedule");
    } else if (added < 0) {
        rc = ctl_store_failed(c, added, "schedule added, but planning its sessions");
    } else {
        char hm[8];
        json_t *doc = ctl_schedule_json(&sc, g.name);
        json_object_set_new(doc, "sessions_added", json_integer(added));
        rc = ctl_done(c, doc, "schedule %lld of \"%s\" added: %s %s %s; %d session%s planned\n",
                      (long long)sc.id, g.name, ctl_weekday_label(sc.weekday),
                      ctl_fmt_minute(sc.minute_of_day, hm), sc.tz, added, added == 1 ? "" : "s");
    }
    store_group_clear(&g);
    return rc;
}

static int cmd_schedule_list(struct ctl *c, int argc, char **argv)
{
    struct ctl_names names;
    struct store_schedule *v = NULL;
    size_t n = 0;
    int e, rc = ctl_plain_args(c, argc, argv, 0, 1);
    if (rc)
        return rc;
    if ((rc = ctl_names_load(c, optind < argc ? argv[optind] : NULL, "schedules", &names)))
        goto out;
    if ((e = store_schedule_list(c->store, names.only, &v, &n)) < 0) {
        rc = ctl_store_failed(c, e, "schedules");
        goto out;
    }
    struct ctl_list l;
    ctl_list_init(c, &l, 9, "ID", "GROUP", "DAY", "TIME", "ZONE", "MIN", "LOBBY", "FROM", "UNTIL");
    for (size_t i = 0; i < n; i++) {
        char id[24], gb[32], hm[8], dur[16], lobby[16], from[CTL_TIME_LEN], until[CTL_TIME_LEN];
        const char *group = ctl_group_name(&names, v[i].group_id, gb);
        if (l.arr) {
            json_array_append_new(l.arr, ctl_schedule_json(&v[i], group));
            continue;
        }
        snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
        snprintf(dur, sizeof(dur), "%d", v[i].duration_min);
        snprintf(lobby, sizeof(lobby), "%d", v[i].lobby_min);
        ctl_list_row(&l, id, group, schedule_weekdays[v[i].weekday - 1],
                     ctl_fmt_minute(v[i].minute_of_day, hm), v[i].tz, dur, lobby,
                     ctl_fmt_date(v[i].tz, v[i].starts_on, from),
                     v[i].until ? ctl_fmt_date(v[i].tz, v[i].until - 1, until) : "-");
    }
    ctl_list_finish(&l, 0);
out:
    free(v);
    ctl_names_free(&names);
    return rc;
}

static int cmd_schedule_remove(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_id_change how = {
        .noun = "schedule",
        .article = "a",
        .change = store_schedule_remove,
        .key = "removed",
        .done = "removed with its sessions that had not started",
    };
    return ctl_change_by_id(c, argc, argv, &how);
}

const struct ctl_command ctl_session_commands[] = {
    {"session add", "GROUP --start \"YYYY-MM-DD HH:MM\" --duration MIN [OPTIONS]",
     "add a one-off session",
     "      --start \"YYYY-MM-DD HH:MM\"    local start time (required)\n"
     "      --duration MIN                15..600 minutes (required)\n"
     "      --tz ZONE                     time zone of --start (default " DEFAULT_TZ ")\n"
     "      --lobby MIN                   the lobby opens MIN minutes early, 0..120 "
     "(default 15)\n",
     cmd_session_add},
    {"session list", "[GROUP] [--all]", "list upcoming sessions with their state",
     "      --all                         past sessions too\n", cmd_session_list},
    {"session cancel", "ID", "cancel a session that has not ended", NULL, cmd_session_cancel},
    {"schedule add", "GROUP --weekday DAY --time HH:MM --duration MIN [OPTIONS]",
     "add a weekly meeting and plan its sessions 8 weeks ahead",
     "      --weekday mon..sun            day of the week (required)\n"
     "      --time HH:MM                  local start time (required)\n"
     "      --duration MIN                15..600 minutes (required)\n"
     "      --tz ZONE                     time zone (default " DEFAULT_TZ ")\n"
     "      --lobby MIN                   the lobby opens MIN minutes early, 0..120 "
     "(default 15)\n"
     "      --from YYYY-MM-DD             first day (default today)\n"
     "      --until YYYY-MM-DD            last day (default none)\n",
     cmd_schedule_add},
    {"schedule list", "[GROUP]", "list weekly schedules", NULL, cmd_schedule_list},
    {"schedule remove", "ID", "remove a schedule and its sessions that have not started", NULL,
     cmd_schedule_remove},
    {0},
};
