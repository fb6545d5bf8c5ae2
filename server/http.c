#include "http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrlimit.h"
#include "api.h"
#include "auth.h"
#include "authq.h"
#include "cluster.h"
#include "feed.h"
#include "joininfo.h"
#include "kamrat_build.h"
#include "klog.h"
#include "metrics.h"
#include "room.h"
#include "safety.h"
#include "server.h"
#include "util.h"
#include "webroot.h"

#define CHUNK 16384

/* every: also on a sub-resource of the web client (a script, a style, a
 * catalog), which a browser never shows as a page. The others only govern a
 * page (what it may load and run, its referrer, its features, its window
 * group), so on a sub-resource they are bytes on the wire and nothing else:
 * ~19 requests make a first visit. HSTS stays on every answer (any answer
 * may be the first a browser sees of the host), and so do nosniff (a
 * script or style is refused unless its type is right) and CORP (another
 * site may not load our files into its page). */
static const struct {
    const char *name, *value;
    bool every;
} security_headers[] = {
    {"strict-transport-security:", "max-age=63072000; includeSubDomains", true},
    {"content-security-policy:",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
     "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
     "frame-ancestors 'none'",
     false},
    {"x-content-type-options:", "nosniff", true},
    {"referrer-policy:", "no-referrer", false},
    {"permissions-policy:", "camera=(), microphone=(), geolocation=(), payment=(), usb=()", false},
    {"cross-origin-opener-policy:", "same-origin", false},
    {"cross-origin-resource-policy:", "same-origin", true},
};

/* The status line. lws 4.1 reads the request's HTTP version only after the
 * upgrade callback, so it would answer a refused upgrade "HTTP/1.0 403", which
 * several WebSocket client libraries cannot parse (a reply to an HTTP/1.1
 * request). An upgrade request is HTTP/1.1 (RFC 6455 §4.1), and the only
 * answer kamratd gives one besides the 101 is a 403. */
static int add_status(struct lws *wsi, unsigned int status, unsigned char **p, unsigned char *end)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_UPGRADE) <= 0)
        return lws_add_http_header_status(wsi, status | LWSAHH_FLAG_NO_SERVER_NAME, p, end);
    char line[32];
    int n = snprintf(line, sizeof(line), "HTTP/1.1 %u %s", status,
                     status == HTTP_STATUS_FORBIDDEN ? "Forbidden" : "Error");
    return lws_add_http_header_by_name(wsi, NULL, (const unsigned char *)line, n, p, end);
}

/* The status line, kamrat's security headers (all of them for a page,
 * which every answer but the web client's sub-resources may be) and
 * Cache-Control, which every answer carries. Returns 0, or 1 when they did
 * not fit. */
static int add_common(struct lws *wsi, unsigned int status, bool page, const char *cache,
                      unsigned char **p, unsigned char *end)
{
    if (add_status(wsi, status, p, end))
        return 1;
    for (size_t i = 0; i < ARRAY_LEN(security_headers); i++) {
        if (!page && !security_headers[i].every)
            continue;
        const char *v = security_headers[i].value;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)security_headers[i].name,
                                        (const unsigned char *)v, (int)strlen(v), p, end))
            return 1;
    }
    return lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                        (const unsigned char *)cache, (int)strlen(cache), p, end);
}

static int add_token(struct lws *wsi, enum lws_token_indexes token, const char *value,
                     unsigned char **p, unsigned char *end)
{
    return lws_add_http_header_by_token(wsi, token, (const unsigned char *)value,
                                        (int)strlen(value), p, end);
}

int http_write_headers(struct lws *wsi, unsigned int status, const char *mime, size_t len,
                       const char *allow)
{
    return http_write_download(wsi, status, mime, len, allow, NULL);
}

int http_write_download(struct lws *wsi, unsigned int status, const char *mime, size_t len,
                        const char *allow, const char *disposition)
{
    unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start,
                                       *end = hdr + sizeof(hdr) - 1;
    if (add_common(wsi, status, true, "no-store", &p, end))
        return 1;
    /* RFC 9110 §8.6: a 204 carries no Content-Length. */
    if (status != HTTP_STATUS_NO_CONTENT) {
        if (mime && add_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, mime, &p, end))
            return 1;
        if (lws_add_http_header_content_length(wsi, len, &p, end))
            return 1;
    }
    if (allow && add_token(wsi, WSI_TOKEN_HTTP_ALLOW, allow, &p, end))
        return 1;
    if (disposition && lws_add_http_header_by_name(
                           wsi, (const unsigned char *)"content-disposition:",
                           (const unsigned char *)disposition, (int)strlen(disposition), &p, end))
        return 1;
    return lws_finalize_write_http_header(wsi, start, &p, end) ? 1 : 0;
}

/* Write the status line and headers. Returns 0, or 1 when they did not fit. */
static int write_headers(struct lws *wsi, unsigned int status, const char *mime, size_t len)
{
    return http_write_headers(wsi, status, mime, len,
                              status == HTTP_STATUS_METHOD_NOT_ALLOWED ? "GET, HEAD" : NULL);
}

/* Does the request declare a body? Outside /api/ none is ever read. */
static bool declares_body(struct lws *wsi)
{
    char buf[32];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
        return true;
    return lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
           strspn(buf, "0") != strlen(buf);
}

/* The answer is out: keep the connection for the next request, or close it
 * when the request declared a body. lws 4.1.6 would go on reading that body
 * and restart its timeout on every chunk, so a client trickling it could
 * hold the connection without end. Returns what the lws callback should
 * return. */
static int finish(struct lws *wsi)
{
    if (declares_body(wsi))
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* The headers are out: queue the body (not for HEAD). Returns what the lws
 * callback should return. */
static int send_body(struct lws *wsi, struct http_req *req, const unsigned char *body, size_t len,
                     int head_only)
{
    if (head_only || len == 0)
        return finish(wsi);
    req->body = body;
    req->len = len;
    req->sent = 0;
    lws_callback_on_writable(wsi);
    return 0;
}

/* Write status and headers; queue the body (not for HEAD). Returns what the
 * lws callback should return. */
static int respond(struct lws *wsi, struct http_req *req, unsigned int status, const char *mime,
                   const unsigned char *body, size_t len, int head_only)
{
    if (write_headers(wsi, status, mime, len))
        return -1;
    return send_body(wsi, req, body, len, head_only);
}

/* Is etag in the If-None-Match list (RFC 9110 §13.1.2: the weak comparison,
 * so a W/ prefix does not matter; "*" matches any)? */
static bool etag_listed(const char *list, const char *etag)
{
    size_t elen = strlen(etag);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"') {
            p += strcspn(p, ",");
            continue;
        }
        const char *close = strchr(p + 1, '"');
        if (!close)
            return false;
        if ((size_t)(close + 1 - p) == elen && strncmp(p, etag, elen) == 0)
            return true;
        p = close + 1;
    }
    return false;
}

/* How long a browser may keep a file of the web client. Under this
 * version's /v/ prefix: for good, the URL changes with the content. Anything
 * else, the HTML included: kept but checked again on every use (a 304 of a
 * few hundred bytes). The HTML may be kept at all because it holds nothing
 * of anyone: it is the same public file for every visitor, with no token,
 * invite code or name in it (those stay in the URL and in memory). */
static const char *file_cache_control(bool immutable)
{
    return immutable ? "max-age=31536000, immutable" : "no-cache";
}

/* A file of the web client, in the coding the request accepts best, or a
 * 304 when the browser holds that copy already. Returns what the lws
 * callback should return. */
static int respond_file(struct lws *wsi, struct http_req *req, const struct webfile *f,
                        bool immutable, int head_only)
{
    char accept[256], inm[512];
    bool avail[ENCODING_COUNT];
    webroot_codings(f, avail);
    /* An Accept-Encoding too long to copy gets identity, as none would. */
    int n = lws_hdr_copy(wsi, accept, sizeof(accept), WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    enum encoding e = encoding_pick(n > 0 ? accept : NULL, avail);
    const struct webrep *r = &f->rep[e];
    bool fresh = lws_hdr_copy(wsi, inm, sizeof(inm), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
                 etag_listed(inm, r->etag);
    unsigned int status = fresh ? HTTP_STATUS_NOT_MODIFIED : HTTP_STATUS_OK;

    unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start,
                                       *end = hdr + sizeof(hdr) - 1;
    if (add_common(wsi, status, f->is_document, file_cache_control(immutable), &p, end) ||
        add_token(wsi, WSI_TOKEN_HTTP_ETAG, r->etag, &p, end) ||
        add_token(wsi, WSI_TOKEN_HTTP_VARY, "Accept-Encoding", &p, end))
        return -1;
    /* RFC 9110 §15.4.5: a 304 carries the validator and caching headers
     * of the 200 it stands for, and no content. */
    if (!fresh) {
        const char *token = encoding_token(e);
        if (add_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, f->mime, &p, end) ||
            (token && add_token(wsi, WSI_TOKEN_HTTP_CONTENT_ENCODING, token, &p, end)) ||
            lws_add_http_header_content_length(wsi, r->len, &p, end))
            return -1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    return send_body(wsi, req, r->data, fresh ? 0 : r->len, head_only);
}

static int respond_text(struct lws *wsi, struct http_req *req, unsigned int status,
                        const char *text, int head_only)
{
    snprintf(req->buf, sizeof(req->buf), "%s\n", text);
    return respond(wsi, req, status, "text/plain; charset=utf-8", (const unsigned char *)req->buf,
                   strlen(req->buf), head_only);
}

/* "/j/" followed by an invite code of AUTH_INVITE_LEN base64url characters. */
static bool is_invite_code_at(const char *p)
{
    for (int i = 0; i < AUTH_INVITE_LEN; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool is_invite_link(const char *path)
{
    return strncmp(path, "/j/", 3) == 0 && strlen(path) == 3 + AUTH_INVITE_LEN &&
           is_invite_code_at(path + 3);
}

/* "/j/<code>" followed by tail. */
static bool is_invite_path(const char *path, const char *tail)
{
    return strncmp(path, "/j/", 3) == 0 && strlen(path) == 3 + AUTH_INVITE_LEN + strlen(tail) &&
           is_invite_code_at(path + 3) && strcmp(path + 3 + AUTH_INVITE_LEN, tail) == 0;
}

static bool is_calendar(const char *path)
{
    return is_invite_path(path, "/calendar.ics");
}

/* ---- the calendar feed, read on the store worker ---- */

/* A calendar read while its request waits (the model is api.c's login on
 * the password workers; the read itself is feed.c's, on the store worker).
 * The request holds it until the answer comes; a connection closed first
 * detaches it (req NULL), and the late result is dropped. */
struct calendar_wait {
    struct lws *wsi;
    struct http_req *req; /* NULL once answered or closed */
    bool head;
};

/* Give the request its answer (text taken, or freed), to be written when
 * the socket is writable. */
static void calendar_answer(struct calendar_wait *w, unsigned int status, char *text, size_t len)
{
    struct http_req *req = w->req;
    if (!req) {
        free(text);
        return;
    }
    w->req = NULL;
    req->wait = NULL;
    req->late_status = status;
    req->late_head = w->head;
    req->owned = text;
    req->len = len;
    lws_callback_on_writable(w->wsi);
}

static void calendar_done(void *arg, char *text, size_t len, bool failed)
{
    struct calendar_wait *w = arg;
    unsigned int status = failed ? HTTP_STATUS_SERVICE_UNAVAILABLE
                          : text ? HTTP_STATUS_OK
                                 : HTTP_STATUS_NOT_FOUND;
    if (status != HTTP_STATUS_OK) {
        free(text);
        text = NULL;
    }
    calendar_answer(w, status, text, len);
    free(w);
}

static void calendar_expired(void *arg)
{
    klog_warn("store_busy request=calendar reason=timeout");
    calendar_answer(arg, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL, 0);
}

/* GET /j/<code>/calendar.ics: the store read runs on the worker; a full
 * queue is answered 503 now. */
static int calendar(struct lws *wsi, struct http_req *req, const char *code, int head)
{
    struct server *srv = server_of(wsi);
    char c[AUTH_INVITE_LEN + 1];
    memcpy(c, code, AUTH_INVITE_LEN);
    c[AUTH_INVITE_LEN] = '\0';
    struct calendar_wait *w = xcalloc(1, sizeof(*w));
    *w = (struct calendar_wait){.wsi = wsi, .req = req, .head = head};
    int rc = feed_calendar_async(srv->storeq, c, config_now(srv->cfg), srv->cfg->origin_host,
                                 util_now_ms(), calendar_done, calendar_expired, w);
    wipe(c, sizeof(c));
    if (rc < 0) {
        klog_warn("store_busy request=calendar reason=queue_full");
        free(w);
        return respond_text(wsi, req, HTTP_STATUS_SERVICE_UNAVAILABLE, "busy", head);
    }
    req->wait = w;
    return 0;
}

/* The calendar's answer, now that the socket is writable. */
static int calendar_write(struct lws *wsi, struct http_req *req)
{
    unsigned int status = req->late_status;
    req->late_status = 0;
    if (status == HTTP_STATUS_OK)
        return respond(wsi, req, status, "text/calendar; charset=utf-8",
                       (const unsigned char *)req->owned, req->len, req->late_head);
    return respond_text(wsi, req, status, status == HTTP_STATUS_NOT_FOUND ? "not found" : "busy",
                        req->late_head);
}

static int on_http(struct lws *wsi, struct http_req *req, const char *path)
{
    struct server *srv = server_of(wsi);
    int head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    if (api_path(path))
        return api_on_http(wsi, &req->api, path);
    if (!get && !head)
        return respond_text(wsi, req, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed", 0);

    if (strcmp(path, "/healthz") == 0) {
        struct authq_stats kdf = {0};
        if (srv->authq)
            authq_stats(srv->authq, &kdf);
        char cluster[128] = ""; /* a node id is at most 32 of [a-z0-9-]: no quoting */
        if (srv->cluster) {
            struct cluster_status cs;
            cluster_status(srv->cluster, &cs);
            snprintf(cluster, sizeof(cluster),
                     ",\"cluster\":{\"node\":\"%s\",\"redis\":\"%s\",\"bus\":\"%s\","
                     "\"live_nodes\":%zu}",
                     cs.node_id, cs.redis_up ? "ok" : "down", cs.bus_up ? "ok" : "down",
                     cs.live_nodes);
        }
        snprintf(req->buf, sizeof(req->buf),
                 "{\"status\":\"ok\",\"version\":\"%s\",\"connections\":%u,\"rooms\":%zu,"
                 "\"kdf_max_running\":%u%s}\n",
                 KAMRAT_VERSION, srv->conns.count - srv->remote_conns, room_count(srv->rooms),
                 kdf.max_running, cluster);
        return respond(wsi, req, HTTP_STATUS_OK, "application/json",
                       (const unsigned char *)req->buf, strlen(req->buf), head);
    }
    if (strcmp(path, "/crisis.json") == 0) {
        /* Public: the join screen shows the crisis resources before anyone
         * has entered a room (the same list every welcome carries). */
        /* A copy: a SIGHUP may replace the list while the answer is written. */
        req->owned = xstrdup(safety_crisis_json(srv->safety));
        return respond(wsi, req, HTTP_STATUS_OK, "application/json",
                       (const unsigned char *)req->owned, strlen(req->owned), head);
    }
    if (strcmp(path, "/metrics") == 0) {
        char peer[64];
        lws_get_peer_simple(wsi, peer, sizeof(peer));
        if (!config_address_allowed(srv->cfg->metrics_allow, peer))
            return respond_text(wsi, req, HTTP_STATUS_FORBIDDEN, "forbidden", head);
        struct metrics_gauges g = {
            .connections = srv->conns.count - srv->remote_conns,
            .rooms = room_count(srv->rooms),
            .members = room_member_total(srv->rooms),
            .uptime_s = (util_now_ms() - srv->started_ms) / 1000,
            .clustered = srv->cluster != NULL,
        };
        if (srv->cluster) {
            struct cluster_status cs;
            cluster_status(srv->cluster, &cs);
            g.cluster_redis_up = cs.redis_up;
            g.cluster_live_nodes = cs.live_nodes;
        }
        size_t len = 0;
        req->owned = metrics_render(&g, &len);
        return respond(wsi, req, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8",
                       (const unsigned char *)req->owned, len, head);
    }
    if (is_calendar(path))
        return calendar(wsi, req, path + 3, head);
    if (is_invite_path(path, "/info.json")) {
        char code[AUTH_INVITE_LEN + 1];
        memcpy(code, path + 3, AUTH_INVITE_LEN);
        code[AUTH_INVITE_LEN] = '\0';
        int rc = joininfo_on_http(wsi, &req->info, code, head);
        wipe(code, sizeof(code));
        return rc;
    }
    /* The web client's own routes (an invite link, the leader's page) all
     * load the one page; the client reads the path. */
    if (is_invite_link(path) || strcmp(path, "/leader") == 0)
        path = "/index.html";
    else if (strcmp(path, "/admin") == 0)
        path = "/admin.html"; /* the coordinators' console (protocol/README.md §12) */
    else if (strcmp(path, "/setup") == 0)
        path = "/setup.html"; /* a setup link's page; the code is in the fragment */
    bool immutable;
    const struct webfile *f = webroot_find(srv->web, path, &immutable);
    if (!f)
        return respond_text(wsi, req, HTTP_STATUS_NOT_FOUND, "not found", head);
    return respond_file(wsi, req, f, immutable, head);
}

static int on_writable(struct lws *wsi, struct http_req *req)
{
    if (!req->body)
        return 0;
    unsigned char buf[LWS_PRE + CHUNK];
    size_t n = req->len - req->sent;
    if (n > CHUNK)
        n = CHUNK;
    memcpy(buf + LWS_PRE, req->body + req->sent, n);
    req->sent += n;
    int last = req->sent == req->len;
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    req->body = NULL;
    free(req->owned);
    req->owned = NULL;
    return finish(wsi);
}

/* Does the comma-separated header list hold this token? */
static int header_has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == tl && strncmp(p, token, tl) == 0)
            return 1;
        p += n;
    }
    return 0;
}

/* The gate in front of the WebSocket API. Returns NULL when the upgrade may
 * proceed, else why not (for the log). */
static const char *upgrade_refusal(struct lws *wsi, const struct config *cfg)
{
    char buf[512];
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_GET_URI) <= 0 || strcmp(buf, "/ws") != 0)
        return "path";
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_ORIGIN) <= 0 || strcmp(buf, cfg->origin) != 0)
        return "origin";
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HOST) <= 0 ||
        strcasecmp(buf, cfg->origin_host) != 0)
        return "host";
    /* lws 4.1 would also speak the drafts before RFC 6455 (versions 8 and 7). */
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_VERSION) <= 0 || strcmp(buf, "13") != 0)
        return "version";
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_PROTOCOL) <= 0 ||
        !header_has_token(buf, "kamrat.v1"))
        return "subprotocol";
    return NULL;
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    struct http_req *req = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(wsi, req, in);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (req->info)
            return joininfo_on_writable(wsi, &req->info);
        if (req->api)
            return api_on_writable(wsi, &req->api);
        return req->late_status ? calendar_write(wsi, req) : on_writable(wsi, req);
    case LWS_CALLBACK_HTTP_BODY:
        return api_on_body(wsi, &req->api, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return api_on_body_done(wsi, &req->api);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (req) {
            if (req->wait) /* the calendar's answer finds no request */
                req->wait->req = NULL;
            req->wait = NULL;
            req->late_status = 0;
            api_on_closed(&req->api);
            joininfo_on_closed(&req->info);
            free(req->owned);
            req->owned = NULL;
        }
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
        struct server *srv = server_of(wsi);
        const char *why = upgrade_refusal(wsi, srv->cfg);
        if (!why) {
            /* Accepted: from here the connection counts as a WebSocket of
             * its address. (lws goes on to the 101 at once, or closes it.) */
            if (addrlimit_upgrade(srv->addrs, wsi) == 0)
                return 0;
            klog_info("conn_refused reason=websocket_limit");
        } else {
            klog_info("authz_fail reason=%s", why);
        }
        /* Headers only: lws completes the transaction when we return 1. */
        return write_headers(wsi, HTTP_STATUS_FORBIDDEN, "text/plain; charset=utf-8", 0) ? -1 : 1;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* lws bound an upgrade without our subprotocol to this protocol. */
        return 1;
    default:
        return 0;
    }
}
