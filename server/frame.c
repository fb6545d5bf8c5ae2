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

size_t frame_header(unsigned char *out, size_t len)
{
    out[0] = 0x81; /* FIN, opcode text */
    if (len < 126) {
        out[1] = (unsigned char)len;
        return 2;
    }
    if (len <= UINT16_MAX) {
        out[1] = 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return FRAME_HEADER_MAX;
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
