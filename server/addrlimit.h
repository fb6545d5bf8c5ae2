/*
 * addrlimit: at most N open connections per client IP address, enforced at
 * accept time, before any TLS work. Debian's lws is built without
 * LWS_WITH_PEER_LIMITS, so kamrat counts for itself.
 *
 * lws tells us the peer address only when the socket is accepted
 * (FILTER_NETWORK_CONNECTION) and the wsi only afterwards (WSI_CREATE, with
 * nothing in between), so an accepted address is parked until the wsi that
 * carries it is bound, and released when that wsi is destroyed.
 *
 * Addresses are kept in memory only, never logged or written.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_ADDRLIMIT_H
#define KAMRAT_ADDRLIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#include <libwebsockets.h>

struct addrlimit;

struct addrlimit *addrlimit_new(uint32_t max_per_address);
void addrlimit_free(struct addrlimit *al);

/* A connection from addr was accepted. Returns 0 and parks it, or -1 when
 * the address already has max_per_address connections (reject it). */
int addrlimit_accept(struct addrlimit *al, const struct sockaddr *addr, socklen_t len);

/* Bind the parked address (if any) to the new wsi. */
void addrlimit_bind(struct addrlimit *al, struct lws *wsi);

/* The wsi is gone: release its address slot (no-op when it had none). */
void addrlimit_release(struct addrlimit *al, struct lws *wsi);

/* Connections currently counted. */
uint32_t addrlimit_total(const struct addrlimit *al);

#endif
