/*
 * leaders: the leader login sessions kamratd holds in memory, one per
 * successful POST /api/login (DESIGN.md §5, TESTPLAN §2 "Secrets").
 *
 * A login is found by its token, a 43-character base64url string the client
 * keeps and sends in its WebSocket hello. The registry never holds the
 * token itself, only its SHA-256 digest with the leader's id and username,
 * and wipes the digest when the login is dropped. A login ends when it is
 * logged out, revoked, unused for LEADERS_IDLE_MS, or LEADERS_ABSOLUTE_MS
 * after it began, whichever comes first. The registry holds at most
 * LEADERS_MAX logins: a new one evicts the oldest.
 *
 * Expiry is checked lazily on every lookup; leaders_sweep drops every
 * expired login at once, from a timer, so memory does not wait for the
 * next lookup.
 *
 * Time is passed in as milliseconds of one clock the caller chooses and
 * keeps using (kamratd: api_now_ms(), the wall clock in ms plus
 * [testing] clock_offset), so tests need no sleeping.
 *
 * One node keeps a copy of its logins in the store too (leaders_keep), so
 * that a restart, planned or not, ends none: written on the store worker,
 * read back once at start (leaders_restore), never looked up per hello.
 *
 * Nothing here logs but a failed write of that copy. Thread: the owner's
 * only (the lws thread).
 */
#ifndef KAMRAT_LEADERS_H
#define KAMRAT_LEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEADERS_IDLE_MS (30 * 60 * 1000ULL)          /* unused this long: expired */
#define LEADERS_ABSOLUTE_MS (12 * 60 * 60 * 1000ULL) /* this long after the login: expired */
#define LEADERS_MAX 10000                            /* logins held at once */
#define LEADERS_TOKEN_LEN 43                         /* AUTH_TOKEN_LEN */

struct leaders;

/* What a lookup tells about a live login. */
struct leader_login {
    int64_t leader_id;
    const char *username; /* as stored, e.g. "aino" */
    int64_t login_gen;    /* the account's login_gen at the login (store.h) */
    bool coordinator;     /* a coordinator's login: the console's, never a room's */
};

/* Several nodes: keep every login in the store s as well, and look logins
 * up there, so a leader may log in on one node and enter a room on another,
 * and a logout, a disabled account or a new password counts on every node
 * at once. The store is borrowed for the registry's lifetime.
 *
 * One node cannot see the store change under its logins: a lookup finds a
 * login whatever became of the account since, and the caller compares the
 * account's login_gen with the login's (gate_login). */
struct store;
void leaders_share(struct leaders *l, struct store *s);

/* One node: keep a copy of every login in the store (the logins table, by
 * digest, login_gen rules as above), written through the store worker q
 * (borrowed for the registry's lifetime; the registry must make no more
 * logins, lookups or logouts once q is freed). A lookup still reads only
 * memory. */
struct storeq;
void leaders_keep(struct leaders *l, struct storeq *q);

/* At start: load the store's live logins (used within LEADERS_IDLE_MS and
 * begun within LEADERS_ABSOLUTE_MS of now_ms, of an enabled account still
 * at the login's login_gen) into memory, reading s on the caller's thread.
 * Returns how many, or a store_err. */
int leaders_restore(struct leaders *l, struct store *s, uint64_t now_ms);

/* An empty registry (never NULL: allocation failure aborts). */
struct leaders *leaders_new(void);

/* Drop (and wipe) every login and free the registry. leaders_free(NULL) is
 * a no-op. */
void leaders_free(struct leaders *l);

/*
 * Start a login for leader_id and username (copied; at most 64 bytes are
 * kept), whose account is at login_gen and is a coordinator's or a leader's,
 * at now_ms. Writes the new token (43 characters and a NUL)
 * into token_out: give it to the client and forget it. *expires_at_ms gets the absolute expiry,
 * now_ms + LEADERS_ABSOLUTE_MS. When the registry is full the oldest login is dropped first.
 * Returns 0, or -1 when no random token could be made (then token_out is "" and nothing changed).
 */
int leaders_login(struct leaders *l, int64_t leader_id, const char *username, int64_t login_gen,
                  bool coordinator, uint64_t now_ms, char token_out[LEADERS_TOKEN_LEN + 1],
                  uint64_t *expires_at_ms);

/*
 * The live login whose token is `token` (a NUL-terminated string a client
 * sent; any length), or NULL when there is none. A login found expired at
 * now_ms is dropped and NULL returned; a live one's idle timer restarts at
 * now_ms. Digests are compared in constant time. The result is borrowed
 * until the next call that may drop logins (leaders_login, _logout,
 * _revoke_leader, _sweep, _free, or a lookup that finds this one expired):
 * copy what you keep.
 */
const struct leader_login *leaders_lookup(struct leaders *l, const char *token, uint64_t now_ms);

/* End the login whose token is `token`; nothing happens when there is
 * none (a logout answers the same either way). */
void leaders_logout(struct leaders *l, const char *token);

/* End every login of leader_id (the account was disabled or its password
 * changed). Returns how many ended. */
size_t leaders_revoke_leader(struct leaders *l, int64_t leader_id);

/* Drop every login expired at now_ms, and with several nodes every one the
 * store no longer finds (server.c runs it once a minute). Returns how many
 * this node held and dropped. */
size_t leaders_sweep(struct leaders *l, uint64_t now_ms);

/* Logins held now, expired ones not yet swept included. */
size_t leaders_count(const struct leaders *l);

#endif
