/* sendq: the fan-out queue. One encoded frame shared by many queues, caps
 * in frames and bytes, and nothing leaked when a queue is dropped. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_frame_shared_by_many_queues),
        cmocka_unit_test(frame_cap_refuses_and_keeps_order),
        cmocka_unit_test(byte_cap_refuses),
        cmocka_unit_test(wraps_around_while_growing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
