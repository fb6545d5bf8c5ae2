#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "evloop.h"
#include "klog.h"
#include "util.h"

/* Accepted per wake-up and socket, so a connection storm cannot starve the
 * connections already served; the rest wait for the next pass. */
#define ACCEPT_BURST 64

struct listener {
    struct ev_loop *ev;
    ev_io io[LISTENER_MAX];
    size_t n;
    listener_accept_fn fn;
    void *arg;
};

static int bind_one(const struct sockaddr *sa, socklen_t len, char *err, size_t errlen)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* The wildcard address takes IPv4 too (lws's default). */
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
        snprintf(err, errlen, "cannot listen: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int listener_open(const struct config *cfg, int fds[LISTENER_MAX], size_t *n, char *err,
                  size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", cfg->port);
    *n = 0;
    if (!cfg->address) {
        /* Every address: one dual-stack socket, or IPv4 alone without IPv6. */
        struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_port = htons(cfg->port)};
        struct sockaddr_in any4 = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
        int fd = bind_one((struct sockaddr *)&any6, sizeof(any6), err, errlen);
        if (fd < 0 && errno == EAFNOSUPPORT)
            fd = bind_one((struct sockaddr *)&any4, sizeof(any4), err, errlen);
        if (fd < 0)
            return -1;
        fds[(*n)++] = fd;
        return 0;
    }
    int rc = getaddrinfo(cfg->address, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "[server] address %s: %s", cfg->address, gai_strerror(rc));
        return -1;
    }
    int fd = bind_one(res->ai_addr, res->ai_addrlen, err, errlen);
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    fds[(*n)++] = fd;
    return 0;
}

static void readable(struct ev_loop *ev, ev_io *w, int revents)
{
    (void)ev;
    (void)revents;
    struct listener *l = w->data;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(w->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            /* EAGAIN: the queue is empty. Anything else (a connection reset
             * while queued, out of descriptors: see server.c's fd budget)
             * waits for the next pass. */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                klog_debug("accept_failed errno=%d", errno);
            return;
        }
        int one = 1;
        if (ss.ss_family != AF_UNIX)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* as lws does */
        l->fn(fd, (const struct sockaddr *)&ss, sl, l->arg);
    }
}

struct listener *listener_new(struct evloop *loop, const int *fds, size_t n, listener_accept_fn fn,
                              void *arg)
{
    struct listener *l = xcalloc(1, sizeof(*l));
    l->ev = evloop_native(loop);
    l->fn = fn;
    l->arg = arg;
    for (size_t i = 0; i < n && i < LISTENER_MAX; i++) {
        ev_io_init(&l->io[i], readable, fds[i], EV_READ);
        l->io[i].data = l;
        ev_io_start(l->ev, &l->io[i]);
        l->n++;
    }
    return l;
}

void listener_pause(struct listener *l)
{
    for (size_t i = 0; i < l->n; i++)
        ev_io_stop(l->ev, &l->io[i]);
}

size_t listener_fds(const struct listener *l, int fds[LISTENER_MAX])
{
    for (size_t i = 0; i < l->n; i++)
        fds[i] = l->io[i].fd;
    return l->n;
}

void listener_free(struct listener *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        ev_io_stop(l->ev, &l->io[i]);
        close(l->io[i].fd);
    }
    free(l);
}
