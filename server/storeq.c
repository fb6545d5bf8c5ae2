#include "storeq.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

#include "klog.h"
#include "store.h"
#include "util.h"

/* One request. Unexpired requests are kept in submission order: with one
 * timeout for all, their deadlines come in that order too, and
 * storeq_expire looks at the oldest only. */
struct req {
    struct storeq *q;
    storeq_work_fn work;
    storeq_done_fn done;
    storeq_expired_fn expired;
    void *arg;
    uint64_t deadline_ms;
    bool waiting; /* in q's deadline list */
    struct req *prev, *next;
};

struct storeq {
    struct authq *aq; /* one worker thread */
    struct store *store;
    uint64_t timeout_ms;
    struct req *head, *tail; /* unexpired requests, oldest first (owner's thread) */
    uint32_t outstanding;    /* accepted, done not run yet (owner's thread) */
};

static void unlink_req(struct storeq *q, struct req *r)
{
    if (!r->waiting)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        q->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        q->tail = r->prev;
    r->waiting = false;
}

struct storeq *storeq_new(struct store *s, uint32_t cap, uint64_t timeout_ms, authq_wake_fn wake,
                          void *wake_arg)
{
    assert(timeout_ms > 0);
    /* Tests give no store: their work functions do not use one. */
    if (s && store_set_busy_wait(s, STOREQ_BUSY_WAIT_MS) < 0)
        klog_warn("storeq_busy_wait_failed reason=\"%s\"", store_errmsg(s));
    struct storeq *q = xcalloc(1, sizeof(*q));
    q->aq = authq_new(1, cap, wake, wake_arg);
    if (!q->aq) {
        store_close(s);
        free(q);
        return NULL;
    }
    q->store = s;
    q->timeout_ms = timeout_ms;
    return q;
}

/* On the worker. q->store is set before the thread starts and never
 * changes, so reading it here needs no lock. */
static void run(void *p)
{
    struct req *r = p;
    r->work(r->q->store, r->arg);
}

static void finish(void *p, enum authq_status st)
{
    struct req *r = p;
    unlink_req(r->q, r);
    r->q->outstanding--;
    r->done(r->arg, st == AUTHQ_DONE ? STOREQ_DONE : STOREQ_CANCELLED);
    free(r);
}

int storeq_submit(struct storeq *q, storeq_work_fn work, storeq_done_fn done,
                  storeq_expired_fn expired, void *arg, uint64_t now_ms)
{
    assert(work && done);
    struct req *r = xcalloc(1, sizeof(*r));
    *r = (struct req){.q = q,
                      .work = work,
                      .done = done,
                      .expired = expired,
                      .arg = arg,
                      .deadline_ms = now_ms + q->timeout_ms,
                      .waiting = true,
                      .prev = q->tail};
    /* Linked before the worker can finish it: finish unlinks. */
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    if (authq_submit(q->aq, run, finish, r) < 0) {
        unlink_req(q, r);
        free(r);
        return -1;
    }
    q->outstanding++;
    return 0;
}

uint32_t storeq_outstanding(const struct storeq *q)
{
    return q->outstanding;
}

uint32_t storeq_drain(struct storeq *q)
{
    return authq_drain(q->aq);
}

uint32_t storeq_expire(struct storeq *q, uint64_t now_ms)
{
    uint32_t n = 0;
    struct req *r;
    while ((r = q->head) != NULL && r->deadline_ms <= now_ms) {
        unlink_req(q, r);
        if (r->expired)
            r->expired(r->arg);
        n++;
    }
    return n;
}

void storeq_free(struct storeq *q)
{
    if (!q)
        return;
    authq_free(q->aq); /* every request's done runs here at the latest */
    assert(!q->head);
    store_close(q->store);
    free(q);
}
