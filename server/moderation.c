#include "moderation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "gate.h"
#include "klog.h"
#include "metrics.h"
#include "room_int.h"
#include "round.h"
#include "util.h"

static const struct ring_tag to_room = {.audience = AUD_ROOM};

/* A handler's answer beyond PROTO_OK (ack) and an error code: it has sent
 * its own reply. */
#define REPLIED (-1)

/* One request being carried out. */
struct act {
    struct conn *c;
    struct member *m;
    struct room *r;
    const struct proto_cmd *cmd;
    const char *ref;
    uint64_t seq0; /* the room's seq before: the ack names the last event caused */
};

static uint64_t now_ms(void)
{
    return util_wall_ms();
}

/* A moderation action that changed something: counted and logged, without
 * who did it (the audit row has that) and never with text. */
static void counted(const struct act *a, const char *action, const char *what)
{
    metrics_inc(METRIC_MODERATION);
    klog_info("moderation action=%s session=%llu target=%s", action,
              (unsigned long long)a->r->session.id, what ? what : "session");
}

/* One audit row: action by the acting leader, on target (NULL: the
 * session). */
static void audit(const struct act *a, const char *action, const char *what)
{
    char actor[PROTO_ROOM_MAX + 16];
    room_actor(a->m, actor, sizeof(actor));
    gate_audit(a->m->rs->gate, a->r->group_id, a->r->session.id, action, actor, what);
    counted(a, action, what);
}

/* An audit target such as "member:7", valid to the end of the statement. */
struct target {
    char s[48];
};

static struct target target(const char *kind, uint64_t v)
{
    struct target t;
    snprintf(t.s, sizeof(t.s), "%s%llu", kind, (unsigned long long)v);
    return t;
}

enum where { ANYWHERE, ADMITTED, WAITING };

/* The member the request names, where the request needs it (not_found
 * otherwise); a moderation target must be a participant (forbidden). */
static int find_target(const struct act *a, enum where where, bool participant_only,
                       struct member **out)
{
    struct member *t = room_member(a->r, a->cmd->act.member);
    if (!t || (where == ADMITTED && t->in_lobby) || (where == WAITING && !t->in_lobby))
        return PROTO_E_NOT_FOUND;
    if (participant_only && is_leader(t))
        return PROTO_E_FORBIDDEN;
    *out = t;
    return PROTO_OK;
}

/* ---- events ---- */

static void emit_hands(struct room *r)
{
    room_emit(r, to_room, proto_encode_hands(room_next_seq(r), r->hands, r->hand_count, now_ms()));
}

/* Announce the round; one whose last speaker is through is over. */
static void emit_round(struct room *r)
{
    if (r->round && !round_speaker(r->round)) {
        round_free(r->round);
        r->round = NULL;
    }
    struct proto_round view;
    if (r->round)
        round_view(r->round, &view);
    room_emit(r, to_room, proto_encode_round(room_next_seq(r), r->round ? &view : NULL, now_ms()));
}

/* Tell every membership of the person s is about, and the leaders, how s's
 * mute stands now. */
static void emit_mute(struct sanction *s, uint32_t by)
{
    struct room *r = s->room;
    for (uint32_t i = 0; i < r->count; i++) {
        const struct member *t = r->members[i];
        if (t->s != s)
            continue;
        room_emit(
            r, (struct ring_tag){.audience = AUD_PRIVATE, .a = t->id},
            proto_encode_mute(room_next_seq(r), t->id, s->muted, s->muted_until, by, now_ms()));
    }
}

void moderation_alert(struct member *m, enum alert_kind kind, uint64_t target)
{
    static const char *const kinds[] = {
        [ALERT_NOT_OK] = "not_ok",
        [ALERT_REPORT] = "report",
        [ALERT_RISK_WORD] = "risk_word",
        [ALERT_SAFE] = "safe",
        [ALERT_DISCONNECTED] = "disconnected",
        [ALERT_RETURNED] = "returned",
    };
    struct room *r = m->room;
    if (!r->session.id || m->role == PROTO_ROLE_LEADER)
        return;
    if (kind >= ALERT_DISCONNECTED && (m->in_lobby || r->state != PROTO_STATE_OPEN))
        return;
    metrics_inc(METRIC_ALERTS);
    room_emit(r, (struct ring_tag){.audience = AUD_LEADERS},
              proto_encode_alert(room_next_seq(r), kinds[kind], m->id, m->name, target, now_ms()));
}

/* ---- hands and rounds as members come and go ---- */

static bool hand_drop(struct room *r, uint32_t id)
{
    for (uint32_t i = 0; i < r->hand_count; i++) {
        if (r->hands[i] == id) {
            memmove(r->hands + i, r->hands + i + 1, (r->hand_count - i - 1) * sizeof(*r->hands));
            r->hand_count--;
            return true;
        }
    }
    return false;
}

void moderation_drop_turns(struct member *m)
{
    struct room *r = m->room;
    if (hand_drop(r, m->id))
        emit_hands(r);
    if (r->round && round_drop(r->round, m->id))
        emit_round(r);
}

/* ---- posting rules ---- */

enum proto_err moderation_may_post(struct member *m, struct proto_error_detail *d)
{
    struct room *r = m->room;
    const struct sanction *s = m->s;
    if (s->muted) {
        d->until = (int64_t)s->muted_until;
        return PROTO_E_MUTED;
    }
    if (r->read_only)
        return PROTO_E_READ_ONLY;
    if (r->paused)
        return PROTO_E_PAUSED;
    if (r->round && round_exclusive(r->round) && round_speaker(r->round) != m->id)
        return PROTO_E_NOT_YOUR_TURN;
    if (r->slow_mode && s->last_post_ms) {
        uint64_t next = s->last_post_ms + (uint64_t)r->slow_mode * 1000, now = util_now_ms();
        if (now < next) {
            d->retry_after_ms = (int64_t)(next - now);
            return PROTO_E_SLOW_MODE;
        }
    }
    return PROTO_OK;
}

void moderation_check_risk(struct member *m, uint64_t seq, const char *text, size_t len)
{
    struct room *r = m->room;
    if (m->role == PROTO_ROLE_LEADER || !gate_risky(m->rs->gate, text, len))
        return;
    moderation_alert(m, ALERT_RISK_WORD, seq);
    room_emit(r, (struct ring_tag){.audience = AUD_ONE, .a = m->id},
              proto_encode_notice(room_next_seq(r), "crisis", now_ms()));
}

/* ---- the lobby ---- */

static int do_admit(struct act *a)
{
    struct room *r = a->r;
    if (r->state != PROTO_STATE_OPEN)
        return PROTO_E_WRONG_STATE;
    struct member *t;
    if (a->cmd->act.all) {
        bool any = false;
        for (uint32_t i = 0; i < r->count; i++) {
            if (r->members[i]->in_lobby) {
                room_admit(r->members[i]);
                any = true;
            }
        }
        if (!any)
            return PROTO_OK;
        room_lobby_changed(r);
        audit(a, "admit", "all");
        return PROTO_OK;
    }
    int e = find_target(a, WAITING, true, &t);
    if (e)
        return e;
    uint32_t id = t->id;
    room_admit(t);
    room_lobby_changed(r);
    audit(a, "admit", target("member:", id).s);
    return PROTO_OK;
}

static void deny(struct member *w)
{
    if (w->conn)
        conn_close(w->conn, PROTO_CLOSE_REMOVED, "denied");
    room_member_remove(w, NULL); /* unseen: no presence, the lobby changes */
}

static int do_deny(struct act *a)
{
    struct room *r = a->r;
    struct member *t;
    if (a->cmd->act.all) {
        bool any = false;
        for (uint32_t i = r->count; i-- > 0;) { /* removal swaps the last one in */
            if (r->members[i]->in_lobby) {
                deny(r->members[i]);
                any = true;
            }
        }
        if (any)
            audit(a, "deny", "all");
        return PROTO_OK;
    }
    int e = find_target(a, WAITING, true, &t);
    if (e)
        return e;
    uint32_t id = t->id;
    deny(t);
    audit(a, "deny", target("member:", id).s);
    return PROTO_OK;
}

static int do_to_lobby(struct act *a)
{
    struct member *t;
    int e = find_target(a, ADMITTED, true, &t);
    if (e)
        return e;
    moderation_drop_turns(t);
    room_remember(t, false);
    t->in_lobby = true; /* before the presence: it is no longer in the room to hear it */
    room_emit_presence(t, false, "lobby");
    if (t->conn)
        room_send_welcome(t, NULL, NULL, false, false);
    room_lobby_changed(a->r);
    audit(a, "to_lobby", target("member:", t->id).s);
    return PROTO_OK;
}

/* ---- mute ---- */

/* The mute belongs to the person (README §4a "Sanctions follow the
 * person"): it is kept in their record, which outlives their membership,
 * and its timeout runs whether they are in the room or not. */

static void unmute(struct sanction *s, uint32_t by)
{
    s->muted = false;
    s->muted_until = 0;
    lws_sul_cancel(&s->mute_end);
    emit_mute(s, by);
}

static void mute_expired(lws_sorted_usec_list_t *sul)
{
    struct sanction *s = lws_container_of(sul, struct sanction, mute_end);
    struct room *r = s->room;
    unmute(s, 0);
    room_mirror_dirty(r); /* no event when the person is away */
    room_sanction_tidy(s);
}

void moderation_mute_rearm(struct sanction *s)
{
    if (!s->muted || !s->muted_until)
        return;
    uint64_t now = now_ms();
    uint64_t left = s->muted_until > now ? s->muted_until - now : 0;
    lws_sul_schedule(s->room->rs->ctx, 0, &s->mute_end, mute_expired, (lws_usec_t)left * 1000);
}

static int do_mute(struct act *a)
{
    struct member *t;
    int e = find_target(a, ANYWHERE, true, &t);
    if (e)
        return e;
    struct sanction *s = t->s;
    uint32_t minutes = a->cmd->act.minutes;
    if (s->muted && !minutes && !s->muted_until)
        return PROTO_OK; /* muted until unmuted already */
    s->muted = true;
    uint64_t seconds = (uint64_t)minutes * t->rs->minute_seconds;
    s->muted_until = minutes ? now_ms() + seconds * 1000 : 0;
    lws_sul_cancel(&s->mute_end);
    if (minutes)
        lws_sul_schedule(t->rs->ctx, 0, &s->mute_end, mute_expired,
                         (lws_usec_t)seconds * LWS_US_PER_SEC);
    emit_mute(s, a->m->id);
    audit(a, "mute", target("member:", t->id).s);
    return PROTO_OK;
}

static int do_unmute(struct act *a)
{
    struct member *t;
    int e = find_target(a, ANYWHERE, true, &t);
    if (e || !t->s->muted)
        return e;
    unmute(t->s, a->m->id);
    audit(a, "unmute", target("member:", t->id).s);
    return PROTO_OK;
}

/* ---- remove and ban ---- */

/* A request answered when the store worker is done (gate_ban, gate_unban,
 * gate_bans): who asked is looked up again then, since the room, the member
 * and its connection may be gone; the room never waits. */
struct later {
    struct rooms *rs;
    uint64_t session_id;
    uint32_t member;
    enum proto_type type;
    uint64_t seq;               /* the ack's */
    uint64_t ban;               /* unban: the ban lifted, for the count */
    char ref[PROTO_ID_MAX + 1]; /* "" when the request had no id */
};

static struct later *later_new(const struct act *a, uint64_t seq)
{
    struct later *l = xcalloc(1, sizeof(*l));
    *l = (struct later){.rs = a->m->rs,
                        .session_id = a->r->session.id,
                        .member = a->m->id,
                        .type = a->cmd->type,
                        .seq = seq,
                        .ban = a->cmd->act.ban};
    snprintf(l->ref, sizeof(l->ref), "%s", a->cmd->id);
    return l;
}

static void later_answer(void *arg, enum proto_err e, int64_t ban_id, const struct proto_ban *bans,
                         size_t n)
{
    struct later *l = arg;
    struct room *r = room_of_session(l->rs, l->session_id);
    struct member *m = r ? room_member(r, l->member) : NULL;
    const char *ref = l->ref[0] ? l->ref : NULL;
    if (!e && l->type == PROTO_UNBAN && r) {
        metrics_inc(METRIC_MODERATION); /* the store wrote the audit row */
        klog_info("moderation action=unban session=%llu target=ban:%llu",
                  (unsigned long long)l->session_id, (unsigned long long)l->ban);
    }
    struct frame *f = NULL;
    if (!m || !m->conn)
        ; /* nobody to tell */
    else if (e)
        conn_send_error(m->conn, e, ref, NULL);
    else if (l->type == PROTO_BAN)
        f = proto_encode_ack_ban(ref, l->seq, ban_id);
    else if (l->type == PROTO_BANS)
        f = proto_encode_bans(ref, bans, n);
    else
        room_send_ack(m->conn, ref, 0, false);
    if (f) {
        conn_send(m->conn, f);
        frame_unref(f);
    }
    free(l);
}

/* Take t out for the rest of the session (and with ban, from the group):
 * 4403 to its connection, presence removed to the room, at once. A ban's
 * row follows on the store worker, and its ack (with the ban's id) when
 * the store has it. */
static int eject(struct act *a, bool ban)
{
    struct member *t;
    int e = find_target(a, ANYWHERE, true, &t);
    if (e)
        return e;
    uint32_t id = t->id;
    char actor[PROTO_ROOM_MAX + 16];
    room_actor(a->m, actor, sizeof(actor));
    struct later *l = NULL;
    if (ban && (t->who.invite_id || t->who.has_key)) {
        l = later_new(a, 0);
        if (gate_ban(t->rs->gate, a->r->session.id, t->who.invite_id,
                     t->who.has_key ? t->who.key_hash : NULL, t->name, actor, later_answer,
                     l) < 0) {
            free(l); /* not kept (logged): the ack says ban null */
            l = NULL;
        }
    }
    t->s->removed = true; /* they knock when back (kept only if recognisable) */
    room_remember(t, false);
    if (t->conn)
        conn_close(t->conn, PROTO_CLOSE_REMOVED, ban ? "banned" : "removed");
    room_member_remove(t, "removed");
    uint64_t seq = a->r->seq > a->seq0 ? a->r->seq : 0;
    if (l)
        l->seq = seq; /* its answer runs later, from the worker's queue */
    if (!l)           /* a stored ban writes its own row */
        audit(a, ban ? "ban" : "remove", target("member:", id).s);
    else
        counted(a, "ban", target("member:", id).s);
    if (!ban || l)
        return l ? REPLIED : PROTO_OK;
    struct frame *f = proto_encode_ack_ban(a->ref, seq, 0);
    conn_send(a->c, f);
    frame_unref(f);
    return REPLIED;
}

static int do_remove(struct act *a)
{
    return eject(a, false);
}

static int do_ban(struct act *a)
{
    return eject(a, true);
}

/* Unban and bans are answered from the store worker; a full queue is busy. */
static int ask_store(struct act *a)
{
    char actor[PROTO_ROOM_MAX + 16];
    room_actor(a->m, actor, sizeof(actor));
    struct later *l = later_new(a, 0);
    struct gate *g = a->m->rs->gate;
    int rc = a->cmd->type == PROTO_UNBAN
                 ? gate_unban(g, a->r->session.id, (int64_t)a->cmd->act.ban, actor, later_answer, l)
                 : gate_bans(g, a->r->session.id, later_answer, l);
    if (rc < 0) {
        free(l);
        return PROTO_E_BUSY;
    }
    return REPLIED;
}

/* ---- messages ---- */

/* The message with act.seq, if a is allowed to see it: its frame and tag. */
static struct frame *heard_message(const struct act *a, struct ring_tag *tag)
{
    struct frame *f = ring_get(a->r->ring, a->cmd->act.seq, tag);
    return f && tag->author && room_hears(a->m, tag) ? f : NULL;
}

static int do_delete(struct act *a)
{
    struct ring_tag tag;
    struct frame *f = heard_message(a, &tag);
    if (!f)
        return PROTO_E_NOT_FOUND;
    bool own = tag.author == a->m->id;
    if (!own && !is_leader(a->m))
        return PROTO_E_FORBIDDEN;
    struct frame *tomb = proto_encode_tombstone(f);
    if (!tomb)
        return PROTO_OK;                              /* deleted already */
    ring_replace(a->r->ring, a->cmd->act.seq, tomb);  /* the text is wiped with its last ref */
    room_mirror_replace(a->r, a->cmd->act.seq, tomb); /* ... and its copy goes too */
    frame_unref(tomb);
    struct ring_tag event = tag;
    event.author = 0;
    room_emit(a->r, event,
              proto_encode_deleted(room_next_seq(a->r), a->cmd->act.seq, a->m->id, now_ms()));
    if (!own)
        audit(a, "delete", target("seq:", a->cmd->act.seq).s);
    return PROTO_OK;
}

static int do_report(struct act *a)
{
    struct ring_tag tag;
    if (!heard_message(a, &tag))
        return PROTO_E_NOT_FOUND;
    moderation_alert(a->m, ALERT_REPORT, a->cmd->act.seq);
    return PROTO_OK;
}

static int do_not_ok(struct act *a)
{
    moderation_alert(a->m, ALERT_NOT_OK, 0);
    return PROTO_OK;
}

/* ---- the room's switches ---- */

static int set_switch(struct act *a, bool *flag, const char *on, const char *off)
{
    if (*flag == a->cmd->act.on)
        return PROTO_OK;
    *flag = a->cmd->act.on;
    room_announce_flags(a->r, a->m->id);
    audit(a, *flag ? on : off, NULL);
    return PROTO_OK;
}

static int do_lock(struct act *a)
{
    return set_switch(a, &a->r->locked, "lock", "unlock");
}

static int do_pause(struct act *a)
{
    return set_switch(a, &a->r->paused, "pause", "unpause");
}

static int do_slow(struct act *a)
{
    uint32_t seconds = a->cmd->act.seconds;
    if (a->r->slow_mode == seconds)
        return PROTO_OK;
    a->r->slow_mode = seconds;
    room_announce_flags(a->r, a->m->id);
    audit(a, "slow_mode", target("", seconds).s);
    return PROTO_OK;
}

static int do_topic(struct act *a)
{
    struct room *r = a->r;
    const char *text = a->cmd->act.text;
    size_t len = a->cmd->act.text_len;
    const char *now = r->topic ? r->topic : "";
    if (strlen(now) == len && memcmp(now, text, len) == 0)
        return PROTO_OK;
    if (r->topic)
        wipe(r->topic, strlen(r->topic)); /* a topic is message text too */
    free(r->topic);
    r->topic = len ? xstrndup(text, len) : NULL;
    room_announce_flags(r, a->m->id);
    audit(a, "topic", NULL);
    return PROTO_OK;
}

/* ---- roles ---- */

static void emit_role(struct act *a, struct member *t)
{
    room_emit(a->r, to_room,
              proto_encode_role(room_next_seq(a->r), t->id, t->role, a->m->id, now_ms()));
}

/* promote (to co-leader) and demote (to participant); leaders come from the
 * store and are not for the room to change. */
static int set_role(struct act *a, enum proto_role to, const char *action)
{
    struct member *t;
    int e = find_target(a, ADMITTED, false, &t);
    if (e)
        return e;
    if (t->role == PROTO_ROLE_LEADER)
        return PROTO_E_FORBIDDEN;
    if (t->role == to)
        return PROTO_OK; /* already */
    t->role = to;
    bool up = to == PROTO_ROLE_CO_LEADER;
    if (up)
        a->r->participants--; /* max_participants counts participants */
    else
        a->r->participants++;
    emit_role(a, t);
    if (up)
        room_lobby_changed(a->r); /* the new co-leader sees who waits */
    audit(a, action, target("member:", t->id).s);
    return PROTO_OK;
}

static int do_promote(struct act *a)
{
    return set_role(a, PROTO_ROLE_CO_LEADER, "promote");
}

static int do_demote(struct act *a)
{
    return set_role(a, PROTO_ROLE_PARTICIPANT, "demote");
}

static int do_end(struct act *a)
{
    char actor[PROTO_ROOM_MAX + 16];
    room_actor(a->m, actor, sizeof(actor));
    room_send_ack(a->c, a->ref, a->r->seq + 1, false);
    room_end(a->r, actor, true); /* frees the room and a->m */
    return REPLIED;
}

/* ---- rounds ---- */

/* Is every id in order an admitted member other than the speaker? */
static bool order_valid(const struct room *r, const uint32_t *order, size_t n, uint32_t speaker)
{
    for (size_t i = 0; i < n; i++) {
        const struct member *o = room_member(r, order[i]);
        if (!o || o->in_lobby || o->id == speaker)
            return false;
    }
    return true;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

static int do_round_start(struct act *a)
{
    struct room *r = a->r;
    const struct proto_cmd *cmd = a->cmd;
    if (r->round)
        return PROTO_E_WRONG_STATE;
    uint32_t dflt[PROTO_ORDER_MAX];
    const uint32_t *order = cmd->act.order;
    size_t n = cmd->act.order_len;
    if (n && !order_valid(r, order, n, 0))
        return PROTO_E_NOT_FOUND;
    if (!n) { /* every admitted participant, in the order they came */
        for (uint32_t i = 0; i < r->count && n < PROTO_ORDER_MAX; i++) {
            const struct member *o = r->members[i];
            if (!o->in_lobby && o->role == PROTO_ROLE_PARTICIPANT)
                dflt[n++] = o->id;
        }
        qsort(dflt, n, sizeof(*dflt), cmp_u32);
        order = dflt;
    }
    if (!n)
        return PROTO_E_WRONG_STATE; /* nobody to take a turn */
    r->round = round_new(cmd->act.kind, order, n, cmd->act.exclusive);
    emit_round(r);
    audit(a, "round_start", NULL);
    return PROTO_OK;
}

/* pass, done (the speaker, or a leader for them) and skip (leaders). */
static int round_turn(struct act *a, bool done, const char *action)
{
    struct room *r = a->r;
    if (!r->round)
        return PROTO_E_WRONG_STATE;
    if (round_speaker(r->round) != a->m->id && !is_leader(a->m))
        return PROTO_E_NOT_YOUR_TURN;
    round_advance(r->round, done);
    emit_round(r);
    if (action)
        audit(a, action, NULL);
    return PROTO_OK;
}

static int do_round_pass(struct act *a)
{
    return round_turn(a, false, NULL);
}

static int do_round_done(struct act *a)
{
    return round_turn(a, true, NULL);
}

static int do_round_skip(struct act *a)
{
    return round_turn(a, false, "round_skip");
}

static int do_round_order(struct act *a)
{
    struct room *r = a->r;
    if (!r->round)
        return PROTO_E_WRONG_STATE;
    const uint32_t *order = a->cmd->act.order;
    size_t n = a->cmd->act.order_len;
    if (!order_valid(r, order, n, round_speaker(r->round)))
        return PROTO_E_NOT_FOUND;
    round_reorder(r->round, order, n);
    emit_round(r);
    audit(a, "round_order", NULL);
    return PROTO_OK;
}

static int do_round_end(struct act *a)
{
    struct room *r = a->r;
    if (!r->round)
        return PROTO_E_WRONG_STATE;
    round_free(r->round);
    r->round = NULL;
    emit_round(r);
    audit(a, "round_end", NULL);
    return PROTO_OK;
}

/* ---- hands ---- */

static int do_hand(struct act *a)
{
    struct room *r = a->r;
    struct member *t = a->m;
    bool up = a->cmd->act.on;
    if (a->m->in_lobby)
        return PROTO_E_IN_LOBBY;
    if (a->cmd->act.member && a->cmd->act.member != a->m->id) {
        if (!is_leader(a->m) || up)
            return PROTO_E_FORBIDDEN; /* leaders may lower another's hand, not raise it */
        int e = find_target(a, ADMITTED, false, &t);
        if (e)
            return e;
    }
    if (!up) {
        if (hand_drop(r, t->id))
            emit_hands(r);
        return PROTO_OK;
    }
    for (uint32_t i = 0; i < r->hand_count; i++) {
        if (r->hands[i] == t->id)
            return PROTO_OK;
    }
    r->hands = xrealloc(r->hands, (r->hand_count + 1) * sizeof(*r->hands));
    r->hands[r->hand_count++] = t->id;
    emit_hands(r);
    return PROTO_OK;
}

/* ---- dispatch: the permission matrix (README §4a) ---- */

enum who { ANYONE, LEADERS, LEADER };

static const struct {
    enum who who;
    int (*fn)(struct act *a);
} handlers[] = {
    [PROTO_ADMIT] = {LEADERS, do_admit},
    [PROTO_DENY] = {LEADERS, do_deny},
    [PROTO_TO_LOBBY] = {LEADERS, do_to_lobby},
    [PROTO_MUTE] = {LEADERS, do_mute},
    [PROTO_UNMUTE] = {LEADERS, do_unmute},
    [PROTO_REMOVE] = {LEADERS, do_remove},
    [PROTO_BAN] = {LEADER, do_ban},
    [PROTO_UNBAN] = {LEADER, ask_store},
    [PROTO_BANS] = {LEADER, ask_store},
    [PROTO_DELETE] = {ANYONE, do_delete}, /* one's own; others' checked inside */
    [PROTO_LOCK] = {LEADERS, do_lock},
    [PROTO_PAUSE] = {LEADERS, do_pause},
    [PROTO_SLOW] = {LEADERS, do_slow},
    [PROTO_TOPIC] = {LEADERS, do_topic},
    [PROTO_PROMOTE] = {LEADER, do_promote},
    [PROTO_DEMOTE] = {LEADER, do_demote},
    [PROTO_END] = {LEADER, do_end},
    [PROTO_ROUND_START] = {LEADERS, do_round_start},
    [PROTO_ROUND_PASS] = {ANYONE, do_round_pass},
    [PROTO_ROUND_DONE] = {ANYONE, do_round_done},
    [PROTO_ROUND_SKIP] = {LEADERS, do_round_skip},
    [PROTO_ROUND_ORDER] = {LEADERS, do_round_order},
    [PROTO_ROUND_END] = {LEADERS, do_round_end},
    [PROTO_HAND] = {ANYONE, do_hand},
    [PROTO_NOT_OK] = {ANYONE, do_not_ok},
    [PROTO_REPORT] = {ANYONE, do_report},
};

static bool permitted(enum who who, const struct member *m)
{
    return who == ANYONE || (who == LEADERS && is_leader(m)) ||
           (who == LEADER && m->role == PROTO_ROLE_LEADER);
}

bool moderation_dispatch(struct conn *c, struct member *m, const struct proto_cmd *cmd)
{
    if ((unsigned)cmd->type >= ARRAY_LEN(handlers) || !handlers[cmd->type].fn)
        return false;
    struct act a = {c, m, m->room, cmd, cmd->id[0] ? cmd->id : NULL, m->room->seq};
    int e = permitted(handlers[cmd->type].who, m) ? handlers[cmd->type].fn(&a) : PROTO_E_FORBIDDEN;
    if (e == REPLIED)
        return true;
    if (e)
        conn_send_error(c, (enum proto_err)e, a.ref, NULL);
    else
        room_send_ack(c, a.ref, a.r->seq > a.seq0 ? a.r->seq : 0, false);
    return true;
}
