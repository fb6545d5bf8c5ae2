#include "hold.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void hold_push(struct hold *h, struct frame *f, uint64_t ticket)
{
    if (h->head + h->count == h->cap) {
        if (h->head) { /* slide down before growing */
            memmove(h->v, h->v + h->head, h->count * sizeof(*h->v));
            h->head = 0;
        }
        if (h->count == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 4;
            h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
        }
    }
    h->v[h->head + h->count++] = (struct held){frame_ref(f), ticket};
}

void hold_behind(struct hold *h, struct frame *f)
{
    assert(h->count);
    hold_push(h, f, h->v[h->head + h->count - 1].ticket);
}

struct frame *hold_pop(struct hold *h, uint64_t upto)
{
    if (!h->count || h->v[h->head].ticket > upto)
        return NULL;
    struct frame *f = h->v[h->head].f;
    h->head++;
    if (!--h->count)
        h->head = 0;
    return f;
}

void hold_clear(struct hold *h)
{
    for (uint32_t i = 0; i < h->count; i++)
        frame_unref(h->v[h->head + i].f);
    free(h->v);
    *h = (struct hold){0};
}
