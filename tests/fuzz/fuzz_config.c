/*
 * fuzz_config: bytes -> a file (memfd) -> config_load, the INI parser with
 * kamrat's key table, ranges and cross-key rules.
 *
 * Checks: a refused file has a message naming "file:line:" or the file; an
 * accepted one has every limit inside its documented range and the keys
 * config_load promises (origin and its host, TLS files when TLS is on).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_limits(const struct limits *l)
{
    assert(l->max_message_bytes >= 1024 && l->max_message_bytes <= 1048576);
    assert(l->max_fragments >= 1 && l->max_fragments <= 64);
    assert(l->max_text_chars >= 1 && l->max_name_chars >= 1);
    assert(l->history_size >= 16 && l->send_queue_frames >= 16);
    assert(l->rate_per_sec >= 1 && l->rate_burst >= 1);
    assert(l->hello_timeout >= 1 && l->ping_interval >= 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("kamrat.conf", MFD_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    /* Not assert(): these must run in NDEBUG builds too. */
    if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();

    char err[512] = "";
    struct config *c = config_load(path, err, sizeof(err));
    if (!c) {
        assert(err[0] != '\0');
        assert(strstr(err, path) != NULL);
        return 0;
    }
    check_limits(&c->limits);
    assert(c->origin && c->origin_host);
    assert(!c->tls || (c->tls_cert && c->tls_key));
    assert(c->port >= 1 && c->port <= 65535);
    config_free(c);
    return 0;
}
