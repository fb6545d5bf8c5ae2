/*
 * lagproxy.c - a loopback TCP proxy that holds every byte for a fixed delay
 * in each direction, and can freeze: what a database a few milliseconds away,
 * or one that stops answering, looks like to kamratd (bench/joinstorm.sh).
 *
 *   lagproxy LISTEN_PORT TARGET_PORT [DELAY_MS [FREEZE_MS]]
 *
 * It listens on 127.0.0.1:LISTEN_PORT and connects each client it accepts to
 * 127.0.0.1:TARGET_PORT.  What one side sends is written to the other
 * DELAY_MS (default 2) after it was read, in order, so a query and its answer
 * each take DELAY_MS more than on loopback.  No root, no tc/netem: the delay
 * is the proxy's own schedule.
 *
 * SIGUSR1 freezes the proxy for FREEZE_MS (default 3000): it reads nothing,
 * writes nothing and accepts nothing, and keeps every socket open, as a
 * stalled server or a dead link whose peer's kernel still acknowledges.
 * Afterwards what was held goes on its way.  SIGTERM or SIGINT ends it.
 * It logs each freeze and, at the end, the connections and bytes to stderr.
 *
 * One thread, one level-triggered epoll loop, at most MAX_PAIRS connections.
 * Not a proxy for anything but this benchmark.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000ull
#define MAX_PAIRS 64
#define READ_CAP 65536

/* Bytes read from one side, due to be written to the other at `due`. */
struct chunk {
    struct chunk *next;
    uint64_t due;
    size_t len, off;
    char data[];
};

/* One end of a proxied connection and what waits to be written to it. */
struct side {
    int fd;
    int epout;   /* waiting for room to write */
    int rd_eof;  /* this side closed its direction: nothing more to read */
    int eof_due; /* 1: the other side closed; shut writing down once the queue is empty; 2: done */
    struct chunk *head, *tail;
};

struct pair {
    struct side s[2]; /* 0: the client, 1: the target */
    int used;
};

static struct pair pairs[MAX_PAIRS];
static int ep, npairs_total;
static uint64_t bytes[2]; /* client -> target, target -> client */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "lagproxy: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The epoll tag of side i of pair p: pair index * 2 + side, + 1 (0 is the listener). */
static uint64_t tag(const struct pair *p, int i)
{
    return (uint64_t)(p - pairs) * 2 + (uint64_t)i + 1;
}

static void watch(struct pair *p, int i, int op)
{
    struct side *s = &p->s[i];
    struct epoll_event ev = {.events = (s->rd_eof ? 0u : EPOLLIN) | (s->epout ? EPOLLOUT : 0u),
                             .data.u64 = tag(p, i)};
    if (epoll_ctl(ep, op, s->fd, &ev) < 0)
        die("epoll_ctl");
}

static void pair_close(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        struct side *s = &p->s[i];
        if (s->fd >= 0)
            close(s->fd); /* also leaves the epoll set */
        while (s->head) {
            struct chunk *c = s->head;
            s->head = c->next;
            free(c);
        }
        memset(s, 0, sizeof *s);
        s->fd = -1;
    }
    p->used = 0;
}

static int tcp_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void accept_one(int lfd, int target)
{
    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    struct pair *p = NULL;
    for (int i = 0; i < MAX_PAIRS && !p; i++)
        if (!pairs[i].used)
            p = &pairs[i];
    if (!p) {
        fprintf(stderr, "lagproxy: more than %d connections, one refused\n", MAX_PAIRS);
        close(cfd);
        return;
    }
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int tfd = tcp_socket();
    struct sockaddr_in a = loopback(target);
    if (connect(tfd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        fprintf(stderr, "lagproxy: connect to port %d: %s\n", target, strerror(errno));
        close(cfd);
        close(tfd);
        return;
    }
    memset(p, 0, sizeof *p);
    p->used = 1;
    p->s[0].fd = cfd;
    p->s[1].fd = tfd;
    watch(p, 0, EPOLL_CTL_ADD);
    watch(p, 1, EPOLL_CTL_ADD);
    npairs_total++;
}

/* Read what side i has and queue it for the other side, due after the delay.
 * Returns -1 when the pair is closed. */
static int read_side(struct pair *p, int i, uint64_t delay)
{
    struct side *from = &p->s[i], *to = &p->s[!i];
    struct chunk *c = malloc(sizeof *c + READ_CAP);
    if (!c)
        die("malloc");
    ssize_t n = recv(from->fd, c->data, READ_CAP, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        free(c);
        return 0;
    }
    if (n <= 0) { /* the end of this direction: pass it on after what is queued */
        free(c);
        if (n < 0 || to->eof_due) {
            pair_close(p);
            return -1;
        }
        to->eof_due = 1;
        from->rd_eof = 1;
        watch(p, i, EPOLL_CTL_MOD);
        return 0;
    }
    bytes[i] += (uint64_t)n;
    *c = (struct chunk){.due = now_ns() + delay, .len = (size_t)n};
    if (to->tail)
        to->tail->next = c;
    else
        to->head = c;
    to->tail = c;
    return 0;
}

/* Write what is due to side i; watch for room when its socket is full.
 * Returns -1 when the pair is closed. */
static int flush_side(struct pair *p, int i, uint64_t now)
{
    struct side *s = &p->s[i];
    while (s->head && s->head->due <= now) {
        struct chunk *c = s->head;
        ssize_t w = send(s->fd, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            if (!s->epout) {
                s->epout = 1;
                watch(p, i, EPOLL_CTL_MOD);
            }
            return 0;
        }
        if (w < 0) {
            pair_close(p);
            return -1;
        }
        c->off += (size_t)w;
        if (c->off < c->len)
            continue;
        s->head = c->next;
        if (!s->head)
            s->tail = NULL;
        free(c);
    }
    if (!s->head && s->eof_due == 1) {
        shutdown(s->fd, SHUT_WR);
        s->eof_due = 2;
    }
    if (s->epout && !s->head) {
        s->epout = 0;
        watch(p, i, EPOLL_CTL_MOD);
    }
    return 0;
}

/* Nanoseconds until the next chunk is due (0: one is due now), or -1: none waits. */
static int64_t next_due(uint64_t now)
{
    int64_t best = -1;
    for (int k = 0; k < MAX_PAIRS; k++)
        for (int i = 0; pairs[k].used && i < 2; i++) {
            const struct chunk *c = pairs[k].s[i].head;
            if (!c || pairs[k].s[i].epout)
                continue;
            int64_t d = c->due > now ? (int64_t)(c->due - now) : 0;
            if (best < 0 || d < best)
                best = d;
        }
    return best;
}

static int port_arg(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 1 || v > 65535) {
        fprintf(stderr, "lagproxy: %s is not a port\n", s);
        exit(64);
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: lagproxy LISTEN_PORT TARGET_PORT [DELAY_MS [FREEZE_MS]]\n");
        return 64;
    }
    int lport = port_arg(argv[1]), target = port_arg(argv[2]);
    uint64_t delay = (uint64_t)(1e6 * (argc > 3 ? atof(argv[3]) : 2));
    uint64_t freeze = (uint64_t)(1e6 * (argc > 4 ? atof(argv[4]) : 3000));
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake up on time: the delay is the figure */

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    int lfd = tcp_socket(), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = loopback(lport);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || ep < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 64) < 0)
        die("setup");
    struct epoll_event lev = {.events = EPOLLIN, .data.u64 = 0};
    struct epoll_event sev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &sev);
    for (int k = 0; k < MAX_PAIRS; k++)
        pairs[k].s[0].fd = pairs[k].s[1].fd = -1;
    fprintf(stderr, "lagproxy: 127.0.0.1:%d -> 127.0.0.1:%d, %.3g ms each way\n", lport, target,
            (double)delay / 1e6);

    uint64_t thaw = 0; /* frozen until then */
    int freezes = 0;
    for (;;) {
        uint64_t now = now_ns();
        if (thaw && now >= thaw) {
            fprintf(stderr, "lagproxy: thawed\n");
            thaw = 0;
        }
        struct signalfd_siginfo si;
        if (thaw) { /* frozen: only signals are looked at */
            struct pollfd pf = {.fd = sfd, .events = POLLIN};
            struct timespec ts = {.tv_sec = (time_t)((thaw - now) / NS),
                                  .tv_nsec = (long)((thaw - now) % NS)};
            ppoll(&pf, 1, &ts, NULL);
        } else {
            for (int k = 0; k < MAX_PAIRS; k++)
                for (int i = 0; pairs[k].used && i < 2; i++)
                    if (flush_side(&pairs[k], i, now) < 0)
                        break;
            int64_t wait = next_due(now_ns());
            struct timespec ts = {.tv_sec = wait / (int64_t)NS, .tv_nsec = wait % (int64_t)NS};
            struct epoll_event ev[64];
            int n = epoll_pwait2(ep, ev, 64, wait < 0 ? NULL : &ts, NULL);
            if (n < 0 && errno != EINTR)
                die("epoll_pwait2");
            for (int e = 0; e < n; e++) {
                uint64_t t = ev[e].data.u64;
                if (t == 0) {
                    accept_one(lfd, target);
                } else if (t != UINT64_MAX) {
                    struct pair *p = &pairs[(t - 1) / 2];
                    int i = (int)((t - 1) % 2);
                    if (!p->used)
                        continue; /* closed by an earlier event of this round */
                    if ((ev[e].events & EPOLLOUT) && flush_side(p, i, now_ns()) < 0)
                        continue;
                    if (ev[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                        read_side(p, i, delay);
                }
            }
        }
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo != SIGUSR1) {
                fprintf(
                    stderr,
                    "lagproxy: %d connections, %llu bytes to the target, %llu back, %d freezes\n",
                    npairs_total, (unsigned long long)bytes[0], (unsigned long long)bytes[1],
                    freezes);
                return 0;
            }
            thaw = now_ns() + freeze;
            freezes++;
            fprintf(stderr, "lagproxy: frozen for %.0f ms\n", (double)freeze / 1e6);
        }
    }
}
