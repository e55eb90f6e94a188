/* ssh_ttymodes.c: the local terminal's modes in the encoding of RFC 4254 section 8, sent with
 * the PTY request so that the remote terminal erases, interrupts and translates as this one
 * does (a terminal whose Backspace sends ^H keeps working). */
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/ssh_shell.h"

#define TTY_OP_END    0
#define TTY_OP_ISPEED 128
#define TTY_OP_OSPEED 129

struct ssh_tty_char {
	unsigned char op;
	int index; /* into c_cc */
};

struct ssh_tty_flag {
	unsigned char op;
	int which; /* 0 c_iflag, 1 c_lflag, 2 c_oflag, 3 c_cflag */
	tcflag_t bit;
};

/* Most useful first: libssh2 1.10 refuses a PTY request whose TERM and modes exceed 256
 * bytes, so the caller may give room for only part of the list. */
static const struct ssh_tty_char ssh_tty_chars[] = {
    {1, VINTR},    {2, VQUIT},   {3, VERASE},    {4, VKILL},  {5, VEOF},  {10, VSUSP},
    {13, VWERASE}, {14, VLNEXT}, {12, VREPRINT}, {8, VSTART}, {9, VSTOP},
};

static const struct ssh_tty_flag ssh_tty_flags[] = {
    {36, 0, ICRNL},   {38, 0, IXON},   {42, 0, IUTF8}, {50, 1, ISIG},   {51, 1, ICANON},
    {53, 1, ECHO},    {54, 1, ECHOE},  {55, 1, ECHOK}, {59, 1, IEXTEN}, {60, 1, ECHOCTL},
    {61, 1, ECHOKE},  {70, 2, OPOST},  {72, 2, ONLCR}, {39, 0, IXANY},  {40, 0, IXOFF},
    {41, 0, IMAXBEL}, {56, 1, ECHONL}, {34, 0, INLCR}, {35, 0, IGNCR},  {57, 1, NOFLSH},
    {58, 1, TOSTOP},  {73, 2, OCRNL},  {74, 2, ONOCR}, {75, 2, ONLRET}, {33, 0, ISTRIP},
    {30, 0, IGNPAR},  {31, 0, PARMRK}, {32, 0, INPCK}, {92, 3, PARENB}, {93, 3, PARODD},
};
/* Left out: CS7 and CS8 (90, 91) are values of the CSIZE field, and a server that applies
 * them as flags one after the other can end up with neither; VEOL, VEOL2, VDISCARD and the
 * upper-case conversions are rarely set and cost room. */

/* speed_t codes to baud */
static unsigned long ssh_tty_baud(speed_t s)
{
	static const struct {
		speed_t code;
		unsigned long baud;
	} map[] = {{B0, 0},         {B300, 300},       {B1200, 1200},    {B2400, 2400},
	           {B4800, 4800},   {B9600, 9600},     {B19200, 19200},  {B38400, 38400},
	           {B57600, 57600}, {B115200, 115200}, {B230400, 230400}};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].code == s)
			return map[i].baud;
	return 38400;
}

static size_t ssh_tty_put(unsigned char *buf, size_t cap, size_t n, unsigned char op,
                          unsigned long v)
{
	if (n + 5 > cap)
		return n;
	buf[n] = op;
	buf[n + 1] = (unsigned char)(v >> 24);
	buf[n + 2] = (unsigned char)(v >> 16);
	buf[n + 3] = (unsigned char)(v >> 8);
	buf[n + 4] = (unsigned char)v;
	return n + 5;
}

size_t ssh_tty_modes(const struct termios *t, unsigned char *buf, size_t cap)
{
	size_t n = 0;

	if (cap < 1)
		return 0;
	cap--; /* room for TTY_OP_END */
	for (size_t i = 0; i < sizeof ssh_tty_chars / sizeof ssh_tty_chars[0]; i++) {
		cc_t c = t->c_cc[ssh_tty_chars[i].index];

		n = ssh_tty_put(buf, cap, n, ssh_tty_chars[i].op, c == _POSIX_VDISABLE ? 255 : c);
	}
	for (size_t i = 0; i < sizeof ssh_tty_flags / sizeof ssh_tty_flags[0]; i++) {
		const struct ssh_tty_flag *f = &ssh_tty_flags[i];
		tcflag_t v = f->which == 0   ? t->c_iflag
		             : f->which == 1 ? t->c_lflag
		             : f->which == 2 ? t->c_oflag
		                             : t->c_cflag;

		n = ssh_tty_put(buf, cap, n, f->op, (v & f->bit) != 0);
	}
	n = ssh_tty_put(buf, cap, n, TTY_OP_ISPEED, ssh_tty_baud(cfgetispeed(t)));
	n = ssh_tty_put(buf, cap, n, TTY_OP_OSPEED, ssh_tty_baud(cfgetospeed(t)));
	/* entries that did not fit were skipped, in order: the least useful go first */
	buf[n++] = TTY_OP_END;
	return n;
}
