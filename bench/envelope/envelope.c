/*
 * envelope: what one `message` event's frame costs kamratd to build
 * (proto_encode_message, once per room event, shared by every recipient),
 * against jansson building the same object, the way a JSON library would.
 * Prints one JSON line per case: ns of CPU per build (the best of REPEATS
 * runs) and the frame's bytes.
 *
 *   meson compile -C build-bench envelope && build-bench/bench/envelope/envelope
 *
 * The parse side (per recipient, in the browser) is envelope.mjs.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "proto.h"

#define ROUNDS 200000
#define REPEATS 5

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* not the time other processes take */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A chat message as the benchmark's generator sends: a 100-byte body. */
static const char body[] = "1700000000000123 m17 0000042 "
                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

static double kamrat_build(size_t *bytes_out)
{
    struct proto_message m = {.seq = 123456,
                              .member = 17,
                              .name = "Member 17",
                              .text = body,
                              .text_len = sizeof(body) - 1,
                              .ts = 1765000000123};
    size_t bytes = 0;
    double t0 = now_ns();
    for (int i = 0; i < ROUNDS; i++) {
        m.seq++;
        struct frame *f = proto_encode_message(&m);
        bytes = f->len;
        frame_unref(f);
    }
    *bytes_out = bytes;
    return (now_ns() - t0) / ROUNDS;
}

static double jansson_build(size_t *bytes_out)
{
    size_t bytes = 0;
    double t0 = now_ns();
    for (int i = 0; i < ROUNDS; i++) {
        json_t *o = json_pack("{s:s,s:I,s:i,s:s,s:s%,s:I}", "type", "message", "seq",
                              (json_int_t)(123456 + i), "member", 17, "name", "Member 17", "text",
                              body, sizeof(body) - 1, "ts", (json_int_t)1765000000123);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        bytes = strlen(s);
        struct frame *f = frame_from(s, bytes);
        free(s);
        json_decref(o);
        frame_unref(f);
    }
    *bytes_out = bytes;
    return (now_ns() - t0) / ROUNDS;
}

static void report(const char *name, double (*build)(size_t *))
{
    size_t bytes = 0;
    double best = build(&bytes);
    for (int i = 1; i < REPEATS; i++) {
        double ns = build(&bytes);
        if (ns < best)
            best = ns;
    }
    printf("{\"case\":\"%s\",\"ns_per_build\":%.0f,\"bytes\":%zu}\n", name, best, bytes);
}

int main(void)
{
    proto_init();
    report("kamrat proto_encode_message", kamrat_build);
    report("jansson json_pack+json_dumps", jansson_build);
    return 0;
}
