/* session_wire.c: brokered shell frames (core/session_wire.h). */
#include "core/session_wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int session_wire_write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t session_wire_frame(unsigned char *dst, int type, const void *payload, size_t len)
{
	dst[0] = (unsigned char)type;
	dst[1] = (unsigned char)(len >> 8);
	dst[2] = (unsigned char)(len & 0xff);
	if (len > 0)
		memcpy(dst + 3, payload, len);
	return 3 + len;
}

int session_wire_send(int fd, int type, const void *payload, size_t len)
{
	unsigned char f[3 + SESSION_WIRE_MAX];
	const unsigned char *p = payload;

	do {
		size_t n = len > SESSION_WIRE_MAX ? SESSION_WIRE_MAX : len;

		f[0] = (unsigned char)type;
		f[1] = (unsigned char)(n >> 8);
		f[2] = (unsigned char)(n & 0xff);
		if (n > 0)
			memcpy(f + 3, p, n);
		if (session_wire_write_all(fd, f, 3 + n) != 0)
			return -1;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

int session_wire_fill(struct session_wire_in *in, int fd)
{
	ssize_t n;

	if (in->len >= sizeof in->buf)
		return 1; /* full: the caller takes frames first */
	n = read(fd, in->buf + in->len, sizeof in->buf - in->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 1;
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	in->len += (size_t)n;
	return 1;
}

int session_wire_next(struct session_wire_in *in, int *type, unsigned char *payload, size_t *len)
{
	size_t n;

	if (in->len < 3)
		return 0;
	n = (size_t)in->buf[1] << 8 | in->buf[2];
	if (n > SESSION_WIRE_MAX)
		return -1;
	switch (in->buf[0]) {
	case SESSION_FRAME_DATA:
		break;
	case SESSION_FRAME_RESIZE:
		if (n != 4)
			return -1;
		break;
	case SESSION_FRAME_EXIT:
		if (n != 4)
			return -1;
		break;
	case SESSION_FRAME_EOF:
		if (n != 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (in->len < 3 + n)
		return 0;
	*type = in->buf[0];
	memcpy(payload, in->buf + 3, n);
	*len = n;
	memmove(in->buf, in->buf + 3 + n, in->len - 3 - n);
	in->len -= 3 + n;
	return 1;
}
