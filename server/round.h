/*
 * round: the turn order of a check-in, check-out or speaking round
 * (protocol/README.md §4a "Rounds"). Pure state, no I/O: the room module
 * applies requests and broadcasts proto_round views of it.
 *
 * A round has a speaker, a queue of those still to speak after them, and
 * the lists of those who have spoken (done) and passed, in order. When the
 * speaker is done or passes, the next in the queue speaks; when the queue is
 * empty the round is over (speaker 0).
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_ROUND_H
#define KAMRAT_ROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct round;

/* A round over order (n >= 1 distinct member ids); the first speaks. */
struct round *round_new(enum proto_round_kind kind, const uint32_t *order, size_t n,
                        bool exclusive);
void round_free(struct round *r);

/* The round a view (round_view) showed, made anew: how a planned restart
 * carries a running round over (room_mirror.c). Copies v's arrays. */
struct round *round_from_view(const struct proto_round *v);

/* The member speaking now, or 0 when the round is over. */
uint32_t round_speaker(const struct round *r);
bool round_exclusive(const struct round *r);

/* The speaker has spoken (done) or passes (!done); the next one speaks. */
void round_advance(struct round *r, bool done);

/* Replace the queue after the speaker with order (distinct ids, none of
 * them the speaker); n may be 0. */
void round_reorder(struct round *r, const uint32_t *order, size_t n);

/* member left the room: out of the queue, and a speaker who leaves counts
 * as passed. True when the round changed. */
bool round_drop(struct round *r, uint32_t member);

/* Is member waiting in the queue (after the speaker)? */
bool round_queued(const struct round *r, uint32_t member);

/* A view for encoding; it borrows r's arrays until r next changes. */
void round_view(const struct round *r, struct proto_round *out);

#endif
