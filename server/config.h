/*
 * config: kamrat.conf, an INI file read with libinih.
 *
 * Every key is in one table (config.c) with its section, type, default and
 * range. Unknown keys, duplicate keys, out-of-range values and missing
 * required keys are fatal and reported as `file:line: what is wrong`.
 *
 * Thread: the lws thread (start-up and SIGHUP). Never touches the network.
 */
#ifndef KAMRAT_CONFIG_H
#define KAMRAT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "branding.h"
#include "klog.h"

struct limits {
    uint32_t max_message_bytes;
    uint32_t max_fragments;
    uint32_t max_text_chars;
    uint32_t max_name_chars;
    uint32_t max_room_members;
    uint32_t history_size;
    uint32_t send_queue_bytes;
    uint32_t send_queue_frames;
    uint32_t rate_per_sec;
    uint32_t rate_burst;
    uint32_t max_conns_per_address; /* that are not WebSockets (addrlimit.h) */
    uint32_t max_websockets_per_address;
    uint32_t http_idle_timeout;
    uint32_t hello_timeout;
    uint32_t ping_interval;
    uint32_t ping_timeout;
    uint32_t resume_grace;
    uint32_t session_grace;
    /* Minutes before a session's start from which its leaders may start it
     * now (store_session_start): its lobby opens then. */
    uint32_t early_start;
};

#define CONFIG_NODE_ID_MAX 32   /* [cluster] node_id: 1..32 of [a-z0-9-] */
#define CONFIG_PASSWORD_MAX 512 /* [cluster] redis_password_file's first line, with its NUL */

/* [cluster]: several kamratd nodes on one Redis (cluster.h). */
struct cluster_config {
    char *node_id; /* NULL: no [cluster] section, one node, Redis never contacted */
    char *redis;   /* "host:port" as written; NULL: 127.0.0.1:6379 */
    char *redis_host;
    uint32_t redis_port;
    char *redis_password_file; /* NULL: no AUTH */
    bool redis_tls;            /* only false passes config_load (no TLS in hiredis 0.14) */
    bool allow_persistent_redis;
};

/* [store]: which database the store is on (store.h). */
struct store_config {
    bool postgresql;     /* engine = postgresql; false: SQLite in data_dir */
    char *engine;        /* as written; NULL: sqlite */
    char *conninfo;      /* postgresql: a libpq connection string without a password */
    char *password_file; /* postgresql_password_file; NULL: none (libpq may find one) */
};

struct config {
    char *path;
    char *address; /* NULL: every address */
    uint32_t port;
    char *origin;      /* e.g. "https://chat.example.org" */
    char *origin_host; /* the Host header the origin implies, e.g. "chat.example.org" */
    char *web_root;
    char *data_dir;
    enum klog_level log_level;
    bool tls; /* false only for benchmarks or a TLS proxy on this host */
    char *tls_cert;
    char *tls_key;
    struct limits limits;
    /* [server] metrics_allow: the addresses that may GET /metrics, space
     * separated; NULL: loopback only (127.0.0.1 and ::1). */
    char *metrics_allow;
    /* [safety] crisis_file, risk_words_file: NULL when not set (safety.h). */
    char *crisis_file;
    char *risk_words_file;
    /* [testing] clock_offset: seconds added to the wall clock for schedules,
     * invites and sessions, so tests need not wait for real time. 0 in use. */
    int64_t clock_offset;
    /* [testing] open_rooms: hello may name any room, with no invite, group or
     * session, as in the core protocol; for protocol tests and benchmarks,
     * loopback only. */
    bool open_rooms;
    /* [testing] minute_seconds: how long a "minute" of a timed mute lasts,
     * so tests can watch a timeout end. 60 in use. */
    uint32_t minute_seconds;
    struct cluster_config cluster;
    struct store_config store;
    struct branding_config branding; /* [branding] (branding.h) */
    /* Lines where the TLS, directory and safety keys were set, for check
     * errors. */
    int line_cert, line_key, line_web_root, line_data_dir;
    int line_crisis_file, line_risk_words_file;
    int line_redis_password_file, line_store_password_file;
    int line_logo;
};

/* The limits kamratd uses when the file sets none: protocol/README.md §8. */
void config_default_limits(struct limits *out);

/*
 * Parse the file at path into a new config. Returns NULL and writes
 * "path:line: message" (no newline) into err on any error.
 * The caller frees the result with config_free.
 */
struct config *config_load(const char *path, char *err, size_t errlen);

/*
 * Check what the file names: the certificate and key load and match, the
 * web root is a readable directory, the data directory exists and is
 * writable, the [safety] files pass safety_load, the [branding] logo
 * passes branding_logo_check. Returns 0, or -1 with
 * "path:line: message" in err.
 */
int config_check_files(const struct config *c, char *err, size_t errlen);

void config_free(struct config *c);

/*
 * The first line of [cluster] redis_password_file (without its line end)
 * into out. Returns 0, or -1 with "path:line: message" in err when the file
 * cannot be read, its first line is empty or does not fit outlen. The caller
 * wipes out when done with it.
 */
int config_read_redis_password(const struct config *c, char *out, size_t outlen, char *err,
                               size_t errlen);

/* The first line of [store] postgresql_password_file, as
 * config_read_redis_password. */
int config_read_store_password(const struct config *c, char *out, size_t outlen, char *err,
                               size_t errlen);

/* Is every space-separated word of list an IPv4 or IPv6 address? When not,
 * *bad points at the first that is not. */
bool config_addresses_valid(const char *list, const char **bad);

/* Is id[0..len) a node id: 1..CONFIG_NODE_ID_MAX of [a-z0-9-], safe in a
 * Redis key, a log line and JSON without quoting? */
bool config_node_id_valid(const char *id, size_t len);

/* Is the numeric address peer one of list's ([server] metrics_allow; NULL:
 * 127.0.0.1 and ::1)? An IPv4-mapped IPv6 peer counts as its IPv4 address. */
bool config_address_allowed(const char *list, const char *peer);

/* The wall clock as kamrat's schedules see it: Unix seconds plus clock_offset. */
int64_t config_now(const struct config *c);

#endif
