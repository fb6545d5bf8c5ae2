/*
 * names: what a pseudonym may be, and when two names are the same
 * (protocol/README.md §4, "Pseudonym rules").
 *
 * A name is refused (names_check) for a character that shows nothing or
 * steers the text around it (controls, Bidi_Control, General_Category Cf,
 * Default_Ignorable_Code_Point), for white space at either end, for its
 * length, and when ICU's spoof checker (Unicode TS #39) finds it mixes
 * scripts beyond the moderately restrictive level, mixes digit systems or
 * hides a mark. Two names are the same when one of their keys (names_key)
 * matches: TS #39 confusable skeletons of the name as it is, case-folded,
 * and in capitals, so "Aino", "aino", "ΑΙΝΟ" (Greek), "Аіnо" and "Ａｉｎｏ"
 * look alike to the room, as do "Ilkka" and "llkka".
 *
 * ICU's checker is opened once by names_init and only read afterwards, so
 * every function here may run on any thread after that. Names are
 * pseudonyms: nothing here logs them, and keys are wiped when cleared.
 */
#ifndef KAMRAT_NAMES_H
#define KAMRAT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum names_err {
    NAMES_OK = 0,
    NAMES_E_LENGTH = -1, /* empty, or over the limit (as sent or in NFC) */
    NAMES_E_CHAR = -2,   /* a forbidden character, or bytes that are not UTF-8 */
    NAMES_E_SCRIPT = -3, /* mixed scripts or digit systems, a hidden mark */
    NAMES_E_ICU = -4,    /* ICU failed (its data missing, out of memory) */
};

const char *names_strerror(int e);

/* Open and configure ICU's spoof checker. 0, or NAMES_E_ICU. Call once at
 * start, before any other names_* function. */
int names_init(void);

/* Close the checker and let ICU free its caches (u_cleanup), so a leak
 * checker sees nothing left. A no-op when names_init was not called. */
void names_fini(void);

/* May s (len bytes) be a pseudonym of at most max_chars code points?
 * NAMES_OK or a negative enum names_err. */
int names_check(const char *s, size_t len, uint32_t max_chars);

/* What a room keeps and shows of a name: its NFC form, in a new string
 * (free it; wipe it first, it is a pseudonym). NULL when ICU fails. */
char *names_nfc(const char *s, size_t len);

/* The comparison keys of one name, owned (names_key_clear). */
struct names_key {
    char *shown;   /* skeleton of the NFKC name: "Ilkka" is "llkka" */
    char *folded;  /* skeleton of the NFKC case-folded name: "rn" is "m", "AINO" is "aino" */
    char *capital; /* skeleton of the folded name in capitals: Greek "ΑΙΝΟ" is "AINO" */
};

/* Fill k with the keys of s (len bytes of UTF-8). 0, or NAMES_E_ICU with k
 * zeroed. */
int names_key(const char *s, size_t len, struct names_key *k);

/* Wipe and free k's strings; k is zeroed. Safe on a zeroed k. */
void names_key_clear(struct names_key *k);

/* Do the names behind a and b look the same (either key matches)? */
bool names_same(const struct names_key *a, const struct names_key *b);

#endif
