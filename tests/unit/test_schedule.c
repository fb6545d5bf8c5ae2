/* schedule: weekly times in a zone, DST gaps and overlaps, zone names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "schedule.h"
#include "util.h"

#define HOUR INT64_C(3600)
#define DAY (24 * HOUR)
#define WEEK (7 * DAY)

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm);
}

static void assert_local(const char *tz, int64_t t, const char *want)
{
    char buf[SCHEDULE_FORMAT_LEN];
    assert_int_equal(schedule_format_local(tz, t, buf, sizeof(buf)), SCHEDULE_OK);
    assert_string_equal(buf, want);
}

static int64_t local(const char *tz, int y, int mo, int d, int h, int mi)
{
    int64_t t = -1;
    assert_int_equal(schedule_local_to_utc(tz, y, mo, d, h * 60 + mi, &t), SCHEDULE_OK);
    return t;
}

/* Sundays 18:00 in Helsinki from 1 March to 29 November 2026: EET (UTC+2)
 * until the change on 29 March, EEST (UTC+3) until the change on 25
 * October, then EET again. */
static void helsinki_keeps_wall_clock_across_dst(void **state)
{
    (void)state;
    const struct weekly w = {7, 18 * 60, "Europe/Helsinki"};
    int64_t s[64];
    int n = schedule_occurrences(&w, utc(2026, 3, 1, 0, 0), utc(2026, 11, 30, 0, 0), s, 64);
    assert_int_equal(n, 40);

    const int64_t summer = utc(2026, 3, 29, 0, 0), winter = utc(2026, 10, 25, 0, 0);
    for (int i = 0; i < n; i++) {
        int64_t date = utc(2026, 3, 1, 0, 0) + i * WEEK;
        bool dst = date >= summer && date < winter;
        assert_int_equal(s[i], date + (dst ? 15 : 16) * HOUR);
        char want[SCHEDULE_FORMAT_LEN];
        time_t tt = (time_t)date;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(want, sizeof(want), dst ? "%Y-%m-%d 18:00 EEST" : "%Y-%m-%d 18:00 EET", &tm);
        assert_local("Europe/Helsinki", s[i], want);
        if (i == 0)
            continue;
        int64_t step = s[i] - s[i - 1];
        if (date == summer)
            assert_int_equal(step, WEEK - HOUR);
        else if (date == winter)
            assert_int_equal(step, WEEK + HOUR);
        else
            assert_int_equal(step, WEEK);
    }
    assert_int_equal(s[3], utc(2026, 3, 22, 16, 0));
    assert_int_equal(s[4], utc(2026, 3, 29, 15, 0));
    assert_int_equal(s[33], utc(2026, 10, 18, 15, 0));
    assert_int_equal(s[34], utc(2026, 10, 25, 16, 0));
}

/* Central European time, an hour behind Helsinki: 16:00Z in summer. */
static void stockholm_keeps_wall_clock_across_dst(void **state)
{
    (void)state;
    const struct weekly w = {7, 18 * 60, "Europe/Stockholm"};
    int64_t s[4];
    assert_int_equal(schedule_occurrences(&w, utc(2026, 3, 22, 0, 0), utc(2026, 4, 6, 0, 0), s, 4),
                     3);
    assert_int_equal(s[0], utc(2026, 3, 22, 17, 0));
    assert_int_equal(s[1], utc(2026, 3, 29, 16, 0));
    assert_int_equal(s[2], utc(2026, 4, 5, 16, 0));
    assert_int_equal(
        schedule_occurrences(&w, utc(2026, 10, 18, 0, 0), utc(2026, 11, 2, 0, 0), s, 4), 3);
    assert_int_equal(s[0], utc(2026, 10, 18, 16, 0));
    assert_int_equal(s[1], utc(2026, 10, 25, 17, 0));
    assert_int_equal(s[2], utc(2026, 11, 1, 17, 0));
}

/* Helsinki clocks jump from 03:00 EET to 04:00 EEST on 2026-03-29. */
static void spring_forward_gap_moves_forward(void **state)
{
    (void)state;
    int64_t t = local("Europe/Helsinki", 2026, 3, 29, 3, 30);
    assert_int_equal(t, utc(2026, 3, 29, 1, 30));
    assert_local("Europe/Helsinki", t, "2026-03-29 04:30 EEST");
    /* 03:00 itself does not exist either; 04:00 does. */
    assert_int_equal(local("Europe/Helsinki", 2026, 3, 29, 3, 0), utc(2026, 3, 29, 1, 0));
    assert_int_equal(local("Europe/Helsinki", 2026, 3, 29, 4, 0), utc(2026, 3, 29, 1, 0));
    assert_int_equal(local("Europe/Helsinki", 2026, 3, 29, 2, 59), utc(2026, 3, 29, 0, 59));

    const struct weekly w = {7, 3 * 60 + 30, "Europe/Helsinki"};
    int64_t s[3];
    assert_int_equal(schedule_occurrences(&w, utc(2026, 3, 22, 0, 0), utc(2026, 4, 6, 0, 0), s, 3),
                     3);
    assert_int_equal(s[0], utc(2026, 3, 22, 1, 30)); /* 03:30 EET */
    assert_int_equal(s[1], utc(2026, 3, 29, 1, 30)); /* 04:30 EEST */
    assert_int_equal(s[2], utc(2026, 4, 5, 0, 30));  /* 03:30 EEST */
}

/* Helsinki clocks go back from 04:00 EEST to 03:00 EET on 2026-10-25, so
 * 03:00..03:59 happen twice; the first, summer-time instance is taken. */
static void fall_back_takes_first_instance(void **state)
{
    (void)state;
    int64_t t = local("Europe/Helsinki", 2026, 10, 25, 3, 30);
    assert_int_equal(t, utc(2026, 10, 25, 0, 30));
    assert_local("Europe/Helsinki", t, "2026-10-25 03:30 EEST");
    assert_local("Europe/Helsinki", t + HOUR, "2026-10-25 03:30 EET");
    assert_int_equal(local("Europe/Helsinki", 2026, 10, 25, 3, 0), utc(2026, 10, 25, 0, 0));
    assert_int_equal(local("Europe/Helsinki", 2026, 10, 25, 4, 0), utc(2026, 10, 25, 2, 0));

    const struct weekly w = {7, 3 * 60 + 30, "Europe/Helsinki"};
    int64_t s[3];
    assert_int_equal(
        schedule_occurrences(&w, utc(2026, 10, 18, 0, 0), utc(2026, 11, 2, 0, 0), s, 3), 3);
    assert_int_equal(s[0], utc(2026, 10, 18, 0, 30)); /* 03:30 EEST */
    assert_int_equal(s[1], utc(2026, 10, 25, 0, 30)); /* 03:30 EEST, the first */
    assert_int_equal(s[2], utc(2026, 11, 1, 1, 30));  /* 03:30 EET */
}

/* Every half past the hour of 2026 reads back as itself, except in the
 * spring-forward hour, where it reads back an hour later. */
static void local_times_round_trip_all_year(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Helsinki", "America/New_York"};
    /* The first missing local minute in each, written as if it were UTC. */
    const int64_t gaps[] = {utc(2026, 3, 29, 3, 0), utc(2026, 3, 8, 2, 0)};
    for (size_t z = 0; z < ARRAY_LEN(zones); z++) {
        for (int64_t wall = utc(2026, 1, 1, 0, 30); wall < utc(2027, 1, 1, 0, 0); wall += HOUR) {
            time_t tt = (time_t)wall;
            struct tm tm;
            gmtime_r(&tt, &tm);
            int64_t t = local(zones[z], tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                              tm.tm_min);
            bool in_gap = wall >= gaps[z] && wall < gaps[z] + HOUR;
            tt = (time_t)(wall + (in_gap ? HOUR : 0));
            gmtime_r(&tt, &tm);
            char want[32], got[SCHEDULE_FORMAT_LEN];
            strftime(want, sizeof(want), "%Y-%m-%d %H:%M ", &tm);
            assert_int_equal(schedule_format_local(zones[z], t, got, sizeof(got)), SCHEDULE_OK);
            assert_memory_equal(got, want, strlen(want));
        }
    }
}

/* Samoa skipped Friday 30 December 2011: 23:59 on the 29th (UTC-10) was
 * followed by 00:00 on the 31st (UTC+14). A Friday 10:00 meeting moves
 * forward by the whole day, into the local day after it was dated. */
static void a_whole_day_gap(void **state)
{
    (void)state;
    const struct weekly w = {5, 10 * 60, "Pacific/Apia"};
    int64_t s[2];
    const int64_t from = utc(2011, 12, 30, 10, 0); /* 2011-12-31 00:00 local */
    assert_int_equal(schedule_occurrences(&w, from, from + WEEK, s, 2), 2);
    assert_int_equal(s[0], utc(2011, 12, 30, 20, 0));
    assert_int_equal(s[1], utc(2012, 1, 5, 20, 0)); /* Friday 6 January, 10:00 */
    assert_local("Pacific/Apia", s[0], "2011-12-31 10:00 +14");
    assert_int_equal(local("Pacific/Apia", 2011, 12, 30, 10, 0), s[0]);
    assert_int_equal(local("Pacific/Apia", 2011, 12, 29, 23, 59), from - 60);
}

static void weekday_is_iso(void **state)
{
    (void)state;
    const int64_t monday = utc(2026, 3, 2, 0, 0); /* a Monday */
    for (int wd = 1; wd <= 7; wd++) {
        const struct weekly w = {wd, 9 * 60 + 15, "UTC"};
        int64_t s[2];
        assert_int_equal(schedule_occurrences(&w, monday, monday + WEEK, s, 2), 1);
        assert_int_equal(s[0], monday + (wd - 1) * DAY + 9 * HOUR + 15 * 60);
        time_t tt = (time_t)s[0];
        struct tm tm;
        gmtime_r(&tt, &tm);
        assert_int_equal(tm.tm_wday, wd % 7); /* struct tm counts from Sunday = 0 */
    }
}

static void from_is_inclusive_until_exclusive(void **state)
{
    (void)state;
    const struct weekly w = {1, 9 * 60 + 15, "UTC"};
    const int64_t t0 = utc(2026, 3, 2, 9, 15);
    int64_t s[8];
    assert_int_equal(schedule_occurrences(&w, t0, t0 + 2 * WEEK, s, 8), 2);
    assert_int_equal(s[0], t0);
    assert_int_equal(s[1], t0 + WEEK);
    assert_int_equal(schedule_occurrences(&w, t0 + 1, t0 + 2 * WEEK, s, 8), 1);
    assert_int_equal(s[0], t0 + WEEK);
    assert_int_equal(schedule_occurrences(&w, t0, t0 + WEEK, s, 8), 1);
    assert_int_equal(schedule_occurrences(&w, t0, t0 + WEEK + 1, s, 8), 2);
    assert_int_equal(schedule_occurrences(&w, t0 - 1, t0, s, 8), 0);
    assert_int_equal(schedule_occurrences(&w, t0, t0, s, 8), 0);
    assert_int_equal(schedule_occurrences(&w, t0 + WEEK, t0, s, 8), 0);
    /* A range before 1970 is narrowed away, one past year 9999 is cut. */
    assert_int_equal(schedule_occurrences(&w, INT64_MIN, 0, s, 8), 0);
    assert_int_equal(schedule_occurrences(&w, SCHEDULE_TIME_END - 2 * WEEK, INT64_MAX, s, 8), 2);
    assert_true(s[1] < SCHEDULE_TIME_END);
}

static void max_truncates(void **state)
{
    (void)state;
    const struct weekly w = {4, 18 * 60, "Europe/Helsinki"};
    const int64_t from = utc(2026, 1, 1, 0, 0), until = utc(2026, 4, 1, 0, 0);
    int64_t all[16], few[4] = {0, 0, 0, -7};
    assert_int_equal(schedule_occurrences(&w, from, until, all, 16), 13);
    assert_int_equal(schedule_occurrences(&w, from, until, few, 3), 3);
    assert_memory_equal(few, all, 3 * sizeof(int64_t));
    assert_int_equal(few[3], -7); /* nothing written past max */
    assert_int_equal(schedule_occurrences(&w, from, until, NULL, 0), 0);
}

/* One byte longer than SCHEDULE_TZ_NAME_MAX. */
#define TOO_LONG "Europe/Helsinki_Helsinki_Helsinki_Helsinki_Helsinki_Helsinki_Hels"
_Static_assert(sizeof(TOO_LONG) == SCHEDULE_TZ_NAME_MAX + 2, "TOO_LONG is 65 bytes");

static void bad_zones_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Mars/Olympus",
        "../etc/passwd",
        "",
        "Europe/Helsinki/..",
        "Europe/./Helsinki",
        "/usr/share/zoneinfo/Europe/Helsinki",
        "/Europe/Helsinki",
        "Europe/Helsinki/",
        "Europe//Helsinki",
        "Europe",                /* a directory */
        "zone.tab",              /* not a zone */
        "iso3166",               /* does not exist */
        "right/Europe/Helsinki", /* leap seconds */
        "localtime",
        "Europe/Helsinki ",
        "Europe/Helsinki\n",
        "EET-2EEST,M3.5.0/3,M10.5.0/4", /* a POSIX rule, not a name */
        TOO_LONG,
    };
    int64_t s[1], t = 42;
    char buf[SCHEDULE_FORMAT_LEN];
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        const struct weekly w = {7, 18 * 60, bad[i]};
        assert_false(schedule_tz_valid(bad[i]));
        assert_int_equal(schedule_occurrences(&w, 0, WEEK * 2, s, 1), SCHEDULE_E_ZONE);
        assert_int_equal(schedule_occurrences(&w, 0, WEEK * 2, s, 1), -1);
        assert_int_equal(schedule_local_to_utc(bad[i], 2026, 3, 1, 0, &t), SCHEDULE_E_ZONE);
        assert_int_equal(t, 42);
        assert_int_equal(schedule_format_local(bad[i], 0, buf, sizeof(buf)), SCHEDULE_E_ZONE);
        assert_string_equal(buf, "");
    }
    assert_false(schedule_tz_valid(NULL));

    static const char *const good[] = {"Europe/Helsinki",        "UTC",
                                       "America/New_York",       "Etc/GMT+5",
                                       "America/Port-au-Prince", "Europe/Stockholm"};
    for (size_t i = 0; i < ARRAY_LEN(good); i++)
        assert_true(schedule_tz_valid(good[i]));
}

static void bad_values_are_refused(void **state)
{
    (void)state;
    int64_t s[1], t = 42;
    static const struct weekly bad[] = {
        {0, 0, "UTC"}, {8, 0, "UTC"}, {1, -1, "UTC"}, {1, 1440, "UTC"}};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        assert_int_equal(schedule_occurrences(&bad[i], 0, WEEK, s, 1), SCHEDULE_E_RANGE);

    static const int dates[][4] = {
        {2026, 2, 29, 0},   {2026, 4, 31, 0},  {2026, 13, 1, 0}, {2026, 0, 1, 0},
        {2026, 1, 0, 0},    {1969, 12, 31, 0}, {10000, 1, 1, 0}, {2026, 1, 1, -1},
        {2026, 1, 1, 1440}, {1970, 1, 1, 0}, /* 1969-12-31T22:00Z in Helsinki */
    };
    for (size_t i = 0; i < ARRAY_LEN(dates); i++) {
        assert_int_equal(schedule_local_to_utc("Europe/Helsinki", dates[i][0], dates[i][1],
                                               dates[i][2], dates[i][3], &t),
                         SCHEDULE_E_RANGE);
        assert_int_equal(t, 42);
    }
    assert_int_equal(local("Europe/Helsinki", 2028, 2, 29, 12, 0), utc(2028, 2, 29, 10, 0));
    assert_int_equal(local("Europe/Helsinki", 9999, 12, 31, 23, 59), utc(9999, 12, 31, 21, 59));

    char buf[SCHEDULE_FORMAT_LEN];
    assert_int_equal(schedule_format_local("UTC", -1, buf, sizeof(buf)), SCHEDULE_E_RANGE);
    assert_int_equal(schedule_format_local("UTC", SCHEDULE_TIME_END, buf, sizeof(buf)),
                     SCHEDULE_E_RANGE);
    assert_local("UTC", SCHEDULE_TIME_END - 1, "9999-12-31 23:59 UTC");
    assert_local("Pacific/Kiritimati", SCHEDULE_TIME_END - 1, "10000-01-01 13:59 +14");
}

static void format_needs_room(void **state)
{
    (void)state;
    const int64_t t = utc(2026, 3, 29, 15, 0);
    const char *want = "2026-03-29 18:00 EEST";
    char buf[SCHEDULE_FORMAT_LEN];
    assert_int_equal(schedule_format_local("Europe/Helsinki", t, buf, strlen(want) + 1),
                     SCHEDULE_OK);
    assert_string_equal(buf, want);
    assert_int_equal(schedule_format_local("Europe/Helsinki", t, buf, strlen(want)),
                     SCHEDULE_E_SPACE);
    assert_string_equal(buf, "");
    assert_int_equal(schedule_format_local("Europe/Helsinki", t, NULL, 0), SCHEDULE_E_SPACE);
    assert_local("Europe/Helsinki", utc(2026, 1, 15, 10, 0), "2026-01-15 12:00 EET");
    assert_local("America/New_York", utc(2026, 7, 1, 16, 5), "2026-07-01 12:05 EDT");
    assert_local("UTC", utc(2026, 7, 1, 16, 5), "2026-07-01 16:05 UTC");
    assert_local("Asia/Kolkata", utc(2026, 7, 1, 16, 5), "2026-07-01 21:35 IST");
    /* The seconds are dropped, not rounded. */
    assert_local("UTC", utc(2026, 7, 1, 16, 5) + 59, "2026-07-01 16:05 UTC");
}

static void utc_and_new_york(void **state)
{
    (void)state;
    int64_t s[8];
    const struct weekly u = {1, 9 * 60 + 15, "UTC"};
    assert_int_equal(schedule_occurrences(&u, utc(2026, 3, 1, 0, 0), utc(2026, 4, 1, 0, 0), s, 8),
                     5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(s[i], utc(2026, 3, 2, 9, 15) + i * WEEK);

    /* US clocks change on 8 March and 1 November 2026. */
    const struct weekly ny = {7, 18 * 60, "America/New_York"};
    assert_int_equal(schedule_occurrences(&ny, utc(2026, 3, 1, 0, 0), utc(2026, 3, 9, 0, 0), s, 8),
                     2);
    assert_int_equal(s[0], utc(2026, 3, 1, 23, 0)); /* EST, UTC-5 */
    assert_int_equal(s[1], utc(2026, 3, 8, 22, 0)); /* EDT, UTC-4 */
    assert_int_equal(
        schedule_occurrences(&ny, utc(2026, 10, 25, 0, 0), utc(2026, 11, 2, 0, 0), s, 8), 2);
    assert_int_equal(s[0], utc(2026, 10, 25, 22, 0));
    assert_int_equal(s[1], utc(2026, 11, 1, 23, 0));
    /* Sunday 18:00 in Los Angeles is Monday 02:00 UTC in winter: the
     * weekday is local, and from falls on the UTC Monday. */
    const struct weekly la = {7, 18 * 60, "America/Los_Angeles"};
    assert_int_equal(
        schedule_occurrences(&la, utc(2026, 11, 2, 0, 0), utc(2026, 11, 9, 0, 0), s, 8), 1);
    assert_int_equal(s[0], utc(2026, 11, 2, 2, 0));

    assert_int_equal(local("America/New_York", 2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 30));
    assert_local("America/New_York", utc(2026, 3, 8, 7, 30), "2026-03-08 03:30 EDT");
    assert_int_equal(local("America/New_York", 2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30));
    assert_local("America/New_York", utc(2026, 11, 1, 5, 30), "2026-11-01 01:30 EDT");
}

static int64_t local_offset_now(void)
{
    time_t t = (time_t)utc(2026, 7, 1, 12, 0);
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

/* Call every function that takes a zone, with good and bad arguments. */
static void call_everything(void)
{
    int64_t s[4], t;
    char buf[SCHEDULE_FORMAT_LEN];
    const struct weekly w = {7, 18 * 60, "Europe/Helsinki"};
    const struct weekly bad = {7, 18 * 60, "Mars/Olympus"};
    assert_int_equal(schedule_occurrences(&w, 0, 4 * WEEK, s, 4), 4);
    assert_int_equal(schedule_occurrences(&bad, 0, 4 * WEEK, s, 4), SCHEDULE_E_ZONE);
    assert_int_equal(schedule_local_to_utc("America/New_York", 2026, 3, 8, 150, &t), SCHEDULE_OK);
    assert_int_equal(schedule_local_to_utc("Mars/Olympus", 2026, 3, 8, 150, &t), SCHEDULE_E_ZONE);
    assert_int_equal(schedule_format_local("Europe/Helsinki", 0, buf, sizeof(buf)), SCHEDULE_OK);
    assert_int_equal(schedule_format_local("Europe/Helsinki", 0, buf, 4), SCHEDULE_E_SPACE);
}

static void tz_environment_is_restored(void **state)
{
    (void)state;
    const char *saved = getenv("TZ");
    char *old = saved ? xstrdup(saved) : NULL;

    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    assert_int_equal(local_offset_now(), 9 * HOUR);
    call_everything();
    assert_non_null(getenv("TZ"));
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    assert_int_equal(local_offset_now(), 9 * HOUR);

    unsetenv("TZ");
    tzset();
    int64_t host = local_offset_now();
    call_everything();
    assert_null(getenv("TZ"));
    assert_int_equal(local_offset_now(), host);

    if (old)
        setenv("TZ", old, 1);
    free(old);
    tzset();
}

static void strerror_names_every_error(void **state)
{
    (void)state;
    const enum schedule_err all[] = {SCHEDULE_OK, SCHEDULE_E_ZONE, SCHEDULE_E_RANGE,
                                     SCHEDULE_E_SPACE};
    for (size_t i = 0; i < ARRAY_LEN(all); i++) {
        assert_string_not_equal(schedule_strerror(all[i]), "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(schedule_strerror(all[i]), schedule_strerror(all[j]));
    }
    assert_string_equal(schedule_strerror((enum schedule_err) - 99), "unknown error");
    assert_string_equal(schedule_strerror((enum schedule_err)1), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(helsinki_keeps_wall_clock_across_dst),
        cmocka_unit_test(stockholm_keeps_wall_clock_across_dst),
        cmocka_unit_test(spring_forward_gap_moves_forward),
        cmocka_unit_test(fall_back_takes_first_instance),
        cmocka_unit_test(local_times_round_trip_all_year),
        cmocka_unit_test(a_whole_day_gap),
        cmocka_unit_test(weekday_is_iso),
        cmocka_unit_test(from_is_inclusive_until_exclusive),
        cmocka_unit_test(max_truncates),
        cmocka_unit_test(bad_zones_are_refused),
        cmocka_unit_test(bad_values_are_refused),
        cmocka_unit_test(format_needs_room),
        cmocka_unit_test(utc_and_new_york),
        cmocka_unit_test(tz_environment_is_restored),
        cmocka_unit_test(strerror_names_every_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
