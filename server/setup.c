#include "setup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "auth.h"
#include "config.h"
#include "klog.h"
#include "server.h"
#include "store.h"
#include "storeq.h"
#include "throttle.h"
#include "util.h"

#define HTTP_STATUS_TOO_MANY_REQUESTS 429 /* RFC 6585; lws 4.1 has no name for it */

struct setup_job {
    struct server *srv;
    bool check;
    uint8_t code_hash[STORE_HASH_LEN];
    int64_t now;
    char phc[AUTH_PHC_MAX]; /* the new password's hash */
    /* The worker's outcome. */
    int rc;
    struct store_setup found;
    /* Whom to answer; NULL once answered (at the deadline, busy). */
    setup_done_fn done;
    void *arg;
};

static void job_free(struct setup_job *j)
{
    wipe(j, sizeof(*j));
    free(j);
}

/* Answer once; the job forgets its requester. */
static void reply(struct setup_job *j, unsigned int status, const char *json)
{
    if (!j->done)
        return;
    setup_done_fn done = j->done;
    j->done = NULL;
    done(j->arg, status, json);
}

static void reply_busy(struct setup_job *j)
{
    reply(j, HTTP_STATUS_SERVICE_UNAVAILABLE, "{\"error\":\"busy\",\"retry_after_ms\":1000}\n");
}

/* The answer to a link that is not (or no longer) active. */
static void reply_refused(struct setup_job *j, int rc, enum store_setup_state state)
{
    if (rc == STORE_E_NOT_FOUND)
        reply(j, HTTP_STATUS_NOT_FOUND, "{\"error\":\"setup_unknown\"}\n");
    else if (state == STORE_SETUP_USED)
        reply(j, HTTP_STATUS_GONE, "{\"error\":\"setup_used\"}\n");
    else if (state == STORE_SETUP_EXPIRED)
        reply(j, HTTP_STATUS_GONE, "{\"error\":\"setup_expired\"}\n");
    else
        reply_busy(j);
}

/* ---- on the store worker ---- */

static void work(struct store *s, void *arg)
{
    struct setup_job *j = arg;
    if (j->check)
        j->rc = store_setup_find(s, j->code_hash, j->now, &j->found);
    else
        j->rc = store_setup_redeem(s, j->now, j->code_hash, j->phc, &j->found);
    wipe(j->phc, sizeof(j->phc));
}

/* ---- back on the loop ---- */

static void stored(void *arg, enum storeq_status st)
{
    struct setup_job *j = arg;
    const struct store_setup *f = &j->found;
    if (st == STOREQ_CANCELLED) {
        reply_busy(j);
    } else if (j->rc == 0 && (!j->check || f->state == STORE_SETUP_ACTIVE)) {
        char body[160];
        if (!j->check)
            klog_info("authn_setup leader_id=%" PRId64, f->leader_id);
        snprintf(body, sizeof(body),
                 j->check ? "{\"username\":\"%s\",\"role\":\"%s\",\"expires_at\":%" PRId64 "}\n"
                          : "{\"username\":\"%s\",\"role\":\"%s\"}\n",
                 f->username, store_role_name(f->role), f->expires_at * 1000);
        reply(j, HTTP_STATUS_OK, body);
    } else if (j->rc == 0 || j->rc == STORE_E_NOT_FOUND || j->rc == STORE_E_INVALID) {
        reply_refused(j, j->rc, f->state);
    } else {
        klog_warn("setup_store_failed reason=\"%s\"", store_strerror(j->rc));
        reply_busy(j);
    }
    job_free(j);
}

static void expired(void *arg)
{
    klog_warn("setup_busy reason=timeout");
    reply_busy(arg); /* the work may still happen: the page says to try again */
}

/* Hand j to the store worker, or answer busy (then j is the caller's). */
static bool to_store(struct setup_job *j)
{
    if (storeq_submit(j->srv->storeq, work, stored, expired, j, util_now_ms()) == 0)
        return true;
    klog_warn("setup_busy reason=queue_full");
    reply_busy(j);
    return false;
}

static void hashed(void *arg, const struct auth_result *res)
{
    struct setup_job *j = arg;
    if (res->outcome != AUTH_OK) {
        reply_busy(j);
        job_free(j);
        return;
    }
    memcpy(j->phc, res->phc, sizeof(j->phc));
    if (!to_store(j))
        job_free(j);
}

/* ---- the request ---- */

/* Is code shaped like one auth_invite_code_new makes? */
static bool code_shaped(const char *code)
{
    return strlen(code) == AUTH_INVITE_LEN &&
           strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
               AUTH_INVITE_LEN;
}

void setup_start(struct server *srv, bool check, const char *body, size_t len,
                 const struct sockaddr *peer, socklen_t plen, setup_done_fn done, void *arg)
{
    struct setup_job *j = xcalloc(1, sizeof(*j));
    *j = (struct setup_job){.srv = srv, .check = check, .done = done, .arg = arg};
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *code = json_object_get(root, "code"), *pw = json_object_get(root, "password");
    uint64_t wait = 0;
    if (!json_is_object(root) || json_object_size(root) != (check ? 1u : 2u) ||
        !json_is_string(code) || (!check && !json_is_string(pw))) {
        reply(j, HTTP_STATUS_BAD_REQUEST, "{\"error\":\"bad_request\"}\n");
    } else if (!check && !auth_password_ok(json_string_value(pw))) {
        reply(j, HTTP_STATUS_BAD_REQUEST, "{\"error\":\"invalid\",\"field\":\"password\"}\n");
    } else if ((wait = throttle_address(srv->throttle, peer, plen, util_now_ms()))) {
        char text[96];
        snprintf(text, sizeof(text), "{\"error\":\"throttled\",\"retry_after_ms\":%" PRIu64 "}\n",
                 wait);
        reply(j, HTTP_STATUS_TOO_MANY_REQUESTS, text);
    } else if (!code_shaped(json_string_value(code))) {
        reply(j, HTTP_STATUS_NOT_FOUND, "{\"error\":\"setup_unknown\"}\n");
    } else if (auth_token_hash(json_string_value(code), j->code_hash) < 0) {
        reply_busy(j);
    } else {
        j->now = config_now(srv->cfg);
        if (check) {
            to_store(j); /* answers busy when it cannot */
        } else if (auth_submit_hash(srv->authq, json_string_value(pw), hashed, j) < 0) {
            klog_info("authn_setup_busy");
            reply_busy(j);
        }
    }
    json_decref(root); /* proto_init made jansson wipe what it frees */
    if (!j->done)
        job_free(j); /* answered here: no worker holds it */
}
