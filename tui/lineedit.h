/* lineedit.h: a one-line text editor (form fields, the `:` command line, the `/` filter).
 * Holds UTF-8 text; the cursor is a byte offset on a character boundary. */
#ifndef GANTRY_LINEEDIT_H
#define GANTRY_LINEEDIT_H

#include <stddef.h>

#define LINEEDIT_MAX 512

struct lineedit {
	char buf[LINEEDIT_MAX]; /* NUL-terminated */
	size_t len;             /* bytes */
	size_t cur;             /* cursor, bytes from the start */
};

/* Replaces the text and puts the cursor at its end. */
void lineedit_set(struct lineedit *l, const char *s);
/* Applies an editing key (a character to insert, Backspace, Delete, Left, Right, Home, End,
 * ^A, ^E, ^U, ^K, ^W). ascii: refuse non-ASCII characters. Returns 1 when the text changed,
 * 0 when only the cursor moved or nothing happened, -1 when the key is not an editing key. */
int lineedit_key(struct lineedit *l, int key, int ascii);

#endif
