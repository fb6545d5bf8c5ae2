#include "addrlimit.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "util.h"

struct addr {
    unsigned char key[16]; /* IPv6, or IPv4-mapped IPv6 */
    uint32_t conns;        /* not WebSockets */
    uint32_t websockets;
};

struct binding {
    struct lws *wsi; /* the key: the pointer value itself */
    struct addr *addr;
    bool websocket; /* counted in addr->websockets, else in addr->conns */
};

struct addrlimit {
    uint32_t max_conns, max_websockets;
    uint32_t total;
    struct hmap *addrs;    /* key -> struct addr */
    struct hmap *bindings; /* wsi pointer -> struct binding */
    struct addr *parked;
};

struct addrlimit *addrlimit_new(uint32_t max_conns, uint32_t max_websockets)
{
    struct addrlimit *al = xcalloc(1, sizeof(*al));
    al->max_conns = max_conns;
    al->max_websockets = max_websockets;
    al->addrs = hmap_new();
    al->bindings = hmap_new();
    return al;
}

static void drop(struct addrlimit *al, struct addr *a, bool websocket)
{
    al->total--;
    if (websocket)
        a->websockets--;
    else
        a->conns--;
    if (a->conns == 0 && a->websockets == 0) {
        hmap_del(al->addrs, a->key, sizeof(a->key));
        free(a);
    }
}

void addrlimit_free(struct addrlimit *al)
{
    if (!al)
        return;
    size_t pos = 0;
    void *v;
    while ((v = hmap_next(al->bindings, &pos)) != NULL)
        free(v);
    pos = 0;
    while ((v = hmap_next(al->addrs, &pos)) != NULL)
        free(v);
    hmap_free(al->bindings);
    hmap_free(al->addrs);
    free(al);
}

static int to_key(const struct sockaddr *sa, socklen_t len, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 0;
    }
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 0;
    }
    return -1;
}

int addrlimit_accept(struct addrlimit *al, const struct sockaddr *sa, socklen_t len)
{
    unsigned char key[16];
    if (al->parked) { /* the last accept never produced a wsi */
        drop(al, al->parked, false);
        al->parked = NULL;
    }
    if (to_key(sa, len, key) < 0)
        return 0; /* not an IP socket: nothing to count */
    struct addr *a = hmap_get(al->addrs, key, sizeof(key));
    if (a && a->conns >= al->max_conns)
        return -1;
    if (!a) {
        a = xcalloc(1, sizeof(*a));
        memcpy(a->key, key, sizeof(key));
        hmap_put(al->addrs, a->key, sizeof(a->key), a);
    }
    a->conns++;
    al->total++;
    al->parked = a;
    return 0;
}

void addrlimit_bind(struct addrlimit *al, struct lws *wsi)
{
    if (!al->parked)
        return;
    struct binding *b = xmalloc(sizeof(*b));
    b->wsi = wsi;
    b->addr = al->parked;
    b->websocket = false;
    al->parked = NULL;
    struct binding *old = hmap_put(al->bindings, &b->wsi, sizeof(b->wsi), b);
    if (old) { /* cannot happen: a live wsi is bound once */
        drop(al, old->addr, old->websocket);
        free(old);
    }
}

int addrlimit_upgrade(struct addrlimit *al, struct lws *wsi)
{
    struct binding *b = hmap_get(al->bindings, &wsi, sizeof(wsi));
    if (!b || b->websocket)
        return 0;
    if (b->addr->websockets >= al->max_websockets)
        return -1;
    b->addr->conns--;
    b->addr->websockets++;
    b->websocket = true;
    return 0;
}

void addrlimit_release(struct addrlimit *al, struct lws *wsi)
{
    struct binding *b = hmap_del(al->bindings, &wsi, sizeof(wsi));
    if (!b)
        return;
    drop(al, b->addr, b->websocket);
    free(b);
}

uint32_t addrlimit_total(const struct addrlimit *al)
{
    return al->total;
}
