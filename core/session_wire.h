/* session_wire.h: the frames of a brokered shell (issue 12, docs/governance.md "Brokered
 * shells and forwards"). After gantryd's ok answer to a `session` request, the connection
 * carries frames both ways, each:
 *     type (1 byte) | length (2 bytes, big-endian, <= SESSION_WIRE_MAX) | payload
 * Types:
 *   'd' DATA    both ways: terminal bytes (client -> daemon: keys; daemon -> client: output)
 *   'w' RESIZE  client -> daemon: rows, cols (2 bytes each, big-endian)
 *   'e' EOF     client -> daemon: the client's input ended (no payload)
 *   'x' EXIT    daemon -> client, last: the exit status (4 bytes, big-endian, signed; -1
 *               when the worker sent none; 128+N for a signal N)
 * Unknown types are a protocol error: the reader closes the connection. */
#ifndef GANTRY_SESSION_WIRE_H
#define GANTRY_SESSION_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SESSION_WIRE_MAX     16384 /* payload bytes per frame */
#define SESSION_FRAME_DATA   'd'
#define SESSION_FRAME_RESIZE 'w'
#define SESSION_FRAME_EOF    'e'
#define SESSION_FRAME_EXIT   'x'

/* Bytes read from the connection, cut into frames. */
struct session_wire_in {
	unsigned char buf[3 + SESSION_WIRE_MAX];
	size_t len;
};

/* Writes one frame to fd (blocking fd, or waits with poll on a non-blocking one): 0, or -1
 * when the peer is gone. */
int session_wire_send(int fd, int type, const void *payload, size_t len);
/* Writes one frame (len <= SESSION_WIRE_MAX) into dst (room for 3 + len): its size. */
size_t session_wire_frame(unsigned char *dst, int type, const void *payload, size_t len);
/* Reads what fd has into in: 1 = bytes read, 0 = EOF, -1 = error (EAGAIN: 1 with nothing). */
int session_wire_fill(struct session_wire_in *in, int fd);
/* The next complete frame in in: 1 with type, its payload copied into payload (room for
 * SESSION_WIRE_MAX bytes) and len; 0 = need more bytes; -1 = a malformed frame. Consumes
 * it (call again for more). */
int session_wire_next(struct session_wire_in *in, int *type, unsigned char *payload, size_t *len);

#endif
