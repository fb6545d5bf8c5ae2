/*
 * conn: one client of the kamrat.v1 protocol, whatever carries it. Owns
 * struct conn: the member it speaks for, the hello deadline, the error
 * budget, the wait for the store worker with the messages kept behind it,
 * the frames that wait for the mirror (hold.h), and where a whole message
 * goes: decoded (proto.h), then to the room here (room.h) or to the node its
 * room lives on (bus.h).
 *
 * What carries the connection is a table of operations: a WebSocket here
 * (ws.c, the lws glue) or a client of another node served here (remote.c,
 * through the bus). Rooms, moderation and the bus speak to either alike
 * through conn_send and conn_close; only the carrier knows which it is.
 *
 * Closing is always deferred: conn_close marks the connection and its
 * carrier frees it later (conn_free), so rooms may close members while
 * iterating.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_CONN_H
#define KAMRAT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "proto.h"

struct conn;
struct member;
struct server;
struct bus_link;

/* What carries a connection. Each is called only while c is open (not
 * closing), except close, called once. */
struct conn_ops {
    /* Queue a new reference to f for the client (the callee takes one if it
     * keeps f). May close c (a reader too slow). */
    void (*send)(struct conn *c, struct frame *f);
    /* Close the client with code and reason, after what was sent; then the
     * carrier frees c with conn_free when it can (never within this call). */
    void (*close)(struct conn *c, enum proto_close code, const char *reason);
};

/* A connection carried by ops, which keeps impl (conn_impl) until it frees
 * c with conn_free. remote: the client is on another node (remote.h).
 * Starts the hello deadline; closes c at once when the server drains. */
struct conn *conn_new(struct server *srv, const struct conn_ops *ops, void *impl, bool remote);

/* The carrier is done with c: what waits for c is dropped, its member is
 * detached as after a dropped connection, and c is freed. */
void conn_free(struct conn *c);

/* The carrier's own state, as given to conn_new. */
void *conn_impl(const struct conn *c);

/* Handle one whole message of the client (not while c is closing). */
void conn_receive(struct conn *c, const char *msg, size_t len);

/* Handle a message again that the bus kept until its room was here: to
 * the room, not to the bus again. */
void conn_replay(struct conn *c, const char *msg, size_t len);

/* Queue a new reference to f for c (behind held frames, if any). Nothing
 * once c is closing. */
void conn_send(struct conn *c, struct frame *f);

/* Encode and queue an error reply; ref and d may be NULL. Counts against
 * the connection's error budget (4429 when spent). */
void conn_send_error(struct conn *c, enum proto_err e, const char *ref,
                     const struct proto_error_detail *d);

/* Close c with code once what is queued has been written (4408: at once,
 * dropping the queue). The first call's code wins. */
void conn_close(struct conn *c, enum proto_close code, const char *reason);

/* Is c closing (conn_close was called, or its carrier lost the client)? */
bool conn_closing(const struct conn *c);

/* The carrier lost the client: nothing more is sent, and conn_close does
 * nothing; the carrier frees c. */
void conn_lost(struct conn *c);

/* The member this connection speaks for, or NULL before hello/resume. */
struct member *conn_member(const struct conn *c);
/* Bind or unbind (NULL) the member. Room.c keeps both sides in step. */
void conn_set_member(struct conn *c, struct member *m);

/* What c sent waits for the store worker (a hello's admission in room.c,
 * its route in bus.c): until conn_wait_done, what c sends is kept in order
 * (at most 8 messages; more are answered busy), the hello deadline does not
 * close c, and if c is freed first it calls abandon(arg) (the waiter then
 * never touches c again). */
typedef void (*conn_abandon_fn)(void *arg);
void conn_wait(struct conn *c, conn_abandon_fn abandon, void *arg);

/* The wait is over: handle first (NULL: nothing; a message the waiter kept,
 * to be handled as if it came now), then what c sent meanwhile, until one
 * of them starts another wait; and if the hello deadline passed while it
 * waited and c has not joined, give c another hello_timeout. */
void conn_wait_done(struct conn *c, const char *first, size_t len);

/* Queue f for c behind ticket (the mirror's, mirror.h): it and whatever is
 * sent to c after it wait until conn_release says ticket was answered. */
void conn_hold(struct conn *c, struct frame *f, uint64_t ticket);

/* Send c's held frames whose ticket is <= upto. */
void conn_release(struct conn *c, uint64_t upto);

/* Tickets up to upto were answered: release the frames that waited for
 * them (holding: the server's list of connections with held frames). */
void conn_release_all(lws_dll2_owner_t *holding, uint64_t upto);

/* The connection's part in the bus (bus.h). */
struct bus_link *conn_bus_link(struct conn *c);

/* Close every connection with code (shutdown). */
void conn_close_all(lws_dll2_owner_t *conns, enum proto_close code);

#endif
