/*
 * fuzz_assemble: bytes -> a stream of WebSocket message pieces as lws hands
 * them to LWS_CALLBACK_RECEIVE -> wsrx (the fragment assembler ws.c uses).
 *
 * Input: a caps byte, then pieces of [flags][length][data]: flags bit 0
 * ends the frame, bit 1 is the frame's FIN, bit 2 starts a new connection
 * (fresh assembler); length is one byte, scaled by bits 4-7 of flags so
 * pieces reach past the caps. "first" is derived as lws derives it.
 *
 * Checks: a message is exactly the bytes pushed since the last one; no
 * message passes max_bytes or max_frames; a refusal is final for its
 * connection; the buffer never holds more than max_bytes.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsrx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SHADOW_MAX 4096

struct shadow {
    uint8_t bytes[SHADOW_MAX];
    size_t len;
    uint32_t frames;
    bool in_message, refused;
};

static void fresh(struct wsrx *rx, struct shadow *sh)
{
    wsrx_clear(rx);
    memset(sh, 0, sizeof(*sh));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Small caps so that the fuzzer reaches them: 1..1024 bytes, 1..8 frames. */
    struct wsrx_caps caps = {(size_t)(data[0] & 0x0f) * 64 + 1, (uint32_t)(data[0] >> 4) % 8 + 1};
    static uint8_t piece_buf[16 * 256];
    struct wsrx rx = {0};
    struct shadow sh = {0};
    size_t i = 1;

    while (i + 2 <= size) {
        uint8_t flags = data[i];
        size_t len = (size_t)data[i + 1] * ((flags >> 4) + 1);
        i += 2;
        if (flags & 4)
            fresh(&rx, &sh);
        /* The data: what the input still has, repeated to the length asked. */
        size_t avail = size - i;
        for (size_t k = 0; k < len; k++)
            piece_buf[k] = avail ? data[i + k % avail] : (uint8_t)k;
        i += len < avail ? len : avail;

        struct wsrx_piece p = {.data = (const char *)piece_buf,
                               .len = len,
                               .first = !sh.in_message,
                               .frame_end = flags & 1,
                               .final = flags & 2};
        const char *msg;
        size_t msg_len;
        enum wsrx_result r = wsrx_push(&rx, &p, &caps, &msg, &msg_len);
        assert(rx.len <= caps.max_bytes);
        if (sh.refused) {
            assert(r == WSRX_MORE && msg == NULL);
            continue;
        }
        sh.in_message = !(p.frame_end && p.final);
        if (p.frame_end)
            sh.frames++;
        bool over = sh.len + len > caps.max_bytes;
        if (sh.frames > caps.max_frames) {
            assert(r == WSRX_TOO_MANY);
        } else if (over) {
            assert(r == WSRX_TOO_BIG);
        }
        if (r == WSRX_TOO_MANY || r == WSRX_TOO_BIG) {
            sh.refused = true;
            continue;
        }
        assert(sh.len + len <= SHADOW_MAX);
        memcpy(sh.bytes + sh.len, piece_buf, len);
        sh.len += len;
        if (r == WSRX_MESSAGE) {
            assert(!sh.in_message);
            assert(msg_len == sh.len && msg_len <= caps.max_bytes);
            assert(msg_len == 0 || memcmp(msg, sh.bytes, msg_len) == 0);
            wsrx_release(&rx);
            sh.len = 0;
            sh.frames = 0;
        } else {
            assert(r == WSRX_MORE && sh.in_message);
        }
    }
    wsrx_clear(&rx);
    return 0;
}
