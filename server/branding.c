#include "branding.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"
#include "util.h"

/* Where web/css/app.css puts --accent, with the colours it meets there. Keep
 * these in step with app.css's :root and its dark scheme. */
struct use {
    const char *what;
    uint32_t other;
};

static const struct use light_uses[] = {
    {"white button text (--on-accent) on the accent", 0xffffff},
    {"accent text on the page background (--bg)", 0xf7f7f4},
    {"accent text on a card (--surface)", 0xffffff},
    {"accent text on one's own message (--own)", 0xe6f0f7},
    {"accent text on a notice (--notice)", 0xfbf5e3},
    {"accent text on an alert (--alert)", 0xfde8e4},
};

static const struct use dark_uses[] = {
    {"dark button text (--on-accent) on the accent", 0x0c1620},
    {"accent text on the page background (--bg)", 0x16181a},
    {"accent text on a card (--surface)", 0x1f2225},
    {"accent text on one's own message (--own)", 0x1d3140},
    {"accent text on a notice (--notice)", 0x2b2718},
    {"accent text on an alert (--alert)", 0x3a211c},
};

/* WCAG 2.x relative luminance: each sRGB channel linearised, then weighted. */
static double luminance(uint32_t rgb)
{
    static const double weight[3] = {0.2126, 0.7152, 0.0722};
    double l = 0;
    for (int i = 0; i < 3; i++) {
        double c = (double)((rgb >> (16 - 8 * i)) & 0xff) / 255.0;
        c = c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
        l += weight[i] * c;
    }
    return l;
}

double branding_contrast(uint32_t a, uint32_t b)
{
    double la = luminance(a), lb = luminance(b);
    return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

int branding_parse_colour(const char *s, uint32_t *rgb)
{
    if (strlen(s) != 7 || s[0] != '#' || strspn(s + 1, "0123456789abcdefABCDEF") != 6)
        return -1;
    *rgb = (uint32_t)strtoul(s + 1, NULL, 16);
    return 0;
}

int branding_accent_check(uint32_t rgb, bool dark, char *why, size_t whylen)
{
    const struct use *uses = dark ? dark_uses : light_uses;
    size_t n = dark ? ARRAY_LEN(dark_uses) : ARRAY_LEN(light_uses);
    for (size_t i = 0; i < n; i++) {
        double ratio = branding_contrast(rgb, uses[i].other);
        /* Truncated, not rounded: 4.49 must not pass as 4.5. */
        if (ratio < BRANDING_AA_RATIO) {
            snprintf(why, whylen,
                     "#%06x fails WCAG AA contrast for %s (#%06x): %.2f:1, needs %.1f:1", rgb,
                     uses[i].what, uses[i].other, floor(ratio * 100) / 100, BRANDING_AA_RATIO);
            return -1;
        }
    }
    return 0;
}

int branding_text_check(const char *s, size_t max, char *why, size_t whylen)
{
    size_t len = strlen(s);
    if (!proto_utf8_valid(s, len)) {
        snprintf(why, whylen, "not UTF-8");
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* C0 and DEL, and C1 (U+0080..U+009F: C2 80..C2 9F in UTF-8). */
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
            snprintf(why, whylen, "holds a control character");
            return -1;
        }
    }
    if (proto_utf8_count(s, len) > max) {
        snprintf(why, whylen, "longer than %zu characters", max);
        return -1;
    }
    return 0;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Read the logo at path into a new buffer, checked. Returns it with *len
 * and *png, or NULL with why. */
static unsigned char *read_logo(const char *path, size_t *len, bool *png, char *why, size_t whylen)
{
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *png = ends_with(path, ".png");
    if (!*png && !ends_with(path, ".svg")) {
        snprintf(why, whylen, "%s: name it *.svg or *.png", path);
        return NULL;
    }
    char *data = util_read_file(path, BRANDING_LOGO_MAX, len);
    if (!data) {
        snprintf(why, whylen, "%s: %s", path,
                 errno == EFBIG ? "larger than 65536 bytes" : strerror(errno));
        return NULL;
    }
    bool ok = *png ? *len >= sizeof(png_magic) && memcmp(data, png_magic, sizeof(png_magic)) == 0
                   : strlen(data) == *len && strstr(data, "<svg") != NULL;
    if (!ok) {
        snprintf(why, whylen, "%s: not %s", path, *png ? "a PNG image" : "an SVG image");
        free(data);
        return NULL;
    }
    return (unsigned char *)data;
}

int branding_logo_check(const char *path, char *why, size_t whylen)
{
    size_t len;
    bool png;
    unsigned char *data = read_logo(path, &len, &png, why, whylen);
    free(data);
    return data ? 0 : -1;
}

static void add(struct webroot_extra *out, size_t *n, const char *path, void *data, size_t len)
{
    out[*n] = (struct webroot_extra){xstrdup(path), data, len};
    (*n)++;
}

int branding_files(const struct branding_config *b, struct webroot_extra out[BRANDING_FILES],
                   size_t *n, char *why, size_t whylen)
{
    *n = 0;
    const char *logo_path = NULL;
    if (b->logo) {
        size_t len;
        bool png;
        unsigned char *logo = read_logo(b->logo, &len, &png, why, whylen);
        if (!logo)
            return -1;
        logo_path = png ? "branding/logo.png" : "branding/logo.svg";
        add(out, n, png ? "/branding/logo.png" : "/branding/logo.svg", logo, len);
    }

    /* Each scheme keeps app.css's own accent unless one is set for it: a
     * colour that passes AA on white cannot pass it on the dark background. */
    char css[256];
    int len = snprintf(css, sizeof(css), "/* [branding] in kamrat.conf */\n");
    if (b->accent)
        len += snprintf(css + len, sizeof(css) - (size_t)len,
                        "@media not (prefers-color-scheme: dark) { :root { --accent: %s; } }\n",
                        b->accent);
    if (b->accent_dark)
        len += snprintf(css + len, sizeof(css) - (size_t)len,
                        "@media (prefers-color-scheme: dark) { :root { --accent: %s; } }\n",
                        b->accent_dark);
    add(out, n, "/branding.css", xstrdup(css), (size_t)len);

    json_t *doc =
        json_pack("{s:s, s:s?, s:s?, s:s?}", "name", b->name ? b->name : BRANDING_DEFAULT_NAME,
                  "welcome", b->welcome, "contact", b->contact, "logo", logo_path);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        abort(); /* out of memory: the texts were checked to be UTF-8 */
    add(out, n, "/branding.json", text, strlen(text));
    return 0;
}
