/*
 * listener: the listening sockets, and accepting on them.
 *
 * kamratd listens itself instead of through lws: the vhost is made without
 * a listener (CONTEXT_PORT_NO_LISTEN_SERVER keeps its TLS context) and every
 * accepted socket is handed to lws_adopt_socket_vhost, which applies TLS as
 * lws's own listener would. So a planned restart (handover.h) can pass the
 * very sockets the clients connect to on to the new process, whose kernel
 * listen queue keeps every connection that comes meanwhile; a fresh start
 * opens them here. One path for both.
 *
 * Thread: the loop's.
 */
#ifndef KAMRAT_LISTENER_H
#define KAMRAT_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

#define LISTENER_MAX 2

struct evloop;
struct listener;

/* A connection was accepted on fd (nonblocking, close-on-exec) from addr:
 * the callee owns fd from now on. */
typedef void (*listener_accept_fn)(int fd, const struct sockaddr *addr, socklen_t len, void *arg);

/* Bind [server] address and port and listen: the descriptors go to
 * fds[0..*n). Returns 0, or -1 with the reason in err. */
int listener_open(const struct config *cfg, int fds[LISTENER_MAX], size_t *n, char *err,
                  size_t errlen);

/* Accept on fds[0..n) (takes ownership of them) on loop, calling fn(arg)
 * for each connection. */
struct listener *listener_new(struct evloop *loop, const int *fds, size_t n, listener_accept_fn fn,
                              void *arg);

/* Accept no more: connections wait in the kernel's queue for whoever
 * accepts next (a planned restart's new process). */
void listener_pause(struct listener *l);

/* The listening descriptors (still owned by l) into fds; returns how many. */
size_t listener_fds(const struct listener *l, int fds[LISTENER_MAX]);

/* Stop and close every socket. NULL is a no-op. */
void listener_free(struct listener *l);

#endif
