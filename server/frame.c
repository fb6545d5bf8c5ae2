#include "frame.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static size_t live;

struct frame *frame_new(size_t len)
{
    assert(len <= UINT32_MAX);
    struct frame *f = xmalloc(sizeof(*f) + LWS_PRE + len + 1);
    f->refs = 1;
    f->len = (uint32_t)len;
    f->buf[LWS_PRE + len] = '\0';
    live++;
    return f;
}

struct frame *frame_from(const void *data, size_t len)
{
    struct frame *f = frame_new(len);
    memcpy(frame_payload(f), data, len);
    return f;
}

void frame_unref(struct frame *f)
{
    if (!f)
        return;
    assert(f->refs > 0);
    if (--f->refs)
        return;
    /* Any frame may carry message text or a token: wipe them all rather
     * than trust every caller to classify correctly. */
    wipe(frame_payload(f), f->len);
    free(f);
    live--;
}

size_t frame_live_count(void)
{
    return live;
}
