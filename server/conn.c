#include "conn.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "hold.h"
#include "klog.h"
#include "metrics.h"
#include "room.h"
#include "server.h"
#include "util.h"

#define ERROR_WINDOW_MS 10000 /* errors counted per window ... */
#define ERROR_BUDGET 100      /* ... before the connection is cut with 4429 */
#define HELD_MAX 8            /* messages kept while a hello waits for the store */
#define CLOSE_HOLD_SECS 3     /* a close waits this long at most for held frames */

struct conn {
    const struct conn_ops *ops;
    void *impl; /* the carrier's */
    struct server *srv;
    struct member *member;
    lws_dll2_t list; /* in srv->conns */
    struct bus_link link;
    bool heard;     /* a message came (remote connections: the first must be hello or resume) */
    bool replaying; /* conn_replay: its room is here now, whatever the copy said */
    uint16_t close_code;
    /* A close waiting for the frames held for the mirror (conn_close). */
    bool close_held;
    char close_reason[32];
    lws_sorted_usec_list_t close_deadline;

    struct hold hold;   /* frames waiting for the mirror (conn_hold) */
    lws_dll2_t holding; /* in srv->holding while hold.count > 0 */

    uint64_t errors_window_ms;
    uint32_t errors;

    lws_sorted_usec_list_t hello_deadline;
    bool hello_overdue; /* the deadline passed while the hello waited */
    /* A wait for the store worker (conn_wait), and the messages that came
     * after it, in order, to be handled once it is over. */
    conn_abandon_fn wait_abandon; /* NULL: not waiting */
    void *wait_arg;
    struct waiting_msg {
        char *buf;
        size_t len;
    } held_msgs[HELD_MAX];
    uint32_t held_msg_count;
};

struct member *conn_member(const struct conn *c)
{
    return c->member;
}

void conn_set_member(struct conn *c, struct member *m)
{
    c->member = m;
    if (m)
        lws_sul_cancel(&c->hello_deadline);
    if (m && c->link.remote)
        bus_joined(c->srv->bus, c);
}

void *conn_impl(const struct conn *c)
{
    return c->impl;
}

struct bus_link *conn_bus_link(struct conn *c)
{
    return &c->link;
}

bool conn_closing(const struct conn *c)
{
    return c->close_code != 0;
}

void conn_lost(struct conn *c)
{
    if (!c->close_code)
        c->close_code = PROTO_CLOSE_GOING_AWAY; /* nothing more for it */
}

static void unhold(struct conn *c)
{
    hold_clear(&c->hold);
    lws_dll2_remove(&c->holding);
}

/* The close itself, once no frame held for the mirror waits before it. */
static void close_through(struct conn *c)
{
    c->close_held = false;
    lws_sul_cancel(&c->close_deadline);
    c->ops->close(c, c->close_code, c->close_reason);
}

/* Redis never answered for the held frames: close without them. */
static void close_overdue(lws_sorted_usec_list_t *sul)
{
    struct conn *c = lws_container_of(sul, struct conn, close_deadline);
    unhold(c);
    close_through(c);
}

void conn_close(struct conn *c, enum proto_close code, const char *reason)
{
    if (c->close_code)
        return;
    c->close_code = (uint16_t)code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    if (code == PROTO_CLOSE_TOO_SLOW)
        unhold(c); /* the backlog goes now: that is the point of the cut */
    if (!c->hold.count) {
        close_through(c);
        return;
    }
    /* Frames held until Redis has the room's copy (the answer to the very
     * request that ended the membership, say a leave's ack) go out first:
     * conn_release closes then, or the deadline does without them. */
    c->close_held = true;
    lws_sul_schedule(c->srv->ctx, 0, &c->close_deadline, close_overdue,
                     (lws_usec_t)CLOSE_HOLD_SECS * LWS_US_PER_SEC);
}

void conn_send(struct conn *c, struct frame *f)
{
    if (c->close_code)
        return;
    if (c->hold.count) {
        hold_behind(&c->hold, f); /* in order, released with it */
        return;
    }
    c->ops->send(c, f);
}

void conn_hold(struct conn *c, struct frame *f, uint64_t ticket)
{
    if (c->close_code)
        return;
    hold_push(&c->hold, f, ticket);
    if (c->hold.count == 1)
        lws_dll2_add_tail(&c->holding, &c->srv->holding);
}

void conn_release(struct conn *c, uint64_t upto)
{
    struct frame *f;
    while ((f = hold_pop(&c->hold, upto)) != NULL) {
        if (!c->close_code || c->close_held) /* a waiting close lets them out first */
            c->ops->send(c, f);
        frame_unref(f);
    }
    if (!c->hold.count) {
        lws_dll2_remove(&c->holding);
        if (c->close_held)
            close_through(c);
    }
}

void conn_release_all(lws_dll2_owner_t *holding, uint64_t upto)
{
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, next, lws_dll2_get_head(holding))
    {
        conn_release(lws_container_of(d, struct conn, holding), upto);
    }
    lws_end_foreach_dll_safe(d, next);
}

void conn_send_error(struct conn *c, enum proto_err e, const char *ref,
                     const struct proto_error_detail *d)
{
    struct frame *f = proto_encode_error(e, ref, d);
    conn_send(c, f);
    frame_unref(f);
    metrics_error(e);

    uint64_t now = util_now_ms();
    if (now - c->errors_window_ms > ERROR_WINDOW_MS) {
        c->errors_window_ms = now;
        c->errors = 0;
    }
    if (++c->errors >= ERROR_BUDGET) {
        klog_info("conn_cut reason=abuse errors=%u", c->errors);
        conn_close(c, PROTO_CLOSE_ABUSE, "too many errors");
    }
}

void conn_close_all(lws_dll2_owner_t *conns, enum proto_close code)
{
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(conns))
    {
        conn_close(lws_container_of(d, struct conn, list), code,
                   code == PROTO_CLOSE_RESTART ? "restart" : "going away");
    }
    lws_end_foreach_dll(d);
}

static void hello_expired(lws_sorted_usec_list_t *sul)
{
    struct conn *c = lws_container_of(sul, struct conn, hello_deadline);
    if (c->wait_abandon)
        c->hello_overdue = true; /* it came in time; its answer decides */
    else if (!c->member)
        conn_close(c, PROTO_CLOSE_UNAUTHORISED, "no hello");
}

/* Free the messages kept behind a wait; they may hold message text. */
static void drop_waiting_msgs(struct conn *c)
{
    for (uint32_t i = 0; i < c->held_msg_count; i++) {
        wipe(c->held_msgs[i].buf, c->held_msgs[i].len);
        free(c->held_msgs[i].buf);
    }
    c->held_msg_count = 0;
}

struct conn *conn_new(struct server *srv, const struct conn_ops *ops, void *impl, bool remote)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    c->ops = ops;
    c->impl = impl;
    c->srv = srv;
    c->link.remote = remote;
    lws_dll2_add_tail(&c->list, &srv->conns);
    if (remote)
        srv->remote_conns++;
    lws_sul_schedule(srv->ctx, 0, &c->hello_deadline, hello_expired,
                     (lws_usec_t)srv->cfg->limits.hello_timeout * LWS_US_PER_SEC);
    if (srv->draining)
        conn_close(c, PROTO_CLOSE_GOING_AWAY, "going away");
    return c;
}

void conn_free(struct conn *c)
{
    lws_sul_cancel(&c->hello_deadline);
    lws_sul_cancel(&c->close_deadline);
    unhold(c);
    if (c->wait_abandon)
        c->wait_abandon(c->wait_arg);
    drop_waiting_msgs(c);
    if (c->srv->bus)
        bus_conn_gone(c->srv->bus, c);
    if (c->member)
        room_conn_lost(c->srv->rooms, c->member);
    lws_dll2_remove(&c->list);
    if (c->link.remote)
        c->srv->remote_conns--;
    free(c);
}

/* Where a message of a connection that has not joined goes, when rooms may
 * live on other nodes: false when the bus took it (bus_take). */
static bool served_here(struct conn *c, const struct proto_cmd *cmd, const char *buf, size_t len)
{
    if (!c->srv->bus || c->member || c->replaying)
        return true;
    switch (bus_take(c->srv->bus, c, cmd, buf, len)) {
    case BUS_HERE:
        return true;
    case BUS_RELAYED:
        lws_sul_cancel(&c->hello_deadline); /* the home keeps one */
        return false;
    case BUS_TAKEN:
        return false;
    case BUS_UNAVAILABLE:
        break;
    }
    /* Its room lives elsewhere and Redis is away: the client tries again
     * with backoff (README §7: 1011). */
    conn_close(c, PROTO_CLOSE_INTERNAL, "bus unavailable");
    return false;
}

/* Decode one whole message and hand it to the room, or to the node its room
 * lives on. */
static void handle_message(struct conn *c, const char *buf, size_t len)
{
    if (c->link.node && c->link.joined) {
        bus_relay(c->srv->bus, c, buf, len); /* the home reads it */
        return;
    }
    const struct limits *lim = &c->srv->cfg->limits;
    struct proto_limits pl = {lim->max_message_bytes, lim->max_text_chars, lim->max_name_chars};
    struct proto_cmd cmd;
    enum proto_err e = proto_decode(buf, len, &pl, &cmd);
    if (c->wait_abandon) {
        /* It waits for the store: keep the order of requests. */
        if (c->held_msg_count < HELD_MAX) {
            char *copy = xmalloc(len ? len : 1);
            memcpy(copy, buf, len);
            c->held_msgs[c->held_msg_count++] = (struct waiting_msg){copy, len};
        } else {
            conn_send_error(c, PROTO_E_BUSY, cmd.id[0] ? cmd.id : NULL, NULL);
        }
        proto_cmd_clear(&cmd);
        return;
    }
    bool first = !c->heard;
    c->heard = true;
    if (first && c->link.remote && (e || (cmd.type != PROTO_HELLO && cmd.type != PROTO_RESUME))) {
        /* A client relayed to this node's previous run: it resumes anew. */
        conn_close(c, PROTO_CLOSE_GOING_AWAY, "node restarted");
    } else if (e) {
        conn_send_error(c, e, cmd.id[0] ? cmd.id : NULL,
                        &(struct proto_error_detail){.field = cmd.field});
    } else if (served_here(c, &cmd, buf, len)) {
        room_dispatch(c->srv->rooms, c, &cmd);
    }
    proto_cmd_clear(&cmd);
}

void conn_receive(struct conn *c, const char *msg, size_t len)
{
    if (!c->close_code)
        handle_message(c, msg, len);
}

void conn_replay(struct conn *c, const char *msg, size_t len)
{
    if (c->close_code)
        return;
    c->replaying = true;
    handle_message(c, msg, len);
    c->replaying = false;
}

void conn_wait(struct conn *c, conn_abandon_fn abandon, void *arg)
{
    assert(!c->wait_abandon && abandon);
    c->wait_abandon = abandon;
    c->wait_arg = arg;
}

void conn_wait_done(struct conn *c, const char *first, size_t len)
{
    c->wait_abandon = NULL;
    c->wait_arg = NULL;
    if (c->hello_overdue && !c->member) /* time to send the hello again */
        lws_sul_schedule(c->srv->ctx, 0, &c->hello_deadline, hello_expired,
                         (lws_usec_t)c->srv->cfg->limits.hello_timeout * LWS_US_PER_SEC);
    c->hello_overdue = false;
    if (first && !c->close_code)
        handle_message(c, first, len);
    /* Handle what came meanwhile, until a message starts another wait. */
    uint32_t n = c->held_msg_count, i = 0;
    struct waiting_msg msgs[HELD_MAX];
    memcpy(msgs, c->held_msgs, sizeof(msgs));
    c->held_msg_count = 0;
    for (; i < n && !c->wait_abandon; i++) {
        if (!c->close_code)
            handle_message(c, msgs[i].buf, msgs[i].len);
        wipe(msgs[i].buf, msgs[i].len);
        free(msgs[i].buf);
    }
    /* A new wait: what is left waits behind it, in front of what it kept
     * since. */
    uint32_t left = n - i;
    if (left) {
        memmove(c->held_msgs + left, c->held_msgs, c->held_msg_count * sizeof(*c->held_msgs));
        memcpy(c->held_msgs, msgs + i, left * sizeof(*msgs));
        c->held_msg_count += left;
    }
}
