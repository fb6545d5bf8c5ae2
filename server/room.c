#include "room.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cluster.h"
#include "conn.h"
#include "gate.h"
#include "hmap.h"
#include "klog.h"
#include "metrics.h"
#include "mirror.h"
#include "moderation.h"
#include "ring.h"
#include "room_int.h"
#include "round.h"
#include "store.h"
#include "util.h"

static const struct ring_tag to_room = {.audience = AUD_ROOM};

struct rooms *room_registry_new(const struct config *cfg, struct lws_context *ctx, uint64_t epoch,
                                struct gate *gate)
{
    struct rooms *rs = xcalloc(1, sizeof(*rs));
    rs->lim = &cfg->limits;
    rs->minute_seconds = cfg->minute_seconds;
    rs->gate = gate;
    rs->ctx = ctx;
    rs->epoch = epoch;
    rs->by_name = hmap_new();
    rs->by_token = hmap_new();
    rs->by_route = hmap_new();
    return rs;
}

void room_set_mirror(struct rooms *rs, struct mirror *mirror, const char *node_id)
{
    rs->mirror = mirror;
    rs->node_id = node_id;
}

bool room_has_route(const struct rooms *rs, uint64_t route)
{
    return hmap_get(rs->by_route, &route, sizeof(route)) != NULL;
}

size_t room_count(const struct rooms *rs)
{
    return hmap_count(rs->by_name);
}

int room_waiting(const struct rooms *rs, uint64_t session_id)
{
    char key[GATE_KEY_MAX + 1];
    int n = snprintf(key, sizeof(key), "#%llu", (unsigned long long)session_id);
    const struct room *r = hmap_get(rs->by_name, key, (size_t)n);
    if (!r)
        return -1;
    int waiting = 0;
    for (uint32_t i = 0; i < r->count; i++)
        waiting += r->members[i]->in_lobby;
    return waiting;
}

size_t room_member_total(const struct rooms *rs)
{
    return hmap_count(rs->by_token); /* every member has its token */
}

/* ---- rooms and members ---- */

static void session_over(lws_sorted_usec_list_t *sul);

/* A new room for the ticket; a session room takes over the ticket's session
 * facts and closes session_grace seconds after the session's end. */
struct room *room_alloc(struct rooms *rs, const char *key)
{
    struct room *r = xcalloc(1, sizeof(*r));
    r->rs = rs;
    snprintf(r->key, sizeof(r->key), "%s", key);
    r->route = cluster_route(r->key);
    r->epoch = rs->epoch;
    r->ring = ring_new(rs->lim->history_size);
    hmap_put(rs->by_name, r->key, strlen(r->key), r);
    hmap_put(rs->by_route, &r->route, sizeof(r->route), r);
    return r;
}

static struct room *room_new(struct rooms *rs, struct gate_ticket *t)
{
    struct room *r = room_alloc(rs, t->key);
    snprintf(r->private_messages, sizeof(r->private_messages), "%s",
             t->private_messages[0] ? t->private_messages : "leaders");
    if (t->session.id) {
        /* Opened before a restart: the room that was lost had opened, but
         * who was removed and who waited went with it. Those it had
         * admitted come back in; anyone else waits for a leader. */
        r->restored = t->opened;
        r->locked = t->opened;
        r->state = t->opened ? PROTO_STATE_OPEN : PROTO_STATE_LOBBY;
        r->session = t->session;
        memset(&t->session, 0, sizeof(t->session)); /* the room owns the strings now */
        r->group_id = t->group_id;
        r->max_participants = t->max_participants;
        r->whole_history = t->whole_history;
        snprintf(r->label, sizeof(r->label), "s%llu", (unsigned long long)r->session.id);
        int64_t left = t->ends_at + rs->lim->session_grace - gate_now(rs->gate);
        lws_sul_schedule(rs->ctx, 0, &r->end_timer, session_over,
                         (lws_usec_t)(left > 0 ? left : 0) * LWS_US_PER_SEC);
    } else {
        r->state = PROTO_STATE_OPEN;
        r->max_participants = UINT32_MAX;
        strcpy(r->label, t->key);
    }
    room_mirror_dirty(r);
    klog_debug("room_open rooms=%zu session=%llu", hmap_count(rs->by_name),
               (unsigned long long)r->session.id);
    return r;
}

static void room_free(struct rooms *rs, struct room *r)
{
    assert(r->count == 0);
    hmap_del(rs->by_name, r->key, strlen(r->key));
    hmap_del(rs->by_route, &r->route, sizeof(r->route));
    for (size_t i = 0; i < rs->ndirty; i++)
        if (rs->dirty[i] == r)
            rs->dirty[i] = rs->dirty[--rs->ndirty];
    if (rs->mirror && !rs->closing)
        mirror_drop(rs->mirror, r->route); /* the session is over: no copy outlives it */
    lws_sul_cancel(&r->end_timer);
    lws_sul_cancel(&r->attendance_timer);
    ring_free(r->ring); /* wipes every held event */
    free((char *)r->session.group);
    free((char *)r->session.language);
    free((char *)r->session.description);
    free((char *)r->session.agreement);
    free(r->members);
    if (r->topic)
        wipe(r->topic, strlen(r->topic));
    free(r->topic);
    round_free(r->round);
    free(r->hands);
    room_sanctions_free(r);
    free(r);
    klog_debug("room_end rooms=%zu", hmap_count(rs->by_name));
}

static void member_free(struct member *m)
{
    room_sanction_release(m->s);
    wipe(m->name, strlen(m->name));
    free(m->name);
    names_key_clear(&m->name_key);
    wipe(m, sizeof(*m));
    free(m);
}

bool room_hears(const struct member *m, const struct ring_tag *tag)
{
    switch (tag->audience) {
    case AUD_ROOM:
        return !m->in_lobby;
    case AUD_LEADERS:
        return is_leader(m);
    case AUD_PRIVATE:
        return m->id == tag->a || is_leader(m);
    case AUD_DIRECT:
        return m->id == tag->a || m->id == tag->b;
    case AUD_ONE:
        return m->id == tag->a;
    default:
        return false;
    }
}

uint64_t room_emit(struct room *r, struct ring_tag tag, struct frame *f)
{
    uint64_t seq = ++r->seq;
    uint64_t ticket = 0;
    ring_push(r->ring, seq, f, tag);
    if (r->rs->mirror) {
        ticket = mirror_push(r->rs->mirror, r->route, r->rs->lim->history_size, seq, &tag,
                             r->rs->say_id, f);
        r->rs->pushed_ticket = ticket;
        if (!tag.author)
            room_mirror_dirty(r); /* presence, moderation: the state changed */
    }
    /* Nobody, the home's own members included, is shown an event before
     * Redis has its copy: a member must never hold an event that a takeover
     * from the copy would not know (protocol §8). */
    uint64_t sent = 0;
    for (uint32_t i = 0; i < r->count; i++) {
        struct member *m = r->members[i];
        if (m->conn && room_hears(m, &tag)) {
            if (ticket)
                conn_hold(m->conn, f, ticket);
            else
                conn_send(m->conn, f);
            sent++;
        }
    }
    metrics_add(METRIC_DELIVERIES, sent);
    frame_unref(f);
    return seq;
}

uint64_t room_emit_presence(struct member *m, bool joined, const char *reason)
{
    struct room *r = m->room;
    return room_emit(r, to_room,
                     proto_encode_presence(room_next_seq(r), m->id, m->name, m->role, joined,
                                           reason, util_wall_ms()));
}

struct member *room_member(const struct room *r, uint64_t id)
{
    for (uint32_t i = 0; i < r->count; i++) {
        if (r->members[i]->id == id)
            return r->members[i];
    }
    return NULL;
}

void room_actor(const struct member *m, char *out, size_t len)
{
    if (m->role == PROTO_ROLE_LEADER)
        snprintf(out, len, "leader:%s", m->name);
    else
        snprintf(out, len, "co_leader:m%u", m->id);
}

/* Take m out of its room's tables, keeping the room. */
static void member_unlink(struct rooms *rs, struct member *m)
{
    struct room *r = m->room;
    lws_sul_cancel(&m->grace);
    if (m->conn)
        conn_set_member(m->conn, NULL);

    /* Swap-remove keeps the member array dense: O(1). */
    uint32_t last = --r->count;
    r->members[m->index] = r->members[last];
    r->members[m->index]->index = m->index;
    r->members[last] = NULL;
    hmap_del(rs->by_token, m->token_hash, sizeof(m->token_hash));
    if (m->role == PROTO_ROLE_PARTICIPANT)
        r->participants--;
    if (m->present)
        r->present--;
}

uint64_t room_member_remove(struct member *m, const char *reason)
{
    struct room *r = m->room;
    struct rooms *rs = m->rs;
    bool waited = m->in_lobby, leader = is_leader(m);
    if (!waited)
        moderation_drop_turns(m);
    member_unlink(rs, m);
    /* Even the last member's departure is an event: its seq acks the leave.
     * Someone who only waited in the lobby was never seen. */
    uint64_t seq = waited ? 0 : room_emit_presence(m, false, reason);
    member_free(m);
    if (waited)
        room_lobby_changed(r);
    if (leader)
        room_check_leaders(r);
    /* A session's room lives until the session ends, however empty it gets. */
    if (r->count == 0 && r->session.id == 0)
        room_free(rs, r);
    return seq;
}

struct room *room_of_session(struct rooms *rs, uint64_t session_id)
{
    char key[GATE_KEY_MAX + 1];
    int n = snprintf(key, sizeof(key), "#%llu", (unsigned long long)session_id);
    return hmap_get(rs->by_name, key, (size_t)n);
}

/* ---- attendance (docs/admin.md "Attendance") ---- */

/* The room's counts to the store, through the worker; ended_at 0 while it
 * runs. */
static void attendance_write(struct room *r, int64_t ended_at)
{
    struct store_attendance a = {
        .ended_at = ended_at,
        .admitted = (int)r->admitted_count,
        .peak = (int)r->peak,
        .leaders = (int)r->leaders_count,
    };
    gate_attendance(r->rs->gate, r->session.id, &a);
}

static void attendance_due(lws_sorted_usec_list_t *sul)
{
    struct room *r = lws_container_of(sul, struct room, attendance_timer);
    r->attendance_due = false;
    if (r->state == PROTO_STATE_OPEN) /* a session not opened was not held: nothing to write */
        attendance_write(r, 0);
}

void room_attendance_grew(struct room *r)
{
    room_mirror_dirty(r);
    if (!r->session.id || r->attendance_due)
        return;
    r->attendance_due = true;
    lws_sul_schedule(r->rs->ctx, 0, &r->attendance_timer, attendance_due,
                     (lws_usec_t)ATTENDANCE_WRITE_S * LWS_US_PER_SEC);
}

/* A participant came into the room: counted once per person (their
 * sanction record, which knows them by personal invite or participant
 * key: README §4a), however often they reconnect, leave or are sent to the
 * lobby and let in again; someone who brings neither is counted each time
 * they are let in after a new hello. */
static void attendance_in(struct member *m)
{
    struct room *r = m->room;
    if (m->role != PROTO_ROLE_PARTICIPANT || m->present)
        return;
    m->present = true;
    r->present++;
    bool grew = false;
    if (!m->s->counted) {
        m->s->counted = true;
        r->admitted_count++;
        grew = true;
    }
    if (r->present > r->peak) {
        r->peak = r->present;
        grew = true;
    }
    if (grew)
        room_attendance_grew(r);
}

/* A leader took a seat: counted once per account (by username). */
static void attendance_leader(struct room *r, const char *username)
{
    uint64_t mark = cluster_route(username);
    int64_t known = r->leaders_count < ROOM_LEADER_MARKS ? r->leaders_count : ROOM_LEADER_MARKS;
    for (int64_t i = 0; i < known; i++)
        if (r->leader_marks[i] == mark)
            return;
    if (r->leaders_count < ROOM_LEADER_MARKS)
        r->leader_marks[r->leaders_count] = mark;
    r->leaders_count++;
    room_attendance_grew(r);
}

/* A session a store request is about: the room is looked up again when the
 * answer comes, since it may be gone by then. */
struct session_ref {
    struct rooms *rs;
    uint64_t session_id;
};

/* The store has (ok) the early end of a session: its ended room can go. */
static void session_stored(void *arg, bool ok)
{
    struct session_ref *ref = arg;
    struct room *r = room_of_session(ref->rs, ref->session_id);
    if (ok && r && r->state == PROTO_STATE_ENDED && r->count == 0)
        room_free(ref->rs, r);
    free(ref);
}

void room_end(struct room *r, const char *actor, bool early)
{
    struct rooms *rs = r->rs;
    if (r->session.id && r->state == PROTO_STATE_OPEN)
        attendance_write(r, gate_now(rs->gate)); /* held: its end and final counts */
    lws_sul_cancel(&r->attendance_timer);
    r->attendance_due = false;
    uint64_t seq = ++r->seq;
    struct frame *f = proto_encode_state(seq, PROTO_STATE_ENDED, util_wall_ms());
    while (r->count > 0) {
        struct member *m = r->members[r->count - 1];
        if (m->conn) {
            conn_send(m->conn, f);
            conn_close(m->conn, PROTO_CLOSE_SESSION_ENDED, "session ended");
        }
        member_unlink(rs, m);
        member_free(m);
    }
    frame_unref(f);
    klog_info("session_end session=%llu", (unsigned long long)r->session.id);
    if (r->session.id)
        gate_session_over(rs->gate, r->session.id); /* whom it admitted goes from the store */
    if (!early) {
        gate_audit(rs->gate, r->group_id, r->session.id, "session_end", actor, NULL);
        room_free(rs, r);
        return;
    }
    /* Until the store has the end (on its worker), and for good when it
     * cannot take it (a full disk), the empty room stays, ended, so nobody
     * comes back into it; session_over frees it at its scheduled end. Its
     * history goes now. */
    r->state = PROTO_STATE_ENDED;
    ring_free(r->ring);
    r->ring = ring_new(rs->lim->history_size);
    struct session_ref *ref = xmalloc(sizeof(*ref));
    *ref = (struct session_ref){rs, r->session.id};
    if (gate_end_session(rs->gate, r->session.id, actor, session_stored, ref) < 0)
        free(ref);
}

static void session_over(lws_sorted_usec_list_t *sul)
{
    struct room *r = lws_container_of(sul, struct room, end_timer);
    if (r->state == PROTO_STATE_ENDED)
        room_free(r->rs, r);
    else
        room_end(r, "kamratd", false);
}

static void grace_expired(lws_sorted_usec_list_t *sul)
{
    struct member *m = lws_container_of(sul, struct member, grace);
    klog_debug("member_expired member=%u", m->id);
    room_member_remove(m, "lost");
}

/* Let r go from this node without a word to the room, keeping its copy in
 * Redis for the node that takes it (members' connections: closed with
 * code, or none). */
static void room_forget(struct room *r, enum proto_close code, const char *why)
{
    struct rooms *rs = r->rs;
    while (r->count > 0) {
        struct member *m = r->members[r->count - 1];
        if (m->conn)
            conn_close(m->conn, code, why);
        member_unlink(rs, m);
        member_free(m);
    }
    bool closing = rs->closing;
    rs->closing = true; /* room_free keeps the copy */
    room_free(rs, r);
    rs->closing = closing;
}

void room_hand_off(struct room *r)
{
    room_mirror_release(r);
    klog_info("room_handed_off members=%u seq=%llu", r->count, (unsigned long long)r->seq);
    room_forget(r, PROTO_CLOSE_GOING_AWAY, "room moved"); /* they resume on its new home */
}

void room_let_go_all(struct rooms *rs, enum proto_close code, const char *why)
{
    size_t pos = 0;
    struct room *r;
    while ((r = hmap_next(rs->by_name, &pos)) != NULL) {
        room_forget(r, code, why);
        pos = 0; /* forgetting edits the table */
    }
}

void room_adopted(struct room *r, bool ok, bool check_leaders)
{
    struct rooms *rs = r->rs;
    if (!ok) {
        room_forget(r, PROTO_CLOSE_GOING_AWAY, "room moved"); /* the next try may read it better */
        return;
    }
    if (r->session.id) {
        int64_t left =
            (int64_t)(r->session.ends_at / 1000) + rs->lim->session_grace - gate_now(rs->gate);
        lws_sul_schedule(rs->ctx, 0, &r->end_timer, session_over,
                         (lws_usec_t)(left > 0 ? left : 0) * LWS_US_PER_SEC);
    }
    room_mirror_dirty(r); /* the copy names this node from now on */
    if (check_leaders)
        room_check_leaders(r);
    /* Who is in the room now is not copied; who was counted is. */
    for (uint32_t i = 0; i < r->count; i++) {
        struct member *m = r->members[i];
        m->present = m->role != PROTO_ROLE_LEADER && !m->in_lobby;
        r->present += m->present;
    }
    room_attendance_grew(r);
}

void room_member_detached(struct member *m)
{
    m->conn = NULL;
    lws_sul_schedule(m->rs->ctx, 0, &m->grace, grace_expired,
                     (lws_usec_t)m->rs->lim->resume_grace * LWS_US_PER_SEC);
}

void room_conn_lost(struct rooms *rs, struct member *m)
{
    m->conn = NULL;
    moderation_alert(m, ALERT_DISCONNECTED, 0);
    if (rs->lim->resume_grace == 0) {
        room_member_remove(m, "lost");
        return;
    }
    if (is_leader(m))
        room_check_leaders(m->room);
    lws_sul_schedule(rs->ctx, 0, &m->grace, grace_expired,
                     (lws_usec_t)rs->lim->resume_grace * LWS_US_PER_SEC);
}

/* ---- what leaders see of the room ---- */

/* Fill out (room for r->count) with who waits in the lobby. */
static size_t waiting_list(const struct room *r, struct proto_waiting *out)
{
    size_t n = 0;
    for (uint32_t i = 0; i < r->count; i++) {
        const struct member *w = r->members[i];
        if (w->in_lobby)
            out[n++] = (struct proto_waiting){w->id, w->name, w->knocked, w->agreed};
    }
    return n;
}

void room_lobby_changed(struct room *r)
{
    if (!r->session.id)
        return; /* the testing mode has no lobby */
    struct proto_waiting *w = xmalloc((r->count ? r->count : 1) * sizeof(*w));
    size_t n = waiting_list(r, w);
    room_emit(r, (struct ring_tag){.audience = AUD_LEADERS},
              proto_encode_lobby(room_next_seq(r), w, n, util_wall_ms()));
    free(w);
}

static struct proto_room_flags room_flags(const struct room *r)
{
    return (struct proto_room_flags){r->locked, r->paused, r->read_only, r->slow_mode, r->topic};
}

uint64_t room_announce_flags(struct room *r, uint32_t by)
{
    struct proto_room_flags fl = room_flags(r);
    return room_emit(r, to_room, proto_encode_room(room_next_seq(r), &fl, by, util_wall_ms()));
}

void room_check_leaders(struct room *r)
{
    if (!r->session.id || r->state != PROTO_STATE_OPEN)
        return;
    bool present = false;
    for (uint32_t i = 0; i < r->count && !present; i++)
        present = is_leader(r->members[i]) && r->members[i]->conn;
    if (r->read_only == !present)
        return;
    r->read_only = !present;
    klog_info("room_read_only session=%llu on=%d", (unsigned long long)r->session.id, r->read_only);
    room_announce_flags(r, 0);
}

/* ---- tokens ---- */

static void sha256(const void *data, size_t len, unsigned char out[TOKEN_BYTES])
{
    unsigned int n = TOKEN_BYTES;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define ROUTE_BYTES 8 /* a token's first bytes: its room's route (cluster_route) */

/* A new resume token in base64url (43 chars) and its digest: the route of
 * the room with this key, so any node can tell where the room lives, then
 * 24 random bytes, the secret. */
static int token_new(const char *room_key, char out[PROTO_TOKEN_LEN + 1],
                     unsigned char hash[TOKEN_BYTES])
{
    unsigned char raw[TOKEN_BYTES + 1] = {0};
    if (RAND_bytes(raw + ROUTE_BYTES, TOKEN_BYTES - ROUTE_BYTES) != 1)
        return -1;
    uint64_t route = cluster_route(room_key);
    for (int i = 0; i < ROUTE_BYTES; i++)
        raw[i] = (unsigned char)(route >> (56 - 8 * i));
    for (int i = 0, o = 0; i < TOKEN_BYTES; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
                     (i + 2 < TOKEN_BYTES ? raw[i + 2] : 0);
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (o < PROTO_TOKEN_LEN)
            out[o++] = b64[(v >> 6) & 63];
        if (o < PROTO_TOKEN_LEN)
            out[o++] = b64[v & 63];
    }
    out[PROTO_TOKEN_LEN] = '\0';
    sha256(out, PROTO_TOKEN_LEN, hash);
    wipe(raw, sizeof(raw));
    return 0;
}

uint64_t room_token_route(const char *token)
{
    /* 64 bits: ten characters of six bits, and the top four of the 11th. */
    uint64_t v = 0;
    for (int i = 0; i < 11; i++) {
        const char *p = memchr(b64, token[i], 64);
        uint64_t six = p ? (uint64_t)(p - b64) : 0;
        v = i < 10 ? v << 6 | six : v << 4 | six >> 2;
    }
    return v;
}

/* ---- replies ---- */

/* Send f (taking its reference) to c once Redis has every event written so
 * far: a welcome or a repeated ack names the room's seq, and a member must
 * not learn of an event that a takeover from the copy would not know. */
static void send_copied(struct rooms *rs, struct conn *c, struct frame *f)
{
    uint64_t ticket = rs->mirror ? mirror_unanswered(rs->mirror) : 0;
    if (ticket)
        conn_hold(c, f, ticket);
    else
        conn_send(c, f);
    frame_unref(f);
}

void room_send_welcome(struct member *m, const char *ref, const char *token, bool resumed, bool gap)
{
    struct room *r = m->room;
    struct rooms *rs = m->rs;
    bool in = !m->in_lobby; /* the lobby sees nothing of the room */
    struct proto_member *list = xmalloc(r->count * sizeof(*list));
    struct proto_waiting *waiting = xmalloc(r->count * sizeof(*waiting));
    size_t n = 0, nw = is_leader(m) ? waiting_list(r, waiting) : 0;
    for (uint32_t i = 0; i < r->count && in; i++) {
        const struct member *o = r->members[i];
        if (!o->in_lobby)
            list[n++] = (struct proto_member){o->id, o->name, o->role, o->s->muted};
    }
    struct proto_round round;
    if (in && r->round)
        round_view(r->round, &round);
    struct proto_limits pl = {rs->lim->max_message_bytes, rs->lim->max_text_chars,
                              rs->lim->max_name_chars};
    struct proto_welcome w = {
        .ref = ref,
        .epoch = r->epoch,
        .token = token,
        .member = m->id,
        .name = m->name,
        .role = m->role,
        .room = r->label,
        .seq = r->seq,
        .members = list,
        .member_count = n,
        .show_muted = is_leader(m),
        .flags = in ? room_flags(r) : (struct proto_room_flags){0},
        .state = in ? r->state : PROTO_STATE_LOBBY,
        .session = r->session.id ? &r->session : NULL,
        .agreed = m->agreed,
        .resumed = resumed,
        .gap = gap,
        .limits = &pl,
        .rate_per_sec = rs->lim->rate_per_sec,
        .rate_burst = rs->lim->rate_burst,
        .round = in && r->round ? &round : NULL,
        .hands = r->hands,
        .hand_count = in ? r->hand_count : 0,
        .muted = m->s->muted,
        .muted_until = m->s->muted_until,
        .waiting = waiting,
        .waiting_count = nw,
        .private_messages = r->private_messages,
        .crisis_json = gate_crisis_json(rs->gate),
    };
    send_copied(rs, m->conn, proto_encode_welcome(&w));
    free(list);
    free(waiting);
}

void room_send_ack(struct conn *c, const char *ref, uint64_t seq, bool duplicate)
{
    struct member *m = conn_member(c);
    struct frame *f = proto_encode_ack(ref, seq, duplicate);
    if (m)
        send_copied(m->rs, c, frame_ref(f));
    else
        conn_send(c, f);
    frame_unref(f);
}

static const char *ref_of(const struct proto_cmd *cmd)
{
    return cmd->id[0] ? cmd->id : NULL;
}

/* ---- entering ---- */

/* m has just come into the open room (its welcome is queued): in a group
 * whose history setting is whole_session, it reads the session so far, as
 * far as the ring still holds it and as far as it was addressed to it,
 * before its own presence. */
static void share_history(struct room *r, struct member *m)
{
    if (!r->whole_history || m->in_lobby || !m->conn)
        return;
    m->joined_seq = 0; /* a resume may replay from the start too */
    for (uint64_t s = r->seq - ring_count(r->ring) + 1; s <= r->seq && m->conn; s++) {
        struct ring_tag tag;
        struct frame *f = ring_get(r->ring, s, &tag);
        if (f && room_hears(m, &tag))
            conn_send(m->conn, f);
    }
}

void room_remember(struct member *m, bool admitted)
{
    if (!m->room->session.id)
        return;
    if (m->role == PROTO_ROLE_PARTICIPANT && m->who.has_key)
        gate_admitted(m->rs->gate, m->room->session.id, m->who.key_hash, admitted);
    if (admitted) {
        attendance_in(m);
    } else if (m->present) {
        m->present = false;
        m->room->present--;
    }
}

uint64_t room_admit(struct member *w)
{
    struct room *r = w->room;
    room_remember(w, true);
    w->in_lobby = false;
    w->knocked = false;
    w->joined_seq = r->seq;
    if (w->conn)
        room_send_welcome(w, NULL, NULL, false, false);
    share_history(r, w);
    return room_emit_presence(w, true, NULL);
}

/* Why the room (NULL: not made yet) cannot take this ticket's holder, or
 * PROTO_OK. Leaders are never turned away: the room must not lock its
 * moderators out. */
static enum proto_err room_admits(struct rooms *rs, const struct room *r,
                                  const struct gate_ticket *t)
{
    if (t->role == PROTO_ROLE_LEADER)
        return PROTO_OK;
    if (r && (r->count >= rs->lim->max_room_members || r->participants >= r->max_participants))
        return PROTO_E_ROOM_FULL;
    /* Nobody may look like a member, nor like a leader of the group, here
     * or not (README §4, "Names that look the same"). */
    for (uint32_t i = 0; r && i < r->count; i++) {
        if (names_same(&r->members[i]->name_key, &t->name_key))
            return PROTO_E_NAME_TAKEN;
    }
    for (size_t i = 0; i < t->leader_count; i++) {
        if (names_same(&t->leader_keys[i], &t->name_key))
            return PROTO_E_NAME_TAKEN;
    }
    return PROTO_OK;
}

/* The leader of this login is a member already (a dropped connection,
 * another device): it takes that membership over with a new resume token,
 * and the room sees no change. */
static struct member *leader_member(const struct room *r, const struct gate_ticket *t)
{
    for (uint32_t i = 0; r && t->role == PROTO_ROLE_LEADER && i < r->count; i++) {
        struct member *m = r->members[i];
        /* Usernames come from the store as they are: the same login's
         * seat, never a look-alike leader's. */
        if (m->role == PROTO_ROLE_LEADER && strcmp(m->name, t->name) == 0)
            return m;
    }
    return NULL;
}

static void attach(struct member *m, struct conn *c)
{
    if (m->conn && m->conn != c) {
        /* A half-dead earlier connection: the newest one wins. */
        conn_set_member(m->conn, NULL);
        conn_close(m->conn, PROTO_CLOSE_REPLACED, "replaced");
    }
    lws_sul_cancel(&m->grace);
    m->conn = c;
    conn_set_member(c, m);
}

static void leader_take_over(struct rooms *rs, struct conn *c, struct member *m,
                             const struct gate_ticket *t, const char *ref)
{
    char token[PROTO_TOKEN_LEN + 1];
    unsigned char hash[TOKEN_BYTES];
    if (token_new(m->room->key, token, hash) < 0) {
        conn_send_error(c, PROTO_E_INTERNAL, ref, NULL);
        return;
    }
    room_mirror_dirty(m->room);
    m->login_gen = t->login_gen; /* the seat lasts as long as this login's leadership */
    hmap_del(rs->by_token, m->token_hash, sizeof(m->token_hash));
    memcpy(m->token_hash, hash, sizeof(hash));
    hmap_put(rs->by_token, m->token_hash, sizeof(m->token_hash), m);
    attach(m, c);
    room_send_welcome(m, ref, token, false, false);
    wipe(token, sizeof(token));
    room_check_leaders(m->room);
    klog_debug("leader_take_over member=%u", m->id);
}

struct member *room_member_alloc(struct room *r)
{
    struct member *m = xcalloc(1, sizeof(*m));
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->members = xrealloc(r->members, r->cap * sizeof(*r->members));
    }
    m->rs = r->rs;
    m->room = r;
    m->tokens = r->rs->lim->rate_burst;
    m->tokens_ms = util_now_ms();
    m->index = r->count;
    r->members[r->count++] = m;
    return m;
}

static struct member *member_new(struct rooms *rs, struct room *r, struct gate_ticket *t)
{
    struct member *m = room_member_alloc(r);
    m->id = ++r->next_member_id;
    m->role = t->role;
    m->who = (struct identity){.invite_id = t->personal_invite, .has_key = t->has_key};
    memcpy(m->who.key_hash, t->key_hash, sizeof(m->who.key_hash));
    m->s = room_sanction_of(r, &m->who); /* a mute or a removal of theirs still holds */
    room_sanction_hold(m->s);
    if (m->role == PROTO_ROLE_PARTICIPANT) {
        m->knocked = m->s->removed;
        bool passes = r->restored && t->admitted && !m->knocked;
        m->in_lobby = r->state == PROTO_STATE_LOBBY || (r->locked && !passes) || m->knocked;
        r->participants++;
    }
    m->agreed = m->role == PROTO_ROLE_LEADER || r->session.id == 0;
    m->name = t->name; /* the member owns the name and its keys now */
    m->name_key = t->name_key;
    t->name = NULL;
    t->name_key = (struct names_key){0};
    m->login_gen = t->login_gen;
    m->joined_seq = r->seq;
    if (m->role == PROTO_ROLE_LEADER && r->session.id)
        attendance_leader(r, m->name);
    return m;
}

/* A hello waiting for the store worker (gate_check_async, then
 * gate_redeem_async for a personal invite). Its connection holds it
 * (conn_wait) and abandons it if it closes first (hello_abandon):
 * the hello never keeps a connection pointer that outlives the connection. */
struct room_hello {
    struct rooms *rs;
    struct conn *c;
    char ref[PROTO_ID_MAX + 1]; /* "" when the hello had no id */
    bool waiting;               /* conn_wait was called */
    struct gate_ticket t;       /* between the check and the redemption */
    struct proto_error_detail d;
    struct gate_pending *pending; /* the request the worker runs now, or NULL */
};

/* Why the room of t cannot take its holder now, or PROTO_OK. */
static enum proto_err room_refuses(struct rooms *rs, const struct gate_ticket *t)
{
    struct room *r = hmap_get(rs->by_name, t->key, strlen(t->key));
    if (r && r->state == PROTO_STATE_ENDED)
        return PROTO_E_NO_SESSION; /* ended early, and the store could not be told */
    return room_admits(rs, r, t);
}

static void hello_abandon(void *arg);

/* The hello has its answer: free it, then let the connection go on with
 * what it sent meanwhile (which may be another hello). */
static void hello_end(struct room_hello *h)
{
    struct conn *c = h->c;
    bool waiting = h->waiting;
    gate_ticket_clear(&h->t);
    free(h);
    if (waiting)
        conn_wait_done(c, NULL, 0);
}

/* The last step: answer e, or make the member. */
static void hello_enter(struct room_hello *h, enum proto_err e)
{
    struct rooms *rs = h->rs;
    struct conn *c = h->c;
    const char *ref = h->ref[0] ? h->ref : NULL;
    char token[PROTO_TOKEN_LEN + 1];
    unsigned char hash[TOKEN_BYTES];
    if (!e && token_new(h->t.key, token, hash) < 0)
        e = PROTO_E_INTERNAL;
    if (e) {
        conn_send_error(c, e, ref, &h->d);
        hello_end(h);
        return;
    }
    struct room *r = hmap_get(rs->by_name, h->t.key, strlen(h->t.key));
    if (!r)
        r = room_new(rs, &h->t);
    struct member *m = member_new(rs, r, &h->t);
    memcpy(m->token_hash, hash, sizeof(hash));
    hmap_put(rs->by_token, m->token_hash, sizeof(m->token_hash), m);
    attach(m, c);

    room_send_welcome(m, ref, token, false, false);
    wipe(token, sizeof(token));
    if (m->in_lobby) {
        room_lobby_changed(r);
    } else {
        room_remember(m, true);
        share_history(r, m);
        room_emit_presence(m, true, NULL);
    }
    if (is_leader(m))
        room_check_leaders(r);
    klog_debug("member_join member=%u members=%u lobby=%d", m->id, r->count, m->in_lobby);
    hello_end(h);
}

/* The personal invite is used (or not): the room decides again, since it
 * may have changed while the store wrote. A holder refused now has used
 * the invite (README §4, "While a hello is checked"). */
static void hello_redeemed(void *arg, enum proto_err e, struct gate_ticket *t,
                           const struct proto_error_detail *d)
{
    (void)t;
    (void)d;
    struct room_hello *h = arg;
    h->pending = NULL;
    hello_enter(h, e ? e : room_refuses(h->rs, &h->t));
}

/* The gate's answer. Redeem a personal invite last, so that a holder the
 * room refuses keeps it. */
static void hello_checked(void *arg, enum proto_err e, struct gate_ticket *t,
                          const struct proto_error_detail *d)
{
    struct room_hello *h = arg;
    h->pending = NULL;
    h->d = *d;
    if (e) {
        hello_enter(h, e);
        return;
    }
    h->t = *t; /* the hello owns the ticket now */
    memset(t, 0, sizeof(*t));
    struct room *r = hmap_get(h->rs->by_name, h->t.key, strlen(h->t.key));
    struct member *m = leader_member(r, &h->t);
    if (m) {
        leader_take_over(h->rs, h->c, m, &h->t, h->ref[0] ? h->ref : NULL);
        hello_end(h);
        return;
    }
    e = room_refuses(h->rs, &h->t);
    if (!e && h->t.personal_invite) {
        e = gate_redeem_async(h->rs->gate, &h->t, hello_redeemed, h, &h->pending);
        if (!e) {
            if (!h->waiting)
                conn_wait(h->c, hello_abandon, h);
            h->waiting = true;
            return;
        }
    }
    hello_enter(h, e);
}

/* An invite or token hello is checked on the store worker while the
 * connection waits; the room form needs no store and is answered now. */
static void do_hello(struct rooms *rs, struct conn *c, const struct proto_cmd *cmd)
{
    struct room_hello *h = xcalloc(1, sizeof(*h));
    h->rs = rs;
    h->c = c;
    snprintf(h->ref, sizeof(h->ref), "%s", cmd->id);
    if (!cmd->u.hello.invite[0] && !cmd->u.hello.token[0]) {
        struct gate_ticket t;
        struct proto_error_detail d;
        enum proto_err e = gate_check(rs->gate, cmd, &t, &d);
        hello_checked(h, e, e ? NULL : &t, &d);
        gate_ticket_clear(&t); /* zeroed when the hello took it */
        return;
    }
    enum proto_err e = gate_check_async(rs->gate, cmd, hello_checked, h, &h->pending);
    if (e) {
        conn_send_error(c, e, ref_of(cmd), NULL);
        free(h);
        return;
    }
    h->waiting = true;
    conn_wait(c, hello_abandon, h);
}

/* The connection of a waiting hello is gone: the worker's late answer is
 * dropped. */
static void hello_abandon(void *arg)
{
    struct room_hello *h = arg;
    gate_pending_drop(h->pending);
    gate_ticket_clear(&h->t);
    free(h);
}

static void do_resume(struct rooms *rs, struct conn *c, const struct proto_cmd *cmd)
{
    const char *ref = ref_of(cmd);
    unsigned char hash[TOKEN_BYTES];
    sha256(cmd->u.resume.token, PROTO_TOKEN_LEN, hash);
    /* The table is keyed by the digest, so the lookup compares digests of
     * the secret, never the secret itself; confirm in constant time. */
    struct member *m = hmap_get(rs->by_token, hash, sizeof(hash));
    if (m && CRYPTO_memcmp(m->token_hash, hash, sizeof(hash)) != 0)
        m = NULL;
    /* A room keeps the epoch of the node that made it, also when another
     * node took it over (mirror.h). */
    uint64_t epoch = m ? m->room->epoch : rs->epoch;
    if (cmd->u.resume.epoch != epoch) {
        conn_send_error(c, PROTO_E_RESUME_FAILED, ref,
                        &(struct proto_error_detail){.reason = "server_restarted"});
        return;
    }
    if (!m) {
        conn_send_error(c, PROTO_E_RESUME_FAILED, ref,
                        &(struct proto_error_detail){.reason = "expired"});
        return;
    }
    bool was_detached = m->conn == NULL;
    attach(m, c);

    struct room *r = m->room;
    uint64_t after = cmd->u.resume.after_seq;
    if (after < m->joined_seq)
        after = m->joined_seq; /* never replay what was said before this member came */
    bool gap = !ring_covers(r->ring, after, r->seq);
    room_send_welcome(m, ref, cmd->u.resume.token, true, gap);
    for (uint64_t s = after + 1; !gap && s <= r->seq && m->conn == c; s++) {
        struct ring_tag tag;
        struct frame *f = ring_get(r->ring, s, &tag);
        if (room_hears(m, &tag))
            conn_send(c, f);
    }
    if (was_detached)
        moderation_alert(m, ALERT_RETURNED, 0);
    if (is_leader(m))
        room_check_leaders(r);
    klog_debug("member_resume member=%u gap=%d", m->id, gap);
}

/* ---- talking ---- */

/* Token bucket: rate_per_sec sustained, rate_burst at once. Returns 0, or
 * the milliseconds until the next message would be allowed. */
static int64_t rate_take(struct member *m, const struct limits *lim)
{
    uint64_t now = util_now_ms();
    m->tokens += (double)(now - m->tokens_ms) * lim->rate_per_sec / 1000.0;
    if (m->tokens > lim->rate_burst)
        m->tokens = lim->rate_burst;
    m->tokens_ms = now;
    if (m->tokens >= 1.0) {
        m->tokens -= 1.0;
        return 0;
    }
    int64_t wait = (int64_t)((1.0 - m->tokens) * 1000.0 / lim->rate_per_sec) + 1;
    return wait;
}

/* Who a say is for (README §4a): fills the ring tag and the message's
 * scope, or returns why it may not go. A room message (and a direct one
 * between participants) must pass the posting rules; a private message to
 * the leaders always goes, from the lobby too, unless the group turned
 * private messages off. */
static enum proto_err say_audience(struct member *m, const struct proto_cmd *cmd,
                                   struct ring_tag *tag, struct proto_message *msg,
                                   struct proto_error_detail *d)
{
    struct room *r = m->room;
    const struct member *to = NULL;
    if (cmd->u.say.to && !(to = room_member(r, cmd->u.say.to)))
        return PROTO_E_NOT_FOUND;
    bool to_leaders = cmd->u.say.to_leaders || (to && is_leader(to));
    if (to_leaders && is_leader(m)) {
        *tag = (struct ring_tag){.audience = AUD_LEADERS};
        msg->scope = PROTO_SCOPE_LEADERS;
        return PROTO_OK;
    }
    if (to_leaders) {
        if (strcmp(r->private_messages, "off") == 0)
            return PROTO_E_FORBIDDEN;
        *tag = (struct ring_tag){.audience = AUD_PRIVATE, .a = m->id};
        msg->scope = PROTO_SCOPE_PRIVATE;
        msg->with = m->id;
        return PROTO_OK;
    }
    if (to && is_leader(m)) {
        *tag = (struct ring_tag){.audience = AUD_PRIVATE, .a = to->id};
        msg->scope = PROTO_SCOPE_PRIVATE;
        msg->with = to->id;
        return PROTO_OK;
    }
    if (m->in_lobby)
        return PROTO_E_IN_LOBBY;
    if (!m->agreed)
        return PROTO_E_AGREEMENT_REQUIRED;
    if (to) {
        if (strcmp(r->private_messages, "everyone") != 0 || to == m)
            return PROTO_E_FORBIDDEN;
        if (to->in_lobby)
            return PROTO_E_NOT_FOUND;
        *tag = (struct ring_tag){.audience = AUD_DIRECT, .a = m->id, .b = to->id};
        msg->scope = PROTO_SCOPE_DIRECT;
        msg->with = to->id;
    } else {
        *tag = to_room;
    }
    return is_leader(m) ? PROTO_OK : moderation_may_post(m, d);
}

static void do_say(struct rooms *rs, struct conn *c, struct member *m, const struct proto_cmd *cmd)
{
    uint64_t idh = hmap_hash(cmd->id, strlen(cmd->id)) | 1; /* never 0: 0 marks empty */
    for (uint32_t i = 0; i < RECENT_IDS; i++) {
        if (m->recent[i].id_hash == idh) {
            room_send_ack(c, cmd->id, m->recent[i].seq, true);
            return;
        }
    }
    struct room *r = m->room;
    struct ring_tag tag;
    struct proto_message msg = {.member = m->id, .name = m->name};
    struct proto_error_detail d = {0};
    enum proto_err e = say_audience(m, cmd, &tag, &msg, &d);
    if (!e && (d.retry_after_ms = rate_take(m, rs->lim)) > 0) {
        e = PROTO_E_RATE_LIMITED;
        metrics_inc(METRIC_RATE_LIMITED);
    }
    if (e) {
        conn_send_error(c, e, cmd->id, &d);
        return;
    }
    /* The ack goes out before the message, so the sender learns the seq
     * first; both are queued before anything is written. */
    msg.seq = room_next_seq(r);
    msg.text = cmd->u.say.text;
    msg.text_len = cmd->u.say.text_len;
    msg.ts = util_wall_ms();
    tag.author = m->id;
    /* With a mirror the ack waits for the message's copy (mirror.h). */
    uint64_t ticket = rs->mirror ? mirror_next_ticket(rs->mirror) : 0;
    struct frame *ack = proto_encode_ack(cmd->id, msg.seq, false);
    if (ticket)
        conn_hold(c, ack, ticket);
    else
        conn_send(c, ack);
    frame_unref(ack);
    rs->say_id = cmd->id;
    room_emit(r, tag, proto_encode_message(&msg));
    rs->say_id = NULL;
    if (ticket && rs->pushed_ticket != ticket)
        conn_release(c, UINT64_MAX); /* no copy was made (Redis away): nothing to wait for */
    metrics_inc(METRIC_MESSAGES);
    m->recent[m->recent_next] = (struct recent){idh, msg.seq};
    m->recent_next = (m->recent_next + 1) % RECENT_IDS;
    if (tag.audience == AUD_ROOM) {
        m->s->last_post_ms = util_now_ms();
        if (r->slow_mode && !is_leader(m))
            room_mirror_dirty(r); /* the slow-mode wait moves with the room (mirror.h) */
    }
    moderation_check_risk(m, msg.seq, msg.text, msg.text_len);
}

/* ---- leaving, agreeing, opening ---- */

static void do_leave(struct conn *c, struct member *m, const struct proto_cmd *cmd)
{
    if (cmd->act.on)
        moderation_alert(m, ALERT_SAFE, 0);
    uint64_t seq = room_member_remove(m, "left");
    room_send_ack(c, ref_of(cmd), seq, false);
    conn_close(c, PROTO_CLOSE_NORMAL, "left");
}

static void do_agree(struct conn *c, struct member *m, const struct proto_cmd *cmd)
{
    bool changed = !m->agreed;
    m->agreed = true;
    if (changed)
        room_mirror_dirty(m->room);
    room_send_ack(c, ref_of(cmd), 0, false);
    if (changed && m->in_lobby)
        room_lobby_changed(m->room); /* leaders see who has agreed */
}

/* A leader opens the session: the room says so, and everyone waiting in the
 * lobby comes in (a fresh snapshot each, then their presence), unless the
 * room was locked before it opened. */
static void do_open(struct rooms *rs, struct conn *c, struct member *m, const struct proto_cmd *cmd)
{
    struct room *r = m->room;
    if (m->role != PROTO_ROLE_LEADER) {
        conn_send_error(c, PROTO_E_FORBIDDEN, ref_of(cmd), NULL);
        return;
    }
    if (r->state != PROTO_STATE_LOBBY) {
        room_send_ack(c, ref_of(cmd), 0, false); /* open already */
        return;
    }
    r->state = PROTO_STATE_OPEN;
    gate_session_opened(rs->gate, r->session.id); /* it opens again after a restart */
    room_send_ack(c, ref_of(cmd), room_next_seq(r), false);
    room_emit(r, to_room, proto_encode_state(room_next_seq(r), PROTO_STATE_OPEN, util_wall_ms()));
    bool admitted = false;
    for (uint32_t i = 0; i < r->count && !r->locked; i++) {
        if (r->members[i]->in_lobby) {
            room_admit(r->members[i]);
            admitted = true;
        }
    }
    if (admitted)
        room_lobby_changed(r);
    klog_info("session_open session=%llu members=%u", (unsigned long long)r->session.id, r->count);
    char actor[PROTO_ROOM_MAX + 16];
    room_actor(m, actor, sizeof(actor));
    gate_audit(rs->gate, r->group_id, r->session.id, "session_open", actor, NULL);
    attendance_write(r, 0); /* held from now on, with whom the lobby let in */
}

void room_dispatch(struct rooms *rs, struct conn *c, const struct proto_cmd *cmd)
{
    struct member *m = conn_member(c);
    if (cmd->type == PROTO_HELLO || cmd->type == PROTO_RESUME) {
        if (m) {
            conn_send_error(c, PROTO_E_ALREADY_JOINED, ref_of(cmd), NULL);
            return;
        }
        if (cmd->type == PROTO_HELLO)
            do_hello(rs, c, cmd);
        else
            do_resume(rs, c, cmd);
        return;
    }
    if (!m) {
        conn_send_error(c, PROTO_E_NOT_JOINED, ref_of(cmd), NULL);
        conn_close(c, PROTO_CLOSE_UNAUTHORISED, "hello first");
        return;
    }
    switch (cmd->type) {
    case PROTO_SAY:
        do_say(rs, c, m, cmd);
        break;
    case PROTO_LEAVE:
        do_leave(c, m, cmd);
        break;
    case PROTO_AGREE:
        do_agree(c, m, cmd);
        break;
    case PROTO_OPEN:
        do_open(rs, c, m, cmd);
        break;
    default:
        if (!moderation_dispatch(c, m, cmd))
            conn_send_error(c, PROTO_E_INTERNAL, ref_of(cmd), NULL);
        break;
    }
}

/* End a leader's membership at once: 4401 to its connection, presence left
 * to the room. */
static void cut_leader(struct member *m, const char *why)
{
    klog_info("leader_cut reason=\"%s\" member=%u", why, m->id);
    if (m->conn)
        conn_close(m->conn, PROTO_CLOSE_UNAUTHORISED, why);
    room_member_remove(m, "left");
}

void room_leader_logged_out(struct rooms *rs, const char *username)
{
    size_t pos = 0;
    struct room *r;
    /* Leaders live in session rooms, which removing members never frees. */
    while ((r = hmap_next(rs->by_name, &pos)) != NULL) {
        for (uint32_t i = r->count; i-- > 0;) {
            struct member *m = r->members[i];
            if (m->role == PROTO_ROLE_LEADER && strcmp(m->name, username) == 0)
                cut_leader(m, "logged out");
        }
    }
}

struct gate_watch *room_watch_snapshot(struct rooms *rs)
{
    struct gate_watch *w = xcalloc(1, sizeof(*w));
    size_t rooms = hmap_count(rs->by_name), seats = 0, pos = 0;
    struct room *r;
    while ((r = hmap_next(rs->by_name, &pos)) != NULL)
        for (uint32_t i = 0; i < r->count; i++)
            seats += r->members[i]->role == PROTO_ROLE_LEADER;
    w->sessions = xcalloc(rooms ? rooms : 1, sizeof(*w->sessions));
    w->seats = xcalloc(seats ? seats : 1, sizeof(*w->seats));
    pos = 0;
    while ((r = hmap_next(rs->by_name, &pos)) != NULL) {
        if (!r->session.id)
            continue;
        w->sessions[w->session_count++].session_id = r->session.id;
        for (uint32_t i = 0; i < r->count; i++) {
            const struct member *m = r->members[i];
            if (m->role != PROTO_ROLE_LEADER)
                continue;
            struct gate_seat *seat = &w->seats[w->seat_count++];
            seat->session_id = r->session.id;
            seat->member = m->id;
            snprintf(seat->username, sizeof(seat->username), "%s", m->name);
            seat->login_gen = m->login_gen;
        }
    }
    return w;
}

/* Seats first: ending a room frees its members. A seat or room changed or
 * gone since the snapshot is left alone (the next change looks again). */
void room_watch_apply(struct rooms *rs, const struct gate_watch *w)
{
    for (size_t i = 0; w->changed && i < w->seat_count; i++) {
        const struct gate_seat *seat = &w->seats[i];
        struct room *r = seat->ended ? room_of_session(rs, seat->session_id) : NULL;
        struct member *m = r ? room_member(r, seat->member) : NULL;
        if (m && m->role == PROTO_ROLE_LEADER && m->login_gen == seat->login_gen &&
            strcmp(m->name, seat->username) == 0)
            cut_leader(m, seat->ended);
    }
    for (size_t i = 0; w->changed && i < w->session_count; i++) {
        struct room *r = w->sessions[i].off ? room_of_session(rs, w->sessions[i].session_id) : NULL;
        if (!r)
            continue;
        klog_info("session_cancelled session=%llu", (unsigned long long)r->session.id);
        if (r->state == PROTO_STATE_ENDED)
            room_free(rs, r);
        else
            room_end(r, "kamratd", false);
    }
}

void room_registry_free(struct rooms *rs)
{
    if (!rs)
        return;
    rs->closing = true;
    struct room *r;
    size_t pos = 0;
    /* Ending rooms edits the table: restart the walk each time. */
    while ((pos = 0, r = hmap_next(rs->by_name, &pos)) != NULL) {
        while (r->count > 0) {
            struct member *m = r->members[r->count - 1];
            member_unlink(rs, m);
            member_free(m);
        }
        room_free(rs, r); /* wipes the history */
    }
    hmap_free(rs->by_name);
    hmap_free(rs->by_token);
    hmap_free(rs->by_route);
    free(rs->dirty);
    free(rs);
}
