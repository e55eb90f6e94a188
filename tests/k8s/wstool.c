/* wstool.c: drives providers/k8s_ws.h directly against an API server (the Kubernetes fake of
 * tests/fakes/k8s_fake.py) for tests/integration/k8s_shell.sh and k8s_forward.sh.
 *
 * Usage: wstool --server URL [--token-file F] [--ca F] [--cert F --key F] --pod NS/POD
 *               [--container C] shell [COMMAND]
 *        wstool ... forward PORT [--local L] [--bind ADDR]
 * shell: a shell (or COMMAND) on this terminal (fds 0 and 1); exits with the pod's exit
 * status, or 255 with "wstool: CAUSE" on stderr.
 * forward: prints "listening on PORT" once up, relays until SIGTERM or SIGINT (exit 0), or
 * exits 1 with the cause when the forward ends by itself. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/http.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/k8s_ws.h"

static char *token_file;
static int ended, up, exit_status = -1, stop;
static char *end_cause;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL) {
		fprintf(stderr, "wstool: cannot open %s\n", path);
		exit(2);
	}
	for (;;) {
		if (n + 4096 > cap) {
			cap = (n + 4096) * 2;
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* The token, read again for each connection (a rotating token file works). */
static char *bearer(void *arg)
{
	char *t;
	size_t n;

	(void)arg;
	if (token_file == NULL)
		return NULL;
	t = slurp(token_file, &n);
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
		t[--n] = '\0';
	return t;
}

static void on_event(void *arg, const struct provider_channel_event *ev)
{
	(void)arg;
	if (ev->state == PROVIDER_CHANNEL_UP) {
		up = 1;
		printf("listening on %d\n", ev->local_port);
		fflush(stdout);
		return;
	}
	ended = 1;
	exit_status = ev->exit_status;
	if (ev->cause != NULL)
		end_cause = xstrdup(ev->cause);
}

static void on_signal(int signo, void *arg)
{
	(void)signo;
	(void)arg;
	stop = 1;
}

static void usage(void)
{
	fputs("usage: wstool --server URL [--token-file F] [--ca F] [--cert F --key F] "
	      "--pod NS/POD [--container C] shell [COMMAND] | forward PORT [--local L] "
	      "[--bind ADDR]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *server = NULL, *ca = NULL, *cert = NULL, *key = NULL, *podarg = NULL;
	const char *container = NULL, *mode = NULL, *command = NULL, *bind = NULL;
	int port = 0, local = 0, i;
	struct provider_channel_io io;
	struct k8s_ws_conn conn;
	struct k8s_channel *ch = NULL;
	char *cause = NULL, *ns, *pod;
	struct loop *l;
	struct http *h;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--server") == 0 && v != NULL)
			server = v, i++;
		else if (strcmp(a, "--token-file") == 0 && v != NULL)
			token_file = (char *)v, i++;
		else if (strcmp(a, "--ca") == 0 && v != NULL)
			ca = v, i++;
		else if (strcmp(a, "--cert") == 0 && v != NULL)
			cert = v, i++;
		else if (strcmp(a, "--key") == 0 && v != NULL)
			key = v, i++;
		else if (strcmp(a, "--pod") == 0 && v != NULL)
			podarg = v, i++;
		else if (strcmp(a, "--container") == 0 && v != NULL)
			container = v, i++;
		else if (strcmp(a, "--local") == 0 && v != NULL)
			local = atoi(v), i++;
		else if (strcmp(a, "--bind") == 0 && v != NULL)
			bind = v, i++;
		else if (mode == NULL && (strcmp(a, "shell") == 0 || strcmp(a, "forward") == 0))
			mode = a;
		else if (mode != NULL && strcmp(mode, "shell") == 0 && command == NULL)
			command = a;
		else if (mode != NULL && strcmp(mode, "forward") == 0 && port == 0)
			port = atoi(a);
		else
			usage();
	}
	if (server == NULL || podarg == NULL || mode == NULL || strchr(podarg, '/') == NULL)
		usage();
	ns = xstrndup(podarg, (size_t)(strchr(podarg, '/') - podarg));
	pod = xstrdup(strchr(podarg, '/') + 1);

	signal(SIGPIPE, SIG_IGN);
	l = loop_new();
	h = http_new(l);
	if (ca != NULL) {
		size_t n;
		char *pem = slurp(ca, &n);

		if (http_set_ca_pem(h, pem, n, &cause) != 0) {
			fprintf(stderr, "wstool: %s\n", cause);
			return 2;
		}
		free(pem);
	}
	if (cert != NULL && key != NULL) {
		size_t cn, kn;
		char *c = slurp(cert, &cn), *k = slurp(key, &kn);

		if (http_set_client_pem(h, c, cn, k, kn, &cause) != 0) {
			fprintf(stderr, "wstool: %s\n", cause);
			return 2;
		}
		free(c);
		explicit_bzero(k, kn);
		free(k);
	}
	if (token_file != NULL) { /* registered so that no error can show it */
		char *t = bearer(NULL);

		http_add_secret(h, t);
		free(t);
	}
	memset(&conn, 0, sizeof conn);
	conn.http = h;
	conn.server = server;
	conn.bearer = bearer;
	memset(&io, 0, sizeof io);
	io.in_fd = 0;
	io.out_fd = 1;
	io.command = command;
	io.bind_addr = bind;
	io.local_port = local;
	loop_signal_watch(l, SIGTERM, on_signal, NULL);
	loop_signal_watch(l, SIGINT, on_signal, NULL);
	if (k8s_ws_channel_open(l, &conn, ns, pod, container,
	                        strcmp(mode, "shell") == 0 ? PROVIDER_CHANNEL_SHELL
	                                                   : PROVIDER_CHANNEL_FORWARD,
	                        port, &io, on_event, NULL, &ch, &cause) != 0) {
		fprintf(stderr, "wstool: %s\n", cause);
		return 255;
	}
	while (!ended && !stop)
		loop_run_once(l, 1000);
	k8s_ws_channel_close(ch);
	http_free(h);
	loop_free(l);
	free(ns);
	free(pod);
	if (stop && !ended)
		return 0;
	if (end_cause != NULL) {
		fprintf(stderr, "wstool: %s\n", end_cause);
		return strcmp(mode, "shell") == 0 ? 255 : 1;
	}
	fprintf(stderr, "wstool: exit %d\n", exit_status);
	return exit_status >= 0 ? exit_status : 255;
}
