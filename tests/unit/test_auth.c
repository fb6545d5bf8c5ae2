/* auth: Argon2id PHC strings, the unknown-user dummy, key derivation jobs
 * on authq workers, tokens and invite codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>

#include "auth.h"
#include "wakepipe.h"

#define PW "correct horse battery staple"
#define CURRENT "$argon2id$v=19$m=19456,t=2,p=1$"

static char stored[AUTH_PHC_MAX]; /* a hash of PW, made once */

static int make_stored(void **state)
{
    (void)state;
    return auth_hash_password(PW, stored, sizeof(stored));
}

/* A hash of pw under other parameters, as an older kamrat would have made. */
static void hash_with(uint32_t t, uint32_t m, uint32_t p, const char *pw, char *out, size_t len)
{
    static const unsigned char salt[16] = "0123456789abcdef";
    assert_int_equal(
        argon2id_hash_encoded(t, m, p, pw, strlen(pw), salt, sizeof(salt), 32, out, len),
        ARGON2_OK);
}

/* ---- passwords ---- */

static void hash_and_verify(void **state)
{
    (void)state;
    assert_int_equal(strncmp(stored, CURRENT, strlen(CURRENT)), 0);
    /* 22 base64 chars of salt, '$', 43 of hash */
    assert_int_equal(strlen(stored), strlen(CURRENT) + 22 + 1 + 43);
    assert_int_equal(auth_verify_password(stored, PW), 0);
    assert_false(auth_needs_rehash(stored));
}

static void same_password_different_salt(void **state)
{
    (void)state;
    char again[AUTH_PHC_MAX];
    assert_int_equal(auth_hash_password(PW, again, sizeof(again)), 0);
    assert_string_not_equal(again, stored);
    assert_int_equal(auth_verify_password(again, PW), 0);
}

static void wrong_password_fails(void **state)
{
    (void)state;
    assert_int_equal(auth_verify_password(stored, "correct horse battery stapl"), -1);
    assert_int_equal(auth_verify_password(stored, PW " "), -1);
    assert_int_equal(auth_verify_password(stored, ""), -1);
}

static void too_small_output_fails(void **state)
{
    (void)state;
    char out[40] = "x";
    assert_int_equal(auth_hash_password(PW, out, sizeof(out)), -1);
    assert_string_equal(out, "");
}

static void malformed_phc_fails(void **state)
{
    (void)state;
    const char *salt = stored + strlen(CURRENT); /* "<salt>$<hash>" */
    char buf[512];
    static const char *const heads[] = {
        "$argon2i$v=19$m=19456,t=2,p=1$",   "$argon2d$v=19$m=19456,t=2,p=1$",
        "$Argon2id$v=19$m=19456,t=2,p=1$",  "$argon2id$v=16$m=19456,t=2,p=1$",
        "$argon2id$m=19456,t=2,p=1$",       "$argon2id$v=19$m=19456,p=1,t=2$",
        "$argon2id$v=19$m=019456,t=2,p=1$", "$argon2id$v=19$m=+19456,t=2,p=1$",
        "$argon2id$v=19$m=19456,t=0,p=1$",  "$argon2id$v=19$m=19456,t=2,p=0$",
        "$argon2id$v=19$m=,t=2,p=1$",       "$argon2id$v=19$m=99999999999,t=2,p=1$",
        "$argon2id$v=19$m=262145,t=2,p=1$", "$argon2id$v=19$m=19456,t=17,p=1$",
        "$argon2id$v=19$m=19456,t=2,p=9$",  "$argon2id$v=19$m=19456,t=2,p=1,x=1$",
        "$argon2id$v=19$m=4,t=2,p=1$",      " $argon2id$v=19$m=19456,t=2,p=1$",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s", heads[i], salt);
        assert_int_equal(auth_verify_password(buf, PW), -1);
        assert_true(auth_needs_rehash(buf));
    }

    static const char *const whole[] = {
        "",
        "$argon2id$",
        CURRENT,
        CURRENT "AAAAAAAAAAAAAAAAAAAAAA",                         /* no hash field */
        CURRENT "AAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 4-byte salt */
        CURRENT "AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAA",             /* 8-byte hash */
        CURRENT "AAAAAAAAAAAAAAAAAAAAAA$",                        /* no hash */
    };
    for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
        assert_int_equal(auth_verify_password(whole[i], PW), -1);
        assert_true(auth_needs_rehash(whole[i]));
    }

    /* The stored string, which matches PW, spoilt in one place: the salt
     * or the hash padded, cut to a dangling character, given stray low
     * bits in its last character, or a character of another alphabet. */
    size_t at_salt = strlen(CURRENT), at_hash = at_salt + 22 + 1, end = strlen(stored);
    const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t fields[2][2] = {{at_salt, at_hash - 1}, {at_hash, end}};
    for (int f = 0; f < 2; f++) {
        size_t start = fields[f][0], stop = fields[f][1];
        char bad[4][AUTH_PHC_MAX + 4];
        snprintf(bad[0], sizeof(bad[0]), "%.*s=%s", (int)stop, stored, stored + stop);
        snprintf(bad[1], sizeof(bad[1]), "%.*s%s", (int)(start + 1), stored, stored + stop);
        snprintf(bad[2], sizeof(bad[2]), "%s", stored);
        bad[2][stop - 1] = b64[(strchr(b64, stored[stop - 1]) - b64) | 1];
        snprintf(bad[3], sizeof(bad[3]), "%s", stored);
        bad[3][start] = '-'; /* base64url, not base64 */
        for (int i = 0; i < 4; i++) {
            assert_string_not_equal(bad[i], stored);
            assert_int_equal(auth_verify_password(bad[i], PW), -1);
            assert_true(auth_needs_rehash(bad[i]));
        }
    }

    /* a 65-byte hash */
    snprintf(buf, sizeof(buf), "%sAAAAAAAAAAAAAAAAAAAAAA$%087d", CURRENT, 0);
    assert_int_equal(strlen(buf), strlen(CURRENT) + 23 + 87);
    assert_int_equal(auth_verify_password(buf, PW), -1);

    /* the stored string with a character more, or one less */
    snprintf(buf, sizeof(buf), "%s$", stored);
    assert_int_equal(auth_verify_password(buf, PW), -1);
    snprintf(buf, sizeof(buf), "%.*s", (int)strlen(stored) - 1, stored);
    assert_int_equal(auth_verify_password(buf, PW), -1);

    /* over 256 characters */
    memset(buf, 'A', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    memcpy(buf, CURRENT, strlen(CURRENT));
    assert_int_equal(auth_verify_password(buf, PW), -1);
}

static void rehash_wanted_for_other_parameters(void **state)
{
    (void)state;
    char buf[256];
    const char *rest = stored + strlen(CURRENT);
    static const char *const heads[] = {
        "$argon2id$v=19$m=65536,t=2,p=1$",
        "$argon2id$v=19$m=19456,t=3,p=1$",
        "$argon2id$v=19$m=19456,t=2,p=2$",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s", heads[i], rest);
        assert_true(auth_needs_rehash(buf));
    }
    /* 8-byte salt, 16-byte hash */
    assert_true(auth_needs_rehash(CURRENT "AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"));
    snprintf(buf, sizeof(buf), "%s", stored);
    assert_false(auth_needs_rehash(buf));
}

static void other_parameters_still_verify(void **state)
{
    (void)state;
    char old[AUTH_PHC_MAX];
    hash_with(3, 8192, 1, PW, old, sizeof(old));
    assert_int_equal(auth_verify_password(old, PW), 0);
    assert_int_equal(auth_verify_password(old, "nope"), -1);
    assert_true(auth_needs_rehash(old));

    hash_with(1, 65536, 2, PW, old, sizeof(old));
    assert_int_equal(strncmp(old, "$argon2id$v=19$m=65536,t=1,p=2$", 31), 0);
    assert_int_equal(auth_verify_password(old, PW), 0);
    assert_true(auth_needs_rehash(old));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define RUNS 7

/* Seconds of one call of what: 0 a wrong password, 1 an unknown user, 2 an
 * unusable stored hash. */
static double time_one(int what)
{
    double start = now_s();
    if (what == 0)
        assert_int_equal(auth_verify_password(stored, "wrong"), -1);
    else if (what == 1)
        auth_verify_dummy("wrong");
    else
        assert_int_equal(auth_verify_password("!disabled", "wrong"), -1);
    return now_s() - start;
}

/* Loose on purpose (within 3x): this guards against a dummy that skips the
 * key derivation, not against small differences, which TESTPLAN E2
 * measures over the network. The three kinds take turns and each keeps its
 * fastest run, so a busy machine slows them alike. */
static void unknown_user_costs_a_real_check(void **state)
{
    (void)state;
    double best[3] = {1e9, 1e9, 1e9};
    for (int i = 0; i < RUNS; i++) {
        for (int what = 0; what < 3; what++) {
            double t = time_one(what);
            if (t < best[what])
                best[what] = t;
        }
    }
    double real = best[0], dummy = best[1], malformed = best[2];
    assert_true(real > 0.001); /* a real derivation, not a shortcut */
    assert_true(dummy < real * 3 && real < dummy * 3);
    assert_true(malformed < real * 3 && real < malformed * 3);
}

/* ---- jobs on an authq ---- */

struct login {
    int calls;
    enum auth_outcome outcome;
    char phc[AUTH_PHC_MAX];
    pthread_t thread;
};

static void login_done(void *arg, const struct auth_result *res)
{
    struct login *l = arg;
    l->calls++;
    l->outcome = res->outcome;
    snprintf(l->phc, sizeof(l->phc), "%s", res->phc);
    l->thread = pthread_self();
}

/* 50 logins at once, a third each of right, wrong and unknown: two derive
 * at a time, and every answer comes back on the draining thread. */
static void fifty_logins_two_at_a_time(void **state)
{
    (void)state;
    static struct login logins[50];
    struct authq *q = authq_new(2, 64, wakepipe_wake, NULL);
    for (int i = 0; i < 50; i++) {
        logins[i] = (struct login){0};
        const char *phc = i % 3 == 2 ? NULL : stored;
        const char *pw = i % 3 == 0 ? PW : "guess";
        assert_int_equal(auth_submit_verify(q, phc, pw, login_done, &logins[i]), 0);
    }
    uint32_t drained = 0;
    for (int rounds = 0; drained < 50 && rounds < 1000; rounds++)
        drained += wakepipe_wait_and_drain(q);
    assert_int_equal(drained, 50);

    for (int i = 0; i < 50; i++) {
        assert_int_equal(logins[i].calls, 1);
        assert_true(pthread_equal(logins[i].thread, pthread_self()));
        assert_int_equal(logins[i].outcome, i % 3 == 0 ? AUTH_OK : AUTH_MISMATCH);
        assert_string_equal(logins[i].phc, ""); /* current parameters: no upgrade */
    }
    struct authq_stats st;
    authq_stats(q, &st);
    assert_int_equal(st.completed, 50);
    assert_in_range(st.max_running, 1, 2);
    authq_free(q);
}

/* A login against an old hash hands back a new one under the current
 * parameters. */
static void login_upgrades_an_old_hash(void **state)
{
    (void)state;
    char old[AUTH_PHC_MAX];
    hash_with(3, 8192, 1, PW, old, sizeof(old));
    struct login ok = {0}, bad = {0};
    struct authq *q = authq_new(1, 4, wakepipe_wake, NULL);
    assert_int_equal(auth_submit_verify(q, old, PW, login_done, &ok), 0);
    assert_int_equal(auth_submit_verify(q, old, "guess", login_done, &bad), 0);
    uint32_t drained = 0;
    for (int rounds = 0; drained < 2 && rounds < 100; rounds++)
        drained += wakepipe_wait_and_drain(q);
    authq_free(q);

    assert_int_equal(ok.outcome, AUTH_OK);
    assert_int_equal(strncmp(ok.phc, CURRENT, strlen(CURRENT)), 0);
    assert_false(auth_needs_rehash(ok.phc));
    assert_int_equal(auth_verify_password(ok.phc, PW), 0);
    assert_int_equal(bad.outcome, AUTH_MISMATCH);
    assert_string_equal(bad.phc, "");
}

/* A job that holds the only worker until the test lets it go. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool gate_open, blocker_started;

static void blocker_work(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    blocker_started = true;
    pthread_cond_broadcast(&cv);
    while (!gate_open)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void blocker_done(void *arg, enum authq_status status)
{
    (void)status;
    (*(int *)arg)++;
}

static void open_gate(void)
{
    pthread_mutex_lock(&mu);
    gate_open = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void cancelled_login_opens_gate(void *arg, const struct auth_result *res)
{
    login_done(arg, res);
    open_gate();
}

static void busy_queue_and_shutdown(void **state)
{
    (void)state;
    gate_open = blocker_started = false;
    int blocker_calls = 0;
    struct login waiting = {0}, refused = {0};
    struct authq *q = authq_new(1, 2, wakepipe_wake, NULL);
    assert_int_equal(authq_submit(q, blocker_work, blocker_done, &blocker_calls), 0);
    pthread_mutex_lock(&mu);
    while (!blocker_started)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    assert_int_equal(auth_submit_verify(q, stored, PW, cancelled_login_opens_gate, &waiting), 0);
    /* the queue is full: refused, and its callback never runs */
    assert_int_equal(auth_submit_verify(q, stored, PW, login_done, &refused), -1);

    /* Shut down: the waiting login is cancelled (and lets the blocker go). */
    authq_free(q);
    assert_int_equal(waiting.calls, 1);
    assert_int_equal(waiting.outcome, AUTH_CANCELLED);
    assert_int_equal(refused.calls, 0);
    assert_int_equal(blocker_calls, 1);
}

/* ---- tokens and invite codes ---- */

static void assert_base64url(const char *s, size_t len)
{
    assert_int_equal(strlen(s), len);
    assert_int_equal(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     len);
}

static void tokens_are_random_base64url(void **state)
{
    (void)state;
    static char tokens[100][AUTH_TOKEN_LEN + 1];
    unsigned char hash[AUTH_DIGEST_LEN], again[AUTH_DIGEST_LEN];
    for (int i = 0; i < 100; i++) {
        assert_int_equal(auth_token_new(tokens[i], hash), 0);
        assert_base64url(tokens[i], AUTH_TOKEN_LEN);
        assert_int_equal(auth_token_hash(tokens[i], again), 0);
        assert_true(auth_digest_equal(hash, again));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(tokens[i], tokens[j]);
    }
}

static void invite_codes_are_random_base64url(void **state)
{
    (void)state;
    static char codes[100][AUTH_INVITE_LEN + 1];
    unsigned char hash[AUTH_DIGEST_LEN], again[AUTH_DIGEST_LEN];
    for (int i = 0; i < 100; i++) {
        assert_int_equal(auth_invite_code_new(codes[i], hash), 0);
        assert_base64url(codes[i], AUTH_INVITE_LEN);
        /* 16 bytes use 128 of the 132 bits: the last char's low 4 are 0 */
        assert_non_null(strchr("AQgw", codes[i][AUTH_INVITE_LEN - 1]));
        assert_int_equal(auth_token_hash(codes[i], again), 0);
        assert_true(auth_digest_equal(hash, again));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(codes[i], codes[j]);
    }
}

static void token_hash_is_sha256_of_the_text(void **state)
{
    (void)state;
    static const unsigned char abc[AUTH_DIGEST_LEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    unsigned char h[AUTH_DIGEST_LEN], other[AUTH_DIGEST_LEN];
    assert_int_equal(auth_token_hash("abc", h), 0);
    assert_memory_equal(h, abc, sizeof(abc));
    assert_true(auth_digest_equal(h, abc));

    memcpy(other, h, sizeof(other));
    other[0] ^= 1;
    assert_false(auth_digest_equal(h, other));
    other[0] ^= 1;
    other[AUTH_DIGEST_LEN - 1] ^= 0x80;
    assert_false(auth_digest_equal(h, other));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_and_verify),
        cmocka_unit_test(same_password_different_salt),
        cmocka_unit_test(wrong_password_fails),
        cmocka_unit_test(too_small_output_fails),
        cmocka_unit_test(malformed_phc_fails),
        cmocka_unit_test(rehash_wanted_for_other_parameters),
        cmocka_unit_test(other_parameters_still_verify),
        cmocka_unit_test(unknown_user_costs_a_real_check),
        cmocka_unit_test_setup_teardown(fifty_logins_two_at_a_time, wakepipe_open, wakepipe_close),
        cmocka_unit_test_setup_teardown(login_upgrades_an_old_hash, wakepipe_open, wakepipe_close),
        cmocka_unit_test_setup_teardown(busy_queue_and_shutdown, wakepipe_open, wakepipe_close),
        cmocka_unit_test(tokens_are_random_base64url),
        cmocka_unit_test(invite_codes_are_random_base64url),
        cmocka_unit_test(token_hash_is_sha256_of_the_text),
    };
    return cmocka_run_group_tests(tests, make_stored, NULL);
}
