/*
 * room: live rooms, their members, and the fan-out of room events.
 *
 * A room exists while it has members (attached to a connection or detached
 * and waiting to resume). Each event gets the next seq, is encoded ONCE
 * into a frame, pushed onto the room's history ring and queued by reference
 * on every attached member's connection. No SQLite, no blocking call and no
 * per-recipient encoding happens on this path.
 *
 * Each event has an audience (the room, the leaders, one participant and
 * the leaders, ...; protocol/README.md §4a); the ring keeps it beside the
 * frame so a resume replays only what the member was meant to hear. The
 * leaders' actions and the participants' safety tools are moderation.c's.
 *
 * Privacy: message text lives only in frames (wiped on release). A room's
 * ring is released when the room ends and at shutdown; a deleted message's
 * frame is swapped for a tombstone at once.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_ROOM_H
#define KAMRAT_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "config.h"
#include "proto.h"

struct rooms;
struct member;
struct conn;

struct gate;

/* Borrows cfg (its limits), ctx and gate (who may enter which room) for
 * the registry's lifetime. */
struct rooms *room_registry_new(const struct config *cfg, struct lws_context *ctx, uint64_t epoch,
                                struct gate *gate);

/* End every room: release rings and members. Connections must already be
 * closed or closing. room_registry_free(NULL) is a no-op. */
void room_registry_free(struct rooms *rs);

/* Carry out one decoded request from c. Replies and events are queued on
 * connections; cmd stays owned by the caller. */
void room_dispatch(struct rooms *rs, struct conn *c, const struct proto_cmd *cmd);

/* m's connection has closed: detach m, and remove it after resume_grace. */
void room_conn_lost(struct rooms *rs, struct member *m);

/* The store watch (gate_watch_async): a snapshot of every session room and
 * leader seat, taken on the loop for the store worker to check (free it
 * with gate_watch_free); then, with the worker's findings, end the rooms of
 * sessions that were cancelled, and end the seat of every leader who no
 * longer leads the room's group: 4401 to its connection, here or on
 * another node, its resume token gone, presence left to the room. No store
 * call on the loop. */
struct gate_watch;
struct gate_watch *room_watch_snapshot(struct rooms *rs);
void room_watch_apply(struct rooms *rs, const struct gate_watch *w);

/* The leader logged out: close every connection of theirs with 4401 and take
 * them out of their rooms (TESTPLAN E5). */
void room_leader_logged_out(struct rooms *rs, const char *username);

/* The route (cluster_route) of the room a resume token was given for: its
 * first 64 bits. token holds PROTO_TOKEN_LEN base64url characters. */
uint64_t room_token_route(const char *token);

/* Several nodes: keep a copy of every room in Redis through mirror, as
 * node_id (both borrowed for the registry's lifetime). */
struct mirror;
void room_set_mirror(struct rooms *rs, struct mirror *mirror, const char *node_id);

/* Is the room with this route (cluster_route of its key) here? */
bool room_has_route(const struct rooms *rs, uint64_t route);

/* Several nodes: take over a room from its copy (mirror.h; state is its
 * JSON). Its members come detached, to resume within resume_grace. False
 * when the copy is unusable (logged). */
struct mirror_entry;
bool room_adopt(struct rooms *rs, const char *state, size_t len, const struct mirror_entry *events,
                size_t n);

/* The node that wrote a room's copy (state, its JSON) into out: "" when it
 * was handed off, or when the copy names none or is unreadable. */
void room_copy_node(const char *state, size_t len, char *out, size_t outlen);

/* Before the loop waits: give the mirror the state of rooms that changed. */
void room_mirror_flush(struct rooms *rs);

/* The live nodes changed: hand off every room whose home (home_of(arg,
 * route)) is another node now, to be taken over there. */
void room_hand_off_moved(struct rooms *rs, const char *(*home_of)(void *arg, uint64_t route),
                         void *arg);

/* Let every room go at once, writing nothing to Redis or the store, and
 * close its members' connections with code and why: this node's lease on
 * its rooms is gone (cluster.h; 1001, they resume on the room's new home),
 * or a planned restart has handed them to the new process (1012). */
void room_let_go_all(struct rooms *rs, enum proto_close code, const char *why);

/* A planned restart (handover.h): every room in the JSON of its copy
 * (room_mirror.c) with its ring's events, member's recent ids, hands and
 * round, as text of *len bytes (the caller wipes and frees it; NULL when it
 * cannot be encoded); and the rooms made again from it in the new process,
 * their members detached until they resume. Returns the rooms made, or -1
 * when text is no such state. */
char *room_handover_save(const struct rooms *rs, size_t *len);
int room_handover_load(struct rooms *rs, const char *text, size_t len);

/* Redis was away: make every room's copy anew. */
void room_mirror_resync(struct rooms *rs);

size_t room_count(const struct rooms *rs);

/* How many wait in the lobby of session_id's room here, or -1 when it has
 * no room on this node (none yet, or another node's). */
int room_waiting(const struct rooms *rs, uint64_t session_id);

/* Members of every live room, detached ones included (GET /metrics). */
size_t room_member_total(const struct rooms *rs);

#endif
