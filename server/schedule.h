/*
 * schedule: a group's weekly meeting time, kept in the group's own time
 * zone, and the conversions between local wall-clock times and UTC that
 * callers need to store, show and read session times.
 *
 * Times are Unix seconds (UTC). Zones are IANA names ("Europe/Helsinki")
 * whose TZif files lie under /usr/share/zoneinfo (Debian's tzdata); glibc
 * applies their rules, including the POSIX rule that continues them past
 * the last listed transition.
 *
 * Daylight saving time:
 * - The local wall-clock time is kept across DST changes: "Sundays 18:00
 *   Europe/Helsinki" starts at 15:00 UTC in summer (EEST, UTC+3) and at
 *   16:00 UTC in winter (EET, UTC+2). Occurrences are 7 days apart except
 *   across a change, where they are 1 hour nearer or further.
 * - A local time that does not exist on a spring-forward day moves forward
 *   by the gap: 03:30 on 2026-03-29 in Helsinki, where clocks jump from
 *   03:00 to 04:00, means 04:30 EEST (01:30 UTC).
 * - A local time that happens twice on a fall-back day means the first,
 *   summer-time instance: 03:30 on 2026-10-25 in Helsinki means 03:30 EEST
 *   (00:30 UTC), not 03:30 EET (01:30 UTC).
 *
 * Thread: one thread at a time, and no other thread may read the
 * environment or use local time (localtime, mktime, strftime %Z, getenv)
 * while a call runs. Each call that takes a zone points TZ at it, calls
 * tzset(), and puts TZ back as it was (set to the same value, or unset)
 * with another tzset() before it returns. Reads zone files from disk;
 * never touches the network.
 */
#ifndef KAMRAT_SCHEDULE_H
#define KAMRAT_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Times this module handles: [1970-01-01T00:00Z, 10000-01-01T00:00Z). */
#define SCHEDULE_TIME_MIN INT64_C(0)
#define SCHEDULE_TIME_END INT64_C(253402300800)

/* Longest zone name schedule_tz_valid() accepts, in bytes. */
#define SCHEDULE_TZ_NAME_MAX 64

/* Room schedule_format_local() needs for any zone: "YYYY-MM-DD HH:MM " plus
 * an abbreviation (tzdata's longest is 6 bytes) and the NUL. */
#define SCHEDULE_FORMAT_LEN 32

enum schedule_err {
    SCHEDULE_OK = 0,
    SCHEDULE_E_ZONE = -1,  /* not a usable time zone name */
    SCHEDULE_E_RANGE = -2, /* a weekday, date, minute or time out of range */
    SCHEDULE_E_SPACE = -3, /* the output buffer is too small */
};

/* A static English description of e, for logs and kamratctl. */
const char *schedule_strerror(enum schedule_err e);

struct weekly {
    int weekday;       /* ISO 8601: 1 = Monday .. 7 = Sunday */
    int minute_of_day; /* local wall-clock minutes after midnight, 0..1439 */
    const char *tz;    /* IANA name, e.g. "Europe/Helsinki"; borrowed */
};

/*
 * Start times (Unix seconds, UTC) of the occurrences of w whose start lies
 * in [from, until), in ascending order, at most max of them, written to
 * starts (max elements, may be NULL when max is 0). [from, until) is first
 * narrowed to [SCHEDULE_TIME_MIN, SCHEDULE_TIME_END).
 *
 * Returns the number written (0 when from >= until), or SCHEDULE_E_ZONE (-1)
 * when w->tz is not a known zone, or SCHEDULE_E_RANGE when w->weekday or
 * w->minute_of_day is out of range; test for `< 0`. Borrows w and starts.
 */
int schedule_occurrences(const struct weekly *w, int64_t from, int64_t until, int64_t *starts,
                         size_t max);

/*
 * Is tz a time zone name we can use? It must be a sane IANA name (1 to
 * SCHEDULE_TZ_NAME_MAX bytes of letters, digits and / _ - +, so no "." or
 * ".." component; no leading, trailing or doubled '/') whose file under
 * /usr/share/zoneinfo starts with the TZif magic. The leap-second "right/"
 * zones and the host's "localtime" link are refused. NULL gives false.
 */
bool schedule_tz_valid(const char *tz);

/*
 * The UTC time of the local wall-clock time year-month-day at minute_of_day
 * (0..1439) in tz, for one-off sessions typed as "YYYY-MM-DD HH:MM". Applies
 * the DST rules above. year must be 1970..9999 and the date must exist.
 *
 * Returns 0 and sets *out, or SCHEDULE_E_ZONE or SCHEDULE_E_RANGE and
 * leaves *out alone.
 */
int schedule_local_to_utc(const char *tz, int year, int month, int day, int minute_of_day,
                          int64_t *out);

/*
 * Write t as local time in tz to out as "YYYY-MM-DD HH:MM ABBR", where
 * ABBR is the zone's abbreviation at t ("2026-03-29 18:00 EEST"; zones
 * without a letter abbreviation give one such as "+03"). The seconds are
 * dropped, not rounded. t must lie in [SCHEDULE_TIME_MIN, SCHEDULE_TIME_END);
 * SCHEDULE_FORMAT_LEN bytes of out are always enough.
 *
 * Returns 0, or SCHEDULE_E_ZONE, SCHEDULE_E_RANGE or SCHEDULE_E_SPACE with
 * out set to "" (when outlen > 0).
 */
int schedule_format_local(const char *tz, int64_t t, char *out, size_t outlen);

/* ---- what people type (kamratctl's options, the console's fields) ----- */

/* "mon" .. "sun", by ISO weekday - 1. */
extern const char *const schedule_weekdays[7];

/* "mon".."sun" (any case): the ISO weekday 1..7, or SCHEDULE_E_RANGE. */
int schedule_parse_weekday(const char *s);

/* "HH:MM" (00:00..23:59): the minute of the day, or SCHEDULE_E_RANGE. */
int schedule_parse_minute(const char *s);

/* Exactly "YYYY-MM-DD" into year, month and day; whether the day exists in
 * its month is checked by the calls below. 0 or SCHEDULE_E_RANGE. */
int schedule_parse_date(const char *s, int *y, int *m, int *d);

/* The instant the local date y-m-d plus `days` whole days starts in tz:
 * 0 and *out, or SCHEDULE_E_RANGE (a date such as February 30) or
 * SCHEDULE_E_ZONE. */
int schedule_local_midnight(const char *tz, int y, int m, int d, int days, int64_t *out);

/* The local time "YYYY-MM-DD HH:MM" in tz: 0 and *out, or a schedule_err. */
int schedule_parse_local(const char *tz, const char *s, int64_t *out);

#endif
