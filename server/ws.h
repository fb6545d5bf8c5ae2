/*
 * ws: the WebSocket carrier of a connection (conn.h): the lws glue. Input
 * assembly (wsrx.c) with the size and fragment caps applied while bytes
 * arrive (nothing beyond max_message_bytes is ever buffered), the capped
 * send queue (sendq.c), written once per pass of the loop (what a
 * connection got during the pass, in one write, before the loop waits)
 * and by lws when the socket is writable again, and the closing
 * handshake. Whole messages go to conn_receive; what the
 * connection sends comes back through its operations.
 *
 * Knows nothing of rooms, the bus or the mirror.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_WS_H
#define KAMRAT_WS_H

#include <stddef.h>

#include <libwebsockets.h>

/* The lws callback of the kamrat.v1 protocol. */
int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len);

#endif
