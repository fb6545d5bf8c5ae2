#include "api.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <jansson.h>

#include "auth.h"
#include "authq.h"
#include "bus.h"
#include "config.h"
#include "gate.h"
#include "http.h"
#include "klog.h"
#include "leaders.h"
#include "metrics.h"
#include "room.h"
#include "server.h"
#include "store.h"
#include "throttle.h"
#include "util.h"

#define BUSY_RETRY_MS 1000 /* what a client is told to wait when the KDF queue is full */
#define ANSWER_MAX 8192    /* the longest answer: a leader's list of sessions */
#define HTTP_STATUS_TOO_MANY_REQUESTS 429 /* RFC 6585; lws 4.1 has no name for it */
/* From the end of the headers to the end of the body. lws 4.1.6 restarts its
 * own body timeout on every chunk, so a client trickling a byte every few
 * seconds would hold the connection for as long as it likes (slowloris on
 * the body); this deadline does not move. 4 KiB in 5 s is 820 B/s. */
#define BODY_DEADLINE_SECS 5

enum endpoint { EP_NONE, EP_LOGIN, EP_LOGOUT, EP_SESSIONS };

enum req_state {
    READING,  /* collecting the body */
    CHECKING, /* the password check runs on a worker; the job holds the request */
    ANSWERED, /* the answer waits for the socket to become writable */
};

struct api_req {
    struct lws *wsi; /* NULL once the connection forgot the request */
    struct server *srv;
    enum endpoint ep;
    enum req_state state;
    bool head_only;
    bool body_pending; /* a declared body has not all arrived */
    /* The answer. */
    unsigned int status;
    const char *allow; /* the Allow header of a 405 */
    size_t out_len;
    char out[ANSWER_MAX];
    /* A login whose password is being checked. */
    char *name;        /* as typed: the throttle key */
    int64_t leader_id; /* 0 when no leader has this name */
    int64_t login_gen; /* the account's when the check began: the login's */
    bool disabled;
    char username[STORE_USERNAME_MAX + 1]; /* as stored */
    /* The request body. */
    lws_sorted_usec_list_t body_deadline; /* scheduled while a declared body is read */
    size_t body_len;
    char body[API_BODY_MAX + 1];
};

bool api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0;
}

uint64_t api_now_ms(const struct server *srv)
{
    return (uint64_t)((int64_t)util_wall_ms() + srv->cfg->clock_offset * 1000);
}

static void req_free(struct api_req *r)
{
    lws_sul_cancel(&r->body_deadline);
    if (r->name) {
        wipe(r->name, strlen(r->name));
        free(r->name);
    }
    wipe(r, sizeof(*r));
    free(r);
}

/* Settle on an answer and ask to write it. fmt makes the JSON body; with
 * fmt NULL the answer has no body (204). */
static void answer(struct api_req *r, unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void answer(struct api_req *r, unsigned int status, const char *fmt, ...)
{
    r->status = status;
    r->out_len = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(r->out, sizeof(r->out), fmt, ap);
        va_end(ap);
        assert(n > 0 && (size_t)n < sizeof(r->out));
        r->out_len = (size_t)n;
    }
    r->state = ANSWERED;
    if (r->wsi)
        lws_callback_on_writable(r->wsi);
}

static void answer_error(struct api_req *r, unsigned int status, const char *code)
{
    answer(r, status, "{\"error\":\"%s\"}\n", code);
}

static void answer_busy(struct api_req *r)
{
    answer(r, HTTP_STATUS_SERVICE_UNAVAILABLE, "{\"error\":\"busy\",\"retry_after_ms\":%d}\n",
           BUSY_RETRY_MS);
}

/* Is the header tok exactly `want`? */
static bool header_is(struct lws *wsi, enum lws_token_indexes tok, const char *want)
{
    char buf[512];
    return lws_hdr_copy(wsi, buf, sizeof(buf), tok) > 0 && strcmp(buf, want) == 0;
}

/* application/json, with or without parameters such as a charset. */
static bool is_json(struct lws *wsi)
{
    char buf[128];
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
        return false;
    size_t n = strcspn(buf, "; \t");
    return n == 16 && strncasecmp(buf, "application/json", 16) == 0;
}

/* The declared body length, or -1 when there is none or it is not a number. */
static long long content_length(struct lws *wsi)
{
    char buf[32], *end;
    if (lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return -1;
    long long n = strtoll(buf, &end, 10);
    return end == buf || *end || n < 0 ? -1 : n;
}

/* ---- logout ---- */

/* Every answer is 204, so a client learns nothing about the token. A login
 * that already ended (a new password) cuts nobody: its holder may be the
 * one the password was changed against. */
static void logout(struct lws *wsi, struct api_req *r)
{
    char auth[128];
    int n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 7 && strncasecmp(auth, "Bearer ", 7) == 0) {
        const struct leader_login *who = gate_login(r->srv->gate, auth + 7);
        if (who) {
            char username[STORE_USERNAME_MAX + 1];
            snprintf(username, sizeof(username), "%s", who->username);
            leaders_logout(r->srv->leaders, auth + 7);
            room_leader_logged_out(r->srv->rooms, username);
            if (r->srv->bus)
                bus_leader_logged_out(r->srv->bus, username); /* rooms on other nodes */
        }
    }
    if (n > 0)
        wipe(auth, (size_t)n);
    answer(r, HTTP_STATUS_NO_CONTENT, NULL);
}

/* The live login (gate_login) behind the request's "Authorization: Bearer"
 * token, or NULL. */
static const struct leader_login *bearer(struct lws *wsi, struct api_req *r)
{
    char auth[128];
    int n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    const struct leader_login *who = NULL;
    if (n > 7 && strncasecmp(auth, "Bearer ", 7) == 0)
        who = gate_login(r->srv->gate, auth + 7);
    if (n > 0)
        wipe(auth, (size_t)n);
    return who;
}

#define SESSIONS_MAX 40 /* a leader's list fits one answer */

/*
 * GET /api/sessions: the sessions a logged-in leader may enter or will lead
 * (from now on, by start), so the leader's page can offer them:
 * {"sessions":[{"id","group","state","starts_at","ends_at"}]} (times in ms).
 */
static void list_sessions(struct lws *wsi, struct api_req *r)
{
    const struct leader_login *who = bearer(wsi, r);
    struct server *srv = r->srv;
    if (!who) {
        answer_error(r, HTTP_STATUS_UNAUTHORIZED, "token_invalid");
        return;
    }
    int64_t now = config_now(srv->cfg);
    struct store_group *groups = NULL;
    size_t ng = 0;
    if (store_leader_groups(srv->store, who->leader_id, &groups, &ng) < 0) {
        answer_error(r, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < ng && json_array_size(list) < SESSIONS_MAX; i++) {
        struct store_session *ss = NULL;
        size_t ns = 0;
        if (store_session_list(srv->store, groups[i].id, now, &ss, &ns) < 0)
            continue;
        for (size_t j = 0; j < ns && json_array_size(list) < SESSIONS_MAX; j++) {
            enum store_session_state st = store_session_state(&ss[j], now);
            json_array_append_new(list,
                                  json_pack("{sI ss ss sI sI}", "id", (json_int_t)ss[j].id, "group",
                                            groups[i].name, "state", store_session_state_name(st),
                                            "starts_at", (json_int_t)ss[j].starts_at * 1000,
                                            "ends_at", (json_int_t)ss[j].ends_at * 1000));
        }
        free(ss);
    }
    store_group_list_free(groups, ng);
    json_t *doc = json_pack("{so}", "sessions", list);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text && strlen(text) < sizeof(r->out) - 2)
        answer(r, HTTP_STATUS_OK, "%s\n", text);
    else
        answer_error(r, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal");
    free(text);
}

/* ---- login ---- */

/* The end of a login: throttling, audit and the answer. Runs from
 * authq_drain (or authq_free) on the lws thread, also after the connection
 * went away, and frees the request in that case. */
static void login_done(void *arg, const struct auth_result *res)
{
    struct api_req *r = arg;
    struct server *srv = r->srv;
    uint64_t now = util_now_ms();
    char actor[STORE_ACTOR_MAX + 1];
    snprintf(actor, sizeof(actor), "leader:%s", r->username);

    if (res->outcome == AUTH_CANCELLED) {
        throttle_record(srv->throttle, r->name, THROTTLE_ABORTED, now);
        answer_busy(r);
    } else if (res->outcome == AUTH_OK && r->leader_id && !r->disabled) {
        throttle_record(srv->throttle, r->name, THROTTLE_SUCCESS, now);
        /* On the store worker, the loop does not wait (a failure is
         * logged). Unless an admin set a new password meanwhile: then this
         * login is born ended, and the new hash stays. */
        if (res->phc[0])
            gate_rehash(srv->gate, actor, r->leader_id, r->login_gen, res->phc);
        char token[LEADERS_TOKEN_LEN + 1];
        uint64_t expires;
        if (leaders_login(srv->leaders, r->leader_id, r->username, r->login_gen, api_now_ms(srv),
                          token, &expires) < 0) {
            klog_error("login_error reason=\"no randomness\"");
            answer_busy(r);
        } else {
            klog_info("authn_login leader_id=%" PRId64, r->leader_id);
            metrics_inc(METRIC_LOGIN_OK);
            answer(r, HTTP_STATUS_OK,
                   "{\"token\":\"%s\",\"username\":\"%s\",\"expires_at\":%" PRIu64
                   ",\"idle_timeout_s\":%llu}\n",
                   token, r->username, expires, LEADERS_IDLE_MS / 1000);
            wipe(token, sizeof(token));
        }
    } else {
        /* A wrong password, a name no leader has, or a disabled account:
         * one answer for all, so none can be told from another. */
        uint64_t lock = throttle_record(srv->throttle, r->name, THROTTLE_FAILURE, now);
        metrics_inc(METRIC_LOGIN_FAILED);
        if (r->leader_id) { /* on the store worker; a failed write is logged */
            gate_audit(srv->gate, 0, 0, "login_failed", actor, r->disabled ? "disabled" : NULL);
            if (lock)
                gate_audit(srv->gate, 0, 0, "login_lock", actor, NULL);
        }
        if (lock)
            klog_info("authn_login_lock lock_ms=%" PRIu64, lock);
        answer_error(r, HTTP_STATUS_UNAUTHORIZED, "login_failed");
    }
    if (!r->wsi)
        req_free(r);
}

/* Parse {"username": "...", "password": "..."}: two non-empty strings and
 * nothing else. Returns 0 with *name (the caller frees it) and the password
 * in pw (wiped by the caller), or -1. */
static int parse_login(const char *body, size_t len, char **name, char *pw, size_t pwlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = -1;
    if (!root || !json_is_object(root) || json_object_size(root) != 2)
        goto out;
    json_t *u = json_object_get(root, "username"), *p = json_object_get(root, "password");
    if (!json_is_string(u) || !json_is_string(p) || json_string_length(u) == 0 ||
        json_string_length(p) == 0 || json_string_length(p) >= pwlen)
        goto out;
    /* jansson refuses \u0000, so lengths and C strings agree. */
    memcpy(pw, json_string_value(p), json_string_length(p) + 1);
    *name = xstrdup(json_string_value(u));
    rc = 0;
out:
    json_decref(root); /* proto_init made jansson wipe what it frees */
    return rc;
}

static void login(struct api_req *r)
{
    struct server *srv = r->srv;
    char pw[API_BODY_MAX + 1];
    int rc = parse_login(r->body, r->body_len, &r->name, pw, sizeof(pw));
    wipe(r->body, r->body_len);
    r->body_len = 0;
    if (rc < 0) {
        answer_error(r, HTTP_STATUS_BAD_REQUEST, "bad_request");
        return;
    }

    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    memset(&peer, 0, sizeof(peer));
    if (getpeername(lws_get_socket_fd(r->wsi), (struct sockaddr *)&peer, &plen) < 0)
        plen = 0; /* throttle counts it with every other unknown address */
    uint64_t wait =
        throttle_check(srv->throttle, r->name, (struct sockaddr *)&peer, plen, util_now_ms());
    if (wait) {
        metrics_inc(METRIC_LOGIN_FAILED);
        answer(r, HTTP_STATUS_TOO_MANY_REQUESTS,
               "{\"error\":\"throttled\",\"retry_after_ms\":%" PRIu64 "}\n", wait);
        goto out;
    }

    /* From here on, every path records the attempt exactly once. */
    struct store_leader leader;
    memset(&leader, 0, sizeof(leader));
    const char *phc = NULL; /* NULL: nobody has this name, check against the dummy */
    if (strlen(r->name) <= STORE_USERNAME_MAX) {
        int e = store_leader_get(srv->store, r->name, &leader);
        if (e == 0) {
            phc = leader.password_hash;
            r->leader_id = leader.id;
            r->login_gen = leader.login_gen;
            r->disabled = leader.disabled;
            snprintf(r->username, sizeof(r->username), "%s", leader.username);
        } else if (e != STORE_E_NOT_FOUND) {
            klog_warn("login_store_failed reason=\"%s\"", store_strerror(e));
            throttle_record(srv->throttle, r->name, THROTTLE_ABORTED, util_now_ms());
            answer_busy(r);
            goto out;
        }
    }
    if (auth_submit_verify(srv->authq, phc, pw, login_done, r) < 0) {
        throttle_record(srv->throttle, r->name, THROTTLE_ABORTED, util_now_ms());
        klog_info("authn_login_busy");
        answer_busy(r);
        goto out;
    }
    r->state = CHECKING;
out:
    wipe(&leader, sizeof(leader));
    wipe(pw, sizeof(pw));
}

/* ---- lws callbacks ---- */

/* The body did not arrive in time: drop the connection, whatever answer the
 * request already has (a client that does not send its body is not reading
 * one either). */
static void body_expired(lws_sorted_usec_list_t *sul)
{
    struct api_req *r = lws_container_of(sul, struct api_req, body_deadline);
    if (!r->wsi)
        return;
    klog_info("conn_cut reason=slow_body");
    lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int api_on_http(struct lws *wsi, struct api_req **slot, const char *path)
{
    api_on_closed(slot); /* lws starts each request on fresh user space; be sure */
    struct api_req *r = xcalloc(1, sizeof(*r));
    r->wsi = wsi;
    r->srv = server_of(wsi);
    r->state = READING;
    *slot = r;

    r->ep = EP_NONE;
    if (strcmp(path, "/api/login") == 0)
        r->ep = EP_LOGIN;
    else if (strcmp(path, "/api/logout") == 0)
        r->ep = EP_LOGOUT;
    else if (strcmp(path, "/api/sessions") == 0)
        r->ep = EP_SESSIONS;
    r->head_only = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    long long clen = content_length(wsi);
    r->body_pending = clen > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    if (r->body_pending)
        lws_sul_schedule(lws_get_context(wsi), 0, &r->body_deadline, body_expired,
                         (lws_usec_t)BODY_DEADLINE_SECS * LWS_US_PER_SEC);

    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    if (r->ep == EP_NONE) {
        answer_error(r, HTTP_STATUS_NOT_FOUND, "not_found");
    } else if (r->ep == EP_SESSIONS) {
        if (get)
            list_sessions(wsi, r);
        else {
            r->allow = "GET";
            answer_error(r, HTTP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed");
        }
    } else if (!post) {
        r->allow = "POST";
        answer_error(r, HTTP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed");
    } else if (!header_is(wsi, WSI_TOKEN_ORIGIN, r->srv->cfg->origin)) {
        /* The same rule as the WebSocket upgrade: another site's page must
         * not be able to log in or out through a visitor's browser. */
        klog_info("authz_fail reason=origin path=%s", r->ep == EP_LOGIN ? "login" : "logout");
        answer_error(r, HTTP_STATUS_FORBIDDEN, "forbidden");
    } else if (r->ep == EP_LOGOUT) {
        logout(wsi, r);
    } else if (clen > API_BODY_MAX) {
        answer_error(r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "too_large");
    } else if (clen < 0) {
        /* lws 4.1 reads no chunked request bodies. */
        answer_error(r, HTTP_STATUS_LENGTH_REQUIRED, "length_required");
    } else if (!is_json(wsi)) {
        answer_error(r, HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    return 0;
}

int api_on_body(struct lws *wsi, struct api_req **slot, const void *in, size_t len)
{
    struct api_req *r = *slot;
    (void)wsi;
    /* A body after an early answer is read and dropped by lws. */
    if (!r || r->state != READING || r->ep != EP_LOGIN)
        return 0;
    if (len > API_BODY_MAX - r->body_len) {
        wipe(r->body, r->body_len);
        r->body_len = 0;
        answer_error(r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "too_large");
        return 0;
    }
    if (len) /* lws passes in NULL for an empty body */
        memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    return 0;
}

int api_on_body_done(struct lws *wsi, struct api_req **slot)
{
    struct api_req *r = *slot;
    (void)wsi;
    if (r) {
        r->body_pending = false;
        lws_sul_cancel(&r->body_deadline);
    }
    if (r && r->state == READING && r->ep == EP_LOGIN)
        login(r);
    return 0;
}

int api_on_writable(struct lws *wsi, struct api_req **slot)
{
    struct api_req *r = *slot;
    if (!r || r->state != ANSWERED)
        return 0;
    const char *mime = r->out_len ? "application/json" : NULL;
    if (http_write_headers(wsi, r->status, mime, r->out_len, r->allow))
        return -1;
    if (r->out_len && !r->head_only) {
        unsigned char buf[LWS_PRE + ANSWER_MAX];
        memcpy(buf + LWS_PRE, r->out, r->out_len);
        int n = lws_write(wsi, buf + LWS_PRE, r->out_len, LWS_WRITE_HTTP_FINAL);
        wipe(buf + LWS_PRE, r->out_len);
        if (n < (int)r->out_len)
            return -1;
    }
    *slot = NULL;
    /* Answered before its body arrived (403, 413, ...): close rather than
     * let lws read the rest, which it would wait for without a deadline. */
    bool close = r->body_pending;
    req_free(r);
    if (close)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void api_on_closed(struct api_req **slot)
{
    struct api_req *r = *slot;
    if (!r)
        return;
    *slot = NULL;
    lws_sul_cancel(&r->body_deadline);
    if (r->state == CHECKING)
        r->wsi = NULL; /* login_done frees it */
    else
        req_free(r);
}
