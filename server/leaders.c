#include "leaders.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "hmap.h"
#include "store.h"
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
    struct login *older, *newer; /* the list in order of login, oldest first */
};

struct leaders {
    struct hmap *by_digest;
    struct login *oldest, *newest;
    struct store *shared; /* several nodes: the store has the logins that count */
    struct login view;    /* what a shared lookup returns */
};

void leaders_share(struct leaders *l, struct store *s)
{
    l->shared = s;
}

struct leaders *leaders_new(void)
{
    struct leaders *l = xcalloc(1, sizeof(*l));
    l->by_digest = hmap_new();
    return l;
}

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
    /* 256 random bits do not collide; if the table ever held this digest,
     * the registry would be broken, not unlucky. */
    assert(!hmap_get(l->by_digest, g->digest, sizeof(g->digest)));
    while (hmap_count(l->by_digest) >= LEADERS_MAX)
        drop(l, l->oldest);

    size_t n = strlen(username);
    memcpy(g->username, username, n < USERNAME_KEEP ? n : USERNAME_KEEP);
    g->pub.leader_id = leader_id;
    g->pub.username = g->username;
    g->pub.login_gen = login_gen;
    g->pub.coordinator = coordinator;
    g->started_ms = g->used_ms = now_ms;
    g->older = l->newest;
    if (l->newest)
        l->newest->newer = g;
    else
        l->oldest = g;
    l->newest = g;
    hmap_put(l->by_digest, g->digest, sizeof(g->digest), g);
    *expires_at_ms = now_ms + LEADERS_ABSOLUTE_MS;
    return 0;
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
        drop(l, g);
        return NULL;
    }
    if (now_ms > g->used_ms)
        g->used_ms = now_ms;
    return &g->pub;
}

void leaders_logout(struct leaders *l, const char *token)
{
    struct login *g = find(l, token);
    if (g)
        drop(l, g);
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
