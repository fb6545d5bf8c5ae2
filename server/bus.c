#include "bus.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cluster.h"
#include "conn.h"
#include "evloop.h"
#include "frame.h"
#include "gate.h"
#include "hmap.h"
#include "klog.h"
#include "metrics.h"
#include "mirror.h"
#include "remote.h"
#include "room.h"
#include "server.h"
#include "store.h"
#include "storeq.h"
#include "util.h"

/*
 * What one node publishes to another's channel: a kind byte, the sender's
 * node id (a length byte, then the id), then by kind (integers big-endian):
 *
 *   'M' id:u64 message...          edge -> home: a client's message, as it came
 *   'H' id:u64 route:u64 message... edge -> home: a client's hello or resume,
 *                                  with the route the edge found for it
 *   'G' id:u64                     edge -> home: the client's connection closed
 *   'F' n:u32 id:u64 x n frame...  home -> edge: a frame for these clients
 *   'J' id:u64                     home -> edge: this client has joined
 *   'C' id:u64 code:u16 reason...  home -> edge: close this client
 *   'L' username...                to all: this leader logged out
 *   'R'                            either way: the sender lost track (it
 *                                  started, or a Redis connection of its
 *                                  dropped): forget what crossed to it
 */
enum wire_kind {
    WIRE_MESSAGE = 'M',
    WIRE_HELLO = 'H',
    WIRE_GONE = 'G',
    WIRE_FRAME = 'F',
    WIRE_JOINED = 'J',
    WIRE_CLOSE = 'C',
    WIRE_RESET = 'R',
    WIRE_LOGOUT = 'L',
};

#define CLOSE_REASON_MAX 32
/* After Redis was lost, how long a node waits before it makes or takes over
 * a room that is not here: every live node has registered again by then
 * (its key's TTL and one refresh), so none is taken for gone and its rooms
 * made anew elsewhere while it still holds them. */
#define SETTLE_MS 6000
/* A hello or resume whose home did not hear it waits this long at most for
 * the live set to drop that node (its lease, cluster.c's LEASE_MS, and a
 * refresh), then its room has a new home; see hold_unheard. */
#define UNHEARD_HOLD_MS 3500
#define UNHEARD_CHECK_S 0.1

struct bus_node {
    char id[CONFIG_NODE_ID_MAX + 1];
    struct hmap *relayed; /* edge: our clients whose room lives there, by link id */
    struct hmap *remote;  /* home: its clients in our rooms, by link id */
    /* home: the frame being gathered for it, and its recipients there */
    struct frame *pending;
    uint64_t *ids;
    uint32_t n, cap;
    bool dirty; /* in bus->dirty */
};

/* A copy being read for route. */
struct fetch_wait {
    struct bus *b;
    uint64_t route;
};

/* A hello or resume that waits for its room's copy to be read. */
/* A hello or resume waiting here: for its room's copy (parked), or for the
 * live set to drop the home that did not hear it (held). */
struct parked {
    struct conn *c;
    uint64_t route;
    char *raw;
    size_t len;
    const struct bus_node *gone; /* held: the home that did not hear it */
    uint64_t until_ms;           /* held: then the client is closed (1001) */
};

struct waitlist {
    struct parked *v;
    size_t n, cap;
};

struct bus {
    struct server *srv;
    struct cluster *cl;
    const char *self; /* this node's id */
    struct hmap *nodes;
    uint64_t next_id;
    bool announce;       /* tell every node to forget us once the bus is up */
    bool lost;           /* Redis was lost: settle before taking rooms over */
    uint64_t settled_ms; /* no room is made or taken over here before this */
    struct bus_node **dirty;
    size_t ndirty, dirty_cap;
    unsigned char *buf; /* one wire message being put together */
    size_t len, cap;
    ev_prepare flush;       /* before the loop waits: publish what was gathered */
    struct waitlist parked; /* for a room's copy */
    struct waitlist held;   /* for the live set to drop a home */
    ev_timer held_check;    /* runs while some are held */
};

/* ---- hellos waiting here ---- */

static void waitlist_add(struct waitlist *w, struct parked p)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
    }
    w->v[w->n++] = p;
}

/* Take entry i out (the last one takes its place); its raw is the caller's. */
static struct parked waitlist_take(struct waitlist *w, size_t i)
{
    struct parked p = w->v[i];
    w->v[i] = w->v[--w->n];
    return p;
}

/* A hello or resume holds an invite code or a resume token. */
static void parked_free(struct parked *p)
{
    wipe(p->raw, p->len);
    free(p->raw);
}

static void waitlist_forget(struct waitlist *w, const struct conn *c)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->v[i].c == c) {
            struct parked p = waitlist_take(w, i--);
            parked_free(&p);
        }
    }
}

static void waitlist_clear(struct waitlist *w)
{
    for (size_t i = 0; i < w->n; i++)
        parked_free(&w->v[i]);
    free(w->v);
}

static void forget_hello(struct bus_link *l)
{
    if (!l->hello)
        return;
    wipe(l->hello, l->hello_len);
    free(l->hello);
    l->hello = NULL;
    l->hello_len = 0;
}

/* ---- wire ---- */

static void put(struct bus *b, const void *data, size_t len)
{
    if (!len)
        return;
    if (b->len + len > b->cap) {
        while (b->len + len > b->cap)
            b->cap = b->cap ? b->cap * 2 : 4096;
        b->buf = xrealloc(b->buf, b->cap);
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
}

static void put_u64(struct bus *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (56 - 8 * i));
    put(b, x, sizeof(x));
}

static void put_u32(struct bus *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(b, x, sizeof(x));
}

static void start(struct bus *b, enum wire_kind kind)
{
    unsigned char head[2] = {(unsigned char)kind, (unsigned char)strlen(b->self)};
    b->len = 0;
    put(b, head, sizeof(head));
    put(b, b->self, head[1]);
}

/* Publish the message put together to node, then wipe it (it may hold
 * message text). confirm: find out whether anyone heard it. */
static int publish(struct bus *b, const char *node, bool confirm)
{
    int rc = cluster_publish(b->cl, node, b->buf, b->len, confirm);
    if (rc == 0)
        metrics_add(METRIC_BUS_OUT, b->len);
    wipe(b->buf, b->len);
    return rc;
}

static int send_to(struct bus *b, const char *node)
{
    return publish(b, node, false);
}

/* The same message, kind and payload, to every other live node. */
static void broadcast(struct bus *b, enum wire_kind kind, const void *payload, size_t len)
{
    const char *const *nodes;
    size_t n;
    cluster_live(b->cl, &nodes, &n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(nodes[i], b->self) == 0)
            continue;
        start(b, kind);
        put(b, payload, len);
        send_to(b, nodes[i]);
    }
}

struct reader {
    const unsigned char *p, *end;
    bool bad;
};

static const unsigned char *take(struct reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *at = r->p;
    r->p += n;
    return at;
}

static uint64_t take_uint(struct reader *r, size_t n)
{
    const unsigned char *x = take(r, n);
    uint64_t v = 0;
    for (size_t i = 0; x && i < n; i++)
        v = v << 8 | x[i];
    return v;
}

/* ---- nodes ---- */

static struct bus_node *node_get(struct bus *b, const char *id, size_t len)
{
    struct bus_node *n = hmap_get(b->nodes, id, len);
    if (n)
        return n;
    n = xcalloc(1, sizeof(*n));
    memcpy(n->id, id, len);
    n->relayed = hmap_new();
    n->remote = hmap_new();
    hmap_put(b->nodes, n->id, len, n);
    return n;
}

/* Publish the frame gathered for n, if any. */
static void flush_node(struct bus *b, struct bus_node *n)
{
    if (!n->pending)
        return;
    if (n->n) {
        start(b, WIRE_FRAME);
        put_u32(b, n->n);
        for (uint32_t i = 0; i < n->n; i++)
            put_u64(b, n->ids[i]);
        put(b, frame_payload(n->pending), n->pending->len);
        send_to(b, n->id); /* a failure is the connection's loss: reset follows */
    }
    frame_unref(n->pending);
    n->pending = NULL;
    n->n = 0;
}

static void flush_all(struct bus *b)
{
    for (size_t i = 0; i < b->ndirty; i++) {
        b->dirty[i]->dirty = false;
        flush_node(b, b->dirty[i]);
    }
    b->ndirty = 0;
}

static bool ready(struct bus *b);

static void on_prepare(struct ev_loop *ev, ev_prepare *w, int revents)
{
    (void)ev;
    (void)revents;
    struct bus *b = w->data;
    if (b->announce)
        ready(b); /* back after a reset: tell the others, copy the rooms anew */
    if (b->srv->mirror)
        room_mirror_flush(b->srv->rooms);
    flush_all(b);
}

/* The connections of table, in a new array (*count of them): what is done
 * to each may change the table. */
static struct conn **conns_of(struct hmap *table, size_t *count)
{
    *count = hmap_count(table);
    struct conn **v = xcalloc(*count ? *count : 1, sizeof(*v));
    size_t pos = 0, i = 0;
    struct conn *c;
    while ((c = hmap_next(table, &pos)) != NULL)
        v[i++] = c;
    return v;
}

/* Forget what crossed between this node and n: close our clients whose room
 * lives there (they resume wherever the room is now), and detach the members
 * of n's clients here (they wait out resume_grace). */
static void drop_node(struct bus *b, struct bus_node *n, const char *why)
{
    (void)b;
    size_t count;
    struct conn **v = conns_of(n->relayed, &count);
    for (size_t i = 0; i < count; i++)
        conn_close(v[i], PROTO_CLOSE_GOING_AWAY, why);
    free(v);

    v = conns_of(n->remote, &count);
    for (size_t i = 0; i < count; i++) {
        struct bus_link *l = conn_bus_link(v[i]);
        hmap_del(n->remote, &l->id, sizeof(l->id));
        l->node = NULL; /* sends to it are dropped from now on */
    }
    for (size_t i = 0; i < count; i++)
        remote_drop(v[i]);
    free(v);
    if (n->pending) {
        frame_unref(n->pending);
        n->pending = NULL;
        n->n = 0;
    }
    klog_debug("bus_node_dropped node=%s reason=\"%s\"", n->id, why);
}

static void on_reset(void *arg)
{
    struct bus *b = arg;
    size_t pos = 0;
    struct bus_node *n;
    while ((n = hmap_next(b->nodes, &pos)) != NULL)
        drop_node(b, n, "bus lost");
    b->announce = true;
    b->lost = true;
}

/* This node's lease is gone (cluster.h): its rooms may be another node's
 * already, so they go at once, and what crossed the bus starts over. */
static void on_lease_lost(void *arg)
{
    struct bus *b = arg;
    room_let_go_all(b->srv->rooms, PROTO_CLOSE_GOING_AWAY, "lease lost");
    on_reset(b);
}

/* p waits until the live set drops gone (release_held). */
static void hold(struct bus *b, struct parked p, const struct bus_node *gone)
{
    p.gone = gone;
    p.until_ms = util_now_ms() + UNHEARD_HOLD_MS;
    waitlist_add(&b->held, p);
    ev_timer_start(evloop_native(b->srv->loop), &b->held_check);
}

/* The clients relayed to n that wait for its answer to their hello or
 * resume wait here instead, until the live set drops n and their room has
 * a new home (release_held), or UNHEARD_HOLD_MS pass: closed with 1001,
 * they would only come back, to this node or another that thinks the same,
 * and be refused again until then. */
static void hold_unheard(struct bus *b, struct bus_node *n)
{
    size_t count;
    struct conn **v = conns_of(n->relayed, &count);
    for (size_t i = 0; i < count; i++) {
        struct bus_link *l = conn_bus_link(v[i]);
        if (l->joined || !l->hello)
            continue;
        hmap_del(n->relayed, &l->id, sizeof(l->id));
        l->node = NULL;
        hold(b,
             (struct parked){
                 .c = v[i], .route = l->hello_route, .raw = l->hello, .len = l->hello_len},
             n);
        l->hello = NULL;
        l->hello_len = 0;
    }
    free(v);
}

/* Route the held hellos whose home has left the live set anew; close those
 * held too long. */
static void release_held(struct bus *b)
{
    uint64_t now = util_now_ms();
    for (size_t i = 0; i < b->held.n; i++) {
        const struct parked *p = &b->held.v[i];
        bool gone = !cluster_is_live(b->cl, p->gone->id);
        if (!gone && now < p->until_ms)
            continue;
        struct parked mine = waitlist_take(&b->held, i--);
        if (gone)
            conn_receive(mine.c, mine.raw, mine.len); /* routed, or the copy read, anew */
        else
            conn_close(mine.c, PROTO_CLOSE_GOING_AWAY, "room elsewhere");
        parked_free(&mine);
    }
    if (!b->held.n)
        ev_timer_stop(evloop_native(b->srv->loop), &b->held_check);
}

static void on_held_check(struct ev_loop *ev, ev_timer *w, int revents)
{
    (void)ev;
    (void)revents;
    release_held(w->data);
}

static void on_unheard(void *arg, const char *node)
{
    struct bus *b = arg;
    struct bus_node *n = hmap_get(b->nodes, node, strlen(node));
    if (!n)
        return;
    hold_unheard(b, n);
    drop_node(b, n, "home not there");
}

/* A room's home among the live nodes (NULL before the first listing). */
static const char *home_of(void *arg, uint64_t route)
{
    struct bus *b = arg;
    const char *const *nodes;
    size_t n;
    cluster_live(b->cl, &nodes, &n);
    return cluster_home(route, nodes, n);
}

static void on_nodes(void *arg)
{
    struct bus *b = arg;
    size_t pos = 0;
    struct bus_node *n;
    while ((n = hmap_next(b->nodes, &pos)) != NULL)
        if (!cluster_is_live(b->cl, n->id))
            drop_node(b, n, "node lost");
    release_held(b);
    /* A node that joined is the home of some rooms here now: they move. A
     * node that left moves none of ours (rendezvous hashing). */
    if (b->srv->mirror && cluster_bus_ready(b->cl))
        room_hand_off_moved(b->srv->rooms, home_of, b);
}

/* Can messages cross now? The first time after a start or a reset, every
 * live node is first told to forget what it had from this node. */
static bool ready(struct bus *b)
{
    if (!cluster_bus_ready(b->cl))
        return false;
    if (b->announce) {
        b->announce = false;
        if (b->lost)
            b->settled_ms = util_now_ms() + SETTLE_MS;
        b->lost = false;
        if (b->srv->mirror)
            room_mirror_resync(b->srv->rooms); /* writes made while Redis was away are lost */
        broadcast(b, WIRE_RESET, NULL, 0);
    }
    return true;
}

/* ---- edge side ---- */

/* An invite's route being looked up on the store worker while its
 * connection waits (conn_wait). */
struct lookup {
    struct conn *c; /* NULL once the connection is gone, or was answered busy */
    char ref[PROTO_ID_MAX + 1];
    unsigned char hash[AUTH_DIGEST_LEN]; /* the invite code's */
    int64_t now;
    int rc; /* the worker's answer */
    int64_t session;
    char *raw; /* the hello, handled again once the route is known */
    size_t len;
};

static void lookup_work(struct store *s, void *arg)
{
    struct lookup *lk = arg;
    lk->rc = store_invite_session(s, lk->hash, lk->now, &lk->session);
}

static void lookup_free(struct lookup *lk)
{
    wipe(lk->raw, lk->len); /* the invite code, the name */
    free(lk->raw);
    wipe(lk->hash, sizeof(lk->hash));
    free(lk);
}

static void lookup_done(void *arg, enum storeq_status st)
{
    struct lookup *lk = arg;
    struct conn *c = lk->c;
    if (!c) {
        lookup_free(lk);
        return;
    }
    struct bus_link *l = conn_bus_link(c);
    if (st == STOREQ_CANCELLED) {
        conn_close(c, PROTO_CLOSE_GOING_AWAY, "going away"); /* kamratd stops */
        conn_wait_done(c, NULL, 0);
    } else {
        /* A store that cannot answer now leads nowhere too: the gate here
         * then meets the same store, and answers as one node would. */
        if (lk->rc == 0) {
            char key[GATE_KEY_MAX + 1];
            snprintf(key, sizeof(key), "#%lld", (long long)lk->session);
            l->route = cluster_route(key);
            l->found = BUS_FOUND_ROUTE;
        } else {
            l->found = BUS_FOUND_NONE;
        }
        conn_wait_done(c, lk->raw, lk->len);
    }
    lookup_free(lk);
}

/* The worker did not answer in time: the client may try again. */
static void lookup_expired(void *arg)
{
    struct lookup *lk = arg;
    struct conn *c = lk->c;
    lk->c = NULL;
    klog_warn("route_lookup_busy reason=timeout");
    conn_send_error(c, PROTO_E_BUSY, lk->ref[0] ? lk->ref : NULL, NULL);
    conn_wait_done(c, NULL, 0);
}

static void lookup_abandon(void *arg)
{
    ((struct lookup *)arg)->c = NULL;
}

/* Look the route of c's hello with an invite up on the store worker, while
 * c waits (or answer it busy now: the worker has STOREQ_CAP requests). */
static void look_up(struct bus *b, struct conn *c, const struct proto_cmd *cmd, const char *raw,
                    size_t len)
{
    struct lookup *lk = xcalloc(1, sizeof(*lk));
    lk->c = c;
    snprintf(lk->ref, sizeof(lk->ref), "%s", cmd->id);
    lk->now = config_now(b->srv->cfg);
    lk->raw = xmalloc(len ? len : 1);
    memcpy(lk->raw, raw, len);
    lk->len = len;
    if (auth_token_hash(cmd->u.hello.invite, lk->hash) < 0 ||
        storeq_submit(b->srv->storeq, lookup_work, lookup_done, lookup_expired, lk, util_now_ms()) <
            0) {
        klog_warn("route_lookup_busy reason=queue_full");
        conn_send_error(c, PROTO_E_BUSY, cmd->id[0] ? cmd->id : NULL, NULL);
        lookup_free(lk);
        return;
    }
    conn_wait(c, lookup_abandon, lk);
}

enum route_of {
    ROUTE_KNOWN,   /* *route is the room's */
    ROUTE_NOWHERE, /* only the gate here can answer (an invite that leads nowhere) */
    ROUTE_WAITING, /* looked up on the store worker: c waits */
};

/* The route of the room a hello or resume of c asks for. */
static enum route_of route_of(struct bus *b, struct conn *c, const struct proto_cmd *cmd,
                              const char *raw, size_t len, uint64_t *route)
{
    struct bus_link *l = conn_bus_link(c);
    enum bus_found found = (enum bus_found)l->found;
    l->found = BUS_FOUND_NOT; /* it was for this message only */
    *route = l->route;
    if (found != BUS_FOUND_NOT)
        return found == BUS_FOUND_ROUTE ? ROUTE_KNOWN : ROUTE_NOWHERE;
    if (cmd->type == PROTO_RESUME) {
        *route = room_token_route(cmd->u.resume.token);
        return ROUTE_KNOWN;
    }
    char key[GATE_KEY_MAX + 1];
    if (cmd->u.hello.room[0]) {
        snprintf(key, sizeof(key), "%s", cmd->u.hello.room);
    } else if (cmd->u.hello.token[0]) {
        snprintf(key, sizeof(key), "#%llu", (unsigned long long)cmd->u.hello.session);
    } else if (cmd->u.hello.invite[0]) {
        look_up(b, c, cmd, raw, len);
        return ROUTE_WAITING;
    } else {
        return ROUTE_NOWHERE; /* the gate here refuses it */
    }
    *route = cluster_route(key);
    return ROUTE_KNOWN;
}

static void relay(struct bus *b, struct conn *c, enum wire_kind kind, uint64_t route,
                  const char *raw, size_t len);
static bool park(struct bus *b, struct conn *c, uint64_t route, const char *raw, size_t len);

/* Where a hello or resume of c, not joined, for the room at route goes. */
static enum bus_route route_hello(struct bus *b, struct conn *c, uint64_t route, const char *raw,
                                  size_t len)
{
    const char *home = home_of(b, route);
    struct bus_link *l = conn_bus_link(c);
    if (l->node && home && strcmp(home, l->node->id) == 0) {
        relay(b, c, WIRE_HELLO, route, raw, len); /* another try at the same home */
        return BUS_RELAYED;
    }
    bus_conn_gone(b, c); /* relayed before, to another home: not any more */
    if (!home || strcmp(home, b->self) == 0)
        return park(b, c, route, raw, len) ? BUS_TAKEN : BUS_HERE;
    if (!ready(b))
        return BUS_UNAVAILABLE;
    l->node = node_get(b, home, strlen(home));
    l->joined = false;
    l->id = ++b->next_id;
    l->remote = false;
    hmap_put(l->node->relayed, &l->id, sizeof(l->id), c);
    relay(b, c, WIRE_HELLO, route, raw, len);
    return BUS_RELAYED;
}

enum bus_route bus_take(struct bus *b, struct conn *c, const struct proto_cmd *cmd, const char *raw,
                        size_t len)
{
    struct bus_link *l = conn_bus_link(c);
    if (cmd->type != PROTO_HELLO && cmd->type != PROTO_RESUME) {
        if (l->remote || !l->node)
            return BUS_HERE;
        bus_relay(b, c, raw, len); /* its home answers: not_joined */
        return BUS_TAKEN;
    }
    uint64_t route;
    switch (route_of(b, c, cmd, raw, len, &route)) {
    case ROUTE_KNOWN:
        break;
    case ROUTE_NOWHERE:
        return BUS_HERE;
    case ROUTE_WAITING:
        return BUS_TAKEN;
    }
    if (l->remote) /* the home: its edge found the route */
        return park(b, c, route, raw, len) ? BUS_TAKEN : BUS_HERE;
    return route_hello(b, c, route, raw, len);
}

/* A message of c to the home it is relayed to; a hello or resume with its
 * route. */
static void relay(struct bus *b, struct conn *c, enum wire_kind kind, uint64_t route,
                  const char *raw, size_t len)
{
    struct bus_link *l = conn_bus_link(c);
    start(b, kind);
    put_u64(b, l->id);
    if (kind == WIRE_HELLO) {
        put_u64(b, route);
        forget_hello(l);
        l->hello = xmalloc(len ? len : 1);
        memcpy(l->hello, raw, len);
        l->hello_len = len;
        l->hello_route = route;
    }
    put(b, raw, len);
    /* A client's messages go to its room's home: when nobody hears them,
     * the home is gone before its key expired, and the client must go
     * elsewhere (unheard below). */
    if (publish(b, l->node->id, true) < 0)
        conn_close(c, PROTO_CLOSE_GOING_AWAY, "bus lost"); /* the client resumes and resends */
}

void bus_relay(struct bus *b, struct conn *c, const char *raw, size_t len)
{
    relay(b, c, WIRE_MESSAGE, 0, raw, len);
}

void bus_conn_gone(struct bus *b, struct conn *c)
{
    waitlist_forget(&b->parked, c);
    waitlist_forget(&b->held, c);
    struct bus_link *l = conn_bus_link(c);
    forget_hello(l);
    if (!l->node)
        return;
    if (l->remote) {
        hmap_del(l->node->remote, &l->id, sizeof(l->id));
    } else {
        hmap_del(l->node->relayed, &l->id, sizeof(l->id));
        if (cluster_bus_ready(b->cl)) {
            start(b, WIRE_GONE);
            put_u64(b, l->id);
            send_to(b, l->node->id);
        }
    }
    l->node = NULL;
}

/* A frame for some of our clients from the home of their room. */
static void deliver_here(struct bus_node *from, struct reader *r)
{
    uint32_t count = (uint32_t)take_uint(r, 4);
    const unsigned char *ids = take(r, (size_t)count * 8);
    if (!ids)
        return;
    struct frame *f = frame_from(r->p, (size_t)(r->end - r->p));
    for (uint32_t i = 0; i < count; i++) {
        uint64_t id = 0;
        for (int k = 0; k < 8; k++)
            id = id << 8 | ids[8 * i + (uint32_t)k];
        struct conn *c = hmap_get(from->relayed, &id, sizeof(id));
        if (c)
            conn_send(c, f);
    }
    frame_unref(f);
}

static void joined_here(struct bus_node *from, struct reader *r)
{
    uint64_t id = take_uint(r, 8);
    struct conn *c = r->bad ? NULL : hmap_get(from->relayed, &id, sizeof(id));
    if (c) {
        conn_bus_link(c)->joined = true;
        forget_hello(conn_bus_link(c));
    }
}

static void close_here(struct bus_node *from, struct reader *r)
{
    uint64_t id = take_uint(r, 8);
    uint16_t code = (uint16_t)take_uint(r, 2);
    if (r->bad)
        return;
    char reason[CLOSE_REASON_MAX];
    size_t n = (size_t)(r->end - r->p);
    if (n >= sizeof(reason))
        n = sizeof(reason) - 1;
    memcpy(reason, r->p, n);
    reason[n] = '\0';
    struct conn *c = hmap_get(from->relayed, &id, sizeof(id));
    if (c)
        conn_close(c, code, reason);
}

/* ---- home side ---- */

/* A message from a client on node from: to its remote connection here, made
 * on its first message. A hello or resume comes with the route its edge
 * found. */
static void receive_here(struct bus *b, struct bus_node *from, struct reader *r, bool hello)
{
    uint64_t id = take_uint(r, 8);
    uint64_t route = hello ? take_uint(r, 8) : 0;
    if (r->bad)
        return;
    struct conn *c = hmap_get(from->remote, &id, sizeof(id));
    if (!c) {
        c = remote_new(b->srv);
        struct bus_link *l = conn_bus_link(c);
        l->node = from;
        l->id = id;
        l->remote = true;
        hmap_put(from->remote, &l->id, sizeof(l->id), c);
    }
    if (hello) {
        struct bus_link *l = conn_bus_link(c);
        l->found = BUS_FOUND_ROUTE;
        l->route = route;
    }
    conn_receive(c, (const char *)r->p, (size_t)(r->end - r->p));
}

static void gone_here(struct bus_node *from, struct reader *r)
{
    uint64_t id = take_uint(r, 8);
    if (r->bad)
        return;
    struct conn *c = hmap_del(from->remote, &id, sizeof(id));
    if (!c)
        return;
    conn_bus_link(c)->node = NULL;
    remote_drop(c);
}

void bus_deliver(struct bus *b, struct conn *c, struct frame *f)
{
    struct bus_node *n = conn_bus_link(c)->node;
    if (!n)
        return; /* being dropped */
    if (n->pending != f) {
        flush_node(b, n);
        n->pending = frame_ref(f);
    }
    if (n->n == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 16;
        n->ids = xrealloc(n->ids, n->cap * sizeof(*n->ids));
    }
    n->ids[n->n++] = conn_bus_link(c)->id;
    if (!n->dirty) {
        if (b->ndirty == b->dirty_cap) {
            b->dirty_cap = b->dirty_cap ? b->dirty_cap * 2 : 8;
            b->dirty = xrealloc(b->dirty, b->dirty_cap * sizeof(*b->dirty));
        }
        b->dirty[b->ndirty++] = n;
        n->dirty = true;
    }
}

void bus_joined(struct bus *b, struct conn *c)
{
    struct bus_link *l = conn_bus_link(c);
    if (!l->node)
        return;
    flush_node(b, l->node);
    start(b, WIRE_JOINED);
    put_u64(b, l->id);
    send_to(b, l->node->id);
}

void bus_close(struct bus *b, struct conn *c, uint16_t code, const char *reason)
{
    struct bus_link *l = conn_bus_link(c);
    if (!l->node)
        return;
    flush_node(b, l->node); /* what was sent before the close goes first */
    start(b, WIRE_CLOSE);
    put_u64(b, l->id);
    unsigned char x[2] = {(unsigned char)(code >> 8), (unsigned char)code};
    put(b, x, sizeof(x));
    put(b, reason, strnlen(reason, CLOSE_REASON_MAX - 1));
    send_to(b, l->node->id);
}

void bus_leader_logged_out(struct bus *b, const char *username)
{
    if (cluster_bus_ready(b->cl)) /* else the others lost the bus too, and cut what crossed it */
        broadcast(b, WIRE_LOGOUT, username, strnlen(username, STORE_USERNAME_MAX));
}

static void logged_out_here(struct bus *b, struct reader *r)
{
    char username[STORE_USERNAME_MAX + 1];
    size_t n = (size_t)(r->end - r->p);
    if (n == 0 || n > STORE_USERNAME_MAX) {
        r->bad = true;
        return;
    }
    memcpy(username, r->p, n);
    username[n] = '\0';
    room_leader_logged_out(b->srv->rooms, username);
}

/* ---- taking rooms over ---- */

/* Another live node wrote the copy last: it still has the room, or it
 * died and this node's live set does not know yet. Returns that node. */
static struct bus_node *held_elsewhere(struct bus *b, const char *state, size_t len)
{
    char node[CONFIG_NODE_ID_MAX + 2]; /* one more: a longer name is nobody's */
    room_copy_node(state, len, node, sizeof(node));
    /* "": handed off by a node that is still live */
    if (!node[0] || strcmp(node, b->self) == 0 || !cluster_is_live(b->cl, node))
        return NULL;
    return node_get(b, node, strlen(node));
}

static void on_fetched(void *arg, int status, const char *state, size_t len,
                       const struct mirror_entry *events, size_t n)
{
    struct fetch_wait *fw = arg;
    struct bus *b = fw->b;
    uint64_t route = fw->route;
    free(fw);
    struct bus_node *holder = NULL;
    if (status == 0 && state && !room_has_route(b->srv->rooms, route)) {
        holder = held_elsewhere(b, state, len);
        if (!holder)
            room_adopt(b->srv->rooms, state, len, events, n);
    }
    /* Replaying may park again (a copy that could not be used): take the
     * waiting ones out first. */
    struct parked *mine = xcalloc(b->parked.n ? b->parked.n : 1, sizeof(*mine));
    size_t k = 0;
    for (size_t i = 0; i < b->parked.n; i++)
        if (b->parked.v[i].route == route)
            mine[k++] = waitlist_take(&b->parked, i--);
    for (size_t i = 0; i < k; i++) {
        if (holder) { /* the edge's live set dropped it already, ours not yet */
            hold(b, mine[i], holder);
            continue;
        }
        if (status < 0)
            conn_close(mine[i].c, PROTO_CLOSE_INTERNAL, "room copy unreadable");
        else
            conn_replay(mine[i].c, mine[i].raw, mine[i].len);
        parked_free(&mine[i]);
    }
    free(mine);
}

/* c (here or remote) sent hello or resume for the room at route, which
 * lives on this node: if the room is not here, read its copy first
 * (mirror.h), then take the room over and replay the message (conn_replay).
 * True when the message waits (or c was closed: the copy cannot be read
 * now). */
static bool park(struct bus *b, struct conn *c, uint64_t route, const char *raw, size_t len)
{
    if (!b->srv->mirror || room_has_route(b->srv->rooms, route))
        return false;
    if (util_now_ms() < b->settled_ms) {
        /* Redis was lost a moment ago, and with it perhaps every copy: the
         * room may still live on a node that has not registered again. */
        conn_close(c, PROTO_CLOSE_INTERNAL, "cluster settling");
        return true;
    }
    bool fetching = false;
    for (size_t i = 0; i < b->parked.n && !fetching; i++)
        fetching = b->parked.v[i].route == route;
    if (!fetching) {
        struct fetch_wait *fw = xcalloc(1, sizeof(*fw));
        *fw = (struct fetch_wait){b, route};
        if (mirror_fetch(b->srv->mirror, route, on_fetched, fw) < 0) {
            free(fw);
            conn_close(c, PROTO_CLOSE_INTERNAL, "room copy unreadable");
            return true;
        }
    }
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, raw, len);
    waitlist_add(&b->parked, (struct parked){.c = c, .route = route, .raw = copy, .len = len});
    return true;
}

/* ---- receiving ---- */

static void on_message(void *arg, const unsigned char *data, size_t len)
{
    struct bus *b = arg;
    struct reader r = {data, data + len, false};
    uint8_t kind = (uint8_t)take_uint(&r, 1);
    uint8_t idlen = (uint8_t)take_uint(&r, 1);
    const unsigned char *id = take(&r, idlen);
    if (!id || !config_node_id_valid((const char *)id, idlen) ||
        (idlen == strlen(b->self) && memcmp(id, b->self, idlen) == 0)) {
        klog_warn("bus_message_ignored reason=\"not from a node\"");
        return;
    }
    metrics_add(METRIC_BUS_IN, len);
    struct bus_node *from = node_get(b, (const char *)id, idlen);
    switch (kind) {
    case WIRE_MESSAGE:
    case WIRE_HELLO:
        receive_here(b, from, &r, kind == WIRE_HELLO);
        break;
    case WIRE_GONE:
        gone_here(from, &r);
        break;
    case WIRE_FRAME:
        deliver_here(from, &r);
        break;
    case WIRE_JOINED:
        joined_here(from, &r);
        break;
    case WIRE_CLOSE:
        close_here(from, &r);
        break;
    case WIRE_RESET:
        drop_node(b, from, "node restarted");
        break;
    case WIRE_LOGOUT:
        logged_out_here(b, &r);
        break;
    default:
        r.bad = true;
        break;
    }
    if (r.bad)
        klog_warn("bus_message_ignored node=%s reason=\"malformed\"", from->id);
}

/* ---- life ---- */

struct bus *bus_new(struct server *srv, struct cluster *cl)
{
    if (!cl)
        return NULL;
    struct bus *b = xcalloc(1, sizeof(*b));
    b->srv = srv;
    b->cl = cl;
    b->self = srv->cfg->cluster.node_id;
    b->nodes = hmap_new();
    b->announce = true;
    ev_prepare_init(&b->flush, on_prepare);
    b->flush.data = b;
    ev_timer_init(&b->held_check, on_held_check, UNHEARD_CHECK_S, UNHEARD_CHECK_S);
    b->held_check.data = b;
    ev_prepare_start(evloop_native(srv->loop), &b->flush);
    cluster_set_handlers(cl, &(struct cluster_handlers){.message = on_message,
                                                        .reset = on_reset,
                                                        .nodes = on_nodes,
                                                        .unheard = on_unheard,
                                                        .lease_lost = on_lease_lost,
                                                        .arg = b});
    return b;
}

void bus_free(struct bus *b)
{
    if (!b)
        return;
    cluster_set_handlers(b->cl, &(struct cluster_handlers){0});
    ev_prepare_stop(evloop_native(b->srv->loop), &b->flush);
    size_t pos = 0;
    struct bus_node *n;
    while ((n = hmap_next(b->nodes, &pos)) != NULL) {
        size_t count;
        struct conn **v = conns_of(n->relayed, &count);
        for (size_t i = 0; i < count; i++)
            conn_bus_link(v[i])->node = NULL; /* lws closes them with the context */
        free(v);
        v = conns_of(n->remote, &count);
        for (size_t i = 0; i < count; i++)
            conn_bus_link(v[i])->node = NULL;
        for (size_t i = 0; i < count; i++)
            remote_drop(v[i]);
        free(v);
        frame_unref(n->pending);
        hmap_free(n->relayed);
        hmap_free(n->remote);
        free(n->ids);
        free(n);
    }
    hmap_free(b->nodes);
    waitlist_clear(&b->parked);
    waitlist_clear(&b->held);
    ev_timer_stop(evloop_native(b->srv->loop), &b->held_check);
    free(b->dirty);
    if (b->buf)
        wipe(b->buf, b->cap);
    free(b->buf);
    free(b);
}
