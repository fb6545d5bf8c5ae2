#include "encoding.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/encode.h>
#include <zlib.h>

#include "util.h"

const char *encoding_token(enum encoding e)
{
    switch (e) {
    case ENCODING_BR:
        return "br";
    case ENCODING_GZIP:
        return "gzip";
    default:
        return NULL;
    }
}

static unsigned char *gzip(const unsigned char *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* windowBits 15 + 16: a gzip wrapper, as Content-Encoding: gzip means. */
    if (len > UINT32_MAX ||
        deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, (uLong)len);
    unsigned char *out = xmalloc(cap);
    z.next_in = (unsigned char *)(uintptr_t)data; /* zlib's API is not const */
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

static unsigned char *brotli(const unsigned char *data, size_t len, size_t *out_len)
{
    size_t cap = BrotliEncoderMaxCompressedSize(len);
    if (cap == 0)
        return NULL;
    unsigned char *out = xmalloc(cap);
    *out_len = cap;
    if (!BrotliEncoderCompress(BROTLI_MAX_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, len,
                               data, out_len, out)) {
        free(out);
        return NULL;
    }
    return out;
}

unsigned char *encoding_compress(enum encoding e, const unsigned char *data, size_t len,
                                 size_t *out_len)
{
    unsigned char *out = e == ENCODING_BR     ? brotli(data, len, out_len)
                         : e == ENCODING_GZIP ? gzip(data, len, out_len)
                                              : NULL;
    if (out && *out_len >= len) {
        free(out);
        out = NULL;
    }
    return out;
}

/* A q-value ("1", "0.5", "1.000"; RFC 9110 §12.4.2) in thousandths, or -1
 * when it is not one. */
static int parse_q(const char *p, size_t n)
{
    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    int q = (p[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (p[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        q += (p[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* One element of the list, "token[;param]*" at p[0..n): its token in
 * *tok and *tok_len and its q in thousandths (1000 when not given, -1 when
 * malformed). */
static int element_q(const char *p, size_t n, const char **tok, size_t *tok_len)
{
    size_t i = 0;
    while (i < n && is_ows(p[i]))
        i++;
    *tok = p + i;
    while (i < n && p[i] != ';' && !is_ows(p[i]))
        i++;
    *tok_len = (size_t)(p + i - *tok);
    int q = 1000;
    while (i < n) { /* parameters: only q counts */
        while (i < n && (is_ows(p[i]) || p[i] == ';'))
            i++;
        size_t start = i;
        while (i < n && p[i] != ';')
            i++;
        size_t end = i;
        while (end > start && is_ows(p[end - 1]))
            end--;
        if (end - start >= 2 && (p[start] == 'q' || p[start] == 'Q') && p[start + 1] == '=')
            q = parse_q(p + start + 2, end - start - 2);
    }
    return q;
}

enum encoding encoding_pick(const char *accept, const bool available[ENCODING_COUNT])
{
    if (!accept)
        return ENCODING_IDENTITY;
    static const char *const names[ENCODING_COUNT] = {"br", "gzip", "identity"};
    int q[ENCODING_COUNT] = {-1, -1, -1}; /* -1: not named */
    int star = -1;
    for (const char *p = accept; *p;) {
        size_t n = strcspn(p, ",");
        const char *tok;
        size_t tl;
        int eq = element_q(p, n, &tok, &tl);
        if (eq >= 0) {
            if (tl == 1 && tok[0] == '*')
                star = eq;
            for (int e = 0; e < ENCODING_COUNT; e++) {
                bool named = (tl == strlen(names[e]) && strncasecmp(tok, names[e], tl) == 0) ||
                             (e == ENCODING_GZIP && tl == 6 && strncasecmp(tok, "x-gzip", 6) == 0);
                if (named && eq > q[e])
                    q[e] = eq;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
    for (int e = 0; e < ENCODING_COUNT; e++) {
        if (q[e] < 0) /* not named: '*' speaks for it; identity is fine by default */
            q[e] = star >= 0 ? star : e == ENCODING_IDENTITY ? 1 : 0;
    }
    enum encoding best = ENCODING_IDENTITY;
    int best_q = 0;
    for (int e = 0; e < ENCODING_COUNT; e++) {
        if ((available[e] || e == ENCODING_IDENTITY) && q[e] > best_q) {
            best = (enum encoding)e;
            best_q = q[e];
        }
    }
    return best;
}
