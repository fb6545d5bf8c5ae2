/* kamratctl group ...: groups, their settings and their leaders. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"

#define AGREEMENT_FILE_MAX (256 * 1024)
#define SHOW_SESSIONS 5 /* upcoming sessions in group show */

struct group_opts {
    char **argv;
    bool edit; /* group edit: --name allowed */
    const char *name, *language, *description, *agreement_file, *history, *pm, *adhoc;
    long max;
    bool any;
};

static int group_option(struct ctl *c, int opt, const char *value, void *arg)
{
    static const char *const languages[] = {"fi", "sv", "en", NULL};
    static const char *const histories[] = {"since_admitted", "whole_session", NULL};
    static const char *const pms[] = {"off", "leaders", "everyone", NULL};
    static const char *const yes_no[] = {"yes", "no", NULL};
    struct group_opts *o = arg;
    switch (opt) {
    case 'l':
        if (!ctl_choice(value, languages))
            return ctl_complain(c, EXIT_USAGE, "--language is fi, sv or en");
        o->language = value;
        break;
    case 'd':
        o->description = value;
        break;
    case 'a':
        o->agreement_file = value;
        break;
    case 'm':
        if (ctl_parse_int(value, 1, 500, &o->max) < 0)
            return ctl_complain(c, EXIT_USAGE, "--max is a number of participants, 1..500");
        break;
    case 'H':
        if (!ctl_choice(value, histories))
            return ctl_complain(c, EXIT_USAGE, "--history is since_admitted or whole_session");
        o->history = value;
        break;
    case 'p':
        if (!ctl_choice(value, pms))
            return ctl_complain(c, EXIT_USAGE, "--private-messages is off, leaders or everyone");
        o->pm = value;
        break;
    case 'o':
        if (!ctl_choice(value, yes_no))
            return ctl_complain(c, EXIT_USAGE, "--adhoc-sessions is yes or no");
        o->adhoc = value;
        break;
    case 'n':
        if (!o->edit)
            return ctl_bad_option(c, '?', o->argv);
        o->name = value;
        break;
    }
    o->any = true;
    return 0;
}

static void replace(char **slot, const char *v)
{
    free(*slot);
    *slot = xstrdup(v);
}

/* The agreement file's text with \r\n line ends (files written on Windows)
 * made \n, into g. Returns 0 or an exit code. */
static int read_agreement(struct ctl *c, const char *path, struct store_group *g)
{
    size_t len;
    char *text = util_read_file(path, AGREEMENT_FILE_MAX, &len);
    if (!text)
        return ctl_complain(c, EXIT_FAIL, "%s: %s", path, strerror(errno));
    if (strlen(text) != len) {
        free(text);
        return ctl_complain(c, EXIT_FAIL, "%s: not a text file", path);
    }
    char *w = text;
    for (char *r = text; *r; r++)
        if (!(r[0] == '\r' && r[1] == '\n'))
            *w++ = *r;
    *w = '\0';
    free(g->agreement);
    g->agreement = text;
    return 0;
}

/* Apply the options to g; read the agreement file. Returns 0 or an exit code. */
static int apply_group_options(struct ctl *c, const struct group_opts *o, struct store_group *g)
{
    if (o->name)
        replace(&g->name, o->name);
    if (o->language)
        snprintf(g->language, sizeof(g->language), "%s", o->language);
    if (o->description)
        replace(&g->description, o->description);
    if (o->max)
        g->max_participants = (int)o->max;
    if (o->history)
        snprintf(g->history, sizeof(g->history), "%s", o->history);
    if (o->pm)
        snprintf(g->private_messages, sizeof(g->private_messages), "%s", o->pm);
    if (o->adhoc)
        g->adhoc_sessions = strcmp(o->adhoc, "yes") == 0;
    int rc;
    if (o->agreement_file && (rc = read_agreement(c, o->agreement_file, g)))
        return rc;
    const char *bad = store_group_invalid(g);
    if (!bad)
        return 0;
    if (strcmp(bad, "name") == 0)
        return ctl_complain(c, EXIT_USAGE,
                            "a group name has 1 to %d characters, no control characters and no "
                            "leading or trailing spaces",
                            STORE_GROUP_NAME_MAX);
    if (strcmp(bad, "description") == 0)
        return ctl_complain(c, EXIT_USAGE, "a description is one line of at most %d characters",
                            STORE_DESCRIPTION_MAX);
    if (strcmp(bad, "agreement") == 0)
        return ctl_complain(c, EXIT_FAIL,
                            "%s: the agreement must be UTF-8 text of at most %d characters",
                            o->agreement_file, STORE_AGREEMENT_MAX);
    return ctl_complain(c, EXIT_USAGE, "invalid %s", bad);
}

static json_t *group_json(const struct store_group *g)
{
    return json_pack("{sI ss ss ss ss si ss ss sb so so}", "id", (json_int_t)g->id, "name", g->name,
                     "language", g->language, "description", g->description, "agreement",
                     g->agreement, "max_participants", g->max_participants, "history", g->history,
                     "private_messages", g->private_messages, "adhoc_sessions", g->adhoc_sessions,
                     "created_at", ctl_json_time(g->created_at), "archived_at",
                     ctl_json_time(g->archived_at));
}

/* group add NAME and group edit NAME: the same options, applied to the
 * defaults or to the group as it is. */
static int group_save(struct ctl *c, int argc, char **argv, bool edit)
{
    static const struct option longopts[] = {
        {"language", required_argument, NULL, 'l'},
        {"description", required_argument, NULL, 'd'},
        {"agreement-file", required_argument, NULL, 'a'},
        {"max", required_argument, NULL, 'm'},
        {"history", required_argument, NULL, 'H'},
        {"private-messages", required_argument, NULL, 'p'},
        {"adhoc-sessions", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct group_opts o = {.argv = argv, .edit = edit};
    int rc = ctl_options(c, argc, argv, longopts, group_option, &o, 1, 1);
    if (rc)
        return rc;
    if (!edit && !o.language)
        return ctl_complain(c, EXIT_USAGE, "--language is required");
    if (edit && !o.any)
        return ctl_complain(c, EXIT_USAGE, "nothing to change");
    struct store_group g;
    if (!edit) {
        store_group_defaults(&g);
        g.name = xstrdup(argv[optind]);
    } else if ((rc = ctl_find_group(c, argv[optind], &g))) {
        return rc;
    }
    if ((rc = apply_group_options(c, &o, &g)) == 0) {
        int e = edit ? store_group_edit(c->store, c->now, c->actor, &g)
                     : store_group_add(c->store, c->now, c->actor, &g, &g.id);
        if (e == STORE_E_EXISTS)
            rc = ctl_complain(c, EXIT_FAIL, "a group named \"%s\" already exists", g.name);
        else if (e < 0)
            rc = ctl_store_failed(c, e, "group");
        else
            rc = ctl_done(c,
                          edit ? group_json(&g)
                               : json_pack("{sI ss}", "id", (json_int_t)g.id, "name", g.name),
                          "group %lld \"%s\" %s\n", (long long)g.id, g.name,
                          edit ? "changed" : "added");
    }
    store_group_clear(&g);
    return rc;
}

static int cmd_group_add(struct ctl *c, int argc, char **argv)
{
    return group_save(c, argc, argv, false);
}

static int cmd_group_edit(struct ctl *c, int argc, char **argv)
{
    return group_save(c, argc, argv, true);
}

/* The groups in use, or with --archived the archived ones (as the console's
 * list). */
static int cmd_group_list(struct ctl *c, int argc, char **argv)
{
    int archived = 0;
    const struct option longopts[] = {
        {"archived", no_argument, &archived, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = ctl_options(c, argc, argv, longopts, NULL, NULL, 0, 0);
    if (rc)
        return rc;
    struct store_group *v;
    size_t n;
    int e = store_group_list(c->store, &v, &n);
    if (e < 0)
        return ctl_store_failed(c, e, "groups");
    struct ctl_list l;
    ctl_list_init(c, &l, 7, "ID", "NAME", "LANG", "MAX", "HISTORY", "PRIVATE", "LEADERS");
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct store_leader *ls;
        size_t nl;
        if ((v[i].archived_at != 0) != (archived != 0))
            continue;
        if ((e = store_group_leaders(c->store, v[i].id, &ls, &nl)) < 0) {
            rc = ctl_store_failed(c, e, "leaders");
            break;
        }
        if (l.arr) {
            json_t *g = group_json(&v[i]), *names = json_array();
            for (size_t k = 0; k < nl; k++)
                json_array_append_new(names, json_string(ls[k].username));
            json_object_set_new(g, "leaders", names);
            json_array_append_new(l.arr, g);
        } else {
            char id[24], max[16], count[16];
            snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
            snprintf(max, sizeof(max), "%d", v[i].max_participants);
            snprintf(count, sizeof(count), "%zu", nl);
            ctl_list_row(&l, id, v[i].name, v[i].language, max, v[i].history, v[i].private_messages,
                         count);
        }
        free(ls);
    }
    store_group_list_free(v, n);
    return ctl_list_finish(&l, rc);
}

/* What group show lists besides the group's settings. */
struct group_parts {
    struct store_leader *ls;
    struct store_schedule *scs;
    struct store_session *ses;
    size_t nl, nsc, nse;
    size_t invites[4]; /* by enum store_invite_state */
};

static json_t *group_show_json(struct ctl *c, const struct store_group *g,
                               const struct group_parts *p)
{
    json_t *doc = group_json(g), *a;
    a = json_array();
    for (size_t i = 0; i < p->nl; i++)
        json_array_append_new(
            a, json_pack("{ss sb}", "username", p->ls[i].username, "disabled", p->ls[i].disabled));
    json_object_set_new(doc, "leaders", a);
    a = json_array();
    for (size_t i = 0; i < p->nsc; i++)
        json_array_append_new(a, ctl_schedule_json(&p->scs[i], g->name));
    json_object_set_new(doc, "schedules", a);
    a = json_array();
    for (size_t i = 0; i < p->nse; i++)
        json_array_append_new(a, ctl_session_json(c, &p->ses[i], g->name));
    json_object_set_new(doc, "next_sessions", a);
    json_object_set_new(doc, "invites",
                        json_pack("{sI sI sI sI}", "active", (json_int_t)p->invites[0], "used",
                                  (json_int_t)p->invites[1], "expired", (json_int_t)p->invites[2],
                                  "revoked", (json_int_t)p->invites[3]));
    return doc;
}

static void group_show_text(struct ctl *c, const struct store_group *g, const struct group_parts *p)
{
    char buf[CTL_TIME_LEN], buf2[CTL_TIME_LEN], hm[8];
    printf("group             %s (id %lld)\n", g->name, (long long)g->id);
    printf("language          %s\n", g->language);
    printf("max participants  %d\n", g->max_participants);
    printf("history           %s\n", g->history);
    printf("private messages  %s\n", g->private_messages);
    printf("ad-hoc sessions   %s\n", g->adhoc_sessions ? "yes" : "no");
    printf("created           %s\n", ctl_fmt_utc(g->created_at, false, buf));
    printf("description       %s\n", *g->description ? g->description : "-");
    printf("leaders           ");
    for (size_t i = 0; i < p->nl; i++)
        printf("%s%s%s", i ? ", " : "", p->ls[i].username, p->ls[i].disabled ? " (disabled)" : "");
    printf("%s\n", p->nl ? "" : "-");
    printf(p->nsc ? "schedules\n" : "schedules         -\n");
    for (size_t i = 0; i < p->nsc; i++) {
        const struct store_schedule *sc = &p->scs[i];
        printf("  %-4lld %s %s %s, %d min, lobby %d min, from %s", (long long)sc->id,
               ctl_weekday_label(sc->weekday), ctl_fmt_minute(sc->minute_of_day, hm), sc->tz,
               sc->duration_min, sc->lobby_min, ctl_fmt_date(sc->tz, sc->starts_on, buf));
        if (sc->until)
            printf(" until %s", ctl_fmt_date(sc->tz, sc->until - 1, buf2));
        printf("\n");
    }
    printf(p->nse ? "next sessions\n" : "next sessions     -\n");
    for (size_t i = 0; i < p->nse; i++)
        printf("  %-4lld %s  %s\n", (long long)p->ses[i].id,
               ctl_fmt_local(p->ses[i].tz, p->ses[i].starts_at, buf),
               store_session_state_name(store_session_state(&p->ses[i], c->now)));
    printf("invites           %zu active, %zu used, %zu expired, %zu revoked\n", p->invites[0],
           p->invites[1], p->invites[2], p->invites[3]);
    printf("agreement%s\n", *g->agreement ? "" : "         -");
    for (const char *s = g->agreement; *s;) {
        const char *nl_at = strchr(s, '\n');
        int len = nl_at ? (int)(nl_at - s) : (int)strlen(s);
        printf("  %.*s\n", len, s);
        s += len + (nl_at != NULL);
    }
}

static int cmd_group_show(struct ctl *c, int argc, char **argv)
{
    int rc = ctl_plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    struct store_group g;
    if ((rc = ctl_find_group(c, argv[optind], &g)))
        return rc;
    struct group_parts p = {0};
    struct store_invite *invs = NULL;
    size_t ninv = 0;
    int e;
    if ((e = store_group_leaders(c->store, g.id, &p.ls, &p.nl)) < 0 ||
        (e = store_schedule_list(c->store, g.id, &p.scs, &p.nsc)) < 0 ||
        (e = store_session_list(c->store, g.id, c->now, &p.ses, &p.nse)) < 0 ||
        (e = store_invite_list(c->store, g.id, &invs, &ninv)) < 0) {
        rc = ctl_store_failed(c, e, "group");
        goto out;
    }
    for (size_t i = 0; i < ninv; i++)
        p.invites[store_invite_state(&invs[i], c->now)]++;
    if (p.nse > SHOW_SESSIONS)
        p.nse = SHOW_SESSIONS;
    if (c->json)
        ctl_json_print(group_show_json(c, &g, &p));
    else
        group_show_text(c, &g, &p);
out:
    free(p.ls);
    free(p.scs);
    free(p.ses);
    free(invs);
    store_group_clear(&g);
    return rc;
}

static int cmd_group_remove(struct ctl *c, int argc, char **argv)
{
    int yes = 0;
    int rc = ctl_removal_args(c, argc, argv, &yes);
    if (rc)
        return rc;
    struct store_group g;
    if ((rc = ctl_find_group(c, argv[optind], &g)))
        return rc;
    if ((rc = ctl_confirm(
             c, yes, "Remove group \"%s\" with its schedules, sessions, invites and leader links?",
             g.name)))
        goto out;
    int e = store_group_remove(c->store, c->now, c->actor, g.id);
    if (e < 0)
        rc = ctl_store_failed(c, e, "group");
    else
        rc = ctl_done(c, json_pack("{sI ss}", "removed", (json_int_t)g.id, "name", g.name),
                      "group %lld \"%s\" removed\n", (long long)g.id, g.name);
out:
    store_group_clear(&g);
    return rc;
}

/* group archive|unarchive NAME */
static int group_set_archived(struct ctl *c, int argc, char **argv, bool archived)
{
    int rc = ctl_plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    struct store_group g;
    if ((rc = ctl_find_group(c, argv[optind], &g)))
        return rc;
    int e = store_group_set_archived(c->store, c->now, c->actor, g.id, archived);
    const char *state = archived ? "archived" : "taken out of the archive";
    if (e == STORE_E_INVALID)
        rc = ctl_complain(c, EXIT_FAIL, "group \"%s\" is %s already", g.name,
                          archived ? "archived" : "not archived");
    else if (e < 0)
        rc = ctl_store_failed(c, e, "group");
    else
        rc = ctl_done(
            c,
            json_pack("{sI ss sb}", "id", (json_int_t)g.id, "name", g.name, "archived", archived),
            "group %lld \"%s\" %s\n", (long long)g.id, g.name, state);
    store_group_clear(&g);
    return rc;
}

static int cmd_group_archive(struct ctl *c, int argc, char **argv)
{
    return group_set_archived(c, argc, argv, true);
}

static int cmd_group_unarchive(struct ctl *c, int argc, char **argv)
{
    return group_set_archived(c, argc, argv, false);
}

/* group leader add|remove GROUP USERNAME */
static int group_leader_change(struct ctl *c, int argc, char **argv, bool add)
{
    int rc = ctl_plain_args(c, argc, argv, 2, 2);
    if (rc)
        return rc;
    struct store_group g;
    struct store_leader l;
    if ((rc = ctl_find_group(c, argv[optind], &g)))
        return rc;
    if ((rc = ctl_find_leader(c, argv[optind + 1], &l)) == 0) {
        int e = add ? store_group_leader_add(c->store, c->now, c->actor, g.id, l.id)
                    : store_group_leader_remove(c->store, c->now, c->actor, g.id, l.id);
        if (e == STORE_E_EXISTS)
            rc = ctl_complain(c, EXIT_FAIL, "%s already leads \"%s\"", l.username, g.name);
        else if (e == STORE_E_NOT_FOUND)
            rc = ctl_complain(c, EXIT_FAIL, "%s does not lead \"%s\"", l.username, g.name);
        else if (e < 0)
            rc = ctl_store_failed(c, e, "group leader");
        else
            rc = ctl_done(
                c, json_pack("{ss ss sb}", "group", g.name, "leader", l.username, "leads", add),
                "%s %s \"%s\"\n", l.username, add ? "now leads" : "no longer leads", g.name);
    }
    wipe(&l, sizeof(l));
    store_group_clear(&g);
    return rc;
}

static int cmd_group_leader_add(struct ctl *c, int argc, char **argv)
{
    return group_leader_change(c, argc, argv, true);
}

static int cmd_group_leader_remove(struct ctl *c, int argc, char **argv)
{
    return group_leader_change(c, argc, argv, false);
}

#define GROUP_OPTIONS                                                                              \
    "      --description TEXT            one paragraph shown before joining\n"                     \
    "      --agreement-file FILE         the group agreement (UTF-8 text, newlines kept)\n"        \
    "      --max N                       most participants, 1..500 (default 12)\n"                 \
    "      --history since_admitted|whole_session\n"                                               \
    "                                    what a late joiner sees (default since_admitted)\n"       \
    "      --private-messages off|leaders|everyone\n"                                              \
    "                                    who may write privately (default leaders)\n"              \
    "      --adhoc-sessions yes|no       may its leaders hold a session now, unplanned\n"          \
    "                                    (default no)\n"

const struct ctl_command ctl_group_commands[] = {
    {"group add", "NAME --language fi|sv|en [OPTIONS]", "add a group",
     "      --language fi|sv|en           the group's language (required)\n" GROUP_OPTIONS,
     cmd_group_add},
    {"group list", "[--archived]", "list the groups in use (or the archived ones)",
     "      --archived                    list the archived groups instead\n", cmd_group_list},
    {"group show", "NAME", "show a group: settings, leaders, schedules, next sessions, invites",
     NULL, cmd_group_show},
    {"group edit", "NAME [OPTIONS]", "change a group's settings",
     "      --name NEW                    rename the group\n"
     "      --language fi|sv|en           the group's language\n" GROUP_OPTIONS,
     cmd_group_edit},
    {"group archive", "NAME",
     "archive a group: it takes no new sessions or invites and keeps its audit and attendance",
     NULL, cmd_group_archive},
    {"group unarchive", "NAME", "take a group out of the archive", NULL, cmd_group_unarchive},
    {"group remove", "NAME [--yes]",
     "remove a group with its schedules, sessions, invites and leader links",
     "      --yes                         do not ask for confirmation\n", cmd_group_remove},
    {"group leader add", "GROUP USERNAME", "make a leader one of a group's leaders", NULL,
     cmd_group_leader_add},
    {"group leader remove", "GROUP USERNAME", "take a leader off a group", NULL,
     cmd_group_leader_remove},
    {0},
};
