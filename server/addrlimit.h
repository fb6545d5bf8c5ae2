/*
 * addrlimit: per client IP address, at most max_conns connections that are
 * not WebSockets (TLS handshakes, HTTP requests, HTTP keep-alives between
 * requests) and, apart from them, at most max_websockets WebSockets. Debian's
 * lws is built without LWS_WITH_PEER_LIMITS, so kamrat counts for itself.
 *
 * The two are counted apart because an address is often shared: an office,
 * a family, a mobile carrier's NAT. A browser opens up to six HTTP
 * connections to load the page and keeps them a few seconds; counted with
 * the WebSockets, those of a few browsers would lock the next member out.
 *
 * A connection is counted as HTTP from accept (before any TLS work: the
 * flood guard) and moves to the WebSockets when its upgrade is accepted.
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

/* max_conns: connections per address that are not WebSockets;
 * max_websockets: WebSockets per address. */
struct addrlimit *addrlimit_new(uint32_t max_conns, uint32_t max_websockets);
void addrlimit_free(struct addrlimit *al);

/* A connection from addr was accepted. Returns 0 and parks it, or -1 when
 * the address already has max_conns connections that are not WebSockets
 * (reject it). */
int addrlimit_accept(struct addrlimit *al, const struct sockaddr *addr, socklen_t len);

/* Bind the parked address (if any) to the new wsi. */
void addrlimit_bind(struct addrlimit *al, struct lws *wsi);

/* The wsi's upgrade to a WebSocket is about to be accepted: count it as a
 * WebSocket of its address from now on, no longer as a connection. Returns
 * 0, or -1 and changes nothing when the address already has max_websockets
 * WebSockets (refuse the upgrade). A wsi with no address slot (not an IP
 * socket) returns 0. */
int addrlimit_upgrade(struct addrlimit *al, struct lws *wsi);

/* The wsi is gone: release its address slot (no-op when it had none). */
void addrlimit_release(struct addrlimit *al, struct lws *wsi);

/* Connections currently counted, WebSockets included. */
uint32_t addrlimit_total(const struct addrlimit *al);

#endif
