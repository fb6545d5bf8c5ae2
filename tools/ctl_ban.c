/*
 * kamratctl ban ...: the group bans leaders made in their sessions
 * (protocol/README.md §4a). Bans are made only in a session, where the
 * leader sees whom they are about; the admin can list them and lift one.
 * A ban shows the pseudonym it was about, never the key digest it binds.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"

struct ban_opts {
    const char *group;
    int all;
};

static int ban_option(struct ctl *c, int opt, const char *value, void *arg)
{
    ((struct ban_opts *)arg)->group = value;
    return 0;
}

/* What a ban is bound to, as the list shows it. */
static const char *bound_to(const struct store_ban *b)
{
    if (b->invite_id && b->has_key)
        return "invite+key";
    return b->invite_id ? "invite" : "key";
}

static int cmd_ban_list(struct ctl *c, int argc, char **argv)
{
    struct ban_opts o = {0};
    const struct option longopts[] = {
        {"group", required_argument, NULL, 'g'},
        {"all", no_argument, &o.all, 1},
        {NULL, 0, NULL, 0},
    };
    struct ctl_names names;
    struct store_ban *v = NULL;
    size_t n = 0;
    int e, rc = ctl_options(c, argc, argv, longopts, ban_option, &o, 0, 0);
    if (rc)
        return rc;
    if ((rc = ctl_names_load(c, o.group, "bans", &names)))
        goto out;
    if ((e = store_ban_list(c->store, names.only, o.all, 0, &v, &n)) < 0) {
        rc = ctl_store_failed(c, e, "bans");
        goto out;
    }
    struct ctl_list l;
    ctl_list_init(c, &l, 7, "ID", "GROUP", "NAME", "BOUND TO", "CREATED", "BY", "LIFTED");
    for (size_t i = 0; i < n; i++) {
        char id[24], gb[32], created[CTL_TIME_LEN], lifted[CTL_TIME_LEN];
        const char *group = ctl_group_name(&names, v[i].group_id, gb);
        if (l.arr) {
            json_array_append_new(
                l.arr, json_pack("{sI ss ss ss so ss so}", "id", (json_int_t)v[i].id, "group",
                                 group, "name", v[i].name, "bound_to", bound_to(&v[i]),
                                 "created_at", ctl_json_time(v[i].created_at), "created_by",
                                 v[i].created_by, "lifted_at", ctl_json_time(v[i].lifted_at)));
            continue;
        }
        snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
        ctl_list_row(&l, id, group, *v[i].name ? v[i].name : "-", bound_to(&v[i]),
                     ctl_fmt_utc(v[i].created_at, false, created), v[i].created_by,
                     v[i].lifted_at ? ctl_fmt_utc(v[i].lifted_at, false, lifted) : "-");
    }
    ctl_list_finish(&l, 0);
out:
    store_ban_list_free(v, n);
    ctl_names_free(&names);
    return rc;
}

/* Lift ban id of any group. The store answers "not found" alike for a ban
 * that never was and one lifted already; the admin is told which. */
static int lift_any(struct store *s, int64_t now, const char *actor, int64_t id)
{
    int e = store_ban_lift(s, now, actor, 0, 0, id);
    if (e != STORE_E_NOT_FOUND)
        return e;
    struct store_ban *v;
    size_t n;
    if (store_ban_list(s, 0, true, 0, &v, &n) < 0)
        return e;
    for (size_t i = 0; i < n && e == STORE_E_NOT_FOUND; i++)
        if (v[i].id == id)
            e = STORE_E_INVALID;
    store_ban_list_free(v, n);
    return e;
}

static int cmd_ban_lift(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_id_change how = {
        .noun = "ban",
        .article = "a",
        .change = lift_any,
        .key = "lifted",
        .done = "lifted",
        .invalid = "is lifted already",
    };
    return ctl_change_by_id(c, argc, argv, &how);
}

const struct ctl_command ctl_ban_commands[] = {
    {"ban list", "[--group NAME] [--all]",
     "list the groups' active bans, newest first (leaders make them in a session)",
     "      --group NAME                  only the bans of this group\n"
     "      --all                         lifted bans too\n",
     cmd_ban_list},
    {"ban lift", "ID", "lift a ban: the person may enter the group's sessions again", NULL,
     cmd_ban_lift},
    {0},
};
