#include "auth.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

/* The current parameters: OWASP's first Argon2id choice (TESTPLAN §0). */
#define M_KIB 19456
#define T_COST 2
#define LANES 1
#define SALT_LEN 16
#define HASH_LEN 32

/* What a stored string may ask for. Stored hashes come from kamratctl, but
 * a bad row must not make a login allocate gigabytes or spin for minutes. */
#define MAX_M_KIB 262144
#define MAX_T_COST 16
#define MAX_LANES 8
#define MIN_SALT_LEN 8
#define MAX_SALT_LEN 64
#define MIN_HASH_LEN 16
#define MAX_HASH_LEN 64
#define MAX_PHC_LEN 256

#define STR_(x) #x
#define STR(x) STR_(x)

/* The hash behind auth_verify_dummy: current parameters, an all-zero salt
 * and an all-zero hash. Some password may derive the zero hash, but the
 * dummy's result is never used, so nothing can log in with it. */
#define DUMMY_SALT "AAAAAAAAAAAAAAAAAAAAAA"
#define DUMMY_HASH "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define CURRENT_PARAMS "m=" STR(M_KIB) ",t=" STR(T_COST) ",p=" STR(LANES)
static const char dummy_phc[] = "$argon2id$v=19$" CURRENT_PARAMS "$" DUMMY_SALT "$" DUMMY_HASH;
_Static_assert(sizeof(DUMMY_SALT) - 1 == (SALT_LEN * 4 + 2) / 3, "dummy salt length");
_Static_assert(sizeof(DUMMY_HASH) - 1 == (HASH_LEN * 4 + 2) / 3, "dummy hash length");

/* ---- PHC strings ---- */

struct phc {
    uint32_t m_kib, t_cost, lanes;
    size_t salt_len, hash_len;
    unsigned char salt[MAX_SALT_LEN];
    unsigned char hash[MAX_HASH_LEN];
};

/* s advanced past the literal lit, or NULL when s does not start with it. */
static const char *expect(const char *s, const char *lit)
{
    for (; *lit; s++, lit++) {
        if (*s != *lit)
            return NULL;
    }
    return s;
}

/* A decimal without sign or leading zeros, in 1..max. */
static const char *number(const char *s, uint32_t max, uint32_t *out)
{
    const char *start = s;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max)
            return NULL;
    }
    if (s == start || *start == '0')
        return NULL;
    *out = (uint32_t)v;
    return s;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode unpadded standard base64 up to the character stop into out (at
 * most max bytes). Rejects other characters, a dangling character and
 * non-zero leftover bits, so each byte string has one accepted spelling. */
static const char *b64_decode(const char *s, char stop, unsigned char *out, size_t max, size_t *len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (; *s != stop; s++) {
        int v = b64_value(*s);
        if (v < 0)
            return NULL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == max)
                return NULL;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (bits >= 6 || acc != 0)
        return NULL;
    *len = n;
    return s;
}

/* Parse `$argon2id$v=19$m=M,t=T,p=P$SALT$HASH`, the form libargon2 writes.
 * Returns 0, or -1 when s is anything else or out of bounds. */
static int phc_parse(const char *s, struct phc *ph)
{
    if (strnlen(s, MAX_PHC_LEN + 1) > MAX_PHC_LEN)
        return -1;
    if (!(s = expect(s, "$argon2id$v=19$m=")) || !(s = number(s, MAX_M_KIB, &ph->m_kib)) ||
        !(s = expect(s, ",t=")) || !(s = number(s, MAX_T_COST, &ph->t_cost)) ||
        !(s = expect(s, ",p=")) || !(s = number(s, MAX_LANES, &ph->lanes)) ||
        !(s = expect(s, "$")) ||
        !(s = b64_decode(s, '$', ph->salt, sizeof(ph->salt), &ph->salt_len)) ||
        !(s = expect(s, "$")) ||
        !(s = b64_decode(s, '\0', ph->hash, sizeof(ph->hash), &ph->hash_len)))
        return -1;
    if (ph->salt_len < MIN_SALT_LEN || ph->hash_len < MIN_HASH_LEN)
        return -1;
    return 0;
}

/* ---- passwords ---- */

int auth_hash_password(const char *password, char *out, size_t outlen)
{
    unsigned char salt[SALT_LEN];
    int rc = -1;
    if (RAND_bytes(salt, sizeof(salt)) == 1 &&
        argon2id_hash_encoded(T_COST, M_KIB, LANES, password, strlen(password), salt, sizeof(salt),
                              HASH_LEN, out, outlen) == ARGON2_OK)
        rc = 0;
    if (rc < 0 && outlen > 0)
        out[0] = '\0';
    return rc;
}

/* Derive the key for password under ph's parameters and salt, and compare
 * it with ph's hash in constant time.
 *
 * libargon2's own argon2id_verify() compares in constant time too: in
 * release 20171227, the one Debian 12 ships, argon2_compare() in
 * src/argon2.c ORs together the XOR of every byte pair (before release
 * 20161029, argon2_verify_ctx() compared with an early exit). But it frees
 * its derived key without wiping it and accepts whatever costs the string
 * names. So kamrat parses the string itself, bounds the costs, derives
 * into its own buffer, wipes it, and compares with CRYPTO_memcmp. */
static int derive_and_compare(const struct phc *ph, const char *password)
{
    unsigned char key[MAX_HASH_LEN];
    int rc = -1;
    if (argon2id_hash_raw(ph->t_cost, ph->m_kib, ph->lanes, password, strlen(password), ph->salt,
                          ph->salt_len, key, ph->hash_len) == ARGON2_OK &&
        CRYPTO_memcmp(key, ph->hash, ph->hash_len) == 0)
        rc = 0;
    wipe(key, sizeof(key));
    return rc;
}

void auth_verify_dummy(const char *password)
{
    struct phc ph;
    int rc = phc_parse(dummy_phc, &ph);
    assert(rc == 0);
    (void)rc;
    (void)derive_and_compare(&ph, password);
    wipe(&ph, sizeof(ph));
}

int auth_verify_password(const char *phc, const char *password)
{
    struct phc ph;
    int rc = -1;
    if (phc_parse(phc, &ph) == 0)
        rc = derive_and_compare(&ph, password);
    else
        auth_verify_dummy(password);
    wipe(&ph, sizeof(ph));
    return rc;
}

bool auth_needs_rehash(const char *phc)
{
    struct phc ph;
    bool stale = phc_parse(phc, &ph) < 0 || ph.m_kib != M_KIB || ph.t_cost != T_COST ||
                 ph.lanes != LANES || ph.salt_len != SALT_LEN || ph.hash_len != HASH_LEN;
    wipe(&ph, sizeof(ph));
    return stale;
}

/* ---- key derivation on an authq worker ---- */

struct kdf_job {
    bool hash; /* make a new hash of password rather than check it */
    char *phc; /* NULL: unknown user */
    char *password;
    size_t password_len;
    auth_done_fn done;
    void *arg;
    struct auth_result res;
};

static void kdf_work(void *p)
{
    struct kdf_job *j = p;
    if (j->hash) {
        bool ok = auth_hash_password(j->password, j->res.phc, sizeof(j->res.phc)) == 0;
        j->res.outcome = ok ? AUTH_OK : AUTH_MISMATCH;
    } else if (!j->phc) {
        auth_verify_dummy(j->password);
        j->res.outcome = AUTH_MISMATCH;
    } else if (auth_verify_password(j->phc, j->password) < 0) {
        j->res.outcome = AUTH_MISMATCH;
    } else {
        j->res.outcome = AUTH_OK;
        /* The login succeeds without an upgrade when hashing fails. */
        if (auth_needs_rehash(j->phc))
            auth_hash_password(j->password, j->res.phc, sizeof(j->res.phc));
    }
    wipe(j->password, j->password_len); /* no longer needed; kdf_free frees it */
}

static void kdf_free(struct kdf_job *j)
{
    wipe(j->password, j->password_len);
    free(j->password);
    if (j->phc)
        wipe(j->phc, strlen(j->phc));
    free(j->phc);
    wipe(j, sizeof(*j));
    free(j);
}

static void kdf_done(void *p, enum authq_status status)
{
    struct kdf_job *j = p;
    if (status == AUTHQ_CANCELLED)
        j->res.outcome = AUTH_CANCELLED;
    j->done(j->arg, &j->res);
    kdf_free(j);
}

/* Queue a job; hash: make a hash, else check against phc. */
static int kdf_submit(struct authq *q, bool hash, const char *phc, const char *password,
                      auth_done_fn done, void *arg)
{
    struct kdf_job *j = xcalloc(1, sizeof(*j));
    j->hash = hash;
    j->phc = phc ? xstrdup(phc) : NULL;
    j->password_len = strlen(password);
    j->password = xstrndup(password, j->password_len);
    j->done = done;
    j->arg = arg;
    j->res.outcome = AUTH_MISMATCH;
    if (authq_submit(q, kdf_work, kdf_done, j) < 0) {
        kdf_free(j);
        return -1;
    }
    return 0;
}

int auth_submit_verify(struct authq *q, const char *phc, const char *password, auth_done_fn done,
                       void *arg)
{
    return kdf_submit(q, false, phc, password, done, arg);
}

int auth_submit_hash(struct authq *q, const char *password, auth_done_fn done, void *arg)
{
    return kdf_submit(q, true, NULL, password, done, arg);
}

bool auth_password_ok(const char *password)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++)
        chars += (*p & 0xC0) != 0x80; /* every byte but a continuation starts a character */
    return chars >= AUTH_PASSWORD_MIN && chars <= AUTH_PASSWORD_MAX;
}

/* ---- tokens and invite codes ---- */

/* Unpadded base64url of n bytes into out, which gets (4n + 2) / 3 chars and
 * a NUL. */
static void b64url_encode(const unsigned char *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *out++ = abc[(acc >> bits) & 63];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        *out++ = abc[(acc << (6 - bits)) & 63];
    *out = '\0';
}

int auth_token_hash(const char *text, unsigned char hash[AUTH_DIGEST_LEN])
{
    unsigned int n = AUTH_DIGEST_LEN;
    return EVP_Digest(text, strlen(text), hash, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

/* n random bytes as base64url text in out, and that text's digest. */
static int random_code(size_t n, char *out, unsigned char hash[AUTH_DIGEST_LEN])
{
    unsigned char raw[32];
    assert(n <= sizeof(raw));
    int rc = -1;
    if (RAND_bytes(raw, (int)n) == 1) {
        b64url_encode(raw, n, out);
        rc = auth_token_hash(out, hash);
        if (rc < 0)
            wipe(out, strlen(out));
    }
    wipe(raw, sizeof(raw));
    return rc;
}

int auth_token_new(char out[AUTH_TOKEN_LEN + 1], unsigned char hash[AUTH_DIGEST_LEN])
{
    _Static_assert(AUTH_TOKEN_LEN == (32 * 4 + 2) / 3, "token length");
    return random_code(32, out, hash);
}

int auth_invite_code_new(char out[AUTH_INVITE_LEN + 1], unsigned char hash[AUTH_DIGEST_LEN])
{
    _Static_assert(AUTH_INVITE_LEN == (16 * 4 + 2) / 3, "invite code length");
    return random_code(16, out, hash);
}

bool auth_digest_equal(const unsigned char a[AUTH_DIGEST_LEN],
                       const unsigned char b[AUTH_DIGEST_LEN])
{
    return CRYPTO_memcmp(a, b, AUTH_DIGEST_LEN) == 0;
}
