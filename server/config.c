#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>
#include <libpq-fe.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "kamrat_build.h"
#include "safety.h"
#include "util.h"

enum key_type { KEY_STRING, KEY_UINT, KEY_LEVEL, KEY_BOOL, KEY_OFFSET };

struct key {
    const char *section;
    const char *name;
    enum key_type type;
    size_t offset; /* into struct config */
    uint32_t min, max;
    int required; /* 2: required when TLS is on, 3: when there is a [cluster] section,
                   * 4: when [store] engine = postgresql */
};

#define STR(sec, name, field, req)                                                                 \
    {                                                                                              \
        sec, name, KEY_STRING, offsetof(struct config, field), 0, 0, req                           \
    }
#define LIM(name, lo, hi)                                                                          \
    {                                                                                              \
        "limits", #name, KEY_UINT, offsetof(struct config, limits.name), lo, hi, 0                 \
    }

static const struct key keys[] = {
    STR("server", "address", address, 0),
    {"server", "port", KEY_UINT, offsetof(struct config, port), 1, 65535, 0},
    STR("server", "origin", origin, 1),
    STR("server", "web_root", web_root, 0),
    STR("server", "data_dir", data_dir, 0),
    {"server", "log_level", KEY_LEVEL, offsetof(struct config, log_level), 0, 0, 0},
    STR("server", "metrics_allow", metrics_allow, 0),
    {"tls", "enabled", KEY_BOOL, offsetof(struct config, tls), 0, 0, 0},
    STR("tls", "cert", tls_cert, 2),
    STR("tls", "key", tls_key, 2),
    LIM(max_message_bytes, 1024, 1048576),
    LIM(max_fragments, 1, 64),
    LIM(max_text_chars, 1, 16000),
    LIM(max_name_chars, 1, 100),
    LIM(max_room_members, 2, 10000),
    LIM(history_size, 16, 65536),
    LIM(send_queue_bytes, 65536, 67108864),
    LIM(send_queue_frames, 16, 65536),
    LIM(rate_per_sec, 1, 1000),
    LIM(rate_burst, 1, 10000),
    LIM(max_conns_per_address, 1, 100000),
    LIM(max_websockets_per_address, 1, 100000),
    LIM(http_idle_timeout, 1, 120),
    LIM(hello_timeout, 1, 60),
    LIM(ping_interval, 5, 3600),
    LIM(ping_timeout, 10, 7200),
    LIM(resume_grace, 0, 3600),
    LIM(session_grace, 0, 3600),
    LIM(early_start, 0, 120),
    STR("safety", "crisis_file", crisis_file, 0),
    STR("safety", "risk_words_file", risk_words_file, 0),
    {"testing", "clock_offset", KEY_OFFSET, offsetof(struct config, clock_offset), 0, 0, 0},
    {"testing", "open_rooms", KEY_BOOL, offsetof(struct config, open_rooms), 0, 0, 0},
    {"testing", "minute_seconds", KEY_UINT, offsetof(struct config, minute_seconds), 1, 60, 0},
    STR("cluster", "node_id", cluster.node_id, 3),
    STR("cluster", "redis", cluster.redis, 0),
    STR("cluster", "redis_password_file", cluster.redis_password_file, 0),
    {"cluster", "redis_tls", KEY_BOOL, offsetof(struct config, cluster.redis_tls), 0, 0, 0},
    {"cluster", "allow_persistent_redis", KEY_BOOL,
     offsetof(struct config, cluster.allow_persistent_redis), 0, 0, 0},
    STR("store", "engine", store.engine, 0),
    STR("store", "postgresql", store.conninfo, 4),
    STR("store", "postgresql_password_file", store.password_file, 0),
    STR("branding", "name", branding.name, 0),
    STR("branding", "logo", branding.logo, 0),
    STR("branding", "accent", branding.accent, 0),
    STR("branding", "accent_dark", branding.accent_dark, 0),
    STR("branding", "welcome", branding.welcome, 0),
    STR("branding", "contact", branding.contact, 0),
};

void config_default_limits(struct limits *out)
{
    *out = (struct limits){
        .max_message_bytes = 16384,
        .max_fragments = 8,
        .max_text_chars = 4000,
        .max_name_chars = 40,
        .max_room_members = 500,
        .history_size = 512,
        .send_queue_bytes = 1048576,
        .send_queue_frames = 1024,
        .rate_per_sec = 2,
        .rate_burst = 10,
        .max_conns_per_address = 256,
        .max_websockets_per_address = 100,
        .http_idle_timeout = 5,
        .hello_timeout = 5,
        .ping_interval = 30,
        .ping_timeout = 60,
        .resume_grace = 120,
        .session_grace = 300,
        .early_start = 15,
    };
}

struct parse_state {
    struct config *c;
    FILE *file;
    int line; /* the line inih is handling: counted by read_line */
    int seen_line[ARRAY_LEN(keys)];
    int cluster_line; /* where [cluster] starts; 0: no such section */
    char *err;
    size_t errlen;
    int failed;
};

static int fail(struct parse_state *st, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parse_state *st, int line, const char *fmt, ...)
{
    if (st->failed)
        return 0;
    int n = snprintf(st->err, st->errlen, "%s:%d: ", st->c->path, line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < st->errlen)
        vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    st->failed = 1;
    return 0;
}

static int parse_uint(const char *s, uint32_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Debian's libinih is built without line numbers in the handler, so the
 * reader counts the lines it hands to the parser. */
static char *read_line(char *buf, int size, void *user)
{
    struct parse_state *st = user;
    char *r = fgets(buf, size, st->file);
    if (r)
        st->line++;
    /* libinih reports keys, not section headers: an empty [cluster] would
     * otherwise pass as no cluster at all, and the node run alone. */
    if (r && !st->cluster_line && strncmp(r + strspn(r, " \t"), "[cluster]", 9) == 0)
        st->cluster_line = st->line;
    return r;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    int line = st->line;
    if (st->failed)
        return 0;
    if (!name)
        return 1; /* a section header alone */
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        const struct key *k = &keys[i];
        if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
            continue;
        if (st->seen_line[i])
            return fail(st, line, "duplicate key [%s] %s (first set on line %d)", section, name,
                        st->seen_line[i]);
        st->seen_line[i] = line;
        char *field = (char *)st->c + k->offset;
        switch (k->type) {
        case KEY_STRING: {
            if (!*value)
                return fail(st, line, "[%s] %s must not be empty", section, name);
            char **slot = (char **)(void *)field;
            free(*slot);
            *slot = xstrdup(value);
            break;
        }
        case KEY_UINT: {
            uint32_t v;
            if (parse_uint(value, &v) < 0 || v < k->min || v > k->max)
                return fail(st, line, "[%s] %s = %s is out of range (%u..%u)", section, name, value,
                            k->min, k->max);
            memcpy(field, &v, sizeof(v));
            break;
        }
        case KEY_OFFSET: {
            /* Up to ten years either way: enough for any schedule test. */
            char *end;
            errno = 0;
            long long v = strtoll(value, &end, 10);
            if (errno || *end || !*value || v < -315360000LL || v > 315360000LL)
                return fail(st, line, "[%s] %s = %s: seconds, at most ten years either way",
                            section, name, value);
            int64_t o = v;
            memcpy(field, &o, sizeof(o));
            break;
        }
        case KEY_BOOL: {
            bool b;
            if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
                b = true;
            else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
                     strcmp(value, "off") == 0)
                b = false;
            else
                return fail(st, line, "[%s] %s = %s: use yes or no", section, name, value);
            memcpy(field, &b, sizeof(b));
            break;
        }
        case KEY_LEVEL: {
            enum klog_level lv;
            if (klog_level_parse(value, &lv) < 0)
                return fail(st, line, "[%s] %s = %s: use error, warn, info or debug", section, name,
                            value);
            memcpy(field, &lv, sizeof(lv));
            break;
        }
        }
        return 1;
    }
    return fail(st, line, "unknown key [%s] %s", section, name);
}

/* Split "https://host[:port]" (or http:// without TLS) into the Host header
 * value browsers send. */
static int origin_to_host(const char *origin, bool tls, char **host)
{
    const char *scheme = tls ? "https://" : "http://";
    size_t sl = strlen(scheme);
    if (strncmp(origin, scheme, sl) != 0)
        return -1;
    const char *h = origin + sl;
    size_t n = strlen(h);
    if (n == 0 || strpbrk(h, "/?#@ \t") != NULL)
        return -1;
    size_t hostlen = n;
    const char *colon = strrchr(h, ':');
    if (colon && !strchr(colon, ']')) {
        uint32_t port;
        if (parse_uint(colon + 1, &port) < 0 || port == 0 || port > 65535)
            return -1;
        if (port == (tls ? 443u : 80u))
            hostlen = (size_t)(colon - h); /* browsers omit the default port */
    }
    *host = xstrndup(h, hostlen);
    return 0;
}

/* A numeric IPv4 or IPv6 address (the first len bytes of s) in canonical
 * binary form: 4 bytes for IPv4 (also an IPv4-mapped IPv6 address), 16 for
 * IPv6. Returns the length, or 0 when s is no address. */
static size_t ip_parse(const char *s, size_t len, unsigned char out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, buf, out) != 1)
        return 0;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out, mapped, sizeof(mapped)) == 0) {
        memmove(out, out + 12, 4);
        return 4;
    }
    return 16;
}

bool config_addresses_valid(const char *list, const char **bad)
{
    unsigned char ip[16];
    for (const char *p = list; *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n && !ip_parse(p, n, ip)) {
            *bad = p;
            return false;
        }
        p += n;
    }
    return true;
}

bool config_address_allowed(const char *list, const char *peer)
{
    unsigned char want[16], have[16];
    size_t wl = ip_parse(peer, strlen(peer), want);
    if (!list)
        list = "127.0.0.1 ::1";
    for (const char *p = list; wl && *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n && ip_parse(p, n, have) == wl && memcmp(have, want, wl) == 0)
            return true;
        p += n;
    }
    return false;
}

bool config_node_id_valid(const char *id, size_t len)
{
    if (len == 0 || len > CONFIG_NODE_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
            return false;
    return true;
}

/* Split [cluster] redis: "host", "host:port", "[v6]" or "[v6]:port". */
static int split_redis(const char *s, char **host, uint32_t *port)
{
    const char *end, *colon;
    *port = 6379;
    if (*s == '[') {
        end = strchr(s, ']');
        if (!end || end == s + 1 || (end[1] && end[1] != ':'))
            return -1;
        colon = end[1] ? end + 1 : NULL;
        s++;
    } else {
        colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':'))
            return -1; /* a bare IPv6 address: its port would be ambiguous */
        end = colon ? colon : s + strlen(s);
    }
    if (end == s || strpbrk(s, " \t/@") != NULL)
        return -1;
    if (colon && (parse_uint(colon + 1, port) < 0 || *port == 0 || *port > 65535))
        return -1;
    *host = xstrndup(s, (size_t)(end - s));
    return 0;
}

/* The [cluster] checks that need more than a range: which key offset is
 * and its line. Returns 0, or -1 after fail(). */
static int check_cluster_key(struct parse_state *st, size_t offset, int line)
{
    struct cluster_config *cc = &st->c->cluster;
    if (offset == offsetof(struct config, cluster.node_id) && cc->node_id &&
        !config_node_id_valid(cc->node_id, strlen(cc->node_id))) {
        fail(st, line, "[cluster] node_id = %s: use 1 to %d of a-z, 0-9 and -", cc->node_id,
             CONFIG_NODE_ID_MAX);
        return -1;
    }
    if (offset == offsetof(struct config, cluster.redis) && cc->node_id &&
        split_redis(cc->redis ? cc->redis : "127.0.0.1", &cc->redis_host, &cc->redis_port) < 0) {
        fail(st, line, "[cluster] redis = %s: use host, host:port or [IPv6]:port", cc->redis);
        return -1;
    }
    if (offset == offsetof(struct config, cluster.redis_tls) && cc->redis_tls) {
        fail(st, line,
             "[cluster] redis_tls = yes: the hiredis of this build (0.14, Debian 12) has no "
             "TLS; keep Redis on a private network or reach it through a TLS tunnel "
             "(stunnel, spiped, WireGuard)");
        return -1;
    }
    return 0;
}

/* The line key [store] name was set on; 0 when it was not. */
static int store_line(const struct parse_state *st, const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(keys); i++)
        if (strcmp(keys[i].section, "store") == 0 && strcmp(keys[i].name, name) == 0)
            return st->seen_line[i];
    return 0;
}

/*
 * [store]: engine is sqlite or postgresql; the postgresql keys only go with
 * engine = postgresql (set alone they would be silently ignored); the
 * connection string must parse and hold no password, which belongs in
 * postgresql_password_file (libpq's parse errors can quote the string, so
 * they are not repeated). Returns 0, or -1 after fail().
 */
static int check_store(struct parse_state *st)
{
    struct store_config *sc = &st->c->store;
    int line = store_line(st, "engine");
    if (sc->engine && strcmp(sc->engine, "postgresql") == 0)
        sc->postgresql = true;
    else if (sc->engine && strcmp(sc->engine, "sqlite") != 0) {
        fail(st, line, "[store] engine = %s: use sqlite or postgresql", sc->engine);
        return -1;
    }
    static const char *const pg_keys[] = {"postgresql", "postgresql_password_file"};
    for (size_t i = 0; !sc->postgresql && i < ARRAY_LEN(pg_keys); i++) {
        int at = store_line(st, pg_keys[i]);
        if (at) {
            fail(st, at, "[store] %s needs [store] engine = postgresql", pg_keys[i]);
            return -1;
        }
    }
    if (!sc->conninfo)
        return 0; /* missing with engine = postgresql: the required check says so */
    line = store_line(st, "postgresql");
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(sc->conninfo, &why);
    PQfreemem(why);
    if (!opts) {
        fail(st, line,
             "[store] postgresql: not a libpq connection string (key=value ... or "
             "postgresql://...)");
        return -1;
    }
    bool has_password = false;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val)
            has_password = true;
    PQconninfoFree(opts);
    if (has_password) {
        fail(st, line,
             "[store] postgresql holds a password: put it in [store] postgresql_password_file");
        return -1;
    }
    return 0;
}

/* The [branding] checks of the key at offset, set on line: the texts'
 * lengths, the accents' shape and contrast (branding.h). Returns 0, or -1
 * after fail(). */
static int check_branding_key(struct parse_state *st, size_t offset, int line)
{
    static const struct {
        size_t offset;
        const char *name;
        size_t max;
    } texts[] = {
        {offsetof(struct config, branding.name), "name", BRANDING_NAME_MAX},
        {offsetof(struct config, branding.welcome), "welcome", BRANDING_WELCOME_MAX},
        {offsetof(struct config, branding.contact), "contact", BRANDING_CONTACT_MAX},
    };
    const struct branding_config *b = &st->c->branding;
    char why[256];
    for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
        const char *text = *(char **)(void *)((char *)st->c + texts[i].offset);
        if (offset == texts[i].offset && text &&
            branding_text_check(text, texts[i].max, why, sizeof(why)) < 0) {
            fail(st, line, "[branding] %s: %s", texts[i].name, why);
            return -1;
        }
    }
    bool dark = offset == offsetof(struct config, branding.accent_dark);
    const char *accent = dark ? b->accent_dark : b->accent;
    if ((!dark && offset != offsetof(struct config, branding.accent)) || !accent)
        return 0;
    const char *key = dark ? "accent_dark" : "accent";
    uint32_t rgb;
    if (branding_parse_colour(accent, &rgb) < 0) {
        fail(st, line, "[branding] %s = %s: use #rrggbb", key, accent);
        return -1;
    }
    if (branding_accent_check(rgb, dark, why, sizeof(why)) < 0) {
        fail(st, line, "[branding] %s: %s; pick a %s colour", key, why,
             dark ? "lighter" : "darker");
        return -1;
    }
    return 0;
}

static bool is_loopback(const char *address)
{
    return address && (strncmp(address, "127.", 4) == 0 || strcmp(address, "::1") == 0);
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    struct config *c = xcalloc(1, sizeof(*c));
    c->path = xstrdup(path);
    c->port = 8443;
    c->log_level = KLOG_INFO;
    c->tls = true;
    c->minute_seconds = 60;
    config_default_limits(&c->limits);

    struct parse_state st = {.c = c, .err = err, .errlen = errlen};
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    /* A value continued on an indented line would be a silent surprise in a
     * security-relevant file; treat every line on its own. */
    ini_allow_multiline = false;
    st.file = f;
    int rc = ini_parse_stream(read_line, &st, on_key, &st);
    fclose(f);
    if (st.failed)
        goto fail;
    if (rc != 0) {
        fail(&st, rc, "syntax error (expected [section] or key = value)");
        goto fail;
    }
    if (check_store(&st) < 0)
        goto fail;
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        bool required = keys[i].required == 1 || (keys[i].required == 2 && c->tls) ||
                        (keys[i].required == 3 && st.cluster_line) ||
                        (keys[i].required == 4 && c->store.postgresql);
        if (required && !st.seen_line[i]) {
            fail(&st, keys[i].required == 3 ? st.cluster_line : 0, "missing required key [%s] %s",
                 keys[i].section, keys[i].name);
            goto fail;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        int line = st.seen_line[i];
        if (keys[i].offset == offsetof(struct config, origin) &&
            origin_to_host(c->origin, c->tls, &c->origin_host) < 0) {
            fail(&st, line, "[server] origin = %s: use %s://host or %s://host:port", c->origin,
                 c->tls ? "https" : "http", c->tls ? "https" : "http");
            goto fail;
        }
        if (keys[i].offset == offsetof(struct config, open_rooms) && c->open_rooms &&
            !is_loopback(c->address)) {
            fail(&st, line,
                 "[testing] open_rooms = yes needs [server] address = 127.0.0.1 or "
                 "::1: rooms without invites are for tests and benchmarks only");
            goto fail;
        }
        if (keys[i].offset == offsetof(struct config, tls) && !c->tls && !is_loopback(c->address)) {
            fail(&st, line,
                 "[tls] enabled = no needs [server] address = 127.0.0.1 or ::1: "
                 "plain WebSocket serves only loopback (benchmarks, a local TLS proxy)");
            goto fail;
        }
        const char *bad = NULL;
        if (keys[i].offset == offsetof(struct config, metrics_allow) && c->metrics_allow &&
            !config_addresses_valid(c->metrics_allow, &bad)) {
            fail(&st, line, "[server] metrics_allow: %.*s is not an IP address",
                 (int)strcspn(bad, " "), bad);
            goto fail;
        }
        if (keys[i].offset == offsetof(struct config, tls_cert))
            c->line_cert = line;
        if (keys[i].offset == offsetof(struct config, tls_key))
            c->line_key = line;
        if (keys[i].offset == offsetof(struct config, web_root))
            c->line_web_root = line;
        if (keys[i].offset == offsetof(struct config, data_dir))
            c->line_data_dir = line;
        if (keys[i].offset == offsetof(struct config, crisis_file))
            c->line_crisis_file = line;
        if (keys[i].offset == offsetof(struct config, risk_words_file))
            c->line_risk_words_file = line;
        if (keys[i].offset == offsetof(struct config, cluster.redis_password_file))
            c->line_redis_password_file = line;
        if (keys[i].offset == offsetof(struct config, store.password_file))
            c->line_store_password_file = line;
        if (keys[i].offset == offsetof(struct config, branding.logo))
            c->line_logo = line;
        if (check_cluster_key(&st, keys[i].offset, line) < 0 ||
            check_branding_key(&st, keys[i].offset, line) < 0)
            goto fail;
        if (keys[i].offset == offsetof(struct config, limits.ping_timeout) &&
            c->limits.ping_timeout <= c->limits.ping_interval) {
            fail(&st, line, "[limits] ping_timeout must be greater than ping_interval (%u)",
                 c->limits.ping_interval);
            goto fail;
        }
    }
    if (c->address && strcmp(c->address, "*") == 0) {
        free(c->address);
        c->address = NULL;
    }
    if (!c->web_root)
        c->web_root = xstrdup(KAMRAT_DEFAULT_WEB_ROOT);
    if (!c->data_dir)
        c->data_dir = xstrdup(KAMRAT_DEFAULT_DATA_DIR);
    return c;
fail:
    config_free(c);
    return NULL;
}

static int check_dir(const struct config *c, const char *dir, int line, int mode, const char *what,
                     char *err, size_t errlen)
{
    struct stat sb;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s:%d: %s %s is not a directory", c->path, line, what, dir);
        return -1;
    }
    if (access(dir, mode) < 0) {
        snprintf(err, errlen, "%s:%d: %s %s: %s", c->path, line, what, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Read the [safety] files as kamratd will, so `kamratd -t` and kamratctl
 * check catch a broken crisis list before it reaches anyone. */
static int check_safety(const struct config *c, char *err, size_t errlen)
{
    char why[512];
    struct safety *s = NULL;
    if (safety_load(c->crisis_file, c->risk_words_file, &s, why, sizeof(why)) == 0) {
        safety_free(s);
        return 0;
    }
    /* why starts with the key that names the bad file: point at its line. */
    bool crisis = strncmp(why, "crisis_file ", 12) == 0;
    snprintf(err, errlen, "%s:%d: [safety] %s", c->path,
             crisis ? c->line_crisis_file : c->line_risk_words_file, why);
    return -1;
}

int config_check_files(const struct config *c, char *err, size_t errlen)
{
    if (check_dir(c, c->web_root, c->line_web_root, R_OK | X_OK, "web_root", err, errlen) < 0)
        return -1;
    if (check_dir(c, c->data_dir, c->line_data_dir, R_OK | W_OK | X_OK, "data_dir", err, errlen) <
        0)
        return -1;
    if (check_safety(c, err, errlen) < 0)
        return -1;
    char why[512];
    if (c->branding.logo && branding_logo_check(c->branding.logo, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s:%d: [branding] logo %s", c->path, c->line_logo, why);
        return -1;
    }
    char password[CONFIG_PASSWORD_MAX];
    int read = 0;
    if (c->cluster.redis_password_file)
        read = config_read_redis_password(c, password, sizeof(password), err, errlen);
    if (read == 0 && c->store.password_file)
        read = config_read_store_password(c, password, sizeof(password), err, errlen);
    wipe(password, sizeof(password));
    if (read < 0)
        return -1;

    if (!c->tls)
        return 0;
    int rc = -1;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "%s:%d: cannot create a TLS context", c->path, c->line_cert);
        return -1;
    }
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
        snprintf(err, errlen, "%s:%d: [tls] cert %s: %s", c->path, c->line_cert, c->tls_cert,
                 ERR_reason_error_string(ERR_get_error()));
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, errlen, "%s:%d: [tls] key %s: %s", c->path, c->line_key, c->tls_key,
                 ERR_reason_error_string(ERR_get_error()));
        goto out;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "%s:%d: [tls] key %s does not match the certificate %s", c->path,
                 c->line_key, c->tls_key, c->tls_cert);
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return rc;
}

/* The first line of the secret file path, set on line of the config as
 * [section] key, into out (see config_read_redis_password). */
static int read_secret(const struct config *c, const char *key, const char *path, int line,
                       char *out, size_t outlen, char *err, size_t errlen)
{
    size_t len = 0;
    /* Up to a page: a comment or a second line after the password is fine. */
    char *text = util_read_file(path, 4096, &len);
    if (!text) {
        snprintf(err, errlen, "%s:%d: %s %s: %s", c->path, line, key, path,
                 errno == EFBIG ? "larger than 4096 bytes" : strerror(errno));
        return -1;
    }
    size_t n = strcspn(text, "\r\n");
    int rc = -1;
    if (n == 0)
        snprintf(err, errlen, "%s:%d: %s %s: the first line is empty", c->path, line, key, path);
    else if (n >= outlen)
        snprintf(err, errlen, "%s:%d: %s %s: longer than %zu bytes", c->path, line, key, path,
                 outlen - 1);
    else {
        memcpy(out, text, n);
        out[n] = '\0';
        rc = 0;
    }
    wipe(text, len);
    free(text);
    return rc;
}

int config_read_redis_password(const struct config *c, char *out, size_t outlen, char *err,
                               size_t errlen)
{
    return read_secret(c, "[cluster] redis_password_file", c->cluster.redis_password_file,
                       c->line_redis_password_file, out, outlen, err, errlen);
}

int config_read_store_password(const struct config *c, char *out, size_t outlen, char *err,
                               size_t errlen)
{
    return read_secret(c, "[store] postgresql_password_file", c->store.password_file,
                       c->line_store_password_file, out, outlen, err, errlen);
}

int64_t config_now(const struct config *c)
{
    return (int64_t)time(NULL) + c->clock_offset;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->address);
    free(c->origin);
    free(c->origin_host);
    free(c->web_root);
    free(c->data_dir);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->crisis_file);
    free(c->metrics_allow);
    free(c->risk_words_file);
    free(c->cluster.node_id);
    free(c->cluster.redis);
    free(c->cluster.redis_host);
    free(c->cluster.redis_password_file);
    free(c->store.engine);
    free(c->store.conninfo);
    free(c->store.password_file);
    free(c->branding.name);
    free(c->branding.logo);
    free(c->branding.accent);
    free(c->branding.accent_dark);
    free(c->branding.welcome);
    free(c->branding.contact);
    free(c);
}
