/*
 * webroot: the static web client, loaded into memory at start.
 *
 * Every regular file under the web root (no dot-files, names of
 * A-Z a-z 0-9 . _ - only) is read once into a table keyed by its URL path.
 * Serving never touches the filesystem, so no request path can reach a
 * file that was not in the tree at start-up (no traversal, no symlink
 * games), and a request costs one hash lookup.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_WEBROOT_H
#define KAMRAT_WEBROOT_H

#include <stddef.h>

struct webroot;

struct webfile {
    char *path; /* "/js/app.js" */
    const char *mime;
    unsigned char *data;
    size_t len;
    int is_html;
};

/* Load the tree at dir. Returns NULL with a message in err on failure. */
struct webroot *webroot_load(const char *dir, char *err, size_t errlen);
void webroot_free(struct webroot *w);

/* The file for a URL path ("/" means "/index.html"), or NULL. */
const struct webfile *webroot_find(const struct webroot *w, const char *path);

size_t webroot_count(const struct webroot *w);

#endif
