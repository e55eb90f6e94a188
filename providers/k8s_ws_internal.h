/* k8s_ws_internal.h: one WebSocket connection to the Kubernetes API server (k8s_ws_conn.c),
 * the building block of k8s_ws.c's exec and port-forward channels.
 *
 * A connection connects (TCP + TLS) with libcurl CURLOPT_CONNECT_ONLY on a worker thread
 * (core/async.h), then, on the loop, writes the HTTP/1.1 Upgrade request itself, checks the
 * 101 answer (Sec-WebSocket-Accept, the subprotocol) and hands the socket to libwslay, driven
 * by the loop without blocking (curl_easy_send/curl_easy_recv). Messages carry the
 * Kubernetes channel number in their first byte. */
#ifndef GANTRY_K8S_WS_INTERNAL_H
#define GANTRY_K8S_WS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "providers/k8s_ws.h"

struct async_queue;
struct k8s_wsc;

/* Queued outgoing bytes above which a writer should stop reading its source (k8s_wsc_queued;
 * on_drain says when it fell below K8S_WSC_LOW again). */
#define K8S_WSC_HIGH (1024 * 1024)
#define K8S_WSC_LOW  (256 * 1024)

struct k8s_wsc_ops {
	/* The 101 answer arrived: messages flow. */
	void (*on_open)(void *arg);
	/* A whole message: msg[0] is the channel, msg[1..len) the payload (len >= 1). */
	void (*on_msg)(void *arg, const uint8_t *msg, size_t len);
	/* The queued outgoing bytes fell below K8S_WSC_LOW (after being above it). */
	void (*on_drain)(void *arg);
	/* The connection is over: cause NULL after a close handshake, else one line (could not
	 * connect, refused upgrade with the API server's message, dropped). Called once; the
	 * owner then frees with k8s_wsc_free (also from within this callback). */
	void (*on_closed)(void *arg, const char *cause);
};

/* Starts connecting to conn->server + path_query (a path with its query string) asking for
 * subprotocol `proto`; the connect runs on q. 0 and *out, or -1 with cause. Callbacks come
 * from the loop, never before this returns. */
int k8s_wsc_open(struct loop *l, struct async_queue *q, const struct k8s_ws_conn *conn,
                 const char *path_query, const char *proto, const struct k8s_wsc_ops *ops,
                 void *arg, struct k8s_wsc **out, char **cause);
/* Queues a message on channel `channel` (payload copied); 0, or -1 when the connection
 * cannot send any more (closing or closed). */
int k8s_wsc_send(struct k8s_wsc *w, uint8_t channel, const void *data, size_t len);
/* Bytes queued and not yet written to the socket. */
size_t k8s_wsc_queued(const struct k8s_wsc *w);
/* Backpressure: while paused no more is read from the socket (messages stop). */
void k8s_wsc_pause(struct k8s_wsc *w, int paused);
/* Starts a close handshake (close frame 1000 after what is queued); on_closed follows when
 * the server answers (or after 2 s). */
void k8s_wsc_shutdown(struct k8s_wsc *w);
/* Frees it: a close frame is sent best-effort when open, no callback follows. Safe from
 * within its callbacks. */
void k8s_wsc_free(struct k8s_wsc *w);

/* For tests and errors: "https://host:port" split into the authority (Host header) and the
 * path prefix (a server behind a proxy path, "" when none), heap strings; -1 with cause. */
int k8s_wsc_split_server(const char *server, char **authority, char **prefix, char **cause);
/* base64(SHA1(key + the RFC 6455 GUID)) as in Sec-WebSocket-Accept (heap). */
char *k8s_wsc_accept_key(const char *key);

/* --- the channels (k8s_ws.c: shells, k8s_ws_fwd.c: forwards) --- */
#include <signal.h>
#include <termios.h>

struct k8s_fwd; /* one forwarded TCP connection (k8s_ws_fwd.c) */

struct k8s_channel {
	struct loop *l;
	struct k8s_ws_conn conn; /* server is a heap copy */
	char *ns, *pod, *container;
	enum provider_channel_kind kind;
	int remote_port;
	provider_channel_cb cb;
	void *arg;
	struct async_queue *q;       /* connects (TCP + TLS) */
	struct loop_timer *ev_timer; /* UP reported from the loop */
	int ended;                   /* ENDED reported: no event follows */
	/* SHELL */
	struct k8s_wsc *ws;
	int in_fd, out_fd;
	struct loop_fd *in_w, *out_w, *winch_w;
	char *obuf; /* output not yet written to out_fd */
	size_t olen, ooff, ocap;
	int in_paused, in_eof, ws_done, tty_raw, winch_installed;
	int winch[2];
	struct termios saved_tty;
	struct sigaction old_winch;
	char *status_json; /* channel 3 */
	size_t status_len;
	char *end_cause;
	/* FORWARD */
	int lfd;
	struct loop_fd *lw;
	int local_port;
	struct k8s_fwd *fwds;
	int owner_only; /* issue 12: serve owner_uid's connections only (core/peeruid.h) */
	uid_t owner_uid;
};

/* Query value escaping (curl_easy_escape), heap. */
char *k8s_ws_escape(const char *s);
/* A forward: binds and listens (0, or -1 with cause), then UP from the loop. */
int k8s_ws_fwd_start(struct k8s_channel *ch, const struct provider_channel_io *io, char **cause);
/* Closes the listener and every connection (close frames best-effort). */
void k8s_ws_fwd_stop(struct k8s_channel *ch);

#endif
