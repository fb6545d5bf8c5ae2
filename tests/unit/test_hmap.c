/* hmap: insert, replace, delete with backward shift, growth, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hmap.h"

#define N 5000

static char keys[N][16];

static void insert_find_delete(void **state)
{
    (void)state;
    struct hmap *h = hmap_new();
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "room-%d", i);
        assert_null(hmap_put(h, keys[i], strlen(keys[i]), keys[i]));
    }
    assert_int_equal(hmap_count(h), N);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(hmap_get(h, keys[i], strlen(keys[i])), keys[i]);
    assert_null(hmap_get(h, "room-x", 6));
    /* delete every other key; the rest must stay reachable (backward shift) */
    for (int i = 0; i < N; i += 2)
        assert_ptr_equal(hmap_del(h, keys[i], strlen(keys[i])), keys[i]);
    assert_null(hmap_del(h, keys[0], strlen(keys[0])));
    assert_int_equal(hmap_count(h), N / 2);
    for (int i = 0; i < N; i++) {
        void *want = i % 2 ? keys[i] : NULL;
        assert_ptr_equal(hmap_get(h, keys[i], strlen(keys[i])), want);
    }
    size_t pos = 0, seen = 0;
    while (hmap_next(h, &pos))
        seen++;
    assert_int_equal(seen, N / 2);
    hmap_free(h);
}

static void replace_returns_the_old_value(void **state)
{
    (void)state;
    struct hmap *h = hmap_new();
    int a, b;
    assert_null(hmap_put(h, "k", 1, &a));
    assert_ptr_equal(hmap_put(h, "k", 1, &b), &a);
    assert_ptr_equal(hmap_get(h, "k", 1), &b);
    assert_int_equal(hmap_count(h), 1);
    hmap_free(h);
}

static void seeded_hash_differs(void **state)
{
    (void)state;
    uint64_t before = hmap_hash("room", 4);
    hmap_seed();
    assert_true(hmap_hash("room", 4) != before); /* 2^-64 chance of a false failure */
    assert_true(hmap_hash("room", 4) == hmap_hash("room", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(insert_find_delete),
        cmocka_unit_test(replace_returns_the_old_value),
        cmocka_unit_test(seeded_hash_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
