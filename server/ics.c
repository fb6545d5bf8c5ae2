#include "ics.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* RFC 5545 §3.1: content lines are at most 75 octets, excluding CRLF. */
#define LINE_MAX_OCTETS 75

/* The feed being built, and the octets on its current physical line. */
struct out {
    char *p;
    size_t len, cap;
    size_t col;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        while (o->len + n + 1 > o->cap)
            o->cap *= 2;
        o->p = xrealloc(o->p, o->cap);
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

/* Append n octets that must stay on one physical line (one UTF-8
 * character, or one escape), folding first when they would not fit. */
static void unit(struct out *o, const char *s, size_t n)
{
    if (o->col + n > LINE_MAX_OCTETS) {
        put(o, "\r\n ", 3);
        o->col = 1;
    }
    put(o, s, n);
    o->col += n;
}

static void ascii(struct out *o, const char *s)
{
    for (; *s; s++)
        unit(o, s, 1);
}

static void end_line(struct out *o)
{
    put(o, "\r\n", 2);
    o->col = 0;
}

/* Length of the well-formed UTF-8 sequence at s (Unicode Table 3-7), or 0
 * when it is not one. A NUL ends any sequence, as it is no trail byte. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and
 * newline escaped, the text made well-formed UTF-8 without controls. */
static void text(struct out *o, const char *value)
{
    const unsigned char *s = (const unsigned char *)value;
    while (*s) {
        unsigned char c = *s;
        if (c == '\\' || c == ';' || c == ',') {
            char esc[2] = {'\\', (char)c};
            unit(o, esc, 2);
            s++;
        } else if (c == '\r' || c == '\n') {
            unit(o, "\\n", 2);
            s += (c == '\r' && s[1] == '\n') ? 2 : 1;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            s++;
        } else {
            size_t n = utf8_len(s);
            if (n == 0) {
                unit(o, "\xef\xbf\xbd", 3);
                s++;
            } else {
                unit(o, (const char *)s, n);
                s += n;
            }
        }
    }
}

static void prop_text(struct out *o, const char *name, const char *value)
{
    ascii(o, name);
    unit(o, ":", 1);
    text(o, value);
    end_line(o);
}

static void prop(struct out *o, const char *name, const char *value)
{
    ascii(o, name);
    unit(o, ":", 1);
    ascii(o, value);
    end_line(o);
}

/* t as an RFC 5545 UTC DATE-TIME, YYYYMMDDTHHMMSSZ (after Howard Hinnant's
 * civil_from_days; no gmtime, so no time_t range questions). */
static void prop_time(struct out *o, const char *name, int64_t t)
{
    assert(t >= ICS_TIME_MIN && t < ICS_TIME_END);
    int64_t secs = t % 86400;
    int64_t z = t / 86400 + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);

    char buf[32];
    snprintf(buf, sizeof(buf),
             "%04" PRId64 "%02" PRId64 "%02" PRId64 "T%02" PRId64 "%02" PRId64 "%02" PRId64 "Z", y,
             m, d, secs / 3600, secs / 60 % 60, secs % 60);
    prop(o, name, buf);
}

static void event(struct out *o, const struct ics_event *e, const char *summary,
                  const char *description, const char *uid_domain, int64_t now)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64 "@", e->id);

    prop(o, "BEGIN", "VEVENT");
    ascii(o, "UID:");
    ascii(o, id);
    text(o, uid_domain);
    end_line(o);
    prop_time(o, "DTSTAMP", now);
    prop_time(o, "DTSTART", e->start);
    if (e->end > e->start)
        prop_time(o, "DTEND", e->end);
    prop_text(o, "SUMMARY", summary);
    if (description)
        prop_text(o, "DESCRIPTION", description);
    prop(o, "STATUS", e->cancelled ? "CANCELLED" : "CONFIRMED");
    /* A cancellation is a revision of the published event, so clients
     * that stored SEQUENCE:0 replace it rather than ignore it. */
    prop(o, "SEQUENCE", e->cancelled ? "1" : "0");
    prop(o, "END", "VEVENT");
}

char *ics_build(const char *calendar_name, const char *summary, const char *description,
                const char *uid_domain, const struct ics_event *ev, size_t n, int64_t now,
                size_t *len)
{
    assert(summary && uid_domain && (ev || n == 0));
    struct out o = {.cap = 1024};
    o.p = xmalloc(o.cap);

    prop(&o, "BEGIN", "VCALENDAR");
    prop(&o, "PRODID", "-//kamrat//kamrat//EN");
    prop(&o, "VERSION", "2.0");
    prop(&o, "CALSCALE", "GREGORIAN");
    prop(&o, "METHOD", "PUBLISH");
    if (calendar_name) {
        prop_text(&o, "NAME", calendar_name);         /* RFC 7986 */
        prop_text(&o, "X-WR-CALNAME", calendar_name); /* what most clients read */
    }
    for (size_t i = 0; i < n; i++)
        event(&o, &ev[i], summary, description, uid_domain, now);
    prop(&o, "END", "VCALENDAR");

    if (len)
        *len = o.len;
    return o.p;
}
