/*
 * http: the plain HTTP side of the one TLS port: the static web client,
 * GET /healthz, and the checks a WebSocket upgrade must pass (path,
 * Origin, Host, subprotocol) before lws hands it to ws.c.
 *
 * Every response carries kamrat's own security headers (CSP, HSTS, ...);
 * lws's canned "best practice" set is not used (TESTPLAN §0). The web
 * client's files carry an ETag, answer If-None-Match with 304 and go out
 * compressed when the browser accepts it (webroot.h); nothing else is
 * compressed or cached (no-store).
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_HTTP_H
#define KAMRAT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

struct api_req;
struct joininfo_req;

/* Per-request state lws allocates for the http protocol. */
struct http_req {
    const unsigned char *body;
    size_t len, sent;
    char buf[256];             /* small generated bodies (healthz, errors) */
    char *owned;               /* a generated body this request frees (the calendar) */
    struct api_req *api;       /* a request under /api/ (api.c), or NULL */
    struct joininfo_req *info; /* GET /j/<code>/info.json (joininfo.c), or NULL */
    /* A calendar read on the store worker while the request waits. */
    struct calendar_wait *wait; /* the read under way, or NULL */
    unsigned int late_status;   /* its answer, to write when writable; 0: none */
    bool late_head;             /* ... to a HEAD request */
};

/*
 * Write the status line, kamrat's security headers, Cache-Control:
 * no-store, Content-Type mime and Content-Length len; with allow, an Allow
 * header. A 204 gets neither Content-Type nor Content-Length. Returns 0, or
 * 1 when they did not fit or could not be written (close the connection).
 */
int http_write_headers(struct lws *wsi, unsigned int status, const char *mime, size_t len,
                       const char *allow);

/* As http_write_headers, and with disposition (not NULL) a
 * Content-Disposition header with that value: a file to save. */
int http_write_download(struct lws *wsi, unsigned int status, const char *mime, size_t len,
                        const char *allow, const char *disposition);

/* Handle the HTTP callback reasons; others return 0. */
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);

#endif
