/*
 * klog: the daemon's log. One event per line on stderr, `key=value` after a
 * short event name, with `<N>` syslog priority prefixes when stderr is the
 * journal ($JOURNAL_STREAM set), so journald keeps the levels.
 *
 * Privacy: callers must never pass message text, pseudonyms, invite codes,
 * tokens or passwords. Log member ids and room-independent counters instead.
 *
 * Thread: any (each line is one write(2)).
 */
#ifndef KAMRAT_KLOG_H
#define KAMRAT_KLOG_H

enum klog_level { KLOG_ERROR, KLOG_WARN, KLOG_INFO, KLOG_DEBUG };

/* Read $JOURNAL_STREAM and set the level. Call once at start. */
void klog_init(enum klog_level level);
void klog_set_level(enum klog_level level);
enum klog_level klog_get_level(void);

/* Parse "error|warn|info|debug". Returns 0, or -1 when name is none of them. */
int klog_level_parse(const char *name, enum klog_level *out);

void klog_write(enum klog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define klog_error(...) klog_write(KLOG_ERROR, __VA_ARGS__)
#define klog_warn(...) klog_write(KLOG_WARN, __VA_ARGS__)
#define klog_info(...) klog_write(KLOG_INFO, __VA_ARGS__)
#define klog_debug(...) klog_write(KLOG_DEBUG, __VA_ARGS__)

/* Route libwebsockets' own log lines through klog at the matching level. */
void klog_hook_lws(void);

#endif
