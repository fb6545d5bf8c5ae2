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
    uint32_t max_conns_per_address;
    uint32_t hello_timeout;
    uint32_t ping_interval;
    uint32_t ping_timeout;
    uint32_t resume_grace;
    uint32_t session_grace;
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
    /* Lines where the TLS, directory and safety keys were set, for check
     * errors. */
    int line_cert, line_key, line_web_root, line_data_dir;
    int line_crisis_file, line_risk_words_file;
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
 * writable, the [safety] files pass safety_load. Returns 0, or -1 with
 * "path:line: message" in err.
 */
int config_check_files(const struct config *c, char *err, size_t errlen);

void config_free(struct config *c);

/* Is every space-separated word of list an IPv4 or IPv6 address? When not,
 * *bad points at the first that is not. */
bool config_addresses_valid(const char *list, const char **bad);

/* Is the numeric address peer one of list's ([server] metrics_allow; NULL:
 * 127.0.0.1 and ::1)? An IPv4-mapped IPv6 peer counts as its IPv4 address. */
bool config_address_allowed(const char *list, const char *peer);

/* The wall clock as kamrat's schedules see it: Unix seconds plus clock_offset. */
int64_t config_now(const struct config *c);

#endif
