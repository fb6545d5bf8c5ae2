/*
 * sendq: one connection's queue of outbound frames, capped in frames and
 * bytes. The queue holds a reference to each frame; the cap is what turns a
 * reader that stopped reading into a cut connection instead of unbounded
 * server memory (DESIGN.md §6).
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_SENDQ_H
#define KAMRAT_SENDQ_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct sendq {
    struct frame **slots; /* ring of slots_len, grown on demand */
    uint32_t slots_len, cap_frames, head, count;
    size_t bytes, cap_bytes;
};

void sendq_init(struct sendq *q, uint32_t cap_frames, size_t cap_bytes);

/* Queue a new reference to f. Returns 0, or -1 (nothing queued) when the
 * frame would pass either cap. */
int sendq_push(struct sendq *q, struct frame *f);

/* The oldest frame, borrowed, or NULL when empty. */
struct frame *sendq_peek(const struct sendq *q);

/* Drop the oldest frame's reference. */
void sendq_pop(struct sendq *q);

/* What sendq_gather put together: frames whole WebSocket frames, payload
 * bytes of them (what METRIC_BYTES_OUT counts), len bytes in all. */
struct sendq_batch {
    uint32_t frames;
    size_t payload, len;
};

/*
 * Copy the oldest frames into out, each as a whole server text frame (its
 * header, frame_header, then its payload), as many as fit in room bytes:
 * several frames for one write of raw bytes. Nothing is taken out of q
 * (sendq_pop, once written). frames is 0 when q is empty or its oldest
 * frame alone does not fit.
 */
struct sendq_batch sendq_gather(const struct sendq *q, unsigned char *out, size_t room);

/* Drop every reference and free the slots. The queue can be reused. */
void sendq_clear(struct sendq *q);

#endif
