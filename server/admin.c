#include "admin.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "cluster.h"
#include "config.h"
#include "kamrat_build.h"
#include "leaders.h"
#include "room.h"
#include "server.h"
#include "store.h"
#include "util.h"

#define HTTP_STATUS_CREATED 201 /* lws 4.1 has no name for it */
#define LIMIT_DEFAULT 20
#define GROUPS_LIMIT_MAX 50 /* a page of groups with long agreements stays a few MB at most */
#define AUDIT_LIMIT_MAX 200

enum op { OP_HEALTH, OP_GROUPS, OP_GROUP_ADD, OP_GROUP_EDIT, OP_AUDIT };

/* The members a POST or PATCH may set (PATCH: any of them but the name). */
enum field {
    F_NAME = 1 << 0,
    F_LANGUAGE = 1 << 1,
    F_DESCRIPTION = 1 << 2,
    F_AGREEMENT = 1 << 3,
    F_MAX = 1 << 4,
    F_HISTORY = 1 << 5,
    F_PM = 1 << 6,
};

struct admin_job {
    enum op op;
    /* The coordinator. */
    int64_t account_id;
    int64_t login_gen;
    char username[STORE_USERNAME_MAX + 1];
    char actor[STORE_ACTOR_MAX + 1];
    int64_t now; /* store time (config_now) */
    /* Inputs. */
    int64_t group_id;     /* PATCH's target */
    struct store_group g; /* POST and PATCH: the members given */
    unsigned given;       /* enum field bits */
    int64_t cursor;
    int limit;
    int64_t f_group;
    char f_actor[STORE_ACTOR_MAX + 1];
    char f_action[STORE_ACTOR_MAX + 1];
    /* From the loop, for the health box. */
    uint32_t connections;
    size_t rooms;
    size_t logins;
    bool clustered;
    struct cluster_status cluster;
    /* The answer. */
    unsigned int status;
    bool ended;
    char *answer;
};

/* ---- routes, query and body (lws thread) ------------------------------- */

/* "/api/admin/groups/<id>": the id, or 0 when the rest is not a positive
 * decimal without leading zeros. */
static int64_t path_id(const char *rest)
{
    if (!*rest || *rest == '0' || strspn(rest, "0123456789") != strlen(rest) || strlen(rest) > 15)
        return 0;
    return strtoll(rest, NULL, 10);
}

struct admin_job *admin_route(const char *path, const char *method, const struct leader_login *who,
                              struct admin_route *out)
{
    *out = (struct admin_route){0};
    enum op op;
    int64_t id = 0;
    const char *allow;
    bool get = method && strcmp(method, "GET") == 0;
    bool post = method && strcmp(method, "POST") == 0;
    bool patch = method && strcmp(method, "PATCH") == 0;
    const char *sub = path + strlen("/api/admin/");
    if (strcmp(sub, "health") == 0) {
        op = OP_HEALTH;
        allow = "GET";
        out->allowed = get;
    } else if (strcmp(sub, "audit") == 0) {
        op = OP_AUDIT;
        allow = "GET";
        out->allowed = get;
    } else if (strcmp(sub, "groups") == 0) {
        op = post ? OP_GROUP_ADD : OP_GROUPS;
        allow = "GET, POST";
        out->allowed = get || post;
    } else if (strncmp(sub, "groups/", 7) == 0 && (id = path_id(sub + 7)) > 0) {
        op = OP_GROUP_EDIT;
        allow = "PATCH";
        out->allowed = patch;
    } else {
        return NULL;
    }
    out->known = true;
    out->allow = allow;
    out->has_body = post || patch;
    if (!out->allowed)
        return NULL;
    struct admin_job *j = xcalloc(1, sizeof(*j));
    j->op = op;
    j->group_id = id;
    j->limit = LIMIT_DEFAULT;
    j->account_id = who->leader_id;
    j->login_gen = who->login_gen;
    snprintf(j->username, sizeof(j->username), "%s", who->username);
    snprintf(j->actor, sizeof(j->actor), "coordinator:%s", j->username);
    store_group_defaults(&j->g);
    return j;
}

/* A decimal in 1..max into *out; false for anything else. */
static bool parse_count(const char *s, int64_t max, int64_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 15 || *s == '0')
        return false;
    int64_t v = strtoll(s, NULL, 10);
    if (v > max)
        return false;
    *out = v;
    return true;
}

const char *admin_query(struct admin_job *j, const char *arg, const char **field)
{
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
    const char *v = eq ? eq + 1 : "";
    int64_t n = 0;
    bool listing = j->op == OP_GROUPS || j->op == OP_AUDIT;
    bool audit = j->op == OP_AUDIT;
    static const char *const keys[] = {"cursor", "limit", "group", "actor", "action"};
    *field = NULL;
    for (size_t i = 0; i < ARRAY_LEN(keys); i++)
        if (strlen(keys[i]) == klen && strncmp(arg, keys[i], klen) == 0)
            *field = keys[i];
    if (!*field || (!listing) || (!audit && strcmp(*field, "cursor") && strcmp(*field, "limit"))) {
        *field = NULL;
        return "unknown_field";
    }
    if (!*v)
        return NULL; /* an empty value is no filter, as a form leaves it */
    if (strcmp(*field, "cursor") == 0) {
        if (!parse_count(v, INT64_C(999999999999999), &n))
            return "invalid";
        j->cursor = n;
    } else if (strcmp(*field, "limit") == 0) {
        if (!parse_count(v, audit ? AUDIT_LIMIT_MAX : GROUPS_LIMIT_MAX, &n))
            return "invalid";
        j->limit = (int)n;
    } else if (strcmp(*field, "group") == 0) {
        if (!parse_count(v, INT64_C(999999999999999), &n))
            return "invalid";
        j->f_group = n;
    } else {
        char *dst = strcmp(*field, "actor") == 0 ? j->f_actor : j->f_action;
        if (strlen(v) > STORE_ACTOR_MAX)
            return "invalid";
        snprintf(dst, STORE_ACTOR_MAX + 1, "%s", v);
    }
    return NULL;
}

/* Replace *dst (owned) with a copy of s's string. */
static void take_string(char **dst, json_t *s)
{
    free(*dst);
    *dst = xstrdup(json_string_value(s));
}

/* Copy a string member into a fixed buffer of size len; false when it does
 * not fit (the store's check then names the field). */
static bool copy_fixed(char *dst, size_t len, json_t *s)
{
    if (json_string_length(s) >= len)
        return false;
    memcpy(dst, json_string_value(s), json_string_length(s) + 1);
    return true;
}

const char *admin_body(struct admin_job *j, const char *body, size_t len, const char **field)
{
    static const struct {
        const char *key;
        enum field bit;
        bool number;
    } members[] = {
        {"name", F_NAME, false},
        {"language", F_LANGUAGE, false},
        {"description", F_DESCRIPTION, false},
        {"agreement", F_AGREEMENT, false},
        {"max_participants", F_MAX, true},
        {"history", F_HISTORY, false},
        {"private_messages", F_PM, false},
    };
    json_error_t jerr;
    *field = NULL;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *err = NULL;
    if (!root || !json_is_object(root)) {
        err = "bad_json";
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        size_t i = 0;
        while (i < ARRAY_LEN(members) && strcmp(members[i].key, key) != 0)
            i++;
        /* The name is the group's handle in kamratctl and the audit log; it
         * is set once, when the group is added. */
        if (i == ARRAY_LEN(members) || (j->op == OP_GROUP_EDIT && members[i].bit == F_NAME)) {
            *field = i == ARRAY_LEN(members) ? NULL : members[i].key;
            err = "unknown_field";
            goto out;
        }
        *field = members[i].key;
        if (members[i].number ? !json_is_integer(v) : !json_is_string(v)) {
            err = "invalid";
            goto out;
        }
        j->given |= members[i].bit;
        bool fits = true;
        switch (members[i].bit) {
        case F_NAME:
            take_string(&j->g.name, v);
            break;
        case F_LANGUAGE:
            fits = copy_fixed(j->g.language, sizeof(j->g.language), v);
            break;
        case F_DESCRIPTION:
            take_string(&j->g.description, v);
            break;
        case F_AGREEMENT:
            take_string(&j->g.agreement, v);
            break;
        case F_MAX: {
            json_int_t m = json_integer_value(v);
            fits = m >= 1 && m <= 500;
            j->g.max_participants = fits ? (int)m : 0;
            break;
        }
        case F_HISTORY:
            fits = copy_fixed(j->g.history, sizeof(j->g.history), v);
            break;
        case F_PM:
            fits = copy_fixed(j->g.private_messages, sizeof(j->g.private_messages), v);
            break;
        }
        if (!fits) {
            err = "invalid";
            goto out;
        }
    }
    *field = NULL;
    if (j->op == OP_GROUP_ADD) {
        if (!(j->given & F_NAME))
            *field = "name";
        else if (!(j->given & F_LANGUAGE))
            *field = "language";
        else
            *field = store_group_invalid(&j->g);
        if (*field)
            err = "invalid";
    }
out:
    json_decref(root);
    return err;
}

void admin_prepare(struct admin_job *j, struct server *srv)
{
    j->now = config_now(srv->cfg);
    j->connections = srv->conns.count - srv->remote_conns;
    j->rooms = room_count(srv->rooms);
    j->logins = leaders_count(srv->leaders);
    j->clustered = srv->cluster != NULL;
    if (srv->cluster)
        cluster_status(srv->cluster, &j->cluster);
}

/* ---- the work (store worker) ------------------------------------------ */

/* Settle the answer: status and doc (taken; NULL for none). */
static void reply(struct admin_job *j, unsigned int status, json_t *doc)
{
    j->status = status;
    free(j->answer);
    j->answer = NULL;
    if (doc) {
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (text) {
            size_t n = strlen(text);
            j->answer = xmalloc(n + 2);
            memcpy(j->answer, text, n);
            memcpy(j->answer + n, "\n", 2);
            free(text);
        }
    }
    if (!j->answer) {
        j->status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
        j->answer = xstrdup("{\"error\":\"internal\"}\n");
    }
}

static void reply_error(struct admin_job *j, unsigned int status, const char *code,
                        const char *field)
{
    reply(j, status,
          field ? json_pack("{ss ss}", "error", code, "field", field)
                : json_pack("{ss}", "error", code));
}

/* A store error other than the expected ones: busy (the client retries). */
static void reply_store(struct admin_job *j, int rc)
{
    if (rc == STORE_E_NOT_FOUND)
        reply_error(j, HTTP_STATUS_NOT_FOUND, "not_found", NULL);
    else if (rc == STORE_E_EXISTS)
        reply_error(j, HTTP_STATUS_CONFLICT, "exists", "name");
    else if (rc == STORE_E_INVALID)
        reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", NULL);
    else
        reply(j, HTTP_STATUS_SERVICE_UNAVAILABLE,
              json_pack("{ss si}", "error", "busy", "retry_after_ms", 1000));
}

/* Does the coordinator's account still hold what the login was given? */
static int standing(struct store *s, struct admin_job *j)
{
    struct store_leader who;
    int rc = store_leader_get(s, j->username, &who);
    if (rc == 0 && (who.id != j->account_id || who.disabled || who.login_gen != j->login_gen ||
                    who.role != STORE_ROLE_COORDINATOR))
        rc = STORE_E_NOT_FOUND;
    wipe(&who, sizeof(who)); /* the password hash */
    return rc;
}

static json_t *group_json(const struct store_group *g)
{
    return json_pack("{sI ss ss ss ss si ss ss sI}", "id", (json_int_t)g->id, "name", g->name,
                     "language", g->language, "description", g->description, "agreement",
                     g->agreement, "max_participants", g->max_participants, "history", g->history,
                     "private_messages", g->private_messages, "created_at",
                     (json_int_t)g->created_at * 1000);
}

/* The page from the cursor on (an offset into the list by name). */
static void list_groups(struct store *s, struct admin_job *j)
{
    struct store_group *v = NULL;
    size_t n = 0;
    int rc = store_group_list(s, &v, &n);
    if (rc < 0) {
        reply_store(j, rc);
        return;
    }
    json_t *list = json_array();
    size_t from = (size_t)j->cursor, to = from + (size_t)j->limit;
    for (size_t i = from; i < n && i < to; i++)
        json_array_append_new(list, group_json(&v[i]));
    json_t *next = to < n ? json_sprintf("%zu", to) : json_null();
    reply(j, HTTP_STATUS_OK, json_pack("{so so}", "groups", list, "next_cursor", next));
    store_group_list_free(v, n);
}

static void add_group(struct store *s, struct admin_job *j)
{
    int64_t id = 0;
    int rc = store_group_add(s, j->now, j->actor, &j->g, &id);
    struct store_group g = {0};
    if (rc == 0)
        rc = store_group_get_id(s, id, &g);
    if (rc < 0)
        reply_store(j, rc);
    else
        reply(j, HTTP_STATUS_CREATED, group_json(&g));
    store_group_clear(&g);
}

/* Overlay the members given on the group as stored, check and write. */
static void edit_group(struct store *s, struct admin_job *j)
{
    struct store_group g;
    int rc = store_group_get_id(s, j->group_id, &g);
    if (rc < 0) {
        reply_store(j, rc);
        return;
    }
    if (j->given & F_LANGUAGE)
        memcpy(g.language, j->g.language, sizeof(g.language));
    if (j->given & F_DESCRIPTION) {
        free(g.description);
        g.description = xstrdup(j->g.description);
    }
    if (j->given & F_AGREEMENT) {
        free(g.agreement);
        g.agreement = xstrdup(j->g.agreement);
    }
    if (j->given & F_MAX)
        g.max_participants = j->g.max_participants;
    if (j->given & F_HISTORY)
        memcpy(g.history, j->g.history, sizeof(g.history));
    if (j->given & F_PM)
        memcpy(g.private_messages, j->g.private_messages, sizeof(g.private_messages));
    const char *bad = store_group_invalid(&g);
    if (bad)
        reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", bad);
    else if ((rc = store_group_edit(s, j->now, j->actor, &g)) < 0)
        reply_store(j, rc);
    else
        reply(j, HTTP_STATUS_OK, group_json(&g));
    store_group_clear(&g);
}

/* Newest first; the cursor is the id of the last row of the page before. */
static void audit(struct store *s, struct admin_job *j)
{
    struct store_audit_filter f = {
        .group_id = j->f_group,
        .limit = j->limit + 1, /* one more tells whether another page follows */
        .actor = j->f_actor[0] ? j->f_actor : NULL,
        .action = j->f_action[0] ? j->f_action : NULL,
        .before_id = j->cursor,
    };
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    int rc = store_audit_query(s, &f, &rows, &n);
    if (rc < 0) {
        reply_store(j, rc);
        return;
    }
    json_t *list = json_array();
    size_t first = n > (size_t)j->limit ? 1 : 0; /* rows are oldest first */
    for (size_t i = n; i-- > first;) {
        const struct store_audit_row *r = &rows[i];
        json_array_append_new(
            list, json_pack("{sI sI ss ss so so so}", "id", (json_int_t)r->id, "ts",
                            (json_int_t)r->ts * 1000, "actor", r->actor, "action", r->action,
                            "target", r->target ? json_string(r->target) : json_null(), "group_id",
                            r->group_id ? json_integer(r->group_id) : json_null(), "session_id",
                            r->session_id ? json_integer(r->session_id) : json_null()));
    }
    json_t *next = first ? json_sprintf("%" PRId64, rows[1].id) : json_null();
    reply(j, HTTP_STATUS_OK, json_pack("{so so}", "entries", list, "next_cursor", next));
    store_audit_free(rows, n);
}

static void health(struct store *s, struct admin_job *j)
{
    (void)s; /* the standing check just read the store: it answers */
    json_t *cluster = json_null();
    if (j->clustered)
        cluster =
            json_pack("{ss ss ss sI}", "node", j->cluster.node_id, "redis",
                      j->cluster.redis_up ? "ok" : "down", "bus", j->cluster.bus_up ? "ok" : "down",
                      "live_nodes", (json_int_t)j->cluster.live_nodes);
    reply(j, HTTP_STATUS_OK,
          json_pack("{ss sI sI sI ss so}", "version", KAMRAT_VERSION, "connections",
                    (json_int_t)j->connections, "rooms", (json_int_t)j->rooms, "logins",
                    (json_int_t)j->logins, "store", "ok", "cluster", cluster));
}

void admin_work(struct store *s, void *arg)
{
    struct admin_job *j = arg;
    int rc = standing(s, j);
    if (rc == STORE_E_NOT_FOUND) {
        j->ended = true;
        reply_error(j, HTTP_STATUS_UNAUTHORIZED, "token_invalid", NULL);
        return;
    }
    if (rc < 0) {
        reply_store(j, rc);
        return;
    }
    switch (j->op) {
    case OP_HEALTH:
        health(s, j);
        break;
    case OP_GROUPS:
        list_groups(s, j);
        break;
    case OP_GROUP_ADD:
        add_group(s, j);
        break;
    case OP_GROUP_EDIT:
        edit_group(s, j);
        break;
    case OP_AUDIT:
        audit(s, j);
        break;
    }
}

char *admin_take_answer(struct admin_job *j, unsigned int *status, bool *ended)
{
    assert(j->answer);
    char *a = j->answer;
    j->answer = NULL;
    *status = j->status;
    *ended = j->ended;
    return a;
}

int64_t admin_account(const struct admin_job *j)
{
    return j->account_id;
}

void admin_job_free(struct admin_job *j)
{
    if (!j)
        return;
    store_group_clear(&j->g);
    free(j->answer);
    wipe(j, sizeof(*j));
    free(j);
}
