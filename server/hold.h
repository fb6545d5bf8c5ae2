/*
 * hold: the frames of one connection that wait for tickets (the mirror's,
 * mirror.h: a frame is shown only once Redis has its event's copy), in the
 * order they were sent. A frame sent behind a held one waits with it, so a
 * connection's frames keep their order. A plain queue: conn.c keeps one per
 * connection and sends what hold_pop gives back.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_HOLD_H
#define KAMRAT_HOLD_H

#include <stdint.h>

#include "frame.h"

struct hold {
    struct held {
        struct frame *f;
        uint64_t ticket;
    } * v;
    uint32_t head, count, cap;
};

/* Keep a new reference to f until ticket is released. */
void hold_push(struct hold *h, struct frame *f, uint64_t ticket);

/* Keep a new reference to f behind the last held frame (h not empty). */
void hold_behind(struct hold *h, struct frame *f);

/* The oldest frame whose ticket is <= upto, taken out (the caller owns the
 * reference), or NULL. */
struct frame *hold_pop(struct hold *h, uint64_t upto);

/* Drop every held frame and the queue's memory. */
void hold_clear(struct hold *h);

#endif
