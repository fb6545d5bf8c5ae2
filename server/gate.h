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
 * seat) leads the group (gate_login, gate_leadership_ended).
 *
 * Side path: gate reads the store a few times per hello, and once per leader
 * seat when the store changed, never per message. A hello with an invite or
 * a token is checked on the store worker (storeq.h, gate_check_async), and a
 * personal invite redeemed there too (gate_redeem_async): the loop never
 * waits for the store on those. gate_check (the room form),
 * gate_leadership_ended, gate_audit, gate_ban and the rest still read and
 * write the loop's own connection and may wait for it (up to its 5 s busy
 * timeout).
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

/* Is the session still on (not cancelled, not removed)? */
bool gate_session_on(struct gate *g, uint64_t session_id);

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
 * Does the leader username still lead session_id's room with a seat taken
 * at login_gen: the account exists, is enabled, is still at login_gen and
 * leads the session's group? NULL when so, and when
 * the store cannot tell now (a busy database ends no seat); else why not, a
 * short phrase for the log and the close frame ("account disabled", ...).
 * A few store reads: for when the store changed, never per message.
 */
const char *gate_leadership_ended(struct gate *g, uint64_t session_id, const char *username,
                                  int64_t login_gen);

/* Record a session or moderation event in the audit log (README §4a): by
 * actor ("leader:<name>", "co_leader:m<id>" or "kamratd"), on target (NULL:
 * the session), about session_id of group_id. The row needs neither to
 * exist any more: a group removed while its session runs still gets the
 * room's session_end. group_id 0: looked up from the session (a room taken
 * over from a copy that did not carry it). Failures are logged, not
 * returned: the room goes on either way. */
void gate_audit(struct gate *g, int64_t group_id, uint64_t session_id, const char *action,
                const char *actor, const char *target);

/* A leader ended the session early: record it (store_session_end, with its
 * audit row) so nobody enters it again. False when the store could not (a
 * full disk; logged). */
bool gate_end_session(struct gate *g, uint64_t session_id, const char *actor);

/* Ban from the session's group whoever holds the personal invite invite_id
 * (0: none) or the participant key with digest key_hash (NULL: none); at
 * least one is given. The store writes the one audit row. PROTO_OK with
 * *ban_id, or PROTO_E_INTERNAL (logged). */
enum proto_err gate_ban(struct gate *g, uint64_t session_id, int64_t invite_id,
                        const uint8_t *key_hash, const char *name, const char *actor,
                        int64_t *ban_id);

/* Lift a ban of the session's group: PROTO_OK, PROTO_E_NOT_FOUND (no such
 * active ban in this group) or PROTO_E_INTERNAL. */
enum proto_err gate_unban(struct gate *g, uint64_t session_id, int64_t ban_id, const char *actor);

/* The session's group's active bans, newest first, at most 100, in a new
 * array (free with gate_bans_free). */
enum proto_err gate_bans(struct gate *g, uint64_t session_id, struct proto_ban **out, size_t *n);
void gate_bans_free(struct proto_ban *b, size_t n);

/* The safety settings rooms use: crisis resources and risk words (safety.h).
 * Borrowed; the server swaps them on reload. NULL: none configured. */
void gate_set_safety(struct gate *g, const struct safety *s);
const char *gate_crisis_json(const struct gate *g); /* "{}" when none */
bool gate_risky(const struct gate *g, const char *text, size_t len);

/* The wall clock schedules run on (config_now), in seconds. */
int64_t gate_now(const struct gate *g);

#endif
