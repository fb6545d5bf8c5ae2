/*
 * server: the one libwebsockets context, its vhost and the event loop.
 *
 * struct server is the daemon's only global state, built by main.c and
 * reachable from every lws callback through lws_context_user(). Signal
 * handlers only set flags and wake the loop (lws_cancel_service); the loop
 * acts on them: SIGTERM/SIGINT drain and exit, SIGHUP reloads certificates
 * and the [safety] files, SIGUSR2 hands over to a new process (handover.h).
 *
 * Thread: everything here runs on the lws service thread.
 */
#ifndef KAMRAT_SERVER_H
#define KAMRAT_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "config.h"
#include "proto.h"

struct rooms;
struct webroot;
struct addrlimit;
struct store;
struct gate;
struct authq;
struct storeq;
struct throttle;
struct leaders;
struct safety;
struct evloop;
struct cluster;
struct bus;
struct listener;
struct handover;

struct server {
    struct config *cfg;
    struct lws_context *ctx;
    struct evloop *loop; /* libev (epoll), under lws and the signals */
    struct lws_vhost *vhost;
    struct listener *listener; /* the sockets clients connect to (listener.h) */
    struct handover *handover; /* a planned restart under way (handover.h), or NULL */
    char **argv;               /* main's: a planned restart starts the binary with them */
    uint64_t epoch;            /* random per process: resume across restarts fails cleanly */
    struct rooms *rooms;
    struct gate *gate;   /* who may enter which room */
    struct store *store; /* <data_dir>/kamrat.db; never used on the message path */
    struct webroot *web;
    struct addrlimit *addrs;
    struct ssl_ctx_st *ssl_ctx; /* the vhost's, kept to re-apply policy on reload */
    lws_dll2_owner_t conns;     /* every WebSocket connection (struct conn) */
    uint32_t remote_conns;      /* ... of which served for clients on other nodes (bus.h) */
    lws_dll2_owner_t holding;   /* connections with frames waiting for the mirror (conn_hold) */
    lws_dll2_owner_t writing;   /* WebSockets with frames to write before the loop waits (ws.c) */
    struct mirror *mirror;      /* copies of rooms in Redis; NULL without [cluster] */
    struct authq *authq;        /* password checks off the lws thread (api.c) */
    struct storeq *storeq;      /* the store worker: hellos off the lws thread (gate.c) */
    lws_sorted_usec_list_t storeq_timer; /* answers store requests past their deadline */
    struct throttle *throttle;           /* login attempts per account and address */
    struct throttle *invite_throttle;    /* invite lookups per address (joininfo.h) */
    struct leaders *leaders;             /* live leader logins, by token digest */
    struct safety *safety;               /* crisis resources and risk words; the gate borrows it */
    struct cluster *cluster;             /* NULL: one node, no [cluster] (cluster.h) */
    struct bus *bus;                     /* rooms across nodes; NULL without [cluster] (bus.h) */
    bool draining;
    uint64_t drain_deadline_ms;
    lws_sorted_usec_list_t drain_timer;  /* wakes the loop at the drain deadline */
    lws_sorted_usec_list_t expand_timer; /* materialises scheduled sessions */
    lws_sorted_usec_list_t watch_timer;  /* notices what kamratctl changed */
    int64_t store_version; /* the store worker's data version last seen (-1: none yet) */
    bool watching;         /* a watch runs on the store worker */
    lws_sorted_usec_list_t sweep_timer; /* drops expired leader logins */
    uint64_t started_ms;                /* monotonic, for the uptime in /metrics */
    enum klog_level log_level;          /* the level SIGUSR1 returns to from debug */
    lws_sorted_usec_list_t lag_timer;   /* measures how late the loop runs timers */
    lws_usec_t lag_due;
};

/* Stop: accept nothing more, close every connection with code (unless a
 * planned restart closed them already) and end the loop once they have gone
 * (and a planned restart's new process has taken over), or at the drain
 * deadline. */
void server_stop(struct server *srv, enum proto_close code);

/* The server a callback belongs to. */
struct server *server_of(struct lws *wsi);

/*
 * Create the context and vhost from srv->cfg and run until a drain ends.
 * Returns 0 after a clean shutdown, or -1 when the server could not start
 * (the reason is logged).
 */
int server_run(struct server *srv);

#endif
