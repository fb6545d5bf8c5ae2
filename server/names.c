#include "names.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uclean.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "util.h"

static USpoofChecker *checker;

const char *names_strerror(int e)
{
    switch (e) {
    case NAMES_OK:
        return "ok";
    case NAMES_E_LENGTH:
        return "empty or too long";
    case NAMES_E_CHAR:
        return "a forbidden character";
    case NAMES_E_SCRIPT:
        return "mixed scripts or digits, or a hidden mark";
    case NAMES_E_ICU:
        return "ICU failed";
    default:
        return "unknown error";
    }
}

int names_init(void)
{
    UErrorCode st = U_ZERO_ERROR;
    checker = uspoof_open(&st);
    /* Moderately restrictive (README §4): one script, or Latin with one
     * other that is not Cyrillic, Greek or Cherokee (the scripts whose
     * letters pass for Latin ones); Common and Inherited go with any.
     * Every code point is allowed here: the characters that show nothing
     * are refused by names_check itself, before the checker. */
    uspoof_setChecks(checker,
                     USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS |
                         USPOOF_HIDDEN_OVERLAY,
                     &st);
    uspoof_setRestrictionLevel(checker, USPOOF_MODERATELY_RESTRICTIVE);
    if (U_FAILURE(st)) {
        names_fini();
        return NAMES_E_ICU;
    }
    return NAMES_OK;
}

void names_fini(void)
{
    if (!checker)
        return;
    uspoof_close(checker);
    checker = NULL;
    u_cleanup();
}

/* ---- the characters of a name ---- */

/* A character that shows nothing, or changes how the text around it is
 * shown or read. U+FE0F (emoji presentation) is the one exception, right
 * after an emoji: phones add it to ❤ and ☺, and the keys drop it. */
static bool forbidden(UChar32 c, UChar32 before)
{
    if (u_charType(c) == U_CONTROL_CHAR || u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL))
        return true;
    if (c == 0xfe0f && before >= 0 && u_hasBinaryProperty(before, UCHAR_EMOJI))
        return false;
    return u_charType(c) == U_FORMAT_CHAR ||
           u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

/* A UTF-16 string that grows as ICU asks. */
struct u16 {
    UChar *s;
    int32_t len;
};

static void u16_free(struct u16 *u)
{
    if (u->s)
        wipe(u->s, (size_t)u->len * sizeof(UChar));
    free(u->s);
    *u = (struct u16){0};
}

static int from_utf8(const char *s, size_t len, struct u16 *out)
{
    UErrorCode st = U_ZERO_ERROR;
    *out = (struct u16){0};
    if (len > INT32_MAX / 2)
        return NAMES_E_LENGTH;
    /* UTF-8 never takes fewer code units in UTF-16. */
    out->s = xmalloc((len + 1) * sizeof(UChar));
    u_strFromUTF8(out->s, (int32_t)len + 1, &out->len, s, (int32_t)len, &st);
    if (U_FAILURE(st)) {
        u16_free(out);
        return st == U_INVALID_CHAR_FOUND ? NAMES_E_CHAR : NAMES_E_ICU;
    }
    return NAMES_OK;
}

enum step { NFC, NFKC, NFKC_CASEFOLD, CAPITALS, SKELETON };

/* ICU's own instances: never closed. */
static const UNormalizer2 *normalizer(enum step step, UErrorCode *st)
{
    if (step == NFC)
        return unorm2_getNFCInstance(st);
    return step == NFKC ? unorm2_getNFKCInstance(st) : unorm2_getNFKCCasefoldInstance(st);
}

/* One transformation of in into a new *out (ICU's sizes: a second call when
 * the first guess was short). 0 or NAMES_E_ICU. */
static int apply(enum step step, const struct u16 *in, struct u16 *out)
{
    int32_t cap = in->len * 2 + 8;
    for (int round = 0; round < 2; round++) {
        UErrorCode st = U_ZERO_ERROR;
        *out = (struct u16){.s = xmalloc((size_t)cap * sizeof(UChar))};
        switch (step) {
        case NFC:
        case NFKC:
        case NFKC_CASEFOLD: {
            const UNormalizer2 *n = normalizer(step, &st);
            out->len = U_SUCCESS(st) ? unorm2_normalize(n, in->s, in->len, out->s, cap, &st) : 0;
            break;
        }
        case CAPITALS:
            out->len = u_strToUpper(out->s, cap, in->s, in->len, "", &st);
            break;
        case SKELETON:
            out->len = uspoof_getSkeleton(checker, 0, in->s, in->len, out->s, cap, &st);
            break;
        }
        if (U_SUCCESS(st))
            return NAMES_OK;
        int32_t need = out->len;
        out->len = cap;
        u16_free(out);
        if (st != U_BUFFER_OVERFLOW_ERROR)
            return NAMES_E_ICU;
        cap = need + 1;
    }
    return NAMES_E_ICU;
}

static char *to_utf8(const struct u16 *u)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = 0;
    u_strToUTF8(NULL, 0, &n, u->s, u->len, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return NULL;
    st = U_ZERO_ERROR;
    char *out = xmalloc((size_t)n + 1);
    u_strToUTF8(out, n + 1, NULL, u->s, u->len, &st);
    if (U_FAILURE(st)) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- checking ---- */

int names_check(const char *s, size_t len, uint32_t max_chars)
{
    assert(checker);
    const uint8_t *p = (const uint8_t *)s;
    size_t count = 0;
    UChar32 c = -1, before = -1;
    for (size_t i = 0; i < len;) {
        before = c;
        U8_NEXT(p, i, len, c);
        if (c < 0 || forbidden(c, before))
            return NAMES_E_CHAR;
        if (count++ == 0 && u_isUWhiteSpace(c))
            return NAMES_E_CHAR;
        if (count > max_chars)
            return NAMES_E_LENGTH;
    }
    if (count == 0)
        return NAMES_E_LENGTH;
    if (u_isUWhiteSpace(c))
        return NAMES_E_CHAR;

    /* What the room keeps is the NFC form: that must fit too, and is what
     * the spoof checker looks at. */
    struct u16 raw, nfc;
    int e = from_utf8(s, len, &raw);
    if (e)
        return e;
    e = apply(NFC, &raw, &nfc);
    u16_free(&raw);
    if (e)
        return e;
    if ((uint32_t)u_countChar32(nfc.s, nfc.len) > max_chars) {
        e = NAMES_E_LENGTH;
    } else {
        UErrorCode st = U_ZERO_ERROR;
        int32_t failed = uspoof_check2(checker, nfc.s, nfc.len, NULL, &st);
        e = U_FAILURE(st) ? NAMES_E_ICU : failed ? NAMES_E_SCRIPT : NAMES_OK;
    }
    u16_free(&nfc);
    return e;
}

/* ---- comparing ---- */

/* in through each of the n steps, in UTF-8: a new string, or NULL. */
static char *through(const struct u16 *in, const enum step *steps, size_t n)
{
    struct u16 cur = {0}, next;
    for (size_t i = 0; i < n; i++) {
        int e = apply(steps[i], i ? &cur : in, &next);
        u16_free(&cur);
        if (e)
            return NULL;
        cur = next;
    }
    char *out = to_utf8(&cur);
    u16_free(&cur);
    return out;
}

char *names_nfc(const char *s, size_t len)
{
    static const enum step nfc[] = {NFC};
    struct u16 raw;
    if (from_utf8(s, len, &raw))
        return NULL;
    char *out = through(&raw, nfc, 1);
    u16_free(&raw);
    return out;
}

/* The shown key keeps the case: "Ilkka" is "llkka" only there, as folding
 * makes the I an i and capitals make the l an L. The folded key folds again
 * after the skeleton, whose "O" stands for "0" and "o" alike: so "l0rd" is
 * "lord". The capital key puts the folded name in capitals, so "Straße"
 * and "STRASSE" agree there too. */
static const enum step shown_key[] = {NFKC, SKELETON};
static const enum step folded_key[] = {NFKC_CASEFOLD, SKELETON, NFKC_CASEFOLD};
static const enum step capital_key[] = {NFKC_CASEFOLD, CAPITALS, SKELETON};

int names_key(const char *s, size_t len, struct names_key *k)
{
    assert(checker);
    *k = (struct names_key){0};
    struct u16 raw;
    if (from_utf8(s, len, &raw))
        return NAMES_E_ICU;
    k->shown = through(&raw, shown_key, ARRAY_LEN(shown_key));
    k->folded = through(&raw, folded_key, ARRAY_LEN(folded_key));
    k->capital = through(&raw, capital_key, ARRAY_LEN(capital_key));
    u16_free(&raw);
    if (!k->shown || !k->folded || !k->capital) {
        names_key_clear(k);
        return NAMES_E_ICU;
    }
    return NAMES_OK;
}

void names_key_clear(struct names_key *k)
{
    if (k->shown)
        wipe(k->shown, strlen(k->shown));
    if (k->folded)
        wipe(k->folded, strlen(k->folded));
    if (k->capital)
        wipe(k->capital, strlen(k->capital));
    free(k->shown);
    free(k->folded);
    free(k->capital);
    *k = (struct names_key){0};
}

bool names_same(const struct names_key *a, const struct names_key *b)
{
    return strcmp(a->shown, b->shown) == 0 || strcmp(a->folded, b->folded) == 0 ||
           strcmp(a->capital, b->capital) == 0;
}
