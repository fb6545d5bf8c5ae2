/*
 * kamratctl: the association admin's tool over the store: groups, leaders,
 * schedules and sessions, invites, the audit log, backups and checks. Reads
 * the same configuration file as kamratd and works on <data_dir>/kamrat.db,
 * creating it when absent; safe while kamratd runs (WAL, busy timeout).
 *
 * Every change is audited as "admin:<login name>". Passwords come from the
 * terminal (twice, echo off) or one line of stdin, never from argv. Invite
 * codes are shown once and stored only as hashes.
 *
 * Output is aligned text, or one JSON document on stdout with --json.
 * Exit codes: 0 ok, 1 failure, 64 usage, 78 configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auth.h"
#include "config.h"
#include "kamrat_build.h"
#include "schedule.h"
#include "store.h"
#include "util.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 64
#define EXIT_CONFIG 78
#define DEFAULT_CONFIG "/etc/kamrat/kamrat.conf"
#define DEFAULT_TZ "Europe/Helsinki"
#define DAY INT64_C(86400)
#define PASSWORD_MIN 10
#define PASSWORD_MAX 128
#define AGREEMENT_FILE_MAX (256 * 1024)
#define SHOW_SESSIONS 5 /* upcoming sessions in group show */

struct command;

struct ctl {
    const struct command *cmd;
    const char *config_path;
    struct config *cfg;
    struct store *store;
    bool json;
    int64_t now;
    char actor[STORE_ACTOR_MAX + 1];
};

struct command {
    const char *path;    /* the words that name it: "group leader add" */
    const char *args;    /* what follows them in the synopsis */
    const char *summary; /* one line */
    const char *options; /* option lines for --help, or NULL */
    int (*run)(struct ctl *c, int argc, char **argv);
};

static const char *const weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* ---- messages --------------------------------------------------------- */

static int complain(struct ctl *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print "kamratctl: <command>: <message>" on stderr and return code; usage
 * errors also point at the command's --help. */
static int complain(struct ctl *c, int code, const char *fmt, ...)
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

/* Report a failed store call about `what` ("group \"x\"") and return 1. */
static int store_failed(struct ctl *c, int err, const char *what)
{
    switch (err) {
    case STORE_E_NOT_FOUND:
        return complain(c, EXIT_FAIL, "%s: not found", what);
    case STORE_E_EXISTS:
        return complain(c, EXIT_FAIL, "%s: already exists", what);
    case STORE_E_BUSY:
    case STORE_E_IO:
    case STORE_E_CORRUPT:
        return complain(c, EXIT_FAIL, "%s: %s (%s)", what, store_strerror(err),
                        store_errmsg(c->store));
    }
    return complain(c, EXIT_FAIL, "%s: %s", what, store_strerror(err));
}

/* ---- parsing ---------------------------------------------------------- */

static int parse_int(const char *s, long min, long max, long *out)
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

static int parse_id(const char *s, int64_t *out)
{
    long v;
    if (parse_int(s, 1, LONG_MAX, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

/* Exactly n digits at s. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DD" at the start of s (the day is checked against its month
 * later). */
static int parse_date_prefix(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, y) || !digits(s + 5, 2, m) ||
        !digits(s + 8, 2, d) || *m < 1 || *m > 12 || *d < 1 || *d > 31)
        return -1;
    return 0;
}

/* Exactly "YYYY-MM-DD". */
static int parse_date(const char *s, int *y, int *m, int *d)
{
    return strlen(s) == 10 ? parse_date_prefix(s, y, m, d) : -1;
}

/* "HH:MM" into minutes after midnight. */
static int parse_time(const char *s, int *minute)
{
    int h, m;
    if (strlen(s) != 5 || s[2] != ':' || !digits(s, 2, &h) || !digits(s + 3, 2, &m) || h > 23 ||
        m > 59)
        return -1;
    *minute = h * 60 + m;
    return 0;
}

static int parse_weekday(const char *s, int *weekday)
{
    for (int i = 0; i < 7; i++) {
        if (strcasecmp(s, weekdays[i]) == 0) {
            *weekday = i + 1;
            return 0;
        }
    }
    return -1;
}

/* Is v one of the NULL-terminated choices? */
static bool choice(const char *v, const char *const *choices)
{
    for (; *choices; choices++)
        if (strcmp(v, *choices) == 0)
            return true;
    return false;
}

/* Days since 1970-01-01 of a Gregorian date, and back (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The instant a local date starts in tz, plus `days` whole days. */
static int local_midnight(const char *tz, int y, int m, int d, int days, int64_t *out)
{
    int64_t z = days_from_civil(y, m, d);
    int cy, cm, cd;
    civil_from_days(z, &cy, &cm, &cd);
    if (cy != y || cm != m || cd != d)
        return SCHEDULE_E_RANGE; /* February 30 and the like */
    civil_from_days(z + days, &cy, &cm, &cd);
    return schedule_local_to_utc(tz, cy, cm, cd, 0, out);
}

/* ---- formatting ------------------------------------------------------- */

#define TIME_LEN 32

/* "2026-03-02 16:00 UTC", or with iso "2026-03-02T16:00:00Z". */
static const char *fmt_utc(int64_t t, bool iso, char buf[TIME_LEN])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return "?";
    strftime(buf, TIME_LEN, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

/* "2026-03-02 18:00 EET" in tz. */
static const char *fmt_local(const char *tz, int64_t t, char buf[TIME_LEN])
{
    if (schedule_format_local(tz, t, buf, TIME_LEN) < 0)
        snprintf(buf, TIME_LEN, "?");
    return buf;
}

/* The local date of t in tz: "2026-03-02". */
static const char *fmt_date(const char *tz, int64_t t, char buf[TIME_LEN])
{
    fmt_local(tz, t, buf);
    buf[strlen(buf) > 10 ? 10 : strlen(buf)] = '\0';
    return buf;
}

static const char *fmt_minute(int minute, char buf[8])
{
    snprintf(buf, 8, "%02d:%02d", minute / 60 % 100, minute % 60);
    return buf;
}

static json_t *json_time(int64_t t)
{
    char buf[TIME_LEN];
    return t ? json_string(fmt_utc(t, true, buf)) : json_null();
}

/* Print doc on stdout and free it. */
static void json_print(json_t *doc)
{
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
}

/* Aligned columns of text; the first row is the header. */
struct table {
    size_t cols, rows, cap;
    char **cells;
};

static void table_row(struct table *t, ...)
{
    if (t->rows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = xrealloc(t->cells, t->cap * t->cols * sizeof(*t->cells));
    }
    va_list ap;
    va_start(ap, t);
    for (size_t i = 0; i < t->cols; i++) {
        const char *v = va_arg(ap, const char *);
        t->cells[t->rows * t->cols + i] = xstrdup(v ? v : "");
    }
    va_end(ap);
    t->rows++;
}

/* Characters, not bytes, so UTF-8 names line up. */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void table_print(const struct table *t)
{
    size_t *w = xcalloc(t->cols, sizeof(*w));
    for (size_t r = 0; r < t->rows; r++)
        for (size_t i = 0; i < t->cols; i++) {
            size_t cw = width(t->cells[r * t->cols + i]);
            w[i] = cw > w[i] ? cw : w[i];
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t i = 0; i < t->cols; i++) {
            const char *v = t->cells[r * t->cols + i];
            if (i + 1 == t->cols)
                printf("%s\n", v);
            else
                printf("%s%*s", v, (int)(w[i] - width(v) + 2), "");
        }
    }
    free(w);
}

static void table_free(struct table *t)
{
    for (size_t k = 0; k < t->rows * t->cols; k++)
        free(t->cells[k]);
    free(t->cells);
}

/* The name of group id from a list, or "#id" for one that is gone. */
static const char *group_name(const struct store_group *v, size_t n, int64_t id, char buf[32])
{
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            return v[i].name;
    snprintf(buf, 32, "#%lld", (long long)id);
    return buf;
}

/* ---- passwords -------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Strip a trailing "\n" or "\r\n"; false when line had none (too long). */
static bool chomp(char *line)
{
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n')
        return false;
    line[--n] = '\0';
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    return true;
}

/* Read one line from the terminal with echo off. Returns 0, or -1 when
 * there is no terminal, -2 when interrupted or the line is too long. */
static int tty_line(const char *prompt, char *buf, size_t buflen)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct termios old, quiet;
    if (tcgetattr(fd, &old) < 0) {
        close(fd);
        return -1;
    }
    /* Signals only set a flag; read() returns EINTR and echo comes back. */
    struct sigaction sa = {.sa_handler = on_signal}, saved[3];
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &saved[i]);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    int rc = -2;
    if (write(fd, prompt, strlen(prompt)) >= 0 && tcsetattr(fd, TCSAFLUSH, &quiet) == 0) {
        size_t n = 0;
        char ch;
        while (!interrupted && n + 1 < buflen) {
            ssize_t r = read(fd, &ch, 1);
            if (r != 1)
                break;
            buf[n++] = ch;
            if (ch == '\n')
                break;
        }
        buf[n] = '\0';
        rc = !interrupted && chomp(buf) ? 0 : -2;
        tcsetattr(fd, TCSAFLUSH, &old);
        if (interrupted && write(fd, "\n", 1) < 0)
            rc = -2; /* the message that follows starts on a new line anyway */
    }
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &saved[i], NULL);
    close(fd);
    return rc;
}

/* A new password for username into buf, from one line of stdin or the
 * terminal (twice), within the policy. Returns 0 or an exit code. */
static int read_new_password(struct ctl *c, bool from_stdin, const char *username, char *buf,
                             size_t buflen)
{
    int rc = 0;
    if (from_stdin) {
        if (!fgets(buf, (int)buflen, stdin) || (!chomp(buf) && !feof(stdin))) {
            rc = complain(c, EXIT_USAGE, "expected one line of at most %d characters on stdin",
                          PASSWORD_MAX);
            goto out;
        }
    } else {
        char again[1024], prompt[96];
        snprintf(prompt, sizeof(prompt), "New password for %s: ", username);
        int r = tty_line(prompt, buf, buflen);
        if (r == 0)
            r = tty_line("Repeat the password: ", again, sizeof(again));
        if (r == -1) {
            rc = complain(c, EXIT_USAGE,
                          "no terminal to ask for the password on: "
                          "use --password-stdin");
        } else if (r < 0) {
            rc = complain(c, EXIT_FAIL, "password entry interrupted");
        } else if (strcmp(buf, again) != 0) {
            rc = complain(c, EXIT_FAIL, "the passwords differ; nothing changed");
        }
        wipe(again, sizeof(again));
        if (rc)
            goto out;
    }
    size_t chars = width(buf);
    if (chars < PASSWORD_MIN || chars > PASSWORD_MAX)
        rc = complain(c, EXIT_FAIL, "a password has %d to %d characters, this one %zu",
                      PASSWORD_MIN, PASSWORD_MAX, chars);
out:
    if (rc)
        wipe(buf, buflen);
    return rc;
}

/* Ask for a new password and hash it into phc. Returns 0 or an exit code. */
static int new_password_hash(struct ctl *c, bool from_stdin, const char *username,
                             char phc[AUTH_PHC_MAX])
{
    char pw[1024];
    int rc = read_new_password(c, from_stdin, username, pw, sizeof(pw));
    if (rc == 0 && auth_hash_password(pw, phc, AUTH_PHC_MAX) < 0)
        rc = complain(c, EXIT_FAIL, "cannot hash the password");
    wipe(pw, sizeof(pw));
    return rc;
}

/* ---- options ---------------------------------------------------------- */

/* Report getopt's complaint about argv[optind - 1]. */
static int bad_option(struct ctl *c, int opt, char **argv)
{
    if (opt == ':')
        return complain(c, EXIT_USAGE, "option %s needs a value", argv[optind - 1]);
    return complain(c, EXIT_USAGE, "unknown option %s", argv[optind - 1]);
}

/* Check that between min and max positional arguments remain. */
static int positional(struct ctl *c, int argc, int min, int max)
{
    int n = argc - optind;
    if (n < min)
        return complain(c, EXIT_USAGE, "missing argument");
    if (n > max)
        return complain(c, EXIT_USAGE, "too many arguments");
    return 0;
}

static void begin_options(void)
{
    optind = 0; /* glibc: start over with a new argv */
    opterr = 0;
}

/* For commands without options: only between min and max arguments. */
static int plain_args(struct ctl *c, int argc, char **argv, int min, int max)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    begin_options();
    int opt = getopt_long(argc, argv, ":", none, NULL);
    if (opt != -1)
        return bad_option(c, opt, argv);
    return positional(c, argc, min, max);
}

/* ---- groups ----------------------------------------------------------- */

struct group_opts {
    const char *name, *language, *description, *agreement_file, *history, *pm;
    long max;
    bool any;
};

static int group_options(struct ctl *c, int argc, char **argv, struct group_opts *o, bool edit)
{
    static const struct option longopts[] = {
        {"language", required_argument, NULL, 'l'},
        {"description", required_argument, NULL, 'd'},
        {"agreement-file", required_argument, NULL, 'a'},
        {"max", required_argument, NULL, 'm'},
        {"history", required_argument, NULL, 'H'},
        {"private-messages", required_argument, NULL, 'p'},
        {"name", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    static const char *const languages[] = {"fi", "sv", "en", NULL};
    static const char *const histories[] = {"since_admitted", "whole_session", NULL};
    static const char *const pms[] = {"off", "leaders", "everyone", NULL};
    int opt;
    begin_options();
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            if (!choice(optarg, languages))
                return complain(c, EXIT_USAGE, "--language is fi, sv or en");
            o->language = optarg;
            break;
        case 'd':
            o->description = optarg;
            break;
        case 'a':
            o->agreement_file = optarg;
            break;
        case 'm':
            if (parse_int(optarg, 1, 500, &o->max) < 0)
                return complain(c, EXIT_USAGE, "--max is a number of participants, 1..500");
            break;
        case 'H':
            if (!choice(optarg, histories))
                return complain(c, EXIT_USAGE, "--history is since_admitted or whole_session");
            o->history = optarg;
            break;
        case 'p':
            if (!choice(optarg, pms))
                return complain(c, EXIT_USAGE, "--private-messages is off, leaders or everyone");
            o->pm = optarg;
            break;
        case 'n':
            if (!edit)
                return bad_option(c, '?', argv);
            o->name = optarg;
            break;
        default:
            return bad_option(c, opt, argv);
        }
        o->any = true;
    }
    return positional(c, argc, 1, 1);
}

static void replace(char **slot, const char *v)
{
    free(*slot);
    *slot = xstrdup(v);
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
    if (o->agreement_file) {
        size_t len;
        char *text = util_read_file(o->agreement_file, AGREEMENT_FILE_MAX, &len);
        if (!text)
            return complain(c, EXIT_FAIL, "%s: %s", o->agreement_file, strerror(errno));
        if (strlen(text) != len) {
            free(text);
            return complain(c, EXIT_FAIL, "%s: not a text file", o->agreement_file);
        }
        /* Files written on Windows end their lines with \r\n. */
        char *w = text;
        for (char *r = text; *r; r++)
            if (!(r[0] == '\r' && r[1] == '\n'))
                *w++ = *r;
        *w = '\0';
        free(g->agreement);
        g->agreement = text;
    }
    const char *bad = store_group_invalid(g);
    if (!bad)
        return 0;
    if (strcmp(bad, "name") == 0)
        return complain(c, EXIT_USAGE,
                        "a group name has 1 to %d characters, no control characters and no "
                        "leading or trailing spaces",
                        STORE_GROUP_NAME_MAX);
    if (strcmp(bad, "description") == 0)
        return complain(c, EXIT_USAGE, "a description is one line of at most %d characters",
                        STORE_DESCRIPTION_MAX);
    if (strcmp(bad, "agreement") == 0)
        return complain(c, EXIT_FAIL,
                        "%s: the agreement must be UTF-8 text of at most %d "
                        "characters",
                        o->agreement_file, STORE_AGREEMENT_MAX);
    return complain(c, EXIT_USAGE, "invalid %s", bad);
}

static json_t *group_json(const struct store_group *g)
{
    return json_pack("{sI ss ss ss ss si ss ss so}", "id", (json_int_t)g->id, "name", g->name,
                     "language", g->language, "description", g->description, "agreement",
                     g->agreement, "max_participants", g->max_participants, "history", g->history,
                     "private_messages", g->private_messages, "created_at",
                     json_time(g->created_at));
}

/* Find group `name` into g, or complain. */
static int find_group(struct ctl *c, const char *name, struct store_group *g)
{
    int e = store_group_get(c->store, name, g);
    if (e == STORE_E_NOT_FOUND)
        return complain(c, EXIT_FAIL, "no group named \"%s\" (see kamratctl group list)", name);
    if (e < 0)
        return store_failed(c, e, "group");
    return 0;
}

static int find_leader(struct ctl *c, const char *username, struct store_leader *l)
{
    int e = store_leader_get(c->store, username, l);
    if (e == STORE_E_NOT_FOUND)
        return complain(c, EXIT_FAIL, "no leader named \"%s\" (see kamratctl leader list)",
                        username);
    if (e < 0)
        return store_failed(c, e, "leader");
    return 0;
}

static int cmd_group_add(struct ctl *c, int argc, char **argv)
{
    struct group_opts o = {0};
    int rc = group_options(c, argc, argv, &o, false);
    if (rc)
        return rc;
    if (!o.language)
        return complain(c, EXIT_USAGE, "--language is required");
    struct store_group g;
    store_group_defaults(&g);
    g.name = xstrdup(argv[optind]);
    if ((rc = apply_group_options(c, &o, &g)) == 0) {
        int e = store_group_add(c->store, c->now, c->actor, &g, &g.id);
        if (e == STORE_E_EXISTS)
            rc = complain(c, EXIT_FAIL, "a group named \"%s\" already exists", g.name);
        else if (e < 0)
            rc = store_failed(c, e, "group");
        else if (c->json)
            json_print(json_pack("{sI ss}", "id", (json_int_t)g.id, "name", g.name));
        else
            printf("group %lld \"%s\" added\n", (long long)g.id, g.name);
    }
    store_group_clear(&g);
    return rc;
}

static int cmd_group_edit(struct ctl *c, int argc, char **argv)
{
    struct group_opts o = {0};
    int rc = group_options(c, argc, argv, &o, true);
    if (rc)
        return rc;
    if (!o.any)
        return complain(c, EXIT_USAGE, "nothing to change");
    struct store_group g;
    if ((rc = find_group(c, argv[optind], &g)))
        return rc;
    if ((rc = apply_group_options(c, &o, &g)) == 0) {
        int e = store_group_edit(c->store, c->now, c->actor, &g);
        if (e == STORE_E_EXISTS)
            rc = complain(c, EXIT_FAIL, "a group named \"%s\" already exists", g.name);
        else if (e < 0)
            rc = store_failed(c, e, "group");
        else if (c->json)
            json_print(group_json(&g));
        else
            printf("group %lld \"%s\" changed\n", (long long)g.id, g.name);
    }
    store_group_clear(&g);
    return rc;
}

static int cmd_group_list(struct ctl *c, int argc, char **argv)
{
    int rc = plain_args(c, argc, argv, 0, 0);
    if (rc)
        return rc;
    struct store_group *v;
    size_t n;
    int e = store_group_list(c->store, &v, &n);
    if (e < 0)
        return store_failed(c, e, "groups");
    json_t *arr = c->json ? json_array() : NULL;
    struct table t = {.cols = 7};
    table_row(&t, "ID", "NAME", "LANG", "MAX", "HISTORY", "PRIVATE", "LEADERS");
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct store_leader *ls;
        size_t nl;
        if ((e = store_group_leaders(c->store, v[i].id, &ls, &nl)) < 0) {
            rc = store_failed(c, e, "leaders");
            break;
        }
        if (arr) {
            json_t *g = group_json(&v[i]), *names = json_array();
            for (size_t k = 0; k < nl; k++)
                json_array_append_new(names, json_string(ls[k].username));
            json_object_set_new(g, "leaders", names);
            json_array_append_new(arr, g);
        } else {
            char id[24], max[16], count[16];
            snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
            snprintf(max, sizeof(max), "%d", v[i].max_participants);
            snprintf(count, sizeof(count), "%zu", nl);
            table_row(&t, id, v[i].name, v[i].language, max, v[i].history, v[i].private_messages,
                      count);
        }
        free(ls);
    }
    if (rc == 0 && arr)
        json_print(arr);
    else if (arr)
        json_decref(arr);
    else if (rc == 0)
        table_print(&t);
    table_free(&t);
    store_group_list_free(v, n);
    return rc;
}

static const char *weekday_label(int weekday)
{
    static const char *const names[] = {"Mondays", "Tuesdays",  "Wednesdays", "Thursdays",
                                        "Fridays", "Saturdays", "Sundays"};
    return weekday >= 1 && weekday <= 7 ? names[weekday - 1] : "?";
}

static json_t *schedule_json(const struct store_schedule *sc, const char *group)
{
    char time[8], from[TIME_LEN], until[TIME_LEN];
    return json_pack("{sI ss ss ss ss si si ss ss?}", "id", (json_int_t)sc->id, "group", group,
                     "weekday", weekdays[sc->weekday - 1], "time",
                     fmt_minute(sc->minute_of_day, time), "tz", sc->tz, "duration_min",
                     sc->duration_min, "lobby_min", sc->lobby_min, "from",
                     fmt_date(sc->tz, sc->starts_on, from), "until",
                     sc->until ? fmt_date(sc->tz, sc->until - 1, until) : NULL);
}

static json_t *session_json(struct ctl *c, const struct store_session *se, const char *group)
{
    char local[TIME_LEN];
    json_t *o = json_pack("{sI ss ss so so ss ss si}", "id", (json_int_t)se->id, "group", group,
                          "state", store_session_state_name(store_session_state(se, c->now)),
                          "starts_at", json_time(se->starts_at), "ends_at", json_time(se->ends_at),
                          "local_start", fmt_local(se->tz, se->starts_at, local), "tz", se->tz,
                          "lobby_min", se->lobby_min);
    json_object_set_new(o, "schedule_id",
                        se->schedule_id ? json_integer(se->schedule_id) : json_null());
    return o;
}

static int cmd_group_show(struct ctl *c, int argc, char **argv)
{
    int rc = plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    struct store_group g;
    if ((rc = find_group(c, argv[optind], &g)))
        return rc;
    struct store_leader *ls = NULL;
    struct store_schedule *scs = NULL;
    struct store_session *ses = NULL;
    struct store_invite *invs = NULL;
    size_t nl = 0, nsc = 0, nse = 0, ninv = 0;
    int e;
    if ((e = store_group_leaders(c->store, g.id, &ls, &nl)) < 0 ||
        (e = store_schedule_list(c->store, g.id, &scs, &nsc)) < 0 ||
        (e = store_session_list(c->store, g.id, c->now, &ses, &nse)) < 0 ||
        (e = store_invite_list(c->store, g.id, &invs, &ninv)) < 0) {
        rc = store_failed(c, e, "group");
        goto out;
    }
    size_t states[4] = {0};
    for (size_t i = 0; i < ninv; i++)
        states[store_invite_state(&invs[i], c->now)]++;
    if (nse > SHOW_SESSIONS)
        nse = SHOW_SESSIONS;

    if (c->json) {
        json_t *doc = group_json(&g), *a;
        a = json_array();
        for (size_t i = 0; i < nl; i++)
            json_array_append_new(
                a, json_pack("{ss sb}", "username", ls[i].username, "disabled", ls[i].disabled));
        json_object_set_new(doc, "leaders", a);
        a = json_array();
        for (size_t i = 0; i < nsc; i++)
            json_array_append_new(a, schedule_json(&scs[i], g.name));
        json_object_set_new(doc, "schedules", a);
        a = json_array();
        for (size_t i = 0; i < nse; i++)
            json_array_append_new(a, session_json(c, &ses[i], g.name));
        json_object_set_new(doc, "next_sessions", a);
        json_object_set_new(doc, "invites",
                            json_pack("{sI sI sI sI}", "active", (json_int_t)states[0], "used",
                                      (json_int_t)states[1], "expired", (json_int_t)states[2],
                                      "revoked", (json_int_t)states[3]));
        json_print(doc);
        goto out;
    }
    char buf[TIME_LEN], buf2[TIME_LEN], hm[8];
    printf("group             %s (id %lld)\n", g.name, (long long)g.id);
    printf("language          %s\n", g.language);
    printf("max participants  %d\n", g.max_participants);
    printf("history           %s\n", g.history);
    printf("private messages  %s\n", g.private_messages);
    printf("created           %s\n", fmt_utc(g.created_at, false, buf));
    printf("description       %s\n", *g.description ? g.description : "-");
    printf("leaders           ");
    for (size_t i = 0; i < nl; i++)
        printf("%s%s%s", i ? ", " : "", ls[i].username, ls[i].disabled ? " (disabled)" : "");
    printf("%s\n", nl ? "" : "-");
    printf(nsc ? "schedules\n" : "schedules         -\n");
    for (size_t i = 0; i < nsc; i++) {
        const struct store_schedule *sc = &scs[i];
        printf("  %-4lld %s %s %s, %d min, lobby %d min, from %s", (long long)sc->id,
               weekday_label(sc->weekday), fmt_minute(sc->minute_of_day, hm), sc->tz,
               sc->duration_min, sc->lobby_min, fmt_date(sc->tz, sc->starts_on, buf));
        if (sc->until)
            printf(" until %s", fmt_date(sc->tz, sc->until - 1, buf2));
        printf("\n");
    }
    printf(nse ? "next sessions\n" : "next sessions     -\n");
    for (size_t i = 0; i < nse; i++)
        printf("  %-4lld %s  %s\n", (long long)ses[i].id,
               fmt_local(ses[i].tz, ses[i].starts_at, buf),
               store_session_state_name(store_session_state(&ses[i], c->now)));
    printf("invites           %zu active, %zu used, %zu expired, %zu revoked\n", states[0],
           states[1], states[2], states[3]);
    printf("agreement%s\n", *g.agreement ? "" : "         -");
    for (const char *p = g.agreement; *p;) {
        const char *nl_at = strchr(p, '\n');
        int len = nl_at ? (int)(nl_at - p) : (int)strlen(p);
        printf("  %.*s\n", len, p);
        p += len + (nl_at != NULL);
    }
out:
    free(ls);
    free(scs);
    free(ses);
    free(invs);
    store_group_clear(&g);
    return rc;
}

static int cmd_group_remove(struct ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"yes", no_argument, NULL, 'y'},
        {NULL, 0, NULL, 0},
    };
    bool yes = false;
    int opt;
    begin_options();
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt != 'y')
            return bad_option(c, opt, argv);
        yes = true;
    }
    int rc = positional(c, argc, 1, 1);
    if (rc)
        return rc;
    struct store_group g;
    if ((rc = find_group(c, argv[optind], &g)))
        return rc;
    if (!yes) {
        if (!isatty(STDIN_FILENO)) {
            rc = complain(c, EXIT_USAGE, "confirm with --yes when stdin is not a terminal");
            goto out;
        }
        fprintf(stderr,
                "Remove group \"%s\" with its schedules, sessions, invites and leader links? "
                "[y/N] ",
                g.name);
        char answer[16];
        if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
            rc = complain(c, EXIT_FAIL, "not removed");
            goto out;
        }
    }
    int e = store_group_remove(c->store, c->now, c->actor, g.id);
    if (e < 0)
        rc = store_failed(c, e, "group");
    else if (c->json)
        json_print(json_pack("{sI ss}", "removed", (json_int_t)g.id, "name", g.name));
    else
        printf("group %lld \"%s\" removed\n", (long long)g.id, g.name);
out:
    store_group_clear(&g);
    return rc;
}

/* group leader add|remove GROUP USERNAME */
static int group_leader_change(struct ctl *c, int argc, char **argv, bool add)
{
    int rc = plain_args(c, argc, argv, 2, 2);
    if (rc)
        return rc;
    struct store_group g;
    struct store_leader l;
    if ((rc = find_group(c, argv[optind], &g)))
        return rc;
    if ((rc = find_leader(c, argv[optind + 1], &l)) == 0) {
        int e = add ? store_group_leader_add(c->store, c->now, c->actor, g.id, l.id)
                    : store_group_leader_remove(c->store, c->now, c->actor, g.id, l.id);
        if (e == STORE_E_EXISTS)
            rc = complain(c, EXIT_FAIL, "%s already leads \"%s\"", l.username, g.name);
        else if (e == STORE_E_NOT_FOUND)
            rc = complain(c, EXIT_FAIL, "%s does not lead \"%s\"", l.username, g.name);
        else if (e < 0)
            rc = store_failed(c, e, "group leader");
        else if (c->json)
            json_print(
                json_pack("{ss ss sb}", "group", g.name, "leader", l.username, "leads", add));
        else
            printf("%s %s \"%s\"\n", l.username, add ? "now leads" : "no longer leads", g.name);
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

/* ---- leaders ---------------------------------------------------------- */

/* Options of leader add and passwd: only --password-stdin. */
static int password_options(struct ctl *c, int argc, char **argv, bool *from_stdin)
{
    static const struct option longopts[] = {
        {"password-stdin", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    begin_options();
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt != 's')
            return bad_option(c, opt, argv);
        *from_stdin = true;
    }
    return positional(c, argc, 1, 1);
}

static int cmd_leader_add(struct ctl *c, int argc, char **argv)
{
    bool from_stdin = false;
    int rc = password_options(c, argc, argv, &from_stdin);
    if (rc)
        return rc;
    const char *username = argv[optind];
    if (!store_username_valid(username))
        return complain(c, EXIT_USAGE, "a username has 3 to %d characters of a-z 0-9 . _ -",
                        STORE_USERNAME_MAX);
    struct store_leader l;
    if (store_leader_get(c->store, username, &l) == 0) {
        wipe(&l, sizeof(l));
        return complain(c, EXIT_FAIL, "a leader named \"%s\" already exists", username);
    }
    char phc[AUTH_PHC_MAX];
    if ((rc = new_password_hash(c, from_stdin, username, phc)))
        return rc;
    int64_t id;
    int e = store_leader_add(c->store, c->now, c->actor, username, phc, &id);
    wipe(phc, sizeof(phc));
    if (e == STORE_E_EXISTS)
        return complain(c, EXIT_FAIL, "a leader named \"%s\" already exists", username);
    if (e < 0)
        return store_failed(c, e, "leader");
    if (c->json)
        json_print(json_pack("{sI ss}", "id", (json_int_t)id, "username", username));
    else
        printf("leader %s added\n", username);
    return 0;
}

static int cmd_leader_passwd(struct ctl *c, int argc, char **argv)
{
    bool from_stdin = false;
    int rc = password_options(c, argc, argv, &from_stdin);
    if (rc)
        return rc;
    struct store_leader l;
    if ((rc = find_leader(c, argv[optind], &l)))
        return rc;
    char phc[AUTH_PHC_MAX];
    if ((rc = new_password_hash(c, from_stdin, l.username, phc)) == 0) {
        int e = store_leader_set_password(c->store, c->now, c->actor, l.id, phc);
        if (e < 0)
            rc = store_failed(c, e, "leader");
        else if (c->json)
            json_print(json_pack("{ss sb}", "username", l.username, "password_changed", 1));
        else
            printf("password of %s changed\n", l.username);
    }
    wipe(phc, sizeof(phc));
    wipe(&l, sizeof(l));
    return rc;
}

static int leader_set_disabled(struct ctl *c, int argc, char **argv, bool disabled)
{
    int rc = plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    struct store_leader l;
    if ((rc = find_leader(c, argv[optind], &l)))
        return rc;
    int e = store_leader_set_disabled(c->store, c->now, c->actor, l.id, disabled);
    if (e == STORE_E_INVALID)
        rc = complain(c, EXIT_FAIL, "%s is already %s", l.username,
                      disabled ? "disabled" : "enabled");
    else if (e < 0)
        rc = store_failed(c, e, "leader");
    else if (c->json)
        json_print(json_pack("{ss sb}", "username", l.username, "disabled", disabled));
    else
        printf("leader %s %s\n", l.username, disabled ? "disabled" : "enabled");
    wipe(&l, sizeof(l));
    return rc;
}

static int cmd_leader_disable(struct ctl *c, int argc, char **argv)
{
    return leader_set_disabled(c, argc, argv, true);
}

static int cmd_leader_enable(struct ctl *c, int argc, char **argv)
{
    return leader_set_disabled(c, argc, argv, false);
}

static int cmd_leader_list(struct ctl *c, int argc, char **argv)
{
    int rc = plain_args(c, argc, argv, 0, 0);
    if (rc)
        return rc;
    struct store_leader *v;
    size_t n;
    int e = store_leader_list(c->store, &v, &n);
    if (e < 0)
        return store_failed(c, e, "leaders");
    json_t *arr = c->json ? json_array() : NULL;
    struct table t = {.cols = 4};
    table_row(&t, "USERNAME", "STATE", "CREATED", "GROUPS");
    for (size_t i = 0; i < n; i++) {
        struct store_group *gs;
        size_t ng;
        if ((e = store_leader_groups(c->store, v[i].id, &gs, &ng)) < 0) {
            rc = store_failed(c, e, "leaders");
            break;
        }
        char names[1024] = "", created[TIME_LEN];
        size_t len = 0;
        json_t *jg = json_array();
        for (size_t k = 0; k < ng; k++) {
            json_array_append_new(jg, json_string(gs[k].name));
            int w = snprintf(names + len, sizeof(names) - len, "%s%s", k ? ", " : "", gs[k].name);
            if (w > 0 && (size_t)w < sizeof(names) - len)
                len += (size_t)w;
        }
        store_group_list_free(gs, ng);
        if (arr) {
            json_array_append_new(arr, json_pack("{ss sb so so}", "username", v[i].username,
                                                 "disabled", v[i].disabled, "created_at",
                                                 json_time(v[i].created_at), "groups", jg));
        } else {
            json_decref(jg);
            table_row(&t, v[i].username, v[i].disabled ? "disabled" : "enabled",
                      fmt_utc(v[i].created_at, false, created), ng ? names : "-");
        }
    }
    free(v);
    if (rc == 0 && arr)
        json_print(arr);
    else if (arr)
        json_decref(arr);
    else if (rc == 0)
        table_print(&t);
    table_free(&t);
    return rc;
}

/* ---- schedules and sessions ------------------------------------------- */

static int tz_option(struct ctl *c, const char *tz)
{
    if (!schedule_tz_valid(tz))
        return complain(c, EXIT_USAGE, "--tz %s is not a time zone name (such as Europe/Helsinki)",
                        tz);
    return 0;
}

static int cmd_session_add(struct ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"start", required_argument, NULL, 's'},
        {"duration", required_argument, NULL, 'd'},
        {"tz", required_argument, NULL, 'z'},
        {"lobby", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *start = NULL, *tz = DEFAULT_TZ;
    long duration = 0, lobby = 15;
    int opt, rc;
    begin_options();
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            start = optarg;
            break;
        case 'd':
            if (parse_int(optarg, 15, 600, &duration) < 0)
                return complain(c, EXIT_USAGE, "--duration is 15..600 minutes");
            break;
        case 'z':
            tz = optarg;
            break;
        case 'l':
            if (parse_int(optarg, 0, 120, &lobby) < 0)
                return complain(c, EXIT_USAGE, "--lobby is 0..120 minutes");
            break;
        default:
            return bad_option(c, opt, argv);
        }
    }
    if ((rc = positional(c, argc, 1, 1)))
        return rc;
    if (!start || !duration)
        return complain(c, EXIT_USAGE, "--start and --duration are required");
    if ((rc = tz_option(c, tz)))
        return rc;
    int y, m, d, minute;
    int64_t starts_at;
    if (strlen(start) != 16 || start[10] != ' ' || parse_date_prefix(start, &y, &m, &d) < 0 ||
        parse_time(start + 11, &minute) < 0 ||
        schedule_local_to_utc(tz, y, m, d, minute, &starts_at) < 0)
        return complain(c, EXIT_USAGE, "--start is a local time \"YYYY-MM-DD HH:MM\"");
    if (starts_at <= c->now)
        return complain(c, EXIT_USAGE, "--start %s is in the past", start);
    struct store_group g;
    if ((rc = find_group(c, argv[optind], &g)))
        return rc;
    struct store_session se = {.group_id = g.id,
                               .starts_at = starts_at,
                               .ends_at = starts_at + duration * 60,
                               .lobby_min = (int)lobby};
    snprintf(se.tz, sizeof(se.tz), "%s", tz);
    int e = store_session_add(c->store, c->now, c->actor, &se, &se.id);
    if (e < 0) {
        rc = store_failed(c, e, "session");
    } else if (c->json) {
        json_print(session_json(c, &se, g.name));
    } else {
        char local[TIME_LEN], utc[TIME_LEN];
        printf("session %lld of \"%s\" added: %s (%s)\n", (long long)se.id, g.name,
               fmt_local(tz, starts_at, local), fmt_utc(starts_at, false, utc));
    }
    store_group_clear(&g);
    return rc;
}

static int cmd_schedule_add(struct ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"weekday", required_argument, NULL, 'w'},  {"time", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'}, {"tz", required_argument, NULL, 'z'},
        {"lobby", required_argument, NULL, 'l'},    {"from", required_argument, NULL, 'f'},
        {"until", required_argument, NULL, 'u'},    {NULL, 0, NULL, 0},
    };
    struct store_schedule sc = {.lobby_min = 15, .minute_of_day = -1};
    const char *tz = DEFAULT_TZ, *from = NULL, *until = NULL;
    long n;
    int opt, rc;
    begin_options();
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'w':
            if (parse_weekday(optarg, &sc.weekday) < 0)
                return complain(c, EXIT_USAGE, "--weekday is mon, tue, wed, thu, fri, sat or sun");
            break;
        case 't':
            if (parse_time(optarg, &sc.minute_of_day) < 0)
                return complain(c, EXIT_USAGE, "--time is a local time HH:MM");
            break;
        case 'd':
            if (parse_int(optarg, 15, 600, &n) < 0)
                return complain(c, EXIT_USAGE, "--duration is 15..600 minutes");
            sc.duration_min = (int)n;
            break;
        case 'z':
            tz = optarg;
            break;
        case 'l':
            if (parse_int(optarg, 0, 120, &n) < 0)
                return complain(c, EXIT_USAGE, "--lobby is 0..120 minutes");
            sc.lobby_min = (int)n;
            break;
        case 'f':
            from = optarg;
            break;
        case 'u':
            until = optarg;
            break;
        default:
            return bad_option(c, opt, argv);
        }
    }
    if ((rc = positional(c, argc, 1, 1)))
        return rc;
    if (!sc.weekday || sc.minute_of_day < 0 || !sc.duration_min)
        return complain(c, EXIT_USAGE, "--weekday, --time and --duration are required");
    if ((rc = tz_option(c, tz)))
        return rc;
    snprintf(sc.tz, sizeof(sc.tz), "%s", tz);
    int y, m, d;
    sc.starts_on = c->now;
    if (from &&
        (parse_date(from, &y, &m, &d) < 0 || local_midnight(tz, y, m, d, 0, &sc.starts_on) < 0))
        return complain(c, EXIT_USAGE, "--from is a date YYYY-MM-DD");
    /* --until names the last day that may have a session. */
    if (until &&
        (parse_date(until, &y, &m, &d) < 0 || local_midnight(tz, y, m, d, 1, &sc.until) < 0))
        return complain(c, EXIT_USAGE, "--until is a date YYYY-MM-DD");
    if (sc.until && sc.until <= sc.starts_on)
        return complain(c, EXIT_USAGE, "--until is before --from");
    if (sc.until && sc.until <= c->now)
        return complain(c, EXIT_USAGE, "--until is in the past");
    struct store_group g;
    if ((rc = find_group(c, argv[optind], &g)))
        return rc;
    sc.group_id = g.id;
    int e = store_schedule_add(c->store, c->now, c->actor, &sc, &sc.id);
    int added = e < 0 ? 0 : store_expand_schedules(c->store, c->now, STORE_HORIZON);
    if (e < 0) {
        rc = store_failed(c, e, "schedule");
    } else if (added < 0) {
        rc = store_failed(c, added, "schedule added, but planning its sessions");
    } else if (c->json) {
        json_t *o = schedule_json(&sc, g.name);
        json_object_set_new(o, "sessions_added", json_integer(added));
        json_print(o);
    } else {
        char hm[8];
        printf("schedule %lld of \"%s\" added: %s %s %s; %d session%s planned\n", (long long)sc.id,
               g.name, weekday_label(sc.weekday), fmt_minute(sc.minute_of_day, hm), sc.tz, added,
               added == 1 ? "" : "s");
    }
    store_group_clear(&g);
    return rc;
}

/* The optional GROUP argument of the list commands, after the options:
 * its id, or 0 for all. */
static int optional_group(struct ctl *c, int argc, char **argv, int64_t *group_id)
{
    *group_id = 0;
    if (optind == argc)
        return 0;
    struct store_group g;
    int rc = find_group(c, argv[optind], &g);
    if (rc)
        return rc;
    *group_id = g.id;
    store_group_clear(&g);
    return 0;
}

static int cmd_schedule_list(struct ctl *c, int argc, char **argv)
{
    int64_t gid;
    int rc = plain_args(c, argc, argv, 0, 1);
    if (rc || (rc = optional_group(c, argc, argv, &gid)))
        return rc;
    struct store_group *gs;
    struct store_schedule *v;
    size_t ng, n;
    int e = store_group_list(c->store, &gs, &ng);
    if (e < 0)
        return store_failed(c, e, "schedules");
    if ((e = store_schedule_list(c->store, gid, &v, &n)) < 0) {
        store_group_list_free(gs, ng);
        return store_failed(c, e, "schedules");
    }
    if (c->json) {
        json_t *arr = json_array();
        char gb[32];
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, schedule_json(&v[i], group_name(gs, ng, v[i].group_id, gb)));
        json_print(arr);
    } else {
        struct table t = {.cols = 9};
        table_row(&t, "ID", "GROUP", "DAY", "TIME", "ZONE", "MIN", "LOBBY", "FROM", "UNTIL");
        for (size_t i = 0; i < n; i++) {
            char id[24], gb[32], hm[8], dur[16], lobby[16], from[TIME_LEN], until[TIME_LEN];
            snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
            snprintf(dur, sizeof(dur), "%d", v[i].duration_min);
            snprintf(lobby, sizeof(lobby), "%d", v[i].lobby_min);
            table_row(&t, id, group_name(gs, ng, v[i].group_id, gb), weekdays[v[i].weekday - 1],
                      fmt_minute(v[i].minute_of_day, hm), v[i].tz, dur, lobby,
                      fmt_date(v[i].tz, v[i].starts_on, from),
                      v[i].until ? fmt_date(v[i].tz, v[i].until - 1, until) : "-");
        }
        table_print(&t);
        table_free(&t);
    }
    free(v);
    store_group_list_free(gs, ng);
    return 0;
}

static int cmd_schedule_remove(struct ctl *c, int argc, char **argv)
{
    int rc = plain_args(c, argc, argv, 1, 1);
    int64_t id;
    if (rc)
        return rc;
    if (parse_id(argv[optind], &id) < 0)
        return complain(c, EXIT_USAGE, "ID is a schedule number (see kamratctl schedule list)");
    int e = store_schedule_remove(c->store, c->now, c->actor, id);
    if (e == STORE_E_NOT_FOUND)
        return complain(c, EXIT_FAIL, "no schedule %lld", (long long)id);
    if (e < 0)
        return store_failed(c, e, "schedule");
    if (c->json)
        json_print(json_pack("{sI}", "removed", (json_int_t)id));
    else
        printf("schedule %lld removed with its sessions that had not started\n", (long long)id);
    return 0;
}

static int cmd_session_list(struct ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    bool all = false;
    int opt;
    begin_options();
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt != 'a')
            return bad_option(c, opt, argv);
        all = true;
    }
    int64_t gid;
    int rc = positional(c, argc, 0, 1);
    if (rc || (rc = optional_group(c, argc, argv, &gid)))
        return rc;
    struct store_group *gs;
    struct store_session *v;
    size_t ng, n;
    int e = store_group_list(c->store, &gs, &ng);
    if (e < 0)
        return store_failed(c, e, "sessions");
    if ((e = store_session_list(c->store, gid, all ? INT64_MIN : c->now, &v, &n)) < 0) {
        store_group_list_free(gs, ng);
        return store_failed(c, e, "sessions");
    }
    if (c->json) {
        json_t *arr = json_array();
        char gb[32];
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr,
                                  session_json(c, &v[i], group_name(gs, ng, v[i].group_id, gb)));
        json_print(arr);
    } else {
        struct table t = {.cols = 7};
        table_row(&t, "ID", "GROUP", "STATE", "LOCAL START", "ZONE", "UTC", "MIN");
        for (size_t i = 0; i < n; i++) {
            char id[24], gb[32], local[TIME_LEN], utc[TIME_LEN], dur[24];
            snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
            snprintf(dur, sizeof(dur), "%lld", (long long)(v[i].ends_at - v[i].starts_at) / 60);
            table_row(&t, id, group_name(gs, ng, v[i].group_id, gb),
                      store_session_state_name(store_session_state(&v[i], c->now)),
                      fmt_local(v[i].tz, v[i].starts_at, local), v[i].tz,
                      fmt_utc(v[i].starts_at, false, utc), dur);
        }
        table_print(&t);
        table_free(&t);
    }
    free(v);
    store_group_list_free(gs, ng);
    return 0;
}

static int cmd_session_cancel(struct ctl *c, int argc, char **argv)
{
    int rc = plain_args(c, argc, argv, 1, 1);
    int64_t id;
    if (rc)
        return rc;
    if (parse_id(argv[optind], &id) < 0)
        return complain(c, EXIT_USAGE, "ID is a session number (see kamratctl session list)");
    int e = store_session_cancel(c->store, c->now, c->actor, id);
    if (e == STORE_E_NOT_FOUND)
        return complain(c, EXIT_FAIL, "no session %lld", (long long)id);
    if (e == STORE_E_INVALID)
        return complain(c, EXIT_FAIL, "session %lld has ended or is cancelled already",
                        (long long)id);
    if (e < 0)
        return store_failed(c, e, "session");
    if (c->json)
        json_print(json_pack("{sI}", "cancelled", (json_int_t)id));
    else
        printf("session %lld cancelled\n", (long long)id);
    return 0;
}

/* ---- invites ---------------------------------------------------------- */

static int cmd_invite_create(struct ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"personal", no_argument, NULL, 'p'},
        {"expires", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    bool personal = false;
    long days = 7;
    int opt, rc;
    begin_options();
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            personal = true;
            break;
        case 'e':
            if (parse_int(optarg, 1, 90, &days) < 0)
                return complain(c, EXIT_USAGE, "--expires is 1..90 days");
            break;
        default:
            return bad_option(c, opt, argv);
        }
    }
    if ((rc = positional(c, argc, 1, 1)))
        return rc;
    struct store_group g;
    if ((rc = find_group(c, argv[optind], &g)))
        return rc;
    char code[AUTH_INVITE_LEN + 1];
    unsigned char hash[AUTH_DIGEST_LEN];
    int64_t id, expires = c->now + days * DAY;
    if (auth_invite_code_new(code, hash) < 0) {
        rc = complain(c, EXIT_FAIL, "cannot make an invite code (no randomness)");
        goto out;
    }
    int e = store_invite_create(c->store, c->now, c->actor, g.id,
                                personal ? STORE_INVITE_PERSONAL : STORE_INVITE_GROUP, hash,
                                expires, &id);
    if (e < 0) {
        rc = store_failed(c, e, "invite");
        goto out;
    }
    char link[512], when[TIME_LEN];
    snprintf(link, sizeof(link), "%s/j/%s", c->cfg->origin, code);
    if (c->json) {
        json_print(json_pack("{sI ss ss so ss}", "id", (json_int_t)id, "group", g.name, "kind",
                             personal ? "personal" : "group", "expires_at", json_time(expires),
                             "link", link));
    } else {
        printf("%s\n", link);
        fprintf(stderr,
                "invite %lld: %s link to \"%s\", expires %s. The link is shown only this once.\n",
                (long long)id, personal ? "personal (one person)" : "group", g.name,
                fmt_utc(expires, false, when));
    }
    wipe(link, sizeof(link));
out:
    wipe(code, sizeof(code));
    store_group_clear(&g);
    return rc;
}

static int cmd_invite_list(struct ctl *c, int argc, char **argv)
{
    int64_t gid;
    int rc = plain_args(c, argc, argv, 0, 1);
    if (rc || (rc = optional_group(c, argc, argv, &gid)))
        return rc;
    struct store_group *gs;
    struct store_invite *v;
    size_t ng, n;
    int e = store_group_list(c->store, &gs, &ng);
    if (e < 0)
        return store_failed(c, e, "invites");
    if ((e = store_invite_list(c->store, gid, &v, &n)) < 0) {
        store_group_list_free(gs, ng);
        return store_failed(c, e, "invites");
    }
    if (c->json) {
        json_t *arr = json_array();
        char gb[32];
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                arr, json_pack("{sI ss ss ss so so so so}", "id", (json_int_t)v[i].id, "group",
                               group_name(gs, ng, v[i].group_id, gb), "kind",
                               store_invite_kind_name(v[i].kind), "state",
                               store_invite_state_name(store_invite_state(&v[i], c->now)),
                               "created_at", json_time(v[i].created_at), "expires_at",
                               json_time(v[i].expires_at), "used_at", json_time(v[i].used_at),
                               "revoked_at", json_time(v[i].revoked_at)));
        json_print(arr);
    } else {
        struct table t = {.cols = 6};
        table_row(&t, "ID", "GROUP", "KIND", "STATE", "CREATED", "EXPIRES");
        for (size_t i = 0; i < n; i++) {
            char id[24], gb[32], created[TIME_LEN], expires[TIME_LEN];
            snprintf(id, sizeof(id), "%lld", (long long)v[i].id);
            table_row(
                &t, id, group_name(gs, ng, v[i].group_id, gb), store_invite_kind_name(v[i].kind),
                store_invite_state_name(store_invite_state(&v[i], c->now)),
                fmt_utc(v[i].created_at, false, created), fmt_utc(v[i].expires_at, false, expires));
        }
        table_print(&t);
        table_free(&t);
    }
    free(v);
    store_group_list_free(gs, ng);
    return 0;
}

static int cmd_invite_revoke(struct ctl *c, int argc, char **argv)
{
    int rc = plain_args(c, argc, argv, 1, 1);
    int64_t id;
    if (rc)
        return rc;
    if (parse_id(argv[optind], &id) < 0)
        return complain(c, EXIT_USAGE, "ID is an invite number (see kamratctl invite list)");
    int e = store_invite_revoke(c->store, c->now, c->actor, id);
    if (e == STORE_E_NOT_FOUND)
        return complain(c, EXIT_FAIL, "no invite %lld", (long long)id);
    if (e == STORE_E_INVALID)
        return complain(c, EXIT_FAIL, "invite %lld is revoked already", (long long)id);
    if (e < 0)
        return store_failed(c, e, "invite");
    if (c->json)
        json_print(json_pack("{sI}", "revoked", (json_int_t)id));
    else
        printf("invite %lld revoked\n", (long long)id);
    return 0;
}

/* ---- audit, backup, check --------------------------------------------- */

/* A UTC date as an instant: its midnight, plus days. */
static int utc_date(const char *s, int days, int64_t *out)
{
    int y, m, d, cy, cm, cd;
    if (parse_date(s, &y, &m, &d) < 0)
        return -1;
    int64_t z = days_from_civil(y, m, d);
    civil_from_days(z, &cy, &cm, &cd);
    if (cy != y || cm != m || cd != d)
        return -1;
    *out = (z + days) * DAY;
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
    const char *group = NULL;
    long limit;
    int opt, rc;
    begin_options();
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'g':
            group = optarg;
            break;
        case 's':
            if (utc_date(optarg, 0, &f.since) < 0)
                return complain(c, EXIT_USAGE, "--since is a date YYYY-MM-DD (UTC)");
            break;
        case 'u':
            if (utc_date(optarg, 1, &f.until) < 0)
                return complain(c, EXIT_USAGE, "--until is a date YYYY-MM-DD (UTC)");
            break;
        case 'n':
            if (parse_int(optarg, 1, 100000, &limit) < 0)
                return complain(c, EXIT_USAGE, "--limit is 1..100000 rows");
            f.limit = (int)limit;
            break;
        default:
            return bad_option(c, opt, argv);
        }
    }
    if ((rc = positional(c, argc, 0, 0)))
        return rc;
    struct store_group *gs;
    size_t ng;
    int e = store_group_list(c->store, &gs, &ng);
    if (e < 0)
        return store_failed(c, e, "audit");
    if (group) {
        struct store_group g;
        if ((rc = find_group(c, group, &g))) {
            store_group_list_free(gs, ng);
            return rc;
        }
        f.group_id = g.id;
        store_group_clear(&g);
    }
    struct store_audit_row *v;
    size_t n;
    if ((e = store_audit_query(c->store, &f, &v, &n)) < 0) {
        store_group_list_free(gs, ng);
        return store_failed(c, e, "audit");
    }
    if (c->json) {
        json_t *arr = json_array();
        char gb[32];
        for (size_t i = 0; i < n; i++) {
            json_t *o =
                json_pack("{sI so ss ss ss?}", "id", (json_int_t)v[i].id, "ts", json_time(v[i].ts),
                          "actor", v[i].actor, "action", v[i].action, "target", v[i].target);
            json_object_set_new(o, "group",
                                v[i].group_id ? json_string(group_name(gs, ng, v[i].group_id, gb))
                                              : json_null());
            json_object_set_new(o, "session_id",
                                v[i].session_id ? json_integer(v[i].session_id) : json_null());
            json_array_append_new(arr, o);
        }
        json_print(arr);
    } else {
        struct table t = {.cols = 6};
        table_row(&t, "TIME", "ACTOR", "ACTION", "TARGET", "GROUP", "SESSION");
        for (size_t i = 0; i < n; i++) {
            char ts[TIME_LEN], gb[32], sid[24];
            snprintf(sid, sizeof(sid), "%lld", (long long)v[i].session_id);
            table_row(&t, fmt_utc(v[i].ts, false, ts), v[i].actor, v[i].action,
                      v[i].target ? v[i].target : "-",
                      v[i].group_id ? group_name(gs, ng, v[i].group_id, gb) : "-",
                      v[i].session_id ? sid : "-");
        }
        table_print(&t);
        table_free(&t);
    }
    store_audit_free(v, n);
    store_group_list_free(gs, ng);
    return 0;
}

static int cmd_backup(struct ctl *c, int argc, char **argv)
{
    int rc = plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    const char *dest = argv[optind];
    char err[1024];
    int e = store_backup(c->store, dest, err, sizeof(err));
    if (e == STORE_E_EXISTS)
        return complain(c, EXIT_FAIL, "%s exists; a backup never overwrites a file", dest);
    if (e < 0)
        return complain(c, EXIT_FAIL, "%s", err);
    /* The path names where a copy of the data went; too long a path is left
     * out rather than cut. */
    e = store_audit(c->store, c->now, c->actor, "backup",
                    strlen(dest) <= STORE_TARGET_MAX ? dest : NULL, 0, 0);
    if (e < 0)
        return store_failed(c, e, "backup made, but auditing it");
    if (c->json)
        json_print(json_pack("{ss sb}", "backup", dest, "quick_check_ok", 1));
    else
        printf("backup written to %s (quick_check ok)\n", dest);
    return 0;
}

static void db_path(const struct config *cfg, char *buf, size_t len)
{
    snprintf(buf, len, "%s/kamrat.db", cfg->data_dir);
}

/* check needs no store open before it runs: it opens the database itself,
 * never creating it. */
static int cmd_check(struct ctl *c, int argc, char **argv)
{
    int rc = plain_args(c, argc, argv, 0, 0);
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
    db_path(c->cfg, path, sizeof(path));
    if (access(path, F_OK) != 0) {
        if (doc) {
            json_object_set_new(doc, "database", json_string("absent"));
            json_print(doc);
        } else {
            printf("database: %s not created yet\n", path);
        }
        return 0;
    }
    struct store *s;
    int e = store_open(path, 0, &s, err, sizeof(err));
    if (e == 0) {
        e = store_check(s, err, sizeof(err));
        if (e == 0 && doc) {
            json_object_set_new(doc, "database", json_string("ok"));
            json_object_set_new(doc, "schema_version", json_integer(store_schema_version(s)));
        } else if (e == 0) {
            printf("database: %s ok (schema version %d)\n", path, store_schema_version(s));
        }
        store_close(s);
    }
    if (e < 0) {
        json_decref(doc);
        fprintf(stderr, "kamratctl: database %s\n", err);
        return EXIT_FAIL;
    }
    if (doc)
        json_print(doc);
    return 0;
}

/* ---- commands --------------------------------------------------------- */

#define GROUP_OPTIONS                                                                              \
    "      --description TEXT            one paragraph shown before joining\n"                     \
    "      --agreement-file FILE         the group agreement (UTF-8 text, newlines kept)\n"        \
    "      --max N                       most participants, 1..500 (default 12)\n"                 \
    "      --history since_admitted|whole_session\n"                                               \
    "                                    what a late joiner sees (default since_admitted)\n"       \
    "      --private-messages off|leaders|everyone\n"                                              \
    "                                    who may write privately (default leaders)\n"

static const struct command commands[] = {
    {"group add", "NAME --language fi|sv|en [OPTIONS]", "add a group",
     "      --language fi|sv|en           the group's language (required)\n" GROUP_OPTIONS,
     cmd_group_add},
    {"group list", "", "list the groups", NULL, cmd_group_list},
    {"group show", "NAME", "show a group: settings, leaders, schedules, next sessions, invites",
     NULL, cmd_group_show},
    {"group edit", "NAME [OPTIONS]", "change a group's settings",
     "      --name NEW                    rename the group\n"
     "      --language fi|sv|en           the group's language\n" GROUP_OPTIONS,
     cmd_group_edit},
    {"group remove", "NAME [--yes]",
     "remove a group with its schedules, sessions, invites and leader links",
     "      --yes                         do not ask for confirmation\n", cmd_group_remove},
    {"group leader add", "GROUP USERNAME", "make a leader one of a group's leaders", NULL,
     cmd_group_leader_add},
    {"group leader remove", "GROUP USERNAME", "take a leader off a group", NULL,
     cmd_group_leader_remove},
    {"leader add", "USERNAME [--password-stdin]",
     "add a leader account (username: 3-32 of a-z 0-9 . _ -)",
     "      --password-stdin              read the password from one line of stdin\n"
     "                                    (otherwise asked twice on the terminal)\n",
     cmd_leader_add},
    {"leader passwd", "USERNAME [--password-stdin]", "set a leader's password (10-128 characters)",
     "      --password-stdin              read the password from one line of stdin\n",
     cmd_leader_passwd},
    {"leader disable", "USERNAME", "stop a leader from logging in", NULL, cmd_leader_disable},
    {"leader enable", "USERNAME", "let a disabled leader log in again", NULL, cmd_leader_enable},
    {"leader list", "", "list the leaders and their groups", NULL, cmd_leader_list},
    {"session add", "GROUP --start \"YYYY-MM-DD HH:MM\" --duration MIN [OPTIONS]",
     "add a one-off session",
     "      --start \"YYYY-MM-DD HH:MM\"    local start time (required)\n"
     "      --duration MIN                15..600 minutes (required)\n"
     "      --tz ZONE                     time zone of --start (default " DEFAULT_TZ ")\n"
     "      --lobby MIN                   the lobby opens MIN minutes early, 0..120 "
     "(default 15)\n",
     cmd_session_add},
    {"session list", "[GROUP] [--all]", "list upcoming sessions with their state",
     "      --all                         past sessions too\n", cmd_session_list},
    {"session cancel", "ID", "cancel a session that has not ended", NULL, cmd_session_cancel},
    {"schedule add", "GROUP --weekday DAY --time HH:MM --duration MIN [OPTIONS]",
     "add a weekly meeting and plan its sessions 8 weeks ahead",
     "      --weekday mon..sun            day of the week (required)\n"
     "      --time HH:MM                  local start time (required)\n"
     "      --duration MIN                15..600 minutes (required)\n"
     "      --tz ZONE                     time zone (default " DEFAULT_TZ ")\n"
     "      --lobby MIN                   the lobby opens MIN minutes early, 0..120 "
     "(default 15)\n"
     "      --from YYYY-MM-DD             first day (default today)\n"
     "      --until YYYY-MM-DD            last day (default none)\n",
     cmd_schedule_add},
    {"schedule list", "[GROUP]", "list weekly schedules", NULL, cmd_schedule_list},
    {"schedule remove", "ID", "remove a schedule and its sessions that have not started", NULL,
     cmd_schedule_remove},
    {"invite create", "GROUP [--personal] [--expires DAYS]",
     "make an invite link (shown once; only its hash is kept)",
     "      --personal                    for one person: works once\n"
     "      --expires DAYS                valid for 1..90 days (default 7)\n",
     cmd_invite_create},
    {"invite list", "[GROUP]", "list invites and their state (never their codes)", NULL,
     cmd_invite_list},
    {"invite revoke", "ID", "revoke an invite", NULL, cmd_invite_revoke},
    {"audit", "[OPTIONS]", "show the audit log, oldest first",
     "      --group NAME                  only rows about this group\n"
     "      --since YYYY-MM-DD            from this day on (UTC)\n"
     "      --until YYYY-MM-DD            up to and including this day (UTC)\n"
     "      --limit N                     the newest N rows (default 100)\n",
     cmd_audit},
    {"backup", "FILE", "copy the database to a new FILE while kamratd runs", NULL, cmd_backup},
    {"check", "", "check the configuration, certificate, directories and database", NULL,
     cmd_check},
};

/* How many of argv's words name a prefix shared with command k's path. */
static int matched_words(const struct command *k, int argc, char **argv, bool *whole)
{
    const char *p = k->path;
    int n = 0;
    *whole = false;
    for (; n < argc; n++) {
        size_t len = strcspn(p, " ");
        if (strlen(argv[n]) != len || strncmp(argv[n], p, len) != 0)
            break;
        p += len;
        if (!*p) {
            *whole = true;
            return n + 1;
        }
        p++;
    }
    return n;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: kamratctl [-c FILE] [--json] COMMAND [ARGS]\n"
                 "\n"
                 "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
                 "      --json          print one JSON document on stdout, for scripts\n"
                 "  -V, --version       print the version and exit\n"
                 "  -h, --help          print this help and exit\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        fprintf(out, "  %-20s %s\n", commands[i].path, commands[i].summary);
    fprintf(out, "\n"
                 "`kamratctl COMMAND --help` shows a command's arguments and options.\n"
                 "Exit status: 0 ok, 1 failure, 64 usage error, 78 configuration error.\n");
}

/* Help for the commands under a prefix such as "group" or "group leader". */
static void prefix_usage(FILE *out, int words, char **argv)
{
    fprintf(out, "usage: kamratctl");
    for (int i = 0; i < words; i++)
        fprintf(out, " %s", argv[i]);
    fprintf(out, " COMMAND ...\n\ncommands:\n");
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        bool whole;
        if (matched_words(&commands[i], words, argv, &whole) == words)
            fprintf(out, "  kamratctl %s%s%s\n      %s\n", commands[i].path,
                    *commands[i].args ? " " : "", commands[i].args, commands[i].summary);
    }
}

static void command_usage(const struct command *k)
{
    printf("usage: kamratctl %s%s%s\n\n%s.\n", k->path, *k->args ? " " : "", k->args, k->summary);
    if (k->options)
        printf("\noptions:\n%s", k->options);
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

/* "admin:<login name>": the name logged in on the terminal (the person,
 * even under sudo), else the name of the user id. */
static void set_actor(struct ctl *c)
{
    char name[64] = "";
    if (getlogin_r(name, sizeof(name)) != 0 || !*name) {
        struct passwd *pw = getpwuid(getuid());
        if (pw && pw->pw_name && strlen(pw->pw_name) < sizeof(name))
            snprintf(name, sizeof(name), "%s", pw->pw_name);
        else
            snprintf(name, sizeof(name), "uid%u", (unsigned)getuid());
    }
    snprintf(c->actor, sizeof(c->actor), "admin:%s", name);
}

/* Load the configuration, open the store, run k. */
static int run(struct ctl *c, const struct command *k, int argc, char **argv)
{
    char err[1024], path[4096];
    c->cmd = k;
    c->cfg = config_load(c->config_path, err, sizeof(err));
    if (!c->cfg) {
        fprintf(stderr, "kamratctl: %s\n", err);
        return EXIT_CONFIG;
    }
    c->now = config_now(c->cfg);
    set_actor(c);
    int rc;
    if (k->run == cmd_check) {
        rc = k->run(c, argc, argv);
    } else {
        db_path(c->cfg, path, sizeof(path));
        if (store_open(path, STORE_CREATE, &c->store, err, sizeof(err)) < 0) {
            fprintf(stderr, "kamratctl: %s\n", err);
            rc = EXIT_FAIL;
        } else {
            rc = k->run(c, argc, argv);
        }
    }
    store_close(c->store);
    config_free(c->cfg);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ctl c = {.config_path = DEFAULT_CONFIG};
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:c:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            c.config_path = optarg;
            break;
        case 'j':
            c.json = true;
            break;
        case 'V':
            printf("kamratctl %s\n", KAMRAT_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "kamratctl: option %s needs a value (try --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "kamratctl: unknown option %s (try --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    int nwords = argc - optind;
    char **words = argv + optind;
    if (nwords == 0) {
        fprintf(stderr, "kamratctl: missing command (try --help)\n");
        return EXIT_USAGE;
    }
    if (strcmp(words[0], "help") == 0) {
        usage(stdout);
        return 0;
    }

    const struct command *best = NULL;
    int best_words = 0, prefix = 0;
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        bool whole;
        int n = matched_words(&commands[i], nwords, words, &whole);
        if (whole && n > best_words) {
            best = &commands[i];
            best_words = n;
        }
        prefix = n > prefix ? n : prefix;
    }
    if (best) {
        /* The command's own argv: its last word, then its arguments. */
        int cargc = nwords - best_words + 1;
        char **cargv = words + best_words - 1;
        if (wants_help(cargc, cargv)) {
            command_usage(best);
            return 0;
        }
        return run(&c, best, cargc, cargv);
    }
    if (prefix > 0) {
        bool help = nwords > prefix &&
                    (strcmp(words[prefix], "--help") == 0 || strcmp(words[prefix], "-h") == 0);
        if (help) {
            prefix_usage(stdout, prefix, words);
            return 0;
        }
        if (nwords > prefix)
            fprintf(stderr, "kamratctl: unknown command %s %s\n", words[prefix - 1], words[prefix]);
        else
            fprintf(stderr, "kamratctl: %s needs a command\n", words[prefix - 1]);
        prefix_usage(stderr, prefix, words);
        return EXIT_USAGE;
    }
    fprintf(stderr, "kamratctl: unknown command %s (try --help)\n", words[0]);
    return EXIT_USAGE;
}
