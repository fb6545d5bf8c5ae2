/*
 * The console's attendance figures for funders (protocol/README.md §12,
 * docs/admin.md "Attendance"): per session of a group in a month or a
 * year, and a summary of every group by month, as JSON or as CSV. Counts
 * only: the store has nothing else (store.h, store_attendance_put).
 *
 * A session belongs to the month of its scheduled start in its own time
 * zone, as the leaders and participants saw it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "admin_int.h"
#include "csv.h"
#include "schedule.h"
#include "util.h"

#define ID_MAX INT64_C(999999999999999)
#define CSV_MIME "text/csv; charset=utf-8"
/* Spreadsheets take a CSV file for UTF-8 (group names with å, ä, ö) by
 * this byte order mark only. */
#define CSV_BOM "\xEF\xBB\xBF"
/* Every zone is within 14 hours of UTC: the sessions whose local start
 * may fall in a period start within this margin of it in UTC. */
#define ZONE_MARGIN (15 * 3600)

/* A period: a year "2025" or a month "2025-03". */
struct period {
    char text[8];
    int year, month; /* month 0: the whole year */
};

static bool period_read(const char *s, struct period *p)
{
    size_t n = strlen(s);
    if ((n != 4 && n != 7) || strspn(s, "0123456789") != 4 || (n == 7 && s[4] != '-') ||
        (n == 7 && strspn(s + 5, "0123456789") != 2))
        return false;
    p->year = atoi(s);
    p->month = n == 7 ? atoi(s + 5) : 0;
    snprintf(p->text, sizeof(p->text), "%s", s);
    return p->year >= 2000 && p->year <= 9998 && p->month >= 0 && p->month <= 12 &&
           (n == 4 || p->month >= 1);
}

/* The local start of the session, "YYYY-MM-DD HH:MM ABBR" ("" when its zone
 * is gone from tzdata). */
static void local_time(const struct store_session *se, int64_t t, char out[SCHEDULE_FORMAT_LEN])
{
    if (schedule_format_local(se->tz, t, out, SCHEDULE_FORMAT_LEN) < 0)
        out[0] = '\0';
}

/* Does the session start in the period, in its own zone? */
static bool in_period(const char *local, const struct period *p)
{
    return local[0] && strncmp(local, p->text, strlen(p->text)) == 0;
}

/* The rows of group_id (0: every group) that start in p, in a new array
 * (free()) with *n; a store error answered. */
static struct store_attendance_row *period_rows(struct store *s, struct admin_job *j,
                                                int64_t group_id, const struct period *p, size_t *n)
{
    int64_t from = 0, until = 0;
    int last_month = p->month ? p->month : 12;
    int next_year = last_month == 12 ? p->year + 1 : p->year;
    int next_month = last_month == 12 ? 1 : last_month + 1;
    if (schedule_local_to_utc("UTC", p->year, p->month ? p->month : 1, 1, 0, &from) < 0 ||
        schedule_local_to_utc("UTC", next_year, next_month, 1, 0, &until) < 0) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "period");
        return NULL;
    }
    struct store_attendance_row *v = NULL;
    int rc = store_attendance_list(s, group_id, from - ZONE_MARGIN, until + ZONE_MARGIN, &v, n);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return NULL;
    }
    /* Keep those whose local start is in the period. */
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        char local[SCHEDULE_FORMAT_LEN];
        local_time(&v[i].session, v[i].session.starts_at, local);
        if (in_period(local, p))
            v[kept++] = v[i];
    }
    *n = kept;
    if (!v)
        v = xcalloc(1, sizeof(*v));
    return v;
}

/* The query's period and format; false when answered 400. */
static bool read_query(struct admin_job *j, struct period *p, bool *csv)
{
    const struct admin_arg *period = admin_arg(j, "period"), *format = admin_arg(j, "format");
    if (!period || !period_read(period->text, p)) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "period");
        return false;
    }
    *csv = format && strcmp(format->text, "csv") == 0;
    if (format && !*csv && strcmp(format->text, "json") != 0) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "format");
        return false;
    }
    return true;
}

/* A session a leader opened was held, even when it was ended early before
 * its scheduled start (the store then marks it cancelled). */
static bool held(const struct store_attendance_row *r)
{
    return r->session.opened_at != 0;
}

static bool cancelled(const struct store_attendance_row *r)
{
    return r->session.cancelled_at != 0 && !held(r);
}

/* ---- per session ---- */

static const char *const session_head[] = {
    "group",     "session_id", "scheduled_start", "time_zone", "held",    "cancelled",
    "opened_at", "ended_at",   "admitted",        "peak",      "leaders",
};

static json_t *ms_or_null(int64_t t)
{
    return t ? json_integer((json_int_t)t * 1000) : json_null();
}

static json_t *count_or_null(const struct store_attendance_row *r, int v)
{
    return held(r) ? json_integer(v) : json_null();
}

static json_t *session_json(const struct store_attendance_row *r)
{
    char local[SCHEDULE_FORMAT_LEN];
    local_time(&r->session, r->session.starts_at, local);
    return json_pack(
        "{sI sI sI ss ss sb sb so so so so so}", "session_id", (json_int_t)r->session.id,
        "starts_at", (json_int_t)r->session.starts_at * 1000, "ends_at",
        (json_int_t)r->session.ends_at * 1000, "local_start", local, "tz", r->session.tz, "held",
        held(r), "cancelled", cancelled(r), "opened_at", ms_or_null(r->session.opened_at),
        "ended_at", ms_or_null(held(r) ? r->a.ended_at : 0), "admitted",
        count_or_null(r, r->a.admitted), "peak", count_or_null(r, r->a.peak), "leaders",
        count_or_null(r, r->a.leaders));
}

static void session_csv(struct csv *c, const char *group, const struct store_attendance_row *r)
{
    char t[SCHEDULE_FORMAT_LEN];
    csv_text(c, group);
    csv_int(c, r->session.id);
    local_time(&r->session, r->session.starts_at, t);
    csv_text(c, t);
    csv_text(c, r->session.tz);
    csv_text(c, held(r) ? "yes" : "no");
    csv_text(c, cancelled(r) ? "yes" : "no");
    if (held(r)) {
        local_time(&r->session, r->session.opened_at, t);
        csv_text(c, t);
        local_time(&r->session, r->a.ended_at, t);
        csv_text(c, r->a.ended_at ? t : "");
        csv_int(c, r->a.admitted);
        csv_int(c, r->a.peak);
        csv_int(c, r->a.leaders);
    } else {
        for (int i = 0; i < 5; i++)
            csv_empty(c);
    }
    csv_row_end(c);
}

static void head(struct csv *c, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        csv_text(c, names[i]);
    csv_row_end(c);
}

/* Answer the CSV document c as attendance-<what>-<period>.csv. */
static void reply_csv(struct admin_job *j, struct csv *c, const char *what, const struct period *p)
{
    char name[64];
    snprintf(name, sizeof(name), "attendance-%s-%s.csv", what, p->text);
    char *body = csv_take(c);
    size_t n = strlen(body);
    char *doc = xmalloc(sizeof(CSV_BOM) + n);
    memcpy(doc, CSV_BOM, sizeof(CSV_BOM) - 1);
    memcpy(doc + sizeof(CSV_BOM) - 1, body, n + 1);
    free(body);
    admin_reply_download(j, doc, CSV_MIME, name);
}

static void sessions(struct store *s, struct admin_job *j)
{
    const struct admin_arg *group = admin_arg(j, "group");
    struct period p;
    bool csv;
    if (!group) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "group");
        return;
    }
    if (!read_query(j, &p, &csv))
        return;
    struct store_group g;
    int rc = store_group_get_id(s, group->n, &g);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    size_t n = 0;
    struct store_attendance_row *v = period_rows(s, j, group->n, &p, &n);
    if (v && csv) {
        struct csv c = {0};
        head(&c, session_head, ARRAY_LEN(session_head));
        for (size_t i = 0; i < n; i++)
            session_csv(&c, g.name, &v[i]);
        char what[32];
        snprintf(what, sizeof(what), "group%" PRId64, g.id);
        reply_csv(j, &c, what, &p);
    } else if (v) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, session_json(&v[i]));
        admin_reply(j, HTTP_STATUS_OK,
                    json_pack("{sI ss ss so}", "group_id", (json_int_t)g.id, "group", g.name,
                              "period", p.text, "sessions", list));
    }
    free(v);
    store_group_clear(&g);
}

/* ---- the summary ---- */

/* What funders ask for (docs/admin.md): sessions held, and participants. */
struct tally {
    int scheduled, held, cancelled;
    int64_t participants; /* the sum of each held session's admitted */
    int peak;             /* the largest peak of a session */
    int64_t leaders;      /* the sum of each held session's leaders */
    int *admitted;        /* each held session's, for the median */
};

static int by_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The median of a held session's admitted, times ten (one decimal). */
static int64_t median10(struct tally *t)
{
    if (!t->held)
        return 0;
    qsort(t->admitted, (size_t)t->held, sizeof(int), by_int);
    int h = t->held;
    return h % 2 ? t->admitted[h / 2] * 10 : (t->admitted[h / 2 - 1] + t->admitted[h / 2]) * 5;
}

/* A tenth as "12.5". */
static void tenths(int64_t v, char out[24])
{
    snprintf(out, 24, "%" PRId64 ".%" PRId64, v / 10, v % 10);
}

static int64_t average10(const struct tally *t)
{
    return t->held ? (t->participants * 20 + t->held) / (2 * t->held) : 0; /* rounded */
}

static const char *const summary_head[] = {
    "group",
    "period",
    "sessions_scheduled",
    "sessions_held",
    "sessions_cancelled",
    "participants",
    "average",
    "median",
    "largest_peak",
    "leaders",
};

static void tally_add(struct tally *t, const struct store_attendance_row *r, size_t cap)
{
    if (cancelled(r)) {
        t->cancelled++;
        return;
    }
    t->scheduled++;
    if (!held(r))
        return;
    if (!t->admitted)
        t->admitted = xcalloc(cap ? cap : 1, sizeof(int));
    t->admitted[t->held++] = r->a.admitted;
    t->participants += r->a.admitted;
    t->leaders += r->a.leaders;
    if (r->a.peak > t->peak)
        t->peak = r->a.peak;
}

static json_t *tally_json(const char *period, struct tally *t)
{
    char avg[24], med[24];
    tenths(average10(t), avg);
    tenths(median10(t), med);
    return json_pack("{ss si si si sI ss ss si sI}", "period", period, "sessions_scheduled",
                     t->scheduled, "sessions_held", t->held, "sessions_cancelled", t->cancelled,
                     "participants", (json_int_t)t->participants, "average", avg, "median", med,
                     "largest_peak", t->peak, "leaders", (json_int_t)t->leaders);
}

static void tally_csv(struct csv *c, const char *group, const char *period, struct tally *t)
{
    char avg[24], med[24];
    tenths(average10(t), avg);
    tenths(median10(t), med);
    csv_text(c, group);
    csv_text(c, period);
    csv_int(c, t->scheduled);
    csv_int(c, t->held);
    csv_int(c, t->cancelled);
    csv_int(c, t->participants);
    csv_text(c, t->held ? avg : "");
    csv_text(c, t->held ? med : "");
    csv_int(c, t->peak);
    csv_int(c, t->leaders);
    csv_row_end(c);
}

/* The rows of v[from, to) (one group's, by start) by the month of their
 * local start: months[0] the whole period, months[1..12] each month. */
static void tally_group(const struct store_attendance_row *v, size_t from, size_t to,
                        struct tally months[13])
{
    for (size_t i = from; i < to; i++) {
        char local[SCHEDULE_FORMAT_LEN];
        local_time(&v[i].session, v[i].session.starts_at, local);
        int m = atoi(local + 5);
        tally_add(&months[0], &v[i], to - from);
        if (m >= 1 && m <= 12)
            tally_add(&months[m], &v[i], to - from);
    }
}

static void summary(struct store *s, struct admin_job *j)
{
    const struct admin_arg *group = admin_arg(j, "group");
    struct period p;
    bool csv;
    if (!read_query(j, &p, &csv))
        return;
    struct store_group *groups = NULL;
    size_t ng = 0, n = 0;
    int rc = store_group_list(s, &groups, &ng);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    bool known = !group;
    for (size_t gi = 0; gi < ng; gi++)
        known = known || groups[gi].id == group->n;
    struct store_attendance_row *v = NULL;
    if (!known)
        admin_reply_store(j, STORE_E_NOT_FOUND);
    else
        v = period_rows(s, j, group ? group->n : 0, &p, &n);
    if (!v) {
        store_group_list_free(groups, ng);
        return;
    }
    struct csv c = {0};
    json_t *list = json_array();
    if (csv)
        head(&c, summary_head, ARRAY_LEN(summary_head));
    for (size_t gi = 0; gi < ng; gi++) {
        const struct store_group *g = &groups[gi];
        if (group && g->id != group->n)
            continue;
        size_t from = 0;
        while (from < n && v[from].session.group_id != g->id)
            from++;
        size_t to = from;
        while (to < n && v[to].session.group_id == g->id)
            to++;
        struct tally months[13] = {0};
        tally_group(v, from, to, months);
        json_t *periods = json_array();
        for (int m = p.month ? p.month : 1; m <= (p.month ? p.month : 12); m++) {
            char label[8];
            snprintf(label, sizeof(label), "%04d-%02d", p.year, m);
            if (csv)
                tally_csv(&c, g->name, label, &months[m]);
            else
                json_array_append_new(periods, tally_json(label, &months[m]));
        }
        if (!p.month) {
            if (csv)
                tally_csv(&c, g->name, p.text, &months[0]);
            else
                json_array_append_new(periods, tally_json(p.text, &months[0]));
        }
        for (int m = 0; m < 13; m++)
            free(months[m].admitted);
        if (!csv)
            json_array_append_new(list, json_pack("{sI ss so}", "group_id", (json_int_t)g->id,
                                                  "group", g->name, "periods", periods));
        else
            json_decref(periods);
    }
    if (csv) {
        json_decref(list);
        reply_csv(j, &c, "summary", &p);
    } else {
        admin_reply(j, HTTP_STATUS_OK, json_pack("{ss so}", "period", p.text, "groups", list));
    }
    free(v);
    store_group_list_free(groups, ng);
}

static const struct admin_arg_spec sessions_args[] = {
    {"group", ADMIN_ARG_ID, ID_MAX},
    {"period", ADMIN_ARG_TEXT, 7},
    {"format", ADMIN_ARG_TEXT, 4},
    {0},
};

const struct admin_endpoint admin_attendance_endpoints[] = {
    {"GET", "attendance/sessions", ADMIN_COORDINATOR, sessions_args, NULL, sessions},
    {"GET", "attendance/summary", ADMIN_COORDINATOR, sessions_args, NULL, summary},
    {0},
};
