#include "wsrx.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define FIRST_CAP 1024

/* Make room for need bytes; the old buffer is wiped before it is freed. */
static void reserve(struct wsrx *rx, size_t need)
{
    if (need <= rx->cap)
        return;
    size_t cap = rx->cap ? rx->cap : FIRST_CAP;
    while (cap < need)
        cap *= 2;
    char *nb = xmalloc(cap);
    if (rx->buf) {
        memcpy(nb, rx->buf, rx->len);
        wipe(rx->buf, rx->cap);
        free(rx->buf);
    }
    rx->buf = nb;
    rx->cap = cap;
}

enum wsrx_result wsrx_push(struct wsrx *rx, const struct wsrx_piece *p,
                           const struct wsrx_caps *caps, const char **msg, size_t *msg_len)
{
    bool message_end = p->frame_end && p->final;

    *msg = NULL;
    *msg_len = 0;
    if (rx->discard)
        return WSRX_MORE;
    if (p->first && rx->len == 0)
        rx->frames = 0;
    if (p->frame_end && ++rx->frames > caps->max_frames) {
        rx->discard = true;
        return WSRX_TOO_MANY;
    }
    if (p->len > caps->max_bytes || rx->len > caps->max_bytes - p->len) {
        rx->discard = true;
        return WSRX_TOO_BIG;
    }
    if (message_end && rx->len == 0) {
        *msg = p->data; /* the common case: no copy */
        *msg_len = p->len;
        return WSRX_MESSAGE;
    }
    if (p->len) {
        reserve(rx, rx->len + p->len);
        memcpy(rx->buf + rx->len, p->data, p->len);
        rx->len += p->len;
    }
    if (!message_end)
        return WSRX_MORE;
    *msg = rx->buf;
    *msg_len = rx->len;
    return WSRX_MESSAGE;
}

bool wsrx_pending(const struct wsrx *rx)
{
    return rx->len > 0 || rx->discard;
}

void wsrx_release(struct wsrx *rx)
{
    if (rx->len)
        wipe(rx->buf, rx->len);
    rx->len = 0;
}

void wsrx_clear(struct wsrx *rx)
{
    if (rx->buf)
        wipe(rx->buf, rx->cap);
    free(rx->buf);
    *rx = (struct wsrx){0};
}
