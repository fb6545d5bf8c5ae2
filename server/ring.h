/*
 * ring: a room's bounded history of encoded events, for resume.
 *
 * Holds one reference to each of the last `cap` event frames, indexed by
 * their seq (consecutive). Pushing onto a full ring drops the oldest event;
 * a dropped frame is wiped when its last reference goes (frame.c).
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_RING_H
#define KAMRAT_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct ring;

struct ring *ring_new(uint32_t cap);
/* Drop every reference, then free. ring_free(NULL) is a no-op. */
void ring_free(struct ring *r);

/* Append the event with this seq; takes a new reference to f.
 * seq must be one more than the last pushed seq (or any seq when empty). */
void ring_push(struct ring *r, uint64_t seq, struct frame *f);

/* True when every event with seq in (after, last] is still held, so a
 * client that saw `after` can be replayed without a gap. */
bool ring_covers(const struct ring *r, uint64_t after, uint64_t last);

/* The event with this seq, borrowed, or NULL when it is not held. */
struct frame *ring_get(const struct ring *r, uint64_t seq);

size_t ring_count(const struct ring *r);

#endif
