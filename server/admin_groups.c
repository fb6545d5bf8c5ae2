/* The console's groups: list, add, edit (protocol/README.md §12). */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "util.h"

#define GROUPS_LIMIT_MAX 50 /* a page of groups with long agreements stays a few MB at most */

static json_t *group_json(const struct store_group *g)
{
    return json_pack("{sI ss ss ss ss si ss ss sb sI so}", "id", (json_int_t)g->id, "name", g->name,
                     "language", g->language, "description", g->description, "agreement",
                     g->agreement, "max_participants", g->max_participants, "history", g->history,
                     "private_messages", g->private_messages, "adhoc_sessions", g->adhoc_sessions,
                     "created_at", (json_int_t)g->created_at * 1000, "archived_at",
                     g->archived_at ? json_integer(g->archived_at * 1000) : json_null());
}

/* The page from the cursor on (an offset into the list by name of the
 * groups archived or not, as asked). */
static void list_groups(struct store *s, struct admin_job *j)
{
    const struct admin_arg *a = admin_arg(j, "archived");
    if (a && strcmp(a->text, "true") != 0 && strcmp(a->text, "false") != 0) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", "archived");
        return;
    }
    bool archived = a && strcmp(a->text, "true") == 0;
    struct store_group *v = NULL;
    size_t n = 0;
    int rc = store_group_list(s, &v, &n);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    json_t *list = json_array();
    size_t from = (size_t)j->cursor, to = from + (size_t)j->limit, k = 0;
    for (size_t i = 0; i < n; i++) {
        if ((v[i].archived_at != 0) != archived)
            continue;
        if (k >= from && k < to)
            json_array_append_new(list, group_json(&v[i]));
        k++;
    }
    char next[24];
    snprintf(next, sizeof(next), "%zu", to);
    admin_reply_page(j, "groups", list, to < k ? next : NULL);
    store_group_list_free(v, n);
}

/* Overlay the settings the body gives on g. Returns the member that does
 * not fit or breaks the store's rules, or NULL. */
static const char *overlay(const struct admin_job *j, struct store_group *g)
{
    if (!admin_member_fixed(j, "language", g->language, sizeof(g->language)))
        return "language";
    if (!admin_member_fixed(j, "history", g->history, sizeof(g->history)))
        return "history";
    if (!admin_member_fixed(j, "private_messages", g->private_messages,
                            sizeof(g->private_messages)))
        return "private_messages";
    json_t *max = admin_member(j, "max_participants");
    if (max) {
        json_int_t m = json_integer_value(max);
        if (m < 1 || m > 500)
            return "max_participants";
        g->max_participants = (int)m;
    }
    json_t *adhoc = admin_member(j, "adhoc_sessions");
    if (adhoc)
        g->adhoc_sessions = json_is_true(adhoc);
    admin_member_take(j, "name", &g->name);
    admin_member_take(j, "description", &g->description);
    admin_member_take(j, "agreement", &g->agreement);
    return store_group_invalid(g);
}

static void add_group(struct store *s, struct admin_job *j)
{
    struct store_group g;
    store_group_defaults(&g);
    int64_t id = 0;
    const char *bad = overlay(j, &g);
    int rc = 0;
    if (bad) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", bad);
    } else if ((rc = store_group_add(s, j->now, j->actor, &g, &id)) < 0) {
        admin_reply_store(j, rc);
    } else {
        store_group_clear(&g);
        if ((rc = store_group_get_id(s, id, &g)) < 0)
            admin_reply_store(j, rc);
        else
            admin_reply(j, HTTP_STATUS_CREATED, group_json(&g));
    }
    store_group_clear(&g);
}

/* The settings first, then the archive mark, each with its own audit row
 * (group_edit; group_archive or group_unarchive) when it changes. */
static void edit_group(struct store *s, struct admin_job *j)
{
    struct store_group g;
    int rc = store_group_get_id(s, j->id[0], &g);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    json_t *archived = admin_member(j, "archived");
    bool settings = json_object_size(j->body) > (archived ? 1u : 0u);
    const char *bad = overlay(j, &g);
    if (bad)
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", bad);
    else if (settings && (rc = store_group_edit(s, j->now, j->actor, &g)) < 0)
        admin_reply_store(j, rc);
    else if (archived &&
             (rc = store_group_set_archived(s, j->now, j->actor, g.id, json_is_true(archived))) <
                 0 &&
             rc != STORE_E_INVALID) /* INVALID: it already is so */
        admin_reply_store(j, rc);
    else {
        store_group_clear(&g);
        if ((rc = store_group_get_id(s, j->id[0], &g)) < 0)
            admin_reply_store(j, rc);
        else
            admin_reply(j, HTTP_STATUS_OK, group_json(&g));
    }
    store_group_clear(&g);
}

static const struct admin_arg_spec list_args[] = {
    {"archived", ADMIN_ARG_TEXT, 5},
    {"cursor", ADMIN_ARG_CURSOR, INT64_C(999999999999999)},
    {"limit", ADMIN_ARG_LIMIT, GROUPS_LIMIT_MAX},
    {0},
};

/* The name is the group's handle in kamratctl and the audit log: it is set
 * once, when the group is added; a PATCH takes what follows it, and
 * "archived" (edit_members). */
static const struct admin_member_spec group_members[] = {
    {"name", ADMIN_STRING, true},
    {"language", ADMIN_STRING, true},
    {"description", ADMIN_STRING, false},
    {"agreement", ADMIN_STRING, false},
    {"max_participants", ADMIN_INTEGER, false},
    {"history", ADMIN_STRING, false},
    {"private_messages", ADMIN_STRING, false},
    {"adhoc_sessions", ADMIN_BOOLEAN, false},
    {0},
};

static const struct admin_member_spec edit_members[] = {
    {"language", ADMIN_STRING, false},
    {"description", ADMIN_STRING, false},
    {"agreement", ADMIN_STRING, false},
    {"max_participants", ADMIN_INTEGER, false},
    {"history", ADMIN_STRING, false},
    {"private_messages", ADMIN_STRING, false},
    {"adhoc_sessions", ADMIN_BOOLEAN, false},
    {"archived", ADMIN_BOOLEAN, false},
    {0},
};

const struct admin_endpoint admin_groups_endpoints[] = {
    {"GET", "groups", ADMIN_COORDINATOR, list_args, NULL, list_groups},
    {"POST", "groups", ADMIN_COORDINATOR, NULL, group_members, add_group},
    {"PATCH", "groups/#", ADMIN_COORDINATOR, NULL, edit_members, edit_group},
    {0},
};
