/*
 * feed: the calendar of a group's upcoming sessions, reachable with an
 * invite (GET /j/<code>/calendar.ics), so participants can keep the sessions
 * in their own calendar app without giving anyone an e-mail address.
 *
 * Side path: one store read per request, on the store worker (storeq.h):
 * http.c asks with feed_calendar_async and is answered on the loop.
 */
#ifndef KAMRAT_FEED_H
#define KAMRAT_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct storeq;

/*
 * The iCalendar text for the group of the active invite `code` (22 chars of
 * base64url): its sessions from now on (cancelled ones marked), named after
 * the group, UIDs under uid_domain. Returns a new buffer (the caller frees)
 * and *len, or NULL when the invite is unknown, expired, revoked or used up.
 */
char *feed_calendar(struct store *s, const char *code, int64_t now, const char *uid_domain,
                    size_t *len);

/* The answer of feed_calendar_async, on the loop's thread, exactly once:
 * text as feed_calendar's (the callee owns it; NULL: no such invite), or
 * failed when the store could not be asked. */
typedef void feed_done_fn(void *arg, char *text, size_t len, bool failed);
/* The request passed the store worker's deadline (storeq.h); its done
 * function still comes later. */
typedef void feed_late_fn(void *arg);

/* feed_calendar on the store worker q (code copied). 0, or -1 at once
 * when q is full (nothing will be called). */
int feed_calendar_async(struct storeq *q, const char *code, int64_t now, const char *uid_domain,
                        uint64_t now_ms, feed_done_fn *done, feed_late_fn *late, void *arg);

#endif
