/* proto: the decoder against protocol/examples/requests.json, the encoders
 * against jansson and protocol/examples/server (whose examples
 * tests/protocol checks against the JSON Schemas), and the error enum
 * against protocol/README.md. */
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

/* Decode a frame that must be accepted; the caller clears cmd. */
static void decode_ok(const char *f, struct proto_cmd *cmd)
{
    enum proto_err e = proto_decode(f, strlen(f), &limits, cmd);
    if (e != PROTO_OK)
        fail_msg("%s: %s (field %s)", f, proto_strerror(e), cmd->field ? cmd->field : "-");
}

static void decode_fails(const char *f, enum proto_err want, const char *field)
{
    struct proto_cmd cmd;
    enum proto_err e = proto_decode(f, strlen(f), &limits, &cmd);
    if (e != want || strcmp(cmd.field ? cmd.field : "-", field) != 0)
        fail_msg("%s: %s (field %s), want %s (%s)", f, proto_strerror(e),
                 cmd.field ? cmd.field : "-", proto_strerror(want), field);
    proto_cmd_clear(&cmd);
}

/* Each request's fields land in cmd.act, and nothing else does. */
static void moderation_fields_are_decoded(void **state)
{
    (void)state;
    static const struct {
        const char *frame;
        enum proto_type type;
        uint64_t member, seq, ban;
        uint32_t minutes, seconds;
        bool on, all;
    } cases[] = {
        {.frame = "{\"type\":\"mute\",\"id\":\"mu1\",\"member\":4294967295,\"minutes\":1440}",
         .type = PROTO_MUTE,
         .member = 4294967295u,
         .minutes = 1440},
        {.frame = "{\"type\":\"admit\",\"all\":true}", .type = PROTO_ADMIT, .all = true},
        {.frame = "{\"type\":\"deny\",\"member\":7}", .type = PROTO_DENY, .member = 7},
        {.frame = "{\"type\":\"unban\",\"ban\":9007199254740991}",
         .type = PROTO_UNBAN,
         .ban = PROTO_SEQ_MAX},
        {.frame = "{\"type\":\"report\",\"seq\":27}", .type = PROTO_REPORT, .seq = 27},
        {.frame = "{\"type\":\"delete\",\"seq\":1}", .type = PROTO_DELETE, .seq = 1},
        {.frame = "{\"type\":\"lock\",\"on\":false}", .type = PROTO_LOCK},
        {.frame = "{\"type\":\"pause\",\"on\":true}", .type = PROTO_PAUSE, .on = true},
        {.frame = "{\"type\":\"slow\",\"seconds\":3600}", .type = PROTO_SLOW, .seconds = 3600},
        {.frame = "{\"type\":\"hand\",\"up\":true,\"member\":4}",
         .type = PROTO_HAND,
         .member = 4,
         .on = true},
        {.frame = "{\"type\":\"leave\",\"safe\":true}", .type = PROTO_LEAVE, .on = true},
        {.frame = "{\"type\":\"not_ok\"}", .type = PROTO_NOT_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct proto_cmd cmd;
        decode_ok(cases[i].frame, &cmd);
        if (cmd.type != cases[i].type || cmd.act.member != cases[i].member ||
            cmd.act.seq != cases[i].seq || cmd.act.ban != cases[i].ban ||
            cmd.act.minutes != cases[i].minutes || cmd.act.seconds != cases[i].seconds ||
            cmd.act.on != cases[i].on || cmd.act.all != cases[i].all)
            fail_msg("%s: decoded to other values", cases[i].frame);
        proto_cmd_clear(&cmd);
    }
}

/* "" clears the topic: the text is there, and empty. */
static void topic_text_is_decoded(void **state)
{
    (void)state;
    struct proto_cmd cmd;
    decode_ok("{\"type\":\"topic\",\"text\":\"\"}", &cmd);
    assert_int_equal(cmd.type, PROTO_TOPIC);
    assert_non_null(cmd.act.text);
    assert_int_equal(cmd.act.text_len, 0);
    proto_cmd_clear(&cmd);

    decode_ok("{\"type\":\"topic\",\"text\":\"Sömn\\tstress\"}", &cmd);
    assert_int_equal(cmd.act.text_len, strlen("Sömn\tstress"));
    assert_memory_equal(cmd.act.text, "Sömn\tstress", cmd.act.text_len);
    proto_cmd_clear(&cmd);
}

static void say_to_and_hello_key_are_decoded(void **state)
{
    (void)state;
    struct proto_cmd cmd;
    decode_ok("{\"type\":\"say\",\"id\":\"p\",\"text\":\"hi\",\"to\":\"leaders\"}", &cmd);
    assert_true(cmd.u.say.to_leaders);
    assert_true(cmd.u.say.to == 0);
    proto_cmd_clear(&cmd);

    decode_ok("{\"type\":\"say\",\"id\":\"p\",\"text\":\"hi\",\"to\":7}", &cmd);
    assert_false(cmd.u.say.to_leaders);
    assert_int_equal(cmd.u.say.to, 7);
    proto_cmd_clear(&cmd);

    decode_ok("{\"type\":\"hello\",\"invite\":\"Xk3_pQ9-vT2mLw8aZr5cYb\",\"name\":\"Aino\","
              "\"key\":\"Pk4_Zt7-Hw2nQx9cVb6mLr1sJd8fGa3yE5uTiO0kXwA\"}",
              &cmd);
    assert_string_equal(cmd.u.hello.key, "Pk4_Zt7-Hw2nQx9cVb6mLr1sJd8fGa3yE5uTiO0kXwA");
    proto_cmd_clear(&cmd);

    decode_ok("{\"type\":\"hello\",\"room\":\"r\",\"name\":\"Aino\"}", &cmd);
    assert_string_equal(cmd.u.hello.key, "");
    proto_cmd_clear(&cmd);
}

static void round_start_defaults(void **state)
{
    (void)state;
    struct proto_cmd cmd;
    decode_ok("{\"type\":\"round_start\",\"kind\":\"check_out\"}", &cmd);
    assert_int_equal(cmd.type, PROTO_ROUND_START);
    assert_int_equal(cmd.act.kind, PROTO_ROUND_CHECK_OUT);
    assert_true(cmd.act.exclusive); /* exclusive unless said otherwise */
    assert_int_equal(cmd.act.order_len, 0);
    proto_cmd_clear(&cmd);

    decode_ok("{\"type\":\"round_start\",\"kind\":\"round\",\"order\":[5,2,4294967295],"
              "\"exclusive\":false}",
              &cmd);
    assert_int_equal(cmd.act.kind, PROTO_ROUND_PLAIN);
    assert_false(cmd.act.exclusive);
    assert_int_equal(cmd.act.order_len, 3);
    assert_int_equal(cmd.act.order[0], 5);
    assert_int_equal(cmd.act.order[1], 2);
    assert_true(cmd.act.order[2] == 4294967295u);
    proto_cmd_clear(&cmd);

    assert_string_equal(proto_round_kind_name(PROTO_ROUND_CHECK_IN), "check_in");
    assert_string_equal(proto_round_kind_name(PROTO_ROUND_PLAIN), "round");
}

/* A round_order of n ids, from..from+n-1, with `last` appended when non-zero. */
static char *order_frame(size_t n, uint32_t from, uint32_t last)
{
    size_t cap = 64 + (n + 1) * 12, len = 0;
    char *f = xmalloc(cap);
    len += (size_t)snprintf(f, cap, "{\"type\":\"round_order\",\"order\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(f + len, cap - len, "%s%u", i ? "," : "", from + (uint32_t)i);
    if (last)
        len += (size_t)snprintf(f + len, cap - len, ",%u", last);
    snprintf(f + len, cap - len, "]}");
    return f;
}

static void round_order_limits(void **state)
{
    (void)state;
    struct proto_cmd cmd;
    char *f = order_frame(PROTO_ORDER_MAX, 1, 0);
    decode_ok(f, &cmd);
    assert_int_equal(cmd.act.order_len, PROTO_ORDER_MAX);
    assert_int_equal(cmd.act.order[PROTO_ORDER_MAX - 1], PROTO_ORDER_MAX);
    proto_cmd_clear(&cmd);
    free(f);

    f = order_frame(PROTO_ORDER_MAX, 1, PROTO_ORDER_MAX + 1); /* one too many */
    decode_fails(f, PROTO_E_BAD_FIELD, "order");
    free(f);
    f = order_frame(PROTO_ORDER_MAX - 1, 1, 1); /* a repeat at the very end */
    decode_fails(f, PROTO_E_BAD_FIELD, "order");
    free(f);
    decode_fails("{\"type\":\"round_order\",\"order\":[4294967296]}", PROTO_E_BAD_FIELD, "order");
    decode_fails("{\"type\":\"round_order\",\"order\":[1,true]}", PROTO_E_BAD_FIELD, "order");
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
    json_t *j =
        frame_json(proto_encode_message(&(struct proto_message){.seq = 7,
                                                                .member = 3,
                                                                .name = "Åsa",
                                                                .text = text,
                                                                .text_len = sizeof(text) - 1,
                                                                .ts = 1234}));
    assert_string_equal(json_string_value(json_object_get(j, "type")), "message");
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 7);
    assert_int_equal(json_integer_value(json_object_get(j, "member")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Åsa");
    assert_string_equal(json_string_value(json_object_get(j, "text")), text);
    assert_int_equal(json_integer_value(json_object_get(j, "ts")), 1234);
    json_decref(j);
}

/* Numbers are written digit by digit (jw_u64): zero, every digit and the
 * largest a browser reads exactly (2^53 - 1). */
static void numbers_are_written_in_full(void **state)
{
    (void)state;
    struct frame *f = proto_encode_message(&(struct proto_message){.seq = 1234567890,
                                                                   .member = 0,
                                                                   .name = "A",
                                                                   .text = "x",
                                                                   .text_len = 1,
                                                                   .ts = 9007199254740991});
    const char *want = "{\"type\":\"message\",\"seq\":1234567890,\"member\":0,\"name\":\"A\","
                       "\"text\":\"x\",\"ts\":9007199254740991}";
    assert_int_equal(f->len, strlen(want));
    assert_memory_equal(frame_payload(f), want, f->len);
    frame_unref(f);
}

/* The message of the example called name in protocol/examples/server/<type>.json. */
static json_t *server_example(const char *type, const char *name)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "protocol/examples/server/%s.json", type);
    char *path = root_path(rel);
    json_error_t err;
    json_t *all = json_load_file(path, 0, &err), *e, *found = NULL;
    if (!all)
        fail_msg("%s: %s", path, err.text);
    free(path);
    size_t i;
    json_array_foreach(all, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            found = json_incref(json_object_get(e, "message"));
    }
    json_decref(all);
    if (!found)
        fail_msg("no example '%s' in %s", name, rel);
    return found;
}

/* The encoded frame is, field for field, the named server example. */
static void assert_example(struct frame *f, const char *type, const char *name)
{
    json_t *got = frame_json(f), *want = server_example(type, name);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
        fail_msg("%s '%s':\n got  %s\n want %s", type, name, g, w);
    }
    json_decref(got);
    json_decref(want);
}

static void room_role_and_hands_events(void **state)
{
    (void)state;
    struct proto_room_flags fl = {.locked = true};
    assert_example(proto_encode_room(12, &fl, 1, 1764072300000), "room",
                   "a leader locked the room");
    fl = (struct proto_room_flags){.slow_mode = 30, .topic = "Uni ja stressi"};
    assert_example(proto_encode_room(13, &fl, 5, 1764072310000), "room",
                   "slow mode and a topic, by a co-leader");
    fl = (struct proto_room_flags){.read_only = true};
    assert_example(proto_encode_room(40, &fl, 0, 1764072900000), "room",
                   "read-only: no leader is connected (by the server)");

    assert_example(proto_encode_role(20, 5, PROTO_ROLE_CO_LEADER, 1, 1764072400000), "role",
                   "promoted to co-leader");
    assert_example(proto_encode_role(31, 5, PROTO_ROLE_PARTICIPANT, 1, 1764073000000), "role",
                   "demoted to participant");

    static const uint32_t hands[] = {4, 2};
    assert_example(proto_encode_hands(21, hands, 2, 1764072410000), "hands",
                   "two hands raised, in order of raising");
    assert_example(proto_encode_hands(22, NULL, 0, 1764072420000), "hands", "every hand down");
}

static void round_events(void **state)
{
    (void)state;
    static const uint32_t q[] = {4, 6}, two[] = {2}, four[] = {4}, done[] = {2, 6};
    struct proto_round r = {
        .kind = PROTO_ROUND_CHECK_IN, .speaker = 2, .queue = q, .queue_len = 2, .exclusive = true};
    assert_example(proto_encode_round(23, &r, 1764072430000), "round", "a check-in starts");
    r = (struct proto_round){.kind = PROTO_ROUND_PLAIN,
                             .speaker = 6,
                             .done = two,
                             .done_len = 1,
                             .passed = four,
                             .passed_len = 1};
    assert_example(proto_encode_round(25, &r, 1764072500000), "round",
                   "a round that is not exclusive, half way");
    r = (struct proto_round){.kind = PROTO_ROUND_CHECK_OUT,
                             .done = done,
                             .done_len = 2,
                             .passed = four,
                             .passed_len = 1,
                             .exclusive = true};
    assert_example(proto_encode_round(27, &r, 1764077000000), "round",
                   "a check-out whose last speaker is done");
    assert_example(proto_encode_round(28, NULL, 1764077010000), "round", "the round ended");
}

static void deleted_mute_and_alert_events(void **state)
{
    (void)state;
    assert_example(proto_encode_deleted(30, 27, 1, 1764072600000), "deleted",
                   "a leader deleted a message");

    assert_example(proto_encode_mute(34, 4, true, 1764073200000, 1, 1764072600000), "mute",
                   "muted for ten minutes");
    assert_example(proto_encode_mute(35, 6, true, 0, 5, 1764072610000), "mute",
                   "muted until unmuted");
    /* An unmute has no end time, whatever the caller still held. */
    assert_example(proto_encode_mute(52, 4, false, 1764073200000, 0, 1764073200000), "mute",
                   "the timeout ran out (by the server)");

    assert_example(proto_encode_alert(37, "not_ok", 4, "Aino", 0, 1764072710000), "alert",
                   "I'm not OK");
    assert_example(proto_encode_alert(38, "report", 6, "Миша", 27, 1764072720000), "alert",
                   "a report of a message");
    assert_example(proto_encode_notice(45, "crisis", 1764072730000), "notice",
                   "show the crisis resources");
}

static void lobby_and_bans(void **state)
{
    (void)state;
    static const struct proto_waiting w[] = {
        {.member = 7, .name = "Noah", .knocked = true, .agreed = true},
        {.member = 8, .name = "محمد"},
    };
    assert_example(proto_encode_lobby(43, w, 2, 1764072800000), "lobby",
                   "two waiting, one knocking after a remove");
    assert_example(proto_encode_lobby(44, NULL, 0, 1764072810000), "lobby", "nobody waits");

    static const struct proto_ban b[] = {
        {.id = 4, .name = "Noah", .created_at = 1764072900000, .by = "leader:helena"},
        {.id = 3, .name = "Troll 🐸", .created_at = 1763468100000, .by = "leader:maria"},
    };
    assert_example(proto_encode_bans("b1", b, 2), "bans", "two bans, newest first");
    assert_example(proto_encode_bans(NULL, NULL, 0), "bans", "no bans, without id");

    assert_example(proto_encode_ack_ban("x1", 50, 4), "ack", "ban: the ban's id");
    assert_example(
        proto_encode_ack_ban("x2", 51, 0), "ack",
        "ban of someone with neither a personal invite nor a key: null, works as remove");
}

static void messages_and_presence(void **state)
{
    (void)state;
    assert_example(proto_encode_message(&(struct proto_message){
                       .seq = 27, .member = 4, .name = "Aino", .ts = 1764072500000}),
                   "message", "a tombstone: the message was deleted");
    const char *t = "Aino seems upset, can you write to her?";
    assert_example(proto_encode_message(&(struct proto_message){.seq = 46,
                                                                .member = 5,
                                                                .name = "Миша",
                                                                .text = t,
                                                                .text_len = strlen(t),
                                                                .ts = 1764072820000,
                                                                .scope = PROTO_SCOPE_LEADERS,
                                                                .with = 9}),
                   "message", "back-channel between the leaders");
    t = "Tack för det du sa.";
    assert_example(proto_encode_message(&(struct proto_message){.seq = 49,
                                                                .member = 2,
                                                                .name = "Åsa",
                                                                .text = t,
                                                                .text_len = strlen(t),
                                                                .ts = 1764072850000,
                                                                .scope = PROTO_SCOPE_DIRECT,
                                                                .with = 6}),
                   "message", "between two participants");
    assert_example(proto_encode_message(&(struct proto_message){.seq = 47,
                                                                .member = 4,
                                                                .name = "Aino",
                                                                .ts = 1764072830000,
                                                                .scope = PROTO_SCOPE_PRIVATE,
                                                                .with = 4}),
                   "message", "a deleted private message");

    assert_example(
        proto_encode_presence(1, 1, "Aino", PROTO_ROLE_PARTICIPANT, true, NULL, 1764071990000),
        "presence", "joined");
    assert_example(proto_encode_presence(51, 7, "Noah", PROTO_ROLE_PARTICIPANT, false, "removed",
                                         1764072900000),
                   "presence", "left: removed or banned by a leader");
    assert_example(
        proto_encode_presence(53, 5, "Миша", PROTO_ROLE_CO_LEADER, false, NULL, 1764072970000),
        "presence", "a co-leader left");
}

/* Deleting a message re-encodes its frame without the text. */
static void tombstone_of_a_message_frame(void **state)
{
    (void)state;
    const char *t = "Voinko puhua jonkun kanssa kahden kesken?";
    struct frame *f = proto_encode_message(&(struct proto_message){.seq = 47,
                                                                   .member = 4,
                                                                   .name = "Aino",
                                                                   .text = t,
                                                                   .text_len = strlen(t),
                                                                   .ts = 1764072830000,
                                                                   .scope = PROTO_SCOPE_PRIVATE,
                                                                   .with = 4});
    struct frame *tomb = proto_encode_tombstone(f);
    assert_non_null(tomb);
    assert_null(proto_encode_tombstone(tomb)); /* deleted once is enough */
    frame_unref(f);
    assert_example(tomb, "message", "a deleted private message");

    f = proto_encode_state(2, PROTO_STATE_OPEN, 1);
    assert_null(proto_encode_tombstone(f));
    frame_unref(f);
}

static void moderation_errors(void **state)
{
    (void)state;
    assert_example(proto_encode_error(PROTO_E_MUTED, "m20",
                                      &(struct proto_error_detail){.until = 1764073200000}),
                   "error", "muted for a while");
    assert_example(proto_encode_error(PROTO_E_MUTED, "m21", NULL), "error",
                   "muted until unmuted: until null");
    assert_example(proto_encode_error(PROTO_E_SLOW_MODE, "m24",
                                      &(struct proto_error_detail){.retry_after_ms = 12500}),
                   "error", "slow_mode with retry_after_ms");
    assert_example(proto_encode_error(PROTO_E_NOT_FOUND, "mu2", NULL), "error",
                   "not_found: the member is not in the room");
    assert_example(proto_encode_error(PROTO_E_WRONG_STATE, "rp1", NULL), "error",
                   "wrong_state: round_pass with no round");
    assert_example(proto_encode_error(PROTO_E_BANNED, "h1", NULL), "error", "banned");

    /* The "always there" details are there even when the caller has none. */
    json_t *j = frame_json(proto_encode_error(PROTO_E_SLOW_MODE, NULL, NULL));
    assert_true(json_is_integer(json_object_get(j, "retry_after_ms")));
    json_decref(j);
    j = frame_json(proto_encode_error(PROTO_E_NO_SESSION, NULL, NULL));
    assert_true(json_is_null(json_object_get(j, "next_start")));
    assert_null(json_object_get(j, "until"));
    json_decref(j);
}

static const struct proto_session_info session17 = {
    .id = 17,
    .group = "Tiistairyhmä",
    .language = "fi",
    .description = "Vertaistukiryhmä nuorille aikuisille, joiden läheinen sairastaa.",
    .agreement = "Se, mitä ryhmässä kerrotaan, jää ryhmään. Kuuntelemme toisiamme emmekä anna "
                 "neuvoja pyytämättä.",
    .starts_at = 1764072000000,
    .ends_at = 1764077400000,
};

static const char crisis_fi[] = "{\"fi\":[{\"name\":\"Kriisipuhelin\",\"phone\":\"+358 9 2525 "
                                "0111\",\"url\":\"https://mieli.fi/\"}]}";

static void welcome_for_a_leader(void **state)
{
    (void)state;
    static const struct proto_member members[] = {
        {.member = 1, .name = "helena", .role = PROTO_ROLE_LEADER},
        {.member = 2, .name = "Åsa"},
        {.member = 4, .name = "Aino", .muted = true},
        {.member = 5, .name = "Миша", .role = PROTO_ROLE_CO_LEADER},
    };
    static const uint32_t queue[] = {4}, hands[] = {4};
    static const struct proto_waiting waiting[] = {
        {.member = 7, .name = "Noah", .knocked = true, .agreed = true}};
    struct proto_round round = {.kind = PROTO_ROUND_CHECK_IN,
                                .speaker = 2,
                                .queue = queue,
                                .queue_len = 1,
                                .exclusive = true};
    struct proto_welcome w = {
        .ref = "L3",
        .epoch = 0x3f9a1c0b7d2e4f68ull,
        .token = "Zm9vYmFyLWJhei1xdXV4LTAxMjM0NTY3ODktYWJjZGU",
        .member = 1,
        .name = "helena",
        .role = PROTO_ROLE_LEADER,
        .room = "s17",
        .seq = 88,
        .members = members,
        .member_count = 4,
        .show_muted = true,
        .flags = {.locked = true, .slow_mode = 30, .topic = "Uni ja stressi"},
        .state = PROTO_STATE_OPEN,
        .session = &session17,
        .agreed = true,
        .limits = &limits,
        .rate_per_sec = 2,
        .rate_burst = 10,
        .round = &round,
        .hands = hands,
        .hand_count = 1,
        .waiting = waiting,
        .waiting_count = 1,
        .crisis_json = crisis_fi,
    };
    assert_example(proto_encode_welcome(&w), "welcome",
                   "a leader's snapshot of a running session: a round, a raised hand, a muted "
                   "participant, someone knocking");
}

static void welcome_for_a_muted_participant(void **state)
{
    (void)state;
    /* The room's view of who is muted is not written for a participant. */
    static const struct proto_member members[] = {
        {.member = 1, .name = "helena", .role = PROTO_ROLE_LEADER},
        {.member = 2, .name = "Åsa"},
        {.member = 4, .name = "Aino", .muted = true},
        {.member = 5, .name = "Миша", .role = PROTO_ROLE_CO_LEADER},
    };
    static const uint32_t done[] = {2};
    struct proto_round round = {
        .kind = PROTO_ROUND_CHECK_IN, .speaker = 4, .done = done, .done_len = 1, .exclusive = true};
    struct proto_welcome w = {
        .ref = "r-3",
        .epoch = 0x3f9a1c0b7d2e4f68ull,
        .token = "q7Kx2-Vb9_LmT4cWz8NfR1hJ0sYdPa3uE6gQoI5nXkA",
        .member = 4,
        .name = "Aino",
        .room = "s17",
        .seq = 90,
        .members = members,
        .member_count = 4,
        .flags = {.locked = true, .paused = true, .slow_mode = 30, .topic = "Uni ja stressi"},
        .state = PROTO_STATE_OPEN,
        .session = &session17,
        .agreed = true,
        .resumed = true,
        .limits = &limits,
        .rate_per_sec = 2,
        .rate_burst = 10,
        .round = &round,
        .muted = true,
        .muted_until = 1764073200000,
        .private_messages = "everyone",
        .crisis_json = crisis_fi,
    };
    assert_example(proto_encode_welcome(&w), "welcome",
                   "a muted participant resumes in a paused room during a round");
}

static void error_and_ack_encoding(void **state)
{
    (void)state;
    json_t *j = frame_json(proto_encode_error(PROTO_E_RATE_LIMITED, "m1",
                                              &(struct proto_error_detail){.retry_after_ms = 250}));
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
    struct proto_member members[] = {{.member = 1, .name = "A"}, {.member = 2, .name = "B \"b\""}};
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
    /* What a room of the testing mode leaves unset has its documented defaults. */
    assert_string_equal(json_string_value(json_object_get(j, "private_messages")), "leaders");
    assert_int_equal(json_object_size(json_object_get(j, "crisis")), 0);
    assert_true(json_is_null(json_object_get(j, "round")));
    assert_true(json_is_null(json_object_get(j, "muted")));
    assert_int_equal(json_array_size(json_object_get(j, "waiting")), 0);
    assert_null(json_object_get(json_array_get(json_object_get(j, "members"), 0), "muted"));
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
    if (names_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_examples_decode),
        cmocka_unit_test(invalid_examples_get_their_code),
        cmocka_unit_test(oversize_is_too_big_before_parsing),
        cmocka_unit_test(say_fields_are_decoded),
        cmocka_unit_test(resume_fields_are_decoded),
        cmocka_unit_test(moderation_fields_are_decoded),
        cmocka_unit_test(topic_text_is_decoded),
        cmocka_unit_test(say_to_and_hello_key_are_decoded),
        cmocka_unit_test(round_start_defaults),
        cmocka_unit_test(round_order_limits),
        cmocka_unit_test(message_encoding_round_trips),
        cmocka_unit_test(numbers_are_written_in_full),
        cmocka_unit_test(error_and_ack_encoding),
        cmocka_unit_test(welcome_encoding),
        cmocka_unit_test(room_role_and_hands_events),
        cmocka_unit_test(round_events),
        cmocka_unit_test(deleted_mute_and_alert_events),
        cmocka_unit_test(lobby_and_bans),
        cmocka_unit_test(messages_and_presence),
        cmocka_unit_test(tombstone_of_a_message_frame),
        cmocka_unit_test(moderation_errors),
        cmocka_unit_test(welcome_for_a_leader),
        cmocka_unit_test(welcome_for_a_muted_participant),
        cmocka_unit_test(error_codes_match_the_readme),
        cmocka_unit_test(utf8_count),
        cmocka_unit_test(utf8_validation),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    names_fini();
    return rc;
}
