#include "sendq.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void sendq_init(struct sendq *q, uint32_t cap_frames, size_t cap_bytes)
{
    *q = (struct sendq){.cap_frames = cap_frames, .cap_bytes = cap_bytes};
}

/* Double the ring (idle connections start with none), unrolling it so the
 * oldest frame lands in slot 0. */
static void grow(struct sendq *q)
{
    uint32_t len = q->slots_len ? q->slots_len * 2 : 8;
    struct frame **slots = xcalloc(len, sizeof(*slots));
    for (uint32_t i = 0; i < q->count; i++)
        slots[i] = q->slots[(q->head + i) % q->slots_len];
    free(q->slots);
    q->slots = slots;
    q->slots_len = len;
    q->head = 0;
}

int sendq_push(struct sendq *q, struct frame *f)
{
    if (q->count >= q->cap_frames || q->bytes + f->len > q->cap_bytes)
        return -1;
    if (q->count == q->slots_len)
        grow(q);
    q->slots[(q->head + q->count) % q->slots_len] = frame_ref(f);
    q->count++;
    q->bytes += f->len;
    return 0;
}

struct frame *sendq_peek(const struct sendq *q)
{
    return q->count ? q->slots[q->head] : NULL;
}

void sendq_pop(struct sendq *q)
{
    assert(q->count > 0);
    struct frame *f = q->slots[q->head];
    q->slots[q->head] = NULL;
    q->head = (q->head + 1) % q->slots_len;
    q->count--;
    q->bytes -= f->len;
    frame_unref(f);
}

struct sendq_batch sendq_gather(const struct sendq *q, unsigned char *out, size_t room)
{
    struct sendq_batch b = {0};
    for (; b.frames < q->count; b.frames++) {
        struct frame *f = q->slots[(q->head + b.frames) % q->slots_len];
        unsigned char header[FRAME_HEADER_MAX];
        size_t hl = frame_header(header, f->len);
        if (hl + f->len > room - b.len)
            break;
        memcpy(out + b.len, header, hl);
        memcpy(out + b.len + hl, frame_payload(f), f->len);
        b.len += hl + f->len;
        b.payload += f->len;
    }
    return b;
}

void sendq_clear(struct sendq *q)
{
    while (q->count)
        sendq_pop(q);
    free(q->slots);
    q->slots = NULL;
    q->slots_len = 0;
    q->head = 0;
}
