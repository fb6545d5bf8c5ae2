#include "mirror.h"

#include <ev.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "cluster.h"
#include "evloop.h"
#include "frame.h"
#include "hmap.h"
#include "klog.h"
#include "util.h"

#define REFRESH_MS (MIRROR_TTL_MS / 4) /* each live room's copy is refreshed this often */
#define KEY_MAX 32                     /* "kamrat:ring:" and 16 hex digits */
#define SEQ_HEX 16    /* an entry starts with its seq in hex: the replace script finds it */
#define TRIM_EVERY 32 /* a list holds at most history_size + TRIM_EVERY - 1 events */

/*
 * A ring entry: the seq as 16 hex digits, then audience, a, b, author
 * (4 bytes each, big-endian), the id's length (1 byte) and the id, then the
 * frame's payload.
 */
#define ENTRY_HEAD (SEQ_HEX + 16 + 1)

/* Replace the entry whose first 16 bytes are ARGV[1] with ARGV[2]: a
 * deleted message's tombstone. Lists are at most history_size long. */
static const char replace_script[] = "local v = redis.call('LRANGE', KEYS[1], 0, -1) "
                                     "for i = 1, #v do "
                                     "  if string.sub(v[i], 1, 16) == ARGV[1] then "
                                     "    redis.call('LSET', KEYS[1], i - 1, ARGV[2]) return 1 end "
                                     "end return 0";

/* Every copy is written only while this node's key exists (cluster.h): once
 * another node has declared it dead, nothing it writes lands. */
static const char push_script[] = "if redis.call('EXISTS', KEYS[2]) == 0 then "
                                  "return redis.error_reply('FENCED') end "
                                  "return redis.call('RPUSH', KEYS[1], ARGV[1])";
static const char state_script[] = "if redis.call('EXISTS', KEYS[2]) == 0 then "
                                   "return redis.error_reply('FENCED') end "
                                   "return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])";

struct live_room {
    uint64_t route;  /* the key in mirror->rooms */
    uint32_t pushes; /* events copied: the list is trimmed every TRIM_EVERY */
};

struct mirror {
    struct cluster *cl;
    struct ev_loop *ev;
    mirror_confirm_fn *confirm;
    void *confirm_arg;
    uint64_t issued, answered; /* tickets */
    bool closing;              /* mirror_close: answers still to come change nothing */
    struct hmap *rooms;        /* routes of the rooms this node keeps a copy of */
    ev_timer refresh;
    unsigned char *buf; /* an entry being put together (wiped after use) */
    size_t cap;
};

static void ring_key(char out[KEY_MAX], uint64_t route)
{
    snprintf(out, KEY_MAX, "kamrat:ring:%016" PRIx64, route);
}

static void state_key(char out[KEY_MAX], uint64_t route)
{
    snprintf(out, KEY_MAX, "kamrat:room:%016" PRIx64, route);
}

static void on_answer(redisAsyncContext *ac, void *reply, void *arg)
{
    (void)ac;
    const redisReply *r = reply; /* answered, failed or the connection went */
    struct mirror *m = arg;
    if (m->closing)
        return;
    m->answered++;
    /* A refused write (this node's key is gone) releases nothing: what waits
     * for it is dropped when the node lets its rooms go (cluster.h). Writes
     * that follow on the same connection are refused too, until then. */
    bool fenced = r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "FENCED", 6) == 0;
    if (m->confirm && !fenced)
        m->confirm(m->confirm_arg, m->answered);
}

/* Send a write whose answer someone waits for: its ticket, or 0. Redis
 * answers in order, so ticket k answered means every write before it was
 * too, tickets or not. */
static uint64_t write_cmd(struct mirror *m, int argc, const char **argv, const size_t *lens)
{
    if (cluster_command(m->cl, on_answer, m, argc, argv, lens) < 0)
        return 0;
    return ++m->issued;
}

/* Send a write nobody waits for (a failure is the connection's loss, which
 * makes every copy anew: room_mirror_resync). */
static void send_cmd(struct mirror *m, int argc, const char **argv, const size_t *lens)
{
    cluster_command(m->cl, NULL, NULL, argc, argv, lens);
}

uint64_t mirror_next_ticket(const struct mirror *m)
{
    return m->issued + 1;
}

uint64_t mirror_unanswered(const struct mirror *m)
{
    return m->issued > m->answered ? m->issued : 0;
}

/* The room's record, made on its first write (*fresh then). */
static struct live_room *remember(struct mirror *m, uint64_t route, bool *fresh)
{
    struct live_room *lr = hmap_get(m->rooms, &route, sizeof(route));
    *fresh = lr == NULL;
    if (lr)
        return lr;
    lr = xcalloc(1, sizeof(*lr));
    lr->route = route;
    hmap_put(m->rooms, &lr->route, sizeof(lr->route), lr);
    return lr;
}

static void expire(struct mirror *m, const char *key)
{
    char ttl[16];
    snprintf(ttl, sizeof(ttl), "%d", MIRROR_TTL_MS);
    const char *argv[] = {"PEXPIRE", key, ttl};
    const size_t lens[] = {7, strlen(key), strlen(ttl)};
    send_cmd(m, 3, argv, lens);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The entry for an event, in m->buf; returns its length. */
static size_t encode(struct mirror *m, uint64_t seq, const struct ring_tag *tag, const char *id,
                     const struct frame *f)
{
    size_t idlen = id ? strnlen(id, PROTO_ID_MAX) : 0;
    size_t len = ENTRY_HEAD + idlen + f->len;
    if (len > m->cap) {
        if (m->buf)
            wipe(m->buf, m->cap);
        free(m->buf);
        m->cap = len * 2;
        m->buf = xmalloc(m->cap);
    }
    unsigned char *p = m->buf;
    char hex[SEQ_HEX + 1];
    snprintf(hex, sizeof(hex), "%016" PRIx64, seq);
    memcpy(p, hex, SEQ_HEX);
    put_u32(p + SEQ_HEX, tag->audience);
    put_u32(p + SEQ_HEX + 4, tag->a);
    put_u32(p + SEQ_HEX + 8, tag->b);
    put_u32(p + SEQ_HEX + 12, tag->author);
    p[SEQ_HEX + 16] = (unsigned char)idlen;
    if (idlen)
        memcpy(p + ENTRY_HEAD, id, idlen);
    memcpy(p + ENTRY_HEAD + idlen, frame_payload((struct frame *)f), f->len);
    return len;
}

uint64_t mirror_push(struct mirror *m, uint64_t route, uint32_t cap, uint64_t seq,
                     const struct ring_tag *tag, const char *id, const struct frame *f)
{
    char key[KEY_MAX], start[24];
    ring_key(key, route);
    bool fresh;
    struct live_room *lr = remember(m, route, &fresh);
    size_t len = encode(m, seq, tag, id, f);
    const char *node = cluster_node_key(m->cl);
    const char *push[] = {"EVAL", push_script, "2", key, node, (const char *)m->buf};
    const size_t push_lens[] = {4, sizeof(push_script) - 1, 1, strlen(key), strlen(node), len};
    uint64_t ticket = write_cmd(m, 6, push, push_lens);
    wipe(m->buf, len);
    if (!ticket)
        return 0;
    /* One command per event, mostly: the TTL is set once and refreshed by
     * on_refresh, and the list trimmed now and then. */
    if (++lr->pushes % TRIM_EVERY == 0) {
        snprintf(start, sizeof(start), "-%u", cap);
        const char *trim[] = {"LTRIM", key, start, "-1"};
        const size_t trim_lens[] = {5, strlen(key), strlen(start), 2};
        send_cmd(m, 4, trim, trim_lens);
    }
    if (fresh)
        expire(m, key);
    return ticket;
}

void mirror_replace(struct mirror *m, uint64_t route, uint64_t seq, const struct ring_tag *tag,
                    const struct frame *f)
{
    char key[KEY_MAX];
    ring_key(key, route);
    size_t len = encode(m, seq, tag, NULL, f);
    const char *argv[] = {"EVAL", replace_script,       "1",
                          key,    (const char *)m->buf, (const char *)m->buf};
    const size_t lens[] = {4, strlen(replace_script), 1, strlen(key), SEQ_HEX, len};
    send_cmd(m, 6, argv, lens);
    wipe(m->buf, len);
}

void mirror_state(struct mirror *m, uint64_t route, const char *json, size_t len)
{
    char key[KEY_MAX], ttl[16];
    state_key(key, route);
    bool fresh;
    remember(m, route, &fresh);
    snprintf(ttl, sizeof(ttl), "%d", MIRROR_TTL_MS);
    const char *node = cluster_node_key(m->cl);
    const char *argv[] = {"EVAL", state_script, "2", key, node, json, ttl};
    const size_t lens[] = {4,          sizeof(state_script) - 1, 1, strlen(key), strlen(node), len,
                           strlen(ttl)};
    send_cmd(m, 7, argv, lens);
}

static void delete_copy(struct mirror *m, uint64_t route)
{
    char ring[KEY_MAX], state[KEY_MAX];
    ring_key(ring, route);
    state_key(state, route);
    const char *argv[] = {"DEL", ring, state};
    const size_t lens[] = {3, strlen(ring), strlen(state)};
    send_cmd(m, 3, argv, lens);
}

void mirror_restart(struct mirror *m, uint64_t route)
{
    delete_copy(m, route);
    /* Forget the record too: the next push sets the new list's TTL. */
    free(hmap_del(m->rooms, &route, sizeof(route)));
}

void mirror_drop(struct mirror *m, uint64_t route)
{
    delete_copy(m, route);
    free(hmap_del(m->rooms, &route, sizeof(route)));
}

/* Keep the copies of the rooms that live here from expiring. */
static void on_refresh(struct ev_loop *ev, ev_timer *w, int revents)
{
    (void)ev;
    (void)revents;
    struct mirror *m = w->data;
    size_t pos = 0;
    struct live_room *lr;
    while ((lr = hmap_next(m->rooms, &pos)) != NULL) {
        char key[KEY_MAX];
        ring_key(key, lr->route);
        expire(m, key);
        state_key(key, lr->route);
        expire(m, key);
    }
}

/* ---- reading a copy ---- */

struct fetch {
    struct mirror *m;
    mirror_fetched_fn *fn;
    void *arg;
    redisReply *state; /* the GET's answer, kept until the LRANGE's */
    bool failed;
};

/* Decode the entries of an LRANGE answer; a malformed one ends the list
 * there (what follows would not be consecutive). */
static size_t decode_all(const redisReply *list, struct mirror_entry *out)
{
    size_t n = 0;
    for (size_t i = 0; i < list->elements; i++) {
        const redisReply *e = list->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len < ENTRY_HEAD)
            break;
        const unsigned char *p = (const unsigned char *)e->str;
        char hex[SEQ_HEX + 1];
        memcpy(hex, p, SEQ_HEX);
        hex[SEQ_HEX] = '\0';
        char *end;
        unsigned long long seq = strtoull(hex, &end, 16);
        size_t idlen = p[SEQ_HEX + 16];
        if (*end || idlen > PROTO_ID_MAX || ENTRY_HEAD + idlen > (size_t)e->len)
            break;
        struct mirror_entry *me = &out[n++];
        me->seq = seq;
        me->tag = (struct ring_tag){get_u32(p + SEQ_HEX), get_u32(p + SEQ_HEX + 4),
                                    get_u32(p + SEQ_HEX + 8), get_u32(p + SEQ_HEX + 12)};
        memcpy(me->id, p + ENTRY_HEAD, idlen);
        me->id[idlen] = '\0';
        me->f = frame_from(p + ENTRY_HEAD + idlen, (size_t)e->len - ENTRY_HEAD - idlen);
    }
    return n;
}

static void on_state(redisAsyncContext *ac, void *reply, void *arg)
{
    (void)ac;
    struct fetch *fe = arg;
    redisReply *r = reply;
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
        fe->failed = true;
        return;
    }
    /* hiredis frees a reply after its callback: keep a copy of the state. */
    if (r->type == REDIS_REPLY_STRING) {
        fe->state = xcalloc(1, sizeof(*fe->state));
        fe->state->type = REDIS_REPLY_STRING;
        fe->state->len = r->len;
        fe->state->str = xstrndup(r->str, r->len);
    }
}

static void on_ring(redisAsyncContext *ac, void *reply, void *arg)
{
    (void)ac;
    struct fetch *fe = arg;
    const redisReply *r = reply;
    struct mirror_entry *events = NULL;
    size_t n = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        fe->failed = true;
    if (!fe->failed) {
        events = xcalloc(r->elements ? r->elements : 1, sizeof(*events));
        n = decode_all(r, events);
    }
    if (!fe->m->closing)
        fe->fn(fe->arg, fe->failed ? -1 : 0, fe->state ? fe->state->str : NULL,
               fe->state ? fe->state->len : 0, events, n);
    for (size_t i = 0; i < n; i++)
        frame_unref(events[i].f);
    free(events);
    if (fe->state) {
        wipe(fe->state->str, fe->state->len);
        free(fe->state->str);
        free(fe->state);
    }
    free(fe);
}

int mirror_fetch(struct mirror *m, uint64_t route, mirror_fetched_fn *fn, void *arg)
{
    char ring[KEY_MAX], state[KEY_MAX];
    ring_key(ring, route);
    state_key(state, route);
    struct fetch *fe = xcalloc(1, sizeof(*fe));
    *fe = (struct fetch){.m = m, .fn = fn, .arg = arg};
    const char *get[] = {"GET", state};
    const size_t get_lens[] = {3, strlen(state)};
    const char *range[] = {"LRANGE", ring, "0", "-1"};
    const size_t range_lens[] = {6, strlen(ring), 1, 2};
    /* Both or neither: a failure to queue means the connection is gone,
     * and then the first cannot be on its way either. */
    if (cluster_command(m->cl, on_state, fe, 2, get, get_lens) < 0) {
        free(fe);
        return -1;
    }
    if (cluster_command(m->cl, on_ring, fe, 4, range, range_lens) < 0) {
        fe->failed = true;
        on_ring(NULL, NULL, fe);
    }
    return 0;
}

/* ---- life ---- */

struct mirror *mirror_new(struct cluster *cl, struct evloop *loop, mirror_confirm_fn *fn, void *arg)
{
    struct mirror *m = xcalloc(1, sizeof(*m));
    m->cl = cl;
    m->ev = evloop_native(loop);
    m->confirm = fn;
    m->confirm_arg = arg;
    m->rooms = hmap_new();
    ev_timer_init(&m->refresh, on_refresh, REFRESH_MS / 1000., REFRESH_MS / 1000.);
    m->refresh.data = m;
    ev_timer_start(m->ev, &m->refresh);
    return m;
}

void mirror_close(struct mirror *m)
{
    if (m)
        m->closing = true;
}

void mirror_free(struct mirror *m)
{
    if (!m)
        return;
    ev_timer_stop(m->ev, &m->refresh);
    size_t pos = 0;
    struct live_room *lr;
    while ((lr = hmap_next(m->rooms, &pos)) != NULL)
        free(lr);
    hmap_free(m->rooms);
    if (m->buf)
        wipe(m->buf, m->cap);
    free(m->buf);
    free(m);
}
