/* k8s_ws.h: shells and port-forwards into pods through the Kubernetes API server, over
 * WebSocket: exec with the v4.channel.k8s.io subprotocol (channels 0 stdin, 1 stdout,
 * 2 stderr, 3 error/status JSON with the exit code, 4 resize {"Width","Height"}) and
 * pods/portforward with portforward.k8s.io (per port a data and an error channel, each
 * opened by a frame carrying the port as 2 bytes little-endian; one WebSocket per
 * forwarded TCP connection). Framing is libwslay's; the connection is libcurl's
 * (CURLOPT_CONNECT_ONLY, TLS and client certificates from the provider's http handle via
 * http_easy_tls), driven by the event loop without blocking it (connect and TLS handshake
 * on a worker thread). The provider (providers/kubernetes.c) implements
 * provider_ops.channel_open/close with these. */
#ifndef GANTRY_K8S_WS_H
#define GANTRY_K8S_WS_H

#include "providers/provider.h"

struct loop;
struct http;
struct k8s_channel;

/* Where and how to connect; copied by k8s_ws_channel_open. */
struct k8s_ws_conn {
	const struct http *http; /* TLS settings (http_easy_tls) and secrets (http_redact) */
	const char *server;      /* "https://host:port" or http://127.0.0.1:port (tests) */
	/* The current bearer token (heap copy) or NULL (client certificates only), asked for
	 * each new connection, so rotating tokens work for a forward open for hours. */
	char *(*bearer)(void *arg);
	void *bearer_arg;
};

/* Opens a SHELL (exec of io->command, or of "/bin/sh" with a TTY; the pod's container
 * `container`, NULL = the first) or a FORWARD (a listener on io->bind_addr:io->local_port;
 * each accepted connection gets its own portforward WebSocket to remote_port) channel to
 * pod ns/pod, with provider_ops.channel_open's semantics (provider.h): cb on the loop, UP
 * for a forward once it listens, then at most one ENDED (a shell's exit status from the
 * channel 3 Status; a forward ends only on close or a fatal listener error). 0 and *out,
 * or -1 with cause and nothing opened. */
int k8s_ws_channel_open(struct loop *l, const struct k8s_ws_conn *conn, const char *ns,
                        const char *pod, const char *container, enum provider_channel_kind kind,
                        int remote_port, const struct provider_channel_io *io,
                        provider_channel_cb cb, void *arg, struct k8s_channel **out, char **cause);
/* Closes it (listener, connections, WebSocket close frames sent best-effort); no event
 * follows. Safe from within cb. */
void k8s_ws_channel_close(struct k8s_channel *ch);

#endif
