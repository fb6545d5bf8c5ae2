/*
 * lg.h - the adapter interface of the kamrat fan-out load generator.
 *
 * The core (core.c) owns sockets and TLS, the WebSocket client (RFC 6455:
 * upgrade, masking, framing, ping/pong, fragment reassembly), the publish
 * schedule, the clocks, the latency histograms and the report.  An adapter
 * owns only the chat protocol spoken inside WebSocket messages, and works
 * unchanged over plain TCP and TLS:
 *
 *   1. on_open      the WebSocket upgrade succeeded: send whatever logs the
 *                   member in and joins its room (MQTT CONNECT, XMPP <open/>,
 *                   a JSON "join" ...).
 *   2. on_message   one complete WebSocket message arrived.  Drive the
 *                   handshake; call lg_joined(c) once this member is in its
 *                   room and will receive the room's chat; call
 *                   lg_delivered(c, body, len) for each chat message, passing
 *                   the body exactly as it was published.  Ignore the rest.
 *   3. publish      send one chat message carrying `body` to this member's
 *                   room.  The body is printable ASCII ([A-Za-z0-9 ]) so it
 *                   needs no escaping in JSON, XML or MQTT.
 *
 * Joiners (--joiners): clients that join while the rooms chat and are
 * timed on the answer to their join request.  lg_joiner(c) tells the
 * adapter which one it is (0..N-1), or -1 for a member of the rooms.  A
 * joiner that is admitted calls lg_joined as a member does; one whose
 * request the server refuses calls lg_refused(c, code, len) with the
 * server's error code, which records it and closes the connection.
 *
 * The core parses the timestamp, sender and sequence number out of the body
 * (see core.c: body format "LG1 <ts:16 hex> <sender:8 hex> <seq:8 hex> pad"),
 * so an adapter never deals with time.
 *
 * To add a protocol: write adapter_NAME.c defining
 *     const struct lg_adapter lg_adapter_NAME = { ... };
 * add it to the table in adapters.c and to the Makefile.  adapter_json.c is
 * the smallest example (about 60 lines); adapter_kamrat.c speaks kamratd's
 * protocol (protocol/README.md).
 */
#ifndef LG_H
#define LG_H

#include <stddef.h>
#include <stdint.h>

enum { LG_OP_TEXT = 1, LG_OP_BINARY = 2 };

struct lg_conn;

struct lg_adapter {
    const char *name;
    const char *path;        /* default request path of the upgrade */
    const char *subprotocol; /* Sec-WebSocket-Protocol to offer, or NULL */
    int self_echo;           /* 1: the peer sends a message back to its sender too */
    size_t state_size;       /* bytes of zeroed per-connection state, see lg_state() */

    int (*on_open)(struct lg_conn *c);
    int (*on_message)(struct lg_conn *c, int opcode, const uint8_t *data, size_t len);
    int (*publish)(struct lg_conn *c, const char *body, size_t len);
    void (*on_close)(struct lg_conn *c); /* optional: release what lg_state holds */
};

/* Services of the core.  All return 0 on success, -1 on failure. */
int lg_send(struct lg_conn *c, int opcode, const void *data, size_t len);
void lg_joined(struct lg_conn *c);
void lg_delivered(struct lg_conn *c, const char *body, size_t len);
void lg_fail(struct lg_conn *c, const char *why);                 /* closes the connection */
void lg_refused(struct lg_conn *c, const char *code, size_t len); /* a joiner: recorded, closed */

int lg_room(const struct lg_conn *c);   /* 0 .. rooms-1 */
int lg_member(const struct lg_conn *c); /* 0 .. members-1; member 0 is the room's leader */
int lg_id(const struct lg_conn *c);     /* unique over the run */
int lg_joiner(const struct lg_conn *c); /* 0 .. joiners-1, or -1: a member of the rooms */
void *lg_state(struct lg_conn *c);      /* adapter's state_size bytes */

/* --aopt key=value options given on the command line, or `def`. */
const char *lg_opt(const char *key, const char *def);

/* Small helpers for adapters. */
size_t lg_utoa(char *dst, unsigned v); /* decimal, returns length, no NUL */
const char *lg_memmem(const void *hay, size_t hlen, const char *needle);

#endif
