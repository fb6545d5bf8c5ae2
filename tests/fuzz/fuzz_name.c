/*
 * fuzz_name: bytes -> one or two pseudonyms (split at the first NUL) ->
 * names_check, and for each accepted name its NFC form and keys. Asserts
 * what the room relies on: a refusal names a real reason; the NFC form of
 * an accepted name is accepted too and is the same name; the comparison is
 * reflexive and symmetric.
 *
 * Built for libFuzzer with -Dfuzzing=true (clang); the same file is linked
 * with replay.c into a plain program that runs the corpus in the test suite.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CHARS 40 /* the default max_name_chars */

/* Check s; when it is a name, fill k and return true. */
static bool take(const char *s, size_t len, struct names_key *k)
{
    int e = names_check(s, len, MAX_CHARS);
    assert(e == NAMES_OK || e == NAMES_E_LENGTH || e == NAMES_E_CHAR || e == NAMES_E_SCRIPT);
    if (e != NAMES_OK)
        return false;
    char *kept = names_nfc(s, len);
    assert(kept);
    assert(names_check(kept, strlen(kept), MAX_CHARS) == NAMES_OK);
    struct names_key nfc;
    assert(names_key(s, len, k) == NAMES_OK);
    assert(names_key(kept, strlen(kept), &nfc) == NAMES_OK);
    assert(names_same(k, k) && names_same(k, &nfc) && names_same(&nfc, k));
    names_key_clear(&nfc);
    free(kept);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (names_init() < 0)
            abort();
        atexit(names_fini);
        ready = 1;
    }
    const char *a = (const char *)data, *nul = memchr(data, 0, size);
    size_t alen = nul ? (size_t)(nul - a) : size;
    struct names_key ka, kb;
    bool has_a = take(a, alen, &ka);
    if (nul) {
        const char *b = nul + 1;
        size_t blen = size - alen - 1;
        if (take(b, blen, &kb)) {
            if (has_a)
                assert(names_same(&ka, &kb) == names_same(&kb, &ka));
            names_key_clear(&kb);
        }
    }
    if (has_a)
        names_key_clear(&ka);
    return 0;
}
