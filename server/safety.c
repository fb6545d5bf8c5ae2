/*
 * safety: the [safety] files. Both are objects of language codes; every
 * entry is checked when the file is read, so a mistake stops kamratd at
 * start (or is refused on SIGHUP) with the file and entry named, instead of
 * showing a broken crisis line to someone who needs it.
 */
#include "safety.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"
#include "util.h"

/* Every welcome carries the crisis object, so its size is bounded: at most
 * this many languages, and neither file larger than FILE_MAX. */
#define LANGUAGES_MAX 16
#define FILE_MAX (256 * 1024)
#define FOLD_STACK 1024 /* messages up to this many bytes fold without malloc */

struct word {
    char *text; /* folded with fold() */
    size_t len;
};

struct safety {
    char *crisis_json;
    struct word *words;
    size_t nwords;
};

/* One file being read: where errors go and what they are prefixed with. */
struct load {
    struct safety *s;
    const char *key;  /* "crisis_file" */
    const char *path; /* the file */
    char *err;
    size_t errlen;
};

static int fail(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "<key> <path>: <what>" into l->err; returns -1. */
static int fail(struct load *l, const char *fmt, ...)
{
    int n = snprintf(l->err, l->errlen, "%s %s: ", l->key, l->path);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < l->errlen)
        vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- case folding ----------------------------------------------------- */

/*
 * Unicode simple case folding of one code point of U+00C0..U+017F (Latin-1
 * letters and Latin Extended-A), the letters of the languages kamrat's
 * groups speak and their neighbours. Upper and lower case alternate there
 * in pairs, with the exceptions spelled out: × and ß have no pair, İ (U+0130)
 * has no simple folding, ı ĸ ŉ are lower case only, Ÿ folds to ÿ and the
 * long s to s.
 */
static uint32_t fold_latin(uint32_t c)
{
    if (c >= 0xc0 && c <= 0xde && c != 0xd7)
        return c + 0x20;
    if (c == 0x178)
        return 0xff;
    if (c == 0x17f)
        return 's';
    if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
        return c | 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
        return (c & 1) ? c + 1 : c;
    return c;
}

/*
 * Fold len bytes of UTF-8 at src into dst, which has room for len bytes: no
 * folding makes a character longer. Other characters, and bytes that are
 * not valid UTF-8, are copied as they are. Returns the folded length.
 */
static size_t fold(const char *src, size_t len, char *dst)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0, o = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c >= 'A' && c <= 'Z') {
            dst[o++] = (char)(c + 0x20);
            i++;
        } else if (c >= 0xc3 && c <= 0xc5 && i + 1 < len && (p[i + 1] & 0xc0) == 0x80) {
            /* Lead bytes C3..C5 are exactly U+00C0..U+017F. */
            uint32_t cp = fold_latin(((c & 0x1fu) << 6) | (p[i + 1] & 0x3fu));
            if (cp < 0x80) {
                dst[o++] = (char)cp;
            } else {
                dst[o++] = (char)(0xc0 | (cp >> 6));
                dst[o++] = (char)(0x80 | (cp & 0x3f));
            }
            i += 2;
        } else {
            dst[o++] = (char)c;
            i++;
        }
    }
    return o;
}

/* ---- reading and checking --------------------------------------------- */

static bool language_valid(const char *code)
{
    size_t n = strlen(code);
    if (n < 2 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (code[i] < 'a' || code[i] > 'z')
            return false;
    return true;
}

/* C0 controls, DEL and C1 controls (U+0080..U+009F, C2 80..C2 9F). */
static bool has_control(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 && i + 1 < len && p[i + 1] < 0xa0))
            return true;
    return false;
}

/* Is v a string of min..max characters without control characters?
 * Otherwise fail naming entry `lang[i]` and `what`. */
static int check_text(struct load *l, const json_t *v, size_t min, size_t max, const char *lang,
                      size_t i, const char *what)
{
    if (!json_is_string(v))
        return fail(l, "%s[%zu]: %s must be a string", lang, i, what);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), chars = proto_utf8_count(s, len);
    if (chars < min || chars > max)
        return fail(l, "%s[%zu]: %s must have %zu to %zu characters", lang, i, what, min, max);
    if (has_control(s, len))
        return fail(l, "%s[%zu]: %s must not hold control characters", lang, i, what);
    return 0;
}

typedef int entry_fn(struct load *l, const char *lang, size_t i, const json_t *entry);

/* Check the shape both files share, {"fi": [entry, ...], ...}, with at
 * most max entries a language, and hand each entry to fn. */
static int each_entry(struct load *l, const json_t *root, size_t max, entry_fn *fn)
{
    if (!json_is_object(root))
        return fail(l, "the top level must be an object of languages, as {\"fi\": [...]}");
    if (json_object_size(root) > LANGUAGES_MAX)
        return fail(l, "more than %d languages", LANGUAGES_MAX);
    const char *lang;
    const json_t *arr;
    json_object_foreach((json_t *)root, lang, arr)
    {
        if (!language_valid(lang))
            return fail(l, "\"%.16s\": a language is 2 or 3 lowercase letters (fi, sv, en)", lang);
        if (!json_is_array(arr))
            return fail(l, "%s: must be an array", lang);
        if (json_array_size(arr) > max)
            return fail(l, "%s: more than %zu entries", lang, max);
        size_t i;
        const json_t *entry;
        json_array_foreach(arr, i, entry) if (fn(l, lang, i, entry) < 0) return -1;
    }
    return 0;
}

static int crisis_entry(struct load *l, const char *lang, size_t i, const json_t *entry)
{
    static const char *const keys[] = {"name", "phone", "url", "note"};
    if (!json_is_object(entry))
        return fail(l, "%s[%zu]: an entry is an object with name, phone, url and note", lang, i);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)entry, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < ARRAY_LEN(keys); k++)
            known = known || strcmp(key, keys[k]) == 0;
        if (!known)
            return fail(l, "%s[%zu]: unknown key \"%.32s\" (name, phone, url, note)", lang, i, key);
        if (check_text(l, v, 1, SAFETY_STRING_MAX, lang, i, key) < 0)
            return -1;
        /* A link shown to someone in crisis must not be open to tampering
         * on the way, nor be a javascript: or data: URL. */
        const char *url = json_string_value(v);
        if (strcmp(key, "url") == 0 &&
            (strncmp(url, "https://", 8) != 0 || url[8] == '\0' || url[8] == '/'))
            return fail(l, "%s[%zu]: url must start with https:// and name a host", lang, i);
    }
    if (!json_object_get(entry, "name"))
        return fail(l, "%s[%zu]: name is required", lang, i);
    return 0;
}

static int risk_word(struct load *l, const char *lang, size_t i, const json_t *entry)
{
    if (check_text(l, entry, SAFETY_WORD_MIN, SAFETY_WORD_MAX, lang, i, "a word") < 0)
        return -1;
    struct safety *s = l->s;
    size_t len = json_string_length(entry);
    struct word *w = &s->words[s->nwords++];
    w->text = xmalloc(len + 1);
    w->len = fold(json_string_value(entry), len, w->text);
    w->text[w->len] = '\0';
    return 0;
}

/* Read and parse the file; NULL after fail(). */
static json_t *read_json(struct load *l)
{
    size_t len;
    char *text = util_read_file(l->path, FILE_MAX, &len);
    if (!text) {
        if (errno == EFBIG)
            fail(l, "larger than %d KiB", FILE_MAX / 1024);
        else
            fail(l, "cannot read: %s", strerror(errno));
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!root)
        fail(l, "line %d: %s", je.line, je.text);
    return root;
}

static int load_crisis(struct load *l)
{
    json_t *root = read_json(l);
    if (!root || each_entry(l, root, SAFETY_ENTRIES_MAX, crisis_entry) < 0) {
        json_decref(root);
        return -1;
    }
    /* Sorted keys: the same file gives the same text, whatever the order
     * jansson's hash table keeps. */
    size_t flags = JSON_COMPACT | JSON_SORT_KEYS, n = json_dumpb(root, NULL, 0, flags);
    l->s->crisis_json = xmalloc(n + 1);
    json_dumpb(root, l->s->crisis_json, n, flags);
    l->s->crisis_json[n] = '\0';
    json_decref(root);
    return 0;
}

static int load_words(struct load *l)
{
    json_t *root = read_json(l);
    if (!root)
        return -1;
    /* Room for every word the checks below can let through. */
    if (json_is_object(root) && json_object_size(root) <= LANGUAGES_MAX)
        l->s->words = xcalloc(json_object_size(root) * SAFETY_WORDS_MAX + 1, sizeof(struct word));
    int rc = each_entry(l, root, SAFETY_WORDS_MAX, risk_word);
    json_decref(root);
    return rc;
}

int safety_load(const char *crisis_file, const char *risk_words_file, struct safety **out,
                char *err, size_t errlen)
{
    struct safety *s = xcalloc(1, sizeof(*s));
    struct load l = {.s = s, .err = err, .errlen = errlen};
    *out = NULL;
    if (crisis_file && *crisis_file) {
        l.key = "crisis_file";
        l.path = crisis_file;
        if (load_crisis(&l) < 0)
            goto fail;
    } else {
        s->crisis_json = xstrdup("{}");
    }
    if (risk_words_file && *risk_words_file) {
        l.key = "risk_words_file";
        l.path = risk_words_file;
        if (load_words(&l) < 0)
            goto fail;
    }
    *out = s;
    return 0;
fail:
    safety_free(s);
    return -1;
}

void safety_free(struct safety *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nwords; i++)
        free(s->words[i].text);
    free(s->words);
    free(s->crisis_json);
    free(s);
}

const char *safety_crisis_json(const struct safety *s)
{
    return s ? s->crisis_json : "{}";
}

bool safety_risky(const struct safety *s, const char *text, size_t len)
{
    if (!s || s->nwords == 0 || len == 0)
        return false;
    char stack[FOLD_STACK];
    char *buf = len <= sizeof(stack) ? stack : xmalloc(len);
    size_t n = fold(text, len, buf);
    bool hit = false;
    for (size_t i = 0; i < s->nwords && !hit; i++)
        hit = memmem(buf, n, s->words[i].text, s->words[i].len) != NULL;
    /* The folded copy is message text: it goes as the original will. */
    wipe(buf, n);
    if (buf != stack)
        free(buf);
    return hit;
}
