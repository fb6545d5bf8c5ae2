#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "addrlimit.h"
#include "branding.h"
#include "api.h"
#include "authq.h"
#include "bus.h"
#include "cluster.h"
#include "conn.h"
#include "evloop.h"
#include "gate.h"
#include "handover.h"
#include "http.h"
#include "kamrat_build.h"
#include "klog.h"
#include "leaders.h"
#include "listener.h"
#include "metrics.h"
#include "mirror.h"
#include "room.h"
#include "safety.h"
#include "sdnotify.h"
#include "store.h"
#include "storeq.h"
#include "throttle.h"
#include "tls.h"
#include "util.h"
#include "webroot.h"
#include "ws.h"

#define DRAIN_MS 4000 /* SIGTERM: clients get this long to take their close */
/* lws's deadline for the TLS and HTTP handshake, and for a peer to answer
 * our close frame: slow enough for a phone on a bad link, short enough
 * that slowloris and stalled readers do not hold sockets for long. */
#define HANDSHAKE_SECS 5
#define SOCKET_SNDBUF 65536 /* so a stalled reader fills its queue, not kernel memory */

#define LOGIN_KDF_THREADS 2
#define LOGIN_KDF_QUEUE 64
#define LOGIN_THROTTLE_ACCOUNTS 10000
#define LOGIN_THROTTLE_ADDRESSES 10000

#define EXPAND_EVERY_SECS (6 * 3600) /* weekly schedules are turned into sessions ahead */
#define EXPAND_RETRY_SECS 60         /* ... or sooner when the worker's queue was full */

struct expand_job {
    int64_t now;
    int added; /* or a store_err */
};

/* On the store worker, like every other call of schedule.h's functions
 * (the console's schedules too): they set TZ, which one thread at a time
 * may do. */
static void expand_work(struct store *s, void *arg)
{
    struct expand_job *j = arg;
    j->added = store_expand_schedules(s, j->now, STORE_HORIZON);
}

static void expand_done(void *arg, enum storeq_status status)
{
    struct expand_job *j = arg;
    if (status == STOREQ_DONE && j->added < 0)
        klog_error("schedule_expand_failed reason=\"%s\"", store_strerror(j->added));
    else if (status == STOREQ_DONE)
        klog_info("schedule_expanded sessions_added=%d", j->added);
    free(j);
}

/* Keep every weekly schedule's sessions materialised STORE_HORIZON ahead, so
 * a schedule yields its sessions without an admin doing anything. */
static void expand_schedules(lws_sorted_usec_list_t *sul)
{
    struct server *srv = lws_container_of(sul, struct server, expand_timer);
    struct expand_job *j = xcalloc(1, sizeof(*j));
    j->now = config_now(srv->cfg);
    int every = EXPAND_EVERY_SECS;
    if (storeq_submit(srv->storeq, expand_work, expand_done, NULL, j, util_now_ms()) < 0) {
        klog_warn("schedule_expand_deferred reason=queue_full");
        free(j);
        every = EXPAND_RETRY_SECS;
    }
    lws_sul_schedule(srv->ctx, 0, sul, expand_schedules, (lws_usec_t)every * LWS_US_PER_SEC);
}

struct server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

#define WATCH_EVERY_MS 1000

/* The watch's findings, on the loop. */
static void store_watched(void *arg, struct gate_watch *w)
{
    struct server *srv = arg;
    srv->watching = false;
    srv->store_version = w->version;
    room_watch_apply(srv->rooms, w);
    gate_watch_free(w);
}

/* kamratctl writes the database from its own process; PRAGMA data_version
 * tells when anyone else committed (one cheap read a second, no socket to
 * secure), and then the rooms check what they depend on: a cancelled session
 * ends, a leader who no longer leads (disabled, a new password, taken off
 * the group) loses the seat. Both the read and the checks run on the store
 * worker, one watch at a time; a tick that finds one still running, or the
 * queue full, lets the next one look. */
static void watch_store(lws_sorted_usec_list_t *sul)
{
    struct server *srv = lws_container_of(sul, struct server, watch_timer);
    if (!srv->watching) {
        struct gate_watch *w = room_watch_snapshot(srv->rooms);
        w->version = srv->store_version;
        if (gate_watch_async(srv->gate, w, store_watched, srv) == 0)
            srv->watching = true;
        else
            gate_watch_free(w);
    }
    lws_sul_schedule(srv->ctx, 0, sul, watch_store, (lws_usec_t)WATCH_EVERY_MS * LWS_US_PER_MS);
}

#define SWEEP_EVERY_MS 60000

/* Expired leader logins go from memory (and, with several nodes, from the
 * store, with those a new password or disabling ended) without waiting for
 * a lookup to find them. */
static void sweep_logins(lws_sorted_usec_list_t *sul)
{
    struct server *srv = lws_container_of(sul, struct server, sweep_timer);
    size_t n = leaders_sweep(srv->leaders, api_now_ms(srv));
    if (n)
        klog_debug("logins_swept count=%zu", n);
    lws_sul_schedule(srv->ctx, 0, sul, sweep_logins, (lws_usec_t)SWEEP_EVERY_MS * LWS_US_PER_MS);
}

/* The event loop's lag: a timer due every LAG_EVERY_MS, and how late it
 * runs, for the histogram in /metrics. */
#define LAG_EVERY_MS 500

static void measure_lag(lws_sorted_usec_list_t *sul)
{
    struct server *srv = lws_container_of(sul, struct server, lag_timer);
    lws_usec_t now = lws_now_usecs();
    if (srv->lag_due)
        metrics_loop_lag(now > srv->lag_due ? (uint64_t)(now - srv->lag_due) : 0);
    srv->lag_due = now + (lws_usec_t)LAG_EVERY_MS * LWS_US_PER_MS;
    lws_sul_schedule(srv->ctx, 0, sul, measure_lag, (lws_usec_t)LAG_EVERY_MS * LWS_US_PER_MS);
}

/* Runs on an authq or storeq worker: have the loop drain the finished
 * jobs. */
static void wake_loop(void *ctx)
{
    lws_cancel_service(ctx);
}

/* Leader logins (api.c): at most LOGIN_KDF_THREADS key derivations at once
 * (TESTPLAN §2), LOGIN_KDF_QUEUE waiting or running, then "busy". */
static int start_logins(struct server *srv)
{
    srv->authq = authq_new(LOGIN_KDF_THREADS, LOGIN_KDF_QUEUE, wake_loop, srv->ctx);
    if (!srv->authq) {
        klog_error("start_failed reason=\"cannot start the password-hash workers\"");
        return -1;
    }
    srv->throttle = throttle_new(LOGIN_THROTTLE_ACCOUNTS, LOGIN_THROTTLE_ADDRESSES);
    /* Its account table stays empty: invite lookups count per address. */
    srv->invite_throttle = throttle_new(1, LOGIN_THROTTLE_ADDRESSES);
    srv->leaders = leaders_new();
    if (srv->cluster)
        leaders_share(srv->leaders, srv->store); /* a login counts on every node */
    return 0;
}

/* Before lws_context_destroy: authq_free runs the done function of every
 * job still held, and those need the throttle, the registry and the store. */
static void stop_logins(struct server *srv)
{
    authq_free(srv->authq);
    srv->authq = NULL;
    throttle_free(srv->throttle);
    srv->throttle = NULL;
    throttle_free(srv->invite_throttle);
    srv->invite_throttle = NULL;
    leaders_free(srv->leaders); /* wipes every login's digest */
    srv->leaders = NULL;
}

#define STORE_DEADLINES_EVERY_MS 500

/* Store requests past their deadline (storeq.h) get their clients an
 * answer now; their late results are dropped. */
static void store_deadlines(lws_sorted_usec_list_t *sul)
{
    struct server *srv = lws_container_of(sul, struct server, storeq_timer);
    storeq_expire(srv->storeq, util_now_ms());
    lws_sul_schedule(srv->ctx, 0, sul, store_deadlines,
                     (lws_usec_t)STORE_DEADLINES_EVERY_MS * LWS_US_PER_MS);
}

/* The store worker: a connection of its own, opened as the loop's. */
static int start_store_worker(struct server *srv)
{
    char err[512];
    struct store *s;
    if (store_open_config(srv->cfg, 0, &s, err, sizeof(err)) < 0) {
        klog_error("start_failed reason=\"%s\"", err);
        return -1;
    }
    srv->storeq = storeq_new(s, STOREQ_CAP, STOREQ_TIMEOUT_MS, wake_loop, srv->ctx);
    if (!srv->storeq) {
        klog_error("start_failed reason=\"cannot start the store worker\"");
        return -1;
    }
    store_deadlines(&srv->storeq_timer);
    return 0;
}

/* One node: what an earlier run left that a restart must keep (protocol
 * README §4 "After a restart"): the leaders' logins come back into memory,
 * and what the store kept of sessions that ended meanwhile goes. Read once,
 * before the port opens; from here on the store worker writes the logins. */
static int restore_sessions(struct server *srv)
{
    int n = leaders_restore(srv->leaders, srv->store, api_now_ms(srv));
    int rc = n < 0 ? n : store_admitted_wipe(srv->store, 0, config_now(srv->cfg));
    if (rc < 0) {
        klog_error("start_failed reason=\"cannot read the logins: %s\"", store_strerror(rc));
        return -1;
    }
    leaders_keep(srv->leaders, srv->storeq);
    klog_info("logins_restored count=%d", n);
    return 0;
}

static void drain_expired(lws_sorted_usec_list_t *sul)
{
    (void)sul; /* drain_finished, after this pass of the loop, sees the deadline */
}

static bool drain_finished(void *arg)
{
    struct server *srv = arg;
    return (srv->conns.count == 0 && cluster_left(srv->cluster) && handover_done(srv)) ||
           util_now_ms() >= srv->drain_deadline_ms;
}

void server_stop(struct server *srv, enum proto_close code)
{
    if (srv->draining)
        return;
    srv->draining = true;
    srv->drain_deadline_ms = util_now_ms() + DRAIN_MS;
    klog_info("shutdown_start connections=%u", srv->conns.count);
    sdnotify("STOPPING=1");
    /* New connections are refused at accept from now on (the listener
     * stays open: a planned restart's new process accepts on it). */
    conn_close_all(&srv->conns, code);
    cluster_leave(srv->cluster); /* the other nodes stop counting this one now */
    /* Wake the loop at the deadline even if no socket has anything to say. */
    lws_sul_schedule(srv->ctx, 0, &srv->drain_timer, drain_expired,
                     (lws_usec_t)DRAIN_MS * LWS_US_PER_MS);
    evloop_stop_when(srv->loop, drain_finished, srv);
}

/* SIGHUP: read the [safety] files again. A file that no longer passes is
 * logged and the settings in use stay, so a typo in a crisis number never
 * takes the crisis list away from the rooms. */
static void reload_safety(struct server *srv)
{
    char err[512];
    struct safety *fresh;
    if (safety_load(srv->cfg->crisis_file, srv->cfg->risk_words_file, &fresh, err, sizeof(err)) <
        0) {
        klog_error("safety_reload_failed reason=\"%s\" keeping=previous", err);
        return;
    }
    gate_set_safety(srv->gate, fresh);
    safety_free(srv->safety);
    srv->safety = fresh;
    klog_info("safety_reloaded");
}

/* SIGUSR1: debug logging on, and off again (back to the configured level),
 * to look into a problem without a restart that would end every room. */
static void toggle_debug(struct server *srv)
{
    enum klog_level now = klog_get_level();
    if (now == KLOG_DEBUG && srv->log_level != KLOG_DEBUG) {
        klog_set_level(srv->log_level);
    } else {
        srv->log_level = now;
        klog_set_level(KLOG_DEBUG);
    }
    static const char *const names[] = {"error", "warn", "info", "debug"};
    /* At warn the line itself is not shown, and needs not be: nothing changed
     * that anyone reading that log would see. */
    klog_info("log_level level=%s", names[klog_get_level()]);
}

/* Redis has the copies up to ticket upto: acks that waited for them go. */
static void on_mirror_answered(void *arg, uint64_t upto)
{
    struct server *srv = arg;
    conn_release_all(&srv->holding, upto);
}

/* Signals arrive here on the loop (evloop), not in a signal handler. */
static void on_signal(int sig, void *arg)
{
    struct server *srv = arg;
    switch (sig) {
    case SIGUSR2:
        handover_begin(srv);
        break;
    case SIGCHLD:
        handover_child_exited(srv);
        break;
    case SIGHUP:
        if (srv->cfg->tls)
            tls_reload(srv, (SSL_CTX *)srv->ssl_ctx);
        reload_safety(srv);
        break;
    case SIGUSR1:
        toggle_debug(srv);
        break;
    default:
        if (sig == SIGTERM && srv->draining)
            _exit(1); /* the second SIGTERM: the admin means it */
        server_stop(srv, PROTO_CLOSE_GOING_AWAY);
        break;
    }
}

/* A connection was accepted (listener.h): count it against its address,
 * then lws takes it over (TLS, HTTP, the upgrade) as from its own
 * listener. */
static void on_accept(int fd, const struct sockaddr *addr, socklen_t len, void *arg)
{
    struct server *srv = arg;
    if (srv->draining || addrlimit_accept(srv->addrs, addr, len) < 0) {
        if (!srv->draining)
            klog_info("conn_refused reason=per_address_limit");
        close(fd);
        return;
    }
    int sndbuf = SOCKET_SNDBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    /* NULL: lws refused it (a descriptor past its table) and closed it. */
    lws_adopt_socket_vhost(srv->vhost, fd);
}

/* protocols[0]: connection-level events, then HTTP. */
static int server_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    struct server *srv;
    switch (reason) {
    case LWS_CALLBACK_WSI_CREATE:
        addrlimit_bind(server_of(wsi)->addrs, wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        srv = server_of(wsi);
        if (srv->addrs)
            addrlimit_release(srv->addrs, wsi);
        return 0;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        srv = server_of(wsi);
        srv->ssl_ctx = user;
        return tls_harden(user) < 0 ? 1 : 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        srv = server_of(wsi);
        if (srv->authq)
            authq_drain(srv->authq);
        if (srv->storeq)
            storeq_drain(srv->storeq);
        return 0;
    default:
        return http_callback(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"http", server_callback, sizeof(struct http_req), 0, 0, NULL, 0},
    /* lws keeps an rx buffer of this size for every connection, idle or not;
     * ws.c assembles messages across chunks, so a small one costs a callback
     * per 512 bytes of a long message and saves 3.5 KiB per connection
     * against lws's 4 KiB (bench/README.md: memory per connection). */
    /* tx_packet_size: without it lws 4.1 hands the kernel at most
     * rx_buffer_size bytes per write and keeps the rest for the next POLLOUT,
     * so every frame over 1 KiB took two passes of the loop. */
    {"kamrat.v1", ws_callback, sizeof(struct conn *), 512, 0, NULL, SOCKET_SNDBUF},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/*
 * How many sockets lws may poll. lws stops accepting when its table is
 * full, but the table holds only its own sockets: SQLite's three files, the
 * log, the worker queue and the static files lws serves use descriptors
 * too. Without a reserve for them accept() meets EMFILE first, and lws
 * 4.1.6 then retries it at once, forever: one core at 100% until
 * connections close (TESTPLAN G7).
 *
 * lws takes its table size from RLIMIT_NOFILE when the context is made. The
 * obvious knob, info.fd_limit_per_thread, makes lws 4.1 find a socket's wsi
 * by a linear scan of the whole table on every event (7.5% of kamratd's CPU
 * at 1,000 connections with a 20,000 limit). So the context is made under a
 * soft limit lowered to the budget, which is restored at once: lws indexes
 * its table directly, refuses a socket numbered past the budget ("too
 * high") and closes it, and accept() itself never runs out.
 *
 * Returns true when the limit was lowered and *saved must be restored.
 */
static bool lower_fd_limit_for_lws(struct rlimit *saved)
{
    if (getrlimit(RLIMIT_NOFILE, saved) < 0 || saved->rlim_cur == RLIM_INFINITY)
        return false;
    rlim_t reserve = saved->rlim_cur / 8;
    if (reserve < 32)
        reserve = 32;
    if (reserve > 256)
        reserve = 256;
    struct rlimit budget = *saved;
    /* a tiny limit: serve a few, refuse the rest cleanly */
    budget.rlim_cur =
        saved->rlim_cur < reserve + 16 ? saved->rlim_cur / 2 : saved->rlim_cur - reserve;
    return setrlimit(RLIMIT_NOFILE, &budget) == 0;
}

/* Is the listening socket on port bound to the configured address? A
 * daemon told to stay on loopback must not be on the network: neither
 * through an interface lookup that failed (lws's listener listened on every
 * address then) nor through sockets a planned restart passed on from a
 * configuration with another address. An address that is no numeric IP
 * is taken as resolved. */
static bool listener_where_configured(const struct config *cfg)
{
    unsigned char want[sizeof(struct in6_addr)];
    int family = inet_pton(AF_INET, cfg->address, want) == 1    ? AF_INET
                 : inet_pton(AF_INET6, cfg->address, want) == 1 ? AF_INET6
                                                                : 0;
    if (!family)
        return true;
    for (int fd = 0; fd < 1024; fd++) { /* the listener is one of the first */
        int listening = 0;
        socklen_t n = sizeof(listening);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &n) < 0 || !listening ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 || ss.ss_family != family)
            continue;
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&ss;
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ss;
        bool v4ok = family == AF_INET && ntohs(v4->sin_port) == cfg->port;
        bool v6ok = family == AF_INET6 && ntohs(v6->sin6_port) == cfg->port;
        if (v4ok)
            return memcmp(&v4->sin_addr, want, sizeof(v4->sin_addr)) == 0;
        if (v6ok)
            return memcmp(&v6->sin6_addr, want, sizeof(v6->sin6_addr)) == 0;
    }
    return false;
}

static int make_context(struct server *srv, lws_retry_bo_t *retry)
{
    const struct config *cfg = srv->cfg;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));

    *retry = (lws_retry_bo_t){
        .secs_since_valid_ping = (uint16_t)cfg->limits.ping_interval,
        .secs_since_valid_hangup = (uint16_t)cfg->limits.ping_timeout,
    };
    /* No listener of lws's: kamratd accepts itself (listener.h); the vhost
     * keeps its TLS context. */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.vhost_name = "kamrat";
    info.user = srv;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_LIBEV;
    void *loops[1] = {evloop_native(srv->loop)};
    info.foreign_loops = loops;
    info.pcontext = &srv->ctx; /* lws sets it to NULL once the context is freed */
    if (cfg->tls) {
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
        info.ssl_cipher_list = tls_cipher_list;
        info.tls1_3_plus_cipher_list = tls13_ciphersuites;
        info.alpn = "http/1.1";
    }
    info.server_string = "kamrat";
    info.timeout_secs = HANDSHAKE_SECS;
    /* A browser keeps its page-load connections open for the next request;
     * each holds an HTTP slot of its address (addrlimit.h) until it closes. */
    info.keepalive_timeout = (int)cfg->limits.http_idle_timeout;
    info.retry_and_idle_policy = retry;
    /* No info.extensions: permessage-deflate stays off (TESTPLAN §0). */

    struct rlimit nofile;
    bool lowered = lower_fd_limit_for_lws(&nofile);
    srv->ctx = lws_create_context(&info);
    if (lowered)
        setrlimit(RLIMIT_NOFILE, &nofile);
    if (!srv->ctx) {
        /* lws logs why: the certificate, or libwebsockets-evlib-ev */
        klog_error("start_failed reason=\"libwebsockets cannot start (its error is logged "
                   "above)\"");
        return -1;
    }
    srv->vhost = lws_get_vhost_by_name(srv->ctx, "kamrat");
    return 0;
}

/* The listening sockets: a planned restart's (fds[0..n)), or opened now. */
static int open_listener(struct server *srv, int *fds, size_t n)
{
    const struct config *cfg = srv->cfg;
    char err[256];
    if (!n && listener_open(cfg, fds, &n, err, sizeof(err)) < 0) {
        klog_error("start_failed reason=\"port %u: %s\"", cfg->port, err);
        return -1;
    }
    srv->listener = listener_new(srv->loop, fds, n, on_accept, srv);
    if (cfg->address && !listener_where_configured(cfg)) {
        klog_error("start_failed reason=\"the listener is not bound to %s (interface lookup "
                   "failed?)\"",
                   cfg->address);
        return -1; /* server_run's exit path destroys the context */
    }
    return 0;
}

int server_run(struct server *srv)
{
    static const int handled_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD};
    char err[512];
    lws_retry_bo_t retry;
    int rc = -1;
    int inherited[LISTENER_MAX];
    size_t ninherited = 0;

    /* First: the hash key comes with a planned restart's sockets, before
     * any table is made. */
    if (handover_connect(srv, inherited, &ninherited) < 0)
        return -1;

    if (RAND_bytes((unsigned char *)&srv->epoch, sizeof(srv->epoch)) != 1) {
        klog_error("start_failed reason=\"no randomness\"");
        return -1;
    }
    if (safety_load(srv->cfg->crisis_file, srv->cfg->risk_words_file, &srv->safety, err,
                    sizeof(err)) < 0) {
        klog_error("start_failed reason=\"%s\"", err);
        return -1;
    }
    /* The branding is read once, as the web root is: a restart applies a
     * change, SIGHUP does not. */
    struct webroot_extra brand[BRANDING_FILES];
    size_t nbrand = 0;
    if (branding_files(&srv->cfg->branding, brand, &nbrand, err, sizeof(err)) < 0) {
        klog_error("start_failed reason=\"[branding] logo %s\"", err);
        goto out;
    }
    srv->web = webroot_load(srv->cfg->web_root, brand, nbrand, err, sizeof(err));
    if (!srv->web) {
        klog_error("start_failed reason=\"%s\"", err);
        goto out;
    }
    if (store_open_config(srv->cfg, STORE_CREATE, &srv->store, err, sizeof(err)) < 0) {
        klog_error("start_failed reason=\"%s\"", err);
        goto out;
    }
    srv->addrs = addrlimit_new(srv->cfg->limits.max_conns_per_address,
                               srv->cfg->limits.max_websockets_per_address);

    srv->loop = evloop_new();
    if (!srv->loop)
        goto out;
    /* Signals that came before the loop runs wait for it. */
    if (evloop_on_signals(srv->loop, handled_signals,
                          (int)(sizeof(handled_signals) / sizeof(handled_signals[0])), on_signal,
                          srv) < 0) {
        klog_error("start_failed reason=\"cannot watch signals\"");
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Past RLIMIT_FSIZE a write fails (EFBIG, an error the store reports)
     * instead of killing the daemon. */
    signal(SIGXFSZ, SIG_IGN);

    /* Before the port opens: a Redis that keeps data on disk stops us here. */
    if (cluster_start(srv->cfg, srv->loop, &srv->cluster, err, sizeof(err)) < 0) {
        klog_error("start_failed reason=\"%s\"", err);
        goto out;
    }
    if (srv->cluster && !srv->cfg->store.postgresql)
        klog_warn("cluster_store_not_shared store=sqlite consequence=\"groups, invites, bans "
                  "and leader logins are this node's own unless every node opens the same "
                  "file\" fix=\"[store] engine = postgresql\"");
    if (make_context(srv, &retry) < 0 || open_listener(srv, inherited, ninherited) < 0 ||
        start_logins(srv) < 0 || start_store_worker(srv) < 0)
        goto out;
    ninherited = 0; /* the listener has them */
    if (!srv->cluster && restore_sessions(srv) < 0)
        goto out;
    srv->gate = gate_new(srv->cfg, srv->store, srv->leaders, srv->storeq);
    gate_set_safety(srv->gate, srv->safety);
    srv->rooms = room_registry_new(srv->cfg, srv->ctx, srv->epoch, srv->gate);
    if (srv->cluster) {
        srv->mirror = mirror_new(srv->cluster, srv->loop, on_mirror_answered, srv);
        room_set_mirror(srv->rooms, srv->mirror, srv->cfg->cluster.node_id);
    }
    srv->bus = bus_new(srv, srv->cluster);
    if (handover_receive(srv) < 0)
        klog_warn("handover_partial consequence=\"members of the rooms not received start "
                  "afresh\"");
    expand_schedules(&srv->expand_timer);
    srv->store_version = -1; /* the worker's connection counts its own: the first watch reads it */
    watch_store(&srv->watch_timer);
    lws_sul_schedule(srv->ctx, 0, &srv->sweep_timer, sweep_logins,
                     (lws_usec_t)SWEEP_EVERY_MS * LWS_US_PER_MS);
    srv->started_ms = util_now_ms();
    srv->log_level = klog_get_level();
    measure_lag(&srv->lag_timer);
    klog_info("listening address=%s port=%u tls=%s files=%zu version=%s",
              srv->cfg->address ? srv->cfg->address : "*", srv->cfg->port,
              srv->cfg->tls ? "yes" : "no", webroot_count(srv->web), KAMRAT_VERSION);
    handover_finish(srv); /* accepting from the next pass of the loop */

    evloop_run(srv->loop); /* until a drain has finished */
    klog_info("shutdown connections_left=%u", srv->conns.count);
    rc = 0;

    lws_sul_cancel(&srv->drain_timer);
    lws_sul_cancel(&srv->expand_timer);
    lws_sul_cancel(&srv->watch_timer);
    lws_sul_cancel(&srv->sweep_timer);
    lws_sul_cancel(&srv->lag_timer);
    lws_sul_cancel(&srv->storeq_timer);
    /* Logins still held end first: their audit rows go to the store
     * worker. */
    authq_free(srv->authq);
    srv->authq = NULL;
    /* Hellos still waiting are answered (busy) while their connections,
     * rooms and gate are there. */
    storeq_free(srv->storeq);
    srv->storeq = NULL;
    bus_free(srv->bus); /* its remote connections hold members */
    srv->bus = NULL;
    room_registry_free(srv->rooms); /* wipes every room's history */
    srv->rooms = NULL;
    gate_free(srv->gate);
    srv->gate = NULL;
out:
    for (size_t i = 0; i < ninherited; i++)
        close(inherited[i]);
    handover_free(srv->handover);
    srv->handover = NULL;
    listener_free(srv->listener);
    srv->listener = NULL;
    stop_logins(srv);
    mirror_close(srv->mirror);
    cluster_free(srv->cluster); /* its socket is watched by the loop */
    srv->cluster = NULL;
    mirror_free(srv->mirror); /* after the cluster: hiredis answers pending commands as it goes */
    srv->mirror = NULL;
    evloop_free(srv->loop, &srv->ctx);
    srv->loop = NULL;
    store_close(srv->store);
    srv->store = NULL;
    addrlimit_free(srv->addrs);
    srv->addrs = NULL;
    webroot_free(srv->web);
    srv->web = NULL;
    safety_free(srv->safety); /* after the gate and rooms, which borrowed it */
    srv->safety = NULL;
    return rc;
}
