#include "cluster.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The only file that includes the adapter: it defines static functions. */
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "config.h"
#include "evloop.h"
#include "klog.h"
#include "util.h"

#define KEY_PREFIX "kamrat:node:"
#define CHANNEL_PREFIX "kamrat:bus:"
#define START_TIMEOUT_MS 2000 /* cluster_start's connect and each of its commands */
#define TTL_MS 3000           /* a node whose key is this old is gone */
#define REFRESH_MS 250        /* each node rewrites its key this often */
/* A node stops serving this long before its key could expire (cluster.h):
 * its own clock and Redis's may run a little apart. */
#define LEASE_MARGIN_MS 250
/* A node with no subscriber that has not refreshed for this long is dead:
 * three refreshes missed. */
#define DEAD_QUIET_MS 750
/* A refresh with no answer after this long means Redis is gone even when
 * the socket looks open (a hung Redis, a silent network): hiredis 0.14's
 * async API has no timeouts of its own. Less than TTL_MS, so the
 * connection is renewed before the key expires. */
#define STALL_MS 1500
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* While it holds its lease a node tries Redis again at least this often, so
 * that a Redis restarted within the lease (a package upgrade restarts it in
 * about a second) finds the node back before its rooms must go. */
#define BACKOFF_LEASE_MS 250
#define LEAVE_MS 500      /* how long a drain waits for the DEL of this node's key */
#define SCAN_COUNT 100    /* keys Redis examines per SCAN step */
#define SCAN_MAX_STEPS 64 /* a listing that needs more is abandoned (a shared Redis) */

struct idlist {
    char **ids;
    size_t n, cap;
};

struct cluster {
    struct ev_loop *ev;
    const char *node_id; /* the config's */
    char key[sizeof(KEY_PREFIX) + CONFIG_NODE_ID_MAX];
    char value[160]; /* what the key holds: address, port, start time */
    /* Where the start-up connection reached Redis, numerically: reconnects
     * then never resolve a name, which would block the loop (hiredis 0.14
     * calls getaddrinfo inside redisAsyncConnect). */
    char addr[INET6_ADDRSTRLEN];
    int port;
    char password[CONFIG_PASSWORD_MAX]; /* "": no AUTH; wiped in cluster_free */
    redisAsyncContext *ac;              /* NULL while disconnected */
    ev_timer timer;                     /* refresh, reconnect, or the leave bound */
    uint64_t round_started_ms;          /* 0: no refresh waiting for its answers */
    unsigned scan_steps;
    uint32_t backoff_ms; /* 0 after a refresh succeeded */
    bool up;             /* the last refresh was answered on this connection */
    bool lost;           /* cluster_redis_lost logged, cluster_redis_back not yet */
    bool leaving, left;
    uint64_t leave_deadline_ms;
    struct idlist live;    /* the last complete listing, sorted */
    struct idlist listing; /* the one being built by SCAN steps */
    struct idlist suspect; /* live nodes without a subscriber at the last look */
    bool registered;       /* this node's key was written: refresh it only while it exists */
    uint64_t set_sent_ms;  /* when the refresh now waiting was sent */
    ev_timer lease_timer;  /* fires when the lease runs out unrefreshed */
    bool listed;           /* live is from a listing on this connection */

    /* The bus's subscriber connection (hiredis needs one of its own for
     * SUBSCRIBE), reconnected on the refresh timer while the first is up. */
    redisAsyncContext *sub; /* NULL while disconnected */
    bool subscribed;
    char channel[sizeof(CHANNEL_PREFIX) + CONFIG_NODE_ID_MAX];
    struct cluster_handlers h;
    /* Handlers run from here, outside hiredis's callbacks, which may be
     * freeing the connection they were called on. */
    ev_timer reset_timer;
    ev_timer nodes_timer;
    ev_timer lost_timer; /* runs the lease_lost handler */
};

/* Delete a node's key when it has not been refreshed for DEAD_QUIET_MS
 * (ARGV[1]: the TTL left below which that is so). In one script, so a
 * refresh that lands first keeps the node. */
static const char dead_script[] =
    "if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) and redis.call('DEL', KEYS[1]) == 1 then "
    "redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) return 1 end return 0";
#define DEAD_PREFIX "kamrat:dead:" /* a node declared dead, for its TTL */

/* ---- node id lists ---- */

static void idlist_clear(struct idlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ids[i]);
    l->n = 0;
}

static void idlist_add(struct idlist *l, const char *id, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->ids[i]) == len && memcmp(l->ids[i], id, len) == 0)
            return; /* SCAN may return a key twice */
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->ids = xrealloc(l->ids, l->cap * sizeof(*l->ids));
    }
    l->ids[l->n++] = xstrndup(id, len);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- rendezvous hashing ---- */

/* The 64-bit finaliser of MurmurHash3: every input bit reaches every output
 * bit, which FNV-1a alone does poorly for the high bits compared below. */
static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* FNV-1a. Every node must hash alike, so there is no per-process key
 * (hmap_hash's SipHash has one). */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

uint64_t cluster_route(const char *room_key)
{
    return fmix64(fnv1a(room_key));
}

static uint64_t weight(const char *node, uint64_t route)
{
    return fmix64(fnv1a(node) ^ route);
}

const char *cluster_home(uint64_t route, const char *const *nodes, size_t n)
{
    const char *best = NULL;
    uint64_t best_w = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = weight(nodes[i], route);
        /* A tie (1 in 2^64) goes to the smaller id, so order never matters. */
        if (!best || w > best_w || (w == best_w && strcmp(nodes[i], best) < 0)) {
            best = nodes[i];
            best_w = w;
        }
    }
    return best;
}

/* ---- start-up: one blocking look at Redis ---- */

static struct timeval ms_to_tv(int ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* The reply r to a command on the start-up connection, or NULL with why in
 * err when there was none (a timeout, a closed connection). */
static redisReply *answered(const redisContext *c, void *r, const char *what, char *err,
                            size_t errlen)
{
    if (!r)
        snprintf(err, errlen, "Redis did not answer %s: %s", what, c->errstr);
    return r;
}

/* CONFIG GET name's value, or NULL with *refusal set to Redis's error. */
static const char *config_value(const redisReply *r, const char **refusal)
{
    *refusal = NULL;
    if (r->type == REDIS_REPLY_ERROR) {
        *refusal = r->str;
        return NULL;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_STRING) {
        *refusal = "an unexpected reply";
        return NULL;
    }
    return r->element[1]->str;
}

/*
 * Is Redis keeping what it holds on disk? Room events will pass through it,
 * and message text must never reach a disk (DESIGN §4). Returns 0 when
 * persistence is off or allowed, -1 with the reason in err.
 */
static int check_persistence(redisContext *c, const struct cluster_config *cc, char *err,
                             size_t errlen)
{
    redisReply *save =
        answered(c, redisCommand(c, "CONFIG GET save"), "CONFIG GET save", err, errlen);
    if (!save)
        return -1;
    redisReply *aof =
        answered(c, redisCommand(c, "CONFIG GET appendonly"), "CONFIG GET appendonly", err, errlen);
    if (!aof) {
        freeReplyObject(save);
        return -1;
    }
    int rc = -1;
    const char *refused, *refused_aof;
    const char *s = config_value(save, &refused);
    const char *a = config_value(aof, &refused_aof);
    if (!refused)
        refused = refused_aof;
    if (refused && strncmp(refused, "NOAUTH", 6) == 0) {
        snprintf(err, errlen,
                 "Redis at %s:%u wants a password (%s): set [cluster] redis_password_file",
                 cc->redis_host, cc->redis_port, refused);
    } else if (refused && !cc->allow_persistent_redis) {
        snprintf(err, errlen,
                 "Redis at %s:%u refused CONFIG GET (%s), so kamratd cannot tell whether it "
                 "writes data to disk; allow CONFIG to kamrat's Redis user, or, having made "
                 "sure that save is '' and appendonly is no, set [cluster] "
                 "allow_persistent_redis = yes",
                 cc->redis_host, cc->redis_port, refused);
    } else if (refused) {
        klog_warn("cluster_redis_persistence_unknown reason=\"CONFIG GET refused: %s\" "
                  "consequence=\"copies of room messages in Redis may reach its disk\" "
                  "allowed_by=\"[cluster] allow_persistent_redis\"",
                  refused);
        rc = 0;
    } else {
        bool saves = *s != '\0', appends = strcmp(a, "yes") == 0;
        if (!saves && !appends) {
            rc = 0;
        } else if (cc->allow_persistent_redis) {
            klog_warn("cluster_redis_persistent save=\"%s\" appendonly=%s consequence=\"copies "
                      "of room messages in Redis may reach its disk\" allowed_by=\"[cluster] "
                      "allow_persistent_redis\"",
                      s, a);
            rc = 0;
        } else {
            /* What is on, and what turns it off, quoted with ' as redis.conf
             * allows: the log line quotes the whole reason with ". */
            const char *sep = saves && appends ? ", " : "";
            char on[128] = "", off[48] = "";
            if (saves) {
                snprintf(on, sizeof(on), "save '%.100s'", s);
                snprintf(off, sizeof(off), "save ''");
            }
            if (appends) {
                size_t n = strlen(on), m = strlen(off);
                snprintf(on + n, sizeof(on) - n, "%sappendonly yes", sep);
                snprintf(off + m, sizeof(off) - m, "%sappendonly no", sep);
            }
            snprintf(err, errlen,
                     "Redis at %s:%u keeps data on disk (%s): copies of room messages would "
                     "reach its disk; turn it off in redis.conf (%s) and with CONFIG SET, or set "
                     "[cluster] allow_persistent_redis = yes to accept that",
                     cc->redis_host, cc->redis_port, on, off);
        }
    }
    freeReplyObject(aof);
    freeReplyObject(save);
    return rc;
}

/* Where c is connected, numerically, into cl->addr and cl->port. */
static int remember_peer(struct cluster *cl, const redisContext *c)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(c->fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    const void *ip = ss.ss_family == AF_INET6
                         ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                         : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
    if (!inet_ntop(ss.ss_family, ip, cl->addr, sizeof(cl->addr)))
        return -1;
    cl->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

/* PTTL of cl->key: -2 when there is no such key, or -3 with err set. */
static long long key_pttl(redisContext *c, const struct cluster *cl, char *err, size_t errlen)
{
    redisReply *r = answered(c, redisCommand(c, "PTTL %s", cl->key), "PTTL", err, errlen);
    if (!r)
        return -3;
    long long ttl = r->type == REDIS_REPLY_INTEGER ? r->integer : -3;
    if (ttl == -3)
        snprintf(err, errlen, "Redis answered PTTL with %s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "something else");
    freeReplyObject(r);
    return ttl;
}

/*
 * Is this node's key free? A key under our node_id belongs to another live
 * node with the same node_id (two nodes would then share one key and count
 * as one), or to this node before a crash (kill -9 leaves it for up to
 * TTL_MS; a drain deletes it). Wait out its TTL once: a live node has
 * rewritten it by then, a dead one has not. Blocks TTL_MS at most, and only
 * when the key is there.
 */
static int check_node_id_free(redisContext *c, const struct cluster *cl, char *err, size_t errlen)
{
    long long ttl = key_pttl(c, cl, err, errlen);
    if (ttl == -3)
        return -1;
    if (ttl == -2)
        return 0;
    if (ttl > 0 && ttl <= TTL_MS) {
        klog_info("cluster_node_key_waiting node=%s ttl_ms=%lld", cl->node_id, ttl);
        usleep((useconds_t)(ttl + 100) * 1000);
        ttl = key_pttl(c, cl, err, errlen);
        if (ttl == -3)
            return -1;
        if (ttl == -2)
            return 0;
    }
    snprintf(err, errlen,
             "node_id '%s' is in use: %s%s is kept alive by another node; give every node its "
             "own [cluster] node_id",
             cl->node_id, KEY_PREFIX, cl->node_id);
    return -1;
}

/* Connect, AUTH, look at persistence, learn Redis's address, check that the
 * node id is free. Blocks for START_TIMEOUT_MS per step at most (and up to
 * TTL_MS more when this node's key is still there). */
static int first_look(struct cluster *cl, const struct cluster_config *cc, char *err, size_t errlen)
{
    struct timeval tv = ms_to_tv(START_TIMEOUT_MS);
    redisContext *c = redisConnectWithTimeout(cc->redis_host, (int)cc->redis_port, tv);
    int rc = -1;
    if (!c || c->err) {
        snprintf(err, errlen, "cannot reach Redis at %s:%u: %s", cc->redis_host, cc->redis_port,
                 c ? c->errstr : "out of memory");
        goto out;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        snprintf(err, errlen, "cannot set a timeout on the Redis connection: %s", c->errstr);
        goto out;
    }
    if (cl->password[0]) {
        redisReply *r = answered(c, redisCommand(c, "AUTH %s", cl->password), "AUTH", err, errlen);
        if (!r)
            goto out;
        if (r->type == REDIS_REPLY_ERROR)
            snprintf(err, errlen,
                     "Redis at %s:%u refused the password of [cluster] "
                     "redis_password_file (%s)",
                     cc->redis_host, cc->redis_port, r->str);
        bool ok = r->type != REDIS_REPLY_ERROR;
        freeReplyObject(r);
        if (!ok)
            goto out;
    }
    if (check_persistence(c, cc, err, errlen) < 0 || check_node_id_free(c, cl, err, errlen) < 0)
        goto out;
    if (remember_peer(cl, c) < 0) {
        snprintf(err, errlen, "cannot tell where the Redis connection goes");
        goto out;
    }
    rc = 0;
out:
    redisFree(c);
    return rc;
}

/* ---- the live connection, on the loop ---- */

static void arm(struct cluster *cl, uint32_t ms)
{
    ev_timer_stop(cl->ev, &cl->timer);
    ev_timer_set(&cl->timer, ms / 1000.0, 0.);
    ev_timer_start(cl->ev, &cl->timer);
}

/* The next reconnect delay: doubling from BACKOFF_MIN_MS to BACKOFF_MAX_MS,
 * then a random point in its upper half, so nodes that lost Redis together
 * do not all come back in the same millisecond. */
static uint32_t next_backoff(struct cluster *cl)
{
    uint32_t max = cl->registered ? BACKOFF_LEASE_MS : BACKOFF_MAX_MS;
    cl->backoff_ms = cl->backoff_ms ? cl->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (cl->backoff_ms > max)
        cl->backoff_ms = max;
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = 0; /* no jitter this once: still bounded */
    return cl->backoff_ms / 2 + r % (cl->backoff_ms / 2 + 1);
}

/* Run the bus's reset handler soon, outside hiredis's callbacks. */
static void schedule(struct cluster *cl, ev_timer *w)
{
    if (!ev_is_active(w)) {
        ev_timer_set(w, 0., 0.);
        ev_timer_start(cl->ev, w);
    }
}

/* The connection is gone (cl->ac already NULL): say so once per outage and
 * try again later, unless the node is leaving. What this node published may
 * not have reached Redis. */
static void connection_gone(struct cluster *cl, const char *why)
{
    cl->up = false;
    cl->listed = false;
    cl->round_started_ms = 0;
    schedule(cl, &cl->reset_timer);
    if (cl->leaving)
        return;
    if (!cl->lost) {
        klog_warn("cluster_redis_lost redis=%s:%d reason=\"%s\"", cl->addr, cl->port, why);
        cl->lost = true;
    }
    arm(cl, next_backoff(cl));
}

static void sub_gone(struct cluster *cl, const char *why);

/* Which of cl's two connections ac is: &cl->ac, &cl->sub, or NULL for one
 * already given up (its callbacks change nothing). */
static redisAsyncContext **slot_of(struct cluster *cl, const redisAsyncContext *ac)
{
    if (!cl || !ac)
        return NULL;
    return ac == cl->ac ? &cl->ac : ac == cl->sub ? &cl->sub : NULL;
}

/* The connection in slot has gone (hiredis frees it). */
static void gone(struct cluster *cl, redisAsyncContext **slot, const char *why)
{
    *slot = NULL;
    if (slot == &cl->ac)
        connection_gone(cl, why);
    else
        sub_gone(cl, why);
}

/* Close a connection ourselves. From inside a reply callback hiredis frees
 * the context once the callback returns; the callbacks still pending get a
 * NULL reply, and every callback ignores a context that is not cl's. */
static void drop_slot(struct cluster *cl, redisAsyncContext **slot, const char *why)
{
    redisAsyncContext *ac = *slot;
    ac->data = NULL; /* on_disconnect: not ours to report */
    redisAsyncFree(ac);
    gone(cl, slot, why);
}

static void drop(struct cluster *cl, const char *why)
{
    drop_slot(cl, &cl->ac, why);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct cluster *cl = ac->data;
    redisAsyncContext **slot = slot_of(cl, ac);
    /* On failure hiredis frees ac right after this returns, without calling
     * on_disconnect (it never was connected). */
    if (status != REDIS_OK && slot)
        gone(cl, slot, ac->c.errstr);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct cluster *cl = ac->data;
    redisAsyncContext **slot = slot_of(cl, ac);
    if (slot)
        gone(cl, slot, status == REDIS_OK ? "Redis closed the connection" : ac->errstr);
}

/* A new connection to Redis on the loop, AUTH queued (a wrong password
 * fails the first command after it), or NULL with why. */
static redisAsyncContext *open_connection(struct cluster *cl, char *why, size_t whylen)
{
    redisAsyncContext *ac = redisAsyncConnect(cl->addr, cl->port);
    if (!ac || ac->err) {
        snprintf(why, whylen, "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        return NULL;
    }
    ac->data = cl;
    if (redisLibevAttach(cl->ev, ac) != REDIS_OK) {
        redisAsyncFree(ac);
        snprintf(why, whylen, "cannot watch the Redis socket");
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* Queued until the connection is up; AUTH goes first. */
    if (cl->password[0])
        redisAsyncCommand(ac, NULL, NULL, "AUTH %s", cl->password);
    return ac;
}

/* A reply that belongs to the current connection and is no error; else drop
 * the connection when the reply is an error. */
static bool usable(struct cluster *cl, redisAsyncContext *ac, const redisReply *r)
{
    if (!r || ac != cl->ac)
        return false; /* a connection already given up */
    if (r->type == REDIS_REPLY_ERROR) {
        drop(cl, r->str);
        return false;
    }
    return true;
}

static void connect_sub(struct cluster *cl);

/* This node may no longer serve its rooms: the handler lets them go, and
 * the next refresh registers the node anew. */
static void lease_lost(struct cluster *cl, const char *why)
{
    if (!cl->registered)
        return;
    klog_warn("cluster_lease_lost node=%s reason=\"%s\"", cl->node_id, why);
    cl->registered = false;
    ev_timer_stop(cl->ev, &cl->lease_timer);
    schedule(cl, &cl->lost_timer);
}

static void on_lease_timer(struct ev_loop *ev, ev_timer *w, int revents)
{
    (void)ev;
    (void)revents;
    lease_lost(w->data, "no refresh confirmed in time");
}

static void on_dead_mark(redisAsyncContext *ac, void *reply, void *arg)
{
    struct cluster *cl = arg;
    const redisReply *r = reply;
    if (!usable(cl, ac, r))
        return;
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        cl->registered = true; /* so lease_lost acts */
        lease_lost(cl, "declared dead");
    }
}

static void on_set(redisAsyncContext *ac, void *reply, void *arg)
{
    struct cluster *cl = arg;
    const redisReply *r = reply;
    if (!usable(cl, ac, r))
        return;
    if (r->type == REDIS_REPLY_NIL) {
        /* SET XX found no key: another node declared this one dead (its
         * mark says so), or Redis restarted with nothing; the next refresh
         * registers the node again either way. */
        cl->registered = false;
        redisAsyncCommand(cl->ac, on_dead_mark, cl, "EXISTS " DEAD_PREFIX "%s", cl->node_id);
        return;
    }
    if (!cl->leaving) {
        uint64_t until = cl->set_sent_ms + TTL_MS - LEASE_MARGIN_MS, now = util_now_ms();
        cl->registered = true;
        ev_timer_stop(cl->ev, &cl->lease_timer);
        ev_timer_set(&cl->lease_timer, until > now ? (double)(until - now) / 1000.0 : 0., 0.);
        ev_timer_start(cl->ev, &cl->lease_timer);
    }
    cl->up = true;
    cl->backoff_ms = 0;
    if (!cl->sub && !cl->leaving)
        connect_sub(cl); /* the bus's connection follows the first */
    if (cl->lost) {
        klog_info("cluster_redis_back redis=%s:%d", cl->addr, cl->port);
        cl->lost = false;
    }
}

static bool idlist_equal(const struct idlist *a, const struct idlist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->ids[i], b->ids[i]) != 0)
            return false;
    return true;
}

/* The listing is complete: it becomes the live set. */
static void listing_done(struct cluster *cl)
{
    struct idlist old = cl->live;
    cl->live = cl->listing;
    cl->listing = old;
    if (cl->live.n) /* an empty listing (a Redis that came back empty) has no array */
        qsort(cl->live.ids, cl->live.n, sizeof(*cl->live.ids), by_name);
    if (!idlist_equal(&cl->live, &cl->listing)) {
        klog_info("cluster_nodes live=%zu", cl->live.n);
        schedule(cl, &cl->nodes_timer);
    }
    idlist_clear(&cl->listing);
    cl->listed = true;
    cl->round_started_ms = 0;
}

static void send_scan(struct cluster *cl, const char *cursor);

static void on_scan(redisAsyncContext *ac, void *reply, void *arg)
{
    struct cluster *cl = arg;
    const redisReply *r = reply;
    if (!usable(cl, ac, r))
        return;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
        drop(cl, "unexpected SCAN reply");
        return;
    }
    const redisReply *keys = r->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        size_t plen = sizeof(KEY_PREFIX) - 1;
        if (k->type != REDIS_REPLY_STRING || k->len <= plen ||
            !config_node_id_valid(k->str + plen, k->len - plen))
            continue; /* no key kamratd writes */
        idlist_add(&cl->listing, k->str + plen, k->len - plen);
    }
    const char *cursor = r->element[0]->str;
    if (strcmp(cursor, "0") == 0) {
        listing_done(cl);
    } else if (++cl->scan_steps < SCAN_MAX_STEPS) {
        send_scan(cl, cursor);
    } else {
        /* Redis holds far more than node keys: keep the last listing. */
        klog_warn("cluster_listing_abandoned steps=%d reason=\"Redis holds other keys; give "
                  "kamrat a Redis of its own\"",
                  SCAN_MAX_STEPS);
        idlist_clear(&cl->listing);
        cl->round_started_ms = 0;
    }
}

/* PUBSUB NUMSUB's answer for the other live nodes' channels: a node with no
 * subscriber may be dead; delete its key when it has stopped refreshing. */
static void on_numsub(redisAsyncContext *ac, void *reply, void *arg)
{
    struct cluster *cl = arg;
    const redisReply *r = reply;
    if (!usable(cl, ac, r) || r->type != REDIS_REPLY_ARRAY)
        return;
    idlist_clear(&cl->suspect);
    size_t plen = sizeof(CHANNEL_PREFIX) - 1;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *ch = r->element[i], *n = r->element[i + 1];
        if (ch->type != REDIS_REPLY_STRING || n->type != REDIS_REPLY_INTEGER || n->integer > 0 ||
            ch->len <= plen)
            continue;
        idlist_add(&cl->suspect, ch->str + plen, ch->len - plen);
        char key[sizeof(KEY_PREFIX) + CONFIG_NODE_ID_MAX];
        char mark[sizeof(DEAD_PREFIX) + CONFIG_NODE_ID_MAX];
        snprintf(key, sizeof(key), KEY_PREFIX "%.*s", (int)(ch->len - plen), ch->str + plen);
        snprintf(mark, sizeof(mark), DEAD_PREFIX "%.*s", (int)(ch->len - plen), ch->str + plen);
        redisAsyncCommand(cl->ac, NULL, NULL, "EVAL %s 2 %s %s %d %d", dead_script, key, mark,
                          TTL_MS - DEAD_QUIET_MS, TTL_MS);
    }
}

/* Ask how many subscribers the other live nodes' channels have. */
static void send_numsub(struct cluster *cl)
{
    if (cl->live.n < 2)
        return;
    const char **argv = xcalloc(cl->live.n + 2, sizeof(*argv));
    size_t *lens = xcalloc(cl->live.n + 2, sizeof(*lens));
    char **chans = xcalloc(cl->live.n, sizeof(*chans));
    int argc = 0;
    argv[argc] = "PUBSUB";
    lens[argc++] = 6;
    argv[argc] = "NUMSUB";
    lens[argc++] = 6;
    for (size_t i = 0; i < cl->live.n; i++) {
        if (strcmp(cl->live.ids[i], cl->node_id) == 0)
            continue;
        size_t len = sizeof(CHANNEL_PREFIX) + strlen(cl->live.ids[i]);
        chans[i] = xmalloc(len);
        snprintf(chans[i], len, CHANNEL_PREFIX "%s", cl->live.ids[i]);
        argv[argc] = chans[i];
        lens[argc++] = len - 1;
    }
    redisAsyncCommandArgv(cl->ac, on_numsub, cl, argc, argv, lens);
    for (size_t i = 0; i < cl->live.n; i++)
        free(chans[i]);
    free(chans);
    free(lens);
    free(argv);
}

static void send_scan(struct cluster *cl, const char *cursor)
{
    redisAsyncCommand(cl->ac, on_scan, cl, "SCAN %s MATCH " KEY_PREFIX "* COUNT %d", cursor,
                      SCAN_COUNT);
}

/* Rewrite this node's key and list everyone's, pipelined. A failure to queue
 * means hiredis is closing the connection, which on_disconnect reports. */
static void start_round(struct cluster *cl)
{
    cl->round_started_ms = util_now_ms();
    cl->set_sent_ms = cl->round_started_ms;
    cl->scan_steps = 0;
    idlist_clear(&cl->listing);
    /* A registered node only keeps a key that is still there: once it is
     * gone, the rooms may be someone else's (lease_lost). */
    redisAsyncCommand(cl->ac, on_set, cl, cl->registered ? "SET %s %s PX %d XX" : "SET %s %s PX %d",
                      cl->key, cl->value, TTL_MS);
    send_numsub(cl);
    send_scan(cl, "0");
}

static void connect_async(struct cluster *cl)
{
    char why[128];
    cl->ac = open_connection(cl, why, sizeof(why));
    if (!cl->ac) {
        connection_gone(cl, why);
        return;
    }
    start_round(cl);
    arm(cl, REFRESH_MS);
}

/* ---- the subscriber connection ---- */

static void sub_gone(struct cluster *cl, const char *why)
{
    if (cl->subscribed)
        klog_warn("cluster_bus_lost reason=\"%s\"", why);
    cl->subscribed = false;
    schedule(cl, &cl->reset_timer); /* messages to this node may be lost */
}

/* Each reply on the subscriber connection: the subscription confirmed, then
 * one per message published to this node's channel. */
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    struct cluster *cl = arg;
    const redisReply *r = reply;
    if (!r || ac != cl->sub)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        drop_slot(cl, &cl->sub, r->str);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const redisReply *kind = r->element[0], *body = r->element[2];
    if (strcmp(kind->str, "message") == 0 && body->type == REDIS_REPLY_STRING) {
        if (cl->h.message)
            cl->h.message(cl->h.arg, (const unsigned char *)body->str, body->len);
    } else if (strcmp(kind->str, "subscribe") == 0) {
        cl->subscribed = true;
        klog_info("cluster_bus_up channel=%s", cl->channel);
    }
}

static void connect_sub(struct cluster *cl)
{
    char why[128];
    cl->sub = open_connection(cl, why, sizeof(why));
    if (cl->sub)
        redisAsyncCommand(cl->sub, on_sub_reply, cl, "SUBSCRIBE %s", cl->channel);
    /* else the next refresh tries again */
}

static void on_handler_timer(struct ev_loop *ev, ev_timer *w, int revents)
{
    (void)ev;
    (void)revents;
    struct cluster *cl = w->data;
    void (*fn)(void *) = w == &cl->reset_timer  ? cl->h.reset
                         : w == &cl->lost_timer ? cl->h.lease_lost
                                                : cl->h.nodes;
    if (fn && !cl->leaving)
        fn(cl->h.arg);
}

void cluster_set_handlers(struct cluster *cl, const struct cluster_handlers *h)
{
    cl->h = *h;
}

bool cluster_bus_ready(const struct cluster *cl)
{
    return cl->ac && cl->up && cl->listed && cl->sub && cl->subscribed && !cl->leaving;
}

void cluster_live(const struct cluster *cl, const char *const **nodes, size_t *n)
{
    *nodes = (const char *const *)cl->live.ids;
    *n = cl->live.n;
}

bool cluster_is_live(const struct cluster *cl, const char *node)
{
    return cl->live.n &&
           bsearch(&node, cl->live.ids, cl->live.n, sizeof(*cl->live.ids), by_name) != NULL;
}

bool cluster_is_suspect(const struct cluster *cl, const char *node)
{
    for (size_t i = 0; i < cl->suspect.n; i++)
        if (strcmp(cl->suspect.ids[i], node) == 0)
            return true;
    return false;
}

const char *cluster_node_key(const struct cluster *cl)
{
    return cl->key;
}

int cluster_command(struct cluster *cl, cluster_reply_fn *fn, void *arg, int argc,
                    const char **argv, const size_t *lens)
{
    if (!cl->ac || !cl->up)
        return -1;
    return redisAsyncCommandArgv(cl->ac, fn, arg, argc, argv, lens) == REDIS_OK ? 0 : -1;
}

/* PUBLISH's answer: how many subscribers got the message. */
static void on_published(redisAsyncContext *ac, void *reply, void *arg)
{
    struct cluster *cl = ac->data;
    const redisReply *r = reply;
    char *node = arg;
    if (cl && r && r->type == REDIS_REPLY_INTEGER && r->integer == 0 && cl->h.unheard)
        cl->h.unheard(cl->h.arg, node);
    free(node);
}

int cluster_publish(struct cluster *cl, const char *node, const void *data, size_t len,
                    bool confirm)
{
    if (!cluster_bus_ready(cl))
        return -1;
    char channel[sizeof(CHANNEL_PREFIX) + CONFIG_NODE_ID_MAX];
    snprintf(channel, sizeof(channel), CHANNEL_PREFIX "%s", node);
    char *arg = confirm ? xstrdup(node) : NULL;
    if (redisAsyncCommand(cl->ac, confirm ? on_published : NULL, arg, "PUBLISH %s %b", channel,
                          data, len) != REDIS_OK) {
        free(arg);
        return -1;
    }
    return 0;
}

static void on_timer(struct ev_loop *ev, ev_timer *w, int revents)
{
    (void)ev;
    (void)revents;
    struct cluster *cl = w->data;
    if (cl->leaving)
        return; /* woke the loop for the leave bound: cluster_left says so now */
    if (!cl->ac) {
        connect_async(cl);
        return;
    }
    if (!cl->round_started_ms)
        start_round(cl);
    else if (util_now_ms() - cl->round_started_ms >= STALL_MS)
        drop(cl, "no answer within 2 s");
    if (cl->ac && cl->up && !cl->sub)
        connect_sub(cl);
    if (cl->ac)
        arm(cl, REFRESH_MS);
}

/* The value of this node's key: where it serves and since when. Only what
 * DESIGN §4 allows in Redis: no member, room or message. */
static void describe_node(struct cluster *cl, const struct config *cfg)
{
    const char *addr = cfg->address ? cfg->address : "*";
    /* An interface name or address; anything else would need JSON quoting. */
    if (addr[strspn(addr,
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:%*-_")] !=
            '\0' ||
        strlen(addr) > 64)
        addr = "?";
    snprintf(cl->value, sizeof(cl->value),
             "{\"address\":\"%s\",\"port\":%u,\"started_ms\":%" PRIu64 "}", addr, cfg->port,
             util_wall_ms());
}

int cluster_start(const struct config *cfg, struct evloop *loop, struct cluster **out, char *err,
                  size_t errlen)
{
    const struct cluster_config *cc = &cfg->cluster;
    *out = NULL;
    if (!cc->node_id)
        return 0;
    struct cluster *cl = xcalloc(1, sizeof(*cl));
    cl->ev = evloop_native(loop);
    cl->node_id = cc->node_id;
    snprintf(cl->key, sizeof(cl->key), KEY_PREFIX "%s", cc->node_id);
    describe_node(cl, cfg);
    if (cc->redis_password_file &&
        config_read_redis_password(cfg, cl->password, sizeof(cl->password), err, errlen) < 0)
        goto fail;
    if (first_look(cl, cc, err, errlen) < 0)
        goto fail;
    klog_info("cluster_start node=%s redis=%s:%d ttl_ms=%d", cl->node_id, cl->addr, cl->port,
              TTL_MS);
    ev_init(&cl->timer, on_timer);
    cl->timer.data = cl;
    ev_init(&cl->reset_timer, on_handler_timer);
    cl->reset_timer.data = cl;
    ev_init(&cl->nodes_timer, on_handler_timer);
    cl->nodes_timer.data = cl;
    ev_init(&cl->lost_timer, on_handler_timer);
    cl->lost_timer.data = cl;
    ev_init(&cl->lease_timer, on_lease_timer);
    cl->lease_timer.data = cl;
    snprintf(cl->channel, sizeof(cl->channel), CHANNEL_PREFIX "%s", cc->node_id);
    /* The blocking look took time the loop has not seen yet. */
    ev_now_update(cl->ev);
    connect_async(cl);
    *out = cl;
    return 0;
fail:
    cluster_free(cl);
    return -1;
}

static void on_del(redisAsyncContext *ac, void *reply, void *arg)
{
    (void)ac;
    (void)reply;
    struct cluster *cl = arg;
    cl->left = true; /* answered, or the connection went: either way, done */
}

void cluster_leave(struct cluster *cl)
{
    if (!cl || cl->leaving)
        return;
    cl->leaving = true;
    cl->leave_deadline_ms = util_now_ms() + LEAVE_MS;
    if (!cl->ac || redisAsyncCommand(cl->ac, on_del, cl, "DEL %s", cl->key) != REDIS_OK) {
        cl->left = true; /* the key expires by itself within TTL_MS */
        ev_timer_stop(cl->ev, &cl->timer);
        return;
    }
    arm(cl, LEAVE_MS); /* wakes the loop at the bound, so the drain can end */
}

bool cluster_left(const struct cluster *cl)
{
    return !cl || !cl->leaving || cl->left || !cl->ac || util_now_ms() >= cl->leave_deadline_ms;
}

void cluster_status(const struct cluster *cl, struct cluster_status *out)
{
    out->node_id = cl->node_id;
    out->redis_up = cl->up && cl->ac;
    out->bus_up = cluster_bus_ready(cl);
    out->live_nodes = cl->live.n;
}

void cluster_free(struct cluster *cl)
{
    if (!cl)
        return;
    if (cl->ev) {
        ev_timer_stop(cl->ev, &cl->timer);
        ev_timer_stop(cl->ev, &cl->reset_timer);
        ev_timer_stop(cl->ev, &cl->nodes_timer);
        ev_timer_stop(cl->ev, &cl->lost_timer);
        ev_timer_stop(cl->ev, &cl->lease_timer);
    }
    if (cl->sub) {
        redisAsyncContext *ac = cl->sub;
        cl->sub = NULL;
        ac->data = NULL;
        redisAsyncFree(ac);
    }
    if (cl->ac) {
        redisAsyncContext *ac = cl->ac;
        cl->ac = NULL;
        cl->leaving = true; /* the callbacks hiredis runs now change nothing */
        ac->data = NULL;
        redisAsyncFree(ac);
    }
    idlist_clear(&cl->live);
    idlist_clear(&cl->listing);
    idlist_clear(&cl->suspect);
    free(cl->live.ids);
    free(cl->listing.ids);
    free(cl->suspect.ids);
    wipe(cl->password, sizeof(cl->password));
    free(cl);
}
