/*
 * frame: an outbound WebSocket message, encoded once and shared.
 *
 * A room event is serialised into one frame; every recipient's send queue
 * and the room's history ring hold a reference to it. The buffer keeps
 * LWS_PRE bytes of headroom in front of the payload so lws_write() can put
 * the WebSocket header there without a copy. The header lws writes is the
 * same for every recipient (server frames are unmasked), so sharing the
 * headroom is safe, as in lws's minimal-ws-server-ring.
 *
 * Frames that may hold message text are wiped (OPENSSL_cleanse) when the
 * last reference goes.
 *
 * Thread: the lws thread only (plain, non-atomic reference counts).
 */
#ifndef KAMRAT_FRAME_H
#define KAMRAT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

struct frame {
    uint32_t refs;
    uint32_t len;        /* payload bytes */
    unsigned char buf[]; /* LWS_PRE headroom, then len payload bytes, then a NUL */
};

/* A new frame with room for len payload bytes and one reference. */
struct frame *frame_new(size_t len);

/* A new frame holding a copy of the len bytes at data. */
struct frame *frame_from(const void *data, size_t len);

static inline unsigned char *frame_payload(struct frame *f)
{
    return f->buf + LWS_PRE;
}

static inline struct frame *frame_ref(struct frame *f)
{
    f->refs++;
    return f;
}

/* The most bytes frame_header writes. */
#define FRAME_HEADER_MAX 10

/* Write the header of a server's text frame of len payload bytes to out
 * (RFC 6455 §5.2: FIN, opcode 1, unmasked, the shortest length form), as
 * lws_write(LWS_WRITE_TEXT) puts in the headroom. Returns its length: 2, 4
 * or 10 (FRAME_HEADER_MAX). */
size_t frame_header(unsigned char *out, size_t len);

/* Drop one reference; the last one wipes and frees. frame_unref(NULL) is a no-op. */
void frame_unref(struct frame *f);

/* Frames currently alive: for tests and /healthz. */
size_t frame_live_count(void);

#endif
