/* ring: a room's bounded history for resume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

static struct frame *event(uint64_t seq)
{
    struct frame *f = frame_new(sizeof(seq));
    memcpy(frame_payload(f), &seq, sizeof(seq));
    return f;
}

static uint64_t seq_of(struct frame *f)
{
    uint64_t s;
    memcpy(&s, frame_payload(f), sizeof(s));
    return s;
}

static void push(struct ring *r, uint64_t seq)
{
    struct frame *f = event(seq);
    ring_push(r, seq, f);
    frame_unref(f);
}

static void holds_the_last_cap_events(void **state)
{
    (void)state;
    struct ring *r = ring_new(16);
    for (uint64_t s = 1; s <= 40; s++)
        push(r, s);
    assert_int_equal(ring_count(r), 16);
    assert_null(ring_get(r, 24));
    for (uint64_t s = 25; s <= 40; s++)
        assert_int_equal(seq_of(ring_get(r, s)), s);
    assert_null(ring_get(r, 41));
    ring_free(r);
    assert_int_equal(frame_live_count(), 0); /* every dropped frame was released */
}

static void covers_only_gapless_ranges(void **state)
{
    (void)state;
    struct ring *r = ring_new(16);
    assert_true(ring_covers(r, 0, 0)); /* nothing happened, nothing missed */
    for (uint64_t s = 1; s <= 40; s++)
        push(r, s);
    assert_true(ring_covers(r, 40, 40));
    assert_true(ring_covers(r, 24, 40));  /* 25..40 held */
    assert_false(ring_covers(r, 23, 40)); /* 24 is gone */
    assert_false(ring_covers(r, 0, 40));
    assert_false(ring_covers(r, 41, 40)); /* a client ahead of the room */
    ring_free(r);
}

static void shared_frames_survive_the_ring(void **state)
{
    (void)state;
    struct ring *r = ring_new(16);
    struct frame *f = event(1);
    ring_push(r, 1, f);
    ring_free(r);
    assert_int_equal(f->refs, 1); /* a send queue still holds it */
    frame_unref(f);
    assert_int_equal(frame_live_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(holds_the_last_cap_events),
        cmocka_unit_test(covers_only_gapless_ranges),
        cmocka_unit_test(shared_frames_survive_the_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
