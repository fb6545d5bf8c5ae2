/*
 * ctl: what kamratctl's commands share: the state of one run (configuration,
 * store, clock, audit actor), messages with uniform exit codes, option and
 * argument parsing, lookups by name, and output as aligned text or JSON.
 *
 * The commands live in ctl_group.c, ctl_leader.c (leaders and
 * coordinators), ctl_session.c,
 * ctl_invite.c, ctl_ban.c and ctl_admin.c, each exporting its part of the command
 * table; kamratctl.c dispatches. Single-threaded; output goes to stdout,
 * messages to stderr. Never prints a password or an invite code except
 * where a command's contract says so.
 */
#ifndef KAMRAT_CTL_H
#define KAMRAT_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 64
#define EXIT_CONFIG 78
#define DEFAULT_TZ "Europe/Helsinki"
#define DAY INT64_C(86400)
#define CTL_TIME_LEN 32

struct ctl_command;

/* One run of kamratctl. cfg and store are open while a command runs (store
 * is NULL for ctl_check). */
struct ctl {
    const struct ctl_command *cmd;
    const char *config_path;
    struct config *cfg;
    struct store *store;
    bool json;
    int64_t now;
    char actor[STORE_ACTOR_MAX + 1];
};

/* A command runs with its own argv: its last word, then its arguments, so
 * that options start at argv[1]. Returns the exit code. */
struct ctl_command {
    const char *path;    /* the words that name it: "group leader add"; NULL ends a table */
    const char *args;    /* what follows them in the synopsis */
    const char *summary; /* one line */
    const char *options; /* option lines for --help, or NULL */
    int (*run)(struct ctl *c, int argc, char **argv);
};

/* The command tables, in the order --help lists them. */
extern const struct ctl_command ctl_group_commands[];
extern const struct ctl_command ctl_leader_commands[];
extern const struct ctl_command ctl_coordinator_commands[];
extern const struct ctl_command ctl_session_commands[];
extern const struct ctl_command ctl_invite_commands[];
extern const struct ctl_command ctl_ban_commands[];
extern const struct ctl_command ctl_admin_commands[];

/* kamratctl check, which runs without the store opened for it: it opens
 * the database itself, never creating it. */
int ctl_check(struct ctl *c, int argc, char **argv);

/* "mon" .. "sun", indexed by ISO weekday - 1. */

/* ---- messages --------------------------------------------------------- */

/* Print "kamratctl: <command>: <message>" on stderr and return code; usage
 * errors also point at the command's --help. */
int ctl_complain(struct ctl *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The arguments of a removal: the one thing to remove and --yes (sets
 * *yes). Returns 0 or an exit code. */
int ctl_removal_args(struct ctl *c, int argc, char **argv, int *yes);

/* Before a removal: 0 when yes (--yes) was given or the person at the
 * terminal answers y to question (a printf format: "Remove ...?"), else an
 * exit code (a usage error when stdin is not a terminal). */
int ctl_confirm(struct ctl *c, int yes, const char *question, ...)
    __attribute__((format(printf, 3, 4)));

/* Report a failed store call about `what` ("group") and return EXIT_FAIL. */
int ctl_store_failed(struct ctl *c, int err, const char *what);

/* The result of a command that worked: doc (taken, may be NULL) on stdout
 * with --json, else fmt on stdout. Returns 0. */
int ctl_done(struct ctl *c, json_t *doc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- options and arguments -------------------------------------------- */

/* Called for each option getopt_long returns other than flags (opt 0) and
 * errors; value is its argument or NULL. Returns 0 or an exit code. */
typedef int ctl_option_fn(struct ctl *c, int opt, const char *value, void *arg);

/*
 * Parse argv's options with longopts (flags set through their `flag`
 * pointers; each gets the rest, NULL for commands with flags only), then
 * check that min..max positional arguments remain from optind on. Unknown
 * options and missing values are usage errors. Returns 0 or an exit code.
 */
int ctl_options(struct ctl *c, int argc, char **argv, const struct option *longopts,
                ctl_option_fn *each, void *arg, int min, int max);

/* For commands without options: only min..max positional arguments. */
int ctl_plain_args(struct ctl *c, int argc, char **argv, int min, int max);

/* The complaint about the option just parsed (argv[optind - 1]). */
int ctl_bad_option(struct ctl *c, int opt, char **argv);

/* A decimal in min..max into *out; -1 for anything else. */
int ctl_parse_int(const char *s, long min, long max, long *out);

/* Is v one of the NULL-terminated choices? */
bool ctl_choice(const char *v, const char *const *choices);

/* A UTC date "YYYY-MM-DD" as the instant of its midnight plus `days` whole
 * days. 0 or -1. */
int ctl_utc_date(const char *s, int days, int64_t *out);

/* An existing --tz zone, or a usage complaint. */
int ctl_tz_option(struct ctl *c, const char *tz);

/* ---- lookups ------------------------------------------------------------ */

/* Group `name` into *g (store_group_clear it), or "no group named ..." and
 * EXIT_FAIL. */
int ctl_find_group(struct ctl *c, const char *name, struct store_group *g);
/* Leader `username` into *l (wipe it), likewise; a coordinator is no
 * leader. ctl_find_account: the account of role. */
int ctl_find_leader(struct ctl *c, const char *username, struct store_leader *l);
int ctl_find_account(struct ctl *c, enum store_role role, const char *username,
                     struct store_leader *l);

/*
 * For the list commands: the id of group `only` (a name, or NULL for every
 * group) as names->only (0 for NULL), and every group's name (names->v,
 * names->n). `what` names the list in store errors. Returns 0 or an exit
 * code; free with ctl_names_free either way.
 */
struct ctl_names {
    struct store_group *v;
    size_t n;
    int64_t only;
};
int ctl_names_load(struct ctl *c, const char *only, const char *what, struct ctl_names *names);
void ctl_names_free(struct ctl_names *names);
/* The name of group id, or "#id" in buf for one that is gone. */
const char *ctl_group_name(const struct ctl_names *names, int64_t id, char buf[32]);

/*
 * The commands that change one row named by its number ID: parse the
 * argument, call change(store, now, actor, id) and report. The messages are
 * "<noun> <id> <done>" and, for STORE_E_INVALID, "<noun> <id> <invalid>";
 * JSON {"<key>": id}.
 */
struct ctl_id_change {
    const char *noun;    /* "session" */
    const char *article; /* "a" or "an", before noun */
    int (*change)(struct store *s, int64_t now, const char *actor, int64_t id);
    const char *key;     /* "cancelled" */
    const char *done;    /* "cancelled" */
    const char *invalid; /* "has ended or is cancelled already" */
};
int ctl_change_by_id(struct ctl *c, int argc, char **argv, const struct ctl_id_change *how);

/* ---- shared by group show and the session commands (ctl_session.c) ---- */

/* A schedule or a session of group `group` as a JSON object. */
json_t *ctl_schedule_json(const struct store_schedule *sc, const char *group);
json_t *ctl_session_json(struct ctl *c, const struct store_session *se, const char *group);
/* "Mondays" .. "Sundays" for ISO weekday 1..7. */
const char *ctl_weekday_label(int weekday);

/* ---- output ------------------------------------------------------------- */

/* Print doc on stdout, indented, and free it. */
void ctl_json_print(json_t *doc);

/* "2026-03-02 16:00 UTC", or with iso "2026-03-02T16:00:00Z"; "?" when t
 * cannot be shown. */
const char *ctl_fmt_utc(int64_t t, bool iso, char buf[CTL_TIME_LEN]);
/* "2026-03-02 18:00 EET" in tz, and only its date "2026-03-02". */
const char *ctl_fmt_local(const char *tz, int64_t t, char buf[CTL_TIME_LEN]);
const char *ctl_fmt_date(const char *tz, int64_t t, char buf[CTL_TIME_LEN]);
/* Minutes after midnight as "HH:MM". */
const char *ctl_fmt_minute(int minute, char buf[8]);
/* t as an ISO UTC string, or null for 0. */
json_t *ctl_json_time(int64_t t);
/* An id, or null for 0. */
json_t *ctl_json_id(int64_t id);

/* Characters, not bytes, of UTF-8 s. */
size_t ctl_width(const char *s);

/*
 * A list printed as one JSON array (arr, with --json) or as aligned columns
 * of text whose first row is the header (the table, otherwise).
 */
struct ctl_list {
    json_t *arr; /* NULL unless --json */
    size_t cols, rows, cap;
    char **cells;
};

/* Start a list of cols columns with their header: cols strings follow. */
void ctl_list_init(struct ctl *c, struct ctl_list *l, size_t cols, ...);
/* Add a row of text: l->cols strings follow (NULL prints as ""). */
void ctl_list_row(struct ctl_list *l, ...);
/* Print the list when rc is 0, free it either way, and return rc. */
int ctl_list_finish(struct ctl_list *l, int rc);

#endif
