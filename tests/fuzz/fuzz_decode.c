/*
 * fuzz_decode: bytes -> proto_decode (size cap, depth scan, jansson, the
 * request schema) -> when accepted, re-encode what was decoded. Asserts the
 * decoder's contract: an accepted request has valid fields, a rejected one
 * names a real code.
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
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct proto_limits lim = {16384, 4000, 40};

static void check_hello(const struct proto_cmd *cmd)
{
    /* exactly one way in */
    assert(!!cmd->u.hello.invite[0] + !!cmd->u.hello.token[0] + !!cmd->u.hello.room[0] == 1);
    if (cmd->u.hello.token[0]) {
        assert(strlen(cmd->u.hello.token) == PROTO_TOKEN_LEN);
        assert(cmd->u.hello.session >= 1 && cmd->u.hello.session <= PROTO_SEQ_MAX);
        assert(cmd->u.hello.name == NULL);
        assert(cmd->u.hello.key[0] == '\0');
    } else {
        assert(cmd->u.hello.session == 0);
        assert(cmd->u.hello.name_len > 0);
        assert(proto_utf8_count(cmd->u.hello.name, cmd->u.hello.name_len) <= lim.max_name_chars);
        assert(!cmd->u.hello.key[0] || strlen(cmd->u.hello.key) == PROTO_KEY_LEN);
    }
}

static void check_say(const struct proto_cmd *cmd)
{
    assert(cmd->id[0] != '\0');
    assert(cmd->u.say.text_len > 0);
    assert(!(cmd->u.say.to_leaders && cmd->u.say.to));
    assert(cmd->u.say.to <= UINT32_MAX);
    struct proto_message m = {.seq = 1,
                              .member = 1,
                              .name = "fuzz",
                              .text = cmd->u.say.text,
                              .text_len = cmd->u.say.text_len,
                              .scope = cmd->u.say.to ? PROTO_SCOPE_DIRECT : PROTO_SCOPE_ROOM,
                              .with = (uint32_t)cmd->u.say.to};
    frame_unref(proto_encode_message(&m));
}

/* A round as the room would announce it from a decoded order: the first
 * speaks, the rest wait. */
static void encode_round(const struct proto_cmd *cmd)
{
    size_t n = cmd->act.order_len;
    for (size_t i = 0; i < n; i++) {
        assert(cmd->act.order[i] >= 1);
        for (size_t j = 0; j < i; j++)
            assert(cmd->act.order[i] != cmd->act.order[j]);
    }
    struct proto_round r = {.kind = cmd->act.kind,
                            .speaker = n ? cmd->act.order[0] : 0,
                            .queue = cmd->act.order + (n ? 1 : 0),
                            .queue_len = n ? n - 1 : 0,
                            .exclusive = cmd->act.exclusive};
    frame_unref(proto_encode_round(1, &r, 0));
    frame_unref(proto_encode_hands(2, cmd->act.order, n, 0));
}

static void check_act(const struct proto_cmd *cmd)
{
    assert(cmd->act.member <= UINT32_MAX);
    assert(cmd->act.seq <= PROTO_SEQ_MAX && cmd->act.ban <= PROTO_SEQ_MAX);
    assert(cmd->act.minutes <= PROTO_MUTE_MINUTES_MAX);
    assert(cmd->act.seconds <= PROTO_SLOW_SECONDS_MAX);
    assert(cmd->act.order_len <= PROTO_ORDER_MAX);
    switch (cmd->type) {
    case PROTO_ADMIT:
    case PROTO_DENY:
        assert(!!cmd->act.member + cmd->act.all == 1);
        break;
    case PROTO_TO_LOBBY:
    case PROTO_MUTE:
    case PROTO_UNMUTE:
    case PROTO_REMOVE:
    case PROTO_BAN:
    case PROTO_PROMOTE:
    case PROTO_DEMOTE:
        assert(cmd->act.member >= 1);
        frame_unref(proto_encode_mute(1, (uint32_t)cmd->act.member, true,
                                      cmd->act.minutes * 60000ull, 1, 0));
        break;
    case PROTO_DELETE:
    case PROTO_REPORT:
        assert(cmd->act.seq >= 1);
        frame_unref(proto_encode_deleted(1, cmd->act.seq, 0, 0));
        break;
    case PROTO_LOCK:
    case PROTO_PAUSE:
    case PROTO_SLOW:
    case PROTO_TOPIC: {
        assert(cmd->type != PROTO_TOPIC || cmd->act.text);
        struct proto_room_flags fl = {.locked = cmd->act.on,
                                      .paused = cmd->act.on,
                                      .slow_mode = cmd->act.seconds,
                                      .topic = cmd->act.text};
        frame_unref(proto_encode_room(1, &fl, 1, 0));
        break;
    }
    case PROTO_ROUND_ORDER:
        assert(cmd->act.order_len >= 1);
        encode_round(cmd);
        break;
    case PROTO_ROUND_START:
        encode_round(cmd);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        proto_init();
        if (names_init() < 0)
            abort();
        atexit(names_fini);
        ready = 1;
    }
    struct proto_cmd cmd;
    enum proto_err e = proto_decode((const char *)data, size, &lim, &cmd);
    assert((unsigned)e < PROTO_E_COUNT);
    if (e == PROTO_OK) {
        assert(strlen(cmd.id) <= PROTO_ID_MAX);
        if (cmd.type == PROTO_SAY)
            check_say(&cmd);
        else if (cmd.type == PROTO_HELLO)
            check_hello(&cmd);
        else if (cmd.type == PROTO_RESUME)
            assert(strlen(cmd.u.resume.token) == PROTO_TOKEN_LEN &&
                   cmd.u.resume.after_seq <= PROTO_SEQ_MAX);
        else
            check_act(&cmd);
    } else {
        struct frame *f = proto_encode_error(e, cmd.id[0] ? cmd.id : NULL,
                                             &(struct proto_error_detail){.field = cmd.field});
        frame_unref(f);
    }
    proto_cmd_clear(&cmd);
    return 0;
}
