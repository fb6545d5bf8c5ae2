/*
 * encoding: HTTP content codings for the static web client. Makes the gzip
 * (zlib) and Brotli copies of a file, once, when the web root is loaded, and
 * picks the coding an answer goes out in from the request's Accept-Encoding
 * (RFC 9110 §12.5.3, q-values honoured).
 *
 * Only webroot's files are ever compressed: never an API answer or anything
 * carrying a secret, so a compression side channel (BREACH) has nothing to
 * reveal.
 *
 * Thread: any; no state.
 */
#ifndef KAMRAT_ENCODING_H
#define KAMRAT_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

/* In order of preference when a client accepts several equally: the
 * smaller first. */
enum encoding {
    ENCODING_BR,
    ENCODING_GZIP,
    ENCODING_IDENTITY,
    ENCODING_COUNT,
};

/* The Content-Encoding token ("br", "gzip"), or NULL for identity. */
const char *encoding_token(enum encoding e);

/*
 * Compress data[0..len) with e (ENCODING_BR or ENCODING_GZIP, at their
 * strongest: this runs once per file). Returns a new buffer the caller
 * frees, its length in *out_len; NULL when the copy would not be smaller
 * than the original (then serve the original).
 */
unsigned char *encoding_compress(enum encoding e, const unsigned char *data, size_t len,
                                 size_t *out_len);

/*
 * The coding to answer in, among those available (available[ENCODING_IDENTITY]
 * is always taken as true), for the Accept-Encoding value accept (NULL: the
 * request had none, which gets identity). The coding with the highest q
 * wins, ties by the order of enum encoding; a coding of q=0 is never chosen;
 * identity is acceptable unless excluded (identity;q=0, or *;q=0 without
 * identity named), and is the answer when nothing else is.
 */
enum encoding encoding_pick(const char *accept, const bool available[ENCODING_COUNT]);

#endif
