#include "throttle.h"

#include <assert.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "util.h"

/* An account's failures are forgotten this long after the last one. */
#define FORGET_MS (24 * 60 * 60 * 1000ull)

/* The head of every table entry: its key and its place in the table's
 * least-recently-used list. */
struct entry {
    struct entry *prev, *next;
    const void *key; /* inside the entry itself */
    size_t key_len;
};

struct table {
    struct hmap *map;
    struct entry lru; /* sentinel: lru.next is the least recently used */
    uint32_t count, cap;
};

struct account {
    struct entry e;
    uint32_t failures;
    uint32_t pending; /* allowed attempts not yet recorded */
    uint64_t last_failure_ms, locked_until_ms;
    char name[THROTTLE_NAME_MAX];
};

struct address {
    struct entry e;
    /* The times of the last THROTTLE_ADDR_ATTEMPTS allowed attempts, a ring
     * whose next slot to write, `head`, holds the oldest once it is full. */
    uint64_t at_ms[THROTTLE_ADDR_ATTEMPTS];
    uint32_t head, count;
    unsigned char key[16];
};

struct throttle {
    struct table accounts, addrs;
};

/* ---- capped tables with least-recently-used eviction ---- */

static void table_init(struct table *tb, uint32_t cap)
{
    assert(cap >= 1);
    tb->map = hmap_new();
    tb->lru.prev = tb->lru.next = &tb->lru;
    tb->count = 0;
    tb->cap = cap;
}

static void unlink_entry(struct entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void append(struct table *tb, struct entry *e)
{
    e->prev = tb->lru.prev;
    e->next = &tb->lru;
    tb->lru.prev->next = e;
    tb->lru.prev = e;
}

static void touch(struct table *tb, struct entry *e)
{
    unlink_entry(e);
    append(tb, e);
}

static void table_del(struct table *tb, struct entry *e)
{
    hmap_del(tb->map, e->key, e->key_len);
    unlink_entry(e);
    tb->count--;
    free(e);
}

/* Take ownership of e, whose key is set; evict the least recently used
 * entry first when the table is full. */
static void table_add(struct table *tb, struct entry *e)
{
    if (tb->count == tb->cap)
        table_del(tb, tb->lru.next);
    hmap_put(tb->map, e->key, e->key_len, e);
    append(tb, e);
    tb->count++;
}

static void table_fini(struct table *tb)
{
    while (tb->count > 0)
        table_del(tb, tb->lru.next);
    hmap_free(tb->map);
}

/* ---- keys ---- */

/* The account key: the name case-folded and cut to THROTTLE_NAME_MAX. */
static size_t name_key(const char *username, char key[THROTTLE_NAME_MAX])
{
    size_t n = 0;
    for (; n < THROTTLE_NAME_MAX && username[n]; n++) {
        char c = username[n];
        key[n] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    return n;
}

/* The address key: IPv4 as IPv4-mapped IPv6 (as a dual-stack socket shows
 * it), IPv6 cut to its /64. */
static void addr_key(const struct sockaddr *sa, socklen_t len, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        memcpy(key, a, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
    } else if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    }
}

/* ---- accounts ---- */

static struct account *account_get(struct throttle *t, const char *key, size_t len)
{
    return hmap_get(t->accounts.map, key, len);
}

static struct account *account_add(struct throttle *t, const char *key, size_t len)
{
    struct account *a = xcalloc(1, sizeof(*a));
    memcpy(a->name, key, len);
    a->e.key = a->name;
    a->e.key_len = len;
    table_add(&t->accounts, &a->e);
    return a;
}

static uint64_t lock_ms(uint32_t failures)
{
    uint32_t doublings = failures - THROTTLE_FREE_FAILURES;
    if (doublings >= 32)
        return THROTTLE_MAX_LOCK_MS;
    uint64_t ms = (uint64_t)THROTTLE_FIRST_LOCK_MS << doublings;
    return ms < THROTTLE_MAX_LOCK_MS ? ms : THROTTLE_MAX_LOCK_MS;
}

static uint64_t account_wait(struct account *a, uint64_t now)
{
    if (a->pending == 0 && a->failures > 0 && now - a->last_failure_ms >= FORGET_MS) {
        a->failures = 0;
        a->locked_until_ms = 0;
    }
    if (now < a->locked_until_ms)
        return a->locked_until_ms - now;
    /* Below the threshold, as many attempts at once as failures are left
     * free; past it, one at a time, each one's failure locking again. */
    uint32_t allowed =
        a->failures < THROTTLE_FREE_FAILURES ? THROTTLE_FREE_FAILURES - a->failures : 1;
    return a->pending < allowed ? 0 : THROTTLE_FIRST_LOCK_MS;
}

/* ---- addresses ---- */

static struct address *address_get(struct throttle *t, const unsigned char key[16])
{
    return hmap_get(t->addrs.map, key, 16);
}

static struct address *address_add(struct throttle *t, const unsigned char key[16])
{
    struct address *d = xcalloc(1, sizeof(*d));
    memcpy(d->key, key, 16);
    d->e.key = d->key;
    d->e.key_len = 16;
    table_add(&t->addrs, &d->e);
    return d;
}

static uint64_t address_wait(const struct address *d, uint64_t now)
{
    if (d->count < THROTTLE_ADDR_ATTEMPTS)
        return 0;
    uint64_t free_at = d->at_ms[d->head] + THROTTLE_ADDR_WINDOW_MS;
    return now < free_at ? free_at - now : 0;
}

static void address_count(struct address *d, uint64_t now)
{
    d->at_ms[d->head] = now;
    d->head = (d->head + 1) % THROTTLE_ADDR_ATTEMPTS;
    if (d->count < THROTTLE_ADDR_ATTEMPTS)
        d->count++;
}

/* Count an attempt of address ak, whose entry d may not exist yet. */
static void address_take(struct throttle *t, struct address *d, const unsigned char ak[16],
                         uint64_t now)
{
    if (!d)
        d = address_add(t, ak);
    else
        touch(&t->addrs, &d->e);
    address_count(d, now);
}

/* ---- the API ---- */

struct throttle *throttle_new(uint32_t max_accounts, uint32_t max_addrs)
{
    struct throttle *t = xcalloc(1, sizeof(*t));
    table_init(&t->accounts, max_accounts);
    table_init(&t->addrs, max_addrs);
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    table_fini(&t->accounts);
    table_fini(&t->addrs);
    free(t);
}

uint64_t throttle_check(struct throttle *t, const char *username, const struct sockaddr *addr,
                        socklen_t addr_len, uint64_t now_ms)
{
    char name[THROTTLE_NAME_MAX];
    unsigned char ak[16];
    size_t len = name_key(username, name);
    addr_key(addr, addr_len, ak);

    struct account *a = account_get(t, name, len);
    struct address *d = address_get(t, ak);
    uint64_t wait_account = a ? account_wait(a, now_ms) : 0;
    uint64_t wait_addr = d ? address_wait(d, now_ms) : 0;
    if (wait_account || wait_addr)
        return wait_account > wait_addr ? wait_account : wait_addr;

    if (!a)
        a = account_add(t, name, len);
    else
        touch(&t->accounts, &a->e);
    a->pending++;
    address_take(t, d, ak, now_ms);
    return 0;
}

uint64_t throttle_address(struct throttle *t, const struct sockaddr *addr, socklen_t addr_len,
                          uint64_t now_ms)
{
    unsigned char ak[16];
    addr_key(addr, addr_len, ak);
    struct address *d = address_get(t, ak);
    uint64_t wait = d ? address_wait(d, now_ms) : 0;
    if (wait)
        return wait;
    address_take(t, d, ak, now_ms);
    return 0;
}

uint64_t throttle_record(struct throttle *t, const char *username, enum throttle_outcome outcome,
                         uint64_t now_ms)
{
    char name[THROTTLE_NAME_MAX];
    size_t len = name_key(username, name);
    /* The entry may be gone, evicted since the check: then the failure
     * starts a new one. */
    struct account *a = account_get(t, name, len);
    uint64_t locked = 0;

    if (a && a->pending > 0)
        a->pending--;
    if (outcome == THROTTLE_SUCCESS && a) {
        a->failures = 0;
        a->locked_until_ms = 0;
    } else if (outcome == THROTTLE_FAILURE) {
        if (!a)
            a = account_add(t, name, len);
        if (a->failures < UINT32_MAX)
            a->failures++;
        a->last_failure_ms = now_ms;
        if (a->failures >= THROTTLE_FREE_FAILURES) {
            locked = lock_ms(a->failures);
            a->locked_until_ms = now_ms + locked;
        }
    }

    if (a && a->failures == 0 && a->pending == 0)
        table_del(&t->accounts, &a->e); /* nothing left to remember */
    else if (a)
        touch(&t->accounts, &a->e);
    return locked;
}

uint32_t throttle_accounts(const struct throttle *t)
{
    return t->accounts.count;
}

uint32_t throttle_addresses(const struct throttle *t)
{
    return t->addrs.count;
}
