#include "leaders.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "hmap.h"
#include "klog.h"
#include "metrics.h"
#include "store.h"
#include "storeq.h"
#include "util.h"

#define USERNAME_KEEP 64  /* bytes of a username kept; store names have at most 32 */
#define TOUCH_MS 60000ULL /* a shared login's use is written at most this often */

_Static_assert(LEADERS_TOKEN_LEN == AUTH_TOKEN_LEN, "leaders and auth agree on the token length");

/* One login. The hmap key is digest, inside the value as hmap requires. */
struct login {
    struct leader_login pub; /* pub.username points at username below */
    unsigned char digest[AUTH_DIGEST_LEN];
    char username[USERNAME_KEEP + 1];
    uint64_t started_ms, used_ms;
    uint64_t kept_used_ms;       /* one node: the use the store has (leaders_keep) */
    struct login *older, *newer; /* the list in order of login, oldest first */
};

struct leaders {
    struct hmap *by_digest;
    struct login *oldest, *newest;
    struct store *shared; /* several nodes: the store has the logins that count */
    struct storeq *keep;  /* one node: the store keeps a copy, written here */
    struct login view;    /* what a shared lookup returns */
};

void leaders_share(struct leaders *l, struct store *s)
{
    l->shared = s;
}

/* ---- one node: a copy in the store, written on the store worker ---- */

enum keep_op { KEEP_ADD, KEEP_TOUCH, KEEP_END, KEEP_END_LEADER, KEEP_SWEEP };

struct keep_job {
    enum keep_op op;
    unsigned char digest[AUTH_DIGEST_LEN];
    int64_t leader_id, login_gen, a, b; /* a: now or idle_before; b: started_before */
    int rc;
};

static void keep_work(struct store *s, void *arg)
{
    struct keep_job *j = arg;
    switch (j->op) {
    case KEEP_ADD:
        j->rc = store_login_add(s, j->digest, j->leader_id, j->login_gen, j->a);
        break;
    case KEEP_TOUCH:
        j->rc = store_login_touch(s, j->digest, j->a);
        break;
    case KEEP_END:
        j->rc = store_login_end(s, j->digest);
        break;
    case KEEP_END_LEADER:
        j->rc = store_login_end_leader(s, j->leader_id);
        break;
    default:
        assert(j->op == KEEP_SWEEP);
        j->rc = store_login_sweep(s, j->a, j->b);
    }
}

/* A write that did not happen costs a login its restart (or keeps an ended
 * one until the sweep): logged and counted, never fatal. */
static void keep_done(void *arg, enum storeq_status st)
{
    struct keep_job *j = arg;
    if (st == STOREQ_CANCELLED || j->rc < 0) {
        metrics_inc(METRIC_STORE_WRITE_FAILED);
        klog_error("login_write_failed reason=\"%s\"",
                   st == STOREQ_CANCELLED ? "shutdown" : store_strerror(j->rc));
    }
    wipe(j, sizeof(*j));
    free(j);
}

/* Queue one write of the copy; nothing when the registry keeps none. */
static void keep(struct leaders *l, enum keep_op op, const unsigned char *digest, int64_t leader_id,
                 int64_t login_gen, int64_t a, int64_t b)
{
    if (!l->keep)
        return;
    struct keep_job *j = xcalloc(1, sizeof(*j));
    *j =
        (struct keep_job){.op = op, .leader_id = leader_id, .login_gen = login_gen, .a = a, .b = b};
    if (digest)
        memcpy(j->digest, digest, sizeof(j->digest));
    if (storeq_submit(l->keep, keep_work, keep_done, NULL, j, util_now_ms()) < 0) {
        j->rc = STORE_E_BUSY;
        keep_done(j, STOREQ_DONE);
    }
}

void leaders_keep(struct leaders *l, struct storeq *q)
{
    l->keep = q;
}

struct leaders *leaders_new(void)
{
    struct leaders *l = xcalloc(1, sizeof(*l));
    l->by_digest = hmap_new();
    return l;
}

static void hold(struct leaders *l, struct login *g, int64_t leader_id, const char *username,
                 int64_t login_gen, bool coordinator, uint64_t started_ms, uint64_t used_ms);

static bool expired(const struct login *g, uint64_t now_ms)
{
    return now_ms >= g->started_ms + LEADERS_ABSOLUTE_MS || now_ms >= g->used_ms + LEADERS_IDLE_MS;
}

/* Unlink g from the table and the list, wipe and free it. */
static void drop(struct leaders *l, struct login *g)
{
    struct login *removed = hmap_del(l->by_digest, g->digest, sizeof(g->digest));
    assert(removed == g);
    (void)removed;
    if (g->older)
        g->older->newer = g->newer;
    else
        l->oldest = g->newer;
    if (g->newer)
        g->newer->older = g->older;
    else
        l->newest = g->older;
    wipe(g, sizeof(*g));
    free(g);
}

/* drop, and the store's copy goes too: the login ended. */
static void end(struct leaders *l, struct login *g)
{
    keep(l, KEEP_END, g->digest, 0, 0, 0, 0);
    drop(l, g);
}

void leaders_free(struct leaders *l)
{
    if (!l)
        return;
    while (l->oldest)
        drop(l, l->oldest);
    wipe(&l->view, sizeof(l->view));
    hmap_free(l->by_digest);
    free(l);
}

int leaders_login(struct leaders *l, int64_t leader_id, const char *username, int64_t login_gen,
                  bool coordinator, uint64_t now_ms, char token_out[LEADERS_TOKEN_LEN + 1],
                  uint64_t *expires_at_ms)
{
    struct login *g = xcalloc(1, sizeof(*g));
    if (auth_token_new(token_out, g->digest) < 0) {
        wipe(g, sizeof(*g));
        free(g);
        token_out[0] = '\0';
        return -1;
    }
    if (l->shared &&
        store_login_add(l->shared, g->digest, leader_id, login_gen, (int64_t)now_ms) < 0) {
        wipe(token_out, LEADERS_TOKEN_LEN + 1);
        wipe(g, sizeof(*g));
        free(g);
        token_out[0] = '\0';
        return -1;
    }
    keep(l, KEEP_ADD, g->digest, leader_id, login_gen, (int64_t)now_ms, 0);
    hold(l, g, leader_id, username, login_gen, coordinator, now_ms, now_ms);
    *expires_at_ms = now_ms + LEADERS_ABSOLUTE_MS;
    return 0;
}

/* Put g (its digest set) into the registry, the oldest going when full. */
static void hold(struct leaders *l, struct login *g, int64_t leader_id, const char *username,
                 int64_t login_gen, bool coordinator, uint64_t started_ms, uint64_t used_ms)
{
    /* 256 random bits do not collide; if the table ever held this digest,
     * the registry would be broken, not unlucky. */
    assert(!hmap_get(l->by_digest, g->digest, sizeof(g->digest)));
    while (hmap_count(l->by_digest) >= LEADERS_MAX)
        end(l, l->oldest);

    size_t n = strlen(username);
    memcpy(g->username, username, n < USERNAME_KEEP ? n : USERNAME_KEEP);
    g->pub.leader_id = leader_id;
    g->pub.username = g->username;
    g->pub.login_gen = login_gen;
    g->pub.coordinator = coordinator;
    g->started_ms = started_ms;
    g->used_ms = g->kept_used_ms = used_ms;
    g->older = l->newest;
    if (l->newest)
        l->newest->newer = g;
    else
        l->oldest = g;
    l->newest = g;
    hmap_put(l->by_digest, g->digest, sizeof(g->digest), g);
}

/* store_login_live's callback: one login back into memory. */
static void restore_one(void *arg, const uint8_t token_hash[STORE_HASH_LEN],
                        const struct store_login *sl)
{
    struct leaders *l = arg;
    if (hmap_get(l->by_digest, token_hash, AUTH_DIGEST_LEN))
        return;
    struct login *g = xcalloc(1, sizeof(*g));
    memcpy(g->digest, token_hash, sizeof(g->digest));
    hold(l, g, sl->leader_id, sl->username, sl->login_gen, sl->role == STORE_ROLE_COORDINATOR,
         (uint64_t)sl->started_at, (uint64_t)sl->used_at);
}

int leaders_restore(struct leaders *l, struct store *s, uint64_t now_ms)
{
    size_t before = hmap_count(l->by_digest);
    int rc = store_login_live(s, (int64_t)(now_ms - LEADERS_IDLE_MS),
                              (int64_t)(now_ms - LEADERS_ABSOLUTE_MS), restore_one, l);
    return rc < 0 ? rc : (int)(hmap_count(l->by_digest) - before);
}

/* The login for token, expired or not, or NULL. */
static struct login *find(struct leaders *l, const char *token)
{
    unsigned char digest[AUTH_DIGEST_LEN];
    if (strlen(token) != LEADERS_TOKEN_LEN || auth_token_hash(token, digest) < 0)
        return NULL;
    struct login *g = hmap_get(l->by_digest, digest, sizeof(digest));
    /* hmap compares keys with memcmp, which may leak how much of a digest
     * matched; that reveals nothing a client can use, since nobody can choose
     * a token by its digest. The constant-time check is the one that counts. */
    if (g && !auth_digest_equal(g->digest, digest))
        g = NULL;
    wipe(digest, sizeof(digest));
    return g;
}

/* A lookup in the store, which every node shares: a logout, a disabled
 * account or a new password on any node counts at once. */
static const struct leader_login *shared_lookup(struct leaders *l, const char *token,
                                                uint64_t now_ms)
{
    unsigned char digest[AUTH_DIGEST_LEN];
    struct store_login sl;
    if (strlen(token) != LEADERS_TOKEN_LEN || auth_token_hash(token, digest) < 0 ||
        store_login_find(l->shared, digest, &sl) < 0)
        return NULL;
    struct login *v = &l->view;
    v->started_ms = (uint64_t)sl.started_at;
    v->used_ms = (uint64_t)sl.used_at;
    if (expired(v, now_ms)) {
        store_login_end(l->shared, digest);
        wipe(digest, sizeof(digest));
        return NULL;
    }
    if (now_ms >= v->used_ms + TOUCH_MS)
        store_login_touch(l->shared, digest, (int64_t)now_ms);
    wipe(digest, sizeof(digest));
    snprintf(v->username, sizeof(v->username), "%s", sl.username);
    v->pub = (struct leader_login){sl.leader_id, v->username, sl.login_gen,
                                   sl.role == STORE_ROLE_COORDINATOR};
    return &v->pub;
}

const struct leader_login *leaders_lookup(struct leaders *l, const char *token, uint64_t now_ms)
{
    if (l->shared)
        return shared_lookup(l, token, now_ms);
    struct login *g = find(l, token);
    if (!g)
        return NULL;
    if (expired(g, now_ms)) {
        end(l, g);
        return NULL;
    }
    if (now_ms > g->used_ms)
        g->used_ms = now_ms;
    /* The copy's idle timer, at most once a TOUCH_MS: a restart may cost a
     * login up to that much of its idle time. */
    if (l->keep && now_ms >= g->kept_used_ms + TOUCH_MS) {
        keep(l, KEEP_TOUCH, g->digest, 0, 0, (int64_t)now_ms, 0);
        g->kept_used_ms = now_ms;
    }
    return &g->pub;
}

void leaders_logout(struct leaders *l, const char *token)
{
    struct login *g = find(l, token);
    if (g)
        end(l, g);
    unsigned char digest[AUTH_DIGEST_LEN];
    if (l->shared && strlen(token) == LEADERS_TOKEN_LEN && auth_token_hash(token, digest) == 0) {
        store_login_end(l->shared, digest);
        wipe(digest, sizeof(digest));
    }
}

size_t leaders_revoke_leader(struct leaders *l, int64_t leader_id)
{
    size_t n = 0;
    if (l->shared)
        store_login_end_leader(l->shared, leader_id);
    keep(l, KEEP_END_LEADER, NULL, leader_id, 0, 0, 0);
    for (struct login *g = l->oldest, *next; g; g = next) {
        next = g->newer;
        if (g->pub.leader_id == leader_id) {
            drop(l, g);
            n++;
        }
    }
    return n;
}

size_t leaders_sweep(struct leaders *l, uint64_t now_ms)
{
    size_t n = 0;
    if (l->shared)
        store_login_sweep(l->shared, (int64_t)(now_ms - LEADERS_IDLE_MS),
                          (int64_t)(now_ms - LEADERS_ABSOLUTE_MS));
    keep(l, KEEP_SWEEP, NULL, 0, 0, (int64_t)(now_ms - LEADERS_IDLE_MS),
         (int64_t)(now_ms - LEADERS_ABSOLUTE_MS));
    for (struct login *g = l->oldest, *next; g; g = next) {
        next = g->newer;
        if (expired(g, now_ms)) {
            drop(l, g);
            n++;
        }
    }
    return n;
}

size_t leaders_count(const struct leaders *l)
{
    return hmap_count(l->by_digest);
}
