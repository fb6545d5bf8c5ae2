/*
 * webroot: the static web client, loaded into memory at start.
 *
 * Every regular file under the web root (no dot-files, names of
 * A-Z a-z 0-9 . _ - only) is read once into a table keyed by its URL path.
 * Serving never touches the filesystem, so no request path can reach a
 * file that was not in the tree at start-up (no traversal, no symlink
 * games), and a request costs one hash lookup.
 *
 * Made once at load, so a repeat visit costs next to nothing:
 * - each file's strong validator (ETag) from the SHA-256 of its bytes, one
 *   for each coding;
 * - its gzip and Brotli copies, where they are smaller, for every text
 *   file, the HTML included (encoding.h; webroot.c says why that is safe);
 * - the tree's version, a hash of every file: the same files are also
 *   served under /v/<version>/, which never changes for a version, so
 *   browsers keep them without asking again ("immutable"). The HTML's
 *   references to files of the tree are rewritten to that prefix; the ES
 *   modules' relative imports follow it by themselves.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_WEBROOT_H
#define KAMRAT_WEBROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "encoding.h"

struct webroot;

#define WEBROOT_ETAG_MAX 48 /* "<32 hex digits>-br" with quotes and NUL */

/* One coding of a file: data is NULL when the coding is not kept. */
struct webrep {
    unsigned char *data;
    size_t len;
    char etag[WEBROOT_ETAG_MAX]; /* quoted, as the header carries it */
};

struct webfile {
    char *path; /* "/js/app.js" */
    const char *mime;
    int is_html;
    bool is_document;                  /* may be shown as a page: HTML, SVG (webroot.c) */
    struct webrep rep[ENCODING_COUNT]; /* rep[ENCODING_IDENTITY] always set */
};

/* A file made in memory and served as if it were in the tree (branding.h):
 * path "/name.ext" (the extension gives its type), data and len. */
struct webroot_extra {
    char *path;
    void *data;
    size_t len;
};

/* Load the tree at dir, with the n files of extra beside its own (a path
 * the tree holds already is an error). Takes over each extra's path and
 * data, also on failure. Returns NULL with a message in err on failure. */
struct webroot *webroot_load(const char *dir, struct webroot_extra *extra, size_t n, char *err,
                             size_t errlen);
void webroot_free(struct webroot *w);

/*
 * The file for a URL path ("/" means "/index.html"), or NULL. A path under
 * /v/<version>/ names the file after the prefix; *immutable is set when the
 * version is this tree's (the answer may be cached for good) and cleared
 * otherwise (an older page asking after an upgrade gets today's file, to be
 * checked again).
 */
const struct webfile *webroot_find(const struct webroot *w, const char *path, bool *immutable);

/* Whether each coding of f is kept, for encoding_pick. */
void webroot_codings(const struct webfile *f, bool out[ENCODING_COUNT]);

size_t webroot_count(const struct webroot *w);

#endif
