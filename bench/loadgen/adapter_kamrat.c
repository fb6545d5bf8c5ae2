/*
 * adapter_kamrat.c - kamrat protocol v1 (protocol/README.md), as spoken by
 * kamratd.
 *
 *   -> {"type":"hello","room":"r<R>","name":"m<M>"}  (--aopt room_prefix=P: "P<R>")
 *   <- {"type":"welcome",...}                                   => lg_joined
 *   <- {"type":"presence",...}, {"type":"state",...}            ignored
 *   joiner j (--joiners; --aopt invites=FILE, one invite code a line):
 *   -> {"type":"hello","id":"j","invite":"<line j>","name":"j<j>"}
 *   <- {"type":"welcome",...}  => lg_joined;  {"type":"error",...}  => lg_refused
 *   -> {"type":"say","id":"s<n>","text":"<body>"}
 *   <- {"type":"ack","ref":"s<n>","seq":S}                      ignored
 *   <- {"type":"message","seq":S,...,"text":"<body>","ts":T}    => lg_delivered
 *
 * kamratd sends every message to every member of the room, the sender
 * included, so self_echo = 1 and one publish makes M deliveries.  The ack
 * to the sender is not a delivery.
 *
 * The id of a say must be unique among the member's last 64 (the server
 * de-duplicates resends by id), so each connection counts its own.  An
 * error from the server (rate_limited, room_full, ...) means the benchmark
 * is misconfigured: the connection is failed with the error code in the log.
 *
 * A joiner's invite code is a secret: it goes to the server and nowhere
 * else (not to the log, not to stdout).
 *
 * kamratd writes "type" first and the body needs no escaping, so one byte
 * and a prefix tell the frames apart, and a substring scan finds the body;
 * no JSON parser, nothing read that the generator does not need.  Acks (one
 * per publish) are dismissed on their first byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg.h"

struct kamrat_state {
    unsigned next_id;
};

#define INVITE_MAX 64

/* The codes of --aopt invites=FILE, read once: codes[j] for joiner j. */
static char (*codes)[INVITE_MAX + 1];
static int ncodes = -1;

static void read_invites(void)
{
    const char *path = lg_opt("invites", NULL);
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[256];
    int cap = 0;
    ncodes = 0;
    while (f && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        if (n == 0 || n > INVITE_MAX)
            continue;
        if (ncodes == cap) {
            cap = cap ? cap * 2 : 256;
            codes = realloc(codes, (size_t)cap * sizeof *codes);
            if (!codes)
                break;
        }
        memcpy(codes[ncodes], line, n);
        codes[ncodes++][n] = 0;
    }
    if (f)
        fclose(f);
    if (!codes)
        ncodes = 0;
}

/* A joiner's hello: its invite and a pseudonym of its own. */
static int joiner_open(struct lg_conn *c, int j)
{
    char m[160];
    if (ncodes < 0)
        read_invites();
    if (j >= ncodes) {
        lg_fail(c, "no invite for this joiner (--aopt invites=FILE)");
        return -1;
    }
    int n = snprintf(m, sizeof m,
                     "{\"type\":\"hello\",\"id\":\"j\",\"invite\":\"%s\",\"name\":\"j%d\"}",
                     codes[j], j);
    return lg_send(c, LG_OP_TEXT, m, (size_t)n);
}

static int kamrat_open(struct lg_conn *c)
{
    char m[128];
    if (lg_joiner(c) >= 0)
        return joiner_open(c, lg_joiner(c));
    static const char b[] = "\",\"name\":\"m";
    /* Another prefix keeps a run's rooms apart from an earlier run's on the
     * same server, whose members may still wait out resume_grace. */
    int n = snprintf(m, 64, "{\"type\":\"hello\",\"room\":\"%.20s", lg_opt("room_prefix", "r"));
    n += (int)lg_utoa(m + n, (unsigned)lg_room(c));
    memcpy(m + n, b, sizeof b - 1);
    n += sizeof b - 1;
    n += (int)lg_utoa(m + n, (unsigned)lg_member(c));
    memcpy(m + n, "\"}", 2);
    n += 2;
    return lg_send(c, LG_OP_TEXT, m, (size_t)n);
}

/* kamratd writes "type" first (server/proto.c), so the byte after
 * {"type":" tells the frames apart, and one memcmp confirms the type. */
#define TYPE_AT 9 /* strlen("{\"type\":\"") */

static int is_type(const uint8_t *d, size_t len, const char *prefix, size_t plen)
{
    return len >= plen && memcmp(d, prefix, plen) == 0;
}
#define IS_TYPE(d, len, lit) is_type(d, len, lit, sizeof lit - 1)

/* {"type":"message","seq":S,"member":N,"name":"m<M>","text":"<body>","ts":T}:
 * the body is the first "text" after the fixed prefix, and it ends at the
 * first quote (bodies are [A-Za-z0-9 ]).  Nothing else of the frame is read:
 * the core takes the send time, the sender and the sequence from the body. */
static int message(struct lg_conn *c, const uint8_t *d, size_t len)
{
    static const char key[] = "\"text\":\"";
    static const char prefix[] = "{\"type\":\"message\",";
    const char *end = (const char *)d + len;
    const char *t = lg_memmem(d + sizeof prefix - 1, len - (sizeof prefix - 1), key);
    if (!t)
        return -1;
    t += sizeof key - 1;
    const char *q = memchr(t, '"', (size_t)(end - t));
    if (!q)
        return -1;
    lg_delivered(c, t, (size_t)(q - t));
    return 0;
}

static int error_frame(struct lg_conn *c, const uint8_t *d, size_t len)
{
    char why[96];
    const char *code = lg_memmem(d, len, "\"code\":\"");
    int cl = 0;
    if (code) {
        code += 8;
        while (cl < 40 && code + cl < (const char *)d + len && code[cl] != '"')
            cl++;
    }
    if (lg_joiner(c) >= 0) {
        lg_refused(c, code ? code : "?", code ? (size_t)cl : 1);
        return 0;
    }
    snprintf(why, sizeof why, "kamratd error %.*s", cl, code ? code : "");
    lg_fail(c, why);
    return -1;
}

static int kamrat_message(struct lg_conn *c, int op, const uint8_t *d, size_t len)
{
    if (op != LG_OP_TEXT)
        return -1;
    if (len <= TYPE_AT)
        return 0;
    switch (d[TYPE_AT]) {
    case 'm':
        return IS_TYPE(d, len, "{\"type\":\"message\",") ? message(c, d, len) : 0;
    case 'w':
        if (IS_TYPE(d, len, "{\"type\":\"welcome\""))
            lg_joined(c);
        return 0;
    case 'e':
        return IS_TYPE(d, len, "{\"type\":\"error\"") ? error_frame(c, d, len) : 0;
    default:
        return 0; /* ack, presence, state */
    }
}

static int kamrat_publish(struct lg_conn *c, const char *body, size_t len)
{
    struct kamrat_state *s = lg_state(c);
    char m[4200];
    static const char a[] = "{\"type\":\"say\",\"id\":\"s";
    static const char b[] = "\",\"text\":\"";
    size_t n = sizeof a - 1;
    memcpy(m, a, n);
    n += lg_utoa(m + n, s->next_id++);
    memcpy(m + n, b, sizeof b - 1);
    n += sizeof b - 1;
    memcpy(m + n, body, len);
    n += len;
    memcpy(m + n, "\"}", 2);
    n += 2;
    return lg_send(c, LG_OP_TEXT, m, n);
}

const struct lg_adapter lg_adapter_kamrat = {
    .name = "kamrat",
    .path = "/ws",
    .subprotocol = "kamrat.v1",
    .self_echo = 1,
    .state_size = sizeof(struct kamrat_state),
    .on_open = kamrat_open,
    .on_message = kamrat_message,
    .publish = kamrat_publish,
};
