/*
 * The people a room knows by their identity (README §4a "Sanctions follow
 * the person"): one record per person, holding their mute, whether a leader
 * removed them and the time of their last room message, shared by every
 * membership of theirs and kept while they are away, so that leaving and
 * saying hello again under another name changes none of it.
 *
 * The table is bounded: besides the records of people in the room (at most
 * max_room_members), it keeps at most ABSENT_MAX of people who are away.
 * Past that it forgets stale records first (nothing but a last message over
 * an hour old, or that they were counted for attendance, room.c), then the
 * oldest record of someone away, and logs it. A person forgotten that way
 * who comes back is counted again: only past ABSENT_MAX people away.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "klog.h"
#include "room_int.h"
#include "util.h"

#define ABSENT_MAX 1024
/* A last room message older than the longest slow mode (3600 s) says
 * nothing any more. */
#define POST_KEPT_MS (3600u * 1000u)

static bool recognisable(const struct identity *who)
{
    return who->invite_id || who->has_key;
}

static bool same_person(const struct identity *a, const struct identity *b)
{
    return (a->invite_id && a->invite_id == b->invite_id) ||
           (a->has_key && b->has_key && CRYPTO_memcmp(a->key_hash, b->key_hash, 32) == 0);
}

/* Does s hold anything that must outlast its members? */
static bool worth_keeping(const struct sanction *s)
{
    return s->removed || s->muted ||
           (s->last_post_ms && util_now_ms() - s->last_post_ms < POST_KEPT_MS);
}

static void sanction_free(struct sanction *s)
{
    lws_sul_cancel(&s->mute_end);
    wipe(s, sizeof(*s));
    free(s);
}

/* Take the record at index i out of the table, keeping the order (oldest
 * first), and free it. */
static void forget(struct room *r, uint32_t i)
{
    struct sanction *s = r->sanctions[i];
    memmove(r->sanctions + i, r->sanctions + i + 1,
            (r->sanction_count - i - 1) * sizeof(*r->sanctions));
    r->sanction_count--;
    sanction_free(s);
}

/* Make room for one more record of someone away: forget a stale one, or
 * else the oldest of someone away. */
static void make_room(struct room *r)
{
    uint32_t absent = 0, stale = UINT32_MAX, oldest = UINT32_MAX;
    for (uint32_t i = 0; i < r->sanction_count; i++) {
        const struct sanction *s = r->sanctions[i];
        if (s->holders)
            continue;
        absent++;
        if (oldest == UINT32_MAX)
            oldest = i;
        if (stale == UINT32_MAX && !worth_keeping(s))
            stale = i;
    }
    if (absent < ABSENT_MAX)
        return;
    if (stale == UINT32_MAX) {
        klog_warn("sanctions_full session=%llu", (unsigned long long)r->session.id);
        stale = oldest;
    }
    forget(r, stale);
}

struct sanction *room_sanction_of(struct room *r, const struct identity *who)
{
    if (recognisable(who)) {
        for (uint32_t i = 0; i < r->sanction_count; i++) {
            if (same_person(&r->sanctions[i]->who, who))
                return r->sanctions[i];
        }
    }
    struct sanction *s = xcalloc(1, sizeof(*s));
    s->room = r;
    s->who = *who;
    if (!recognisable(who))
        return s; /* nobody could tell it is them again: theirs alone */
    make_room(r);
    if (r->sanction_count == r->sanction_cap) {
        r->sanction_cap = r->sanction_cap ? r->sanction_cap * 2 : 8;
        r->sanctions = xrealloc(r->sanctions, r->sanction_cap * sizeof(*r->sanctions));
    }
    r->sanctions[r->sanction_count++] = s;
    return s;
}

void room_sanction_hold(struct sanction *s)
{
    s->holders++;
}

void room_sanction_tidy(struct sanction *s)
{
    if (s->holders)
        return;
    if (!recognisable(&s->who)) {
        sanction_free(s);
        return;
    }
    if (worth_keeping(s) || s->counted) /* counted: a return is no new person */
        return;
    struct room *r = s->room;
    for (uint32_t i = 0; i < r->sanction_count; i++) {
        if (r->sanctions[i] == s) {
            forget(r, i);
            return;
        }
    }
}

void room_sanction_release(struct sanction *s)
{
    s->holders--;
    room_sanction_tidy(s);
}

void room_sanctions_free(struct room *r)
{
    for (uint32_t i = 0; i < r->sanction_count; i++)
        sanction_free(r->sanctions[i]);
    free(r->sanctions);
    r->sanctions = NULL;
    r->sanction_count = r->sanction_cap = 0;
}
