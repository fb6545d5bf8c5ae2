/*
 * wsrx: one connection's inbound message assembly. lws hands a WebSocket
 * message over in pieces (frames, and chunks of frames); wsrx joins them
 * into one buffer with the caps applied while bytes arrive, so nothing
 * beyond max_bytes is ever buffered and a message of more than max_frames
 * fragments is refused however small it is (lws 4.1.6 accepts any number,
 * TESTPLAN §0).
 *
 * Pure: no lws, no I/O; ws.c feeds it what LWS_CALLBACK_RECEIVE says, and
 * tests/fuzz/fuzz_assemble.c feeds it anything. Message bytes are wiped
 * when they are released.
 *
 * Thread: the caller's (the lws thread).
 */
#ifndef KAMRAT_WSRX_H
#define KAMRAT_WSRX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wsrx {
    char *buf; /* the message so far */
    size_t len, cap;
    uint32_t frames;
    bool discard; /* a cap was passed: everything after is dropped */
};

/* What lws said about one piece of a message. */
struct wsrx_piece {
    const char *data;
    size_t len;
    bool first;     /* part of the first frame of a message */
    bool frame_end; /* the last piece of its frame */
    bool final;     /* its frame has FIN set */
};

enum wsrx_result {
    WSRX_MORE,     /* keep reading (also: dropped after an earlier refusal) */
    WSRX_MESSAGE,  /* a whole message: see wsrx_push */
    WSRX_TOO_BIG,  /* more than max_bytes: refuse with 1009 */
    WSRX_TOO_MANY, /* more than max_frames fragments: refuse with 1008 */
};

struct wsrx_caps {
    size_t max_bytes;
    uint32_t max_frames;
};

/* A zeroed struct wsrx is ready for use. */

/*
 * Add piece p. On WSRX_MESSAGE, *msg and *msg_len are the whole message:
 * borrowed from p->data (a message in one piece is not copied) or from rx,
 * valid until the next wsrx_push, wsrx_release or wsrx_clear. Call
 * wsrx_release once it has been handled. After WSRX_TOO_BIG or
 * WSRX_TOO_MANY every later piece is dropped (WSRX_MORE): the caller is
 * closing the connection.
 */
enum wsrx_result wsrx_push(struct wsrx *rx, const struct wsrx_piece *p,
                           const struct wsrx_caps *caps, const char **msg, size_t *msg_len);

/* The message wsrx_push returned has been handled: wipe it and start the
 * next one (the buffer is kept for reuse). */
void wsrx_release(struct wsrx *rx);

/* Is a message under way: begun and not yet returned, or being dropped
 * after a cap was passed? */
bool wsrx_pending(const struct wsrx *rx);

/* Wipe and free the buffer; rx is zeroed and may be used again. */
void wsrx_clear(struct wsrx *rx);

#endif
