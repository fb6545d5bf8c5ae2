/*
 * ws: WebSocket connections of the kamrat.v1 protocol.
 *
 * Owns struct conn: input assembly (wsrx.c) with the size and fragment caps
 * applied while bytes arrive (nothing beyond max_message_bytes is ever
 * buffered), the hello deadline, the error budget, and the capped send
 * queue that lws drains when the socket is writable. Decoded commands go to room.c.
 *
 * Closing is always deferred: ws_close() marks the connection and lws closes
 * it from its own callback, so rooms may close members while iterating.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_WS_H
#define KAMRAT_WS_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "proto.h"

struct conn;
struct member;

/* Close codes of protocol/README.md §7 that kamrat sends itself. */
enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_BINARY = 1003,
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011,
    WS_CLOSE_UNAUTHORISED = 4401,
    WS_CLOSE_REMOVED = 4403, /* removed, banned or denied by a leader */
    WS_CLOSE_TOO_SLOW = 4408,
    WS_CLOSE_REPLACED = 4409,
    WS_CLOSE_SESSION_ENDED = 4410,
    WS_CLOSE_ABUSE = 4429,
};

/* The lws callback of the kamrat.v1 protocol. */
int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len);

/* Queue a new reference to f for c. When the queue passes its cap the
 * connection is cut with 4408 (too slow) and f is not queued. */
void ws_send(struct conn *c, struct frame *f);

/* Encode and queue an error reply; ref and d may be NULL. Counts against
 * the connection's error budget (4429 when spent). */
void ws_send_error(struct conn *c, enum proto_err e, const char *ref,
                   const struct proto_error_detail *d);

/* Close c with code once what is queued has been written (4408: at once,
 * dropping the queue). The first call's code wins. */
void ws_close(struct conn *c, enum ws_close_code code, const char *reason);

/* The member this connection speaks for, or NULL before hello/resume. */
struct member *ws_member(const struct conn *c);
/* Bind or unbind (NULL) the member. Room.c keeps both sides in step. */
void ws_set_member(struct conn *c, struct member *m);

/* What c sent waits for the store worker (a hello's admission in room.c,
 * its route in bus.c): until ws_wait_done, what c sends is kept in order
 * (at most 8 messages; more are answered busy), the hello deadline does not
 * close c, and if c is freed first it calls abandon(arg) (the waiter then
 * never touches c again). */
typedef void (*ws_abandon_fn)(void *arg);
void ws_wait(struct conn *c, ws_abandon_fn abandon, void *arg);

/* The wait is over: handle first (NULL: nothing; a message the waiter kept,
 * to be handled as if it came now), then what c sent meanwhile, until one
 * of them starts another wait; and if the hello deadline passed while it
 * waited and c has not joined, give c another hello_timeout. */
void ws_wait_done(struct conn *c, const char *first, size_t len);

/* Queue f for c behind the mirror's ticket (mirror.h): it and whatever is
 * sent to c after it wait until ws_release says Redis has answered ticket. */
void ws_hold(struct conn *c, struct frame *f, uint64_t ticket);

/* Send c's held frames whose ticket is <= upto. */
void ws_release(struct conn *c, uint64_t upto);

/* The mirror answered up to ticket upto: release the frames that waited for
 * it (holding: the server's list of connections with held frames). */
void ws_release_all(lws_dll2_owner_t *holding, uint64_t upto);

/* ---- several nodes (bus.h) ---- */

struct bus_link;
struct server;

/* The connection's part in the bus. */
struct bus_link *ws_bus_link(struct conn *c);

/* Home side: a connection for a client on another node. What is sent to it
 * goes through bus_deliver; ws_close has its edge close the client. */
struct conn *ws_remote_new(struct server *srv);

/* Home side: one whole message of the remote connection's client. */
void ws_remote_receive(struct conn *c, const char *msg, size_t len);

/* Handle a message again that bus_take kept until its room was there. */
void ws_replay(struct conn *c, const char *msg, size_t len);

/* Home side: free c now, sending nothing (its edge is gone); its member is
 * detached as after a dropped connection. */
void ws_remote_drop(struct conn *c);

/* Close every connection with code (shutdown). */
void ws_close_all(lws_dll2_owner_t *conns, enum ws_close_code code);

#endif
