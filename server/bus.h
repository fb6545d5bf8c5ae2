/*
 * bus: rooms whose members are connected to different nodes ([cluster],
 * DESIGN §8), carried by Redis pub/sub (cluster.h).
 *
 * Every room lives on one node, its home: cluster_home() of the room's route
 * over the live nodes. Only the home has the room: members, seq, history,
 * moderation state; so order, idempotent resend and every permission check
 * stay where they are with one node. A client connected to another node
 * (its edge) is a *remote connection* of the home:
 *
 *   - the edge reads the client's hello or resume to find the home (a hello
 *     names its room, a resume token carries the room's route), then relays
 *     that message and every later one to the home, unread;
 *   - the home runs them through ws.c and room.c like a local client's
 *     messages, and what room.c sends to the remote connection goes back to
 *     the edge: one publish per frame and edge node, naming its recipients
 *     there, so an event for 100 members on an edge costs one publish and
 *     the edge fans it out (sendq, slow-reader cuts) as it does its own.
 *
 * Why channels per node and not per room: the edge would otherwise need each
 * member's audience (role, lobby, private messages) to filter a room's
 * events, a copy of room state on every node; this way room logic has one
 * place, and an event still costs one publish per node that has recipients.
 *
 * Nothing is lost silently: when a Redis connection drops, or a node leaves
 * the live set, the connections that crossed it are ended on both sides (the
 * edge closes its clients with 1001, which reconnect and resume; the home
 * detaches their members, which wait out resume_grace as after any drop).
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_BUS_H
#define KAMRAT_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct bus;
struct bus_node;
struct cluster;
struct conn;
struct frame;
struct server;

/* What a connection has to do with the bus; ws.c keeps one in every conn. */
struct bus_link {
    struct bus_node *node; /* edge: the home its messages go to; home: the
                            * edge it is connected to; NULL: not crossing */
    uint64_t id;           /* the connection's number on its edge node */
    bool remote;           /* home side: the client is on node, served here */
    bool joined;           /* edge side: the home has let it in (hello or resume) */
};

/* The bus of srv on cl (cluster_set_handlers), or NULL when cl is NULL. */
struct bus *bus_new(struct server *srv, struct cluster *cl);
/* Shutdown, before the rooms go: free the remote connections and forget the
 * relayed ones (lws closes those), without a word to other nodes. NULL is a
 * no-op. */
void bus_free(struct bus *b);

enum bus_route {
    BUS_HERE,        /* the room lives on this node: dispatch as usual */
    BUS_RELAYED,     /* sent to the home; c relays from now on */
    BUS_UNAVAILABLE, /* the home is another node and Redis is out of reach */
};

/* c, not joined, sent hello or resume (cmd, decoded from raw[0..len)); c
 * may have been relayed before (an earlier hello the home refused). */
enum bus_route bus_route(struct bus *b, struct conn *c, const struct proto_cmd *cmd,
                         const char *raw, size_t len);

/* Home: remote c has joined its room: its edge may pass its messages on
 * unread from now on. */
void bus_joined(struct bus *b, struct conn *c);

/* Edge: pass a message of relayed c to its home. */
void bus_relay(struct bus *b, struct conn *c, const char *raw, size_t len);

/* Edge or home: c, which crosses the bus, is being freed. */
void bus_conn_gone(struct bus *b, struct conn *c);

/* c (here or remote) sent hello or resume for a room that lives on this node
 * but is not here: read the room's copy first (mirror.h), then take the room
 * over and replay the message (ws_replay). True when the message waits (or
 * c was closed: the copy cannot be read now). */
bool bus_park(struct bus *b, struct conn *c, const struct proto_cmd *cmd, const char *raw,
              size_t len);

/* A leader logged out here: every other node cuts that leader's
 * connections in the rooms it is home to (room_leader_logged_out). */
void bus_leader_logged_out(struct bus *b, const char *username);

/* Home: queue f for remote c; its edge fans it out. */
void bus_deliver(struct bus *b, struct conn *c, struct frame *f);

/* Home: have remote c's edge close it with code and reason. */
void bus_close(struct bus *b, struct conn *c, uint16_t code, const char *reason);

#endif
