/* ics: the calendar feed, read back with a small unfolding parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ics.h"
#include "util.h"

#define SUMMARY "Vertaistukiryhmä läheisensä menettäneille — torstaisin"
#define DOMAIN "kamrat.example.org"
#define MAX_LINES 512

/* One unfolded content line: "NAME:value" (kamrat writes no parameters). */
struct prop {
    char *name;
    char *value;
};

struct feed {
    struct prop p[MAX_LINES];
    size_t n;
    size_t folds; /* continuation lines seen */
};

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (int64_t)timegm(&tm);
}

/* Is s[0..n) well-formed UTF-8 on its own (no sequence cut at either end)? */
static bool utf8_whole(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

/* Split buf into physical lines, check each, and unfold them. */
static void parse(const char *buf, size_t len, struct feed *f)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(strlen(buf), len);
    assert_true(len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n');
    char *cur = NULL;
    size_t cur_len = 0;
    const char *line = buf;
    while (line < buf + len) {
        const char *cr = strchr(line, '\r');
        assert_non_null(cr);
        assert_int_equal(cr[1], '\n'); /* CR only as part of CRLF */
        size_t n = (size_t)(cr - line);
        assert_null(memchr(line, '\n', n)); /* no bare LF */
        assert_true(n <= 75);
        assert_true(n > 0);
        if (line[0] == ' ') {
            assert_non_null(cur); /* the first line is no continuation */
            assert_true(utf8_whole((const unsigned char *)line + 1, n - 1));
            cur = xrealloc(cur, cur_len + n);
            memcpy(cur + cur_len, line + 1, n - 1);
            cur_len += n - 1;
            cur[cur_len] = '\0';
            f->folds++;
        } else {
            assert_true(utf8_whole((const unsigned char *)line, n));
            if (cur) {
                assert_true(f->n < MAX_LINES);
                f->p[f->n++].name = cur;
            }
            cur = xstrndup(line, n);
            cur_len = n;
        }
        line = cr + 2;
    }
    assert_true(f->n < MAX_LINES);
    f->p[f->n++].name = cur;
    for (size_t i = 0; i < f->n; i++) {
        char *colon = strchr(f->p[i].name, ':');
        assert_non_null(colon);
        *colon = '\0';
        f->p[i].value = colon + 1;
        assert_null(strchr(f->p[i].name, ';')); /* no parameters */
    }
}

static void feed_free(struct feed *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->p[i].name);
}

/* A TEXT value with its escapes undone; the caller frees it. Unescaped
 * commas and semicolons are errors in a single TEXT value. */
static char *unescape(const char *v)
{
    char *out = xmalloc(strlen(v) + 1), *o = out;
    for (; *v; v++) {
        assert_true(*v != ',' && *v != ';');
        if (*v != '\\') {
            *o++ = *v;
            continue;
        }
        v++;
        if (*v == 'n' || *v == 'N')
            *o++ = '\n';
        else if (*v == '\\' || *v == ';' || *v == ',')
            *o++ = *v;
        else
            fail_msg("bad escape \\%c", *v);
    }
    *o = '\0';
    return out;
}

/* The value of the k-th property called name in [from, to), or NULL. */
static const char *find(const struct feed *f, size_t from, size_t to, const char *name, int k)
{
    for (size_t i = from; i < to; i++)
        if (strcmp(f->p[i].name, name) == 0 && k-- == 0)
            return f->p[i].value;
    return NULL;
}

static void assert_text(const struct feed *f, size_t from, size_t to, const char *name,
                        const char *want)
{
    const char *v = find(f, from, to, name, 0);
    assert_non_null(v);
    char *got = unescape(v);
    assert_string_equal(got, want);
    free(got);
}

/* 300 bytes of UTF-8 with every character TEXT must escape. */
static void long_description(char out[301])
{
    static const char pattern[] = "Liity mukaan: avaa kutsulinkki, valitse nimimerkki; "
                                  "kirjoita \\ tai ole hiljaa.\nÄlä jaa linkkiä, kiitos!\n";
    size_t n = 0;
    while (n + sizeof(pattern) - 1 <= 300) {
        memcpy(out + n, pattern, sizeof(pattern) - 1);
        n += sizeof(pattern) - 1;
    }
    for (; n < 300; n++)
        out[n] = (n % 7 == 0) ? ';' : (n % 5 == 0) ? ',' : (n % 3 == 0) ? '\\' : 'x';
    out[300] = '\0';
}

static void long_text_round_trips(void **state)
{
    (void)state;
    char desc[301];
    long_description(desc);
    assert_int_equal(strlen(desc), 300);
    const char *name = SUMMARY " | " SUMMARY " | " SUMMARY;
    const struct ics_event ev = {7, utc(2026, 3, 5, 16, 0, 0), utc(2026, 3, 5, 17, 30, 0), false};
    size_t len = 0;
    char *ics = ics_build(name, SUMMARY, desc, DOMAIN, &ev, 1, utc(2026, 3, 1, 12, 0, 0), &len);
    struct feed f;
    parse(ics, len, &f);
    assert_true(f.folds >= 4);
    assert_text(&f, 0, f.n, "SUMMARY", SUMMARY);
    assert_text(&f, 0, f.n, "DESCRIPTION", desc);
    assert_text(&f, 0, f.n, "NAME", name);
    assert_text(&f, 0, f.n, "X-WR-CALNAME", name);
    feed_free(&f);
    free(ics);
}

/* Whatever the offset of a multibyte character, a fold never cuts it, and
 * folded lines are filled to within one character of 75 octets. */
static void folding_keeps_utf8_whole(void **state)
{
    (void)state;
    const struct ics_event ev = {1, 0, 3600, false};
    for (size_t k = 0; k < 8; k++) {
        char summary[512] = "";
        memset(summary, 'x', k);
        for (int i = 0; i < 20; i++)
            strcat(summary, "ä—😀,");
        size_t len;
        char *ics = ics_build(NULL, summary, NULL, DOMAIN, &ev, 1, 0, &len);
        struct feed f;
        parse(ics, len, &f);
        assert_text(&f, 0, f.n, "SUMMARY", summary);
        assert_true(f.folds >= 2);
        /* Every physical line followed by a continuation is nearly full. */
        for (const char *l = ics; *l;) {
            const char *end = strstr(l, "\r\n");
            if (end[2] == ' ')
                assert_true(end - l >= 72);
            l = end + 2;
        }
        feed_free(&f);
        free(ics);
    }
}

/* YYYYMMDDTHHMMSSZ, read back. */
static int64_t parse_time(const char *v)
{
    assert_non_null(v);
    assert_int_equal(strlen(v), 16);
    for (int i = 0; i < 16; i++) {
        if (i == 8)
            assert_int_equal(v[i], 'T');
        else if (i == 15)
            assert_int_equal(v[i], 'Z');
        else
            assert_true(v[i] >= '0' && v[i] <= '9');
    }
    int y, mo, d, h, mi, s;
    assert_int_equal(sscanf(v, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s), 6);
    return utc(y, mo, d, h, mi, s);
}

static void events_are_well_formed(void **state)
{
    (void)state;
    const struct ics_event ev[] = {
        {101, utc(2026, 3, 22, 16, 0, 0), utc(2026, 3, 22, 17, 30, 0), false},
        {102, utc(2026, 3, 29, 15, 0, 0), utc(2026, 3, 29, 16, 30, 0), true},
        {9007199254740993, utc(2026, 4, 5, 15, 0, 0), utc(2026, 4, 5, 16, 30, 0), false},
    };
    const int64_t now = utc(2026, 3, 1, 12, 34, 56);
    size_t len;
    char *ics = ics_build("Torstairyhmä", SUMMARY, "Liity kutsulinkistä.", DOMAIN, ev,
                          ARRAY_LEN(ev), now, &len);
    struct feed f;
    parse(ics, len, &f);

    /* BEGIN/END nest and balance: VCALENDAR around the VEVENTs. */
    const char *stack[4];
    size_t depth = 0, events = 0, starts[8];
    for (size_t i = 0; i < f.n; i++) {
        if (strcmp(f.p[i].name, "BEGIN") == 0) {
            assert_true(depth < ARRAY_LEN(stack));
            if (depth == 0)
                assert_string_equal(f.p[i].value, "VCALENDAR");
            else
                assert_string_equal(f.p[i].value, "VEVENT");
            if (depth == 1)
                starts[events++] = i;
            stack[depth++] = f.p[i].value;
        } else if (strcmp(f.p[i].name, "END") == 0) {
            assert_true(depth > 0);
            assert_string_equal(f.p[i].value, stack[--depth]);
            if (depth == 0)
                assert_int_equal(i, f.n - 1);
        } else {
            assert_true(depth > 0);
        }
    }
    assert_int_equal(depth, 0);
    assert_int_equal(events, ARRAY_LEN(ev));
    assert_string_equal(f.p[0].name, "BEGIN");

    assert_string_equal(find(&f, 0, starts[0], "PRODID", 0), "-//kamrat//kamrat//EN");
    assert_string_equal(find(&f, 0, starts[0], "VERSION", 0), "2.0");
    assert_string_equal(find(&f, 0, starts[0], "CALSCALE", 0), "GREGORIAN");
    assert_string_equal(find(&f, 0, starts[0], "METHOD", 0), "PUBLISH");
    assert_text(&f, 0, starts[0], "X-WR-CALNAME", "Torstairyhmä");

    for (size_t e = 0; e < events; e++) {
        size_t from = starts[e], to = e + 1 < events ? starts[e + 1] : f.n;
        char uid[64];
        snprintf(uid, sizeof(uid), "%" PRId64 "@" DOMAIN, ev[e].id);
        assert_string_equal(find(&f, from, to, "UID", 0), uid);
        assert_int_equal(parse_time(find(&f, from, to, "DTSTAMP", 0)), now);
        assert_int_equal(parse_time(find(&f, from, to, "DTSTART", 0)), ev[e].start);
        assert_int_equal(parse_time(find(&f, from, to, "DTEND", 0)), ev[e].end);
        assert_text(&f, from, to, "SUMMARY", SUMMARY);
        assert_text(&f, from, to, "DESCRIPTION", "Liity kutsulinkistä.");
        assert_string_equal(find(&f, from, to, "STATUS", 0),
                            ev[e].cancelled ? "CANCELLED" : "CONFIRMED");
        assert_string_equal(find(&f, from, to, "SEQUENCE", 0), ev[e].cancelled ? "1" : "0");
        assert_null(find(&f, from, to, "UID", 1)); /* each property once */
        assert_null(find(&f, from, to, "DTSTART", 1));
    }
    assert_string_equal(find(&f, starts[0], f.n, "DTSTART", 0), "20260322T160000Z");
    assert_string_equal(find(&f, starts[0], f.n, "DTEND", 0), "20260322T173000Z");
    assert_string_equal(find(&f, 0, f.n, "DTSTAMP", 0), "20260301T123456Z");
    feed_free(&f);
    free(ics);
}

static void no_personal_data(void **state)
{
    (void)state;
    char desc[301];
    long_description(desc);
    const struct ics_event ev[] = {{1, 0, 60, false}, {2, 86400, 86460, true}};
    size_t len;
    char *ics = ics_build(SUMMARY, SUMMARY, desc, DOMAIN, ev, ARRAY_LEN(ev), 0, &len);
    assert_null(strstr(ics, "ORGANIZER"));
    assert_null(strstr(ics, "ATTENDEE"));
    assert_null(strstr(ics, "MAILTO"));
    assert_null(strstr(ics, "mailto"));
    struct feed f;
    parse(ics, len, &f);
    size_t uids = 0;
    for (size_t i = 0; i < f.n; i++) {
        assert_null(strstr(f.p[i].name, "ORGANIZER"));
        assert_null(strstr(f.p[i].name, "ATTENDEE"));
        if (strcmp(f.p[i].name, "UID") == 0)
            uids++;
        else
            assert_null(strchr(f.p[i].value, '@'));
    }
    assert_int_equal(uids, 2);
    feed_free(&f);
    free(ics);
}

/* Text is made well-formed: CR LF and CR become newlines, controls other
 * than tab go, and bytes that are not UTF-8 become U+FFFD. */
static void text_is_sanitised(void **state)
{
    (void)state;
    const struct ics_event ev = {1, 0, 60, false};
    const char *desc = "a\r\nb\rc\x01"
                       "d\te\x7f"
                       "f\xff"
                       "g\xc0\xaf"
                       "h\xed\xa0\x80"
                       "i\xe2\x82"
                       "j\xf4\x90\x80\x80"
                       "k\xf0\x9f\x98\x80";
    const char *want = "a\nb\ncd\tef\xef\xbf\xbdg\xef\xbf\xbd\xef\xbf\xbdh\xef\xbf\xbd\xef\xbf\xbd"
                       "\xef\xbf\xbdi\xef\xbf\xbd\xef\xbf\xbdj\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                       "\xef\xbf\xbdk\xf0\x9f\x98\x80";
    size_t len;
    char *ics = ics_build(NULL, "s", desc, "example.org,x;y", &ev, 1, 0, &len);
    struct feed f;
    parse(ics, len, &f);
    assert_text(&f, 0, f.n, "DESCRIPTION", want);
    assert_string_equal(find(&f, 0, f.n, "UID", 0), "1@example.org\\,x\\;y");
    feed_free(&f);
    free(ics);
}

static void optional_parts_are_left_out(void **state)
{
    (void)state;
    char *ics = ics_build(NULL, SUMMARY, NULL, DOMAIN, NULL, 0, 0, NULL);
    struct feed f;
    parse(ics, strlen(ics), &f);
    assert_int_equal(f.n, 6); /* BEGIN, PRODID, VERSION, CALSCALE, METHOD, END */
    assert_null(find(&f, 0, f.n, "NAME", 0));
    assert_null(find(&f, 0, f.n, "X-WR-CALNAME", 0));
    feed_free(&f);
    free(ics);

    /* An event that does not end after it starts has no DTEND. */
    const struct ics_event ev[] = {{1, 3600, 3600, false}, {2, 7200, 3600, false}};
    size_t len;
    ics = ics_build("n", SUMMARY, NULL, DOMAIN, ev, ARRAY_LEN(ev), 0, &len);
    parse(ics, len, &f);
    assert_null(find(&f, 0, f.n, "DTEND", 0));
    assert_null(find(&f, 0, f.n, "DESCRIPTION", 0));
    assert_string_equal(find(&f, 0, f.n, "DTSTART", 1), "19700101T020000Z");
    feed_free(&f);
    free(ics);
}

static void times_at_the_edges(void **state)
{
    (void)state;
    const struct ics_event ev[] = {
        {1, ICS_TIME_MIN, ICS_TIME_END - 1, false},
        {2, utc(2028, 2, 29, 23, 59, 59), utc(2028, 3, 1, 0, 0, 0), false},
        {3, utc(2000, 12, 31, 0, 0, 0), utc(2100, 3, 1, 0, 0, 1), false},
    };
    size_t len;
    char *ics = ics_build(NULL, "s", NULL, DOMAIN, ev, ARRAY_LEN(ev), ICS_TIME_END - 1, &len);
    struct feed f;
    parse(ics, len, &f);
    static const char *const want[][2] = {
        {"19700101T000000Z", "99991231T235959Z"},
        {"20280229T235959Z", "20280301T000000Z"},
        {"20001231T000000Z", "21000301T000001Z"},
    };
    for (int i = 0; i < 3; i++) {
        assert_string_equal(find(&f, 0, f.n, "DTSTART", i), want[i][0]);
        assert_string_equal(find(&f, 0, f.n, "DTEND", i), want[i][1]);
    }
    assert_string_equal(find(&f, 0, f.n, "DTSTAMP", 0), "99991231T235959Z");
    feed_free(&f);
    free(ics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_text_round_trips),  cmocka_unit_test(folding_keeps_utf8_whole),
        cmocka_unit_test(events_are_well_formed), cmocka_unit_test(no_personal_data),
        cmocka_unit_test(text_is_sanitised),      cmocka_unit_test(optional_parts_are_left_out),
        cmocka_unit_test(times_at_the_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
