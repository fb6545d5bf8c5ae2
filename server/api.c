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

#include "admin.h"
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
#include "setup.h"
#include "store.h"
#include "storeq.h"
#include "throttle.h"
#include "util.h"

#define BUSY_RETRY_MS 1000 /* what a client is told to wait when the KDF queue is full */
#define ANSWER_MAX 16384   /* the longest answer: a leader's list of sessions */
#define HTTP_STATUS_TOO_MANY_REQUESTS 429 /* RFC 6585; lws 4.1 has no name for it */
/* From the end of the headers to the end of the body. lws 4.1.6 restarts its
 * own body timeout on every chunk, so a client trickling a byte every few
 * seconds would hold the connection for as long as it likes (slowloris on
 * the body); this deadline does not move. 4 KiB in 5 s is 820 B/s. */
#define BODY_DEADLINE_SECS 5

enum endpoint { EP_NONE, EP_LOGIN, EP_LOGOUT, EP_SESSIONS, EP_ADMIN, EP_SETUP, EP_SETUP_CHECK };

enum req_state {
    READING,  /* collecting the body */
    CHECKING, /* a password check, a setup or a store job runs on a worker; it holds the request */
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
    const char *allow;  /* the Allow header of a 405 */
    char allow_buf[48]; /* ... when made for the path */
    size_t out_len;
    char out[ANSWER_MAX];
    char *big;            /* owned: the console's answer, written instead of out when set */
    const char *mime;     /* of big (static); NULL: JSON */
    char disposition[96]; /* of big: "attachment; filename=..."; "": none */
    /* A console request (admin.h). */
    struct admin_job *job;
    bool held;    /* the store worker holds it: admin_done frees it when wsi is NULL */
    bool expired; /* answered busy at the store worker's deadline */
    /* A login whose password is being checked. */
    char *name;        /* as typed: the throttle key */
    int64_t leader_id; /* 0 when no leader has this name */
    int64_t login_gen; /* the account's when the check began: the login's */
    bool disabled;
    bool coordinator;
    char username[STORE_USERNAME_MAX + 1]; /* as stored */
    /* The request body. */
    lws_sorted_usec_list_t body_deadline; /* scheduled while a declared body is read */
    size_t body_len, body_max;
    char *body; /* body_max + 1 bytes, allocated when a body is expected */
};

bool api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0;
}

uint64_t api_now_ms(const struct server *srv)
{
    return (uint64_t)((int64_t)util_wall_ms() + srv->cfg->clock_offset * 1000);
}

/* Free the console's answer, wiped: it may hold an invite link. */
static void drop_big(struct api_req *r)
{
    if (r->big)
        wipe(r->big, strlen(r->big));
    free(r->big);
    r->big = NULL;
}

static void req_free(struct api_req *r)
{
    lws_sul_cancel(&r->body_deadline);
    if (r->body) {
        wipe(r->body, r->body_max + 1);
        free(r->body);
    }
    drop_big(r);
    admin_job_free(r->job);
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
    drop_big(r);
    r->mime = NULL;
    r->disposition[0] = '\0';
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

/* The live login behind the request's "Authorization: Bearer" token, or
 * NULL: with its account's standing checked on the loop's store connection
 * (gate_login), or, when registry_only, as the registry holds it (the
 * console checks the account on the store worker instead). */
static const struct leader_login *bearer(struct lws *wsi, struct api_req *r, bool registry_only)
{
    char auth[128];
    int n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    const struct leader_login *who = NULL;
    if (n > 7 && strncasecmp(auth, "Bearer ", 7) == 0)
        who = registry_only ? leaders_lookup(r->srv->leaders, auth + 7, api_now_ms(r->srv))
                            : gate_login(r->srv->gate, auth + 7);
    if (n > 0)
        wipe(auth, (size_t)n);
    return who;
}

#define SESSIONS_MAX 40 /* a leader's list fits one answer */

/* How many wait in the lobby of session id: from the room here; none when
 * it has no room yet; unknown (null) when another node may hold it. */
static json_t *waiting_json(const struct server *srv, int64_t id)
{
    int n = room_waiting(srv->rooms, (uint64_t)id);
    if (n < 0 && srv->cluster)
        return json_null();
    return json_integer(n < 0 ? 0 : n);
}

/*
 * GET /api/sessions: the sessions a logged-in leader may enter or will lead
 * (from now on, by start), so the leader's page can offer them, with how
 * many wait in each lobby and whether it may be started now ([limits]
 * early_start), and the groups they lead (may they hold a session now?):
 * {"sessions":[{"id","group","group_id","state","starts_at","ends_at",
 * "waiting","startable"}],"groups":[{"id","name","adhoc_sessions"}]}.
 */
static void list_sessions(struct lws *wsi, struct api_req *r)
{
    const struct leader_login *who = bearer(wsi, r, false);
    struct server *srv = r->srv;
    if (!who || who->coordinator) { /* a coordinator leads no session */
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
    json_t *list = json_array(), *led = json_array();
    int64_t early = (int64_t)srv->cfg->limits.early_start * 60;
    for (size_t i = 0; i < ng; i++)
        json_array_append_new(led, json_pack("{sI ss sb}", "id", (json_int_t)groups[i].id, "name",
                                             groups[i].name, "adhoc_sessions",
                                             groups[i].adhoc_sessions));
    for (size_t i = 0; i < ng && json_array_size(list) < SESSIONS_MAX; i++) {
        struct store_session *ss = NULL;
        size_t ns = 0;
        if (store_session_list(srv->store, groups[i].id, now, &ss, &ns) < 0)
            continue;
        for (size_t j = 0; j < ns && json_array_size(list) < SESSIONS_MAX; j++) {
            enum store_session_state st = store_session_state(&ss[j], now);
            if (st == STORE_SESSION_ENDED)
                continue; /* held, and ended before its planned start */
            bool startable =
                st == STORE_SESSION_SCHEDULED && early > 0 && ss[j].starts_at - now <= early;
            json_array_append_new(
                list, json_pack("{sI ss sI ss sI sI so sb}", "id", (json_int_t)ss[j].id, "group",
                                groups[i].name, "group_id", (json_int_t)groups[i].id, "state",
                                store_session_state_name(st), "starts_at",
                                (json_int_t)ss[j].starts_at * 1000, "ends_at",
                                (json_int_t)ss[j].ends_at * 1000, "waiting",
                                waiting_json(srv, ss[j].id), "startable", startable));
        }
        free(ss);
    }
    store_group_list_free(groups, ng);
    json_t *doc = json_pack("{so so}", "sessions", list, "groups", led);
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
    snprintf(actor, sizeof(actor), "%s:%s", r->coordinator ? "coordinator" : "leader", r->username);

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
        if (leaders_login(srv->leaders, r->leader_id, r->username, r->login_gen, r->coordinator,
                          api_now_ms(srv), token, &expires) < 0) {
            klog_error("login_error reason=\"no randomness\"");
            answer_busy(r);
        } else {
            klog_info("authn_login leader_id=%" PRId64, r->leader_id);
            metrics_inc(METRIC_LOGIN_OK);
            answer(r, HTTP_STATUS_OK,
                   "{\"token\":\"%s\",\"username\":\"%s\",\"role\":\"%s\",\"expires_at\":%" PRIu64
                   ",\"idle_timeout_s\":%llu}\n",
                   token, r->username, r->coordinator ? "coordinator" : "leader", expires,
                   LEADERS_IDLE_MS / 1000);
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
            r->coordinator = leader.role == STORE_ROLE_COORDINATOR;
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

/* ---- setup links (setup.h) ---- */

/* The setup request's answer. Runs on the lws thread, also after the
 * connection went away, and frees the request in that case. */
static void setup_done(void *arg, unsigned int status, const char *json)
{
    struct api_req *r = arg;
    answer(r, status, "%s", json);
    if (!r->wsi)
        req_free(r);
}

static void setup_body_done(struct api_req *r)
{
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    memset(&peer, 0, sizeof(peer));
    if (getpeername(lws_get_socket_fd(r->wsi), (struct sockaddr *)&peer, &plen) < 0)
        plen = 0;        /* throttle counts it with every other unknown address */
    r->state = CHECKING; /* until setup_done, which may come at once */
    setup_start(r->srv, r->ep == EP_SETUP_CHECK, r->body, r->body_len, (struct sockaddr *)&peer,
                plen, setup_done, r);
    wipe(r->body, r->body_len);
    r->body_len = 0;
}

/* ---- the console (admin.h) ---- */

/* The console's job came back from the store worker. Runs on the lws
 * thread, also after the connection went away, and frees the request in
 * that case. */
static void admin_done(void *arg, enum storeq_status st)
{
    struct api_req *r = arg;
    if (st == STOREQ_CANCELLED) {
        if (!r->expired)
            answer_busy(r);
    } else {
        unsigned int status;
        bool ended;
        char *text = admin_take_answer(r->job, &status, &ended);
        if (ended) /* disabled, a new password, removed: its other logins end too */
            leaders_revoke_leader(r->srv->leaders, admin_account(r->job));
        if (r->expired) {
            wipe(text, strlen(text)); /* answered busy already; a change may have happened */
            free(text);
        } else {
            answer(r, status, NULL);
            const char *filename;
            r->mime = admin_answer_type(r->job, &filename);
            if (filename)
                snprintf(r->disposition, sizeof(r->disposition), "attachment; filename=\"%s\"",
                         filename);
            r->big = text;
            r->out_len = strlen(text);
        }
    }
    r->held = false;
    if (!r->wsi)
        req_free(r);
}

static void admin_expired(void *arg)
{
    struct api_req *r = arg;
    klog_warn("admin_busy reason=timeout");
    r->expired = true;
    answer_busy(r);
}

/* On the store worker: the request's job. The request stays put while the
 * worker holds it (held), and the worker touches nothing else of it. */
static void admin_run(struct store *s, void *arg)
{
    struct api_req *r = arg;
    admin_work(s, r->job);
}

/* Hand the console's job to the store worker. */
static void admin_submit(struct api_req *r)
{
    admin_prepare(r->job, r->srv);
    if (storeq_submit(r->srv->storeq, admin_run, admin_done, admin_expired, r, util_now_ms()) < 0) {
        klog_warn("admin_busy reason=queue_full");
        answer_busy(r);
        return;
    }
    r->held = true;
}

/* Read the query's arguments into the job. Returns false after answering
 * an error. */
static bool admin_args(struct lws *wsi, struct api_req *r)
{
    char arg[256];
    for (int i = 0; i < 16; i++) {
        /* 0: no such argument (lws keeps no empty ones). */
        int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len == 0)
            return true;
        if (len >= (int)sizeof(arg) ||
            lws_hdr_copy_fragment(wsi, arg, sizeof(arg), WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
            answer_error(r, HTTP_STATUS_BAD_REQUEST, "invalid");
            return false;
        }
        const char *field = NULL, *err = admin_query(r->job, arg, &field);
        if (err) {
            if (field)
                answer(r, HTTP_STATUS_BAD_REQUEST, "{\"error\":\"%s\",\"field\":\"%s\"}\n", err,
                       field);
            else
                answer_error(r, HTTP_STATUS_BAD_REQUEST, err);
            return false;
        }
    }
    answer_error(r, HTTP_STATUS_BAD_REQUEST, "invalid"); /* more arguments than any route takes */
    return false;
}

/* A request under /api/admin/: route, token, Origin, then the query or the
 * body's checks. Returns true when a body is to be read. */
static bool admin_start(struct lws *wsi, struct api_req *r, const char *path, long long clen)
{
    const char *method = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI)      ? "GET"
                         : lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)   ? "POST"
                         : lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI)  ? "PATCH"
                         : lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) ? "DELETE"
                                                                           : NULL;
    struct admin_route route;
    struct leader_login none = {0};
    r->job = admin_route(path, method, &none, &route);
    admin_job_free(r->job);
    r->job = NULL;
    if (!route.known) {
        answer_error(r, HTTP_STATUS_NOT_FOUND, "not_found");
        return false;
    }
    if (!route.allowed) {
        snprintf(r->allow_buf, sizeof(r->allow_buf), "%s", route.allow);
        r->allow = r->allow_buf;
        answer_error(r, HTTP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed");
        return false;
    }
    if (route.changes && !header_is(wsi, WSI_TOKEN_ORIGIN, r->srv->cfg->origin)) {
        klog_info("authz_fail reason=origin path=admin");
        answer_error(r, HTTP_STATUS_FORBIDDEN, "forbidden");
        return false;
    }
    const struct leader_login *who = bearer(wsi, r, true);
    if (!who) {
        answer_error(r, HTTP_STATUS_UNAUTHORIZED, "token_invalid");
        return false;
    }
    r->job = admin_route(path, method, who, &route);
    if (!route.role_ok) {
        klog_info("authz_fail reason=role path=admin");
        answer_error(r, HTTP_STATUS_FORBIDDEN, "forbidden");
        return false;
    }
    if (!route.has_body) {
        if (admin_args(wsi, r))
            admin_submit(r);
        return false;
    }
    if (clen > ADMIN_BODY_MAX)
        answer_error(r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "too_large");
    else if (clen < 0)
        answer_error(r, HTTP_STATUS_LENGTH_REQUIRED, "length_required");
    else if (!is_json(wsi))
        answer_error(r, HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    else
        return true;
    return false;
}

/* The body of a console request has arrived. */
static void admin_body_done(struct api_req *r)
{
    const char *field = NULL, *err = admin_body(r->job, r->body, r->body_len, &field);
    wipe(r->body, r->body_len);
    r->body_len = 0;
    if (!err)
        admin_submit(r);
    else if (field)
        answer(r, HTTP_STATUS_BAD_REQUEST, "{\"error\":\"%s\",\"field\":\"%s\"}\n", err, field);
    else
        answer_error(r, HTTP_STATUS_BAD_REQUEST, err);
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
    if (strncmp(path, "/api/admin/", 11) == 0)
        r->ep = EP_ADMIN;
    else if (strcmp(path, "/api/login") == 0)
        r->ep = EP_LOGIN;
    else if (strcmp(path, "/api/logout") == 0)
        r->ep = EP_LOGOUT;
    else if (strcmp(path, "/api/sessions") == 0)
        r->ep = EP_SESSIONS;
    else if (strcmp(path, "/api/setup") == 0)
        r->ep = EP_SETUP;
    else if (strcmp(path, "/api/setup/check") == 0)
        r->ep = EP_SETUP_CHECK;
    r->head_only = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    long long clen = content_length(wsi);
    r->body_pending = clen > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    if (r->body_pending)
        lws_sul_schedule(lws_get_context(wsi), 0, &r->body_deadline, body_expired,
                         (lws_usec_t)BODY_DEADLINE_SECS * LWS_US_PER_SEC);

    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    if (r->ep == EP_ADMIN) {
        if (admin_start(wsi, r, path, clen)) {
            r->body_max = ADMIN_BODY_MAX;
            r->body = xmalloc(r->body_max + 1);
        }
    } else if (r->ep == EP_NONE) {
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
        klog_info("authz_fail reason=origin path=%s", r->ep == EP_LOGIN    ? "login"
                                                      : r->ep == EP_LOGOUT ? "logout"
                                                                           : "setup");
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
    } else {
        r->body_max = API_BODY_MAX;
        r->body = xmalloc(r->body_max + 1);
    }
    return 0;
}

int api_on_body(struct lws *wsi, struct api_req **slot, const void *in, size_t len)
{
    struct api_req *r = *slot;
    (void)wsi;
    /* A body after an early answer is read and dropped by lws. */
    if (!r || r->state != READING || !r->body)
        return 0;
    if (len > r->body_max - r->body_len) {
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
    if (r && r->state == READING && r->body) {
        if (r->ep == EP_ADMIN)
            admin_body_done(r);
        else if (r->ep == EP_LOGIN)
            login(r);
        else
            setup_body_done(r);
    }
    return 0;
}

int api_on_writable(struct lws *wsi, struct api_req **slot)
{
    struct api_req *r = *slot;
    if (!r || r->state != ANSWERED)
        return 0;
    const char *mime = !r->out_len ? NULL : r->mime ? r->mime : "application/json";
    if (http_write_download(wsi, r->status, mime, r->out_len, r->allow,
                            r->disposition[0] ? r->disposition : NULL))
        return -1;
    if (r->out_len && !r->head_only) {
        /* lws keeps what the socket does not take at once and sends it
         * before the next writable: one write of the whole answer. */
        unsigned char *buf = xmalloc(LWS_PRE + r->out_len);
        memcpy(buf + LWS_PRE, r->big ? r->big : r->out, r->out_len);
        int n = lws_write(wsi, buf + LWS_PRE, r->out_len, LWS_WRITE_HTTP_FINAL);
        wipe(buf + LWS_PRE, r->out_len);
        free(buf);
        if (n < (int)r->out_len)
            return -1;
    }
    *slot = NULL;
    /* Answered before its body arrived (403, 413, ...): close rather than
     * let lws read the rest, which it would wait for without a deadline. */
    bool close = r->body_pending;
    if (r->held)
        r->wsi = NULL; /* answered busy: admin_done frees it */
    else
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
    if (r->state == CHECKING || r->held)
        r->wsi = NULL; /* login_done or admin_done frees it */
    else
        req_free(r);
}
