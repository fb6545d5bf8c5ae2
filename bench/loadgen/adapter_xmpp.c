/*
 * adapter_xmpp.c - XMPP over WebSocket (RFC 7395, subprotocol "xmpp") into a
 * XEP-0045 multi-user chat, as run by Prosody (and by Jitsi Meet for its
 * chat).  Each member logs in with SASL ANONYMOUS, binds a resource, and
 * joins room r<R>@<muc> with nick m<M>; chat is type="groupchat" messages,
 * which the room reflects to every occupant, the sender included.
 *
 * Options (--aopt): domain=localhost  muc=conference.localhost
 *
 * Every WebSocket text message is one top-level XML element (RFC 7395), so
 * recognising stanzas by their opening bytes is enough here.
 */
#include <stdio.h>
#include <string.h>

#include "lg.h"

enum { X_OPEN1, X_AUTH, X_OPEN2, X_BIND, X_JOIN, X_READY };

struct xmpp_state {
    int stage;
};

static int send_fmt(struct lg_conn *c, const char *fmt, const char *a, int x, int y)
{
    char m[1024];
    int n = snprintf(m, sizeof m, fmt, a, x, y);
    if (n < 0 || (size_t)n >= sizeof m)
        return -1;
    return lg_send(c, LG_OP_TEXT, m, (size_t)n);
}

static int send_open(struct lg_conn *c)
{
    return send_fmt(
        c, "<open xmlns=\"urn:ietf:params:xml:ns:xmpp-framing\" to=\"%s\" version=\"1.0\"/>",
        lg_opt("domain", "localhost"), 0, 0);
}

static int xmpp_open(struct lg_conn *c)
{
    struct xmpp_state *s = lg_state(c);
    s->stage = X_OPEN1;
    return send_open(c);
}

static int starts(const uint8_t *d, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && !memcmp(d, p, n);
}

static int xmpp_message(struct lg_conn *c, int op, const uint8_t *d, size_t len)
{
    (void)op;
    struct xmpp_state *s = lg_state(c);
    if (s->stage == X_READY) {
        if (!starts(d, len, "<message"))
            return 0;
        const char *b = lg_memmem(d, len, "<body>");
        if (!b)
            return 0; /* subject change, chat state, ... */
        b += 6;
        const char *e = lg_memmem(b, len - (size_t)(b - (const char *)d), "</body>");
        if (!e)
            return -1;
        lg_delivered(c, b, (size_t)(e - b));
        return 0;
    }
    if (starts(d, len, "<open") || starts(d, len, "<?xml"))
        return 0;
    if (starts(d, len, "<failure") || starts(d, len, "<close") || starts(d, len, "<stream:error")) {
        fprintf(stderr, "xmpp: %.*s\n", (int)(len < 300 ? len : 300), d);
        return -1;
    }
    switch (s->stage) {
    case X_OPEN1:
        if (!starts(d, len, "<stream:features") && !starts(d, len, "<features"))
            return 0;
        if (!lg_memmem(d, len, "ANONYMOUS")) {
            fprintf(stderr, "xmpp: no SASL ANONYMOUS offered: %.*s\n", (int)(len < 300 ? len : 300),
                    d);
            return -1;
        }
        s->stage = X_AUTH;
        return send_fmt(
            c, "<auth xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\" mechanism=\"ANONYMOUS\"/>%s", "",
            0, 0);
    case X_AUTH:
        if (!starts(d, len, "<success"))
            return 0;
        s->stage = X_OPEN2;
        return send_open(c);
    case X_OPEN2:
        if (!starts(d, len, "<stream:features") && !starts(d, len, "<features"))
            return 0;
        s->stage = X_BIND;
        return send_fmt(c,
                        "<iq xmlns=\"jabber:client\" type=\"set\" id=\"bind1\"><bind "
                        "xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"/></iq>%s",
                        "", 0, 0);
    case X_BIND:
        if (!starts(d, len, "<iq") || !lg_memmem(d, len, "bind1"))
            return 0;
        if (!lg_memmem(d, len, "result"))
            return -1;
        s->stage = X_JOIN;
        return send_fmt(
            c,
            "<presence xmlns=\"jabber:client\" to=\"r%2$d@%1$s/m%3$d\"><x "
            "xmlns=\"http://jabber.org/protocol/muc\"><history maxstanzas=\"0\"/></x></presence>",
            lg_opt("muc", "conference.localhost"), lg_room(c), lg_member(c));
    case X_JOIN:
        if (!starts(d, len, "<presence"))
            return 0;
        if (lg_memmem(d, len, "type='error'") || lg_memmem(d, len, "type=\"error\"")) {
            fprintf(stderr, "xmpp: join refused: %.*s\n", (int)(len < 300 ? len : 300), d);
            return -1;
        }
        if (lg_memmem(d, len, "code='110'") || lg_memmem(d, len, "code=\"110\"")) {
            s->stage = X_READY;
            lg_joined(c);
        }
        return 0;
    }
    return 0;
}

static int xmpp_publish(struct lg_conn *c, const char *body, size_t len)
{
    char m[4400];
    int n = snprintf(m, sizeof m,
                     "<message xmlns=\"jabber:client\" to=\"r%d@%s\" "
                     "type=\"groupchat\"><body>%.*s</body></message>",
                     lg_room(c), lg_opt("muc", "conference.localhost"), (int)len, body);
    if (n < 0 || (size_t)n >= sizeof m)
        return -1;
    return lg_send(c, LG_OP_TEXT, m, (size_t)n);
}

const struct lg_adapter lg_adapter_xmpp = {
    .name = "xmpp",
    .path = "/xmpp-websocket",
    .subprotocol = "xmpp",
    .self_echo = 1,
    .state_size = sizeof(struct xmpp_state),
    .on_open = xmpp_open,
    .on_message = xmpp_message,
    .publish = xmpp_publish,
};
