#include "klog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

static enum klog_level current = KLOG_INFO;
static int journal;

static const char *const names[] = {"error", "warn", "info", "debug"};
/* syslog priorities: err, warning, info, debug */
static const int priorities[] = {3, 4, 6, 7};

void klog_init(enum klog_level level)
{
    journal = getenv("JOURNAL_STREAM") != NULL;
    current = level;
}

void klog_set_level(enum klog_level level)
{
    current = level;
}

enum klog_level klog_get_level(void)
{
    return current;
}

int klog_level_parse(const char *name, enum klog_level *out)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum klog_level)i;
            return 0;
        }
    }
    return -1;
}

static void vwrite_line(enum klog_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vwrite_line(enum klog_level level, const char *fmt, va_list ap)
{
    char line[1024];
    size_t n = 0;

    if (journal) {
        n += (size_t)snprintf(line, sizeof(line), "<%d>", priorities[level]);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n += strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
    }
    n += (size_t)snprintf(line + n, sizeof(line) - n, "%s ", names[level]);
    if (n < sizeof(line)) {
        int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        if (m > 0)
            n += (size_t)m;
    }
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    while (n > 0 && line[n - 1] == '\n')
        n--;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

void klog_write(enum klog_level level, const char *fmt, ...)
{
    if (level > current)
        return;
    va_list ap;
    va_start(ap, fmt);
    vwrite_line(level, fmt, ap);
    va_end(ap);
}

/* lws's info lines name request paths, and an invite link's path holds the
 * invite code: blank out whatever follows "/j/" before the line is kept. */
static void redact_invites(char *text)
{
    for (char *p = strstr(text, "/j/"); p; p = strstr(p, "/j/")) {
        p += 3;
        while (*p && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p))
            *p++ = '*';
    }
}

static void lws_emit(int lws_level, const char *line)
{
    enum klog_level level = KLOG_DEBUG;
    if (lws_level & LLL_ERR)
        level = KLOG_ERROR;
    else if (lws_level & LLL_WARN)
        level = KLOG_WARN;
    char text[512];
    snprintf(text, sizeof(text), "%.*s", (int)strcspn(line, "\n"), line);
    redact_invites(text);
    klog_write(level, "lws msg=\"%s\"", text);
}

void klog_hook_lws(void)
{
    /* lws notice/info lines are chatty and may carry peer details; keep
     * them at debug so the default log stays one line per kamrat event. */
    int mask = LLL_ERR | LLL_WARN;
    if (current >= KLOG_DEBUG)
        mask |= LLL_NOTICE | LLL_INFO;
    lws_set_log_level(mask, lws_emit);
}
