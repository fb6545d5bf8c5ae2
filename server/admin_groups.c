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
        admin_reply_store(j, rc);
        return;
    }
    json_t *list = json_array();
    size_t from = (size_t)j->cursor, to = from + (size_t)j->limit;
    for (size_t i = from; i < n && i < to; i++)
        json_array_append_new(list, group_json(&v[i]));
    char next[24];
    snprintf(next, sizeof(next), "%zu", to);
    admin_reply_page(j, "groups", list, to < n ? next : NULL);
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

static void edit_group(struct store *s, struct admin_job *j)
{
    struct store_group g;
    int rc = store_group_get_id(s, j->id[0], &g);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    const char *bad = overlay(j, &g);
    if (bad)
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", bad);
    else if ((rc = store_group_edit(s, j->now, j->actor, &g)) < 0)
        admin_reply_store(j, rc);
    else
        admin_reply(j, HTTP_STATUS_OK, group_json(&g));
    store_group_clear(&g);
}

static const struct admin_arg_spec list_args[] = {
    {"cursor", ADMIN_ARG_CURSOR, INT64_C(999999999999999)},
    {"limit", ADMIN_ARG_LIMIT, GROUPS_LIMIT_MAX},
    {0},
};

/* The name is the group's handle in kamratctl and the audit log: it is set
 * once, when the group is added, and a PATCH takes what follows it. */
static const struct admin_member_spec group_members[] = {
    {"name", ADMIN_STRING, true},
    {"language", ADMIN_STRING, true},
    {"description", ADMIN_STRING, false},
    {"agreement", ADMIN_STRING, false},
    {"max_participants", ADMIN_INTEGER, false},
    {"history", ADMIN_STRING, false},
    {"private_messages", ADMIN_STRING, false},
    {0},
};

const struct admin_endpoint admin_groups_endpoints[] = {
    {"GET", "groups", ADMIN_COORDINATOR, list_args, NULL, list_groups},
    {"POST", "groups", ADMIN_COORDINATOR, NULL, group_members, add_group},
    {"PATCH", "groups/#", ADMIN_COORDINATOR, NULL, group_members + 1, edit_group},
    {0},
};
