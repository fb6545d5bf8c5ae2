/* qr: invite links as SVG QR codes (qr.h). */
#include "qr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "util.h"

/* The longest piece one run of dark modules adds: "M%d %dh%dv1h-%dz" with
 * numbers of at most 3 digits (version 40 is 177 modules wide). */
#define RUN_MAX 28

char *qr_svg(const char *text)
{
    if (!text || !*text)
        return NULL;
    QRcode *code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (!code)
        return NULL;
    int w = code->width, size = w + 2 * QR_QUIET;
    /* At most one run per two modules of a row, and the frame. */
    size_t cap = (size_t)w * (size_t)(w / 2 + 1) * RUN_MAX + 512;
    char *svg = xmalloc(cap);
    size_t n = (size_t)snprintf(svg, cap,
                                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                                "shape-rendering=\"crispEdges\">"
                                "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                                "<path fill=\"#000\" d=\"",
                                size, size, size, size);
    for (int y = 0; y < w; y++) {
        const unsigned char *row = code->data + (size_t)y * (size_t)w;
        for (int x = 0; x < w;) {
            if (!(row[x] & 1)) { /* bit 0: dark; the other bits say what the module is */
                x++;
                continue;
            }
            int run = 1;
            while (x + run < w && (row[x + run] & 1))
                run++;
            n += (size_t)snprintf(svg + n, cap - n, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET,
                                  run, run);
            x += run;
        }
    }
    n += (size_t)snprintf(svg + n, cap - n, "\"/></svg>");
    wipe(code->data, (size_t)w * (size_t)w);
    QRcode_free(code);
    return svg;
}
