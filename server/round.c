#include "round.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The speaker is queue[0], so the view hands out the arrays as they are. */
struct round {
    enum proto_round_kind kind;
    bool exclusive;
    uint32_t *queue; /* queue[0] is the speaker while the round runs */
    size_t queue_len;
    uint32_t *done, *passed; /* in the order their turns ended */
    size_t done_len, passed_len;
};

struct round *round_new(enum proto_round_kind kind, const uint32_t *order, size_t n, bool exclusive)
{
    assert(n >= 1);
    struct round *r = xcalloc(1, sizeof(*r));
    r->kind = kind;
    r->exclusive = exclusive;
    r->queue = xmalloc(n * sizeof(*r->queue));
    memcpy(r->queue, order, n * sizeof(*order));
    r->queue_len = n;
    return r;
}

static uint32_t *copy_ids(const uint32_t *ids, size_t n)
{
    if (!n)
        return NULL;
    uint32_t *out = xmalloc(n * sizeof(*out));
    memcpy(out, ids, n * sizeof(*out));
    return out;
}

struct round *round_from_view(const struct proto_round *v)
{
    struct round *r = xcalloc(1, sizeof(*r));
    r->kind = v->kind;
    r->exclusive = v->exclusive;
    r->queue_len = (v->speaker ? 1 : 0) + v->queue_len;
    r->queue = xmalloc((r->queue_len ? r->queue_len : 1) * sizeof(*r->queue));
    if (v->speaker)
        r->queue[0] = v->speaker;
    if (v->queue_len)
        memcpy(r->queue + (v->speaker ? 1 : 0), v->queue, v->queue_len * sizeof(*v->queue));
    r->done = copy_ids(v->done, v->done_len);
    r->done_len = v->done_len;
    r->passed = copy_ids(v->passed, v->passed_len);
    r->passed_len = v->passed_len;
    return r;
}

void round_free(struct round *r)
{
    if (!r)
        return;
    free(r->queue);
    free(r->done);
    free(r->passed);
    free(r);
}

uint32_t round_speaker(const struct round *r)
{
    return r->queue_len ? r->queue[0] : 0;
}

bool round_exclusive(const struct round *r)
{
    return r->exclusive;
}

/* Reorders can bring in members the round did not start with, so a history
 * list grows one turn at a time (a round is at most a few hundred turns). */
static void history_add(uint32_t **list, size_t *len, uint32_t member)
{
    *list = xrealloc(*list, (*len + 1) * sizeof(**list));
    (*list)[(*len)++] = member;
}

void round_advance(struct round *r, bool done)
{
    if (r->queue_len == 0)
        return;
    uint32_t speaker = r->queue[0];
    if (done)
        history_add(&r->done, &r->done_len, speaker);
    else
        history_add(&r->passed, &r->passed_len, speaker);
    memmove(r->queue, r->queue + 1, --r->queue_len * sizeof(*r->queue));
}

void round_reorder(struct round *r, const uint32_t *order, size_t n)
{
    /* The speaker stays; the + 1 keeps the allocation from being 0 bytes. */
    size_t keep = r->queue_len ? 1 : 0;
    r->queue = xrealloc(r->queue, (keep + n + 1) * sizeof(*r->queue));
    if (n)
        memcpy(r->queue + keep, order, n * sizeof(*order));
    r->queue_len = keep + n;
}

bool round_drop(struct round *r, uint32_t member)
{
    if (round_speaker(r) == member) {
        round_advance(r, false);
        return true;
    }
    for (size_t i = 1; i < r->queue_len; i++) {
        if (r->queue[i] == member) {
            memmove(r->queue + i, r->queue + i + 1, (r->queue_len - i - 1) * sizeof(*r->queue));
            r->queue_len--;
            return true;
        }
    }
    return false;
}

bool round_queued(const struct round *r, uint32_t member)
{
    for (size_t i = 1; i < r->queue_len; i++) {
        if (r->queue[i] == member)
            return true;
    }
    return false;
}

void round_view(const struct round *r, struct proto_round *out)
{
    *out = (struct proto_round){
        .kind = r->kind,
        .speaker = round_speaker(r),
        .queue = r->queue_len > 1 ? r->queue + 1 : NULL,
        .queue_len = r->queue_len > 1 ? r->queue_len - 1 : 0,
        .done = r->done,
        .done_len = r->done_len,
        .passed = r->passed,
        .passed_len = r->passed_len,
        .exclusive = r->exclusive,
    };
}
