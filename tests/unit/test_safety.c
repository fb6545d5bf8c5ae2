/* safety: the [safety] files checked entry by entry, the crisis object as
 * compact sorted JSON, and risk words matched with Latin case folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "safety.h"
#include "util.h"

static char dir[] = "/tmp/kamrat-test-safety-XXXXXX";

/* Write text to dir/name and return the path (static buffer per slot). */
static const char *file(int slot, const char *name, const char *text)
{
    static char paths[2][128];
    snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", dir, name);
    FILE *f = fopen(paths[slot], "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return paths[slot];
}

static struct safety *load_ok(const char *crisis, const char *words)
{
    char err[256] = "";
    struct safety *s = NULL;
    const char *cp = crisis ? file(0, "crisis.json", crisis) : NULL;
    const char *wp = words ? file(1, "words.json", words) : NULL;
    if (safety_load(cp, wp, &s, err, sizeof(err)) != 0)
        fail_msg("safety_load: %s", err);
    assert_non_null(s);
    return s;
}

/* Loading must fail with an error that holds key, the path and words. */
static void expect_error(const char *key, const char *text, const char *words)
{
    char err[256] = "";
    struct safety *s = (struct safety *)&err; /* must become NULL */
    bool crisis = strcmp(key, "crisis_file") == 0;
    const char *path = file(0, crisis ? "bad-crisis.json" : "bad-words.json", text);
    int rc = crisis ? safety_load(path, NULL, &s, err, sizeof(err))
                    : safety_load(NULL, path, &s, err, sizeof(err));
    if (rc != -1)
        fail_msg("%s loaded: %.60s", key, text);
    assert_null(s);
    char want[192];
    snprintf(want, sizeof(want), "%s %s: %s", key, path, words);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

/* head, then count items before + "aa", "ab", ... + after, comma-separated,
 * then tail, into buf: a file one entry, word or language over a limit. */
static void many(char *buf, size_t size, const char *head, int count, const char *before,
                 const char *after, const char *tail)
{
    size_t n = (size_t)snprintf(buf, size, "%s", head);
    for (int i = 0; i < count && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s%c%c%s", i ? "," : "", before, 'a' + i / 26,
                              'a' + i % 26, after);
    assert_true(n < size && (size_t)snprintf(buf + n, size - n, "%s", tail) < size - n);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void nothing_configured_is_empty(void **state)
{
    (void)state;
    assert_string_equal(safety_crisis_json(NULL), "{}");
    assert_false(safety_risky(NULL, "kuolla", 6));
    safety_free(NULL);

    char err[64];
    struct safety *s;
    assert_int_equal(safety_load(NULL, "", &s, err, sizeof(err)), 0);
    assert_string_equal(safety_crisis_json(s), "{}");
    assert_false(safety_risky(s, "anything at all", 15));
    safety_free(s);

    s = load_ok("{}", "{\"fi\": []}");
    assert_string_equal(safety_crisis_json(s), "{}");
    assert_false(safety_risky(s, "anything at all", 15));
    safety_free(s);
}

static void crisis_file_becomes_compact_sorted_json(void **state)
{
    (void)state;
    struct safety *s =
        load_ok("{\n"
                "  \"sv\": [{\"name\": \"Nödnummer\", \"phone\": \"112\"}],\n"
                "  \"fi\": [\n"
                "    {\"url\": \"https://mieli.fi\", \"name\": \"MIELI \\\"Kriisi\\\"\",\n"
                "     \"phone\": \"09 2525 0111\", \"note\": \"24/7\"},\n"
                "    {\"name\": \"Hätänumero\", \"phone\": \"112\"}\n"
                "  ],\n"
                "  \"ar\": []\n"
                "}\n",
                NULL);
    assert_string_equal(safety_crisis_json(s),
                        "{\"ar\":[],\"fi\":[{\"name\":\"MIELI \\\"Kriisi\\\"\",\"note\":\"24/7\","
                        "\"phone\":\"09 2525 0111\",\"url\":\"https://mieli.fi\"},"
                        "{\"name\":\"Hätänumero\",\"phone\":\"112\"}],"
                        "\"sv\":[{\"name\":\"Nödnummer\",\"phone\":\"112\"}]}");
    safety_free(s);
}

/* 201 characters: one over SAFETY_STRING_MAX. */
#define X10 "xxxxxxxxxx"
#define X50 X10 X10 X10 X10 X10
#define X201 X50 X50 X50 X50 "x"

/* A file's text and what the error says after "<key> <path>: ". */
struct bad_file {
    const char *key;
    const char *text;
    const char *words;
};

static const struct bad_file bad_files[] = {
    {"crisis_file", "{\"fi\": [", "line 1: "},
    {"crisis_file", "[]", "the top level must be an object"},
    {"crisis_file", "{\"fi\": [], \"fi\": []}", "line 1: duplicate object key"},
    {"crisis_file", "{\"FI\": []}", "\"FI\": a language is 2 or 3 lowercase letters"},
    {"crisis_file", "{\"fi-x\": []}", "\"fi-x\": a language is 2 or 3 lowercase"},
    {"crisis_file", "{\"f\": []}", "\"f\": a language is 2 or 3 lowercase letters"},
    {"crisis_file", "{\"fi\": {\"name\": \"x\"}}", "fi: must be an array"},
    {"crisis_file", "{\"fi\": [\"112\"]}", "fi[0]: an entry is an object"},
    {"crisis_file", "{\"fi\": [{\"phone\": \"112\"}]}", "fi[0]: name is required"},
    {"crisis_file", "{\"fi\": [{\"name\": 112}]}", "fi[0]: name must be a string"},
    {"crisis_file", "{\"fi\": [{\"name\": \"\"}]}", "fi[0]: name must have 1 to 200 characters"},
    {"crisis_file", "{\"fi\": [{\"name\": \"" X201 "\"}]}",
     "fi[0]: name must have 1 to 200 characters"},
    {"crisis_file", "{\"fi\": [{\"name\": \"a\", \"note\": \"two\\nlines\"}]}",
     "fi[0]: note must not hold control characters"},
    {"crisis_file", "{\"fi\": [{\"name\": \"a\", \"note\": \"c1 \\u0085\"}]}",
     "fi[0]: note must not hold control characters"},
    {"crisis_file", "{\"en\": [{\"name\": \"a\", \"email\": \"a@b\"}]}",
     "en[0]: unknown key \"email\""},
    {"crisis_file",
     "{\"fi\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\", \"url\": "
     "\"http://mieli.fi\"}]}",
     "fi[2]: url must start with https://"},
    {"crisis_file", "{\"fi\": [{\"name\": \"a\", \"url\": \"https://\"}]}",
     "fi[0]: url must start with https:// and name a host"},
    {"crisis_file", "{\"fi\": [{\"name\": \"a\", \"url\": \"javascript:alert(1)\"}]}",
     "fi[0]: url must start with https://"},
    {"risk_words_file", "[\"kuolla\"]", "the top level must be an object"},
    {"risk_words_file", "{\"fi\": \"kuolla\"}", "fi: must be an array"},
    {"risk_words_file", "{\"fi\": [\"kuolla\", 3]}", "fi[1]: a word must be a string"},
    {"risk_words_file", "{\"sv\": [\"x\"]}", "sv[0]: a word must have 2 to 40 characters"},
    {"risk_words_file", "{\"sv\": [\"ääääääääääääääääääääääääääääääääääääääääö\"]}",
     "sv[0]: a word must have 2 to 40 characters"},
    {"risk_words_file", "{\"en\": [\"end\\tit\"]}",
     "en[0]: a word must not hold control characters"},
};

static void every_kind_of_bad_file(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad_files); i++)
        expect_error(bad_files[i].key, bad_files[i].text, bad_files[i].words);

    char err[256];
    struct safety *s;
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/absent.json", dir);
    assert_int_equal(safety_load(missing, NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "crisis_file "));
    assert_non_null(strstr(err, "absent.json: cannot read: No such file or directory"));

    /* Too large to read: the file is refused before it is parsed. */
    char *huge = xmalloc(300 * 1024);
    memset(huge, ' ', 300 * 1024 - 1);
    huge[300 * 1024 - 1] = '\0';
    expect_error("crisis_file", huge, "larger than 256 KiB");
    free(huge);

    /* A good crisis file does not save a bad words file. */
    const char *crisis = file(0, "crisis.json", "{\"fi\": [{\"name\": \"112\"}]}");
    const char *words = file(1, "words.json", "{\"fi\": [\"a\"]}");
    assert_int_equal(safety_load(crisis, words, &s, err, sizeof(err)), -1);
    assert_null(s);
    assert_non_null(strstr(err, "risk_words_file "));
}

/* Each count limit holds exactly: at the limit loads, one over does not. */
static void limits_are_exact(void **state)
{
    (void)state;
    char text[16384];
    many(text, sizeof(text), "{\"fi\": [", SAFETY_ENTRIES_MAX, "{\"name\": \"", "\"}", "]}");
    safety_free(load_ok(text, NULL));
    many(text, sizeof(text), "{\"fi\": [", SAFETY_ENTRIES_MAX + 1, "{\"name\": \"", "\"}", "]}");
    expect_error("crisis_file", text, "fi: more than 10 entries");
    many(text, sizeof(text), "{", 16, "\"", "\": []", "}");
    safety_free(load_ok(text, NULL));
    many(text, sizeof(text), "{", 17, "\"", "\": []", "}");
    expect_error("crisis_file", text, "more than 16 languages");
    many(text, sizeof(text), "{\"fi\": [", SAFETY_WORDS_MAX, "\"", "\"", "]}");
    safety_free(load_ok(NULL, text));
    many(text, sizeof(text), "{\"fi\": [", SAFETY_WORDS_MAX + 1, "\"", "\"", "]}");
    expect_error("risk_words_file", text, "fi: more than 200 entries");
}

static bool risky(const struct safety *s, const char *text)
{
    return safety_risky(s, text, strlen(text));
}

static void risk_words_match_folded_substrings(void **state)
{
    (void)state;
    struct safety *s = load_ok(NULL, "{\"fi\": [\"kuolla\", \"Päättää kaiken\", \"ŽIVOT\"],"
                                     " \"sv\": [\"självmord\", \"ta livet av mig\"],"
                                     " \"en\": [\"end it\", \"İstanbul\", \"ſtop\"]}");
    assert_string_equal(safety_crisis_json(s), "{}");
    assert_true(risky(s, "Joskus haluaisin KUOLLA pois."));
    assert_true(risky(s, "haluan päättää kaiken"));
    assert_true(risky(s, "HALUAN PÄÄTTÄÄ KAIKEN"));
    assert_true(risky(s, "Tänkte på SJÄLVMORD igår"));
    assert_true(risky(s, "I want to End It now"));
    assert_true(risky(s, "celý život")); /* Ž folded at load, ž in the text */
    assert_true(risky(s, "CELÝ ŽIVOT")); /* and both folded */
    assert_true(risky(s, "stop that"));  /* ſ folds to s */
    assert_true(risky(s, "İstanbul"));   /* İ has no simple folding: only itself */
    assert_false(risky(s, "istanbul"));
    assert_false(risky(s, "Kiitos, hyvä ryhmä tänään."));
    assert_false(risky(s, "Paattaa kaiken")); /* a and ä are different letters */
    assert_false(risky(s, "end\nit"));        /* a word split across lines */
    assert_false(risky(s, "en dit"));
    assert_false(safety_risky(s, "kuolla", 5)); /* only len bytes are read */
    assert_false(safety_risky(s, "", 0));

    /* Longer than the stack buffer: the word at the very end still counts. */
    size_t len = 5000;
    char *text = xmalloc(len + 1);
    memset(text, 'a', len);
    memcpy(text + len - 6, "KUOLLA", 6);
    text[len] = '\0';
    assert_true(risky(s, text));
    text[len - 1] = 'x';
    assert_false(risky(s, text));
    free(text);
    safety_free(s);
}

/* Every Latin-1 and Latin Extended-A capital matches its small letter. */
static void latin_capitals_fold_to_small_letters(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏ", "àáâãäåæçèéêëìíîï"},
        {"ÐÑÒÓÔÕÖØÙÚÛÜÝÞ", "ðñòóôõöøùúûüýþ"},
        {"ĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞ", "āăąćĉċčďđēĕėęěĝğ"},
        {"ĠĢĤĦĨĪĬĮĲĴĶ", "ġģĥħĩīĭįĳĵķ"},
        {"ĹĻĽĿŁŃŅŇ", "ĺļľŀłńņň"},
        {"ŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨ", "ŋōŏőœŕŗřśŝşšţťŧũ"},
        {"ŪŬŮŰŲŴŶŸŹŻŽ", "ūŭůűųŵŷÿźżž"},
    };
    for (size_t i = 0; i < ARRAY_LEN(pairs); i++) {
        char words[256];
        snprintf(words, sizeof(words), "{\"xx\": [\"%s\"]}", pairs[i][1]);
        struct safety *s = load_ok(NULL, words);
        if (!risky(s, pairs[i][0]))
            fail_msg("%s does not fold to %s", pairs[i][0], pairs[i][1]);
        safety_free(s);
    }
    /* × and ÷ are not letters; ß and ı have no capital in these blocks. */
    struct safety *s = load_ok(NULL, "{\"xx\": [\"÷ß\", \"ıx\"]}");
    assert_false(risky(s, "×ß"));
    assert_true(risky(s, "÷ß"));
    assert_false(risky(s, "IX"));
    safety_free(s);
}

/* The example files the repository ships (and scripts/demo.sh uses) pass
 * the same checks as any installation's files. */
static void shipped_examples_load(void **state)
{
    (void)state;
    const char *root = getenv("KAMRAT_ROOT");
    char crisis[512], words[512], err[256];
    snprintf(crisis, sizeof(crisis), "%s/safety/crisis.example.json", root ? root : ".");
    snprintf(words, sizeof(words), "%s/safety/risk-words.example.json", root ? root : ".");
    struct safety *s;
    if (safety_load(crisis, words, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    const char *json = safety_crisis_json(s);
    assert_non_null(strstr(json, "\"fi\":[{\"name\":\"Hätänumero\""));
    assert_non_null(strstr(json, "\"url\":\"https://mieli.fi\""));
    assert_true(risky(s, "Mietin ITSEMURHAA"));
    assert_true(risky(s, "jag vill dö"));
    assert_false(risky(s, "Kiitos kaikille tästä illasta"));
    safety_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_configured_is_empty),
        cmocka_unit_test(crisis_file_becomes_compact_sorted_json),
        cmocka_unit_test(every_kind_of_bad_file),
        cmocka_unit_test(limits_are_exact),
        cmocka_unit_test(risk_words_match_folded_substrings),
        cmocka_unit_test(latin_capitals_fold_to_small_letters),
        cmocka_unit_test(shipped_examples_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
