/*
 * kamratd: the kamrat chat server. Runs in the foreground (systemd, or a
 * terminal); never daemonizes, writes no pidfile.
 *
 * Exit codes follow sysexits: 0 ok, 64 usage, 78 configuration, 1 runtime.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "config.h"
#include "hmap.h"
#include "kamrat_build.h"
#include "klog.h"
#include "names.h"
#include "proto.h"
#include "server.h"

#define EXIT_USAGE 64
#define EXIT_CONFIG 78
#define DEFAULT_CONFIG "/etc/kamrat/kamrat.conf"

static void usage(FILE *out)
{
    fprintf(out, "usage: kamratd [-c FILE] [-t] [-v]... [-V] [-h]\n"
                 "\n"
                 "  -c, --config FILE    configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -t, --check-config   check the configuration, certificate and directories,\n"
                 "                       then exit 0, or 78 with file:line: what is wrong\n"
                 "  -v, --verbose        log more (once: debug, including libwebsockets)\n"
                 "  -V, --version        print the version and exit\n"
                 "  -h, --help           print this help and exit\n"
                 "\n"
                 "Signals: TERM/INT drain and exit; a second TERM exits at once;\n"
                 "HUP reloads the TLS certificate and key and the [safety] files;\n"
                 "USR1 turns debug logging on, and off again;\n"
                 "USR2 hands over to the kamratd binary on disk (a planned restart).\n");
}

/*
 * Memory holds message text, pseudonyms, tokens and the TLS key: no core
 * file may take them to disk, and no other process of the same user may
 * read them through ptrace or /proc/PID/mem. Not dumpable also makes the
 * kernel give /proc/PID/ to root. Returns 0, or -1 when either setting
 * failed (errno says why).
 */
static int no_core_dumps(void)
{
    const struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) < 0)
        return -1;
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
    int hardened = no_core_dumps();

    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *path = DEFAULT_CONFIG;
    int check = 0, verbose = 0, opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:tvVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            check = 1;
            break;
        case 'v':
            verbose++;
            break;
        case 'V':
            printf("kamratd %s\n", KAMRAT_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "kamratd: option %s needs an argument (try --help)\n",
                    argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "kamratd: unknown option %s (try --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kamratd: unexpected argument %s (try --help)\n", argv[optind]);
        return EXIT_USAGE;
    }

    char err[1024];
    struct config *cfg = config_load(path, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "kamratd: %s\n", err);
        return EXIT_CONFIG;
    }
    if (config_check_files(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "kamratd: %s\n", err);
        config_free(cfg);
        return EXIT_CONFIG;
    }
    if (check) {
        printf("kamratd: %s: configuration ok\n", path);
        config_free(cfg);
        return 0;
    }

    /* schedule.c swaps TZ while it computes local times; with TZ set from the
     * start each swap only changes a value, never the environment's layout,
     * which other threads may be reading. */
    setenv("TZ", ":/etc/localtime", 0);
    klog_init(verbose ? KLOG_DEBUG : cfg->log_level);
    klog_hook_lws();
    if (hardened < 0)
        klog_warn("hardening_failed reason=\"core dumps stay possible\"");
    else
        klog_debug("hardening core_limit=0 dumpable=%d", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    hmap_seed();
    proto_init();
    if (names_init() < 0) {
        klog_error("names_init_failed reason=\"ICU's spoof checker did not open\"");
        config_free(cfg);
        return 1;
    }

    struct server srv = {.cfg = cfg, .argv = argv};
    int rc = server_run(&srv);
    names_fini();
    config_free(cfg);
    return rc == 0 ? 0 : 1;
}
