/*
 * The insides of a room, shared by room.c (entering, talking, leaving,
 * resuming) and moderation.c (the leaders' actions and the participants'
 * safety tools, protocol/README.md §4a). Nothing else includes this.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_ROOM_INT_H
#define KAMRAT_ROOM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "gate.h"
#include "names.h"
#include "proto.h"
#include "ring.h"
#include "room.h"

#define RECENT_IDS 64 /* per member, for idempotent resend */
#define TOKEN_BYTES 32
#define ROOM_LEADER_MARKS 16 /* distinct leaders a room tells apart; more are each counted */
#define ATTENDANCE_WRITE_S 30

/* Who hears an event (README §4a "Audiences"); ring tags carry it. */
enum audience {
    AUD_ROOM = 1, /* every admitted member */
    AUD_LEADERS,  /* leaders and co-leaders */
    AUD_PRIVATE,  /* participant a and the leaders */
    AUD_DIRECT,   /* participants a and b */
    AUD_ONE,      /* a only */
};

/* What a person brings that a ban or a knock can recognise. */
struct identity {
    int64_t invite_id; /* a personal invite, 0: none */
    bool has_key;
    uint8_t key_hash[32]; /* SHA-256 of the participant key */
};

/* What follows a person through the session (README §4a "Sanctions follow
 * the person"): shared by every membership of one identity, and kept in the
 * room's table while they are away. A member nobody can recognise (no key,
 * no personal invite) has a record of its own, outside the table. */
struct sanction {
    struct room *room;
    struct identity who;
    uint32_t holders; /* members who are this person now */
    bool removed;     /* a leader removed them: they knock when back */
    bool muted;
    uint64_t muted_until;  /* wall ms; 0: until unmuted */
    uint64_t last_post_ms; /* monotonic: their last room message (slow mode) */
    bool counted;          /* let into the room this session: in the attendance count already */
    lws_sorted_usec_list_t mute_end; /* fires when a timed mute ends */
};

struct recent {
    uint64_t id_hash; /* SipHash of the client message id; 0: empty */
    uint64_t seq;
};

struct member {
    struct room *room;
    struct rooms *rs;
    struct conn *conn; /* NULL while detached */
    uint32_t id;
    uint32_t index;      /* in room->members */
    uint64_t joined_seq; /* room seq at the first welcome: history before it is not ours */
    enum proto_role role;
    bool in_lobby;             /* waiting to be let in: hears only what is addressed to it */
    bool knocked;              /* removed earlier in this session and came back */
    bool agreed;               /* has accepted the group agreement (leaders need not) */
    char *name;                /* NFC */
    struct names_key name_key; /* computed once, when the member comes (names.h) */
    int64_t login_gen;         /* a leader's: the account's login_gen when it took the seat */
    bool present;              /* a participant in the room (not the lobby): in room->present */
    struct identity who;
    struct sanction *s; /* the person's mute, removal and last post; never NULL */
    unsigned char token_hash[TOKEN_BYTES]; /* SHA-256 of the resume token */
    struct recent recent[RECENT_IDS];
    uint32_t recent_next;
    double tokens; /* rate bucket */
    uint64_t tokens_ms;
    lws_sorted_usec_list_t grace; /* fires when a detached member expires */
};

struct room {
    struct rooms *rs;
    char key[GATE_KEY_MAX + 1];     /* a name, or "#<session id>" */
    uint64_t route;                 /* cluster_route(key): the key in rs->by_route */
    uint64_t epoch;                 /* of the node that made the room (resume checks it) */
    bool dirty;                     /* its state changed since the mirror last had it */
    char label[PROTO_ROOM_MAX + 1]; /* what members are told: the name, or "s<session id>" */
    enum proto_state state;
    struct proto_session_info session; /* id 0: an open room (testing) */
    uint32_t max_participants, participants;
    bool whole_history; /* late joiners get what the ring still holds */
    char private_messages[10];
    lws_sorted_usec_list_t end_timer;
    uint64_t seq;
    uint32_t next_member_id;
    struct member **members;
    uint32_t count, cap;
    struct ring *ring;
    /* the switches leaders set (README §4a) */
    bool locked, paused, read_only;
    /* Made again for a session opened before a restart: it starts open and
     * locked, and only those it had admitted pass the lock by themselves. */
    bool restored;
    uint32_t slow_mode;
    char *topic;
    struct round *round;
    uint32_t *hands; /* raised, in order */
    uint32_t hand_count;
    int64_t group_id; /* the session's group: its audit rows need not look it up */
    /* The people the room knows by their identity (room_sanction.c), in the
     * order they came: one record each, held by their members or kept while
     * they are away. */
    struct sanction **sanctions;
    uint32_t sanction_count, sanction_cap;
    /* Attendance (docs/admin.md "Attendance"): counts only, written to the
     * store at open, within ATTENDANCE_WRITE_S of growing, and at the end.
     * Who was counted is their sanction's `counted`, and a leader's is a
     * hash of the username (cluster_route: alike on every node). int64_t:
     * a copy from a node without them reads 0. */
    int64_t admitted_count, peak, leaders_count;
    uint64_t leader_marks[ROOM_LEADER_MARKS];
    uint32_t present; /* participants in the room now */
    bool attendance_due;
    lws_sorted_usec_list_t attendance_timer;
};

struct rooms {
    const struct limits *lim;
    uint32_t minute_seconds; /* 60, but for tests ([testing]) */
    struct lws_context *ctx;
    struct gate *gate;
    uint64_t epoch;
    struct hmap *by_name;  /* room name -> struct room */
    struct hmap *by_token; /* token_hash -> struct member */
    struct hmap *by_route; /* route -> struct room */
    /* Several nodes (mirror.h): a copy of each room in Redis. */
    struct mirror *mirror; /* NULL: one node */
    const char *node_id;
    const char *say_id;     /* the client id of the message being emitted, for its copy */
    uint64_t pushed_ticket; /* the mirror ticket of the last event emitted (0: none) */
    struct room **dirty;    /* rooms whose state the mirror has yet to get */
    size_t ndirty, dirty_cap;
    bool closing; /* shutdown: the copies stay for the next home */
};

/* A participant m came into the room (admitted) or left it for the lobby
 * or for good by a leader's hand (not): the store keeps the digest of their
 * key until the session ends, so a restart lets them back in (gate.h), and
 * the attendance counts follow. */
void room_remember(struct member *m, bool admitted);

/* A count grew: the store gets the room's counts within ATTENDANCE_WRITE_S
 * (also a room taken over from a copy: its old home's write may be lost). */
void room_attendance_grew(struct room *r);

static inline bool is_leader(const struct member *m)
{
    return m->role != PROTO_ROLE_PARTICIPANT;
}

/* Give the event frame f (encoded with seq room_next_seq(r)) its seq, keep
 * it for resume and queue it for everyone in its audience. Takes f. */
static inline uint64_t room_next_seq(const struct room *r)
{
    return r->seq + 1;
}
uint64_t room_emit(struct room *r, struct ring_tag tag, struct frame *f);

/* Does m hear an event with this tag? */
bool room_hears(const struct member *m, const struct ring_tag *tag);

/* The member with this id, or NULL. */
struct member *room_member(const struct room *r, uint64_t id);

void room_send_ack(struct conn *c, const char *ref, uint64_t seq, bool duplicate);
/* The welcome snapshot; token NULL in the ones sent on admission or return
 * to the lobby (the member keeps the token it got first). */
void room_send_welcome(struct member *m, const char *ref, const char *token, bool resumed,
                       bool gap);

/* Announce m's arrival (joined) or departure (reason: README presence
 * reasons) to the room. */
uint64_t room_emit_presence(struct member *m, bool joined, const char *reason);

/* Let a waiting member in: fresh snapshot, history for whole_session
 * groups, presence joined (its seq is returned). The caller announces the
 * lobby change. */
uint64_t room_admit(struct member *w);

/* Remove m from its room for good (README presence reasons: "left",
 * "lost", "removed"). Returns the presence event's seq, or 0 when there was
 * none (m only waited in the lobby). Frees m. */
uint64_t room_member_remove(struct member *m, const char *reason);

/* Tell the leaders who waits now (event lobby). */
void room_lobby_changed(struct room *r);

/* Recompute read_only (no leader connected in an open session room) and
 * announce a change. */
void room_check_leaders(struct room *r);

/* The room's switches as members see them, and the event that announces
 * them. */
uint64_t room_announce_flags(struct room *r, uint32_t by);

/* The session is over: state ended to all, close 4410, wipe the room.
 * early: a leader (actor) ended it before its time, and the store is told
 * so nobody enters it again. */
void room_end(struct room *r, const char *actor, bool early);

/* The room of a session, or NULL. */
struct room *room_of_session(struct rooms *rs, uint64_t session_id);

/* "leader:<name>" or "co_leader:m<id>" for the audit log. */
void room_actor(const struct member *m, char *out, size_t len);

/* ---- sanctions (room_sanction.c) ---- */

/* The record of the person who, or a new one (in the table when who can be
 * recognised, else of its own). The caller holds it with
 * room_sanction_hold. */
struct sanction *room_sanction_of(struct room *r, const struct identity *who);

/* A member is this person now (holders++) / no longer (holders--, and the
 * record goes when nobody holds it and it keeps nothing worth keeping). */
void room_sanction_hold(struct sanction *s);
void room_sanction_release(struct sanction *s);

/* Forget s if nobody holds it and it keeps nothing worth keeping (a timed
 * mute ended while the person was away). */
void room_sanction_tidy(struct sanction *s);

/* Free every record of the table (the session is over). */
void room_sanctions_free(struct room *r);

/* ---- the mirror (room_mirror.c) ---- */

/* r's state changed without an event (an agreement, a new token): the
 * mirror gets it before the loop waits. */
void room_mirror_dirty(struct room *r);

/* Put f in place of the copy of event seq (room_emit copies the rest). */
void room_mirror_replace(struct room *r, uint64_t seq, struct frame *f);

/* A member made or taken over from a mirror, detached: it expires after
 * resume_grace unless it resumes. Defined in room.c. */
void room_member_detached(struct member *m);

/* The room registry's tables: a room found by route; a room made. */
struct room *room_alloc(struct rooms *rs, const char *key);
struct member *room_member_alloc(struct room *r);

/* The room's home is another node now (one joined): write its copy as
 * released, close its members' connections (1001: they resume there) and
 * let it go from here. Defined in room.c. */
void room_hand_off(struct room *r);

/* Write r's copy with no node holding it, at once (room_mirror.c). */
void room_mirror_release(struct room *r);

/* A room made from a copy is complete (ok) or must go (not ok: freed with
 * its members, without a word). check_leaders: recompute read_only now (a
 * takeover); a planned restart keeps it as it was, since its leaders are
 * reconnecting, not gone. Defined in room.c. */
void room_adopted(struct room *r, bool ok, bool check_leaders);

#endif
