#include "ring.h"

#include <assert.h>
#include <stdlib.h>

#include "util.h"

struct ring {
    uint32_t cap, count;
    uint64_t first_seq; /* seq of the oldest held event */
    struct frame **slots;
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
        frame_unref(r->slots[i]);
    free(r->slots);
    free(r);
}

void ring_push(struct ring *r, uint64_t seq, struct frame *f)
{
    if (r->count == 0) {
        r->first_seq = seq;
    } else {
        assert(seq == r->first_seq + r->count);
    }
    struct frame **slot = &r->slots[seq % r->cap];
    if (r->count == r->cap) {
        frame_unref(*slot);
        r->first_seq++;
    } else {
        r->count++;
    }
    *slot = frame_ref(f);
}

bool ring_covers(const struct ring *r, uint64_t after, uint64_t last)
{
    if (after > last)
        return false;
    if (after == last)
        return true;
    return r->count > 0 && after + 1 >= r->first_seq && last < r->first_seq + r->count;
}

struct frame *ring_get(const struct ring *r, uint64_t seq)
{
    if (r->count == 0 || seq < r->first_seq || seq >= r->first_seq + r->count)
        return NULL;
    return r->slots[seq % r->cap];
}

size_t ring_count(const struct ring *r)
{
    return r->count;
}
