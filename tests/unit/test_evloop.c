/* evloop: the hook that runs before the loop waits runs after every other
 * prepare watcher due in the same pass (the bus's flush may send frames that
 * the transport must write in that pass), once per pass, and registering it
 * again changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ev.h>

#include "evloop.h"

static char order[16];
static int calls;

static void hook(void *arg)
{
    (void)arg;
    order[calls++] = 'w';
}

static void other(struct ev_loop *ev, ev_prepare *w, int revents)
{
    (void)ev;
    (void)w;
    (void)revents;
    order[calls++] = 'o';
}

static void runs_after_the_other_prepare_watchers(void **state)
{
    (void)state;
    struct evloop *loop = evloop_new();
    assert_non_null(loop);
    struct ev_loop *ev = evloop_native(loop);
    /* At the default priority, as the bus's is, and started first: libev
     * calls the watchers of one priority last started first, so only the
     * hook's priority puts it after this one. */
    ev_prepare w;
    ev_prepare_init(&w, other);
    ev_prepare_start(ev, &w);
    evloop_before_wait(loop, hook, loop);
    evloop_before_wait(loop, hook, loop); /* again: still one hook */

    ev_run(ev, EVRUN_NOWAIT);
    ev_run(ev, EVRUN_NOWAIT);
    assert_int_equal(calls, 4);
    assert_memory_equal(order, "owow", 4);

    ev_prepare_stop(ev, &w);
    struct lws_context *none = NULL;
    evloop_free(loop, &none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_after_the_other_prepare_watchers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
