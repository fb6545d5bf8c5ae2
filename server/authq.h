/*
 * authq: a few worker threads for password-hash jobs, so that the lws
 * thread never runs a key derivation (about 30 ms and 19 MiB each).
 *
 * The owner submits jobs into a bounded queue. A worker runs the job's work
 * function, puts the finished job on a locked done-queue and calls the wake
 * function given at creation. kamratd passes a function that calls
 * lws_cancel_service(ctx), and calls authq_drain() from
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED, so every done function runs on the lws
 * thread. Tests pass a wake function of their own and need no lws context.
 *
 * Every accepted job's done function runs exactly once, on the owner's
 * thread: from authq_drain() once the work has run, or from authq_free()
 * with AUTHQ_CANCELLED when the work never started.
 *
 * Thread: authq_new, authq_submit, authq_drain, authq_stats and authq_free
 * on the owner's thread only. Work functions run on a worker and must touch
 * nothing but their own job. Wake functions run on a worker and must be
 * safe to call from any thread (lws_cancel_service is).
 */
#ifndef KAMRAT_AUTHQ_H
#define KAMRAT_AUTHQ_H

#include <stdint.h>

#define AUTHQ_MAX_THREADS 8

struct authq;

enum authq_status {
    AUTHQ_DONE,      /* the work function ran */
    AUTHQ_CANCELLED, /* authq_free() came first: the work function never ran */
};

/* Runs on a worker thread. */
typedef void (*authq_work_fn)(void *arg);
/* Runs on the owner's thread, once per accepted job. */
typedef void (*authq_done_fn)(void *arg, enum authq_status status);
/* Runs on a worker thread when the done-queue stops being empty. */
typedef void (*authq_wake_fn)(void *wake_arg);

struct authq_stats {
    uint32_t queued;      /* accepted, waiting for a worker */
    uint32_t running;     /* in a work function now */
    uint32_t max_running; /* the most ever at once: never more than the threads */
    uint64_t completed;   /* work functions that have returned */
    uint64_t rejected;    /* submissions refused because the queue was full */
};

/* Start `threads` workers (1..AUTHQ_MAX_THREADS; TESTPLAN §2 allows at
 * most 2 key derivations at once) for a queue that holds at most `cap` unfinished jobs (queued or
 * running). Workers start with every signal blocked, so signal handlers run
 * on the owner's thread. Borrows wake_arg until authq_free. Returns NULL
 * when no thread could be started. */
struct authq *authq_new(uint32_t threads, uint32_t cap, authq_wake_fn wake, void *wake_arg);

/* Queue a job: work(arg) on a worker, then done(arg, status) on the owner's
 * thread. Borrows arg until done is called. Returns 0, or -1 when `cap`
 * jobs are unfinished already (answer "busy, try again"); then neither
 * function will be called. */
int authq_submit(struct authq *q, authq_work_fn work, authq_done_fn done, void *arg);

/* Call the done function of every job finished so far, in the order they
 * finished, with AUTHQ_DONE. Returns how many ran. Cheap when there is
 * nothing to do, so it may be called on every wake-up. */
uint32_t authq_drain(struct authq *q);

void authq_stats(struct authq *q, struct authq_stats *out);

/* Stop: jobs still waiting get done(arg, AUTHQ_CANCELLED) at once; jobs
 * already running are finished and the workers joined; then every finished
 * job gets done(arg, AUTHQ_DONE). Call it while the objects the jobs point
 * to are still alive, and before the wake function's target is destroyed
 * (in kamratd: before lws_context_destroy). authq_free(NULL) is a no-op. */
void authq_free(struct authq *q);

#endif
