#include "authq.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "klog.h"
#include "util.h"

#define WORKER_NICE 10 /* the workers' nice value; the loop thread keeps its own (0) */

struct job {
    authq_work_fn work;
    authq_done_fn done;
    void *arg;
    struct job *next;
};

/* A FIFO of jobs linked through job.next. */
struct list {
    struct job *head, *tail;
};

struct authq {
    pthread_mutex_t lock; /* guards everything below but the thread handles */
    pthread_cond_t work_ready;
    struct list waiting, finished;
    uint32_t cap, unfinished; /* unfinished = waiting + running */
    bool stopping;
    struct authq_stats stats;

    authq_wake_fn wake;
    void *wake_arg;
    uint32_t nthreads;
    pthread_t threads[AUTHQ_MAX_THREADS];
};

static void push(struct list *l, struct job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static struct job *pop(struct list *l)
{
    struct job *j = l->head;
    if (j) {
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
    }
    return j;
}

static struct list take_all(struct list *l)
{
    struct list all = *l;
    l->head = l->tail = NULL;
    return all;
}

static void *worker(void *p)
{
    struct authq *q = p;
    /* A password hash may wait; a room may not. On Linux the nice value is
     * per thread: below the event loop's, a login storm takes only the CPU
     * the loop leaves (TESTPLAN C5: room latency during a login storm). */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE) < 0)
        klog_debug("authq_nice_failed errno=%d", errno);
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->stopping && !q->waiting.head)
            pthread_cond_wait(&q->work_ready, &q->lock);
        if (q->stopping)
            break; /* authq_free cancels whatever still waits */
        struct job *j = pop(&q->waiting);
        q->stats.queued--;
        if (++q->stats.running > q->stats.max_running)
            q->stats.max_running = q->stats.running;
        pthread_mutex_unlock(&q->lock);

        j->work(j->arg);

        pthread_mutex_lock(&q->lock);
        q->stats.running--;
        q->stats.completed++;
        q->unfinished--;
        /* One wake per batch: when the done-queue was not empty, a wake is
         * already on its way and its drain will take this job too. */
        bool first = q->finished.head == NULL;
        push(&q->finished, j);
        if (first) {
            pthread_mutex_unlock(&q->lock);
            q->wake(q->wake_arg);
            pthread_mutex_lock(&q->lock);
        }
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

struct authq *authq_new(uint32_t threads, uint32_t cap, authq_wake_fn wake, void *wake_arg)
{
    assert(threads >= 1 && threads <= AUTHQ_MAX_THREADS);
    assert(cap >= 1 && wake);
    struct authq *q = xcalloc(1, sizeof(*q));
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work_ready, NULL);
    q->cap = cap;
    q->wake = wake;
    q->wake_arg = wake_arg;

    /* Threads inherit the creator's signal mask: block everything while
     * creating them, so SIGTERM and SIGHUP land on the owner's thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (uint32_t i = 0; i < threads; i++) {
        if (pthread_create(&q->threads[q->nthreads], NULL, worker, q) != 0)
            break;
        q->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (q->nthreads == 0) {
        authq_free(q);
        return NULL;
    }
    return q;
}

int authq_submit(struct authq *q, authq_work_fn work, authq_done_fn done, void *arg)
{
    assert(work && done);
    pthread_mutex_lock(&q->lock);
    if (q->unfinished >= q->cap) {
        q->stats.rejected++;
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    struct job *j = xmalloc(sizeof(*j));
    j->work = work;
    j->done = done;
    j->arg = arg;
    push(&q->waiting, j);
    q->unfinished++;
    q->stats.queued++;
    pthread_cond_signal(&q->work_ready);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* Call each job's done function and free the job. No lock is held, so done
 * functions may submit new jobs. */
static uint32_t finish(struct list *l, enum authq_status status)
{
    uint32_t n = 0;
    struct job *j;
    while ((j = pop(l)) != NULL) {
        j->done(j->arg, status);
        free(j);
        n++;
    }
    return n;
}

uint32_t authq_drain(struct authq *q)
{
    pthread_mutex_lock(&q->lock);
    struct list done = take_all(&q->finished);
    pthread_mutex_unlock(&q->lock);
    return finish(&done, AUTHQ_DONE);
}

void authq_stats(struct authq *q, struct authq_stats *out)
{
    pthread_mutex_lock(&q->lock);
    *out = q->stats;
    pthread_mutex_unlock(&q->lock);
}

void authq_free(struct authq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true; /* workers take no new job from here on */
    pthread_cond_broadcast(&q->work_ready);
    struct list cancelled = take_all(&q->waiting);
    q->unfinished -= q->stats.queued;
    q->stats.queued = 0;
    pthread_mutex_unlock(&q->lock);
    /* Waiting jobs are told at once, without waiting for the running ones. */
    finish(&cancelled, AUTHQ_CANCELLED);

    for (uint32_t i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    authq_drain(q);
    pthread_cond_destroy(&q->work_ready);
    pthread_mutex_destroy(&q->lock);
    free(q);
}
