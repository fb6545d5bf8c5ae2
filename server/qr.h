/*
 * qr: a QR code of a short text (an invite link) as an SVG document, made by
 * Debian's libqrencode. Runs on whichever thread calls it (the console's
 * store worker); keeps no state.
 *
 * The SVG is a plain picture, safe to insert into a page as parsed SVG: one
 * light rect and one dark path, presentation attributes only (no script, no
 * style attribute, no link), a quiet zone of four modules all round.
 */
#ifndef KAMRAT_QR_H
#define KAMRAT_QR_H

#include <stddef.h>

#define QR_QUIET 4 /* modules of light margin on each side, as ISO/IEC 18004 asks */

/* The SVG of text at error correction level M: a NUL-terminated string the
 * caller owns (and, as it holds the text in another form, wipes before it
 * frees: wipe(svg, strlen(svg))), or NULL when text is empty or too long
 * for any QR version. */
char *qr_svg(const char *text);

#endif
