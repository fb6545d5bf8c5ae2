/*
 * cluster: this node's membership among several kamratd nodes that share one
 * Redis ([cluster] in kamrat.conf, DESIGN §8).
 *
 * Each node keeps the key kamrat:node:<node_id> alive in Redis (a TTL it
 * refreshes every second) and lists the others' keys on every refresh, so
 * every node knows the same set of live nodes; cluster_home() picks a room's
 * home among them by rendezvous hashing. Without [cluster] nothing here runs
 * and Redis is never contacted.
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
    size_t live_nodes;   /* in the last complete listing, this node included */
};

/* What /healthz and /metrics show. */
void cluster_status(const struct cluster *cl, struct cluster_status *out);

/*
 * The home node of room_key among nodes[0..n): the node with the highest
 * weight hash(node, room_key) (rendezvous hashing). Every node computes the
 * same answer from the same set, in any order; when a node leaves, only the
 * rooms it was home to move. Returns one of nodes[] (borrowed), or NULL when
 * n is 0. Pure: no Redis, no state.
 */
const char *cluster_home(const char *room_key, const char *const *nodes, size_t n);

#endif
