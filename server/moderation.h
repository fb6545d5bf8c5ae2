/*
 * moderation: the leaders' actions and the participants' safety tools
 * (protocol/README.md §4a): the permission matrix, the lobby, mutes,
 * removals and bans, deletions, the room's switches, rounds, hands, alerts.
 * Every action that changes something writes one audit row (no text).
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_MODERATION_H
#define KAMRAT_MODERATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct conn;
struct member;
struct sanction;

/* Carry out one §4a request from m (say, hello, resume, leave, agree and
 * open are room.c's). Returns false when cmd is not one of them. */
bool moderation_dispatch(struct conn *c, struct member *m, const struct proto_cmd *cmd);

/* Say requests that moderation governs: the rules for posting to the room
 * (muted, read_only, paused, not_your_turn, slow_mode) in README order.
 * PROTO_OK, or the error with d filled. */
enum proto_err moderation_may_post(struct member *m, struct proto_error_detail *d);

/* After a message from a participant: alert the leaders and tell the writer
 * privately when it holds a risk word. */
void moderation_check_risk(struct member *m, uint64_t seq, const char *text, size_t len);

/* The alert kinds of README §5 (moderation events). */
enum alert_kind {
    ALERT_NOT_OK,
    ALERT_REPORT,
    ALERT_RISK_WORD,
    ALERT_SAFE,
    ALERT_DISCONNECTED, /* these two only about members in an open room */
    ALERT_RETURNED,
};

/* Alert the leaders about m (target: the message seq, 0 for none). Only in
 * session rooms, and never about a leader: they need no alert of their own
 * doings. */
void moderation_alert(struct member *m, enum alert_kind kind, uint64_t target);

/* m leaves the room's shared state (hand queue, round) while staying a
 * member: on leaving, removal and return to the lobby. */
void moderation_drop_turns(struct member *m);

/* A person's record taken over from another node with a timed mute: end
 * the mute when its time is up (mirror.h). */
void moderation_mute_rearm(struct sanction *s);

#endif
