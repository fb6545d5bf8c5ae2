/*
 * storeq: the store worker. One thread with a store connection of its own
 * runs the store calls that the event loop hands over, so that a room never
 * waits for the disk, the network or another process's lock (a kamratctl
 * writer, a PostgreSQL server that hangs).
 *
 * A request is a work function, run on the worker against the worker's
 * store, and a done function, run on the owner's thread afterwards. One
 * worker runs the requests one at a time in the order they came (FIFO), so
 * two writes of one room keep their order.
 *
 * The bound: at most `cap` requests are unfinished (waiting or running).
 * Past it storeq_submit refuses at once; the caller answers the client
 * `busy` (protocol/README.md §6), a retryable error, and nothing happened.
 *
 * The deadline: a request still unfinished `timeout_ms` after it was
 * submitted gets its expired function called (from storeq_expire, on the
 * owner's thread), so the caller can answer its client `busy` then. The
 * work may still run or finish later; its done function still comes,
 * exactly once, and must then act on nothing but its own argument (the
 * connection it was for may be gone: look it up, never keep a pointer).
 *
 * Wake-ups work as in authq (it is built on an authq of one thread): the
 * worker calls the wake function when a request finishes, and the owner
 * calls storeq_drain on its thread (kamratd: lws_cancel_service and
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED).
 *
 * Thread: storeq_new, _submit, _drain, _expire and _free on the owner's
 * thread only; work functions on the worker, touching nothing but their
 * argument and the store they are given.
 */
#ifndef KAMRAT_STOREQ_H
#define KAMRAT_STOREQ_H

#include <stdint.h>

#include "authq.h"

#define STOREQ_CAP 256           /* kamratd: requests unfinished at most, then busy */
#define STOREQ_TIMEOUT_MS 5000   /* kamratd: a request unfinished this long gets busy */
#define STOREQ_BUSY_WAIT_MS 2000 /* the worker's store waits this long for a lock (below) */

struct storeq;
struct store;

enum storeq_status {
    STOREQ_DONE,      /* the work function ran */
    STOREQ_CANCELLED, /* storeq_free came first: the work function never ran */
};

/* Runs on the worker, with the worker's store. */
typedef void (*storeq_work_fn)(struct store *s, void *arg);
/* Runs on the owner's thread, exactly once per accepted request. */
typedef void (*storeq_done_fn)(void *arg, enum storeq_status status);
/* Runs on the owner's thread at most once, before done, when the request
 * passed its deadline unfinished. arg stays borrowed until done. */
typedef void (*storeq_expired_fn)(void *arg);

/*
 * Start the worker for store s, which storeq takes over and closes in
 * storeq_free: a connection of its own (SQLite and libpq connections are
 * not shared between threads), opened with the loop's configuration. Its
 * wait for another process's lock is cut to STOREQ_BUSY_WAIT_MS, below the
 * deadline, so that a lock held long ends in a definite STORE_E_BUSY (the
 * write did not happen) rather than in a request whose outcome the client
 * is never told. wake(wake_arg) runs on the worker as in authq_new.
 * Returns NULL when the thread could not be started (s is closed then).
 */
struct storeq *storeq_new(struct store *s, uint32_t cap, uint64_t timeout_ms, authq_wake_fn wake,
                          void *wake_arg);

/* Queue work(store, arg) on the worker, then done(arg, status) on the
 * owner's thread; expired(arg) (NULL: none) if still unfinished at
 * now_ms + timeout_ms. Borrows arg until done. Returns 0, or -1 when cap
 * requests are unfinished already: then nothing will be called. */
int storeq_submit(struct storeq *q, storeq_work_fn work, storeq_done_fn done,
                  storeq_expired_fn expired, void *arg, uint64_t now_ms);

/* Call the done function of every request finished so far, in order.
 * Returns how many ran; cheap when none has. */
uint32_t storeq_drain(struct storeq *q);

/* Requests accepted whose done function has not run yet (expired ones
 * included). */
uint32_t storeq_outstanding(const struct storeq *q);

/* Call the expired function of every request unfinished at its deadline
 * (<= now_ms). Returns how many expired. Call it often enough for the
 * deadline's precision (kamratd: twice a second). */
uint32_t storeq_expire(struct storeq *q, uint64_t now_ms);

/* Stop: waiting requests get done(arg, STOREQ_CANCELLED) at once, the
 * running one is finished (its store call may take up to its own timeout),
 * then the finished ones get done(arg, STOREQ_DONE), and the store is
 * closed. storeq_free(NULL) is a no-op. */
void storeq_free(struct storeq *q);

#endif
