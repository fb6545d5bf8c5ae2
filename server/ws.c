#include "ws.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "klog.h"
#include "metrics.h"
#include "room.h"
#include "sendq.h"
#include "server.h"
#include "util.h"
#include "wsrx.h"

#define ERROR_WINDOW_MS 10000 /* errors counted per window ... */
#define ERROR_BUDGET 100      /* ... before the connection is cut with 4429 */
#define CLOSE_GRACE_SECS 3    /* a closing peer that does not read is dropped */
#define HELD_MAX 8            /* messages kept while a hello waits for the store */

struct conn {
    struct lws *wsi; /* NULL: a remote connection, its client on another node (bus.h) */
    struct server *srv;
    struct member *member;
    lws_dll2_t list; /* in srv->conns */
    struct bus_link link;
    bool heard;     /* a message came (remote connections: the first must be hello or resume) */
    bool replaying; /* ws_replay: its room is here now, whatever the copy said */
    lws_sorted_usec_list_t reap; /* frees a remote connection after ws_close */
    /* Frames waiting for the mirror (ws_hold), in order; each releases once
     * Redis has answered its ticket. */
    struct held {
        struct frame *f;
        uint64_t ticket;
    } * held;
    uint32_t held_head, held_count, held_cap;
    lws_dll2_t holding; /* in srv->holding while held_count > 0 */

    struct wsrx rx; /* the message being assembled */

    struct sendq q;
    bool peer_closed; /* its close frame came: lws answers it, we send nothing more */
    bool close_sent;  /* our close frame is out: we wait for the peer's */
    bool mid_message; /* closed while the peer was inside a message (peer_mid_message) */
    uint16_t close_code;
    char close_reason[32];

    uint64_t errors_window_ms;
    uint32_t errors;

    lws_sorted_usec_list_t hello_deadline;
    bool hello_overdue; /* the deadline passed while the hello waited */
    /* A wait for the store worker (ws_wait), and the messages that came
     * after it, in order, to be handled once it is over. */
    ws_abandon_fn wait_abandon; /* NULL: not waiting */
    void *wait_arg;
    struct waiting_msg {
        char *buf;
        size_t len;
    } held_msgs[HELD_MAX];
    uint32_t held_msg_count;
};

struct member *ws_member(const struct conn *c)
{
    return c->member;
}

void ws_set_member(struct conn *c, struct member *m)
{
    c->member = m;
    if (m)
        lws_sul_cancel(&c->hello_deadline);
    if (m && !c->wsi)
        bus_joined(c->srv->bus, c);
}

static void conn_free(struct conn *c);

static void reap(lws_sorted_usec_list_t *sul)
{
    conn_free(lws_container_of(sul, struct conn, reap));
}

/*
 * Our close frame (RFC 6455 §5.5.1: unmasked from a server, the code in two
 * bytes, then the reason), written as raw bytes. Handed to lws's own close,
 * the connection would be dropped at the first read after the frame (lws 4.1
 * lingers only on a poll loop, not on libev), and a peer still sending then
 * gets an RST that discards the close frame it had not read yet: it sees
 * 1006, not why it was closed. Written by hand, the connection stays up and
 * what the peer still sends is read and dropped until its own close frame,
 * its FIN, or CLOSE_GRACE_SECS. Returns false when the write failed.
 */
static bool write_close_frame(struct conn *c)
{
    unsigned char buf[LWS_PRE + 4 + sizeof(c->close_reason)];
    unsigned char *p = buf + LWS_PRE;
    size_t reason_len = strlen(c->close_reason); /* < 32: fits the 125 bytes of a control frame */
    p[0] = 0x88;                                 /* FIN, opcode close */
    p[1] = (unsigned char)(2 + reason_len);
    p[2] = (unsigned char)(c->close_code >> 8);
    p[3] = (unsigned char)(c->close_code & 0xff);
    memcpy(p + 4, c->close_reason, reason_len);
    c->close_sent = true;
    return lws_write(c->wsi, p, 4 + reason_len, LWS_WRITE_RAW) == (int)(4 + reason_len);
}

/* Is the peer inside a message (a frame too big, or trickled)? Then what it
 * sends next, its answer to our close frame included, is read as that
 * message's payload and the closing handshake cannot end. Such a connection
 * is closed the way lws closes: it drops what follows unparsed and the
 * socket soon after the close frame (a peer still sending may then see
 * 1006, not the code). */
static bool peer_mid_message(struct conn *c)
{
    return wsrx_pending(&c->rx) || lws_remaining_packet_payload(c->wsi) > 0;
}

void ws_close(struct conn *c, enum ws_close_code code, const char *reason)
{
    if (c->close_code)
        return;
    c->close_code = (uint16_t)code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    if (!c->wsi) {
        /* Its edge closes the client; the connection goes here once the
         * caller, which may be iterating the room, is done. */
        bus_close(c->srv->bus, c, (uint16_t)code, reason);
        lws_sul_schedule(c->srv->ctx, 0, &c->reap, reap, 1);
        return;
    }
    if (code == WS_CLOSE_TOO_SLOW)
        sendq_clear(&c->q); /* free the backlog now: that is the point of the cut */
    /* If the peer never lets us write the close frame, or never answers it,
     * drop it anyway. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_SECS);
    /* With nothing before it, the close frame goes now: before lws parses
     * what else the peer sent, and answers a protocol error there with a
     * close frame of its own. */
    c->mid_message = peer_mid_message(c);
    if (c->q.count || lws_partial_buffered(c->wsi) || c->peer_closed || c->mid_message)
        lws_callback_on_writable(c->wsi);
    else if (!write_close_frame(c))
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Write a frame at once, outside lws's WRITEABLE callback, when nothing is
 * waiting before it. Waiting for POLLOUT costs two epoll_ctl calls and a
 * pass of the loop per delivery, and a socket with room in its buffer (the
 * usual case) takes the frame now. What the kernel does not take, lws keeps
 * and flushes before it calls WRITEABLE again; until then frames queue. */
static bool write_now(struct conn *c, struct frame *f)
{
    if (c->q.count || lws_partial_buffered(c->wsi))
        return false;
    if (lws_write(c->wsi, frame_payload(f), f->len, LWS_WRITE_TEXT) < (int)f->len) {
        klog_debug("conn_write_failed");
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        c->close_code = WS_CLOSE_GOING_AWAY; /* nothing more to send */
        return true;
    }
    metrics_add(METRIC_BYTES_OUT, f->len);
    return true;
}

static void send_now(struct conn *c, struct frame *f);

static void hold_push(struct conn *c, struct frame *f, uint64_t ticket)
{
    if (c->held_head + c->held_count == c->held_cap) {
        if (c->held_head) { /* slide down before growing */
            memmove(c->held, c->held + c->held_head, c->held_count * sizeof(*c->held));
            c->held_head = 0;
        }
        if (c->held_count == c->held_cap) {
            c->held_cap = c->held_cap ? c->held_cap * 2 : 4;
            c->held = xrealloc(c->held, c->held_cap * sizeof(*c->held));
        }
    }
    c->held[c->held_head + c->held_count++] = (struct held){frame_ref(f), ticket};
    if (c->held_count == 1)
        lws_dll2_add_tail(&c->holding, &c->srv->holding);
}

void ws_hold(struct conn *c, struct frame *f, uint64_t ticket)
{
    if (!c->close_code && !c->peer_closed)
        hold_push(c, f, ticket);
}

void ws_release(struct conn *c, uint64_t upto)
{
    while (c->held_count && c->held[c->held_head].ticket <= upto) {
        struct frame *f = c->held[c->held_head].f;
        c->held_head++;
        c->held_count--;
        send_now(c, f);
        frame_unref(f);
    }
    if (!c->held_count) {
        c->held_head = 0;
        lws_dll2_remove(&c->holding);
    }
}

void ws_release_all(lws_dll2_owner_t *holding, uint64_t upto)
{
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, next, lws_dll2_get_head(holding))
    {
        ws_release(lws_container_of(d, struct conn, holding), upto);
    }
    lws_end_foreach_dll_safe(d, next);
}

static void hold_clear(struct conn *c)
{
    for (uint32_t i = 0; i < c->held_count; i++)
        frame_unref(c->held[c->held_head + i].f);
    free(c->held);
    c->held = NULL;
    c->held_count = c->held_head = c->held_cap = 0;
    lws_dll2_remove(&c->holding);
}

void ws_send(struct conn *c, struct frame *f)
{
    if (c->close_code || c->peer_closed)
        return;
    if (c->held_count) {
        /* Behind a held frame: in order, released with it. */
        hold_push(c, f, c->held[c->held_head + c->held_count - 1].ticket);
        return;
    }
    send_now(c, f);
}

static void send_now(struct conn *c, struct frame *f)
{
    if (c->close_code || c->peer_closed)
        return;
    if (!c->wsi) {
        bus_deliver(c->srv->bus, c, f);
        return;
    }
    if (write_now(c, f))
        return;
    if (sendq_push(&c->q, f) < 0) {
        klog_info("conn_cut reason=too_slow queued_frames=%u queued_bytes=%zu", c->q.count,
                  c->q.bytes);
        ws_close(c, WS_CLOSE_TOO_SLOW, "too slow");
        metrics_inc(METRIC_SLOW_CUT);
        return;
    }
    if (c->q.count == 1)
        lws_callback_on_writable(c->wsi);
}

void ws_send_error(struct conn *c, enum proto_err e, const char *ref,
                   const struct proto_error_detail *d)
{
    struct frame *f = proto_encode_error(e, ref, d);
    ws_send(c, f);
    frame_unref(f);
    metrics_error(e);

    uint64_t now = util_now_ms();
    if (now - c->errors_window_ms > ERROR_WINDOW_MS) {
        c->errors_window_ms = now;
        c->errors = 0;
    }
    if (++c->errors >= ERROR_BUDGET) {
        klog_info("conn_cut reason=abuse errors=%u", c->errors);
        ws_close(c, WS_CLOSE_ABUSE, "too many errors");
    }
}

void ws_close_all(lws_dll2_owner_t *conns, enum ws_close_code code)
{
    lws_start_foreach_dll(struct lws_dll2 *, d, lws_dll2_get_head(conns))
    {
        ws_close(lws_container_of(d, struct conn, list), code, "going away");
    }
    lws_end_foreach_dll(d);
}

static void hello_expired(lws_sorted_usec_list_t *sul)
{
    struct conn *c = lws_container_of(sul, struct conn, hello_deadline);
    if (c->wait_abandon)
        c->hello_overdue = true; /* it came in time; its answer decides */
    else if (!c->member)
        ws_close(c, WS_CLOSE_UNAUTHORISED, "no hello");
}

/* Free the messages kept behind a hello; they may hold message text. */
static void drop_waiting_msgs(struct conn *c)
{
    for (uint32_t i = 0; i < c->held_msg_count; i++) {
        wipe(c->held_msgs[i].buf, c->held_msgs[i].len);
        free(c->held_msgs[i].buf);
    }
    c->held_msg_count = 0;
}

struct bus_link *ws_bus_link(struct conn *c)
{
    return &c->link;
}

static struct conn *conn_new(struct lws *wsi, struct server *srv)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    c->wsi = wsi;
    c->srv = srv;
    sendq_init(&c->q, srv->cfg->limits.send_queue_frames, srv->cfg->limits.send_queue_bytes);
    lws_dll2_add_tail(&c->list, &srv->conns);
    if (!wsi)
        srv->remote_conns++;
    lws_sul_schedule(srv->ctx, 0, &c->hello_deadline, hello_expired,
                     (lws_usec_t)srv->cfg->limits.hello_timeout * LWS_US_PER_SEC);
    if (srv->draining)
        ws_close(c, WS_CLOSE_GOING_AWAY, "going away");
    return c;
}

static void conn_free(struct conn *c)
{
    lws_sul_cancel(&c->hello_deadline);
    lws_sul_cancel(&c->reap);
    hold_clear(c);
    if (c->wait_abandon)
        c->wait_abandon(c->wait_arg);
    drop_waiting_msgs(c);
    if (c->srv->bus)
        bus_conn_gone(c->srv->bus, c);
    if (c->member)
        room_conn_lost(c->srv->rooms, c->member);
    lws_dll2_remove(&c->list);
    if (!c->wsi)
        c->srv->remote_conns--;
    sendq_clear(&c->q);
    wsrx_clear(&c->rx);
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
    ws_close(c, WS_CLOSE_INTERNAL, "bus unavailable");
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
            ws_send_error(c, PROTO_E_BUSY, cmd.id[0] ? cmd.id : NULL, NULL);
        }
        proto_cmd_clear(&cmd);
        return;
    }
    bool first = !c->heard;
    c->heard = true;
    if (first && !c->wsi && (e || (cmd.type != PROTO_HELLO && cmd.type != PROTO_RESUME))) {
        /* A client relayed to this node's previous run: it resumes anew. */
        ws_close(c, WS_CLOSE_GOING_AWAY, "node restarted");
    } else if (e) {
        ws_send_error(c, e, cmd.id[0] ? cmd.id : NULL,
                      &(struct proto_error_detail){.field = cmd.field});
    } else if (served_here(c, &cmd, buf, len)) {
        room_dispatch(c->srv->rooms, c, &cmd);
    }
    proto_cmd_clear(&cmd);
}

void ws_wait(struct conn *c, ws_abandon_fn abandon, void *arg)
{
    assert(!c->wait_abandon && abandon);
    c->wait_abandon = abandon;
    c->wait_arg = arg;
}

void ws_wait_done(struct conn *c, const char *first, size_t len)
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
    /* A new hello waits: what is left waits behind it, in front of what
     * it kept since. */
    uint32_t left = n - i;
    if (left) {
        memmove(c->held_msgs + left, c->held_msgs, c->held_msg_count * sizeof(*c->held_msgs));
        memcpy(c->held_msgs, msgs + i, left * sizeof(*msgs));
        c->held_msg_count += left;
    }
}

struct conn *ws_remote_new(struct server *srv)
{
    return conn_new(NULL, srv);
}

void ws_remote_receive(struct conn *c, const char *msg, size_t len)
{
    if (!c->close_code)
        handle_message(c, msg, len);
}

void ws_replay(struct conn *c, const char *msg, size_t len)
{
    if (c->close_code)
        return;
    c->replaying = true;
    handle_message(c, msg, len);
    c->replaying = false;
}

void ws_remote_drop(struct conn *c)
{
    c->close_code = WS_CLOSE_GOING_AWAY; /* nothing more for it */
    conn_free(c);
}

static void too_big(struct conn *c, enum ws_close_code code)
{
    ws_send_error(c, PROTO_E_TOO_BIG, NULL, NULL);
    ws_close(c, code, code == WS_CLOSE_POLICY ? "too many fragments" : "message too big");
}

static void on_receive(struct conn *c, const char *in, size_t len)
{
    const struct limits *lim = &c->srv->cfg->limits;
    struct lws *wsi = c->wsi;

    if (c->close_code)
        return;
    if (lws_frame_is_binary(wsi)) {
        ws_close(c, WS_CLOSE_BINARY, "text frames only");
        return;
    }
    struct wsrx_piece p = {.data = in,
                           .len = len,
                           .first = lws_is_first_fragment(wsi),
                           .frame_end = lws_remaining_packet_payload(wsi) == 0,
                           .final = lws_is_final_fragment(wsi)};
    struct wsrx_caps caps = {lim->max_message_bytes, lim->max_fragments};
    const char *msg;
    size_t msg_len;
    switch (wsrx_push(&c->rx, &p, &caps, &msg, &msg_len)) {
    case WSRX_MORE:
        break;
    case WSRX_MESSAGE:
        handle_message(c, msg, msg_len);
        wsrx_release(&c->rx);
        break;
    case WSRX_TOO_BIG:
        too_big(c, WS_CLOSE_TOO_BIG);
        break;
    case WSRX_TOO_MANY:
        too_big(c, WS_CLOSE_POLICY);
        break;
    }
}

/* Write queued frames until the socket would block, then the close frame if
 * the connection is closing. Returns -1 to have lws close the connection. */
static int on_writable(struct conn *c)
{
    struct frame *f;
    while ((f = sendq_peek(&c->q)) != NULL) {
        if (lws_write(c->wsi, frame_payload(f), f->len, LWS_WRITE_TEXT) < (int)f->len) {
            klog_debug("conn_write_failed");
            return -1;
        }
        metrics_add(METRIC_BYTES_OUT, f->len);
        sendq_pop(&c->q);
        /* lws_send_pipe_choked() costs a poll(2): ask only when something
         * else (a frame or the close) would be written back to back. */
        if ((c->q.count || c->close_code) && lws_send_pipe_choked(c->wsi)) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    }
    if (!c->close_code || c->close_sent)
        return 0;
    if (c->peer_closed)
        return -1; /* lws has answered the peer's close frame */
    if (c->mid_message) {
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        return -1;
    }
    return write_close_frame(c) ? 0 : -1;
}

/* lws 4.1.6 echoes any close frame; RFC 6455 §7.4 says which codes a peer
 * may send, and that a close payload is empty or a code and UTF-8 text. */
static bool close_frame_ok(const unsigned char *in, size_t len)
{
    if (len == 0)
        return true;
    if (len == 1)
        return false;
    unsigned code = (unsigned)in[0] << 8 | in[1];
    bool code_ok = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                   (code >= 3000 && code <= 4999);
    return code_ok && proto_utf8_valid((const char *)in + 2, len - 2);
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct conn **pc = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        *pc = conn_new(wsi, server_of(wsi));
        metrics_inc(METRIC_CONNECTIONS_ACCEPTED);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        metrics_add(METRIC_BYTES_IN, len);
        if (*pc)
            on_receive(*pc, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return *pc ? on_writable(*pc) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (*pc && (*pc)->close_sent)
            return -1; /* the closing handshake is done; the peer sends nothing more */
        if (*pc)
            (*pc)->peer_closed = true;
        if (close_frame_ok(in, len))
            return 0; /* lws echoes it */
        lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *)"bad close", 9);
        return -1;
    case LWS_CALLBACK_CLOSED:
        if (*pc) {
            conn_free(*pc);
            *pc = NULL;
        }
        return 0;
    default:
        return 0;
    }
}
