#include "ws.h"

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "evloop.h"
#include "klog.h"
#include "metrics.h"
#include "sendq.h"
#include "server.h"
#include "util.h"
#include "wsrx.h"

#define CLOSE_GRACE_SECS 3 /* a closing peer that does not read is dropped */
/* The most one write hands lws: its tx_packet_size for kamrat.v1
 * (server.c), above which lws would keep the rest for the next POLLOUT. */
#define BATCH_BYTES 65536

/* The WebSocket under a struct conn. */
struct wsconn {
    struct lws *wsi;
    struct conn *c;
    struct server *srv;
    struct wsrx rx; /* the message being assembled */
    struct sendq q;
    lws_dll2_t writing; /* in srv->writing while frames wait for the end of the pass */
    bool peer_closed;   /* its close frame came: lws answers it, we send nothing more */
    bool close_sent;    /* our close frame is out: we wait for the peer's */
    bool mid_message;   /* closed while the peer was inside a message (peer_mid_message) */
    uint16_t close_code;
    char close_reason[32];
};

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
static bool write_close_frame(struct wsconn *c)
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
static bool peer_mid_message(struct wsconn *c)
{
    return wsrx_pending(&c->rx) || lws_remaining_packet_payload(c->wsi) > 0;
}

/*
 * Write the oldest queued frames with one lws_write. The oldest alone goes
 * from its own buffer (lws puts the header in its headroom) when it is the
 * only one: what a connection that gets one frame in a pass cost before
 * writes were gathered, with no copy. Several go as whole frames copied
 * behind their headers into one buffer of raw bytes, up to BATCH_BYTES: one
 * send, or one SSL_write, for all of them. What the kernel does not take,
 * lws keeps and writes before it calls WRITEABLE again. Returns 0, or -1
 * when the write failed.
 */
static int write_some(struct wsconn *c)
{
    unsigned char batch[BATCH_BYTES];
    struct sendq_batch b = {0};
    if (c->q.count > 1)
        b = sendq_gather(&c->q, batch, sizeof(batch));
    if (!b.frames) { /* one frame, or one too big to gather */
        struct frame *f = sendq_peek(&c->q);
        if (lws_write(c->wsi, frame_payload(f), f->len, LWS_WRITE_TEXT) < (int)f->len)
            return -1;
        metrics_add(METRIC_BYTES_OUT, f->len);
        sendq_pop(&c->q);
        return 0;
    }
    int n = lws_write(c->wsi, batch, b.len, LWS_WRITE_RAW);
    wipe(batch, b.len); /* message text: not left on the stack */
    if (n < (int)b.len)
        return -1;
    metrics_add(METRIC_BYTES_OUT, b.payload);
    for (uint32_t i = 0; i < b.frames; i++)
        sendq_pop(&c->q);
    return 0;
}

/* A write outside WRITEABLE failed: the client is gone. */
static void write_failed(struct wsconn *c)
{
    klog_debug("conn_write_failed");
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    c->close_code = PROTO_CLOSE_GOING_AWAY; /* nothing more to send */
    conn_lost(c->c);
}

static void close_client(struct conn *conn, enum proto_close code, const char *reason)
{
    struct wsconn *c = conn_impl(conn);
    c->close_code = (uint16_t)code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    if (code == PROTO_CLOSE_TOO_SLOW)
        sendq_clear(&c->q); /* free the backlog now: that is the point of the cut */
    /* If the peer never lets us write the close frame, or never answers it,
     * drop it anyway. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_SECS);
    /* With nothing before it, the close frame goes now: before lws parses
     * what else the peer sent, and answers a protocol error there with a
     * close frame of its own. */
    c->mid_message = peer_mid_message(c);
    /* So do the frames gathered in this pass, in front of it. */
    if (c->q.count && !c->peer_closed && !lws_partial_buffered(c->wsi) && write_some(c) < 0) {
        write_failed(c);
        return;
    }
    if (c->q.count || lws_partial_buffered(c->wsi) || c->peer_closed || c->mid_message)
        lws_callback_on_writable(c->wsi);
    else if (!write_close_frame(c))
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/*
 * Before the loop waits: write what each connection got during the pass,
 * in one write each (Redis's handleClientsWithPendingWrites). Written at
 * once instead, a busy pass cost one send or SSL_write per frame; waiting
 * for POLLOUT instead costs two epoll_ctl calls and a pass per connection,
 * and a socket with room in its buffer (the usual case) takes the bytes
 * now. A connection whose bytes lws still keeps from an earlier write
 * waits for WRITEABLE (on_writable), as does what is left over the bound.
 * Connections leave the list as they are written and when they are freed
 * (wsconn_free), so a connection closed during the pass is never touched.
 */
static void write_gathered(void *arg)
{
    struct server *srv = arg;
    struct lws_dll2 *d;
    while ((d = lws_dll2_get_head(&srv->writing)) != NULL) {
        lws_dll2_remove(d);
        struct wsconn *c = lws_container_of(d, struct wsconn, writing);
        if (!c->q.count)
            continue; /* cut as too slow, or written by its close, since */
        if (lws_partial_buffered(c->wsi)) {
            lws_callback_on_writable(c->wsi);
            continue;
        }
        if (write_some(c) < 0)
            write_failed(c);
        else if (c->q.count)
            lws_callback_on_writable(c->wsi);
    }
}

static void send_frame(struct conn *conn, struct frame *f)
{
    struct wsconn *c = conn_impl(conn);
    if (c->peer_closed)
        return;
    if (sendq_push(&c->q, f) < 0) {
        klog_info("conn_cut reason=too_slow queued_frames=%u queued_bytes=%zu", c->q.count,
                  c->q.bytes);
        conn_close(conn, PROTO_CLOSE_TOO_SLOW, "too slow");
        metrics_inc(METRIC_SLOW_CUT);
        return;
    }
    if (lws_dll2_is_detached(&c->writing))
        lws_dll2_add_tail(&c->writing, &c->srv->writing);
}

static const struct conn_ops ws_ops = {.send = send_frame, .close = close_client};

static struct wsconn *wsconn_new(struct lws *wsi, struct server *srv)
{
    struct wsconn *c = xcalloc(1, sizeof(*c));
    c->wsi = wsi;
    c->srv = srv;
    sendq_init(&c->q, srv->cfg->limits.send_queue_frames, srv->cfg->limits.send_queue_bytes);
    evloop_before_wait(srv->loop, write_gathered, srv);
    c->c = conn_new(srv, &ws_ops, c, false);
    return c;
}

static void wsconn_free(struct wsconn *c)
{
    conn_free(c->c);
    lws_dll2_remove(&c->writing);
    sendq_clear(&c->q);
    wsrx_clear(&c->rx);
    free(c);
}

static void too_big(struct wsconn *c, enum proto_close code)
{
    conn_send_error(c->c, PROTO_E_TOO_BIG, NULL, NULL);
    conn_close(c->c, code, code == PROTO_CLOSE_POLICY ? "too many fragments" : "message too big");
}

static void on_receive(struct wsconn *c, const char *in, size_t len)
{
    const struct limits *lim = &c->srv->cfg->limits;
    struct lws *wsi = c->wsi;

    if (conn_closing(c->c))
        return;
    if (lws_frame_is_binary(wsi)) {
        conn_close(c->c, PROTO_CLOSE_BINARY, "text frames only");
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
        conn_receive(c->c, msg, msg_len);
        wsrx_release(&c->rx);
        break;
    case WSRX_TOO_BIG:
        too_big(c, PROTO_CLOSE_TOO_BIG);
        break;
    case WSRX_TOO_MANY:
        too_big(c, PROTO_CLOSE_POLICY);
        break;
    }
}

/* Write queued frames, one write per call (more: called again), then the
 * close frame if the connection is closing. Returns -1 to have lws close
 * the connection. */
static int on_writable(struct wsconn *c)
{
    if (c->q.count) {
        if (write_some(c) < 0) {
            klog_debug("conn_write_failed");
            return -1;
        }
        /* The close frame goes behind the frames, once lws has written
         * what it kept of them. */
        if (c->q.count || (c->close_code && lws_partial_buffered(c->wsi))) {
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
    struct wsconn **pc = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        *pc = wsconn_new(wsi, server_of(wsi));
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
            wsconn_free(*pc);
            *pc = NULL;
        }
        return 0;
    default:
        return 0;
    }
}
