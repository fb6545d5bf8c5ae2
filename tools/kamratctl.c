/*
 * kamratctl: the association admin's tool. Reads the same configuration
 * file as kamratd. The store issue grows it into groups, leaders, sessions
 * and invites; today it checks an installation.
 *
 * Exit codes: 0 ok, 1 a check failed, 64 usage, 78 configuration.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "kamrat_build.h"

#define EXIT_USAGE 64
#define EXIT_CONFIG 78
#define DEFAULT_CONFIG "/etc/kamrat/kamrat.conf"

static void usage(FILE *out)
{
    fprintf(out, "usage: kamratctl [-c FILE] COMMAND\n"
                 "\n"
                 "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -V, --version       print the version and exit\n"
                 "  -h, --help          print this help and exit\n"
                 "\n"
                 "commands:\n"
                 "  check     check the configuration, certificate, directories and database\n");
}

/* quick_check the database if kamratd has created it. Returns 0 or 1. */
static int check_database(const struct config *cfg)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/kamrat.db", cfg->data_dir);
    if (access(path, F_OK) != 0) {
        printf("database: %s not created yet\n", path);
        return 0;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
    int ok = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (ok)
        printf("database: %s ok\n", path);
    else
        fprintf(stderr, "kamratctl: database %s: %s\n", path,
                db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = DEFAULT_CONFIG;
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:c:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'V':
            printf("kamratctl %s\n", KAMRAT_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "kamratctl: option %s needs an argument (try --help)\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "kamratctl: unknown option %s (try --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "kamratctl: missing command (try --help)\n");
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "check") != 0 || optind + 1 != argc) {
        fprintf(stderr, "kamratctl: unknown command %s (try --help)\n", cmd);
        return EXIT_USAGE;
    }

    char err[1024];
    struct config *cfg = config_load(path, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "kamratctl: %s\n", err);
        return EXIT_CONFIG;
    }
    int rc = 0;
    if (config_check_files(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "kamratctl: %s\n", err);
        rc = EXIT_CONFIG;
    } else {
        printf("configuration: %s ok\n", path);
        rc = check_database(cfg);
    }
    config_free(cfg);
    return rc;
}
