/*
 * gate: who may enter which room. Turns a hello into a ticket: the room it
 * opens onto, the role and the name, and for a session room the group and
 * session facts members are shown.
 *
 * Participants come with an invite: it must be valid for a group whose
 * session is open now (lobby or running); a personal invite is consumed only
 * when its holder actually enters (gate_redeem), so arriving early does not
 * burn it. Leaders come with a login token and name a session of a group
 * they lead. Expired, revoked, used and unknown invites are alike to the
 * client (invite_invalid).
 *
 * [testing] open_rooms lets a hello name a room instead (core protocol tests
 * and benchmarks, loopback only).
 *
 * Leadership is live: a leader's login and seats last only while the store
 * says the account exists, is enabled, has had no new password, and (for a
 * seat) leads the group (gate_login, gate_watch_async).
 *
 * Side path: gate reads the store a few times per hello, and once per leader
 * seat when the store changed, never per message. A hello with an invite or
 * a token is checked on the store worker (storeq.h, gate_check_async), and a
 * personal invite redeemed there too (gate_redeem_async): the loop never
 * waits for the store on those. gate_check (the room form), and gate_login
 * (a login's standing, per /api request) still read the loop's own
 * connection and may wait for it (up to its 5 s busy timeout); the room's
 * audit rows, bans, session ends and the watch of what other programs
 * changed run on the worker too (gate_audit and below).
 * Thread: the lws thread; the work gate_*_async hands over runs on the
 * store worker against the worker's store and touches nothing else.
 */
#ifndef KAMRAT_GATE_H
#define KAMRAT_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "names.h"
#include "proto.h"

struct gate;
struct store;
struct leaders;
struct safety;
struct store_attendance;

#define GATE_KEY_MAX (PROTO_ROOM_MAX + 2)

struct gate_ticket {
    char key[GATE_KEY_MAX + 1]; /* the room: a name, or "#<session id>" */
    enum proto_role role;
    char *name;                /* owned: the pseudonym in NFC, or the leader's username */
    struct names_key name_key; /* its look-alike keys (names.h), owned */
    /* A participant of a session room: the keys of the usernames of every
     * leader of the group, present or not, which no pseudonym may look like. */
    struct names_key *leader_keys;
    size_t leader_count;
    /* Session rooms only (session.id == 0 for an open room): */
    struct proto_session_info session; /* strings owned by the ticket */
    int64_t group_id;                  /* the session's group */
    int64_t ends_at;                   /* Unix seconds */
    uint32_t max_participants;
    bool whole_history;        /* the group lets late joiners read the session from its start */
    int64_t personal_invite;   /* 0, or the personal invite gate_redeem consumes */
    int64_t login_gen;         /* leaders: the login's (store.h), which the seat keeps */
    bool has_key;              /* the hello carried a participant key */
    uint8_t key_hash[32];      /* ... and this is its SHA-256 */
    char private_messages[10]; /* the group's policy: "off", "leaders", "everyone" */
    bool opened;               /* a leader opened the session (before a restart, perhaps) */
    bool admitted;             /* the key was admitted to the session and not removed since */
};

/* Borrows cfg, store (the loop's connection), leaders and worker (the
 * store worker, with a connection of its own) for the gate's lifetime. cfg
 * is read on the worker too: it must not change while the gate lives. */
struct storeq;
struct gate *gate_new(const struct config *cfg, struct store *store, struct leaders *leaders,
                      struct storeq *worker);
void gate_free(struct gate *g);

/*
 * Check a decoded hello on the loop. Returns PROTO_OK and fills t (release
 * it with gate_ticket_clear), or an error code with d filled (next_start for
 * no_session). A participant banned from the group (by personal invite or
 * participant key) is PROTO_E_BANNED. Nothing is consumed. The store is
 * read here, a few queries per hello: the group's leaders come with the
 * ticket, so the room compares names without it. For what needs no store
 * (the room form); rooms check invite and token hellos with
 * gate_check_async, and the cluster routes them without the gate (bus.h).
 */
enum proto_err gate_check(struct gate *g, const struct proto_cmd *hello, struct gate_ticket *t,
                          struct proto_error_detail *d);

/*
 * The answer to a gate_*_async request, on the loop, exactly once unless
 * dropped: e and d as gate_check's; t (only with PROTO_OK) is the ticket,
 * which the answer may take over (copy it and zero *t), else it is
 * cleared after. PROTO_E_BUSY: the store worker did not answer within
 * STOREQ_TIMEOUT_MS (the late result is dropped), or kamratd is stopping.
 */
typedef void (*gate_answer_fn)(void *arg, enum proto_err e, struct gate_ticket *t,
                               const struct proto_error_detail *d);
struct gate_pending;

/*
 * gate_check, for a hello with an invite or a token, on the store worker.
 * A token is looked up among the logins in memory at once (none:
 * PROTO_E_TOKEN_INVALID, returned now; with several nodes that lookup reads
 * the shared store on the loop, leaders_share); the store part of both
 * forms runs on the worker. Returns PROTO_OK with *out, the request's handle, and
 * answer(arg, ...) comes later; or an error to answer now (PROTO_E_BUSY:
 * STOREQ_CAP requests wait already), and answer is never called. Copies
 * what it needs of hello.
 */
enum proto_err gate_check_async(struct gate *g, const struct proto_cmd *hello,
                                gate_answer_fn answer, void *arg, struct gate_pending **out);

/*
 * Consume the ticket's personal invite (t->personal_invite != 0) on the
 * store worker: answered PROTO_OK (t NULL: the caller keeps its ticket),
 * PROTO_E_INVITE_INVALID when another redemption won the race, or
 * PROTO_E_BUSY (the store was held past the worker's busy wait and nothing
 * was written, or the deadline passed: then the invite may be used up).
 * Returns as gate_check_async.
 */
enum proto_err gate_redeem_async(struct gate *g, const struct gate_ticket *t, gate_answer_fn answer,
                                 void *arg, struct gate_pending **out);

/* The caller of a pending request went away: its answer is never called.
 * Only before the answer ran (p is freed after it); NULL is a no-op. */
void gate_pending_drop(struct gate_pending *p);

void gate_ticket_clear(struct gate_ticket *t);

/*
 * The live login of token (a string a client sent, any length), or NULL:
 * the login must be current (leaders_lookup) and its account must still
 * exist, be enabled and be at the login's login_gen (no new password since,
 * README §11). A login found dead that way is ended for good; a store that
 * cannot answer now gives NULL and ends nothing. The result is borrowed as
 * leaders_lookup's.
 */
struct leader_login;
const struct leader_login *gate_login(struct gate *g, const char *token);

/*
 * The room's own store traffic, on the store worker behind every earlier
 * request: one FIFO, so a room's audit rows keep their order. A write that
 * finds the store held past the worker's busy wait is tried once more
 * (about 4 s in all). Writes nobody is told about (an audit row, a
 * session's end, a ban's row, a rehash) that cannot be queued (STOREQ_CAP
 * waiting), fail, or are still waiting at shutdown are logged (audit_failed
 * action=..., session_end_failed, ban_failed, rehash_failed) and counted in
 * kamrat_store_writes_failed_total. Every function copies its strings.
 */

/* Record a session or moderation event in the audit log (README §4a): by
 * actor ("leader:<name>", "co_leader:m<id>", "kamratd"), on target (NULL:
 * the session; none when session_id is 0, a login's row), about session_id
 * of group_id. The row needs neither to exist any more: a group removed
 * while its session runs still gets the room's session_end. group_id 0
 * with a session: looked up from the session (a room taken over from a
 * copy that did not carry it). */
void gate_audit(struct gate *g, int64_t group_id, uint64_t session_id, const char *action,
                const char *actor, const char *target);

/* A login's password hash in a newer form (store_leader_rehash), unless
 * the account got a new password after login_gen. */
void gate_rehash(struct gate *g, const char *actor, int64_t leader_id, int64_t login_gen,
                 const char *phc);

/* A leader ended the session early: record it (store_session_end, with its
 * audit row) so nobody enters it again; done(arg, ok) on the loop, ok false
 * when the store did not take it (logged). Returns 0, or -1 when the queue
 * is full: done is never called (logged). */
typedef void (*gate_ended_fn)(void *arg, bool ok);
int gate_end_session(struct gate *g, uint64_t session_id, const char *actor, gate_ended_fn done,
                     void *arg);

/* The answer to gate_ban, gate_unban and gate_bans on the loop, exactly
 * once: e; for a ban, its id (0: not kept, e is PROTO_OK all the same); for
 * bans the list, borrowed for the call. */
typedef void (*gate_reply_fn)(void *arg, enum proto_err e, int64_t ban_id,
                              const struct proto_ban *bans, size_t n);

/* What a restart keeps (protocol/README.md §4 "After a restart"): a
 * leader opened session_id; the participant key with digest key_hash was
 * admitted to it (admitted true) or removed or sent to the lobby (false);
 * the session is over and every admission to it is forgotten. Written as
 * gate_audit's rows are, and logged (session_opened_failed, admitted_failed,
 * admitted_drop_failed, admitted_wipe_failed) when they fail. */
void gate_session_opened(struct gate *g, uint64_t session_id);
void gate_admitted(struct gate *g, uint64_t session_id, const uint8_t key_hash[32], bool admitted);
void gate_session_over(struct gate *g, uint64_t session_id);

/* The room's attendance counts for session_id as they are now
 * (store_attendance_put, docs/admin.md "Attendance"); written and logged
 * (attendance_failed) as gate_audit's rows are. */
void gate_attendance(struct gate *g, uint64_t session_id, const struct store_attendance *a);

/* Ban from the session's group whoever holds the personal invite invite_id
 * (0: none) or the participant key with digest key_hash (NULL: none); at
 * least one is given. The store writes the one audit row. No deadline: the
 * answer waits for the store (each try is bounded by the busy wait).
 * Returns 0, or -1 when the queue is full (the ban is not kept; logged):
 * done is never called then. */
int gate_ban(struct gate *g, uint64_t session_id, int64_t invite_id, const uint8_t *key_hash,
             const char *name, const char *actor, gate_reply_fn done, void *arg);

/* Lift a ban of the session's group: PROTO_OK, PROTO_E_NOT_FOUND (no such
 * active ban in this group), PROTO_E_BUSY (the store was held: nothing was
 * written; or STOREQ_TIMEOUT_MS passed: the late result is dropped) or
 * PROTO_E_INTERNAL. Returns as gate_ban (-1: answer busy). */
int gate_unban(struct gate *g, uint64_t session_id, int64_t ban_id, const char *actor,
               gate_reply_fn done, void *arg);

/* The session's group's active bans, newest first, at most 100. Answers
 * and returns as gate_unban. */
int gate_bans(struct gate *g, uint64_t session_id, gate_reply_fn done, void *arg);
void gate_bans_free(struct proto_ban *b, size_t n);

/*
 * The watch of what other programs changed (kamratctl, other nodes): the
 * rooms' snapshot, taken on the loop, and the worker's findings. The worker
 * reads its store's data version; when it moved since version (and version
 * was known), it checks every session and every leader seat in the
 * snapshot. The data version is the worker connection's own: kamratd's
 * writes through the worker do not move it.
 */
struct gate_watch_session {
    uint64_t session_id;
    bool off; /* out: cancelled or removed */
};
struct gate_seat {
    uint64_t session_id;
    uint32_t member;   /* the room's member id, to find the seat again */
    char username[65]; /* as leaders.c keeps it (64 bytes at most) */
    int64_t login_gen;
    const char *ended; /* out: why the seat ended (a static phrase), or NULL */
};
struct gate_watch {
    int64_t version; /* in: the last seen, -1: none yet; out: the worker's now */
    bool changed;    /* out: it moved, and the checks ran */
    struct gate_watch_session *sessions;
    size_t session_count;
    struct gate_seat *seats;
    size_t seat_count;
};
typedef void (*gate_watch_fn)(void *arg, struct gate_watch *w);

/* Run the watch w (the caller's, borrowed until done) on the worker;
 * done(arg, w) on the loop (w->changed false when kamratd stops first).
 * Returns 0, or -1 when the queue is full (done is never called). */
int gate_watch_async(struct gate *g, struct gate_watch *w, gate_watch_fn done, void *arg);
void gate_watch_free(struct gate_watch *w); /* NULL: a no-op */

/* The safety settings rooms use: crisis resources and risk words (safety.h).
 * Borrowed; the server swaps them on reload. NULL: none configured. */
void gate_set_safety(struct gate *g, const struct safety *s);
const char *gate_crisis_json(const struct gate *g); /* "{}" when none */
bool gate_risky(const struct gate *g, const char *text, size_t len);

/* The wall clock schedules run on (config_now), in seconds. */
int64_t gate_now(const struct gate *g);

#endif
