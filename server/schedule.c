#include "schedule.h"

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define DAY INT64_C(86400)
#define WEEK (7 * DAY)

static const char *const messages[] = {
    [-SCHEDULE_OK] = "ok",
    [-SCHEDULE_E_ZONE] = "unknown time zone",
    [-SCHEDULE_E_RANGE] = "weekday, date, time or minute of day out of range",
    [-SCHEDULE_E_SPACE] = "output buffer too small",
};

const char *schedule_strerror(enum schedule_err e)
{
    int i = -(int)e;
    if (i < 0 || (size_t)i >= ARRAY_LEN(messages))
        return "unknown error";
    return messages[i];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* ISO weekday (1 = Monday) of a day number; 1970-01-01 was a Thursday. */
static int iso_weekday(int64_t days)
{
    return (int)(((days + 3) % 7 + 7) % 7) + 1;
}

static bool name_ok(const char *tz)
{
    size_t n = strlen(tz);
    /* A trailing '/' needs no check: such a name is no file. */
    if (n == 0 || n > SCHEDULE_TZ_NAME_MAX || tz[0] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = tz[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '-' || c == '+';
        /* No '.' at all rules out "." and ".." components. */
        if (!ok || (c == '/' && tz[i + 1] == '/'))
            return false;
    }
    /* right/ zones count leap seconds, so their time_t is not Unix time;
     * localtime is the host's own setting, not a zone name. */
    return strncmp(tz, "right/", 6) != 0 && strcmp(tz, "localtime") != 0;
}

/* Room for ":/usr/share/zoneinfo/<name>" and its NUL. */
#define SPEC_LEN (sizeof(":" ZONEINFO_DIR "/") + SCHEDULE_TZ_NAME_MAX)

/* Check tz and write ":/usr/share/zoneinfo/<tz>" to spec: the TZ value that
 * selects it, and after the ':' the path of its file. */
static bool zone_spec(const char *tz, char spec[SPEC_LEN])
{
    if (!tz || !name_ok(tz))
        return false;
    memcpy(spec, ":" ZONEINFO_DIR "/", sizeof(":" ZONEINFO_DIR "/") - 1);
    memcpy(spec + sizeof(":" ZONEINFO_DIR "/") - 1, tz, strlen(tz) + 1);

    int fd = open(spec + 1, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    /* A directory fails the read; O_NONBLOCK keeps a FIFO from hanging it. */
    char magic[4];
    bool ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
              memcmp(magic, "TZif", sizeof(magic)) == 0;
    close(fd);
    return ok;
}

bool schedule_tz_valid(const char *tz)
{
    char spec[SPEC_LEN];
    return zone_spec(tz, spec);
}

/* The TZ variable as it was before zone_enter(), to put back. */
struct zone_scope {
    char *saved; /* NULL when TZ was unset */
};

static void set_tz(const char *value)
{
    /* With the name "TZ", setenv fails only when memory is exhausted. */
    if (setenv("TZ", value, 1) != 0) {
        fprintf(stderr, "kamrat: setenv TZ failed\n");
        abort();
    }
}

/* Make tz the local time zone until zone_leave(). */
static int zone_enter(struct zone_scope *s, const char *tz)
{
    /* An absolute path: glibc reads exactly the file we checked, whatever
     * TZDIR says, and never parses the name as a POSIX rule. */
    char spec[SPEC_LEN];
    if (!zone_spec(tz, spec))
        return SCHEDULE_E_ZONE;
    const char *old = getenv("TZ");
    s->saved = old ? xstrdup(old) : NULL;
    set_tz(spec);
    tzset();
    return SCHEDULE_OK;
}

static void zone_leave(struct zone_scope *s)
{
    if (s->saved)
        set_tz(s->saved);
    else
        unsetenv("TZ");
    free(s->saved);
    tzset();
}

/* Local time minus UTC, in seconds, at t in the current zone. */
static int64_t offset_at(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

/*
 * The UTC time of a local wall-clock time in the current zone, where wall
 * is that local time counted as if it were UTC (days * 86400 + seconds).
 *
 * Each offset the zone uses within a day of wall gives one candidate
 * instant, wall - offset. A candidate whose own offset maps it back to wall
 * is a real instance; with two (fall back) the earlier wins. With none, wall
 * lies in a spring-forward gap, and the earliest candidate that reads later
 * than wall is the one taken with the offset from before the gap, which
 * reads wall + gap.
 */
static int64_t local_resolve(int64_t wall)
{
    const int64_t probes[] = {wall - DAY, wall, wall + DAY};
    int64_t exact = INT64_MAX, later = INT64_MAX;
    for (size_t i = 0; i < ARRAY_LEN(probes); i++) {
        int64_t t = wall - offset_at(probes[i]);
        int64_t reads = t + offset_at(t);
        if (reads == wall && t < exact)
            exact = t;
        else if (reads > wall && t < later)
            later = t;
    }
    if (exact != INT64_MAX)
        return exact;
    /* Every zone offset is within a day, so the probes before and after a
     * gap both see it and the pre-gap candidate reads later than wall. */
    assert(later != INT64_MAX);
    return later;
}

/* The local day number of t in the current zone. */
static int64_t local_day(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int schedule_occurrences(const struct weekly *w, int64_t from, int64_t until, int64_t *starts,
                         size_t max)
{
    if (w->weekday < 1 || w->weekday > 7 || w->minute_of_day < 0 || w->minute_of_day > 1439)
        return SCHEDULE_E_RANGE;
    struct zone_scope scope;
    int rc = zone_enter(&scope, w->tz);
    if (rc < 0)
        return rc;

    if (from < SCHEDULE_TIME_MIN)
        from = SCHEDULE_TIME_MIN;
    if (until > SCHEDULE_TIME_END)
        until = SCHEDULE_TIME_END;

    size_t n = 0;
    if (from < until && max > 0) {
        /* Start the local day before from's: a spring-forward gap can
         * push an occurrence past midnight (Samoa skipped 30 December
         * 2011), but never by more than a day. */
        int64_t day = local_day(from) - 1;
        day += (w->weekday - iso_weekday(day) + 7) % 7;
        /* At most one occurrence falls before from, then one per week. */
        int64_t weeks = (until - from) / WEEK + 3;
        for (int64_t i = 0; i < weeks && n < max; i++, day += 7) {
            int64_t t = local_resolve(day * DAY + (int64_t)w->minute_of_day * 60);
            if (t >= until)
                break;
            if (t >= from)
                starts[n++] = t;
        }
    }
    zone_leave(&scope);
    /* weeks keeps n far below INT_MAX: SCHEDULE_TIME_END is under 419,000 weeks. */
    return (int)n;
}

static bool date_ok(int year, int month, int day)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= mdays[month - 1] + (month == 2 && leap);
}

int schedule_local_to_utc(const char *tz, int year, int month, int day, int minute_of_day,
                          int64_t *out)
{
    if (!date_ok(year, month, day) || minute_of_day < 0 || minute_of_day > 1439)
        return SCHEDULE_E_RANGE;
    struct zone_scope scope;
    int rc = zone_enter(&scope, tz);
    if (rc < 0)
        return rc;
    int64_t t = local_resolve(days_from_civil(year, month, day) * DAY + minute_of_day * 60);
    zone_leave(&scope);
    if (t < SCHEDULE_TIME_MIN || t >= SCHEDULE_TIME_END)
        return SCHEDULE_E_RANGE;
    *out = t;
    return SCHEDULE_OK;
}

int schedule_format_local(const char *tz, int64_t t, char *out, size_t outlen)
{
    if (outlen > 0)
        out[0] = '\0';
    if (t < SCHEDULE_TIME_MIN || t >= SCHEDULE_TIME_END)
        return SCHEDULE_E_RANGE;
    struct zone_scope scope;
    int rc = zone_enter(&scope, tz);
    if (rc < 0)
        return rc;
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    size_t n = outlen > 0 ? strftime(out, outlen, "%Y-%m-%d %H:%M %Z", &tm) : 0;
    zone_leave(&scope);
    if (n == 0) {
        if (outlen > 0)
            out[0] = '\0';
        return SCHEDULE_E_SPACE;
    }
    return SCHEDULE_OK;
}

/* ---- what people type ------------------------------------------------- */

const char *const schedule_weekdays[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int schedule_parse_weekday(const char *s)
{
    for (int i = 0; i < 7; i++)
        if (strcasecmp(s, schedule_weekdays[i]) == 0)
            return i + 1;
    return SCHEDULE_E_RANGE;
}

/* n decimal digits at s into *out. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int schedule_parse_minute(const char *s)
{
    int h, m;
    if (strlen(s) != 5 || s[2] != ':' || !digits(s, 2, &h) || !digits(s + 3, 2, &m) || h > 23 ||
        m > 59)
        return SCHEDULE_E_RANGE;
    return h * 60 + m;
}

int schedule_parse_date(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, y) || !digits(s + 5, 2, m) ||
        !digits(s + 8, 2, d) || *m < 1 || *m > 12 || *d < 1 || *d > 31)
        return SCHEDULE_E_RANGE;
    return 0;
}

int schedule_local_midnight(const char *tz, int y, int m, int d, int days, int64_t *out)
{
    /* The Gregorian date `days` after y-m-d, by way of its UTC midnight. */
    struct tm want = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d}, tm;
    time_t t = timegm(&want);
    if (want.tm_year != y - 1900 || want.tm_mon != m - 1 || want.tm_mday != d)
        return SCHEDULE_E_RANGE; /* February 30 */
    t += (time_t)days * DAY;
    if (!gmtime_r(&t, &tm))
        return SCHEDULE_E_RANGE;
    return schedule_local_to_utc(tz, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, out);
}

int schedule_parse_local(const char *tz, const char *s, int64_t *out)
{
    int y, m, d, minute;
    char date[11];
    if (strlen(s) != 16 || s[10] != ' ')
        return SCHEDULE_E_RANGE;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (schedule_parse_date(date, &y, &m, &d) < 0 || (minute = schedule_parse_minute(s + 11)) < 0)
        return SCHEDULE_E_RANGE;
    return schedule_local_to_utc(tz, y, m, d, minute, out);
}
