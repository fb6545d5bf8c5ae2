/* ctl: what kamratctl's commands share; see ctl.h. */
#include "ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "schedule.h"
#include "util.h"

/* ---- messages --------------------------------------------------------- */

int ctl_complain(struct ctl *c, int code, const char *fmt, ...)
{
    fprintf(stderr, "kamratctl: %s: ", c->cmd->path);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (code == EXIT_USAGE)
        fprintf(stderr, " (try kamratctl %s --help)", c->cmd->path);
    fputc('\n', stderr);
    return code;
}

int ctl_removal_args(struct ctl *c, int argc, char **argv, int *yes)
{
    const struct option longopts[] = {
        {"yes", no_argument, yes, 1},
        {NULL, 0, NULL, 0},
    };
    return ctl_options(c, argc, argv, longopts, NULL, NULL, 1, 1);
}

int ctl_confirm(struct ctl *c, int yes, const char *question, ...)
{
    if (yes)
        return 0;
    if (!isatty(STDIN_FILENO))
        return ctl_complain(c, EXIT_USAGE, "confirm with --yes when stdin is not a terminal");
    va_list ap;
    va_start(ap, question);
    vfprintf(stderr, question, ap);
    va_end(ap);
    fputs(" [y/N] ", stderr);
    char answer[16];
    if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
        return ctl_complain(c, EXIT_FAIL, "not removed");
    return 0;
}

int ctl_store_failed(struct ctl *c, int err, const char *what)
{
    switch (err) {
    case STORE_E_NOT_FOUND:
        return ctl_complain(c, EXIT_FAIL, "%s: not found", what);
    case STORE_E_EXISTS:
        return ctl_complain(c, EXIT_FAIL, "%s: already exists", what);
    case STORE_E_BUSY:
    case STORE_E_IO:
    case STORE_E_CORRUPT:
        return ctl_complain(c, EXIT_FAIL, "%s: %s (%s)", what, store_strerror(err),
                            store_errmsg(c->store));
    }
    return ctl_complain(c, EXIT_FAIL, "%s: %s", what, store_strerror(err));
}

void ctl_json_print(json_t *doc)
{
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
}

int ctl_done(struct ctl *c, json_t *doc, const char *fmt, ...)
{
    if (c->json) {
        ctl_json_print(doc);
        return 0;
    }
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    json_decref(doc);
    return 0;
}

/* ---- options and arguments -------------------------------------------- */

int ctl_bad_option(struct ctl *c, int opt, char **argv)
{
    if (opt == ':')
        return ctl_complain(c, EXIT_USAGE, "option %s needs a value", argv[optind - 1]);
    return ctl_complain(c, EXIT_USAGE, "unknown option %s", argv[optind - 1]);
}

int ctl_options(struct ctl *c, int argc, char **argv, const struct option *longopts,
                ctl_option_fn *each, void *arg, int min, int max)
{
    optind = 0; /* glibc: start over with a new argv */
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt == 0)
            continue; /* a flag, set by getopt_long */
        int rc = opt == '?' || opt == ':' || !each ? ctl_bad_option(c, opt, argv)
                                                   : each(c, opt, optarg, arg);
        if (rc)
            return rc;
    }
    int n = argc - optind;
    if (n < min)
        return ctl_complain(c, EXIT_USAGE, "missing argument");
    if (n > max)
        return ctl_complain(c, EXIT_USAGE, "too many arguments");
    return 0;
}

int ctl_plain_args(struct ctl *c, int argc, char **argv, int min, int max)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    return ctl_options(c, argc, argv, none, NULL, NULL, min, max);
}

int ctl_parse_int(const char *s, long min, long max, long *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

bool ctl_choice(const char *v, const char *const *choices)
{
    for (; *choices; choices++)
        if (strcmp(v, *choices) == 0)
            return true;
    return false;
}

int ctl_utc_date(const char *s, int days, int64_t *out)
{
    int y, m, d;
    if (schedule_parse_date(s, &y, &m, &d) < 0)
        return -1;
    return schedule_local_midnight("UTC", y, m, d, days, out) < 0 ? -1 : 0;
}

int ctl_tz_option(struct ctl *c, const char *tz)
{
    if (!schedule_tz_valid(tz))
        return ctl_complain(c, EXIT_USAGE,
                            "--tz %s is not a time zone name (such as Europe/Helsinki)", tz);
    return 0;
}

/* ---- lookups ------------------------------------------------------------ */

/* The complaint about a failed lookup of `kind` `name`. */
static int lookup_failed(struct ctl *c, int err, const char *kind, const char *name)
{
    if (err == STORE_E_NOT_FOUND)
        return ctl_complain(c, EXIT_FAIL, "no %s named \"%s\" (see kamratctl %s list)", kind, name,
                            kind);
    return ctl_store_failed(c, err, kind);
}

int ctl_find_group(struct ctl *c, const char *name, struct store_group *g)
{
    int e = store_group_get(c->store, name, g);
    return e < 0 ? lookup_failed(c, e, "group", name) : 0;
}

int ctl_find_account(struct ctl *c, enum store_role role, const char *username,
                     struct store_leader *l)
{
    int e = store_leader_get(c->store, username, l);
    if (e == 0 && l->role != role) { /* the other kind's account answers as none */
        wipe(l, sizeof(*l));
        e = STORE_E_NOT_FOUND;
    }
    return e < 0 ? lookup_failed(c, e, store_role_name(role), username) : 0;
}

int ctl_find_leader(struct ctl *c, const char *username, struct store_leader *l)
{
    return ctl_find_account(c, STORE_ROLE_LEADER, username, l);
}

int ctl_names_load(struct ctl *c, const char *only, const char *what, struct ctl_names *names)
{
    *names = (struct ctl_names){0};
    if (only) {
        struct store_group g;
        int rc = ctl_find_group(c, only, &g);
        if (rc)
            return rc;
        names->only = g.id;
        store_group_clear(&g);
    }
    int e = store_group_list(c->store, &names->v, &names->n);
    return e < 0 ? ctl_store_failed(c, e, what) : 0;
}

void ctl_names_free(struct ctl_names *names)
{
    store_group_list_free(names->v, names->n);
    *names = (struct ctl_names){0};
}

const char *ctl_group_name(const struct ctl_names *names, int64_t id, char buf[32])
{
    for (size_t i = 0; i < names->n; i++)
        if (names->v[i].id == id)
            return names->v[i].name;
    snprintf(buf, 32, "#%lld", (long long)id);
    return buf;
}

int ctl_change_by_id(struct ctl *c, int argc, char **argv, const struct ctl_id_change *how)
{
    int rc = ctl_plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    long id;
    if (ctl_parse_int(argv[optind], 1, LONG_MAX, &id) < 0)
        return ctl_complain(c, EXIT_USAGE, "ID is %s %s number (see kamratctl %s list)",
                            how->article, how->noun, how->noun);
    int e = how->change(c->store, c->now, c->actor, id);
    if (e == STORE_E_NOT_FOUND)
        return ctl_complain(c, EXIT_FAIL, "no %s %ld", how->noun, id);
    if (e == STORE_E_INVALID && how->invalid)
        return ctl_complain(c, EXIT_FAIL, "%s %ld %s", how->noun, id, how->invalid);
    if (e < 0)
        return ctl_store_failed(c, e, how->noun);
    return ctl_done(c, json_pack("{sI}", how->key, (json_int_t)id), "%s %ld %s\n", how->noun, id,
                    how->done);
}

/* ---- output ------------------------------------------------------------- */

const char *ctl_fmt_utc(int64_t t, bool iso, char buf[CTL_TIME_LEN])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return "?";
    strftime(buf, CTL_TIME_LEN, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

const char *ctl_fmt_local(const char *tz, int64_t t, char buf[CTL_TIME_LEN])
{
    if (schedule_format_local(tz, t, buf, CTL_TIME_LEN) < 0)
        snprintf(buf, CTL_TIME_LEN, "?");
    return buf;
}

const char *ctl_fmt_date(const char *tz, int64_t t, char buf[CTL_TIME_LEN])
{
    ctl_fmt_local(tz, t, buf);
    buf[strlen(buf) > 10 ? 10 : strlen(buf)] = '\0';
    return buf;
}

const char *ctl_fmt_minute(int minute, char buf[8])
{
    snprintf(buf, 8, "%02d:%02d", minute / 60 % 100, minute % 60);
    return buf;
}

json_t *ctl_json_time(int64_t t)
{
    char buf[CTL_TIME_LEN];
    return t ? json_string(ctl_fmt_utc(t, true, buf)) : json_null();
}

json_t *ctl_json_id(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

size_t ctl_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void add_row(struct ctl_list *l, va_list ap)
{
    if (l->rows == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->cells = xrealloc(l->cells, l->cap * l->cols * sizeof(*l->cells));
    }
    for (size_t i = 0; i < l->cols; i++) {
        const char *v = va_arg(ap, const char *);
        l->cells[l->rows * l->cols + i] = xstrdup(v ? v : "");
    }
    l->rows++;
}

void ctl_list_init(struct ctl *c, struct ctl_list *l, size_t cols, ...)
{
    *l = (struct ctl_list){.arr = c->json ? json_array() : NULL, .cols = cols};
    va_list ap;
    va_start(ap, cols);
    add_row(l, ap);
    va_end(ap);
}

void ctl_list_row(struct ctl_list *l, ...)
{
    va_list ap;
    va_start(ap, l);
    add_row(l, ap);
    va_end(ap);
}

static void print_table(const struct ctl_list *l)
{
    size_t *w = xcalloc(l->cols, sizeof(*w));
    for (size_t r = 0; r < l->rows; r++)
        for (size_t i = 0; i < l->cols; i++) {
            size_t cw = ctl_width(l->cells[r * l->cols + i]);
            w[i] = cw > w[i] ? cw : w[i];
        }
    for (size_t r = 0; r < l->rows; r++) {
        for (size_t i = 0; i < l->cols; i++) {
            const char *v = l->cells[r * l->cols + i];
            if (i + 1 == l->cols)
                printf("%s\n", v);
            else
                printf("%s%*s", v, (int)(w[i] - ctl_width(v) + 2), "");
        }
    }
    free(w);
}

int ctl_list_finish(struct ctl_list *l, int rc)
{
    if (rc == 0 && l->arr) {
        ctl_json_print(l->arr);
        l->arr = NULL;
    } else if (rc == 0) {
        print_table(l);
    }
    json_decref(l->arr);
    for (size_t k = 0; k < l->rows * l->cols; k++)
        free(l->cells[k]);
    free(l->cells);
    *l = (struct ctl_list){0};
    return rc;
}
