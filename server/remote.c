#include "remote.h"

#include <stdlib.h>

#include "bus.h"
#include "conn.h"
#include "server.h"
#include "util.h"

struct remote {
    struct conn *c;
    struct server *srv;
    lws_sorted_usec_list_t reap; /* frees it after conn_close */
};

static void release(struct remote *r)
{
    lws_sul_cancel(&r->reap);
    conn_free(r->c);
    free(r);
}

static void reap(lws_sorted_usec_list_t *sul)
{
    release(lws_container_of(sul, struct remote, reap));
}

static void send_frame(struct conn *c, struct frame *f)
{
    struct remote *r = conn_impl(c);
    bus_deliver(r->srv->bus, c, f);
}

/* Its edge closes the client; the connection goes here once the caller,
 * which may be iterating the room, is done. */
static void close_client(struct conn *c, enum proto_close code, const char *reason)
{
    struct remote *r = conn_impl(c);
    bus_close(r->srv->bus, c, (uint16_t)code, reason);
    lws_sul_schedule(r->srv->ctx, 0, &r->reap, reap, 1);
}

static const struct conn_ops ops = {.send = send_frame, .close = close_client};

struct conn *remote_new(struct server *srv)
{
    struct remote *r = xcalloc(1, sizeof(*r));
    r->srv = srv;
    r->c = conn_new(srv, &ops, r, true);
    return r->c;
}

void remote_drop(struct conn *c)
{
    conn_lost(c);
    release(conn_impl(c));
}
