/* The console's accounts: list, add by setup link, disable and enable, a new
 * setup link, and the groups a leader leads (protocol/README.md §12). A
 * setup link's code is answered once, when it is made; only its hash is
 * stored. */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "auth.h"
#include "util.h"

#define LEADERS_LIMIT_MAX 100

/* "enabled", "disabled" or "awaiting_setup". */
static const char *state_name(const struct store_leader *l)
{
    return l->disabled ? "disabled" : l->awaiting_setup ? "awaiting_setup" : "enabled";
}

/* The account as listed, with the groups it leads; NULL after answering a
 * store error. */
static json_t *leader_json(struct store *s, struct admin_job *j, const struct store_leader *l)
{
    struct store_group *gs = NULL;
    size_t ng = 0;
    int rc = store_leader_groups(s, l->id, &gs, &ng);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return NULL;
    }
    json_t *groups = json_array();
    for (size_t i = 0; i < ng; i++)
        json_array_append_new(groups, json_pack("{sI ss sb}", "id", (json_int_t)gs[i].id, "name",
                                                gs[i].name, "archived", gs[i].archived_at != 0));
    store_group_list_free(gs, ng);
    return json_pack("{sI ss ss ss so sI so}", "id", (json_int_t)l->id, "username", l->username,
                     "role", store_role_name(l->role), "state", state_name(l), "setup_expires_at",
                     l->setup_expires_at ? json_integer(l->setup_expires_at * 1000) : json_null(),
                     "created_at", (json_int_t)l->created_at * 1000, "groups", groups);
}

/* Answer status with account id as it is now, and extra's members (taken;
 * NULL: none). */
static void reply_leader(struct store *s, struct admin_job *j, int64_t id, unsigned int status,
                         json_t *extra)
{
    struct store_leader l;
    int rc = store_leader_get_id(s, id, &l);
    json_t *doc = rc < 0 ? NULL : leader_json(s, j, &l);
    wipe(&l, sizeof(l)); /* the password hash */
    if (rc < 0)
        admin_reply_store(j, rc);
    if (doc && extra)
        json_object_update(doc, extra);
    if (doc)
        admin_reply(j, status, doc);
    json_decref(extra);
}

/* The page from the cursor on (an offset into the list by username). */
static void list_leaders(struct store *s, struct admin_job *j)
{
    struct store_leader *v = NULL;
    size_t n = 0;
    int rc = store_leader_list(s, &v, &n);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    json_t *list = json_array();
    size_t from = (size_t)j->cursor, to = from + (size_t)j->limit;
    bool failed = false;
    for (size_t i = from; i < n && i < to && !failed; i++) {
        json_t *one = leader_json(s, j, &v[i]);
        failed = !one;
        json_array_append_new(list, one);
    }
    char next[24];
    snprintf(next, sizeof(next), "%zu", to);
    if (failed)
        json_decref(list);
    else
        admin_reply_page(j, "leaders", list, to < n ? next : NULL);
    free(v);
}

/* A new setup code into code, its hash into hash; answers busy and
 * returns false when randomness fails. */
static bool new_code(struct admin_job *j, char code[AUTH_INVITE_LEN + 1],
                     uint8_t hash[STORE_HASH_LEN])
{
    if (auth_invite_code_new(code, hash) == 0)
        return true;
    admin_reply_store(j, STORE_E_BUSY);
    return false;
}

/* {"setup_url", "setup_expires_at"}: the only answer that holds the code. */
static json_t *setup_json(const struct admin_job *j, const char *code)
{
    size_t n = strlen(j->origin) + strlen("/setup#") + AUTH_INVITE_LEN + 1;
    char *url = xmalloc(n);
    snprintf(url, n, "%s/setup#%s", j->origin, code);
    json_t *doc = json_pack("{ss sI}", "setup_url", url, "setup_expires_at",
                            (json_int_t)(j->now + STORE_SETUP_TTL) * 1000);
    wipe(url, n);
    free(url);
    return doc;
}

static void add_leader(struct store *s, struct admin_job *j)
{
    json_t *u = admin_member(j, "username"), *r = admin_member(j, "role");
    const char *role = r ? json_string_value(r) : "leader";
    if (!store_username_valid(json_string_value(u))) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "username");
        return;
    }
    if (strcmp(role, "leader") != 0 && strcmp(role, "coordinator") != 0) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "role");
        return;
    }
    char code[AUTH_INVITE_LEN + 1];
    uint8_t hash[STORE_HASH_LEN];
    if (!new_code(j, code, hash))
        return;
    int64_t id = 0;
    enum store_role kind =
        strcmp(role, "coordinator") == 0 ? STORE_ROLE_COORDINATOR : STORE_ROLE_LEADER;
    int rc = store_account_add_pending(s, j->now, j->actor, kind, json_string_value(u), hash, &id);
    if (rc == STORE_E_EXISTS)
        admin_reply_error(j, HTTP_STATUS_CONFLICT, "exists", "username");
    else if (rc < 0)
        admin_reply_store(j, rc);
    else
        reply_leader(s, j, id, HTTP_STATUS_CREATED, setup_json(j, code));
    wipe(code, sizeof(code));
}

/* A coordinator neither disables nor resets their own account here: the
 * console would lock them out halfway. */
static bool not_own(struct admin_job *j)
{
    if (j->id[0] != j->account_id)
        return true;
    admin_reply_error(j, HTTP_STATUS_CONFLICT, "own_account", NULL);
    return false;
}

static void edit_leader(struct store *s, struct admin_job *j)
{
    json_t *d = admin_member(j, "disabled");
    if (d && !not_own(j))
        return;
    int rc = d ? store_leader_set_disabled(s, j->now, j->actor, j->id[0], json_is_true(d)) : 0;
    if (rc < 0 && rc != STORE_E_INVALID) /* INVALID: it already is so */
        admin_reply_store(j, rc);
    else
        reply_leader(s, j, j->id[0], HTTP_STATUS_OK, NULL);
}

static void setup_link(struct store *s, struct admin_job *j)
{
    if (!not_own(j))
        return;
    char code[AUTH_INVITE_LEN + 1];
    uint8_t hash[STORE_HASH_LEN];
    if (!new_code(j, code, hash))
        return;
    int rc = store_leader_setup_link(s, j->now, j->actor, j->id[0], hash);
    if (rc == STORE_E_INVALID)
        admin_reply_error(j, HTTP_STATUS_CONFLICT, "disabled", NULL);
    else if (rc < 0)
        admin_reply_store(j, rc);
    else
        reply_leader(s, j, j->id[0], HTTP_STATUS_OK, setup_json(j, code));
    wipe(code, sizeof(code));
}

/* Link (POST) or unlink (DELETE) leader id[0] and group id[1]. */
static void group_link(struct store *s, struct admin_job *j)
{
    bool add = strcmp(j->ep->method, "POST") == 0;
    int rc = add ? store_group_leader_add(s, j->now, j->actor, j->id[1], j->id[0])
                 : store_group_leader_remove(s, j->now, j->actor, j->id[1], j->id[0]);
    if (rc == STORE_E_EXISTS)
        admin_reply_error(j, HTTP_STATUS_CONFLICT, "exists", NULL);
    else if (rc == STORE_E_INVALID) /* a coordinator leads no group */
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "role");
    else if (rc < 0)
        admin_reply_store(j, rc);
    else
        reply_leader(s, j, j->id[0], HTTP_STATUS_OK, NULL);
}

static const struct admin_arg_spec list_args[] = {
    {"cursor", ADMIN_ARG_CURSOR, INT64_C(999999999999999)},
    {"limit", ADMIN_ARG_LIMIT, LEADERS_LIMIT_MAX},
    {0},
};

static const struct admin_member_spec add_members[] = {
    {"username", ADMIN_STRING, true},
    {"role", ADMIN_STRING, false},
    {0},
};

static const struct admin_member_spec edit_members[] = {
    {"disabled", ADMIN_BOOLEAN, false},
    {0},
};

const struct admin_endpoint admin_leaders_endpoints[] = {
    {"GET", "leaders", ADMIN_COORDINATOR, list_args, NULL, list_leaders},
    {"POST", "leaders", ADMIN_COORDINATOR, NULL, add_members, add_leader},
    {"PATCH", "leaders/#", ADMIN_COORDINATOR, NULL, edit_members, edit_leader},
    {"POST", "leaders/#/setup", ADMIN_COORDINATOR, NULL, NULL, setup_link},
    {"POST", "leaders/#/groups/#", ADMIN_COORDINATOR, NULL, NULL, group_link},
    {"DELETE", "leaders/#/groups/#", ADMIN_COORDINATOR, NULL, NULL, group_link},
    {0},
};
