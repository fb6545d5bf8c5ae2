/* leaders: tokens, idle and absolute expiry, logout, revoking a leader's
 * logins, sweeping, and the cap that evicts the oldest login. Time is
 * passed in: nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "leaders.h"

#define T0 1700000000000ULL /* an arbitrary start, in ms */

static void login(struct leaders *l, int64_t id, const char *name, uint64_t now,
                  char token[LEADERS_TOKEN_LEN + 1])
{
    uint64_t expires = 0;
    assert_int_equal(leaders_login(l, id, name, id + 100, false, now, token, &expires),
                     0); /* login_gen */
    assert_int_equal(expires, now + LEADERS_ABSOLUTE_MS);
}

static void tokens_are_base64url_and_found(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char a[LEADERS_TOKEN_LEN + 1], b[LEADERS_TOKEN_LEN + 1];
    login(l, 7, "aino", T0, a);
    login(l, 7, "aino", T0, b);
    assert_int_equal(strlen(a), LEADERS_TOKEN_LEN);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     LEADERS_TOKEN_LEN);
    assert_string_not_equal(a, b); /* two logins, two tokens */
    assert_int_equal(leaders_count(l), 2);

    const struct leader_login *g = leaders_lookup(l, a, T0 + 1);
    assert_non_null(g);
    assert_int_equal(g->leader_id, 7);
    assert_string_equal(g->username, "aino");
    assert_int_equal(g->login_gen, 107); /* kept for gate_login to compare */
    leaders_free(l);
}

static void wrong_tokens_find_nothing(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char t[LEADERS_TOKEN_LEN + 1], wrong[LEADERS_TOKEN_LEN + 2];
    login(l, 1, "aino", T0, t);

    memcpy(wrong, t, sizeof(t));
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A'; /* one character off */
    assert_null(leaders_lookup(l, wrong, T0));
    memcpy(wrong, t, sizeof(t));
    wrong[LEADERS_TOKEN_LEN - 1] = '\0'; /* a prefix */
    assert_null(leaders_lookup(l, wrong, T0));
    memcpy(wrong, t, sizeof(t));
    wrong[LEADERS_TOKEN_LEN] = 'x'; /* one character more */
    wrong[LEADERS_TOKEN_LEN + 1] = '\0';
    assert_null(leaders_lookup(l, wrong, T0));
    assert_null(leaders_lookup(l, "", T0));

    leaders_logout(l, wrong); /* unknown: nothing happens */
    assert_int_equal(leaders_count(l), 1);
    assert_non_null(leaders_lookup(l, t, T0));
    leaders_free(l);
}

static void idle_expiry_restarts_on_use(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char t[LEADERS_TOKEN_LEN + 1];
    login(l, 1, "aino", T0, t);

    /* Used just before the idle limit each time: it stays alive. */
    uint64_t now = T0;
    for (int i = 0; i < 5; i++) {
        now += LEADERS_IDLE_MS - 1;
        assert_non_null(leaders_lookup(l, t, now));
    }
    /* Then left alone for exactly the idle limit: gone, and dropped. */
    now += LEADERS_IDLE_MS;
    assert_null(leaders_lookup(l, t, now));
    assert_int_equal(leaders_count(l), 0);
    assert_null(leaders_lookup(l, t, now - LEADERS_IDLE_MS)); /* stays gone */
    leaders_free(l);
}

static void absolute_expiry_despite_use(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char t[LEADERS_TOKEN_LEN + 1];
    login(l, 1, "aino", T0, t);
    uint64_t now = T0;
    while (now + LEADERS_IDLE_MS / 2 < T0 + LEADERS_ABSOLUTE_MS) {
        now += LEADERS_IDLE_MS / 2;
        assert_non_null(leaders_lookup(l, t, now));
    }
    assert_non_null(leaders_lookup(l, t, T0 + LEADERS_ABSOLUTE_MS - 1));
    assert_null(leaders_lookup(l, t, T0 + LEADERS_ABSOLUTE_MS));
    assert_int_equal(leaders_count(l), 0);
    leaders_free(l);
}

static void logout_ends_one_login(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char a[LEADERS_TOKEN_LEN + 1], b[LEADERS_TOKEN_LEN + 1];
    login(l, 1, "aino", T0, a);
    login(l, 1, "aino", T0, b); /* the same leader on a second device */
    leaders_logout(l, a);
    assert_null(leaders_lookup(l, a, T0));
    assert_non_null(leaders_lookup(l, b, T0));
    leaders_logout(l, a); /* twice: nothing more happens */
    assert_int_equal(leaders_count(l), 1);
    leaders_free(l);
}

static void revoke_ends_every_login_of_a_leader(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char a1[LEADERS_TOKEN_LEN + 1], a2[LEADERS_TOKEN_LEN + 1], b[LEADERS_TOKEN_LEN + 1];
    login(l, 1, "aino", T0, a1);
    login(l, 2, "bertil", T0, b);
    login(l, 1, "aino", T0 + 5, a2);
    assert_int_equal(leaders_revoke_leader(l, 1), 2);
    assert_null(leaders_lookup(l, a1, T0 + 6));
    assert_null(leaders_lookup(l, a2, T0 + 6));
    const struct leader_login *g = leaders_lookup(l, b, T0 + 6);
    assert_non_null(g);
    assert_int_equal(g->leader_id, 2);
    assert_int_equal(leaders_revoke_leader(l, 1), 0);
    assert_int_equal(leaders_count(l), 1);
    leaders_free(l);
}

static void sweep_drops_only_expired(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char idle[LEADERS_TOKEN_LEN + 1], busy[LEADERS_TOKEN_LEN + 1], fresh[LEADERS_TOKEN_LEN + 1];
    login(l, 1, "aino", T0, idle);
    login(l, 2, "bertil", T0, busy);
    assert_non_null(leaders_lookup(l, busy, T0 + LEADERS_IDLE_MS - 1));
    login(l, 3, "cecilia", T0 + LEADERS_IDLE_MS - 1, fresh);
    assert_int_equal(leaders_sweep(l, T0 + LEADERS_IDLE_MS - 1), 0);
    assert_int_equal(leaders_sweep(l, T0 + LEADERS_IDLE_MS), 1); /* only idle */
    assert_int_equal(leaders_count(l), 2);
    assert_null(leaders_lookup(l, idle, T0 + LEADERS_IDLE_MS));
    assert_non_null(leaders_lookup(l, fresh, T0 + LEADERS_IDLE_MS));
    assert_int_equal(leaders_sweep(l, T0 + LEADERS_ABSOLUTE_MS + LEADERS_IDLE_MS), 2);
    assert_int_equal(leaders_count(l), 0);
    leaders_free(l);
}

/* The registry holds LEADERS_MAX logins: one more evicts the oldest, even
 * when it was used a moment ago. */
static void cap_evicts_the_oldest(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char first[LEADERS_TOKEN_LEN + 1], second[LEADERS_TOKEN_LEN + 1], t[LEADERS_TOKEN_LEN + 1];
    login(l, 1, "first", T0, first);
    login(l, 2, "second", T0, second);
    for (int i = 2; i < LEADERS_MAX; i++)
        login(l, 1000 + i, "many", T0 + 1, t);
    assert_int_equal(leaders_count(l), LEADERS_MAX);
    assert_non_null(leaders_lookup(l, first, T0 + 2));

    login(l, 3, "third", T0 + 3, t);
    assert_int_equal(leaders_count(l), LEADERS_MAX);
    assert_null(leaders_lookup(l, first, T0 + 3));
    assert_non_null(leaders_lookup(l, second, T0 + 3));
    const struct leader_login *g = leaders_lookup(l, t, T0 + 3);
    assert_non_null(g);
    assert_string_equal(g->username, "third");
    leaders_free(l);
}

static void long_usernames_are_cut(void **state)
{
    (void)state;
    struct leaders *l = leaders_new();
    char name[200], t[LEADERS_TOKEN_LEN + 1];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    login(l, 1, name, T0, t);
    const struct leader_login *g = leaders_lookup(l, t, T0);
    assert_non_null(g);
    assert_int_equal(strlen(g->username), 64);
    leaders_free(l);
    leaders_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokens_are_base64url_and_found),
        cmocka_unit_test(wrong_tokens_find_nothing),
        cmocka_unit_test(idle_expiry_restarts_on_use),
        cmocka_unit_test(absolute_expiry_despite_use),
        cmocka_unit_test(logout_ends_one_login),
        cmocka_unit_test(revoke_ends_every_login_of_a_leader),
        cmocka_unit_test(sweep_drops_only_expired),
        cmocka_unit_test(cap_evicts_the_oldest),
        cmocka_unit_test(long_usernames_are_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
