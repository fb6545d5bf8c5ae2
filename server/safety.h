/*
 * safety: the installation's crisis resources and risk words
 * (protocol/README.md §4a, §8 [safety]).
 *
 * Crisis resources are read from a JSON file, checked, and kept as one
 * compact JSON object text that every welcome embeds as is. Risk words are
 * read per language and matched case-insensitively (ASCII and Latin-1 /
 * Latin Extended-A letters folded) as substrings of a message; a match only
 * raises an alert, it never blocks anything.
 *
 * Loaded at start and on SIGHUP (a new struct replaces the old one, so a bad
 * file leaves the running settings alone). Thread: the lws thread.
 */
#ifndef KAMRAT_SAFETY_H
#define KAMRAT_SAFETY_H

#include <stdbool.h>
#include <stddef.h>

struct safety;

#define SAFETY_ENTRIES_MAX 10 /* crisis entries per language */
#define SAFETY_STRING_MAX 200 /* code points per crisis string */
#define SAFETY_WORDS_MAX 200  /* risk words per language */
#define SAFETY_WORD_MIN 2     /* code points */
#define SAFETY_WORD_MAX 40

/*
 * Read the files (either path may be NULL or "": none). Returns 0 with *out,
 * or -1 with err saying which file and what is wrong ("crisis_file: fi[2]:
 * url must start with https://").
 */
int safety_load(const char *crisis_file, const char *risk_words_file, struct safety **out,
                char *err, size_t errlen);

/* safety_free(NULL) is a no-op. */
void safety_free(struct safety *s);

/* The crisis resources as a compact JSON object ({"fi":[...],...}); "{}"
 * when none are configured or s is NULL. */
const char *safety_crisis_json(const struct safety *s);

/* Does the UTF-8 text (len bytes, valid) contain a risk word of any
 * language? False when s is NULL. */
bool safety_risky(const struct safety *s, const char *text, size_t len);

#endif
