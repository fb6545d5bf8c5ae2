#include "admin.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "admin_int.h"
#include "config.h"
#include "kamrat_build.h"
#include "leaders.h"
#include "room.h"
#include "server.h"
#include "util.h"

#define AUDIT_LIMIT_MAX 200
#define LIMIT_DEFAULT 20
#define ID_MAX INT64_C(999999999999999)

/* ---- the endpoints of this file: health and the audit log ---- */

static void health(struct store *s, struct admin_job *j)
{
    (void)s; /* the standing check just read the store: it answers */
    json_t *cluster = json_null();
    if (j->clustered)
        cluster =
            json_pack("{ss ss ss sI}", "node", j->cluster.node_id, "redis",
                      j->cluster.redis_up ? "ok" : "down", "bus", j->cluster.bus_up ? "ok" : "down",
                      "live_nodes", (json_int_t)j->cluster.live_nodes);
    admin_reply(j, HTTP_STATUS_OK,
                json_pack("{ss sI sI sI ss so}", "version", KAMRAT_VERSION, "connections",
                          (json_int_t)j->connections, "rooms", (json_int_t)j->rooms, "logins",
                          (json_int_t)j->logins, "store", "ok", "cluster", cluster));
}

/* Newest first; the cursor is the id of the last row of the page before. */
static void audit(struct store *s, struct admin_job *j)
{
    const struct admin_arg *group = admin_arg(j, "group"), *actor = admin_arg(j, "actor"),
                           *action = admin_arg(j, "action");
    struct store_audit_filter f = {
        .group_id = group ? group->n : 0,
        .limit = j->limit + 1, /* one more tells whether another page follows */
        .actor = actor ? actor->text : NULL,
        .action = action ? action->text : NULL,
        .before_id = j->cursor,
    };
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    int rc = store_audit_query(s, &f, &rows, &n);
    if (rc < 0) {
        admin_reply_store(j, rc);
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
    char next[24];
    if (first)
        snprintf(next, sizeof(next), "%" PRId64, rows[1].id);
    admin_reply_page(j, "entries", list, first ? next : NULL);
    store_audit_free(rows, n);
}

static const struct admin_arg_spec audit_args[] = {
    {"group", ADMIN_ARG_ID, ID_MAX},
    {"actor", ADMIN_ARG_TEXT, STORE_ACTOR_MAX},
    {"action", ADMIN_ARG_TEXT, STORE_ACTOR_MAX},
    {"cursor", ADMIN_ARG_CURSOR, ID_MAX},
    {"limit", ADMIN_ARG_LIMIT, AUDIT_LIMIT_MAX},
    {0},
};

static const struct admin_endpoint own_endpoints[] = {
    {"GET", "health", ADMIN_COORDINATOR, NULL, NULL, health},
    {"GET", "audit", ADMIN_COORDINATOR, audit_args, NULL, audit},
    {0},
};

/* Every endpoint of the console, table by table. */
static const struct admin_endpoint *const tables[] = {
    own_endpoints,           admin_groups_endpoints,
    admin_invites_endpoints, admin_sessions_endpoints,
    admin_leaders_endpoints, admin_attendance_endpoints,
};

/* ---- routes, query and body (lws thread) ------------------------------- */

/* "123" at *p (up to '/' or the end): the id, with *p past it; 0 when it
 * is not a positive decimal without leading zeros. */
static int64_t take_id(const char **p)
{
    size_t n = strspn(*p, "0123456789");
    if (n == 0 || n > 15 || **p == '0' || ((*p)[n] && (*p)[n] != '/'))
        return 0;
    int64_t id = strtoll(*p, NULL, 10);
    *p += n;
    return id;
}

/* Does sub match the pattern? ids gets the "#" parts. */
static bool path_matches(const char *pattern, const char *sub, int64_t ids[ADMIN_PATH_IDS])
{
    int k = 0;
    while (*pattern && *sub) {
        if (*pattern == '#') {
            if (k == ADMIN_PATH_IDS || (ids[k++] = take_id(&sub)) == 0)
                return false;
            pattern++;
        } else if (*pattern++ != *sub++) {
            return false;
        }
    }
    return !*pattern && !*sub;
}

static bool changes(const char *method)
{
    return strcmp(method, "GET") != 0;
}

struct admin_job *admin_route(const char *path, const char *method, const struct leader_login *who,
                              struct admin_route *out)
{
    *out = (struct admin_route){0};
    const char *sub = path + strlen("/api/admin/");
    const struct admin_endpoint *found = NULL;
    int64_t ids[ADMIN_PATH_IDS] = {0};
    char *allow = out->allow_buf;
    for (size_t t = 0; t < ARRAY_LEN(tables); t++) {
        for (const struct admin_endpoint *e = tables[t]; e->path; e++) {
            int64_t these[ADMIN_PATH_IDS] = {0};
            if (!path_matches(e->path, sub, these))
                continue;
            out->known = true;
            size_t used = (size_t)(allow - out->allow_buf);
            allow +=
                snprintf(allow, sizeof(out->allow_buf) - used, "%s%s", used ? ", " : "", e->method);
            if (method && strcmp(method, e->method) == 0) {
                found = e;
                memcpy(ids, these, sizeof(ids));
            }
        }
    }
    out->allow = out->allow_buf;
    if (!found)
        return NULL;
    out->allowed = true;
    out->changes = changes(found->method);
    out->has_body = found->members != NULL;
    out->role_ok = (found->roles & (who->coordinator ? ADMIN_COORDINATOR : ADMIN_LEADER)) != 0;
    if (!out->role_ok)
        return NULL;
    struct admin_job *j = xcalloc(1, sizeof(*j));
    j->ep = found;
    memcpy(j->id, ids, sizeof(ids));
    j->limit = LIMIT_DEFAULT;
    j->account_id = who->leader_id;
    j->login_gen = who->login_gen;
    j->coordinator = who->coordinator;
    snprintf(j->username, sizeof(j->username), "%s", who->username);
    snprintf(j->actor, sizeof(j->actor), "%s:%s", who->coordinator ? "coordinator" : "leader",
             j->username);
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

const char *admin_query(struct admin_job *j, const char *text, const char **field)
{
    const char *eq = strchr(text, '=');
    size_t klen = eq ? (size_t)(eq - text) : strlen(text);
    const char *v = eq ? eq + 1 : "";
    const struct admin_arg_spec *spec = j->ep->args;
    *field = NULL;
    while (spec && spec->key && !(strlen(spec->key) == klen && strncmp(text, spec->key, klen) == 0))
        spec++;
    if (!spec || !spec->key)
        return "unknown_field";
    *field = spec->key;
    if (!*v)
        return NULL; /* an empty value is no filter, as a form leaves it */
    int64_t n = 0;
    switch (spec->type) {
    case ADMIN_ARG_ID:
    case ADMIN_ARG_CURSOR:
    case ADMIN_ARG_LIMIT:
        if (!parse_count(v, spec->max, &n))
            return "invalid";
        break;
    case ADMIN_ARG_TEXT:
        if (strlen(v) > (size_t)spec->max || strlen(v) > ADMIN_ARG_TEXT_MAX)
            return "invalid";
        break;
    }
    if (spec->type == ADMIN_ARG_CURSOR) {
        j->cursor = n;
        return NULL;
    }
    if (spec->type == ADMIN_ARG_LIMIT) {
        j->limit = (int)n;
        return NULL;
    }
    struct admin_arg *slot = NULL;
    for (size_t i = 0; i < ARRAY_LEN(j->args) && !slot; i++)
        if (!j->args[i].key || j->args[i].key == spec->key)
            slot = &j->args[i];
    if (!slot)
        return "invalid";
    slot->key = spec->key;
    slot->n = n;
    snprintf(slot->text, sizeof(slot->text), "%s", v);
    return NULL;
}

static bool member_type_ok(json_t *v, enum admin_member_type type)
{
    switch (type) {
    case ADMIN_STRING:
        return json_is_string(v);
    case ADMIN_INTEGER:
        return json_is_integer(v);
    case ADMIN_BOOLEAN:
        return json_is_boolean(v);
    }
    return false;
}

const char *admin_body(struct admin_job *j, const char *body, size_t len, const char **field)
{
    json_error_t jerr;
    *field = NULL;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return "bad_json";
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        const struct admin_member_spec *m = j->ep->members;
        while (m->key && strcmp(m->key, key) != 0)
            m++;
        if (!m->key || !member_type_ok(v, m->type)) {
            *field = m->key; /* NULL for an unknown member: its name may be anything */
            json_decref(root);
            return m->key ? "invalid" : "unknown_field";
        }
    }
    bool partial = strcmp(j->ep->method, "PATCH") == 0;
    for (const struct admin_member_spec *m = j->ep->members; m->key && !partial; m++) {
        if (m->required && !json_object_get(root, m->key)) {
            *field = m->key;
            json_decref(root);
            return "invalid";
        }
    }
    j->body = root;
    return NULL;
}

void admin_prepare(struct admin_job *j, struct server *srv)
{
    j->now = config_now(srv->cfg);
    j->origin = xstrdup(srv->cfg->origin);
    j->early_start = (int64_t)srv->cfg->limits.early_start * 60;
    j->connections = srv->conns.count - srv->remote_conns;
    j->rooms = room_count(srv->rooms);
    j->logins = leaders_count(srv->leaders);
    j->clustered = srv->cluster != NULL;
    if (srv->cluster)
        cluster_status(srv->cluster, &j->cluster);
}

/* ---- for the work functions (store worker) ----------------------------- */

void admin_reply(struct admin_job *j, unsigned int status, json_t *doc)
{
    j->status = status;
    free(j->answer);
    j->answer = NULL;
    j->mime = NULL;
    if (doc) {
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (text) {
            size_t n = strlen(text);
            j->answer = xmalloc(n + 2);
            memcpy(j->answer, text, n);
            memcpy(j->answer + n, "\n", 2);
            wipe(text, n); /* an invite's link */
            free(text);
        }
    }
    if (!j->answer) {
        j->status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
        j->answer = xstrdup("{\"error\":\"internal\"}\n");
    }
}

void admin_reply_download(struct admin_job *j, char *text, const char *mime, const char *filename)
{
    assert(strspn(filename, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
           strlen(filename));
    j->status = HTTP_STATUS_OK;
    free(j->answer);
    j->answer = text;
    j->mime = mime;
    snprintf(j->filename, sizeof(j->filename), "%s", filename);
}

void admin_reply_error(struct admin_job *j, unsigned int status, const char *code,
                       const char *field)
{
    admin_reply(j, status,
                field ? json_pack("{ss ss}", "error", code, "field", field)
                      : json_pack("{ss}", "error", code));
}

void admin_reply_store(struct admin_job *j, int rc)
{
    if (rc == STORE_E_NOT_FOUND)
        admin_reply_error(j, HTTP_STATUS_NOT_FOUND, "not_found", NULL);
    else if (rc == STORE_E_EXISTS)
        admin_reply_error(j, HTTP_STATUS_CONFLICT, "exists", "name");
    else if (rc == STORE_E_INVALID)
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", NULL);
    else if (rc == STORE_E_ARCHIVED)
        admin_reply_error(j, HTTP_STATUS_CONFLICT, "archived", NULL);
    else
        admin_reply(j, HTTP_STATUS_SERVICE_UNAVAILABLE,
                    json_pack("{ss si}", "error", "busy", "retry_after_ms", 1000));
}

void admin_reply_page(struct admin_job *j, const char *key, json_t *list, const char *next)
{
    admin_reply(
        j, HTTP_STATUS_OK,
        json_pack("{so so}", key, list, "next_cursor", next ? json_string(next) : json_null()));
}

const struct admin_arg *admin_arg(const struct admin_job *j, const char *key)
{
    for (size_t i = 0; i < ARRAY_LEN(j->args); i++)
        if (j->args[i].key && strcmp(j->args[i].key, key) == 0 && j->args[i].text[0])
            return &j->args[i];
    return NULL;
}

json_t *admin_member(const struct admin_job *j, const char *key)
{
    return j->body ? json_object_get(j->body, key) : NULL;
}

bool admin_member_fixed(const struct admin_job *j, const char *key, char *dst, size_t len)
{
    json_t *s = admin_member(j, key);
    if (!s)
        return true;
    if (json_string_length(s) >= len)
        return false;
    memcpy(dst, json_string_value(s), json_string_length(s) + 1);
    return true;
}

void admin_member_take(const struct admin_job *j, const char *key, char **dst)
{
    json_t *s = admin_member(j, key);
    if (!s)
        return;
    free(*dst);
    *dst = xstrdup(json_string_value(s));
}

bool admin_may_group(struct store *s, struct admin_job *j, int64_t group_id)
{
    if (j->coordinator)
        return true;
    struct store_group *v = NULL;
    size_t n = 0;
    int rc = store_leader_groups(s, j->account_id, &v, &n);
    bool leads = false;
    for (size_t i = 0; rc == 0 && i < n; i++)
        leads = leads || v[i].id == group_id;
    store_group_list_free(v, n);
    if (rc < 0)
        admin_reply_store(j, rc);
    else if (!leads)
        admin_reply_error(j, HTTP_STATUS_FORBIDDEN, "forbidden", NULL);
    return leads;
}

/* Does the caller's account still hold what the login was given? */
static int standing(struct store *s, struct admin_job *j)
{
    struct store_leader who;
    int role = j->coordinator ? STORE_ROLE_COORDINATOR : STORE_ROLE_LEADER;
    int rc = store_leader_get(s, j->username, &who);
    if (rc == 0 && (who.id != j->account_id || who.disabled || who.login_gen != j->login_gen ||
                    (int)who.role != role))
        rc = STORE_E_NOT_FOUND;
    wipe(&who, sizeof(who)); /* the password hash */
    return rc;
}

void admin_work(struct store *s, void *arg)
{
    struct admin_job *j = arg;
    int rc = standing(s, j);
    if (rc == STORE_E_NOT_FOUND) {
        j->ended = true;
        admin_reply_error(j, HTTP_STATUS_UNAUTHORIZED, "token_invalid", NULL);
        return;
    }
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    j->ep->work(s, j);
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

const char *admin_answer_type(const struct admin_job *j, const char **filename)
{
    *filename = j->mime ? j->filename : NULL;
    return j->mime ? j->mime : "application/json";
}

int64_t admin_account(const struct admin_job *j)
{
    return j->account_id;
}

void admin_job_free(struct admin_job *j)
{
    if (!j)
        return;
    json_decref(j->body);
    free(j->origin);
    if (j->answer) /* it may hold an invite link, made once */
        wipe(j->answer, strlen(j->answer));
    free(j->answer);
    wipe(j, sizeof(*j));
    free(j);
}
