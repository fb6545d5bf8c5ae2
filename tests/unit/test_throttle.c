/* throttle: the account lock schedule, refusal during a lock, failures from
 * many addresses, the per-address window, attempts in flight, and the
 * memory cap. Time is passed in: nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "throttle.h"

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6 v6(const char *ip)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

/* 127.0.0.n */
static struct sockaddr_in host(int n)
{
    char ip[32];
    snprintf(ip, sizeof(ip), "127.0.%d.%d", n / 250, n % 250 + 1);
    return v4(ip);
}

static uint64_t check(struct throttle *t, const char *user, struct sockaddr_in a, uint64_t now)
{
    return throttle_check(t, user, (struct sockaddr *)&a, sizeof(a), now);
}

static uint64_t check6(struct throttle *t, const char *user, struct sockaddr_in6 a, uint64_t now)
{
    return throttle_check(t, user, (struct sockaddr *)&a, sizeof(a), now);
}

/* One failed login: allowed by the check, then recorded. Returns the lock
 * it started. */
static uint64_t failed_login(struct throttle *t, const char *user, struct sockaddr_in a,
                             uint64_t now)
{
    assert_int_equal(check(t, user, a, now), 0);
    return throttle_record(t, user, THROTTLE_FAILURE, now);
}

/* The lock after the nth failure. */
static uint64_t lock_after(int n)
{
    uint64_t ms = (uint64_t)THROTTLE_FIRST_LOCK_MS << (n - THROTTLE_FREE_FAILURES);
    return ms < THROTTLE_MAX_LOCK_MS ? ms : THROTTLE_MAX_LOCK_MS;
}

static void lock_doubles_up_to_fifteen_minutes(void **state)
{
    (void)state;
    /* TESTPLAN §2 */
    assert_int_equal(THROTTLE_FREE_FAILURES, 3);
    assert_int_equal(THROTTLE_FIRST_LOCK_MS, 1000);
    assert_int_equal(THROTTLE_MAX_LOCK_MS, 15 * 60 * 1000);

    struct throttle *t = throttle_new(16, 64);
    uint64_t now = 1000000;
    int n = 0;
    while (n < THROTTLE_FREE_FAILURES - 1)
        assert_int_equal(failed_login(t, "alice", host(n++), now), 0);
    /* 1 s, 2 s, 4 s ... until the cap has been seen three times */
    int capped = 0;
    uint64_t last = 0;
    while (capped < 3) {
        uint64_t want = lock_after(++n);
        assert_true(want >= last);
        assert_int_equal(failed_login(t, "alice", host(n), now), want);
        assert_int_equal(check(t, "alice", host(n + 1), now), want);
        assert_int_equal(check(t, "alice", host(n + 1), now + want - 1), 1);
        now += want;
        last = want;
        capped += want == THROTTLE_MAX_LOCK_MS;
    }
    assert_int_equal(n, 15); /* 1 s doubles 10 times to pass 15 min */
    throttle_free(t);
}

/* A login as kamratd does it, but with the derivation inline. Returns 0
 * when it succeeds, -1 for the generic failure. */
static int login(struct throttle *t, const char *phc, const char *user, const char *pw,
                 struct sockaddr_in a, uint64_t now)
{
    if (check(t, user, a, now) != 0)
        return -1;
    int rc = auth_verify_password(phc, pw);
    throttle_record(t, user, rc == 0 ? THROTTLE_SUCCESS : THROTTLE_FAILURE, now);
    return rc;
}

static void right_password_refused_during_a_lock(void **state)
{
    (void)state;
    char phc[AUTH_PHC_MAX];
    assert_int_equal(auth_hash_password("s3cret", phc, sizeof(phc)), 0);
    struct throttle *t = throttle_new(16, 64);
    uint64_t now = 5000;
    for (int i = 0; i < THROTTLE_FREE_FAILURES; i++)
        assert_int_equal(login(t, phc, "leader", "guess", host(1), now), -1);
    assert_int_equal(login(t, phc, "leader", "s3cret", host(2), now), -1);
    assert_int_equal(login(t, phc, "leader", "s3cret", host(2), now + 999), -1);
    assert_int_equal(login(t, phc, "leader", "s3cret", host(2), now + 1000), 0);
    /* success forgets the failures: three more are free again */
    assert_int_equal(throttle_accounts(t), 0);
    for (int i = 0; i < THROTTLE_FREE_FAILURES - 1; i++)
        assert_int_equal(failed_login(t, "leader", host(3), now + 1000), 0);
    assert_int_equal(failed_login(t, "leader", host(3), now + 1000), THROTTLE_FIRST_LOCK_MS);
    throttle_free(t);
}

static void failures_from_many_addresses_count(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(16, 64);
    uint64_t now = 0;
    for (int i = 0; i < THROTTLE_FREE_FAILURES; i++)
        failed_login(t, "alice", host(10 + i), now);
    /* 20 addresses, each with its own window untouched, all locked out */
    for (int i = 10; i < 30; i++)
        assert_int_equal(check(t, "alice", host(i), now), THROTTLE_FIRST_LOCK_MS);
    /* names are folded: ALICE is alice */
    assert_int_equal(check(t, "ALICE", host(40), now), THROTTLE_FIRST_LOCK_MS);
    /* another account is not affected */
    assert_int_equal(check(t, "bob", host(40), now), 0);
    throttle_free(t);
}

static void ten_attempts_a_minute_per_address(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(64, 64);
    char user[16];
    uint64_t now = 100000;
    for (int i = 0; i < THROTTLE_ADDR_ATTEMPTS; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        assert_int_equal(failed_login(t, user, host(2), now + (uint64_t)i), 0);
    }
    /* the eleventh waits until the first leaves the window */
    now += 10;
    assert_int_equal(check(t, "next", host(2), now), THROTTLE_ADDR_WINDOW_MS - 10);
    assert_int_equal(check(t, "next", host(3), now), 0); /* other addresses are fine */
    throttle_record(t, "next", THROTTLE_SUCCESS, now);
    /* a sliding window: one slot frees per expired attempt */
    now = 100000 + THROTTLE_ADDR_WINDOW_MS;
    assert_int_equal(check(t, "next", host(2), now), 0);
    throttle_record(t, "next", THROTTLE_SUCCESS, now);
    assert_int_equal(check(t, "next", host(2), now), 1);
    assert_int_equal(check(t, "next", host(2), now + 1), 0);
    throttle_free(t);
}

/* Invite lookups: the address window alone, no account. */
static void address_only_attempts(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(1, 64);
    struct sockaddr_in a = host(4), b = host(5);
    uint64_t now = 5000;
    for (int i = 0; i < THROTTLE_ADDR_ATTEMPTS; i++)
        assert_int_equal(throttle_address(t, (struct sockaddr *)&a, sizeof(a), now + (uint64_t)i),
                         0);
    assert_int_equal(throttle_address(t, (struct sockaddr *)&a, sizeof(a), now + 10),
                     THROTTLE_ADDR_WINDOW_MS - 10);
    assert_int_equal(throttle_address(t, (struct sockaddr *)&b, sizeof(b), now + 10), 0);
    assert_int_equal(
        throttle_address(t, (struct sockaddr *)&a, sizeof(a), now + THROTTLE_ADDR_WINDOW_MS), 0);
    assert_int_equal(throttle_accounts(t), 0);
    throttle_free(t);
}

static void ipv6_counts_per_64(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(64, 64);
    char ip[64], user[16];
    for (int i = 0; i < THROTTLE_ADDR_ATTEMPTS; i++) {
        snprintf(ip, sizeof(ip), "2001:db8::%x", i + 1);
        snprintf(user, sizeof(user), "u%d", i);
        assert_int_equal(check6(t, user, v6(ip), 0), 0);
    }
    assert_true(check6(t, "x", v6("2001:db8::ffff:1234"), 0) > 0); /* same /64 */
    assert_int_equal(check6(t, "x", v6("2001:db8:0:1::1"), 0), 0);

    /* IPv4 on a dual-stack socket is per address, and the same as IPv4 */
    for (int i = 0; i < THROTTLE_ADDR_ATTEMPTS; i++) {
        snprintf(user, sizeof(user), "v%d", i);
        assert_int_equal(check6(t, user, v6("::ffff:127.0.0.2"), 0), 0);
    }
    assert_true(check(t, "y", v4("127.0.0.2"), 0) > 0);
    assert_int_equal(check6(t, "y", v6("::ffff:127.0.0.3"), 0), 0);
    throttle_free(t);
}

/* 50 logins for one account at once: only the free failures' worth pass
 * the check before any of them is recorded. */
static void attempts_in_flight_are_reserved(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(64, 64);
    int allowed = 0;
    for (int i = 0; i < 50; i++) {
        uint64_t w = check(t, "bob", host(i), 0);
        if (w == 0)
            allowed++;
        else
            assert_int_equal(w, THROTTLE_FIRST_LOCK_MS);
    }
    assert_int_equal(allowed, THROTTLE_FREE_FAILURES);
    for (int i = 0; i < allowed; i++)
        throttle_record(t, "bob", THROTTLE_FAILURE, 10);
    assert_int_equal(check(t, "bob", host(99), 10), THROTTLE_FIRST_LOCK_MS);

    /* past the threshold: one attempt at a time */
    assert_int_equal(check(t, "bob", host(99), 10 + THROTTLE_FIRST_LOCK_MS), 0);
    assert_int_equal(check(t, "bob", host(98), 10 + THROTTLE_FIRST_LOCK_MS),
                     THROTTLE_FIRST_LOCK_MS);
    throttle_free(t);
}

static void aborted_attempts_count_neither_way(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(64, 64);
    assert_int_equal(failed_login(t, "carol", host(1), 0), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(check(t, "carol", host(1), 0), 0);
        assert_int_equal(throttle_record(t, "carol", THROTTLE_ABORTED, 0), 0);
    }
    assert_int_equal(failed_login(t, "carol", host(2), 0), 0);
    assert_int_equal(failed_login(t, "carol", host(2), 0), THROTTLE_FIRST_LOCK_MS);

    assert_int_equal(check(t, "dave", host(3), 0), 0);
    throttle_record(t, "dave", THROTTLE_ABORTED, 0);
    assert_int_equal(throttle_accounts(t), 1); /* dave left nothing behind */
    throttle_free(t);
}

static void failures_are_forgotten_after_a_day(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(64, 64);
    uint64_t now = 0, lock = 0, day = 24ull * 60 * 60 * 1000;
    for (int i = 0; i < 6; i++) {
        now += lock;
        lock = failed_login(t, "erin", host(i), now);
    }
    now += day - 1;
    assert_int_equal(failed_login(t, "erin", host(1), now), lock_after(7)); /* still counted */
    now += day;
    assert_int_equal(failed_login(t, "erin", host(1), now), 0); /* a first failure again */
    throttle_free(t);
}

static void tables_are_capped_least_recently_used_first(void **state)
{
    (void)state;
    struct throttle *t = throttle_new(4, 4);
    for (int i = 0; i < THROTTLE_FREE_FAILURES; i++)
        failed_login(t, "a", host(0), 0);
    assert_true(check(t, "a", host(0), 0) > 0);
    char user[8];
    for (int i = 1; i <= 4; i++) {
        snprintf(user, sizeof(user), "n%d", i);
        failed_login(t, user, host(i), 1);
    }
    assert_int_equal(throttle_accounts(t), 4);
    assert_int_equal(throttle_addresses(t), 4);
    assert_int_equal(check(t, "a", host(5), 2), 0); /* evicted: forgotten */
    throttle_record(t, "a", THROTTLE_ABORTED, 2);
    throttle_free(t);

    /* recently used entries stay */
    t = throttle_new(4, 4);
    failed_login(t, "a", host(0), 0);
    failed_login(t, "b", host(0), 0);
    failed_login(t, "c", host(0), 0);
    failed_login(t, "d", host(0), 0);
    failed_login(t, "a", host(0), 1); /* a is now the most recently used */
    failed_login(t, "e", host(0), 2); /* evicts b */
    assert_int_equal(throttle_accounts(t), 4);
    assert_int_equal(failed_login(t, "a", host(1), 3), THROTTLE_FIRST_LOCK_MS); /* kept its two */
    assert_int_equal(failed_login(t, "b", host(1), 3), 0);                      /* starts over */
    throttle_free(t);
    throttle_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lock_doubles_up_to_fifteen_minutes),
        cmocka_unit_test(right_password_refused_during_a_lock),
        cmocka_unit_test(failures_from_many_addresses_count),
        cmocka_unit_test(ten_attempts_a_minute_per_address),
        cmocka_unit_test(address_only_attempts),
        cmocka_unit_test(ipv6_counts_per_64),
        cmocka_unit_test(attempts_in_flight_are_reserved),
        cmocka_unit_test(aborted_attempts_count_neither_way),
        cmocka_unit_test(failures_are_forgotten_after_a_day),
        cmocka_unit_test(tables_are_capped_least_recently_used_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
