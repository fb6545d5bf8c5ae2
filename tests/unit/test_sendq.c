/* sendq: the fan-out queue. One encoded frame shared by many queues, caps
 * in frames and bytes, nothing leaked when a queue is dropped, and the
 * frames of a queue gathered, each behind its header, for one write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sendq.h"

static void one_frame_shared_by_many_queues(void **state)
{
    (void)state;
    struct sendq q[10];
    struct frame *f = frame_from("{\"type\":\"message\"}", 18);
    for (int i = 0; i < 10; i++) {
        sendq_init(&q[i], 16, 1 << 20);
        assert_int_equal(sendq_push(&q[i], f), 0);
    }
    assert_int_equal(f->refs, 11);
    assert_int_equal(frame_live_count(), 1); /* encoded once */
    for (int i = 0; i < 10; i++) {
        assert_ptr_equal(sendq_peek(&q[i]), f);
        sendq_pop(&q[i]);
        sendq_clear(&q[i]);
    }
    assert_int_equal(f->refs, 1);
    frame_unref(f);
    assert_int_equal(frame_live_count(), 0);
}

static void frame_cap_refuses_and_keeps_order(void **state)
{
    (void)state;
    struct sendq q;
    sendq_init(&q, 20, 1 << 20);
    struct frame *frames[21];
    for (int i = 0; i < 21; i++) {
        frames[i] = frame_new(4);
        memcpy(frame_payload(frames[i]), &i, sizeof(i));
    }
    for (int i = 0; i < 20; i++)
        assert_int_equal(sendq_push(&q, frames[i]), 0);
    assert_int_equal(sendq_push(&q, frames[20]), -1); /* the cut point */
    assert_int_equal(q.count, 20);
    for (int i = 0; i < 20; i++) {
        int v;
        memcpy(&v, frame_payload(sendq_peek(&q)), sizeof(v));
        assert_int_equal(v, i);
        sendq_pop(&q);
    }
    assert_null(sendq_peek(&q));
    for (int i = 0; i < 21; i++)
        frame_unref(frames[i]);
    sendq_clear(&q);
    assert_int_equal(frame_live_count(), 0);
}

static void byte_cap_refuses(void **state)
{
    (void)state;
    struct sendq q;
    sendq_init(&q, 1000, 100);
    struct frame *f = frame_new(40);
    assert_int_equal(sendq_push(&q, f), 0);
    assert_int_equal(sendq_push(&q, f), 0);
    assert_int_equal(sendq_push(&q, f), -1); /* 120 > 100 */
    assert_int_equal(q.bytes, 80);
    sendq_clear(&q); /* drops queued references: a cut connection frees its backlog */
    assert_int_equal(q.bytes, 0);
    assert_int_equal(f->refs, 1);
    frame_unref(f);
}

static void wraps_around_while_growing(void **state)
{
    (void)state;
    struct sendq q;
    sendq_init(&q, 64, 1 << 20);
    struct frame *f[100];
    int next_in = 0, next_out = 0;
    for (int i = 0; i < 100; i++) {
        f[i] = frame_new(4);
        memcpy(frame_payload(f[i]), &i, sizeof(i));
    }
    /* push 3, pop 2, repeatedly: the ring wraps and grows with frames in it */
    while (next_in < 100) {
        for (int k = 0; k < 3 && next_in < 100; k++)
            assert_int_equal(sendq_push(&q, f[next_in++]), 0);
        for (int k = 0; k < 2; k++) {
            int v;
            memcpy(&v, frame_payload(sendq_peek(&q)), sizeof(v));
            assert_int_equal(v, next_out++);
            sendq_pop(&q);
        }
    }
    while (sendq_peek(&q)) {
        int v;
        memcpy(&v, frame_payload(sendq_peek(&q)), sizeof(v));
        assert_int_equal(v, next_out++);
        sendq_pop(&q);
    }
    assert_int_equal(next_out, 100);
    sendq_clear(&q);
    for (int i = 0; i < 100; i++)
        frame_unref(f[i]);
    assert_int_equal(frame_live_count(), 0);
}

/* RFC 6455 §5.2: FIN + text, no mask, the length in 7 bits, or 126 and 16
 * bits, or 127 and 64 bits, in network order; the shortest form. */
static void frame_header_encodes_each_length_form(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        size_t header_len;
        unsigned char header[FRAME_HEADER_MAX];
    } cases[] = {
        {0, 2, {0x81, 0}},
        {1, 2, {0x81, 1}},
        {125, 2, {0x81, 125}},
        {126, 4, {0x81, 126, 0, 126}},
        {300, 4, {0x81, 126, 0x01, 0x2c}},
        {65535, 4, {0x81, 126, 0xff, 0xff}},
        {65536, 10, {0x81, 127, 0, 0, 0, 0, 0, 0x01, 0, 0}},
        {0x12345678, 10, {0x81, 127, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char out[FRAME_HEADER_MAX];
        memset(out, 0xee, sizeof(out));
        assert_int_equal(frame_header(out, cases[i].len), cases[i].header_len);
        assert_memory_equal(out, cases[i].header, cases[i].header_len);
    }
}

static struct frame *text_frame(const char *s)
{
    return frame_from(s, strlen(s));
}

static void gather_puts_whole_frames_behind_their_headers(void **state)
{
    (void)state;
    struct sendq q;
    sendq_init(&q, 16, 1 << 20);
    char big[200];
    memset(big, 'x', sizeof(big));
    struct frame *f[3] = {text_frame("a"), text_frame("bc"), frame_from(big, sizeof(big))};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sendq_push(&q, f[i]), 0);

    unsigned char out[512];
    struct sendq_batch b = sendq_gather(&q, out, sizeof(out));
    assert_int_equal(b.frames, 3);
    assert_int_equal(b.payload, 203);
    assert_int_equal(b.len, 3 + 4 + 204);
    static const unsigned char heads[] = {0x81, 1, 'a', 0x81, 2, 'b', 'c', 0x81, 126, 0, 200};
    assert_memory_equal(out, heads, sizeof(heads));
    assert_memory_equal(out + 11, big, sizeof(big));
    assert_int_equal(q.count, 3); /* nothing taken out: that is sendq_pop's, once written */

    for (int i = 0; i < 3; i++)
        frame_unref(f[i]);
    sendq_clear(&q);
    assert_int_equal(frame_live_count(), 0);
}

static void gather_stops_before_a_frame_that_does_not_fit(void **state)
{
    (void)state;
    struct sendq q;
    sendq_init(&q, 16, 1 << 20);
    unsigned char out[64];
    assert_int_equal(sendq_gather(&q, out, sizeof(out)).frames, 0); /* empty */

    struct frame *f[3] = {text_frame("0123456789"), text_frame("abcdefghij"),
                          text_frame("ABCDEFGHIJ")};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sendq_push(&q, f[i]), 0);
    /* 12 bytes a frame: 35 takes two whole ones and no piece of the third */
    struct sendq_batch b = sendq_gather(&q, out, 35);
    assert_int_equal(b.frames, 2);
    assert_int_equal(b.len, 24);
    assert_int_equal(b.payload, 20);
    /* the oldest alone too big: nothing, and the caller writes it alone */
    assert_int_equal(sendq_gather(&q, out, 11).frames, 0);
    assert_int_equal(sendq_gather(&q, out, 12).frames, 1);

    for (int i = 0; i < 3; i++)
        frame_unref(f[i]);
    sendq_clear(&q);
}

static void gather_keeps_order_across_the_ring_wrap(void **state)
{
    (void)state;
    struct sendq q;
    sendq_init(&q, 64, 1 << 20);
    struct frame *f[12];
    for (int i = 0; i < 12; i++) {
        char s[2] = {(char)('a' + i), 0};
        f[i] = text_frame(s);
    }
    for (int i = 0; i < 8; i++) /* fills the first ring of 8 */
        assert_int_equal(sendq_push(&q, f[i]), 0);
    for (int i = 0; i < 6; i++)
        sendq_pop(&q);
    for (int i = 8; i < 12; i++) /* slots 0..3 again: the ring wraps */
        assert_int_equal(sendq_push(&q, f[i]), 0);
    assert_int_equal(q.slots_len, 8);

    unsigned char out[64];
    struct sendq_batch b = sendq_gather(&q, out, sizeof(out));
    assert_int_equal(b.frames, 6);
    for (int i = 0; i < 6; i++) {
        unsigned char want[3] = {0x81, 1, (unsigned char)('g' + i)}; /* frames 6..11 */
        assert_memory_equal(out + 3 * i, want, sizeof(want));
    }

    sendq_clear(&q);
    for (int i = 0; i < 12; i++)
        frame_unref(f[i]);
    assert_int_equal(frame_live_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_frame_shared_by_many_queues),
        cmocka_unit_test(frame_cap_refuses_and_keeps_order),
        cmocka_unit_test(byte_cap_refuses),
        cmocka_unit_test(wraps_around_while_growing),
        cmocka_unit_test(frame_header_encodes_each_length_form),
        cmocka_unit_test(gather_puts_whole_frames_behind_their_headers),
        cmocka_unit_test(gather_stops_before_a_frame_that_does_not_fit),
        cmocka_unit_test(gather_keeps_order_across_the_ring_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
