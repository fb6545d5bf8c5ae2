/* storeq: work on the worker in order, done on the draining thread, the
 * bound, the deadline (expired before done, done still exactly once), and
 * shutdown with requests waiting. Requests wait on a gate the test opens
 * and the clock is the test's, so every ordering asserted is forced, not
 * timed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>

#include "storeq.h"
#include "wakepipe.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static uint32_t started;
static pthread_t owner;
static int order[64], ran; /* which request ran when */

struct req {
    int n;
    bool gated;
    pthread_t worker;
    int done_calls, expired_calls;
    bool expired_before_done, on_owner;
    enum storeq_status status;
};

static int reset(void **state)
{
    owner = pthread_self();
    gate_open = false;
    started = 0;
    ran = 0;
    return wakepipe_open(state);
}

static void open_gate(void)
{
    pthread_mutex_lock(&mu);
    gate_open = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_started(uint32_t n)
{
    pthread_mutex_lock(&mu);
    while (started < n)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void work(struct store *s, void *arg)
{
    (void)s;
    struct req *r = arg;
    r->worker = pthread_self();
    pthread_mutex_lock(&mu);
    started++;
    order[ran++] = r->n;
    pthread_cond_broadcast(&cv);
    while (r->gated && !gate_open)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void done(void *arg, enum storeq_status st)
{
    struct req *r = arg;
    r->done_calls++;
    r->status = st;
    r->on_owner = pthread_equal(pthread_self(), owner);
}

static void expired(void *arg)
{
    struct req *r = arg;
    r->expired_calls++;
    r->expired_before_done = r->done_calls == 0;
    assert_true(pthread_equal(pthread_self(), owner));
}

static void drain_until(struct storeq *q, struct req *reqs, int n)
{
    for (int rounds = 0; rounds < 1000; rounds++) {
        bool all = true;
        for (int i = 0; i < n; i++)
            all &= reqs[i].done_calls == 1;
        if (all)
            return;
        wakepipe_wait();
        storeq_drain(q);
    }
    fail_msg("requests not done");
}

static void in_order_done_on_the_draining_thread(void **state)
{
    (void)state;
    static struct req reqs[40];
    struct storeq *q = storeq_new(NULL, 64, 5000, wakepipe_wake, NULL);
    assert_non_null(q);
    for (int i = 0; i < 40; i++) {
        reqs[i] = (struct req){.n = i};
        assert_int_equal(storeq_submit(q, work, done, expired, &reqs[i], 0), 0);
    }
    drain_until(q, reqs, 40);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(order[i], i); /* one worker: first in, first run */
        assert_int_equal(reqs[i].status, STOREQ_DONE);
        assert_true(reqs[i].on_owner);
        assert_false(pthread_equal(reqs[i].worker, owner));
        assert_int_equal(reqs[i].expired_calls, 0);
    }
    assert_int_equal(storeq_expire(q, 1000000), 0); /* done requests never expire */
    storeq_free(q);
}

static void a_full_queue_refuses_at_once(void **state)
{
    (void)state;
    struct req reqs[5] = {{0}};
    struct storeq *q = storeq_new(NULL, 4, 5000, wakepipe_wake, NULL);
    for (int i = 0; i < 4; i++) {
        reqs[i].gated = true;
        assert_int_equal(storeq_submit(q, work, done, expired, &reqs[i], 0), 0);
    }
    assert_int_equal(storeq_submit(q, work, done, expired, &reqs[4], 0), -1);
    open_gate();
    drain_until(q, reqs, 4);
    assert_int_equal(reqs[4].done_calls, 0); /* refused: never called */
    assert_int_equal(storeq_submit(q, work, done, expired, &reqs[4], 0), 0);
    drain_until(q, reqs, 5);
    storeq_free(q);
}

/* The first request holds the worker past its deadline: it and the one
 * behind it expire (on the owner's thread, once each), a later one does
 * not yet; done still comes once for each after the gate opens. */
static void a_late_request_expires_then_is_done(void **state)
{
    (void)state;
    struct req reqs[3] = {{.n = 0, .gated = true}, {.n = 1}, {.n = 2}};
    struct storeq *q = storeq_new(NULL, 8, 5000, wakepipe_wake, NULL);
    assert_int_equal(storeq_submit(q, work, done, expired, &reqs[0], 1000), 0);
    assert_int_equal(storeq_submit(q, work, done, expired, &reqs[1], 2000), 0);
    assert_int_equal(storeq_submit(q, work, done, expired, &reqs[2], 9000), 0);
    wait_started(1);
    assert_int_equal(storeq_expire(q, 5999), 0);
    assert_int_equal(storeq_expire(q, 7000), 2);
    assert_int_equal(storeq_expire(q, 7000), 0); /* once */
    assert_int_equal(reqs[0].expired_calls, 1);
    assert_int_equal(reqs[1].expired_calls, 1);
    assert_int_equal(reqs[2].expired_calls, 0);
    assert_int_equal(reqs[0].done_calls + reqs[1].done_calls, 0);
    open_gate();
    drain_until(q, reqs, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(reqs[i].status, STOREQ_DONE);
        assert_true(reqs[i].on_owner);
    }
    assert_true(reqs[0].expired_before_done);
    assert_int_equal(reqs[2].expired_calls, 0);
    assert_int_equal(storeq_expire(q, 100000), 0); /* finished: nothing left to expire */
    storeq_free(q);
}

static void done_opens_gate(void *arg, enum storeq_status st)
{
    done(arg, st);
    open_gate();
}

static void free_cancels_waiting_requests(void **state)
{
    (void)state;
    struct req reqs[4] = {{.gated = true}, {.gated = true}, {.gated = true}, {.gated = true}};
    struct storeq *q = storeq_new(NULL, 8, 5000, wakepipe_wake, NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(storeq_submit(q, work, i == 1 ? done_opens_gate : done, NULL, &reqs[i], 0),
                         0);
    wait_started(1);
    storeq_free(q);
    assert_int_equal(reqs[0].status, STOREQ_DONE);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(reqs[i].done_calls, 1);
        assert_true(reqs[i].on_owner);
        if (i)
            assert_int_equal(reqs[i].status, STOREQ_CANCELLED);
    }
    storeq_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(in_order_done_on_the_draining_thread, reset,
                                        wakepipe_close),
        cmocka_unit_test_setup_teardown(a_full_queue_refuses_at_once, reset, wakepipe_close),
        cmocka_unit_test_setup_teardown(a_late_request_expires_then_is_done, reset, wakepipe_close),
        cmocka_unit_test_setup_teardown(free_cancels_waiting_requests, reset, wakepipe_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
