/*
 * ring: a room's bounded history of encoded events, for resume.
 *
 * Holds one reference to each of the last `cap` event frames, indexed by
 * their seq (consecutive), each with a tag the room reads (who the event is
 * for, who wrote it). Pushing onto a full ring drops the oldest event; a
 * dropped frame is wiped when its last reference goes (frame.c).
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

/* What the room keeps beside each event; the ring does not read it. */
struct ring_tag {
    uint32_t audience; /* the room's audience kind */
    uint32_t a, b;     /* the audience's members, when it names any */
    uint32_t author;   /* a message's sender; 0 for other events */
};

struct ring *ring_new(uint32_t cap);
/* Drop every reference, then free. ring_free(NULL) is a no-op. */
void ring_free(struct ring *r);

/* Append the event with this seq; takes a new reference to f.
 * seq must be one more than the last pushed seq (or any seq when empty). */
void ring_push(struct ring *r, uint64_t seq, struct frame *f, struct ring_tag tag);

/* Put f (a new reference) in place of the held event seq, keeping its tag;
 * the old frame is released (and wiped once nothing else holds it). False
 * when seq is not held. */
bool ring_replace(struct ring *r, uint64_t seq, struct frame *f);

/* True when every event with seq in (after, last] is still held, so a
 * client that saw `after` can be replayed without a gap. */
bool ring_covers(const struct ring *r, uint64_t after, uint64_t last);

/* The event with this seq, borrowed, or NULL when it is not held; its tag
 * goes to *tag when tag is not NULL. */
struct frame *ring_get(const struct ring *r, uint64_t seq, struct ring_tag *tag);

size_t ring_count(const struct ring *r);

#endif
