/* xmalloc.h: allocation wrappers that never return NULL.
 * On out-of-memory they run the fatal hook (the TUI restores the terminal there), print one line
 * to stderr and abort. Every returned pointer is owned by the caller and freed with free(). */
#ifndef GANTRY_XMALLOC_H
#define GANTRY_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array to at least want elements; doubles capacity. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formatted string on the heap. */
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Sets *cause (if cause is not NULL and *cause is NULL) to a formatted message; returns -1. */
int xcause(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Called before abort on out-of-memory (and by xfatal); must be async-safe enough to restore a tty.
 */
void xmalloc_set_fatal_hook(void (*hook)(void));
/* Runs the fatal hook, prints "gantry: fatal: MSG" and aborts. */
void xfatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
