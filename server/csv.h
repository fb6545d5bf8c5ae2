/*
 * csv: a CSV document made cell by cell (RFC 4180: comma separated, CRLF
 * line ends, a cell quoted when it holds a comma, a quote, CR or LF, a
 * quote doubled inside). A text cell that a spreadsheet would read as a
 * formula (it starts with =, +, -, @, a tab or CR) gets a leading
 * apostrophe first (OWASP "CSV injection"): names are user text.
 *
 * Thread: any; a struct csv belongs to its caller.
 */
#ifndef KAMRAT_CSV_H
#define KAMRAT_CSV_H

#include <stddef.h>
#include <stdint.h>

struct csv {
    char *buf; /* owned; NUL-terminated once anything was written */
    size_t len, cap;
    size_t cells; /* in the current row */
};

/* Append a text cell (UTF-8, as given, with the formula guard). */
void csv_text(struct csv *c, const char *text);
/* Append a number cell. */
void csv_int(struct csv *c, int64_t v);
/* Append an empty cell (a value that does not apply). */
void csv_empty(struct csv *c);
/* End the row (CRLF). */
void csv_row_end(struct csv *c);

/* The document (owned by the caller: free()), never NULL; c is empty again. */
char *csv_take(struct csv *c);

#endif
