/*
 * adapter_mqtt.c - MQTT 3.1.1 over WebSocket (subprotocol "mqtt"), as spoken
 * by mosquitto.  Room N is topic "room/N": every member subscribes to it with
 * QoS 0 and publishes to it with QoS 0.  MQTT 3.1.1 has no "no local" option,
 * so the broker also sends each message back to its sender (self_echo = 1).
 *
 * MQTT is a byte stream inside binary WebSocket messages: one WebSocket
 * message may hold several MQTT packets or part of one, so packets are
 * reassembled here.
 */
#include <stdlib.h>
#include <string.h>

#include "lg.h"

enum { MQ_CONNECTING, MQ_SUBSCRIBING, MQ_READY };

struct mqtt_state {
    int stage;
    uint8_t *acc; /* partial packet carried over between WebSocket messages */
    size_t acc_len, acc_cap;
};

static size_t put_remlen(uint8_t *p, size_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v % 128;
        v /= 128;
        p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static size_t put_topic(uint8_t *p, int room)
{
    memcpy(p + 2, "room/", 5);
    size_t n = 5 + lg_utoa((char *)p + 7, (unsigned)room);
    p[0] = (uint8_t)(n >> 8);
    p[1] = (uint8_t)n;
    return n + 2;
}

static int mqtt_open(struct lg_conn *c)
{
    uint8_t vh[64], pkt[80];
    size_t n = 0;
    static const uint8_t head[] = {0,    4,   'M', 'Q', 'T', 'T', 4, 0x02 /* clean session */,
                                   0x01, 0x2c /* keepalive 300 s */};
    memcpy(vh, head, sizeof head);
    n = sizeof head;
    char id[24] = "lg-";
    size_t il = 3 + lg_utoa(id + 3, (unsigned)lg_id(c));
    vh[n++] = 0;
    vh[n++] = (uint8_t)il;
    memcpy(vh + n, id, il);
    n += il;
    size_t p = 0;
    pkt[p++] = 0x10;
    p += put_remlen(pkt + p, n);
    memcpy(pkt + p, vh, n);
    return lg_send(c, LG_OP_BINARY, pkt, p + n);
}

static int subscribe(struct lg_conn *c)
{
    uint8_t body[64], pkt[80];
    size_t n = 0;
    body[n++] = 0;
    body[n++] = 1; /* packet id */
    n += put_topic(body + n, lg_room(c));
    body[n++] = 0; /* requested QoS 0 */
    size_t p = 0;
    pkt[p++] = 0x82;
    p += put_remlen(pkt + p, n);
    memcpy(pkt + p, body, n);
    return lg_send(c, LG_OP_BINARY, pkt, p + n);
}

/* One complete MQTT packet: type/flags byte, remaining bytes. */
static int packet(struct lg_conn *c, uint8_t type, const uint8_t *d, size_t len)
{
    struct mqtt_state *s = lg_state(c);
    switch (type >> 4) {
    case 2: /* CONNACK */
        if (len < 2 || d[1] != 0)
            return -1;
        s->stage = MQ_SUBSCRIBING;
        return subscribe(c);
    case 9: /* SUBACK */
        if (len < 3 || d[2] == 0x80)
            return -1;
        s->stage = MQ_READY;
        lg_joined(c);
        return 0;
    case 3: { /* PUBLISH */
        if (len < 2)
            return -1;
        size_t tl = (size_t)d[0] << 8 | d[1];
        size_t off = 2 + tl + (((type >> 1) & 3) ? 2 : 0);
        if (off > len)
            return -1;
        lg_delivered(c, (const char *)d + off, len - off);
        return 0;
    }
    default: /* PINGRESP, ... */
        return 0;
    }
}

/* Parse packets from p[0..n); return bytes consumed (whole packets only). */
static size_t parse(struct lg_conn *c, const uint8_t *p, size_t n, int *err)
{
    size_t off = 0;
    while (off + 2 <= n) {
        size_t rl = 0, mul = 1, i = off + 1;
        for (;;) {
            if (i >= n)
                return off;
            rl += (size_t)(p[i] & 0x7f) * mul;
            mul *= 128;
            if (!(p[i++] & 0x80))
                break;
            if (mul > 128 * 128 * 128) {
                *err = 1;
                return off;
            }
        }
        if (i + rl > n)
            return off;
        if (packet(c, p[off], p + i, rl) != 0) {
            *err = 1;
            return off;
        }
        off = i + rl;
    }
    return off;
}

static int mqtt_message(struct lg_conn *c, int op, const uint8_t *d, size_t len)
{
    (void)op;
    struct mqtt_state *s = lg_state(c);
    int err = 0;
    if (s->acc_len == 0) {
        size_t used = parse(c, d, len, &err);
        if (err)
            return -1;
        d += used;
        len -= used;
        if (!len)
            return 0;
    }
    if (s->acc_len + len > s->acc_cap) {
        size_t cap = s->acc_cap ? s->acc_cap : 512;
        while (cap < s->acc_len + len)
            cap *= 2;
        uint8_t *np = realloc(s->acc, cap);
        if (!np)
            return -1;
        s->acc = np;
        s->acc_cap = cap;
    }
    memcpy(s->acc + s->acc_len, d, len);
    s->acc_len += len;
    size_t used = parse(c, s->acc, s->acc_len, &err);
    if (err)
        return -1;
    memmove(s->acc, s->acc + used, s->acc_len - used);
    s->acc_len -= used;
    return 0;
}

static int mqtt_publish(struct lg_conn *c, const char *body, size_t len)
{
    uint8_t pkt[4200];
    uint8_t topic[32];
    size_t tl = put_topic(topic, lg_room(c));
    size_t p = 0;
    pkt[p++] = 0x30; /* PUBLISH, QoS 0, no retain */
    p += put_remlen(pkt + p, tl + len);
    memcpy(pkt + p, topic, tl);
    memcpy(pkt + p + tl, body, len);
    return lg_send(c, LG_OP_BINARY, pkt, p + tl + len);
}

static void mqtt_close(struct lg_conn *c)
{
    struct mqtt_state *s = lg_state(c);
    free(s->acc);
    s->acc = NULL;
    s->acc_len = s->acc_cap = 0;
}

const struct lg_adapter lg_adapter_mqtt = {
    .name = "mqtt",
    .path = "/mqtt",
    .subprotocol = "mqtt",
    .self_echo = 1,
    .state_size = sizeof(struct mqtt_state),
    .on_open = mqtt_open,
    .on_message = mqtt_message,
    .publish = mqtt_publish,
    .on_close = mqtt_close,
};
