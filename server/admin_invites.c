/*
 * The console's invites (protocol/README.md §12): the groups a caller may
 * invite to, and a group's invites listed, made and revoked, by coordinators
 * and by the leaders of the group. A code is made as kamratctl makes it
 * (auth_invite_code_new), the store keeps only its hash, and its link, with
 * the link's QR code, is in the one answer that creates it: every buffer
 * that held it is wiped.
 */
#include <inttypes.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "auth.h"
#include "qr.h"
#include "util.h"

#define INVITES_LIMIT_MAX 100
#define GROUPS_LIMIT_MAX 50
#define DAY INT64_C(86400)
#define ID_MAX INT64_C(999999999999999) /* as the path's ids */

static json_t *ms_or_null(int64_t t)
{
    return t ? json_integer((json_int_t)t * 1000) : json_null();
}

static json_t *invite_json(const struct store_invite *inv, int64_t now)
{
    return json_pack("{sI sI ss ss sI sI so so so}", "id", (json_int_t)inv->id, "group_id",
                     (json_int_t)inv->group_id, "kind", store_invite_kind_name(inv->kind), "state",
                     store_invite_state_name(store_invite_state(inv, now)), "created_at",
                     (json_int_t)inv->created_at * 1000, "expires_at",
                     (json_int_t)inv->expires_at * 1000, "used_at", ms_or_null(inv->used_at),
                     "revoked_at", ms_or_null(inv->revoked_at), "created_by",
                     inv->created_by[0] ? json_string(inv->created_by) : json_null());
}

/* The groups the caller may invite to: every group for a coordinator, the
 * groups they lead for a leader; by name, paged by offset as groups are. */
static void invite_groups(struct store *s, struct admin_job *j)
{
    struct store_group *v = NULL;
    size_t n = 0;
    int rc = j->coordinator ? store_group_list(s, &v, &n)
                            : store_leader_groups(s, j->account_id, &v, &n);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    json_t *list = json_array();
    size_t from = (size_t)j->cursor, to = from + (size_t)j->limit;
    for (size_t i = from; i < n && i < to; i++)
        json_array_append_new(list, json_pack("{sI ss ss}", "id", (json_int_t)v[i].id, "name",
                                              v[i].name, "language", v[i].language));
    char next[24];
    snprintf(next, sizeof(next), "%zu", to);
    admin_reply_page(j, "groups", list, to < n ? next : NULL);
    store_group_list_free(v, n);
}

/* Newest first; the cursor is the id of the last invite of the page before,
 * so an invite made meanwhile does not shift the pages. */
static void list_invites(struct store *s, struct admin_job *j)
{
    int64_t group_id = j->id[0];
    if (!admin_may_group(s, j, group_id))
        return;
    struct store_group g;
    int rc = store_group_get_id(s, group_id, &g);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    store_group_clear(&g);
    struct store_invite *v = NULL;
    size_t n = 0;
    if ((rc = store_invite_list(s, group_id, &v, &n)) < 0) {
        admin_reply_store(j, rc);
        return;
    }
    json_t *list = json_array();
    size_t taken = 0;
    int64_t last = 0;
    bool more = false;
    for (size_t i = 0; i < n && !more; i++) {
        if (j->cursor && v[i].id >= j->cursor)
            continue;
        if (taken == (size_t)j->limit) {
            more = true;
            break;
        }
        json_array_append_new(list, invite_json(&v[i], j->now));
        last = v[i].id;
        taken++;
    }
    char next[24];
    snprintf(next, sizeof(next), "%" PRId64, last);
    admin_reply_page(j, "invites", list, more ? next : NULL);
    free(v);
}

/* The body's kind and validity into *kind and *days; the member that is
 * wrong, or NULL. */
static const char *invite_terms(const struct admin_job *j, enum store_invite_kind *kind,
                                int64_t *days)
{
    const char *k = json_string_value(admin_member(j, "kind"));
    if (strcmp(k, "group") == 0)
        *kind = STORE_INVITE_GROUP;
    else if (strcmp(k, "personal") == 0)
        *kind = STORE_INVITE_PERSONAL;
    else
        return "kind";
    json_t *d = admin_member(j, "expires_days");
    *days = d ? json_integer_value(d) : STORE_INVITE_DAYS_DEFAULT;
    return *days < 1 || *days > STORE_INVITE_DAYS_MAX ? "expires_days" : NULL;
}

/* The answer to a new invite: as listed, with its link and the link's QR
 * code. NULL when the QR code cannot be made (a link too long for one). */
static json_t *created_json(const struct store_invite *inv, const char *link, int64_t now)
{
    char *svg = qr_svg(link);
    if (!svg)
        return NULL;
    json_t *doc = invite_json(inv, now);
    json_object_set_new(doc, "link", json_string(link));
    json_object_set_new(doc, "qr_svg", json_string(svg));
    wipe(svg, strlen(svg));
    free(svg);
    return doc;
}

static void create_invite(struct store *s, struct admin_job *j)
{
    struct store_invite inv = {.group_id = j->id[0], .created_at = j->now};
    int64_t days = 0;
    if (!admin_may_group(s, j, inv.group_id))
        return;
    const char *bad = invite_terms(j, &inv.kind, &days);
    if (bad) {
        admin_reply_error(j, HTTP_STATUS_BAD_REQUEST, "invalid", bad);
        return;
    }
    struct store_group g;
    int rc = store_group_get_id(s, inv.group_id, &g);
    if (rc < 0) {
        admin_reply_store(j, rc);
        return;
    }
    store_group_clear(&g);
    inv.expires_at = j->now + days * DAY;
    snprintf(inv.created_by, sizeof(inv.created_by), "%s", j->actor);

    char code[AUTH_INVITE_LEN + 1];
    unsigned char hash[AUTH_DIGEST_LEN];
    size_t link_len = strlen(j->origin) + strlen("/j/") + AUTH_INVITE_LEN + 1;
    char *link = xmalloc(link_len);
    json_t *doc = NULL;
    if (auth_invite_code_new(code, hash) < 0) {
        admin_reply_error(j, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL);
        goto out;
    }
    snprintf(link, link_len, "%s/j/%s", j->origin, code);
    /* The answer before the row: an invite nobody can be shown is not made. */
    if (!(doc = created_json(&inv, link, j->now))) {
        admin_reply_error(j, HTTP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL);
        goto out;
    }
    if ((rc = store_invite_create(s, j->now, j->actor, inv.group_id, inv.kind, hash, inv.expires_at,
                                  &inv.id)) < 0) {
        admin_reply_store(j, rc);
        goto out;
    }
    json_object_set_new(doc, "id", json_integer((json_int_t)inv.id));
    admin_reply(j, HTTP_STATUS_CREATED, doc);
    doc = NULL;
out:
    json_decref(doc);
    wipe(link, link_len);
    free(link);
    wipe(code, sizeof(code));
    wipe(hash, sizeof(hash));
}

/* Any leader of the group may revoke any of its invites, whoever made it:
 * revoking only takes access away, a leaked link must end with whichever
 * leader is on duty, and the audit names who did it. */
static void revoke_invite(struct store *s, struct admin_job *j)
{
    if (!admin_may_group(s, j, j->id[0]))
        return;
    struct store_invite inv;
    int rc = store_invite_revoke_in(s, j->now, j->actor, j->id[0], j->id[1], &inv);
    if (rc == STORE_E_INVALID)
        admin_reply_error(j, HTTP_STATUS_CONFLICT, "revoked", NULL);
    else if (rc < 0)
        admin_reply_store(j, rc);
    else
        admin_reply(j, HTTP_STATUS_OK, invite_json(&inv, j->now));
}

static const struct admin_arg_spec groups_args[] = {
    {"cursor", ADMIN_ARG_CURSOR, ID_MAX},
    {"limit", ADMIN_ARG_LIMIT, GROUPS_LIMIT_MAX},
    {0},
};

static const struct admin_arg_spec invites_args[] = {
    {"cursor", ADMIN_ARG_CURSOR, ID_MAX},
    {"limit", ADMIN_ARG_LIMIT, INVITES_LIMIT_MAX},
    {0},
};

static const struct admin_member_spec invite_members[] = {
    {"kind", ADMIN_STRING, true},
    {"expires_days", ADMIN_INTEGER, false},
    {0},
};

const struct admin_endpoint admin_invites_endpoints[] = {
    {"GET", "invites/groups", ADMIN_COORDINATOR | ADMIN_LEADER, groups_args, NULL, invite_groups},
    {"GET", "groups/#/invites", ADMIN_COORDINATOR | ADMIN_LEADER, invites_args, NULL, list_invites},
    {"POST", "groups/#/invites", ADMIN_COORDINATOR | ADMIN_LEADER, NULL, invite_members,
     create_invite},
    {"DELETE", "groups/#/invites/#", ADMIN_COORDINATOR | ADMIN_LEADER, NULL, NULL, revoke_invite},
    {0},
};
