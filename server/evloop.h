#ifndef KAMRAT_EVLOOP_H
#define KAMRAT_EVLOOP_H

#include <stdbool.h>

struct lws_context;

/*
 * The daemon's event loop: libev's, on epoll, which lws 4.1 runs on as a
 * "foreign" loop. lws's own default loop is poll(2), whose cost grows with
 * every connection on every wake-up (bench/README.md: the poll tax); epoll's
 * does not. Owning the loop also lets other sockets (the cluster bus) and
 * signals live on it next to lws's.
 *
 * Why libev and not libuv: Debian's lws 4.1.6 is built with _DEBUG, and its
 * libuv glue then closes every connection a second time right after the
 * first close ("uv repeat test"), which kills a server-initiated close
 * before its close frame goes out (the client sees 1006, not our code).
 */
struct evloop;

typedef void (*evloop_signal_fn)(int signum, void *arg);
typedef bool (*evloop_done_fn)(void *arg);
typedef void (*evloop_wait_fn)(void *arg);

/* NULL when no epoll loop can be made (out of memory or descriptors). */
struct evloop *evloop_new(void);

/* What lws_context_creation_info.foreign_loops[0] takes. */
void *evloop_native(struct evloop *loop);

/* Call fn(signum, arg) on the loop, not in a signal handler, each time one
 * of signals[0..n) arrives. Returns 0 or -1. */
int evloop_on_signals(struct evloop *loop, const int *signals, int n, evloop_signal_fn fn,
                      void *arg);

/* From now on, check done(arg) each time before the loop would wait, and stop the
 * loop once it says so (a drain that has finished). */
void evloop_stop_when(struct evloop *loop, evloop_done_fn done, void *arg);

/* From now on, call fn(arg) each time before the loop would wait for events,
 * after every other watcher due then (the bus's flush, evloop_stop_when's
 * check), so that what they queue goes out in the same pass. One hook: a
 * second call with the same fn and arg does nothing; it is for the
 * WebSocket transport's writes (ws.c), gathered over a pass. */
void evloop_before_wait(struct evloop *loop, evloop_wait_fn fn, void *arg);

/* Run until evloop_stop_when's check says done. */
void evloop_run(struct evloop *loop);

/*
 * Tear down lws on this loop and the loop itself: stop the signal watchers,
 * destroy *ctx (in the steps lws 4.1 needs on a foreign loop; the context
 * must have been created with info.pcontext = ctx), then free the loop.
 * *ctx may be NULL.
 */
void evloop_free(struct evloop *loop, struct lws_context **ctx);

#endif
