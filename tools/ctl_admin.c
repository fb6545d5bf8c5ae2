/* kamratctl audit, backup and check: the log, copies and health of the data. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"

struct audit_opts {
    struct store_audit_filter *f;
    const char *group;
};

static int audit_option(struct ctl *c, int opt, const char *value, void *arg)
{
    struct audit_opts *o = arg;
    long limit;
    switch (opt) {
    case 'g':
        o->group = value;
        break;
    case 's':
        if (ctl_utc_date(value, 0, &o->f->since) < 0)
            return ctl_complain(c, EXIT_USAGE, "--since is a date YYYY-MM-DD (UTC)");
        break;
    case 'u':
        if (ctl_utc_date(value, 1, &o->f->until) < 0)
            return ctl_complain(c, EXIT_USAGE, "--until is a date YYYY-MM-DD (UTC)");
        break;
    case 'n':
        if (ctl_parse_int(value, 1, 100000, &limit) < 0)
            return ctl_complain(c, EXIT_USAGE, "--limit is 1..100000 rows");
        o->f->limit = (int)limit;
        break;
    }
    return 0;
}

static int cmd_audit(struct ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"group", required_argument, NULL, 'g'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"limit", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct store_audit_filter f = {.limit = 100};
    struct audit_opts o = {.f = &f};
    struct ctl_names names;
    struct store_audit_row *v = NULL;
    size_t n = 0;
    int e, rc = ctl_options(c, argc, argv, longopts, audit_option, &o, 0, 0);
    if (rc)
        return rc;
    if ((rc = ctl_names_load(c, o.group, "audit", &names)))
        goto out;
    f.group_id = names.only;
    if ((e = store_audit_query(c->store, &f, &v, &n)) < 0) {
        rc = ctl_store_failed(c, e, "audit");
        goto out;
    }
    struct ctl_list l;
    ctl_list_init(c, &l, 6, "TIME", "ACTOR", "ACTION", "TARGET", "GROUP", "SESSION");
    for (size_t i = 0; i < n; i++) {
        char ts[CTL_TIME_LEN], gb[32], sid[24];
        const char *group = v[i].group_id ? ctl_group_name(&names, v[i].group_id, gb) : NULL;
        if (l.arr) {
            json_t *row = json_pack("{sI so ss ss ss?}", "id", (json_int_t)v[i].id, "ts",
                                    ctl_json_time(v[i].ts), "actor", v[i].actor, "action",
                                    v[i].action, "target", v[i].target);
            json_object_set_new(row, "group", group ? json_string(group) : json_null());
            json_object_set_new(row, "session_id", ctl_json_id(v[i].session_id));
            json_array_append_new(l.arr, row);
            continue;
        }
        snprintf(sid, sizeof(sid), "%lld", (long long)v[i].session_id);
        ctl_list_row(&l, ctl_fmt_utc(v[i].ts, false, ts), v[i].actor, v[i].action,
                     v[i].target ? v[i].target : "-", group ? group : "-",
                     v[i].session_id ? sid : "-");
    }
    ctl_list_finish(&l, 0);
out:
    store_audit_free(v, n);
    ctl_names_free(&names);
    return rc;
}

static int cmd_backup(struct ctl *c, int argc, char **argv)
{
    int rc = ctl_plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    const char *dest = argv[optind];
    char err[1024];
    int e = store_backup(c->store, dest, err, sizeof(err));
    if (e == STORE_E_EXISTS)
        return ctl_complain(c, EXIT_FAIL, "%s exists; a backup never overwrites a file", dest);
    if (e < 0)
        return ctl_complain(c, EXIT_FAIL, "%s", err);
    /* The path names where a copy of the data went; too long a path is left
     * out rather than cut. */
    e = store_audit(c->store, c->now, c->actor, "backup",
                    strlen(dest) <= STORE_TARGET_MAX ? dest : NULL, 0, 0);
    if (e < 0)
        return ctl_store_failed(c, e, "backup made, but auditing it");
    return ctl_done(c, json_pack("{ss sb}", "backup", dest, "quick_check_ok", 1),
                    "backup written to %s (quick_check ok)\n", dest);
}

int ctl_check(struct ctl *c, int argc, char **argv)
{
    int rc = ctl_plain_args(c, argc, argv, 0, 0);
    if (rc)
        return rc;
    char err[1024], path[4096];
    if (config_check_files(c->cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "kamratctl: %s\n", err);
        return EXIT_CONFIG;
    }
    json_t *doc = c->json ? json_pack("{ss}", "configuration", "ok") : NULL;
    if (!doc)
        printf("configuration: %s ok\n", c->config_path);
    snprintf(path, sizeof(path), "%s/kamrat.db", c->cfg->data_dir);
    if (!c->cfg->store.postgresql && access(path, F_OK) != 0) {
        if (doc)
            json_object_set_new(doc, "database", json_string("absent"));
        return ctl_done(c, doc, "database: %s not created yet\n", path);
    }
    struct store *s;
    int version = 0;
    int e = store_open_config(c->cfg, 0, &s, err, sizeof(err));
    if (e == STORE_E_NOT_FOUND && c->cfg->store.postgresql) {
        if (doc)
            json_object_set_new(doc, "database", json_string("absent"));
        return ctl_done(c, doc, "database: %s\n", err);
    }
    if (e == 0) {
        snprintf(path, sizeof(path), "%s", store_name(s));
        e = store_check(s, err, sizeof(err));
        version = store_schema_version(s);
        store_close(s);
    }
    if (e < 0) {
        json_decref(doc);
        fprintf(stderr, "kamratctl: database %s\n", err);
        return EXIT_FAIL;
    }
    if (doc) {
        json_object_set_new(doc, "database", json_string("ok"));
        json_object_set_new(doc, "schema_version", json_integer(version));
    }
    return ctl_done(c, doc, "database: %s ok (schema version %d)\n", path, version);
}

const struct ctl_command ctl_admin_commands[] = {
    {"audit", "[OPTIONS]", "show the audit log, oldest first",
     "      --group NAME                  only rows about this group\n"
     "      --since YYYY-MM-DD            from this day on (UTC)\n"
     "      --until YYYY-MM-DD            up to and including this day (UTC)\n"
     "      --limit N                     the newest N rows (default 100)\n",
     cmd_audit},
    {"backup", "FILE",
     "copy the SQLite database to a new FILE while kamratd runs (PostgreSQL: pg_dump)", NULL,
     cmd_backup},
    {"check", "", "check the configuration, certificate, directories and database", NULL,
     ctl_check},
    {0},
};
