/*
 * feed: the calendar of a group's upcoming sessions, reachable with an
 * invite (GET /j/<code>/calendar.ics), so participants can keep the sessions
 * in their own calendar app without giving anyone an e-mail address.
 *
 * Side path: one store read per request. Thread: the caller's, with a
 * store of that thread (kamratd: the store worker, http.c).
 */
#ifndef KAMRAT_FEED_H
#define KAMRAT_FEED_H

#include <stddef.h>
#include <stdint.h>

struct store;

/*
 * The iCalendar text for the group of the active invite `code` (22 chars of
 * base64url): its sessions from now on (cancelled ones marked), named after
 * the group, UIDs under uid_domain. Returns a new buffer (the caller frees)
 * and *len, or NULL when the invite is unknown, expired, revoked or used up.
 */
char *feed_calendar(struct store *s, const char *code, int64_t now, const char *uid_domain,
                    size_t *len);

#endif
