/* encoding: Accept-Encoding with q-values picks the coding; compressed
 * copies are kept only when smaller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encoding.h"

static const bool all[ENCODING_COUNT] = {true, true, true};

static void picks_by_q(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        enum encoding want;
    } cases[] = {
        {NULL, ENCODING_IDENTITY},
        {"", ENCODING_IDENTITY},
        {"gzip, deflate, br", ENCODING_BR},
        {"gzip", ENCODING_GZIP},
        {"x-gzip", ENCODING_GZIP},
        {"gzip;q=1.0, br;q=0.5", ENCODING_GZIP},
        {"br;q=0, gzip;q=0", ENCODING_IDENTITY},
        {"br;q=0, *", ENCODING_GZIP},
        {"*;q=0.1", ENCODING_BR},
        {"identity", ENCODING_IDENTITY},
        {"identity;q=1, br;q=0.9", ENCODING_IDENTITY},
        {"BR ; Q=0.2", ENCODING_BR},
        {"br;q=0.001", ENCODING_BR},   /* above identity's default */
        {"br;q=2", ENCODING_IDENTITY}, /* not a q-value: the element is ignored */
        {"br;q=0.5x", ENCODING_IDENTITY},
        {"br;level=5;q=0.5", ENCODING_BR},
        {"deflate", ENCODING_IDENTITY},
        {",,, ,gzip", ENCODING_GZIP},
        {"*;q=0", ENCODING_IDENTITY}, /* nothing acceptable: identity anyway */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum encoding got = encoding_pick(cases[i].accept, all);
        if (got != cases[i].want)
            fail_msg("\"%s\": got %d, want %d", cases[i].accept ? cases[i].accept : "(none)",
                     (int)got, (int)cases[i].want);
    }
}

static void only_what_is_available(void **state)
{
    (void)state;
    const bool gzip_only[ENCODING_COUNT] = {false, true, false};
    assert_int_equal(encoding_pick("br", gzip_only), ENCODING_IDENTITY);
    assert_int_equal(encoding_pick("br, gzip;q=0.5", gzip_only), ENCODING_GZIP);
    const bool none[ENCODING_COUNT] = {false, false, false};
    assert_int_equal(encoding_pick("br, gzip", none), ENCODING_IDENTITY);
}

static void copies_only_when_smaller(void **state)
{
    (void)state;
    unsigned char text[4096];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (unsigned char)"kamrat peer support "[i % 20];
    static const enum encoding codings[] = {ENCODING_BR, ENCODING_GZIP};
    for (size_t k = 0; k < 2; k++) {
        size_t n = 0;
        unsigned char *c = encoding_compress(codings[k], text, sizeof(text), &n);
        assert_non_null(c);
        assert_true(n > 0 && n < sizeof(text) / 10);
        free(c);
        /* Two bytes never shrink. */
        assert_null(encoding_compress(codings[k], text, 2, &n));
    }
    size_t n = 0;
    assert_null(encoding_compress(ENCODING_IDENTITY, text, sizeof(text), &n));
    assert_string_equal(encoding_token(ENCODING_BR), "br");
    assert_string_equal(encoding_token(ENCODING_GZIP), "gzip");
    assert_null(encoding_token(ENCODING_IDENTITY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(picks_by_q),
        cmocka_unit_test(only_what_is_available),
        cmocka_unit_test(copies_only_when_smaller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
