/*
 * metrics: what GET /metrics tells an operator, in the Prometheus text
 * exposition format (version 0.0.4).
 *
 * Counters only ever grow; the modules that see an event count it with one
 * add (no locks: every caller is on the lws thread). Gauges (connections,
 * rooms, members) are read when the page is made. Nothing here names a
 * room, a member or a message: the metrics are safe to show a monitoring
 * system.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_METRICS_H
#define KAMRAT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum metric {
    METRIC_CONNECTIONS_ACCEPTED, /* WebSocket upgrades accepted */
    METRIC_MESSAGES,             /* say requests posted (once per message) */
    METRIC_DELIVERIES,           /* event frames queued to members */
    METRIC_BYTES_OUT,            /* WebSocket payload bytes written */
    METRIC_BYTES_IN,             /* WebSocket payload bytes received */
    METRIC_SLOW_CUT,             /* connections cut for a full send queue (4408) */
    METRIC_RATE_LIMITED,         /* say requests refused with rate_limited */
    METRIC_LOGIN_OK,
    METRIC_LOGIN_FAILED,       /* wrong password, unknown name, disabled, throttled */
    METRIC_MODERATION,         /* moderation actions that changed something */
    METRIC_ALERTS,             /* alerts sent to leaders */
    METRIC_BUS_OUT,            /* bytes published to other nodes (bus.h) */
    METRIC_BUS_IN,             /* bytes received from other nodes */
    METRIC_STORE_WRITE_FAILED, /* audit rows, bans, session ends the store did not take */
    METRIC__COUNT
};

void metrics_add(enum metric m, uint64_t n);

static inline void metrics_inc(enum metric m)
{
    metrics_add(m, 1);
}

/* An error reply with this code was sent. */
void metrics_error(enum proto_err e);

/* How late a timer fired, in microseconds: the event loop's lag. */
void metrics_loop_lag(uint64_t usec);

struct metrics_gauges {
    uint64_t connections; /* open WebSocket connections */
    uint64_t rooms;
    uint64_t members;
    uint64_t uptime_s;
    /* [cluster] only: without it the page has no cluster gauges at all. */
    bool clustered;
    bool cluster_redis_up;
    uint64_t cluster_live_nodes;
};

/* The whole page, in a new NUL-terminated string (free it); *len gets its
 * length. */
char *metrics_render(const struct metrics_gauges *g, size_t *len);

/* Forget every count (tests). */
void metrics_reset(void);

#endif
