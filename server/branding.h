/*
 * branding: the association's own look, from [branding] in kamrat.conf: its
 * name, a logo, an accent colour, a short welcome text and a contact line
 * for someone whose invite does not work.
 *
 * At start they become three public files of the web client, which webroot
 * serves as its own (ETag, compression, the versioned /v/ path):
 * - /branding.css: the accent as the CSS custom property --accent (the CSP
 *   allows no inline style);
 * - /branding.json: {"name", "welcome", "contact", "logo"} (null when not
 *   set; logo is the logo's path relative to the web root);
 * - /branding/logo.svg or /branding/logo.png, the logo file's bytes.
 * Nothing in them is secret: every visitor of any page gets them.
 *
 * The accent must keep the client readable: config_load refuses one that
 * fails WCAG 2.x AA (4.5:1 for normal text) in any of the ways web/css/app.css
 * uses --accent (branding_accent_check).
 *
 * Thread: any; only branding_files and branding_logo_check touch the
 * filesystem (start-up and `kamratd -t`).
 */
#ifndef KAMRAT_BRANDING_H
#define KAMRAT_BRANDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "webroot.h"

#define BRANDING_DEFAULT_NAME "kamrat"
#define BRANDING_NAME_MAX 80     /* characters */
#define BRANDING_WELCOME_MAX 600 /* characters */
#define BRANDING_CONTACT_MAX 200 /* characters */
#define BRANDING_LOGO_MAX 65536  /* bytes */
#define BRANDING_AA_RATIO 4.5    /* WCAG 2.x 1.4.3, normal text */
#define BRANDING_FILES 3         /* the most files branding_files makes */

/* [branding] as written; NULL where a key is not set. */
struct branding_config {
    char *name, *logo, *accent, *accent_dark, *welcome, *contact;
};

/* The WCAG 2.x contrast ratio of two sRGB colours 0xRRGGBB: 1 .. 21. */
double branding_contrast(uint32_t a, uint32_t b);

/* Parse "#rrggbb" (either case) into *rgb. Returns 0, or -1 for any other
 * shape. */
int branding_parse_colour(const char *s, uint32_t *rgb);

/*
 * Does accent rgb keep AA contrast wherever the client's light (dark: false)
 * or dark colour scheme uses --accent: white (dark scheme: near-black) text
 * on an accent button, and accent text (links, quiet buttons) on each
 * background it can stand on? Returns 0, or -1 with a sentence naming the
 * first use that fails and its ratio in why.
 */
int branding_accent_check(uint32_t rgb, bool dark, char *why, size_t whylen);

/* Is s at most max characters of UTF-8 with no control characters?
 * Returns 0, or -1 with the reason in why. */
int branding_text_check(const char *s, size_t max, char *why, size_t whylen);

/* Is the file at path a logo kamratd will serve: named *.svg or *.png, at
 * most BRANDING_LOGO_MAX bytes, and a PNG by its signature or an SVG by its
 * <svg element? Returns 0, or -1 with the reason in why. */
int branding_logo_check(const char *path, char *why, size_t whylen);

/*
 * Make the branding files for b (checked by config_load already) into
 * out[0..*n), reading the logo: each path and data new, for webroot_load,
 * which takes them over. Returns 0, or -1 with the reason in why when the
 * logo no longer passes branding_logo_check.
 */
int branding_files(const struct branding_config *b, struct webroot_extra out[BRANDING_FILES],
                   size_t *n, char *why, size_t whylen);

#endif
