/*
 * mirror: a copy in Redis of every room this node is home to, so that when
 * the node is gone another node can take its rooms over (bus.h, DESIGN §8).
 *
 *   kamrat:ring:<route>  a list, the room's last history_size events: each
 *                        with its seq, its audience tag and, for a message,
 *                        the client message id (idempotent resend holds on
 *                        the next home), then the frame;
 *   kamrat:room:<route>  the room's state as JSON (room.c): members with the
 *                        digests of their resume tokens, the leaders'
 *                        switches, the session's facts.
 *
 * Privacy (DESIGN §4): the ring holds message text, so Redis must keep
 * nothing on disk (cluster_start checks); both keys expire MIRROR_TTL_MS
 * after their last write or refresh (every live room is refreshed well
 * before), and are deleted when the room ends.
 *
 * Tickets: every write has a number, and Redis answers in order; an ack
 * waits until its message's write is answered (conn_hold), so a message is in
 * Redis before its sender is told it is kept. A write that cannot be made
 * (Redis away) has ticket 0 and holds nothing back: the room goes on, and a
 * takeover would then show the gap (README "messages may be missing").
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_MIRROR_H
#define KAMRAT_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "ring.h"

#define MIRROR_TTL_MS (10 * 60 * 1000) /* an unrefreshed copy is gone after this */

struct cluster;
struct evloop;
struct frame;
struct mirror;

/* One event of a fetched ring. */
struct mirror_entry {
    uint64_t seq;
    struct ring_tag tag;
    char id[PROTO_ID_MAX + 1]; /* the client message id of a message, or "" */
    struct frame *f;           /* owned by the fetch; ring_push takes its own reference */
};

/* upto: the highest ticket Redis has answered. */
typedef void mirror_confirm_fn(void *arg, uint64_t upto);

struct mirror *mirror_new(struct cluster *cl, struct evloop *loop, mirror_confirm_fn *fn,
                          void *arg);
/* Shutdown, before the cluster's connection goes: what Redis still answers
 * (hiredis answers pending commands with nothing as it closes) changes
 * nothing and calls nobody. NULL is a no-op. */
void mirror_close(struct mirror *m);

/* After cluster_free. The copies stay in Redis for the next home. NULL is a
 * no-op. */
void mirror_free(struct mirror *m);

/* Append the event to the room's copy, keeping its last cap events. id: the
 * client message id of a message, or NULL. Returns the write's ticket, or 0
 * when nothing could be written. */
uint64_t mirror_push(struct mirror *m, uint64_t route, uint32_t cap, uint64_t seq,
                     const struct ring_tag *tag, const char *id, const struct frame *f);

/* Put f in place of the copy of event seq (a deleted message's tombstone). */
void mirror_replace(struct mirror *m, uint64_t route, uint64_t seq, const struct ring_tag *tag,
                    const struct frame *f);

/* Write the room's state (JSON, len bytes). */
void mirror_state(struct mirror *m, uint64_t route, const char *json, size_t len);

/* Make the room's copy anew from nothing (after Redis was away): drop the
 * old one; mirror_push and mirror_state then fill it. */
void mirror_restart(struct mirror *m, uint64_t route);

/* The room has ended: delete its copy and stop refreshing it. */
void mirror_drop(struct mirror *m, uint64_t route);

/* The ticket the next write will get (0: writes are not possible now). */
uint64_t mirror_next_ticket(const struct mirror *m);

/* The last ticket issued when Redis has not answered it yet, else 0: what
 * a frame that tells of the room's seq (a welcome, a repeated ack) waits
 * for, so that it shows no event Redis may still lack. */
uint64_t mirror_unanswered(const struct mirror *m);

/*
 * Read the room's copy. fn(arg, ...) is called once, later: status 0 with
 * the state (NULL when there is no copy) and the events in seq order; -1
 * when Redis could not be asked or answered. Returns -1 (fn not called) when
 * Redis is not connected.
 */
typedef void mirror_fetched_fn(void *arg, int status, const char *state, size_t state_len,
                               const struct mirror_entry *events, size_t n);
int mirror_fetch(struct mirror *m, uint64_t route, mirror_fetched_fn *fn, void *arg);

#endif
