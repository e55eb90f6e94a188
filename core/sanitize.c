/* sanitize.c: turns untrusted bytes into text that is safe to put on a terminal.
 *
 * A byte-at-a-time state machine, so that the stream form gives the same result however the
 * input is cut into chunks. What it does:
 * - printable ASCII and well-formed UTF-8 pass (in ASCII mode each non-ASCII character becomes
 *   one '?');
 * - escape sequences are removed whole: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ST),
 *   DCS/SOS/PM/APC (ESC P, X, ^, _ ... ST; ST is ESC \ or U+009C in UTF-8), nF (ESC
 * intermediates... final) and two-byte ESC x; an ESC inside a string ends it and starts a new
 * sequence, CAN and SUB abort one;
 * - a control string (OSC, DCS, SOS, PM, APC, in ESC or C1 form) also ends at a newline, which
 *   is then handled as usual (kept with SANITIZE_KEEP_NEWLINES), and after SANITIZE_STRING_MAX
 *   payload bytes, the bytes after that being text again: an unterminated string never
 *   swallows more than the rest of its line;
 * - C1 controls (U+0080..U+009F, encoded in UTF-8) are removed; the introducers among them
 *   (CSI U+009B, OSC U+009D, DCS U+0090, SOS U+0098, PM U+009E, APC U+009F) start a sequence
 *   that is removed like its ESC form;
 * - a raw 8-bit CSI byte (0x9B) starts a CSI sequence that is removed, for terminals that
 *   honour 8-bit controls; any other raw byte 0x80..0x9F is invalid UTF-8 (below), so that a
 *   stray byte in binary output can never swallow the text after it;
 * - other C0 controls and DEL are removed; a tab becomes one space; a carriage return is
 *   dropped (so "\r\n" reads as "\n"); a newline is kept with SANITIZE_KEEP_NEWLINES and
 *   becomes one space without it, so words never run together;
 * - bidi controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) and invisible
 *   format characters (U+180E, U+200B..U+200D, U+2060..U+2064, U+FEFF; U+2060..U+206F is
 *   dropped whole) are dropped, so that the terminal shows the visible characters in their
 *   real order and nothing hides between them;
 * - an invalid UTF-8 sequence becomes U+FFFD ('?' in ASCII mode), one per maximal ill-formed
 *   subpart, as Unicode recommends. */
#include "core/sanitize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

enum sanitize_state {
	SAN_GROUND,
	SAN_ESC,       /* after ESC */
	SAN_ESC_INTER, /* ESC followed by intermediates (0x20..0x2F) */
	SAN_CSI,       /* inside CSI parameters/intermediates */
	SAN_OSC,       /* inside an OSC string: ends at BEL or ST */
	SAN_STR,       /* inside a DCS/SOS/PM/APC string: ends at ST */
	SAN_OSC_ESC,   /* ESC seen inside an OSC string */
	SAN_STR_ESC,   /* ESC seen inside another string */
	SAN_OSC_C2,    /* byte 0xC2 seen inside an OSC string (U+009C, ST, may follow) */
	SAN_STR_C2,    /* byte 0xC2 seen inside another string */
	SAN_UTF8,      /* inside a multi-byte UTF-8 character (bytes in pend) */
};

#define SAN_ESC_BYTE 0x1b
#define SAN_CAN      0x18
#define SAN_SUB      0x1a

struct sanitize_out {
	char *p;
};

static void sanitize_put(struct sanitize_out *o, char c)
{
	*o->p++ = c;
}

static void sanitize_bad(struct sanitize_stream *s, struct sanitize_out *o)
{
	if (s->flags & SANITIZE_ASCII) {
		sanitize_put(o, '?');
	} else {
		sanitize_put(o, (char)0xef);
		sanitize_put(o, (char)0xbf);
		sanitize_put(o, (char)0xbd);
	}
}

/* Length of the UTF-8 sequence started by lead byte c (2..4), or 0 if c cannot start one. */
static size_t sanitize_utf8_len(unsigned char c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* 1 if c may follow the bytes already in pend (the Unicode table of well-formed sequences). */
static int sanitize_utf8_next_ok(const struct sanitize_stream *s, unsigned char c)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (s->npend == 1) {
		switch (s->pend[0]) {
		case 0xe0:
			lo = 0xa0;
			break;
		case 0xed:
			hi = 0x9f;
			break;
		case 0xf0:
			lo = 0x90;
			break;
		case 0xf4:
			hi = 0x8f;
			break;
		default:
			break;
		}
	}
	return c >= lo && c <= hi;
}

/* Enters a control string (SAN_OSC or SAN_STR) with an empty payload count. */
static void sanitize_string_start(struct sanitize_stream *s, int state)
{
	s->state = state;
	s->nstr = 0;
}

/* Handles a C1 control code point: starts the sequence it introduces, or drops it. */
static void sanitize_c1(struct sanitize_stream *s, unsigned c)
{
	switch (c) {
	case 0x9b:
		s->state = SAN_CSI;
		break;
	case 0x9d:
		sanitize_string_start(s, SAN_OSC);
		break;
	case 0x90:
	case 0x98:
	case 0x9e:
	case 0x9f:
		sanitize_string_start(s, SAN_STR);
		break;
	default:
		s->state = SAN_GROUND;
		break;
	}
}

/* 1 for a bidi control or an invisible format character, which are dropped. */
static int sanitize_invisible(unsigned cp)
{
	return cp == 0x061c || cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff;
}

/* Emits the complete UTF-8 character held in pend. */
static void sanitize_utf8_done(struct sanitize_stream *s, struct sanitize_out *o)
{
	unsigned cp;

	s->state = SAN_GROUND;
	if (s->npend == 2) {
		cp = ((unsigned)(s->pend[0] & 0x1f) << 6) | (s->pend[1] & 0x3f);
		if (cp >= 0x80 && cp <= 0x9f) {
			s->npend = 0;
			sanitize_c1(s, cp);
			return;
		}
	} else if (s->npend == 3) {
		cp = ((unsigned)(s->pend[0] & 0x0f) << 12) | ((unsigned)(s->pend[1] & 0x3f) << 6) |
		     (s->pend[2] & 0x3f);
	} else {
		cp = 0x10000; /* four bytes: nothing in that range is dropped */
	}
	if (sanitize_invisible(cp)) {
		s->npend = 0;
		return;
	}
	if (s->flags & SANITIZE_ASCII) {
		sanitize_put(o, '?');
	} else {
		for (size_t i = 0; i < s->npend; i++)
			sanitize_put(o, (char)s->pend[i]);
	}
	s->npend = 0;
}

/* A byte in the ground state. */
static void sanitize_ground(struct sanitize_stream *s, unsigned char c, struct sanitize_out *o)
{
	if (c >= 0x20 && c < 0x7f) {
		sanitize_put(o, (char)c);
	} else if (c == '\n') {
		sanitize_put(o, (s->flags & SANITIZE_KEEP_NEWLINES) ? '\n' : ' ');
	} else if (c == '\t') {
		sanitize_put(o, ' ');
	} else if (c == SAN_ESC_BYTE) {
		s->state = SAN_ESC;
	} else if (c == 0x9b) {
		s->state = SAN_CSI;
	} else if (c >= 0x80) {
		if (sanitize_utf8_len(c) == 0) {
			sanitize_bad(s, o);
		} else {
			s->pend[0] = c;
			s->npend = 1;
			s->state = SAN_UTF8;
		}
	}
	/* Everything else (other C0 controls, DEL) is dropped. */
}

/* Feeds one byte through the state machine. */
static void sanitize_byte(struct sanitize_stream *s, unsigned char c, struct sanitize_out *o)
{
	for (;;) {
		switch (s->state) {
		case SAN_GROUND:
			sanitize_ground(s, c, o);
			return;
		case SAN_ESC:
			if (c == '[') {
				s->state = SAN_CSI;
			} else if (c == ']') {
				sanitize_string_start(s, SAN_OSC);
			} else if (c == 'P' || c == 'X' || c == '^' || c == '_') {
				sanitize_string_start(s, SAN_STR);
			} else if (c >= 0x20 && c <= 0x2f) {
				s->state = SAN_ESC_INTER;
			} else if (c >= 0x30 && c <= 0x7e) {
				s->state = SAN_GROUND;
			} else if (c == SAN_ESC_BYTE) {
				s->state = SAN_ESC;
			} else {
				s->state = SAN_GROUND;
				if (c == SAN_CAN || c == SAN_SUB)
					return;
				continue;
			}
			return;
		case SAN_ESC_INTER:
			if (c >= 0x20 && c <= 0x2f)
				return;
			if (c >= 0x30 && c <= 0x7e) {
				s->state = SAN_GROUND;
				return;
			}
			s->state = c == SAN_ESC_BYTE ? SAN_ESC : SAN_GROUND;
			if (c == SAN_ESC_BYTE || c == SAN_CAN || c == SAN_SUB)
				return;
			continue;
		case SAN_CSI:
			if (c >= 0x20 && c <= 0x3f)
				return;
			if (c >= 0x40 && c <= 0x7e) {
				s->state = SAN_GROUND;
				return;
			}
			s->state = c == SAN_ESC_BYTE ? SAN_ESC : SAN_GROUND;
			if (c == SAN_ESC_BYTE || c == SAN_CAN || c == SAN_SUB)
				return;
			continue;
		case SAN_OSC:
		case SAN_STR:
			if (c == SAN_ESC_BYTE) {
				s->state = s->state == SAN_OSC ? SAN_OSC_ESC : SAN_STR_ESC;
			} else if ((c == 0x07 && s->state == SAN_OSC) || c == SAN_CAN ||
			           c == SAN_SUB) {
				s->state = SAN_GROUND;
			} else if (c == '\n' || s->nstr >= SANITIZE_STRING_MAX) {
				/* Unterminated: the string ends here and this byte is text again.
				 */
				s->state = SAN_GROUND;
				continue;
			} else {
				s->nstr++;
				if (c == 0xc2)
					s->state = s->state == SAN_OSC ? SAN_OSC_C2 : SAN_STR_C2;
			}
			return;
		case SAN_OSC_C2:
		case SAN_STR_C2:
			/* U+009C (C2 9C) is ST in C1 form; anything else is more of the string. */
			if (c == 0x9c) {
				s->state = SAN_GROUND;
				return;
			}
			s->state = s->state == SAN_OSC_C2 ? SAN_OSC : SAN_STR;
			continue;
		case SAN_OSC_ESC:
		case SAN_STR_ESC:
			/* ESC \ is ST; ESC anything else ends the string and starts a sequence. */
			if (c == '\\') {
				s->state = SAN_GROUND;
				return;
			}
			s->state = SAN_ESC;
			continue;
		case SAN_UTF8:
			if (!sanitize_utf8_next_ok(s, c)) {
				s->npend = 0;
				s->state = SAN_GROUND;
				sanitize_bad(s, o);
				continue;
			}
			s->pend[s->npend++] = c;
			if (s->npend == sanitize_utf8_len(s->pend[0]))
				sanitize_utf8_done(s, o);
			return;
		default:
			s->state = SAN_GROUND;
			continue;
		}
	}
}

/* Makes room after *outlen for what extra input bytes can produce: at most 3 output bytes per
 * input byte, counting the (at most 3) bytes of a carried character, plus a NUL. */
static void sanitize_reserve(char **out, size_t outlen, size_t extra)
{
	if (extra > (SIZE_MAX - outlen - 16) / 3)
		xfatal("sanitize: input too large");
	*out = xrealloc(*out, outlen + extra * 3 + 16);
}

void sanitize_stream_init(struct sanitize_stream *s, int flags)
{
	memset(s, 0, sizeof *s);
	s->state = SAN_GROUND;
	s->flags = flags;
}

void sanitize_stream_feed(struct sanitize_stream *s, const char *in, size_t len, char **out,
                          size_t *outlen)
{
	struct sanitize_out o;

	sanitize_reserve(out, *outlen, len);
	o.p = *out + *outlen;
	for (size_t i = 0; i < len; i++)
		sanitize_byte(s, (unsigned char)in[i], &o);
	*outlen = (size_t)(o.p - *out);
	(*out)[*outlen] = '\0';
}

void sanitize_stream_finish(struct sanitize_stream *s, char **out, size_t *outlen)
{
	struct sanitize_out o;

	sanitize_reserve(out, *outlen, 0);
	o.p = *out + *outlen;
	if (s->state == SAN_UTF8)
		sanitize_bad(s, &o);
	s->state = SAN_GROUND;
	s->npend = 0;
	*outlen = (size_t)(o.p - *out);
	(*out)[*outlen] = '\0';
}

char *sanitize_text(const char *in, size_t len, int flags)
{
	struct sanitize_stream s;
	char *out = NULL;
	size_t outlen = 0;

	if (in == NULL)
		return xstrdup("");
	if (len == (size_t)-1)
		len = strlen(in);
	sanitize_stream_init(&s, flags);
	sanitize_stream_feed(&s, in, len, &out, &outlen);
	sanitize_stream_finish(&s, &out, &outlen);
	return out;
}
