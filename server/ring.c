#include "ring.h"

#include <assert.h>
#include <stdlib.h>

#include "util.h"

struct ring {
    uint32_t cap, count;
    uint64_t first_seq; /* seq of the oldest held event */
    struct slot {
        struct frame *f;
        struct ring_tag tag;
    } * slots;
};

struct ring *ring_new(uint32_t cap)
{
    assert(cap > 0);
    struct ring *r = xcalloc(1, sizeof(*r));
    r->cap = cap;
    r->slots = xcalloc(cap, sizeof(*r->slots));
    return r;
}

void ring_free(struct ring *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->cap; i++)
        frame_unref(r->slots[i].f);
    free(r->slots);
    free(r);
}

void ring_push(struct ring *r, uint64_t seq, struct frame *f, struct ring_tag tag)
{
    if (r->count == 0) {
        r->first_seq = seq;
    } else {
        assert(seq == r->first_seq + r->count);
    }
    struct slot *slot = &r->slots[seq % r->cap];
    if (r->count == r->cap) {
        frame_unref(slot->f);
        r->first_seq++;
    } else {
        r->count++;
    }
    *slot = (struct slot){frame_ref(f), tag};
}

static bool held(const struct ring *r, uint64_t seq)
{
    return r->count > 0 && seq >= r->first_seq && seq < r->first_seq + r->count;
}

bool ring_replace(struct ring *r, uint64_t seq, struct frame *f)
{
    if (!held(r, seq))
        return false;
    struct slot *slot = &r->slots[seq % r->cap];
    frame_unref(slot->f);
    slot->f = frame_ref(f);
    return true;
}

bool ring_covers(const struct ring *r, uint64_t after, uint64_t last)
{
    if (after > last)
        return false;
    if (after == last)
        return true;
    return r->count > 0 && after + 1 >= r->first_seq && last < r->first_seq + r->count;
}

struct frame *ring_get(const struct ring *r, uint64_t seq, struct ring_tag *tag)
{
    if (!held(r, seq))
        return NULL;
    const struct slot *slot = &r->slots[seq % r->cap];
    if (tag)
        *tag = slot->tag;
    return slot->f;
}

size_t ring_count(const struct ring *r)
{
    return r->count;
}
