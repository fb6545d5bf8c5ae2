/*
 * kamratctl: the association admin's tool over the store: groups, leaders,
 * schedules and sessions, invites, bans, the audit log, backups and checks. Reads
 * the same configuration file as kamratd and works on the store its [store]
 * section names (<data_dir>/kamrat.db by default, or PostgreSQL), creating
 * it when absent; safe while kamratd runs (writers wait for each other).
 *
 * Every change is audited as "admin:<login name>". Passwords come from the
 * terminal (twice, echo off) or one line of stdin, never from argv. Invite
 * codes are shown once and stored only as hashes.
 *
 * Output is aligned text, or one JSON document on stdout with --json.
 * Exit codes: 0 ok, 1 failure, 64 usage, 78 configuration.
 */
#include <assert.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "kamrat_build.h"
#include "util.h"

#define DEFAULT_CONFIG "/etc/kamrat/kamrat.conf"
#define COMMANDS_MAX 64

/* Every command, in the order --help lists them. */
static const struct ctl_command *commands[COMMANDS_MAX];
static size_t ncommands;

static void collect_commands(void)
{
    static const struct ctl_command *const tables[] = {
        ctl_group_commands,  ctl_leader_commands, ctl_coordinator_commands, ctl_session_commands,
        ctl_invite_commands, ctl_ban_commands,    ctl_admin_commands,
    };
    for (size_t t = 0; t < ARRAY_LEN(tables); t++)
        for (const struct ctl_command *k = tables[t]; k->path; k++) {
            assert(ncommands < COMMANDS_MAX);
            commands[ncommands++] = k;
        }
}

/* How many of argv's words name a prefix shared with command k's path. */
static int matched_words(const struct ctl_command *k, int argc, char **argv, bool *whole)
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
    for (size_t i = 0; i < ncommands; i++)
        fprintf(out, "  %-20s %s\n", commands[i]->path, commands[i]->summary);
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
    for (size_t i = 0; i < ncommands; i++) {
        bool whole;
        if (matched_words(commands[i], words, argv, &whole) == words)
            fprintf(out, "  kamratctl %s%s%s\n      %s\n", commands[i]->path,
                    *commands[i]->args ? " " : "", commands[i]->args, commands[i]->summary);
    }
}

static void command_usage(const struct ctl_command *k)
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
static int run(struct ctl *c, const struct ctl_command *k, int argc, char **argv)
{
    char err[1024];
    c->cmd = k;
    c->cfg = config_load(c->config_path, err, sizeof(err));
    if (!c->cfg) {
        fprintf(stderr, "kamratctl: %s\n", err);
        return EXIT_CONFIG;
    }
    c->now = config_now(c->cfg);
    set_actor(c);
    int rc;
    if (k->run == ctl_check) {
        rc = k->run(c, argc, argv);
    } else {
        if (store_open_config(c->cfg, STORE_CREATE, &c->store, err, sizeof(err)) < 0) {
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

    collect_commands();
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

    const struct ctl_command *best = NULL;
    int best_words = 0, prefix = 0;
    for (size_t i = 0; i < ncommands; i++) {
        bool whole;
        int n = matched_words(commands[i], nwords, words, &whole);
        if (whole && n > best_words) {
            best = commands[i];
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
