#include "joininfo.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "auth.h"
#include "http.h"
#include "klog.h"
#include "server.h"
#include "store.h"
#include "storeq.h"
#include "throttle.h"
#include "util.h"

#define HTTP_STATUS_TOO_MANY_REQUESTS 429 /* RFC 6585; lws 4.1 has no name for it */
#define BUSY_RETRY_MS 1000
#define ANSWER_MAX 1024 /* a group name of 80 characters, escaped, and two times */

enum state {
    LOOKING,  /* no answer yet */
    ANSWERED, /* the answer waits for the socket to become writable */
};

struct joininfo_req {
    struct lws *wsi; /* NULL once the connection forgot the request */
    enum state state;
    bool head_only;
    bool held;    /* the store job holds it: job_done frees it when wsi is NULL */
    bool expired; /* answered busy at the deadline: the late result is dropped */
    /* Read by the worker (set before submit). */
    unsigned char hash[AUTH_DIGEST_LEN];
    int64_t now;
    /* Written by the worker, read after done. */
    int rc;
    char group[STORE_TARGET_MAX + 1];
    char language[3];
    bool has_session;
    struct store_session next;
    /* The answer. */
    unsigned int status;
    size_t out_len;
    char out[ANSWER_MAX];
};

static void req_free(struct joininfo_req *r)
{
    wipe(r, sizeof(*r)); /* the code's digest */
    free(r);
}

/* The connection is done with r: free it, or leave that to job_done. */
static void forget(struct joininfo_req *r)
{
    r->wsi = NULL;
    if (!r->held)
        req_free(r);
}

static void answer(struct joininfo_req *r, unsigned int status, const char *body)
{
    size_t n = strlen(body);
    assert(n < sizeof(r->out));
    memcpy(r->out, body, n);
    r->out_len = n;
    r->status = status;
    r->state = ANSWERED;
    if (r->wsi)
        lws_callback_on_writable(r->wsi);
}

static void answer_busy(struct joininfo_req *r)
{
    char body[64];
    snprintf(body, sizeof(body), "{\"error\":\"busy\",\"retry_after_ms\":%d}\n", BUSY_RETRY_MS);
    answer(r, HTTP_STATUS_SERVICE_UNAVAILABLE, body);
}

/* On the worker: the invite, its group and the group's next session that is
 * not cancelled (the list holds those that end after now, by start). */
static void job_work(struct store *s, void *arg)
{
    struct joininfo_req *r = arg;
    struct store_invite inv;
    r->rc = store_invite_find(s, r->hash, r->now, &inv);
    if (r->rc < 0)
        return;
    struct store_group g;
    r->rc = store_group_get_id(s, inv.group_id, &g);
    if (r->rc < 0)
        return;
    snprintf(r->group, sizeof(r->group), "%s", g.name);
    memcpy(r->language, g.language, sizeof(r->language));
    store_group_clear(&g);
    struct store_session *list = NULL;
    size_t n = 0;
    r->rc = store_session_list(s, inv.group_id, r->now, &list, &n);
    for (size_t i = 0; r->rc == 0 && i < n && !r->has_session; i++) {
        if (list[i].cancelled_at == 0) {
            r->next = list[i];
            r->has_session = true;
        }
    }
    free(list);
}

/* The 200 body: {"group", "language", "next_session": {starts_at, ends_at}
 * in ms, or null, "state"}. */
static void answer_info(struct joininfo_req *r)
{
    const char *state = "none";
    json_t *next = json_null();
    if (r->has_session) {
        state = store_session_state_name(store_session_state(&r->next, r->now));
        next = json_pack("{s:I, s:I}", "starts_at", (json_int_t)r->next.starts_at * 1000, "ends_at",
                         (json_int_t)r->next.ends_at * 1000);
    }
    json_t *doc = json_pack("{s:s, s:s, s:o, s:s}", "group", r->group, "language", r->language,
                            "next_session", next, "state", state);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text && strlen(text) < sizeof(r->out) - 1) {
        char body[ANSWER_MAX];
        snprintf(body, sizeof(body), "%s\n", text);
        answer(r, HTTP_STATUS_OK, body);
    } else {
        answer(r, HTTP_STATUS_INTERNAL_SERVER_ERROR, "{\"error\":\"internal\"}\n");
    }
    free(text);
}

static void job_done(void *arg, enum storeq_status st)
{
    struct joininfo_req *r = arg;
    r->held = false;
    if (r->expired) {
        /* answered busy already */
    } else if (st == STOREQ_CANCELLED) {
        answer_busy(r);
    } else if (r->rc == STORE_E_NOT_FOUND) {
        /* Unknown, expired, revoked, used up, or its group removed. */
        answer(r, HTTP_STATUS_NOT_FOUND, "{\"error\":\"invite_invalid\"}\n");
    } else if (r->rc < 0) {
        klog_warn("invite_info_failed reason=\"%s\"", store_strerror(r->rc));
        answer_busy(r);
    } else {
        answer_info(r);
    }
    if (!r->wsi)
        req_free(r);
}

static void job_expired(void *arg)
{
    struct joininfo_req *r = arg;
    klog_warn("invite_info_busy reason=timeout");
    r->expired = true;
    answer_busy(r);
}

int joininfo_on_http(struct lws *wsi, struct joininfo_req **slot, const char *code, int head_only)
{
    joininfo_on_closed(slot); /* lws starts each request on fresh user space; be sure */
    struct server *srv = server_of(wsi);
    struct joininfo_req *r = xcalloc(1, sizeof(*r));
    r->wsi = wsi;
    r->head_only = head_only;
    *slot = r;

    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    memset(&peer, 0, sizeof(peer));
    if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&peer, &plen) < 0)
        plen = 0; /* throttle counts it with every other unknown address */
    uint64_t wait =
        throttle_address(srv->invite_throttle, (struct sockaddr *)&peer, plen, util_now_ms());
    if (wait) {
        char body[96];
        snprintf(body, sizeof(body), "{\"error\":\"throttled\",\"retry_after_ms\":%" PRIu64 "}\n",
                 wait);
        answer(r, HTTP_STATUS_TOO_MANY_REQUESTS, body);
        return 0;
    }
    if (auth_token_hash(code, r->hash) < 0) {
        answer(r, HTTP_STATUS_INTERNAL_SERVER_ERROR, "{\"error\":\"internal\"}\n");
        return 0;
    }
    r->now = config_now(srv->cfg);
    if (storeq_submit(srv->storeq, job_work, job_done, job_expired, r, util_now_ms()) < 0) {
        klog_warn("invite_info_busy reason=queue_full");
        answer_busy(r);
        return 0;
    }
    r->held = true;
    return 0;
}

int joininfo_on_writable(struct lws *wsi, struct joininfo_req **slot)
{
    struct joininfo_req *r = *slot;
    if (!r || r->state != ANSWERED)
        return 0;
    if (http_write_headers(wsi, r->status, "application/json", r->out_len, NULL))
        return -1;
    if (!r->head_only) {
        unsigned char buf[LWS_PRE + ANSWER_MAX];
        memcpy(buf + LWS_PRE, r->out, r->out_len);
        if (lws_write(wsi, buf + LWS_PRE, r->out_len, LWS_WRITE_HTTP_FINAL) < (int)r->out_len)
            return -1;
    }
    *slot = NULL;
    forget(r);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void joininfo_on_closed(struct joininfo_req **slot)
{
    struct joininfo_req *r = *slot;
    if (!r)
        return;
    *slot = NULL;
    forget(r);
}
