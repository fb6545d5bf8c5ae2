/*
 * ics: an iCalendar (RFC 5545) feed of one group's upcoming sessions, for
 * participants to keep in their own calendar app from the invite page
 * without giving anyone an e-mail address.
 *
 * The feed carries only what the caller passes: the group's name, one
 * fixed description, session times and cancellations. It never has an
 * ORGANIZER, ATTENDEE, e-mail address or participant name.
 *
 * Output is METHOD:PUBLISH with times in UTC, CRLF line ends, TEXT values
 * escaped, and lines folded at 75 octets between UTF-8 characters.
 *
 * Thread: any. Pure: no I/O, no clock (the caller passes now).
 */
#ifndef KAMRAT_ICS_H
#define KAMRAT_ICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Times ics_build() can write as YYYYMMDDTHHMMSSZ:
 * [1970-01-01T00:00:00Z, 10000-01-01T00:00:00Z). */
#define ICS_TIME_MIN INT64_C(0)
#define ICS_TIME_END INT64_C(253402300800)

struct ics_event {
    int64_t id;     /* stable session id; the UID is "<id>@<uid_domain>" */
    int64_t start;  /* Unix seconds (UTC) */
    int64_t end;    /* Unix seconds (UTC); no DTEND is written unless end > start */
    bool cancelled; /* STATUS:CANCELLED and SEQUENCE:1, else CONFIRMED and 0 */
};

/*
 * Build a VCALENDAR (PRODID "-//kamrat//kamrat//EN", VERSION 2.0, CALSCALE
 * GREGORIAN, METHOD PUBLISH, NAME and X-WR-CALNAME = calendar_name) with one
 * VEVENT per event, in the order given: UID, DTSTAMP = now, DTSTART, DTEND,
 * SUMMARY = summary, DESCRIPTION = description, STATUS, SEQUENCE.
 *
 * calendar_name and description may be NULL to leave their properties out;
 * summary and uid_domain may not. Text is taken as UTF-8: invalid bytes
 * become U+FFFD, CR LF and lone CR become newlines, and other control
 * characters except tab are dropped. now and every start and end must lie
 * in [ICS_TIME_MIN, ICS_TIME_END). ev may be NULL when n is 0.
 *
 * Returns a new NUL-terminated buffer that the caller frees, and sets *len
 * (when len is not NULL) to its length without the NUL. Borrows every
 * argument. Aborts only when memory is exhausted.
 */
char *ics_build(const char *calendar_name, const char *summary, const char *description,
                const char *uid_domain, const struct ics_event *ev, size_t n, int64_t now,
                size_t *len);

#endif
