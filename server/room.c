#include "room.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gate.h"
#include "hmap.h"
#include "klog.h"
#include "ring.h"
#include "util.h"
#include "ws.h"

#define RECENT_IDS 64 /* per member, for idempotent resend */
#define TOKEN_BYTES 32

struct recent {
    uint64_t id_hash; /* SipHash of the client message id; 0: empty */
    uint64_t seq;
};

struct member {
    struct room *room;
    struct rooms *rs;
    struct conn *conn; /* NULL while detached */
    uint32_t id;
    uint32_t index;      /* in room->members */
    uint64_t joined_seq; /* room seq at the first welcome: history before it is not ours */
    enum proto_role role;
    bool in_lobby; /* waiting for a leader to open the session: sees nothing */
    bool agreed;   /* has accepted the group agreement (leaders need not) */
    char *name;
    unsigned char token_hash[TOKEN_BYTES]; /* SHA-256 of the resume token */
    struct recent recent[RECENT_IDS];
    uint32_t recent_next;
    double tokens; /* rate bucket */
    uint64_t tokens_ms;
    lws_sorted_usec_list_t grace; /* fires when a detached member expires */
};

struct room {
    struct rooms *rs;
    char key[GATE_KEY_MAX + 1];     /* a name, or "#<session id>" */
    char label[PROTO_ROOM_MAX + 1]; /* what members are told: the name, or "s<session id>" */
    enum proto_state state;
    struct proto_session_info session; /* id 0: an open room (testing) */
    uint32_t max_participants, participants;
    bool whole_history; /* late joiners get what the ring still holds */
    lws_sorted_usec_list_t end_timer;
    uint64_t seq;
    uint32_t next_member_id;
    struct member **members;
    uint32_t count, cap;
    struct ring *ring;
    char *topic;
};

struct rooms {
    const struct limits *lim;
    struct lws_context *ctx;
    struct gate *gate;
    uint64_t epoch;
    struct hmap *by_name;  /* room name -> struct room */
    struct hmap *by_token; /* token_hash -> struct member */
};

struct rooms *room_registry_new(const struct limits *lim, struct lws_context *ctx, uint64_t epoch,
                                struct gate *gate)
{
    struct rooms *rs = xcalloc(1, sizeof(*rs));
    rs->lim = lim;
    rs->gate = gate;
    rs->ctx = ctx;
    rs->epoch = epoch;
    rs->by_name = hmap_new();
    rs->by_token = hmap_new();
    return rs;
}

size_t room_count(const struct rooms *rs)
{
    return hmap_count(rs->by_name);
}

/* ---- rooms and members ---- */

static void session_over(lws_sorted_usec_list_t *sul);

/* A new room for the ticket; a session room takes over the ticket's session
 * facts and closes session_grace seconds after the session's end. */
static struct room *room_new(struct rooms *rs, struct gate_ticket *t)
{
    struct room *r = xcalloc(1, sizeof(*r));
    r->rs = rs;
    strcpy(r->key, t->key);
    r->ring = ring_new(rs->lim->history_size);
    if (t->session.id) {
        r->state = PROTO_STATE_LOBBY;
        r->session = t->session;
        memset(&t->session, 0, sizeof(t->session)); /* the room owns the strings now */
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
    hmap_put(rs->by_name, r->key, strlen(r->key), r);
    klog_debug("room_open rooms=%zu session=%llu", hmap_count(rs->by_name),
               (unsigned long long)r->session.id);
    return r;
}

static void room_free(struct rooms *rs, struct room *r)
{
    assert(r->count == 0);
    hmap_del(rs->by_name, r->key, strlen(r->key));
    lws_sul_cancel(&r->end_timer);
    ring_free(r->ring); /* wipes every held event */
    free((char *)r->session.group);
    free((char *)r->session.language);
    free((char *)r->session.description);
    free((char *)r->session.agreement);
    free(r->members);
    if (r->topic)
        wipe(r->topic, strlen(r->topic));
    free(r->topic);
    free(r);
    klog_debug("room_end rooms=%zu", hmap_count(rs->by_name));
}

static void member_free(struct member *m)
{
    wipe(m->name, strlen(m->name));
    free(m->name);
    wipe(m, sizeof(*m));
    free(m);
}

/* Give the event the next seq, keep it for resume and queue it for every
 * attached member. Takes ownership of f. */
static uint64_t broadcast(struct room *r, struct frame *(*encode)(uint64_t seq, void *arg),
                          void *arg)
{
    uint64_t seq = ++r->seq;
    struct frame *f = encode(seq, arg);
    ring_push(r->ring, seq, f);
    for (uint32_t i = 0; i < r->count; i++) {
        struct member *m = r->members[i];
        if (m->conn && !m->in_lobby)
            ws_send(m->conn, f);
    }
    frame_unref(f);
    return seq;
}

struct presence_arg {
    struct member *m;
    bool joined;
};

static struct frame *encode_presence(uint64_t seq, void *arg)
{
    struct presence_arg *a = arg;
    return proto_encode_presence(seq, a->m->id, a->m->name, a->m->role, a->joined, util_wall_ms());
}

/* Take m out of its room's tables, keeping the room. */
static void member_unlink(struct rooms *rs, struct member *m)
{
    struct room *r = m->room;
    lws_sul_cancel(&m->grace);
    if (m->conn)
        ws_set_member(m->conn, NULL);

    /* Swap-remove keeps the member array dense: O(1). */
    uint32_t last = --r->count;
    r->members[m->index] = r->members[last];
    r->members[m->index]->index = m->index;
    r->members[last] = NULL;
    hmap_del(rs->by_token, m->token_hash, sizeof(m->token_hash));
    if (m->role == PROTO_ROLE_PARTICIPANT)
        r->participants--;
}

/* Remove m from its room for good: tell the others (unless m only waited in
 * the lobby, unseen), forget its token, end the room when it was the last
 * member. Returns the presence event's seq, or 0 when there was none. */
static uint64_t member_remove(struct rooms *rs, struct member *m)
{
    struct room *r = m->room;
    member_unlink(rs, m);
    /* Even the last member's departure is an event: its seq acks the leave. */
    uint64_t seq =
        m->in_lobby ? 0 : broadcast(r, encode_presence, &(struct presence_arg){m, false});
    member_free(m);
    /* A session's room lives until the session ends, however empty it gets. */
    if (r->count == 0 && r->session.id == 0)
        room_free(rs, r);
    return seq;
}

/* The session is over: say so to everyone, lobby included, close every
 * connection with 4410 and wipe the room. */
static void room_end(struct room *r)
{
    struct rooms *rs = r->rs;
    uint64_t seq = ++r->seq;
    struct frame *f = proto_encode_state(seq, PROTO_STATE_ENDED, util_wall_ms());
    while (r->count > 0) {
        struct member *m = r->members[r->count - 1];
        if (m->conn) {
            ws_send(m->conn, f);
            ws_close(m->conn, WS_CLOSE_SESSION_ENDED, "session ended");
        }
        member_unlink(rs, m);
        member_free(m);
    }
    frame_unref(f);
    klog_info("session_end session=%llu", (unsigned long long)r->session.id);
    gate_audit_session(rs->gate, r->session.id, "session_end", "kamratd");
    room_free(rs, r);
}

static void session_over(lws_sorted_usec_list_t *sul)
{
    room_end(lws_container_of(sul, struct room, end_timer));
}

static void grace_expired(lws_sorted_usec_list_t *sul)
{
    struct member *m = lws_container_of(sul, struct member, grace);
    klog_debug("member_expired member=%u", m->id);
    member_remove(m->rs, m);
}

void room_conn_lost(struct rooms *rs, struct member *m)
{
    m->conn = NULL;
    if (rs->lim->resume_grace == 0) {
        member_remove(rs, m);
        return;
    }
    lws_sul_schedule(rs->ctx, 0, &m->grace, grace_expired,
                     (lws_usec_t)rs->lim->resume_grace * LWS_US_PER_SEC);
}

/* ---- tokens ---- */

static void sha256(const void *data, size_t len, unsigned char out[TOKEN_BYTES])
{
    unsigned int n = TOKEN_BYTES;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

/* A new random resume token in base64url (43 chars) and its digest. */
static int token_new(char out[PROTO_TOKEN_LEN + 1], unsigned char hash[TOKEN_BYTES])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[TOKEN_BYTES + 1] = {0};
    if (RAND_bytes(raw, TOKEN_BYTES) != 1)
        return -1;
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

/* ---- replies ---- */

/* The welcome snapshot. token is NULL in the snapshot sent on admission from
 * the lobby (the member keeps the token it got first). */
static void send_welcome(struct rooms *rs, struct member *m, const char *ref, const char *token,
                         bool resumed, bool gap)
{
    struct room *r = m->room;
    struct proto_member *list = xmalloc(r->count * sizeof(*list));
    size_t n = 0;
    for (uint32_t i = 0; i < r->count && !m->in_lobby; i++) {
        const struct member *o = r->members[i];
        if (!o->in_lobby)
            list[n++] = (struct proto_member){o->id, o->name, o->role};
    }
    struct proto_limits pl = {rs->lim->max_message_bytes, rs->lim->max_text_chars,
                              rs->lim->max_name_chars};
    struct proto_welcome w = {
        .ref = ref,
        .epoch = rs->epoch,
        .token = token,
        .member = m->id,
        .name = m->name,
        .role = m->role,
        .room = r->label,
        .seq = r->seq,
        .members = list,
        .member_count = n,
        .topic = m->in_lobby ? NULL : r->topic,
        .state = r->state,
        .session = r->session.id ? &r->session : NULL,
        .agreed = m->agreed,
        .resumed = resumed,
        .gap = gap,
        .limits = &pl,
        .rate_per_sec = rs->lim->rate_per_sec,
        .rate_burst = rs->lim->rate_burst,
    };
    struct frame *f = proto_encode_welcome(&w);
    ws_send(m->conn, f);
    frame_unref(f);
    free(list);
}

static void send_ack(struct conn *c, const char *ref, uint64_t seq, bool duplicate)
{
    struct frame *f = proto_encode_ack(ref, seq, duplicate);
    ws_send(c, f);
    frame_unref(f);
}

static const char *ref_of(const struct proto_cmd *cmd)
{
    return cmd->id[0] ? cmd->id : NULL;
}

/* ---- requests ---- */

static bool name_equal(const char *a, const char *b, size_t blen)
{
    if (strlen(a) != blen)
        return false;
    for (size_t i = 0; i < blen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* m has just come into the open room (its welcome is queued): in a group
 * whose history setting is whole_session, it reads the session so far, as
 * far as the ring still holds it, before its own presence. */
static void share_history(struct room *r, struct member *m)
{
    if (!r->whole_history || m->in_lobby || !m->conn)
        return;
    m->joined_seq = 0; /* a resume may replay from the start too */
    for (uint64_t s = r->seq - ring_count(r->ring) + 1; s <= r->seq && m->conn; s++) {
        struct frame *f = ring_get(r->ring, s);
        if (f)
            ws_send(m->conn, f);
    }
}

/* Why the room cannot take this ticket's holder, or PROTO_OK. */
static enum proto_err room_admits(struct rooms *rs, const struct room *r,
                                  const struct gate_ticket *t)
{
    if (r->count >= rs->lim->max_room_members ||
        (t->role == PROTO_ROLE_PARTICIPANT && r->participants >= r->max_participants))
        return PROTO_E_ROOM_FULL;
    for (uint32_t i = 0; i < r->count; i++) {
        if (name_equal(r->members[i]->name, t->name, t->name_len))
            return PROTO_E_NAME_TAKEN;
    }
    return PROTO_OK;
}

static void do_hello(struct rooms *rs, struct conn *c, const struct proto_cmd *cmd)
{
    const char *ref = ref_of(cmd);
    struct gate_ticket t;
    struct proto_error_detail d;
    enum proto_err e = gate_check(rs->gate, cmd, &t, &d);
    struct room *r = e ? NULL : hmap_get(rs->by_name, t.key, strlen(t.key));
    if (!e && r)
        e = room_admits(rs, r, &t);
    if (!e)
        e = gate_redeem(rs->gate, &t); /* last: a refused holder keeps a personal invite */
    char token[PROTO_TOKEN_LEN + 1];
    struct member *m = NULL;
    if (!e) {
        m = xcalloc(1, sizeof(*m));
        if (token_new(token, m->token_hash) < 0)
            e = PROTO_E_INTERNAL;
    }
    if (e) {
        free(m);
        ws_send_error(c, e, ref, &d);
        gate_ticket_clear(&t);
        return;
    }
    if (!r)
        r = room_new(rs, &t);
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->members = xrealloc(r->members, r->cap * sizeof(*r->members));
    }
    m->rs = rs;
    m->room = r;
    m->id = ++r->next_member_id;
    m->role = t.role;
    m->in_lobby = t.role == PROTO_ROLE_PARTICIPANT && r->state == PROTO_STATE_LOBBY;
    m->agreed = t.role == PROTO_ROLE_LEADER || r->session.id == 0;
    m->name = xstrndup(t.name, t.name_len);
    m->tokens = rs->lim->rate_burst;
    m->tokens_ms = util_now_ms();
    m->index = r->count;
    m->joined_seq = r->seq;
    r->members[r->count++] = m;
    if (m->role == PROTO_ROLE_PARTICIPANT)
        r->participants++;
    hmap_put(rs->by_token, m->token_hash, sizeof(m->token_hash), m);
    m->conn = c;
    ws_set_member(c, m);
    gate_ticket_clear(&t);

    send_welcome(rs, m, ref, token, false, false);
    wipe(token, sizeof(token));
    share_history(r, m);
    if (!m->in_lobby)
        broadcast(r, encode_presence, &(struct presence_arg){m, true});
    klog_debug("member_join member=%u members=%u lobby=%d", m->id, r->count, m->in_lobby);
}

static void do_resume(struct rooms *rs, struct conn *c, const struct proto_cmd *cmd)
{
    const char *ref = ref_of(cmd);
    if (cmd->u.resume.epoch != rs->epoch) {
        ws_send_error(c, PROTO_E_RESUME_FAILED, ref,
                      &(struct proto_error_detail){NULL, "server_restarted", -1, -1});
        return;
    }
    unsigned char hash[TOKEN_BYTES];
    sha256(cmd->u.resume.token, PROTO_TOKEN_LEN, hash);
    /* The table is keyed by the digest, so the lookup compares digests of
     * the secret, never the secret itself; confirm in constant time. */
    struct member *m = hmap_get(rs->by_token, hash, sizeof(hash));
    if (!m || CRYPTO_memcmp(m->token_hash, hash, sizeof(hash)) != 0) {
        ws_send_error(c, PROTO_E_RESUME_FAILED, ref,
                      &(struct proto_error_detail){NULL, "expired", -1, -1});
        return;
    }
    if (m->conn) {
        /* A half-dead earlier connection: the newest one wins. */
        ws_set_member(m->conn, NULL);
        ws_close(m->conn, WS_CLOSE_REPLACED, "replaced");
    }
    lws_sul_cancel(&m->grace);
    m->conn = c;
    ws_set_member(c, m);

    struct room *r = m->room;
    uint64_t after = cmd->u.resume.after_seq;
    if (after < m->joined_seq)
        after = m->joined_seq; /* never replay what was said before this member came */
    /* Someone still in the lobby has seen nothing of the room: nothing to replay. */
    bool gap = !m->in_lobby && !ring_covers(r->ring, after, r->seq);
    send_welcome(rs, m, ref, cmd->u.resume.token, true, gap);
    if (!gap && !m->in_lobby) {
        for (uint64_t s = after + 1; s <= r->seq && m->conn == c; s++)
            ws_send(c, ring_get(r->ring, s));
    }
    klog_debug("member_resume member=%u gap=%d", m->id, gap);
}

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

struct message_arg {
    struct member *m;
    const struct proto_cmd *cmd;
};

static struct frame *encode_message(uint64_t seq, void *arg)
{
    struct message_arg *a = arg;
    return proto_encode_message(seq, a->m->id, a->m->name, a->cmd->u.say.text,
                                a->cmd->u.say.text_len, util_wall_ms());
}

static void do_say(struct rooms *rs, struct conn *c, struct member *m, const struct proto_cmd *cmd)
{
    if (m->in_lobby || !m->agreed) {
        ws_send_error(c, m->in_lobby ? PROTO_E_IN_LOBBY : PROTO_E_AGREEMENT_REQUIRED, cmd->id,
                      NULL);
        return;
    }
    uint64_t idh = hmap_hash(cmd->id, strlen(cmd->id)) | 1; /* never 0: 0 marks empty */
    for (uint32_t i = 0; i < RECENT_IDS; i++) {
        if (m->recent[i].id_hash == idh) {
            send_ack(c, cmd->id, m->recent[i].seq, true);
            return;
        }
    }
    int64_t wait = rate_take(m, rs->lim);
    if (wait) {
        ws_send_error(c, PROTO_E_RATE_LIMITED, cmd->id,
                      &(struct proto_error_detail){NULL, NULL, wait, -1});
        return;
    }
    struct room *r = m->room;
    /* The ack goes out before the message, so the sender learns the seq
     * first; both are queued before anything is written. */
    uint64_t seq = r->seq + 1;
    send_ack(c, cmd->id, seq, false);
    broadcast(r, encode_message, &(struct message_arg){m, cmd});
    m->recent[m->recent_next] = (struct recent){idh, seq};
    m->recent_next = (m->recent_next + 1) % RECENT_IDS;
}

static void do_leave(struct rooms *rs, struct conn *c, struct member *m,
                     const struct proto_cmd *cmd)
{
    uint64_t seq = member_remove(rs, m);
    send_ack(c, ref_of(cmd), seq, false);
    ws_close(c, WS_CLOSE_NORMAL, "left");
}

static void do_agree(struct conn *c, struct member *m, const struct proto_cmd *cmd)
{
    m->agreed = true;
    send_ack(c, ref_of(cmd), 0, false);
}

struct state_arg {
    enum proto_state st;
};

static struct frame *encode_state(uint64_t seq, void *arg)
{
    return proto_encode_state(seq, ((struct state_arg *)arg)->st, util_wall_ms());
}

/* A leader opens the session: the room says so, and everyone waiting in the
 * lobby comes in (a fresh snapshot each, then their presence). */
static void do_open(struct rooms *rs, struct conn *c, struct member *m, const struct proto_cmd *cmd)
{
    struct room *r = m->room;
    if (m->role != PROTO_ROLE_LEADER) {
        ws_send_error(c, PROTO_E_FORBIDDEN, ref_of(cmd), NULL);
        return;
    }
    if (r->state != PROTO_STATE_LOBBY) {
        send_ack(c, ref_of(cmd), 0, false); /* open already */
        return;
    }
    r->state = PROTO_STATE_OPEN;
    send_ack(c, ref_of(cmd), r->seq + 1, false);
    broadcast(r, encode_state, &(struct state_arg){PROTO_STATE_OPEN});
    for (uint32_t i = 0; i < r->count; i++) {
        struct member *w = r->members[i];
        if (!w->in_lobby)
            continue;
        w->in_lobby = false;
        w->joined_seq = r->seq;
        if (w->conn)
            send_welcome(rs, w, NULL, NULL, false, false);
        share_history(r, w);
        broadcast(r, encode_presence, &(struct presence_arg){w, true});
    }
    klog_info("session_open session=%llu members=%u", (unsigned long long)r->session.id, r->count);
    char actor[PROTO_ROOM_MAX + 16];
    snprintf(actor, sizeof(actor), "leader:%s", m->name);
    gate_audit_session(rs->gate, r->session.id, "session_open", actor);
}

void room_dispatch(struct rooms *rs, struct conn *c, const struct proto_cmd *cmd)
{
    struct member *m = ws_member(c);
    if (cmd->type == PROTO_HELLO || cmd->type == PROTO_RESUME) {
        if (m) {
            ws_send_error(c, PROTO_E_ALREADY_JOINED, ref_of(cmd), NULL);
            return;
        }
        if (cmd->type == PROTO_HELLO)
            do_hello(rs, c, cmd);
        else
            do_resume(rs, c, cmd);
        return;
    }
    if (!m) {
        ws_send_error(c, PROTO_E_NOT_JOINED, ref_of(cmd), NULL);
        ws_close(c, WS_CLOSE_UNAUTHORISED, "hello first");
        return;
    }
    switch (cmd->type) {
    case PROTO_SAY:
        do_say(rs, c, m, cmd);
        break;
    case PROTO_LEAVE:
        do_leave(rs, c, m, cmd);
        break;
    case PROTO_AGREE:
        do_agree(c, m, cmd);
        break;
    case PROTO_OPEN:
        do_open(rs, c, m, cmd);
        break;
    default:
        ws_send_error(c, PROTO_E_INTERNAL, ref_of(cmd), NULL);
        break;
    }
}

/* End a leader's membership at once: 4401 to its connection, presence left
 * to the room. */
static void cut_leader(struct rooms *rs, struct member *m, const char *why)
{
    klog_info("leader_cut reason=\"%s\" member=%u", why, m->id);
    if (m->conn)
        ws_close(m->conn, WS_CLOSE_UNAUTHORISED, why);
    member_remove(rs, m);
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
                cut_leader(rs, m, "logged out");
        }
    }
}

/* Collect, then act: ending rooms and removing members edits the tables
 * being walked. */
void room_store_changed(struct rooms *rs)
{
    size_t n = hmap_count(rs->by_name), k = 0, pos = 0;
    struct room **ended = xmalloc((n ? n : 1) * sizeof(*ended));
    struct room *r;
    while ((r = hmap_next(rs->by_name, &pos)) != NULL) {
        if (r->session.id && !gate_session_on(rs->gate, r->session.id)) {
            ended[k++] = r;
            continue;
        }
        for (uint32_t i = r->count; i-- > 0;) {
            struct member *m = r->members[i];
            if (m->role != PROTO_ROLE_LEADER || gate_leader_enabled(rs->gate, m->name))
                continue;
            cut_leader(rs, m, "account disabled");
        }
    }
    for (size_t i = 0; i < k; i++) {
        klog_info("session_cancelled session=%llu", (unsigned long long)ended[i]->session.id);
        room_end(ended[i]);
    }
    free(ended);
}

void room_registry_free(struct rooms *rs)
{
    if (!rs)
        return;
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
    free(rs);
}
