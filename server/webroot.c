#include "webroot.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hmap.h"
#include "util.h"

#define MAX_FILES 1024
#define MAX_TOTAL (16u << 20) /* bytes: the client is meant to be small */
#define MAX_DEPTH 8

struct webroot {
    struct hmap *files;
    size_t total;
};

static const struct {
    const char *ext, *mime;
} mimes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

static const char *mime_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < ARRAY_LEN(mimes); i++) {
        if (strcmp(dot, mimes[i].ext) == 0)
            return mimes[i].mime;
    }
    return "application/octet-stream";
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
    free(f->data);
    free(f);
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
        f->data = (unsigned char *)util_read_file(fs, MAX_TOTAL, &f->len);
        if (!f->data) {
            snprintf(err, errlen, "web_root %s: %s", fs, strerror(errno));
            free(f);
            rc = -1;
            break;
        }
        f->path = xstrdup(path);
        f->mime = mime_of(e->d_name);
        f->is_html = strncmp(f->mime, "text/html", 9) == 0;
        w->total += f->len;
        hmap_put(w->files, f->path, strlen(f->path), f);
    }
    closedir(d);
    return rc;
}

struct webroot *webroot_load(const char *dir, char *err, size_t errlen)
{
    struct webroot *w = xcalloc(1, sizeof(*w));
    w->files = hmap_new();
    if (load_dir(w, dir, "", 0, err, errlen) < 0) {
        webroot_free(w);
        return NULL;
    }
    return w;
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

const struct webfile *webroot_find(const struct webroot *w, const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    return hmap_get(w->files, path, strlen(path));
}

size_t webroot_count(const struct webroot *w)
{
    return hmap_count(w->files);
}
