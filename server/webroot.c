#include "webroot.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "hmap.h"
#include "util.h"

#define MAX_FILES 1024
#define MAX_TOTAL (16u << 20) /* bytes: the client is meant to be small */
#define MAX_DEPTH 8
#define VERSION_HEX 16 /* 64 bits of the tree's hash name a version */
#define ETAG_HEX 32    /* 128 bits of a file's hash make its validator */

struct webroot {
    struct hmap *files;
    size_t total;
    char version[VERSION_HEX + 1];
};

/* compress: text. The others are compressed already. The HTML is
 * compressed too: BREACH (a secret guessed from the sizes of compressed
 * answers) needs an answer that holds a secret and also reflects what an
 * attacker sends, and every file here is the same public bytes for every
 * request, read at start: no token, invite code, name or request input is
 * ever in one (tokens and codes stay in the URL, the WebSocket and memory).
 * Scanners such as testssl.sh still report "BREACH potentially vulnerable"
 * for any compressed page; docs/admin.md answers that finding.
 * document: a type a browser may show as a page of its own, where scripts
 * could run (an SVG opened by its URL runs its scripts): it carries the
 * page's security headers (http.c), the other files only those that apply
 * to a sub-resource. */
static const struct {
    const char *ext, *mime;
    bool compress, document;
} mimes[] = {
    {".html", "text/html; charset=utf-8", true, true},
    {".js", "text/javascript; charset=utf-8", true, false},
    {".mjs", "text/javascript; charset=utf-8", true, false},
    {".css", "text/css; charset=utf-8", true, false},
    {".json", "application/json", true, false},
    {".svg", "image/svg+xml", true, true},
    {".png", "image/png", false, false},
    {".ico", "image/x-icon", true, false},
    {".woff2", "font/woff2", false, false},
    {".txt", "text/plain; charset=utf-8", true, false},
    {".webmanifest", "application/manifest+json", true, false},
};

static size_t mime_index(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < ARRAY_LEN(mimes); i++) {
        if (strcmp(dot, mimes[i].ext) == 0)
            return i;
    }
    return ARRAY_LEN(mimes);
}

static int name_ok(const char *n)
{
    if (n[0] == '.' || !n[0])
        return 0;
    for (; *n; n++) {
        char c = *n;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static void file_free(struct webfile *f)
{
    free(f->path);
    for (int e = 0; e < ENCODING_COUNT; e++)
        free(f->rep[e].data);
    free(f);
}

/* Take f, whose path and bytes are set, into the table, its type by its
 * name. */
static void keep(struct webroot *w, struct webfile *f)
{
    size_t m = mime_index(f->path);
    f->mime = m < ARRAY_LEN(mimes) ? mimes[m].mime : "application/octet-stream";
    f->is_html = strncmp(f->mime, "text/html", 9) == 0;
    /* A type of no known kind could be sniffed into a page: a document. */
    f->is_document = m < ARRAY_LEN(mimes) ? mimes[m].document : true;
    w->total += f->rep[ENCODING_IDENTITY].len;
    hmap_put(w->files, f->path, strlen(f->path), f);
}

static int load_dir(struct webroot *w, const char *dir, const char *url, int depth, char *err,
                    size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "web_root %s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!name_ok(e->d_name))
            continue;
        char fs[4096], path[1024];
        snprintf(fs, sizeof(fs), "%s/%s", dir, e->d_name);
        snprintf(path, sizeof(path), "%s/%s", url, e->d_name);
        struct stat st;
        if (lstat(fs, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < MAX_DEPTH)
                rc = load_dir(w, fs, path, depth + 1, err, errlen);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue; /* symlinks and devices are not served */
        if (hmap_count(w->files) >= MAX_FILES || w->total + (size_t)st.st_size > MAX_TOTAL) {
            snprintf(err, errlen, "web_root %s: more than %d files or %u bytes", dir, MAX_FILES,
                     MAX_TOTAL);
            rc = -1;
            break;
        }
        struct webfile *f = xcalloc(1, sizeof(*f));
        struct webrep *id = &f->rep[ENCODING_IDENTITY];
        id->data = (unsigned char *)util_read_file(fs, MAX_TOTAL, &id->len);
        if (!id->data) {
            snprintf(err, errlen, "web_root %s: %s", fs, strerror(errno));
            free(f);
            rc = -1;
            break;
        }
        f->path = xstrdup(path);
        keep(w, f);
    }
    closedir(d);
    return rc;
}

static void hex(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

static int by_path(const void *a, const void *b)
{
    return strcmp((*(struct webfile *const *)a)->path, (*(struct webfile *const *)b)->path);
}

/* The files sorted by path, so the version does not depend on the order
 * the directory listed them in. The caller frees the array. */
static struct webfile **sorted_files(const struct webroot *w, size_t *n)
{
    *n = hmap_count(w->files);
    struct webfile **all = xcalloc(*n ? *n : 1, sizeof(*all));
    size_t pos = 0, i = 0;
    struct webfile *f;
    while ((f = hmap_next(w->files, &pos)) != NULL)
        all[i++] = f;
    qsort(all, *n, sizeof(*all), by_path);
    return all;
}

/* The tree's version: SHA-256 over every path and its bytes. Returns 0, or
 * -1 when OpenSSL fails. */
static int make_version(struct webroot *w, struct webfile **all, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t i = 0; ok && i < n; i++) {
        const struct webrep *id = &all[i]->rep[ENCODING_IDENTITY];
        ok = EVP_DigestUpdate(ctx, all[i]->path, strlen(all[i]->path) + 1) &&
             EVP_DigestUpdate(ctx, &id->len, sizeof(id->len)) &&
             EVP_DigestUpdate(ctx, id->data, id->len);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= VERSION_HEX / 2;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    hex(md, VERSION_HEX / 2, w->version);
    return 0;
}

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

/* In an HTML file, point src="/x" and href="/x" at /v/<version>/x when /x
 * is a file of the tree, so the browser may keep it for good. */
static void rewrite_html(const struct webroot *w, struct webfile *f)
{
    static const char *const attrs[] = {" src=\"/", " href=\"/"};
    struct webrep *id = &f->rep[ENCODING_IDENTITY];
    struct buf out = {0};
    size_t i = 0;
    while (i < id->len) {
        size_t alen = 0;
        for (size_t a = 0; a < ARRAY_LEN(attrs) && !alen; a++) {
            size_t n = strlen(attrs[a]);
            if (id->len - i >= n && memcmp(id->data + i, attrs[a], n) == 0)
                alen = n - 1; /* up to the slash */
        }
        if (!alen) {
            put(&out, id->data + i++, 1);
            continue;
        }
        const unsigned char *path = id->data + i + alen;
        const unsigned char *quote = memchr(path, '"', id->len - i - alen);
        put(&out, id->data + i, alen);
        i += alen;
        if (quote && hmap_get(w->files, path, (size_t)(quote - path))) {
            put(&out, "/v/", 3);
            put(&out, w->version, VERSION_HEX);
        }
    }
    free(id->data);
    id->data = out.p;
    id->len = out.len;
}

/* Each coding's validator and the compressed copies. Returns 0, or -1 when
 * OpenSSL fails. */
static int prepare(struct webfile *f)
{
    static const char *const suffix[ENCODING_COUNT] = {"-br", "-gz", ""};
    struct webrep *id = &f->rep[ENCODING_IDENTITY];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(id->data, id->len, md, &mdlen, EVP_sha256(), NULL) || mdlen < ETAG_HEX / 2)
        return -1;
    char digest[ETAG_HEX + 1];
    hex(md, ETAG_HEX / 2, digest);
    size_t m = mime_index(f->path);
    bool compress = m < ARRAY_LEN(mimes) && mimes[m].compress;
    for (int e = 0; e < ENCODING_COUNT; e++) {
        struct webrep *r = &f->rep[e];
        if (e != ENCODING_IDENTITY && compress)
            r->data = encoding_compress((enum encoding)e, id->data, id->len, &r->len);
        if (r->data)
            snprintf(r->etag, sizeof(r->etag), "\"%s%s\"", digest, suffix[e]);
    }
    return 0;
}

static void free_extras(struct webroot_extra *extra, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++) {
        free(extra[i].path);
        free(extra[i].data);
    }
}

/* Take over the extra files; they count against the tree's limits as its
 * own do. Returns 0, or -1 with err (the rest are freed). */
static int add_extra(struct webroot *w, struct webroot_extra *extra, size_t n, char *err,
                     size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (hmap_get(w->files, extra[i].path, strlen(extra[i].path))) {
            snprintf(err, errlen, "web_root has a file of its own at %s", extra[i].path);
        } else if (hmap_count(w->files) >= MAX_FILES || w->total + extra[i].len > MAX_TOTAL) {
            snprintf(err, errlen, "web_root: more than %d files or %u bytes", MAX_FILES, MAX_TOTAL);
        } else {
            struct webfile *f = xcalloc(1, sizeof(*f));
            f->path = extra[i].path;
            f->rep[ENCODING_IDENTITY].data = extra[i].data;
            f->rep[ENCODING_IDENTITY].len = extra[i].len;
            keep(w, f);
            continue;
        }
        free_extras(extra, i, n);
        return -1;
    }
    return 0;
}

struct webroot *webroot_load(const char *dir, struct webroot_extra *extra, size_t n_extra,
                             char *err, size_t errlen)
{
    struct webroot *w = xcalloc(1, sizeof(*w));
    w->files = hmap_new();
    if (load_dir(w, dir, "", 0, err, errlen) < 0) {
        free_extras(extra, 0, n_extra);
        goto fail;
    }
    if (add_extra(w, extra, n_extra, err, errlen) < 0)
        goto fail;
    size_t n;
    struct webfile **all = sorted_files(w, &n);
    int rc = make_version(w, all, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (all[i]->is_html)
            rewrite_html(w, all[i]);
        rc = prepare(all[i]);
    }
    free(all);
    if (rc < 0) {
        snprintf(err, errlen, "web_root %s: cannot hash the files (OpenSSL)", dir);
        goto fail;
    }
    return w;
fail:
    webroot_free(w);
    return NULL;
}

void webroot_free(struct webroot *w)
{
    if (!w)
        return;
    size_t pos = 0;
    struct webfile *f;
    while ((f = hmap_next(w->files, &pos)) != NULL)
        file_free(f);
    hmap_free(w->files);
    free(w);
}

const struct webfile *webroot_find(const struct webroot *w, const char *path, bool *immutable)
{
    *immutable = false;
    if (strncmp(path, "/v/", 3) == 0) {
        const char *rest = strchr(path + 3, '/');
        if (!rest)
            return NULL;
        *immutable = (size_t)(rest - path - 3) == VERSION_HEX &&
                     memcmp(path + 3, w->version, VERSION_HEX) == 0;
        path = rest;
    }
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    return hmap_get(w->files, path, strlen(path));
}

void webroot_codings(const struct webfile *f, bool out[ENCODING_COUNT])
{
    for (int e = 0; e < ENCODING_COUNT; e++)
        out[e] = f->rep[e].data != NULL;
}

size_t webroot_count(const struct webroot *w)
{
    return hmap_count(w->files);
}
