#include "evloop.h"

#include <assert.h>
#include <stdlib.h>

#include <ev.h>
#include <libwebsockets.h>

#include "klog.h"

#define EVLOOP_MAX_SIGNALS 8
/* lws_context_destroy calls at exit: a foreign loop needs two (see below). */
#define EVLOOP_DESTROY_STEPS 3

struct evloop {
    struct ev_loop *ev;
    ev_signal signals[EVLOOP_MAX_SIGNALS];
    int nsignals;
    evloop_signal_fn on_signal;
    void *signal_arg;
    ev_prepare check; /* before the loop blocks, while a stop is pending */
    evloop_done_fn done;
    void *done_arg;
    ev_prepare last; /* before the loop blocks, after every other prepare */
    evloop_wait_fn last_fn;
    void *last_arg;
};

struct evloop *evloop_new(void)
{
    struct evloop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return NULL;
    /* EVBACKEND_EPOLL: libev's automatic choice on Linux, made explicit so a
     * libev that prefers something else cannot bring back the poll tax. */
    loop->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
    if (!loop->ev) {
        klog_error("start_failed reason=\"cannot make the event loop (epoll)\"");
        free(loop);
        return NULL;
    }
    ev_set_userdata(loop->ev, loop);
    return loop;
}

void *evloop_native(struct evloop *loop)
{
    return loop->ev;
}

static void signal_arrived(struct ev_loop *ev, ev_signal *w, int revents)
{
    (void)revents;
    struct evloop *loop = ev_userdata(ev);
    loop->on_signal(w->signum, loop->signal_arg);
}

int evloop_on_signals(struct evloop *loop, const int *signals, int n, evloop_signal_fn fn,
                      void *arg)
{
    if (n > EVLOOP_MAX_SIGNALS - loop->nsignals)
        return -1;
    loop->on_signal = fn;
    loop->signal_arg = arg;
    for (int i = 0; i < n; i++) {
        ev_signal *w = &loop->signals[loop->nsignals++];
        ev_signal_init(w, signal_arrived, signals[i]);
        ev_signal_start(loop->ev, w);
    }
    return 0;
}

static void check_done(struct ev_loop *ev, ev_prepare *w, int revents)
{
    (void)w;
    (void)revents;
    struct evloop *loop = ev_userdata(ev);
    if (loop->done(loop->done_arg))
        ev_break(ev, EVBREAK_ALL);
}

void evloop_stop_when(struct evloop *loop, evloop_done_fn done, void *arg)
{
    loop->done = done;
    loop->done_arg = arg;
    if (!ev_is_active(&loop->check)) {
        ev_prepare_init(&loop->check, check_done);
        ev_prepare_start(loop->ev, &loop->check);
    }
}

static void run_last(struct ev_loop *ev, ev_prepare *w, int revents)
{
    (void)w;
    (void)revents;
    struct evloop *loop = ev_userdata(ev);
    loop->last_fn(loop->last_arg);
}

void evloop_before_wait(struct evloop *loop, evloop_wait_fn fn, void *arg)
{
    if (ev_is_active(&loop->last)) {
        assert(loop->last_fn == fn && loop->last_arg == arg);
        return;
    }
    loop->last_fn = fn;
    loop->last_arg = arg;
    ev_prepare_init(&loop->last, run_last);
    /* libev calls the watchers due in one pass from the highest priority
     * down, and a prepare watcher started during a pass's prepare calls
     * waits for the next pass: the lowest priority, started once, is what
     * makes this one run after the others, every pass. */
    ev_set_priority(&loop->last, EV_MINPRI);
    ev_prepare_start(loop->ev, &loop->last);
}

void evloop_run(struct evloop *loop)
{
    ev_run(loop->ev, 0);
}

void evloop_free(struct evloop *loop, struct lws_context **ctx)
{
    if (!loop)
        return;
    for (int i = 0; i < loop->nsignals; i++)
        ev_signal_stop(loop->ev, &loop->signals[i]);
    ev_prepare_stop(loop->ev, &loop->check);
    ev_prepare_stop(loop->ev, &loop->last);
    /* lws 4.1 on a foreign loop takes its context down in steps: a call
     * closes every connection and stops lws's watchers; the next frees the
     * context and sets *ctx to NULL (info.pcontext). A pass of the loop in
     * between lets what lws queued run. Not before the first step: the
     * loop would serve clients (a login body, say) after the server has
     * freed what their callbacks need. */
    for (int step = 0; step < EVLOOP_DESTROY_STEPS && *ctx; step++) {
        if (step)
            ev_run(loop->ev, EVRUN_NOWAIT);
        lws_context_destroy(*ctx);
    }
    if (*ctx)
        klog_warn("lws_context_not_freed_at_exit");
    ev_loop_destroy(loop->ev);
    free(loop);
}
