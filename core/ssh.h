/* ssh.h: SSH sessions on libssh2 with OpenSSH's security defaults.
 * A session belongs to one thread at a time; every call is bounded by the target's
 * timeouts (libssh2 in non-blocking mode, waits are poll(2) with a deadline), so a dead or
 * silent host never blocks a caller for longer than it asked. Callers on the event loop run
 * these on a worker thread (core/async.h) and get the result back on the loop.
 *
 * Host keys are checked against OpenSSH known_hosts files (plain, hashed "|1|" and
 * "[host]:port" entries). An unknown key is refused (SSH_ERR_HOSTKEY_UNKNOWN, with the
 * SHA256 fingerprint as `ssh-keygen -lf` prints it) unless target.accept_new is set, in
 * which case it is appended to the known_hosts file. A changed key is always refused.
 * Auth: ssh-agent (SSH_AUTH_SOCK) first, then target.key_file or ~/.ssh/id_ed25519 and
 * ~/.ssh/id_ecdsa. */
#ifndef GANTRY_SSH_H
#define GANTRY_SSH_H

#include <stddef.h>

struct ssh_target {
	const char *host;        /* name or address */
	int port;                /* 0 = 22 */
	const char *user;        /* NULL = the local login name */
	const char *key_file;    /* private key; NULL = agent, then ~/.ssh/id_ed25519, id_ecdsa */
	const char *known_hosts; /* NULL = ~/.ssh/known_hosts */
	int accept_new;          /* record an unknown host key instead of refusing it */
	int connect_timeout_ms;  /* TCP connect + handshake + auth; 0 = 10000 */
	int io_timeout_ms;       /* any single wait once connected; 0 = 30000 */
	int keepalive_s;         /* 0 = 15 */
	const struct ssh_target *jump; /* one jump host (login node), or NULL */
};

enum ssh_err {
	SSH_OK = 0,
	SSH_ERR_RESOLVE,         /* the name does not resolve */
	SSH_ERR_CONNECT,         /* refused, unreachable */
	SSH_ERR_TIMEOUT,         /* connect or an operation took too long */
	SSH_ERR_HANDSHAKE,       /* no common algorithm, banner, protocol error */
	SSH_ERR_HOSTKEY_UNKNOWN, /* fingerprint set */
	SSH_ERR_HOSTKEY_CHANGED, /* fingerprint set; always refused */
	SSH_ERR_AUTH,            /* no key was accepted */
	SSH_ERR_CHANNEL,         /* channel open refused (e.g. AllowTcpForwarding no) */
	SSH_ERR_CLOSED,          /* the connection dropped */
	SSH_ERR_LOCAL,           /* local problem: file, bind, memory */
};

struct ssh_error {
	enum ssh_err code;
	char msg[512];         /* one line: "gpu1 (127.0.0.2:22): connection refused" */
	char fingerprint[128]; /* "SHA256:..." for host key errors, else "" */
	char keytype[32];      /* "ED25519" for host key errors, else "" */
};

struct ssh_session;

/* Once per process, before any thread uses SSH. */
int ssh_global_init(void);

int ssh_connect(const struct ssh_target *t, struct ssh_session **out, struct ssh_error *err);
void ssh_close(struct ssh_session *s);
/* The server's host key fingerprint ("SHA256:...") of a connected session. */
const char *ssh_session_fingerprint(const struct ssh_session *s);
/* Sends a keepalive if one is due; -1 with err when the connection is gone. */
int ssh_keepalive(struct ssh_session *s, struct ssh_error *err);

/* Streamed output of a remote command: stream 1 = stdout, 2 = stderr. Return nonzero to
 * stop reading (the command is then abandoned: its channel is closed). */
typedef int (*ssh_data_cb)(void *arg, int stream, const char *data, size_t len);

/* Runs cmd (through the user's shell on the server), writes in/inlen to its stdin and
 * closes it, streams output to cb, and waits for the exit status (>= 0, or -1 when the
 * server sent none, e.g. killed by a signal). timeout_ms bounds the whole command (0 = the
 * target's io timeout). */
int ssh_exec_stream(struct ssh_session *s, const char *cmd, const char *in, size_t inlen,
                    ssh_data_cb cb, void *arg, int *exit_status, int timeout_ms,
                    struct ssh_error *err);

struct ssh_exec_result {
	char *out; /* heap, NUL-terminated (stdout) */
	size_t outlen;
	char *errout; /* heap, NUL-terminated (stderr) */
	size_t errlen;
	int exit_status;
};
/* ssh_exec_stream into buffers (each capped at 16 MiB). */
int ssh_exec(struct ssh_session *s, const char *cmd, const char *in, size_t inlen,
             struct ssh_exec_result *r, int timeout_ms, struct ssh_error *err);
void ssh_exec_result_clear(struct ssh_exec_result *r);

struct ssh_http_result {
	int status; /* 200 */
	char *body; /* heap, NUL-terminated */
	size_t len;
};
/* GET path (with its query) from host:port as the server sees it, through a direct-tcpip
 * channel, HTTP/1.0; the answer is capped at 1 MiB. A port nobody listens on fails with
 * SSH_ERR_CONNECT and forwarding refused by the server with SSH_ERR_CHANNEL; the session stays
 * usable after both, and after a service that does not answer in time (SSH_ERR_TIMEOUT with
 * the session not dead). */
int ssh_http_get(struct ssh_session *s, const char *host, int port, const char *path,
                 struct ssh_http_result *r, int timeout_ms, struct ssh_error *err);
void ssh_http_result_clear(struct ssh_http_result *r);
/* Whether the connection is known to be gone or stalled mid-request (a failed call said so);
 * such a session can only be closed. */
int ssh_session_dead(const struct ssh_session *s);

/* The OpenSSH command line that reaches the same target (strict host key checking, same
 * key and known_hosts, -J for the jump host); remote_cmd may be NULL. Arguments are shell
 * quoted. Heap string. */
char *ssh_print_command(const struct ssh_target *t, const char *remote_cmd, int tty);

/* One line naming the target for messages: "user@host:port" (heap). */
char *ssh_target_label(const struct ssh_target *t);

/* --- for the shell and forward modules (core/ssh_shell.c, core/ssh_forward.c) --- */
/* The raw libssh2 session (LIBSSH2_SESSION *) and its socket. */
void *ssh_session_raw(struct ssh_session *s);
int ssh_session_fd(const struct ssh_session *s);
/* Waits (poll) for the socket in the direction libssh2 is blocked on, up to timeout_ms;
 * 0 when ready, -1 on timeout. */
int ssh_session_wait(struct ssh_session *s, int timeout_ms);
void ssh_error_set(struct ssh_error *err, enum ssh_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fills err from the session's last libssh2 error, prefixed with what. */
void ssh_error_from_session(struct ssh_error *err, struct ssh_session *s, const char *what);

#endif
