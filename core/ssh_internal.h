/* ssh_internal.h: what core/ssh.c, ssh_knownhosts.c and ssh_auth.c share (not a public
 * interface: other modules use core/ssh.h). */
#ifndef GANTRY_SSH_INTERNAL_H
#define GANTRY_SSH_INTERNAL_H

#include <libssh2.h>
#include <pthread.h>
#include <stdint.h>

#include "core/ssh.h"

struct ssh_session {
	LIBSSH2_SESSION *raw;
	int fd;       /* the socket libssh2 talks over (a socketpair end behind a jump) */
	char *prefix; /* "host:port" or "name (addr:port)", for messages */
	char *host;   /* as the target named it */
	int port;     /* resolved: never 0 */
	char fingerprint[128];
	int io_timeout_ms; /* default for operations */
	int keepalive_s;
	int dead;                  /* the connection dropped or stalled: close without goodbyes */
	LIBSSH2_CHANNEL **orphans; /* abandoned channels still waiting for the server's close */
	size_t norphans;

	/* jump host: the relay thread owns jump and jump_chan until ssh_close joins it */
	struct ssh_session *jump;
	LIBSSH2_CHANNEL *jump_chan;
	int relay_fd;      /* the relay's end of the socketpair */
	int relay_stop[2]; /* pipe: ssh_close writes a byte to end the relay */
	pthread_t relay;
	int relay_started;
};

/* Monotonic milliseconds. */
uint64_t ssh_now_ms(void);
/* Milliseconds left until deadline (0 when passed). */
int ssh_left_ms(uint64_t deadline);
/* Waits for the session's socket in libssh2's blocked direction until the deadline; 0 when
 * ready, -1 on timeout (err set) or a poll error. */
int ssh_wait_deadline(struct ssh_session *s, uint64_t deadline, struct ssh_error *err,
                      const char *what);
/* Frees a channel without waiting: one still waiting for the server's close is kept as an
 * orphan and retried by ssh_session_reap (libssh2 frees what is left with the session). */
void ssh_channel_drop(struct ssh_session *s, LIBSSH2_CHANNEL *ch);
/* Whether data for ch is queued inside libssh2 already (read it before waiting on the socket;
 * libssh2_poll_channel_read of 1.10 also counts packets that hold no data). */
int ssh_channel_pending(LIBSSH2_CHANNEL *ch);
/* Retries freeing orphaned channels. */
void ssh_session_reap(struct ssh_session *s);
/* Maps a libssh2 error code met while connected to an ssh_err (CLOSED for socket errors). */
enum ssh_err ssh_err_of(int rc);

/* getaddrinfo(host, port, hints) bounded by deadline (monotonic ms): address literals at once,
 * names on a detached thread. Returns 0, an EAI_* code, or SSH_RESOLVE_TIMEOUT when the
 * lookup did not end in time (its thread finishes on its own). */
#define SSH_RESOLVE_TIMEOUT 1 /* getaddrinfo's own codes are 0 and negative */
struct addrinfo;
int ssh_resolve(const char *host, const char *port, const struct addrinfo *hints, uint64_t deadline,
                struct addrinfo **res);

/* Checks the server's host key against the target's known_hosts; records it when unknown and
 * t->accept_new. Fills s->fingerprint. 0 or -1 with err. */
int ssh_knownhosts_check(struct ssh_session *s, const struct ssh_target *t, struct ssh_error *err);
/* Standard base64 without '=' padding (heap). */
char *ssh_knownhosts_base64(const unsigned char *data, size_t len, int pad);

/* Connects s to t's host through t->jump: the jump session, a direct-tcpip channel and a
 * relay thread; s->fd becomes the inner end of a socketpair. 0 or -1 with err. */
int ssh_jump_open(struct ssh_session *s, const struct ssh_target *t, uint64_t deadline,
                  struct ssh_error *err);
/* Ends the relay thread (after s's own session is gone) and closes the jump session. */
void ssh_jump_close(struct ssh_session *s);

/* Authenticates as user: agent, then the key file(s). 0 or -1 with err (SSH_ERR_AUTH). */
int ssh_auth_run(struct ssh_session *s, const struct ssh_target *t, const char *user,
                 uint64_t deadline, struct ssh_error *err);
/* The local login name and home directory (heap strings); -1 when unknown. */
int ssh_auth_local_user(char **name, char **home);

#endif
