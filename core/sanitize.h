/* sanitize.h: makes untrusted text (process output, remote strings) safe for a terminal.
 * Control characters and escape sequences (CSI, OSC, DCS, ...) are removed, invalid UTF-8
 * becomes U+FFFD (or '?' in ASCII mode), tabs become spaces, bidi controls and zero-width
 * characters are dropped. A control string (OSC, DCS, SOS, PM, APC) ends at its terminator,
 * at a newline or after SANITIZE_STRING_MAX bytes, so it never swallows the following lines.
 * Newlines are kept only when keep_newlines is set. */
#ifndef GANTRY_SANITIZE_H
#define GANTRY_SANITIZE_H

#include <stddef.h>

enum sanitize_flags {
	SANITIZE_KEEP_NEWLINES = 1 << 0,
	SANITIZE_ASCII = 1 << 1, /* replace every non-ASCII character by '?' */
};

/* The most payload bytes a control string may have; the bytes after it are text again. */
#define SANITIZE_STRING_MAX 4096

/* Returns a new heap string. len may be (size_t)-1 for a NUL-terminated input. */
char *sanitize_text(const char *in, size_t len, int flags);

/* Streaming form for logs: carries an unfinished escape sequence or UTF-8 character
 * across chunk boundaries. */
struct sanitize_stream {
	int state;
	unsigned char pend[8];
	size_t npend;
	size_t nstr; /* payload bytes of the control string being removed */
	int flags;
};
void sanitize_stream_init(struct sanitize_stream *s, int flags);
/* Appends the sanitised form of in[0..len) to *out (heap, grown as needed; *outlen updated). */
void sanitize_stream_feed(struct sanitize_stream *s, const char *in, size_t len, char **out,
                          size_t *outlen);
/* Ends the stream: an unfinished UTF-8 character becomes U+FFFD ('?'), an unfinished escape
 * sequence is dropped. The stream may then be fed again as if fresh (same flags). */
void sanitize_stream_finish(struct sanitize_stream *s, char **out, size_t *outlen);

#endif
