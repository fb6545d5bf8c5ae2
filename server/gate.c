#include "gate.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "klog.h"
#include "leaders.h"
#include "metrics.h"
#include "safety.h"
#include "store.h"
#include "storeq.h"
#include "util.h"

struct gate {
    const struct config *cfg;
    struct store *store; /* the loop's connection; the worker's is storeq's */
    struct leaders *leaders;
    struct storeq *worker;       /* NULL: a gate for the worker's own store */
    const struct safety *safety; /* borrowed from the server; NULL: none */
};

struct gate *gate_new(const struct config *cfg, struct store *store, struct leaders *leaders,
                      struct storeq *worker)
{
    struct gate *g = xcalloc(1, sizeof(*g));
    g->cfg = cfg;
    g->store = store;
    g->leaders = leaders;
    g->worker = worker;
    return g;
}

void gate_free(struct gate *g)
{
    free(g);
}

int64_t gate_now(const struct gate *g)
{
    return config_now(g->cfg);
}

void gate_ticket_clear(struct gate_ticket *t)
{
    free((char *)t->session.group);
    free((char *)t->session.description);
    free((char *)t->session.agreement);
    free((char *)t->session.language);
    if (t->name)
        wipe(t->name, strlen(t->name)); /* a pseudonym */
    free(t->name);
    names_key_clear(&t->name_key);
    for (size_t i = 0; i < t->leader_count; i++)
        names_key_clear(&t->leader_keys[i]);
    free(t->leader_keys);
    memset(t, 0, sizeof(*t));
}

/* Give t its name (a pseudonym is kept in NFC) and the name's keys. */
static enum proto_err ticket_name(struct gate_ticket *t, const char *name, size_t len,
                                  enum proto_role role)
{
    t->role = role;
    t->name = role == PROTO_ROLE_PARTICIPANT ? names_nfc(name, len) : xstrndup(name, len);
    if (!t->name || names_key(t->name, strlen(t->name), &t->name_key) < 0)
        return PROTO_E_INTERNAL;
    return PROTO_OK;
}

/* The keys of the usernames of group_id's leaders into t. Every leader
 * counts, enabled or not: nobody may pass for any of them. */
static enum proto_err leader_keys(struct gate *g, int64_t group_id, struct gate_ticket *t)
{
    struct store_leader *v = NULL;
    size_t n = 0;
    int rc = store_group_leaders(g->store, group_id, &v, &n);
    if (rc < 0) {
        klog_error("group_leaders_failed reason=\"%s\"", store_strerror(rc));
        return PROTO_E_INTERNAL; /* never let a name in unchecked */
    }
    enum proto_err e = PROTO_OK;
    t->leader_keys = xcalloc(n ? n : 1, sizeof(*t->leader_keys));
    for (size_t i = 0; i < n && !e; i++) {
        if (names_key(v[i].username, strlen(v[i].username), &t->leader_keys[i]) < 0)
            e = PROTO_E_INTERNAL;
        else
            t->leader_count++;
    }
    free(v);
    return e;
}

/* The session of group_id a member may be in now (lobby open or running), or
 * 0 with *next_start the next one's start (-1: none planned). */
static int64_t current_session(struct gate *g, int64_t group_id, int64_t now,
                               struct store_session *out, int64_t *next_start)
{
    struct store_session *list = NULL;
    size_t n = 0;
    int64_t found = 0;
    *next_start = -1;
    if (store_session_list(g->store, group_id, now, &list, &n) < 0)
        return 0;
    for (size_t i = 0; i < n && !found; i++) {
        enum store_session_state st = store_session_state(&list[i], now);
        if (st == STORE_SESSION_LOBBY || st == STORE_SESSION_RUNNING) {
            *out = list[i];
            found = list[i].id;
        } else if (st == STORE_SESSION_SCHEDULED && *next_start < 0) {
            *next_start = list[i].starts_at;
        }
    }
    free(list);
    return found;
}

/* Fill the ticket's session facts from the store. */
static enum proto_err fill_session(struct gate *g, const struct store_session *se,
                                   struct gate_ticket *t)
{
    struct store_group grp;
    if (store_group_get_id(g->store, se->group_id, &grp) < 0)
        return PROTO_E_INTERNAL;
    snprintf(t->key, sizeof(t->key), "#%lld", (long long)se->id);
    t->session = (struct proto_session_info){
        .id = (uint64_t)se->id,
        .group = xstrdup(grp.name),
        .language = xstrdup(grp.language),
        .description = xstrdup(grp.description),
        .agreement = xstrdup(grp.agreement),
        .starts_at = (uint64_t)se->starts_at * 1000u,
        .ends_at = (uint64_t)se->ends_at * 1000u,
    };
    t->ends_at = se->ends_at;
    t->group_id = se->group_id;
    t->max_participants = (uint32_t)grp.max_participants;
    t->whole_history = strcmp(grp.history, "whole_session") == 0;
    snprintf(t->private_messages, sizeof(t->private_messages), "%s", grp.private_messages);
    t->opened = se->opened_at != 0;
    store_group_clear(&grp);
    return PROTO_OK;
}

static enum proto_err check_invite(struct gate *g, const struct proto_cmd *cmd,
                                   struct gate_ticket *t, struct proto_error_detail *d)
{
    int64_t now = gate_now(g);
    unsigned char hash[AUTH_DIGEST_LEN];
    struct store_invite inv;
    if (auth_token_hash(cmd->u.hello.invite, hash) < 0 ||
        store_invite_lookup(g->store, hash, &inv) < 0)
        return PROTO_E_INVITE_INVALID;
    t->personal_invite = inv.kind == STORE_INVITE_PERSONAL ? inv.id : 0;
    /* Bans first: the holder of a personal invite a ban is bound to has used
     * it up by entering, and is told `banned`, not invite_invalid. Before the
     * session check too, so a banned person learns nothing about when the
     * group meets. */
    int64_t ban_id;
    int rc = store_ban_find(g->store, inv.group_id, t->personal_invite,
                            t->has_key ? t->key_hash : NULL, &ban_id);
    if (rc == 0)
        return PROTO_E_BANNED;
    if (rc != STORE_E_NOT_FOUND) {
        klog_error("ban_check_failed reason=\"%s\"", store_strerror(rc));
        return PROTO_E_INTERNAL; /* never let someone in unchecked */
    }
    if (store_invite_state(&inv, now) != STORE_INVITE_ACTIVE)
        return PROTO_E_INVITE_INVALID;
    struct store_session se;
    int64_t next;
    if (!current_session(g, inv.group_id, now, &se, &next)) {
        d->next_start = next < 0 ? 0 : next * 1000;
        return PROTO_E_NO_SESSION;
    }
    /* Admitted before (a restart may have come between): only a definite
     * yes counts, a store that cannot tell sends them to the lobby. */
    t->admitted = t->has_key && store_admitted_find(g->store, se.id, t->key_hash) == 0;
    enum proto_err e =
        ticket_name(t, cmd->u.hello.name, cmd->u.hello.name_len, PROTO_ROLE_PARTICIPANT);
    if (!e)
        e = leader_keys(g, inv.group_id, t);
    return e ? e : fill_session(g, &se, t);
}

/* 0 when leader_id leads group_id, STORE_E_NOT_FOUND when not, or a
 * store_err. */
static int leads_group(struct gate *g, int64_t leader_id, int64_t group_id)
{
    struct store_group *groups = NULL;
    size_t n = 0;
    int rc = store_leader_groups(g->store, leader_id, &groups, &n);
    if (rc < 0)
        return rc;
    rc = STORE_E_NOT_FOUND;
    for (size_t i = 0; i < n; i++)
        if (groups[i].id == group_id)
            rc = 0;
    store_group_list_free(groups, n);
    return rc;
}

/* Does the account username still hold what it was given at login_gen? 0
 * with its id in *id when so, 1 with *why when not (gate_leadership_ended's
 * phrases), or a store_err when the store cannot tell. */
static int account_standing(struct gate *g, const char *username, int64_t login_gen, int64_t *id,
                            const char **why)
{
    struct store_leader who;
    int rc = store_leader_get(g->store, username, &who);
    *id = rc == 0 ? who.id : 0;
    if (rc == STORE_E_NOT_FOUND)
        *why = "account removed";
    else if (rc < 0)
        return rc;
    else if (who.disabled)
        *why = "account disabled";
    else if (who.login_gen != login_gen)
        *why = "logins ended"; /* a new password (or disabled and enabled again) */
    else
        *why = NULL;
    wipe(&who, sizeof(who)); /* the password hash */
    return *why ? 1 : 0;
}

/* Is login still good in the store: 0 when so, 1 when it ended for good
 * (the account is gone, disabled, has a new password, or the name is
 * another account's now), a store_err when the store cannot tell. */
static int login_standing(struct gate *g, const struct leader_login *login)
{
    const char *why = NULL;
    int64_t id = 0;
    int rc = account_standing(g, login->username, login->login_gen, &id, &why);
    return rc == 0 && id != login->leader_id ? 1 : rc;
}

/* The in-memory login of token, or NULL. */
static const struct leader_login *lookup_login(struct gate *g, const char *token)
{
    return leaders_lookup(g->leaders, token,
                          (uint64_t)((int64_t)util_wall_ms() + g->cfg->clock_offset * 1000));
}

const struct leader_login *gate_login(struct gate *g, const char *token)
{
    const struct leader_login *login = lookup_login(g, token);
    int rc = login ? login_standing(g, login) : 0;
    if (rc > 0)
        leaders_logout(g->leaders, token); /* a new password does not come back */
    return rc == 0 ? login : NULL;
}

/* A leader's hello, with the login its token found in memory (NULL: none).
 * *dead: the login ended for good, and the caller logs it out. */
static enum proto_err check_leader(struct gate *g, const struct proto_cmd *cmd,
                                   const struct leader_login *login, struct gate_ticket *t,
                                   struct proto_error_detail *d, bool *dead)
{
    int rc = login ? login_standing(g, login) : 0;
    *dead = rc > 0;
    if (!login || rc != 0 || login->coordinator) /* a console login enters no room */
        return PROTO_E_TOKEN_INVALID;
    int64_t now = gate_now(g);
    struct store_session se;
    /* A session of another group and one that does not exist answer alike. */
    if (store_session_get(g->store, (int64_t)cmd->u.hello.session, &se) < 0 ||
        leads_group(g, login->leader_id, se.group_id) != 0)
        return PROTO_E_FORBIDDEN;
    enum store_session_state st = store_session_state(&se, now);
    if (st != STORE_SESSION_LOBBY && st != STORE_SESSION_RUNNING) {
        d->next_start = st == STORE_SESSION_SCHEDULED ? se.starts_at * 1000 : 0;
        return PROTO_E_NO_SESSION;
    }
    t->login_gen = login->login_gen;
    enum proto_err e = ticket_name(t, login->username, strlen(login->username), PROTO_ROLE_LEADER);
    return e ? e : fill_session(g, &se, t);
}

/* gate_check against g's store, with the login a token hello's token found
 * (NULL: none); *dead as check_leader's. */
static enum proto_err check_hello(struct gate *g, const struct proto_cmd *cmd,
                                  const struct leader_login *login, struct gate_ticket *t,
                                  struct proto_error_detail *d, bool *dead)
{
    memset(t, 0, sizeof(*t));
    *d = (struct proto_error_detail){0};
    *dead = false;
    enum proto_err e;
    /* Only the digest of a participant key is kept (README §9); proto
     * refuses a key with a leader's token. */
    if (cmd->u.hello.key[0]) {
        if (auth_token_hash(cmd->u.hello.key, t->key_hash) < 0)
            return PROTO_E_INTERNAL;
        t->has_key = true;
    }
    if (cmd->u.hello.invite[0]) {
        e = check_invite(g, cmd, t, d);
    } else if (cmd->u.hello.token[0]) {
        e = check_leader(g, cmd, login, t, d, dead);
    } else if (g->cfg->open_rooms) {
        snprintf(t->key, sizeof(t->key), "%s", cmd->u.hello.room);
        snprintf(t->private_messages, sizeof(t->private_messages), "leaders");
        e = ticket_name(t, cmd->u.hello.name, cmd->u.hello.name_len, PROTO_ROLE_PARTICIPANT);
    } else {
        d->field = "room";
        return PROTO_E_FORBIDDEN; /* rooms are entered by invite */
    }
    if (e)
        gate_ticket_clear(t);
    return e;
}

enum proto_err gate_check(struct gate *g, const struct proto_cmd *cmd, struct gate_ticket *t,
                          struct proto_error_detail *d)
{
    const struct leader_login *login =
        cmd->u.hello.token[0] ? lookup_login(g, cmd->u.hello.token) : NULL;
    bool dead;
    enum proto_err e = check_hello(g, cmd, login, t, d, &dead);
    if (dead)
        leaders_logout(g->leaders, cmd->u.hello.token);
    return e;
}

/* Is the session still on (not cancelled, not removed)? */
static bool session_on(struct gate *g, uint64_t session_id)
{
    struct store_session se;
    int rc = store_session_get(g->store, (int64_t)session_id, &se);
    /* Only a definite answer ends a session: a busy database does not. */
    return rc == STORE_E_NOT_FOUND ? false : rc < 0 || !se.cancelled_at;
}

/* The group of session_id into *group: 0 or a store_err. */
static int session_group(struct gate *g, uint64_t session_id, int64_t *group)
{
    struct store_session se;
    int rc = store_session_get(g->store, (int64_t)session_id, &se);
    if (rc == 0)
        *group = se.group_id;
    return rc;
}

/* Does the leader username still lead session_id's room with a seat taken
 * at login_gen: the account exists, is enabled, is still at login_gen and
 * leads the session's group? NULL when so, and when the store cannot tell
 * now (a busy database ends no seat); else why not, a short phrase for the
 * log and the close frame ("account disabled", ...). */
static const char *leadership_ended(struct gate *g, uint64_t session_id, const char *username,
                                    int64_t login_gen)
{
    const char *why = NULL;
    int64_t group = 0, leader_id = 0;
    int rc = account_standing(g, username, login_gen, &leader_id, &why);
    if (rc == 0)
        rc = session_group(g, session_id, &group);
    if (rc == 0)
        rc = leads_group(g, leader_id, group);
    if (rc == STORE_E_NOT_FOUND && group)
        why = "not a leader of the group";
    /* A session gone from the store ends the room (session_on). */
    return why;
}

void gate_bans_free(struct proto_ban *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++) {
        free((char *)b[i].name);
        free((char *)b[i].by);
    }
    free(b);
}

void gate_set_safety(struct gate *g, const struct safety *s)
{
    g->safety = s;
}

const char *gate_crisis_json(const struct gate *g)
{
    return safety_crisis_json(g->safety);
}

bool gate_risky(const struct gate *g, const char *text, size_t len)
{
    return safety_risky(g->safety, text, len);
}

/* Consume personal invite invite_id: PROTO_OK, PROTO_E_INVITE_INVALID when
 * another redemption won the race, PROTO_E_BUSY when the store was held
 * past its busy wait (nothing was written). */
static enum proto_err redeem(struct gate *g, int64_t invite_id)
{
    int rc = store_invite_use(g->store, invite_id, gate_now(g));
    if (rc == STORE_E_BUSY)
        return PROTO_E_BUSY;
    if (rc < 0) {
        if (rc != STORE_E_NOT_FOUND)
            klog_error("invite_redeem_failed reason=\"%s\"", store_strerror(rc));
        return PROTO_E_INVITE_INVALID;
    }
    return PROTO_OK;
}

/* ---- on the store worker ---- */

/* One hello check or one redemption on the worker. The loop's fields are
 * read by the worker only before it starts (set at submit) and the
 * results only after it is done (the queue's lock orders both). */
struct gate_pending {
    struct gate *g;    /* the loop's gate */
    int64_t invite_id; /* a redemption of this personal invite; 0: a check */
    /* a check: the hello, with its name owned here, and the login its
     * token found in memory */
    struct proto_cmd cmd;
    char *name;
    bool has_login;
    struct leader_login login;
    char username[65]; /* leaders.c keeps 64 bytes of a username at most */
    /* the result */
    enum proto_err e;
    struct gate_ticket t;
    struct proto_error_detail d;
    bool dead; /* the login ended for good: log it out on the loop */
    /* the caller; answer is NULL once answered (expired) or dropped */
    gate_answer_fn answer;
    void *arg;
};

static void job_work(struct store *s, void *arg)
{
    struct gate_pending *p = arg;
    struct gate wg = {.cfg = p->g->cfg, .store = s};
    if (p->invite_id)
        p->e = redeem(&wg, p->invite_id);
    else
        p->e = check_hello(&wg, &p->cmd, p->has_login ? &p->login : NULL, &p->t, &p->d, &p->dead);
}

static void job_done(void *arg, enum storeq_status st)
{
    struct gate_pending *p = arg;
    if (st == STOREQ_CANCELLED)
        p->e = PROTO_E_BUSY; /* shutting down */
    if (p->dead)
        leaders_logout(p->g->leaders, p->cmd.u.hello.token);
    if (p->answer)
        p->answer(p->arg, p->e, p->e ? NULL : &p->t, &p->d);
    gate_ticket_clear(&p->t); /* what the answer did not take */
    if (p->name)
        wipe(p->name, p->cmd.u.hello.name_len); /* a pseudonym */
    free(p->name);
    wipe(&p->cmd, sizeof(p->cmd)); /* the invite code or the token */
    free(p);
}

static void job_expired(void *arg)
{
    struct gate_pending *p = arg;
    klog_warn("admission_busy reason=timeout");
    gate_answer_fn answer = p->answer;
    p->answer = NULL; /* the late result is dropped */
    if (answer)
        answer(p->arg, PROTO_E_BUSY, NULL, &(struct proto_error_detail){0});
}

static enum proto_err submit(struct gate *g, struct gate_pending *p, gate_answer_fn answer,
                             void *arg, struct gate_pending **out)
{
    p->g = g;
    p->answer = answer;
    p->arg = arg;
    if (storeq_submit(g->worker, job_work, job_done, job_expired, p, util_now_ms()) < 0) {
        klog_warn("admission_busy reason=queue_full");
        free(p->name);
        wipe(&p->cmd, sizeof(p->cmd));
        free(p);
        return PROTO_E_BUSY;
    }
    *out = p;
    return PROTO_OK;
}

enum proto_err gate_check_async(struct gate *g, const struct proto_cmd *hello,
                                gate_answer_fn answer, void *arg, struct gate_pending **out)
{
    assert(hello->u.hello.invite[0] || hello->u.hello.token[0]);
    *out = NULL;
    struct gate_pending *p = xcalloc(1, sizeof(*p));
    if (hello->u.hello.token[0]) {
        const struct leader_login *login = lookup_login(g, hello->u.hello.token);
        if (!login) {
            free(p);
            return PROTO_E_TOKEN_INVALID; /* no store needed to say so */
        }
        p->has_login = true;
        snprintf(p->username, sizeof(p->username), "%s", login->username);
        p->login = (struct leader_login){login->leader_id, p->username, login->login_gen,
                                         login->coordinator};
    }
    p->cmd.type = hello->type;
    p->cmd.u.hello = hello->u.hello;
    if (hello->u.hello.name) {
        p->name = xstrndup(hello->u.hello.name, hello->u.hello.name_len);
        p->cmd.u.hello.name = p->name;
    }
    return submit(g, p, answer, arg, out);
}

enum proto_err gate_redeem_async(struct gate *g, const struct gate_ticket *t, gate_answer_fn answer,
                                 void *arg, struct gate_pending **out)
{
    assert(t->personal_invite);
    *out = NULL;
    struct gate_pending *p = xcalloc(1, sizeof(*p));
    p->invite_id = t->personal_invite;
    return submit(g, p, answer, arg, out);
}

void gate_pending_drop(struct gate_pending *p)
{
    if (p)
        p->answer = NULL;
}

/* ---- the room's writes and reads, on the store worker ---- */

/* A write nobody waits on for a definite answer (an audit row, a ban, a
 * session's end, a rehash) that found the store held past the worker's busy
 * wait is tried once more before it is given up: a lock held a few seconds
 * (a kamratctl change) loses nothing. */
#define WRITE_TRIES 2
#define GATE_BANS_MAX 100 /* the bans reply lists at most this many, newest first */

enum job_kind {
    JOB_AUDIT,
    JOB_END,
    JOB_BAN,
    JOB_UNBAN,
    JOB_BANS,
    JOB_REHASH,
    JOB_WATCH,
    JOB_OPENED,
    JOB_ADMITTED,
    JOB_UNADMITTED,
    JOB_WIPE,
    JOB_ATTENDANCE,
};

/* One request for the worker. What the worker reads is set before submit,
 * what it writes is read after done (the queue's lock orders both). */
struct job {
    struct gate *g;
    enum job_kind kind;
    int64_t now; /* gate_now at submit */
    int64_t group_id;
    uint64_t session_id;
    int64_t id;        /* the ban (unban), the invite (ban) or the leader (rehash) */
    int64_t login_gen; /* rehash */
    char action[STORE_ACTOR_MAX + 1];
    char actor[STORE_ACTOR_MAX + 1];
    char *target; /* audit; NULL: none */
    char *text;   /* a ban's pseudonym, or a rehash's new hash; wiped */
    bool has_key;
    uint8_t key_hash[32];
    struct gate_watch *watch;
    struct store_attendance attendance;
    /* the result */
    int rc;
    int64_t ban_id;
    struct proto_ban *bans;
    size_t n;
    /* the caller: one of these, NULL once answered (expired) */
    gate_ended_fn ended;
    gate_reply_fn reply;
    gate_watch_fn watched;
    void *arg;
};

static struct job *job_new(struct gate *g, enum job_kind kind, uint64_t session_id,
                           const char *actor)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->g = g;
    j->kind = kind;
    j->now = gate_now(g);
    j->session_id = session_id;
    if (actor)
        snprintf(j->actor, sizeof(j->actor), "%s", actor);
    return j;
}

static void job_free(struct job *j)
{
    free(j->target);
    if (j->text)
        wipe(j->text, strlen(j->text)); /* a pseudonym or a password hash */
    free(j->text);
    gate_bans_free(j->bans, j->n);
    free(j);
}

/* A write, tried again while the store is held (WRITE_TRIES). */
static int write_job(struct gate *g, struct job *j)
{
    int rc = STORE_E_BUSY;
    for (int i = 0; i < WRITE_TRIES && rc == STORE_E_BUSY; i++) {
        switch (j->kind) {
        case JOB_AUDIT:
            rc = store_audit(g->store, j->now, j->actor, j->action, j->target, j->group_id,
                             (int64_t)j->session_id);
            break;
        case JOB_END:
            rc = store_session_end(g->store, j->now, j->actor, (int64_t)j->session_id);
            break;
        case JOB_BAN:
            rc = store_ban_add(g->store, j->now, j->actor, j->group_id, (int64_t)j->session_id,
                               j->id, j->has_key ? j->key_hash : NULL, j->text, &j->ban_id);
            break;
        case JOB_OPENED:
            rc = store_session_opened(g->store, (int64_t)j->session_id, j->now);
            break;
        case JOB_ADMITTED:
            rc = store_admitted_add(g->store, (int64_t)j->session_id, j->key_hash);
            break;
        case JOB_UNADMITTED:
            rc = store_admitted_drop(g->store, (int64_t)j->session_id, j->key_hash);
            break;
        case JOB_WIPE:
            rc = store_admitted_wipe(g->store, (int64_t)j->session_id, j->now);
            break;
        case JOB_ATTENDANCE:
            rc = store_attendance_put(g->store, (int64_t)j->session_id, &j->attendance);
            break;
        default:
            assert(j->kind == JOB_REHASH);
            rc = store_leader_rehash(g->store, j->now, j->actor, j->id, j->login_gen, j->text);
        }
    }
    return rc;
}

static int list_bans(struct gate *g, struct job *j)
{
    struct store_ban *v = NULL;
    size_t count = 0;
    int rc = store_ban_list(g->store, j->group_id, false, GATE_BANS_MAX, &v, &count);
    if (rc < 0)
        return rc;
    j->bans = xcalloc(count ? count : 1, sizeof(*j->bans));
    for (size_t i = 0; i < count; i++)
        j->bans[i] = (struct proto_ban){
            .id = v[i].id,
            .name = xstrdup(v[i].name),
            .created_at = (uint64_t)v[i].created_at * 1000u,
            .by = xstrdup(v[i].created_by),
        };
    j->n = count;
    store_ban_list_free(v, count);
    return 0;
}

/* The watch: nothing unless another connection committed since w->version. */
static void watch(struct gate *g, struct gate_watch *w)
{
    int64_t v = store_data_version(g->store);
    w->changed = v >= 0 && w->version >= 0 && v != w->version;
    if (v >= 0)
        w->version = v;
    for (size_t i = 0; w->changed && i < w->session_count; i++)
        w->sessions[i].off = !session_on(g, w->sessions[i].session_id);
    for (size_t i = 0; w->changed && i < w->seat_count; i++) {
        struct gate_seat *s = &w->seats[i];
        s->ended = leadership_ended(g, s->session_id, s->username, s->login_gen);
    }
}

static void req_run(struct store *s, void *arg)
{
    struct job *j = arg;
    struct gate wg = {.cfg = j->g->cfg, .store = s};
    /* The group of the session, where the row needs it and the caller did
     * not know it (a room taken over from a copy that did not carry it). */
    bool needs_group = j->kind == JOB_BAN || j->kind == JOB_UNBAN || j->kind == JOB_BANS ||
                       (j->kind == JOB_AUDIT && j->session_id);
    j->rc = needs_group && !j->group_id ? session_group(&wg, j->session_id, &j->group_id) : 0;
    if (j->rc < 0)
        return;
    switch (j->kind) {
    case JOB_UNBAN:
        j->rc = store_ban_lift(s, j->now, j->actor, j->group_id, (int64_t)j->session_id, j->id);
        break;
    case JOB_BANS:
        j->rc = list_bans(&wg, j);
        break;
    case JOB_WATCH:
        watch(&wg, j->watch);
        break;
    default:
        j->rc = write_job(&wg, j);
    }
}

/* The outcome of an unban or a bans read, as the protocol's code. */
static enum proto_err reply_code(const struct job *j)
{
    if (j->rc == STORE_E_NOT_FOUND && j->kind == JOB_UNBAN && j->group_id)
        return PROTO_E_NOT_FOUND;
    if (j->rc == STORE_E_BUSY)
        return PROTO_E_BUSY; /* held past the busy wait: nothing was written */
    return j->rc < 0 ? PROTO_E_INTERNAL : PROTO_OK;
}

static const char *const job_names[] = {
    "audit", "session_end",    "ban",      "unban",         "bans",          "rehash",
    "watch", "session_opened", "admitted", "admitted_drop", "admitted_wipe", "attendance"};
_Static_assert(ARRAY_LEN(job_names) == JOB_ATTENDANCE + 1, "every job kind has a name");

/* Writes whose caller learns no definite failure: an audit row, a
 * session's end, a ban (the ack says ban null), a rehash, and what a
 * restart keeps. */
static bool unanswered_write(enum job_kind k)
{
    return k != JOB_UNBAN && k != JOB_BANS && k != JOB_WATCH;
}

/* Such a write did not happen: logged (audit rows as audit_failed, which
 * an admin looks for) and counted. */
static void write_failed(const struct job *j, const char *reason)
{
    metrics_inc(METRIC_STORE_WRITE_FAILED);
    if (j->kind == JOB_AUDIT)
        klog_error("audit_failed action=%s reason=\"%s\"", j->action, reason);
    else
        klog_error("%s_failed reason=\"%s\"", job_names[j->kind], reason);
}

static void req_done(void *arg, enum storeq_status st)
{
    struct job *j = arg;
    if (st == STOREQ_CANCELLED)
        j->rc = STORE_E_BUSY; /* shutting down: the work never ran */
    if (j->rc < 0 && unanswered_write(j->kind))
        write_failed(j, st == STOREQ_CANCELLED ? "shutdown" : store_strerror(j->rc));
    else if (j->rc < 0 && j->kind == JOB_UNBAN && reply_code(j) == PROTO_E_INTERNAL)
        klog_error("unban_failed reason=\"%s\"", store_strerror(j->rc));
    else if (j->rc < 0 && j->kind == JOB_BANS && reply_code(j) == PROTO_E_INTERNAL)
        klog_error("bans_failed reason=\"%s\"", store_strerror(j->rc));
    if (j->ended)
        j->ended(j->arg, j->rc == 0);
    else if (j->reply)
        j->reply(j->arg, j->kind == JOB_BAN ? PROTO_OK : reply_code(j), j->rc == 0 ? j->ban_id : 0,
                 j->bans, j->n);
    else if (j->watched)
        j->watched(j->arg, j->watch); /* unchanged when cancelled */
    job_free(j);
}

/* A client waits for an unban or the bans: busy now, the late result is
 * dropped. */
static void req_expired(void *arg)
{
    struct job *j = arg;
    gate_reply_fn reply = j->reply;
    j->reply = NULL;
    klog_warn("store_busy request=%s reason=timeout", job_names[j->kind]);
    reply(j->arg, PROTO_E_BUSY, 0, NULL, 0);
}

/* Queue j; a full queue frees it and returns -1 (nothing will be called). */
static int job_submit(struct gate *g, struct job *j, bool client_waits)
{
    if (storeq_submit(g->worker, req_run, req_done, client_waits ? req_expired : NULL, j,
                      util_now_ms()) == 0)
        return 0;
    if (unanswered_write(j->kind))
        write_failed(j, "queue_full");
    else
        klog_warn("store_busy request=%s reason=queue_full", job_names[j->kind]);
    job_free(j);
    return -1;
}

void gate_audit(struct gate *g, int64_t group_id, uint64_t session_id, const char *action,
                const char *actor, const char *target)
{
    struct job *j = job_new(g, JOB_AUDIT, session_id, actor);
    snprintf(j->action, sizeof(j->action), "%s", action);
    j->group_id = group_id;
    if (target || session_id) {
        char session_target[32];
        snprintf(session_target, sizeof(session_target), "session:%llu",
                 (unsigned long long)session_id);
        j->target = xstrdup(target ? target : session_target);
    }
    job_submit(g, j, false);
}

void gate_rehash(struct gate *g, const char *actor, int64_t leader_id, int64_t login_gen,
                 const char *phc)
{
    struct job *j = job_new(g, JOB_REHASH, 0, actor);
    j->id = leader_id;
    j->login_gen = login_gen;
    j->text = xstrdup(phc);
    job_submit(g, j, false);
}

void gate_session_opened(struct gate *g, uint64_t session_id)
{
    job_submit(g, job_new(g, JOB_OPENED, session_id, NULL), false);
}

void gate_admitted(struct gate *g, uint64_t session_id, const uint8_t key_hash[32], bool admitted)
{
    struct job *j = job_new(g, admitted ? JOB_ADMITTED : JOB_UNADMITTED, session_id, NULL);
    j->has_key = true;
    memcpy(j->key_hash, key_hash, sizeof(j->key_hash));
    job_submit(g, j, false);
}

void gate_session_over(struct gate *g, uint64_t session_id)
{
    job_submit(g, job_new(g, JOB_WIPE, session_id, NULL), false);
}

void gate_attendance(struct gate *g, uint64_t session_id, const struct store_attendance *a)
{
    struct job *j = job_new(g, JOB_ATTENDANCE, session_id, NULL);
    j->attendance = *a;
    job_submit(g, j, false);
}

int gate_end_session(struct gate *g, uint64_t session_id, const char *actor, gate_ended_fn done,
                     void *arg)
{
    struct job *j = job_new(g, JOB_END, session_id, actor);
    j->ended = done;
    j->arg = arg;
    return job_submit(g, j, false);
}

int gate_ban(struct gate *g, uint64_t session_id, int64_t invite_id, const uint8_t *key_hash,
             const char *name, const char *actor, gate_reply_fn done, void *arg)
{
    struct job *j = job_new(g, JOB_BAN, session_id, actor);
    j->id = invite_id;
    if (key_hash) {
        j->has_key = true;
        memcpy(j->key_hash, key_hash, sizeof(j->key_hash));
    }
    j->text = xstrdup(name);
    j->reply = done;
    j->arg = arg;
    return job_submit(g, j, false);
}

int gate_unban(struct gate *g, uint64_t session_id, int64_t ban_id, const char *actor,
               gate_reply_fn done, void *arg)
{
    struct job *j = job_new(g, JOB_UNBAN, session_id, actor);
    j->id = ban_id;
    j->reply = done;
    j->arg = arg;
    return job_submit(g, j, true);
}

int gate_bans(struct gate *g, uint64_t session_id, gate_reply_fn done, void *arg)
{
    struct job *j = job_new(g, JOB_BANS, session_id, NULL);
    j->reply = done;
    j->arg = arg;
    return job_submit(g, j, true);
}

int gate_watch_async(struct gate *g, struct gate_watch *w, gate_watch_fn done, void *arg)
{
    struct job *j = job_new(g, JOB_WATCH, 0, NULL);
    j->watch = w;
    j->watched = done;
    j->arg = arg;
    return job_submit(g, j, false);
}

void gate_watch_free(struct gate_watch *w)
{
    if (!w)
        return;
    free(w->sessions);
    free(w->seats);
    free(w);
}
