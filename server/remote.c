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

static void remote_free(struct remote *r)
{
    lws_sul_cancel(&r->reap);
    conn_free(r->c);
    free(r);
}

static void reap(lws_sorted_usec_list_t *sul)
{
    remote_free(lws_container_of(sul, struct remote, reap));
}

static void remote_send(struct conn *c, struct frame *f)
{
    struct remote *r = conn_impl(c);
    bus_deliver(r->srv->bus, c, f);
}

/* Its edge closes the client; the connection goes here once the caller,
 * which may be iterating the room, is done. */
static void remote_close(struct conn *c, enum proto_close code, const char *reason)
{
    struct remote *r = conn_impl(c);
    bus_close(r->srv->bus, c, (uint16_t)code, reason);
    lws_sul_schedule(r->srv->ctx, 0, &r->reap, reap, 1);
}

static const struct conn_ops remote_ops = {.send = remote_send, .close = remote_close};

struct conn *remote_new(struct server *srv)
{
    struct remote *r = xcalloc(1, sizeof(*r));
    r->srv = srv;
    r->c = conn_new(srv, &remote_ops, r, true);
    return r->c;
}

void remote_drop(struct conn *c)
{
    conn_lost(c);
    remote_free(conn_impl(c));
}
