/*
 * fuzz_room: requests from four members -> proto_decode -> room_dispatch,
 * the real room.c, moderation.c and round.c over a real gate and store
 * (one group, one leader, a session on now, a group invite). Only the
 * connection layer is fake: the conn_* functions below stand in for conn.c
 * and record what each connection is sent; a connection the room closed
 * is torn down as lws would (room_conn_lost, then freed, so ASan sees any
 * later use).
 *
 * Input: records of [op][len][len bytes of JSON]. op bits 0-1 pick the
 * member, bit 7 drops its connection first (as a lost TCP link). In the
 * JSON, @I becomes the invite code, @T the leader's login token, @S the
 * session id and @K a participant key of the member's own.
 *
 * Checks: events reach a connection in strictly increasing seq; at most
 * one member holds the leader role in a room; a member and its
 * connection point at each other; no frame outlives the rooms.
 *
 * Invite and token hellos are checked on the real store worker (storeq.c)
 * with a connection of its own; after each request the harness waits until
 * no hello is pending, so the inputs replay alike.
 *
 * The store is put back to its starting copy after an input that wrote to
 * it (bans, audit rows, an ended session), so each input starts alike.
 */
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <sqlite3.h>

#include "auth.h"
#include "config.h"
#include "frame.h"
#include "gate.h"
#include "leaders.h"
#include "names.h"
#include "proto.h"
#include "room.h"
#include "room_int.h"
#include "store.h"
#include "store_int.h"
#include "storeq.h"
#include "util.h"
#include "conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define USERS 4
#define TEXT_MAX 1024

struct conn {
    struct member *member;
    conn_abandon_fn wait_abandon; /* a hello the store worker checks, or NULL */
    void *wait_arg;
    uint16_t close_code;
    uint64_t last_seq; /* of the events this connection was sent */
};

/* ---- the fake ws layer ---- */

struct member *conn_member(const struct conn *c)
{
    return c->member;
}

void conn_set_member(struct conn *c, struct member *m)
{
    c->member = m;
}

void conn_wait(struct conn *c, conn_abandon_fn abandon, void *arg)
{
    assert(!c->wait_abandon);
    c->wait_abandon = abandon;
    c->wait_arg = arg;
}

/* Requests are dispatched one at a time after the last hello's answer, so
 * none ever waits behind one, and the room hands back no message. */
void conn_wait_done(struct conn *c, const char *first, size_t len)
{
    (void)first;
    (void)len;
    assert(!first);
    c->wait_abandon = NULL;
}

void conn_close(struct conn *c, enum proto_close code, const char *reason)
{
    (void)reason;
    if (!c->close_code)
        c->close_code = (uint16_t)code;
}

/* Events carry the room's seq; a connection must never see it go back. */
static void check_frame(struct conn *c, struct frame *f)
{
    json_t *root = json_loadb((const char *)frame_payload(f), f->len, 0, NULL);
    assert(root && json_is_object(root));
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *seq = json_object_get(root, "seq");
    assert(type);
    if (strcmp(type, "welcome") == 0) {
        c->last_seq = 0; /* a resume replays from here */
    } else if ((strcmp(type, "message") == 0 || strcmp(type, "presence") == 0) &&
               json_is_integer(seq)) {
        uint64_t s = (uint64_t)json_integer_value(seq);
        assert(s > c->last_seq);
        c->last_seq = s;
    }
    json_decref(root);
}

void conn_send(struct conn *c, struct frame *f)
{
    if (c->close_code)
        return; /* as conn.c: nothing more is queued once closing */
    check_frame(c, f);
}

/* One node: there is no mirror to wait for, so nothing is ever held. */
void conn_hold(struct conn *c, struct frame *f, uint64_t ticket)
{
    (void)ticket;
    conn_send(c, f);
}

void conn_release(struct conn *c, uint64_t upto)
{
    (void)c;
    (void)upto;
}

void conn_send_error(struct conn *c, enum proto_err e, const char *ref,
                     const struct proto_error_detail *d)
{
    struct frame *f = proto_encode_error(e, ref, d);
    conn_send(c, f);
    frame_unref(f);
}

/* ---- the world: store, gate, leader login ---- */

static struct {
    char dir[64], template_path[96], path[96];
    struct config cfg;
    struct lws_context *ctx;
    struct store *store;
    struct leaders *leaders;
    struct gate *gate;
    struct storeq *worker;
    char invite[AUTH_INVITE_LEN + 1];
    char token[LEADERS_TOKEN_LEN + 1];
    int64_t session, leader_id;
    uint64_t renew_at;
    sqlite3 *template_db;
    int changes; /* sqlite3_total_changes after the last reset */
} w;

/* The store worker's wake-ups, counted for settle(). */
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static unsigned wakes;

static void wake(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wake_mu);
    wakes++;
    pthread_cond_signal(&wake_cv);
    pthread_mutex_unlock(&wake_mu);
}

static void must(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "fuzz_room: %s failed (%d)\n", what, rc);
        abort();
    }
}

static void cleanup(void)
{
    char p[128];
    storeq_free(w.worker);
    gate_free(w.gate);
    leaders_free(w.leaders);
    store_close(w.store);
    lws_context_destroy(w.ctx);
    sqlite3_close(w.template_db);
    names_fini();
    const char *files[] = {"/t.db", "/t.db-wal", "/t.db-shm", "/w.db", "/w.db-wal", "/w.db-shm"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", w.dir, files[i]);
        unlink(p);
    }
    rmdir(w.dir);
}

/* The starting database: written once, copied back after every input
 * that changed the working copy. */
static void make_template(void)
{
    char err[512];
    struct store *s;
    int64_t now = config_now(&w.cfg), gid, lid, iid;
    unsigned char hash[AUTH_DIGEST_LEN];
    must(store_open(w.template_path, STORE_CREATE, &s, err, sizeof(err)), err);
    struct store_group g;
    store_group_defaults(&g);
    g.name = xstrdup("Fuzz");
    g.max_participants = 3;
    snprintf(g.language, sizeof(g.language), "en");
    snprintf(g.private_messages, sizeof(g.private_messages), "everyone");
    must(store_group_add(s, now, "fuzz", &g, &gid), "group");
    store_group_clear(&g);
    must(store_leader_add(s, now, "fuzz", "lead", "$argon2id$v=19$fuzz", &lid), "leader");
    must(store_group_leader_add(s, now, "fuzz", gid, lid), "group leader");
    struct store_session se = {
        .group_id = gid, .starts_at = now - 60, .ends_at = now + 600 * 60 - 60, .lobby_min = 15};
    snprintf(se.tz, sizeof(se.tz), "UTC");
    must(store_session_add(s, now, "fuzz", &se, &w.session), "session");
    must(auth_invite_code_new(w.invite, hash), "invite code");
    must(store_invite_create(s, now, "fuzz", gid, STORE_INVITE_GROUP, hash, now + 86400, &iid),
         "invite");
    store_close(s);
    if (sqlite3_open_v2(w.template_path, &w.template_db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        must(-1, "template");
    w.leader_id = lid;
}

/* The login lasts 30 idle minutes; a long run renews it every 20. (The
 * session lasts 10 hours: run.sh's and README's runs stay within that.) */
static void renew_login(void)
{
    uint64_t now = util_wall_ms(), expires;
    if (now < w.renew_at)
        return;
    /* The account is new: its login_gen is 0. */
    must(leaders_login(w.leaders, w.leader_id, "lead", 0, false, now, w.token, &expires), "login");
    w.renew_at = now + 20 * 60 * 1000;
}

/* Put the working database back as the template has it: SQLite's backup
 * API copies the template's pages into the open connection, so the store's
 * prepared statements stay valid and nothing is opened again. */
static void reset_store(void)
{
    sqlite3_backup *b =
        sqlite3_backup_init(db_sqlite_handle(w.store->db), "main", w.template_db, "main");
    if (!b || sqlite3_backup_step(b, -1) != SQLITE_DONE || sqlite3_backup_finish(b) != SQLITE_OK)
        must(-1, "reset");
    w.changes = sqlite3_total_changes(db_sqlite_handle(w.store->db));
}

static void init(void)
{
    snprintf(w.dir, sizeof(w.dir), "%s/kamrat-fuzz-room-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(w.dir))
        must(-1, w.dir);
    snprintf(w.template_path, sizeof(w.template_path), "%s/t.db", w.dir);
    snprintf(w.path, sizeof(w.path), "%s/w.db", w.dir);
    atexit(cleanup);
    klog_init(KLOG_ERROR);
    lws_set_log_level(0, NULL);
    proto_init();
    must(names_init(), "names_init");
    config_default_limits(&w.cfg.limits);
    w.cfg.limits.rate_burst = 50;
    w.cfg.minute_seconds = 60;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    w.ctx = lws_create_context(&info); /* only the timer lists are used */
    if (!w.ctx)
        must(-1, "lws context");
    w.leaders = leaders_new();
    make_template();
    char err[512];
    must(store_open(w.path, STORE_CREATE, &w.store, err, sizeof(err)), err);
    struct store *ws;
    must(store_open(w.path, 0, &ws, err, sizeof(err)), err);
    w.worker = storeq_new(ws, STOREQ_CAP, STOREQ_TIMEOUT_MS, wake, NULL);
    if (!w.worker)
        must(-1, "storeq");
    w.gate = gate_new(&w.cfg, w.store, w.leaders, w.worker);
    reset_store();
}

/* ---- one input ---- */

/* Copy src into out with the placeholders filled in. */
static size_t expand(const uint8_t *src, size_t len, int user, char *out, size_t cap)
{
    size_t n = 0;
    char key[44];
    memset(key, 'A' + user, 42);
    key[42] = 'Q'; /* 32 bytes of base64url end in one of AEIMQUYcgkosw048 */
    key[43] = '\0';
    char session[24];
    snprintf(session, sizeof(session), "%" PRId64, w.session);
    for (size_t i = 0; i < len; i++) {
        const char *sub = NULL;
        if (src[i] == '@' && i + 1 < len) {
            switch (src[i + 1]) {
            case 'I':
                sub = w.invite;
                break;
            case 'T':
                sub = w.token;
                break;
            case 'S':
                sub = session;
                break;
            case 'K':
                sub = key;
                break;
            }
        }
        size_t sl = sub ? strlen(sub) : 1;
        if (n + sl >= cap)
            break;
        if (sub) {
            memcpy(out + n, sub, sl);
            i++;
        } else {
            out[n] = (char)src[i];
        }
        n += sl;
    }
    return n;
}

/* Wait until the store worker has answered every request (a hello, an
 * audit row, a ban): each step then ends in one state, and nothing is left
 * for the next input's rooms. */
static void settle(void)
{
    while (storeq_outstanding(w.worker)) {
        pthread_mutex_lock(&wake_mu);
        while (!wakes)
            pthread_cond_wait(&wake_cv, &wake_mu);
        wakes = 0;
        pthread_mutex_unlock(&wake_mu);
        storeq_drain(w.worker);
    }
}

/* Tear down what the room closed (or the input dropped), as conn_free does. */
static void drop(struct rooms *rs, struct conn **c)
{
    if ((*c)->member) {
        assert((*c)->member->conn == *c);
        room_conn_lost(rs, (*c)->member);
    }
    free(*c);
    *c = xcalloc(1, sizeof(**c));
}

static void check_members(struct conn *conns[USERS])
{
    for (int i = 0; i < USERS; i++) {
        struct member *m = conns[i]->member;
        if (!m)
            continue;
        assert(m->conn == conns[i]);
        for (int j = 0; j < i; j++) {
            struct member *o = conns[j]->member;
            assert(!o || o != m);
            assert(!o || o->room != m->room || m->role != PROTO_ROLE_LEADER ||
                   o->role != PROTO_ROLE_LEADER);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    renew_login();
    size_t frames_before = frame_live_count();
    struct proto_limits pl = {w.cfg.limits.max_message_bytes, w.cfg.limits.max_text_chars,
                              w.cfg.limits.max_name_chars};
    struct rooms *rs = room_registry_new(&w.cfg, w.ctx, 0x6b6d7274, w.gate);
    struct conn *conns[USERS];
    for (int i = 0; i < USERS; i++)
        conns[i] = xcalloc(1, sizeof(*conns[i]));
    char text[TEXT_MAX + 256];
    size_t i = 0;
    while (i + 2 <= size) {
        int user = data[i] & (USERS - 1);
        bool lost = data[i] & 0x80;
        size_t len = data[i + 1];
        i += 2;
        if (len > size - i)
            len = size - i;
        if (lost)
            drop(rs, &conns[user]);
        size_t n = expand(data + i, len, user, text, sizeof(text));
        i += len;
        struct proto_cmd cmd;
        if (proto_decode(text, n, &pl, &cmd) == PROTO_OK)
            room_dispatch(rs, conns[user], &cmd);
        proto_cmd_clear(&cmd);
        settle();
        for (int u = 0; u < USERS; u++)
            if (conns[u]->close_code)
                drop(rs, &conns[u]);
        check_members(conns);
    }
    for (int u = 0; u < USERS; u++) {
        conns[u]->close_code = PROTO_CLOSE_GOING_AWAY;
        drop(rs, &conns[u]);
        free(conns[u]);
    }
    settle(); /* the rooms' last requests (a session's end) answered first */
    room_registry_free(rs);
    assert(frame_live_count() == frames_before);
    if (sqlite3_total_changes(db_sqlite_handle(w.store->db)) != w.changes)
        reset_store();
    return 0;
}
