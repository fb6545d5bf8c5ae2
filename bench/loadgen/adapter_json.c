/*
 * adapter_json.c - the minimal JSON room protocol of node-ws/server.js, and
 * the template for kamrat's own adapter.
 *
 *   -> {"type":"join","room":"r<R>","name":"m<M>"}
 *   <- {"type":"joined","room":"r<R>",...}                  => lg_joined
 *   -> {"type":"chat","text":"<body>"}
 *   <- {"type":"chat","room":"r<R>","from":"m<M>","text":"<body>"}  => lg_delivered
 *
 * The body is plain ASCII without quotes or backslashes, so a substring scan
 * is enough; an adapter for a richer protocol can parse with jansson instead.
 */
#include <string.h>

#include "lg.h"

static int json_open(struct lg_conn *c)
{
    char m[128];
    size_t n = 0;
    memcpy(m, "{\"type\":\"join\",\"room\":\"r", 24);
    n = 24;
    n += lg_utoa(m + n, (unsigned)lg_room(c));
    memcpy(m + n, "\",\"name\":\"m", 11);
    n += 11;
    n += lg_utoa(m + n, (unsigned)lg_member(c));
    memcpy(m + n, "\"}", 2);
    n += 2;
    return lg_send(c, LG_OP_TEXT, m, n);
}

static int json_message(struct lg_conn *c, int op, const uint8_t *d, size_t len)
{
    (void)op;
    if (lg_memmem(d, len < 32 ? len : 32, "\"type\":\"chat\"")) {
        const char *t = lg_memmem(d, len, "\"text\":\"");
        if (!t)
            return -1;
        t += 8;
        const char *end = memchr(t, '"', len - (size_t)(t - (const char *)d));
        if (!end)
            return -1;
        lg_delivered(c, t, (size_t)(end - t));
    } else if (lg_memmem(d, len < 32 ? len : 32, "\"type\":\"joined\"")) {
        lg_joined(c);
    } else if (lg_memmem(d, len < 32 ? len : 32, "\"type\":\"error\"")) {
        return -1;
    }
    return 0;
}

static int json_publish(struct lg_conn *c, const char *body, size_t len)
{
    char m[4200];
    memcpy(m, "{\"type\":\"chat\",\"text\":\"", 23);
    memcpy(m + 23, body, len);
    memcpy(m + 23 + len, "\"}", 2);
    return lg_send(c, LG_OP_TEXT, m, len + 25);
}

const struct lg_adapter lg_adapter_json = {
    .name = "json",
    .path = "/",
    .subprotocol = "chat.v0",
    .self_echo = 1,
    .state_size = 0,
    .on_open = json_open,
    .on_message = json_message,
    .publish = json_publish,
};
