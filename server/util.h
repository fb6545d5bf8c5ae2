/*
 * util: allocation wrappers that abort on out-of-memory, time helpers and
 * small string helpers shared by every module.
 *
 * Limits bound every allocation kamratd makes, so running out of memory is
 * a bug or a host problem, never an input: like Redis and h2o we abort
 * rather than grow untestable error paths after every malloc.
 *
 * Thread: any. Never blocks.
 */
#ifndef KAMRAT_UTIL_H
#define KAMRAT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Return a new block; abort the process when memory is exhausted. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Overwrite n bytes at p so the compiler cannot drop it (OPENSSL_cleanse). */
void wipe(void *p, size_t n);

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and rates. */
uint64_t util_now_ms(void);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME): for `ts` fields only. */
uint64_t util_wall_ms(void);

/* Read a whole file into a new NUL-terminated buffer; *len gets its size.
 * Returns NULL with errno set on failure. The caller frees the buffer. */
char *util_read_file(const char *path, size_t max, size_t *len);

#endif
