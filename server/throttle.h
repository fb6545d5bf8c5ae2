/*
 * throttle: login throttling, in memory only (TESTPLAN §2 and E3).
 *
 * Per account: after THROTTLE_FREE_FAILURES failures in a row (TESTPLAN:
 * "after 3 failures") the account is locked for THROTTLE_FIRST_LOCK_MS, and
 * each further failure locks it twice as long, up to THROTTLE_MAX_LOCK_MS. Failures count
 * whatever address they come from, and are forgotten after a day without
 * one. While an account is locked every attempt is refused before any
 * password is checked, so even the right password gets the generic failure.
 * Names that belong to no account are throttled the same way, so a lock
 * tells nothing about whether an account exists.
 *
 * Per address: at most THROTTLE_ADDR_ATTEMPTS attempts in any
 * THROTTLE_ADDR_WINDOW_MS (a sliding window), whatever the account and the
 * outcome. IPv6 addresses count per /64, the block one host usually holds.
 *
 * An allowed check reserves the attempt, so 50 logins sent at once cannot
 * all pass before the first failure is recorded: each allowed check must be
 * followed by exactly one throttle_record() for the same name.
 *
 * Memory: both tables are capped; a new entry evicts the least recently
 * used one (about 200 bytes an entry). Names and addresses are keyed with
 * hmap's random-keyed SipHash, so nobody can choose colliding keys.
 * Addresses are never logged or written anywhere.
 *
 * Thread: the owner's only (the lws thread). Time is passed in, from
 * util_now_ms() in kamratd, so tests need no sleeping.
 */
#ifndef KAMRAT_THROTTLE_H
#define KAMRAT_THROTTLE_H

#include <stdint.h>
#include <sys/socket.h>

#define THROTTLE_FREE_FAILURES 3
#define THROTTLE_FIRST_LOCK_MS 1000
#define THROTTLE_MAX_LOCK_MS (15 * 60 * 1000)
#define THROTTLE_ADDR_ATTEMPTS 10
#define THROTTLE_ADDR_WINDOW_MS (60 * 1000)
/* Names are compared case-folded (ASCII) and by their first this many
 * bytes: merging two names only makes throttling stricter. */
#define THROTTLE_NAME_MAX 64

enum throttle_outcome {
    THROTTLE_SUCCESS, /* the password matched: the account's failures are forgotten */
    THROTTLE_FAILURE, /* wrong password or unknown name */
    THROTTLE_ABORTED, /* no answer (queue full, shutdown): counts neither way */
};

struct throttle;

/* Tables for at most max_accounts names and max_addrs addresses (>= 1). */
struct throttle *throttle_new(uint32_t max_accounts, uint32_t max_addrs);
/* throttle_free(NULL) is a no-op. */
void throttle_free(struct throttle *t);

/* May `username` try a password from addr now? Returns 0 when it may, and
 * then counts the attempt against addr and reserves it on the account; or
 * the milliseconds until it may (nothing is counted): the account's lock,
 * the address's window, or THROTTLE_FIRST_LOCK_MS while the account's
 * allowed attempts are all still being checked. Borrows its arguments for
 * the call only. A non-IP addr shares one bucket with every other. */
uint64_t throttle_check(struct throttle *t, const char *username, const struct sockaddr *addr,
                        socklen_t addr_len, uint64_t now_ms);

/* May addr make one more attempt of a kind that has no account (invite
 * codes tried at GET /j/<code>/info.json), under the per-address window
 * alone? Returns 0 and counts the attempt, or the milliseconds until it may
 * (nothing is counted). */
uint64_t throttle_address(struct throttle *t, const struct sockaddr *addr, socklen_t addr_len,
                          uint64_t now_ms);

/* The attempt that throttle_check allowed for username ended with outcome.
 * Returns the length in ms of the lock this failure started (log it as
 * authn_login_lock, without the address), or 0. */
uint64_t throttle_record(struct throttle *t, const char *username, enum throttle_outcome outcome,
                         uint64_t now_ms);

/* Entries held now, for metrics and tests. */
uint32_t throttle_accounts(const struct throttle *t);
uint32_t throttle_addresses(const struct throttle *t);

#endif
