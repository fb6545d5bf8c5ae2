/*
 * A room's state as the mirror keeps it (mirror.h), and taking a room over
 * from that copy on the next home node.
 *
 * The copy holds what a member needs to resume and what leaders set: the
 * members (ids, names, roles, the lobby, agreements, mutes, what a ban
 * recognises, resume token digests, a leader's login_gen), the switches, the topic, the people
 * the room knows by identity (their mutes, removals and last room messages:
 * room_sanction.c, with whether each was counted for attendance), the
 * attendance counts, and the session's facts. Raised hands and a running
 * round are not copied: after a takeover leaders start them again. Neither
 * are rate buckets: they start full.
 *
 * A planned restart of a single node (handover.h) carries every room over
 * in this same JSON, with what only the same machine can use besides: the
 * ring's events, each member's recent client message ids (their SipHash
 * digests, valid because the new process takes over the hash key), the
 * raised hands and the round (room_handover_save, room_handover_load).
 *
 * Nodes of the release before the sanctions table read only the members'
 * mutes and the "removed" list, so both are still written, and a copy from
 * such a node (without "sanctions") is read from them.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hmap.h"
#include "klog.h"
#include "mirror.h"
#include "moderation.h"
#include "round.h"
#include "room_int.h"
#include "util.h"

#define STATE_VERSION 1

/*
 * What moves with a room, declared once: every plain field of a room and of
 * a member that its next home needs, with its name in the copy. state_json
 * writes exactly these and room_adopt reads exactly these, so a field added
 * here moves, and a field of moderation state left out of here does not
 * (tests/cluster/session.test.mjs compares each member's welcome before and
 * after a move). Beside them, by hand below: the room's epoch, key, seq and
 * session, and a member's name, token digest, identity and mute (which live
 * in its sanction record, room_sanction.c), and the sanctions.
 */
enum field_kind {
    FIELD_BOOL,  /* bool */
    FIELD_FLAG,  /* bool; false when the copy has none (an older node's) */
    FIELD_U32,   /* uint32_t, and the enums (int-sized) */
    FIELD_U64,   /* uint64_t */
    FIELD_I64,   /* int64_t; 0 when the copy has none (an older node's) */
    FIELD_CHARS, /* char[size], NUL-terminated */
    FIELD_TEXT,  /* char *, owned; NULL or "" when none */
};

struct field {
    const char *key;
    enum field_kind kind;
    size_t offset, size;
};

#define FIELD(type, name, key, kind)                                                               \
    {                                                                                              \
        key, kind, offsetof(struct type, name), sizeof(((struct type *)0)->name)                   \
    }

static const struct field room_fields[] = {
    FIELD(room, label, "label", FIELD_CHARS),
    FIELD(room, state, "state", FIELD_U32),
    FIELD(room, next_member_id, "next_member_id", FIELD_U32),
    FIELD(room, max_participants, "max_participants", FIELD_U32),
    FIELD(room, whole_history, "whole_history", FIELD_BOOL),
    FIELD(room, private_messages, "private_messages", FIELD_CHARS),
    FIELD(room, locked, "locked", FIELD_BOOL),
    FIELD(room, paused, "paused", FIELD_BOOL),
    FIELD(room, read_only, "read_only", FIELD_BOOL),
    FIELD(room, slow_mode, "slow_mode", FIELD_U32),
    FIELD(room, topic, "topic", FIELD_TEXT),
    FIELD(room, group_id, "group_id", FIELD_I64),
    FIELD(room, admitted_count, "attendance_admitted", FIELD_I64),
    FIELD(room, peak, "attendance_peak", FIELD_I64),
    FIELD(room, leaders_count, "attendance_leaders", FIELD_I64),
    FIELD(room, restored, "restored", FIELD_FLAG),
};

static const struct field member_fields[] = {
    FIELD(member, id, "id", FIELD_U32),
    FIELD(member, role, "role", FIELD_U32),
    FIELD(member, joined_seq, "joined_seq", FIELD_U64),
    FIELD(member, in_lobby, "lobby", FIELD_BOOL),
    FIELD(member, knocked, "knocked", FIELD_BOOL),
    FIELD(member, agreed, "agreed", FIELD_BOOL),
    FIELD(member, login_gen, "login_gen", FIELD_I64),
};

#define FIELDS(v) v, sizeof(v) / sizeof(v[0])

static_assert(sizeof(enum proto_state) == sizeof(uint32_t) &&
                  sizeof(enum proto_role) == sizeof(uint32_t),
              "FIELD_U32 holds the enums");

/* Add the fields of obj (a struct room or member) to o. */
static void fields_put(json_t *o, const struct field *f, size_t n, const void *obj)
{
    for (size_t i = 0; i < n; i++) {
        const char *at = (const char *)obj + f[i].offset;
        json_t *v = NULL;
        switch (f[i].kind) {
        case FIELD_BOOL:
        case FIELD_FLAG:
            v = json_boolean(*(const bool *)at);
            break;
        case FIELD_U32:
            v = json_integer(*(const uint32_t *)at);
            break;
        case FIELD_U64:
            v = json_integer((json_int_t) * (const uint64_t *)at);
            break;
        case FIELD_I64:
            v = json_integer(*(const int64_t *)at);
            break;
        case FIELD_CHARS:
            v = json_string(at);
            break;
        case FIELD_TEXT:
            v = *(char *const *)at ? json_string(*(char *const *)at) : json_null();
            break;
        }
        json_object_set_new(o, f[i].key, v);
    }
}

/* Read the fields of o into obj (a struct room or member): false when one
 * is missing or of another type. An I64, FLAG or TEXT field may be missing
 * (a copy from an older node). */
static bool fields_get(json_t *o, const struct field *f, size_t n, void *obj)
{
    for (size_t i = 0; i < n; i++) {
        char *at = (char *)obj + f[i].offset;
        json_t *v = json_object_get(o, f[i].key);
        switch (f[i].kind) {
        case FIELD_BOOL:
            if (!json_is_boolean(v))
                return false;
            *(bool *)at = json_is_true(v);
            break;
        case FIELD_FLAG:
            if (v && !json_is_boolean(v))
                return false;
            *(bool *)at = json_is_true(v);
            break;
        case FIELD_U32:
        case FIELD_U64:
            if (!json_is_integer(v))
                return false;
            if (f[i].kind == FIELD_U32)
                *(uint32_t *)at = (uint32_t)json_integer_value(v);
            else
                *(uint64_t *)at = (uint64_t)json_integer_value(v);
            break;
        case FIELD_I64:
            if (v && !json_is_integer(v))
                return false;
            *(int64_t *)at = v ? json_integer_value(v) : 0;
            break;
        case FIELD_CHARS:
            if (!json_is_string(v) || json_string_length(v) >= f[i].size)
                return false;
            memcpy(at, json_string_value(v), json_string_length(v) + 1);
            break;
        case FIELD_TEXT: {
            const char *t = json_string_value(v);
            if (v && !json_is_null(v) && !t)
                return false;
            *(char **)at = t && t[0] ? xstrdup(t) : NULL;
            break;
        }
        }
    }
    return true;
}

/* ---- writing ---- */

void room_mirror_dirty(struct room *r)
{
    struct rooms *rs = r->rs;
    if (!rs->mirror || r->dirty)
        return;
    if (rs->ndirty == rs->dirty_cap) {
        rs->dirty_cap = rs->dirty_cap ? rs->dirty_cap * 2 : 8;
        rs->dirty = xrealloc(rs->dirty, rs->dirty_cap * sizeof(*rs->dirty));
    }
    rs->dirty[rs->ndirty++] = r;
    r->dirty = true;
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static json_t *identity_json(const struct identity *who)
{
    char kh[65] = "";
    if (who->has_key)
        hex(who->key_hash, sizeof(who->key_hash), kh);
    return json_pack("{s:I, s:s}", "invite", (json_int_t)who->invite_id, "key", kh);
}

static json_t *ids_json(const uint32_t *ids, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    return a;
}

/* A member's recent client message ids, oldest first: [digest, seq] pairs.
 * The digests are hmap_hash values, so only a process with the same hash
 * key can match a resend against them (a planned restart passes it on). */
static json_t *recent_json(const struct member *m)
{
    json_t *a = json_array();
    for (uint32_t k = 0; k < RECENT_IDS; k++) {
        const struct recent *e = &m->recent[(m->recent_next + k) % RECENT_IDS];
        if (e->id_hash)
            json_array_append_new(a,
                                  json_pack("[I, I]", (json_int_t)e->id_hash, (json_int_t)e->seq));
    }
    return a;
}

static json_t *member_json(const struct member *m, bool local)
{
    char th[2 * TOKEN_BYTES + 1];
    hex(m->token_hash, TOKEN_BYTES, th);
    json_t *o = json_pack("{s:s, s:b, s:I, s:o, s:s, s:b}", "name", m->name, "muted", m->s->muted,
                          "muted_until", (json_int_t)m->s->muted_until, "who",
                          identity_json(&m->who), "token", th, "counted", m->s->counted);
    fields_put(o, FIELDS(member_fields), m);
    if (local)
        json_object_set_new(o, "recent", recent_json(m));
    return o;
}

/* A monotonic time as wall-clock ms (another node's monotonic clock is
 * another clock), and back. 0 stays 0: none. */
static uint64_t mono_to_wall(uint64_t mono)
{
    uint64_t now = util_now_ms();
    return mono ? util_wall_ms() - (now > mono ? now - mono : 0) : 0;
}

static uint64_t wall_to_mono(uint64_t wall)
{
    uint64_t now = util_now_ms(), wall_now = util_wall_ms();
    uint64_t ago = wall && wall_now > wall ? wall_now - wall : 0;
    return !wall ? 0 : now > ago ? now - ago : 1;
}

static json_t *sanction_json(const struct sanction *s)
{
    return json_pack("{s:o, s:b, s:b, s:I, s:I, s:b}", "who", identity_json(&s->who), "removed",
                     s->removed, "muted", s->muted, "muted_until", (json_int_t)s->muted_until,
                     "last_post", (json_int_t)mono_to_wall(s->last_post_ms), "counted", s->counted);
}

static json_t *session_json(const struct proto_session_info *s)
{
    if (!s->id)
        return json_null();
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "id", (json_int_t)s->id, "group",
                     s->group ? s->group : "", "language", s->language ? s->language : "",
                     "description", s->description ? s->description : "", "agreement",
                     s->agreement ? s->agreement : "", "starts_at", (json_int_t)s->starts_at,
                     "ends_at", (json_int_t)s->ends_at);
}

static json_t *round_json(const struct round *rd)
{
    if (!rd)
        return json_null();
    struct proto_round v;
    round_view(rd, &v);
    return json_pack("{s:i, s:b, s:I, s:o, s:o, s:o}", "kind", (int)v.kind, "exclusive",
                     v.exclusive, "speaker", (json_int_t)v.speaker, "queue",
                     ids_json(v.queue, v.queue_len), "done", ids_json(v.done, v.done_len), "passed",
                     ids_json(v.passed, v.passed_len));
}

/* r's state as its copy holds it; local adds what only a process on this
 * machine can use (the handover's: recent ids, hands, the round). NULL when
 * it cannot be encoded. */
static json_t *state_object(const struct room *r, const char *node, bool local)
{
    json_t *members = json_array(), *removed = json_array(), *sanctions = json_array();
    for (uint32_t i = 0; i < r->count; i++)
        json_array_append_new(members, member_json(r->members[i], local));
    for (uint32_t i = 0; i < r->sanction_count; i++) {
        const struct sanction *s = r->sanctions[i];
        json_array_append_new(sanctions, sanction_json(s));
        if (s->removed)
            json_array_append_new(removed, identity_json(&s->who));
    }
    char epoch[17];
    snprintf(epoch, sizeof(epoch), "%016llx", (unsigned long long)r->epoch);
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o}", "v", STATE_VERSION,
                          "node", node, "epoch", epoch, "key", r->key, "seq", (json_int_t)r->seq,
                          "session", session_json(&r->session), "members", members, "removed",
                          removed, "sanctions", sanctions);
    if (!o)
        return NULL;
    fields_put(o, FIELDS(room_fields), r);
    json_t *marks = json_array();
    for (int64_t i = 0; i < r->leaders_count && i < ROOM_LEADER_MARKS; i++)
        json_array_append_new(marks, json_integer((json_int_t)r->leader_marks[i]));
    json_object_set_new(o, "attendance_leader_marks", marks);
    if (local) {
        json_object_set_new(o, "hands", ids_json(r->hands, r->hand_count));
        json_object_set_new(o, "round", round_json(r->round));
    }
    return o;
}

static char *state_json(const struct room *r, const char *node)
{
    json_t *o = state_object(r, node, false);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

/* Write r's state, held by node ("": by nobody, handed off). */
static void write_state(struct room *r, const char *node)
{
    char *text = state_json(r, node);
    if (!text) {
        klog_error("mirror_state_failed reason=\"cannot encode\"");
        return;
    }
    size_t len = strlen(text);
    mirror_state(r->rs->mirror, r->route, text, len);
    wipe(text, len); /* names and the topic */
    free(text);
}

void room_mirror_flush(struct rooms *rs)
{
    for (size_t i = 0; i < rs->ndirty; i++) {
        rs->dirty[i]->dirty = false;
        write_state(rs->dirty[i], rs->node_id);
    }
    rs->ndirty = 0;
}

void room_mirror_release(struct room *r)
{
    if (r->rs->mirror)
        write_state(r, "");
}

void room_hand_off_moved(struct rooms *rs, const char *(*home_of)(void *arg, uint64_t route),
                         void *arg)
{
    size_t pos = 0;
    struct room *r;
    /* Handing off edits the table: start the walk again after each. */
    while ((r = hmap_next(rs->by_name, &pos)) != NULL) {
        const char *home = home_of(arg, r->route);
        if (home && strcmp(home, rs->node_id) != 0) {
            room_hand_off(r);
            pos = 0;
        }
    }
}

void room_mirror_replace(struct room *r, uint64_t seq, struct frame *f)
{
    struct ring_tag tag;
    if (r->rs->mirror && ring_get(r->ring, seq, &tag))
        mirror_replace(r->rs->mirror, r->route, seq, &tag, f);
}

void room_mirror_resync(struct rooms *rs)
{
    size_t pos = 0;
    struct room *r;
    while ((r = hmap_next(rs->by_name, &pos)) != NULL) {
        mirror_restart(rs->mirror, r->route);
        for (uint64_t s = r->seq - ring_count(r->ring) + 1; s <= r->seq && ring_count(r->ring);
             s++) {
            struct ring_tag tag;
            struct frame *f = ring_get(r->ring, s, &tag);
            if (f)
                mirror_push(rs->mirror, r->route, rs->lim->history_size, s, &tag, NULL, f);
        }
        room_mirror_dirty(r);
    }
}

/* ---- taking over ---- */

static bool unhex(const char *in, uint8_t *out, size_t n)
{
    if (!in || strlen(in) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(in + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

static bool identity_from(json_t *o, struct identity *who)
{
    json_int_t invite = 0;
    const char *key = NULL;
    if (json_unpack(o, "{s:I, s:s}", "invite", &invite, "key", &key) < 0)
        return false;
    *who = (struct identity){.invite_id = invite, .has_key = key[0] != '\0'};
    return !who->has_key || unhex(key, who->key_hash, sizeof(who->key_hash));
}

/* The record of the person who (read from the copy's "sanctions", or made
 * now), or NULL when who is unusable. Only a member may be someone nobody
 * can recognise (a record of its own, which the member frees). */
static struct sanction *sanction_for(struct room *r, json_t *who, struct identity *out, bool member)
{
    if (!identity_from(who, out) || (!member && !out->invite_id && !out->has_key))
        return NULL;
    return room_sanction_of(r, out);
}

static bool sanction_from(struct room *r, json_t *o)
{
    json_int_t until = 0, last = 0;
    int removed = 0, muted = 0, counted = 0; /* counted: not in an older node's copy */
    json_t *who = NULL;
    struct identity id;
    struct sanction *s;
    if (json_unpack(o, "{s:o, s:b, s:b, s:I, s:I, s?b}", "who", &who, "removed", &removed, "muted",
                    &muted, "muted_until", &until, "last_post", &last, "counted", &counted) < 0 ||
        !(s = sanction_for(r, who, &id, false)))
        return false;
    s->counted = counted;
    s->removed = removed;
    s->muted = muted;
    s->muted_until = (uint64_t)until;
    s->last_post_ms = wall_to_mono((uint64_t)last);
    return true;
}

/* The member's recent ids as recent_json wrote them. */
static bool recent_from(struct member *m, json_t *a)
{
    size_t i;
    json_t *e;
    if (!json_is_array(a) || json_array_size(a) > RECENT_IDS)
        return false;
    json_array_foreach(a, i, e)
    {
        json_int_t h, seq;
        if (json_unpack(e, "[I, I]", &h, &seq) < 0)
            return false;
        m->recent[i] = (struct recent){(uint64_t)h, (uint64_t)seq};
    }
    m->recent_next = (uint32_t)(json_array_size(a) % RECENT_IDS);
    return true;
}

static bool member_from(struct room *r, json_t *o, bool local)
{
    json_int_t muted_until;
    int muted, counted = 0;
    const char *name, *token;
    json_t *who;
    struct identity ident;
    struct sanction *s;
    if (json_unpack(o, "{s:s, s:b, s:I, s:o, s:s, s?b}", "name", &name, "muted", &muted,
                    "muted_until", &muted_until, "who", &who, "token", &token, "counted",
                    &counted) < 0 ||
        !(s = sanction_for(r, who, &ident, true)))
        return false;
    s->counted = s->counted || counted;
    struct member *m = room_member_alloc(r);
    m->who = ident;
    m->s = s;
    room_sanction_hold(s);
    if (muted && !s->muted) { /* a copy without "sanctions" */
        s->muted = true;
        s->muted_until = (uint64_t)muted_until;
    }
    m->name = xstrdup(name);
    /* A copy made before seats kept login_gen has none: 0, as every account
     * had when the column came (store_schema.c, migration 4). */
    if (!fields_get(o, FIELDS(member_fields), m) ||
        names_key(m->name, strlen(m->name), &m->name_key) < 0 ||
        !unhex(token, m->token_hash, TOKEN_BYTES) ||
        (local && !recent_from(m, json_object_get(o, "recent"))))
        return false;
    if (m->role == PROTO_ROLE_PARTICIPANT)
        r->participants++;
    hmap_put(r->rs->by_token, m->token_hash, sizeof(m->token_hash), m);
    moderation_mute_rearm(s);
    room_member_detached(m);
    return true;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static bool session_from(json_t *o, struct proto_session_info *s)
{
    if (json_is_null(o))
        return true;
    json_int_t id, starts, ends;
    const char *group, *language, *description, *agreement;
    if (json_unpack(o, "{s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "id", &id, "group", &group,
                    "language", &language, "description", &description, "agreement", &agreement,
                    "starts_at", &starts, "ends_at", &ends) < 0)
        return false;
    *s = (struct proto_session_info){
        (uint64_t)id,           dup_or_null(group), dup_or_null(language), dup_or_null(description),
        dup_or_null(agreement), (uint64_t)starts,   (uint64_t)ends};
    return true;
}

/* The recent client message ids of each member, from the copied messages,
 * so a resend after the takeover is still known (idempotent resend). */
static void recall_ids(struct room *r, const struct mirror_entry *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!ev[i].id[0] || !ev[i].tag.author)
            continue;
        struct member *m = room_member(r, ev[i].tag.author);
        if (!m)
            continue;
        m->recent[m->recent_next] =
            (struct recent){hmap_hash(ev[i].id, strlen(ev[i].id)) | 1, ev[i].seq};
        m->recent_next = (m->recent_next + 1) % RECENT_IDS;
    }
}

/* The events to keep: the longest run of consecutive seqs that ends with
 * the last one (anything before a hole could not be replayed anyway). */
static size_t consecutive_from(const struct mirror_entry *ev, size_t n)
{
    size_t first = n ? n - 1 : 0;
    while (first > 0 && ev[first - 1].seq + 1 == ev[first].seq)
        first--;
    return first;
}

/* ids (a JSON array) into a new array of *n; false when it is not one. */
static bool ids_from(json_t *a, uint32_t **ids, size_t *n)
{
    size_t i;
    json_t *e;
    *ids = NULL;
    *n = 0;
    if (!json_is_array(a))
        return false;
    if (json_array_size(a))
        *ids = xmalloc(json_array_size(a) * sizeof(**ids));
    json_array_foreach(a, i, e)
    {
        if (!json_is_integer(e))
            return false;
        (*ids)[(*n)++] = (uint32_t)json_integer_value(e);
    }
    return true;
}

/* The hands and the round as state_object wrote them for a handover. */
static bool hands_and_round_from(struct room *r, json_t *o)
{
    size_t n;
    if (!ids_from(json_object_get(o, "hands"), &r->hands, &n))
        return false;
    r->hand_count = (uint32_t)n;
    json_t *rd = json_object_get(o, "round");
    if (json_is_null(rd))
        return true;
    int kind = 0, exclusive = 0;
    json_int_t speaker = 0;
    json_t *queue, *done, *passed;
    if (json_unpack(rd, "{s:i, s:b, s:I, s:o, s:o, s:o}", "kind", &kind, "exclusive", &exclusive,
                    "speaker", &speaker, "queue", &queue, "done", &done, "passed", &passed) < 0)
        return false;
    uint32_t *q, *d, *p;
    struct proto_round v = {
        .kind = (enum proto_round_kind)kind, .speaker = (uint32_t)speaker, .exclusive = exclusive};
    /* all three, so each array is freed below whatever failed */
    bool okq = ids_from(queue, &q, &v.queue_len);
    bool okd = ids_from(done, &d, &v.done_len);
    bool okp = ids_from(passed, &p, &v.passed_len);
    bool ok = okq && okd && okp;
    v.queue = q;
    v.done = d;
    v.passed = p;
    if (ok)
        r->round = round_from_view(&v);
    free(q);
    free(d);
    free(p);
    return ok;
}

void room_copy_node(const char *state, size_t len, char *out, size_t outlen)
{
    json_t *o = json_loadb(state, len, 0, NULL);
    const char *node = json_string_value(json_object_get(o, "node"));
    snprintf(out, outlen, "%s", node ? node : "");
    json_decref(o);
}

/* Make the room o describes (state_object's JSON) with the events ev[0..n);
 * local: a handover's, with its extras, and the leaders as they were (they
 * are reconnecting, not gone). False when it is unusable (logged). */
static bool adopt_object(struct rooms *rs, json_t *o, const struct mirror_entry *ev, size_t n,
                         bool local)
{
    int v = 0;
    const char *epoch = NULL, *key = NULL;
    json_int_t seq = 0;
    json_t *session = NULL, *members = NULL, *removed = NULL, *sanctions = NULL;
    if (!o ||
        json_unpack(o, "{s:i, s:s, s:s, s:I, s:o, s:o, s:o, s?o}", "v", &v, "epoch", &epoch, "key",
                    &key, "seq", &seq, "session", &session, "members", &members, "removed",
                    &removed, "sanctions", &sanctions) < 0 ||
        v != STATE_VERSION || strlen(key) > GATE_KEY_MAX ||
        hmap_get(rs->by_name, key, strlen(key))) {
        klog_warn("room_adopt_refused reason=\"unusable copy\"");
        return false;
    }
    struct room *r = room_alloc(rs, key);
    r->epoch = strtoull(epoch, NULL, 16);
    /* group_id is 0 in a copy from an older node: audit rows look it up */
    bool ok = fields_get(o, FIELDS(room_fields), r);
    ok = ok && session_from(session, &r->session);
    size_t i;
    json_t *item;
    json_array_foreach(sanctions, i, item) ok = ok && sanction_from(r, item);
    json_array_foreach(removed, i, item)
    {
        struct identity who;
        struct sanction *s = ok ? sanction_for(r, item, &who, false) : NULL;
        if (!s) {
            ok = false;
            break;
        }
        s->removed = true;
    }
    json_array_foreach(members, i, item) ok = ok && member_from(r, item, local);
    ok = ok && (!local || hands_and_round_from(r, o));
    json_array_foreach(json_object_get(o, "attendance_leader_marks"), i, item)
    {
        if (i < ROOM_LEADER_MARKS && json_is_integer(item))
            r->leader_marks[i] = (uint64_t)json_integer_value(item);
    }
    for (uint32_t k = r->sanction_count; k-- > 0;) {
        struct sanction *s = r->sanctions[k];
        moderation_mute_rearm(s); /* a timeout keeps running while they are away too */
        room_sanction_tidy(s);
    }
    /* The events: the copy's run that ends last. Events after the state's
     * seq came after its last write (messages do not rewrite it). */
    size_t first = consecutive_from(ev, n);
    for (size_t k = first; k < n; k++)
        ring_push(r->ring, ev[k].seq, ev[k].f, ev[k].tag);
    r->seq = n && ev[n - 1].seq > (uint64_t)seq ? ev[n - 1].seq : (uint64_t)seq;
    recall_ids(r, ev + first, n - first);
    room_adopted(r, ok, !local);
    if (!ok) {
        klog_warn("room_adopt_refused reason=\"unusable copy\"");
        return false;
    }
    klog_info("room_adopted members=%u events=%zu seq=%llu", r->count, n - first,
              (unsigned long long)r->seq);
    return true;
}

bool room_adopt(struct rooms *rs, const char *state, size_t len, const struct mirror_entry *ev,
                size_t n)
{
    json_t *o = json_loadb(state, len, 0, NULL);
    bool ok = adopt_object(rs, o, ev, n, false);
    json_decref(o);
    return ok;
}

/* ---- a planned restart (handover.h) ---- */

/* The events r's ring holds, oldest first: [seq, audience, a, b, author,
 * frame text]. */
static json_t *events_json(const struct room *r)
{
    json_t *a = json_array();
    size_t held = ring_count(r->ring);
    for (uint64_t s = r->seq - held + 1; held && s <= r->seq; s++) {
        struct ring_tag t;
        struct frame *f = ring_get(r->ring, s, &t);
        if (f)
            json_array_append_new(a, json_pack("[I, i, i, i, i, s%]", (json_int_t)s,
                                               (int)t.audience, (int)t.a, (int)t.b, (int)t.author,
                                               (const char *)frame_payload(f), (size_t)f->len));
    }
    return a;
}

char *room_handover_save(const struct rooms *rs, size_t *len)
{
    json_t *rooms = json_array();
    size_t pos = 0;
    const struct room *r;
    while ((r = hmap_next(rs->by_name, &pos)) != NULL) {
        json_t *state = state_object(r, "", true);
        if (!state) {
            json_decref(rooms);
            return NULL;
        }
        json_array_append_new(rooms,
                              json_pack("{s:o, s:o}", "state", state, "events", events_json(r)));
    }
    json_t *o = json_pack("{s:o}", "rooms", rooms);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    *len = text ? strlen(text) : 0;
    return text;
}

/* ev[0..n) from a saved ring (events_json); false when it is unusable.
 * The frames are the caller's to release. */
static bool events_from(json_t *a, struct mirror_entry *ev, size_t *n)
{
    size_t i;
    json_t *e;
    *n = 0;
    json_array_foreach(a, i, e)
    {
        json_int_t seq;
        int aud, ma, mb, author;
        const char *text;
        size_t tlen;
        if (json_unpack(e, "[I, i, i, i, i, s%]", &seq, &aud, &ma, &mb, &author, &text, &tlen) < 0)
            return false;
        ev[(*n)++] = (struct mirror_entry){
            .seq = (uint64_t)seq,
            .tag = {(uint32_t)aud, (uint32_t)ma, (uint32_t)mb, (uint32_t)author},
            .f = frame_from(text, tlen),
        };
    }
    return true;
}

int room_handover_load(struct rooms *rs, const char *text, size_t len)
{
    json_t *o = json_loadb(text, len, 0, NULL);
    json_t *rooms = json_object_get(o, "rooms");
    if (!json_is_array(rooms)) {
        json_decref(o);
        return -1;
    }
    int adopted = 0;
    size_t i;
    json_t *item;
    json_array_foreach(rooms, i, item)
    {
        json_t *events = json_object_get(item, "events");
        size_t n = json_array_size(events);
        struct mirror_entry *ev = xcalloc(n ? n : 1, sizeof(*ev));
        if (events_from(events, ev, &n) &&
            adopt_object(rs, json_object_get(item, "state"), ev, n, true))
            adopted++;
        for (size_t k = 0; k < n; k++)
            frame_unref(ev[k].f);
        free(ev);
    }
    json_decref(o);
    return adopted;
}
