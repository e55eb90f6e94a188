/* clipboard.h: copies text to the clipboard of the terminal the user sits at, with the OSC 52
 * escape sequence (tui/clipboard.c). Used by `gantry open` and the TUI's `o`. */
#ifndef GANTRY_TUI_CLIPBOARD_H
#define GANTRY_TUI_CLIPBOARD_H

/* Copies text when fd is a terminal that can take it and GANTRY_NO_CLIPBOARD is unset:
 * inside tmux through tmux itself (`tmux load-buffer -w -`: tmux's paste buffer and, when
 * set-clipboard is not off, the outer terminal's clipboard), inside GNU screen in its
 * passthrough, elsewhere OSC 52 written to fd. Returns 0 when sent (*how says through
 * what), -1 when not (*how says why). Both are static strings. */
int clipboard_copy(int fd, const char *text, const char **how);

/* The OSC 52 sequence that sets the clipboard to text ("\e]52;c;BASE64\a"), heap. */
char *clipboard_osc52(const char *text);

#endif
