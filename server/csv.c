#include "csv.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void put(struct csv *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        c->cap = (c->len + n + 1) * 2;
        c->buf = xrealloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

static void cell_start(struct csv *c)
{
    if (c->cells++)
        put(c, ",", 1);
}

void csv_text(struct csv *c, const char *text)
{
    cell_start(c);
    bool quote = strpbrk(text, ",\"\r\n") != NULL;
    if (quote)
        put(c, "\"", 1);
    if (text[0] && strchr("=+-@\t\r", text[0]))
        put(c, "'", 1); /* read as text, not as a formula */
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            put(c, "\"\"", 2);
        else
            put(c, p, 1);
    }
    if (quote)
        put(c, "\"", 1);
}

void csv_int(struct csv *c, int64_t v)
{
    char n[24];
    cell_start(c);
    put(c, n, (size_t)snprintf(n, sizeof(n), "%" PRId64, v));
}

void csv_empty(struct csv *c)
{
    cell_start(c);
}

void csv_row_end(struct csv *c)
{
    put(c, "\r\n", 2);
    c->cells = 0;
}

char *csv_take(struct csv *c)
{
    char *doc = c->buf ? c->buf : xstrdup("");
    *c = (struct csv){0};
    return doc;
}
