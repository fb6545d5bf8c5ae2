/* round: turn order, passes and dones, reorders, members leaving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "round.h"

static void assert_ids(const uint32_t *got, size_t n, const uint32_t *want, size_t wn)
{
    assert_int_equal(n, wn);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

static void turns_go_in_order_and_end(void **state)
{
    (void)state;
    const uint32_t order[] = {4, 2, 9};
    struct round *r = round_new(PROTO_ROUND_CHECK_IN, order, 3, true);
    struct proto_round v;
    round_view(r, &v);
    assert_int_equal(v.speaker, 4);
    assert_ids(v.queue, v.queue_len, (uint32_t[]){2, 9}, 2);
    assert_true(v.exclusive);
    assert_int_equal(v.kind, PROTO_ROUND_CHECK_IN);

    round_advance(r, true);  /* 4 has spoken */
    round_advance(r, false); /* 2 passes */
    round_view(r, &v);
    assert_int_equal(v.speaker, 9);
    assert_int_equal(v.queue_len, 0);
    assert_ids(v.done, v.done_len, (uint32_t[]){4}, 1);
    assert_ids(v.passed, v.passed_len, (uint32_t[]){2}, 1);

    round_advance(r, true);
    assert_int_equal(round_speaker(r), 0); /* over */
    round_advance(r, true);                /* nothing left: no effect */
    round_view(r, &v);
    assert_ids(v.done, v.done_len, (uint32_t[]){4, 9}, 2);
    round_free(r);
}

static void reorder_replaces_the_queue_after_the_speaker(void **state)
{
    (void)state;
    const uint32_t order[] = {1, 2, 3};
    struct round *r = round_new(PROTO_ROUND_PLAIN, order, 3, false);
    round_reorder(r, (uint32_t[]){3, 7, 2}, 3);
    struct proto_round v;
    round_view(r, &v);
    assert_int_equal(v.speaker, 1);
    assert_ids(v.queue, v.queue_len, (uint32_t[]){3, 7, 2}, 3);
    assert_true(round_queued(r, 7));
    assert_false(round_queued(r, 1)); /* the speaker is not waiting */
    round_reorder(r, NULL, 0);
    round_view(r, &v);
    assert_int_equal(v.queue_len, 0);
    assert_int_equal(v.speaker, 1);
    round_free(r);
}

static void leaving_members_are_dropped(void **state)
{
    (void)state;
    const uint32_t order[] = {5, 6, 7};
    struct round *r = round_new(PROTO_ROUND_CHECK_OUT, order, 3, true);
    assert_false(round_drop(r, 42)); /* not in the round */
    assert_true(round_drop(r, 6));   /* waiting: out of the queue */
    assert_false(round_queued(r, 6));
    assert_true(round_drop(r, 5)); /* the speaker: counts as passed */
    struct proto_round v;
    round_view(r, &v);
    assert_int_equal(v.speaker, 7);
    assert_ids(v.passed, v.passed_len, (uint32_t[]){5}, 1);
    assert_true(round_drop(r, 7));
    assert_int_equal(round_speaker(r), 0);
    round_free(r);
    round_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(turns_go_in_order_and_end),
        cmocka_unit_test(reorder_replaces_the_queue_after_the_speaker),
        cmocka_unit_test(leaving_members_are_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
