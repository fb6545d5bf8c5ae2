/* proto: the decoder against protocol/examples/requests.json, the encoders
 * against jansson, and the error enum against protocol/README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto.h"
#include "util.h"

static const struct proto_limits limits = {16384, 4000, 40};

static char *root_path(const char *rel)
{
    const char *root = getenv("KAMRAT_ROOT");
    char *p = xmalloc(4096);
    snprintf(p, 4096, "%s/%s", root ? root : ".", rel);
    return p;
}

static json_t *load_examples(void)
{
    char *path = root_path("protocol/examples/requests.json");
    json_error_t err;
    json_t *j = json_load_file(path, JSON_ALLOW_NUL, &err); /* frames may hold NUL */
    if (!j)
        fail_msg("%s: %s", path, err.text);
    free(path);
    return j;
}

static void valid_examples_decode(void **state)
{
    (void)state;
    json_t *ex = load_examples();
    json_t *valid = json_object_get(ex, "valid"), *v;
    size_t i;
    assert_true(json_array_size(valid) > 0);
    json_array_foreach(valid, i, v)
    {
        json_t *fj = json_object_get(v, "frame");
        struct proto_cmd cmd;
        enum proto_err e =
            proto_decode(json_string_value(fj), json_string_length(fj), &limits, &cmd);
        if (e != PROTO_OK)
            fail_msg("valid example '%s' rejected with %s (field %s)",
                     json_string_value(json_object_get(v, "name")), proto_strerror(e),
                     cmd.field ? cmd.field : "-");
        proto_cmd_clear(&cmd);
    }
    json_decref(ex);
}

static void invalid_examples_get_their_code(void **state)
{
    (void)state;
    json_t *ex = load_examples();
    json_t *invalid = json_object_get(ex, "invalid"), *v;
    size_t i;
    assert_true(json_array_size(invalid) >= 60);
    int wrong = 0;
    json_array_foreach(invalid, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        json_t *fj = json_object_get(v, "frame");
        const char *code = json_string_value(json_object_get(v, "code"));
        const char *field = json_string_value(json_object_get(v, "field"));
        struct proto_cmd cmd;
        enum proto_err e =
            proto_decode(json_string_value(fj), json_string_length(fj), &limits, &cmd);
        if (strcmp(proto_strerror(e), code) != 0) {
            print_error("invalid example '%s': got %s, want %s\n", name, proto_strerror(e), code);
            wrong++;
        } else if (field && (!cmd.field || strcmp(cmd.field, field) != 0)) {
            print_error("invalid example '%s': field %s, want %s\n", name,
                        cmd.field ? cmd.field : "(none)", field);
            wrong++;
        }
        proto_cmd_clear(&cmd);
    }
    json_decref(ex);
    assert_int_equal(wrong, 0);
}

static void oversize_is_too_big_before_parsing(void **state)
{
    (void)state;
    struct proto_limits small = {1024, 4000, 40};
    char buf[1025];
    memset(buf, '[', sizeof(buf)); /* would be too_deep if it were parsed */
    struct proto_cmd cmd;
    assert_int_equal(proto_decode(buf, sizeof(buf), &small, &cmd), PROTO_E_TOO_BIG);
    proto_cmd_clear(&cmd);
}

static void say_fields_are_decoded(void **state)
{
    (void)state;
    const char *f = "{\"type\":\"say\",\"id\":\"m-1\",\"text\":\"hej\\nvärlden\"}";
    struct proto_cmd cmd;
    assert_int_equal(proto_decode(f, strlen(f), &limits, &cmd), PROTO_OK);
    assert_int_equal(cmd.type, PROTO_SAY);
    assert_string_equal(cmd.id, "m-1");
    assert_int_equal(cmd.u.say.text_len, strlen("hej\nvärlden"));
    assert_memory_equal(cmd.u.say.text, "hej\nvärlden", cmd.u.say.text_len);
    proto_cmd_clear(&cmd);
}

static void resume_fields_are_decoded(void **state)
{
    (void)state;
    const char *f =
        "{\"type\":\"resume\",\"token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_\","
        "\"epoch\":\"00ff00ff00ff00ff\",\"after_seq\":9007199254740991}";
    struct proto_cmd cmd;
    assert_int_equal(proto_decode(f, strlen(f), &limits, &cmd), PROTO_OK);
    assert_int_equal(cmd.type, PROTO_RESUME);
    assert_true(cmd.u.resume.epoch == 0x00ff00ff00ff00ffull);
    assert_true(cmd.u.resume.after_seq == PROTO_SEQ_MAX);
    assert_string_equal(cmd.id, "");
    proto_cmd_clear(&cmd);
}

static json_t *frame_json(struct frame *f)
{
    json_error_t err;
    json_t *j = json_loadb((const char *)frame_payload(f), f->len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("encoded frame is not JSON: %s: %.*s", err.text, (int)f->len,
                 (const char *)frame_payload(f));
    frame_unref(f);
    return j;
}

static void message_encoding_round_trips(void **state)
{
    (void)state;
    const char text[] = "quote \" backslash \\ tab \t nl \n bell \x07 ä 👋";
    json_t *j = frame_json(proto_encode_message(7, 3, "Åsa", text, sizeof(text) - 1, 1234));
    assert_string_equal(json_string_value(json_object_get(j, "type")), "message");
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 7);
    assert_int_equal(json_integer_value(json_object_get(j, "member")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Åsa");
    assert_string_equal(json_string_value(json_object_get(j, "text")), text);
    assert_int_equal(json_integer_value(json_object_get(j, "ts")), 1234);
    json_decref(j);
}

static void error_and_ack_encoding(void **state)
{
    (void)state;
    json_t *j = frame_json(proto_encode_error(PROTO_E_RATE_LIMITED, "m1",
                                              &(struct proto_error_detail){NULL, NULL, 250, -1}));
    assert_string_equal(json_string_value(json_object_get(j, "code")), "rate_limited");
    assert_string_equal(json_string_value(json_object_get(j, "ref")), "m1");
    assert_int_equal(json_integer_value(json_object_get(j, "retry_after_ms")), 250);
    assert_null(json_object_get(j, "field"));
    json_decref(j);

    j = frame_json(proto_encode_error(PROTO_E_BAD_JSON, NULL, NULL));
    assert_true(json_is_null(json_object_get(j, "ref")));
    assert_null(json_object_get(j, "retry_after_ms"));
    json_decref(j);

    j = frame_json(proto_encode_ack("x", 0, false));
    assert_null(json_object_get(j, "seq"));
    assert_null(json_object_get(j, "duplicate"));
    json_decref(j);

    j = frame_json(proto_encode_ack("x", 5, true));
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 5);
    assert_true(json_is_true(json_object_get(j, "duplicate")));
    json_decref(j);
}

static void welcome_encoding(void **state)
{
    (void)state;
    struct proto_member members[] = {{1, "A", PROTO_ROLE_PARTICIPANT},
                                     {2, "B \"b\"", PROTO_ROLE_PARTICIPANT}};
    struct proto_welcome w = {
        .ref = NULL,
        .epoch = 0xabcdef0123456789ull,
        .token = "tok",
        .member = 2,
        .name = "B \"b\"",
        .room = "demo",
        .seq = 41,
        .members = members,
        .member_count = 2,
        .resumed = true,
        .gap = false,
        .limits = &limits,
        .rate_per_sec = 2,
        .rate_burst = 10,
    };
    json_t *j = frame_json(proto_encode_welcome(&w));
    assert_string_equal(json_string_value(json_object_get(j, "epoch")), "abcdef0123456789");
    assert_int_equal(json_array_size(json_object_get(j, "members")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "members"), 1), "name")),
                        "B \"b\"");
    assert_true(json_is_true(json_object_get(j, "resumed")));
    assert_true(json_is_false(json_object_get(j, "gap")));
    assert_true(json_is_null(json_object_get(j, "topic")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "limits"), "max_text_chars")), 4000);
    json_decref(j);
}

/* Every code in the README's error table is an enum value and vice versa. */
static void error_codes_match_the_readme(void **state)
{
    (void)state;
    char *path = root_path("protocol/README.md");
    size_t len;
    char *doc = util_read_file(path, 1 << 20, &len);
    assert_non_null(doc);
    const char *table = strstr(doc, "## 6. Error codes");
    assert_non_null(table);
    const char *end = strstr(table, "\n## 7.");
    assert_non_null(end);

    int documented = 0;
    for (const char *p = table; p && p < end; p = strchr(p + 1, '\n')) {
        char code[64];
        if (sscanf(p, "\n| `%63[a-z0-9_]` |", code) != 1)
            continue;
        documented++;
        int found = 0;
        for (int e = PROTO_E_BAD_JSON; e < PROTO_E_COUNT; e++)
            found |= strcmp(proto_strerror((enum proto_err)e), code) == 0;
        if (!found)
            fail_msg("README documents %s, which the server does not have", code);
    }
    for (int e = PROTO_E_BAD_JSON; e < PROTO_E_COUNT; e++) {
        char needle[80];
        snprintf(needle, sizeof(needle), "\n| `%s` |", proto_strerror((enum proto_err)e));
        const char *at = strstr(table, needle);
        if (!at || at > end)
            fail_msg("%s is not documented in protocol/README.md §6", proto_strerror(e));
    }
    assert_int_equal(documented, PROTO_E_COUNT - 1);
    free(doc);
    free(path);
}

static void utf8_count(void **state)
{
    (void)state;
    assert_int_equal(proto_utf8_count("aä👋", strlen("aä👋")), 3);
    assert_int_equal(proto_utf8_count("", 0), 0);
}

static void utf8_validation(void **state)
{
    (void)state;
    static const char *good[] = {"",
                                 "a",
                                 "\xc3\xa4",
                                 "\xe2\x82\xac",
                                 "\xf0\x9f\x91\x8b",
                                 "\xef\xbf\xbf",
                                 "\xf4\x8f\xbf\xbf"};
    static const char *bad[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\x80",             /* stray continuation */
        "\xe2\x82",         /* truncated */
        "\xfe",
        "\xff",  /* never valid */
        "a\xc3", /* truncated at the end */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(proto_utf8_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (proto_utf8_valid(bad[i], strlen(bad[i])))
            fail_msg("bad UTF-8 vector %zu accepted", i);
    }
}

int main(void)
{
    proto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_examples_decode),
        cmocka_unit_test(invalid_examples_get_their_code),
        cmocka_unit_test(oversize_is_too_big_before_parsing),
        cmocka_unit_test(say_fields_are_decoded),
        cmocka_unit_test(resume_fields_are_decoded),
        cmocka_unit_test(message_encoding_round_trips),
        cmocka_unit_test(error_and_ack_encoding),
        cmocka_unit_test(welcome_encoding),
        cmocka_unit_test(error_codes_match_the_readme),
        cmocka_unit_test(utf8_count),
        cmocka_unit_test(utf8_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
