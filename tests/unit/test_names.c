/* names: the pseudonym rules and the look-alike comparison against the
 * table protocol/examples/names.json (shared with the integration tests
 * and the fuzz_name corpus). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "names.h"
#include "util.h"

static json_t *table;
static uint32_t max_chars;

static int load_table(void **state)
{
    (void)state;
    const char *root = getenv("KAMRAT_ROOT");
    char path[4096];
    snprintf(path, sizeof(path), "%s/protocol/examples/names.json", root ? root : ".");
    json_error_t err;
    table = json_load_file(path, 0, &err);
    if (!table) {
        fprintf(stderr, "%s: %s\n", path, err.text);
        return -1;
    }
    max_chars = (uint32_t)json_integer_value(json_object_get(table, "max_name_chars"));
    return max_chars ? 0 : -1;
}

static int free_table(void **state)
{
    (void)state;
    json_decref(table);
    return 0;
}

/* The keys of an accepted name s (a case of the table, said in why). */
static void accepted_key(json_t *s, const char *why, struct names_key *k)
{
    const char *v = json_string_value(s);
    size_t n = json_string_length(s);
    int e = names_check(v, n, max_chars);
    if (e != NAMES_OK)
        fail_msg("%s: \"%s\" refused: %s", why, v, names_strerror(e));
    if (names_key(v, n, k) != 0)
        fail_msg("%s: no key for \"%s\"", why, v);
    assert_non_null(k->shown);
    assert_non_null(k->folded);
    assert_non_null(k->capital);
}

static void accepted_names_are_distinct(void **state)
{
    (void)state;
    json_t *list = json_object_get(table, "accepted"), *v;
    size_t n = json_array_size(list), i;
    assert_true(n > 0);
    struct names_key *keys = xcalloc(n, sizeof(*keys));
    json_array_foreach(list, i, v) accepted_key(v, "accepted", &keys[i]);
    for (i = 0; i < n; i++) {
        assert_true(names_same(&keys[i], &keys[i]));
        for (size_t j = i + 1; j < n; j++) {
            if (names_same(&keys[i], &keys[j]))
                fail_msg("\"%s\" and \"%s\" count as one name",
                         json_string_value(json_array_get(list, i)),
                         json_string_value(json_array_get(list, j)));
        }
    }
    for (i = 0; i < n; i++)
        names_key_clear(&keys[i]);
    free(keys);
}

static void refused_names_are_bad(void **state)
{
    (void)state;
    json_t *list = json_object_get(table, "refused"), *c;
    size_t i;
    assert_true(json_array_size(list) > 0);
    json_array_foreach(list, i, c)
    {
        json_t *name = json_object_get(c, "name");
        int e = names_check(json_string_value(name), json_string_length(name), max_chars);
        if (e == NAMES_OK || e == NAMES_E_ICU)
            fail_msg("refused case %zu (%s) got %s", i,
                     json_string_value(json_object_get(c, "why")), names_strerror(e));
    }
}

/* Every pair of the table's list named which: the same, or two names. */
static void pairs(const char *which, bool same)
{
    json_t *list = json_object_get(table, which), *c;
    size_t i;
    assert_true(json_array_size(list) > 0);
    json_array_foreach(list, i, c)
    {
        const char *why = json_string_value(json_object_get(c, "why"));
        struct names_key a, b;
        accepted_key(json_object_get(c, "a"), why, &a);
        accepted_key(json_object_get(c, "b"), why, &b);
        if (names_same(&a, &b) != same || names_same(&b, &a) != same)
            fail_msg("%s pair %zu (%s): \"%s\" / \"%s\"", which, i, why,
                     json_string_value(json_object_get(c, "a")),
                     json_string_value(json_object_get(c, "b")));
        names_key_clear(&a);
        names_key_clear(&b);
        assert_null(a.folded);
        assert_null(b.capital);
    }
}

static void same_pairs_clash(void **state)
{
    (void)state;
    pairs("same", true);
}

static void distinct_pairs_do_not(void **state)
{
    (void)state;
    pairs("distinct", false);
}

static void kept_form_is_nfc(void **state)
{
    (void)state;
    static const char decomposed[] = "Jose\xcc\x81"; /* e + U+0301 */
    char *kept = names_nfc(decomposed, strlen(decomposed));
    assert_string_equal(kept, "Jos\xc3\xa9"); /* U+00E9 */
    free(kept);
    kept = names_nfc("Veera", 5);
    assert_string_equal(kept, "Veera");
    free(kept);
}

static void length_counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(names_check("\xc3\xa4\xc3\xa4\xc3\xa4", 6, 3), NAMES_OK); /* äää */
    assert_int_equal(names_check("\xc3\xa4\xc3\xa4\xc3\xa4", 6, 2), NAMES_E_LENGTH);
    assert_int_equal(names_check("", 0, 40), NAMES_E_LENGTH);
    /* U+0958 is two code points in NFC (a composition exclusion). */
    assert_int_equal(names_check("\xe0\xa5\x98", 3, 1), NAMES_E_LENGTH);
    assert_int_equal(names_check("\xe0\xa5\x98", 3, 2), NAMES_OK);
}

static void invalid_utf8_is_refused(void **state)
{
    (void)state;
    assert_int_equal(names_check("Ve\xffra", 5, 40), NAMES_E_CHAR);
    assert_int_equal(names_check("Ve\xc3", 3, 40), NAMES_E_CHAR);
    assert_int_equal(names_check("V\0eera", 6, 40), NAMES_E_CHAR);
}

int main(void)
{
    if (names_init() != 0) {
        fprintf(stderr, "names_init failed\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted_names_are_distinct),
        cmocka_unit_test(refused_names_are_bad),
        cmocka_unit_test(same_pairs_clash),
        cmocka_unit_test(distinct_pairs_do_not),
        cmocka_unit_test(kept_form_is_nfc),
        cmocka_unit_test(length_counts_code_points),
        cmocka_unit_test(invalid_utf8_is_refused),
    };
    int rc = cmocka_run_group_tests(tests, load_table, free_table);
    names_fini();
    return rc;
}
