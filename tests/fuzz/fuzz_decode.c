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
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        proto_init();
        ready = 1;
    }
    static const struct proto_limits lim = {16384, 4000, 40};
    struct proto_cmd cmd;
    enum proto_err e = proto_decode((const char *)data, size, &lim, &cmd);
    assert((unsigned)e < PROTO_E_COUNT);
    if (e == PROTO_OK) {
        assert(strlen(cmd.id) <= PROTO_ID_MAX);
        if (cmd.type == PROTO_SAY) {
            assert(cmd.id[0] != '\0');
            assert(cmd.u.say.text_len > 0);
            struct frame *f =
                proto_encode_message(1, 1, "fuzz", cmd.u.say.text, cmd.u.say.text_len, 0);
            frame_unref(f);
        } else if (cmd.type == PROTO_HELLO) {
            /* exactly one way in */
            assert(!!cmd.u.hello.invite[0] + !!cmd.u.hello.token[0] + !!cmd.u.hello.room[0] == 1);
            if (cmd.u.hello.token[0]) {
                assert(strlen(cmd.u.hello.token) == PROTO_TOKEN_LEN);
                assert(cmd.u.hello.session >= 1 && cmd.u.hello.session <= PROTO_SEQ_MAX);
                assert(cmd.u.hello.name == NULL);
            } else {
                assert(cmd.u.hello.session == 0);
                assert(cmd.u.hello.name_len > 0);
                assert(proto_utf8_count(cmd.u.hello.name, cmd.u.hello.name_len) <=
                       lim.max_name_chars);
            }
        } else if (cmd.type == PROTO_RESUME) {
            assert(strlen(cmd.u.resume.token) == PROTO_TOKEN_LEN);
            assert(cmd.u.resume.after_seq <= PROTO_SEQ_MAX);
        }
    } else {
        struct frame *f = proto_encode_error(e, cmd.id[0] ? cmd.id : NULL,
                                             &(struct proto_error_detail){cmd.field, NULL, -1, -1});
        frame_unref(f);
    }
    proto_cmd_clear(&cmd);
    return 0;
}
