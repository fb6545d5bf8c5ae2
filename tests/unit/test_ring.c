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
    ring_push(r, seq, f, (struct ring_tag){.audience = 1, .a = (uint32_t)seq});
    frame_unref(f);
}

static void holds_the_last_cap_events(void **state)
{
    (void)state;
    struct ring *r = ring_new(16);
    for (uint64_t s = 1; s <= 40; s++)
        push(r, s);
    assert_int_equal(ring_count(r), 16);
    assert_null(ring_get(r, 24, NULL));
    for (uint64_t s = 25; s <= 40; s++) {
        struct ring_tag tag;
        assert_int_equal(seq_of(ring_get(r, s, &tag)), s);
        assert_int_equal(tag.a, s); /* each event keeps its own tag */
    }
    assert_null(ring_get(r, 41, NULL));
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
    ring_push(r, 1, f, (struct ring_tag){0});
    ring_free(r);
    assert_int_equal(f->refs, 1); /* a send queue still holds it */
    frame_unref(f);
    assert_int_equal(frame_live_count(), 0);
}

/* A deleted message's frame is swapped for its tombstone in place: same
 * seq, same tag, the old frame released. */
static void replace_swaps_the_frame_and_keeps_the_tag(void **state)
{
    (void)state;
    struct ring *r = ring_new(4);
    for (uint64_t s = 1; s <= 6; s++)
        push(r, s);
    struct frame *tomb = event(99);
    assert_false(ring_replace(r, 2, tomb)); /* no longer held */
    assert_false(ring_replace(r, 7, tomb)); /* not yet */
    assert_true(ring_replace(r, 5, tomb));
    frame_unref(tomb);
    struct ring_tag tag;
    assert_int_equal(seq_of(ring_get(r, 5, &tag)), 99);
    assert_int_equal(tag.a, 5);
    ring_free(r);
    assert_int_equal(frame_live_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(holds_the_last_cap_events),
        cmocka_unit_test(covers_only_gapless_ranges),
        cmocka_unit_test(shared_frames_survive_the_ring),
        cmocka_unit_test(replace_swaps_the_frame_and_keeps_the_tag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
