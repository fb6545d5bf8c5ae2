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
 *   - the home runs them through conn.c and room.c like a local client's
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

/* What a connection has to do with the bus; conn.c keeps one in every conn. */
enum bus_found {
    BUS_FOUND_NOT = 0, /* not looked up yet */
    BUS_FOUND_ROUTE,   /* route is the room's */
    BUS_FOUND_NONE,    /* the invite leads to no open session */
};

struct bus_link {
    struct bus_node *node; /* edge: the home its messages go to; home: the
                            * edge it is connected to; NULL: not crossing */
    uint64_t id;           /* the connection's number on its edge node */
    bool remote;           /* home side: the client is on node, served here */
    bool joined;           /* edge side: the home has let it in (hello or resume) */
    /* The route of the hello or resume being handled, found before it was
     * (the store worker's lookup of an invite, or the edge's, sent with the
     * relayed hello): read once, by the next bus_take. */
    uint8_t found; /* BUS_FOUND_* */
    uint64_t route;
    /* Edge side: the hello or resume relayed, kept until the home lets the
     * client in, so that it can go elsewhere if the home died unheard. */
    char *hello;
    size_t hello_len;
    uint64_t hello_route;
};

/* The bus of srv on cl (cluster_set_handlers), or NULL when cl is NULL. */
struct bus *bus_new(struct server *srv, struct cluster *cl);
/* Shutdown, before the rooms go: free the remote connections and forget the
 * relayed ones (lws closes those), without a word to other nodes. NULL is a
 * no-op. */
void bus_free(struct bus *b);

enum bus_route {
    BUS_HERE,        /* room.c handles it here, now */
    BUS_RELAYED,     /* a hello or resume sent to the home; c relays from now on */
    BUS_TAKEN,       /* the bus has it: relayed, waiting (for the route or the
                      * room's copy), answered, or c was closed */
    BUS_UNAVAILABLE, /* the home is another node and Redis is out of reach */
};

/*
 * A message of c, which has not joined (cmd, decoded from raw[0..len)).
 * A hello or resume goes to its room's home: c may have been relayed
 * before (an earlier hello the home refused). Its route needs no store,
 * except for an invite's: that is looked up on the store worker
 * (store_invite_session) while c waits (conn_wait), and the message is
 * handled again with it; an invite that leads nowhere is checked here (the
 * gate answers invite_invalid, banned or no_session as on one node). A
 * relayed hello carries its route, so the home does not look it up again;
 * at the home, a hello for a room that lives here but is not here yet waits
 * for the room's copy (mirror.h), then is handled again (conn_replay).
 * Another message goes to the home c was relayed to, if any.
 */
enum bus_route bus_take(struct bus *b, struct conn *c, const struct proto_cmd *cmd, const char *raw,
                        size_t len);

/* Home: remote c has joined its room: its edge may pass its messages on
 * unread from now on. */
void bus_joined(struct bus *b, struct conn *c);

/* Edge: pass a message of relayed c to its home. */
void bus_relay(struct bus *b, struct conn *c, const char *raw, size_t len);

/* Edge or home: c, which crosses the bus, is being freed. */
void bus_conn_gone(struct bus *b, struct conn *c);

/* A leader logged out here: every other node cuts that leader's
 * connections in the rooms it is home to (room_leader_logged_out). */
void bus_leader_logged_out(struct bus *b, const char *username);

/* Home: queue f for remote c; its edge fans it out. */
void bus_deliver(struct bus *b, struct conn *c, struct frame *f);

/* Home: have remote c's edge close it with code and reason. */
void bus_close(struct bus *b, struct conn *c, uint16_t code, const char *reason);

#endif
