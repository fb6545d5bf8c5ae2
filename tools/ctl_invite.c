/*
 * kamratctl invite ...: invite links. A link's code is printed once, by
 * invite create, and the store keeps only its SHA-256; nothing else ever
 * shows it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "auth.h"
#include "config.h"
#include "ctl.h"
#include "util.h"

struct invite_opts {
    int personal;
    long days;
};

static int invite_option(struct ctl *c, int opt, const char *value, void *arg)
{
    struct invite_opts *o = arg;
    if (ctl_parse_int(value, 1, STORE_INVITE_DAYS_MAX, &o->days) < 0)
        return ctl_complain(c, EXIT_USAGE, "--expires is 1..%d days", STORE_INVITE_DAYS_MAX);
    return 0;
}

static int cmd_invite_create(struct ctl *c, int argc, char **argv)
{
    struct invite_opts o = {.days = STORE_INVITE_DAYS_DEFAULT};
    const struct option longopts[] = {
        {"personal", no_argument, &o.personal, 1},
        {"expires", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    int rc = ctl_options(c, argc, argv, longopts, invite_option, &o, 1, 1);
    if (rc)
        return rc;
    struct store_group g;
    if ((rc = ctl_find_group(c, argv[optind], &g)))
        return rc;
    char code[AUTH_INVITE_LEN + 1];
    unsigned char hash[AUTH_DIGEST_LEN];
    int64_t id, expires = c->now + o.days * DAY;
    if (auth_invite_code_new(code, hash) < 0) {
        rc = ctl_complain(c, EXIT_FAIL, "cannot make an invite code (no randomness)");
        goto out;
    }
    int e = store_invite_create(c->store, c->now, c->actor, g.id,
                                o.personal ? STORE_INVITE_PERSONAL : STORE_INVITE_GROUP, hash,
                                expires, &id);
    if (e < 0) {
        rc = ctl_store_failed(c, e, "invite");
        goto out;
    }
    char link[512], when[CTL_TIME_LEN];
    snprintf(link, sizeof(link), "%s/j/%s", c->cfg->origin, code);
    if (c->json) {
        ctl_json_print(json_pack("{sI ss ss so ss}", "id", (json_int_t)id, "group", g.name, "kind",
                                 o.personal ? "personal" : "group", "expires_at",
                                 ctl_json_time(expires), "link", link));
    } else {
        printf("%s\n", link);
        fprintf(stderr,
                "invite %lld: %s link to \"%s\", expires %s. The link is shown only this once.\n",
                (long long)id, o.personal ? "personal (one person)" : "group", g.name,
                ctl_fmt_utc(expires, false, when));
    }
    wipe(link, sizeof(link));
out:
    wipe(code, sizeof(code));
    store_group_clear(&g);
    return rc;
}

static int cmd_invite_list(struct ctl *c, int argc, char **argv)
{
    struct ctl_names names;
    struct store_invite *v = NULL;
    size_t n = 0;
    int e, rc = ctl_plain_args(c, argc, argv, 0, 1);
    if (rc)
        return rc;
    if ((rc = ctl_names_load(c, optind < argc ? argv[optind] : NULL, "invites", &names)))
        goto out;
    if ((e = store_invite_list(c->store, names.only, &v, &n)) < 0) {
        rc = ctl_store_failed(c, e, "invites");
        goto out;
    }
    struct ctl_list l;
    ctl_list_init(c, &l, 6, "ID", "GROUP", "KIND", "STATE", "CREATED", "EXPIRES");
    for (size_t i = 0; i < n; i++) {
        char id[24], gb[32], created[CTL_TIME_LEN], expires[CTL_TIME_LEN];
        const char *group = ctl_group_name(&names, v[i].group_id, gb);
        const char *kind = store_invite_kind_name(v[i].kind);
        const char *state = store_invite_state_name(store_invite_state(&v[i], c->now));
        if (l.arr) {
            json_array_append_new(
                l.arr,
                json_pack("{sI ss ss ss so so so so so}", "id", (json_int_t)v[i].id, "group", group,
                          "kind", kind, "state", state, "created_at",
                          ctl_json_time(v[i].created_at), "expires_at",
                          ctl_json_time(v[i].expires_at), "used_at", ctl_json_time(v[i].used_at),
                          "revoked_at", ctl_json_time(v[i].revoked_at), "created_by",
                          v[i].created_by[0] ? json_string(v[i].created_by) : json_null()));
            continue;
        }
        snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
        ctl_list_row(&l, id, group, kind, state, ctl_fmt_utc(v[i].created_at, false, created),
                     ctl_fmt_utc(v[i].expires_at, false, expires));
    }
    ctl_list_finish(&l, 0);
out:
    free(v);
    ctl_names_free(&names);
    return rc;
}

static int cmd_invite_revoke(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_id_change how = {
        .noun = "invite",
        .article = "an",
        .change = store_invite_revoke,
        .key = "revoked",
        .done = "revoked",
        .invalid = "is revoked already",
    };
    return ctl_change_by_id(c, argc, argv, &how);
}

const struct ctl_command ctl_invite_commands[] = {
    {"invite create", "GROUP [--personal] [--expires DAYS]",
     "make an invite link (shown once; only its hash is kept)",
     "      --personal                    for one person: works once\n"
     "      --expires DAYS                valid for 1..90 days (default 7)\n",
     cmd_invite_create},
    {"invite list", "[GROUP]", "list invites and their state (never their codes)", NULL,
     cmd_invite_list},
    {"invite revoke", "ID", "revoke an invite", NULL, cmd_invite_revoke},
    {0},
};
