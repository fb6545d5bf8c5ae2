#include "hmap.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "util.h"

struct slot {
    const void *key; /* NULL: empty */
    size_t len;
    uint64_t hash;
    void *value;
};

struct hmap {
    struct slot *slots;
    size_t cap; /* power of two */
    size_t count;
};

static uint64_t sip_k0 = 0x0706050403020100ull, sip_k1 = 0x0f0e0d0c0b0a0908ull;

void hmap_seed(void)
{
    uint64_t k[2];
    if (RAND_bytes((unsigned char *)k, sizeof(k)) == 1) {
        sip_k0 = k[0];
        sip_k1 = k[1];
    }
}

void hmap_key(uint64_t out[2])
{
    out[0] = sip_k0;
    out[1] = sip_k1;
}

void hmap_set_key(const uint64_t k[2])
{
    sip_k0 = k[0];
    sip_k1 = k[1];
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

uint64_t hmap_hash(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t v0 = 0x736f6d6570736575ull ^ sip_k0, v1 = 0x646f72616e646f6dull ^ sip_k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ sip_k0, v3 = 0x7465646279746573ull ^ sip_k1;
    uint64_t b = (uint64_t)len << 56, m;
    size_t i, full = len & ~(size_t)7;

    for (i = 0; i < full; i += 8) {
        memcpy(&m, p + i, 8); /* little-endian hosts only: x86-64 and arm64 */
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; i + j < len; j++)
        b |= (uint64_t)p[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

struct hmap *hmap_new(void)
{
    struct hmap *h = xcalloc(1, sizeof(*h));
    h->cap = 16;
    h->slots = xcalloc(h->cap, sizeof(*h->slots));
    return h;
}

void hmap_free(struct hmap *h)
{
    if (!h)
        return;
    free(h->slots);
    free(h);
}

static size_t find(const struct hmap *h, const void *key, size_t len, uint64_t hash)
{
    size_t mask = h->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const struct slot *s = &h->slots[i];
        if (!s->key)
            return i;
        if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
            return i;
    }
}

static void grow(struct hmap *h)
{
    struct slot *old = h->slots;
    size_t oldcap = h->cap;
    h->cap *= 2;
    h->slots = xcalloc(h->cap, sizeof(*h->slots));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key)
            h->slots[find(h, old[i].key, old[i].len, old[i].hash)] = old[i];
    }
    free(old);
}

void *hmap_get(const struct hmap *h, const void *key, size_t len)
{
    const struct slot *s = &h->slots[find(h, key, len, hmap_hash(key, len))];
    return s->key ? s->value : NULL;
}

void *hmap_put(struct hmap *h, const void *key, size_t len, void *value)
{
    if ((h->count + 1) * 4 > h->cap * 3)
        grow(h);
    uint64_t hash = hmap_hash(key, len);
    struct slot *s = &h->slots[find(h, key, len, hash)];
    void *old = s->key ? s->value : NULL;
    if (!s->key)
        h->count++;
    *s = (struct slot){.key = key, .len = len, .hash = hash, .value = value};
    return old;
}

void *hmap_del(struct hmap *h, const void *key, size_t len)
{
    size_t mask = h->cap - 1;
    size_t i = find(h, key, len, hmap_hash(key, len));
    if (!h->slots[i].key)
        return NULL;
    void *value = h->slots[i].value;
    /* Backward-shift: pull later entries of the probe run into the hole. */
    for (size_t j = (i + 1) & mask; h->slots[j].key; j = (j + 1) & mask) {
        size_t home = h->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            h->slots[i] = h->slots[j];
            i = j;
        }
    }
    h->slots[i] = (struct slot){0};
    h->count--;
    return value;
}

size_t hmap_count(const struct hmap *h)
{
    return h->count;
}

void *hmap_next(const struct hmap *h, size_t *pos)
{
    while (*pos < h->cap) {
        const struct slot *s = &h->slots[(*pos)++];
        if (s->key)
            return s->value;
    }
    return NULL;
}
