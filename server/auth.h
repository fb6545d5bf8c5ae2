/*
 * auth: leader password hashes, session tokens and invite codes.
 *
 * Passwords are hashed with Argon2id from libargon2 (OpenSSL 3.0 has no
 * Argon2) under the OWASP parameters m=19456 KiB, t=2, p=1, with a 16-byte
 * salt from RAND_bytes and a 32-byte hash, stored as a PHC string:
 * `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. Digests are compared in
 * constant time (CRYPTO_memcmp). Tokens and invite codes come from
 * RAND_bytes and are stored only as their SHA-256 digest (DESIGN.md §5).
 *
 * Thread: auth_hash_password, auth_verify_password and auth_verify_dummy
 * each cost one key derivation (about 30 ms of CPU and 19 MiB): kamratd runs
 * them only on authq workers, through auth_submit_verify, never on the lws
 * thread. Everything else is cheap and safe on any thread.
 *
 * Privacy: nothing here logs. Copies of passwords and derived keys are wiped
 * before they are freed; the caller wipes its own password buffer.
 */
#ifndef KAMRAT_AUTH_H
#define KAMRAT_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "authq.h"

#define AUTH_PHC_MAX 128   /* holds a PHC string under the current parameters, NUL included */
#define AUTH_DIGEST_LEN 32 /* SHA-256 */
#define AUTH_TOKEN_LEN 43  /* 32 random bytes in base64url, without padding */
#define AUTH_INVITE_LEN 22 /* 16 random bytes in base64url, without padding */

/* ---- passwords (one key derivation each) ---- */

/* The password rule, the same for kamratctl and the setup page: 10 to 128
 * characters (UTF-8 code points). */
#define AUTH_PASSWORD_MIN 10
#define AUTH_PASSWORD_MAX 128

/* Does the UTF-8 text password keep the rule? */
bool auth_password_ok(const char *password);

/* Hash password under the current parameters into out as a PHC string.
 * Returns 0, or -1 when randomness fails or outlen is too small (use
 * AUTH_PHC_MAX); then out is "" (when outlen > 0). */
int auth_hash_password(const char *password, char *out, size_t outlen);

/* Returns 0 when password matches the PHC string phc, -1 when it does not,
 * or when phc is not an Argon2id v=19 string within kamrat's bounds (costs
 * up to m=262144 KiB, t=16, p=8; salt 8..64 and hash 16..64 bytes). A
 * malformed phc costs the same time as a real check, so an account whose
 * stored hash is unusable cannot be told apart either. */
int auth_verify_password(const char *phc, const char *password);

/* Do the work of auth_verify_password against a hash under the current
 * parameters that no password matches: for logins naming an unknown user,
 * so they take as long as a wrong password for a real one (TESTPLAN E2). */
void auth_verify_dummy(const char *password);

/* True when phc was not made under the current parameters (or is
 * malformed): after a successful login, hash the password again. */
bool auth_needs_rehash(const char *phc);

/* ---- key derivation on an authq worker ---- */

enum auth_outcome {
    AUTH_OK,        /* the password matches */
    AUTH_MISMATCH,  /* wrong password, unknown user (dummy) or unusable stored hash */
    AUTH_CANCELLED, /* the queue was freed before the job ran: answer "try again" */
};

struct auth_result {
    enum auth_outcome outcome;
    /* With AUTH_OK, when the stored hash used other parameters: a new hash
     * of the same password under the current ones, to store in its place.
     * Otherwise "". */
    char phc[AUTH_PHC_MAX];
};

/* Called on the owner's thread with the job's result, borrowed for the
 * call only (it is wiped afterwards). */
typedef void (*auth_done_fn)(void *arg, const struct auth_result *res);

/* Check password against phc on a worker of q; phc NULL means the user is
 * unknown and runs auth_verify_dummy. Copies phc and password (the copies
 * are wiped when the job ends); borrows arg until done(arg, res) runs, from
 * authq_drain or authq_free, exactly once. Returns 0, or -1 when the queue
 * is full (answer "busy, try again"): then done is never called.
 *
 * done may find its requester gone (the connection closed meanwhile): keep
 * the request in a small object that the connection forgets on close, and
 * let done free it. */
int auth_submit_verify(struct authq *q, const char *phc, const char *password, auth_done_fn done,
                       void *arg);

/* Hash password under the current parameters on a worker of q (a setup
 * link's new password): done gets AUTH_OK with the PHC string in res->phc,
 * AUTH_MISMATCH when hashing failed, or AUTH_CANCELLED. Copies password;
 * otherwise as auth_submit_verify. */
int auth_submit_hash(struct authq *q, const char *password, auth_done_fn done, void *arg);

/* ---- tokens and invite codes ---- */

/* A new session token: 32 bytes from RAND_bytes in base64url (43 chars and
 * a NUL) into out, and the SHA-256 of that text into hash (the only thing
 * to store). Returns 0, or -1 when randomness or hashing fails. */
int auth_token_new(char out[AUTH_TOKEN_LEN + 1], unsigned char hash[AUTH_DIGEST_LEN]);

/* A new invite code, or the code of a setup link: 16 bytes from RAND_bytes in base64url (22 chars
 * and a NUL), and its SHA-256 as with auth_token_new. Returns 0 or -1. */
int auth_invite_code_new(char out[AUTH_INVITE_LEN + 1], unsigned char hash[AUTH_DIGEST_LEN]);

/* SHA-256 of the text of a token or invite code a client sent, to look up
 * and compare with auth_digest_equal. Returns 0, or -1 when hashing fails. */
int auth_token_hash(const char *text, unsigned char hash[AUTH_DIGEST_LEN]);

/* Constant-time equality of two digests (CRYPTO_memcmp). */
bool auth_digest_equal(const unsigned char a[AUTH_DIGEST_LEN],
                       const unsigned char b[AUTH_DIGEST_LEN]);

#endif
