/* hist.h - log-linear latency histogram in microseconds, < 0.8 % bucket error. */
#ifndef HIST_H
#define HIST_H

#include <stdint.h>
#include <string.h>

#define HIST_SUB 128
#define HIST_BUCKETS (HIST_SUB * 48)

struct hist {
    uint64_t n, sum_us, max_us;
    uint32_t b[HIST_BUCKETS];
};

static inline unsigned hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 7;
    unsigned idx = (unsigned)(shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static inline uint64_t hist_value(unsigned idx) /* middle of the bucket */
{
    if (idx < 2 * HIST_SUB)
        return idx;
    unsigned shift = idx / HIST_SUB - 1;
    uint64_t lo = (uint64_t)(idx % HIST_SUB + HIST_SUB) << shift;
    return lo + ((1ull << shift) >> 1);
}

static inline void hist_reset(struct hist *h)
{
    memset(h, 0, sizeof(*h));
}

static inline void hist_add(struct hist *h, uint64_t us)
{
    h->b[hist_index(us)]++;
    h->n++;
    h->sum_us += us;
    if (us > h->max_us)
        h->max_us = us;
}

static inline uint64_t hist_pct(const struct hist *h, double p)
{
    if (!h->n)
        return 0;
    uint64_t want = (uint64_t)(p * (double)h->n + 0.999999);
    if (want < 1)
        want = 1;
    uint64_t acc = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        acc += h->b[i];
        if (acc >= want) {
            uint64_t v = hist_value(i);
            return v > h->max_us ? h->max_us : v;
        }
    }
    return h->max_us;
}

#endif
