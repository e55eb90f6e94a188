/* lineedit.c: a one-line UTF-8 text editor (see lineedit.h). */
#include "tui/lineedit.h"

#include <curses.h>
#include <string.h>

#include "tui/keymap.h"

void lineedit_set(struct lineedit *l, const char *s)
{
	size_t n = strlen(s);

	if (n >= sizeof(l->buf))
		n = sizeof(l->buf) - 1;
	/* Never keep half a UTF-8 character. */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(l->buf, s, n);
	l->buf[n] = '\0';
	l->len = n;
	l->cur = n;
}

/* Byte offset of the character before pos. */
static size_t lineedit_prev(const struct lineedit *l, size_t pos)
{
	if (pos == 0)
		return 0;
	pos--;
	while (pos > 0 && ((unsigned char)l->buf[pos] & 0xc0) == 0x80)
		pos--;
	return pos;
}

/* Byte offset of the character after pos. */
static size_t lineedit_next(const struct lineedit *l, size_t pos)
{
	if (pos >= l->len)
		return l->len;
	pos++;
	while (pos < l->len && ((unsigned char)l->buf[pos] & 0xc0) == 0x80)
		pos++;
	return pos;
}

/* Removes bytes [from, to). */
static void lineedit_cut(struct lineedit *l, size_t from, size_t to)
{
	memmove(l->buf + from, l->buf + to, l->len - to + 1);
	l->len -= to - from;
	l->cur = from;
}

/* Encodes code point cp as UTF-8 into out (4 bytes room); returns the length. */
static size_t lineedit_utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int lineedit_key(struct lineedit *l, int key, int ascii)
{
	char enc[4];
	size_t n, p;

	switch (key) {
	case KEYMAP_FN(KEY_BACKSPACE):
	case 127:
	case KEYMAP_CTRL('h'):
		if (l->cur == 0)
			return 0;
		lineedit_cut(l, lineedit_prev(l, l->cur), l->cur);
		return 1;
	case KEYMAP_FN(KEY_DC):
		if (l->cur >= l->len)
			return 0;
		p = l->cur;
		lineedit_cut(l, p, lineedit_next(l, p));
		return 1;
	case KEYMAP_FN(KEY_LEFT):
		l->cur = lineedit_prev(l, l->cur);
		return 0;
	case KEYMAP_FN(KEY_RIGHT):
		l->cur = lineedit_next(l, l->cur);
		return 0;
	case KEYMAP_FN(KEY_HOME):
	case KEYMAP_CTRL('a'):
		l->cur = 0;
		return 0;
	case KEYMAP_FN(KEY_END):
	case KEYMAP_CTRL('e'):
		l->cur = l->len;
		return 0;
	case KEYMAP_CTRL('u'):
		if (l->cur == 0)
			return 0;
		lineedit_cut(l, 0, l->cur);
		return 1;
	case KEYMAP_CTRL('k'):
		if (l->cur == l->len)
			return 0;
		l->buf[l->cur] = '\0';
		l->len = l->cur;
		return 1;
	case KEYMAP_CTRL('w'):
		p = l->cur;
		while (p > 0 && l->buf[p - 1] == ' ')
			p--;
		while (p > 0 && l->buf[p - 1] != ' ')
			p--;
		if (p == l->cur)
			return 0;
		lineedit_cut(l, p, l->cur);
		return 1;
	default:
		break;
	}
	if (KEYMAP_IS_FN(key) || key < 0x20 || key == 0x7f || (key >= 0x80 && key < 0xa0) ||
	    key > 0x10ffff || (key >= 0xd800 && key <= 0xdfff))
		return -1;
	if (ascii && key >= 0x80)
		return 0;
	n = lineedit_utf8((unsigned)key, enc);
	if (l->len + n >= sizeof(l->buf))
		return 0;
	memmove(l->buf + l->cur + n, l->buf + l->cur, l->len - l->cur + 1);
	memcpy(l->buf + l->cur, enc, n);
	l->len += n;
	l->cur += n;
	return 1;
}
