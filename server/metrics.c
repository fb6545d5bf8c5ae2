#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct {
    const char *name, *help;
} counters[METRIC__COUNT] = {
    [METRIC_CONNECTIONS_ACCEPTED] = {"kamrat_connections_accepted_total",
                                     "WebSocket connections accepted."},
    [METRIC_MESSAGES] = {"kamrat_messages_total", "Chat messages posted."},
    [METRIC_DELIVERIES] = {"kamrat_deliveries_total", "Room events queued to members."},
    [METRIC_BYTES_OUT] = {"kamrat_websocket_sent_bytes_total", "WebSocket payload bytes sent."},
    [METRIC_BYTES_IN] = {"kamrat_websocket_received_bytes_total",
                         "WebSocket payload bytes received."},
    [METRIC_SLOW_CUT] = {"kamrat_slow_consumers_cut_total",
                         "Connections closed because they did not read (4408)."},
    [METRIC_RATE_LIMITED] = {"kamrat_rate_limited_total", "Messages refused as rate_limited."},
    [METRIC_LOGIN_OK] = {"kamrat_logins_ok_total", "Leader logins that succeeded."},
    [METRIC_LOGIN_FAILED] = {"kamrat_logins_failed_total",
                             "Leader logins refused (password, account or throttling)."},
    [METRIC_MODERATION] = {"kamrat_moderation_actions_total",
                           "Moderation actions that changed something."},
    [METRIC_ALERTS] = {"kamrat_alerts_total", "Alerts sent to leaders."},
    [METRIC_BUS_OUT] = {"kamrat_bus_sent_bytes_total",
                        "Bytes published to other nodes (several nodes only)."},
    [METRIC_BUS_IN] = {"kamrat_bus_received_bytes_total",
                       "Bytes received from other nodes (several nodes only)."},
    [METRIC_STORE_WRITE_FAILED] = {"kamrat_store_writes_failed_total",
                                   "Audit rows, bans and session ends the store did not take."},
};

/* Upper bounds of the lag histogram's buckets, in microseconds. */
static const uint64_t lag_bounds[] = {1000, 5000, 10000, 50000, 100000, 500000, 1000000};
#define LAG_BUCKETS (sizeof(lag_bounds) / sizeof(lag_bounds[0]))

static struct {
    uint64_t counter[METRIC__COUNT];
    uint64_t error[PROTO_E_COUNT];
    uint64_t lag_bucket[LAG_BUCKETS]; /* not cumulative; summed when rendered */
    uint64_t lag_count, lag_sum_us;
} m;

void metrics_add(enum metric which, uint64_t n)
{
    if ((unsigned)which < METRIC__COUNT)
        m.counter[which] += n;
}

void metrics_error(enum proto_err e)
{
    if ((unsigned)e < PROTO_E_COUNT)
        m.error[e]++;
}

void metrics_loop_lag(uint64_t usec)
{
    for (size_t i = 0; i < LAG_BUCKETS; i++) {
        if (usec <= lag_bounds[i]) {
            m.lag_bucket[i]++;
            break;
        }
    }
    m.lag_count++;
    m.lag_sum_us += usec;
}

void metrics_reset(void)
{
    memset(&m, 0, sizeof(m));
}

/* A growing page. */
struct page {
    char *buf;
    size_t len, cap;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(struct page *p, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p->buf + p->len, p->cap - p->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < p->cap - p->len) {
            p->len += (size_t)n;
            return;
        }
        p->cap *= 2;
        p->buf = xrealloc(p->buf, p->cap);
    }
}

static void family(struct page *p, const char *name, const char *type, const char *help)
{
    put(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct page *p, const char *name, const char *help, uint64_t v)
{
    family(p, name, "gauge", help);
    put(p, "%s %" PRIu64 "\n", name, v);
}

char *metrics_render(const struct metrics_gauges *g, size_t *len)
{
    struct page p = {xmalloc(4096), 0, 4096};
    gauge(&p, "kamrat_connections", "Open WebSocket connections.", g->connections);
    gauge(&p, "kamrat_rooms", "Live rooms.", g->rooms);
    gauge(&p, "kamrat_members", "Members in live rooms, detached ones included.", g->members);
    gauge(&p, "kamrat_uptime_seconds", "Seconds since kamratd started.", g->uptime_s);
    if (g->clustered) {
        gauge(&p, "kamrat_cluster_live_nodes",
              "kamratd nodes with a live key in Redis at the last listing, this one included.",
              g->cluster_live_nodes);
        gauge(&p, "kamrat_cluster_redis_up", "1 while this node's Redis answers, else 0.",
              g->cluster_redis_up);
    }
    for (size_t i = 0; i < METRIC__COUNT; i++) {
        family(&p, counters[i].name, "counter", counters[i].help);
        put(&p, "%s %" PRIu64 "\n", counters[i].name, m.counter[i]);
    }
    family(&p, "kamrat_errors_total", "counter", "Error replies sent, by protocol error code.");
    for (int e = PROTO_E_BAD_JSON; e < PROTO_E_COUNT; e++)
        put(&p, "kamrat_errors_total{code=\"%s\"} %" PRIu64 "\n", proto_strerror(e), m.error[e]);
    family(&p, "kamrat_event_loop_lag_seconds", "histogram",
           "How late the event loop ran a timer due at a known time.");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < LAG_BUCKETS; i++) {
        cumulative += m.lag_bucket[i];
        put(&p, "kamrat_event_loop_lag_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
            (double)lag_bounds[i] / 1e6, cumulative);
    }
    put(&p, "kamrat_event_loop_lag_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", m.lag_count);
    put(&p, "kamrat_event_loop_lag_seconds_sum %.6f\n", (double)m.lag_sum_us / 1e6);
    put(&p, "kamrat_event_loop_lag_seconds_count %" PRIu64 "\n", m.lag_count);
    *len = p.len;
    return p.buf;
}
