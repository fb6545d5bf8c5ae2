/* authq: work on workers, done on the draining thread, the queue bound,
 * and shutdown with jobs still waiting. Jobs here wait on a gate the test
 * opens, so every ordering asserted is forced, not timed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "authq.h"
#include "wakepipe.h"

/* ---- jobs ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static uint32_t started;

struct job {
    pthread_t worker;
    bool gated;
    int done_calls;
    enum authq_status status;
    bool done_on_owner;
};

static pthread_t owner;

static void reset(void)
{
    owner = pthread_self();
    gate_open = false;
    started = 0;
}

static void open_gate(void)
{
    pthread_mutex_lock(&mu);
    gate_open = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void work(void *arg)
{
    struct job *j = arg;
    j->worker = pthread_self();
    pthread_mutex_lock(&mu);
    started++;
    pthread_cond_broadcast(&cv);
    while (j->gated && !gate_open)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void done(void *arg, enum authq_status status)
{
    struct job *j = arg;
    j->done_calls++;
    j->status = status;
    j->done_on_owner = pthread_equal(pthread_self(), owner);
}

/* The first cancelled job lets the running one finish, so authq_free can
 * join its worker. */
static void done_opens_gate(void *arg, enum authq_status status)
{
    done(arg, status);
    open_gate();
}

static void wait_started(uint32_t n)
{
    pthread_mutex_lock(&mu);
    while (started < n)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

/* ---- tests ---- */

static void fifty_jobs_done_on_the_draining_thread(void **state)
{
    (void)state;
    reset();
    static struct job jobs[50];
    struct authq *q = authq_new(2, 64, wakepipe_wake, NULL);
    assert_non_null(q);
    for (int i = 0; i < 50; i++) {
        jobs[i] = (struct job){0};
        assert_int_equal(authq_submit(q, work, done, &jobs[i]), 0);
    }
    uint32_t drained = 0;
    for (int rounds = 0; drained < 50 && rounds < 1000; rounds++)
        drained += wakepipe_wait_and_drain(q);
    assert_int_equal(drained, 50);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        assert_int_equal(jobs[i].status, AUTHQ_DONE);
        assert_true(jobs[i].done_on_owner);
        assert_false(pthread_equal(jobs[i].worker, owner));
    }
    struct authq_stats st;
    authq_stats(q, &st);
    assert_int_equal(st.completed, 50);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.running, 0);
    assert_in_range(st.max_running, 1, 2);
    assert_int_equal(authq_drain(q), 0);
    authq_free(q);
}

static void a_full_queue_refuses(void **state)
{
    (void)state;
    reset();
    struct job jobs[6] = {0};
    struct authq *q = authq_new(1, 4, wakepipe_wake, NULL);
    for (int i = 0; i < 4; i++) {
        jobs[i].gated = true;
        assert_int_equal(authq_submit(q, work, done, &jobs[i]), 0);
    }
    /* One job is running or about to, three wait: four unfinished. */
    assert_int_equal(authq_submit(q, work, done, &jobs[4]), -1);
    struct authq_stats st;
    authq_stats(q, &st);
    assert_int_equal(st.rejected, 1);

    open_gate();
    uint32_t drained = 0;
    for (int rounds = 0; drained < 4 && rounds < 100; rounds++)
        drained += wakepipe_wait_and_drain(q);
    assert_int_equal(drained, 4);
    assert_int_equal(jobs[4].done_calls, 0); /* refused: never called */

    /* Room again once the jobs are finished. */
    assert_int_equal(authq_submit(q, work, done, &jobs[5]), 0);
    assert_int_equal(wakepipe_wait_and_drain(q), 1);
    assert_int_equal(jobs[5].done_calls, 1);
    authq_free(q);
}

static void free_cancels_waiting_jobs(void **state)
{
    (void)state;
    reset();
    struct job jobs[5] = {0};
    struct authq *q = authq_new(1, 8, wakepipe_wake, NULL);
    for (int i = 0; i < 5; i++) {
        jobs[i].gated = true;
        assert_int_equal(authq_submit(q, work, i == 1 ? done_opens_gate : done, &jobs[i]), 0);
    }
    wait_started(1); /* jobs[0] holds the only worker; 1..4 wait */
    authq_free(q);

    assert_int_equal(jobs[0].done_calls, 1);
    assert_int_equal(jobs[0].status, AUTHQ_DONE);
    assert_true(jobs[0].done_on_owner);
    for (int i = 1; i < 5; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        assert_int_equal(jobs[i].status, AUTHQ_CANCELLED);
        assert_true(jobs[i].done_on_owner);
    }
    assert_int_equal(started, 1);
}

static void free_when_idle(void **state)
{
    (void)state;
    authq_free(NULL);
    struct authq *q = authq_new(2, 1, wakepipe_wake, NULL);
    assert_non_null(q);
    authq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fifty_jobs_done_on_the_draining_thread, wakepipe_open,
                                        wakepipe_close),
        cmocka_unit_test_setup_teardown(a_full_queue_refuses, wakepipe_open, wakepipe_close),
        cmocka_unit_test_setup_teardown(free_cancels_waiting_jobs, wakepipe_open, wakepipe_close),
        cmocka_unit_test(free_when_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
