/*
 * cluster: this node's membership among several kamratd nodes that share one
 * Redis ([cluster] in kamrat.conf, DESIGN §8).
 *
 * Each node keeps the key kamrat:node:<node_id> alive in Redis (a 3 s TTL
 * it refreshes every 250 ms) and lists the others' keys on every refresh, so
 * every node knows the same set of live nodes; cluster_home() picks a room's
 * home among them by rendezvous hashing.
 *
 * The key is the node's lease on its rooms. The node serves them only while
 * Redis confirmed a refresh less than the TTL (less a margin) ago, counted
 * from when the refresh was sent; it refreshes only a key that still exists
 * (SET XX), and every copy it writes (mirror.h) is refused once the key is
 * gone. A node whose key is gone, or whose lease ran out, lets all its rooms
 * go (the lease_lost handler) and registers anew. A node is declared dead
 * early, before its key expires, when its subscriber connection is gone
 * (PUBSUB NUMSUB 0: a killed process's sockets close) and it has not
 * refreshed for DEAD_QUIET_MS: a survivor deletes its key, which fences its
 * writes. A node that is only stalled keeps its connections, and its key. Without [cluster] nothing
 * here runs and Redis is never contacted.
 *
 * Privacy (DESIGN §4): only node ids, addresses and times go to Redis. Since
 * room events will pass through it, Redis must keep nothing on disk:
 * cluster_start refuses a Redis with persistence on unless the operator
 * allows it ([cluster] allow_persistent_redis).
 *
 * Thread: the lws thread. The Redis connection lives on the daemon's libev
 * loop (evloop.h) and never blocks it; only cluster_start blocks, once, at
 * start-up, before any client is served.
 */
#ifndef KAMRAT_CLUSTER_H
#define KAMRAT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cluster;
struct config;
struct evloop;

/*
 * Join the cluster cfg->cluster describes: connect to Redis (2 s at most),
 * AUTH, refuse a Redis that keeps data on disk (CONFIG GET save and
 * appendonly) unless allowed, then register this node on loop and keep it
 * registered. Returns 0 with *out a new cluster, 0 with *out NULL when cfg
 * has no [cluster] section, or -1 with the reason in err (for a
 * start_failed line). loop must outlive the cluster; cfg must outlive it.
 */
int cluster_start(const struct config *cfg, struct evloop *loop, struct cluster **out, char *err,
                  size_t errlen);

/*
 * Leaving (SIGTERM's drain): stop refreshing and delete this node's key, so
 * the others stop counting it at once rather than when its key expires.
 * cl may be NULL. Never blocks.
 */
void cluster_leave(struct cluster *cl);

/* After cluster_leave: true once Redis confirmed the delete, the connection
 * is gone, or CLUSTER_LEAVE_MS passed (the loop is woken then). True for a
 * NULL cl. */
bool cluster_left(const struct cluster *cl);

/* Close the Redis connection and free cl (NULL is a no-op). Before the loop
 * it was started on is freed. */
void cluster_free(struct cluster *cl);

struct cluster_status {
    const char *node_id; /* borrowed from the config */
    bool redis_up;       /* the last refresh was answered on a live connection */
    bool bus_up;         /* cluster_bus_ready */
    size_t live_nodes;   /* in the last complete listing, this node included */
};

/* What /healthz and /metrics show. */
void cluster_status(const struct cluster *cl, struct cluster_status *out);

/*
 * A room's route: a 64-bit hash of its key that every node computes alike
 * (no per-process key). Resume tokens carry it, so a node can tell where a
 * resuming member's room lives without knowing the room.
 */
uint64_t cluster_route(const char *room_key);

/*
 * The home node of the room with this route among nodes[0..n): the node with
 * the highest weight hash(node, route) (rendezvous hashing). Every node
 * computes the same answer from the same set, in any order; when a node
 * leaves, only the rooms it was home to move. Returns one of nodes[]
 * (borrowed), or NULL when n is 0. Pure: no Redis, no state.
 */
const char *cluster_home(uint64_t route, const char *const *nodes, size_t n);

/* ---- the bus's transport (bus.h) ----
 *
 * Each node subscribes, on a second connection, to its own channel
 * kamrat:bus:<node_id>; the bus publishes to another node's channel on the
 * first. Redis keeps the order of what one connection publishes, and pub/sub
 * keeps nothing once delivered. */

struct cluster_handlers {
    /* A message published to this node's channel (borrowed for the call). */
    void (*message)(void *arg, const unsigned char *data, size_t len);
    /* Messages to or from this node may have been lost (a Redis connection
     * dropped): what crosses nodes starts over. */
    void (*reset)(void *arg);
    /* The live set changed (cluster_live). */
    void (*nodes)(void *arg);
    /* A cluster_publish(..., confirm = true) reached nobody: node is not
     * subscribed (gone before its key expired, or reconnecting). */
    void (*unheard)(void *arg, const char *node);
    /* This node's lease is gone: it must stop serving its rooms now. */
    void (*lease_lost)(void *arg);
    void *arg;
};

void cluster_set_handlers(struct cluster *cl, const struct cluster_handlers *h);

/* Both connections are up, subscribed, and the live set has been listed. */
bool cluster_bus_ready(const struct cluster *cl);

/* The live set, sorted (borrowed until the next listing), this node included
 * once it has registered. */
void cluster_live(const struct cluster *cl, const char *const **nodes, size_t *n);

/* Is node in the live set? */
bool cluster_is_live(const struct cluster *cl, const char *node);

/* Was node's subscriber connection gone at the last refresh (it may be dead
 * and about to be declared so)? */
bool cluster_is_suspect(const struct cluster *cl, const char *node);

/* This node's key, which its copies are fenced on (mirror.c). */
const char *cluster_node_key(const struct cluster *cl);

/* hiredis's reply callback (hiredis/async.h's redisCallbackFn). */
struct redisAsyncContext;
typedef void cluster_reply_fn(struct redisAsyncContext *ac, void *reply, void *arg);

/* Queue a command (argv[0..argc), lens[i] bytes each) on the first
 * connection; fn(arg) gets its reply, or a NULL reply when the connection
 * went first. -1 when Redis is not connected (fn is not called). */
int cluster_command(struct cluster *cl, cluster_reply_fn *fn, void *arg, int argc,
                    const char **argv, const size_t *lens);

/* Queue data for node's channel. -1 when the bus is not ready (nothing is
 * queued); delivery is not confirmed: a lost connection calls reset. With
 * confirm, a message nobody received calls the unheard handler. */
int cluster_publish(struct cluster *cl, const char *node, const void *data, size_t len,
                    bool confirm);

#endif
