/*
 * hmap: a hash table from byte strings to pointers, keyed with SipHash-2-4
 * under a random per-process key, so peers cannot choose room names or
 * addresses that collide (hash flooding).
 *
 * Open addressing with linear probing and backward-shift deletion: no
 * tombstones, lookups stay short after many deletes.
 *
 * Keys are borrowed: the bytes must stay valid and unchanged while the
 * entry is in the table (keep them inside the value). Values are borrowed.
 *
 * Thread: the owner's only.
 */
#ifndef KAMRAT_HMAP_H
#define KAMRAT_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap;

/* Fill the process-wide SipHash key from RAND_bytes. Call once at start;
 * until then a fixed key is used (tests, tools). */
void hmap_seed(void);

/* The process key, and taking over another process's: a planned restart
 * (handover.h) carries digests made with it. Set it before any table is
 * made: what a table holds is placed by it. */
void hmap_key(uint64_t out[2]);
void hmap_set_key(const uint64_t k[2]);

/* SipHash-2-4 of data under the process key. */
uint64_t hmap_hash(const void *data, size_t len);

struct hmap *hmap_new(void);
/* Free the table, not the keys or values. hmap_free(NULL) is a no-op. */
void hmap_free(struct hmap *h);

/* The value for key, or NULL. */
void *hmap_get(const struct hmap *h, const void *key, size_t len);

/* Insert or replace. Returns the value it replaced, or NULL. */
void *hmap_put(struct hmap *h, const void *key, size_t len, void *value);

/* Remove key. Returns the removed value, or NULL when it was absent. */
void *hmap_del(struct hmap *h, const void *key, size_t len);

size_t hmap_count(const struct hmap *h);

/* Iterate: start with *pos = 0; returns the next value or NULL at the end.
 * The table must not change during an iteration. */
void *hmap_next(const struct hmap *h, size_t *pos);

#endif
